"""The audit log: who did what, and how often something happened lately (for throttling)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import AuditEntry, Chat, Unit


def record(
    session: AsyncSession,
    actor: str,
    action: str,
    chat: Chat | None = None,
    unit: Unit | None = None,
    **detail: Any,
) -> AuditEntry:
    entry = AuditEntry(
        actor=actor,
        action=action,
        chat_id=chat.id if chat else None,
        unit_id=unit.id if unit else None,
        detail=detail or None,
    )
    session.add(entry)
    return entry


async def recent(
    session: AsyncSession, action: str, since: dt.datetime, *, chat: Chat, actor: str
) -> list[dt.datetime]:
    """When `action` happened since `since` in this chat or by this actor, oldest first."""
    rows = await session.scalars(
        select(AuditEntry.at)
        .where(
            AuditEntry.action == action,
            AuditEntry.at >= since,
            or_(AuditEntry.chat_id == chat.id, AuditEntry.actor == actor),
        )
        .order_by(AuditEntry.at)
    )
    return list(rows)


async def count_since(session: AsyncSession, action: str, since: dt.datetime) -> int:
    """How often `action` happened since `since`, anywhere."""
    found = await session.scalar(
        select(func.count()).where(AuditEntry.action == action, AuditEntry.at >= since)
    )
    return found or 0


async def forget(session: AsyncSession, entry_id: int) -> None:
    """Take back an entry recorded ahead of an outcome that turned out otherwise."""
    await session.execute(delete(AuditEntry).where(AuditEntry.id == entry_id))
