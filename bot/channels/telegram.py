"""Telegram through python-telegram-bot 22: updates in as `Event`s, text out, nothing more.

Commands are not routed here (the conversation does that for every platform alike); this module
only turns a PTB `Update` into an `InboundMessage` or `BotRemoved` and maps PTB's errors onto the
channel's `SendError`s. Sending goes through PTB's `AIORateLimiter` (30/s overall, 20/min a group).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from typing import Any

import httpx
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InputFile,
    Message,
    Update,
)
from telegram._utils.types import JSONDict
from telegram.constants import ChatMemberStatus, MessageLimit
from telegram.constants import ChatType as TgChatType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    Updater,
    filters,
)

from bot.channels.base import (
    BotAdded,
    BotRemoved,
    ChatMoved,
    ChatType,
    Event,
    EventHandler,
    FetchFailed,
    InboundMessage,
    PhotoReceived,
    TooLarge,
    clean_text,
    send_parts,
    split_text,
)

# Defined with the other defaults; named here too, where the adapters' users find them.
from bot.channels.defaults import TELEGRAM_API, TELEGRAM_LIMITS, TelegramLimits
from bot.channels.download import download
from bot.channels.pacing import Gate, Pacer, Pacers, RoundTrip
from bot.channels.webhook import (
    WEBHOOK_LIMITS,
    Malformed,
    Webhook,
    WebhookLimits,
    WebhookServer,
)
from bot.errors import (
    ChatAddressChanged,
    ChatUnreachable,
    Invalid,
    Problem,
    RetryLater,
    SendError,
    TemporaryFailure,
)
from bot.logs import MASK
from bot.store.defaults import PHOTO_MAX_BYTES

# Opt in to PTB's coming behaviour: durations (RetryAfter.retry_after) as timedelta, no warning.
os.environ.setdefault("PTB_TIMEDELTA", "true")

log = logging.getLogger(__name__)

PLATFORM = "telegram"
FIRST_WAIT, LAST_WAIT = 2.0, 60.0  # seconds between tries to reach Telegram at start, doubling

# Told what goes wrong while serving: "unreachable" (with the seconds before the next try) or
# "conflict" (another process polls with this token), and the platform's words.
Trouble = Callable[[str, str, float | None], None]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UPDATES = ["message", "my_chat_member"]
CONCURRENT_UPDATES = 64
INBOX = 1000  # updates a webhook may queue before it answers 503 (Telegram then resends)
GROUP_BURST = 3
OVERALL_SHARE = 0.96  # of Telegram's overall rate: a margin for jitter between here and there
TOLERANCE = 0.002  # seconds a paced slot may be late and still count as on time
UNTIMED = ("getUpdates", "sendDocument")  # no measure of the round trip: a long poll, an upload
BOT_API_FILES = 20 * 2**20  # bytes: getFile gives no larger file to a bot
PHOTO_MIME = "image/jpeg"  # Telegram re-encodes every photo (not sent as a file) as JPEG
_GONE = (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
_ADMINS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


class ChatRateLimiter(AIORateLimiter):
    """PTB's limiter, shaped so that Telegram never answers 429.

    Telegram counts in sliding windows; PTB's token buckets allow a burst on top of their rate,
    so a group's bucket is sized so that burst + rate stays within its minute (a burst of 3, then
    the rest). The overall limit is a `Pacer` at 96% of the rate, which a bucket of one cannot
    hold (it falls to 94%). The private-chat limit, which PTB leaves to us, is added: eleven
    data prompts to a principal must not come back as 429s.
    """

    def __init__(self, limits: TelegramLimits = TELEGRAM_LIMITS) -> None:
        burst = max(1, min(GROUP_BURST, int(limits.group_per_minute) // 4))
        steady = max(limits.group_per_minute - burst, 1)
        super().__init__(
            overall_max_rate=0,  # paced below instead
            group_max_rate=burst,
            group_time_period=60 * burst / steady,
        )
        self.rate = limits.overall_per_second * OVERALL_SHARE  # messages a second, at most
        self._overall = Pacer(self.rate, TOLERANCE)
        self._private = Pacers(limits.private_per_second)
        self.gate = Gate()  # the 429 gate: closed by any 429, for every request
        self.round_trip = RoundTrip()  # known from the first request on, before any broadcast

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        chat_id = data.get("chat_id")

        async def when_allowed(*call_args: Any, **call_kwargs: Any) -> Any:
            if chat_id is not None:  # what Telegram counts: messages to chats
                await self._overall.wait(not_before=self.gate.until)
            await self.gate.wait()  # checked last, right before the request leaves
            if endpoint in UNTIMED:
                return await callback(*call_args, **call_kwargs)
            with self.round_trip.timed():
                return await callback(*call_args, **call_kwargs)

        if isinstance(chat_id, int) and chat_id > 0 and endpoint.startswith("send"):
            await self._private.wait(chat_id)
        try:
            return await super().process_request(
                when_allowed, args, kwargs, endpoint, data, rate_limit_args
            )
        except RetryAfter as exc:  # which limit was hit is not said: everyone waits
            self.gate.close_for(_seconds(exc.retry_after))
            raise


class TelegramChannel:
    platform = PLATFORM
    sends_files = True

    def __init__(
        self,
        token: str,
        *,
        api_base_url: str = TELEGRAM_API,
        webhook: Webhook | None = None,
        limits: TelegramLimits = TELEGRAM_LIMITS,
        poll_timeout: float = 10,
        on_trouble: Trouble | None = None,
        webhook_limits: WebhookLimits = WEBHOOK_LIMITS,
        photo_max_bytes: int = PHOTO_MAX_BYTES,
    ) -> None:
        """`photo_max_bytes`: of a photo's sizes, the largest under this one is taken."""
        self.webhook = webhook
        self.poll_timeout = poll_timeout
        self.photo_max_bytes = photo_max_bytes
        self._token = token
        self._files = httpx.AsyncClient()  # downloads: their own timeouts, never PTB's pool
        self.on_trouble = on_trouble or _log_trouble
        self._conflicts = 0
        self._handle: EventHandler | None = None
        self.server = (
            WebhookServer(webhook, SECRET_HEADER, self._accept, limits=webhook_limits)
            if webhook
            else None
        )
        limiter = ChatRateLimiter(limits)
        self.rate, self.round_trip = limiter.rate, limiter.round_trip  # the dispatcher's window
        self.app = (
            Application.builder()
            .token(token)
            .base_url(f"{api_base_url}/bot")
            .base_file_url(f"{api_base_url}/file/bot")
            .rate_limiter(limiter)
            .concurrent_updates(CONCURRENT_UPDATES)  # the core keeps each chat in order
            .job_queue(None)
            .build()
        )
        self.app.add_handler(MessageHandler(filters.TEXT, self._on_message))
        self.app.add_handler(MessageHandler(filters.PHOTO | filters.Document.ALL, self._on_photo))
        self.app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migrate))
        self.app.add_handler(ChatMemberHandler(self._on_member, ChatMemberHandler.MY_CHAT_MEMBER))
        self.app.add_error_handler(self._on_error)

    @property
    def _updater(self) -> Updater:
        """PTB's long poller: the builder makes one, as it was not told not to."""
        assert self.app.updater is not None
        return self.app.updater

    @property
    def username(self) -> str:
        return self.app.bot.username

    async def start(self, handle: EventHandler) -> None:
        """Connect (getMe), then receive updates by long polling or on the webhook."""
        self._handle = handle
        await self._connect()
        if self.webhook and self.server:
            await self.server.start()
            await self.app.bot.set_webhook(
                self.webhook.url, secret_token=self.webhook.secret, allowed_updates=UPDATES
            )
        else:
            await self._updater.start_polling(
                timeout=dt.timedelta(seconds=self.poll_timeout),
                allowed_updates=UPDATES,
                bootstrap_retries=-1,  # deleteWebhook, just after getMe: the link may flap
                error_callback=self._on_polling_error,
            )
        await self.app.start()
        log.info("telegram: @%s connected (%s)", self.username, self.mode)

    async def _connect(self) -> None:
        """getMe until Telegram answers: at boot the network may come up after Loa does."""
        wait = FIRST_WAIT
        while True:
            try:
                await self.app.initialize()
                return
            except InvalidToken:  # its message quotes the token: never let it travel
                raise Invalid([Problem(("TELEGRAM_BOT_TOKEN",), "token_rejected")]) from None
            except NetworkError as exc:  # no route, refused, timed out, a 5xx answer
                self.on_trouble("unreachable", exc.message, wait)
            await asyncio.sleep(wait)
            wait = min(wait * 2, LAST_WAIT)

    def _on_polling_error(self, exc: TelegramError) -> None:
        """PTB retries getUpdates by itself; what failed is said once, not every 3 s with a
        traceback. A Conflict is another process polling with this token (Loa started twice)."""
        if isinstance(exc, Conflict):
            self._conflicts += 1
            if self._conflicts == 1:
                self.on_trouble("conflict", exc.message, None)
            else:
                log.debug("telegram: getUpdates conflict %d (%s)", self._conflicts, exc.message)
        else:
            log.warning("telegram: getUpdates failed, PTB retries (%s)", exc.message)

    @property
    def mode(self) -> str:
        return "webhook" if self.webhook else "polling"

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
        if self._updater.running:
            await self._updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        await self._files.aclose()

    def _accept(self, body: Any) -> bool:
        """A webhook's body, queued for PTB as its own webhook would; False when too many wait."""
        if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
            raise Malformed("not a Telegram update")
        try:
            update = Update.de_json(body, self.app.bot)
        except Exception as exc:  # whatever PTB finds wrong in it, it is not an update
            raise Malformed(f"not a Telegram update ({type(exc).__name__})") from exc
        if self.app.update_queue.qsize() >= INBOX:
            return False
        self.app.update_queue.put_nowait(update)
        return True

    async def send(self, chat_id: str, text: str) -> str:
        """Send `text` (split on lines when over Telegram's limit); the last message's id.

        Once a first part is out, a 429 on a later one is waited out here: retrying the whole
        text would send the first part twice.
        """
        parts = split_text(text, MessageLimit.MAX_TEXT_LENGTH)
        return await send_parts(parts, lambda part: self._send_one(chat_id, part))

    async def _send_one(self, chat_id: str, text: str) -> str:
        with _sending():
            message = await self.app.bot.send_message(chat_id=int(chat_id), text=text)
        return str(message.message_id)

    async def send_document(self, chat_id: str, name: str, content: bytes, caption: str) -> str:
        with _sending():
            message = await self.app.bot.send_document(
                chat_id=int(chat_id),
                document=InputFile(content, filename=name),
                caption=caption[: MessageLimit.CAPTION_LENGTH],
                read_timeout=60,
                write_timeout=120,  # a big table to a slow link
            )
        return str(message.message_id)

    async def is_admin(self, chat_id: str, user_id: str) -> bool:
        if int(chat_id) > 0 or chat_id == user_id:  # a private chat, or an anonymous admin
            return chat_id == user_id
        try:
            member = await self.app.bot.get_chat_member(int(chat_id), int(user_id))
        except TelegramError:
            log.warning("telegram: could not check the admins of chat %s", chat_id)
            return False
        return member.status in _ADMINS

    async def set_commands(
        self,
        everyone: Sequence[tuple[str, str]],
        coordinators: Sequence[tuple[str, str]],
        coordinator_ids: Iterable[str],
    ) -> None:
        """The command menu: unit commands for all, plus coordinator commands in their chats."""
        try:
            await self.app.bot.set_my_commands(
                [BotCommand(*c) for c in everyone], scope=BotCommandScopeDefault()
            )
        except TelegramError as exc:
            log.warning("telegram: the command menu could not be set (%s)", exc)
        for user_id in coordinator_ids:
            await self.set_coordinator_commands([*everyone, *coordinators], user_id)

    async def set_coordinator_commands(
        self, commands: Sequence[tuple[str, str]], user_id: str
    ) -> None:
        try:
            await self.app.bot.set_my_commands(
                [BotCommand(*c) for c in commands], scope=BotCommandScopeChat(int(user_id))
            )
        except TelegramError as exc:  # the coordinator has not opened a chat with the bot
            log.info("telegram: no command menu for coordinator %s (%s)", user_id, exc)

    async def _on_message(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        text = self._own_command(clean_text(message.text))
        if text is None:  # a command for another bot in the group
            return
        inbound = self._inbound(update, text)
        if inbound is not None:
            await self._emit(inbound)

    async def _on_photo(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo (its largest size under the cap) or any file: the app refuses what is not
        an image, with a reason, so a non-image file comes through too."""
        message = update.effective_message
        if message is None:
            return
        inbound = self._inbound(update, clean_text(message.caption or "").strip())
        if inbound is None:
            return
        if message.photo:
            fits = [p for p in message.photo if (p.file_size or 0) <= self.photo_max_bytes]
            size = max(fits or message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
            photo = PhotoReceived(inbound, size.file_id, size.file_size, PHOTO_MIME)
        elif message.document is not None:
            document = message.document
            photo = PhotoReceived(
                inbound,
                document.file_id,
                document.file_size,
                document.mime_type,
                clean_text(document.file_name) if document.file_name else None,
            )
        else:
            return
        await self._emit(photo)

    def _inbound(self, update: Update, text: str) -> InboundMessage | None:
        """Who wrote what where, for a text or a photo's caption; None for what Loa ignores
        (a channel's post, another bot)."""
        message = update.effective_message
        chat, user = update.effective_chat, update.effective_user
        if message is None or chat is None or user is None or chat.type == TgChatType.CHANNEL:
            return None
        as_group = message.sender_chat is not None and message.sender_chat.id == chat.id
        if user.is_bot and not as_group:
            return None
        title = clean_text(chat.title or chat.full_name or "")
        return InboundMessage(
            platform=PLATFORM,
            chat_id=str(chat.id),
            chat_type=ChatType.PRIVATE if chat.type == TgChatType.PRIVATE else ChatType.GROUP,
            chat_title=title or None,
            # an anonymous admin writes as the group itself: its id stands for them
            user_id=str(chat.id) if as_group else str(user.id),
            user_name=title if as_group else clean_text(user.full_name),
            text=text,
            message_id=str(message.message_id),
            at=message.date,
            reply_to=_reply_to_bot(message.reply_to_message, self.app.bot.id),
        )

    async def fetch(self, ref: str, *, max_bytes: int, timeout: float) -> bytes:
        """getFile, then the file from Telegram's file URL, streamed with a cap: PTB's own
        download reads a file whole, however large."""
        try:
            async with asyncio.timeout(timeout):
                file = await self.app.bot.get_file(ref)
        except TimeoutError:
            raise FetchFailed(f"getFile took over {timeout:g}s") from None
        except BadRequest as exc:
            if "too big" in exc.message.lower():  # over the 20 MB a bot may download
                raise TooLarge(max_bytes, BOT_API_FILES) from None
            raise FetchFailed(exc.message) from None
        except TelegramError as exc:
            raise FetchFailed(exc.message) from None
        if file.file_size is not None and file.file_size > max_bytes:
            raise TooLarge(max_bytes, file.file_size)
        if not file.file_path:
            raise FetchFailed("Telegram gave no file path")
        return await download(
            self._files,
            file.file_path,
            max_bytes=max_bytes,
            timeout=timeout,
            masked=lambda text: text.replace(self._token, MASK),
        )

    def _own_command(self, text: str) -> str | None:
        """`/lich@loa_bot x` -> `/lich x`; None for `/lich@other_bot`."""
        if not text.startswith("/"):
            return text
        head = text.split(maxsplit=1)[0]
        name, at, target = head.partition("@")
        if at and target.lower() != self.username.lower():
            return None
        return name + text[len(head) :]

    async def _on_migrate(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        """Telegram says it twice: `migrate_to` in the old group, `migrate_from` in the new."""
        message = update.effective_message
        if message is None:
            return
        if message.migrate_to_chat_id:
            old, new = message.chat.id, message.migrate_to_chat_id
        elif message.migrate_from_chat_id:
            old, new = message.migrate_from_chat_id, message.chat.id
        else:
            return
        await self._emit(ChatMoved(PLATFORM, str(old), str(new)))

    async def _on_member(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        change = update.my_chat_member
        if change is None or change.chat.type == TgChatType.CHANNEL:
            return
        chat_id, by_user = str(change.chat.id), str(change.from_user.id)
        was, now = change.old_chat_member.status, change.new_chat_member.status
        if now in _GONE:
            await self._emit(BotRemoved(PLATFORM, chat_id, by_user))
        elif was in _GONE and change.chat.type != TgChatType.PRIVATE:
            await self._emit(
                BotAdded(PLATFORM, chat_id, ChatType.GROUP, _title(change.chat.title), by_user)
            )

    async def _emit(self, event: Event) -> None:
        if self._handle is not None:
            await self._handle(event)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram: handling an update failed", exc_info=context.error)


def _reply_to_bot(replied: Message | None, bot_id: int) -> str | None:
    """The id of the bot's message a message answers; None when it answers none of the bot's."""
    if replied is None or replied.from_user is None or replied.from_user.id != bot_id:
        return None
    return str(replied.message_id)


def _log_trouble(what: str, detail: str, retry_in: float | None) -> None:
    """What a channel made outside `loa run` does with trouble: log it."""
    again = f"; trying again in {retry_in:g} s" if retry_in is not None else ""
    log.warning("telegram: %s (%s)%s", what, detail, again)


def _title(title: str | None) -> str | None:
    return clean_text(title) if title else None


def _seconds(value: int | float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


@contextlib.contextmanager
def _sending() -> Iterator[None]:
    """Telegram's errors as the `SendError`s the rest of Loa knows."""
    try:
        yield
    except RetryAfter as exc:
        raise RetryLater(_seconds(exc.retry_after)) from exc
    except ChatMigrated as exc:
        raise ChatAddressChanged(str(exc.new_chat_id)) from exc
    except Forbidden as exc:
        raise ChatUnreachable(exc.message) from exc
    except BadRequest as exc:
        if "not found" in exc.message.lower():
            raise ChatUnreachable(exc.message) from exc
        raise SendError(exc.message) from exc
    except NetworkError as exc:  # includes TimedOut and 5xx answers
        raise TemporaryFailure(exc.message) from exc
    except TelegramError as exc:
        raise SendError(exc.message) from exc
