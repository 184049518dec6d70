"""The statistics table as the office's spreadsheet: the official MẪU TỔNG HỢP SỐ LIỆU layout
(same rows, same order, section rows in bold), a sheet with the totals and one per unit.

Every sheet prints as the office's own paper: A4 portrait, one page wide, Times New Roman, the
two header rows repeated on each page, rows tall enough for their wrapped labels (LibreOffice
and Excel keep a row's height as written), the page number in the footer.

openpyxl lays out the totals sheet and one unit sheet whose varying cells hold placeholders;
each unit's sheet is then stamped from that one's XML. Every unit sheet looks the same, and
writing 10,000 of them cell by cell through openpyxl took 46 s where stamping takes about one.
"""

from __future__ import annotations

import io
import itertools
import math
import re
import textwrap
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO
from xml.sax.saxutils import escape, quoteattr

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

from bot.campaign.model import Form, FormRow
from bot.messages import catalogue, written
from bot.stats import table
from bot.stats.export import Export
from bot.stats.grammar import Value, printable

Cell = int | str | None
Stamped = tuple[str, list[Cell], dict[int, float]]  # a sheet's title, slots' cells, rows' heights
_SLOT = "@@LOA-SLOT-{}@@"
_TEMPLATE = "unit-template"
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
# An A4 page less 30 + 15 mm of margins holds 165 mm: about 85 width units (7 px and 5 of
# padding each at 96 dpi), so the table prints at full size, one page wide.
_WIDTHS = {"A": 5, "B": 36, "C": 10, "D": 10, "E": 8.5, "F": 15}
_FIRST_ROW = 7  # the header takes rows 5 and 6
_HEADER_ROWS = "5:6"  # repeated at the top of every printed page
_FONT = "Times New Roman"
_SIZE = 12  # points, the table's text; the title takes 14
_LINE = 15.0  # points a line of 12-point text takes in a row
_MAX_HEIGHT = 409  # points, the tallest row Excel keeps
_MARGINS = PageMargins(left=1.18, right=0.59, top=0.79, bottom=0.79, header=0.3, footer=0.3)
MAX_CELL = 32_767  # characters Excel keeps in a cell


def build(export: Export, out: BinaryIO) -> None:
    words = catalogue("export")
    book = Workbook()
    totals = book.active
    assert totals is not None
    totals.title = words["totals_sheet"]
    counts = export.counts
    caption = words["totals_caption"].format(
        units=len(export.sheets),
        complete=counts[table.Completion.COMPLETE],
        partial=counts[table.Completion.PARTIAL],
        silent=counts[table.Completion.SILENT],
        # "9h06 12/10/2023", as every message writes them
        made=f"{written('time', export.made_at)} {written('day', export.made_at)}",
    )
    _lay_out(
        totals, export.form, caption, lambda row: table.columns(row, export.totals.get(row.code))
    )
    numbers = itertools.count()

    def slot() -> str:
        return _SLOT.format(next(numbers))

    _lay_out(
        book.create_sheet(_TEMPLATE), export.form, slot(), lambda row: (slot(), slot(), slot())
    )
    laid_out = io.BytesIO()
    book.save(laid_out)
    titles = {totals.title.lower()}
    sheets = itertools.chain(
        _group_sheets(export, words, titles), _unit_sheets(export, words, titles)
    )
    _stamp(laid_out.getvalue(), sheets, out)


def _group_sheets(export: Export, words: dict[str, Any], titles: set[str]) -> Iterator[Stamped]:
    """(sheet title, the cells in slot order, row heights) for every parent's subtotals: the
    unit sheet's layout, its texts (every unit's, joined) given the height they need."""
    rows = table.answerable(export.form)
    lines = {row.code: _FIRST_ROW + offset for offset, row in enumerate(export.form.rows())}
    for group in export.groups:
        name = group.parent or words["no_parent"]
        cells: list[Cell] = [
            words["group_caption"].format(
                parent=name,
                units=len(group.sheets),
                complete=group.counts[table.Completion.COMPLETE],
                partial=group.counts[table.Completion.PARTIAL],
                silent=group.counts[table.Completion.SILENT],
            )
        ]
        heights: dict[int, float] = {}
        for row in rows:  # in the order `_lay_out` numbered their slots
            first, people, remark = table.columns(row, group.totals.get(row.code))
            if isinstance(remark, str):
                remark = _clipped(remark)
                wrapped = [(row.label, _WIDTHS["B"]), (row.unit or "", _WIDTHS["C"])]
                heights[lines[row.code]] = _height([*wrapped, (remark, _WIDTHS["F"])])
            cells.extend((first, people, remark))
        yield _title(group.parent or words["no_parent_sheet"], titles), cells, heights


def _unit_sheets(export: Export, words: dict[str, Any], titles: set[str]) -> Iterator[Stamped]:
    """(sheet title, the cells in slot order, no row heights changed) for every unit."""
    rows = table.answerable(export.form)
    caption = words["unit_caption"]
    # a province's figures repeat ((1,), (2, 30)...): each row's cells for a value worked out once
    placed: list[dict[Value | None, table.Cells]] = [{} for _ in rows]
    for sheet in export.sheets:
        cells: list[Cell] = [caption.format(name=sheet.name, code=sheet.code)]
        for row, known in zip(rows, placed, strict=True):  # in the order `_lay_out` numbered
            value = sheet.answers.get(row.code)
            found = known.get(value)
            if found is None:
                found = known[value] = table.columns(row, value)
            cells.extend(found)
        yield _title(sheet.code, titles), cells, {}


def _lay_out(
    sheet: Worksheet,
    form: Form,
    caption: str,
    cells: Callable[[FormRow], tuple[Cell, Cell, Cell]],
) -> None:
    """The official table: title, subtitle, caption, the two header rows, then every row."""
    words = catalogue("export")
    for top, text, font in (
        (1, form.title, Font(name=_FONT, bold=True, size=14)),
        (2, form.subtitle or "", Font(name=_FONT, italic=True, size=_SIZE)),
        (3, caption, Font(name=_FONT, bold=True, size=_SIZE)),
    ):
        sheet.merge_cells(start_row=top, end_row=top, start_column=1, end_column=6)
        sheet.cell(top, 1, text).font = font
        sheet.cell(top, 1).alignment = Alignment(horizontal="center", wrap_text=True)
        # a unit's name is not known yet where the caption is a slot: room for two lines
        shown = "\n" if _is_slot(text) else text
        sheet.row_dimensions[top].height = _height([(shown, sum(_WIDTHS.values()))], font.size)
    number, label, unit, quantity, note = words["header"]
    for column, text in ((1, number), (2, label), (3, unit), (6, note)):
        sheet.merge_cells(start_row=5, end_row=6, start_column=column, end_column=column)
        sheet.cell(5, column, text)
    sheet.merge_cells(start_row=5, end_row=5, start_column=4, end_column=5)
    sheet.cell(5, 4, quantity)
    sheet.cell(6, 4, words["quantity"][0])
    sheet.cell(6, 5, words["quantity"][1])
    for header in sheet.iter_rows(min_row=5, max_row=6, max_col=6):
        for cell in header:
            cell.font = Font(name=_FONT, size=_SIZE, bold=True)
            cell.border = _BOX
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.row_dimensions[6].height = _height([(words["quantity"][0], _WIDTHS["D"])])
    for offset, row in enumerate(form.rows()):
        line = _FIRST_ROW + offset
        heading = "." not in row.code
        first, people, remark = cells(row) if row.answer is not None else (None, None, None)
        if isinstance(remark, str):  # every unit's texts, joined: as much as a cell holds
            remark = _clipped(remark)
        values = (row.code, row.label, row.unit, first, people, remark)
        for column, value in enumerate(values, 1):
            cell = sheet.cell(line, column, value)
            cell.border = _BOX
            cell.font = Font(name=_FONT, size=_SIZE, bold=heading)
            cell.alignment = Alignment(vertical="top", wrap_text=column in (2, 3, 6))
            if column in (4, 5):
                cell.number_format = "#,##0"
        wrapped = [(row.label, _WIDTHS["B"]), (row.unit or "", _WIDTHS["C"])]
        if isinstance(remark, str) and not _is_slot(remark):  # a unit's text: not known yet
            wrapped.append((remark, _WIDTHS["F"]))
        sheet.row_dimensions[line].height = _height(wrapped)
    for letter, width in _WIDTHS.items():
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = f"A{_FIRST_ROW}"
    _print_setup(sheet, words["page_footer"])


def _clipped(text: str) -> str:
    """A text as a cell holds it: printable, and at most `MAX_CELL` characters."""
    text = printable(text)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _is_slot(value: object) -> bool:
    return isinstance(value, str) and value.startswith(_SLOT.split("{")[0])


def _print_setup(sheet: Worksheet, footer: str) -> None:
    """A4 portrait, one page wide and as many long as it takes, header rows on every page."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_PORTRAIT
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # no limit: rows flow onto further pages
    fit = sheet.sheet_properties.pageSetUpPr
    assert fit is not None  # openpyxl makes it with the sheet; its stubs allow None
    fit.fitToPage = True
    sheet.page_margins = _MARGINS
    sheet.print_title_rows = _HEADER_ROWS
    sheet.print_options.horizontalCentered = True
    odd = sheet.oddFooter
    assert odd is not None  # as above
    odd.center.text = footer
    odd.center.font = _FONT
    odd.center.size = 11


def _height(texts: Sequence[tuple[str, float]], size: float = _SIZE) -> float:
    """Points a row needs to show each text wrapped in its column (text, width in units).

    A width unit holds about 1.25 characters of 12-point Times New Roman (measured on
    LibreOffice's rendering); wrapping at 1.05 errs on the tall side, for bold rows and long
    words: a little air printed rather than text cut.
    """
    lines = 1
    for text, width in texts:
        per_line = max(1, int(width * 1.05 * _SIZE / size))
        count = sum(len(textwrap.wrap(part, per_line)) or 1 for part in text.split("\n"))
        lines = max(lines, count)
    return min(math.ceil(lines * _LINE * size / _SIZE + 3), _MAX_HEIGHT)


# -- stamping -------------------------------------------------------------------------------------

_SLOT_CELL = re.compile(
    r'<c ([^>]*?) t="inlineStr"><is><t>' + _SLOT.format(r"(\d+)") + r"</t></is></c>"
)


def _stamp(package: bytes, sheets: Iterator[Stamped], out: BinaryIO) -> None:
    """Write `package` to `out` with its template sheet replaced by one copy per sheet given
    (a parent's subtotals, a unit), its slots filled and the rows named given their heights."""
    source = zipfile.ZipFile(io.BytesIO(package))
    workbook = source.read("xl/workbook.xml").decode()
    relations = source.read("xl/_rels/workbook.xml.rels").decode()
    types = source.read("[Content_Types].xml").decode()
    sheet_entry = _element(workbook, "sheet", f'name="{_TEMPLATE}"')
    relation_id = _found(r'r:id="([^"]+)"', sheet_entry, 1)
    relation = _element(relations, "Relationship", f'Id="{relation_id}"')
    part = _found(r'Target="/?([^"]+)"', relation, 1)
    part = part if part.startswith("xl/") else f"xl/{part}"
    override = _element(types, "Override", f'PartName="/{part}"')
    titles = _print_titles(workbook)
    head, slots = _slots(source.read(part).decode())

    entries, links, overrides, names = [], [], [], []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for number, (title, cells, heights) in enumerate(sheets, start=1):
            name = f"xl/worksheets/unit{number}.xml"
            target.writestr(name, _heighten(_fill(head, slots, cells), heights))
            entries.append(
                sheet_entry.replace(f'name="{_TEMPLATE}"', f"name={quoteattr(title)}")
                .replace(f'r:id="{relation_id}"', f'r:id="rIdU{number}"')
                .replace(_found(r'sheetId="\d+"', sheet_entry), f'sheetId="{number + 1}"')
            )
            links.append(
                relation.replace(f'Id="{relation_id}"', f'Id="rIdU{number}"').replace(
                    _found(r'Target="[^"]+"', relation), f'Target="/{name}"'
                )
            )
            overrides.append(override.replace(f'PartName="/{part}"', f'PartName="/{name}"'))
            names.append(_print_titles_of(number, title))  # sheet `number`: the totals are 0
        workbook = workbook.replace(sheet_entry, "".join(entries)).replace(titles, "".join(names))
        target.writestr("xl/workbook.xml", workbook)
        target.writestr("xl/_rels/workbook.xml.rels", relations.replace(relation, "".join(links)))
        target.writestr("[Content_Types].xml", types.replace(override, "".join(overrides)))
        for item in source.infolist():
            if item.filename not in (part, "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                                     "[Content_Types].xml"):  # fmt: skip
                target.writestr(item, source.read(item))


@dataclass(frozen=True)
class _Slot:
    """A slot cell of the template sheet, its XML written out for each kind of value (the
    5,100 sheets of a province share them), and the template's XML up to the next slot."""

    number: int
    empty: str
    number_open: str
    text_open: str
    number_close: str
    text_close: str


def _slots(xml: str) -> tuple[str, list[_Slot]]:
    """The template sheet's XML before its first slot cell, and its slot cells in order."""
    pieces = _SLOT_CELL.split(xml)  # text, attributes, slot, text, attributes, slot, text...
    slots = []
    for index in range(1, len(pieces), 3):
        attributes, slot, after = pieces[index], int(pieces[index + 1]), pieces[index + 2]
        slots.append(
            _Slot(
                slot,
                f"<c {attributes}/>{after}",
                f'<c {attributes} t="n"><v>',
                f'<c {attributes} t="inlineStr"><is><t xml:space="preserve">',
                f"</v></c>{after}",
                f"</t></is></c>{after}",
            )
        )
    return pieces[0], slots


def _fill(head: str, slots: Sequence[_Slot], cells: Sequence[Cell]) -> str:
    """The template sheet's XML with slot cells written as numbers, texts or empty cells."""
    out = [head]
    for slot in slots:
        value = cells[slot.number]
        if value is None:
            out.append(slot.empty)
        elif isinstance(value, str):  # no control characters: XML 1.0 has no way to hold them
            out += (slot.text_open, escape(printable(value)[:MAX_CELL]), slot.text_close)
        else:
            out += (slot.number_open, str(value), slot.number_close)
    return "".join(out)


def _heighten(xml: str, heights: dict[int, float]) -> str:
    """A sheet's XML with each row of `heights` (its number -> points) that tall."""
    for line, points in heights.items():
        xml = re.sub(rf'(<row r="{line}" [^>]*?ht=")[^"]*"', rf'\g<1>{points}"', xml, count=1)
    return xml


def _print_titles(workbook: str) -> str:
    """The template sheet's print titles (its header rows), a name local to it."""
    found = re.search(
        r'<definedName name="_xlnm.Print_Titles" localSheetId="1">[^<]*</definedName>', workbook
    )
    if found is None:
        raise ValueError("no print titles for the template sheet in the laid-out workbook")
    return found[0]


def _print_titles_of(index: int, title: str) -> str:
    """The header rows of sheet `index` (counted from 0), to repeat on each page it prints."""
    quoted = "'" + title.replace("'", "''") + "'"
    return (
        f'<definedName name="_xlnm.Print_Titles" localSheetId="{index}">'
        f"{escape(quoted)}!${_HEADER_ROWS.replace(':', ':$')}</definedName>"
    )


def _element(xml: str, tag: str, marker: str) -> str:
    """The one empty element `<tag … marker …/>` of an XML text."""
    found = re.search(rf"<{tag} [^>]*{re.escape(marker)}[^>]*/>", xml)
    if found is None:
        raise ValueError(f"no <{tag} {marker}> in the laid-out workbook")
    return found[0]


def _found(pattern: str, xml: str, group: int = 0) -> str:
    """What `pattern` (or its `group`) matches in an XML text of the laid-out workbook."""
    found = re.search(pattern, xml)
    if found is None:
        raise ValueError(f"no {pattern} in the laid-out workbook")
    return found[group]


def _title(code: str, taken: set[str]) -> str:
    """A sheet name Excel accepts: no []:*?/\\, at most 31 characters, unique ignoring case."""
    # nor may it begin or end with an apostrophe
    base = re.sub(r"[\[\]:*?/\\]", "-", code)[:31].strip("'") or "don-vi"
    title, number = base, 1
    while title.lower() in taken:
        number += 1
        suffix = f"~{number}"
        title = base[: 31 - len(suffix)] + suffix
    taken.add(title.lower())
    return title
