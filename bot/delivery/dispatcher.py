"""Send what is due: claim rows, render each for its unit, send through the chat's channel.

A window of messages is in flight at a time (`send_window`: as many as the channels' rate needs
at their measured round trip, one or two at 20 ms), rows taking turns across chats and each
chat's in planned order (the eleven parts of a form arrive as 1, 2, … 11), never two at once to
one chat. Every attempt is recorded. What asks a
unit for figures (a part of the form, a report reminder) goes only while some are missing, and
a sent part of the form is remembered as a prompt, so replies to it answer its rows. A chat that
is gone (403, not found) fails its rows and is reported through `on_unreachable`; a 429 or a
network error puts the row, and the rest of that chat's batch, back for later. A chat whose
platform cannot tell a gone chat from its own failure (Zalo) is given up only after
`DOUBTS_TO_GIVE_UP` failures over at least `DOUBT_SPAN`.

Claims are fenced by the sender's epoch (`outbox.take_epoch`): a row is sent only while this
process's claim on it holds, and recorded in the statement that checks it, so a process that
lost its instance lock cannot send or record what a newer one took back. A message that went
out is never sent again because its record failed: the record is retried, not the send.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select, update

from bot.campaign.model import Campaign, FormRow
from bot.campaign.timeline import (
    DeadlineRef,
    Kind,
    ReminderContext,
    ReminderRef,
    form_rows,
    timeline,
)
from bot.campaign.timeline import Delivery as TimelineDelivery
from bot.channels.base import Channel, clean_text, retry_in
from bot.delivery.clock import Clock
from bot.delivery.outbox import as_core, claim_due, held_by, release_stuck, sendable_by
from bot.errors import ChatAddressChanged, Fault, SendError
from bot.messages import render, render_delivery
from bot.store import answers
from bot.store.db import Database, is_transient
from bot.store.models import Chat, Delivery, DeliveryAttempt, DeliveryStatus, PromptKind, Unit
from bot.store.rows import rowcount

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12  # network errors and 5xx, for a row that never expires; a 429 never gives up
BACKOFF_FIRST = 1.0  # seconds, doubling each try
BACKOFF_CAP = 300.0  # seconds: a row that is still useful keeps trying every 5 minutes
ERROR_PAUSE = 30.0  # seconds before a chat whose batch hit an unexpected error is tried again
BUSY_PAUSE = 2.0  # ...when it was the database, busy or away for a moment
RECORD_TRIES = 4  # a sent message's record, tried at once and after 0.25, 0.5 and 1 s; then later
CLAIM_GRACE = 3.0  # seconds an earlier process has to record what it sent before its claims go back
DOUBTS_TO_GIVE_UP = 3  # doubtful failures (Zalo's 403) before a chat is given up...
DOUBT_SPAN = dt.timedelta(hours=1)  # ...spread over at least this long
WINDOW_CAP = 32  # messages in flight at most: 30/s at a round trip of a second

Unreachable = Callable[[Chat, Unit | None], Awaitable[None]]
Moved = Callable[[str, str, str], Awaitable[None]]  # platform, old chat id, new chat id
# A unit's own link to its form on the web, issued for a message about to be sent; None when
# the web is off. Given by the composition (`bot.app`): links are the operations'.
FormLink = Callable[[Unit], Awaitable[str | None]]


@dataclass(frozen=True)
class Result:
    status: DeliveryStatus
    error: str | None = None
    message_id: str | None = None
    retry_in: float | None = None  # seconds of real time, when back to pending
    unreachable: bool = False


def send_window(rate: float, round_trip: float, cap: int = WINDOW_CAP) -> int:
    """How many messages to have in flight to start one every 1/`rate` seconds when each takes
    `round_trip` seconds to the platform and back.

    A message started now comes back `round_trip` later, and meanwhile rate × round_trip more
    must start (Little's law), so ceil(rate × round_trip) are under way at the rate. One more
    leaves a whole slot (1/rate, 35 ms at 30/s) for the rounding, the jitter and the claim and
    the record around each send, so that none waits for room when its slot comes. Never more:
    a kill repeats at most the messages in flight, so the window is as small as the rate lets
    it be (1 before a round trip is known, 2 at 30/s and 20 ms, 9 at 250 ms), and at most `cap`.
    """
    return max(1, min(cap, math.ceil(rate * round_trip) + 1))


class Dispatcher:
    def __init__(
        self,
        db: Database,
        campaign: Campaign,
        campaign_key: str,
        channels: Mapping[str, Channel],
        on_unreachable: Unreachable,
        on_moved: Moved,
        clock: Clock | None = None,
        form_link: FormLink | None = None,
    ) -> None:
        self.db = db
        self.form_link = form_link
        self.campaign, self.campaign_key = campaign, campaign_key
        self.channels = channels
        self.on_unreachable = on_unreachable
        self.on_moved = on_moved
        self.stopping = False  # set on shutdown: the rest of a batch goes back untried
        self.clock = clock or Clock()
        self.epoch = 0  # the sender epoch this process claims with (`begin`)
        self._older_after = 0.0  # monotonic time from which older processes' claims go back
        self._owed: dict[
            int, tuple[Delivery, Result, str | None, list[str]]
        ] = {}  # sent, unrecorded
        self._doubts: dict[int, list[dt.datetime]] = {}  # chat id -> its doubtful failures
        self._one_batch = asyncio.Lock()  # held by the running batch: see `send_due`
        self._window = 1  # the last window used, logged when it changes
        self.window_cap = WINDOW_CAP  # messages in flight at most, whatever the round trip

    @property
    def window(self) -> int:
        """Messages to have in flight now: as many as the most demanding channel needs."""
        window = max(
            (
                send_window(c.rate, c.round_trip.seconds, self.window_cap)
                for c in self.channels.values()
            ),
            default=1,
        )
        if window != self._window:
            trips = ", ".join(f"{c.round_trip.seconds * 1000:.0f}" for c in self.channels.values())
            log.info("send window %d (was %d): round trip %s ms", window, self._window, trips)
            self._window = window
        return window

    def begin(self, epoch: int) -> None:
        """Send as `epoch` (`outbox.take_epoch`), which fences out every earlier process: what
        they claimed goes back after `CLAIM_GRACE`, once a live one has recorded what it sent."""
        self.epoch = epoch
        self._older_after = time.monotonic() + CLAIM_GRACE

    @property
    def owes_records(self) -> bool:
        """Whether sent messages wait for their record (the next look should come soon)."""
        return bool(self._owed)

    async def send_due(self, ids: Collection[int] | None = None) -> Counter[str]:
        """Send every pending row that is due (only `ids` when given); count the outcomes.

        At most `window` messages are in flight: a process killed mid-send can only have sent
        that many messages it did not record, so a restart repeats at most those. Rows take
        turns across chats (each chat's first, then each chat's second…), so a group's own
        limit holds up its next message, not everyone's.

        One batch at a time: a call while another runs (a caller beside the sender's look)
        waits for it to end. Both would claim under this process's one epoch, which the fence
        cannot tell apart, and a batch starts by giving back its epoch's claims as stuck: taken
        from a batch that had just claimed them, a row was claimed again and could go out twice.
        """
        async with self._one_batch:
            await self._settle()
            await self.db.still_ours()  # a process that lost the instance lock claims nothing
            async with self.db.session() as session, session.begin():
                now = self.clock.now()
                rows = await claim_due(session, now, ids, self.campaign_key, self.epoch)
            try:
                return await self._send(rows)
            except Exception:  # e.g. the database went away mid-batch: give back what is unsent
                with contextlib.suppress(Exception):
                    await self._postpone(rows, self.clock.now())
                raise

    async def _send(self, rows: list[Delivery]) -> Counter[str]:
        rows, late, night = self._worth_sending(rows)
        counts: Counter[str] = Counter({DeliveryStatus.MISSED: len(late)})
        for row, why in late:
            await self._record(row, Result(DeliveryStatus.MISSED, why), None)
        if night:
            await self._postpone(night, self._quiet_end())
            counts[DeliveryStatus.PENDING] += len(night)
        waiting: dict[int, dt.datetime] = {}  # chats told to wait, until when
        flying: dict[int, asyncio.Task[Result]] = {}  # chat id -> its message in flight

        async def land() -> None:
            """Wait for one or more messages in flight to be sent and recorded."""
            done, _ = await asyncio.wait(flying.values(), return_when=asyncio.FIRST_COMPLETED)
            for chat_id, task in list(flying.items()):
                if task in done:
                    del flying[chat_id]
                    result = task.result()
                    counts[result.status] += 1
                    if result.retry_in is not None:
                        waiting[chat_id] = self.clock.later(result.retry_in)

        try:
            for row in interleaved(rows):
                # room in the window, and the chat's previous message done (its order, its pace)
                while row.chat_id in flying or len(flying) >= self.window:
                    await land()
                if self.stopping:
                    await self._postpone([row], row.due_at)
                    counts[DeliveryStatus.PENDING] += 1
                elif row.chat_id in waiting:  # keep the chat's order: its later rows wait too
                    await self._postpone([row], waiting[row.chat_id])
                    counts[DeliveryStatus.PENDING] += 1
                else:
                    flying[row.chat_id] = asyncio.create_task(self._one(row))
            while flying:
                await land()
        finally:  # whatever went wrong, what is in flight is recorded before the batch ends
            await asyncio.gather(*flying.values(), return_exceptions=True)
        return counts

    async def _one(self, row: Delivery) -> Result:
        """Send one row and record it; an unexpected error gives it back (it is not lost)."""
        try:
            return await self._deliver(row)
        except Exception as exc:  # the database or a bug: give the row back, not lose it
            log.exception("delivery %s failed unexpectedly; it goes back", row.id)
            pause = BUSY_PAUSE if is_transient(exc) else ERROR_PAUSE
            await self._postpone([row], self.clock.later(pause))
            return Result(DeliveryStatus.PENDING, retry_in=pause)

    def _worth_sending(
        self, rows: list[Delivery]
    ) -> tuple[list[Delivery], list[tuple[Delivery, str]], list[Delivery]]:
        """Sort out rows that fell due while the bot was down or asleep: (to send now, missed
        with why, to hold until the quiet hours end).

        Rows past their use are missed; of several reminders of one deadline for one chat only
        the newest goes; in quiet hours the campaign's own messages wait for the morning if they
        are still useful then (a coordinator's announcement goes when they asked).
        """
        now = self.clock.now()
        late = [(r, "no longer useful") for r in rows if r.expires_at and now > r.expires_at]
        newest: dict[tuple[int, DeadlineRef | str], Delivery] = {}
        for row in rows:
            if row.kind == Kind.DEADLINE_REMINDER and not (row.expires_at and now > row.expires_at):
                deadline = (row.chat_id, _reminded(row))
                if deadline in newest:
                    late.append((min(newest[deadline], row, key=_due), "a later reminder went"))
                newest[deadline] = max(newest.get(deadline, row), row, key=_due)
        dropped = {row.id for row, _ in late}
        night: list[Delivery] = []
        if self.campaign.reminders.quiet_hours.contains(now.astimezone(self.campaign.tz).time()):
            morning = self._quiet_end()
            for row in rows:
                if row.id in dropped or row.payload is not None:
                    continue
                if row.expires_at and row.expires_at <= morning:
                    late.append((row, "no longer useful after the quiet hours"))
                else:
                    night.append(row)
                dropped.add(row.id)
        return [row for row in rows if row.id not in dropped], late, night

    def _quiet_end(self) -> dt.datetime:
        """When the current (or next) quiet hours end."""
        tz = self.campaign.tz
        now = self.clock.now().astimezone(tz)
        end = dt.datetime.combine(now.date(), self.campaign.reminders.quiet_hours.end, tz)
        return end if end > now else end + dt.timedelta(days=1)

    async def _deliver(self, row: Delivery) -> Result:
        async with self.db.session() as session:
            chat = await session.get(Chat, row.chat_id)
            unit = await session.get(Unit, row.unit_id) if row.unit_id is not None else None
            asked = self._asks(row, unit)
            known = (  # asked is [] without a unit
                await answers.values(session, self.campaign_key, unit.id)
                if asked and unit is not None
                else {}
            )
            # no newer sender took the row back (fenced: `outbox.sendable_by`)
            fenced = select(Delivery.id).where(Delivery.id == row.id, sendable_by(self.epoch))
            claimed = await session.scalar(fenced) is not None
        assert chat is not None  # rows are deleted with their chat
        missing = [r for r in asked if r.code not in known]
        text = None
        if asked and not missing:
            result = Result(DeliveryStatus.CANCELLED, "the unit has answered what it asks for")
        else:
            link = await self._link(row, unit) if missing and unit is not None else None
            try:
                text = self.text(row, unit, missing, link)
            except Exception as exc:  # a template the office edited badly: this row only
                log.exception("delivery %s: cannot render %s", row.id, row.kind)
                result = Result(DeliveryStatus.FAILED, f"render: {exc}")
            else:
                if not claimed or self.db.lost.is_set():
                    log.warning("delivery %s: no longer claimed by this process; not sent", row.id)
                    return Result(DeliveryStatus.SENDING, "claim lost")
                attempt = await self._unless_lost(self._attempt(row, chat, text))
                if attempt is None:
                    log.warning("delivery %s: instance lock lost mid-send; not recorded", row.id)
                    return Result(DeliveryStatus.SENDING, "instance lock lost")
                result = attempt
        prompt = [r.code for r in asked] if row.kind == Kind.DATA_PROMPT else []
        if result.status is DeliveryStatus.SENT:
            await self._record_sent(row, result, text, prompt)
        else:
            await self._record(row, result, text, prompt)
        if result.unreachable:
            await self.on_unreachable(chat, unit)
        return result

    async def _unless_lost(self, work: Awaitable[Result]) -> Result | None:
        """`work`'s result, or None when the instance lock is lost first: then `work` is
        cancelled, so that a message still waiting for its slot never leaves (one already on
        its way stays claimed, unrecorded, like one a kill interrupted)."""
        task = asyncio.ensure_future(work)
        lost = asyncio.ensure_future(self.db.lost.wait())
        try:
            await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        return None if task.cancelled() else task.result()

    async def _record_sent(
        self, row: Delivery, result: Result, text: str | None, prompt: list[str]
    ) -> None:
        """Record a message that went out; when the database will not take it now, keep it owed
        (still claimed, never back to pending) and try again at the next look."""
        for tries in range(RECORD_TRIES):
            try:
                await self._record(row, result, text, prompt)
                self._owed.pop(row.id, None)
                return
            except Exception:
                if tries + 1 == RECORD_TRIES:
                    log.exception("delivery %s was sent but not recorded yet; kept", row.id)
                    self._owed[row.id] = (row, result, text, prompt)
                    return
                await asyncio.sleep(0.25 * 2**tries)

    async def _settle(self) -> None:
        """Before a look: record what was sent but not recorded, then give back the claims no
        batch is sending any more: this process's (a batch the database failed in the middle
        of; none is running, `send_due` runs one at a time), and after `CLAIM_GRACE` those of
        the processes before it."""
        for row, result, text, prompt in list(self._owed.values()):
            with contextlib.suppress(Exception):  # still failing: kept for the next look
                await self._record(row, result, text, prompt)
                del self._owed[row.id]
        older = time.monotonic() >= self._older_after
        async with self.db.session() as session, session.begin():
            released = await release_stuck(session, self.epoch, self._owed.keys(), older)
        if released:
            log.warning("outbox: %d stuck claims given back", released)

    async def _attempt(
        self, row: Delivery, chat: Chat, text: str | None, moved: bool = False
    ) -> Result:
        channel = self.channels.get(chat.platform)
        if text is None:
            return Result(DeliveryStatus.CANCELLED, "no longer in the campaign")
        if not chat.active or channel is None:
            return Result(DeliveryStatus.FAILED, "chat inactive or platform not served")
        try:
            message_id = await channel.send(chat.external_id, text)
        except ChatAddressChanged as exc:
            if moved:  # moved twice in a row: something is wrong, try again later
                return Result(DeliveryStatus.PENDING, str(exc), retry_in=BACKOFF_CAP)
            await self.on_moved(chat.platform, chat.external_id, exc.new_chat_id)
            async with self.db.session() as session:
                now_at = await session.get(Chat, chat.id)
            if now_at is None or not now_at.active or now_at.external_id != exc.new_chat_id:
                # the new chat was already registered on its own: its own rows serve it
                return Result(DeliveryStatus.CANCELLED, "the chat moved into another one")
            return await self._attempt(row, now_at, text, moved=True)
        except SendError as exc:
            return self._failed(row, chat, exc)
        self._doubts.pop(chat.id, None)
        return Result(DeliveryStatus.SENT, message_id=message_id)

    def _failed(self, row: Delivery, chat: Chat, error: SendError) -> Result:
        """What a send error means for the row, by its `fault`: the one policy of every send."""
        if error.fault is Fault.GONE or (
            error.fault is Fault.DOUBTFUL and self._given_up(chat, error)
        ):
            self._doubts.pop(chat.id, None)
            return Result(DeliveryStatus.FAILED, f"unreachable: {error}", unreachable=True)
        wait = retry_in(error, row.attempts, BACKOFF_FIRST, BACKOFF_CAP)
        if wait is None:
            return Result(DeliveryStatus.FAILED, str(error))
        if error.fault is Fault.WAIT:  # the platform's own pacing: never gives up
            return Result(DeliveryStatus.PENDING, str(error), retry_in=wait)
        useless = row.expires_at is not None and self.clock.later(wait) > row.expires_at
        if useless or (row.expires_at is None and row.attempts + 1 >= MAX_ATTEMPTS):
            return Result(DeliveryStatus.FAILED, f"gave up: {error}")
        return Result(DeliveryStatus.PENDING, str(error), retry_in=wait)

    def _given_up(self, chat: Chat, error: SendError) -> bool:
        """Count a doubtful failure of the chat; true once they are enough, over long enough."""
        failures = self._doubts.setdefault(chat.id, [])
        failures.append(self.clock.now())
        return len(failures) >= DOUBTS_TO_GIVE_UP and failures[-1] - failures[0] >= DOUBT_SPAN

    def text(
        self,
        row: Delivery,
        unit: Unit | None,
        missing: Sequence[FormRow] = (),
        link: str | None = None,
    ) -> str | None:
        """The row's message for its unit, from the campaign as it is now (None: gone from it);
        `missing`: the figures it asks for that the unit has not given yet; `link`: the unit's
        form on the web, for the form's first message and the reminders."""
        if (announcement := row.announcement) is not None:
            core_unit = as_core(unit) if unit is not None else None
            return render(
                Kind.ANNOUNCEMENT, campaign=self.campaign, unit=core_unit, text=announcement.text
            )
        delivery = self._planned(row, unit)
        if delivery is None:
            return None
        return render_delivery(self._as_of_now(delivery, missing), self.campaign, form_link=link)

    async def _link(self, row: Delivery, unit: Unit) -> str | None:
        """The unit's form link for a reminder or the form's first message; None for other
        messages, when the web is off, or when no link can be had now (sent without)."""
        if self.form_link is None or row.payload is not None:
            return None
        if row.kind == Kind.DATA_PROMPT:  # its reference: "<deadline>:<section code>"
            form = self.campaign.form
            first = form.sections[0].code if form and form.sections else None
            if row.reference.rpartition(":")[2] != first:
                return None
        elif row.kind != Kind.DEADLINE_REMINDER:
            return None
        try:
            return await self.form_link(unit)
        except Exception:  # the message matters more than its link
            log.exception("delivery %s: no form link", row.id)
            return None

    def _planned(self, row: Delivery, unit: Unit | None) -> TimelineDelivery | None:
        """The campaign's delivery the row stands for, as the campaign file says it now."""
        core_unit = as_core(unit) if unit is not None else None
        for delivery in timeline(self.campaign, [core_unit] if core_unit else None):
            if (delivery.kind, delivery.reference) == (row.kind, row.reference):
                return delivery
        return None

    def _asks(self, row: Delivery, unit: Unit | None) -> list[FormRow]:
        """The form rows the row asks its unit for; [] when it asks for none."""
        if self.campaign.form is None or unit is None or row.payload is not None:
            return []
        if row.kind not in (Kind.DATA_PROMPT, Kind.DEADLINE_REMINDER):
            return []
        delivery = self._planned(row, unit)
        return form_rows(delivery, self.campaign) if delivery else []

    def _as_of_now(
        self, delivery: TimelineDelivery, missing: Sequence[FormRow]
    ) -> TimelineDelivery:
        """A reminder sent late says how many days are really left, and a report reminder which
        figures are still missing."""
        context = delivery.context
        if not isinstance(context, ReminderContext):
            return delivery
        today = self.clock.now().astimezone(self.campaign.tz).date()
        left = max((context.deadline.last_day() - today).days, 0)
        return replace(delivery, context=replace(context, days=left, missing=missing))

    async def _record(
        self, row: Delivery, result: Result, text: str | None, prompt: list[str] | None = None
    ) -> None:
        """Store the outcome, if this process's claim on the row still holds; a sent part of
        the form becomes a prompt for its `prompt` rows."""
        values: dict[str, Any] = {
            "status": result.status,
            "attempts": Delivery.attempts + 1,
            "last_error": clean_text(result.error) if result.error else None,
        }
        if result.status is DeliveryStatus.SENT:
            # what a database cannot store is cleaned the same on both: never a reason to resend
            values |= {"text": clean_text(text) if text else text, "sent_at": self.clock.now()}
            values["message_id"] = result.message_id
        if result.retry_in is not None:
            values["due_at"] = self.clock.later(result.retry_in)
        async with self.db.session() as session, session.begin():
            stored = await rowcount(
                session,
                update(Delivery)
                .where(Delivery.id == row.id, held_by(self.epoch))
                .values(values)
                .execution_options(synchronize_session=False),
            )
            if not stored:
                log.warning("delivery %s: claimed by a newer sender; outcome not recorded", row.id)
                return
            sent = result.status is DeliveryStatus.SENT and result.message_id
            if sent and prompt and row.unit_id is not None:
                answers.asked(
                    session,
                    self.campaign_key,
                    row.chat_id,
                    row.unit_id,
                    str(result.message_id),
                    PromptKind.SECTION,
                    prompt,
                )
            outcome = "retry" if result.status is DeliveryStatus.PENDING else str(result.status)
            detail = clean_text(result.error) if result.error else None
            session.add(DeliveryAttempt(delivery_id=row.id, outcome=outcome, detail=detail))
        log.info(
            "delivery %s %s -> chat %s: %s%s",
            row.id,
            row.kind,
            row.chat_id,
            result.status,
            f" ({result.error})" if result.error else "",
        )

    async def _postpone(self, rows: list[Delivery], until: dt.datetime) -> None:
        """Put rows back untried, due no sooner than `until`, keeping their order (those this
        process still holds: a newer sender's claims are not ours to give back)."""
        if not rows:
            return
        async with self.db.session() as session, session.begin():
            for row in rows:
                query = update(Delivery).where(Delivery.id == row.id, held_by(self.epoch))
                await session.execute(
                    query.values(status=DeliveryStatus.PENDING, due_at=max(row.due_at, until))
                )


def interleaved(rows: list[Delivery]) -> list[Delivery]:
    """Oldest due first; rows due together take turns across chats, each chat's in order."""
    turn: Counter[int] = Counter()
    keyed = []
    for row in sorted(rows, key=lambda r: (r.due_at, r.id)):
        keyed.append((row.due_at, turn[row.chat_id], row.id, row))
        turn[row.chat_id] += 1
    return [row for *_, row in sorted(keyed, key=lambda k: k[:3])]


def _reminded(row: Delivery) -> DeadlineRef | str:
    """The deadline a reminder row is about (a reference of another shape stands for itself:
    it is no reminder this code planned)."""
    try:
        return ReminderRef.parse(row.reference).deadline
    except ValueError:
        return row.reference


def _due(row: Delivery) -> tuple[dt.datetime, int]:
    return (row.due_at, row.id)
