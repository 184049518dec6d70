"""Inbound messages already handled, so that a platform's resend acts once.

Platforms resend: Telegram after a slow or failed webhook answer, Zalo whenever it pleases (it
has no offset and no acknowledgement). A message is known by its platform, chat and message id;
the first time it comes it is remembered (unique in the database), later copies are only
acknowledged. A message whose handling failed is forgotten again, so that a resend may succeed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.db import Database
from bot.store.models import HandledUpdate, utcnow
from bot.store.rows import rowcount

log = logging.getLogger(__name__)

KEEP = dt.timedelta(days=7)  # far beyond any resend; a week of messages is a small table
RECALL = dt.timedelta(days=1)  # handled keys also kept in memory: resends come within minutes
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


async def remember_all(session: AsyncSession, keys: Sequence[UpdateKey]) -> list[None]:
    """Write the keys down in one statement; one already there is left as it is."""
    rows = [key._asdict() for key in dict.fromkeys(keys)]
    # each dialect's own INSERT, the one with ON CONFLICT DO NOTHING
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(pg_insert(HandledUpdate).values(rows).on_conflict_do_nothing())
    else:
        await session.execute(sqlite_insert(HandledUpdate).values(rows).on_conflict_do_nothing())
    return [None] * len(keys)


async def forget(session: AsyncSession, key: UpdateKey) -> None:
    await session.execute(
        delete(HandledUpdate).where(
            HandledUpdate.platform == key.platform,
            HandledUpdate.chat_id == key.chat_id,
            HandledUpdate.message_id == key.message_id,
        )
    )


async def recent(session: AsyncSession, since: dt.datetime) -> dict[UpdateKey, dt.datetime]:
    """The keys handled since `since`, with when."""
    query = select(
        HandledUpdate.platform,
        HandledUpdate.chat_id,
        HandledUpdate.message_id,
        HandledUpdate.handled_at,
    ).where(HandledUpdate.handled_at >= since)
    return {UpdateKey(p, c, m): at for p, c, m, at in await session.execute(query)}


async def prune(session: AsyncSession, before: dt.datetime) -> int:
    """Forget what was handled before `before`; how many were."""
    return await rowcount(session, delete(HandledUpdate).where(HandledUpdate.handled_at < before))


class HandledUpdates:
    """What `Loa.handle` asks: is this message new (remembering it), or a resend?

    Asking the database before every message would cost every message a transaction of its
    own, so the keys of the last `recall` stay in memory too (loaded at the first message):
    a message written within it, by its own date, is new exactly when it is not in memory, and
    is written down in whatever transaction the messages of the moment share. Only a message
    older than that (a resend after days) asks the database first.
    """

    def __init__(
        self, db: Database, keep: dt.timedelta = KEEP, recall: dt.timedelta = RECALL
    ) -> None:
        self.db = db
        self.keep = keep
        self.recall = recall
        self._first = db.batched(first_times)  # a busy moment's messages in one transaction
        self._remember = db.batched(remember_all)
        self._recent: dict[UpdateKey, dt.datetime] | None = None  # key -> when handled
        self._pruned_at = 0.0
        self._writes: set[asyncio.Task[None]] = set()
        self._loading = asyncio.Lock()

    async def first(self, key: UpdateKey, written_at: dt.datetime) -> bool:
        """True the first time `key` comes (now remembered), False for a resend."""
        now = utcnow()
        recent = await self._recall(now)
        if key in recent:
            return False
        if written_at >= now - self.recall:
            self._write_down(key)
        elif not await self._first(key):  # asks the database, and writes it down
            return False
        recent[key] = now
        return True

    async def forget(self, key: UpdateKey) -> None:
        """Handling failed: a resend of the message may try again."""
        if self._recent is not None:
            self._recent.pop(key, None)
        await asyncio.gather(*self._writes, return_exceptions=True)  # not to be written after
        async with self.db.session() as session, session.begin():
            await forget(session, key)

    async def _recall(self, now: dt.datetime) -> dict[UpdateKey, dt.datetime]:
        """The keys of the last `recall`, loaded the first time, pruned once an hour (and the
        database of what is older than `keep`)."""
        async with self._loading:  # messages that come together wait for one load
            if self._recent is not None and time.monotonic() - self._pruned_at < PRUNE_EVERY:
                return self._recent
            async with self.db.session() as session, session.begin():
                pruned = await prune(session, now - self.keep)
                if self._recent is None:
                    self._recent = await recent(session, now - self.recall)
            self._pruned_at = time.monotonic()
            since = now - self.recall
            for key in [key for key, at in self._recent.items() if at < since]:
                del self._recent[key]
            log.debug("handled updates: %d recalled; %d forgotten", len(self._recent), pruned)
            return self._recent

    def _write_down(self, key: UpdateKey) -> None:
        """Into the database, in the transaction the message's own work is about to open."""
        write = asyncio.create_task(self._remember(key))
        self._writes.add(write)
        write.add_done_callback(self._written_down)

    def _written_down(self, task: asyncio.Task[None]) -> None:
        self._writes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("handled updates: could not be written down", exc_info=task.exception())
