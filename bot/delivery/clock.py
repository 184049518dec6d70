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
    """Starts at `start` and runs `factor` times faster than real time (for the demo).

    It can be paused, so that a scene (people registering, asking) happens at one moment.
    """

    def __init__(self, start: dt.datetime, factor: float) -> None:
        self.start, self.factor = start, factor
        self._origin = time.monotonic()
        self._paused_at: float | None = None

    def now(self) -> dt.datetime:
        reading = self._paused_at if self._paused_at is not None else time.monotonic()
        elapsed = (reading - self._origin) * self.factor
        return self.start + dt.timedelta(seconds=elapsed)

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = time.monotonic()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._origin += time.monotonic() - self._paused_at
            self._paused_at = None

    def later(self, seconds: float) -> dt.datetime:
        return self.now() + dt.timedelta(seconds=seconds * self.factor)

    def seconds_until(self, moment: dt.datetime) -> float:
        return max((moment - self.now()).total_seconds() / self.factor, 0)
