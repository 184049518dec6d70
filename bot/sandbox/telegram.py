"""A fake Telegram Bot API server on loopback that python-telegram-bot cannot tell from Telegram.

The demo, the end-to-end tests and the benchmarks run Loa's real Telegram adapter against it:
requests go to `/bot<TOKEN>/<method>` as they would to api.telegram.org, and the answers (objects,
dates in seconds, status codes and Telegram's own error wording, 429 with `retry_after`) are what
Telegram gives. Tests play the people in the chats in-process (`add_user`, `post`, `sent`); a bot
in another process is driven the same way through the JSON control endpoints under `/sandbox/`.

Only what Loa uses is emulated: text and document messages, commands, privacy mode, long polling
and webhooks, membership changes, basic groups and their upgrade to supergroups, anonymous
admins and flood control. Everything else answers 404 like an unknown method would.

This module is the facade; the parts live beside it: `world` (bots, people, chats), `privacy`,
`api` (the Bot API methods), `control` (the `/sandbox/` endpoints), `delivery` (long polls and
webhooks), `formatting` (HTML, MarkdownV2, entities), `wire` (parameters and errors).
"""

from __future__ import annotations

import asyncio
import copy
from collections import deque

from aiohttp import web

from bot.sandbox import control
from bot.sandbox.api import BotApi
from bot.sandbox.delivery import Delivery
from bot.sandbox.limits import Limits, Rate
from bot.sandbox.model import Stats
from bot.sandbox.wire import JSON, SandboxError
from bot.sandbox.world import World

__all__ = ["Limits", "Rate", "SandboxError", "Stats", "TelegramSandbox"]


class TelegramSandbox:
    """The server and the world behind it: bots, users, chats, what was sent and what failed.

    Setup methods (`add_bot`, `add_user`, `create_group`...) are plain calls; `post` and the
    waits are coroutines. Time is real: rate-limit windows and long polls run on the clock.
    """

    def __init__(self, limits: Limits | None = None, latency: float = 0.0) -> None:
        self.limits = limits or Limits()
        self.latency = latency  # seconds added before every Bot API answer
        self.stats = Stats()
        self.errors: deque[tuple[str, int, str]] = deque(maxlen=50)  # (method, status, text)
        self._delivery = Delivery(self.stats)
        self._world = World(on_update=self._delivery.notify, on_sent=self._on_sent)
        self._api = BotApi(self, self._world, self._delivery)
        self._watchers: list[asyncio.Future[None]] = []
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    # -- server ------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on `host:port` (0: any free port); `base_url` says where."""
        if self._runner is not None:
            raise RuntimeError("the sandbox is already running")
        app = web.Application(client_max_size=50 * 2**20)  # Telegram takes 50 MB uploads
        app.add_routes([web.route("*", "/bot{token}/{method}", self._api.handle)])
        app.add_routes(control.routes(self))
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        bound = runner.addresses[0][1]
        self._base_url = f"http://{f'[{host}]' if ':' in host else host}:{bound}"
        self._delivery.open()

    async def stop(self) -> None:
        """Answer the waiting long polls, stop webhook deliveries and close the port."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        await self._delivery.close(self._world.bots.values())
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

    @property
    def webhook_backoff(self) -> tuple[float, float]:
        """First and longest wait between webhook retries (tests shorten it)."""
        return self._delivery.backoff

    @webhook_backoff.setter
    def webhook_backoff(self, value: tuple[float, float]) -> None:
        self._delivery.backoff = value

    # -- the world ---------------------------------------------------------------------------

    def add_bot(
        self, token: str, username: str = "loa_bot", first_name: str = "Loa", privacy: bool = True
    ) -> int:
        """Register a bot; its id is the token's number before ":" when there is one."""
        return self._world.add_bot(token, username, first_name, privacy)

    def add_user(
        self, first_name: str, username: str | None = None, last_name: str | None = None
    ) -> int:
        """Register a person; returns the user id (which is also their private chat's id)."""
        return self._world.add_user(first_name, username, last_name)

    def create_group(
        self,
        title: str,
        members: list[int] | tuple[int, ...] = (),
        bots: list[str] | tuple[str, ...] = (),
        admins: list[int] | tuple[int, ...] = (),
        *,
        creator: int | None = None,
        username: str | None = None,
        supergroup: bool = True,
    ) -> int:
        """A group; each bot added gets a my_chat_member update (left -> member).

        A supergroup by default (id -100…); `supergroup=False` makes a basic group (type
        "group", id -4…), which `migrate` can later upgrade as Telegram does.
        """
        return self._world.create_group(
            title,
            members,
            bots,
            admins,
            creator=creator,
            username=username,
            supergroup=supergroup,
        )

    def private_chat(self, user_id: int) -> int:
        """The user's private chat (its id is the user's); bots may write once the user has."""
        return self._world.private_chat(user_id)

    def add_member(self, chat_id: int, user_id: int, admin: bool = False) -> None:
        """A person joins a group (no update: bots get chat_member updates only as admins)."""
        self._world.add_member(chat_id, user_id, admin)

    def add_bot_to_chat(self, chat_id: int, token: str, by_user: int | None = None) -> None:
        """Add the bot to a group, or unblock it in a private chat: my_chat_member -> member."""
        self._world.add_bot_to_chat(chat_id, token, by_user)

    def remove_bot(self, chat_id: int, token: str, by_user: int | None = None) -> None:
        """Kick the bot from a group, or block it in a private chat; later sends get 403."""
        self._world.remove_bot(chat_id, token, by_user)

    def migrate(self, chat_id: int, by_user: int | None = None) -> int:
        """Upgrade a basic group to a supergroup; returns the new -100… id.

        People, admins and bots move over. Every bot in the group gets a message in the old
        chat with `migrate_to_chat_id` and one in the new chat with `migrate_from_chat_id`;
        from then on any Bot API call naming the old id answers 400 with `migrate_to_chat_id`
        (python-telegram-bot raises ChatMigrated). `by_user` upgrades it (default: the creator,
        else the first admin).
        """
        return self._world.migrate(chat_id, by_user)

    async def post(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        reply_to: int | None = None,
        anonymous: bool = False,
    ) -> JSON:
        """A person writes in a chat; every bot there that may see it gets a message update.

        In a group the writer joins it if needed; bots with privacy mode on hear only what
        `bot.sandbox.privacy` lets through. A private chat reaches every bot the user has not
        blocked (a sandbox usually has one bot) and lets those bots write back. `anonymous`: an
        admin of a supergroup writes as the group, so the message comes from GroupAnonymousBot
        with `sender_chat` the group itself.
        """
        message = self._world.post(chat_id, user_id, text, reply_to, anonymous)
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
            for item in self._world.sent
            if (chat_id is None or item.chat_id == chat_id)
            and (token is None or item.token == token)
        ]

    async def wait_sent(
        self, chat_id: int | None, count: int = 1, timeout: float = 5.0
    ) -> list[JSON]:
        """Wait until the bots have sent at least `count` messages to the chat; return them all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        sent = self._world.sent
        while True:
            # Counting first keeps a benchmark's many waits from copying every message each time.
            if sum(chat_id is None or item.chat_id == chat_id for item in sent) >= count:
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
        chat = self._world.chat(chat_id)
        if chat.user is None:
            return chat.title or ""
        return " ".join(filter(None, (chat.user.first_name, chat.user.last_name)))

    def file(self, file_id: str) -> bytes:
        """The bytes of a document a bot sent."""
        try:
            return self._world.files[file_id].content
        except KeyError:
            raise SandboxError(f"no file {file_id!r}") from None

    def commands(self, token: str) -> dict[str, list[JSON]]:
        """setMyCommands per scope key: `default`, `all_private_chats`, `chat:<id>`, ...

        A language code is appended after a slash: `default/vi`.
        """
        return copy.deepcopy(self._world.bot(token).commands)

    def fail_next(
        self,
        method: str,
        count: int = 1,
        status: int = 500,
        description: str = "Internal Server Error",
    ) -> None:
        """The next `count` calls of `method` answer this error and change nothing."""
        self._api.fail_next(method, count, status, description)

    def pending_faults(self) -> dict[str, list[JSON]]:
        """What `fail_next` still has queued, per lower-cased method name."""
        return {
            method: [{"status": status, "description": text} for status, text in queue]
            for method, queue in self._api.faults.items()
            if queue
        }

    # -- internals ---------------------------------------------------------------------------

    def _on_sent(self) -> None:
        self.stats.sent += 1
        for watcher in self._watchers:
            if not watcher.done():
                watcher.set_result(None)
        self._watchers.clear()

    def _report(self, chat_id: int | None, count: int, timeout: float, got: list[JSON]) -> str:
        texts = [m.get("text", m.get("caption", "<document>"))[:60] for m in got[-3:]]
        return (
            f"chat {chat_id}: {len(got)} of {count} bot message(s) after {timeout:g}s; "
            f"last: {texts}; stats: {self.stats.as_dict()}; "
            f"recent API errors: {list(self.errors)[-5:]}"
        )
