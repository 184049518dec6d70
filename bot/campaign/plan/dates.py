"""Dates and times the way Vietnamese plans write them, found inside running text.

Dates: `01/10/2020`, `29/9/2021`, `ngày 02 tháng 10 năm 2023`, and yearless `01/10` whose year
comes from the other end of a range or from the campaign's year. Ranges: `từ ngày … đến ngày …`,
`01/10 - 07/10/2021`, `1-7/10/2019`, `từ ngày 01 đến ngày 07/10/2021`.
Times: `8h00`, `8h`, `8g00`, `8 giờ`, `8 giờ 30`, `08:00`; ranges `7h30-8h00`, `từ 7h30 đến 9h30`.

Every finding keeps its span in the text, so callers can read what stands before and after it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.campaign.model import parse_date, parse_time

# A yearless `d/m` is read as a date only inside a range or right after "ngày": elsewhere it is
# as likely a page number or a fraction.
_TOKEN = re.compile(
    r"ngày\s+(?P<wd>\d{1,2})\s+tháng\s+(?P<wm>\d{1,2})\s+năm\s+(?P<wy>\d{4})"
    r"|(?<![\d/.])(?P<d>\d{1,2})(?P<sep>[/.-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4})(?!\d)"
    r"|(?<![\d/.])(?P<yd>\d{1,2})/(?P<ym>\d{1,2})(?![\d/])",
    re.IGNORECASE,
)
_BETWEEN = re.compile(r"^\s*(?:-|–|—|đến|tới)\s*(?:hết\s+)?(?:ngày\s*)?$", re.IGNORECASE)
_DAY_BEFORE = re.compile(
    r"(?<![\d/.])(?P<day>\d{1,2})\s*(?:-|–|—|đến|tới)\s*(?:hết\s+)?(?:ngày\s*)?$", re.IGNORECASE
)
_FROM = re.compile(r"từ\s+(?:ngày\s*)?$", re.IGNORECASE)
_NGAY = re.compile(r"ngày\s*$", re.IGNORECASE)

_CLOCK = re.compile(
    r"(?<![\d.,/])(?P<h>\d{1,2})\s*(?:(?:h|g|giờ)(?:\s*(?P<m>\d{2})(?![\d/]))?|:(?P<m2>\d{2}))"
    r"(?:\s*phút)?(?![\w/])",
    re.IGNORECASE,
)
_CLOCK_BETWEEN = re.compile(r"^\s*(?:-|–|—|đến|tới)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class DateFound:
    start: int
    end: int
    date: dt.date


@dataclass(frozen=True)
class RangeFound:
    start: int
    end: int
    first: dt.date
    last: dt.date


@dataclass(frozen=True)
class TimeFound:
    start: int
    end: int
    first: dt.time
    last: dt.time | None = None  # the end of a range `7h30-8h00`


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    day: int
    month: int
    year: int | None


@dataclass(frozen=True)
class Scan:
    """The single dates and the ranges of one text; a date inside a range is only in `ranges`."""

    dates: list[DateFound]
    ranges: list[RangeFound]


def scan_dates(text: str, year: int | None = None) -> Scan:
    """Every date and date range in `text`; `year` completes yearless dates (None: drop them)."""
    tokens = [t for t in _tokens(text) if _valid(t)]
    dates: list[DateFound] = []
    ranges: list[RangeFound] = []
    used: set[int] = set()
    for index, token in enumerate(tokens):
        if index in used:
            continue
        after = tokens[index + 1] if index + 1 < len(tokens) else None
        joined = after is not None and _BETWEEN.match(text[token.end : after.start])
        if after is not None and joined and (found := _range(text, token, after, year)):
            ranges.append(found)
            used.update({index, index + 1})
            continue
        if day_range := _day_range(text, token, year):
            ranges.append(day_range)
            continue
        if token.year is None and not _NGAY.search(text[: token.start]):
            continue
        if (date := _date(token, token.year or year)) is not None:
            dates.append(DateFound(token.start, token.end, date))
    return Scan(dates, sorted(ranges, key=lambda r: r.start))


def scan_times(text: str) -> list[TimeFound]:
    """Every time of day and time range in `text` (`7h30-8h00` is one finding)."""
    clocks = [(m.start(), m.end(), t) for m in _CLOCK.finditer(text) if (t := _clock(m))]
    found: list[TimeFound] = []
    index = 0
    while index < len(clocks):
        start, end, first = clocks[index]
        if index + 1 < len(clocks) and _CLOCK_BETWEEN.match(text[end : clocks[index + 1][0]]):
            _, last_end, last = clocks[index + 1]
            found.append(TimeFound(start, last_end, first, last))
            index += 2
            continue
        found.append(TimeFound(start, end, first))
        index += 1
    return found


def _tokens(text: str) -> list[_Token]:
    tokens = []
    for m in _TOKEN.finditer(text):
        if m["wd"]:
            day, month, year = int(m["wd"]), int(m["wm"]), int(m["wy"])
        elif m["d"]:
            day, month, year = int(m["d"]), int(m["m"]), int(m["y"])
        else:
            day, month, year = int(m["yd"]), int(m["ym"]), None
        tokens.append(_Token(m.start(), m.end(), day, month, year))
    return tokens


def _valid(token: _Token) -> bool:
    return _date(token, token.year or 2000) is not None  # 2000: a leap year, so 29/2 may pass


def _date(token: _Token, year: int | None) -> dt.date | None:
    if year is None:
        return None
    try:
        return parse_date(f"{token.day}/{token.month}/{year}")
    except ValueError:
        return None


def _range(text: str, first: _Token, last: _Token, year: int | None) -> RangeFound | None:
    """`A - B`, `từ ngày A đến ngày B`: a yearless end takes the other end's year."""
    last_date = _date(last, last.year or first.year or year)
    first_date = _date(first, first.year or (last_date.year if last_date else year))
    if first_date is None or last_date is None:
        return None
    if first_date > last_date and first.year is None:  # 28/12 - 03/01/2021 crosses a new year
        first_date = _date(first, last_date.year - 1)
    if first_date is None or first_date > last_date:
        return None
    start = first.start
    if prefix := _FROM.search(text[: first.start]):
        start = prefix.start()
    return RangeFound(start, last.end, first_date, last_date)


def _day_range(text: str, token: _Token, year: int | None) -> RangeFound | None:
    """`1-7/10/2019`, `từ ngày 01 đến ngày 07/10/2021`: the first end is a bare day."""
    match = _DAY_BEFORE.search(text[: token.start])
    if match is None:
        return None
    last = _date(token, token.year or year)
    if last is None:
        return None
    try:
        first = last.replace(day=int(match["day"]))
    except ValueError:
        return None
    if first > last:
        return None
    start = match.start()
    if prefix := _FROM.search(text[:start]):
        start = prefix.start()
    return RangeFound(start, token.end, first, last)


def _clock(match: re.Match[str]) -> dt.time | None:
    minutes = match["m"] or match["m2"] or "00"
    try:
        return parse_time(f"{match['h']}h{minutes}")
    except ValueError:
        return None
