"""Sending at a steady rate, for the channels' rate limiters: a `Pacer` per limit, `Pacers` for
one a chat (idle ones forgotten), the one `Gate` of a channel that a 429 closes, and the
`RoundTrip` its sends take once they leave (which sizes the dispatcher's window)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Hashable, Iterator


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

    def idle(self) -> bool:
        """Nobody waits and its next slot is past: forgetting it changes nothing."""
        return not self._lock.locked() and self._next <= asyncio.get_running_loop().time()


class Pacers:
    """A `Pacer` per key (a chat), made when first asked for; idle ones are forgotten once
    there are more than `keep`, so a campaign's thousands of chats do not stay in memory."""

    def __init__(self, per_second: float, tolerance: float = 0.0, keep: int = 256) -> None:
        self.per_second, self.tolerance, self.keep = per_second, tolerance, keep
        self._pacers: dict[Hashable, Pacer] = {}

    def __len__(self) -> int:
        return len(self._pacers)

    async def wait(self, key: Hashable, not_before: float = 0.0) -> None:
        pacer = self._pacers.get(key)
        if pacer is None:
            if len(self._pacers) >= self.keep:
                self._forget_idle()
            pacer = self._pacers[key] = Pacer(self.per_second, self.tolerance)
        await pacer.wait(not_before)

    def _forget_idle(self) -> None:
        for key in [key for key, pacer in self._pacers.items() if pacer.idle()]:
            del self._pacers[key]


class Gate:
    """The one 429 gate of a channel: when the platform asks for silence, every request waits
    until it is over, whichever limit was hit (the platform does not say)."""

    def __init__(self) -> None:
        self.until = 0.0  # loop time before which nothing is sent

    def close_for(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self.until = max(self.until, loop.time() + seconds)

    async def wait(self) -> None:
        """Return once the gate is open (checked again after each wait: it may close again)."""
        loop = asyncio.get_running_loop()
        while (wait := self.until - loop.time()) > 0:
            await asyncio.sleep(wait)


class RoundTrip:
    """How long a message takes to the platform and back once it leaves (after the pacers and
    the gate): a moving average, each new send weighing `weight`; 0 until one is measured.

    Only the request itself is timed: time spent queueing for a slot would grow the
    dispatcher's window, which would queue more, and so on up to its cap."""

    def __init__(self, weight: float = 0.2) -> None:
        self.weight = weight
        self.seconds = 0.0

    def add(self, seconds: float) -> None:
        first = self.seconds == 0.0
        self.seconds = seconds if first else self.seconds + self.weight * (seconds - self.seconds)

    @contextlib.contextmanager
    def timed(self) -> Iterator[None]:
        """Time the block (one request), whether it succeeds or raises."""
        began = time.monotonic()
        try:
            yield
        finally:
            self.add(time.monotonic() - began)
