"""Zalo through its Bot API (`zalo_api.ZaloBotApi`): updates in as `Event`s, text out.

Like the Telegram adapter, this only translates: a Zalo update becomes an `InboundMessage`, and
Zalo's errors become the channel's `SendError`s. What Zalo does differently, and how it is met:

- getUpdates answers one update or, after the poll's timeout, 408: the poll loop simply asks
  again (logged at debug, never as an error). A webhook instead runs the shared `WebhookServer`
  with the `X-Bot-Api-Secret-Token` given to setWebhook, which answers at once: updates wait in
  an inbox for a free handler slot, polled or posted alike.
- An image (`message.image.received`) becomes a `PhotoReceived` whose ref is the image's URL
  (`photo_url`, or `photo` as some clients read it) and whose caption is `caption` (or `text`);
  `fetch` downloads it with a cap (Zalo states no size), over http(s) only, from the hosts
  `photo_hosts` allows (None: any; see `download`).
- Stickers and what Zalo will not show a bot (`message.unsupported.received`, sent for
  protected users) get a short hint that Loa reads text only (`replies/text_only`, at most once
  a minute per chat); unknown events are ignored, logged at debug.
- Texts over 2000 characters are split between lines (`split_text`).
- Zalo publishes no rate limit, so sends are paced conservatively (`ZaloLimits`); a 429 (maybe
  an HTML page) closes the channel's gate for every send (its Retry-After, else a backoff that
  doubles with each 429 in a row, with jitter) and is raised as `RetryLater`.
- Zalo's 403 is its internal server error, not "blocked": it is raised as `ChatMaybeGone`, and
  the dispatcher gives a chat up only after repeated failures spread over time.
- Groups are in beta: the bot receives only messages that mention it (or reply to it), so each
  group message is addressed to the bot; the leading `@<bot name>` is taken off the text. Zalo
  documents no reply field: when an update carries Telegram's `reply_to_message` (the Bot API is
  modelled on Telegram's) its id becomes `reply_to`, otherwise `reply_to` is None.
- Zalo documents no membership events and no admin lookup: `BotRemoved` is never emitted (failed
  sends tell the core), and `is_admin` is true only for the
  person in their own private chat (a private chat's id is its user's id).
- There is no command menu: `set_commands` does nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from bot.channels.base import (
    ChatType,
    EventHandler,
    InboundMessage,
    PhotoReceived,
    clean_text,
    send_parts,
    split_text,
)

# Defined with the other defaults; named here too, where the adapters' users find them.
from bot.channels.defaults import ZALO_API, ZALO_LIMITS, ZaloLimits
from bot.channels.download import download
from bot.channels.pacing import Gate, Pacer, Pacers, RoundTrip
from bot.channels.webhook import (
    WEBHOOK_LIMITS,
    Malformed,
    Webhook,
    WebhookLimits,
    WebhookServer,
)
from bot.channels.zalo_api import JSON, RETRY_AFTER, ZaloApiError, ZaloBotApi, ZaloNetworkError
from bot.errors import (
    ChatMaybeGone,
    ChatUnreachable,
    Invalid,
    Problem,
    RetryLater,
    SendError,
    TemporaryFailure,
    Unsupported,
)
from bot.messages import render

log = logging.getLogger(__name__)

PLATFORM = "zalo"
MAX_TEXT = 2000
SECRET_HEADER = "X-Bot-Api-Secret-Token"
TEXT = "message.text.received"
IMAGE = "message.image.received"
# What Loa cannot read: answered with the text-only hint. Zalo sends `unsupported` instead of the
# content when the sender is a protected user.
NOT_TEXT = frozenset({"message.sticker.received", "message.unsupported.received"})
CONCURRENT_UPDATES = 64
INBOX = 1000  # updates waiting for a handler slot; beyond, the webhook answers 503
SUCCESS = {"message": "Success"}  # what a webhook answers Zalo
POLL_BACKOFF = (1.0, 30.0)  # first and longest wait after a failed getUpdates
JITTER = 0.5  # a wait is stretched or shrunk by up to half, so restarted bots do not march
QUOTA_CAP = 300.0  # seconds: the longest silence after 429s that say not how long
HINT_EVERY = 60.0  # seconds: one text-only hint per chat, however many stickers come


@dataclass(frozen=True)
class NotText:
    """A sticker, or what Zalo would not show: someone tried to answer with something Loa
    cannot read."""

    chat_id: str
    chat_type: ChatType


class ZaloChannel:
    platform = PLATFORM
    sends_files = False  # the Bot API has sendPhoto and sendSticker, no documents

    def __init__(
        self,
        token: str,
        *,
        api_base_url: str = ZALO_API,
        webhook: Webhook | None = None,
        limits: ZaloLimits = ZALO_LIMITS,
        poll_timeout: float = 30,
        transport: httpx.AsyncBaseTransport | None = None,
        webhook_limits: WebhookLimits = WEBHOOK_LIMITS,
        photo_hosts: Collection[str] | None = None,
    ) -> None:
        """`photo_hosts`: the hosts (and their subdomains) images are fetched from; None: any
        http(s) host, as Zalo documents none (its CDN answers from *.zdn.vn today)."""
        self.webhook = webhook
        self.poll_timeout = poll_timeout
        self.photo_hosts = frozenset(h.lower() for h in photo_hosts) if photo_hosts else None
        self.api = ZaloBotApi(token, api_base_url, transport=transport)
        self._files = httpx.AsyncClient(transport=transport)
        self.bot_id = ""
        self.bot_name = ""
        self._limits = limits
        self.rate = limits.overall_per_second  # messages a second, at most
        self.round_trip = RoundTrip()  # of sendMessage: sizes the dispatcher's window
        self._overall = Pacer(self.rate)
        self._per_chat = Pacers(limits.chat_per_second)
        self.gate = Gate()  # closed by a 429, for every send
        self._throttled = 0  # 429s in a row: each silence Zalo does not measure is longer
        self._hinted: dict[str, float] = {}  # chat id -> loop time of the last hint
        self._handle: EventHandler | None = None
        self._poller: asyncio.Task[None] | None = None
        self._feeder: asyncio.Task[None] | None = None
        self._inbox: asyncio.Queue[JSON] = asyncio.Queue(INBOX)
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(CONCURRENT_UPDATES)
        self.server = (
            WebhookServer(
                webhook, SECRET_HEADER, self._accept, limits=webhook_limits, answer=SUCCESS
            )
            if webhook
            else None
        )

    @property
    def mode(self) -> str:
        return "webhook" if self.webhook else "polling"

    async def start(self, handle: EventHandler) -> None:
        """Connect (getMe), then receive updates by long polling or on the webhook."""
        self._handle = handle
        try:
            me = await self.api.get_me()
        except ZaloApiError as exc:
            if exc.status in (401, 403):
                detail = {"detail": f"{exc.status} {exc.description}"}
                raise Invalid(
                    [Problem(("ZALO_BOT_TOKEN",), "zalo_token_rejected", detail)]
                ) from None
            raise
        self.bot_id = str(me.get("id", ""))
        self.bot_name = str(
            me.get("display_name") or me.get("name") or me.get("account_name") or ""
        )
        self._feeder = asyncio.create_task(self._feed())
        if self.webhook and self.server:
            await self.server.start()
            await self.api.set_webhook(self.webhook.url, self.webhook.secret)
        else:
            await self.api.delete_webhook()  # getUpdates does not work while one is set
            self._poller = asyncio.create_task(self._poll())
        log.info("zalo: %s connected (%s)", self.bot_name or self.bot_id, self.mode)

    async def stop(self) -> None:
        """Stop receiving, let the updates in hand finish (those in the inbox too: Zalo will
        not send them again), disconnect."""
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)
        if self.server is not None:
            await self.server.stop()
        while not self._inbox.empty() and self._feeder is not None and not self._feeder.done():
            await asyncio.sleep(0.01)
        feeder, self._feeder = self._feeder, None
        if feeder is not None:
            feeder.cancel()
            await asyncio.gather(feeder, return_exceptions=True)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.api.aclose()
        await self._files.aclose()

    # -- sending -----------------------------------------------------------------------------

    async def send(self, chat_id: str, text: str) -> str:
        """Send `text` (split on lines when over 2000 characters); the last message's id.

        Once a first part is out, a 429 on a later one is waited out here: retrying the whole
        text would send the first part twice.
        """
        parts = split_text(text, MAX_TEXT)
        return await send_parts(parts, lambda part: self._send_one(chat_id, part))

    async def send_document(self, chat_id: str, name: str, content: bytes, caption: str) -> str:
        raise Unsupported("the Zalo Bot API sends text, photos and stickers, not files")

    async def _send_one(self, chat_id: str, text: str) -> str:
        await self._per_chat.wait(chat_id, not_before=self.gate.until)
        await self._overall.wait(not_before=self.gate.until)
        await self.gate.wait()  # a 429 may have come while this one queued
        try:
            with self.round_trip.timed():
                result = await self.api.send_message(chat_id, text)
        except ZaloApiError as exc:
            error = send_error(exc)
            if isinstance(error, RetryLater):  # which limit was hit is not said: everyone waits
                if exc.retry_after is None:
                    error = RetryLater(quota_backoff(self._throttled))
                self._throttled += 1
                self.gate.close_for(error.retry_after or RETRY_AFTER)
            raise error from exc
        except ZaloNetworkError as exc:
            raise TemporaryFailure(str(exc)) from exc
        self._throttled = 0
        return str(result.get("message_id", ""))

    async def fetch(self, ref: str, *, max_bytes: int, timeout: float) -> bytes:
        """The image at the URL an update carried, capped: Zalo states no size."""
        return await download(
            self._files, ref, max_bytes=max_bytes, timeout=timeout, hosts=self.photo_hosts
        )

    async def is_admin(self, chat_id: str, user_id: str) -> bool:
        """True in the person's own private chat; Zalo has no way to ask about group admins."""
        return chat_id == user_id

    async def set_commands(
        self,
        everyone: Sequence[tuple[str, str]],
        coordinators: Sequence[tuple[str, str]],
        coordinator_ids: Iterable[str],
    ) -> None:
        """Zalo bots have no command menu."""

    async def set_coordinator_commands(
        self, commands: Sequence[tuple[str, str]], user_id: str
    ) -> None:
        """Zalo bots have no command menu."""

    # -- receiving ---------------------------------------------------------------------------

    async def _poll(self) -> None:
        """Ask for the next update, again and again; a failure waits, then asks again."""
        first, longest = POLL_BACKOFF
        delay = first
        while True:
            try:
                updates = await self.api.get_updates(self.poll_timeout)
            except (ZaloApiError, ZaloNetworkError) as exc:
                wait = poll_wait(exc, delay)
                level = logging.ERROR if getattr(exc, "status", None) == 401 else logging.WARNING
                log.log(level, "zalo: getUpdates failed (%s); again in %.1fs", exc, wait)
                await asyncio.sleep(wait)
                delay = min(delay * 2, longest)
                continue
            except Exception:  # whatever it was, the loop must go on
                wait = poll_wait(None, delay)
                log.exception("zalo: getUpdates failed; again in %.1fs", wait)
                await asyncio.sleep(wait)
                delay = min(delay * 2, longest)
                continue
            delay = first
            for update in updates:
                await self._inbox.put(update)  # back-pressure: a full inbox holds the poll

    def _accept(self, body: Any) -> bool:
        """A webhook's body, wrapped in `{ok, result}` or bare, into the inbox at once."""
        update = body.get("result") if isinstance(body, dict) and "ok" in body else body
        if not isinstance(update, dict) or not isinstance(update.get("event_name"), str):
            raise Malformed("not a Zalo update")
        try:
            self._inbox.put_nowait(update)
        except asyncio.QueueFull:
            return False
        return True

    async def _feed(self) -> None:
        """Start the updates of the inbox in arrival order, as handler slots come free."""
        while True:
            update = await self._inbox.get()
            await self._slots.acquire()
            self._spawn(update)

    def _spawn(self, update: JSON) -> None:
        task = asyncio.create_task(self._process(update))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()

    async def _process(self, update: JSON) -> None:
        """One update, whatever it holds: an error is logged, never raised into the loop."""
        try:
            event = parse_update(update, bot_id=self.bot_id, bot_name=self.bot_name)
            if isinstance(event, InboundMessage | PhotoReceived):
                if self._handle is not None:
                    await self._handle(event)
            elif isinstance(event, NotText):
                await self._hint(event)
            else:
                log.debug("zalo: ignored an update (%s)", update.get("event_name"))
        except Exception:
            log.exception("zalo: handling an update failed")

    async def _hint(self, event: NotText) -> None:
        now = asyncio.get_running_loop().time()
        last = self._hinted.get(event.chat_id)
        if last is not None and now - last < HINT_EVERY:
            return
        self._hinted[event.chat_id] = now
        private = event.chat_type is ChatType.PRIVATE
        text = render("replies/text_only", private=private, bot_name=self.bot_name or "Loa")
        try:
            await self.send(event.chat_id, text)
        except SendError as exc:
            log.info("zalo: the text-only hint to %s was not sent (%s)", event.chat_id, exc)


def poll_wait(exc: BaseException | None, delay: float) -> float:
    """How long a failed poll waits: the backoff's `delay`, at least Zalo's wait after a 429
    (it rarely says one: `RETRY_AFTER`), stretched or shrunk at random by up to `JITTER`."""
    if isinstance(exc, ZaloApiError) and exc.status == 429:
        delay = max(delay, exc.retry_after if exc.retry_after is not None else RETRY_AFTER)
    return delay * random.uniform(1 - JITTER, 1 + JITTER)


def send_error(exc: ZaloApiError) -> SendError:
    """Zalo's error as the channel's. Its published list gives 403 as an internal server error,
    not "blocked": a chat that meets it may be gone or may not (`ChatMaybeGone`); a chat not
    found is gone."""
    text = f"{exc.status} {exc.description}"
    if exc.status == 429:
        return RetryLater(exc.retry_after if exc.retry_after is not None else RETRY_AFTER)
    if exc.status == 403:
        return ChatMaybeGone(text)
    if exc.status in (400, 404) and "not found" in text.lower():
        return ChatUnreachable(text)
    if exc.status == 408 or exc.status >= 500:
        return TemporaryFailure(text)
    return SendError(text)


def quota_backoff(streak: int) -> float:
    """Seconds of silence after a 429 that says not how long, the `streak`-th in a row (from 0):
    doubling from `RETRY_AFTER` up to `QUOTA_CAP`, with jitter so that senders sharing the
    quota do not come back together."""
    return min(RETRY_AFTER * 2.0**streak, QUOTA_CAP) * random.uniform(1.0, 1.5)


def parse_update(
    update: JSON, *, bot_id: str, bot_name: str
) -> InboundMessage | PhotoReceived | NotText | None:
    """A Zalo update as Loa sees it; None for what Loa ignores (its own messages, the rest)."""
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    chat, sender = message.get("chat"), message.get("from")
    if not isinstance(chat, dict) or not isinstance(sender, dict) or not chat.get("id"):
        return None
    user_id = str(sender.get("id", ""))
    if sender.get("is_bot") or (bot_id and user_id == bot_id):
        return None
    chat_id = str(chat["id"])
    group = str(chat.get("chat_type", "")).upper() == "GROUP"
    chat_type = ChatType.GROUP if group else ChatType.PRIVATE
    event = update.get("event_name")
    if event in NOT_TEXT:
        return NotText(chat_id, chat_type)
    if event == IMAGE:
        url = _image_url(message)
        if url is None:
            return NotText(chat_id, chat_type)
        caption = message.get("caption") or message.get("text") or ""
        caption = clean_text(str(caption))
        caption = _without_mention(caption, bot_name) if group else caption.strip()
        return PhotoReceived(_inbound(message, chat_id, chat_type, user_id, caption, bot_id), url)
    if event != TEXT or not isinstance(message.get("text"), str):
        return None
    text = clean_text(message["text"])
    text = _without_mention(text, bot_name) if group else text.strip()
    if not text:
        return None
    return _inbound(message, chat_id, chat_type, user_id, text, bot_id)


def _inbound(
    message: JSON, chat_id: str, chat_type: ChatType, user_id: str, text: str, bot_id: str
) -> InboundMessage:
    sender = message["from"]
    group = chat_type is ChatType.GROUP
    names = (sender.get("display_name"), sender.get("first_name"), sender.get("name"))
    user_name = next((n for n in map(_clean_name, names) if n), user_id)
    return InboundMessage(
        platform=PLATFORM,
        chat_id=chat_id,
        chat_type=chat_type,
        chat_title=None if group else user_name,  # Zalo does not name groups in updates
        user_id=user_id,
        user_name=user_name,
        text=text,
        message_id=str(message.get("message_id", "")),
        at=_moment(message.get("date")),
        reply_to=_replied(message, bot_id),
        mentioned=group,  # Zalo passes on only group messages that mention or reply to the bot
    )


def _image_url(message: JSON) -> str | None:
    """Where the image is: `photo_url` (the Bot API's documentation), or `photo` as a URL or an
    object with `url` (as clients in the wild read it)."""
    for value in (message.get("photo_url"), message.get("photo")):
        if isinstance(value, dict):
            value = value.get("url")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _clean_name(name: Any) -> str:
    return clean_text(str(name)).strip() if name else ""


def _without_mention(text: str, bot_name: str) -> str:
    """`@Loa /dangky AB12` -> `/dangky AB12`: the mention only addressed the bot."""
    if bot_name:
        text = re.sub(rf"[ \t]*@{re.escape(bot_name)}(?!\w)[ \t]*", " ", text, flags=re.IGNORECASE)
    return text.strip()


def _replied(message: JSON, bot_id: str) -> str | None:
    """The id of the bot's message this one answers, when Zalo says so (undocumented)."""
    replied: Any = message.get("reply_to_message")
    if not isinstance(replied, dict) or not replied.get("message_id"):
        return None
    author = replied.get("from")
    if isinstance(author, dict) and author.get("id") and str(author["id"]) != bot_id:
        return None  # a reply to someone else
    return str(replied["message_id"])


def _moment(value: Any) -> dt.datetime:
    """Zalo's dates are milliseconds since the epoch."""
    try:
        return dt.datetime.fromtimestamp(int(value) / 1000, tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return dt.datetime.now(dt.UTC)
