"""Send what is due: claim rows, render each for its unit, send through the chat's channel.

Chats are served in parallel, each chat's rows one after another in their planned order (the
eleven parts of a form must arrive as 1, 2, … 11). Every attempt is recorded. A chat that is gone
(403, not found) fails its rows and is reported through `on_unreachable`; a 429 or a network
error puts the row, and the rest of that chat's batch, back for later.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import update

from bot.campaign.model import Campaign
from bot.campaign.timeline import Kind, timeline
from bot.channels.base import Channel, ChatUnreachable, RetryLater, SendError, TemporaryFailure
from bot.delivery.clock import Clock
from bot.delivery.outbox import as_core, claim_due
from bot.messages import render, render_delivery
from bot.store.db import Database
from bot.store.models import Chat, Delivery, DeliveryAttempt, DeliveryStatus, Unit

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # network errors and 5xx; a 429 never gives a row up
BACKOFF_CAP = 300.0  # seconds

Unreachable = Callable[[Chat, Unit | None], Awaitable[None]]


@dataclass(frozen=True)
class Result:
    status: DeliveryStatus
    error: str | None = None
    message_id: str | None = None
    retry_in: float | None = None  # seconds of real time, when back to pending
    unreachable: bool = False


class Dispatcher:
    def __init__(
        self,
        db: Database,
        campaign: Campaign,
        channels: Mapping[str, Channel],
        on_unreachable: Unreachable,
        clock: Clock | None = None,
        concurrency: int = 32,
    ) -> None:
        self.db = db
        self.campaign = campaign
        self.channels = channels
        self.on_unreachable = on_unreachable
        self.clock = clock or Clock()
        self._slots = asyncio.Semaphore(concurrency)  # chats served at once

    async def send_due(self, ids: Collection[int] | None = None) -> Counter[str]:
        """Send every pending row that is due (only `ids` when given); count the outcomes."""
        async with self.db.session() as session, session.begin():
            rows = await claim_due(session, self.clock.now(), ids)
        by_chat: dict[int, list[Delivery]] = {}
        for row in rows:
            by_chat.setdefault(row.chat_id, []).append(row)
        counts: Counter[str] = Counter()
        for outcome in await asyncio.gather(*(self._send_chat(r) for r in by_chat.values())):
            counts.update(outcome)
        return counts

    async def _send_chat(self, rows: list[Delivery]) -> Counter[str]:
        async with self._slots:
            async with self.db.session() as session:
                chat = await session.get(Chat, rows[0].chat_id)
                units = {row.unit_id: await session.get(Unit, row.unit_id) for row in rows}
            assert chat is not None  # rows are deleted with their chat
            counts: Counter[str] = Counter()
            for index, row in enumerate(rows):
                unit = units[row.unit_id]
                text = self.text(row, unit)
                result = await self._attempt(row, chat, text)
                await self._record(row, result, text)
                counts[result.status] += 1
                if result.unreachable:
                    chat.active = False  # the rest of the batch fails without trying
                    await self.on_unreachable(chat, unit)
                if result.retry_in is not None:
                    rest = rows[index + 1 :]
                    await self._postpone(rest, self.clock.later(result.retry_in))
                    counts[DeliveryStatus.PENDING] += len(rest)
                    break
            return counts

    async def _attempt(self, row: Delivery, chat: Chat, text: str | None) -> Result:
        channel = self.channels.get(chat.platform)
        if text is None:
            return Result(DeliveryStatus.CANCELLED, "no longer in the campaign")
        if not chat.active or channel is None:
            return Result(DeliveryStatus.FAILED, "chat inactive or platform not served")
        try:
            message_id = await channel.send(chat.external_id, text)
        except ChatUnreachable as exc:
            return Result(DeliveryStatus.FAILED, f"unreachable: {exc}", unreachable=True)
        except RetryLater as exc:
            return Result(DeliveryStatus.PENDING, str(exc), retry_in=exc.retry_after)
        except TemporaryFailure as exc:
            if row.attempts + 1 >= MAX_ATTEMPTS:
                return Result(DeliveryStatus.FAILED, f"gave up: {exc}")
            backoff = min(2.0**row.attempts, BACKOFF_CAP)
            return Result(DeliveryStatus.PENDING, str(exc), retry_in=backoff)
        except SendError as exc:
            return Result(DeliveryStatus.FAILED, str(exc))
        return Result(DeliveryStatus.SENT, message_id=message_id)

    def text(self, row: Delivery, unit: Unit | None) -> str | None:
        """The row's message for its unit, from the campaign as it is now (None: gone from it)."""
        core_unit = as_core(unit) if unit is not None else None
        if row.payload and "text" in row.payload:
            return render(Kind.ANNOUNCEMENT, campaign=self.campaign, unit=core_unit, **row.payload)
        planned = timeline(self.campaign, [core_unit] if core_unit else None)
        for delivery in planned:
            if (delivery.kind, delivery.reference) == (row.kind, row.reference):
                return render_delivery(delivery, self.campaign)
        return None

    async def _record(self, row: Delivery, result: Result, text: str | None) -> None:
        async with self.db.session() as session, session.begin():
            stored = await session.get(Delivery, row.id)
            assert stored is not None
            stored.status = result.status
            stored.attempts += 1
            stored.last_error = result.error
            if result.status is DeliveryStatus.SENT:
                stored.text, stored.message_id = text, result.message_id
                stored.sent_at = self.clock.now()
            if result.retry_in is not None:
                stored.due_at = self.clock.later(result.retry_in)
            outcome = "retry" if result.status is DeliveryStatus.PENDING else str(result.status)
            session.add(DeliveryAttempt(delivery_id=row.id, outcome=outcome, detail=result.error))
        log.info(
            "delivery %s %s -> chat %s: %s%s",
            row.id,
            row.kind,
            row.chat_id,
            result.status,
            f" ({result.error})" if result.error else "",
        )

    async def _postpone(self, rows: list[Delivery], until: dt.datetime) -> None:
        """Put claimed rows back untried, due no sooner than `until`, keeping their order."""
        if not rows:
            return
        async with self.db.session() as session, session.begin():
            for row in rows:
                await session.execute(
                    update(Delivery)
                    .where(Delivery.id == row.id)
                    .values(status=DeliveryStatus.PENDING, due_at=max(row.due_at, until))
                )
