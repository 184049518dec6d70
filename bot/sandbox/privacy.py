"""Privacy mode: which group messages a bot with privacy on receives.

Telegram documents it at https://core.telegram.org/bots/features#privacy-mode. In groups such a
bot receives:

- commands explicitly meant for it (`/cmd@this_bot`);
- general commands (`/cmd` without a bot name) if it was the last bot to send a message to the
  group;
- replies to its own messages;
- messages that @mention it (BotFather's description of the setting names these; the page
  does not list them);
- service messages, like every bot (the world sends those without asking this module).

Bots that are admins of a group receive everything on Telegram; the sandbox has no bot admins.

The page leaves open who gets a general command before any bot has spoken. The rule here: the
*addressee* of general commands is the last bot that sent a message to the group and is still a
member of it; when there is no addressee (no bot has spoken yet, or the last one has left) every
bot in the group receives them. A bot alone in a group therefore always receives them, and of
two bots only the one that spoke last does. Bots with privacy off receive everything.
"""

from __future__ import annotations

from bot.sandbox.formatting import entity_text
from bot.sandbox.model import Bot
from bot.sandbox.wire import JSON


def receives(bot: Bot, message: JSON, addressee: str | None) -> bool:
    """Whether `bot` gets this group message; `addressee` is the token general commands go to."""
    if not bot.privacy:
        return True
    # a photo's or a document's caption counts as its text (commands and mentions alike)
    text: str = message.get("text") or message.get("caption") or ""
    entities: list[JSON] = message.get("entities") or message.get("caption_entities") or []
    for entity in entities:
        if entity["type"] == "bot_command" and entity["offset"] == 0:
            target = entity_text(text, entity).partition("@")[2]
            if target.lower() == bot.username.lower():
                return True
            if not target and addressee in (None, bot.token):
                return True
    replied = message.get("reply_to_message", {}).get("from", {})
    if replied.get("id") == bot.id:
        return True
    mention = f"@{bot.username}".lower()
    return any(
        entity["type"] == "mention" and entity_text(text, entity).lower() == mention
        for entity in entities
    )
