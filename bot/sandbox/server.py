"""What both fake Bot API servers share: the port, the routes, waiting for what bots sent, and
injected faults. `TelegramSandbox` and `ZaloSandbox` add their world and their platform's ways."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from aiohttp import web

from bot.sandbox import delivery
from bot.sandbox.delivery import Delivery
from bot.sandbox.limits import Limits
from bot.sandbox.methods import MethodApi
from bot.sandbox.model import Stats
from bot.sandbox.wire import JSON


class _Sent(Protocol):
    @property
    def chat_id(self) -> object: ...


class _World(Protocol):
    """What the server reads of a platform's world."""

    @property
    def bots(self) -> Mapping[str, delivery.Bot]: ...
    @property
    def sent(self) -> Sequence[_Sent]: ...


class SandboxServer:
    """A Bot API at `/bot<TOKEN>/<method>` and the JSON control endpoints under `/sandbox/`.

    A subclass sets `_world` (with `sent`, items carrying `chat_id`) and `_api` (with `handle`,
    `fail_next`, `faults`) in its `__init__`, and says its control routes and how it shows
    what was sent (`sent`).
    """

    client_max_size = 2**20  # bytes a request may carry
    _world: _World  # set by the subclass, which narrows both to its platform's
    _api: MethodApi[Any]

    def __init__(self, limits: Limits, latency: float, delivery: Delivery, stats: Stats) -> None:
        self.limits = limits
        self.latency = latency  # seconds added before every Bot API answer
        self.stats = stats
        self.errors: deque[tuple[str, int, str]] = deque(maxlen=50)  # (method, status, text)
        self._delivery = delivery
        self._watchers: list[asyncio.Future[None]] = []
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    def _control_routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    def sent(self, chat_id: Any = None, token: str | None = None) -> list[JSON]:
        raise NotImplementedError

    # -- server ------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on `host:port` (0: any free port); `base_url` says where."""
        if self._runner is not None:
            raise RuntimeError("the sandbox is already running")
        app = web.Application(client_max_size=self.client_max_size)
        app.add_routes([web.route("*", "/bot{token}/{method}", self._api.handle)])
        app.add_routes(self._control_routes())
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

    async def __aenter__(self) -> Any:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`, where the bot's API base URL points."""
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

    # -- what happened -----------------------------------------------------------------------

    async def wait_sent(self, chat_id: Any, count: int = 1, timeout: float = 5.0) -> list[JSON]:
        """Wait until the bots have sent at least `count` messages to the chat (None: to any
        chat); return them all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        sent = self._world.sent
        while True:
            # Counting first keeps a benchmark's many waits from copying every message each time.
            if sum(chat_id is None or item.chat_id == chat_id for item in sent) >= count:
                return self.sent(chat_id)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(self._report(chat_id, count, timeout))
            watcher = loop.create_future()
            self._watchers.append(watcher)
            try:
                await asyncio.wait_for(watcher, remaining)
            except TimeoutError:
                pass
            finally:
                if watcher in self._watchers:
                    self._watchers.remove(watcher)

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

    def _on_sent(self) -> None:
        self.stats.sent += 1
        for watcher in self._watchers:
            if not watcher.done():
                watcher.set_result(None)
        self._watchers.clear()

    def _report(self, chat_id: Any, count: int, timeout: float) -> str:
        got = self.sent(chat_id)
        texts = [
            str(m["text"] if "text" in m else m.get("caption", "<document>"))[:60] for m in got[-3:]
        ]
        return (
            f"chat {chat_id}: {len(got)} of {count} bot message(s) after {timeout:g}s; "
            f"last: {texts}; stats: {self.stats.as_dict()}; "
            f"recent API errors: {list(self.errors)[-5:]}"
        )
