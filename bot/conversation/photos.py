"""Photos sent in a chat (`PhotoReceived`).

Until they are kept for the unit, a photo addressed to Loa is answered as before: Loa reads text
(`replies/text_only`); a photo in a group that does not address the bot passes unanswered.
"""

from __future__ import annotations

from bot.channels.base import PhotoReceived
from bot.conversation.context import ChatContext

BOT_NAME = "Loa"  # how the hint names the bot in a group


async def photo(ctx: ChatContext, event: PhotoReceived) -> None:
    message = event.message
    if message.addressed:
        await ctx.reply(message, "replies/text_only", bot_name=BOT_NAME)
