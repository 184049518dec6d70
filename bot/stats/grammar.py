"""Figures as staff type them for a row of the statistics form: `12`, `không`, `3/120`,
`3 lớp, 120 người`, `1.500.000 đồng`, `2 triệu`, `1tr5`.

`read(text, row)` never raises. It gives `Accepted` (the value, and why to ask for confirmation
when the value is merely unusual) or `Rejected` (why, as a key the reply template words).
`show(value, row)` writes a value back so that `read` gives the same value. `items(text, codes)`
finds `MÃ: GIÁ TRỊ` pairs in a message.

Values are plain data, stored as they are: `(n,)` for a count or an amount of money, `(a, b)` for
a pair such as classes and people, a `str` for a free-text row.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bot.campaign.model import AnswerKind, FormRow

Value = tuple[int, ...] | str

MAX_COUNT = 1_000_000  # more than any one school or ward could count: surely a typo
MAX_MONEY = 1_000_000_000_000  # a thousand billion đồng
MAX_TEXT = 1000  # characters of a free-text answer
UNUSUAL_COUNT = 10_000  # accepted after a confirmation
UNUSUAL_GROUPS = 500  # classes, contests… in one unit
UNUSUAL_MONEY = 1_000_000_000
SMALL_MONEY = 1_000  # below a thousand đồng: a forgotten "nghìn" or "triệu"
_LONGEST = 200  # characters: a figure is never longer; beyond is text pasted by mistake


@dataclass(frozen=True)
class Accepted:
    value: Value
    unusual: str | None = None  # why the figure deserves a second look, or None


@dataclass(frozen=True)
class Rejected:
    reason: str  # a key of messages/replies/answer_rejected.txt.j2


Reading = Accepted | Rejected

_ZERO = {"không", "ko", "khong", "không có", "chưa có", "không tổ chức"}
_MULTIPLIERS = {
    "tỷ": 10**9,
    "tỉ": 10**9,
    "triệu": 10**6,
    "tr": 10**6,
    "nghìn": 10**3,
    "ngàn": 10**3,
    "k": 10**3,
}
_CURRENCY = {"đồng", "đ", "vnđ", "vnd", "₫"}
_GENERIC_UNITS = frozenset(
    re.findall(
        r"\w+",
        "lớp người cuộc buổi lượt tin bài quyển cuốn tờ bản tập thể cá nhân đơn vị trường trung "
        "tâm huyện xã số học sinh viên giáo em cháu hội thi ấn phẩm",
    )
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_GROUPED = re.compile(r"[1-9]\d{0,2}(?:(?P<sep>[.,])\d{3})(?:(?P=sep)\d{3})*")
_DECIMAL = re.compile(r"\d+[.,]\d+")
_NEGATIVE = re.compile(r"(?:^|[^\w.,])[-−–]\s*\d|\bâm\b")  # `3-120` is a pair, not -120
_WORD = re.compile(r"[^\W\d_]+|₫")
# Between two figures; a comma inside digits (`1,500`) is part of the number.
_SEPARATOR = re.compile(r"\s*(?:/|;|\+|&|\bvà\b|(?<!\d),|,(?!\d)|(?<=\d)\s*[-–]\s*(?=\d))\s*")


def read(text: str, row: FormRow) -> Reading:
    """What `text` says for `row`; the reason when it says nothing usable."""
    kind = row.answer or AnswerKind.COUNT
    if kind is AnswerKind.TEXT:
        return _read_text(text)
    clean = _normalise(text)
    if not clean:
        return Rejected("empty")
    if len(clean) > _LONGEST:
        return Rejected("not_a_number")
    if _NEGATIVE.search(clean):
        return Rejected("negative")
    if kind is AnswerKind.PAIR:
        return _read_pair(clean, row)
    return _read_single(clean, row, money=kind is AnswerKind.MONEY)


def show(value: Value, row: FormRow) -> str:
    """The value as a reply would write it: `1.500`, `3 lớp, 120 người`, `2.000.000 đồng`."""
    if isinstance(value, str):
        return value
    if row.answer is AnswerKind.PAIR and len(value) == 2:
        first, second = part_names(row)
        return f"{grouped(value[0])} {first}, {grouped(value[1])} {second}"
    if row.answer is AnswerKind.MONEY:
        return f"{grouped(value[0])} đồng"
    return grouped(value[0])


def grouped(number: int) -> str:
    """`1500000` -> `1.500.000`, the Vietnamese way."""
    return f"{number:,}".replace(",", ".")


# -- `MÃ: GIÁ TRỊ` lines --------------------------------------------------------------------------

_ITEM = re.compile(
    r"(?:^|(?<=[\n;,]))[^\S\n]*(?:mục[^\S\n]*)?(\d{1,2}(?:\.\d{1,2})*)[^\S\n]*[:=]", re.IGNORECASE
)


def items(text: str) -> list[tuple[str, str]]:
    """`1.2: 3/120, 1.3: 0` -> [("1.2", "3/120"), ("1.3", "0")]; [] when no line has a code.

    A code starts a line (or follows `,` `;`) and is followed by `:` or `=`, so figures such as
    `3 lớp, 120 người` or `1.500.000` are never taken for codes.
    """
    marks = list(_ITEM.finditer(text))
    if not marks:
        return []
    found = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        end = following.start() if following else len(text)
        value = text[mark.end() : end].strip().rstrip(",;").strip()
        found.append((mark.group(1), value))
    return found


# -- the kinds ------------------------------------------------------------------------------------


# What `printable` removes: Unicode's control characters (category Cc: U+0000-001F, U+007F-009F)
# but tab and newline, surrogates (Cs) and the non-characters U+FFFE, U+FFFF. One expression,
# not a test per character: an export of a province calls it for a million characters.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    """`text` without control characters and non-characters, which no document may hold."""
    return _UNPRINTABLE.sub("", text)


def _read_text(text: str) -> Reading:
    clean = " ".join(printable(unicodedata.normalize("NFC", text)).split())
    if not clean:
        return Rejected("empty")
    if len(clean) > MAX_TEXT:
        return Rejected("too_long")
    return Accepted(clean)


def _read_single(text: str, row: FormRow, money: bool) -> Reading:
    if text in _ZERO:
        return Accepted((0,))
    terms = _SEPARATOR.split(text)
    if len(terms) > 1 or (len(_NUMBER.findall(text)) > 1 and not _compound(text)):
        return Rejected("one_number")
    words = _vocabulary(row) | _CURRENCY if money else _vocabulary(row)
    amount = _amount(text, words)
    if isinstance(amount, Rejected):
        return amount
    limit, unusual = (MAX_MONEY, None) if money else (MAX_COUNT, None)
    if amount > limit:
        return Rejected("too_large")
    if money and (amount > UNUSUAL_MONEY or 0 < amount < SMALL_MONEY):
        unusual = "money_large" if amount > UNUSUAL_MONEY else "money_small"
    elif not money and amount > UNUSUAL_COUNT:
        unusual = "count_large"
    return Accepted((amount,), unusual)


def _read_pair(text: str, row: FormRow) -> Reading:
    if text in _ZERO or text == "0":
        return Accepted((0, 0))
    terms = [term for term in _SEPARATOR.split(text) if term]
    if len(terms) == 1:  # `3 lớp 120 người`, `3 120`: figures apart by spaces only
        terms = [t for t in re.split(r"(?<=\S)\s+(?=\d)", terms[0]) if t]
    if len(terms) < 2:
        return Rejected("pair_half")
    if len(terms) > 2:
        return Rejected("pair_too_many")
    words = _vocabulary(row)
    amounts = []
    for term in terms:
        if term in _ZERO:
            amounts.append(0)
            continue
        amount = _amount(term, words)
        if isinstance(amount, Rejected):
            return amount
        if amount > MAX_COUNT:
            return Rejected("too_large")
        amounts.append(amount)
    first, second = _in_order(terms, amounts, row)
    if first > UNUSUAL_GROUPS or second > UNUSUAL_COUNT:
        return Accepted((first, second), "count_large")
    if first > second > 0:
        return Accepted((first, second), "pair_more_groups")
    if (first == 0) != (second == 0):
        return Accepted((first, second), "pair_one_zero")
    return Accepted((first, second))


def _in_order(terms: list[str], amounts: list[int], row: FormRow) -> tuple[int, int]:
    """As written, unless the units say otherwise: `120 người, 3 lớp` is 3 classes, 120 people."""
    first_name, second_name = part_names(row)
    if _names(terms[0], second_name) and not _names(terms[1], second_name):
        return amounts[1], amounts[0]
    if _names(terms[1], first_name) and not _names(terms[0], first_name):
        return amounts[1], amounts[0]
    return amounts[0], amounts[1]


def _names(term: str, part: str) -> bool:
    words = _WORD.findall(term)
    return bool(part and words) and " ".join(words).endswith(part)


# -- amounts --------------------------------------------------------------------------------------

_TERM = re.compile(r"(\d+(?:[.,]\d+)*)\s*([^\W\d_]+(?:\s+[^\W\d_]+)*|₫)?")


def _amount(text: str, words: frozenset[str]) -> int | Rejected:
    """`1.500.000 đồng`, `2 triệu`, `2,5 triệu`, `2 triệu 500 nghìn`, `1tr5`, `12 lớp`."""
    matches = list(_TERM.finditer(text))
    if not matches:
        return Rejected("not_a_number")
    if text[: matches[0].start()].strip(" :=") or _leftover(text, matches):
        return Rejected("not_a_number")  # words before the figure, or stray marks
    total = Decimal(0)
    scale: int | None = None  # the multiplier of the previous term: they must go down
    for index, match in enumerate(matches):
        number = _number(match.group(1))
        if number is None:
            return Rejected("not_a_number")
        tail = (match.group(2) or "").split()
        multiplier = 1
        if tail and tail[0] in _MULTIPLIERS:
            multiplier, tail = _MULTIPLIERS[tail[0]], tail[1:]
        if any(word not in words for word in tail):
            return Rejected("not_a_number")
        if index:
            if scale is None or scale == 1:  # two plain figures
                return Rejected("one_number")
            if multiplier == 1:  # `2 triệu 500`, `1tr5`: a part of the previous unit
                digits = match.group(1)
                if len(digits) not in (1, 3) or not digits.isdigit():
                    return Rejected("not_a_number")
                multiplier = scale // 10 ** len(digits)
            elif multiplier >= scale:
                return Rejected("one_number")
        total += number * multiplier
        scale = multiplier
    if total != total.to_integral_value():
        return Rejected("fraction")
    return int(total)


def _compound(text: str) -> bool:
    """Several numbers that still make one amount: `2 triệu 500 nghìn`, `1tr5`."""
    return any(word in _MULTIPLIERS for word in _WORD.findall(text))


def _leftover(text: str, matches: list[re.Match[str]]) -> bool:
    """Anything but spaces and an end mark between and after the terms."""
    gaps = [text[a.end() : b.start()] for a, b in itertools.pairwise(matches)]
    gaps.append(text[matches[-1].end() :])
    return any(gap.strip(" .!") for gap in gaps)


def _number(digits: str) -> Decimal | None:
    """`1.500` and `1,500` are thousands; `2,5` and `2.5` are fractions; `1.2.3,4` is nothing."""
    if len(digits) > 20:
        return Decimal(10**20)  # far beyond any limit, without building a huge integer
    if _GROUPED.fullmatch(digits):
        return Decimal(re.sub(r"[.,]", "", digits))
    if digits.isdigit():
        return Decimal(digits)
    if _DECIMAL.fullmatch(digits):
        try:
            return Decimal(digits.replace(",", "."))
        except InvalidOperation:
            return None
    return None


# -- words ----------------------------------------------------------------------------------------


def _normalise(text: str) -> str:
    text = " ".join(unicodedata.normalize("NFC", text).lower().split())
    return text.strip("\"'“”").rstrip(" .!").strip()


def _vocabulary(row: FormRow) -> frozenset[str]:
    """Words that may follow a figure for this row: its printed unit's and the usual ones."""
    return _unit_words(row.unit or "")


@functools.lru_cache(maxsize=256)  # a form has a few dozen rows, asked about all day
def _unit_words(unit: str) -> frozenset[str]:
    return frozenset(_WORD.findall(unit.lower())) | _GENERIC_UNITS


def part_names(row: FormRow) -> tuple[str, str]:
    """`Số cuộc/người` -> ("cuộc", "người"): what each number of a pair counts."""
    parts = [re.sub(r"^số\s+", "", part.lower()).strip() for part in row.parts()]
    if len(parts) != 2:
        return "", ""
    return parts[0], parts[1]
