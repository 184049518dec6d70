"""Units' figures for the statistics form, corrections kept as history, and the prompts that
asked for them."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Select,
    Text,
    bindparam,
    cast,
    distinct,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.stats.grammar import Value
from bot.store.models import Answer, Prompt, PromptKind, utcnow

# Defined with the other JSON the store keeps; named here too, where they were always found.
from bot.store.payloads import Unconfirmed, loaded, stored

# Statements every batch of answers runs, built once: building one costs half of running it.
_CURRENT = (  # values as their JSON text: only those a record replaces are decoded
    select(Answer.id, Answer.unit_id, Answer.item, cast(Answer.value, Text))
    .where(
        Answer.campaign == bindparam("campaign"),
        Answer.unit_id.in_(bindparam("unit_ids", expanding=True)),
        Answer.replaced_at.is_(None),
    )
    .order_by(Answer.id)
)
_VALUES = (
    select(Answer.item, Answer.value)
    .where(
        Answer.campaign == bindparam("campaign"),
        Answer.unit_id == bindparam("unit_id"),
        Answer.replaced_at.is_(None),
    )
    .order_by(Answer.id)
)
# The table itself, not the mapped class: executed with many parameter sets, an ORM statement
# would become a bulk update by primary key. (`__table__` is typed as any FromClause.)
_ANSWERS = Answer.metadata.tables[Answer.__tablename__]
_PROMPTS = Prompt.metadata.tables[Prompt.__tablename__]
_REPLACE = (  # an UPDATE's parameters may not be named after its columns
    update(_ANSWERS)
    .where(Answer.id == bindparam("replaced_id"))
    .values(replaced_at=bindparam("at"))
)
_INSERT = insert(_ANSWERS)
_SETTLE = (
    update(_PROMPTS).where(Prompt.id.in_(bindparam("ids", expanding=True))).values(pending=None)
)
_LATEST = (
    select(Prompt)
    .where(Prompt.campaign == bindparam("campaign"), Prompt.chat_id == bindparam("chat_id"))
    .order_by(Prompt.id.desc())
    .limit(1)
)
_REPLIED = select(Prompt).where(
    Prompt.campaign == bindparam("campaign"),
    tuple_(Prompt.chat_id, Prompt.message_id).in_(bindparam("replies", expanding=True)),
)


async def values(session: AsyncSession, campaign: str, unit_id: int) -> dict[str, Value]:
    """The unit's current value for each row it has answered."""
    rows = await session.execute(_VALUES, {"campaign": campaign, "unit_id": unit_id})
    return {item: loaded(value) for item, value in rows}


async def every_unit(session: AsyncSession, campaign: str) -> dict[int, dict[str, Value]]:
    """Every unit's current values, read as plain rows (an export may hold 10,000 units).

    Values come as the JSON text stored and each different text is decoded once: a form's
    figures repeat ("[1, 30]", "[2]"), and decoding 370,000 of them was half the export.
    """
    connection = await session.connection()
    result = await connection.stream(
        select(Answer.unit_id, Answer.item, cast(Answer.value, Text))
        .where(Answer.campaign == campaign, Answer.replaced_at.is_(None))
        .execution_options(yield_per=5000)
    )
    by_unit: dict[int, dict[str, Value]] = defaultdict(dict)
    decoded: dict[str, Value] = {}
    async for rows in result.partitions():  # row by row, each row would be a greenlet switch
        for unit_id, item, text in rows:
            value = decoded.get(text)
            if value is None:
                value = decoded[text] = loaded(json.loads(text))
            by_unit[unit_id][item] = value
    return by_unit


async def answered_counts(
    session: AsyncSession, campaign: str, items: Collection[str], units: Select[int] | None = None
) -> dict[int, int]:
    """How many of `items` each unit (of `units`' ids when given) has a current value for,
    counted by the database: what `/tiendo` needs of 185,000 answers is 5,000 numbers, not the
    values."""
    mine = [Answer.campaign == campaign, Answer.replaced_at.is_(None), Answer.item.in_(items)]
    if units is not None:  # a commune's: read by unit from the index, not all 185,000
        mine.append(Answer.unit_id.in_(units))
    rows = await session.execute(
        select(Answer.unit_id, func.count(distinct(Answer.item)))
        .where(*mine)
        .group_by(Answer.unit_id)
    )
    return {unit_id: count for unit_id, count in rows}


@dataclass(frozen=True)
class Record:
    """A message's figures for its unit: `(item, value, raw)` in order, each replacing (not
    erasing) the unit's answer before; `settles` is the read-back prompt they confirm."""

    unit_id: int
    given: Sequence[tuple[str, Value, str]]
    chat_id: int | None
    author: str
    at: dt.datetime
    settles: int | None = None


@dataclass(frozen=True)
class Recorded:
    """What a `Record` replaced (a value or None for each figure), and every item its unit has
    answered afterwards (what is missing is the rest of the form)."""

    befores: list[Value | None]
    answered: frozenset[str]


async def record(
    session: AsyncSession,
    campaign: str,
    unit_id: int,
    item: str,
    value: Value,
    *,
    raw: str,
    chat_id: int | None,
    author: str,
    at: dt.datetime,
) -> Value | None:
    """Store the unit's answer for `item`, replacing the one before; return the value replaced."""
    [done] = await record_all(
        session, campaign, [Record(unit_id, [(item, value, raw)], chat_id, author, at)]
    )
    return done.befores[0]


async def record_all(
    session: AsyncSession, campaign: str, records: Sequence[Record]
) -> list[Recorded]:
    """Store the records in order, for any units; what each replaced and what its unit has
    answered afterwards.

    One read and at most three writes however many records and figures: a batch of twenty
    messages costs about what one did. Two records of one unit are applied one after the other.
    """
    unit_ids = sorted({r.unit_id for r in records})
    answered: dict[int, set[str]] = {unit_id: set() for unit_id in unit_ids}
    current: dict[tuple[int, str], list[int]] = defaultdict(list)  # rows a record replaces
    stored_text: dict[tuple[int, str], str] = {}  # their value, still as JSON
    rows = await session.execute(_CURRENT, {"campaign": campaign, "unit_ids": unit_ids})
    for answer_id, unit_id, item, text in rows:
        answered[unit_id].add(item)
        current[unit_id, item].append(answer_id)
        stored_text[unit_id, item] = text
    given: dict[tuple[int, str], tuple[Value, dict[str, Any]]] = {}  # the batch's newest
    replaced: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    done = []
    for r in records:
        befores: list[Value | None] = []
        for item, value, raw in r.given:
            key = (r.unit_id, item)
            before: Value | None
            if key in given:  # given earlier in the batch: that row is replaced as it is stored
                before, row = given[key]
                row["replaced_at"] = r.at
            else:
                was = stored_text.get(key)
                before = loaded(json.loads(was)) if was is not None else None
            befores.append(before)
            replaced += [{"replaced_id": i, "at": r.at} for i in current.pop(key, ())]
            row = {
                "campaign": campaign,
                "unit_id": r.unit_id,
                "item": item,
                "value": stored(value),
                "raw": raw,
                "chat_id": r.chat_id,
                "author": r.author,
                "created_at": r.at,
                "replaced_at": None,
            }
            given[key] = value, row
            inserts.append(row)
            answered[r.unit_id].add(item)
        done.append(Recorded(befores, frozenset(answered[r.unit_id])))
    if replaced:
        await session.execute(_REPLACE, replaced)
    if inserts:
        await session.execute(_INSERT, inserts)
    settled = [r.settles for r in records if r.settles is not None]
    if settled:
        await session.execute(_SETTLE, {"ids": settled})
    return done


async def history(session: AsyncSession, campaign: str, unit_id: int, item: str) -> list[Answer]:
    """Every answer the unit gave for `item`, oldest first."""
    rows = await session.scalars(
        select(Answer)
        .where(Answer.campaign == campaign, Answer.unit_id == unit_id, Answer.item == item)
        .order_by(Answer.id)
    )
    return list(rows)


# -- prompts ------------------------------------------------------------------------------------


def asked(
    session: AsyncSession,
    campaign: str,
    chat_id: int,
    unit_id: int,
    message_id: str,
    kind: PromptKind,
    items: list[str],
    pending: Unconfirmed | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Remember that `message_id` in the chat asked for `items` (a reply to it answers them);
    `pending`: the figures a read-back waits to have confirmed."""
    session.add(
        Prompt(
            campaign=campaign,
            chat_id=chat_id,
            unit_id=unit_id,
            message_id=message_id,
            kind=kind,
            items=items,
            pending=pending.to_json() if pending is not None else None,
            created_at=at or utcnow(),
        )
    )


async def prompts(
    session: AsyncSession, campaign: str, asked: Sequence[tuple[int, str | None]]
) -> list[Prompt | None]:
    """For each `(chat_id, message_id)`, the prompt that message answers when it replies to one
    (`message_id`), else the chat's latest; the replies' prompts are read in one query."""
    replies = sorted({(chat, message) for chat, message in asked if message is not None})
    found: dict[tuple[int, str | None], Prompt] = {}
    if replies:
        rows = await session.scalars(_REPLIED, {"campaign": campaign, "replies": replies})
        found = {(p.chat_id, p.message_id): p for p in rows}
    for chat_id, message_id in asked:
        if message_id is None and (chat_id, None) not in found:
            latest = await session.scalar(_LATEST, {"campaign": campaign, "chat_id": chat_id})
            if latest is not None:
                found[chat_id, None] = latest
    return [found.get(key) for key in asked]


async def answered_since(
    session: AsyncSession, campaign: str, unit_id: int, items: list[str], since: dt.datetime
) -> set[str]:
    """Which of `items` the unit answered after `since` (a read-back older than that is stale)."""
    found = await session.scalars(
        select(Answer.item).where(
            Answer.campaign == campaign,
            Answer.unit_id == unit_id,
            Answer.item.in_(items),
            Answer.created_at >= since,  # a read-back's own rows are never recorded with it
        )
    )
    return set(found)
