"""One small webhook server for both platforms, built for what the open internet sends it.

Telegram and Zalo post each update as a JSON body with a secret header. Whoever else reaches the
port may send anything, slowly or in bulk, so the server:

- checks the secret header before reading a byte of the body, and refuses a declared body over
  `max_body` before reading it; a refused connection is closed, never drained;
- gives a connection `timeout` seconds for its headers (from its first byte, or from the previous
  answer on a kept-alive one) and again for its body;
- holds at most `max_connections`: a new one beyond that closes the oldest, so slow or idle
  connections cannot keep a genuine update out, nor use up the process's open files;
- answers a body that is not JSON, too deeply nested to parse, or not an update with 400;
- answers at once: `accept` only queues the update (the platform has no reason to resend), and
  the answer is 503 when the queue is full;
- logs a refusal the first time, then once a minute with how many were alike (`Repeats`).

Only what TLS termination leaves is served here: both platforms require https, so a reverse
proxy stands in front, and the server listens on loopback unless told otherwise.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from bot.channels.defaults import DEFAULT_WEBHOOK_HOST, TELEGRAM_WEBHOOK_PORT

log = logging.getLogger(__name__)

REPEAT_WINDOW = 60.0  # seconds over which alike log lines are counted, not repeated


@dataclass(frozen=True)
class Webhook:
    """Serve updates on `listen:port` at the path of `url`; the platform must send `secret`."""

    url: str
    secret: str = field(repr=False)
    listen: str = DEFAULT_WEBHOOK_HOST
    port: int = TELEGRAM_WEBHOOK_PORT

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"


@dataclass(frozen=True)
class WebhookLimits:
    """What one request and the server as a whole may take."""

    max_body: int = 2**20  # bytes: an update is a few kilobytes
    timeout: float = 10.0  # seconds for a request's headers, and again for its body
    max_connections: int = 200  # the open-files limit is usually 1,024 for the whole process


WEBHOOK_LIMITS = WebhookLimits()


class Malformed(ValueError):
    """The body is JSON, but not an update of the platform."""


# Takes one parsed body: queues the update and says True, says False when the queue is full,
# raises `Malformed` when the body is not an update. Never waits.
Accept = Callable[[Any], bool]


class Repeats(logging.Filter):
    """Lets the first of alike records through, then one a window with how many were alike.

    Records are alike when they come from the same call (message template and exception type),
    whatever their arguments (the address that sent the request, say).
    """

    def __init__(self, window: float = REPEAT_WINDOW) -> None:
        super().__init__()
        self.window = window
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}  # key -> (window start, held)

    def filter(self, record: logging.LogRecord) -> bool:
        exc_type = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        key, now = (str(record.msg), exc_type), time.monotonic()
        started, held = self._seen.get(key, (0.0, 0))
        if key in self._seen and now - started < self.window:
            self._seen[key] = (started, held + 1)
            return False
        self._seen[key] = (now, 0)
        if held:
            record.msg = f"{record.msg} (and {held} alike in the last {now - started:.0f} s)"
        return True

    def flush(self, logger: logging.Logger) -> None:
        """Say how many alike records were held back and not yet told."""
        seen, self._seen = self._seen, {}
        for (message, _), (_, held) in seen.items():
            if held:
                logger.warning("%d more like %r were not logged one by one", held, message)


# One counter for both servers' lines, and for aiohttp's complaints about broken requests.
REPEATS = Repeats()
_http_log = logging.getLogger(f"{__name__}.http")
log.addFilter(REPEATS)
_http_log.addFilter(REPEATS)


class _Guarded(web.Server):
    """aiohttp's low-level server, holding at most `max_connections`: the oldest goes first."""

    def __init__(self, handler: Any, max_connections: int, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.max_connections = max_connections
        self.evicted = 0
        self._open: dict[RequestHandler, asyncio.Transport] = {}  # oldest first

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        self._open[handler] = transport
        while len(self._open) > self.max_connections:
            oldest = next(iter(self._open))
            self._open.pop(oldest).abort()  # at once: a slow sender gets no more of our time
            self.evicted += 1
            log.warning("webhook: too many connections; the oldest was closed")

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        self._open.pop(handler, None)
        super().connection_lost(handler, exc)

    @property
    def open_connections(self) -> int:
        return len(self._open)


class WebhookServer:
    """Serves one platform's webhook: POSTs with the right secret to the hook's path."""

    def __init__(
        self,
        hook: Webhook,
        secret_header: str,
        accept: Accept,
        *,
        limits: WebhookLimits = WEBHOOK_LIMITS,
        answer: dict[str, Any] | None = None,
    ) -> None:
        self.hook = hook
        self.secret_header = secret_header
        self.accept = accept
        self.limits = limits
        self.answer = answer or {"ok": True}
        self._secret = hook.secret.encode()
        self._server: _Guarded | None = None
        self._listener: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The port listened on (the hook's, or the one given when it asked for 0)."""
        assert self._listener is not None, "the webhook server is not started"
        return int(self._listener.sockets[0].getsockname()[1])

    @property
    def open_connections(self) -> int:
        return self._server.open_connections if self._server else 0

    async def start(self) -> None:
        self._server = _Guarded(
            self._on_request,
            self.limits.max_connections,
            keepalive_timeout=self.limits.timeout,  # idle or slow headers: closed after it
            access_log=None,
            logger=_http_log,
        )
        loop = asyncio.get_running_loop()
        self._listener = await loop.create_server(
            self._server, self.hook.listen, self.hook.port, backlog=128
        )

    async def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
            assert self._server is not None
            self._server.pre_shutdown()
            await self._server.shutdown(1.0)
            await listener.wait_closed()
        REPEATS.flush(log)

    async def _on_request(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.method != "POST" or request.path != self.hook.path:
            return _refused(404, "Not Found")
        given = request.headers.get(self.secret_header, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook: refused a request without the right secret")
            return _refused(403, "Forbidden")
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        try:
            taken = self.accept(json.loads(body))
        except (ValueError, RecursionError):  # not JSON, not UTF-8, too deep, not an update
            log.warning("webhook: refused a body that is not an update")
            return _refused(400, "Bad Request")
        if not taken:
            log.warning("webhook: updates are coming faster than they are handled; 503")
            return web.json_response({"ok": False, "description": "busy"}, status=503)
        return web.json_response(self.answer)

    async def _body(self, request: web.BaseRequest) -> bytes | web.Response:
        """The body, read within the limits; or the answer that refuses it."""
        limit = self.limits.max_body
        if request.content_length is not None and request.content_length > limit:
            log.warning("webhook: refused a body declared over %d bytes", limit)
            return _refused(413, "Payload Too Large")
        body = bytearray()
        try:
            async with asyncio.timeout(self.limits.timeout):
                async for chunk in request.content.iter_any():
                    body += chunk
                    if len(body) > limit:
                        log.warning("webhook: refused a body over %d bytes", limit)
                        return _refused(413, "Payload Too Large")
        except TimeoutError:
            log.warning("webhook: a body took over %g s; refused", self.limits.timeout)
            return _refused(408, "Request Timeout")
        return bytes(body)


def _refused(status: int, reason: str) -> web.Response:
    """An error answer after which the connection is closed, whatever is left unread."""
    response = web.json_response({"ok": False, "description": reason}, status=status)
    response.force_close()
    return response
