"""A scoped coordinator's units in the database's terms: the ids a query keeps.

A scope names parents by code (`XA-PHU-THANH`, `bot.campaign.scope`), the units by the office's
own spelling ("xã Phú Thành"): the spellings the units have are read once and matched here, so a
query filters on them without folding text in SQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.campaign.scope import Scope
from bot.store.models import Unit

Ids = Select[int]


async def unit_ids(session: AsyncSession, scope: Scope) -> Ids | None:
    """The ids of the units `scope` covers, as a query to filter with; None: every unit."""
    if scope.everything:
        return None
    spellings = await session.scalars(
        select(Unit.parent).where(Unit.parent.is_not(None)).distinct()
    )
    return select(Unit.id).where(Unit.parent.in_([p for p in spellings if scope.covers(p)]))


def kept(column: Any, ids: Ids | None) -> list[ColumnElement[bool]]:
    """The where clauses keeping rows of `column` (a unit id) among `ids`; none for every unit."""
    return [] if ids is None else [column.in_(ids)]
