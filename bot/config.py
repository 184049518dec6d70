"""Settings from the environment (and `.env`): the names docs/design.md lists, nothing else.

Secrets live here and nowhere else; `secrets()` lists them so logging can mask them.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from bot.address import Address
from bot.campaign.scope import EVERYTHING, Scope, parent_code
from bot.channels.defaults import (
    DEFAULT_WEBHOOK_HOST,
    TELEGRAM_API,
    TELEGRAM_LIMITS,
    TELEGRAM_WEBHOOK_PORT,
    ZALO_API,
    ZALO_LIMITS,
    ZALO_WEBHOOK_PORT,
    TelegramLimits,
    ZaloLimits,
)
from bot.errors import Invalid, Problem
from bot.store.defaults import DEFAULT_DATABASE_URL, PHOTO_MAX_BYTES, PHOTOS_PER_UNIT, PhotoSettings

# The platforms' defaults are defined with the channels (bot/channels/defaults.py), the
# database's with the store; their names are importable from here too, where the settings'
# readers have always found them.
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
DEFAULT_LOG_LEVEL = "INFO"
DEFAULT_WEB_HOST = "127.0.0.1"  # the console listens on loopback: a proxy in front publishes it
DEFAULT_WEB_PORT = 8088
API_TOKEN_MIN = 16  # characters: a short token is guessed, and masking it would garble the logs
_ON, _OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")

Get = Callable[[str], str | None]  # a setting's value by name, None when unset or blank


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    telegram_token: str | None = field(default=None, repr=False)
    telegram_api_base_url: str = TELEGRAM_API
    zalo_token: str | None = field(default=None, repr=False)
    zalo_api_base_url: str = ZALO_API
    admins: frozenset[str] = field(default_factory=frozenset)  # "telegram:123", "zalo:abc"
    # a scoped coordinator's parents (`zalo:abc@XA-PHU-THANH`); one absent coordinates everything
    scopes: Mapping[str, Scope] = field(default_factory=dict, hash=False)
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_host: str = DEFAULT_WEBHOOK_HOST  # where the webhook servers listen, behind the proxy
    webhook_port: int = TELEGRAM_WEBHOOK_PORT
    campaign: Path | None = None
    timezone: str = DEFAULT_TIMEZONE
    log_level: str = DEFAULT_LOG_LEVEL
    # messages a second, all chats together
    telegram_rate_overall: float = TELEGRAM_LIMITS.overall_per_second
    telegram_rate_group: float = TELEGRAM_LIMITS.group_per_minute  # messages a minute, per group
    # messages a second, per private chat
    telegram_rate_private: float = TELEGRAM_LIMITS.private_per_second
    zalo_webhook_url: str | None = None  # Zalo's webhook, served apart from Telegram's
    zalo_webhook_host: str = DEFAULT_WEBHOOK_HOST
    zalo_webhook_port: int = ZALO_WEBHOOK_PORT
    # messages a second, all chats together (Zalo publishes none)
    zalo_rate_overall: float = ZALO_LIMITS.overall_per_second
    zalo_rate_chat: float = ZALO_LIMITS.chat_per_second  # messages a second, per chat
    web: bool = True  # `loa run` serves the coordinators' console (LOA_WEB=0: it does not)
    web_host: str = DEFAULT_WEB_HOST
    web_port: int = DEFAULT_WEB_PORT
    # where links in chats point (the console as people reach it), without a trailing slash
    public_url: str = f"http://{DEFAULT_WEB_HOST}:{DEFAULT_WEB_PORT}"
    api_token: str | None = field(default=None, repr=False)  # /api/ by `Bearer`, not a session
    # units' photos: where, how many, how large
    photos: PhotoSettings = field(default_factory=PhotoSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, env_file: str = ".env") -> Settings:
        """Read the process environment; `.env` fills in what it does not set.

        Raises `Invalid` for a setting that cannot be used.
        """
        values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
        values.update(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            return (values.get(name) or "").strip() or None

        campaign = get("LOA_CAMPAIGN")
        coordinators = parse_coordinators(get("LOA_ADMINS") or "")
        web_host = get("LOA_WEB_HOST") or DEFAULT_WEB_HOST
        web_port = _port(get("LOA_WEB_PORT"), "LOA_WEB_PORT") or DEFAULT_WEB_PORT
        return cls(
            database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            telegram_token=get("TELEGRAM_BOT_TOKEN"),
            telegram_api_base_url=(get("TELEGRAM_API_BASE_URL") or TELEGRAM_API).rstrip("/"),
            zalo_token=get("ZALO_BOT_TOKEN"),
            zalo_api_base_url=(get("ZALO_API_BASE_URL") or ZALO_API).rstrip("/"),
            admins=frozenset(str(a) for a in coordinators),
            scopes={str(a): scope for a, scope in coordinators.items() if not scope.everything},
            webhook_url=get("WEBHOOK_URL"),
            webhook_secret=_webhook_secret(
                get("WEBHOOK_SECRET"), get("WEBHOOK_URL") or get("ZALO_WEBHOOK_URL")
            ),
            webhook_host=get("WEBHOOK_HOST") or DEFAULT_WEBHOOK_HOST,
            webhook_port=_port(get("WEBHOOK_PORT")) or TELEGRAM_WEBHOOK_PORT,
            campaign=Path(campaign) if campaign else None,
            timezone=get("TZ") or DEFAULT_TIMEZONE,
            log_level=_log_level(get("LOA_LOG_LEVEL")),
            telegram_rate_overall=_rate(
                "TELEGRAM_RATE_OVERALL", get, TELEGRAM_LIMITS.overall_per_second
            ),
            telegram_rate_group=_rate("TELEGRAM_RATE_GROUP", get, TELEGRAM_LIMITS.group_per_minute),
            telegram_rate_private=_rate(
                "TELEGRAM_RATE_PRIVATE", get, TELEGRAM_LIMITS.private_per_second
            ),
            zalo_webhook_url=get("ZALO_WEBHOOK_URL"),
            zalo_webhook_host=get("ZALO_WEBHOOK_HOST") or DEFAULT_WEBHOOK_HOST,
            zalo_webhook_port=_port(get("ZALO_WEBHOOK_PORT"), "ZALO_WEBHOOK_PORT")
            or ZALO_WEBHOOK_PORT,
            zalo_rate_overall=_rate("ZALO_RATE_OVERALL", get, ZALO_LIMITS.overall_per_second),
            zalo_rate_chat=_rate("ZALO_RATE_CHAT", get, ZALO_LIMITS.chat_per_second),
            web=_switch("LOA_WEB", get("LOA_WEB")),
            web_host=web_host,
            web_port=web_port,
            public_url=_public_url(get("LOA_PUBLIC_URL"), web_host, web_port),
            api_token=_api_token(get("LOA_API_TOKEN")),
            photos=_photos(get),
        )

    def secrets(self) -> list[str]:
        """Every value that must never reach a log line."""
        return [
            s
            for s in (self.telegram_token, self.zalo_token, self.webhook_secret, self.api_token)
            if s
        ]

    @property
    def coordinators(self) -> frozenset[Address]:
        """`admins` as addresses (`admins` keeps the `platform:id` text its readers compare)."""
        return frozenset(Address.parse(admin) for admin in self.admins)

    def scope_of(self, admin: str) -> Scope:
        """What `admin` (`platform:id`, one of `admins`) coordinates."""
        return self.scopes.get(admin, EVERYTHING)

    def telegram_limits(self) -> TelegramLimits:
        return TelegramLimits(
            self.telegram_rate_overall, self.telegram_rate_group, self.telegram_rate_private
        )

    def zalo_limits(self) -> ZaloLimits:
        return ZaloLimits(self.zalo_rate_overall, self.zalo_rate_chat)


def parse_coordinators(text: str) -> dict[Address, Scope]:
    """`telegram:123, zalo:abc@XA-PHU-THANH` (commas or semicolons) -> each coordinator and what
    they coordinate: the units of the parent after `@`, everything without one. Someone listed
    twice coordinates both; listed once without a parent, everything. `Invalid` names the first
    entry that is not one."""
    found: dict[Address, Scope] = {}
    for entry in text.replace(";", ",").split(","):
        entry = entry.strip()
        if not entry:
            continue
        who, at, parent = entry.partition("@")
        code = parent_code(parent)
        try:
            address = Address.parse(who)
        except ValueError:
            raise Invalid([Problem(("LOA_ADMINS",), "admins_format", {"entry": entry})]) from None
        if at and (code is None or code != parent.strip()):
            problem = Problem(("LOA_ADMINS",), "admins_scope", {"entry": entry, "code": code})
            raise Invalid([problem])
        scope = Scope(frozenset({code})) if code else EVERYTHING
        found[address] = found[address] | scope if address in found else scope
    return found


def parse_addresses(text: str) -> frozenset[Address]:
    """`telegram:123, zalo:abc@XA` -> those addresses (`parse_coordinators` without scopes)."""
    return frozenset(parse_coordinators(text))


def parse_admins(text: str) -> frozenset[str]:
    """`telegram:123, zalo:abc` -> {"telegram:123", "zalo:abc"}: `parse_addresses` as text."""
    return frozenset(str(address) for address in parse_addresses(text))


def _port(text: str | None, name: str = "WEBHOOK_PORT") -> int | None:
    if text is None:
        return None
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise Invalid([Problem((name,), "port_invalid", {"value": text})])
    return int(text)


# What both platforms accept as a webhook secret: Telegram's characters, Zalo's 8 to 256 of them.
_SECRET = re.compile(r"^[A-Za-z0-9_-]{8,256}$")
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _webhook_secret(secret: str | None, url: str | None) -> str | None:
    """The configured secret, checked; in webhook mode without one, a random one (Telegram
    learns it from setWebhook, and it is known here so logging can mask it)."""
    if secret is None:
        return secrets.token_urlsafe(32) if url else None
    if not _SECRET.match(secret):
        raise Invalid([Problem(("WEBHOOK_SECRET",), "webhook_secret_format")])
    return secret


def _log_level(text: str | None) -> str:
    level = (text or DEFAULT_LOG_LEVEL).upper()
    if level not in _LEVELS:
        raise Invalid([Problem(("LOA_LOG_LEVEL",), "log_level", {"value": text, "known": _LEVELS})])
    return level


def _photos(get: Get) -> PhotoSettings:
    folder = get("LOA_PHOTOS_DIR")
    return PhotoSettings(
        Path(folder) if folder else None,
        _count("LOA_PHOTOS_PER_UNIT", get, PHOTOS_PER_UNIT, 1, 1_000),
        _count("LOA_PHOTO_MAX_BYTES", get, PHOTO_MAX_BYTES, 1024, 100 * 1024 * 1024),
    )


def _count(name: str, get: Get, default: int, low: int, high: int) -> int:
    """A whole number setting between `low` and `high`."""
    text = get(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise Invalid(
            [Problem((name,), "count_invalid", {"value": text, "low": low, "high": high})]
        )
    return int(text)


def _rate(name: str, get: Get, default: float) -> float:
    text = get(name)
    if text is None:
        return default
    try:
        rate = float(text)
    except ValueError:
        rate = 0.0
    if not 0 < rate <= 100_000:
        raise Invalid([Problem((name,), "rate_invalid", {"value": text})])
    return rate


def _switch(name: str, text: str | None, default: bool = True) -> bool:
    """`1`/`0` (or yes/no, on/off, true/false) for a setting that turns something on or off."""
    if text is None:
        return default
    if text.lower() in _ON + _OFF:
        return text.lower() in _ON
    raise Invalid([Problem((name,), "switch_invalid", {"value": text})])


def _public_url(text: str | None, host: str, port: int) -> str:
    """LOA_PUBLIC_URL checked, without a trailing slash; by default the console's own address
    (on this machine when it listens on every address)."""
    if text is None:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
    try:
        parts = urlsplit(text)
        valid = (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and not parts.query
            and not parts.fragment
            and " " not in text
        )
        parts.port  # noqa: B018  # a port that is not a number raises here
    except ValueError:
        valid = False
    if not valid:
        raise Invalid([Problem(("LOA_PUBLIC_URL",), "public_url_invalid", {"value": text})])
    return text.rstrip("/")


def _api_token(text: str | None) -> str | None:
    if text is not None and (len(text) < API_TOKEN_MIN or any(c.isspace() for c in text)):
        shape = {"length": len(text), "least": API_TOKEN_MIN}  # never the token itself
        raise Invalid([Problem(("LOA_API_TOKEN",), "api_token_short", shape)])
    return text
