"""The opening ceremony (Lễ khai mạc / Lễ phát động): its date, time, place, who attends, and
its agenda, a timed table or an untimed list.

The ceremony is described where the plan names it and in the part that name heads ("2. Tổ chức
Lễ khai mạc" with "2.2. Thời gian: ..." under it). Its date is the first one found there that is
not a decoy and falls in (or just before) the week; its time is the one written next to it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from bot.campaign.plan.dates import DateFound, RangeFound, Scan, scan_dates, scan_times
from bot.campaign.plan.decoys import is_decoy, off_year
from bot.campaign.plan.fields import AgendaRow, Opening
from bot.campaign.plan.outline import Line, clause_at, items_after, part, split_items, tidy

EARLY = dt.timedelta(days=7)  # a ceremony may come a little before the week, never long before

_NAMED = re.compile(r"khai mạc|lễ phát động", re.IGNORECASE)
_LABEL = re.compile(r"^(?P<label>[^:]{2,40}):\s*(?P<value>.*)$")
_TIME_BEFORE_DATE = re.compile(r"^[\s,]*(?:vào\s+)?(?:ngày\s*)?$", re.IGNORECASE)
_TIME_AFTER_DATE = re.compile(
    r"^\s*(?:\([^)]*\))?\s*[,;]?\s*(?:vào\s+)?(?:lúc|từ|bắt đầu)?\s*$", re.IGNORECASE
)
_PLACE_AFTER = re.compile(r"^\s*(?:\([^)]*\))?\s*,?\s*tại\s+(?P<place>.+)", re.IGNORECASE)
_JOINED = re.compile(r"(?:với|có) sự tham gia của\s+(?P<who>.+)$", re.IGNORECASE)


def opening(
    lines: list[Line], scans: list[Scan], week: RangeFound | None, year: int | None
) -> Opening | None:
    """The ceremony, if the plan names one; its date None when the plan does not date it."""
    context = _ceremony_lines(lines)
    if not context:
        return None
    candidates = list(_dates(context, scans, week, year))
    date = candidates[0][1].date if candidates else None
    time = place = None
    for line, found in candidates:
        if found.date == date:
            time = time or _time_next_to(line.text, found)
            place = place or _place_after(line.text, found)
    return Opening(
        date=date,
        time=time or _labelled_time(context),
        place=_labelled(context, "địa điểm") or place,
        online=any(_online(line.body) for line in context),
        participants=_participants(lines, context),
    )


def _ceremony_lines(lines: list[Line]) -> list[Line]:
    """Lines naming the ceremony, each with the part it heads, in document order."""
    chosen: dict[int, Line] = {}
    for line in lines:
        if line.is_row or not _NAMED.search(line.body):
            continue
        for member in part(lines, line.index):
            chosen.setdefault(member.index, member)
    return [chosen[index] for index in sorted(chosen)]


def _dates(
    context: list[Line], scans: list[Scan], week: RangeFound | None, year: int | None
) -> Iterator[tuple[Line, DateFound]]:
    for line in context:
        named = _NAMED.search(line.text)
        for found in scans[line.index].dates:
            if named and found.start < named.start():
                continue  # "họp ngày 25/9 chuẩn bị Lễ khai mạc": not the ceremony's date
            if is_decoy(line.text, found.start) or off_year(found.date, year):
                continue
            if week and not week.first - EARLY <= found.date <= week.last:
                continue
            yield line, found


def _time_next_to(text: str, found: DateFound) -> dt.time | None:
    """The time written right before or right after a date: "lúc 8g00 ngày 19/10/2022"."""
    for clock in scan_times(text):
        if clock.end <= found.start and _TIME_BEFORE_DATE.match(text[clock.end : found.start]):
            return clock.first
        if clock.start >= found.end and _TIME_AFTER_DATE.match(text[found.end : clock.start]):
            return clock.first
    return None


def _labelled_time(context: list[Line]) -> dt.time | None:
    """The time of a "Thời gian: 8h00" line that names no date of its own."""
    value = _labelled(context, "thời gian")
    if value is None:
        return None
    scan = scan_dates(value)
    clocks = scan_times(value)
    return clocks[0].first if clocks and not (scan.dates or scan.ranges) else None


def _labelled(context: list[Line], label: str) -> str | None:
    """The value of the first "Địa điểm: ..."-style line."""
    for line in context:
        match = _LABEL.match(line.body)
        if match and match["label"].strip().lower().startswith(label) and match["value"]:
            return tidy(match["value"])
    return None


def _place_after(text: str, found: DateFound) -> str | None:
    """The place after a date: `ngày 19/10/2022 tại trường THCS ...`, to the clause's end."""
    _, end = clause_at(text, found.start)
    rest = text[found.end : end]
    clocks = [c for c in scan_times(rest) if _TIME_AFTER_DATE.match(rest[: c.start])]
    if clocks:
        rest = rest[clocks[0].end :]
    match = _PLACE_AFTER.match(rest)
    return tidy(match["place"]) if match else None


def _online(text: str) -> bool:
    lowered = text.lower()
    return "trực tuyến" in lowered and "trực tiếp" not in lowered


def _participants(lines: list[Line], context: list[Line]) -> tuple[str, ...]:
    """From `Thành phần: a; b` or the items under it, else `với sự tham gia của a; b`."""
    for line in context:
        match = _LABEL.match(line.body)
        if match and match["label"].lower().startswith("thành phần"):
            if match["value"]:
                return split_items(match["value"])
            return tuple(tidy(item.body) for item in items_after(lines, line))
    for line in context:
        if match := _JOINED.search(line.body):
            return split_items(match["who"])
    return ()


# --- the agenda ----------------------------------------------------------------------------

_PROGRAMME = re.compile(r"^(?:nội dung\s+)?(?:chương trình|kịch bản|trình tự)\b", re.IGNORECASE)
_OCCASION = re.compile(r"\blễ\b|khai mạc|phát động|buổi", re.IGNORECASE)
_AFTER_TIME = re.compile(r"^\s*[:.\-–]?\s*")
MIN_TIMED_ROWS = 2  # fewer timed rows than this: a table of something else


def agenda(lines: list[Line]) -> tuple[AgendaRow, ...]:
    """The first timed agenda table, else the untimed list under "Chương trình Lễ"."""
    for table in _tables(lines):
        if rows := _agenda_table(table):
            return rows
    for line in lines:
        body = line.body
        if _PROGRAMME.match(body) and _OCCASION.search(body) and len(body.split()) <= 15:
            items = items_after(lines, line)
            if len(items) >= 2:
                return tuple(_agenda_item(item.body) for item in items)
    return ()


def _tables(lines: list[Line]) -> Iterator[list[Line]]:
    """Runs of consecutive table rows."""
    table: list[Line] = []
    for line in lines:
        if line.is_row:
            table.append(line)
            continue
        if table:
            yield table
        table = []
    if table:
        yield table


def _agenda_table(table: list[Line]) -> tuple[AgendaRow, ...]:
    """A table whose header has a time column and a content column; who does it if given."""
    header = [cell.lower() for cell in table[0].cells()]
    when = _column(header, ("thời gian", "giờ"))
    what = _column(header, ("nội dung", "hoạt động", "chương trình"))
    who = _column(header, ("thực hiện", "phụ trách", "chủ trì", "trình bày"))
    if when is None or what is None or when == what:
        return ()
    rows: list[AgendaRow] = []
    for line in table[1:]:
        cells = line.cells() + [""] * len(header)
        item = tidy(cells[what])
        if not item:
            continue
        clocks = scan_times(cells[when])
        start, end = (clocks[0].first, clocks[0].last) if clocks else (None, None)
        by = tidy(cells[who]) if who not in (None, when, what) else ""
        rows.append(AgendaRow(item, start, end, by or None))
    timed = sum(row.start is not None for row in rows)
    return tuple(rows) if timed >= MIN_TIMED_ROWS else ()


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    return next((i for i, cell in enumerate(header) if any(n in cell for n in names)), None)


def _agenda_item(text: str) -> AgendaRow:
    """An agenda line, timed if it starts with a time: "8h00-8h15: Văn nghệ chào mừng"."""
    clocks = scan_times(text)
    if clocks and clocks[0].start == 0:
        rest = _AFTER_TIME.sub("", text[clocks[0].end :])
        return AgendaRow(tidy(rest), clocks[0].first, clocks[0].last)
    return AgendaRow(tidy(text))
