"""The console's overview in counts: registration by unit type, figures complete/partial/silent,
deliveries by state, what goes out next and what went wrong lately.

Counted by the database (a province has 5,000 units): `bot.ops.progress.progress` loads every
unit and answer, which `/` and `/api/progress`, asked every minute, need not. Both give the same
`Totals` (tests/ops/test_overview.py compares them).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Subquery, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.campaign.calendar import Event, upcoming
from bot.campaign.scope import EVERYTHING, Scope
from bot.delivery import outbox
from bot.ops import deliveries
from bot.ops.env import Env
from bot.ops.progress import DELIVERY_STATES, DeliveryTotals, ParentCount, Totals
from bot.ops.scoping import Ids, kept, unit_ids
from bot.stats import table
from bot.store.models import Answer, Chat, Delivery, DeliveryStatus, Unit

RECENT = dt.timedelta(days=1)  # "lately": the failed and missed deliveries the overview shows
COMING = 5  # the next moments something goes out


@dataclass(frozen=True)
class TypeCount:
    """Units of one type (a campaign audience, or a type the campaign does not name)."""

    code: str
    name: str
    units: int
    registered: int  # with a chat Loa can write to


@dataclass(frozen=True)
class Coming:
    """A moment something goes out: when, what kind, to how many chats."""

    at: dt.datetime
    kind: str
    chats: int


@dataclass(frozen=True)
class Overview:
    totals: Totals
    by_type: list[TypeCount]  # the campaign's audiences in order, then other types by code
    coming: list[Coming]
    events: list[Event]  # the campaign's dated events still ahead
    problems: dict[DeliveryStatus, int]  # failed and missed, due since `since`
    since: dt.datetime
    items: int  # answerable items of the form; 0 without one
    by_parent: list[ParentCount] = field(default_factory=list)  # none when no unit names one


async def totals(env: Env, scope: Scope = EVERYTHING) -> Totals:
    """`/api/progress`: what `progress(env, scope).totals()` says, counted by the database."""
    async with env.db.session() as session:
        ids = await unit_ids(session, scope)
        types = await _by_type(session, ids)
        answered = await _answering(session, env, ids)
        return _totals(env, types, await _went(session, env, ids), answered)


async def overview(env: Env, scope: Scope = EVERYTHING) -> Overview:
    """Everything `/` shows, of the units of `scope`."""
    now = env.clock.now()
    since = now - RECENT
    # the outbox counted on a connection of its own meanwhile: the units' counts (a province's
    # 185,000 answers) and the outbox's (114,000 rows) take as long as the longer one
    outgoing = asyncio.create_task(_outgoing(env, scope, since))
    try:
        async with env.db.session() as session:
            ids = await unit_ids(session, scope)
            types = await _by_type(session, ids)
            counts = await _parent_counts(session, env, ids)
    finally:
        went, coming, problems = await outgoing
    answered = (  # the parents' sums: the answers are counted once for both
        sum(count[4] for count in counts.values()),
        sum(count[3] for count in counts.values()),
    )
    counted = _totals(env, types, went, answered)
    parents = _by_parent(counts, bool(_items(env)))
    campaign = env.campaign
    order = {audience.code: index for index, audience in enumerate(campaign.audiences)}
    known = dict(types)
    for audience in campaign.audiences:  # a type nobody has yet still shows, as 0/0
        known.setdefault(audience.code, (0, 0))
    by_type = [
        TypeCount(code, campaign.audience_name(code), units, reached)
        for code, (units, reached) in sorted(
            known.items(), key=lambda pair: (order.get(pair[0], len(order)), pair[0])
        )
    ]
    form = campaign.form
    return Overview(
        totals=counted,
        by_type=by_type,
        coming=[Coming(at, kind, chats) for at, kind, chats in coming],
        events=upcoming(campaign, None, now),
        problems=problems,
        since=since,
        items=len(table.answerable(form)) if form else 0,
        by_parent=parents,
    )


async def _outgoing(
    env: Env, scope: Scope, since: dt.datetime
) -> tuple[DeliveryTotals, list[tuple[dt.datetime, str, int]], dict[DeliveryStatus, int]]:
    """The outbox's side of the overview: deliveries by state, what goes out next, what went
    wrong since `since`."""
    async with env.db.session() as session:
        ids = await unit_ids(session, scope)
        went = await _went(session, env, ids)
        coming = await outbox.upcoming(session, env.campaign_key, COMING, ids)
    return went, coming, await deliveries.problems_since(env, since, scope)


async def _went(session: AsyncSession, env: Env, ids: Ids | None) -> DeliveryTotals:
    """The deliveries of the units of `ids` by state, as `/tiendo` counts them."""
    went = DeliveryTotals(sent=0, pending=0, failed=0, missed=0)
    counted = await session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.campaign == env.campaign_key, *kept(Delivery.unit_id, ids))
        .group_by(Delivery.status)
    )
    for status, count in counted:
        if status in DELIVERY_STATES:
            went[DELIVERY_STATES[DeliveryStatus(status)]] += count
    return went


async def _by_type(session: AsyncSession, ids: Ids | None) -> dict[str, tuple[int, int]]:
    """Unit type -> (units, units with an active registered chat)."""
    reached = (
        select(Chat.unit_id)
        .where(Chat.unit_id.is_not(None), Chat.active.is_(True))
        .distinct()
        .subquery()
    )
    rows = await session.execute(
        select(Unit.type, func.count(Unit.id), func.count(reached.c.unit_id))
        .outerjoin(reached, reached.c.unit_id == Unit.id)
        .where(*kept(Unit.id, ids))
        .group_by(Unit.type)
    )
    return {kind: (units, registered) for kind, units, registered in rows}


async def _parent_counts(
    session: AsyncSession, env: Env, ids: Ids | None
) -> dict[str | None, list[int]]:
    """Each parent's (None: no parent's) [first unit id, units, those reached, those complete,
    those answering]."""
    reached = (
        select(Chat.unit_id)
        .where(Chat.unit_id.is_not(None), Chat.active.is_(True))
        .distinct()
        .subquery()
    )
    items = _items(env)
    given = _answered(env, items, ids)  # a commune's answers read by unit, not all
    complete = case((given.c.given >= len(items), 1), else_=0) if items else 0
    rows = await session.execute(
        select(
            Unit.parent,
            func.min(Unit.id),
            func.count(Unit.id),
            func.count(reached.c.unit_id),
            func.coalesce(func.sum(complete), 0),
            func.count(given.c.unit_id),
        )
        .outerjoin(reached, reached.c.unit_id == Unit.id)
        .outerjoin(given, given.c.unit_id == Unit.id)
        .where(*kept(Unit.id, ids))
        .group_by(Unit.parent)
    )
    counts: dict[str | None, list[int]] = {}
    for parent, first, units, registered, done, answering in rows:
        key = (parent or "").strip() or None  # as `bot.campaign.units.by_parent` reads them
        known = counts.setdefault(key, [first, 0, 0, 0, 0])
        known[0] = min(known[0], first)
        for index, number in enumerate((units, registered, done, answering), 1):
            known[index] += int(number)
    return counts


def _by_parent(counts: dict[str | None, list[int]], form: bool) -> list[ParentCount]:
    """Each parent's units, those reached, complete and partial, as `Progress.by_parent` counts
    them (parents in the order their units were listed, those without one last); none when no
    unit names a parent."""
    if all(key is None for key in counts):
        return []
    ordered = sorted(counts.items(), key=lambda pair: (pair[0] is None, pair[1][0]))
    return [
        ParentCount(
            parent,
            units,
            registered,
            done if form else 0,
            answering - done if form else 0,
            units - answering if form else 0,
        )
        for parent, (_, units, registered, done, answering) in ordered
    ]


def _items(env: Env) -> list[str]:
    """The form's answerable items (none without a form)."""
    form = env.campaign.form
    return [row.code for row in table.answerable(form)] if form else []


async def _answering(session: AsyncSession, env: Env, ids: Ids | None) -> tuple[int, int]:
    """(units answering, units complete) of the units of `ids`; (0, 0) without a form."""
    items = _items(env)
    if not items:
        return 0, 0
    given = _answered(env, items, ids)
    complete = func.coalesce(func.sum(case((given.c.given >= len(items), 1), else_=0)), 0)
    row = (await session.execute(select(func.count(), complete).select_from(given))).one()
    return int(row[0]), int(row[1])


def _totals(
    env: Env, types: dict[str, tuple[int, int]], went: DeliveryTotals, answered: tuple[int, int]
) -> Totals:
    """The counts `/tiendo` gives, from the units by type, the deliveries by state and
    `answered`: (units answering, units complete)."""
    units = sum(count for count, _ in types.values())
    answering, complete = answered if env.campaign.form is not None else (0, 0)
    return {
        "units": units,
        "registered": sum(reached for _, reached in types.values()),
        "complete": complete,
        "partial": answering - complete,
        "silent": units - answering if env.campaign.form is not None else 0,
        "deliveries": went,
    }


def _answered(env: Env, items: list[str], ids: Ids | None = None) -> Subquery:
    """Each unit that answered some of `items`: (unit_id, given: how many of them)."""
    return (
        select(Answer.unit_id, func.count(distinct(Answer.item)).label("given"))
        .where(
            Answer.campaign == env.campaign_key,
            Answer.replaced_at.is_(None),
            Answer.item.in_(items),
            *kept(Answer.unit_id, ids),
        )
        .group_by(Answer.unit_id)
        .subquery()
    )
