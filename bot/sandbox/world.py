"""The world behind the Bot API: bots, people, chats, and who hears what is said in them.

Everything here is synchronous and free of HTTP, so the API handlers, the control endpoints and
the in-process test helpers all change the world through the same few calls. What the world
cannot do itself (waking a long poll, counting a send) it asks of the two callbacks it is given.
"""

from __future__ import annotations

import copy
import itertools
import mimetypes
import secrets
import time
from collections.abc import Callable, Sequence

from bot.sandbox.formatting import auto_entities
from bot.sandbox.model import (
    ANONYMOUS_ADMIN,
    FIRST_BASIC_GROUP_ID,
    FIRST_SUPERGROUP_ID,
    Bot,
    Chat,
    File,
    Sent,
    User,
    member,
)
from bot.sandbox.privacy import receives
from bot.sandbox.wire import JSON, SandboxError


class World:
    """Registries and the rules that connect them; `on_update(bot)` and `on_sent()` tell outside."""

    def __init__(self, on_update: Callable[[Bot], None], on_sent: Callable[[], None]) -> None:
        self.bots: dict[str, Bot] = {}
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.sent: list[Sent] = []
        self.files: dict[str, File] = {}
        self._on_update = on_update
        self._on_sent = on_sent
        self._ids = itertools.count(500_000_001)
        self._supergroups = itertools.count(1)
        self._basic_groups = itertools.count(1)

    # -- lookups -----------------------------------------------------------------------------

    def user(self, user_id: int) -> User:
        try:
            return self.users[user_id]
        except KeyError:
            raise SandboxError(f"no user {user_id}") from None

    def bot(self, token: str) -> Bot:
        try:
            return self.bots[token]
        except KeyError:
            raise SandboxError(f"no bot with token {token!r}") from None

    def bot_by_id(self, bot_id: int) -> Bot | None:
        return next((bot for bot in self.bots.values() if bot.id == bot_id), None)

    def chat(self, chat_id: int) -> Chat:
        """Any chat the sandbox knows, an upgraded basic group too (for titles and transcripts)."""
        try:
            return self.chats[chat_id]
        except KeyError:
            raise SandboxError(f"no chat {chat_id}") from None

    def live_chat(self, chat_id: int) -> Chat:
        """A chat people can still act in: not a basic group that became a supergroup."""
        chat = self.chat(chat_id)
        if chat.migrated_to is not None:
            raise SandboxError(f"chat {chat_id} was upgraded to supergroup {chat.migrated_to}")
        return chat

    def group(self, chat_id: int) -> Chat:
        chat = self.live_chat(chat_id)
        if not chat.is_group:
            raise SandboxError(f"chat {chat_id} is a private chat")
        return chat

    # -- setup -------------------------------------------------------------------------------

    def add_bot(self, token: str, username: str, first_name: str, privacy: bool) -> int:
        if token in self.bots:
            raise SandboxError(f"a bot with token {token!r} exists already")
        prefix, colon, _ = token.partition(":")
        bot_id = int(prefix) if colon and prefix.isascii() and prefix.isdigit() else next(self._ids)
        if bot_id in self.users or self.bot_by_id(bot_id) is not None:
            raise SandboxError(f"id {bot_id} is taken")
        self.bots[token] = Bot(token, bot_id, username, first_name, privacy)
        return bot_id

    def add_user(self, first_name: str, username: str | None, last_name: str | None) -> int:
        user_id = next(self._ids)
        self.users[user_id] = User(user_id, first_name, username, last_name)
        return user_id

    def create_group(
        self,
        title: str,
        members: list[int] | tuple[int, ...],
        bots: list[str] | tuple[str, ...],
        admins: list[int] | tuple[int, ...],
        *,
        creator: int | None,
        username: str | None,
        supergroup: bool,
    ) -> int:
        people = [*members, *admins, *([creator] if creator is not None else [])]
        for user_id in people:
            self.user(user_id)
        for token in bots:
            self.bot(token)
        if supergroup:
            chat_id, kind = FIRST_SUPERGROUP_ID - next(self._supergroups), "supergroup"
        elif username is not None:
            raise SandboxError("a basic group has no public username: make it a supergroup")
        else:
            chat_id, kind = FIRST_BASIC_GROUP_ID - next(self._basic_groups), "group"
        chat = Chat(chat_id, kind, title=title, username=username, creator=creator)
        chat.members = list(dict.fromkeys(people))
        chat.admins = list(dict.fromkeys(admins))
        self.chats[chat_id] = chat
        for token in bots:
            self.add_bot_to_chat(chat_id, token, None)
        return chat_id

    def private_chat(self, user_id: int) -> int:
        user = self.user(user_id)
        self.chats.setdefault(user_id, Chat(user_id, "private", user=user))
        return user_id

    def add_member(self, chat_id: int, user_id: int, admin: bool) -> None:
        chat, user = self.group(chat_id), self.user(user_id)
        if user.id not in chat.members:
            chat.members.append(user.id)
        if admin and user.id not in chat.admins:
            chat.admins.append(user.id)

    def add_bot_to_chat(self, chat_id: int, token: str, by_user: int | None) -> None:
        chat, bot = self.live_chat(chat_id), self.bot(token)
        old = chat.bot_status(token) or "left"
        if old == "member":
            return
        if chat.is_group:
            chat.bots[token] = "member"
        else:
            del chat.bots[token]
        self._member_update(bot, chat, self._actor(chat, by_user), old, "member")

    def remove_bot(self, chat_id: int, token: str, by_user: int | None) -> None:
        chat, bot = self.live_chat(chat_id), self.bot(token)
        old = chat.bot_status(token)
        if old != "member":
            raise SandboxError(f"bot {bot.username} is not a member of chat {chat_id}")
        chat.bots[token] = "kicked"
        self._member_update(bot, chat, self._actor(chat, by_user), old, "kicked")

    def migrate(self, chat_id: int, by_user: int | None) -> int:
        """Upgrade a basic group to a new supergroup and tell every bot in it, as Telegram does.

        Each member bot gets two message updates: in the old chat, from the person who upgraded
        it, with `migrate_to_chat_id`; then the new chat's first message, from
        GroupAnonymousBot on behalf of the supergroup, with `migrate_from_chat_id`. No bot has
        spoken in the new chat yet, so general commands reach every bot there until one does.
        """
        old = self.group(chat_id)
        if old.type != "group":
            raise SandboxError(f"chat {chat_id} is a supergroup already")
        if by_user is None:
            by_user = old.creator if old.creator is not None else next(iter(old.admins), None)
        if by_user is None:
            raise SandboxError(f"name who upgrades chat {chat_id}: it has no creator or admin")
        upgrader = self.user(by_user).to_dict()
        new_id = FIRST_SUPERGROUP_ID - next(self._supergroups)
        new = Chat(new_id, "supergroup", title=old.title, creator=old.creator)
        new.members, new.admins, new.bots = list(old.members), list(old.admins), dict(old.bots)
        self.chats[new_id] = new
        old.migrated_to = new_id
        farewell = self.message(old, upgrader, None, [], None)
        farewell["migrate_to_chat_id"] = new_id
        welcome = self.message(new, ANONYMOUS_ADMIN, None, [], None, sender_chat=new.to_dict())
        welcome["migrate_from_chat_id"] = chat_id
        for message, chat in ((farewell, old), (welcome, new)):
            chat.messages[message["message_id"]] = message
        for bot in self.bots.values():
            if old.bot_status(bot.token) == "member":
                self.enqueue(bot, "message", farewell)
                self.enqueue(bot, "message", welcome)
        return new_id

    # -- messages ----------------------------------------------------------------------------

    def post(
        self, chat_id: int, user_id: int, text: str, reply_to: int | None, anonymous: bool
    ) -> JSON:
        """A person writes; every bot there that may see it gets a message update."""
        clean = text.strip()
        if not clean:
            raise SandboxError("Telegram clients do not send empty messages")
        return self._post(chat_id, user_id, reply_to, anonymous, {"text": clean})

    def post_file(
        self,
        chat_id: int,
        user_id: int,
        content: bytes | Sequence[bytes],
        *,
        caption: str,
        as_document: bool,
        file_name: str | None,
        mime_type: str | None,
        size: tuple[int, int],
        reply_to: int | None,
    ) -> JSON:
        """A person sends a photo (Telegram keeps a few sizes of it: `content` may give them,
        smallest first, each as bytes; `size` is the largest one's width and height) or a file
        (`as_document`: the bytes as they are, with a name and a type)."""
        parts = [content] if isinstance(content, bytes) else list(content)
        if not parts or not all(parts):
            raise SandboxError("Telegram clients do not send empty files")
        if as_document:
            if len(parts) > 1:
                raise SandboxError("a document has one content")
            name = file_name or "file"
            mime = mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
            item = {"file_name": name, "mime_type": mime, **self._file(parts[0], "document")}
            body: JSON = {"document": item}
        else:
            width, height = size
            sizes = []
            for index, part in enumerate(parts, 1):  # each smaller size a fraction of the last
                share = index / len(parts)
                dims = {
                    "width": max(1, round(width * share)),
                    "height": max(1, round(height * share)),
                }
                sizes.append({**self._file(part, "photo"), **dims})
            body = {"photo": sizes}
        clean = caption.strip()
        if clean:
            body["caption"] = clean
            entities = auto_entities(clean)
            if entities:
                body["caption_entities"] = entities
        return self._post(chat_id, user_id, reply_to, False, body)

    def _file(self, content: bytes, kind: str) -> JSON:
        """A new file of a person's: its ids and size, the bytes kept for getFile."""
        prefix = "AgACAgUAAxkBAAI" if kind == "photo" else "BQACAgUAAxkBAAI"
        file_id = prefix + secrets.token_urlsafe(36)
        item: JSON = {
            "file_id": file_id,
            "file_unique_id": "AQAD" + secrets.token_urlsafe(9),
            "file_size": len(content),
        }
        self.files[file_id] = File(dict(item), content)
        return item

    def _post(
        self, chat_id: int, user_id: int, reply_to: int | None, anonymous: bool, body: JSON
    ) -> JSON:
        """A person's message with `body` (text, photo, document...) reaches the bots."""
        user = self.user(user_id)
        if chat_id > 0:
            if chat_id != user_id:
                raise SandboxError(f"only user {chat_id} writes in their private chat")
            self.private_chat(user_id)
        chat = self.live_chat(chat_id)
        sender, sender_chat = user.to_dict(), None
        if anonymous:
            if chat.type != "supergroup":
                raise SandboxError("only supergroup admins can write anonymously")
            if not chat.is_admin(user_id):
                raise SandboxError(f"user {user_id} is not an admin of chat {chat_id}")
            sender, sender_chat = ANONYMOUS_ADMIN, chat.to_dict()
        elif chat.is_group and user_id not in chat.members:
            chat.members.append(user_id)
        reply = None
        if reply_to is not None:
            reply = chat.messages.get(reply_to)
            if reply is None:
                raise SandboxError(f"chat {chat_id} has no message {reply_to}")
        text = body.get("text")
        entities = auto_entities(text) if text is not None else []
        message = self.message(chat, sender, text, entities, reply, sender_chat=sender_chat)
        message.update({k: v for k, v in body.items() if k != "text"})
        chat.messages[message["message_id"]] = message
        addressee = chat.last_bot
        if addressee is not None and chat.bots.get(addressee) != "member":
            addressee = None  # the last bot to speak has left: nobody is addressed
        for bot in self.bots.values():
            if chat.bot_status(bot.token) != "member":
                continue
            if not chat.is_group:
                chat.started.add(bot.token)
            elif not receives(bot, message, addressee):
                continue
            self.enqueue(bot, "message", message)
        return message

    def message(
        self,
        chat: Chat,
        sender: JSON,
        text: str | None,
        entities: list[JSON],
        reply: JSON | None,
        *,
        sender_chat: JSON | None = None,
    ) -> JSON:
        """A new Message in the chat, its fields in Telegram's order."""
        message: JSON = {"message_id": chat.take_message_id(), "from": sender}
        if sender_chat is not None:
            message["sender_chat"] = sender_chat
        message["chat"] = chat.to_dict()
        message["date"] = int(time.time())
        if reply is not None:
            # Telegram nests one level only: the replied message comes without its own reply.
            message["reply_to_message"] = {
                k: v for k, v in reply.items() if k != "reply_to_message"
            }
        if text is not None:
            message["text"] = text
        if entities:
            message["entities"] = entities
        return message

    def record(self, bot: Bot, chat: Chat, message: JSON, extras: JSON) -> JSON:
        """A bot's message was accepted: keep it, and make the bot the group's last speaker."""
        chat.messages[message["message_id"]] = message
        if chat.is_group:
            chat.last_bot = bot.token
        self.sent.append(Sent(bot.token, chat.id, message, extras))
        self._on_sent()
        return message

    # -- membership and updates --------------------------------------------------------------

    def member_of(self, chat: Chat, user_id: int) -> JSON | None:
        """The ChatMember getChatMember answers for anyone, bots included; None: no such user."""
        bot = self.bot_by_id(user_id)
        if bot is not None:
            return member(bot.to_dict(), chat.bot_status(bot.token) or "left")
        user = self.users.get(user_id)
        if user is None or (not chat.is_group and user_id != chat.id):
            return None
        if user_id == chat.creator:
            status = "creator"
        elif user_id in chat.admins:
            status = "administrator"
        elif user_id in chat.members or not chat.is_group:
            status = "member"
        else:
            status = "left"
        return member(user.to_dict(language=False), status)

    def enqueue(self, bot: Bot, kind: str, payload: JSON) -> None:
        if not bot.wants(kind):
            return  # Telegram filters when the update is created, not when it is fetched
        # Each update owns its objects: a later change to a chat cannot rewrite what was sent.
        bot.last_update = {"update_id": bot.next_update_id, kind: copy.deepcopy(payload)}
        bot.updates.append(copy.deepcopy(bot.last_update))
        bot.next_update_id += 1
        self._on_update(bot)

    def _member_update(self, bot: Bot, chat: Chat, actor: JSON, old: str, new: str) -> None:
        update = {
            "chat": chat.to_dict(),
            "from": actor,
            "date": int(time.time()),
            "old_chat_member": member(bot.to_dict(), old),
            "new_chat_member": member(bot.to_dict(), new),
        }
        self.enqueue(bot, "my_chat_member", update)

    def _actor(self, chat: Chat, by_user: int | None) -> JSON:
        """Who changed the bot's membership: the one named, else the owner, else 'Group'."""
        if chat.user is not None:
            return chat.user.to_dict()
        if by_user is None:
            by_user = chat.creator if chat.creator is not None else next(iter(chat.admins), None)
        return ANONYMOUS_ADMIN if by_user is None else self.user(by_user).to_dict()
