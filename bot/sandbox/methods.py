"""What both fake Bot APIs do with a call before and after its method: count it, wait out the
injected latency, check the token, find the method (any case), play an injected fault, and write
the answer or the error. `BotApi` (Telegram) and `ZaloBotApi` add the methods themselves."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Mapping
from contextvars import ContextVar
from typing import Any, Generic, Protocol, TypeVar

from aiohttp import web

from bot.sandbox.delivery import Delivery
from bot.sandbox.limits import FloodControl, Limits
from bot.sandbox.model import Stats
from bot.sandbox.wire import JSON, ApiError, dumps

B = TypeVar("B")  # a platform's bot: Telegram's `model.Bot`, `ZaloBot`
B_co = TypeVar("B_co", covariant=True)

# The connection the call being answered came on (aiohttp's handler of it, one a connection):
# what flood control needs to tell a send on its way from an early retry (`limits`).
connection: ContextVar[Hashable] = ContextVar("connection", default=None)


class Settings(Protocol):
    """What a Bot API reads off its sandbox (the server) at each call: tests change it between
    calls. A protocol, so that the methods know nothing of the sandbox that serves them."""

    @property
    def latency(self) -> float: ...
    @property
    def limits(self) -> Limits: ...
    @property
    def stats(self) -> Stats: ...
    @property
    def errors(self) -> deque[tuple[str, int, str]]: ...


class Bots(Protocol[B_co]):
    """A world's bots by token."""

    @property
    def bots(self) -> Mapping[str, B_co]: ...


class MethodApi(Generic[B]):
    """Settings (`latency`, `stats`, `errors`) are read live off the sandbox: tests change them
    between calls."""

    def __init__(self, sandbox: Settings, world: Bots[B], delivery: Delivery) -> None:
        self.sandbox = sandbox
        self.world = world
        self.delivery = delivery
        self.faults: dict[str, deque[tuple[int, str]]] = {}
        self._flood = FloodControl()
        self._methods: dict[str, Callable[..., Awaitable[Any]]] = {}

    def route(self, methods: Mapping[str, Callable[..., Awaitable[Any]]]) -> None:
        """The methods this API answers; names match without regard to case, as both do."""
        self._methods = {name.lower(): handler for name, handler in methods.items()}

    def fail_next(self, method: str, count: int, status: int, description: str) -> None:
        self.faults.setdefault(method.lower(), deque()).extend([(status, description)] * count)

    async def handle(self, request: web.Request) -> web.Response:
        sandbox = self.sandbox
        sandbox.stats.requests += 1
        connection.set(request.protocol)
        method = request.match_info["method"]
        if sandbox.latency > 0:
            await asyncio.sleep(sandbox.latency)
        bot = self.world.bots.get(request.match_info["token"])
        if bot is None:
            return self._error(method, ApiError(401, "Unauthorized"))
        handler = self._methods.get(method.lower())
        if handler is None:
            return self._error(method, ApiError(404, "Not Found"))
        faults = self.faults.get(method.lower())
        if faults:
            status, description = faults.popleft()
            sandbox.stats.injected_failures += 1
            return self._error(method, self.injected(status, description))
        try:
            result = await self.call(handler, bot, request)
        except ApiError as exc:
            return self._error(method, exc)
        except ConnectionResetError:  # the caller hung up while its request was read (a bot
            return web.Response(status=499)  # stopping mid-poll): nobody is left to answer
        return web.json_response(self.answer(result), dumps=dumps)

    def injected(self, status: int, description: str) -> ApiError:
        """An injected fault as the platform words it (a 429 says when to come back)."""
        raise NotImplementedError

    async def call(
        self, handler: Callable[..., Awaitable[Any]], bot: B, request: web.Request
    ) -> Any:
        raise NotImplementedError

    def answer(self, result: Any) -> JSON:
        raise NotImplementedError

    def _error(self, method: str, error: ApiError) -> web.Response:
        self.sandbox.errors.append((method, error.status, error.description))
        return error.response()
