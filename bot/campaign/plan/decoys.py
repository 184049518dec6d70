"""Dates a plan prints that are not its own: they must never become a deadline, week or ceremony.

The document's own date line ("Hà Nội, ngày 15 tháng 9 năm 2020"), the dates of the letters it
cites ("Căn cứ ...", "Thực hiện Công văn số ... ngày ..."), print and publish stamps, and
anniversaries ("kỷ niệm 75 năm ngày ..."). A wrong date is worse than a missing one, so these
rules lean towards calling a date a decoy.
"""

from __future__ import annotations

import datetime as dt
import re

from bot.campaign.plan.outline import clause_at

DATE_LINE = re.compile(
    r"^(?P<place>[^,;:]{2,60}?),\s*ngày\s*"
    r"(?:\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4}|[\d\s.…_]*tháng[\d\s.…_]*năm\s*\d{4})\s*\.?$",
    re.IGNORECASE,
)
# Between a letter's number and its date; "Mẫu số 02 trước ngày ..." is a deadline, not a letter.
_GAP = r"(?:(?!trước|hạn|chậm|muộn)[^;\d])"
_CITED = re.compile(
    rf"(?:\bsố\s*:?\s*\S*\d\S*|\b\d+[\w-]*/[A-ZĐ][\w&/.-]*){_GAP}{{0,15}}?(?:ngày\s*)?$"
    r"|\b(?:công văn|văn bản|quyết định|thông tư|chỉ thị|nghị quyết|nghị định|tờ trình|"
    rf"thông báo|kết luận|luật)\b{_GAP}{{0,25}}?ngày\s*$",
    re.IGNORECASE,
)
_STAMP = re.compile(
    r"(?:^|\s)(?:ngày\s+)?(?:in|đăng|xuất bản|cập nhật|phát hành|ký|tạo|lưu|truy cập)"
    r"(?:\s+(?:lúc|ngày|vào|bài))*\s*:?\s*"
    r"(?:\d{1,2}\s*[:h]\s*\d{2}(?::\d{2})?\s*,?\s*(?:ngày\s*)?)?$",
    re.IGNORECASE,
)
_ANNIVERSARY = re.compile(
    r"\b(?:kỷ niệm|kỉ niệm|nhân dịp|thành lập|truyền thống|ngày sinh|ngày mất|ra đời|năm ngày)\b",
    re.IGNORECASE,
)


def is_date_line(text: str) -> bool:
    return DATE_LINE.match(text) is not None


def is_decoy(text: str, position: int, due: bool = False) -> bool:
    """Whether the date starting at `position` in the line `text` belongs to something else.

    `due`: the date follows "trước ngày", "chậm nhất", "hạn"; a task "nhân dịp" or "thành lập"
    something is then still a task with a deadline.
    """
    if is_date_line(text[text.rfind("\t", 0, position) + 1 :].split("\t")[0]):
        return True  # the line, or in a table the cell, is the document's date line
    start, _ = clause_at(text, position)
    clause = text[start:position]
    if re.match(r"\W*căn cứ\b", clause, re.IGNORECASE):
        return True
    rules = (_CITED, _STAMP) if due else (_CITED, _STAMP, _ANNIVERSARY)
    return any(rule.search(clause) for rule in rules)


def names_anniversary(text: str) -> bool:
    return _ANNIVERSARY.search(text) is not None


def off_year(date: dt.date, year: int | None) -> bool:
    """A date outside the campaign's year (last year's week, a founding date) is not its own;
    the next year's early days may still hold its reports."""
    return year is not None and date.year not in (year, year + 1)
