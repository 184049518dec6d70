"""`loa run`: the campaign from LOA_CAMPAIGN served on every platform with a token, and the
coordinators' web console beside it in the same event loop (unless LOA_WEB=0)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import gc
import logging
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web

from bot.app import Loa
from bot.campaign.loader import campaign_key, load_campaign
from bot.channels.base import Channel
from bot.channels.defaults import TelegramLimits, ZaloLimits
from bot.channels.telegram import TelegramChannel
from bot.channels.webhook import Webhook
from bot.channels.zalo import ZaloChannel
from bot.config import Settings
from bot.errors import Invalid, Problem
from bot.messages import render
from bot.store.db import Database
from bot.web.app import serve as serve_web
from bot.web.console import Console

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Site:
    """Where the web console listens (`LOA_WEB_HOST`, `LOA_WEB_PORT`) and the API's token."""

    host: str
    port: int
    api_token: str | None = field(default=None, repr=False)

    @classmethod
    def of(cls, settings: Settings) -> Site | None:
        """The console `settings` ask for; None when LOA_WEB=0."""
        if not settings.web:
            return None
        return cls(settings.web_host, settings.web_port, settings.api_token)

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


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
                listen=settings.webhook_host,
                port=settings.webhook_port,
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
            on_trouble=functools.partial(say_trouble, "telegram"),
            photo_max_bytes=settings.photos.max_bytes,  # of a photo's sizes, one under the cap
        )
    if settings.zalo_token:
        zalo_webhook = None
        if settings.zalo_webhook_url:
            assert settings.webhook_secret  # made up by Settings when not configured
            zalo_webhook = Webhook(
                settings.zalo_webhook_url,
                settings.webhook_secret,
                listen=settings.zalo_webhook_host,
                port=settings.zalo_webhook_port,
            )
        channels["zalo"] = ZaloChannel(
            settings.zalo_token,
            api_base_url=settings.zalo_api_base_url,
            webhook=zalo_webhook,
            limits=ZaloLimits(settings.zalo_rate_overall, settings.zalo_rate_chat),
        )
    return channels


def say_trouble(platform: str, what: str, detail: str, retry_in: float | None) -> None:
    """Tell whoever runs `loa run`, in Vietnamese: a platform out of reach, a rival poller."""
    text = render("run_trouble", platform=platform, what=what, detail=detail, seconds=retry_in)
    print(text, file=sys.stderr, flush=True)


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
        public_url=settings.public_url if settings.web else None,
        photos=settings.photos,
        scopes=settings.scopes,
    )


def console_of(loa: Loa, site: Site) -> Console:
    """The web console over `loa`'s operations, for its coordinators."""
    assert loa.public_url is not None, "a Loa serving the web knows its public address"
    coordinators = frozenset(str(c) for c in loa.coordinators)
    return Console(loa.env, coordinators, loa.public_url, site.api_token, loa.scopes)


@contextlib.asynccontextmanager
async def web_console(console: Console, site: Site) -> AsyncIterator[web.AppRunner]:
    """The console served at `site` while inside; a port that cannot be had raises `Invalid`
    (in Vietnamese: which port, and what to do), never a traceback."""
    try:
        runner = await serve_web(console, site.host, site.port)
    except OSError as exc:
        detail = {"host": site.host, "port": site.port, "errno": exc.errno, "detail": str(exc)}
        code = "web_port_in_use" if exc.errno == errno.EADDRINUSE else "web_cannot_listen"
        raise Invalid([Problem(("LOA_WEB_PORT",), code, detail)]) from None
    try:
        yield runner
    finally:
        await runner.cleanup()


async def serve(loa: Loa, stop: asyncio.Event | None = None, site: Site | None = None) -> None:
    """Migrate, start, and serve until `stop` is set or the process gets SIGINT/SIGTERM; the
    web console too at `site` (none: not served), before the chats connect.

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
            async with contextlib.AsyncExitStack() as serving:
                if site is not None:
                    await serving.enter_async_context(web_console(console_of(loa, site), site))
                if not await _start(loa, stop):
                    await loa.stop()
                    return
                print(await loa.summary(str(site) if site else None), flush=True)
                # What start made (modules, campaign, templates) lives as long as the process:
                # kept out of the full collections, which otherwise walk it all every few
                # requests that make many objects (a province's /tiendo: 60-80 ms pauses).
                gc.freeze()
                try:
                    await _until(stop, loa.db.lost)
                finally:
                    gc.unfreeze()
                    if loa.db.lost.is_set():
                        loa.dispatcher.stopping = True  # before anything else: not one more send
                    await loa.stop()
            await loa.db.still_ours()
    finally:
        await loa.db.dispose()


async def _start(loa: Loa, stop: asyncio.Event) -> bool:
    """Start `loa` unless `stop` comes first (a platform out of reach is waited for): True when
    started; what starting raised, raised."""
    starting = asyncio.ensure_future(loa.start())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if starting.done():
        starting.result()
        return True
    starting.cancel()
    await asyncio.gather(starting, return_exceptions=True)
    return False


async def _until(*events: asyncio.Event) -> None:
    """Wait until one of `events` is set."""
    waits = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
