"""The exports as files: the official XLSX layout, the long-form CSV and the DOCX report, read
back with openpyxl, csv and python-docx."""

import csv
import datetime as dt
import io
import os
import shutil
import subprocess

import pytest
from docx import Document
from openpyxl import load_workbook

from bot.campaign.loader import load_campaign
from bot.documents.formats import writer
from bot.stats.export import Export
from bot.stats.table import UnitSheet, answerable
from tests.conftest import SCHEDULES

CAMPAIGN = load_campaign(SCHEDULES / "2023-lac-thuy.yaml")
FORM = CAMPAIGN.form
AT = dt.datetime(2023, 10, 12, 9, 30, tzinfo=CAMPAIGN.tz)
SHEETS = [
    UnitSheet("th/chi:ne", "Trường <Tiểu học> & Chi Nê", "truong-hoc",
              {"1": (3,), "1.2": (2, 80), "10.1": (1_500_000,), "11": "Thi kể chuyện\ntheo sách"}),
    UnitSheet("TH/chi:ne", "Trùng mã khi bỏ dấu", "truong-hoc", {"1": (4,), "1.2": (1, 20)}),
    UnitSheet("x" * 40, "Mã rất dài", "tthtcd", {}),
]  # fmt: skip


def written(fmt: str, sheets=SHEETS) -> bytes:
    out = io.BytesIO()
    writer(fmt)(Export(CAMPAIGN, sheets, AT), out)
    return out.getvalue()


def test_xlsx_has_the_official_layout_a_totals_sheet_and_one_per_unit():
    book = load_workbook(io.BytesIO(written("xlsx")))
    assert book.sheetnames == ["Tổng hợp", "th-chi-ne", "TH-chi-ne~2", "x" * 31]
    totals, first = book["Tổng hợp"], book["th-chi-ne"]
    for sheet in (totals, first):
        assert sheet["A1"].value == FORM.title and sheet["A2"].value == FORM.subtitle
        assert [c.value for c in sheet[5]] == [
            "STT",
            "Các hoạt động",
            "Đơn vị",
            "Số lượng",
            None,
            "Ghi chú",
        ]
        assert {str(r) for r in sheet.merged_cells.ranges} >= {"A5:A6", "D5:E5", "A1:F1"}
        rows = list(sheet.iter_rows(min_row=7, values_only=True))
        assert [(r[0], r[1], r[2]) for r in rows] == [
            (row.code, row.label, row.unit) for row in FORM.rows()
        ]
        assert sheet["A7"].font.b and not sheet["A8"].font.b  # section rows in bold
    assert (
        totals["A3"].value
        == "Tổng hợp 3 đơn vị: 0 đủ số liệu, 2 đang nhập, 1 chưa gửi (lúc 9h30 12/10/2023)"
    )
    assert first["A3"].value == "Đơn vị: Trường <Tiểu học> & Chi Nê (th/chi:ne)"
    codes = [row.code for row in FORM.rows()]

    def cells(sheet, code):
        line = 7 + codes.index(code)
        return tuple(sheet.cell(line, column).value for column in (4, 5, 6))

    assert cells(first, "11") == (None, None, "Thi kể chuyện\ntheo sách")  # text kept, escaped
    assert cells(first, "10.1") == (1_500_000, None, None)
    assert first.cell(7 + codes.index("10.1"), 4).number_format == "#,##0"
    assert cells(totals, "1") == (7, None, None)
    assert cells(totals, "1.2") == (3, 100, None)
    assert cells(totals, "1.3") == (None, None, None)
    assert cells(book["x" * 31], "1") == (None, None, None)


def test_csv_is_one_line_per_unit_and_row():
    content = written("csv")
    assert content.startswith("\ufeff".encode())  # Excel reads the Vietnamese right
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert lines[0][:4] == ["Mã đơn vị", "Đơn vị", "Loại đơn vị", "Mã mục"]
    assert len(lines) == 1 + len(SHEETS) * len(answerable(FORM))
    by_key = {(line[0], line[3]): line for line in lines[1:]}
    assert by_key[("th/chi:ne", '="1.2"')][6:10] == ["2", "80", "", "đã nhập"]
    assert by_key[("th/chi:ne", '="11"')][8] == "Thi kể chuyện\ntheo sách"
    assert by_key[("x" * 40, '="1"')][6:10] == ["", "", "", "chưa nhập"]


NUMBER_LIKE_UNITS = [
    UnitSheet("001", "Mã toàn số", "truong-hoc", {"1.10": (1, 30)}),
    UnitSheet("4.1", "Mã như ngày", "truong-hoc", {}),
    UnitSheet("=1+1", "Mã như công thức", "truong-hoc", {}),
]


def test_csv_codes_a_spreadsheet_would_take_for_numbers_are_written_as_text_formulas():
    content = written("csv", sheets=NUMBER_LIKE_UNITS).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(content)))[1:]
    assert {line[3] for line in lines} >= {'="1.1"', '="1.10"', '="10.2"'}
    assert {line[0] for line in lines} == {'="001"', '="4.1"', "'=1+1"}  # a formula stays inert


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) is not installed")
def test_libreoffice_keeps_the_csv_codes_as_written(tmp_path):
    (tmp_path / "long.csv").write_bytes(written("csv", sheets=NUMBER_LIKE_UNITS))
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
         "--infilter=CSV:44,34,76,1", "--convert-to", "xlsx", "long.csv"],
        cwd=tmp_path, check=True, capture_output=True, timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
    )  # fmt: skip
    sheet = load_workbook(tmp_path / "long.xlsx", data_only=True).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert {row[3] for row in rows} >= {"1.1", "1.10", "10.1"}  # texts, not 1.1 twice
    assert {row[0] for row in rows} == {"001", "4.1", "'=1+1"}
    [ten] = [row for row in rows if (row[0], row[3]) == ("001", "1.10")]
    assert ten[6:8] == (1, 30)  # the figures are still numbers


def test_csv_texts_never_run_as_formulas():
    sheets = [UnitSheet("a", "=HYPERLINK(1)", "truong-hoc", {"11": "+1 ngày hội"})]
    lines = list(csv.reader(io.StringIO(written("csv", sheets=sheets).decode("utf-8-sig"))))
    [line] = [line for line in lines[1:] if line[3] == '="11"']
    assert (line[1], line[8]) == ("'=HYPERLINK(1)", "'+1 ngày hội")


def test_docx_follows_the_report_outline_with_the_totals_table():
    document = Document(io.BytesIO(written("docx")))
    texts = [p.text for p in document.paragraphs]
    outline = [
        "BÁO CÁO",
        "I. TỔ CHỨC TRIỂN KHAI TUẦN LỄ",
        "1. Công tác chỉ đạo, ban hành kế hoạch triển khai, kiểm tra, đôn đốc thực hiện",
        "2. Lễ phát động Tuần lễ",
        "3. Nội dung các hoạt động đã triển khai trong Tuần lễ",
        "4. Kinh phí tổ chức Tuần lễ",
        "II. ĐÁNH GIÁ CHUNG",
        "4. Bảng tổng hợp số liệu các hoạt động tổ chức Tuần lễ (thống kê theo Mẫu tổng hợp)",
    ]
    assert [t for t in texts if t in outline] == outline
    assert "- Ngân sách nhà nước: 1.500.000 đồng." in texts
    assert (
        "- Bồi dưỡng nâng cao trình độ chuyên môn nghiệp vụ cho cán bộ, công chức, viên chức (các cấp): 3 lớp, 100 người."
        in texts
    )
    letterhead, totals, _signature = document.tables
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in letterhead.cell(0, 1).text
    assert len(totals.rows) == 1 + len(FORM.rows())
    row = next(r for r in totals.rows if r.cells[0].text == "1.2")
    assert [c.text for c in row.cells[3:5]] == ["3", "100"]


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "docx"])
def test_an_export_with_no_units_is_still_a_valid_file(fmt):
    assert written(fmt, sheets=[])


def test_xlsx_holds_any_name_and_text():
    odd = [
        UnitSheet("a", "Tên\x01 lạ & <b>", "truong-hoc", {"11": "x" * 20_000}),
        UnitSheet("b", "Khác", "truong-hoc", {"11": "y" * 20_000}),
    ]
    book = load_workbook(io.BytesIO(written("xlsx", sheets=odd)))
    assert book["a"]["A3"].value == "Đơn vị: Tên lạ & <b> (a)"
    line = 7 + [row.code for row in FORM.rows()].index("11")
    assert len(book["Tổng hợp"].cell(line, 6).value) == 32_767  # Excel's most, cut with "…"
