"""What a unit asks about: the campaign's dated events still ahead, and the slogan of a day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bot.campaign.model import Campaign, Deadline


class EventKind(StrEnum):
    WEEK_START = "week_start"
    OPENING = "opening"
    DEADLINE = "deadline"
    WEEK_END = "week_end"


@dataclass(frozen=True)
class Event:
    day: dt.date
    kind: EventKind
    time: dt.time | None = None
    deadline: Deadline | None = None

    def over_at(self) -> dt.datetime:
        """The naive local moment after which the event is no longer ahead."""
        if self.deadline is not None:
            return self.deadline.due()
        return dt.datetime.combine(self.day + dt.timedelta(days=1), dt.time())

    def sort_key(self) -> tuple[dt.date, dt.time, int]:
        return (self.day, self.time or dt.time(), list(EventKind).index(self.kind))


def upcoming(campaign: Campaign, audience: str | None, now: dt.datetime) -> list[Event]:
    """Events not yet over at `now` (aware), for a unit of type `audience` (None: every type)."""
    c = campaign
    events = [Event(c.week.start, EventKind.WEEK_START), Event(c.week.end, EventKind.WEEK_END)]
    if c.opening is not None and c.opening.date is not None:
        events.append(Event(c.opening.date, EventKind.OPENING, c.opening.starts_at()))
    events += [
        Event(d.last_day(), EventKind.DEADLINE, d.time, d)
        for d in c.deadlines
        if audience is None or not d.audience or audience in d.audience
    ]
    local_now = now.astimezone(c.tz).replace(tzinfo=None)
    return sorted((e for e in events if e.over_at() > local_now), key=Event.sort_key)


def slogan_of(campaign: Campaign, day: dt.date) -> tuple[int, str] | None:
    """The slogan for a day of the week and its day number, rotating daily; None outside it."""
    items = campaign.slogans.items
    index = (day - campaign.week.start).days
    if not items or not 0 <= index < len(campaign.week.days()):
        return None
    return index + 1, items[index % len(items)]
