"""Telegram's 5xx answers and a request that times out, in the middle of a 20-group broadcast:
every row is retried until it is sent, and a group gets the message twice only when a request
timed out after Telegram had taken it (nobody can tell then, and losing it would be worse)."""

from __future__ import annotations

import asyncio
from collections import Counter

from bot.delivery import outbox
from bot.sandbox.telegram import Limits, TelegramSandbox
from tests.e2e.conftest import UNLIMITED
from tests.faults.helpers import (
    attempts,
    copies,
    registered_groups,
    rows,
    sender_idle,
    start_loa,
)

TOKEN = "616161:server-errors-token"
GROUPS = 20
FIRST = [(502, "Bad Gateway"), (500, "Internal Server Error"), (503, "Service Unavailable")] * 2 + [
    (504, "Gateway Timeout")
]  # the first 7 sends fail: rows 1-7, once each
THEN = [(500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable")]
SLOW = 5.5  # seconds: past python-telegram-bot's 5 s read timeout
TEXT = "Lịch họp giao ban thay đổi"


async def test_a_broadcast_through_5xx_and_a_timeout_is_retried_until_every_group_has_it(db):
    async with TelegramSandbox(limits=Limits.off()) as sandbox:
        sandbox.add_bot(TOKEN, username="loa_bot")
        groups = await registered_groups(sandbox, db, TOKEN, GROUPS)
        loa = await start_loa(sandbox, db, TOKEN, UNLIMITED)
        loa.dispatcher.window_cap = 1  # one in flight: the scripted faults meet rows in order
        try:
            await sender_idle(loa)  # see test_wake_during_a_look.py
            for status, description in FIRST:
                sandbox.fail_next("sendMessage", status=status, description=description)
            async with db.session() as session, session.begin():
                await outbox.broadcast(session, loa.campaign_key, TEXT, [], loa.clock.now())
            loa.wake()
            # Rows 8-20 go through; rows 1-7 wait a second before their second try.
            await sandbox.wait_sent(None, GROUPS - len(FIRST), timeout=10)
            assert sandbox.pending_faults() == {}

            # The second try of row 1 takes longer than the client waits: it times out (and is
            # retried 2 s later). Rows 2-4 then meet more 5xx, rows 5-7 go through.
            requests = sandbox.stats.requests
            sandbox.latency = SLOW
            while sandbox.stats.requests == requests:
                await asyncio.sleep(0.01)
            sandbox.latency = 0
            for status, description in THEN:
                sandbox.fail_next("sendMessage", status=status, description=description)

            for _ in range(200):
                statuses = {row.status for row in await rows(db)}
                if statuses == {"sent"}:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.7)  # the slow request's own copy lands by now, if it does
        finally:
            await loa.stop()

    got = copies(sandbox, TEXT, groups)
    outbox_rows = await rows(db)
    assert [row.status for row in outbox_rows] == ["sent"] * GROUPS
    tries = Counter(attempt.delivery_id for attempt in await attempts(db))
    by_chat = {row.chat_id: row for row in outbox_rows}  # chats 1-20 in the order of `groups`
    # row 1: 502, timeout, sent; rows 2-4: 5xx, 5xx, sent; rows 5-7: 5xx, sent; the rest: sent
    expected = [3, 3, 3, 3, 2, 2, 2] + [1] * (GROUPS - 7)
    assert [by_chat[i + 1].attempts for i in range(GROUPS)] == expected
    assert [tries[by_chat[i + 1].id] for i in range(GROUPS)] == expected
    details = [a.detail or "" for a in await attempts(db) if a.outcome == "retry"]
    assert sum("timed out" in d.lower() for d in details) == 1, details
    assert len(details) == len(FIRST) + len(THEN) + 1
    assert sandbox.stats.injected_failures == len(FIRST) + len(THEN)
    # Every group has it once; the one whose request timed out may have it twice, should
    # Telegram have taken the message after the client gave up (this sandbox reads the request
    # only after its latency, and by then the client has closed the connection: it does not).
    assert all(count == 1 for group, count in got.items() if group != groups[0]), got
    assert got[groups[0]] in (1, 2), got
