"""The report (BÁO CÁO) as a Word document, following the outline of seeds 001 and 004, with
the totals table filled in. Its words come from messages/report.txt.j2; this module only gives
each line its place and style."""

from __future__ import annotations

from typing import BinaryIO

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from bot.conversation.grammar import show
from bot.messages import catalogue, render
from bot.stats import table
from bot.stats.export import Export

_TABLE = "[bảng]"


def build(export: Export, out: BinaryIO) -> None:
    rows = table.answerable(export.form)
    counts = export.counts
    text = render(
        "report",
        campaign=export.campaign,
        rows=rows,
        shown={r.code: show(export.totals[r.code], r) for r in rows if r.code in export.totals},
        units=len(export.sheets),
        complete=counts[table.Completion.COMPLETE],
        partial=counts[table.Completion.PARTIAL],
        silent=counts[table.Completion.SILENT],
        made=export.made_at,
    )
    document = Document()
    style = document.styles["Normal"]
    style.font.name, style.font.size = "Times New Roman", Pt(13)  # type: ignore[attr-defined]
    lines = text.splitlines()
    _letterhead(document, [line for line in lines if line[:3] in ("L: ", "R: ")])
    for line in lines:
        _paragraph(document, line, export)
    document.save(out)


def _letterhead(document: DocumentType, lines: list[str]) -> None:
    """The issuer on the left, the national motto and the date on the right, borderless."""
    sides = document.add_table(rows=1, cols=2)
    for cell, side in zip(sides.rows[0].cells, ("L: ", "R: "), strict=True):
        cell.paragraphs[0].text = ""
        for index, line in enumerate(line[3:] for line in lines if line.startswith(side)):
            paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            paragraph.add_run(line).bold = index < 2


def _paragraph(document: DocumentType, line: str, export: Export) -> None:
    if not line.strip() or line[:3] in ("L: ", "R: "):
        return
    if line.strip() == _TABLE:
        _totals(document, export)
        return
    for mark, center in (("### ", False), ("## ", True), ("# ", True), ("~ ", None)):
        if line.startswith(mark):
            paragraph = document.add_paragraph()
            run = paragraph.add_run(line[len(mark) :])
            run.bold = True
            if center is None:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            elif center:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
                run.font.size = Pt(14) if mark == "# " else None
            return
    document.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.JUSTIFY


def _totals(document: DocumentType, export: Export) -> None:
    """The official table's columns, one line per form row, the totals in the figure columns."""
    words = catalogue("export")
    number, label, unit, _quantity, note = words["header"]
    grid = document.add_table(rows=1, cols=6)
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, title in zip(grid.rows[0].cells, (number, label, unit, *words["quantity"], note),
                           strict=True):  # fmt: skip
        cell.text = ""
        cell.paragraphs[0].add_run(title).bold = True
    for row in export.form.rows():
        first, people, remark = table.columns(row, export.totals.get(row.code))
        cells = grid.add_row().cells
        for cell, value in zip(cells, (row.code, row.label, row.unit, first, people, remark),
                               strict=True):  # fmt: skip
            text = "" if value is None else _number(value)
            cell.text = ""
            cell.paragraphs[0].add_run(text).bold = "." not in row.code
    for cell, width in zip(grid.columns, (1.2, 7.0, 2.4, 2.2, 1.8, 3.0), strict=True):
        for each in cell.cells:
            each.width = Cm(width)


def _number(value: int | str) -> str:
    return f"{value:,}".replace(",", ".") if isinstance(value, int) else value
