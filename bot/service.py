"""`loa run`: the campaign from LOA_CAMPAIGN served on every platform with a token."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from bot.app import Loa
from bot.campaign.checks import Invalid, Problem
from bot.campaign.loader import load_campaign
from bot.channels.base import Channel
from bot.channels.telegram import TelegramChannel, TelegramLimits, Webhook
from bot.channels.zalo import ZaloChannel, ZaloLimits, ZaloWebhook
from bot.config import Settings
from bot.store.db import Database

log = logging.getLogger(__name__)


def campaign_key(path: Path) -> str:
    """The campaign's name in outbox keys: its file name (`2023-lac-thuy`)."""
    return path.stem


def channels_for(settings: Settings) -> dict[str, Channel]:
    """A channel for every platform that has a token; webhook mode when WEBHOOK_URL (Telegram)
    or ZALO_WEBHOOK_URL is set."""
    channels: dict[str, Channel] = {}
    if settings.telegram_token:
        webhook = None
        if settings.webhook_url:
            assert settings.webhook_secret  # made up by Settings when not configured
            webhook = Webhook(
                url=settings.webhook_url,
                secret=settings.webhook_secret,
                port=settings.webhook_port or 8080,
            )
        limits = TelegramLimits(
            settings.telegram_rate_overall,
            settings.telegram_rate_group,
            settings.telegram_rate_private,
        )
        channels["telegram"] = TelegramChannel(
            settings.telegram_token,
            api_base_url=settings.telegram_api_base_url,
            webhook=webhook,
            limits=limits,
        )
    if settings.zalo_token:
        zalo_webhook = None
        if settings.zalo_webhook_url:
            assert settings.webhook_secret  # made up by Settings when not configured
            zalo_webhook = ZaloWebhook(
                settings.zalo_webhook_url,
                settings.webhook_secret,
                port=settings.zalo_webhook_port or 8082,
            )
        channels["zalo"] = ZaloChannel(
            settings.zalo_token,
            api_base_url=settings.zalo_api_base_url,
            webhook=zalo_webhook,
            limits=ZaloLimits(settings.zalo_rate_overall, settings.zalo_rate_chat),
        )
    return channels


def build(settings: Settings) -> Loa:
    """Everything `loa run` needs, checked before anything connects. Raises `Invalid`."""
    if settings.campaign is None:
        raise Invalid([Problem(("LOA_CAMPAIGN",), "setting_missing")])
    campaign = load_campaign(settings.campaign)
    channels = channels_for(settings)
    if not channels:
        raise Invalid([Problem(("TELEGRAM_BOT_TOKEN",), "no_platform")])
    return Loa(
        campaign,
        campaign_key(settings.campaign),
        Database(settings.database_url),
        channels,
        settings.admins,
    )


async def serve(loa: Loa, stop: asyncio.Event | None = None) -> None:
    """Migrate, start, and serve until `stop` is set or the process gets SIGINT/SIGTERM.

    Raises `Invalid` when the database does not exist yet (`loa db upgrade` makes it: serving
    never makes an empty one silently), and `DatabaseLost` when this process stops holding it
    while serving (its lock lost, its file deleted): sending stops at once, and the process
    ends so that a supervisor starts it again.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with loa.db.only_instance():
            if await loa.db.revision() is None:
                raise loa.db.missing()
            await loa.db.upgrade()
            await loa.start()
            print(await loa.summary(), flush=True)
            try:
                await _until(stop, loa.db.lost)
            finally:
                if loa.db.lost.is_set():
                    loa.dispatcher.stopping = True  # before anything else: not one more send
                await loa.stop()
            await loa.db.still_ours()
    finally:
        await loa.db.dispose()


async def _until(*events: asyncio.Event) -> None:
    """Wait until one of `events` is set."""
    waits = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
