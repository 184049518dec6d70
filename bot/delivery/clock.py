"""Time as the dispatcher sees it: the real clock, or a campaign week compressed into minutes."""

from __future__ import annotations

import datetime as dt
import time


class Clock:
    """The real clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def later(self, seconds: float) -> dt.datetime:
        """The reading of this clock `seconds` of real time from now."""
        return self.now() + dt.timedelta(seconds=seconds)

    def seconds_until(self, moment: dt.datetime) -> float:
        """Real seconds until this clock reads `moment` (0 when it is past)."""
        return max((moment - self.now()).total_seconds(), 0)


class CompressedClock(Clock):
    """Starts at `start` and runs `factor` times faster than real time (for the demo)."""

    def __init__(self, start: dt.datetime, factor: float) -> None:
        self.start, self.factor = start, factor
        self._origin = time.monotonic()

    def now(self) -> dt.datetime:
        elapsed = (time.monotonic() - self._origin) * self.factor
        return self.start + dt.timedelta(seconds=elapsed)

    def later(self, seconds: float) -> dt.datetime:
        return self.now() + dt.timedelta(seconds=seconds * self.factor)

    def seconds_until(self, moment: dt.datetime) -> float:
        return max((moment - self.now()).total_seconds() / self.factor, 0)
