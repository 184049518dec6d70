"""Commands as people type them (`/lich`, `/dangky MÃ`), who may run each, and where they go.

Commands are routed here for every platform alike; the adapters have already removed Telegram's
`@botname` suffix. Descriptions live in messages/commands.yaml.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.address import Address
from bot.channels.base import ChatType, InboundMessage
from bot.conversation import coordinator, info, photos, registration, reporting
from bot.conversation.context import ChatContext
from bot.conversation.visits import visit
from bot.ops import chats
from bot.store.models import Role

Handler = Callable[[ChatContext, InboundMessage, str], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str
    run: Handler
    coordinators_only: bool = False


COMMANDS = {
    c.name: c
    for c in [
        Command("start", info.start),
        Command("help", info.commands_help),
        Command("lich", info.schedule),
        Command("khaimac", info.opening),
        Command("khauhieu", info.slogan),
        Command("dangky", registration.register),
        Command("huydangky", registration.unregister),
        Command("baocao", reporting.start),
        Command("xem", reporting.show),
        Command("sua", reporting.correct),
        Command("nhaplieu", reporting.web_form),
        Command("anh", photos.command),
        Command("thongbao", coordinator.broadcast, coordinators_only=True),
        Command("tiendo", coordinator.progress, coordinators_only=True),
        Command("lichthongbao", coordinator.scheduled, coordinators_only=True),
        Command("huythongbao", coordinator.cancel_scheduled, coordinators_only=True),
        Command("xuat", coordinator.export, coordinators_only=True),
        Command("quanly", coordinator.console_link, coordinators_only=True),
    ]
}


def parse(text: str) -> tuple[str, str] | None:
    """`/dangky  ab12 ` -> ("dangky", "ab12"); None when the text is not a command."""
    if not text.startswith("/") or len(text) < 2 or text[1].isspace():
        return None
    head, *rest = text[1:].split(maxsplit=1)
    return head.lower(), (rest[0].strip() if rest else "")


async def dispatch(ctx: ChatContext, message: InboundMessage) -> None:
    """Remember the chat and the sender, then run the command (or say how to use Loa)."""
    role, chat, unit = await visit(ctx, message)
    parsed = parse(message.text)
    if parsed is None:
        if await reporting.on_text(ctx, message, chat, unit):
            return
        if message.addressed:
            await ctx.reply(message, "replies/not_understood")
        return
    name, args = parsed
    command = COMMANDS.get(name)
    if command is None:
        if message.chat_type is ChatType.PRIVATE:  # in a group it may be another bot's command
            await ctx.reply(message, "replies/unknown_command", name=name)
    elif command.coordinators_only and role is not Role.COORDINATOR:
        by = Address(message.platform, message.user_id)
        await chats.note_refused(ctx.env, by, chat, name)
        await ctx.reply(message, "replies/coordinators_only", name=name)
    else:
        await command.run(ctx, message, args)
