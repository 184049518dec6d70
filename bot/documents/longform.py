"""The answers in long form: one CSV line per unit and form row, for other tools to read; the
unit's commune or ward (its parent) is the last column.

UTF-8 with a byte-order mark, so that Excel opens the Vietnamese text as it is. A code a
spreadsheet would read as a number or a date (row `1.10` as 1.1, unit `001` as 1) is written as
the formula `="1.10"`, whose value is the text itself: Excel and LibreOffice both show and keep
it as written. A tool reading the file as plain CSV strips the `="…"`.
"""

from __future__ import annotations

import csv
import io
import re
from typing import BinaryIO

from bot.messages import catalogue
from bot.stats import table
from bot.stats.export import Export


def build(export: Export, out: BinaryIO) -> None:
    words = catalogue("export")
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=False)
    lines = csv.writer(text, lineterminator="\r\n")
    lines.writerow(words["csv_header"])
    rows = table.answerable(export.form)
    codes = [_code(row.code) for row in rows]
    for sheet in export.sheets:
        unit = [_code(sheet.code), _inert(sheet.name), sheet.type]
        parent = _inert(sheet.parent) or ""  # last, so that tools reading by position still do
        for row, code in zip(rows, codes, strict=True):
            value = sheet.answers.get(row.code)
            first, people, note = table.columns(row, value)
            state = words["answered"] if value is not None else words["unanswered"]
            lines.writerow(
                [*unit, code, row.label, row.unit or "", first, people, _inert(note), state, parent]
            )
    text.flush()
    text.detach()  # the caller owns `out`


# digits and what numbers, dates and times are written with: nothing a formula could use
_NUMBER_LIKE = re.compile(r"[\d.,:/+\-eE% ]*\d[\d.,:/+\-eE% ]*")


def _code(code: str) -> str:
    """A code kept as text by spreadsheets: `="1.10"` when it could pass for a number or date."""
    return f'="{code}"' if _NUMBER_LIKE.fullmatch(code) else _inert(code) or ""


def _inert(text: str | None) -> str | None:
    """A text Excel would take for a formula (`=…`, `+…`, `-…`, `@…`) is kept as text."""
    return "'" + text if text and text[0] in "=+-@" else text
