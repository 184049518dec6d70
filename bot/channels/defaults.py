"""Each platform's defaults, defined once: where its API is, where Loa listens for its webhook,
and how fast Loa sends to it. The settings (bot/config.py) read these as their defaults and the
adapters take them as their constructors' defaults; nothing else spells them.

Light on purpose (no platform library imported), so reading the settings stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

TELEGRAM_API = "https://api.telegram.org"
ZALO_API = "https://bot-api.zaloplatforms.com"

# Both platforms post to https only: a reverse proxy on this machine stands in front of Loa.
DEFAULT_WEBHOOK_HOST = "127.0.0.1"
TELEGRAM_WEBHOOK_PORT = 8080
ZALO_WEBHOOK_PORT = 8082  # beside Telegram's; the sandbox listens on 8081


@dataclass(frozen=True)
class TelegramLimits:
    """Telegram's flood limits: messages a second overall, a minute per group, a second per
    private chat (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this)."""

    overall_per_second: float = 30
    group_per_minute: float = 20
    private_per_second: float = 1


@dataclass(frozen=True)
class ZaloLimits:
    """How fast Loa sends. Zalo publishes no rate, so these stay well below any likely quota."""

    overall_per_second: float = 5
    chat_per_second: float = 1


PHOTO_FETCH_TIMEOUT = 30.0  # seconds for one photo, whole: getFile and the download

TELEGRAM_LIMITS = TelegramLimits()
ZALO_LIMITS = ZaloLimits()
