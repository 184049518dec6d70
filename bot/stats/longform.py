"""The answers in long form: one CSV line per unit and form row, for other tools to read.

UTF-8 with a byte-order mark, so that Excel opens the Vietnamese text as it is.
"""

from __future__ import annotations

import csv
import io
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
    for sheet in export.sheets:
        for row in rows:
            value = sheet.answers.get(row.code)
            first, people, note = table.columns(row, value)
            state = words["answered"] if value is not None else words["unanswered"]
            lines.writerow(
                [sheet.code, _inert(sheet.name), sheet.type, row.code, row.label, row.unit or "",
                 first, people, _inert(note), state]
            )  # fmt: skip
    text.flush()
    text.detach()  # the caller owns `out`


def _inert(text: str | None) -> str | None:
    """A text Excel would take for a formula (`=…`, `+…`, `-…`, `@…`) is kept as text."""
    return "'" + text if text and text[0] in "=+-@" else text
