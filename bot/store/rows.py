"""How many rows an UPDATE or DELETE changed.

`AsyncSession.execute` is typed as returning any `Result`; for these statements it is a
`CursorResult`, the one that counts rows.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.ext.asyncio import AsyncSession


async def rowcount(session: AsyncSession, statement: Executable) -> int:
    """Run `statement` (an UPDATE or DELETE); the number of rows it matched."""
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount
