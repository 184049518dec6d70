"""Who wrote where: every message a chat handler takes first records its chat and sender."""

from __future__ import annotations

from bot.channels.base import InboundMessage
from bot.conversation.context import ChatContext
from bot.ops import chats
from bot.store.models import Chat, Role, Unit


async def visit(ctx: ChatContext, message: InboundMessage) -> tuple[Role, Chat, Unit | None]:
    """Remember the chat and the sender; their role, the chat, and the unit it is registered to."""
    role = Role.COORDINATOR if ctx.is_coordinator(message.sender) else Role.STAFF
    chat, unit = await chats.visit(
        ctx.env,
        chats.Visit(
            message.platform,
            message.chat_id,
            message.chat_type,
            message.chat_title,
            message.user_id,
            message.user_name,
            role,
        ),
    )
    return role, chat, unit
