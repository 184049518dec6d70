"""Units' figures for the statistics form, corrections kept as history, and the prompts that
asked for them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation.grammar import Value
from bot.store.models import Answer, Prompt, PromptKind


def stored(value: Value) -> Any:
    """Values go to JSON as lists or strings and come back as `Value`s."""
    return value if isinstance(value, str) else list(value)


def loaded(value: Any) -> Value:
    return value if isinstance(value, str) else tuple(value)


async def current(session: AsyncSession, campaign: str, unit_id: int) -> dict[str, Answer]:
    """The unit's answer for each row it has answered (the latest, not the replaced ones)."""
    rows = await session.scalars(
        select(Answer)
        .where(Answer.campaign == campaign, Answer.unit_id == unit_id, Answer.replaced_at.is_(None))
        .order_by(Answer.id)
    )
    return {answer.item: answer for answer in rows}


async def values(session: AsyncSession, campaign: str, unit_id: int) -> dict[str, Value]:
    answers = await current(session, campaign, unit_id)
    return {item: loaded(answer.value) for item, answer in answers.items()}


async def every_unit(session: AsyncSession, campaign: str) -> dict[int, dict[str, Value]]:
    """Every unit's current values, read as plain rows (an export may hold 10,000 units)."""
    result = await session.stream(
        select(Answer.unit_id, Answer.item, Answer.value)
        .where(Answer.campaign == campaign, Answer.replaced_at.is_(None))
        .execution_options(yield_per=5000)
    )
    by_unit: dict[int, dict[str, Value]] = defaultdict(dict)
    async for unit_id, item, value in result:
        by_unit[unit_id][item] = loaded(value)
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
    previous = await session.scalar(
        select(Answer).where(
            Answer.campaign == campaign,
            Answer.unit_id == unit_id,
            Answer.item == item,
            Answer.replaced_at.is_(None),
        )
    )
    if previous is not None:
        previous.replaced_at = at
    session.add(
        Answer(
            campaign=campaign,
            unit_id=unit_id,
            item=item,
            value=stored(value),
            raw=raw,
            chat_id=chat_id,
            author=author,
            created_at=at,
        )
    )
    await session.flush()
    return loaded(previous.value) if previous is not None else None


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
        )
    )


async def prompt(
    session: AsyncSession, campaign: str, chat_id: int, message_id: str | None = None
) -> Prompt | None:
    """The prompt a reply answers (`message_id`), else the chat's latest one."""
    query = select(Prompt).where(Prompt.campaign == campaign, Prompt.chat_id == chat_id)
    if message_id is not None:
        query = query.where(Prompt.message_id == message_id)
    return await session.scalar(query.order_by(Prompt.id.desc()).limit(1))


async def settle(session: AsyncSession, prompt_id: int) -> None:
    """The unusual figure the prompt held was confirmed or replaced: nothing waits any more."""
    await session.execute(update(Prompt).where(Prompt.id == prompt_id).values(pending=None))
