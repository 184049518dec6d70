"""Dates a plan prints that are not its own never become a deadline, the week or the ceremony.

Each decoy sits where a real date would be taken: next to "trước ngày", under "Lễ khai mạc", in a
"Ngày ...: ... gửi" item. A wrong date is worse than a missing one.
"""

import datetime as dt

import pytest

from bot.campaign.plan.extract import extract
from bot.campaign.plan.reading import normalize
from tests.plan.conftest import seed_text

WEEK = "1. Thời gian: Tuần lễ được tổ chức từ ngày 01/10/2020 đến ngày 07/10/2020."


def plan(*lines: str):
    return extract(
        normalize(["KẾ HOẠCH", "Tổ chức Tuần lễ hưởng ứng học tập suốt đời năm 2020", *lines])
    )


DECOYS = {
    "the document's date line": [
        "2. Lễ khai mạc",
        "Hà Nội, ngày 28 tháng 9 năm 2020",
    ],
    "the document's date line, numeric": [
        "2. Lễ khai mạc",
        "Gia Lâm, ngày 28/9/2020",
    ],
    "Căn cứ: a cited plan's own deadline": [
        "Căn cứ Kế hoạch số 12/KH-UBND của UBND Thành phố yêu cầu gửi báo cáo trước ngày 30/9/2020;",
    ],
    "Căn cứ: a cited plan's ceremony": [
        "Căn cứ Kế hoạch của UBND Thành phố về tổ chức Lễ khai mạc vào ngày 30/9/2020;",
    ],
    "Căn cứ Quyết định số ... ngày ...": [
        "Căn cứ Quyết định số 89/QĐ-TTg, ngày 09/01/2013 của Thủ tướng Chính phủ, hạn nộp ngày 25/9/2020;",
    ],
    "Thực hiện Công văn số ... ngày ...": [
        "2. Lễ khai mạc được tổ chức theo Công văn số 3146/KH-BCĐ ngày 28/9/2020 của UBND Thành phố.",
    ],
    "a letter cited by number without số": [
        "2. Lễ khai mạc thực hiện theo Kế hoạch 177/KH-UBND ngày 30/9/2020.",
    ],
    "a publish stamp": [
        "2. Lễ khai mạc Tuần lễ - cập nhật ngày 28/09/2020 10:32",
    ],
    "a print stamp": [
        "2. Tổ chức Lễ khai mạc. In ngày 29/9/2020",
    ],
    "a 'Ngày đăng' stamp": [
        "2. Lễ khai mạc",
        "Ngày đăng: 29/09/2020 08:15",
    ],
    "an anniversary in a dated item": [
        "- Ngày 20/11/2020: kỷ niệm 38 năm ngày Nhà giáo Việt Nam, các trường gửi thư chúc mừng.",
    ],
    "an anniversary next to the ceremony": [
        "2. Lễ khai mạc gắn với kỷ niệm ngày thành lập Hội Khuyến học Việt Nam 02/10/2020.",
    ],
    "an anniversary range": [
        "Tuần lễ gắn với kỷ niệm 75 năm ngày Cách mạng tháng Tám (19/8/1945 - 19/8/2020).",
    ],
    "last year's week": [
        "Tuần lễ năm 2019 được tổ chức từ ngày 01/10/2019 đến ngày 07/10/2019, báo cáo trước ngày 10/10/2019.",
    ],
}


@pytest.mark.parametrize("kind", sorted(DECOYS))
def test_a_decoy_is_no_deadline_week_or_ceremony(kind):
    before = plan(*DECOYS[kind])
    assert before.deadlines == ()
    assert before.week_start is None and before.week_end is None
    assert before.opening is None or before.opening.date is None
    after = plan(*DECOYS[kind], WEEK)
    assert after.deadlines == ()
    assert (after.week_start, after.week_end) == (dt.date(2020, 10, 1), dt.date(2020, 10, 7))
    assert after.opening is None or after.opening.date is None


def test_the_date_line_is_the_plans_own_date():
    assert plan(*DECOYS["the document's date line"]).issued == dt.date(2020, 9, 28)


def test_a_cited_letter_next_to_a_real_deadline_leaves_only_the_real_one():
    found = plan(
        WEEK,
        "Thực hiện Công văn số 3146/KH-BCĐ ngày 22/9/2020 của UBND Thành phố, các trường gửi "
        "báo cáo kết quả về Phòng GDĐT trước ngày 10/10/2020.",
    )
    assert [(d.date, d.what) for d in found.deadlines] == [
        (dt.date(2020, 10, 10), "Báo cáo kết quả về Phòng GDĐT")
    ]


def test_a_real_deadline_for_an_anniversary_task_is_kept():
    found = plan(
        WEEK, "- Các trường gửi báo cáo nhân dịp kỷ niệm ngày Khuyến học chậm nhất ngày 05/10/2020."
    )
    assert [(d.date, d.audience) for d in found.deadlines] == [(dt.date(2020, 10, 5), "Các trường")]


def test_decoys_added_to_a_seed_change_nothing():
    lines = normalize(seed_text("quan-12").splitlines())
    decoys = [
        "Hồ Chí Minh, ngày 20 tháng 9 năm 2021",
        "Căn cứ Công văn số 15/SGDĐT ngày 25/9/2021 về tổ chức Lễ khai mạc, hạn nộp trước ngày 28/9/2021;",
        "Thực hiện Công văn số 3764/BGDĐT-GDĐT ngày 30/9/2021 của Bộ Giáo dục và Đào tạo.",
        "Ngày đăng: 26/09/2021 08:15. In ngày 27/9/2021",
        "- Ngày 02/10/2021: kỷ niệm ngày Khuyến học Việt Nam, các phường gửi thư chúc mừng.",
    ]
    at = lines.index("I. MỤC TIÊU, YÊU CẦU")
    assert extract(lines[:at] + decoys + lines[at:]).as_json() == extract(lines).as_json()
