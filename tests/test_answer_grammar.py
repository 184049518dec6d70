"""The answer grammar: figures as staff type them, read for each kind of form row."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.campaign.model import AnswerKind, FormRow
from bot.stats.grammar import (
    MAX_COUNT,
    MAX_MONEY,
    MAX_TEXT,
    Accepted,
    Rejected,
    items,
    printable,
    read,
    show,
)

COUNT = FormRow(code="1", label="Các lớp bồi dưỡng", unit="lớp", answer=AnswerKind.COUNT)
PAIR = FormRow(code="1.2", label="Bồi dưỡng", unit="lớp/người", answer=AnswerKind.PAIR)
CONTESTS = FormRow(code="5.3", label="Thi tìm hiểu", unit="Số cuộc/người", answer=AnswerKind.PAIR)
DONORS = FormRow(code="4.1", label="Tặng sách", unit="Tập thể/cá nhân", answer=AnswerKind.PAIR)
MONEY = FormRow(code="10.1", label="Ngân sách nhà nước", unit="đồng", answer=AnswerKind.MONEY)
TEXT = FormRow(code="11", label="Các nội dung khác", answer=AnswerKind.TEXT)
ROWS = [COUNT, PAIR, CONTESTS, DONORS, MONEY, TEXT]


@pytest.mark.parametrize(
    ("row", "text", "value"),
    [
        (COUNT, "12", (12,)),
        (COUNT, "0", (0,)),
        (COUNT, "không", (0,)),
        (COUNT, "Không có", (0,)),
        (COUNT, "12 lớp", (12,)),
        (COUNT, "12.", (12,)),
        (COUNT, "1.500", (1500,)),
        (COUNT, "1,500", (1500,)),
        (COUNT, "2 nghìn", (2000,)),
        (PAIR, "3/120", (3, 120)),
        (PAIR, "3 / 120", (3, 120)),
        (PAIR, "3 lớp, 120 người", (3, 120)),
        (PAIR, "12 lớp, 340 người", (12, 340)),
        (PAIR, "3 lớp 120 người", (3, 120)),
        (PAIR, "3 lớp và 120 người", (3, 120)),
        (PAIR, "120 người, 3 lớp", (3, 120)),  # the units say which is which
        (PAIR, "3 120", (3, 120)),
        (PAIR, "3-120", (3, 120)),
        (PAIR, "không", (0, 0)),
        (PAIR, "0", (0, 0)),
        (PAIR, "2/1.500", (2, 1500)),
        (CONTESTS, "2 cuộc, 40 người", (2, 40)),
        (DONORS, "5 cá nhân, 2 tập thể", (2, 5)),
        (MONEY, "1.500.000", (1_500_000,)),
        (MONEY, "1.500.000 đồng", (1_500_000,)),
        (MONEY, "1.500.000đ", (1_500_000,)),
        (MONEY, "1,500,000 VNĐ", (1_500_000,)),
        (MONEY, "2 triệu", (2_000_000,)),
        (MONEY, "2,5 triệu", (2_500_000,)),
        (MONEY, "2 triệu 500 nghìn", (2_500_000,)),
        (MONEY, "2 triệu 500", (2_500_000,)),
        (MONEY, "1tr5", (1_500_000,)),
        (MONEY, "500k", (500_000,)),
        (MONEY, "không", (0,)),
        (TEXT, "  Ngày hội đọc sách\nở 3 xã ", "Ngày hội đọc sách ở 3 xã"),
    ],
)
def test_accepts_the_ways_people_write(row: FormRow, text: str, value: object) -> None:
    assert read(text, row) == Accepted(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("row", "text", "reason"),
    [
        (COUNT, "", "empty"),
        (COUNT, "   ", "empty"),
        (COUNT, "-3", "negative"),
        (COUNT, "âm 3", "negative"),
        (PAIR, "3/-120", "negative"),
        (COUNT, "2,5", "fraction"),
        (COUNT, "1.5", "fraction"),
        (MONEY, "1.500,5", "not_a_number"),
        (MONEY, "1,5", "fraction"),
        (COUNT, "abc", "not_a_number"),
        (COUNT, "mười hai", "not_a_number"),
        (COUNT, "khoảng 12", "not_a_number"),
        (COUNT, ".5", "not_a_number"),
        (COUNT, "12 con mèo", "not_a_number"),
        (COUNT, "3/120", "one_number"),
        (COUNT, "3 lớp, 120 người", "one_number"),
        (COUNT, "3 5", "one_number"),
        (PAIR, "3", "pair_half"),
        (PAIR, "3 lớp", "pair_half"),
        (PAIR, "1/2/3", "pair_too_many"),
        (COUNT, str(MAX_COUNT + 1), "too_large"),
        (COUNT, "9" * 5000, "not_a_number"),  # pasted junk, never int() of a huge string
        (COUNT, "9" * 40, "too_large"),
        (MONEY, "2000 tỷ", "too_large"),
        (TEXT, "", "empty"),
        (TEXT, "x" * (MAX_TEXT + 1), "too_long"),
    ],
)
def test_rejects_with_a_reason(row: FormRow, text: str, reason: str) -> None:
    assert read(text, row) == Rejected(reason)


@pytest.mark.parametrize(
    ("row", "text", "why"),
    [
        (COUNT, "20000", "count_large"),
        (PAIR, "3/2", "pair_more_groups"),
        (PAIR, "0/120", "pair_one_zero"),
        (PAIR, "3/0", "pair_one_zero"),
        (PAIR, "800/1000", "count_large"),
        (MONEY, "500", "money_small"),
        (MONEY, "5 tỷ", "money_large"),
    ],
)
def test_unusual_values_are_kept_but_flagged(row: FormRow, text: str, why: str) -> None:
    reading = read(text, row)
    assert isinstance(reading, Accepted) and reading.unusual == why


def test_items_finds_codes_only_where_a_code_can_be() -> None:
    text = "1.2: 3 lớp, 120 người, 1.3: 0\n2 = 5\nMục 10.1: 1.500.000 đồng; 11: Ngày hội"
    assert items(text) == [
        ("1.2", "3 lớp, 120 người"),
        ("1.3", "0"),
        ("2", "5"),
        ("10.1", "1.500.000 đồng"),
        ("11", "Ngày hội"),
    ]
    assert items("3 lớp, 120 người") == []
    assert items("12") == []


def test_show_writes_the_vietnamese_way() -> None:
    assert show((1500,), COUNT) == "1.500"
    assert show((3, 120), PAIR) == "3 lớp, 120 người"
    assert show((2, 40), CONTESTS) == "2 cuộc, 40 người"
    assert show((1_500_000,), MONEY) == "1.500.000 đồng"
    assert show("Ngày hội", TEXT) == "Ngày hội"


@given(st.text(max_size=300), st.sampled_from(ROWS))
def test_never_raises(text: str, row: FormRow) -> None:
    assert isinstance(read(text, row), Accepted | Rejected)


_FIGURE_ALPHABET = st.sampled_from(
    [*list("0123456789.,/- "), "lớp", "người", "triệu", "k", "đ", "tr", "không", "và", ";"]
)


@given(st.lists(_FIGURE_ALPHABET, max_size=12).map("".join), st.sampled_from(ROWS))
def test_never_raises_on_figure_like_text(text: str, row: FormRow) -> None:
    reading = read(text, row)
    if isinstance(reading, Accepted) and row.answer is not AnswerKind.TEXT:
        assert all(n >= 0 for n in reading.value)


@given(st.integers(0, MAX_COUNT), st.sampled_from([COUNT]))
def test_counts_round_trip(number: int, row: FormRow) -> None:
    assert read(show((number,), row), row).value == (number,)  # type: ignore[union-attr]


@given(
    st.integers(0, MAX_COUNT), st.integers(0, MAX_COUNT), st.sampled_from([PAIR, CONTESTS, DONORS])
)
def test_pairs_round_trip(first: int, second: int, row: FormRow) -> None:
    assert read(show((first, second), row), row).value == (first, second)  # type: ignore[union-attr]


@given(st.integers(0, MAX_MONEY))
def test_money_round_trips(amount: int) -> None:
    assert read(show((amount,), MONEY), MONEY).value == (amount,)  # type: ignore[union-attr]


@given(
    st.text(min_size=1, max_size=MAX_TEXT)
    .map(lambda t: " ".join(printable(unicodedata.normalize("NFC", t)).split()))
    .filter(bool)
)
def test_text_round_trips(text: str) -> None:
    assert read(show(text, TEXT), TEXT) == Accepted(text)


def test_text_answers_lose_characters_no_document_can_hold():
    assert read("Ngày hội\x08 đọc\x00 sách\x1b", TEXT) == Accepted("Ngày hội đọc sách")
    assert read("\x01\x02", TEXT) == Rejected("empty")


def test_printable_removes_exactly_controls_surrogates_and_the_two_non_characters():
    every = "".join(chr(point) for point in range(0x110000))
    kept = "".join(
        ch
        for ch in every
        if ch in "\n\t"
        or (unicodedata.category(ch) not in ("Cc", "Cs") and ch not in "\ufffe\uffff")
    )
    assert printable(every) == kept
    assert printable("Số\x00 lớp\t12\n\x85\ud800\uffff") == "Số lớp\t12\n"
