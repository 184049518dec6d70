"""A coordinator's announcements: sent now or at a time, listed while they wait, cancelled.

An announcement is one outbox row per registered chat it goes to; the running sender sends it.
The caller wakes the sender (`env.wake()`) once it has told the coordinator what was done, so
that its answer comes before the first delivery.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.campaign.model import Campaign
from bot.delivery import outbox
from bot.delivery.outbox import Scheduled
from bot.ops.env import Env
from bot.store import audit
from bot.store.db import is_transient
from bot.store.models import DeliveryStatus

__all__ = [
    "Announced",
    "Outcome",
    "Scheduled",
    "Timing",
    "broadcast",
    "cancel",
    "outcome",
    "scheduled",
    "settled",
    "timing_problem",
]

SETTLE_CHECK = 0.5  # seconds between looks at a broadcast's progress
UNSETTLED = frozenset({DeliveryStatus.PENDING, DeliveryStatus.SENDING})


class Timing(StrEnum):
    """Why an announcement cannot go at the time asked."""

    PAST = "past"
    QUIET = "quiet"  # within the campaign's quiet hours


def timing_problem(campaign: Campaign, at: dt.datetime, now: dt.datetime) -> Timing | None:
    """Whether `at` is a time an announcement may be scheduled for; None when it is."""
    if at <= now:
        return Timing.PAST
    if campaign.reminders.quiet_hours.contains(at.astimezone(campaign.tz).time()):
        return Timing.QUIET
    return None


@dataclass(frozen=True)
class Announced:
    """What was put in the outbox: a row per chat (`ids`), due at `at` (None: now)."""

    ids: tuple[int, ...]
    at: dt.datetime | None = None

    @property
    def count(self) -> int:
        return len(self.ids)


async def broadcast(
    env: Env, text: str, audiences: Collection[str], at: dt.datetime | None, actor: str
) -> Announced:
    """Announce `text` to every active registered chat of the units of `audiences` (all units
    when empty), now or at `at` (checked beforehand with `timing_problem`)."""
    async with env.db.session() as session, session.begin():
        due = at or env.clock.now()
        types = list(audiences)
        rows = await outbox.broadcast(session, env.campaign_key, text, types, due, env.campaign.tz)
        audit.record(session, actor, "broadcast", count=len(rows), types=types)
    return Announced(tuple(row.id for row in rows), at)


async def scheduled(env: Env) -> list[Scheduled]:
    """The announcements waiting for their time, soonest first; `number` names each."""
    async with env.db.session() as session:
        return await outbox.scheduled_broadcasts(session)


async def cancel(env: Env, number: int, actor: str) -> int:
    """Cancel the announcement `number` names; how many of its deliveries were still waiting
    (0: no such announcement, or it has gone)."""
    async with env.db.session() as session, session.begin():
        cancelled = await outbox.cancel_broadcast(session, number)
        if cancelled:
            audit.record(session, actor, "broadcast_cancelled", number=number)
    return cancelled


@dataclass(frozen=True)
class Outcome:
    """How a broadcast's deliveries stand: a count per status."""

    counts: Mapping[str, int]
    total: int

    @property
    def settled(self) -> bool:
        """Nothing is waiting or being sent any more."""
        return not self.counts.keys() & UNSETTLED

    @property
    def sent(self) -> int:
        return self.counts.get(DeliveryStatus.SENT, 0)


async def outcome(env: Env, ids: Collection[int]) -> Outcome:
    """One look at the deliveries `ids`; a database busy or away for a moment reads as all of
    them still waiting (they do wait: the outbox keeps them)."""
    try:
        async with env.db.session() as session:
            counts = await outbox.outcome(session, ids)
    except Exception as exc:
        if not is_transient(exc):
            raise
        counts = {DeliveryStatus.PENDING: len(ids)}
    return Outcome(counts, len(ids))


async def settled(env: Env, ids: Collection[int], every: float = SETTLE_CHECK) -> Outcome:
    """The outcome of the deliveries `ids` once none is waiting or being sent."""
    while not (found := await outcome(env, ids)).settled:
        await asyncio.sleep(every)
    return found
