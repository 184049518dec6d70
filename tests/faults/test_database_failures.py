"""The database failing around a send (issue 13, items 2 and 6), on SQLite and PostgreSQL: a
message that went out is recorded late, never sent again; an announcement holding a NUL goes to
each group once and the coordinator hears how it went; a batch the database failed in the middle
of is given back by the running process, not left `sending` until a restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from bot.delivery import outbox
from bot.sandbox.telegram import Limits, TelegramSandbox
from bot.store.db import Database
from tests.e2e.conftest import UNLIMITED
from tests.faults.helpers import copies, registered_groups, rows, sender_idle, start_loa

TOKEN = "737373:database-failures-token"
GROUPS = 10


class Outage:
    """Statements the database refuses, as a locked or unreachable one does: those `matching`
    fail while `failing` is above zero (each failure counts one down) or until `down_until`
    (monotonic time)."""

    def __init__(self, db: Database, matching: Callable[[str], bool]) -> None:
        self.matching = matching
        self.failing = 0
        self.down_until = 0.0
        self.refused = 0
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._before)

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        down = self.failing or time.monotonic() < self.down_until
        if down and self.matching(statement):
            self.failing = max(self.failing - 1, 0)
            self.refused += 1
            raise OperationalError(statement, {}, Exception("database is locked (injected)"))


def records_a_send(statement: str) -> bool:
    return statement.startswith("UPDATE deliveries") and "sent_at=" in statement


async def all_sent(db: Database, timeout: float) -> set[str]:
    deadline = time.monotonic() + timeout
    while (statuses := {row.status for row in await rows(db)}) != {"sent"}:
        if time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(0.05)
    return statuses


async def test_a_send_whose_record_fails_is_recorded_later_and_never_sent_again(db):
    async with TelegramSandbox(limits=Limits.off()) as sandbox:
        sandbox.add_bot(TOKEN, username="loa_bot")
        groups = await registered_groups(sandbox, db, TOKEN, GROUPS)
        loa = await start_loa(sandbox, db, TOKEN, UNLIMITED)
        try:
            await sender_idle(loa)
            outage = Outage(db, records_a_send)
            outage.failing = 6  # the first send's record, past its tries at once: owed
            async with db.session() as session, session.begin():
                await outbox.broadcast(session, loa.campaign_key, "Họp lúc 8h", [], loa.clock.now())
            loa.wake()
            assert await all_sent(db, timeout=20) == {"sent"}
        finally:
            await loa.stop()
    assert outage.refused == 6
    assert set(copies(sandbox, "Họp lúc 8h", groups).values()) == {1}


async def test_an_announcement_with_a_nul_goes_once_to_each_group_and_the_coordinator_hears(db):
    async with TelegramSandbox(limits=Limits.off()) as sandbox:
        sandbox.add_bot(TOKEN, username="loa_bot")
        coordinator = sandbox.add_user("Cô Lan")
        groups = await registered_groups(sandbox, db, TOKEN, GROUPS)
        loa = await start_loa(sandbox, db, TOKEN, UNLIMITED, coordinator=coordinator)
        try:
            await sender_idle(loa)
            await sandbox.post(coordinator, coordinator, "/thongbao Họp\x00 giao ban lúc 8h")
            told = await sandbox.wait_sent(coordinator, 2, timeout=15)
            assert await all_sent(db, timeout=5) == {"sent"}
            await asyncio.sleep(0.5)  # a copy sent again would come now
        finally:
            await loa.stop()
    assert "Đã gửi thông báo tới cả 10" in told[1]["text"]
    assert set(copies(sandbox, "giao ban lúc 8h", groups).values()) == {1}
    assert all("\x00" not in (row.text or "") for row in await rows(db))


async def test_a_batch_the_database_failed_in_the_middle_of_is_given_back_while_running(db):
    async with TelegramSandbox(limits=Limits.off(), latency=0.01) as sandbox:
        sandbox.add_bot(TOKEN, username="loa_bot")
        groups = await registered_groups(sandbox, db, TOKEN, GROUPS)
        loa = await start_loa(sandbox, db, TOKEN, UNLIMITED)
        try:
            await sender_idle(loa)
            outage = Outage(db, lambda statement: "deliveries" in statement)
            async with db.session() as session, session.begin():
                await outbox.broadcast(session, loa.campaign_key, "Lịch thi", [], loa.clock.now())
            loa.wake()
            await sandbox.wait_sent(None, 3, timeout=10)
            outage.down_until = time.monotonic() + 0.5  # gone for the rest of the batch
            await asyncio.sleep(0.6)
            stuck = [row.id for row in await rows(db) if row.status == "sending"]
            assert stuck  # what the failed batch had claimed
            assert await all_sent(db, timeout=60) == {"sent"}
            assert time.monotonic() - outage.down_until < 15  # the next look, not a restart
        finally:
            await loa.stop()
    assert set(copies(sandbox, "Lịch thi", groups).values()) == {1}
