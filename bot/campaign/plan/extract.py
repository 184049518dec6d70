"""What a plan document says about its week, read from its lines into a `PlanDraft`.

Each field has its own small reader. When a reader is unsure it leaves the field empty: a
coordinator fills in a blank easily, but a wrong date sends every reminder on the wrong day.
The ceremony and its agenda are read in `ceremony.py`, the deadlines in `deadlines.py`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

from bot.campaign.plan import ceremony
from bot.campaign.plan.dates import RangeFound, Scan, scan_dates
from bot.campaign.plan.deadlines import deadlines
from bot.campaign.plan.decoys import DATE_LINE, is_decoy, off_year
from bot.campaign.plan.fields import PlanDraft
from bot.campaign.plan.outline import TITLE, Line, items_after, outline, tidy

MAX_WEEK_DAYS = 31
HEADER_LINES = 8  # the letterhead: issuer, motto, number, date


def extract(texts: list[str]) -> PlanDraft:
    """Read a plan's lines (as `reading.read_lines` gives them) into a draft."""
    lines = outline(texts)
    year = _campaign_year(texts)
    scans = [scan_dates(line.text, year) for line in lines]
    theme, suggested = _theme(lines)
    week = _week(lines, scans, year)
    place, issued = _date_line(lines)
    return PlanDraft(
        theme=theme,
        suggested_themes=suggested,
        week_start=week.first if week else None,
        week_end=week.last if week else None,
        opening=ceremony.opening(lines, scans, week, year),
        deadlines=deadlines(lines, scans, week, year),
        slogans=_slogans(lines),
        agenda=ceremony.agenda(lines),
        issuer=_issuer(lines, place),
        document=_document(lines),
        issued=issued,
        year=year or (week.first.year if week else None),
    )


_WEEK_YEAR = re.compile(r"tuần lễ[^.;\d]{0,80}?năm\s+(\d{4})", re.IGNORECASE)


def _campaign_year(texts: list[str]) -> int | None:
    """The year the plan's title names ("Tuần lễ hưởng ứng học tập suốt đời năm 2021")."""
    years = Counter(int(m[1]) for text in texts for m in _WEEK_YEAR.finditer(text))
    return years.most_common(1)[0][0] if years else None


# --- theme ---------------------------------------------------------------------------------

_THEME_QUOTED = re.compile(
    r"chủ đề[^“”\"\n,;.]{0,40}?\s*[“\"]\s*(?P<theme>[^“”\"]{3,}?)\s*[”\"]", re.IGNORECASE
)
_THEME_LABEL = re.compile(r"^chủ đề\b[^:]{0,40}:\s*(?P<theme>\S.{2,})$", re.IGNORECASE)
_SUGGESTED = re.compile(r"\b(?:gợi ý|đề xuất|lựa chọn|tham khảo)\b", re.IGNORECASE)


def _theme(lines: list[Line]) -> tuple[str | None, tuple[str, ...]]:
    """The theme; None with the suggestions when the plan only suggests some."""
    for line in lines:
        if line.is_row or "chủ đề" not in line.body.lower():
            continue
        if _SUGGESTED.search(line.body):
            return None, tuple(tidy(item.body) for item in items_after(lines, line))
        if match := _THEME_QUOTED.search(line.body) or _THEME_LABEL.match(line.body):
            return tidy(match["theme"]), ()
    return None, ()


# --- the week ------------------------------------------------------------------------------


def _week(lines: list[Line], scans: list[Scan], year: int | None) -> RangeFound | None:
    """The first range of days on a line about the week or its timing."""
    for line, scan in zip(lines, scans, strict=True):
        lowered = line.text.lower()
        if "tuần lễ" not in lowered and "thời gian" not in lowered:
            continue
        for found in scan.ranges:
            days = (found.last - found.first).days + 1
            if (
                2 <= days <= MAX_WEEK_DAYS
                and not off_year(found.first, year)
                and not is_decoy(line.text, found.start)
            ):
                return found
    return None


# --- the letterhead ------------------------------------------------------------------------

_NUMBER_LINE = re.compile(r"^Số\s*:", re.IGNORECASE)
_NUMBER = re.compile(r"^Số\s*:\s*(?P<number>\S*\d\S*)\s*(?P<rest>/\S+)", re.IGNORECASE)


def _date_line(lines: list[Line]) -> tuple[str | None, dt.date | None]:
    """The place and date of the document's date line ("Quận 12, ngày 27 tháng 9 năm 2021")."""
    for cell in (cell for line in lines for cell in line.cells()):
        if match := DATE_LINE.match(cell):
            found = scan_dates(cell).dates
            return match["place"].strip(" .…"), found[0].date if found else None
    return None, None


def _document(lines: list[Line]) -> str | None:
    """The plan's number (`Số: 6040/KH-UBND-GDDT`); None when left blank (`Số: /GD&ĐT`)."""
    for cell in (cell for line in lines for cell in line.cells()):
        if _NUMBER_LINE.match(cell):
            match = _NUMBER.match(cell)
            return match["number"] + match["rest"] if match else None
    return None


_ORG = re.compile(
    r"\b(?:Ủy ban nhân dân|Uỷ ban nhân dân|UBND|Phòng Giáo dục và Đào tạo|Phòng GD&ĐT|"
    r"Phòng GDĐT|Sở Giáo dục và Đào tạo|Sở GD&ĐT|Sở GDĐT)(?:\s*\([^)]{1,12}\))?"
    r"(?:\s+(?P<level>tỉnh|thành phố|huyện|quận|thị xã|xã|phường|thị trấn))?"
)
_ISSUES = re.compile(r"\s+(?:xây dựng|ban hành|hướng dẫn|yêu cầu)\b")
_LETTERHEAD = re.compile(r"^(?:ỦY BAN|UỶ BAN|UBND|PHÒNG|SỞ|BỘ|TRƯỜNG|TRUNG TÂM|HỘI|BAN)\b")


def _issuer(lines: list[Line], place: str | None) -> str | None:
    """Who issues the plan: the sentence where it says so ("UBND huyện Gia Lâm xây dựng kế
    hoạch"), completed with the date line's place; else the letterhead's last body."""
    for line in lines:
        for match in _ORG.finditer(line.body):
            name, rest = _proper_name(line.body[match.end() :])
            if _ISSUES.match(rest):
                return _with_place(_expand(match[0] + name), match["level"], place)
    bodies = []  # "UBND HUYỆN LẠC THỦY" above "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO": the second issues
    for line in lines[:HEADER_LINES]:
        if line.level not in (None, TITLE) or _NUMBER_LINE.match(line.text):
            break
        if DATE_LINE.match(line.text):
            break
        bodies += [cell for cell in line.cells() if _LETTERHEAD.match(cell)]
    return bodies[-1] if bodies else None


def _proper_name(text: str) -> tuple[str, str]:
    """The capitalised words (digits, dashes) `text` starts with, and the rest."""
    taken = ""
    for word in re.findall(r"\s+\S+", text):
        first = word.strip()[0]
        if not (first.isupper() or first.isdigit() or word.strip() == "-"):
            break
        taken += word
    return taken, text[len(taken) :]


def _expand(name: str) -> str:
    name = re.sub(r"\s*\([^)]*\)", "", name)
    return re.sub(r"^UBND\b", "Ủy ban nhân dân", name)


def _with_place(name: str, level: str | None, place: str | None) -> str:
    """Complete a name from the date line's place: "Ủy ban nhân dân quận" -> "... Quận 12"."""
    if place is None or not name.endswith((level or "\0", "Đào tạo", "GDĐT", "GD&ĐT")):
        return name
    if level and place.lower().startswith(level):
        return name[: -len(level)] + place
    return f"{name} {place}"


# --- slogans -------------------------------------------------------------------------------

_ITEM_NUMBER = re.compile(r"^(\d{1,2})[.)]\s+\S")
SLOGAN_HEADING_WORDS = 12
SLOGAN_WORDS = 40


def _slogans(lines: list[Line]) -> tuple[str, ...]:
    """The numbered (or bulleted) list under a "khẩu hiệu" or "TUYÊN TRUYỀN" heading."""
    for line in lines:
        if not _is_slogan_heading(line):
            continue
        for first in lines[line.index + 1 : line.index + 5]:  # past a subtitle or two
            if first.level is not None and first.level >= 2:
                items = _list_from(lines, first)
                if len(items) >= 2:
                    return items
                break
    return ()


def _is_slogan_heading(line: Line) -> bool:
    body = line.body
    if line.is_row or len(body.split()) > SLOGAN_HEADING_WORDS:
        return False
    return "khẩu hiệu" in body.lower() or (body.isupper() and body.startswith("TUYÊN TRUYỀN"))


def _list_from(lines: list[Line], first: Line) -> tuple[str, ...]:
    """Consecutive items like `first`: numbered 1, 2, 3 ... or bulleted alike."""
    numbered = _ITEM_NUMBER.match(first.text) is not None
    items: list[str] = []
    for line in lines[first.index :]:
        number = _ITEM_NUMBER.match(line.text)
        if numbered and (number is None or int(number[1]) != len(items) + 1):
            break
        if not numbered and (number is not None or line.level != first.level):
            break
        if not line.body or len(line.body.split()) > SLOGAN_WORDS:
            break
        items.append(line.body.strip())
    return tuple(items)
