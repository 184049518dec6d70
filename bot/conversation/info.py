"""What anyone may ask: /start, /help, /lich, /khaimac, /khauhieu."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.campaign.calendar import slogan_of, upcoming
from bot.channels.base import ChatType, InboundMessage
from bot.messages import catalogue, command_menu
from bot.store import chats
from bot.store.models import Unit

if TYPE_CHECKING:
    from bot.app import Loa


async def start(loa: Loa, message: InboundMessage, args: str) -> None:
    coordinator = loa.is_coordinator(message.sender)
    await loa.reply(
        message,
        "replies/start",
        unit=await unit_of_chat(loa, message),
        coordinator=coordinator,
        sender=message.sender,  # what LOA_ADMINS needs, shown to the person it names
    )
    if coordinator and message.chat_type is ChatType.PRIVATE:  # now the bot may write to them
        everyone, extra = command_menu()
        await loa.channel(message.platform).set_coordinator_commands(
            [*everyone, *extra], message.user_id
        )


async def commands_help(loa: Loa, message: InboundMessage, args: str) -> None:
    await loa.reply(
        message,
        "replies/help",
        menu=catalogue("commands"),
        coordinator=loa.is_coordinator(message.sender),
    )


async def schedule(loa: Loa, message: InboundMessage, args: str) -> None:
    unit = await unit_of_chat(loa, message)
    events = upcoming(loa.campaign, unit.type if unit else None, loa.clock.now())
    await loa.reply(message, "replies/schedule", unit=unit, events=events)


async def opening(loa: Loa, message: InboundMessage, args: str) -> None:
    await loa.reply(message, "replies/opening", opening=loa.campaign.opening)


async def slogan(loa: Loa, message: InboundMessage, args: str) -> None:
    today = loa.clock.now().astimezone(loa.campaign.tz).date()
    await loa.reply(message, "replies/slogan", today=today, of_day=slogan_of(loa.campaign, today))


async def unit_of_chat(loa: Loa, message: InboundMessage) -> Unit | None:
    async with loa.db.session() as session:
        chat = await chats.find(session, message.platform, message.chat_id)
        return await chats.unit_of(session, chat) if chat else None
