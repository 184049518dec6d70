"""What every chat platform looks like to the rest of Loa: events in, text out.

Adapters (`telegram.py`, `zalo.py`) turn platform updates into these events and send text;
nothing above them knows which platform a chat is on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.address import Address
from bot.channels.pacing import RoundTrip
from bot.errors import Fault, SendError

# The send errors are shared by every layer that sends: they live in bot.errors and are named
# here too, where the channels' users have always found them.

# C0 and C1 control characters but tab and newline: no database stores NUL in text (PostgreSQL
# refuses it), and the others only garble names, answers and exports.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """`text` without the control characters no chat, database or spreadsheet should hold."""
    return _CONTROL.sub("", text)


class ChatType(StrEnum):
    PRIVATE = "private"
    GROUP = "group"


@dataclass(frozen=True)
class InboundMessage:
    """A text someone wrote to the bot; a command arrives as `/name args` without `@botname`."""

    platform: str
    chat_id: str
    chat_type: ChatType
    chat_title: str | None
    user_id: str
    user_name: str
    text: str
    message_id: str
    at: dt.datetime  # aware
    reply_to: str | None = None  # id of the bot's message this answers
    mentioned: bool = False  # the text named the bot (Zalo passes on only such group messages)

    @property
    def addressed(self) -> bool:
        """Meant for the bot: in a private chat, a reply to the bot, or a mention."""
        return self.chat_type is ChatType.PRIVATE or self.reply_to is not None or self.mentioned

    @property
    def sender(self) -> str:
        """`platform:user_id`, the form `LOA_ADMINS` uses."""
        return str(self.sender_address)

    @property
    def sender_address(self) -> Address:
        """Who wrote: their private chat, on both platforms."""
        return Address(self.platform, self.user_id)

    @property
    def chat_address(self) -> Address:
        """Where it was written: where a reply goes."""
        return Address(self.platform, self.chat_id)


@dataclass(frozen=True)
class BotRemoved:
    """The bot was removed from (or blocked in) a chat; nothing can be sent there any more."""

    platform: str
    chat_id: str
    by_user: str | None = None

    @property
    def chat_address(self) -> Address:
        return Address(self.platform, self.chat_id)

    @property
    def by_address(self) -> Address | None:
        """Who did it, when the platform said."""
        return Address(self.platform, self.by_user) if self.by_user else None


@dataclass(frozen=True)
class BotAdded:
    """The bot was added to a group (again): it can write there."""

    platform: str
    chat_id: str
    chat_type: ChatType
    chat_title: str | None
    by_user: str | None = None

    @property
    def chat_address(self) -> Address:
        return Address(self.platform, self.chat_id)

    @property
    def by_address(self) -> Address | None:
        """Who did it, when the platform said."""
        return Address(self.platform, self.by_user) if self.by_user else None


@dataclass(frozen=True)
class ChatMoved:
    """The chat got a new id (Telegram upgrades a group to a supergroup); same people, same unit."""

    platform: str
    chat_id: str  # the old id
    new_chat_id: str

    @property
    def chat_address(self) -> Address:
        """Where the chat was."""
        return Address(self.platform, self.chat_id)

    @property
    def new_address(self) -> Address:
        return Address(self.platform, self.new_chat_id)


@dataclass(frozen=True)
class PhotoReceived:
    """A picture (or a file that may be one) someone sent; `message` says who sent it, where and
    when, as for a text, with the caption as its text ("" when none).

    What the platform states about the file (`size`, `mime`, `file_name`) is a hint for an early
    refusal, never trusted: the content is checked once fetched (`Channel.fetch(ref)`).
    """

    message: InboundMessage
    ref: str  # Telegram's file_id, Zalo's image URL: opaque to everything but the channel
    size: int | None = None  # bytes, as the platform states it (None: it does not say)
    mime: str | None = None  # as stated: Telegram's photos are JPEG, a document says its own
    file_name: str | None = None

    @property
    def platform(self) -> str:
        return self.message.platform

    @property
    def chat_id(self) -> str:
        return self.message.chat_id

    @property
    def caption(self) -> str:
        return self.message.text

    @property
    def maybe_image(self) -> bool:
        """Whether the stated type allows an image: an unknown type may be one."""
        return self.mime is None or self.mime.lower().startswith("image/")


class FetchError(Exception):
    """A file someone sent could not be fetched from the platform."""


class TooLarge(FetchError):
    """The file is over the cap: its stated size, or the bytes that came before the cap."""

    def __init__(self, max_bytes: int, size: int | None = None) -> None:
        stated = f"{size} bytes" if size is not None else "more"
        super().__init__(f"{stated} over the cap of {max_bytes} bytes")
        self.max_bytes = max_bytes
        self.size = size


class FetchFailed(FetchError):
    """No file came: the platform refused, the network failed, the time ran out, or the
    address was not one Loa fetches from."""


Event = InboundMessage | PhotoReceived | BotRemoved | BotAdded | ChatMoved
EventHandler = Callable[[Event], Awaitable[None]]


def retry_in(error: SendError, tries: int, first: float, cap: float) -> float | None:
    """Seconds to wait before trying again after `error`, the `tries`-th failure in a row
    (from 0): as the platform said, else doubling from `first` up to `cap`; None: never."""
    if error.fault is Fault.WAIT and error.retry_after is not None:
        return error.retry_after
    if error.fault in (Fault.WAIT, Fault.TEMPORARY, Fault.DOUBTFUL):
        return min(first * 2.0**tries, cap)
    return None


PART_TRIES = 3
PART_BACKOFF = (1.0, 30.0)  # seconds: first and longest wait between tries of one part


async def send_parts(parts: Sequence[str], send_one: Callable[[str], Awaitable[str]]) -> str:
    """Send the parts of a long text in order; the last one's id.

    Once the first part is out, a failure worth retrying on a later one is waited out here:
    a caller retrying the whole text would send the first part twice.
    """
    message_id = await send_one(parts[0])
    for part in parts[1:]:
        for tries in range(PART_TRIES):
            try:
                message_id = await send_one(part)
                break
            except SendError as exc:
                wait = retry_in(exc, tries, *PART_BACKOFF)
                if wait is None or tries + 1 == PART_TRIES:
                    raise
                await asyncio.sleep(wait)
    return message_id


def split_text(text: str, limit: int) -> list[str]:
    """Cut a text into messages of at most `limit` characters, between lines where possible."""
    parts: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        if len(current) + len(piece) > limit:
            parts.append(current)
            current = ""
        current += piece
    parts.append(current)
    return [part.rstrip() for part in parts if part.strip()]


def _pieces(text: str, limit: int) -> Iterator[str]:
    """The lines of `text`, ends kept; a line longer than `limit` is cut after a space."""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit) + 1 or limit
            yield line[:cut]
            line = line[cut:]
        yield line


class Channel(Protocol):
    """One chat platform."""

    platform: str
    sends_files: bool  # whether `send_document` can work at all
    rate: float  # messages a second the channel starts at most, all chats together
    round_trip: RoundTrip  # how long a message takes once it leaves

    @property
    def mode(self) -> str:
        """How updates arrive: "polling" or "webhook"."""
        ...

    async def start(self, handle: EventHandler) -> None:
        """Connect and pass every event to `handle` until `stop`."""
        ...

    async def stop(self) -> None: ...

    async def set_commands(
        self,
        everyone: Sequence[tuple[str, str]],
        coordinators: Sequence[tuple[str, str]],
        coordinator_ids: Iterable[str],
    ) -> None:
        """Publish the command menu where the platform has one (name, description)."""
        ...

    async def set_coordinator_commands(
        self, commands: Sequence[tuple[str, str]], user_id: str
    ) -> None:
        """The menu of one coordinator, in their private chat (never raises)."""
        ...

    async def send(self, chat_id: str, text: str) -> str:
        """Send `text`; return the platform's message id. Raises a `SendError`."""
        ...

    async def send_document(self, chat_id: str, name: str, content: bytes, caption: str) -> str:
        """Send a file; return the message id. Raises a `SendError` (`Unsupported` where the
        platform has no way to send files)."""
        ...

    async def is_admin(self, chat_id: str, user_id: str) -> bool:
        """Whether the user administers the chat (always true in a private chat)."""
        ...

    async def fetch(self, ref: str, *, max_bytes: int, timeout: float) -> bytes:
        """The bytes of a file someone sent (`PhotoReceived.ref`): at most `max_bytes` (else
        `TooLarge`), within `timeout` seconds overall (else `FetchFailed`)."""
        ...
