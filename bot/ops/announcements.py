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

from sqlalchemy import select

from bot.campaign import units as core
from bot.campaign.model import Campaign
from bot.campaign.scope import EVERYTHING, Scope
from bot.delivery import outbox
from bot.delivery.outbox import Scheduled
from bot.ops import signin
from bot.ops.env import Env
from bot.ops.signin import TicketKind
from bot.store import audit
from bot.store.chats import active_unit_chats
from bot.store.db import is_transient
from bot.store.models import Delivery, DeliveryStatus

__all__ = [
    "AlreadySent",
    "Announced",
    "Found",
    "Outcome",
    "Reach",
    "Scheduled",
    "Timing",
    "broadcast",
    "cancel",
    "find",
    "one_time_key",
    "outcome",
    "outcome_of",
    "reach",
    "scheduled",
    "settled",
    "timing_problem",
]

SETTLE_CHECK = 0.5  # seconds between looks at a broadcast's progress
# A one-time key lets a form send its announcement once (a second click, a reloaded POST: none).
# Kept with the web's other keys, only its SHA-256, for as long as a session lasts.
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


class AlreadySent(Exception):
    """The one-time key was spent already (or never given, or is over): nothing was sent."""


async def broadcast(
    env: Env,
    text: str,
    audiences: Collection[str],
    at: dt.datetime | None,
    actor: str,
    *,
    once: str | None = None,
    scope: Scope = EVERYTHING,
) -> Announced:
    """Announce `text` to every active registered chat of the units of `audiences` (all units
    when empty) that `scope` covers, now or at `at` (checked beforehand with `timing_problem`).
    A scoped coordinator's announcement stays with their units, later chats included. With
    `once` (a key from `one_time_key` for `actor`), the key is spent in the same transaction: a
    second broadcast with it raises `AlreadySent` and sends nothing."""
    async with env.db.session() as session, session.begin():
        now = env.clock.now()
        if once is not None and not await signin.spend(
            session, once, TicketKind.ANNOUNCE, actor, now
        ):
            raise AlreadySent
        due = at or now
        types = list(audiences)
        rows = await outbox.broadcast(
            session, env.campaign_key, text, types, due, env.campaign.tz, scope
        )
        audit.record(session, actor, "broadcast", count=len(rows), types=types)
    return Announced(tuple(row.id for row in rows), at)


async def scheduled(env: Env, scope: Scope = EVERYTHING) -> list[Scheduled]:
    """The announcements waiting for their time, soonest first; `number` names each. A scoped
    coordinator sees those made for units all theirs."""
    async with env.db.session() as session:
        return await outbox.scheduled_broadcasts(session, scope)


async def cancel(env: Env, number: int, actor: str, scope: Scope = EVERYTHING) -> int:
    """Cancel the announcement `number` names; how many of its deliveries were still waiting
    (0: no such announcement, it has gone, or it reaches beyond `scope`)."""
    async with env.db.session() as session, session.begin():
        cancelled = await outbox.cancel_broadcast(session, number, scope)
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


async def one_time_key(env: Env, actor: str) -> str:
    """A key `broadcast(..., once=KEY)` accepts once, from `actor` only (a form's preview gives
    it, its send spends it)."""
    return await signin.issue(env, actor, TicketKind.ANNOUNCE)


@dataclass(frozen=True)
class Reach:
    """Who an announcement to an audience would reach now: how many chats, and the first of
    their units (its greeting shows what a unit reads)."""

    chats: int
    example: core.Unit | None


async def reach(env: Env, audiences: Collection[str], scope: Scope = EVERYTHING) -> Reach:
    """The active registered chats of the units of `audiences` (all when empty) in `scope`."""
    async with env.db.session() as session:
        found = await active_unit_chats(session, list(audiences))
    targets = [target for target in found if scope.covers(target.unit.parent)]
    example = outbox.as_core(targets[0].unit) if targets else None
    return Reach(len(targets), example)


@dataclass(frozen=True)
class Found:
    """One announcement, named by its number (its first row's id, as the list numbers them):
    its rows (`ids`, one per chat, a chat registered later included), when, what, to whom."""

    number: int
    at: dt.datetime
    text: str
    types: tuple[str, ...]
    ids: tuple[int, ...]


async def find(env: Env, number: int, scope: Scope = EVERYTHING) -> Found | None:
    """The announcement `number` names; None when there is none of this campaign, or it was
    made for units beyond `scope`."""
    async with env.db.session() as session:
        row = await session.get(Delivery, number)
        announcement = row.announcement if row is not None else None
        if row is None or announcement is None or row.campaign != env.campaign_key:
            return None
        if not announcement.scope <= scope:
            return None
        rows = (
            await session.execute(
                select(Delivery.id, Delivery.due_at)
                .where(Delivery.reference == row.reference, Delivery.campaign == row.campaign)
                .order_by(Delivery.id)
            )
        ).all()
    ids = tuple(id_ for id_, _ in rows)
    return Found(ids[0], min(at for _, at in rows), announcement.text, announcement.types, ids)


async def outcome_of(env: Env, number: int, scope: Scope = EVERYTHING) -> Outcome | None:
    """How the announcement `number` names stands; None when there is none (in `scope`)."""
    found = await find(env, number, scope)
    return await outcome(env, found.ids) if found is not None else None
