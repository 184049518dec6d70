"""What is read from a plan: the draft of a campaign, and its JSON (docs/design.md, Contracts)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot.campaign.model import DeadlineKind


@dataclass(frozen=True)
class Opening:
    date: dt.date | None  # None: the plan asks for a ceremony but does not date it
    time: dt.time | None = None
    place: str | None = None
    online: bool = False
    participants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deadline:
    what: str
    date: dt.date
    audience: str | None  # who must send it; None: the plan does not say
    before: bool = False  # "trước ngày": the day itself is too late
    kind: DeadlineKind = DeadlineKind.OTHER


@dataclass(frozen=True)
class AgendaRow:
    item: str
    start: dt.time | None = None
    end: dt.time | None = None
    by: str | None = None


@dataclass(frozen=True)
class PlanDraft:
    """Everything read from one plan; None and () where the plan is silent or unclear."""

    theme: str | None = None
    suggested_themes: tuple[str, ...] = ()
    week_start: dt.date | None = None
    week_end: dt.date | None = None
    opening: Opening | None = None
    deadlines: tuple[Deadline, ...] = ()
    slogans: tuple[str, ...] = ()
    agenda: tuple[AgendaRow, ...] = ()
    issuer: str | None = None
    document: str | None = None  # the plan's number, "6040/KH-UBND-GDDT"
    issued: dt.date | None = None  # the plan's own date, from its date line
    year: int | None = None  # the campaign's year

    def as_json(self) -> dict[str, Any]:
        """The object `loa import-plan --json` prints (docs/design.md): exactly its keys."""
        opening = self.opening
        return {
            "theme": self.theme,
            "week_start": _iso(self.week_start),
            "week_end": _iso(self.week_end),
            "opening": None
            if opening is None or opening.date is None
            else {"date": _iso(opening.date), "time": _hhmm(opening.time), "place": opening.place},
            "deadlines": [
                {"what": d.what, "date": _iso(d.date), "audience": d.audience}
                for d in self.deadlines
            ],
            "slogans": list(self.slogans),
            "agenda": [
                {"start": _hhmm(r.start), "end": _hhmm(r.end), "item": r.item, "by": r.by}
                for r in self.agenda
            ],
        }


def _iso(date: dt.date | None) -> str | None:
    return date.isoformat() if date else None


def _hhmm(time: dt.time | None) -> str | None:
    return time.strftime("%H:%M") if time else None
