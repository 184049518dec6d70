"""A plan can arrive cut off or garbled (seed 003 ends mid-sentence): reading never fails, and a
cut never turns into a date the whole plan does not give."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.campaign.plan.extract import extract
from bot.campaign.plan.reading import normalize
from tests.plan.conftest import SEEDS, seed_text

CUTS = 40


@pytest.mark.parametrize("seed", SEEDS)
def test_a_plan_cut_anywhere_gives_a_part_of_what_the_whole_gives(seed):
    text = seed_text(seed)
    whole = extract(normalize(text.splitlines()))
    deadlines = {d.date for d in whole.deadlines}
    for end in range(0, len(text), len(text) // CUTS):
        cut = extract(normalize(text[:end].splitlines()))
        assert {d.date for d in cut.deadlines} <= deadlines, end
        assert cut.opening is None or cut.opening.date in (None, whole.opening.date), end
        assert (cut.week_start, cut.week_end) in ((None, None), (whole.week_start, whole.week_end))


FRAGMENTS = st.sampled_from(
    [
        "Tuần lễ năm 2021",
        "từ ngày 01/10",
        "đến ngày 07/10/2021",
        "trước ngày",
        "chậm nhất ngày 29/9/2021",
        "Lễ khai mạc",
        "lúc 8 giờ",
        "7h30-8h00",
        "Địa điểm:",
        "Thành phần:",
        "Chủ đề: “",
        "”",
        "Kính gửi:",
        "Căn cứ",
        "số 12/KH-UBND ngày",
        "1. ",
        "II. TỔ CHỨC THỰC HIỆN",
        "- ",
        "+ ",
        "a) ",
        "\t",
        ";",
        ". ",
        ":",
        "KHẨU HIỆU",
        "Chương trình Lễ:",
        "Đề nghị",
        "gửi báo cáo",
        "Hà Nội, ngày 15 tháng 9 năm 2020",
        "31/9/2021",
        "ngày 02 tháng 10 năm 2023",
    ]
)
LINES = st.lists(st.lists(FRAGMENTS | st.text(max_size=6), max_size=8).map(" ".join), max_size=25)


@given(LINES)
@settings(max_examples=300, deadline=None)
def test_any_text_reads_without_error(lines):
    plan = extract(normalize(lines))
    assert set(plan.as_json()) == {
        "theme",
        "week_start",
        "week_end",
        "opening",
        "deadlines",
        "slogans",
        "agenda",
    }
