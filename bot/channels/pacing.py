"""Sending at a steady rate, for the channels' rate limiters."""

from __future__ import annotations

import asyncio


class Pacer:
    """At most one request every `interval` seconds, on a fixed schedule: the next slot counts
    from the last slot, not from when the timer fired, so the millisecond asyncio's timers lose
    each time is not lost for good (a token bucket of one loses it on every message). A slot
    missed by more than `tolerance` seconds is not made up, so the schedule never runs ahead of
    the rate.
    """

    def __init__(self, per_second: float, tolerance: float = 0.0) -> None:
        self.interval = 1 / per_second
        self.tolerance = tolerance
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self, not_before: float = 0.0) -> None:
        """Wait for the next slot, and not before `not_before` (loop time): after a 429's
        silence the queue leaves at the pace, not all at once."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            self._next = max(self._next, not_before)
            while (wait := self._next - loop.time()) > 0:
                await asyncio.sleep(wait)
            self._next = max(self._next, loop.time() - self.tolerance) + self.interval
