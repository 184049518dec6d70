"""Deadlines: what units must send, by when, and who must send it.

A deadline is a date right after "trước ngày", "chậm nhất ngày", "hạn ...", or a "Ngày 10/10/2020:"
item saying someone sends something. What is due is the clause's deliverable ("báo cáo ...",
"kế hoạch ..."); who sends it is the clause's subject ("Đề nghị X gửi ...", "X gửi ..."), else
the unit heading the part under "Tổ chức thực hiện", else a letter's addressees ("Kính gửi").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.campaign.model import DeadlineKind
from bot.campaign.plan.dates import DateFound, RangeFound, Scan
from bot.campaign.plan.decoys import is_decoy, names_anniversary, off_year
from bot.campaign.plan.fields import Deadline
from bot.campaign.plan.outline import Line, clause_at, ends_body, items_after, tidy

EARLY = dt.timedelta(days=60)  # plans are asked for before the week, reports after it
LATE = dt.timedelta(days=90)
UNIT_HEADING_WORDS = 25  # longer, and a heading is a task rather than a unit's name

_DUE = re.compile(
    r"(?<!\w)(?P<marker>trước|chậm\s+nhất|muộn\s+nhất|không\s+quá|"
    r"(?:thời\s+)?hạn(?:\s+(?:chót|cuối|nộp|gửi))?)"
    r"(?:\s+(?:là|vào|đến|hết|trong))*\s*:?\s*(?:ngày\s*)?"
    r"(?:\d{1,2}\s*(?:h|g|giờ)\s*\d{0,2}\s*,?\s*(?:ngày\s*)?)?$",
    re.IGNORECASE,
)
_DUE_LABEL = re.compile(  # "Hạn nộp báo cáo: 12/10/2023"
    r"(?<!\w)(?:thời\s+)?hạn(?:\s+(?:chót|cuối))?(?:\s+(?:nộp|gửi))?\s+(?P<what>[^:;,]{2,80}?)"
    r"\s*:\s*(?:ngày\s*)?$",
    re.IGNORECASE,
)
_DAY_ITEM = re.compile(r"^(?:[-+–•]\s*)*(?:ngày\s*)?$", re.IGNORECASE)  # "- Ngày 10/10/2020: ..."
_SENDS = re.compile(r"\b(?:gửi|nộp)\b", re.IGNORECASE)
_VERB = r"(?:tổ chức thực hiện|triển khai|thực hiện|gửi|nộp|báo cáo|hoàn thành|xây dựng|tổng hợp)"
_ASKED = re.compile(rf"^(?:đề nghị|yêu cầu|giao)\s+(?P<who>.+?)\s+(?={_VERB}\b)", re.IGNORECASE)
_SUBJECT = re.compile(
    r"^(?P<who>(?:UBND|Ủy ban|Uỷ ban|Phòng|Sở|[Cc]ác|Trường|Trung tâm|Hội|Ban|BCĐ|Đoàn|"
    r"Liên đoàn|Thủ trưởng|Hiệu trưởng|Chủ tịch)\b[^;:]*?)\s+(?=(?:gửi|nộp|báo cáo|hoàn thành)\b)"
)
_DELIVERABLE = re.compile(
    r"\b(?:báo cáo|kế hoạch|danh sách|hồ sơ|sản phẩm|bài dự thi|bài viết|văn bản|số liệu|"
    r"bảng tổng hợp|biểu mẫu|tập tin|minh chứng|đăng ký|dự toán)\b",
    re.IGNORECASE,
)
_TRAILING = re.compile(  # "..., thời hạn" before "trước ngày": not part of what is due
    r"(?:\s*,?\s*thời\s+hạn(?:\s+nộp)?|\s*[,;:]\s*hạn(?:\s+nộp)?|\s+và)?[\s,;:]*$", re.IGNORECASE
)
_BULLET = re.compile(r"^(?:[-+–•]\s*)+")


@dataclass(frozen=True)
class _Due:
    date: dt.date
    before: bool
    words: str  # the clause's words about what is due (and maybe who sends it)
    line: int


def deadlines(
    lines: list[Line], scans: list[Scan], week: RangeFound | None, year: int | None
) -> tuple[Deadline, ...]:
    """Every deadline, once each, by date."""
    units = _units_in_charge(lines)
    addressees = _addressees(lines)
    found: list[Deadline] = []
    for due in _dues(lines, scans, week, year):
        who, what = _who_what(due.words)
        if not what:
            continue  # a date with nothing said about what is due
        audience = who or units.get(due.line) or addressees
        found.append(Deadline(what, due.date, audience, due.before, _kind(what)))
    return tuple(sorted(_merged(found), key=lambda d: d.date))


def _dues(
    lines: list[Line], scans: list[Scan], week: RangeFound | None, year: int | None
) -> Iterator[_Due]:
    for line, scan in zip(lines, scans, strict=True):
        if line.is_row:
            continue
        for found in scan.dates:
            if off_year(found.date, year):
                continue
            if week and not week.first - EARLY <= found.date <= week.last + LATE:
                continue
            if due := _due_at(line, found):
                yield due


def _due_at(line: Line, found: DateFound) -> _Due | None:
    """The deadline a date marks, if the words around it make it one."""
    text = line.text
    start, end = clause_at(text, found.start)
    before, after = text[start : found.start], text[found.end : end]
    marker = _DUE.search(before)
    label = None if marker else _DUE_LABEL.search(before)
    strict = False
    if marker:  # "... trước ngày 10/10/2021"
        said, fallback = before[: marker.start()], after.lstrip(" :")
        strict = marker["marker"].lower().startswith("trước")
    elif label:  # "Hạn nộp báo cáo: 12/10/2023"
        said, fallback = before[: label.start()], label["what"]
    elif _DAY_ITEM.match(before) and after.lstrip().startswith(":"):  # "- Ngày 10/10/2020: ..."
        if not _SENDS.search(after) or names_anniversary(after):
            return None
        said, fallback = "", after.lstrip(" :")
    else:
        return None
    if is_decoy(text, found.start, due=bool(marker or label)):
        return None
    if not _BULLET.sub("", said).strip():  # "- Trước ngày 29/9/2021: các phường gửi ..."
        said = fallback
    return _Due(found.date, strict, said, line.index)


def _who_what(words: str) -> tuple[str | None, str]:
    """Who must send it (if the clause says) and what is due."""
    words = _BULLET.sub("", words.strip())
    who = None
    if match := _ASKED.match(words) or _SUBJECT.match(words):
        who = tidy(match["who"])
        words = words[match.end() :]
    noun = _DELIVERABLE.search(words)
    what = words[noun.start() :] if noun else words
    return who, tidy(_TRAILING.sub("", what))


def _kind(what: str) -> DeadlineKind:
    lowered = what.lower()
    if lowered.startswith("báo cáo"):
        return DeadlineKind.REPORT
    if lowered.startswith("kế hoạch"):
        return DeadlineKind.PLAN
    return DeadlineKind.OTHER


def _merged(found: list[Deadline]) -> list[Deadline]:
    """One deadline said twice (in the timing part and again in the closing) is one deadline."""
    kept: list[Deadline] = []
    for new in found:
        same = next((i for i, old in enumerate(kept) if _same(old, new)), None)
        if same is None:
            kept.append(new)
            continue
        old = kept[same]
        kept[same] = Deadline(
            old.what,
            old.date,
            old.audience or new.audience,
            old.before or new.before,  # the stricter reading: no unit is reminded too late
            old.kind,
        )
    return kept


def _same(old: Deadline, new: Deadline) -> bool:
    audiences = {old.audience, new.audience}
    return (
        old.date == new.date and old.kind == new.kind and (len(audiences) == 1 or None in audiences)
    )


def _units_in_charge(lines: list[Line]) -> dict[int, str]:
    """For each line under "Tổ chức thực hiện", the unit its heading gives the tasks to."""
    units: dict[int, str] = {}
    section: int | None = None  # the level of the "Tổ chức thực hiện" heading
    depth: int | None = None  # the level of its unit headings
    unit: str | None = None
    for line in lines:
        if ends_body(line):
            section = depth = unit = None
        elif line.level is not None and line.level <= 4:
            if "tổ chức thực hiện" in line.body.lower() and len(line.body.split()) <= 8:
                section, depth, unit = line.level, None, None
            elif section is not None and line.level <= section:
                section = depth = unit = None
            elif section is not None and (depth is None or line.level == depth):
                depth = line.level
                unit = _unit_name(line.body)
        if unit:
            units[line.index] = unit
    return units


def _unit_name(heading: str) -> str | None:
    name = tidy(re.sub(r"^đề nghị\s+", "", heading, flags=re.IGNORECASE))
    return name if len(name.split()) <= UNIT_HEADING_WORDS else None


def _addressees(lines: list[Line]) -> str | None:
    """Whom a letter is sent to ("Kính gửi: ..."): who must do what it asks."""
    for line in lines:
        if not line.is_row and line.body.lower().startswith("kính gửi"):
            value = line.body.split(":", 1)[1] if ":" in line.body else ""
            names = [tidy(value)] if value.strip() else []
            names += [tidy(item.body) for item in items_after(lines, line)]
            names = [name for name in names if name and name.lower() != "như trên"]
            return "; ".join(names) or None
    return None
