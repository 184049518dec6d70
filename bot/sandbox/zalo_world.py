"""The world behind the sandbox Zalo Bot API: bots, people, chats and who hears what.

Zalo's shapes, not Telegram's: every id is a string (people, chats and messages get 20 hex
digits, a bot the number before the ":" of its token), dates are milliseconds, a private chat's
id is its person's id, and an update is `{"event_name": ..., "message": {...}}`.

In a group (a beta on Zalo) a bot hears only messages that mention it (`@<display name>`) or
reply to one of its own; in a private chat it hears everything, and may write only once the
person has written. Zalo documents no reply field in updates, so none is sent, and no membership
events: removing the bot is silent, and later sends fail (see `zalo_api`).

Like `world`, everything here is synchronous and free of HTTP.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.sandbox.wire import JSON, SandboxError

KINDS = {
    "text": "message.text.received",
    "image": "message.image.received",
    "sticker": "message.sticker.received",
    "unsupported": "message.unsupported.received",
}
PRIVATE, GROUP = "PRIVATE", "GROUP"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class ZaloWebhook:
    url: str
    secret: str
    updated_at: int


@dataclass
class ZaloBot:
    token: str
    id: str
    display_name: str
    account_name: str
    updates: list[JSON] = field(default_factory=list)  # not yet fetched, oldest first
    last_update: JSON | None = None  # what `ZaloSandbox.resend` sends again
    webhook: ZaloWebhook | None = None
    waiter: asyncio.Future[str] | None = None  # the long poll in progress
    deliverer: asyncio.Task[None] | None = None  # the webhook delivery loop
    last_error_date: int | None = None
    last_error_message: str | None = None
    webhook_updated_at: int = 0


@dataclass
class ZaloUser:
    id: str
    display_name: str

    def to_dict(self) -> JSON:
        return {"id": self.id, "display_name": self.display_name, "is_bot": False}


@dataclass
class ZaloChat:
    id: str
    type: str  # PRIVATE or GROUP
    title: str | None = None  # groups only; Zalo does not send it in updates
    user: ZaloUser | None = None  # private chats: the person on the other side
    members: list[str] = field(default_factory=list)
    bots: dict[str, str] = field(default_factory=dict)  # token -> "member" / "removed"
    started: set[str] = field(default_factory=set)  # private: bots the person has written to
    authors: dict[str, str | None] = field(default_factory=dict)  # message id -> bot token

    @property
    def is_group(self) -> bool:
        return self.type == GROUP

    def bot_status(self, token: str) -> str | None:
        """In a group: None if the bot was never there. A private chat only records blocks."""
        return self.bots.get(token) if self.is_group else self.bots.get(token, "member")

    def to_dict(self) -> JSON:
        return {"id": self.id, "chat_type": self.type}


@dataclass
class ZaloSent:
    token: str
    chat_id: str
    method: str
    message: JSON


def _hex_id(kind: str, number: int) -> str:
    """A Zalo-looking id (20 hex digits), the same in every run."""
    return hashlib.sha1(f"{kind}:{number}".encode()).hexdigest()[:20]


class ZaloWorld:
    """Registries and rules; `on_update(bot)` and `on_sent()` tell the outside."""

    def __init__(self, on_update: Callable[[ZaloBot], None], on_sent: Callable[[], None]) -> None:
        self.bots: dict[str, ZaloBot] = {}
        self.users: dict[str, ZaloUser] = {}
        self.chats: dict[str, ZaloChat] = {}
        self.sent: list[ZaloSent] = []
        self.files: dict[str, tuple[bytes, str]] = {}  # name -> content, type: the sandbox's CDN
        self._on_update = on_update
        self._on_sent = on_sent
        self._numbers = itertools.count(1)
        self._bot_ids = itertools.count(1_459_232_241_454_765_289)

    # -- lookups -----------------------------------------------------------------------------

    def user(self, user_id: str) -> ZaloUser:
        try:
            return self.users[str(user_id)]
        except KeyError:
            raise SandboxError(f"no user {user_id}") from None

    def bot(self, token: str) -> ZaloBot:
        try:
            return self.bots[token]
        except KeyError:
            raise SandboxError(f"no bot with token {token!r}") from None

    def chat(self, chat_id: str) -> ZaloChat:
        try:
            return self.chats[str(chat_id)]
        except KeyError:
            raise SandboxError(f"no chat {chat_id}") from None

    def group(self, chat_id: str) -> ZaloChat:
        chat = self.chat(chat_id)
        if not chat.is_group:
            raise SandboxError(f"chat {chat_id} is a private chat")
        return chat

    # -- setup -------------------------------------------------------------------------------

    def add_bot(self, token: str, display_name: str, account_name: str | None) -> str:
        if token in self.bots:
            raise SandboxError(f"a bot with token {token!r} exists already")
        prefix, colon, _ = token.partition(":")
        bot_id = prefix if colon and prefix.isascii() and prefix.isdigit() else None
        bot_id = bot_id or str(next(self._bot_ids))
        if any(bot.id == bot_id for bot in self.bots.values()):
            raise SandboxError(f"bot id {bot_id} is taken")
        name = account_name or f"bot.{_hex_id('account', next(self._numbers))[:9]}"
        self.bots[token] = ZaloBot(token, bot_id, display_name, name)
        return bot_id

    def add_user(self, display_name: str) -> str:
        user_id = _hex_id("user", next(self._numbers))
        self.users[user_id] = ZaloUser(user_id, display_name)
        return user_id

    def create_group(
        self, title: str, members: list[str] | tuple[str, ...], bots: list[str] | tuple[str, ...]
    ) -> str:
        for user_id in members:
            self.user(user_id)
        for token in bots:
            self.bot(token)
        chat_id = _hex_id("group", next(self._numbers))
        chat = ZaloChat(chat_id, GROUP, title=title, members=list(dict.fromkeys(members)))
        chat.bots = dict.fromkeys(bots, "member")
        self.chats[chat_id] = chat
        return chat_id

    def private_chat(self, user_id: str) -> str:
        user = self.user(user_id)
        self.chats.setdefault(user.id, ZaloChat(user.id, PRIVATE, user=user))
        return user.id

    def add_member(self, chat_id: str, user_id: str) -> None:
        chat, user = self.group(chat_id), self.user(user_id)
        if user.id not in chat.members:
            chat.members.append(user.id)

    def add_bot_to_chat(self, chat_id: str, token: str) -> None:
        """Add the bot to a group, or unblock it in a private chat (silently, as on Zalo)."""
        chat = self.chat(chat_id)
        self.bot(token)
        if chat.is_group:
            chat.bots[token] = "member"
        else:
            chat.bots.pop(token, None)

    def remove_bot(self, chat_id: str, token: str) -> None:
        chat = self.chat(chat_id)
        self.bot(token)
        if chat.bot_status(token) != "member":
            raise SandboxError(f"bot {token!r} is not in chat {chat_id}")
        chat.bots[token] = "removed"

    def add_file(self, content: bytes, mime_type: str) -> str:
        """Keep an image a person sends; its name under the sandbox's /sandbox/files/."""
        if not content:
            raise SandboxError("Zalo clients do not send empty images")
        suffix = {"image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}
        name = _hex_id("file", next(self._numbers)) + suffix.get(mime_type, ".jpg")
        self.files[name] = (content, mime_type)
        return name

    # -- messages ----------------------------------------------------------------------------

    def post(
        self,
        chat_id: str,
        user_id: str,
        kind: str,
        text: str | None,
        reply_to: str | None,
        extras: JSON,
    ) -> JSON:
        """A person writes; every bot there that may hear it gets an update."""
        user = self.user(user_id)
        chat_id = str(chat_id)
        if chat_id == user.id:
            self.private_chat(user.id)
        chat = self.chat(chat_id)
        if not chat.is_group and chat.id != user.id:
            raise SandboxError(f"only user {chat.id} writes in their private chat")
        if chat.is_group and user.id not in chat.members:
            chat.members.append(user.id)
        if kind not in KINDS:
            raise SandboxError(f"unknown kind {kind!r}; known: {sorted(KINDS)}")
        if reply_to is not None and reply_to not in chat.authors:
            raise SandboxError(f"chat {chat_id} has no message {reply_to}")
        clean = (text or "").strip()
        if kind == "text" and not clean:
            raise SandboxError("Zalo clients do not send empty messages")
        message: JSON = {
            "from": user.to_dict(),
            "chat": chat.to_dict(),
            "message_id": _hex_id("message", next(self._numbers)),
            "date": now_ms(),
        }
        if kind == "text":
            message["text"] = clean
        elif kind == "image":
            message["photo_url"] = extras.get("photo_url") or "https://photo.sandbox.zalo/1.jpg"
            if clean:
                message["caption"] = clean
        elif kind == "sticker":
            message["sticker"] = extras.get("sticker") or "0e078a2fb66a5f34067b"
            message["url"] = (
                f"https://zalo-api.zadn.vn/api/emoticon/sticker?eid={message['sticker']}"
            )
        chat.authors[message["message_id"]] = None
        replied_bot = chat.authors.get(reply_to) if reply_to is not None else None
        for bot in self.bots.values():
            if chat.bot_status(bot.token) != "member":
                continue
            if not chat.is_group:
                chat.started.add(bot.token)
            elif replied_bot != bot.token and not _mentions(clean, bot):
                continue  # groups: the bot hears mentions of it and replies to it only
            self.enqueue(bot, {"event_name": KINDS[kind], "message": message})
        return copy.deepcopy(message)

    def enqueue(self, bot: ZaloBot, update: JSON) -> None:
        bot.updates.append(copy.deepcopy(update))  # a later change cannot rewrite what was sent
        bot.last_update = copy.deepcopy(update)
        self._on_update(bot)

    def record(self, bot: ZaloBot, chat: ZaloChat, method: str, content: JSON) -> JSON:
        """A bot's message was accepted: keep it; return what the API answers."""
        answer: JSON = {"message_id": _hex_id("message", next(self._numbers)), "date": now_ms()}
        chat.authors[answer["message_id"]] = bot.token
        message = {**answer, "chat": chat.to_dict(), **content}
        self.sent.append(ZaloSent(bot.token, chat.id, method, message))
        self._on_sent()
        return answer


def _mentions(text: str, bot: ZaloBot) -> bool:
    return f"@{bot.display_name}".lower() in text.lower()
