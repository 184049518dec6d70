"""Other ways real plans write the same things than the five seeds do."""

import datetime as dt

import pytest

from bot.campaign.plan.extract import extract
from bot.campaign.plan.reading import normalize

TITLE = ["KẾ HOẠCH", "Tổ chức Tuần lễ hưởng ứng học tập suốt đời năm 2021"]
WEEK = "Tuần lễ được tổ chức từ ngày 01/10/2021 đến ngày 07/10/2021."


def read(*lines: str):
    return extract(normalize([*TITLE, *lines]))


@pytest.mark.parametrize(
    ("lines", "date", "time", "place"),
    [
        (
            [
                "Lễ khai mạc được tổ chức vào lúc 7 giờ 30 ngày 01/10/2021 tại Hội trường UBND huyện."
            ],
            dt.date(2021, 10, 1),
            dt.time(7, 30),
            "Hội trường UBND huyện",
        ),
        (
            [
                "III. LỄ KHAI MẠC",
                "1. Thời gian: 8h00, ngày 02/10/2021",
                "2. Địa điểm: Nhà văn hóa xã",
            ],
            dt.date(2021, 10, 2),
            dt.time(8, 0),
            "Nhà văn hóa xã",
        ),
        (
            ["Lễ phát động Tuần lễ: ngày 01/10/2021, lúc 14h00, tại sân trường."],
            dt.date(2021, 10, 1),
            dt.time(14, 0),
            "Sân trường",
        ),
        (
            ["- Lễ khai mạc: từ 7h30 đến 9h30 ngày 03/10/2021."],
            dt.date(2021, 10, 3),
            dt.time(7, 30),
            None,
        ),
        (
            ["Lễ khai mạc Tuần lễ tổ chức ngày 01/10/2021.", "Họp lúc 15h00 ngày 28/9/2021."],
            dt.date(2021, 10, 1),
            None,  # a time on another matter is not the ceremony's
            None,
        ),
        (
            ["Họp ngày 28/9/2021 để chuẩn bị Lễ khai mạc."],
            None,  # a date before the ceremony is named is another matter's
            None,
            None,
        ),
    ],
)
def test_ceremonies(lines, date, time, place):
    opening = read(WEEK, *lines).opening
    assert (opening.date, opening.time, opening.place) == (date, time, place)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "- Trước ngày 25/9/2021: Các trường gửi kế hoạch về Phòng GDĐT.",
            ("Kế hoạch về Phòng GDĐT", dt.date(2021, 9, 25), "Các trường", True),
        ),
        (
            "Hạn nộp báo cáo tổng kết: 12/10/2021.",
            ("Báo cáo tổng kết", dt.date(2021, 10, 12), None, False),
        ),
        (
            "Các đơn vị gửi danh sách đăng ký dự lễ chậm nhất là ngày 28/9/2021.",
            ("Danh sách đăng ký dự lễ", dt.date(2021, 9, 28), "Các đơn vị", False),
        ),
        (
            "Yêu cầu Hiệu trưởng các trường nộp báo cáo trước 17h00 ngày 11/10/2021.",
            ("Báo cáo", dt.date(2021, 10, 11), "Hiệu trưởng các trường", True),
        ),
        (
            "Các trường gửi báo cáo theo Mẫu số 02 trước ngày 10/10/2021.",
            ("Báo cáo theo Mẫu số 02", dt.date(2021, 10, 10), "Các trường", True),
        ),
        (
            "Báo cáo kết quả gửi về Phòng GDĐT, hạn chót ngày 12 tháng 10 năm 2021.",
            ("Báo cáo kết quả gửi về Phòng GDĐT", dt.date(2021, 10, 12), None, False),
        ),
    ],
)
def test_deadlines(line, expected):
    [deadline] = read(WEEK, line).deadlines
    assert (deadline.what, deadline.date, deadline.audience, deadline.before) == expected


def test_a_yearless_week_takes_the_plans_year():
    plan = read("Thời gian: Tuần lễ diễn ra từ 01/10 đến 07/10.")
    assert (plan.week_start, plan.week_end) == (dt.date(2021, 10, 1), dt.date(2021, 10, 7))


def test_a_week_written_as_a_day_range():
    plan = read("Tuần lễ học tập suốt đời (1-7/10/2021) với nhiều hoạt động.")
    assert (plan.week_start, plan.week_end) == (dt.date(2021, 10, 1), dt.date(2021, 10, 7))


@pytest.mark.parametrize(
    ("lines", "theme"),
    [
        (
            ["Chủ đề năm 2021: “Học tập suốt đời trong kỷ nguyên số”."],
            "Học tập suốt đời trong kỷ nguyên số",
        ),
        (
            ["II. CHỦ ĐỀ", "Chủ đề: Học tập suốt đời trong kỷ nguyên số."],
            "Học tập suốt đời trong kỷ nguyên số",
        ),
        (["Các đơn vị tự lựa chọn chủ đề phù hợp với địa phương."], None),
    ],
)
def test_themes(lines, theme):
    assert read(*lines).theme == theme


def test_bulleted_slogans_under_a_khẩu_hiệu_heading():
    plan = read(
        "IV. KHẨU HIỆU TUYÊN TRUYỀN",
        "- Học, học nữa, học mãi!",
        "- Cả nước trở thành một xã hội học tập.",
        "V. TỔ CHỨC THỰC HIỆN",
    )
    assert plan.slogans == ("Học, học nữa, học mãi!", "Cả nước trở thành một xã hội học tập.")


def test_a_numbered_report_outline_is_no_list_of_slogans():
    plan = read("I. TỔ CHỨC TRIỂN KHAI", "1. Công tác chỉ đạo", "2. Lễ phát động", "3. Nội dung")
    assert plan.slogans == ()


def test_a_timed_programme_list():
    plan = read(
        "Chương trình buổi lễ:",
        "- 7h30-8h00: Đón tiếp đại biểu;",
        "- 8h00 - 8h15: Văn nghệ chào mừng;",
        "- Phát biểu bế mạc.",
    )
    rows = [(row.start, row.end, row.item) for row in plan.agenda]
    assert rows == [
        (dt.time(7, 30), dt.time(8, 0), "Đón tiếp đại biểu"),
        (dt.time(8, 0), dt.time(8, 15), "Văn nghệ chào mừng"),
        (None, None, "Phát biểu bế mạc"),
    ]
