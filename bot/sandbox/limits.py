"""Telegram-like flood control for the sandbox: sliding windows per bot and per chat.

Telegram does not publish its exact algorithm; its FAQ gives the budgets (about 30 messages a
second overall, 20 a minute in a group, about one a second in a private chat) and a 429 names
`retry_after`. Sliding windows reproduce both, and counting sends that ignore a `retry_after`
(`early`) shows whether a client obeys it, which is what Telegram punishes with longer bans.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    """At most `count` sends in any `per` seconds."""

    count: int
    per: float


@dataclass(frozen=True)
class Limits:
    """The budgets the sandbox enforces; `None` switches one off."""

    overall: Rate | None = Rate(30, 1.0)  # per bot, all chats together
    group: Rate | None = Rate(20, 60.0)  # per bot and group chat
    private: Rate | None = Rate(3, 3.0)  # per bot and private chat: ~1/s with a small burst

    @classmethod
    def off(cls) -> Limits:
        """No flood control at all (benchmarks of the client's own pacing, quick demos)."""
        return cls(overall=None, group=None, private=None)


Scope = tuple[Hashable, Rate | None]


@dataclass(frozen=True)
class Verdict:
    """`retry_after` is None when the send may go; `early` when it ignored an earlier 429."""

    retry_after: int | None = None
    early: bool = False


class FloodControl:
    """Sliding-window counters keyed by scope; the caller names the scopes a send touches."""

    def __init__(self) -> None:
        self._sent: dict[Hashable, deque[float]] = {}
        self._blocked_until: dict[Hashable, float] = {}

    def admit(self, scopes: Sequence[Scope], now: float) -> Verdict:
        """Count the send in every scope, or refuse it with the whole seconds to wait."""
        blocked = [self._blocked_until.get(key, 0.0) - now for key, _ in scopes]
        if max(blocked, default=0.0) > 0:
            # Sent before the retry_after we gave: refused again, with the time still to wait.
            return Verdict(retry_after=max(1, math.ceil(max(blocked))), early=True)
        waits: dict[Hashable, float] = {}
        for key, rate in scopes:
            if rate is None:
                continue
            window = self._window(key, rate, now)
            if len(window) >= rate.count:
                # The next slot opens when the oldest send still counted leaves the window.
                waits[key] = window[len(window) - rate.count] + rate.per - now
        if waits:
            retry_after = max(1, math.ceil(max(waits.values())))
            for key in waits:
                self._blocked_until[key] = now + retry_after
            return Verdict(retry_after=retry_after)
        for key, rate in scopes:
            if rate is not None:
                self._sent[key].append(now)
        return Verdict()

    def _window(self, key: Hashable, rate: Rate, now: float) -> deque[float]:
        window = self._sent.setdefault(key, deque())
        while window and window[0] <= now - rate.per:
            window.popleft()
        return window
