"""A fake Zalo Bot API server on loopback that Loa's Zalo client cannot tell from Zalo.

The sibling of `TelegramSandbox`, driven the same way: tests play the people in-process
(`add_user`, `post`, `sent`), a bot in another process is driven through the JSON control
endpoints under `/sandbox/` (see `zalo_control`). Requests go to `/bot<TOKEN>/<method>` as they
would to bot-api.zaloplatforms.com, and the answers follow Zalo's shapes: string ids,
millisecond dates, one update per getUpdates or 408, webhooks posted with
`X-Bot-Api-Secret-Token`, 2000-character texts.

This module is the facade; the parts live beside it: `zalo_world` (bots, people, chats, who
hears what), `zalo_api` (the methods), `zalo_control` (the `/sandbox/` endpoints), and the
shared `delivery` (long polls and webhooks), `limits` (429s) and `wire` (parameters, errors).
"""

from __future__ import annotations

import asyncio
import copy
from collections import deque

from aiohttp import web

from bot.sandbox import zalo_control
from bot.sandbox.delivery import Delivery
from bot.sandbox.limits import Limits, Rate
from bot.sandbox.model import Stats
from bot.sandbox.wire import JSON, SandboxError
from bot.sandbox.zalo_api import ZALO_LIMITS, ZaloBotApi
from bot.sandbox.zalo_world import ZaloWorld

__all__ = ["ZALO_LIMITS", "Limits", "Rate", "SandboxError", "Stats", "ZaloSandbox"]

SECRET_HEADER = "X-Bot-Api-Secret-Token"


class ZaloSandbox:
    """The server and the world behind it: bots, users, chats, what was sent and what failed.

    Setup methods (`add_bot`, `add_user`, `create_group`...) are plain calls; `post` and the
    waits are coroutines. Ids are strings throughout.
    """

    def __init__(self, limits: Limits | None = None, latency: float = 0.0) -> None:
        self.limits = limits or ZALO_LIMITS
        self.latency = latency  # seconds added before every Bot API answer
        self.webhook_bare = False  # post webhook bodies bare instead of as {ok, result}
        self.stats = Stats()
        self.errors: deque[tuple[str, int, str]] = deque(maxlen=50)  # (method, status, text)
        self._delivery = Delivery(self.stats, SECRET_HEADER, self._envelope)
        self._world = ZaloWorld(on_update=self._delivery.notify, on_sent=self._on_sent)
        self._api = ZaloBotApi(self, self._world, self._delivery)
        self._watchers: list[asyncio.Future[None]] = []
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    # -- server ------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on `host:port` (0: any free port); `base_url` says where."""
        if self._runner is not None:
            raise RuntimeError("the sandbox is already running")
        app = web.Application()
        app.add_routes([web.route("*", "/bot{token}/{method}", self._api.handle)])
        app.add_routes(zalo_control.routes(self))
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

    async def __aenter__(self) -> ZaloSandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`: what ZALO_API_BASE_URL is set to."""
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
        self, token: str, display_name: str = "Loa", account_name: str | None = None
    ) -> str:
        """Register a bot; its id is the token's number before ":" when there is one.

        People mention it in groups as `@<display_name>`.
        """
        return self._world.add_bot(token, display_name, account_name)

    def add_user(self, display_name: str) -> str:
        """Register a person; returns their id (which is also their private chat's id)."""
        return self._world.add_user(display_name)

    def create_group(
        self,
        title: str,
        members: list[str] | tuple[str, ...] = (),
        bots: list[str] | tuple[str, ...] = (),
        admins: list[str] | tuple[str, ...] = (),
    ) -> str:
        """A group with these people and bots (Zalo sends no update when a bot joins).

        `admins` are members like the others: Zalo's Bot API cannot tell them apart.
        """
        return self._world.create_group(title, [*members, *admins], bots)

    def private_chat(self, user_id: str) -> str:
        """The person's private chat (its id is theirs); bots may write once they have."""
        return self._world.private_chat(user_id)

    def add_member(self, chat_id: str, user_id: str, admin: bool = False) -> None:
        """A person joins a group (`admin` changes nothing the bot can see)."""
        self._world.add_member(chat_id, user_id)

    def add_bot_to_chat(self, chat_id: str, token: str) -> None:
        """Add the bot to a group again, or unblock it in a private chat."""
        self._world.add_bot_to_chat(chat_id, token)

    def remove_bot(self, chat_id: str, token: str) -> None:
        """Remove the bot from a group, or block it in a private chat; later sends get 403."""
        self._world.remove_bot(chat_id, token)

    async def post(
        self,
        chat_id: str,
        user_id: str,
        text: str | None = None,
        reply_to: str | None = None,
        *,
        kind: str = "text",
        photo_url: str | None = None,
        sticker: str | None = None,
    ) -> JSON:
        """A person writes in a chat; every bot there that may hear it gets an update.

        `kind` is "text", "image" (`text` is then the caption), "sticker" or "unsupported".
        In a group a bot hears only what mentions `@<its display name>` or replies (`reply_to`,
        a message id) to one of its messages. Returns the message as the update carries it.
        """
        extras = {"photo_url": photo_url, "sticker": sticker}
        message = self._world.post(chat_id, user_id, kind, text, reply_to, extras)
        await asyncio.sleep(0)
        return message

    # -- what happened -----------------------------------------------------------------------

    def sent(self, chat_id: str | None = None, token: str | None = None) -> list[JSON]:
        """What the bots sent, oldest first: `message_id`, `date`, `chat`, then `text` (or
        `photo`/`caption`, `sticker`), plus a `sandbox` entry with `token` and `method`."""
        return [
            {**copy.deepcopy(item.message), "sandbox": {"token": item.token, "method": item.method}}
            for item in self._world.sent
            if (chat_id is None or item.chat_id == chat_id)
            and (token is None or item.token == token)
        ]

    async def wait_sent(
        self, chat_id: str | None, count: int = 1, timeout: float = 5.0
    ) -> list[JSON]:
        """Wait until the bots have sent at least `count` messages to the chat; return them all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if sum(chat_id is None or s.chat_id == chat_id for s in self._world.sent) >= count:
                return self.sent(chat_id)
            remaining = deadline - loop.time()
            if remaining <= 0:
                got = [m.get("text", m.get("sandbox")) for m in self.sent(chat_id)[-3:]]
                raise TimeoutError(
                    f"chat {chat_id}: fewer than {count} bot message(s) after {timeout:g}s; "
                    f"last: {got}; stats: {self.stats.as_dict()}; "
                    f"recent API errors: {list(self.errors)[-5:]}"
                )
            watcher = loop.create_future()
            self._watchers.append(watcher)
            try:
                await asyncio.wait_for(watcher, remaining)
            except TimeoutError:
                pass
            finally:
                if watcher in self._watchers:
                    self._watchers.remove(watcher)

    def chat_title(self, chat_id: str) -> str:
        """A group's title, or the name of the person in a private chat (for transcripts)."""
        chat = self._world.chat(chat_id)
        return chat.user.display_name if chat.user is not None else chat.title or ""

    def webhook_url(self, token: str) -> str | None:
        """Where the bot asked for its updates (setWebhook), None when it polls."""
        webhook = self._world.bot(token).webhook
        return webhook.url if webhook else None

    def pending_updates(self, token: str) -> int:
        """Updates the bot has not fetched (or its webhook not accepted) yet."""
        return len(self._world.bot(token).updates)

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

    def _envelope(self, update: JSON) -> JSON:
        return update if self.webhook_bare else {"ok": True, "result": update}

    def _on_sent(self) -> None:
        self.stats.sent += 1
        for watcher in self._watchers:
            if not watcher.done():
                watcher.set_result(None)
        self._watchers.clear()
