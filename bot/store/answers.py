"""Units' figures for the statistics form, corrections kept as history, and the prompts that
asked for them."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, bindparam, cast, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation.grammar import Value
from bot.store.models import Answer, Prompt, PromptKind, utcnow


def stored(value: Value) -> Any:
    """Values go to JSON as lists or strings and come back as `Value`s."""
    return value if isinstance(value, str) else list(value)


def loaded(value: Any) -> Value:
    return value if isinstance(value, str) else tuple(value)


# Statements every answer runs, built once: building one costs half as much as running it.
_VALUES = (
    select(Answer.item, Answer.value)
    .where(
        Answer.campaign == bindparam("campaign"),
        Answer.unit_id == bindparam("unit_id"),
        Answer.replaced_at.is_(None),
    )
    .order_by(Answer.id)
)
_REPLACE = (  # an UPDATE's parameters may not be named after its columns
    update(Answer.__table__)
    .where(
        Answer.campaign == bindparam("of_campaign"),
        Answer.unit_id == bindparam("of_unit"),
        Answer.item.in_(bindparam("items", expanding=True)),
        Answer.replaced_at.is_(None),
    )
    .values(replaced_at=bindparam("at"))
)
_INSERT = insert(Answer.__table__)
_LATEST = (
    select(Prompt)
    .where(Prompt.campaign == bindparam("campaign"), Prompt.chat_id == bindparam("chat_id"))
    .order_by(Prompt.id.desc())
    .limit(1)
)
_PROMPT = _LATEST.where(Prompt.message_id == bindparam("message_id"))


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
    """Store the unit's answer for `item`, replacing (not erasing) the one before; return the
    value it replaced, if any."""
    [before], _ = await record_all(
        session, campaign, unit_id, [(item, value, raw)], chat_id=chat_id, author=author, at=at
    )
    return before


async def record_all(
    session: AsyncSession,
    campaign: str,
    unit_id: int,
    given: Sequence[tuple[str, Value, str]],
    *,
    chat_id: int | None,
    author: str,
    at: dt.datetime,
) -> tuple[list[Value | None], dict[str, Value]]:
    """Store the unit's answers `(item, value, raw)` in order, each replacing (not erasing) the
    one before; the values they replaced, and the unit's values afterwards.

    One read and at most two writes whatever the number of answers: a message of many lines is
    recorded as quickly as one of a line.
    """
    known = await values(session, campaign, unit_id)
    if not given:
        return [], known
    replaced = sorted({item for item, _, _ in given} & known.keys())
    if replaced:
        await session.execute(
            _REPLACE, {"of_campaign": campaign, "of_unit": unit_id, "items": replaced, "at": at}
        )
    rows: list[dict[str, Any]] = []
    latest: dict[str, dict[str, Any]] = {}  # an item given twice: the first is replaced at once
    befores: list[Value | None] = []
    for item, value, raw in given:
        befores.append(known.get(item))
        if item in latest:
            latest[item]["replaced_at"] = at
        latest[item] = {
            "campaign": campaign,
            "unit_id": unit_id,
            "item": item,
            "value": stored(value),
            "raw": raw,
            "chat_id": chat_id,
            "author": author,
            "created_at": at,
            "replaced_at": None,
        }
        rows.append(latest[item])
        known[item] = value
    await session.execute(_INSERT, rows)
    return befores, known


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
    pending: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Remember that `message_id` in the chat asked for `items` (a reply to it answers them)."""
    session.add(
        Prompt(
            campaign=campaign,
            chat_id=chat_id,
            unit_id=unit_id,
            message_id=message_id,
            kind=kind,
            items=items,
            pending=pending,
            created_at=at or utcnow(),
        )
    )


async def prompt(
    session: AsyncSession, campaign: str, chat_id: int, message_id: str | None = None
) -> Prompt | None:
    """The prompt a reply answers (`message_id`), else the chat's latest one."""
    where = {"campaign": campaign, "chat_id": chat_id, "message_id": message_id}
    return await session.scalar(_LATEST if message_id is None else _PROMPT, where)


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


async def settle(session: AsyncSession, prompt_id: int) -> None:
    """The unusual figure the prompt held was confirmed or replaced: nothing waits any more."""
    await session.execute(update(Prompt).where(Prompt.id == prompt_id).values(pending=None))
