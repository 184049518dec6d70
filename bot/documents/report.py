"""The report (BÁO CÁO) as a Word document, following the outline of seeds 001 and 004, with
the totals table filled in. Its words come from messages/report.txt.j2; this module only gives
each line its place and style.

The page is an official document's, as Nghị định 30/2020/NĐ-CP sets it: A4, margins 20 mm top
and bottom, 30 mm left, 15 mm right; Times New Roman 13 pt (the title 14); the two-column
letterhead; the place and date in italics; page numbers at the top from the second page; the
recipients and the signature side by side at the end.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Sequence
from typing import Any, BinaryIO

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Length, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from bot.messages import catalogue, render
from bot.stats import table
from bot.stats.export import Export, ExportPhoto
from bot.stats.grammar import show

_TABLE = "[bảng]"
_PARENTS = "[xã]"
_FONT = "Times New Roman"
_SIZE = Pt(13)
PAGE = (Cm(21), Cm(29.7))  # A4
MARGINS = {"top": Cm(2), "bottom": Cm(2), "left": Cm(3), "right": Cm(1.5)}
TEXT_WIDTH = Cm(21 - 3 - 1.5)
# The letterhead's columns: the issuer, then room for "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in
# 12-point bold on one line.
LETTERHEAD = (Cm(6.0), Cm(10.5))
SIGNATURE = (Cm(8.0), Cm(8.5))
# STT, Các hoạt động, Đơn vị, Số lớp/số cuộc thi, Người, Ghi chú: the labels take the room
TOTALS = (Cm(1.3), Cm(6.3), Cm(2.6), Cm(2.1), Cm(1.8), Cm(2.4))
# STT, Xã/phường, Số đơn vị, Đủ số liệu, Đang nhập, Chưa gửi
PARENTS = (Cm(1.3), Cm(6.0), Cm(2.3), Cm(2.3), Cm(2.3), Cm(2.3))
# The appendix's photos, two a row: each in half the text's width, at most 6.5 cm high, so that
# three rows with their captions fill a page and a tall photo does not take one alone.
PHOTO_CELL = Length(TEXT_WIDTH // 2)
PHOTO_WIDTH, PHOTO_HEIGHT = Cm(7.8), Cm(6.5)
_SIDES = ("L1: ", "R1: ", "L2: ", "R2: ", "N: ", "~ ")


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
        groups=export.groups,
    )
    document = Document()
    _page(document)
    lines = text.splitlines()
    _letterhead(document, lines)
    for line in lines:
        _paragraph(document, line, export)
    _signature(document, lines)
    if export.photos:
        _photos(document, export)
    document.save(out)


def _page(document: DocumentType) -> None:
    """A4, the decree's margins and font, the page number centred at the top from page 2."""
    style = document.styles["Normal"]
    style.font.name, style.font.size = _FONT, _SIZE
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), _FONT)  # Word takes some Vietnamese letters from this slot
    # the body's paragraphs, thousands of them with every unit's texts, take their form from
    # the style; the few others (letterhead, table, signature) are set apart one by one
    body = style.paragraph_format
    body.space_after, body.first_line_indent = Pt(6), Cm(1)
    body.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    section = document.sections[0]
    section.page_width, section.page_height = PAGE
    for side, length in MARGINS.items():
        setattr(section, f"{side}_margin", length)
    section.header_distance = section.footer_distance = Cm(1)
    section.different_first_page_header_footer = True
    number = section.header.paragraphs[0]
    _plain(number, WD_ALIGN_PARAGRAPH.CENTER)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    number._p.append(field)


def _letterhead(document: DocumentType, lines: list[str]) -> None:
    """The issuer and the number on the left; the national name, the motto underlined, and the
    place and date in italics on the right; borderless, each line on its own."""
    sides = _borderless(document, LETTERHEAD, rows=2)
    for (row, column), mark in zip(((0, 0), (0, 1), (1, 0), (1, 1)), _SIDES, strict=False):
        cell = sides.cell(row, column)
        for index, text in enumerate(_marked(lines, mark)):
            paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
            _plain(paragraph, WD_ALIGN_PARAGRAPH.CENTER)
            run = paragraph.add_run(text)
            if mark == "L1: ":
                run.bold, run.font.size = True, Pt(13)
            elif mark == "R1: ":  # the national name in 12 pt, the motto in 13, underlined
                run.bold, run.font.size, run.underline = True, Pt(12 + index), index == 1
            elif mark == "R2: ":
                run.italic = True
            if mark in ("L2: ", "R2: "):
                paragraph.paragraph_format.space_before = Pt(6)


def _signature(document: DocumentType, lines: list[str]) -> None:
    """The recipients on the left (12 and 11 pt), the signer's title and the signing note
    centred on the right."""
    recipients, signer = _marked(lines, "N: "), _marked(lines, "~ ")
    if not recipients and not signer:
        return
    document.add_paragraph()  # a line between the text (or the table) and the signature
    sides = _borderless(document, SIGNATURE, rows=1)
    for cell, texts in zip(sides.rows[0].cells, (recipients, signer), strict=True):
        for index, text in enumerate(texts):
            paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
            centred = texts is signer
            _plain(paragraph, WD_ALIGN_PARAGRAPH.CENTER if centred else WD_ALIGN_PARAGRAPH.LEFT)
            run = paragraph.add_run(text)
            if texts is recipients:
                run.bold = run.italic = index == 0
                run.font.size = Pt(12 if index == 0 else 11)
            else:
                run.bold, run.italic = index == 0, index > 0


def _paragraph(document: DocumentType, line: str, export: Export) -> None:
    if not line.strip() or line.startswith(_SIDES):
        return
    if line.strip() == _TABLE:
        _totals(document, export)
        return
    if line.strip() == _PARENTS:
        _parents(document, export)
        return
    for mark, center in (("### ", False), ("## ", True), ("# ", True)):
        if line.startswith(mark):
            paragraph = document.add_paragraph()
            run = paragraph.add_run(line[len(mark) :])
            run.bold = True
            if center:
                _plain(paragraph, WD_ALIGN_PARAGRAPH.CENTER)
                paragraph.paragraph_format.space_before = Pt(18 if mark == "# " else 0)
                paragraph.paragraph_format.space_after = Pt(0 if mark == "# " else 12)
                run.font.size = Pt(14)
            else:  # a section's heading: with its table, apart from the table before it
                paragraph.paragraph_format.keep_with_next = True
                paragraph.paragraph_format.space_before = Pt(12)
            return
    document.add_paragraph(line)  # justified, its first line indented: the Normal style


def _totals(document: DocumentType, export: Export) -> None:
    """The official table's columns sized to the page, one line per form row, the totals in the
    figure columns; the header row repeats on each page."""
    words = catalogue("export")
    number, label, unit, _quantity, note = words["header"]
    grid = document.add_table(rows=1, cols=6)
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    header = grid.rows[0]
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell, title in zip(header.cells, (number, label, unit, *words["quantity"], note),
                           strict=True):  # fmt: skip
        _cell(cell.paragraphs[0], title, bold=True, center=True)
    for row in export.form.rows():
        first, people, remark = table.columns(row, export.totals.get(row.code))
        line = grid.add_row()
        line._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))  # a row on one page
        cells = line.cells
        for index, (cell, value) in enumerate(
            zip(cells, (row.code, row.label, row.unit, first, people, remark), strict=True)
        ):
            text = "" if value is None else _number(value)
            paragraph = cell.paragraphs[0]
            _cell(paragraph, text, bold="." not in row.code, center=index in (0, 2))
            if index in (3, 4):
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _widths(grid, TOTALS)


def _parents(document: DocumentType, export: Export) -> None:
    """Each parent's units and how many have sent their figures, a line each, the header row
    repeated on each page."""
    words = catalogue("export")
    grid = document.add_table(rows=1, cols=len(PARENTS))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    header = grid.rows[0]
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell, title in zip(header.cells, words["parents_header"], strict=True):
        _cell(cell.paragraphs[0], title, bold=True, center=True)
    # a line laid out as every line is, then copied for each parent with its texts: 1,600
    # communes cell by cell through python-docx take seconds
    line = grid.add_row()
    line._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    for index, cell in enumerate(line.cells):
        paragraph = cell.paragraphs[0]
        _cell(paragraph, "-", bold=False, center=index == 0)  # a text each, for the copies
        if index >= 2:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _widths(grid, PARENTS)
    model = line._tr
    model.getparent().remove(model)
    for number, group in enumerate(export.groups, 1):
        counts = group.counts
        values = (
            str(number),
            group.parent or words["no_parent"],
            *(
                _number(count)
                for count in (
                    len(group.sheets),
                    counts[table.Completion.COMPLETE],
                    counts[table.Completion.PARTIAL],
                    counts[table.Completion.SILENT],
                )
            ),
        )
        row = copy.deepcopy(model)
        for text, value in zip(row.iter(qn("w:t")), values, strict=True):
            text.text = value
        grid._tbl.append(row)


def _photos(document: DocumentType, export: Export) -> None:
    """The appendix on a page of its own: the units' photos by commune or ward (as the
    parents' table lists them), two a row, each with "Ảnh n. caption — unit" under it."""
    words = catalogue("export")
    breaker = document.add_paragraph()
    breaker.add_run().add_break(WD_BREAK.PAGE)
    _plain(breaker, WD_ALIGN_PARAGRAPH.CENTER)
    title = document.add_paragraph()
    _plain(title, WD_ALIGN_PARAGRAPH.CENTER)
    run = title.add_run(words["photos_title"])
    run.bold, run.font.size = True, Pt(14)
    count = sum(len(found) for found in export.photos.values())
    subtitle = document.add_paragraph()
    _plain(subtitle, WD_ALIGN_PARAGRAPH.CENTER)
    subtitle.paragraph_format.space_after = Pt(12)
    text = words["photos_subtitle"].format(photos=count, units=len(export.photos))
    subtitle.add_run(text).italic = True
    groups = [(g.parent, g.sheets) for g in export.groups] or [(None, export.sheets)]
    number = 0
    for parent, sheets in groups:
        shown = [
            (sheet.name, photo) for sheet in sheets for photo in export.photos.get(sheet.code, [])
        ]
        if not shown:
            continue
        if export.groups:
            heading = document.add_paragraph()
            heading.paragraph_format.keep_with_next = True
            heading.add_run(parent or words["no_parent"]).bold = True
        grid = _borderless(document, (PHOTO_CELL, PHOTO_CELL), rows=(len(shown) + 1) // 2)
        for index, (unit, photo) in enumerate(shown):
            number += 1
            cell = grid.cell(index // 2, index % 2)
            _photo(cell.paragraphs[0], cell.add_paragraph(), photo, number, unit, words)
        for row in grid.rows:
            row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))  # photo and caption


def _photo(
    picture: Paragraph,
    caption: Paragraph,
    photo: ExportPhoto,
    number: int,
    unit: str,
    words: dict[str, Any],
) -> None:
    """The photo fitted in its box, keeping its proportions, and its caption under it."""
    _plain(picture, WD_ALIGN_PARAGRAPH.CENTER)
    picture.paragraph_format.space_before = Pt(6)
    width = min(PHOTO_WIDTH, int(PHOTO_HEIGHT * photo.width / max(photo.height, 1)))
    with contextlib.suppress(FileNotFoundError):  # removed since the export's data was read
        picture.add_run().add_picture(str(photo.path), width=Length(width))
    _plain(caption, WD_ALIGN_PARAGRAPH.CENTER)
    caption.paragraph_format.space_after = Pt(6)
    key = "photo_caption" if photo.caption else "photo_caption_bare"
    text = words[key].format(number=number, caption=photo.caption, unit=unit)
    run = caption.add_run(text)
    run.italic, run.font.size = True, Pt(11)


def _cell(paragraph: Paragraph, text: str, bold: bool, center: bool) -> None:
    _plain(paragraph, WD_ALIGN_PARAGRAPH.CENTER if center else WD_ALIGN_PARAGRAPH.LEFT)
    run = paragraph.add_run(text)
    run.bold, run.font.size = bold, Pt(12)


def _borderless(document: DocumentType, widths: Sequence[Length], rows: int) -> Table:
    # the default style draws no lines; python-docx leaves add_table's result unannotated
    grid: Table = document.add_table(rows=rows, cols=len(widths))
    _widths(grid, widths)
    return grid


def _widths(grid: Table, widths: Sequence[Length]) -> None:
    """Fixed column widths, written where Word reads them (the cells) and where LibreOffice
    does (the grid)."""
    grid.autofit = False
    for column, width in zip(grid.columns, widths, strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width


def _plain(paragraph: Paragraph, alignment: WD_ALIGN_PARAGRAPH) -> None:
    """A paragraph outside the body: aligned as asked, no indent, no space after."""
    form = paragraph.paragraph_format
    form.alignment, form.first_line_indent, form.space_after = alignment, Cm(0), Pt(0)


def _marked(lines: list[str], mark: str) -> list[str]:
    return [line[len(mark) :] for line in lines if line.startswith(mark)]


def _number(value: int | str) -> str:
    return f"{value:,}".replace(",", ".") if isinstance(value, int) else value
