"""A broadcast made while the sender is finishing a look at the outbox must go out at once.

The sender is one APScheduler job (`send`), set for the next due row or woken to run now. A wake
that comes while a look is running, after that look has read the outbox, adds a job that
APScheduler refuses ("maximum number of running instances reached") and drops; the running look
then sets the next one by what it read (nothing due: a minute away). The broadcast waits that
minute. Found by test_server_errors.py, where a broadcast right after start lost the race now
and then; here the look is held at that point so the race is lost every time.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.delivery import outbox
from bot.sandbox.telegram import Limits, TelegramSandbox
from tests.e2e.conftest import UNLIMITED
from tests.faults.helpers import copies, registered_groups, sender_idle, start_loa

TOKEN = "717171:wake-test-token"


async def test_a_broadcast_made_while_a_look_is_ending_goes_out_at_once(db, monkeypatch, caplog):
    async with TelegramSandbox(limits=Limits.off()) as sandbox:
        sandbox.add_bot(TOKEN, username="loa_bot")
        groups = await registered_groups(sandbox, db, TOKEN, 3)
        loa = await start_loa(sandbox, db, TOKEN, UNLIMITED)
        try:
            await sender_idle(loa)
            looked, release = asyncio.Event(), asyncio.Event()
            next_due = outbox.next_due

            async def next_due_then_hold(session, ids=None, campaign=None):
                due = await next_due(session, ids, campaign)
                looked.set()
                await release.wait()  # the look has read the outbox and is about to end
                return due

            monkeypatch.setattr(outbox, "next_due", next_due_then_hold)
            loa.wake()  # a look (a periodic one, or for a registration): nothing is due
            await asyncio.wait_for(looked.wait(), 5)

            async with db.session() as session, session.begin():  # what /thongbao does
                await outbox.broadcast(session, loa.campaign_key, "Họp gấp", [], loa.clock.now())
            loa.wake()
            await asyncio.sleep(0.2)  # the scheduler handles that wake meanwhile
            release.set()

            try:
                await sandbox.wait_sent(None, len(groups), timeout=5)
            except TimeoutError:
                now = dt.datetime.now(dt.UTC)
                raise AssertionError(
                    f"nothing sent; the next look is {loa.sender.next_look() - now} away"
                ) from None
        finally:
            await loa.stop()
    assert set(copies(sandbox, "Họp gấp", groups).values()) == {1}
    # the wake waited for the look to end rather than being refused by APScheduler
    assert "maximum number of running instances" not in caplog.text
