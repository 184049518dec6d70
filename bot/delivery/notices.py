"""Coordinators' notices (a unit registered, left, came back, is gone) gathered into a digest.

A province registers a thousand units in an afternoon: one message per notice would queue in a
coordinator's private chat at its pace of one a second, and their own commands' answers behind
them. Instead the first notice after a quiet minute goes at once, and what comes within the next
minute goes together in one message when the minute is over: at most one a minute each.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

EVERY = 60.0  # seconds: at most one notice message a minute per coordinator


@dataclass(frozen=True)
class Notice:
    """What one notice says: its template and what the template needs."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


Send = Callable[[str, list[Notice]], Awaitable[None]]  # coordinator, their notices in order


class Notices:
    """Notices waiting per coordinator, each coordinator's sent by `send` at most every `every`
    seconds (the first of a quiet spell at once)."""

    def __init__(self, send: Send, every: float = EVERY) -> None:
        self._send = send
        self.every = every
        self._waiting: dict[str, list[Notice]] = {}
        self._last: dict[str, float] = {}  # coordinator -> loop time of their last message
        self._flushing: dict[str, asyncio.Task[None]] = {}

    def add(self, coordinator: str, notice: Notice) -> None:
        self._waiting.setdefault(coordinator, []).append(notice)
        if coordinator not in self._flushing:
            task = asyncio.create_task(self._flush(coordinator))
            self._flushing[coordinator] = task

    async def _flush(self, coordinator: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            wait = self._last.get(coordinator, -math.inf) + self.every - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            notices = self._waiting.pop(coordinator, [])
            self._last[coordinator] = loop.time()
            if notices:
                await self._send(coordinator, notices)
        except Exception:  # a notice is worth a log line, never the process
            log.exception("notices to %s could not be sent", coordinator)
        finally:
            del self._flushing[coordinator]
            if self._waiting.get(coordinator):  # came while the message went: the next minute
                self._flushing[coordinator] = asyncio.create_task(self._flush(coordinator))

    async def close(self) -> None:
        """Send what waits now (the process is stopping), then stop."""
        for task in list(self._flushing.values()):
            task.cancel()
        await asyncio.gather(*self._flushing.values(), return_exceptions=True)
        waiting, self._waiting = self._waiting, {}
        for coordinator, notices in waiting.items():
            try:
                await self._send(coordinator, notices)
            except Exception:
                log.exception("notices to %s could not be sent", coordinator)
