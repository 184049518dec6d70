"""The campaign as validated data: everything a plan document says about its week.

Structure and types are checked here (pydantic collects every such error at once); rules that
relate several fields live in `checks.py`, so both kinds of error come out as one list.
Every error has a code: its Vietnamese wording lives in `messages/errors.yaml`.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_VN_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_TIME = re.compile(r"^(\d{1,2})\s*(?::|h|g|giờ)\s*(\d{2})?$", re.IGNORECASE)


def parse_date(value: Any) -> dt.date:
    """Accept `2023-10-02` and the Vietnamese `02/10/2023` (also `2/10/2023`)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if match := _ISO_DATE.match(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _VN_DATE.match(text):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise PydanticCustomError("date_format", "not a date: {value}", {"value": text})
    if not 2000 <= year <= 2100:
        raise PydanticCustomError("date_year", "year out of range: {value}", {"value": text})
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise PydanticCustomError(
            "date_impossible", "no such date: {value}", {"value": text}
        ) from None


def parse_time(value: Any) -> dt.time:
    """Accept `08:00`, `8h00`, `8h`, `8g00`, `8 giờ` as the plans write them."""
    if isinstance(value, dt.time):
        return value
    text = str(value).strip()
    match = _TIME.match(text)
    if not match or int(match.group(1)) > 23 or int(match.group(2) or 0) > 59:
        raise PydanticCustomError("time_format", "not a time: {value}", {"value": text})
    return dt.time(int(match.group(1)), int(match.group(2) or 0))


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "timezone_unknown", "unknown zone {value}", {"value": name}
        ) from None
    return name


Date = Annotated[dt.date, BeforeValidator(parse_date)]
Time = Annotated[dt.time, BeforeValidator(parse_time)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
ZoneName = Annotated[str, AfterValidator(_known_zone)]


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a campaign file must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Audience(Strict):
    """A kind of unit the campaign addresses (schools, ward People's Committees, ...)."""

    code: Code
    name: Text


class AgendaItem(Strict):
    item: Text
    start: Time | None = None
    end: Time | None = None
    by: Text | None = None


class Opening(Strict):
    """The opening ceremony (Lễ khai mạc / Lễ phát động); date and time may be unstated."""

    title: Text = "Lễ khai mạc"
    date: Date | None = None
    time: Time | None = None
    place: Text | None = None
    online: bool = False
    participants: list[Text] = []
    agenda: list[AgendaItem] = []

    def starts_at(self) -> dt.time | None:
        """The earliest moment people are expected: the first agenda row or the stated time."""
        times = [t for t in [self.time, *(row.start for row in self.agenda)] if t is not None]
        return min(times, default=None)


class DeadlineKind(StrEnum):
    PLAN = "plan"
    REPORT = "report"
    OTHER = "other"


class Deadline(Strict):
    """Something units must send by a date; `before: true` is the plans' exclusive "trước ngày"."""

    code: Code
    what: Text
    date: Date
    time: Time | None = None
    before: bool = False
    kind: DeadlineKind = DeadlineKind.OTHER
    audience: list[Code] = []  # empty: every unit

    def due(self) -> dt.datetime:
        """The naive local moment the deadline passes."""
        if self.time is not None:
            return dt.datetime.combine(self.date, self.time)
        last = self.date if self.before else self.date + dt.timedelta(days=1)
        return dt.datetime.combine(last, dt.time())

    def last_day(self) -> dt.date:
        return self.date - dt.timedelta(days=1) if self.before and self.time is None else self.date


class QuietHours(Strict):
    start: Time = dt.time(21, 0)
    end: Time = dt.time(6, 30)

    def contains(self, moment: dt.time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class Reminders(Strict):
    """When the scheduler speaks: one hour of the day, offsets in days, and never at night."""

    send_at: Time = dt.time(7, 0)
    before_deadline: list[Annotated[int, Field(ge=0, le=60)]] = [3, 1, 0]
    before_opening: list[Annotated[int, Field(ge=1, le=60)]] = [3, 1]
    agenda_lead: Annotated[int, Field(ge=0, le=720)] = 60  # minutes before the ceremony starts
    quiet_hours: QuietHours = QuietHours()


class Slogans(Strict):
    rotation: Literal["daily"] = "daily"
    items: list[Text] = []


class Announcement(Strict):
    """A message the coordinator plans ahead in the campaign file."""

    date: Date
    time: Time
    text: Text
    audience: list[Code] = []


class AnswerKind(StrEnum):
    COUNT = "count"
    PAIR = "pair"  # two counts, e.g. `lớp/người`: classes and people
    MONEY = "money"
    TEXT = "text"


def _infer_answer(data: Any) -> Any:
    """A row's answer kind follows from its printed unit unless the form says otherwise."""
    if not isinstance(data, dict) or "answer" in data:
        return data
    unit = str(data.get("unit") or "").strip()
    if not unit:
        kind = None
    elif unit.lower() == "đồng":
        kind = AnswerKind.MONEY
    elif "/" in unit:
        kind = AnswerKind.PAIR
    else:
        kind = AnswerKind.COUNT
    return {**data, "answer": kind}


class FormRow(Strict):
    """One row of the statistics table; `answer: null` marks a heading with no figure."""

    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d+(\.\d+)*$")]
    label: Text
    unit: Text | None = None
    answer: AnswerKind | None = None

    def parts(self) -> tuple[str, ...]:
        """The printed unit split into what each number counts: `lớp/người` -> (lớp, người)."""
        if self.unit is None:
            return ()
        if self.answer is AnswerKind.PAIR:
            return tuple(part.strip() for part in self.unit.split("/", 1))
        return (self.unit,)


class FormSection(FormRow):
    items: list[Annotated[FormRow, BeforeValidator(_infer_answer)]] = []


class Form(Strict):
    """The statistics table (mẫu tổng hợp số liệu) every unit fills in."""

    title: Text
    subtitle: Text | None = None
    sections: list[Annotated[FormSection, BeforeValidator(_infer_answer)]]

    def rows(self) -> list[FormRow]:
        """Every row in the printed order, sections included."""
        return [row for section in self.sections for row in (section, *section.items)]


class Week(Strict):
    start: Date
    end: Date

    def days(self) -> list[dt.date]:
        count = (self.end - self.start).days + 1
        return [self.start + dt.timedelta(days=i) for i in range(max(count, 0))]


class Campaign(Strict):
    """One office's run of the Lifelong Learning Week, as its plan document states it."""

    name: Text
    issuer: Text
    document: Text | None = None  # the plan's number, e.g. "6040/KH-UBND-GDDT"
    issued: Date | None = None  # the plan's own date: nothing is sent before it
    theme: Text | None = None
    suggested_themes: list[Text] = []  # when the plan only suggests themes (003)
    timezone: ZoneName = "Asia/Ho_Chi_Minh"
    week: Week
    opening: Opening | None = None
    deadlines: list[Deadline] = []
    reminders: Reminders = Reminders()
    slogans: Slogans = Slogans()
    audiences: list[Audience] = []
    form: Form | None = None
    announcements: list[Announcement] = []

    @model_validator(mode="after")
    def _form_of_this_year(self) -> Campaign:
        """The standard form's subtitle names the year of the week."""
        if self.form and self.form.subtitle and "{year}" in self.form.subtitle:
            subtitle = self.form.subtitle.replace("{year}", str(self.week.start.year))
            form = self.form.model_copy(update={"subtitle": subtitle})
            object.__setattr__(self, "form", form)  # frozen, and still being built
        return self

    @property
    def report_deadline(self) -> Deadline | None:
        """The units' report, the first one due: the deadline the form is asked for. Later
        reports are the office's own, upwards, made from what the units sent."""
        reports = [d for d in self.deadlines if d.kind is DeadlineKind.REPORT]
        return min(reports, key=lambda d: d.date) if reports else None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def audience_name(self, code: str) -> str:
        return next((a.name for a in self.audiences if a.code == code), code)
