"""Loa running: one campaign, its database, the chat channels, and what happens on each event."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Mapping
from typing import Any

from bot.campaign.model import Campaign
from bot.channels.base import BotRemoved, Channel, Event, InboundMessage, RetryLater, SendError
from bot.conversation import registration
from bot.conversation.commands import command_menu, dispatch
from bot.delivery import outbox
from bot.delivery.clock import Clock
from bot.delivery.dispatcher import Dispatcher
from bot.messages import render
from bot.store.db import Database
from bot.store.models import Chat, Unit

log = logging.getLogger(__name__)

REPLY_TRIES = 3
IDLE_CHECK = 60.0  # seconds: look at the outbox at least this often (another process may add)


class Loa:
    def __init__(
        self,
        campaign: Campaign,
        campaign_key: str,
        db: Database,
        channels: Mapping[str, Channel],
        coordinators: frozenset[str] = frozenset(),
        clock: Clock | None = None,
    ) -> None:
        self.campaign = campaign
        self.campaign_key = campaign_key  # names the campaign in outbox keys
        self.db = db
        self.channels = dict(channels)
        self.coordinators = coordinators
        self.clock = clock or Clock()
        self.dispatcher = Dispatcher(db, campaign, channels, self.chat_unreachable, self.clock)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._wake = asyncio.Event()
        self._stopping = False

    async def start(self) -> None:
        """Plan the outbox for every registered chat, listen on every channel, start sending."""
        async with self.db.session() as session, session.begin():
            added = await outbox.plan(session, self.campaign_key, self.campaign, self.clock.now())
        log.info("outbox: %d new deliveries planned", added)
        everyone, coordinators = command_menu()
        for platform, channel in self.channels.items():
            await channel.start(self.handle)
            ids = [c.split(":", 1)[1] for c in self.coordinators if c.startswith(platform + ":")]
            await channel.set_commands(everyone, coordinators, ids)
        self.spawn(self._deliver())

    async def stop(self) -> None:
        """Finish what is being sent, then disconnect."""
        self._stopping = True
        self._wake.set()
        await self.settle()
        for channel in self.channels.values():
            await channel.stop()

    def wake(self) -> None:
        """Something new is due (a broadcast, a late registration): look at the outbox now."""
        self._wake.set()

    async def _deliver(self) -> None:
        """Send what is due, then sleep until the next row falls due or someone wakes us."""
        while not self._stopping:
            self._wake.clear()
            try:
                await self.dispatcher.send_due()
                async with self.db.session() as session:
                    due = await outbox.next_due(session)
            except Exception:  # the database or a template: log it and keep serving
                log.exception("outbox: sending failed; trying again shortly")
                due = self.clock.later(IDLE_CHECK / 6)
            wait = IDLE_CHECK if due is None else min(self.clock.seconds_until(due), IDLE_CHECK)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    def is_coordinator(self, sender: str) -> bool:
        return sender in self.coordinators

    async def handle(self, event: Event) -> None:
        """Every event from every channel comes here."""
        if isinstance(event, BotRemoved):
            await registration.bot_removed(self, event)
        elif isinstance(event, InboundMessage):
            await dispatch(self, event)

    async def reply(self, message: InboundMessage, template: str, **context: Any) -> None:
        await self.say(message.platform, message.chat_id, template, **context)

    async def say(self, platform: str, chat_id: str, template: str, **context: Any) -> None:
        """Send a rendered reply now, waiting out a 429; a failure is logged, never raised."""
        text = render(template, campaign=self.campaign, **context)
        for _ in range(REPLY_TRIES):
            try:
                await self.channels[platform].send(chat_id, text)
                return
            except RetryLater as exc:
                await asyncio.sleep(exc.retry_after)
            except SendError as exc:
                log.warning("reply to %s:%s failed: %s", platform, chat_id, exc)
                return
        log.warning("reply to %s:%s dropped: still rate limited", platform, chat_id)

    async def notify_coordinators(self, template: str, **context: Any) -> None:
        """Tell every coordinator in their private chat (chat id = user id on both platforms)."""
        for coordinator in sorted(self.coordinators):
            platform, user_id = coordinator.split(":", 1)
            if platform in self.channels:
                await self.say(platform, user_id, template, **context)

    async def chat_unreachable(self, chat: Chat, unit: Unit | None) -> None:
        """A send found the chat gone (403, not found): the same as the bot being removed."""
        await registration.chat_gone(self, chat.platform, chat.external_id, by_user=None)

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run `work` in the background (a long broadcast must not hold up other chats)."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait for the background work started so far (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
