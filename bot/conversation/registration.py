"""Binding chats to units: `/dangky MÃ`, `/huydangky`, and the bot being removed from a chat.

A registration code is spent when used (the unit gets a fresh one for its next chat). Wrong codes
count against both the chat and the person; past the limit they are refused unchecked for a while,
so codes cannot be guessed. Whatever the outcome, the reply never tells which codes exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from math import ceil
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import BotAdded, BotRemoved, ChatMoved, InboundMessage
from bot.delivery import outbox
from bot.store import audit, chats
from bot.store.chats import UnitChat
from bot.store.models import utcnow
from bot.store.units import unit_by_code, unit_by_registration_code

if TYPE_CHECKING:
    from bot.app import Loa

WRONG_CODE_LIMIT = 5
WRONG_CODE_WINDOW = dt.timedelta(minutes=15)
_MINUTE = dt.timedelta(minutes=1)
REFUSED = "registration_refused"
REGISTERED = "replies/registered"


@dataclass(frozen=True)
class Reply:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


async def register(loa: Loa, message: InboundMessage, args: str) -> None:
    if not args:
        await loa.reply(message, "replies/register_usage")
        return
    async with loa.db.session() as session, session.begin():
        reply = await _register(loa, session, message, args)  # `ABC 234` as typed
    await loa.reply(message, reply.template, **reply.context)
    if reply.template == REGISTERED:
        loa.wake()  # its first deliveries may be due sooner than anything planned so far
        await loa.notify_coordinators(f"{REGISTERED}_notice", message=message, **reply.context)


async def _register(loa: Loa, session: AsyncSession, message: InboundMessage, code: str) -> Reply:
    now = utcnow()  # guessing is throttled in real time, whatever the campaign's clock says
    chat = await chats.find(session, message.platform, message.chat_id)
    assert chat is not None  # met by the dispatcher before any command runs
    failures = await audit.recent(
        session, REFUSED, now - WRONG_CODE_WINDOW, chat=chat, actor=message.sender
    )
    if len(failures) >= WRONG_CODE_LIMIT:
        wait = failures[-WRONG_CODE_LIMIT] + WRONG_CODE_WINDOW - now
        return Reply("replies/register_throttled", {"minutes": max(1, ceil(wait / _MINUTE))})
    unit = await unit_by_registration_code(session, code)
    if unit is None or not await chats.bind(session, chat, unit):
        current = await chats.unit_of(session, chat)
        if unit is not None and current is not None:
            same = current.id == unit.id
            return Reply(
                f"replies/{'already_registered' if same else 'registered_elsewhere'}",
                {"unit": current},
            )
        audit.record(session, message.sender, REFUSED, chat)
        return Reply("replies/register_wrong_code")
    audit.record(session, message.sender, "registered", chat, unit)
    target = UnitChat(chat, unit)
    await outbox.plan_chat(session, loa.campaign_key, loa.campaign, target, loa.clock.now())
    registered = {c.unit_id for c in await chats.registered_chats(session) if c.active}
    total = len(await chats.all_units(session))
    return Reply(REGISTERED, {"unit": unit, "registered": len(registered), "total": total})


async def unregister(loa: Loa, message: InboundMessage, args: str) -> None:
    """`/huydangky` unbinds this chat; a coordinator's `/huydangky MÃ-ĐƠN-VỊ` unbinds every chat
    of that unit, wherever it is typed (a code leaked to a stranger is revoked this way)."""
    if args and loa.is_coordinator(message.sender):
        await _unregister_unit(loa, message, args.split()[0])
        return
    allowed = loa.is_coordinator(message.sender) or await loa.channels[message.platform].is_admin(
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
                chat.platform, chat.external_id, "replies/unregistered_by_office", unit=unit
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
    await loa.say(event.platform, event.chat_id, "replies/added", unit=unit)
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
