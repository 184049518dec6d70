"""A fake Telegram Bot API server on loopback that python-telegram-bot cannot tell from Telegram.

The demo, the end-to-end tests and the benchmarks run Loa's real Telegram adapter against it:
requests go to `/bot<TOKEN>/<method>` as they would to api.telegram.org, and the answers (objects,
dates in seconds, status codes and Telegram's own error wording, 429 with `retry_after`) are what
Telegram gives. Tests play the people in the chats in-process (`add_user`, `post`, `sent`); a bot
in another process is driven the same way through the JSON control endpoints under `/sandbox/`.

Only what Loa uses is emulated: text and document messages, commands, privacy mode, long polling
and webhooks, membership changes and flood control. Everything else answers 404 like an unknown
method would.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import functools
import itertools
import json
import mimetypes
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from bot.sandbox.limits import FloodControl, Limits, Rate

__all__ = ["Limits", "Rate", "SandboxError", "Stats", "TelegramSandbox"]

JSON = dict[str, Any]

LANGUAGE_CODE = "vi"  # what Telegram reports for the users of a Vietnamese client
MAX_TEXT = 4096
MAX_CAPTION = 1024
FIRST_GROUP_ID = -1_001_000_000_000  # supergroup ids are -100 followed by the channel id
# Telegram's stand-in sender when a group acts anonymously (and here: when no user is named).
ANONYMOUS_ADMIN: JSON = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
# Update kinds a bot gets only when it names them in allowed_updates.
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
GLOBAL_SCOPES = frozenset(
    {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}
)
CHAT_SCOPES = frozenset({"chat", "chat_administrators", "chat_member"})
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
BOT_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
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

_dumps = functools.partial(json.dumps, ensure_ascii=False)


class SandboxError(ValueError):
    """The in-process or control API was misused: unknown user, chat or token, and the like."""


class ApiError(Exception):
    """One Bot API error answer, worded as Telegram words it."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def response(self) -> web.Response:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return web.json_response(body, status=self.status, dumps=_dumps)


def _bad(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


def _cant_parse(what: str) -> ApiError:
    return _bad(f"can't parse entities: {what}")


@dataclass
class Stats:
    """Counters a benchmark or a test reads: how the client treated the API."""

    requests: int = 0  # Bot API requests of any kind
    sent: int = 0  # messages the bots sent successfully
    rate_limited: int = 0  # 429s answered
    early_retries: int = 0  # sends that came before a retry_after given for their scope elapsed
    injected_failures: int = 0  # answers forced by fail_next
    webhook_deliveries: int = 0  # updates a webhook accepted
    webhook_failures: int = 0  # webhook posts that failed and will be retried

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class _User:
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
class _Webhook:
    url: str
    secret: str | None
    has_certificate: bool
    max_connections: int


@dataclass
class _Bot:
    token: str
    id: int
    username: str
    first_name: str
    privacy: bool
    updates: list[JSON] = field(default_factory=list)  # unconfirmed, oldest first
    next_update_id: int = 1
    allowed: frozenset[str] | None = None  # None: Telegram's default set
    webhook: _Webhook | None = None
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
class _Chat:
    id: int
    type: str  # "supergroup" or "private"
    title: str | None = None
    username: str | None = None
    user: _User | None = None  # private chats: the person on the other side
    members: list[int] = field(default_factory=list)
    admins: list[int] = field(default_factory=list)
    creator: int | None = None
    bots: dict[str, str] = field(default_factory=dict)  # token -> member/left/kicked
    started: set[str] = field(default_factory=set)  # private: bots the user has written to
    messages: dict[int, JSON] = field(default_factory=dict)
    next_message_id: int = 1

    @property
    def is_group(self) -> bool:
        return self.user is None

    def bot_status(self, token: str) -> str | None:
        """In a group: None if the bot was never there. A private chat only records blocks."""
        return self.bots.get(token) if self.is_group else self.bots.get(token, "member")

    def take_message_id(self) -> int:
        self.next_message_id += 1
        return self.next_message_id - 1

    def to_dict(self) -> JSON:
        if self.user is None:
            chat: JSON = {"id": self.id, "title": self.title, "type": self.type}
            if self.username:
                chat["username"] = self.username
            return chat
        chat = {"id": self.id, "first_name": self.user.first_name}
        if self.user.last_name:
            chat["last_name"] = self.user.last_name
        if self.user.username:
            chat["username"] = self.user.username
        chat["type"] = "private"
        return chat


@dataclass
class _Sent:
    token: str
    chat_id: int
    message: JSON
    extras: JSON


@dataclass
class _File:
    document: JSON
    content: bytes


class _Params:
    """Bot API parameters from the query string, a form, multipart or JSON, read as Telegram does.

    Forms carry everything as strings and objects as JSON text (python-telegram-bot sends them
    so); a JSON body carries real types. The getters accept both.
    """

    def __init__(self, values: JSON, files: dict[str, web.FileField]) -> None:
        self.values = values
        self.files = files

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        return value if value is None or isinstance(value, str) else str(value)

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise _bad(f"invalid {name} specified")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _bad(f"invalid {name} specified") from None

    def number(self, name: str, default: float) -> float:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _bad(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        return self.values.get(name) in (True, 1, "true", "True", "1")

    def json(self, name: str) -> Any:
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(f"can't parse {name} JSON object") from None


async def _read_params(request: web.Request) -> _Params:
    values: JSON = dict(request.query)
    files: dict[str, web.FileField] = {}
    if request.content_type == "application/json" and request.can_read_body:
        try:
            body = await request.json()
        except ValueError:
            raise _bad("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise _bad("can't parse JSON object")
        values.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[name] = value
            else:
                values[name] = value if isinstance(value, str) else bytes(value).decode()
    return _Params(values, files)


Handler = Callable[[_Bot, _Params], Awaitable[Any]]


@dataclass
class _Described:
    """A result that comes with Telegram's `description` ("Webhook was set")."""

    result: Any
    description: str


class TelegramSandbox:
    """The server and the world behind it: bots, users, chats, what was sent and what failed.

    Setup methods (`add_bot`, `add_user`, `create_group`...) are plain calls; `post` and the
    waits are coroutines. Time is real: rate-limit windows and long polls run on the clock.
    """

    def __init__(self, limits: Limits | None = None, latency: float = 0.0) -> None:
        self.limits = limits or Limits()
        self.latency = latency  # seconds added before every Bot API answer
        self.stats = Stats()
        self.webhook_backoff = (0.1, 5.0)  # first and longest wait between webhook retries
        self.errors: deque[tuple[str, int, str]] = deque(maxlen=50)  # (method, status, text)
        self._bots: dict[str, _Bot] = {}
        self._users: dict[int, _User] = {}
        self._chats: dict[int, _Chat] = {}
        self._sent: list[_Sent] = []
        self._files: dict[str, _File] = {}
        self._faults: dict[str, deque[tuple[int, str]]] = {}
        self._flood = FloodControl()
        self._watchers: list[asyncio.Future[None]] = []
        self._ids = itertools.count(500_000_001)
        self._groups = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._base_url: str | None = None
        methods: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "getChatMemberCount": self._get_chat_member_count,
            "close": self._true,
            "logOut": self._true,
        }
        # Telegram matches method names without regard to case.
        self._methods = {name.lower(): handler for name, handler in methods.items()}

    # -- server ------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on `host:port` (0: any free port); `base_url` says where."""
        if self._runner is not None:
            raise RuntimeError("the sandbox is already running")
        app = web.Application(client_max_size=50 * 2**20)  # Telegram takes 50 MB uploads
        app.add_routes(self._routes())
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        bound = runner.addresses[0][1]
        self._base_url = f"http://{f'[{host}]' if ':' in host else host}:{bound}"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def stop(self) -> None:
        """Answer the waiting long polls, stop webhook deliveries and close the port."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        deliverers = []
        for bot in self._bots.values():
            self._wake(bot, "closing")
            if bot.deliverer is not None:
                bot.deliverer.cancel()
                deliverers.append(bot.deliverer)
        await asyncio.gather(*deliverers, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
        await runner.cleanup()

    async def __aenter__(self) -> TelegramSandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`; python-telegram-bot's `base_url` is this plus `/bot`."""
        if self._base_url is None:
            raise RuntimeError("the sandbox is not started")
        return self._base_url

    # -- the world ---------------------------------------------------------------------------

    def add_bot(
        self, token: str, username: str = "loa_bot", first_name: str = "Loa", privacy: bool = True
    ) -> int:
        """Register a bot; its id is the token's number before ":" when there is one."""
        if token in self._bots:
            raise SandboxError(f"a bot with token {token!r} exists already")
        prefix, colon, _ = token.partition(":")
        bot_id = int(prefix) if colon and prefix.isascii() and prefix.isdigit() else next(self._ids)
        if bot_id in self._users or any(bot.id == bot_id for bot in self._bots.values()):
            raise SandboxError(f"id {bot_id} is taken")
        self._bots[token] = _Bot(token, bot_id, username, first_name, privacy)
        return bot_id

    def add_user(
        self, first_name: str, username: str | None = None, last_name: str | None = None
    ) -> int:
        """Register a person; returns the user id (which is also their private chat's id)."""
        user_id = next(self._ids)
        self._users[user_id] = _User(user_id, first_name, username, last_name)
        return user_id

    def create_group(
        self,
        title: str,
        members: list[int] | tuple[int, ...] = (),
        bots: list[str] | tuple[str, ...] = (),
        admins: list[int] | tuple[int, ...] = (),
        *,
        creator: int | None = None,
        username: str | None = None,
    ) -> int:
        """A supergroup; each bot added gets a my_chat_member update (left -> member)."""
        people = [*members, *admins, *([creator] if creator is not None else [])]
        for user_id in people:
            self._user(user_id)
        for token in bots:
            self._bot(token)
        chat_id = FIRST_GROUP_ID - next(self._groups)
        chat = _Chat(chat_id, "supergroup", title=title, username=username, creator=creator)
        chat.members = list(dict.fromkeys(people))
        chat.admins = list(dict.fromkeys(admins))
        self._chats[chat_id] = chat
        for token in bots:
            self.add_bot_to_chat(chat_id, token)
        return chat_id

    def private_chat(self, user_id: int) -> int:
        """The user's private chat (its id is the user's); bots may write once the user has."""
        user = self._user(user_id)
        self._chats.setdefault(user_id, _Chat(user_id, "private", user=user))
        return user_id

    def add_member(self, chat_id: int, user_id: int, admin: bool = False) -> None:
        """A person joins a group (no update: bots get chat_member updates only as admins)."""
        chat, user = self._group(chat_id), self._user(user_id)
        if user.id not in chat.members:
            chat.members.append(user.id)
        if admin and user.id not in chat.admins:
            chat.admins.append(user.id)

    def add_bot_to_chat(self, chat_id: int, token: str, by_user: int | None = None) -> None:
        """Add the bot to a group, or unblock it in a private chat: my_chat_member -> member."""
        chat, bot = self._known_chat(chat_id), self._bot(token)
        old = chat.bot_status(token) or "left"
        if old == "member":
            return
        if chat.is_group:
            chat.bots[token] = "member"
        else:
            del chat.bots[token]
        self._member_update(bot, chat, self._actor(chat, by_user), old, "member")

    def remove_bot(self, chat_id: int, token: str, by_user: int | None = None) -> None:
        """Kick the bot from a group, or block it in a private chat; later sends get 403."""
        chat, bot = self._known_chat(chat_id), self._bot(token)
        old = chat.bot_status(token)
        if old != "member":
            raise SandboxError(f"bot {bot.username} is not a member of chat {chat_id}")
        chat.bots[token] = "kicked"
        self._member_update(bot, chat, self._actor(chat, by_user), old, "kicked")

    async def post(
        self, chat_id: int, user_id: int, text: str, reply_to: int | None = None
    ) -> JSON:
        """A person writes in a chat; every bot there that may see it gets a message update.

        In a group the writer joins it if needed. A private chat reaches every bot the user has
        not blocked (a sandbox usually has one bot) and lets those bots write back.
        """
        user = self._user(user_id)
        if chat_id > 0:
            if chat_id != user_id:
                raise SandboxError(f"only user {chat_id} writes in their private chat")
            self.private_chat(user_id)
        chat = self._known_chat(chat_id)
        if chat.is_group and user_id not in chat.members:
            chat.members.append(user_id)
        reply = None
        if reply_to is not None:
            reply = chat.messages.get(reply_to)
            if reply is None:
                raise SandboxError(f"chat {chat_id} has no message {reply_to}")
        clean = text.strip()
        if not clean:
            raise SandboxError("Telegram clients do not send empty messages")
        message = self._message(chat, user.to_dict(), clean, _auto_entities(clean), reply)
        chat.messages[message["message_id"]] = message
        for bot in self._bots.values():
            if chat.bot_status(bot.token) != "member":
                continue
            if not chat.is_group:
                chat.started.add(bot.token)
            elif not self._sees(bot, message):
                continue
            self._enqueue(bot, "message", message)
        await asyncio.sleep(0)
        return copy.deepcopy(message)

    # -- what happened -----------------------------------------------------------------------

    def sent(self, chat_id: int | None = None, token: str | None = None) -> list[JSON]:
        """Messages the bots sent, oldest first: Telegram's Message plus a `sandbox` entry.

        `sandbox` keeps what Telegram does not echo back: `token`, `parse_mode`, the `source`
        text as sent, the full `reply_markup`, `disable_notification`, `link_preview_options`
        and, for documents, `file_bytes`.
        """
        return [
            {**copy.deepcopy(item.message), "sandbox": copy.deepcopy(item.extras)}
            for item in self._sent
            if (chat_id is None or item.chat_id == chat_id)
            and (token is None or item.token == token)
        ]

    async def wait_sent(
        self, chat_id: int | None, count: int = 1, timeout: float = 5.0
    ) -> list[JSON]:
        """Wait until the bots have sent at least `count` messages to the chat; return them all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            # Counting first keeps a benchmark's many waits from copying every message each time.
            if sum(chat_id is None or item.chat_id == chat_id for item in self._sent) >= count:
                return self.sent(chat_id)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(self._report(chat_id, count, timeout, self.sent(chat_id)))
            watcher = loop.create_future()
            self._watchers.append(watcher)
            try:
                await asyncio.wait_for(watcher, remaining)
            except TimeoutError:
                pass
            finally:
                if watcher in self._watchers:
                    self._watchers.remove(watcher)

    def chat_title(self, chat_id: int) -> str:
        """A group's title, or the name of the person in a private chat (for transcripts)."""
        chat = self._known_chat(chat_id)
        if chat.user is None:
            return chat.title or ""
        return " ".join(filter(None, (chat.user.first_name, chat.user.last_name)))

    def file(self, file_id: str) -> bytes:
        """The bytes of a document a bot sent."""
        try:
            return self._files[file_id].content
        except KeyError:
            raise SandboxError(f"no file {file_id!r}") from None

    def commands(self, token: str) -> dict[str, list[JSON]]:
        """setMyCommands per scope key: `default`, `all_private_chats`, `chat:<id>`, ...

        A language code is appended after a slash: `default/vi`.
        """
        return copy.deepcopy(self._bot(token).commands)

    def fail_next(
        self,
        method: str,
        count: int = 1,
        status: int = 500,
        description: str = "Internal Server Error",
    ) -> None:
        """The next `count` calls of `method` answer this error and change nothing."""
        self._faults.setdefault(method.lower(), deque()).extend([(status, description)] * count)

    # -- the HTTP API ------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        self.stats.requests += 1
        method = request.match_info["method"]
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        bot = self._bots.get(request.match_info["token"])
        if bot is None:
            return self._error(method, ApiError(401, "Unauthorized"))
        handler = self._methods.get(method.lower())
        if handler is None:
            return self._error(method, ApiError(404, "Not Found"))
        faults = self._faults.get(method.lower())
        if faults:
            status, description = faults.popleft()
            self.stats.injected_failures += 1
            retry = {"retry_after": 1} if status == 429 else None
            return self._error(method, ApiError(status, description, retry))
        try:
            result = await handler(bot, await _read_params(request))
        except ApiError as exc:
            return self._error(method, exc)
        body: JSON = {"ok": True, "result": result}
        if isinstance(result, _Described):
            body = {"ok": True, "result": result.result, "description": result.description}
        return web.json_response(body, dumps=_dumps)

    def _error(self, method: str, error: ApiError) -> web.Response:
        self.errors.append((method, error.status, error.description))
        return error.response()

    async def _true(self, bot: _Bot, params: _Params) -> bool:
        return True

    async def _get_me(self, bot: _Bot, params: _Params) -> JSON:
        return {
            **bot.to_dict(),
            "can_join_groups": True,
            "can_read_all_group_messages": not bot.privacy,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, bot: _Bot, params: _Params) -> list[JSON]:
        if bot.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.integer("offset") or 0
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = params.number("timeout", 0.0)
        self._allow(bot, params)
        if offset > 0:
            bot.updates = [update for update in bot.updates if update["update_id"] >= offset]
        elif offset < 0:
            bot.updates = bot.updates[offset:]
        self._wake(bot, "conflict")  # only one getUpdates at a time, as on Telegram
        if not bot.updates and timeout > 0 and self._runner is not None:
            waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            bot.waiter = waiter
            try:
                reason = await asyncio.wait_for(waiter, timeout)
            except TimeoutError:
                reason = "timeout"
            finally:
                if bot.waiter is waiter:
                    bot.waiter = None
            if reason == "conflict":
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if reason == "webhook":
                raise ApiError(409, "Conflict: terminated by setWebhook request")
        return bot.updates[:limit]

    async def _set_webhook(self, bot: _Bot, params: _Params) -> _Described:
        url = params.text("url") or ""
        if not url:
            return await self._delete_webhook(bot, params)
        if not url.startswith(("http://", "https://")):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.text("secret_token") or None
        if secret is not None and not SECRET_TOKEN.fullmatch(secret):
            raise _bad("secret token contains unallowed characters")
        max_connections = params.integer("max_connections") or 40
        if not 1 <= max_connections <= 100:
            raise _bad("bad webhook: max_connections must be between 1 and 100")
        self._allow(bot, params)
        if params.flag("drop_pending_updates"):
            bot.updates.clear()
        unchanged = bot.webhook is not None and bot.webhook.url == url
        has_certificate = "certificate" in params.files
        bot.webhook = _Webhook(url, secret, has_certificate, max_connections)
        self._wake(bot, "webhook")
        self._kick_webhook(bot)
        return _Described(True, "Webhook is already set" if unchanged else "Webhook was set")

    async def _delete_webhook(self, bot: _Bot, params: _Params) -> _Described:
        if params.flag("drop_pending_updates"):
            bot.updates.clear()
        was_set, bot.webhook = bot.webhook is not None, None
        return _Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    async def _get_webhook_info(self, bot: _Bot, params: _Params) -> JSON:
        hook = bot.webhook
        info: JSON = {
            "url": hook.url if hook else "",
            "has_custom_certificate": bool(hook and hook.has_certificate),
            "pending_update_count": len(bot.updates),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            info["ip_address"] = "127.0.0.1"
            if bot.allowed is not None:
                info["allowed_updates"] = sorted(bot.allowed)
        if bot.last_error_date is not None:
            info["last_error_date"] = bot.last_error_date
            info["last_error_message"] = bot.last_error_message
        return info

    async def _send_message(self, bot: _Bot, params: _Params) -> JSON:
        chat = self._chat(bot, params.raw("chat_id"), sending=True)
        text, entities = _formatted(params, "text", "entities", MAX_TEXT, "message is too long")
        if not text:
            raise _bad("message text is empty")
        reply = self._reply(chat, params)
        self._admit(bot, chat)
        message = self._message(chat, bot.to_dict(), text, entities, reply)
        preview = params.json("link_preview_options")
        if preview:
            message["link_preview_options"] = preview
        return self._record(bot, chat, message, params, params.text("text"))

    async def _send_document(self, bot: _Bot, params: _Params) -> JSON:
        chat = self._chat(bot, params.raw("chat_id"), sending=True)
        document, content = self._document(params)
        caption, entities = _formatted(
            params, "caption", "caption_entities", MAX_CAPTION, "message caption is too long"
        )
        reply = self._reply(chat, params)
        self._admit(bot, chat)
        self._files.setdefault(document["file_id"], _File(document, content))
        message = self._message(chat, bot.to_dict(), None, [], reply)
        message["document"] = dict(document)
        if caption:
            message["caption"] = caption
        if entities:
            message["caption_entities"] = entities
        sent = self._record(bot, chat, message, params, params.text("caption"))
        self._sent[-1].extras["file_bytes"] = content
        return sent

    async def _send_chat_action(self, bot: _Bot, params: _Params) -> bool:
        self._chat(bot, params.raw("chat_id"), sending=True)
        if params.text("action") not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    async def _set_my_commands(self, bot: _Bot, params: _Params) -> bool:
        commands = params.json("commands")
        if not isinstance(commands, list):
            raise _bad("parameter commands is required")
        if len(commands) > 100:
            raise _bad("too many commands specified")
        cleaned = []
        for item in commands:
            if not isinstance(item, dict):
                raise _bad("can't parse BotCommand JSON object")
            command, description = item.get("command"), item.get("description")
            if not isinstance(command, str) or not BOT_COMMAND.fullmatch(command):
                raise _bad("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": command, "description": description.strip()})
        key = self._scope_key(bot, params)
        if cleaned:
            bot.commands[key] = cleaned
        else:
            bot.commands.pop(key, None)  # an empty list deletes, as on Telegram
        return True

    async def _get_my_commands(self, bot: _Bot, params: _Params) -> list[JSON]:
        return bot.commands.get(self._scope_key(bot, params), [])

    async def _delete_my_commands(self, bot: _Bot, params: _Params) -> bool:
        bot.commands.pop(self._scope_key(bot, params), None)
        return True

    async def _get_chat(self, bot: _Bot, params: _Params) -> JSON:
        chat = self._chat(bot, params.raw("chat_id"))
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        info: JSON = {
            **chat.to_dict(),
            "accent_color_id": chat.id % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys((*gifts, "gifts_from_channels"), False),
        }
        return info

    async def _get_chat_member(self, bot: _Bot, params: _Params) -> JSON:
        chat = self._chat(bot, params.raw("chat_id"))
        user_id = params.integer("user_id")
        if user_id is None:
            raise _bad("invalid user_id specified")
        return self._member_of(chat, user_id)

    async def _get_chat_administrators(self, bot: _Bot, params: _Params) -> list[JSON]:
        chat = self._chat(bot, params.raw("chat_id"))
        if not chat.is_group:
            raise _bad("there are no administrators in the private chat")
        heads = [chat.creator] if chat.creator is not None else []
        return [self._member_of(chat, user_id) for user_id in dict.fromkeys(heads + chat.admins)]

    async def _get_chat_member_count(self, bot: _Bot, params: _Params) -> int:
        chat = self._chat(bot, params.raw("chat_id"))
        if not chat.is_group:
            return 2
        return len(chat.members) + sum(status == "member" for status in chat.bots.values())

    # -- Bot API helpers ---------------------------------------------------------------------

    def _chat(self, bot: _Bot, value: Any, *, sending: bool = False) -> _Chat:
        """The chat `chat_id` names, or the error Telegram gives this bot for it."""
        if value is None or value == "":
            raise _bad("chat_id is empty")
        chat: _Chat | None = None
        if isinstance(value, str) and value.startswith("@"):
            name = value[1:].lower()
            chat = next(
                (c for c in self._chats.values() if (c.username or "").lower() == name), None
            )
        else:
            try:
                chat_id = int(value)
            except (TypeError, ValueError):
                raise _bad("chat not found") from None
            if sending and any(other.id == chat_id for other in self._bots.values()):
                raise ApiError(403, "Forbidden: bot can't send messages to bots")
            chat = self._chats.get(chat_id)
            if chat is None and chat_id in self._users and sending:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if chat is None:
            raise _bad("chat not found")
        status = chat.bot_status(bot.token)
        if chat.is_group:
            if status is None:
                raise _bad("chat not found")  # a bot never in a group does not know it
            if status == "kicked":
                raise ApiError(403, "Forbidden: bot was kicked from the supergroup chat")
            if status == "left":
                raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        elif sending and status == "kicked":
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        elif sending and bot.token not in chat.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _reply(self, chat: _Chat, params: _Params) -> JSON | None:
        reply = params.json("reply_parameters")
        if reply is not None and not isinstance(reply, dict):
            raise _bad("can't parse reply parameters JSON object")
        reply = reply or {}
        message_id = reply.get("message_id", params.integer("reply_to_message_id"))
        if message_id is None:
            return None
        try:
            found = chat.messages.get(int(message_id))
        except (TypeError, ValueError):
            raise _bad("invalid reply_parameters specified") from None
        allow = reply.get("allow_sending_without_reply", params.flag("allow_sending_without_reply"))
        if found is None and allow not in (True, "true"):
            raise _bad("message to be replied not found")
        return found

    def _document(self, params: _Params) -> tuple[JSON, bytes]:
        upload = params.files.get("document")
        value = params.text("document") or ""
        if upload is None and value.startswith("attach://"):
            upload = params.files.get(value.removeprefix("attach://"))
        if upload is None:
            if value in self._files:
                known = self._files[value]
                return known.document, known.content
            if value:
                raise _bad("wrong file identifier/HTTP URL specified")
            raise _bad("there is no document in the request")
        content = upload.file.read()
        if not content:
            raise _bad("file must be non-empty")
        name = upload.filename or "document"
        mime = upload.content_type
        if not mime or mime == "application/octet-stream":
            mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        document = {
            "file_name": name,
            "mime_type": mime,
            "file_id": "BQACAgUAAxkDAAI" + secrets.token_urlsafe(36),
            "file_unique_id": "AgAD" + secrets.token_urlsafe(9),
            "file_size": len(content),
        }
        return document, content

    def _admit(self, bot: _Bot, chat: _Chat) -> None:
        """Flood control for a message: refuse it with 429 or count it."""
        chat_rate = self.limits.group if chat.is_group else self.limits.private
        scopes = [
            (("bot", bot.token), self.limits.overall),
            (("chat", bot.token, chat.id), chat_rate),
        ]
        verdict = self._flood.admit(scopes, time.monotonic())
        if verdict.retry_after is None:
            return
        self.stats.rate_limited += 1
        if verdict.early:
            self.stats.early_retries += 1
        raise ApiError(
            429,
            f"Too Many Requests: retry after {verdict.retry_after}",
            {"retry_after": verdict.retry_after},
        )

    def _message(
        self, chat: _Chat, sender: JSON, text: str | None, entities: list[JSON], reply: JSON | None
    ) -> JSON:
        message: JSON = {
            "message_id": chat.take_message_id(),
            "from": sender,
            "chat": chat.to_dict(),
            "date": int(time.time()),
        }
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

    def _record(
        self, bot: _Bot, chat: _Chat, message: JSON, params: _Params, source: str | None
    ) -> JSON:
        markup = params.json("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # Telegram echoes inline keyboards only
        chat.messages[message["message_id"]] = message
        extras = {
            "token": bot.token,
            "parse_mode": params.text("parse_mode"),
            "source": source,
            "reply_markup": markup,
            "disable_notification": params.flag("disable_notification"),
            "link_preview_options": params.json("link_preview_options"),
        }
        self._sent.append(_Sent(bot.token, chat.id, message, extras))
        self.stats.sent += 1
        for watcher in self._watchers:
            if not watcher.done():
                watcher.set_result(None)
        self._watchers.clear()
        return message

    def _scope_key(self, bot: _Bot, params: _Params) -> str:
        scope = params.json("scope") or {"type": "default"}
        kind = scope.get("type") if isinstance(scope, dict) else None
        if kind in GLOBAL_SCOPES:
            key = str(kind)
        elif kind in CHAT_SCOPES:
            key = f"{kind}:{self._chat(bot, scope.get('chat_id')).id}"
            if kind == "chat_member":
                user_id = scope.get("user_id")
                if not isinstance(user_id, int) or user_id not in self._users:
                    raise _bad("user not found")
                key += f":{user_id}"
        else:
            raise _bad("can't parse BotCommandScope JSON object")
        language = params.text("language_code")
        return f"{key}/{language}" if language else key

    def _member_of(self, chat: _Chat, user_id: int) -> JSON:
        bot = next((bot for bot in self._bots.values() if bot.id == user_id), None)
        if bot is not None:
            return _member(bot.to_dict(), chat.bot_status(bot.token) or "left")
        user = self._users.get(user_id)
        if user is None or (not chat.is_group and user_id != chat.id):
            raise _bad("user not found")
        if user_id == chat.creator:
            status = "creator"
        elif user_id in chat.admins:
            status = "administrator"
        elif user_id in chat.members or not chat.is_group:
            status = "member"
        else:
            status = "left"
        return _member(user.to_dict(language=False), status)

    def _allow(self, bot: _Bot, params: _Params) -> None:
        """allowed_updates: a list replaces the setting, [] restores the default, absent keeps."""
        allowed = params.json("allowed_updates")
        if isinstance(allowed, list):
            bot.allowed = frozenset(map(str, allowed)) or None

    # -- updates -----------------------------------------------------------------------------

    def _sees(self, bot: _Bot, message: JSON) -> bool:
        """Privacy mode: commands for this bot, replies to it and mentions of it get through."""
        if not bot.privacy:
            return True
        text, entities = message.get("text", ""), message.get("entities", [])
        for entity in entities:
            if entity["type"] == "bot_command" and entity["offset"] == 0:
                target = _entity_text(text, entity).partition("@")[2]
                if not target or target.lower() == bot.username.lower():
                    return True
        replied = message.get("reply_to_message", {}).get("from", {})
        if replied.get("id") == bot.id:
            return True
        mention = f"@{bot.username}".lower()
        return any(
            entity["type"] == "mention" and _entity_text(text, entity).lower() == mention
            for entity in entities
        )

    def _member_update(self, bot: _Bot, chat: _Chat, actor: JSON, old: str, new: str) -> None:
        update = {
            "chat": chat.to_dict(),
            "from": actor,
            "date": int(time.time()),
            "old_chat_member": _member(bot.to_dict(), old),
            "new_chat_member": _member(bot.to_dict(), new),
        }
        self._enqueue(bot, "my_chat_member", update)

    def _enqueue(self, bot: _Bot, kind: str, payload: JSON) -> None:
        if not bot.wants(kind):
            return  # Telegram filters when the update is created, not when it is fetched
        bot.updates.append({"update_id": bot.next_update_id, kind: copy.deepcopy(payload)})
        bot.next_update_id += 1
        self._wake(bot, "update")
        self._kick_webhook(bot)

    @staticmethod
    def _wake(bot: _Bot, reason: str) -> None:
        if bot.waiter is not None and not bot.waiter.done():
            bot.waiter.set_result(reason)

    def _kick_webhook(self, bot: _Bot) -> None:
        if bot.webhook is None or not bot.updates or self._session is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # called from outside the server's loop: the next update starts delivery
        if bot.deliverer is None or bot.deliverer.done():
            bot.deliverer = loop.create_task(self._deliver(bot))

    async def _deliver(self, bot: _Bot) -> None:
        """Post the updates one at a time, in order; retry the first with backoff until 2xx."""
        first, longest = self.webhook_backoff
        delay = first
        while bot.webhook is not None and bot.updates and self._session is not None:
            hook, update = bot.webhook, bot.updates[0]
            headers = {"Content-Type": "application/json"}
            if hook.secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret
            try:
                async with self._session.post(
                    hook.url, data=_dumps(update).encode(), headers=headers
                ) as answer:
                    error = None
                    if not 200 <= answer.status < 300:
                        error = f"Wrong response from the webhook: {answer.status} {answer.reason}"
            except TimeoutError:
                error = "Connection timed out"
            except aiohttp.ClientConnectorError:
                error = "Connection refused"
            except (aiohttp.ClientError, OSError) as exc:
                error = str(exc) or type(exc).__name__
            if error is None:
                self.stats.webhook_deliveries += 1
                if bot.updates and bot.updates[0] is update:
                    bot.updates.pop(0)
                delay = first
                continue
            self.stats.webhook_failures += 1
            bot.last_error_date, bot.last_error_message = int(time.time()), error
            await asyncio.sleep(delay)
            delay = min(delay * 2, longest)

    # -- lookups -----------------------------------------------------------------------------

    def _user(self, user_id: int) -> _User:
        try:
            return self._users[user_id]
        except KeyError:
            raise SandboxError(f"no user {user_id}") from None

    def _bot(self, token: str) -> _Bot:
        try:
            return self._bots[token]
        except KeyError:
            raise SandboxError(f"no bot with token {token!r}") from None

    def _known_chat(self, chat_id: int) -> _Chat:
        try:
            return self._chats[chat_id]
        except KeyError:
            raise SandboxError(f"no chat {chat_id}") from None

    def _group(self, chat_id: int) -> _Chat:
        chat = self._known_chat(chat_id)
        if not chat.is_group:
            raise SandboxError(f"chat {chat_id} is a private chat")
        return chat

    def _actor(self, chat: _Chat, by_user: int | None) -> JSON:
        """Who changed the bot's membership: the one named, else the owner, else 'Group'."""
        if chat.user is not None:
            return chat.user.to_dict()
        if by_user is None:
            by_user = chat.creator if chat.creator is not None else next(iter(chat.admins), None)
        return ANONYMOUS_ADMIN if by_user is None else self._user(by_user).to_dict()

    def _report(self, chat_id: int | None, count: int, timeout: float, got: list[JSON]) -> str:
        texts = [m.get("text", m.get("caption", "<document>"))[:60] for m in got[-3:]]
        return (
            f"chat {chat_id}: {len(got)} of {count} bot message(s) after {timeout:g}s; "
            f"last: {texts}; stats: {self.stats.as_dict()}; "
            f"recent API errors: {list(self.errors)[-5:]}"
        )

    # -- control endpoints -------------------------------------------------------------------

    def _routes(self) -> list[web.RouteDef]:
        control = _control
        return [
            web.route("*", "/bot{token}/{method}", self._api),
            web.post("/sandbox/bots", control(self._c_bots)),
            web.post("/sandbox/users", control(self._c_users)),
            web.post("/sandbox/groups", control(self._c_groups)),
            web.post("/sandbox/private_chats", control(self._c_private_chats)),
            web.post("/sandbox/chats/{chat_id}/messages", control(self._c_messages)),
            web.post("/sandbox/chats/{chat_id}/members", control(self._c_members)),
            web.post("/sandbox/chats/{chat_id}/add_bot", control(self._c_add_bot)),
            web.post("/sandbox/chats/{chat_id}/remove_bot", control(self._c_remove_bot)),
            web.get("/sandbox/sent", control(self._c_sent)),
            web.get("/sandbox/faults", control(self._c_faults)),
            web.post("/sandbox/faults", control(self._c_faults)),
            web.get("/sandbox/stats", control(self._c_stats)),
            web.get("/sandbox/commands", control(self._c_commands)),
        ]

    async def _c_bots(self, request: web.Request) -> JSON:
        body = await _body(request)
        bot_id = self.add_bot(
            body["token"],
            body.get("username", "loa_bot"),
            body.get("first_name", "Loa"),
            bool(body.get("privacy", True)),
        )
        return {"id": bot_id}

    async def _c_users(self, request: web.Request) -> JSON:
        body = await _body(request)
        return {
            "id": self.add_user(body["first_name"], body.get("username"), body.get("last_name"))
        }

    async def _c_groups(self, request: web.Request) -> JSON:
        body = await _body(request)
        chat_id = self.create_group(
            body["title"],
            body.get("members", []),
            body.get("bots", []),
            body.get("admins", []),
            creator=body.get("creator"),
            username=body.get("username"),
        )
        return {"id": chat_id}

    async def _c_private_chats(self, request: web.Request) -> JSON:
        return {"id": self.private_chat((await _body(request))["user_id"])}

    async def _c_messages(self, request: web.Request) -> JSON:
        body = await _body(request)
        chat_id = int(request.match_info["chat_id"])
        return await self.post(chat_id, body["user_id"], body["text"], body.get("reply_to"))

    async def _c_members(self, request: web.Request) -> JSON:
        body = await _body(request)
        chat_id = int(request.match_info["chat_id"])
        self.add_member(chat_id, body["user_id"], bool(body.get("admin", False)))
        return {"ok": True}

    async def _c_add_bot(self, request: web.Request) -> JSON:
        body = await _body(request)
        self.add_bot_to_chat(int(request.match_info["chat_id"]), body["token"], body.get("by_user"))
        return {"ok": True}

    async def _c_remove_bot(self, request: web.Request) -> JSON:
        body = await _body(request)
        self.remove_bot(int(request.match_info["chat_id"]), body["token"], body.get("by_user"))
        return {"ok": True}

    async def _c_sent(self, request: web.Request) -> list[JSON]:
        chat_id = request.query.get("chat_id")
        messages = self.sent(int(chat_id) if chat_id else None, request.query.get("token") or None)
        for message in messages:
            content = message["sandbox"].pop("file_bytes", None)
            if content is not None:
                message["sandbox"]["file_base64"] = base64.b64encode(content).decode()
        return messages

    async def _c_faults(self, request: web.Request) -> JSON:
        if request.method == "POST":
            body = await _body(request)
            if "latency" in body:
                self.latency = float(body["latency"])
            faults = body.get("fail_next", [])
            for fault in [faults] if isinstance(faults, dict) else faults:
                self.fail_next(**fault)
        return {
            "latency": self.latency,
            "fail_next": {
                method: [{"status": status, "description": text} for status, text in queue]
                for method, queue in self._faults.items()
                if queue
            },
        }

    async def _c_stats(self, request: web.Request) -> JSON:
        return self.stats.as_dict()

    async def _c_commands(self, request: web.Request) -> JSON:
        return self.commands(request.query["token"])


def _control(
    handler: Callable[[web.Request], Awaitable[Any]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """JSON out; a misuse answers 400 with {"error": ...} instead of a traceback."""

    async def wrapped(request: web.Request) -> web.Response:
        try:
            result = await handler(request)
        except KeyError as exc:
            return web.json_response({"error": f"missing {exc}"}, status=400, dumps=_dumps)
        except (SandboxError, TypeError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400, dumps=_dumps)
        return web.json_response(result, dumps=_dumps)

    return wrapped


async def _body(request: web.Request) -> JSON:
    body = await request.json() if request.can_read_body else {}
    if not isinstance(body, dict):
        raise SandboxError("the body must be a JSON object")
    return body


def _member(user: JSON, status: str) -> JSON:
    """A ChatMember with every field python-telegram-bot requires for its status."""
    if status == "creator":
        return {"user": user, "status": status, "is_anonymous": False}
    if status == "administrator":
        return {"user": user, "status": status, **ADMIN_RIGHTS}
    if status == "kicked":
        return {"user": user, "status": status, "until_date": 0}  # 0: forever
    return {"user": user, "status": status}


# -- text and entities ---------------------------------------------------------------------------
# Telegram measures entity offsets and lengths in UTF-16 code units, and reports parse errors at
# UTF-8 byte offsets of the text as sent.

_AUTO = re.compile(
    r"(?P<bot_command>(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/]))"
    r"|(?P<mention>(?<![\w@])@[A-Za-z0-9_]{5,32}(?![\w@]))"
    r"|(?P<url>\bhttps?://[^\s<>\"]*[^\s<>\".,;:!?)\]'])"
)
_OPAQUE = frozenset({"code", "pre", "text_link"})  # nothing is detected inside these


def _u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())


def _entity_text(text: str, entity: JSON) -> str:
    units = text.encode("utf-16-le")
    start, end = 2 * entity["offset"], 2 * (entity["offset"] + entity["length"])
    return units[start:end].decode("utf-16-le")


def _auto_entities(text: str) -> list[JSON]:
    """The entities Telegram finds by itself: commands, @mentions, links."""
    return [
        {"type": match.lastgroup, "offset": _u16(text[: match.start()]), "length": _u16(match[0])}
        for match in _AUTO.finditer(text)
    ]


def _formatted(
    params: _Params, key: str, entities_key: str, limit: int, too_long: str
) -> tuple[str, list[JSON]]:
    """Text after parse_mode, trimmed as Telegram trims it, with its entities."""
    raw = params.text(key) or ""
    explicit = params.json(entities_key)
    if isinstance(explicit, list):
        text, entities = raw, explicit
    else:
        text, entities = _parse(raw, params.text("parse_mode"))
    text, entities = _strip(text, entities)
    if len(text) > limit:
        raise _bad(too_long)
    return text, entities


def _parse(source: str, parse_mode: str | None) -> tuple[str, list[JSON]]:
    mode = (parse_mode or "").lower()
    if not mode:
        text, entities = source, []
    elif mode == "html":
        text, entities = _parse_html(source)
    elif mode in ("markdown", "markdownv2"):
        text, entities = _parse_markdown(source, v2=mode == "markdownv2")
    else:
        raise _bad("unsupported parse_mode")
    opaque = [(e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] in _OPAQUE]
    for found in _auto_entities(text):
        start, end = found["offset"], found["offset"] + found["length"]
        if not any(start < stop and begin < end for begin, stop in opaque):
            entities.append(found)
    return text, sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _strip(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Telegram drops leading and trailing white space; entities move and shrink with it."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    shift, size = _u16(text[: len(text) - len(text.lstrip())]), _u16(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_TAG = re.compile(r"([^\s/>]*)(.*)", re.DOTALL)
_HTML_ATTR = re.compile(r"""([A-Za-z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


def _html_char(name: str) -> str | None:
    """The character an HTML entity stands for; Telegram knows four names and all numbers."""
    if name in _HTML_NAMED:
        return _HTML_NAMED[name]
    try:
        if name[:2] in ("#x", "#X"):
            return chr(int(name[2:], 16))
        if name[:1] == "#":
            return chr(int(name[1:]))
    except (ValueError, OverflowError):
        return None
    return None


def _parse_html(source: str) -> tuple[str, list[JSON]]:
    out: list[str] = []
    size = 0
    open_tags: list[tuple[str, JSON | None]] = []
    entities: list[JSON] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "&":
            end = source.find(";", i + 1, i + 12)
            decoded = _html_char(source[i + 1 : end]) if end != -1 else None
            if decoded is not None:
                out.append(decoded)
                size += _u16(decoded)
                i = end + 1
                continue
        elif char == "<":
            at = _byte_offset(source, i)
            end = source.find(">", i)
            if end == -1:
                raise _cant_parse(f"Unclosed start tag at byte offset {at}")
            tag = source[i + 1 : end]
            if tag.startswith("/"):
                name = tag[1:].strip().lower()
                if not open_tags:
                    raise _cant_parse(f"Unexpected end tag at byte offset {at}")
                expected, entity = open_tags.pop()
                if name != expected:
                    raise _cant_parse(
                        f'Unmatched end tag at byte offset {at}, expected "</{expected}>", '
                        f'found "</{name}>"'
                    )
                if entity is not None and size > entity["offset"]:
                    entities.append({**entity, "length": size - entity["offset"]})
            else:
                match = _HTML_TAG.fullmatch(tag)
                assert match is not None  # the pattern matches any text
                name = match[1].lower()
                attrs = {
                    m[1].lower(): next((g for g in m.groups()[1:] if g is not None), "")
                    for m in _HTML_ATTR.finditer(match[2])
                }
                open_tags.append((name, _html_entity(name, attrs, open_tags, size, at)))
            i = end + 1
            continue
        out.append(char)
        size += _u16(char)
        i += 1
    if open_tags:
        raise _cant_parse(f'Can\'t find end tag corresponding to start tag "{open_tags[-1][0]}"')
    return "".join(out), entities


def _html_entity(
    name: str, attrs: dict[str, str], open_tags: list[tuple[str, JSON | None]], offset: int, at: int
) -> JSON | None:
    kind = _HTML_TAGS.get(name)
    if kind is None or (name == "span" and attrs.get("class") != "tg-spoiler"):
        raise _cant_parse(f'Unsupported start tag "{name}" at byte offset {at}')
    entity: JSON = {"type": kind, "offset": offset}
    if kind == "text_link":
        if not attrs.get("href"):
            return None  # Telegram keeps the text and drops a link without an address
        entity["url"] = attrs["href"]
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    elif kind == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "code" and open_tags and open_tags[-1][0] == "pre" and open_tags[-1][1]:
        language = attrs.get("class", "")
        if language.startswith("language-"):
            open_tags[-1][1]["language"] = language.removeprefix("language-")
            return None  # <pre><code class="language-x"> is one pre entity with a language
    return entity


_MD_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD_MARKS_V2 = {
    "__": "underline",
    "||": "spoiler",
    "*": "bold",
    "_": "italic",
    "~": "strikethrough",
}
_MD_MARKS_V1 = {"*": "bold", "_": "italic"}
_MD_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "[": "TextUrl",
}


def _parse_markdown(source: str, *, v2: bool) -> tuple[str, list[JSON]]:
    """MarkdownV2 (and the legacy Markdown) as far as Telegram's rules and errors go.

    Not covered: blockquotes, `___` ambiguity and custom emoji; legacy links are plain links.
    """
    marks = _MD_MARKS_V2 if v2 else _MD_MARKS_V1
    out: list[str] = []
    size = 0
    open_marks: list[tuple[str, int, int]] = []  # (mark, UTF-16 offset, index in source)
    entities: list[JSON] = []

    def unclosed(mark: str, index: int) -> ApiError:
        at = _byte_offset(source, index)
        if not v2:
            return _cant_parse(f"Can't find end of the entity starting at byte offset {at}")
        name = _MD_NAMES.get(marks.get(mark, mark), "Pre" if mark == "```" else "Code")
        return _cant_parse(f"Can't find end of {name} entity at byte offset {at}")

    i = 0
    while i < len(source):
        char = source[i]
        following = source[i + 1] if i + 1 < len(source) else ""
        if char == "\\" and following and (0 < ord(following) < 127 if v2 else following in "_*`["):
            out.append(following)
            size += 1
            i += 2
            continue
        if char == "`":
            fence = "```" if source.startswith("```", i) else "`"
            start, j, language = size, i + len(fence), None
            line_end = source.find("\n", j)
            if fence == "```" and line_end != -1 and re.fullmatch(r"[\w+#-]*", source[j:line_end]):
                language, j = source[j:line_end] or None, line_end + 1
            while j < len(source) and not source.startswith(fence, j):
                if v2 and source[j] == "\\" and source[j + 1 : j + 2] in ("`", "\\"):
                    j += 1
                out.append(source[j])
                size += _u16(source[j])
                j += 1
            if j >= len(source):
                raise unclosed(fence, i)
            if size > start:
                entity: JSON = {"type": "pre" if fence == "```" else "code"}
                entity |= {"offset": start, "length": size - start}
                if language:
                    entity["language"] = language
                entities.append(entity)
            i = j + len(fence)
            continue
        if char == "[" and not (not v2 and open_marks):
            open_marks.append(("[", size, i))
            i += 1
            continue
        if char == "]" and open_marks and open_marks[-1][0] == "[":
            _, start, _ = open_marks.pop()
            i += 1
            if source.startswith("(", i):
                close = source.find(")", i)
                if close == -1:
                    raise unclosed("[", i)
                url = source[i + 1 : close].replace("\\)", ")")
                if url and size > start:
                    entities.append(
                        {"type": "text_link", "offset": start, "length": size - start, "url": url}
                    )
                i = close + 1
            continue
        mark = next((m for m in marks if source.startswith(m, i)), None)
        if mark is not None and (v2 or not open_marks or open_marks[-1][0] == mark):
            if open_marks and open_marks[-1][0] == mark:
                _, start, _ = open_marks.pop()
                if size > start:
                    entities.append({"type": marks[mark], "offset": start, "length": size - start})
            else:
                open_marks.append((mark, size, i))
            i += len(mark)
            continue
        if v2 and char in _MD_RESERVED:
            raise _cant_parse(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        out.append(char)
        size += _u16(char)
        i += 1
    if open_marks:
        raise unclosed(open_marks[-1][0], open_marks[-1][2])
    return "".join(out), entities
