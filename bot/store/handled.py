"""Inbound messages already handled, so that a platform's resend acts once.

Platforms resend: Telegram after a slow or failed webhook answer, Zalo whenever it pleases (it
has no offset and no acknowledgement). A message is known by its platform, chat and message id;
the first time it comes it is remembered (unique in the database), later copies are only
acknowledged. A message whose handling failed is forgotten again, so that a resend may succeed.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.db import Database
from bot.store.models import HandledUpdate, utcnow

log = logging.getLogger(__name__)

KEEP = dt.timedelta(days=7)  # far beyond any resend; a week of messages is a small table
PRUNE_EVERY = 3600.0  # seconds between two prunings while running


class UpdateKey(NamedTuple):
    platform: str
    chat_id: str
    message_id: str


async def first_times(session: AsyncSession, keys: Sequence[UpdateKey]) -> list[bool]:
    """For each key, whether it is new; the new ones are remembered. A key twice in `keys` is new
    the first time only."""
    wanted = sorted(set(keys))
    columns = (HandledUpdate.platform, HandledUpdate.chat_id, HandledUpdate.message_id)
    known = {
        UpdateKey(*row)
        for row in await session.execute(select(*columns).where(tuple_(*columns).in_(wanted)))
    }
    firsts = []
    for key in keys:
        firsts.append(key not in known)
        if key not in known:
            known.add(key)
            session.add(HandledUpdate(**key._asdict()))
    return firsts


async def forget(session: AsyncSession, key: UpdateKey) -> None:
    await session.execute(
        delete(HandledUpdate).where(
            HandledUpdate.platform == key.platform,
            HandledUpdate.chat_id == key.chat_id,
            HandledUpdate.message_id == key.message_id,
        )
    )


async def prune(session: AsyncSession, before: dt.datetime) -> int:
    """Forget what was handled before `before`; how many were."""
    result = await session.execute(delete(HandledUpdate).where(HandledUpdate.handled_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


class HandledUpdates:
    """What `Loa.handle` asks: is this message new (remembering it), or a resend?"""

    def __init__(self, db: Database, keep: dt.timedelta = KEEP) -> None:
        self.db = db
        self.keep = keep
        self._first = db.batched(first_times)  # a busy moment's messages in one transaction
        self._pruned_at: float | None = None

    async def first(self, key: UpdateKey) -> bool:
        """True the first time `key` comes (now remembered), False for a resend."""
        now = time.monotonic()
        if self._pruned_at is None or now - self._pruned_at > PRUNE_EVERY:
            self._pruned_at = now
            async with self.db.session() as session, session.begin():
                pruned = await prune(session, utcnow() - self.keep)
            log.debug("handled updates: %d older than %s forgotten", pruned, self.keep)
        return await self._first(key)

    async def forget(self, key: UpdateKey) -> None:
        """Handling failed: a resend of the message may try again."""
        async with self.db.session() as session, session.begin():
            await forget(session, key)
