"""What Loa sends, when, and to whom: a pure function of the campaign (and its units)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any, ClassVar

from bot.campaign.calendar import slogan_of
from bot.campaign.model import Campaign, Deadline, DeadlineKind, FormRow, FormSection, Opening
from bot.campaign.units import Unit

EVERYONE = "all"
CEREMONY_LENGTH = dt.timedelta(hours=1)  # after its last stated start, when no end is given


class Kind(StrEnum):
    """Delivery kinds, in the order they go out when they share a moment."""

    WEEK_START = "week_start"
    OPENING_NOTICE = "opening_notice"
    OPENING_AGENDA = "opening_agenda"
    SLOGAN = "slogan"
    DEADLINE_REMINDER = "deadline_reminder"
    WEEK_END = "week_end"
    DATA_PROMPT = "data_prompt"
    ANNOUNCEMENT = "announcement"


_ORDER = {kind: index for index, kind in enumerate(Kind)}


@dataclass(frozen=True, order=True)
class DeadlineRef:
    """Which deadline a delivery is about, as its reference names it: its code and date (a
    deadline moved to another date is another one, with reminders of its own)."""

    code: str
    date: dt.date

    @classmethod
    def of(cls, deadline: Deadline) -> DeadlineRef:
        return cls(deadline.code, deadline.date)

    @classmethod
    def parse(cls, text: str) -> DeadlineRef:
        """`report@2023-10-10` -> DeadlineRef("report", 2023-10-10); ValueError otherwise."""
        code, at, day = text.rpartition("@")
        if not at or not code:
            raise ValueError(f"not a deadline reference: {text!r}")
        return cls(code, dt.date.fromisoformat(day))

    def __str__(self) -> str:
        return f"{self.code}@{self.date.isoformat()}"


@dataclass(frozen=True, order=True)
class ReminderRef:
    """A reminder's reference: its deadline and how many days before it it goes. The outbox
    stores it as text (`report@2023-10-10-2`); `parse` reads it back."""

    deadline: DeadlineRef
    days: int

    @classmethod
    def parse(cls, text: str) -> ReminderRef:
        """`report@2023-10-10-2` -> ReminderRef(DeadlineRef("report", 2023-10-10), 2)."""
        deadline, dash, days = text.rpartition("-")
        if not dash or not days.isdigit():
            raise ValueError(f"not a reminder reference: {text!r}")
        return cls(DeadlineRef.parse(deadline), int(days))

    def __str__(self) -> str:
        return f"{self.deadline}-{self.days}"


class Context(Mapping[str, Any]):
    """What a delivery's template needs besides the campaign, typed per kind.

    Each kind's context is a frozen dataclass; as a mapping of its fields (those not None) it is
    what the template is rendered with.
    """

    __dataclass_fields__: ClassVar[dict[str, Any]]  # every kind's context is a dataclass

    def __getitem__(self, name: str) -> Any:
        if name not in self._names():
            raise KeyError(name)
        return getattr(self, name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def _names(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]


@dataclass(frozen=True, eq=True)
class NoContext(Context):
    """The opening's agenda: the campaign says it all."""


@dataclass(frozen=True, eq=True)
class WeekStartContext(Context):
    days: int  # how long the week is


@dataclass(frozen=True, eq=True)
class WeekEndContext(Context):
    reports: list[Deadline]  # the reports still to send


@dataclass(frozen=True, eq=True)
class SloganContext(Context):
    slogan: str
    day: int  # of the week, from 1


@dataclass(frozen=True, eq=True)
class OpeningNoticeContext(Context):
    days: int  # before the ceremony


@dataclass(frozen=True, eq=True)
class ReminderContext(Context):
    deadline: Deadline
    days: int  # left until its last day (as planned; the sender says how many are left then)
    missing: Sequence[FormRow] | None = None  # figures the unit still owes, when it is sent


@dataclass(frozen=True, eq=True)
class PromptContext(Context):
    deadline: Deadline
    section: FormSection
    number: int  # the section's, from 1
    of: int  # sections in the form


@dataclass(frozen=True, eq=True)
class AnnouncementContext(Context):
    text: str


DeliveryContext = (
    NoContext
    | WeekStartContext
    | WeekEndContext
    | SloganContext
    | OpeningNoticeContext
    | ReminderContext
    | PromptContext
    | AnnouncementContext
)


@dataclass(frozen=True)
class Delivery:
    """One message to send: `reference` tells what it is about (a deadline, a day, a section).

    `audience` is the unit types it goes to (empty: everyone) and `unit` the one unit when the
    timeline was expanded over a unit list. The template named `kind` renders it with `context`.
    """

    at: dt.datetime
    kind: Kind
    reference: str
    audience: tuple[str, ...] = ()
    unit: Unit | None = None
    context: DeliveryContext = field(default_factory=NoContext)
    seq: int = 0  # orders deliveries of one kind that share a moment

    @property
    def deadline(self) -> Deadline | None:
        """The deadline a reminder or a part of the form is about; None for the others."""
        if isinstance(self.context, ReminderContext | PromptContext):
            return self.context.deadline
        return None

    @property
    def template(self) -> str:
        return self.kind.value

    @property
    def addressee(self) -> str:
        """The unit code, the audience codes, or `all`."""
        if self.unit is not None:
            return self.unit.code
        return ",".join(self.audience) or EVERYONE

    def sort_key(self) -> tuple[Any, ...]:
        return (self.at, _ORDER[self.kind], self.seq, self.reference, self.addressee)


def timeline(campaign: Campaign, units: Sequence[Unit] | None = None) -> list[Delivery]:
    """Every delivery of the campaign in time order, none in quiet hours, none before the plan.

    With `units`, each delivery is repeated for every unit of its audience.
    """
    plan = [
        d
        for d in _deliveries(campaign)
        if campaign.issued is None or d.at.date() >= campaign.issued
    ]
    if units is not None:
        plan = [replace(d, unit=u) for d in plan for u in units if _addressed(d, u)]
    return sorted(plan, key=Delivery.sort_key)


def useful_until(delivery: Delivery, campaign: Campaign) -> dt.datetime:
    """When a delivery that could not go out on time stops being worth sending late.

    A reminder is worth it until its deadline passes (it is rendered with the days left when it
    goes), the agenda until the ceremony is over; everything else only on its own day: a
    slogan, a notice saying "còn 1 ngày".
    """
    tz = campaign.tz
    if delivery.deadline is not None:  # a reminder, a part of the form
        return delivery.deadline.due().replace(tzinfo=tz)
    opening = campaign.opening
    if delivery.kind is Kind.OPENING_AGENDA and opening and (ends := _ceremony_ends(opening)):
        return ends.replace(tzinfo=tz)
    day = delivery.at.astimezone(tz).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(), tz)


def form_rows(delivery: Delivery, campaign: Campaign) -> list[FormRow]:
    """The statistics rows a delivery asks a unit for: a prompt's section, or the whole form for
    a reminder of the units' report (it goes only to units still missing some); [] otherwise."""
    if campaign.form is None:
        return []
    context = delivery.context
    if isinstance(context, PromptContext):
        section = context.section
        return [row for row in (section, *section.items) if row.answer]
    if isinstance(context, ReminderContext) and context.deadline == campaign.report_deadline:
        return [row for row in campaign.form.rows() if row.answer]
    return []


def _ceremony_ends(opening: Opening) -> dt.datetime | None:
    """The last agenda row's end, or an hour after the last stated start (naive, local)."""
    if opening.date is None:
        return None
    if ends := [row.end for row in opening.agenda if row.end]:
        return dt.datetime.combine(opening.date, max(ends))
    if starts := [t for t in [opening.time, *(row.start for row in opening.agenda)] if t]:
        return dt.datetime.combine(opening.date, max(starts)) + CEREMONY_LENGTH
    return None


def _addressed(delivery: Delivery, unit: Unit) -> bool:
    return not delivery.audience or unit.type in delivery.audience


def _deliveries(c: Campaign) -> Iterator[Delivery]:
    yield _at(c, c.week.start, Kind.WEEK_START, "week", WeekStartContext(len(c.week.days())))
    yield from _slogans(c)
    yield from _opening(c)
    yield from _deadline_reminders(c)
    yield _at(c, c.week.end, Kind.WEEK_END, "week", WeekEndContext(_reports(c)))
    yield from _data_prompts(c)
    for item in c.announcements:
        at = dt.datetime.combine(item.date, item.time, c.tz)
        # named by moment and words, not position: adding one must not re-point the others
        words = hashlib.sha1(item.text.encode()).hexdigest()[:8]
        yield Delivery(
            at,
            Kind.ANNOUNCEMENT,
            f"announcement@{at:%Y-%m-%dT%H%M}-{words}",
            tuple(item.audience),
            context=AnnouncementContext(item.text),
        )


def _at(
    c: Campaign,
    day: dt.date,
    kind: Kind,
    reference: str,
    context: DeliveryContext | None = None,
    audience: Iterable[str] = (),
) -> Delivery:
    """A delivery at the campaign's daily sending hour."""
    at = dt.datetime.combine(day, c.reminders.send_at, c.tz)
    return Delivery(at, kind, reference, tuple(audience), context=context or NoContext())


def _slogans(c: Campaign) -> Iterator[Delivery]:
    for day in c.week.days():
        if (today := slogan_of(c, day)) is not None:
            number, slogan = today
            yield _at(c, day, Kind.SLOGAN, day.isoformat(), SloganContext(slogan, number))


def _opening(c: Campaign) -> Iterator[Delivery]:
    opening = c.opening
    if opening is None or opening.date is None:
        return
    for days in sorted(set(c.reminders.before_opening), reverse=True):
        yield _at(
            c,
            opening.date - dt.timedelta(days=days),
            Kind.OPENING_NOTICE,
            f"opening@{opening.date.isoformat()}-{days}",  # a moved ceremony gets new notices
            OpeningNoticeContext(days),
        )
    starts = opening.starts_at()
    if starts is None:  # no time stated: tell them on the morning itself
        yield _at(c, opening.date, Kind.OPENING_AGENDA, "opening")
        return
    begins = dt.datetime.combine(opening.date, starts)
    at = _before_quiet(c, begins - dt.timedelta(minutes=c.reminders.agenda_lead), begins)
    yield Delivery(at.replace(tzinfo=c.tz), Kind.OPENING_AGENDA, "opening")


def _before_quiet(c: Campaign, at: dt.datetime, limit: dt.datetime) -> dt.datetime:
    """Move a moment out of quiet hours: to their end if still before `limit`, else before them."""
    quiet = c.reminders.quiet_hours
    if not quiet.contains(at.time()):
        return at
    ends = dt.datetime.combine(at.date(), quiet.end)
    if ends <= at:
        ends += dt.timedelta(days=1)
    if ends < limit:
        return ends
    began = dt.datetime.combine(at.date(), quiet.start)
    if began > at:
        began -= dt.timedelta(days=1)
    return began - dt.timedelta(hours=1)  # an hour before the quiet hours began


def _deadline_reminders(c: Campaign) -> Iterator[Delivery]:
    for deadline in c.deadlines:
        for days in sorted(set(c.reminders.before_deadline), reverse=True):
            delivery = _at(
                c,
                deadline.last_day() - dt.timedelta(days=days),
                Kind.DEADLINE_REMINDER,
                str(ReminderRef(DeadlineRef.of(deadline), days)),
                ReminderContext(deadline, days),
                deadline.audience,
            )
            if delivery.at.replace(tzinfo=None) < deadline.due():
                yield delivery


def _reports(c: Campaign) -> list[Deadline]:
    return [d for d in c.deadlines if d.kind is DeadlineKind.REPORT]


def _data_prompts(c: Campaign) -> Iterator[Delivery]:
    """The statistics form, a section a message, when the report window opens.

    The window opens the day after the week ends, or on its last day when the units' report
    is due sooner than that.
    """
    deadline = c.report_deadline
    if c.form is None or deadline is None:
        return
    opens = min(c.week.end + dt.timedelta(days=1), deadline.last_day())
    sections = c.form.sections
    for number, section in enumerate(sections, start=1):
        prompt = _at(
            c,
            opens,
            Kind.DATA_PROMPT,
            f"{deadline.code}:{section.code}",
            PromptContext(deadline, section, number, len(sections)),
            deadline.audience,
        )
        yield replace(prompt, seq=number)


PHOTO_GRACE = dt.timedelta(days=1)  # a unit late with its report may still be sending photos


def in_report_window(campaign: Campaign, now: dt.datetime) -> bool:
    """Whether a photo sent to a unit's chat now is one of the week's, to be kept unasked.

    From the week's first day (photos are of the week's activities: none happen before it,
    so a picture sent while plans are due is something else) until the units' report is due
    plus `PHOTO_GRACE`; a campaign that asks no report, until the day after the week ends.
    Outside it, a photo is kept only in reply to the bot's own request for photos.
    """
    local = now.astimezone(campaign.tz).replace(tzinfo=None)
    opens = dt.datetime.combine(campaign.week.start, dt.time())
    deadline = campaign.report_deadline
    due = deadline.due() if deadline else dt.datetime.combine(campaign.week.end, dt.time.max)
    return opens <= local < max(due, opens) + PHOTO_GRACE
