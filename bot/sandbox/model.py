"""The sandbox's records of bots, people, chats and sent messages, each able to say itself as JSON.

Kept free of behaviour beyond the shape of Telegram's objects, so the world (who does what) and
the API (who may ask what) can both lean on them.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field

from bot.sandbox.wire import JSON

LANGUAGE_CODE = "vi"  # what Telegram reports for the users of a Vietnamese client
FIRST_SUPERGROUP_ID = -1_001_000_000_000  # supergroup ids are -100 followed by the channel id
FIRST_BASIC_GROUP_ID = -4_000_000_000  # basic groups made since 2023 have ids like -4xxxxxxxxx
# Telegram's stand-in sender when a group acts anonymously (and here: when no user is named).
ANONYMOUS_ADMIN: JSON = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
# Update kinds a bot gets only when it names them in allowed_updates.
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
ADMIN_RIGHTS: JSON = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": True,
    "can_edit_stories": True,
    "can_delete_stories": True,
    "can_pin_messages": True,
    "can_manage_topics": False,
}


@dataclass
class Stats:
    """Counters a benchmark or a test reads: how the client treated the API."""

    requests: int = 0  # Bot API requests of any kind
    sent: int = 0  # messages the bots sent successfully
    rate_limited: int = 0  # 429s answered
    # sends that came before a retry_after given for their scope elapsed, on a connection that
    # had carried that 429 (sent after it was read; not one already on its way: `limits`)
    early_retries: int = 0
    injected_failures: int = 0  # answers forced by fail_next
    webhook_deliveries: int = 0  # updates a webhook accepted
    webhook_failures: int = 0  # webhook posts that failed and will be retried
    downloads: int = 0  # files served to bots (Telegram's /file/bot…, Zalo's image URLs)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class User:
    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None

    def to_dict(self, *, language: bool = True) -> JSON:
        """As in a message's `from`; Telegram adds the client's language only in updates."""
        user: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if language:
            user["language_code"] = LANGUAGE_CODE
        return user


@dataclass
class Webhook:
    url: str
    secret: str | None
    has_certificate: bool
    max_connections: int


@dataclass
class Bot:
    token: str
    id: int
    username: str
    first_name: str
    privacy: bool
    updates: list[JSON] = field(default_factory=list)  # unconfirmed, oldest first
    next_update_id: int = 1
    last_update: JSON | None = None  # what `TelegramSandbox.resend` sends again
    allowed: frozenset[str] | None = None  # None: Telegram's default set
    webhook: Webhook | None = None
    waiter: asyncio.Future[str] | None = None  # the long poll in progress
    deliverer: asyncio.Task[None] | None = None  # the webhook delivery loop
    last_error_date: int | None = None
    last_error_message: str | None = None
    commands: dict[str, list[JSON]] = field(default_factory=dict)

    def to_dict(self) -> JSON:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def wants(self, kind: str) -> bool:
        return kind not in NOT_BY_DEFAULT if self.allowed is None else kind in self.allowed


@dataclass
class Chat:
    id: int
    type: str  # "supergroup", "group" (a basic group) or "private"
    title: str | None = None
    username: str | None = None
    user: User | None = None  # private chats: the person on the other side
    members: list[int] = field(default_factory=list)
    admins: list[int] = field(default_factory=list)
    creator: int | None = None
    bots: dict[str, str] = field(default_factory=dict)  # token -> member/left/kicked
    started: set[str] = field(default_factory=set)  # private: bots the user has written to
    messages: dict[int, JSON] = field(default_factory=dict)
    next_message_id: int = 1
    last_bot: str | None = None  # groups: the token of the last bot that sent a message here
    migrated_to: int | None = None  # a basic group upgraded to this supergroup

    @property
    def is_group(self) -> bool:
        return self.user is None

    def bot_status(self, token: str) -> str | None:
        """In a group: None if the bot was never there. A private chat only records blocks."""
        return self.bots.get(token) if self.is_group else self.bots.get(token, "member")

    def is_admin(self, user_id: int) -> bool:
        return user_id == self.creator or user_id in self.admins

    def take_message_id(self) -> int:
        self.next_message_id += 1
        return self.next_message_id - 1

    def to_dict(self) -> JSON:
        if self.user is None:
            chat: JSON = {"id": self.id, "title": self.title, "type": self.type}
            if self.username:
                chat["username"] = self.username
            if self.type == "group":
                # Undocumented, but the Bot API still sends it for basic groups.
                chat["all_members_are_administrators"] = False
            return chat
        chat = {"id": self.id, "first_name": self.user.first_name}
        if self.user.last_name:
            chat["last_name"] = self.user.last_name
        if self.user.username:
            chat["username"] = self.user.username
        chat["type"] = "private"
        return chat


@dataclass
class Sent:
    token: str
    chat_id: int
    message: JSON
    extras: JSON


@dataclass
class File:
    document: JSON  # what a message carries of it: a Document, or one PhotoSize
    content: bytes
    path: str | None = None  # where /file/bot<token>/ serves it, once getFile named it


def member(user: JSON, status: str) -> JSON:
    """A ChatMember with every field python-telegram-bot requires for its status."""
    if status == "creator":
        return {"user": user, "status": status, "is_anonymous": False}
    if status == "administrator":
        return {"user": user, "status": status, **ADMIN_RIGHTS}
    if status == "kicked":
        return {"user": user, "status": status, "until_date": 0}  # 0: forever
    return {"user": user, "status": status}
