"""Binding chats to units in chat: `/dangky MÃ`, `/huydangky`, and what the platforms tell of a
chat (the bot added to it, removed from it, the chat moved). The operations are
`bot.ops.registration` and `bot.ops.chats`; this turns their outcomes into replies and notices.
"""

from __future__ import annotations

from typing import Any

from bot.address import Address
from bot.channels.base import BotAdded, BotRemoved, ChatMoved, ChatType, InboundMessage
from bot.conversation.context import ChatContext
from bot.ops import chats
from bot.ops.chats import Unregistered
from bot.ops.registration import (
    AlreadyRegistered,
    Busy,
    Claimant,
    OverBudget,
    Registered,
    Registration,
    Throttled,
    WrongCode,
)

UNREGISTER_REPLIES = {
    Unregistered.NOT_REGISTERED: "replies/not_registered",
    Unregistered.REFUSED: "replies/unregister_refused",
    Unregistered.UNREGISTERED: "replies/unregistered",
}


async def register(ctx: ChatContext, message: InboundMessage, args: str) -> None:
    if not args:
        await ctx.reply(message, "replies/register_usage")
        return
    claimant = Claimant(_chat(message), _person(message), group=message.chat_type is ChatType.GROUP)
    outcome = await ctx.registrar.register(ctx.env, claimant, args)  # `ABCDE FGHJK` as typed
    template, context = _registration_reply(outcome)
    await ctx.reply(message, template, **context)
    if isinstance(outcome, Registered):
        ctx.env.wake()  # its first deliveries may be due sooner than anything planned so far
        await ctx.notify_coordinators("replies/registered_notice", message=message, **context)


def _registration_reply(outcome: Registration) -> tuple[str, dict[str, Any]]:
    match outcome:
        case Registered(unit, registered, total):
            context = {"unit": unit, "registered": registered, "total": total}
            return "replies/registered", context
        case AlreadyRegistered(unit):
            return "replies/already_registered", {"unit": unit}
        case Throttled(minutes):
            return "replies/register_throttled", {"minutes": minutes}
        case Busy():
            return "replies/register_busy", {}
        case WrongCode():
            return "replies/register_wrong_code", {}


def tell_over_budget(ctx: ChatContext, over: OverBudget) -> None:
    """Guessing went over budget: the coordinators hear of it in the background, not in the
    way of the try that found it (`Registrar`'s `on_over_budget`)."""
    context = {"wrong": over.wrong, "budget": over.budget, "seconds": over.seconds}
    ctx.spawn(ctx.notify_coordinators("replies/guessing_notice", **context))


async def unregister(ctx: ChatContext, message: InboundMessage, args: str) -> None:
    """`/huydangky` unbinds this chat; a coordinator's `/huydangky MÃ-ĐƠN-VỊ` unbinds every chat
    of that unit, wherever it is typed (a code leaked to a stranger is revoked this way)."""
    if args and ctx.is_coordinator(message.sender):
        await _unregister_unit(ctx, message, args.split()[0])
        return
    allowed = ctx.is_coordinator(message.sender) or await ctx.channel(message.platform).is_admin(
        message.chat_id, message.user_id
    )
    done = await chats.unregister(ctx.env, _chat(message), _person(message), allowed)
    await ctx.reply(message, UNREGISTER_REPLIES[done.outcome], unit=done.unit)
    if done.outcome is Unregistered.UNREGISTERED:
        await ctx.notify_coordinators(
            "replies/unregistered_notice", message=message, unit=done.unit
        )


async def _unregister_unit(ctx: ChatContext, message: InboundMessage, code: str) -> None:
    scope = ctx.scope_of(message.sender)
    done = await chats.unregister_unit(ctx.env, code, _person(message), scope)
    await ctx.reply(
        message, "replies/unit_unregistered", code=code, unit=done.unit, chats=done.chats
    )
    for chat in done.reachable:
        await ctx.say(chat, "replies/unregistered_by_office", unit=done.unit)


async def bot_added(ctx: ChatContext, event: BotAdded) -> None:
    """Greet a group that added the bot; a registered one that had removed it is back."""
    by = Address(event.platform, event.by_user) if event.by_user else None
    where = Address(event.platform, event.chat_id)
    added = await chats.bot_added(ctx.env, where, event.chat_type, event.chat_title, by)
    await ctx.say(where, "replies/added", unit=added.unit)
    if added.unit is not None:
        ctx.env.wake()
        await ctx.notify_coordinators("replies/chat_back_notice", chat=added.chat, unit=added.unit)


async def chat_moved(ctx: ChatContext, event: ChatMoved) -> None:
    """A group became a supergroup: same unit, new address."""
    await chats.chat_moved(ctx.env, Address(event.platform, event.chat_id), event.new_chat_id)


async def bot_removed(ctx: ChatContext, event: BotRemoved) -> None:
    """The bot was removed from the chat: nothing is sent there now; the coordinators hear."""
    by = Address(event.platform, event.by_user) if event.by_user else None
    gone = await chats.chat_gone(ctx.env, Address(event.platform, event.chat_id), by)
    if gone is not None:
        await ctx.notify_coordinators("replies/chat_gone_notice", chat=gone.chat, unit=gone.unit)


def _chat(message: InboundMessage) -> Address:
    return Address(message.platform, message.chat_id)


def _person(message: InboundMessage) -> Address:
    """The sender, as audit entries name them (`message.sender`)."""
    return Address(message.platform, message.user_id)
