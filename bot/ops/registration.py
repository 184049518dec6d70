"""Binding a chat to a unit with the unit's registration code, and keeping codes unguessable.

A registration code is spent when used (the unit gets a fresh one for its next chat) and expires
a week after the report deadline. Codes cannot be guessed:
- a try is counted before its code is looked at (committed first, then counted with everyone
  else's, one try at a time), so 30 tries at once from 30 groups check `WRONG_CODE_LIMIT`;
- wrong codes count against both the chat and the person, an anonymous group admin (who writes
  as the group) being one person everywhere;
- past `WRONG_CODES_PER_HOUR` wrong codes across the bot, every check waits its turn, one per
  `SLOW_EVERY` seconds, and whoever built the `Registrar` hears of it once (`OverBudget`);
- whatever the outcome, the result never tells which codes exist: a chat already registered is
  told so whatever code it sends, and a wrong, spent or expired code gets one outcome.

The limits are read from this module when used, so that tests may lower them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.address import Address
from bot.campaign.model import Campaign
from bot.campaign.scope import EVERYTHING, Scope
from bot.delivery import outbox
from bot.ops.env import Env
from bot.store import audit, chats
from bot.store.chats import UnitChat
from bot.store.models import Chat, Unit, utcnow
from bot.store.units import unit_by_registration_code

WRONG_CODE_LIMIT = 5  # per chat and per person
WRONG_CODE_WINDOW = dt.timedelta(minutes=15)
WRONG_CODES_PER_HOUR = 100  # bot-wide; a registration morning of a province stays under it
SLOW_EVERY = 10.0  # seconds between two checks, bot-wide, while over the budget
SLOW_QUEUE = 30  # tries waiting their turn at most; the others are asked to come back
CODES_EXPIRE = dt.timedelta(days=7)  # after the report deadline
_HOUR = dt.timedelta(hours=1)
_MINUTE = dt.timedelta(minutes=1)
REFUSED = "registration_refused"  # audit action of a try, until its code proves right
SLOWED = "registration_slowed"


@dataclass(frozen=True)
class Claimant:
    """Who sends a code, and from which chat."""

    chat: Address
    person: Address
    group: bool  # the chat is a group (not a private chat)

    @property
    def guesser(self) -> str:
        """Whom a wrong code counts against: the person, or, for an admin writing anonymously
        as the group (a different "person" in every group), every anonymous admin of the
        platform."""
        as_group = self.group and self.person.id == self.chat.id
        return f"{self.chat.platform}:anonymous" if as_group else str(self.person)


@dataclass(frozen=True)
class Registered:
    """The chat now belongs to `unit`; `registered` of `total` units have an active chat."""

    unit: Unit
    registered: int
    total: int


@dataclass(frozen=True)
class AlreadyRegistered:
    """The chat has a unit already, whatever the code said."""

    unit: Unit


@dataclass(frozen=True)
class Throttled:
    """Too many wrong codes from this chat or person: the code was not looked at."""

    minutes: int  # until a try is counted again


@dataclass(frozen=True)
class Busy:
    """Too many tries wait their turn while guessing is over budget: come back later."""


@dataclass(frozen=True)
class WrongCode:
    """No unit has this live code (wrong, spent or expired: one outcome)."""


Registration = Registered | AlreadyRegistered | Throttled | Busy | WrongCode


@dataclass(frozen=True)
class OverBudget:
    """Wrong codes across the bot went over the hourly budget: checks slow down from now."""

    wrong: int  # wrong codes in the last hour
    budget: int
    seconds: float  # between two checks, bot-wide


def _nobody_told(over: OverBudget) -> None:
    """Without a face to tell, the spell of guessing is only in the audit log."""


def codes_expire(campaign: Campaign) -> dt.datetime:
    """When unspent codes stop working: a week after the units' report is due (or the week's
    end, for a campaign that asks no report)."""
    deadline = campaign.report_deadline
    due = deadline.due() if deadline else dt.datetime.combine(campaign.week.end, dt.time.max)
    return (due + CODES_EXPIRE).replace(tzinfo=campaign.tz)


class Registrar:
    """Registration in this process: tries counted one at a time; checks one at a time,
    `SLOW_EVERY` apart, while the bot is over its budget.

    `on_over_budget` hears of each spell of guessing once, as it begins, before the try that
    began it waits its turn; it must not block (schedule the telling, do not await it).
    """

    def __init__(self, on_over_budget: Callable[[OverBudget], None] = _nobody_told) -> None:
        self._on_over_budget = on_over_budget
        self._counting = asyncio.Lock()
        self._turns = asyncio.Lock()
        self._last = -math.inf  # when the last slowed check had its turn (monotonic)
        self._waiting = 0
        self._slowed = False

    async def register(self, env: Env, claimant: Claimant, code: str) -> Registration:
        """Bind the claimant's chat to the unit whose live registration code is `code`
        (`ABCDE FGHJK` as typed). When `Registered`, the chat's first deliveries are planned:
        wake the sender once the claimant has been answered."""
        async with self._counting:  # exact counts in this process; the order below holds across
            counted = await _count_try(env, claimant)
        if not isinstance(counted, _Counted):
            return counted
        if not await self._take_turn(env, counted.wrong_last_hour):
            async with env.db.session() as session, session.begin():
                await audit.forget(session, counted.attempt)
            return Busy()
        async with env.db.session() as session, session.begin():
            return await _check(env, session, claimant, counted, code)

    async def _take_turn(self, env: Env, wrong_last_hour: int) -> bool:
        """Wait for this check's turn; False when too many are waiting already."""
        over = wrong_last_hour > WRONG_CODES_PER_HOUR  # this try is among them
        if not over:
            self._slowed = False
            return True
        if not self._slowed:  # once per spell, not per try
            self._slowed = True
            async with env.db.session() as session, session.begin():
                audit.record(session, "loa", SLOWED, wrong=wrong_last_hour)
            self._on_over_budget(OverBudget(wrong_last_hour, WRONG_CODES_PER_HOUR, SLOW_EVERY))
        if self._waiting >= SLOW_QUEUE:
            return False
        self._waiting += 1
        try:
            async with self._turns:
                await asyncio.sleep(max(0.0, self._last + SLOW_EVERY - time.monotonic()))
                self._last = time.monotonic()
        finally:
            self._waiting -= 1
        return True


@dataclass(frozen=True)
class _Counted:
    chat_id: int
    attempt: int  # the try's audit entry
    wrong_last_hour: int  # bot-wide


async def _count_try(env: Env, claimant: Claimant) -> Registration | _Counted:
    """Count this try, then refuse it if it is over a limit: the counted try, or the outcome
    when its code must not be checked."""
    guesser = claimant.guesser
    where = claimant.chat
    async with env.db.session() as session, session.begin():
        chat = await chats.find(session, where.platform, where.id)
        assert chat is not None  # met by the visit before any command runs
        current = await chats.unit_of(session, chat)
        if current is not None:  # whatever the code: the answer must not depend on it
            return AlreadyRegistered(current)
        attempt = audit.record(session, guesser, REFUSED, chat)  # until the code proves right
    now = utcnow()  # guessing is throttled in real time, whatever the campaign's clock says
    async with env.db.session() as session, session.begin():
        tries = await audit.recent(
            session, REFUSED, now - WRONG_CODE_WINDOW, chat=chat, actor=guesser
        )
        if len(tries) > WRONG_CODE_LIMIT:  # this one among them: it is not checked
            await audit.forget(session, attempt.id)
            wait = tries[-WRONG_CODE_LIMIT - 1] + WRONG_CODE_WINDOW - now
            return Throttled(max(1, math.ceil(wait / _MINUTE)))
        wrong = await audit.count_since(session, REFUSED, now - _HOUR)
    return _Counted(chat.id, attempt.id, wrong)


async def _check(
    env: Env, session: AsyncSession, claimant: Claimant, counted: _Counted, code: str
) -> Registration:
    """Bind the chat if `code` is a unit's live code; the try stays counted as wrong if not."""
    chat = await session.get(Chat, counted.chat_id)
    assert chat is not None
    expired = env.clock.now() >= codes_expire(env.campaign)
    unit = None if expired else await unit_by_registration_code(session, code)
    if unit is None or not await chats.bind(session, chat, unit):
        return WrongCode()
    await audit.forget(session, counted.attempt)
    audit.record(session, str(claimant.person), "registered", chat, unit)
    target = UnitChat(chat, unit)
    await outbox.plan_chat(session, env.campaign_key, env.campaign, target, env.clock.now())
    return Registered(unit, *await tally(session))


async def tally(session: AsyncSession, scope: Scope = EVERYTHING) -> tuple[int, int]:
    """How many units of `scope` have a registered, active chat, and how many units it has."""
    reached = [yes for parent, yes in await chats.reach(session) if scope.covers(parent)]
    return sum(reached), len(reached)
