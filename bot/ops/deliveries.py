"""The outbox as a coordinator sees it: every delivery with its chat's status and why, and a
failed one tried again."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from bot.campaign.scope import EVERYTHING, Scope
from bot.ops.env import Env
from bot.ops.scoping import kept, unit_ids
from bot.store import audit
from bot.store.models import Chat, Delivery, DeliveryStatus, Unit

PAGE = 200  # rows a page shows; a province's timeline runs to tens of thousands


@dataclass(frozen=True)
class Line:
    """One delivery to one chat."""

    id: int
    kind: str
    due_at: dt.datetime
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    sent_at: dt.datetime | None
    platform: str
    chat_kind: str
    chat_title: str | None
    chat_active: bool
    unit_code: str | None
    unit_name: str | None


@dataclass(frozen=True)
class Timeline:
    lines: list[Line]
    total: int  # of the lines the filter keeps, beyond this page
    counts: dict[DeliveryStatus, int]  # every status, whatever the filter


async def timeline(
    env: Env,
    status: DeliveryStatus | None = None,
    offset: int = 0,
    limit: int = PAGE,
    scope: Scope = EVERYTHING,
) -> Timeline:
    """The campaign's deliveries to the units of `scope` in time order; `status` keeps only
    those."""
    unit = aliased(Unit)
    async with env.db.session() as session:
        mine = [Delivery.campaign == env.campaign_key]
        mine += kept(Delivery.unit_id, await unit_ids(session, scope))
        wanted = (*mine, Delivery.status == status) if status else tuple(mine)
        query = (
            select(Delivery, Chat, unit)
            .join(Chat, Delivery.chat_id == Chat.id)
            .outerjoin(unit, Delivery.unit_id == unit.id)
            .where(*wanted)
            .order_by(Delivery.due_at, Delivery.id)
            .offset(offset)
            .limit(limit)
        )
        rows = (await session.execute(query)).all()
        total = await session.scalar(select(func.count()).select_from(Delivery).where(*wanted))
        counted = await session.execute(
            select(Delivery.status, func.count()).where(*mine).group_by(Delivery.status)
        )
    counts = {s: 0 for s in DeliveryStatus} | {DeliveryStatus(s): n for s, n in counted}
    return Timeline([_line(d, c, u) for d, c, u in rows], total or 0, counts)


def _line(delivery: Delivery, chat: Chat, unit: Unit | None) -> Line:
    return Line(
        delivery.id,
        delivery.kind,
        delivery.due_at,
        DeliveryStatus(delivery.status),
        delivery.attempts,
        delivery.last_error,
        delivery.sent_at,
        chat.platform,
        chat.kind,
        chat.title,
        chat.active,
        unit.code if unit else None,
        unit.name if unit else None,
    )


class Retry(StrEnum):
    QUEUED = "queued"
    NOT_FAILED = "not_failed"  # sent, pending or cancelled: nothing to try again
    CHAT_GONE = "chat_gone"  # the bot cannot write there; registering the chat again can
    TOO_LATE = "too_late"  # past the time it was useful (a reminder after its deadline)
    UNKNOWN = "unknown"


async def retry(env: Env, delivery_id: int, actor: str, scope: Scope = EVERYTHING) -> Retry:
    """Send a failed delivery again, now. Only a failed one: a sent message is never sent again;
    only one to a unit of `scope` (another reads as unknown)."""
    async with env.db.session() as session, session.begin():
        found = await session.get(Delivery, delivery_id)
        if found is None or found.campaign != env.campaign_key:
            return Retry.UNKNOWN
        owner = await session.get(Unit, found.unit_id) if found.unit_id is not None else None
        if not scope.everything and (owner is None or not scope.covers(owner.parent)):
            return Retry.UNKNOWN
        chat = await session.get(Chat, found.chat_id)
        if found.status != DeliveryStatus.FAILED:
            return Retry.NOT_FAILED
        if chat is None or not chat.active:
            return Retry.CHAT_GONE
        if found.expires_at is not None and found.expires_at <= env.clock.now():
            return Retry.TOO_LATE
        queued = await session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.FAILED)
            .values(status=DeliveryStatus.PENDING, due_at=env.clock.now(), claim=None)
        )
        if queued.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
            return Retry.NOT_FAILED
        audit.record(session, actor, "delivery_retried", chat, delivery=delivery_id)
    env.wake()
    return Retry.QUEUED


async def problems_since(
    env: Env, since: dt.datetime, scope: Scope = EVERYTHING
) -> dict[DeliveryStatus, int]:
    """Deliveries failed or missed that were due since `since` (the overview's last day)."""
    async with env.db.session() as session:
        ids = await unit_ids(session, scope)
        rows = await session.execute(
            select(Delivery.status, func.count())
            .where(
                *kept(Delivery.unit_id, ids),
                Delivery.campaign == env.campaign_key,
                Delivery.due_at >= since,
                Delivery.status.in_([DeliveryStatus.FAILED, DeliveryStatus.MISSED]),
            )
            .group_by(Delivery.status)
        )
    found = {DeliveryStatus.FAILED: 0, DeliveryStatus.MISSED: 0}
    found.update({DeliveryStatus(s): n for s, n in rows})
    return found
