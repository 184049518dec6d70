"""What the sandbox tests share besides fixtures: tokens and the fetch-and-confirm helper."""

from __future__ import annotations

import telegram
from telegram import Update

TOKEN = "123456:sandbox-token"
OTHER = "654321:other-token"


async def drain(bot: telegram.Bot, **kwargs: object) -> tuple[Update, ...]:
    """Fetch and confirm everything pending."""
    found = await bot.get_updates(**kwargs)
    if found:
        await bot.get_updates(offset=found[-1].update_id + 1)
    return found
