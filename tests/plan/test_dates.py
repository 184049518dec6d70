"""Dates and times the way the plans write them."""

import datetime as dt

import pytest

from bot.campaign.plan.dates import scan_dates, scan_times

D = dt.date
T = dt.time


def dates(text: str, year: int | None = None) -> list[dt.date]:
    return [found.date for found in scan_dates(text, year).dates]


def ranges(text: str, year: int | None = None) -> list[tuple[dt.date, dt.date]]:
    return [(found.first, found.last) for found in scan_dates(text, year).ranges]


def times(text: str) -> list[tuple[dt.time, dt.time | None]]:
    return [(found.first, found.last) for found in scan_times(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ngày 10/10/2020: gửi báo cáo", D(2020, 10, 10)),
        ("chậm nhất ngày 29/9/2021.", D(2021, 9, 29)),
        ("vào ngày 02/10/2023", D(2023, 10, 2)),
        ("Quận 12, ngày 27 tháng 9 năm 2021", D(2021, 9, 27)),
        ("ngày 02 tháng 10 năm 2023", D(2023, 10, 2)),
        ("hạn 1.10.2021", D(2021, 10, 1)),
        ("hạn 01-10-2021", D(2021, 10, 1)),
    ],
)
def test_single_dates(text, expected):
    assert dates(text) == [expected]


@pytest.mark.parametrize(
    ("text", "year", "expected"),
    [
        ("từ ngày 01/10/2020 đến 07/10/2020", None, (D(2020, 10, 1), D(2020, 10, 7))),
        ("từ ngày 19/10/2022 đến ngày 26/10/2022:", None, (D(2022, 10, 19), D(2022, 10, 26))),
        ("(1-7/10/2019)", None, (D(2019, 10, 1), D(2019, 10, 7))),
        ("từ ngày 01 đến ngày 07/10/2021", None, (D(2021, 10, 1), D(2021, 10, 7))),
        ("từ 01/10 đến 07/10", 2021, (D(2021, 10, 1), D(2021, 10, 7))),
        ("19/10 – 26/10/2022", None, (D(2022, 10, 19), D(2022, 10, 26))),
        ("từ 19/10/2022 - 26/10/2022", None, (D(2022, 10, 19), D(2022, 10, 26))),
        (
            "từ ngày 02 tháng 10 năm 2023 đến ngày 08 tháng 10 năm 2023",
            None,
            (D(2023, 10, 2), D(2023, 10, 8)),
        ),
        ("từ 28/12 đến 03/01/2021", None, (D(2020, 12, 28), D(2021, 1, 3))),
    ],
)
def test_ranges_in_all_their_forms(text, year, expected):
    assert ranges(text, year) == [expected]
    assert dates(text, year) == []  # the ends of a range are not dates of their own


def test_a_yearless_range_without_a_year_in_context_is_no_range():
    assert ranges("từ 01/10 đến 07/10") == []


def test_a_yearless_date_needs_ngày_before_it():
    assert dates("ngày 02/10", 2023) == [D(2023, 10, 2)]
    assert dates("trang 1/5, tỉ lệ 3/4", 2023) == []


@pytest.mark.parametrize(
    "text", ["31/9/2021", "29/2/2021", "ngày 32 tháng 1 năm 2021", "13/13/2021", "Số 19H /KH"]
)
def test_what_is_not_a_date(text):
    assert dates(text, 2021) == [] and ranges(text, 2021) == []


def test_document_numbers_and_years_are_not_dates():
    text = "Quyết định số 89/QĐ-TTg giai đoạn 2012 - 2020, Kết luận 49-KL/TW, lớp/người"
    assert dates(text, 2020) == [] and ranges(text, 2020) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("từ 8h00 ngày 02/10/2023", [(T(8, 0), None)]),
        ("8h", [(T(8, 0), None)]),
        ("Lúc 8 giờ, ngày 01/10/2021", [(T(8, 0), None)]),
        ("lúc 8g00 ngày 19/10/2022", [(T(8, 0), None)]),
        ("lúc 8 giờ 30", [(T(8, 30), None)]),
        ("8 giờ 30 phút", [(T(8, 30), None)]),
        ("14:05", [(T(14, 5), None)]),
        ("7h30-8h00", [(T(7, 30), T(8, 0))]),
        ("từ 7h30 đến 9h30", [(T(7, 30), T(9, 30))]),
        ("8 giờ 01/10/2021", [(T(8, 0), None)]),  # the day after is not the minutes
    ],
)
def test_times(text, expected):
    assert times(text) == expected


@pytest.mark.parametrize(
    "text", ["25h00", "8h75", "02 người", "2 học sinh", "1,5 giờ", "năm 2020: chủ đề", "3 ha"]
)
def test_what_is_not_a_time(text):
    assert times(text) == []
