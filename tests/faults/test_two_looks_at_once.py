"""Two looks at the outbox at once in one process (a caller's `send_due` beside the sender's own
look, as tests do) must not take each other's rows: a row goes out once, sent by the look that
claimed it, and nothing is "given back" as stuck.

Both looks claim under the process's one sender epoch, so the fence (`outbox.sendable_by`)
cannot tell their claims apart, and a look first gives back the claims of its epoch that no
batch holds (left by a batch the database failed in the middle of). A look doing that in the
moment between another's claim and its taking the rows in hand gave that look's row back,
claimed it again and sent it, while the first look, its claim still holding to the fence, could
send it too. Seen as tests/e2e/test_faults.py's 403 test failing under load ("1 stuck claims
given back", the row recorded by the wrong look); here the first look is held in that moment,
so the race is lost every time.
"""

from __future__ import annotations

import asyncio

from bot.delivery import dispatcher, outbox
from bot.sandbox.telegram import Limits, TelegramSandbox
from tests.e2e.conftest import UNLIMITED
from tests.faults.helpers import copies, registered_groups, sender_idle, start_loa

TOKEN = "727272:two-looks-token"
TEXT = "Họp gấp chiều nay"


async def test_a_look_beside_another_takes_none_of_its_rows(db, monkeypatch, caplog):
    async with TelegramSandbox(limits=Limits.off()) as sandbox:
        sandbox.add_bot(TOKEN, username="loa_bot")
        groups = await registered_groups(sandbox, db, TOKEN, 1)
        loa = await start_loa(sandbox, db, TOKEN, UNLIMITED)
        try:
            await sender_idle(loa)  # the sender's own looks stay out of the way
            claimed, release = asyncio.Event(), asyncio.Event()
            claim_due = dispatcher.claim_due

            async def claim_then_hold(session, *args, **kwargs):
                monkeypatch.setattr(dispatcher, "claim_due", claim_due)  # the first look only
                rows = await claim_due(session, *args, **kwargs)
                close = session.close

                async def close_then_hold():
                    await close()  # after the commit: the claim is in the database
                    claimed.set()
                    await release.wait()  # and the look has not taken its rows in hand yet

                session.close = close_then_hold
                return rows

            monkeypatch.setattr(dispatcher, "claim_due", claim_then_hold)
            async with db.session() as session, session.begin():
                await outbox.broadcast(session, loa.campaign_key, TEXT, [], loa.clock.now())
            first = asyncio.create_task(loa.dispatcher.send_due())
            await asyncio.wait_for(claimed.wait(), 5)
            second = asyncio.create_task(loa.dispatcher.send_due())
            # Time for the second look to do its worst; it has no business finishing meanwhile.
            done, _ = await asyncio.wait({second}, timeout=1)
            release.set()
            sent_first, sent_second = await first, await second
        finally:
            await loa.stop()
    assert copies(sandbox, TEXT, groups) == {groups[0]: 1}
    assert (+sent_first, +sent_second) == ({"sent": 1}, {})  # sent by the look that claimed it
    assert "stuck claims given back" not in caplog.text
    assert not done  # it waited for the first look to end
