"""Loa running: one campaign, its database, the chat channels, and what happens on each event."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Collection, Coroutine, Mapping
from typing import Any

from bot.address import Address
from bot.campaign.model import Campaign
from bot.campaign.scope import EVERYTHING, Scope, parent_code
from bot.channels.base import (
    BotAdded,
    BotRemoved,
    Channel,
    ChatMoved,
    ChatType,
    Event,
    InboundMessage,
    PhotoReceived,
    retry_in,
)
from bot.conversation import photos, registration
from bot.conversation.commands import dispatch
from bot.delivery import outbox, replan
from bot.delivery.clock import Clock
from bot.delivery.dispatcher import CLAIM_GRACE, Dispatcher
from bot.delivery.notices import EVERY as NOTICE_EVERY
from bot.delivery.notices import Notice, Notices
from bot.delivery.scheduler import Sender
from bot.errors import ChatAddressChanged, SendError
from bot.messages import command_menu, render
from bot.ops import chats, unitlinks
from bot.ops.env import Env
from bot.ops.registration import OverBudget, Registrar, tally
from bot.store import chats as chats_store
from bot.store.db import Database, is_transient
from bot.store.defaults import PhotoSettings
from bot.store.handled import HandledUpdates, UpdateKey
from bot.store.models import Chat, Unit

log = logging.getLogger(__name__)

REPLY_TRIES = 3
REPLY_BACKOFF = 0.5  # seconds, doubling: someone is waiting for the answer
REPLY_BACKOFF_CAP = 5.0
BUSY_BOUND = 30.0  # seconds a message is handled again while the database is busy
BUSY_BACKOFF = 0.5  # seconds, doubling, between those tries...
BUSY_BACKOFF_CAP = 4.0  # ...up to this


def _message_of(event: Event) -> InboundMessage | None:
    """The message an event is, or comes with (a photo's): who wrote, where, when."""
    if isinstance(event, InboundMessage):
        return event
    return event.message if isinstance(event, PhotoReceived) else None


class KeyedLocks:
    """A lock per key, forgotten when nobody holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[object, asyncio.Lock] = {}
        self._holders: Counter[object] = Counter()

    @contextlib.asynccontextmanager
    async def hold(self, key: object) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:
                del self._locks[key], self._holders[key]


class Loa:
    def __init__(
        self,
        campaign: Campaign,
        campaign_key: str,
        db: Database,
        channels: Mapping[str, Channel],
        coordinators: Collection[str | Address] = frozenset(),
        clock: Clock | None = None,
        notice_every: float = NOTICE_EVERY,
        public_url: str | None = None,
        photos: PhotoSettings | None = None,
        scopes: Mapping[str, Scope] | None = None,
    ) -> None:
        """`coordinators`: whom `LOA_ADMINS` names (`telegram:123` or an `Address`); `scopes`:
        what a scoped one of them coordinates (`platform:id` -> its parents; others: all);
        `notice_every`: seconds between two notice messages to a coordinator (`Notices`);
        `public_url`: where the web console is reached (`LOA_PUBLIC_URL`), None when it is off;
        `photos`: where units' photos are kept, how many and how large (`LOA_PHOTOS_*`)."""
        self.campaign = campaign
        self.campaign_key = campaign_key  # names the campaign in outbox keys
        self.public_url = public_url.rstrip("/") if public_url else None
        self.db = db
        self.channels = dict(channels)
        self.coordinators = frozenset(
            Address.parse(c) if isinstance(c, str) else c for c in coordinators
        )
        self._coordinator_senders = frozenset(str(c) for c in self.coordinators)
        self.scopes = dict(scopes or {})
        self.clock = clock or Clock()
        self.dispatcher = Dispatcher(
            db,
            campaign,
            campaign_key,
            channels,
            self.chat_unreachable,
            self.chat_moved,
            self.clock,
            form_link=self.form_link,
        )
        self.sender = Sender(self.dispatcher, db, self.clock, campaign.tz)
        self._env = Env(
            db, campaign, campaign_key, self.clock, self.wake, photos or PhotoSettings()
        )
        self._registrar = Registrar(self._over_budget)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._chat_locks = KeyedLocks()
        self.handled = HandledUpdates(db)  # a platform's resend acts once
        self.notices = Notices(self._send_notices, notice_every)

    async def start(self) -> None:
        """Plan the outbox for every registered chat, listen on every channel, start sending."""
        async with self.db.session() as session, session.begin():
            epoch = await outbox.take_epoch(session)  # fences out every earlier process
            unfinished = await outbox.claims_of_others(session, epoch)
            added = await replan.plan(session, self.campaign_key, self.campaign, self.clock.now())
        self.dispatcher.begin(epoch)
        planned = "not planned again" if added is None else f"{added} deliveries planned"
        log.info("outbox: %s, %d unfinished ones to go back", planned, unfinished)
        everyone, coordinators = command_menu()
        for platform, channel in self.channels.items():
            await channel.start(self.handle)
            ids = [c.id for c in self.coordinators if c.platform == platform]
            await channel.set_commands(everyone, coordinators, ids)
        self.sender.start()
        if unfinished:  # they go back after the grace: look then
            asyncio.get_running_loop().call_later(CLAIM_GRACE + 0.1, self.wake)

    async def summary(self, listening: str | None = None) -> str:
        """What `loa run` prints once it is serving; `listening`: where the web console is served
        (`host:port`), None when it is not."""
        async with self.db.session() as session:
            chats = await chats_store.active_per_platform(session)
            upcoming = await outbox.upcoming(session, self.campaign_key)
            parents = await chats_store.unit_parents(session)
        known = {code for parent in parents if (code := parent_code(parent))}
        units = len(parents)
        return render(
            "run_started",
            campaign=self.campaign,
            key=self.campaign_key,
            channels=self.channels,
            chats=chats,
            units=units,
            unknown=self.unknown_parents(known) if units else [],
            parents=sorted(known),
            upcoming=upcoming,
            tz=self.campaign.tz,
            console=self.public_url if listening else None,
            listening=listening,
        )

    def unknown_parents(self, known: Collection[str]) -> list[str]:
        """The scoped `LOA_ADMINS` entries naming a parent none of `known` is (a typo, or a
        commune whose units are not imported yet): its coordinator would see no unit."""
        return sorted(
            f"{who}@{code}"
            for who, scope in self.scopes.items()
            for code in scope.parents or ()
            if code not in known
        )

    async def stop(self) -> None:
        """Let the message in flight land, drop background waits, then disconnect."""
        await self.sender.stop()
        for task in self._tasks:
            task.cancel()  # e.g. a broadcast report waiting for retries: the outbox keeps them
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.notices.close()
        for channel in self.channels.values():
            await channel.stop()

    @property
    def env(self) -> Env:
        """What the operations work on (`bot.ops`)."""
        return self._env

    @property
    def registrar(self) -> Registrar:
        """Registration with codes, and this process's guessing limits."""
        return self._registrar

    def channel(self, platform: str) -> Channel:
        return self.channels[platform]

    def wake(self) -> None:
        """Something new is due (a broadcast, a late registration): look at the outbox now."""
        self.sender.wake()

    def is_coordinator(self, sender: str) -> bool:
        return sender in self._coordinator_senders

    def scope_of(self, sender: str) -> Scope:
        """What a coordinator coordinates (`is_coordinator` says whether `sender` is one)."""
        return self.scopes.get(sender, EVERYTHING)

    def web_link(self, path: str) -> str | None:
        """The web console's address of `path` (`/login/…`), as links in chats give it; None
        when the console is off."""
        return f"{self.public_url}{path}" if self.public_url else None

    async def form_link(self, unit: Unit) -> str | None:
        """A new link to the unit's own form on the web; None when the web is off."""
        if self.public_url is None or self.campaign.form is None:
            return None
        return self.web_link(f"/f/{await unitlinks.issue(self._env, unit)}")

    async def handle(self, event: Event) -> None:
        """Every event from every channel comes here: chats at once, each chat in order."""
        chats = {event.chat_id} | ({event.new_chat_id} if isinstance(event, ChatMoved) else set())
        async with contextlib.AsyncExitStack() as held:
            for chat_id in sorted(chats):  # a move holds both ends, in one order: no deadlock
                await held.enter_async_context(self._chat_locks.hold((event.platform, chat_id)))
            await self._handle_surely(event)

    async def _handle_surely(self, event: Event) -> None:
        """`_handle` unless the message is a platform's resend, done again while the database is
        only busy (for up to `BUSY_BOUND` seconds); when it still cannot be done, whoever wrote
        is told to send it again, and a resend of the message may do it."""
        message = _message_of(event)
        message = message if message is not None and message.message_id else None
        key = UpdateKey(message.platform, message.chat_id, message.message_id) if message else None
        first: bool | None = None  # whether the message is new, once known: asked only once
        deadline = time.monotonic() + BUSY_BOUND
        for tries in itertools.count():
            try:
                if message is not None and key is not None and first is None:
                    first = await self.handled.first(key, message.at)
                if key is not None and first is False:
                    log.info("%s:%s: message %s came again; not acted on", *key)
                    return
                await self._handle(event)
                return
            except Exception as exc:
                wait = min(BUSY_BACKOFF * 2**tries, BUSY_BACKOFF_CAP)
                if is_transient(exc) and time.monotonic() + wait < deadline:
                    log.warning("database busy (%s); handling the message again in %gs", exc, wait)
                    await asyncio.sleep(wait)
                    continue
                log.exception("an event could not be handled: %s", event)
                break
        if message is not None and (message.addressed or message.text.startswith("/")):
            await self.reply(message, "replies/not_done_now")
        if key is not None and first:
            try:
                await self.handled.forget(key)  # not done: a resend may do it
            except Exception as exc:  # the database is still away: the resend is refused then
                log.warning("%s:%s: message %s not forgotten (%s)", *key, exc)

    async def _handle(self, event: Event) -> None:
        if isinstance(event, BotRemoved):
            await registration.bot_removed(self, event)
        elif isinstance(event, BotAdded):
            await registration.bot_added(self, event)
        elif isinstance(event, ChatMoved):
            await registration.chat_moved(self, event)
        elif isinstance(event, InboundMessage):
            await dispatch(self, event)
        elif isinstance(event, PhotoReceived):
            await photos.photo(self, event)

    async def reply(self, message: InboundMessage, template: str, **context: Any) -> str | None:
        """Answer in the chat the message came from (`private` tells templates which kind);
        the id of the message sent, None if it could not be."""
        private = message.chat_type is ChatType.PRIVATE
        to = Address(message.platform, message.chat_id)
        return await self.say(to, template, private=private, **context)

    async def say(self, to: Address, template: str, **context: Any) -> str | None:
        """Send a rendered reply now, riding out a 429 or a 5xx; a failure is logged, never
        raised (the person can ask again; scheduled messages go through the outbox)."""
        text = render(template, campaign=self.campaign, **context)
        platform, chat_id = to.platform, to.id
        for tries in range(REPLY_TRIES):
            try:
                return await self.channels[platform].send(chat_id, text)
            except ChatAddressChanged as exc:
                await self.chat_moved(platform, chat_id, exc.new_chat_id)
                chat_id, wait = exc.new_chat_id, 0.0
            except SendError as exc:
                retry = retry_in(exc, tries, REPLY_BACKOFF, REPLY_BACKOFF_CAP)
                if retry is None:
                    log.warning("reply to %s:%s failed: %s", platform, chat_id, exc)
                    return None
                wait = retry
            if tries + 1 < REPLY_TRIES:
                await asyncio.sleep(wait)
        log.warning("reply to %s:%s dropped after %d tries", platform, chat_id, REPLY_TRIES)
        return None

    async def notify_coordinators(self, template: str, **context: Any) -> None:
        """Tell every coordinator in their private chat (chat id = user id on both platforms),
        in a digest at most once a minute (`Notices`). A commune's coordinator hears only of
        its own units (`unit` in `context`), nothing campaign-wide."""
        unit = context.get("unit")
        for coordinator in sorted(self.coordinators):
            scope = self.scope_of(str(coordinator))
            if not scope.everything and not (isinstance(unit, Unit) and scope.covers(unit.parent)):
                continue
            if coordinator.platform in self.channels:
                told = await self._counted_in(scope, context)
                self.notices.add(str(coordinator), Notice(template, told))

    async def _counted_in(self, scope: Scope, context: dict[str, Any]) -> dict[str, Any]:
        """A notice's registration count (`registered` of `total`) as the coordinator's scope
        counts it: a commune's official hears of its own units' progress."""
        if scope.everything or "registered" not in context:
            return context
        async with self.db.session() as session:
            registered, total = await tally(session, scope)
        return {**context, "registered": registered, "total": total}

    async def _send_notices(self, coordinator: str, notices: list[Notice]) -> None:
        """One message for a coordinator's notices, after any answer to their own command:
        it waits for their private chat like a message of theirs would."""
        to = Address.parse(coordinator)
        async with self._chat_locks.hold((to.platform, to.id)):
            if len(notices) == 1:
                await self.say(to, notices[0].template, **notices[0].context)
                return
            groups: dict[str, list[dict[str, Any]]] = {}
            for notice in notices:
                groups.setdefault(notice.template, []).append(notice.context)
            await self.say(to, "replies/notices_digest", groups=groups, count=len(notices))

    async def chat_moved(self, platform: str, old_id: str, new_id: str) -> None:
        """A send learnt the chat's new address before its update did."""
        await chats.chat_moved(self.env, Address(platform, old_id), new_id)

    async def chat_unreachable(self, chat: Chat, unit: Unit | None) -> None:
        """A send found the chat gone (403, not found): the same as the bot being removed."""
        gone = await chats.chat_gone(self.env, Address(chat.platform, chat.external_id), by=None)
        if gone is not None:
            await self.notify_coordinators(
                "replies/chat_gone_notice", chat=gone.chat, unit=gone.unit
            )

    def _over_budget(self, over: OverBudget) -> None:
        """Registration codes are being guessed: the coordinators hear of it (`Registrar`)."""
        registration.tell_over_budget(self, over)

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run `work` in the background (a long broadcast must not hold up other chats)."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
