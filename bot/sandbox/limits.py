"""Telegram-like flood control for the sandbox: sliding windows per bot and per chat.

Telegram does not publish its exact algorithm; its FAQ gives the budgets (about 30 messages a
second overall, 20 a minute in a group, about one a second in a private chat) and a 429 names
`retry_after`. Sliding windows reproduce both, and counting sends that ignore a `retry_after`
(`early`) shows whether a client obeys it, which is what Telegram punishes with longer bans.

A send that arrives during a wait is early only if its client had been told of that wait when it
sent it. The server cannot see when a client reads an answer, and a request that left before the
429 was answered can arrive after it (a client with several sends in flight; the sandbox and the
bot sharing one event loop, a request written first can be read last). What it can see is the
connection: HTTP/1.1 answers a connection's requests in turn (clients do not pipeline), so a
request on a connection that carried a 429 of a wait was sent after its client had read that
429. Those are early; one on another connection may have been on its way, and is not counted:
a client ignoring `retry_after` on fresh connections only would go unseen.
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
    """`retry_after` is None when the send may go; `early` when it ignored a 429 its client had
    read (came on a connection that carried one of the wait still running)."""

    retry_after: int | None = None
    early: bool = False


class FloodControl:
    """Sliding-window counters keyed by scope; the caller names the scopes a send touches, and
    the connection it came on (see the module: what makes a send `early`)."""

    def __init__(self) -> None:
        self._sent: dict[Hashable, deque[float]] = {}
        self._blocked_until: dict[Hashable, float] = {}
        # connection -> the waits it carried a 429 of: scope key -> the wait's end (its identity:
        # a scope's next wait ends later), kept while they run
        self._told: dict[Hashable, dict[Hashable, float]] = {}

    def admit(self, scopes: Sequence[Scope], now: float, connection: Hashable = None) -> Verdict:
        """Count the send in every scope, or refuse it with the whole seconds to wait."""
        self._forget_ended(now)
        told = self._told.get(connection, {})
        blocked = {
            key: until for key, _ in scopes if (until := self._blocked_until.get(key, 0.0)) > now
        }
        if blocked:
            # Refused again, with the time still to wait; early if its client knew of the wait.
            early = any(told.get(key) == until for key, until in blocked.items())
            self._told.setdefault(connection, {}).update(blocked)
            return Verdict(retry_after=max(1, math.ceil(max(blocked.values()) - now)), early=early)
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
            self._told.setdefault(connection, {}).update(dict.fromkeys(waits, now + retry_after))
            return Verdict(retry_after=retry_after)
        for key, rate in scopes:
            if rate is not None:
                self._sent[key].append(now)
        return Verdict()

    def _forget_ended(self, now: float) -> None:
        """Drop what connections were told of waits now over (few run at a time)."""
        for connection, waits in list(self._told.items()):
            for key in [key for key, until in waits.items() if until <= now]:
                del waits[key]
            if not waits:
                del self._told[connection]

    def _window(self, key: Hashable, rate: Rate, now: float) -> deque[float]:
        window = self._sent.setdefault(key, deque())
        while window and window[0] <= now - rate.per:
            window.popleft()
        return window
