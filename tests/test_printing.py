"""The exports print as the office's own documents: the XLSX sheets on A4 one page wide with
their header rows on every page, the DOCX laid out as Nghị định 30/2020/NĐ-CP sets it.

The structure is read back with openpyxl and python-docx; when LibreOffice is installed, the
files are also printed to PDF through it and their pages counted and read."""

import io
import os
import shutil
import subprocess
import textwrap
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.shared import Cm, Pt
from openpyxl import load_workbook

from bot.documents.report import LETTERHEAD, TEXT_WIDTH, TOTALS
from tests.test_exports import FORM, SHEETS, written

TIMES = "Times New Roman"
A4_WIDTH_UNITS = 85  # column width units an A4 page holds less 30 + 15 mm of margins


def near(lengths, expected) -> bool:
    """Word keeps lengths in twentieths of a point: equal to a tenth of a millimetre."""
    return len(lengths) == len(expected) and all(
        abs(a - b) < Cm(0.01) for a, b in zip(lengths, expected, strict=True)
    )


def test_every_sheet_prints_on_a4_one_page_wide_with_its_header_rows_on_each_page():
    book = load_workbook(io.BytesIO(written("xlsx")))
    assert len(book.worksheets) == 1 + len(SHEETS)
    for sheet in book.worksheets:  # the stamped unit sheets as much as the totals
        setup = sheet.page_setup
        assert (int(setup.paperSize), setup.orientation) == (9, "portrait"), sheet.title  # A4
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.print_title_rows == "$5:$6", sheet.title
        margins = sheet.page_margins
        assert 1.18 <= margins.left <= 1.38 and 0.59 <= margins.right <= 0.79  # 30 mm, 15 mm
        assert 0.79 <= margins.top <= 0.99 and 0.79 <= margins.bottom <= 0.99  # 20 mm
        assert "&P" in sheet.oddFooter.center.text
        widths = [sheet.column_dimensions[c].width for c in "ABCDEF"]
        assert sum(widths) <= A4_WIDTH_UNITS and max(widths) == widths[1], sheet.title
        fonts = {
            cell.font.name for line in sheet.iter_rows(max_col=6) for cell in line if cell.value
        }
        assert fonts == {TIMES}, sheet.title


def test_xlsx_rows_are_tall_enough_for_their_wrapped_labels():
    sheet = load_workbook(io.BytesIO(written("xlsx")))["Tổng hợp"]
    label_width = sheet.column_dimensions["B"].width
    for offset, row in enumerate(FORM.rows()):
        lines = len(textwrap.wrap(row.label, int(label_width * 1.25)))  # as LibreOffice wraps
        height = sheet.row_dimensions[7 + offset].height
        assert height is not None and height >= lines * 14.5, row.code


def test_the_print_titles_survive_the_stamping_of_the_unit_sheets():
    content = zipfile.ZipFile(io.BytesIO(written("xlsx"))).read("xl/workbook.xml").decode()
    assert "unit-template" not in content
    assert content.count('name="_xlnm.Print_Titles"') == 1 + len(SHEETS)
    assert "localSheetId=\"2\">'TH-chi-ne~2'!$5:$6<" in content


def test_docx_is_an_a4_official_document():
    document = Document(io.BytesIO(written("docx")))
    section = document.sections[0]
    assert near((section.page_width, section.page_height), (Cm(21), Cm(29.7)))
    low, high = Cm(0.01), Cm(0.01)  # twips, not EMUs: a rounding either way
    assert Cm(2) - low <= section.top_margin <= Cm(2.5) + high
    assert Cm(2) - low <= section.bottom_margin <= Cm(2.5) + high
    assert Cm(3) - low <= section.left_margin <= Cm(3.5) + high
    assert Cm(1.5) - low <= section.right_margin <= Cm(2) + high
    normal = document.styles["Normal"].font
    assert normal.name == TIMES and Pt(13) <= normal.size <= Pt(14)
    assert all(run.font.name in (None, TIMES) for p in document.paragraphs for run in p.runs)
    assert section.different_first_page_header_footer  # numbered from the second page
    assert 'w:instr="PAGE"' in section.header.paragraphs[0]._p.xml


def test_docx_letterhead_title_and_signature_are_set_as_the_decree_says():
    document = Document(io.BytesIO(written("docx")))
    letterhead, _totals, signature = document.tables
    left, right = letterhead.rows[0].cells
    assert left.paragraphs[0].runs[0].bold  # the issuer
    name, motto = right.paragraphs
    assert name.text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" and name.runs[0].bold
    assert motto.text == "Độc lập - Tự do - Hạnh phúc" and motto.runs[0].underline
    number, date = letterhead.rows[1].cells
    assert number.text.startswith("Số:") and not number.paragraphs[0].runs[0].bold
    assert date.text.endswith("ngày 12 tháng 10 năm 2023") and date.paragraphs[0].runs[0].italic
    assert near([c.width for c in letterhead.columns], LETTERHEAD)
    [title] = [p for p in document.paragraphs if p.text == "BÁO CÁO"]
    assert title.runs[0].bold and title.alignment == 1  # centred
    recipients, signer = signature.rows[0].cells
    assert recipients.paragraphs[0].text == "Nơi nhận:" and recipients.paragraphs[0].runs[0].bold
    assert signer.paragraphs[0].text == "THỦ TRƯỞNG ĐƠN VỊ" and signer.paragraphs[0].runs[0].bold


def test_docx_totals_columns_fill_the_page_and_the_labels_take_the_room():
    totals = Document(io.BytesIO(written("docx"))).tables[1]
    widths = [column.width for column in totals.columns]
    assert near(widths, TOTALS)
    assert abs(sum(widths) - TEXT_WIDTH) < Cm(0.05)
    assert widths[1] > 2 * max(widths[0], *widths[2:])  # not six equal columns
    assert all("<w:cantSplit/>" in row._tr.xml for row in totals.rows[1:])  # rows stay whole


# -- printed through LibreOffice ------------------------------------------------------------------

needs_office = pytest.mark.skipif(
    not (shutil.which("soffice") and shutil.which("pdftotext") and shutil.which("pdfinfo")),
    reason="LibreOffice (soffice) and poppler (pdftotext, pdfinfo) are not installed",
)


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> dict[str, Path]:
    """The XLSX and the DOCX printed to PDF by LibreOffice, with a profile of their own (another
    LibreOffice running on the machine must not hold this one up)."""
    folder = tmp_path_factory.mktemp("printed")
    for fmt in ("xlsx", "docx"):
        (folder / f"export-{fmt}.{fmt}").write_bytes(written(fmt))
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{folder}/profile", "--headless",
         "--convert-to", "pdf", "--outdir", str(folder), "export-xlsx.xlsx", "export-docx.docx"],
        cwd=folder, check=True, capture_output=True, timeout=120,
        env={**os.environ, "HOME": str(folder)},
    )  # fmt: skip
    return {fmt: folder / f"export-{fmt}.pdf" for fmt in ("xlsx", "docx")}


def pages(pdf: Path) -> list[str]:
    count = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    number = int(next(line for line in count.splitlines() if line.startswith("Pages:")).split()[1])
    text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True)
    found = text.stdout.split("\f")[:number]
    assert len(found) == number
    return found


@needs_office
def test_the_printed_totals_sheet_takes_at_most_two_a4_pages_each_with_the_header(printed):
    sheets = pages(printed["xlsx"])
    first_unit = next(i for i, page in enumerate(sheets) if "Đơn vị: Trường <Tiểu học>" in page)
    assert 1 <= first_unit <= 2  # the totals sheet's pages come first
    assert len(sheets) <= first_unit * (1 + len(SHEETS))  # no unit sheet longer than the totals
    for page in sheets:
        assert "Các hoạt động" in page and "Ghi chú" in page  # the header rows on every page
        assert "Trang" in page
    assert "MẪU TỔNG HỢP SỐ LIỆU" in sheets[0] and "Các nội dung khác" in sheets[first_unit - 1]


@needs_office
def test_the_printed_report_keeps_the_letterhead_lines_whole(printed):
    report = pages(printed["docx"])
    lines = [line.strip() for line in report[0].splitlines()]
    assert any(line.endswith("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") for line in lines)
    assert any(line.endswith("Độc lập - Tự do - Hạnh phúc") for line in lines)
    table = "".join(report)
    assert any(line.strip().startswith("STT") and "Các hoạt động" in line
               for line in table.splitlines())  # fmt: skip
    assert len(report) <= 6
