"""What anyone may ask: /start, /help, /lich, /khaimac, /khauhieu."""

from __future__ import annotations

from bot.address import Address
from bot.campaign.calendar import slogan_of, upcoming
from bot.channels.base import ChatType, InboundMessage
from bot.conversation.context import ChatContext
from bot.messages import catalogue, command_menu
from bot.ops import chats
from bot.store.models import Unit


async def start(ctx: ChatContext, message: InboundMessage, args: str) -> None:
    coordinator = ctx.is_coordinator(message.sender)
    await ctx.reply(
        message,
        "replies/start",
        unit=await unit_of_chat(ctx, message),
        coordinator=coordinator,
        sender=message.sender,  # what LOA_ADMINS needs, shown to the person it names
        web=ctx.web_link("/") is not None,  # /quanly is worth a mention
    )
    if coordinator and message.chat_type is ChatType.PRIVATE:  # now the bot may write to them
        everyone, extra = command_menu()
        await ctx.channel(message.platform).set_coordinator_commands(
            [*everyone, *extra], message.user_id
        )


async def commands_help(ctx: ChatContext, message: InboundMessage, args: str) -> None:
    await ctx.reply(
        message,
        "replies/help",
        menu=catalogue("commands"),
        coordinator=ctx.is_coordinator(message.sender),
    )


async def schedule(ctx: ChatContext, message: InboundMessage, args: str) -> None:
    unit = await unit_of_chat(ctx, message)
    events = upcoming(ctx.campaign, unit.type if unit else None, ctx.env.clock.now())
    await ctx.reply(message, "replies/schedule", unit=unit, events=events)


async def opening(ctx: ChatContext, message: InboundMessage, args: str) -> None:
    await ctx.reply(message, "replies/opening", opening=ctx.campaign.opening)


async def slogan(ctx: ChatContext, message: InboundMessage, args: str) -> None:
    today = ctx.env.clock.now().astimezone(ctx.campaign.tz).date()
    await ctx.reply(message, "replies/slogan", today=today, of_day=slogan_of(ctx.campaign, today))


async def unit_of_chat(ctx: ChatContext, message: InboundMessage) -> Unit | None:
    return await chats.unit_of_chat(ctx.env, Address(message.platform, message.chat_id))
