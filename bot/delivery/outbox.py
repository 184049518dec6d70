"""The outbox: the campaign's timeline and coordinators' broadcasts as one row per chat.

Every row has an idempotency key, so planning again (at start, when a unit registers late) only
adds what is missing; claiming flips rows to `sending` so a row goes out once.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, Table, and_, false, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.campaign import units as core
from bot.campaign.model import Campaign
from bot.campaign.scope import EVERYTHING, Scope
from bot.campaign.timeline import Delivery as TimelineDelivery
from bot.campaign.timeline import Kind, timeline, useful_until
from bot.channels.base import clean_text
from bot.store.chats import UnitChat, active_unit_chats
from bot.store.models import Chat, Delivery, DeliveryStatus, SenderEpoch, Unit
from bot.store.payloads import Announcement
from bot.store.rows import rowcount

log = logging.getLogger(__name__)


def delivery_key(campaign: str, kind: str, reference: str, chat: Chat) -> str:
    return f"{campaign}:{kind}:{reference}:{chat.id}"


def as_core(unit: Unit) -> core.Unit:
    """The stored unit as the pure core knows it."""
    return core.Unit(unit.code, unit.name, unit.type, unit.parent)


# Rows written or read per statement when planning many chats: under SQLite's 32,766 bound
# parameters for an insert of 7 columns, and a few round trips for a province's 120,000 rows.
CHUNK = 4_000
TABLE = cast(Table, Delivery.__table__)


async def plan_chat(
    session: AsyncSession, campaign_key: str, campaign: Campaign, target: UnitChat, now: dt.datetime
) -> int:
    """Bring the chat's rows in line with the campaign as it is now; count the changes.

    Deliveries still ahead are added (a late unit still gets the next ceremony notice, and the
    form while the report is not yet due), pending
    rows follow moved dates, cancelled rows come back for a chat that came back, and pending rows
    the campaign no longer has are cancelled, never deleted.
    """
    return await _plan_chats(session, campaign_key, campaign, [target], now, only=target.chat.id)


@dataclass(frozen=True)
class _Stored:
    """What planning needs of a row already in the outbox (not the ORM object: a province has
    120,000 of them, and a restart reads them all)."""

    id: int
    status: str
    due_at: dt.datetime
    expires_at: dt.datetime | None


async def _plan_chats(
    session: AsyncSession,
    campaign_key: str,
    campaign: Campaign,
    targets: list[UnitChat],
    now: dt.datetime,
    only: int | None = None,
) -> int:
    """`plan_chat` for every target, with a fixed number of queries whatever their count: the
    campaign's rows read at once (of the chat `only`, or all), new rows inserted in bulk, and
    only the rows that change loaded as objects."""
    stored = await _stored_rows(session, campaign_key, only)
    # What a chat is sent depends on its unit's type alone (`timeline` repeats the campaign's
    # deliveries for every unit of their audience): worked out once per type, not per chat.
    by_type: dict[str, list[tuple[TimelineDelivery, dt.datetime]]] = {}
    new: list[dict[str, Any]] = []
    changes: dict[int, dict[str, Any]] = {}  # row id -> the columns that change
    for target in targets:
        unit = target.unit
        if unit.type not in by_type:
            by_type[unit.type] = [
                (d, useful_until(d, campaign)) for d in timeline(campaign, [as_core(unit)])
            ]
        planned = {
            delivery_key(campaign_key, d.kind, d.reference, target.chat): (d, expires)
            for d, expires in by_type[unit.type]
        }
        rows = stored.get(target.chat.id, {})
        for key, gone in rows.items():
            if key not in planned and gone.status == DeliveryStatus.PENDING:
                changes[gone.id] = {"status": DeliveryStatus.CANCELLED}
        for key, (d, expires) in planned.items():
            row = rows.get(key)
            if row is None:
                # a unit registering after the form went out still gets it while it can answer
                if d.at > now or (d.kind is Kind.DATA_PROMPT and expires > now):
                    new.append(_row(key, campaign_key, d, target, expires))
            elif row.status == DeliveryStatus.CANCELLED and d.at > now:  # the chat came back
                changes[row.id] = {
                    "status": DeliveryStatus.PENDING,
                    "unit_id": unit.id,
                    "due_at": d.at,
                    "expires_at": expires,
                }
            elif row.status == DeliveryStatus.PENDING and (row.due_at, row.expires_at) != (
                d.at,
                expires,
            ):  # the campaign file moved it
                changes[row.id] = {"due_at": d.at, "expires_at": expires}
    await _change(session, changes)
    joined = await _join_announcements(session, campaign_key, targets, now)
    for inserted in (new, joined):  # apart: an insert of many rows gives each the same columns
        for first in range(0, len(inserted), CHUNK):
            # the table's insert, not the ORM's: its bookkeeping per row is half the time
            await session.execute(TABLE.insert(), inserted[first : first + CHUNK])
    return len(changes) + len(new) + len(joined)


async def _stored_rows(
    session: AsyncSession, campaign_key: str, only: int | None
) -> dict[int, dict[str, _Stored]]:
    """The campaign's own rows (broadcasts are not the campaign's to re-plan), by chat and key."""
    query = select(
        Delivery.chat_id, Delivery.key, Delivery.id, Delivery.status, Delivery.due_at,
        Delivery.expires_at,
    ).where(Delivery.campaign == campaign_key, Delivery.payload.is_(None))  # fmt: skip
    if only is not None:
        query = query.where(Delivery.chat_id == only)
    stored: dict[int, dict[str, _Stored]] = {}
    for chat_id, key, row_id, status, due_at, expires_at in await session.execute(query):
        stored.setdefault(chat_id, {})[key] = _Stored(row_id, status, due_at, expires_at)
    return stored


async def _change(session: AsyncSession, changes: dict[int, dict[str, Any]]) -> None:
    """Apply the changes to their rows, loaded as objects (few: what the campaign file moved,
    the rows of chats that came back), so that a session holding them sees them."""
    ids = sorted(changes)
    for first in range(0, len(ids), CHUNK):
        chunk = ids[first : first + CHUNK]
        for row in await session.scalars(select(Delivery).where(Delivery.id.in_(chunk))):
            for column, value in changes[row.id].items():
                setattr(row, column, value)


async def _join_announcements(
    session: AsyncSession, campaign_key: str, targets: list[UnitChat], now: dt.datetime
) -> list[dict[str, Any]]:
    """A chat registered after a coordinator scheduled an announcement gets it too: its rows."""
    waiting = await session.scalars(
        select(Delivery)
        .where(
            Delivery.campaign == campaign_key,
            Delivery.payload.is_not(None),
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.due_at > now,
        )
        .order_by(Delivery.id)
    )
    first_of: dict[str, Delivery] = {}
    for row in waiting:
        first_of.setdefault(row.reference, row)
    if not first_of:
        return []
    taken = set(await session.scalars(select(Delivery.key).where(Delivery.reference.in_(first_of))))
    added = []
    for reference, row in first_of.items():
        announcement = row.announcement
        if announcement is None:  # a payload of another kind: no announcement to join
            continue
        for target in targets:
            key = delivery_key(campaign_key, Kind.ANNOUNCEMENT, reference, target.chat)
            if key in taken or (announcement.types and target.unit.type not in announcement.types):
                continue
            if not announcement.scope.covers(target.unit.parent):  # a commune's news stays there
                continue
            taken.add(key)
            added.append(
                {
                    "key": key,
                    "campaign": campaign_key,
                    "kind": Kind.ANNOUNCEMENT,
                    "reference": reference,
                    "chat_id": target.chat.id,
                    "unit_id": target.unit.id,
                    "due_at": row.due_at,
                    "expires_at": row.expires_at,
                    "payload": row.payload,
                }
            )
    return added


def _row(
    key: str, campaign_key: str, d: TimelineDelivery, target: UnitChat, expires: dt.datetime
) -> dict[str, Any]:
    return {
        "key": key,
        "campaign": campaign_key,
        "kind": d.kind,
        "reference": d.reference,
        "chat_id": target.chat.id,
        "unit_id": target.unit.id,
        "due_at": d.at,
        "expires_at": expires,
    }  # no payload: None would be stored as JSON's null, not NULL


async def plan(
    session: AsyncSession, campaign_key: str, campaign: Campaign, now: dt.datetime
) -> int:
    """Plan every registered active chat, after `cancel_stale`."""
    await cancel_stale(session, campaign_key)
    targets = await active_unit_chats(session)
    return await _plan_chats(session, campaign_key, campaign, targets, now)


async def cancel_stale(session: AsyncSession, campaign_key: str) -> int:
    """Cancel rows of another campaign key still waiting (the campaign file was renamed, or
    another campaign was served before): the timeline they came from is not the one served now."""
    stale = await rowcount(
        session,
        update(Delivery)
        .where(Delivery.campaign != campaign_key, Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED),
    )
    if stale:
        log.warning("outbox: %d rows of another campaign cancelled", stale)
    return stale


async def broadcast(
    session: AsyncSession,
    campaign_key: str,
    text: str,
    types: Collection[str],
    at: dt.datetime,
    tz: dt.tzinfo = dt.UTC,
    scope: Scope = EVERYTHING,
) -> list[Delivery]:
    """A coordinator's announcement: one row per active registered chat of `types` (or all) of
    the units of `scope`. Its text is cleaned here, at the door, of what no database stores
    alike (NUL)."""
    text = clean_text(text)
    reference = f"broadcast-{uuid.uuid4().hex[:12]}"
    payload = Announcement.by(scope, text, tuple(types)).to_json()
    rows = [
        Delivery(
            key=delivery_key(campaign_key, Kind.ANNOUNCEMENT, reference, target.chat),
            campaign=campaign_key,
            kind=Kind.ANNOUNCEMENT,
            reference=reference,
            chat_id=target.chat.id,
            unit_id=target.unit.id,
            due_at=at,
            expires_at=_end_of_day(at, tz),  # news of the day: stale tomorrow
            payload=payload,
        )
        for target in await active_unit_chats(session, types)
        if scope.covers(target.unit.parent)
    ]
    session.add_all(rows)
    await session.flush()
    return rows


def _end_of_day(at: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    day = at.astimezone(tz).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(), tz)


async def take_epoch(session: AsyncSession) -> int:
    """The next sender epoch, now the current one: what this process claims with from now on,
    and what fences out every process that sent before it."""
    taken = await session.scalar(
        update(SenderEpoch)
        .where(SenderEpoch.id == 1)
        .values(epoch=SenderEpoch.epoch + 1)
        .returning(SenderEpoch.epoch)
    )
    if taken is None:  # the row the migration made is gone: start the count again above any
        taken = (await session.scalar(select(func.max(Delivery.claim))) or 0) + 1
        session.add(SenderEpoch(id=1, epoch=taken))
        await session.flush()
    return taken


def _current(epoch: int) -> Any:
    """True while `epoch` is the current sender's: in the statement that claims or records
    (no row, as in a database emptied by hand, counts as epoch 0)."""
    current = select(SenderEpoch.epoch).where(SenderEpoch.id == 1).scalar_subquery()
    return func.coalesce(current, 0) == epoch


def held_by(epoch: int) -> Any:
    """The rows `epoch` claimed and nobody took back since: what it may record and give back
    (a sent message is recorded even after a newer sender started, before it takes it back)."""
    return and_(Delivery.status == DeliveryStatus.SENDING, Delivery.claim == epoch)


def sendable_by(epoch: int) -> Any:
    """The rows `epoch` claimed, while it is still the current sender: what it may send."""
    return and_(held_by(epoch), _current(epoch))


async def claim_due(
    session: AsyncSession,
    now: dt.datetime,
    ids: Collection[int] | None = None,
    campaign: str | None = None,
    epoch: int = 0,
) -> list[Delivery]:
    """Flip due pending rows (of `campaign`, when given) to `sending` under `epoch`, if it is
    still the current one; return them, oldest first."""
    query = select(Delivery.id).where(
        Delivery.status == DeliveryStatus.PENDING, Delivery.due_at <= now
    )
    if campaign is not None:
        query = query.where(Delivery.campaign == campaign)
    if ids is not None:
        query = query.where(Delivery.id.in_(ids))
    due = list(await session.scalars(query.order_by(Delivery.due_at, Delivery.id)))
    if not due:
        return []
    claimed = await session.scalars(
        update(Delivery)
        .where(Delivery.id.in_(due), Delivery.status == DeliveryStatus.PENDING, _current(epoch))
        .values(status=DeliveryStatus.SENDING, claim=epoch)
        .returning(Delivery)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed, key=lambda row: (row.due_at, row.id))


async def release_claims(session: AsyncSession) -> int:
    """Rows a previous process claimed but never finished go back to pending (at start only,
    after `take_epoch`: then nothing is being sent). Returns how many."""
    released = await rowcount(
        session,
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.PENDING),
    )
    return released


async def release_stuck(
    session: AsyncSession, epoch: int, keep: Collection[int] = (), older: bool = False
) -> int:
    """Claims no batch is sending any more go back to pending: this process's (the database
    failed in the middle of a batch), but for `keep` (sent, their record still owed), and with
    `older`, those of the processes before it (killed, or still recording what they sent)."""
    mine = and_(Delivery.claim == epoch, Delivery.id.not_in(keep) if keep else true())
    theirs = or_(Delivery.claim.is_(None), Delivery.claim != epoch) if older else false()
    released = await rowcount(
        session,
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.SENDING, or_(mine, theirs))
        .values(status=DeliveryStatus.PENDING)
        .execution_options(synchronize_session=False),
    )
    return released


async def claims_of_others(session: AsyncSession, epoch: int) -> int:
    """How many rows earlier processes claimed and did not finish."""
    query = select(func.count()).where(
        Delivery.status == DeliveryStatus.SENDING,
        or_(Delivery.claim.is_(None), Delivery.claim != epoch),
    )
    return await session.scalar(query) or 0


async def cancel_chat(session: AsyncSession, chat: Chat) -> None:
    """A chat that left its unit gets nothing more that was planned for it."""
    await session.execute(
        update(Delivery)
        .where(Delivery.chat_id == chat.id, Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED)
    )


async def next_due(
    session: AsyncSession, ids: Collection[int] | None = None, campaign: str | None = None
) -> dt.datetime | None:
    """When the next pending row (of `ids`, of `campaign`) falls due; None when nothing waits."""
    query = select(func.min(Delivery.due_at)).where(Delivery.status == DeliveryStatus.PENDING)
    if ids is not None:
        query = query.where(Delivery.id.in_(ids))
    if campaign is not None:
        query = query.where(Delivery.campaign == campaign)
    return await session.scalar(query)


async def outcome(session: AsyncSession, ids: Collection[int]) -> dict[str, int]:
    """How many of the rows are in each status."""
    rows = await session.execute(
        select(Delivery.status, func.count()).where(Delivery.id.in_(ids)).group_by(Delivery.status)
    )
    return {status: count for status, count in rows}


async def upcoming(
    session: AsyncSession, campaign: str, limit: int = 5, units: Select[int] | None = None
) -> list[tuple[dt.datetime, str, int]]:
    """The next moments something goes out: (when, kind, how many chats; those of `units`' ids
    when given)."""
    if units is not None:
        return await _upcoming_of(session, campaign, limit, units)
    waiting = (Delivery.status == DeliveryStatus.PENDING, Delivery.campaign == campaign)
    # the first moments first, read in the index's order: counting every pending row's group
    # (a province's 114,000) to keep five took 100 ms
    moments = select(Delivery.due_at).where(*waiting).distinct().order_by(Delivery.due_at)
    soon = list(await session.scalars(moments.limit(limit)))
    if not soon:
        return []
    rows = await session.execute(
        select(Delivery.due_at, Delivery.kind, func.count())
        .where(*waiting, Delivery.due_at.in_(soon))
        .group_by(Delivery.due_at, Delivery.kind)
        .order_by(Delivery.due_at, Delivery.kind)
        .limit(limit)
    )
    return [(due, kind, count) for due, kind, count in rows]


async def _upcoming_of(
    session: AsyncSession, campaign: str, limit: int, units: Select[int]
) -> list[tuple[dt.datetime, str, int]]:
    """`upcoming` of some units' chats: their rows read by unit (a commune's few thousand) and
    sorted here. Asked to group or order them, SQLite's planner (it has no statistics) walks
    the whole outbox in an index giving that order and keeps the commune's: 50-110 ms for what
    the index by unit reads in 1."""
    rows = await session.execute(
        select(Delivery.due_at, Delivery.kind, Delivery.status, func.count())
        .where(Delivery.campaign == campaign, Delivery.unit_id.in_(units))
        .group_by(Delivery.due_at, Delivery.kind, Delivery.status)
    )
    waiting = sorted(
        (due, kind, n) for due, kind, status, n in rows if status == DeliveryStatus.PENDING
    )
    soon = sorted({due for due, _, _ in waiting})[:limit]
    return [row for row in waiting if row[0] in soon][:limit]


@dataclass(frozen=True)
class Scheduled:
    """A coordinator's announcement waiting for its time; `number` is how they name it."""

    number: int
    at: dt.datetime
    chats: int
    text: str


async def scheduled_broadcasts(session: AsyncSession, scope: Scope = EVERYTHING) -> list[Scheduled]:
    """The announcements waiting, of coordinators whose units are all `scope`'s (a commune's
    coordinator does not see the province's)."""
    rows = await session.execute(
        select(Delivery.reference, func.min(Delivery.id), func.min(Delivery.due_at), func.count())
        .where(Delivery.status == DeliveryStatus.PENDING, Delivery.payload.is_not(None))
        .group_by(Delivery.reference)
        .order_by(func.min(Delivery.due_at))
    )
    found = []
    for _, first, at, count in rows:
        row = await session.get(Delivery, first)
        announcement = row.announcement if row is not None else None
        assert announcement is not None  # rows with a payload are announcements
        if announcement.scope <= scope:
            found.append(Scheduled(first, at, count, announcement.text))
    return found


async def cancel_broadcast(session: AsyncSession, number: int, scope: Scope = EVERYTHING) -> int:
    """Cancel the pending rows of the announcement `number` names, if a coordinator of `scope`
    may (its maker's units are all `scope`'s); how many were cancelled."""
    first = await session.get(Delivery, number)
    announcement = first.announcement if first is not None else None
    if first is None or announcement is None or not announcement.scope <= scope:
        return 0
    cancelled = await rowcount(
        session,
        update(Delivery)
        .where(Delivery.reference == first.reference, Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED),
    )
    return cancelled


async def statuses(
    session: AsyncSession, campaign_key: str, units: Select[int] | None = None
) -> dict[tuple[str, str], Counter[str]]:
    """How each delivery of the campaign went, over all its chats (those of `units`' ids when
    given): (kind, reference) -> counts."""
    found: dict[tuple[str, str], Counter[str]] = {}
    if units is not None:  # a commune's rows read by unit and counted here, as in `upcoming`
        rows = await session.execute(
            select(Delivery.kind, Delivery.reference, Delivery.status).where(
                Delivery.campaign == campaign_key, Delivery.unit_id.in_(units)
            )
        )
        for kind, reference, status in rows:
            found.setdefault((kind, reference), Counter())[status] += 1
        return found
    counted = await session.execute(
        select(Delivery.kind, Delivery.reference, Delivery.status, func.count())
        .where(Delivery.campaign == campaign_key)
        .group_by(Delivery.kind, Delivery.reference, Delivery.status)
    )
    for kind, reference, status, count in counted:
        found.setdefault((kind, reference), Counter())[status] += count
    return found
