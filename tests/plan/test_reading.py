"""Word, text and Markdown files read into the same plain lines."""

import datetime as dt

import docx

from bot.campaign.plan import read_plan
from bot.campaign.plan.reading import normalize, read_lines


def test_markdown_marks_go_and_page_break_fragments_are_joined():
    assert normalize(
        [
            "## **2. Tổ chức Lễ khai mạc**",
            "- **Thời gian:** 01 buổi,  từ 8h00",
            "",
            "ngày 02/10/2023.",
            "a) Mục a",
            "Tiếp theo.",
            "\u00a0",
        ]
    ) == [
        "2. Tổ chức Lễ khai mạc",
        "- Thời gian: 01 buổi, từ 8h00 ngày 02/10/2023.",
        "a) Mục a",
        "Tiếp theo.",
    ]


def test_text_in_utf16_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_bytes("Chủ đề: “Học tập suốt đời”\n".encode("utf-16"))
    assert read_lines(path) == ["Chủ đề: “Học tập suốt đời”"]


def test_decomposed_vietnamese_is_composed(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_text("trước ngày 10/10/2021", encoding="utf-8")
    decomposed = tmp_path / "nfd.txt"
    decomposed.write_text("tru\u031bo\u031b\u0301c nga\u0300y 10/10/2021", encoding="utf-8")
    assert read_lines(decomposed) == read_lines(path)


def test_word_tables_keep_their_columns_when_cells_are_merged(tmp_path):
    document = docx.Document()
    document.add_paragraph("Chương trình Lễ khai mạc\nTuần lễ năm 2021")  # a soft line break
    table = document.add_table(rows=3, cols=3)
    for row, cells in zip(
        table.rows,
        [("Thời gian", "Nội dung", "Người thực hiện"), ("7h30-8h00", "Đón tiếp", "Ban tổ chức")],
        strict=False,
    ):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    merged = table.rows[2].cells[1].merge(table.rows[2].cells[2])
    table.rows[2].cells[0].text = "8h00-8h15"
    merged.text = "Văn nghệ chào mừng"
    path = tmp_path / "plan.docx"
    document.save(path)
    assert read_lines(path) == [
        "Chương trình Lễ khai mạc",
        "Tuần lễ năm 2021",
        "Thời gian\tNội dung\tNgười thực hiện",
        "7h30-8h00\tĐón tiếp\tBan tổ chức",
        "8h00-8h15\tVăn nghệ chào mừng\t",
    ]


def _letterhead_plan(path, *paragraphs: str):
    """A Word plan laid out as offices do: the letterhead is a borderless two-column table."""
    document = docx.Document()
    head = document.add_table(rows=1, cols=2)
    left, right = head.rows[0].cells
    left.text = "UBND HUYỆN LẠC THỦY"
    left.add_paragraph("PHÒNG GIÁO DỤC VÀ ĐÀO TẠO")
    left.add_paragraph("Số: 12/PGDĐT")
    right.text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    right.add_paragraph("Độc lập - Tự do - Hạnh phúc")
    right.add_paragraph("Lạc Thủy, ngày 25 tháng 9 năm 2023")
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(path)
    return read_plan(path)


def test_a_letterhead_table_gives_the_number_and_date_and_is_no_ceremony(tmp_path):
    plan = _letterhead_plan(
        tmp_path / "plan.docx",
        "KẾ HOẠCH",
        "1. Lễ khai mạc",
        "- Địa điểm: Trường THCS Thị trấn Chi Nê",
        "2. Thời gian: Tuần lễ từ ngày 02/10/2023 đến ngày 08/10/2023.",
    )
    assert plan.issuer == "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO"  # the body under its parent issues it
    assert (plan.document, plan.issued) == ("12/PGDĐT", dt.date(2023, 9, 25))
    assert plan.opening.date is None and plan.opening.place == "Trường THCS Thị trấn Chi Nê"
    assert plan.deadlines == ()


def test_the_plans_own_sentence_names_the_issuer_better_than_its_letterhead(tmp_path):
    plan = _letterhead_plan(
        tmp_path / "plan.docx",
        "Phòng Giáo dục và Đào tạo hướng dẫn các trường tổ chức Tuần lễ năm 2023 như sau:",
    )
    assert plan.issuer == "Phòng Giáo dục và Đào tạo Lạc Thủy"
