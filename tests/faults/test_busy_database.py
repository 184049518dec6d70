"""SQLite held by another writer for 20 s (issue 13, item 3) while ten schools correct a figure
with /sua and the coordinator broadcasts: every correction is recorded or its sender is told to
send it again, and the broadcast goes to every group or the coordinator is told it did not."""

from __future__ import annotations

import asyncio
import sqlite3
import time

from bot.messages import render
from bot.sandbox.telegram import Limits, TelegramSandbox
from bot.store import answers
from bot.store import chats as chats_store
from bot.store.db import Database
from tests.e2e.conftest import UNLIMITED
from tests.faults.helpers import copies, registered_groups, sender_idle, start_loa

TOKEN = "747474:busy-database-token"
GROUPS = 10
HELD = 20.0  # seconds another process holds the database's write lock
NOT_DONE = render("replies/not_done_now").strip()


async def test_a_database_held_for_20s_loses_no_answer_and_no_broadcast_silently(tmp_path):
    path = tmp_path / "loa.db"
    async with TelegramSandbox(limits=Limits.off()) as sandbox, Database(f"sqlite:///{path}") as db:
        await db.upgrade()
        sandbox.add_bot(TOKEN, username="loa_bot")
        coordinator = sandbox.add_user("Cô Lan")
        principal = sandbox.add_user("Thầy Minh")
        groups = await registered_groups(sandbox, db, TOKEN, GROUPS)
        for group in groups:
            sandbox.add_member(group, principal)
        loa = await start_loa(sandbox, db, TOKEN, UNLIMITED, coordinator=coordinator)
        try:
            await sender_idle(loa)
            other = sqlite3.connect(path, isolation_level=None)  # another process's writer
            other.execute("BEGIN IMMEDIATE")
            held = time.monotonic()
            for group in groups:
                await sandbox.post(group, principal, "/sua 1.2 4/130")
            await sandbox.post(coordinator, coordinator, "/thongbao Họp trực tuyến lúc 14h")
            await asyncio.sleep(HELD - (time.monotonic() - held))
            other.execute("COMMIT")
            other.close()
            for group in groups:
                await sandbox.wait_sent(group, 1, timeout=30)
            told = await sandbox.wait_sent(coordinator, 2, timeout=40)
            await sandbox.wait_sent(None, 2 * GROUPS + 2, timeout=20)
        finally:
            await loa.stop()
        async with db.session() as session:
            units = {u.id: u.code for u in await chats_store.all_units(session)}
            given = await answers.every_unit(session, loa.campaign_key)
    # Each group's answer to /sua, whichever came first once the lock went: it or the broadcast.
    replies = {}
    for group in groups:
        [replies[group]] = [
            m["text"] for m in sandbox.sent(group) if "Họp trực tuyến" not in m["text"]
        ]
    recorded = {units[unit] for unit, values in given.items() if "1.2" in values}
    for text in replies.values():
        assert "4 lớp, 130 người" in text or text == NOT_DONE, text
    assert len(recorded) == sum("4 lớp, 130 người" in text for text in replies.values())
    broadcast = copies(sandbox, "Họp trực tuyến lúc 14h", groups)
    texts = [message["text"] for message in told]
    if set(broadcast.values()) == {1}:
        assert any("Đã gửi thông báo tới cả 10" in text for text in texts), texts
    else:
        assert NOT_DONE in texts, texts
