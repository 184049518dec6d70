"""When to look at the outbox: APScheduler 3.11, one job, rebuilt from the outbox at start.

The outbox is the durable truth (what must go, what went), so jobs are not persisted: a job
store would be a second copy to keep in step. At start, and after every look, the one `send` job
is set for the next due row (at most a minute away: another process, `loa units` or a second
channel, may add rows); `wake()` brings it forward to now. A restart therefore loses nothing:
what fell due meanwhile is simply due.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.delivery import outbox
from bot.delivery.clock import Clock
from bot.delivery.dispatcher import Dispatcher
from bot.store.db import Database

log = logging.getLogger(__name__)

JOB = "send"
IDLE_CHECK = 60.0  # seconds: look at the outbox at least this often
ERROR_PAUSE = 10.0  # seconds before looking again after the outbox could not be read
RECORD_AGAIN = 2.0  # seconds before looking again while sent messages wait for their record


class Sender:
    def __init__(self, dispatcher: Dispatcher, db: Database, clock: Clock, tz: ZoneInfo) -> None:
        self.dispatcher, self.db, self.clock = dispatcher, db, clock
        self.scheduler = AsyncIOScheduler(timezone=tz)
        self._running: asyncio.Task[None] | None = None
        self._woken = False  # woken while a look was running: it looks again when it ends
        # From APScheduler's submission of a look to its end: a job set meanwhile would be
        # refused, with a warning ("maximum number of running instances reached") each time.
        self._looking = False
        self.scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)

    def start(self) -> None:
        self.scheduler.start()
        self.wake()

    def wake(self) -> None:
        """Something is due now (a broadcast, a late registration): look at the outbox now."""
        self._woken = True
        self._schedule(0)

    async def stop(self) -> None:
        """Hand back what is not sent yet and wait for the message in flight to be recorded.

        Only then the scheduler stops: APScheduler cancels running jobs on shutdown, and a job
        cancelled between sending and recording would send its message again after a restart.
        """
        self.dispatcher.stopping = True
        while self._running is not None:
            await asyncio.shield(self._running)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def next_look(self) -> dt.datetime | None:
        job = self.scheduler.get_job(JOB)
        return job.next_run_time if job else None

    def _submitted(self, event: JobSubmissionEvent) -> None:
        self._looking = True

    def _schedule(self, seconds: float) -> None:
        """Set the job `seconds` from now, unless it is already set to run sooner, or a look is
        on (its end sets the next one: at once when woken meanwhile)."""
        if not self.scheduler.running or self._looking:
            return
        run_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
        planned = self.next_look()
        if planned is not None and planned <= run_at:
            return
        self.scheduler.add_job(
            self._look,
            "date",
            id=JOB,
            run_date=run_at,
            replace_existing=True,
            misfire_grace_time=None,  # late is fine: the outbox decides what is still useful
        )

    async def _look(self) -> None:
        if self.dispatcher.stopping:  # a look APScheduler started while `stop` waited
            self._looking = False
            return
        self._running = asyncio.current_task()
        self._woken = False
        wait = IDLE_CHECK
        try:
            await self.dispatcher.send_due()
            async with self.db.session() as session:
                due = await outbox.next_due(session, campaign=self.dispatcher.campaign_key)
            if due is not None:
                wait = min(self.clock.seconds_until(due), IDLE_CHECK)
            if self.dispatcher.owes_records:
                wait = min(wait, RECORD_AGAIN)
        except Exception:  # the database or a bug: log it and keep serving
            log.exception("outbox: sending failed; looking again in %.0f s", ERROR_PAUSE)
            wait = ERROR_PAUSE
        finally:
            self._running, self._looking = None, False
            if self._woken:  # a wake during this look may have been refused: look again now
                wait = 0
            # after this run has ended, so that the next one is not refused as overlapping
            asyncio.get_running_loop().call_soon(self._schedule, wait)
