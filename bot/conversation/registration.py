"""Binding chats to units: `/dangky MÃ`, `/huydangky`, and the bot being removed from a chat.

A registration code is spent when used (the unit gets a fresh one for its next chat) and expires
a week after the report deadline. Codes cannot be guessed:
- a try is counted before its code is looked at (committed first, then counted with everyone
  else's, one try at a time), so 30 tries at once from 30 groups check `WRONG_CODE_LIMIT`;
- wrong codes count against both the chat and the person, an anonymous group admin (who writes
  as the group) being one person everywhere;
- past `WRONG_CODES_PER_HOUR` wrong codes across the bot, every check waits its turn, one per
  `SLOW_EVERY` seconds, and the coordinators are told once;
- whatever the outcome, the reply never tells which codes exist: a chat already registered is
  told so whatever code it sends, and a wrong, spent or expired code gets one answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.address import Address
from bot.campaign.model import Campaign
from bot.channels.base import BotAdded, BotRemoved, ChatMoved, ChatType, InboundMessage
from bot.delivery import outbox
from bot.store import audit, chats
from bot.store.chats import UnitChat
from bot.store.models import Chat, utcnow
from bot.store.units import unit_by_code, unit_by_registration_code

if TYPE_CHECKING:
    from bot.app import Loa

WRONG_CODE_LIMIT = 5  # per chat and per person
WRONG_CODE_WINDOW = dt.timedelta(minutes=15)
WRONG_CODES_PER_HOUR = 100  # bot-wide; a registration morning of a province stays under it
SLOW_EVERY = 10.0  # seconds between two checks, bot-wide, while over the budget
SLOW_QUEUE = 30  # tries waiting their turn at most; the others are asked to come back
CODES_EXPIRE = dt.timedelta(days=7)  # after the report deadline
_HOUR = dt.timedelta(hours=1)
_MINUTE = dt.timedelta(minutes=1)
REFUSED = "registration_refused"
SLOWED = "registration_slowed"
REGISTERED = "replies/registered"
WRONG_CODE = "replies/register_wrong_code"


@dataclass(frozen=True)
class Reply:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


async def register(loa: Loa, message: InboundMessage, args: str) -> None:
    if not args:
        await loa.reply(message, "replies/register_usage")
        return
    reply = await _register(loa, message, args)  # `ABCDE FGHJK` as typed
    await loa.reply(message, reply.template, **reply.context)
    if reply.template == REGISTERED:
        loa.wake()  # its first deliveries may be due sooner than anything planned so far
        await loa.notify_coordinators(f"{REGISTERED}_notice", message=message, **reply.context)


async def _register(loa: Loa, message: InboundMessage, code: str) -> Reply:
    gate = _gates.setdefault(loa, _Gate())
    async with gate.counting:  # exact counts in this process; the order below holds across
        counted = await _count_try(loa, message)
    if isinstance(counted, Reply):
        return counted
    chat_id, attempt, wrong = counted
    if not await _take_turn(loa, gate, wrong):
        async with loa.db.session() as session, session.begin():
            await audit.forget(session, attempt)
        return Reply("replies/register_busy")
    async with loa.db.session() as session, session.begin():
        return await _check(loa, session, message, chat_id, attempt, code)


async def _count_try(loa: Loa, message: InboundMessage) -> Reply | tuple[int, int, int]:
    """Count this try, then refuse it if it is over a limit: (chat id, try's entry id, wrong
    codes bot-wide in the last hour), or the reply when it must not be checked."""
    guesser = _guesser(message)
    async with loa.db.session() as session, session.begin():
        chat = await chats.find(session, message.platform, message.chat_id)
        assert chat is not None  # met by the dispatcher before any command runs
        current = await chats.unit_of(session, chat)
        if current is not None:  # whatever the code: the answer must not depend on it
            return Reply("replies/already_registered", {"unit": current})
        attempt = audit.record(session, guesser, REFUSED, chat)  # until the code proves right
    now = utcnow()  # guessing is throttled in real time, whatever the campaign's clock says
    async with loa.db.session() as session, session.begin():
        tries = await audit.recent(
            session, REFUSED, now - WRONG_CODE_WINDOW, chat=chat, actor=guesser
        )
        if len(tries) > WRONG_CODE_LIMIT:  # this one among them: it is not checked
            await audit.forget(session, attempt.id)
            wait = tries[-WRONG_CODE_LIMIT - 1] + WRONG_CODE_WINDOW - now
            return Reply(
                "replies/register_throttled", {"minutes": max(1, math.ceil(wait / _MINUTE))}
            )
        wrong = await audit.count_since(session, REFUSED, now - _HOUR)
    return chat.id, attempt.id, wrong


async def _check(
    loa: Loa, session: AsyncSession, message: InboundMessage, chat_id: int, attempt: int, code: str
) -> Reply:
    """Bind the chat if `code` is a unit's live code; the try stays counted as wrong if not."""
    chat = await session.get(Chat, chat_id)
    assert chat is not None
    expired = loa.clock.now() >= codes_expire(loa.campaign)
    unit = None if expired else await unit_by_registration_code(session, code)
    if unit is None or not await chats.bind(session, chat, unit):
        return Reply(WRONG_CODE)
    await audit.forget(session, attempt)
    audit.record(session, message.sender, "registered", chat, unit)
    target = UnitChat(chat, unit)
    await outbox.plan_chat(session, loa.campaign_key, loa.campaign, target, loa.clock.now())
    registered = {c.unit_id for c in await chats.registered_chats(session) if c.active}
    total = len(await chats.all_units(session))
    return Reply(REGISTERED, {"unit": unit, "registered": len(registered), "total": total})


def _guesser(message: InboundMessage) -> str:
    """Whom a wrong code counts against: the sender, or, for an admin writing anonymously as
    the group (a different "person" in every group), every anonymous admin of the platform."""
    as_group = message.chat_type is ChatType.GROUP and message.user_id == message.chat_id
    return f"{message.platform}:anonymous" if as_group else message.sender


def codes_expire(campaign: Campaign) -> dt.datetime:
    """When unspent codes stop working: a week after the units' report is due (or the week's
    end, for a campaign that asks no report)."""
    deadline = campaign.report_deadline
    due = deadline.due() if deadline else dt.datetime.combine(campaign.week.end, dt.time.max)
    return (due + CODES_EXPIRE).replace(tzinfo=campaign.tz)


@dataclass
class _Gate:
    """Tries counted one at a time; checks one at a time, `SLOW_EVERY` apart, while the bot is
    over its budget."""

    counting: asyncio.Lock = field(default_factory=asyncio.Lock)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last: float = -math.inf
    waiting: int = 0
    slowed: bool = False


_gates: weakref.WeakKeyDictionary[Loa, _Gate] = weakref.WeakKeyDictionary()


async def _take_turn(loa: Loa, gate: _Gate, wrong_last_hour: int) -> bool:
    """Wait for this check's turn; False when too many are waiting already."""
    over = wrong_last_hour > WRONG_CODES_PER_HOUR  # this try is among them
    if not over:
        gate.slowed = False
        return True
    if not gate.slowed:  # once per spell, not per try
        gate.slowed = True
        await _alert(loa, wrong_last_hour)
    if gate.waiting >= SLOW_QUEUE:
        return False
    gate.waiting += 1
    try:
        async with gate.lock:
            await asyncio.sleep(max(0.0, gate.last + SLOW_EVERY - time.monotonic()))
            gate.last = time.monotonic()
    finally:
        gate.waiting -= 1
    return True


async def _alert(loa: Loa, wrong: int) -> None:
    async with loa.db.session() as session, session.begin():
        audit.record(session, "loa", SLOWED, wrong=wrong)
    context = {"wrong": wrong, "budget": WRONG_CODES_PER_HOUR, "seconds": SLOW_EVERY}
    loa.spawn(
        loa.notify_coordinators("replies/guessing_notice", **context)
    )  # not in this try's way


async def unregister(loa: Loa, message: InboundMessage, args: str) -> None:
    """`/huydangky` unbinds this chat; a coordinator's `/huydangky MÃ-ĐƠN-VỊ` unbinds every chat
    of that unit, wherever it is typed (a code leaked to a stranger is revoked this way)."""
    if args and loa.is_coordinator(message.sender):
        await _unregister_unit(loa, message, args.split()[0])
        return
    allowed = loa.is_coordinator(message.sender) or await loa.channel(message.platform).is_admin(
        message.chat_id, message.user_id
    )
    async with loa.db.session() as session, session.begin():
        chat = await chats.find(session, message.platform, message.chat_id)
        unit = await chats.unit_of(session, chat) if chat else None
        if chat is None or unit is None:
            template = "replies/not_registered"
        elif not allowed:
            audit.record(session, message.sender, "refused", chat, unit, command="huydangky")
            template = "replies/unregister_refused"
        else:
            chats.unbind(chat)
            await outbox.cancel_chat(session, chat)
            audit.record(session, message.sender, "unregistered", chat, unit)
            template = "replies/unregistered"
    await loa.reply(message, template, unit=unit)
    if template == "replies/unregistered":
        await loa.notify_coordinators("replies/unregistered_notice", message=message, unit=unit)


async def _unregister_unit(loa: Loa, message: InboundMessage, code: str) -> None:
    async with loa.db.session() as session, session.begin():
        unit = await unit_by_code(session, code)
        bound = await chats.chats_of(session, unit) if unit else []
        for chat in bound:
            chats.unbind(chat)
            await outbox.cancel_chat(session, chat)
            audit.record(session, message.sender, "unregistered", chat, unit)
    await loa.reply(message, "replies/unit_unregistered", code=code, unit=unit, chats=bound)
    for chat in bound:
        if chat.active:
            await loa.say(
                Address(chat.platform, chat.external_id),
                "replies/unregistered_by_office",
                unit=unit,
            )


async def bot_added(loa: Loa, event: BotAdded) -> None:
    """Greet a group that added the bot; a registered one that had removed it is back."""
    async with loa.db.session() as session, session.begin():
        chat = await chats.meet(
            session, event.platform, event.chat_id, event.chat_type, event.chat_title
        )
        unit = await chats.unit_of(session, chat)
        actor = f"{event.platform}:{event.by_user}" if event.by_user else "loa"
        audit.record(session, actor, "bot_added", chat, unit)
        if unit is not None:
            target = UnitChat(chat, unit)
            await outbox.plan_chat(session, loa.campaign_key, loa.campaign, target, loa.clock.now())
    await loa.say(Address(event.platform, event.chat_id), "replies/added", unit=unit)
    if unit is not None:
        loa.wake()
        await loa.notify_coordinators("replies/chat_back_notice", chat=chat, unit=unit)


async def chat_moved(loa: Loa, event: ChatMoved) -> None:
    """A group became a supergroup: same unit, new address."""
    try:
        await _move(loa, event)
    except IntegrityError:  # someone's first message there created the new chat meanwhile
        await _move(loa, event)


async def _move(loa: Loa, event: ChatMoved) -> None:
    async with loa.db.session() as session, session.begin():
        chat = await chats.move(session, event.platform, event.chat_id, event.new_chat_id)
        if chat is not None:
            unit = await chats.unit_of(session, chat)
            detail = {"old": event.chat_id, "new": event.new_chat_id}
            audit.record(session, "loa", "chat_moved", chat, unit, **detail)


async def bot_removed(loa: Loa, event: BotRemoved) -> None:
    await chat_gone(loa, event.platform, event.chat_id, event.by_user)


async def chat_gone(loa: Loa, platform: str, chat_id: str, by_user: str | None) -> None:
    """The bot can no longer write in the chat: stop sending there and tell the coordinators."""
    async with loa.db.session() as session, session.begin():
        chat = await chats.find(session, platform, chat_id)
        if chat is None or not chat.active:
            return
        chats.deactivate(chat)
        unit = await chats.unit_of(session, chat)
        actor = f"{platform}:{by_user}" if by_user else "loa"
        audit.record(session, actor, "bot_removed", chat, unit)
    await loa.notify_coordinators("replies/chat_gone_notice", chat=chat, unit=unit)
