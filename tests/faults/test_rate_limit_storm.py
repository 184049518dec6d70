"""A 429 storm: Loa configured far faster than Telegram lets it go. Telegram answers 429 with a
`retry_after`; Loa must wait it out (every request, not only the refused one), lose nothing and
send nothing twice.

At a round trip of 20 ms Loa's window keeps several sends in flight, so every 429 finds
others already on their way: they arrive during the wait, are refused too, and are no early
retries (the sandbox counts only sends made after their client had read a 429 of the wait). At
no latency that happened only when the machine was slow enough, and was counted then."""

from __future__ import annotations

from bot.channels.defaults import TelegramLimits
from bot.sandbox.telegram import Limits, Rate, TelegramSandbox
from tests.faults.helpers import attempts, copies, registered_groups, rows, start_loa

TOKEN = "515151:storm-test-token"
GROUPS = 40
STORM = Limits(overall=Rate(5, 1), group=Rate(2, 2), private=Rate(1, 1))  # Telegram, tight
TOO_FAST = TelegramLimits(overall_per_second=100, group_per_minute=600, private_per_second=1)
LATENCY = 0.02  # seconds before each answer: sends in flight meet every 429 (see above)


async def test_a_broadcast_through_a_429_storm_arrives_once_everywhere_and_obeys_retry_after(db):
    async with TelegramSandbox(limits=STORM, latency=LATENCY) as sandbox:
        sandbox.add_bot(TOKEN, username="loa_bot")
        coordinator = sandbox.add_user("Cô Lan", username="lan_pgd")
        groups = await registered_groups(sandbox, db, TOKEN, GROUPS)
        loa = await start_loa(sandbox, db, TOKEN, TOO_FAST, coordinator)
        try:
            await sandbox.post(coordinator, coordinator, "/start")
            await sandbox.wait_sent(coordinator, 1, timeout=10)
            await sandbox.post(coordinator, coordinator, "/thongbao Bão 429: họp lúc 14h")
            # "Đang gửi thông báo tới 40 ...", then the report once every row is settled
            replies = await sandbox.wait_sent(coordinator, 3, timeout=60)
        finally:
            await loa.stop()
        stats = sandbox.stats

    assert replies[1]["text"].startswith(f"📤 Đang gửi thông báo tới {GROUPS} nhóm")
    assert replies[2]["text"] == f"✅ Đã gửi thông báo tới cả {GROUPS} nhóm/cuộc trò chuyện."
    got = copies(sandbox, "Bão 429: họp lúc 14h", groups)
    assert sorted(set(got.values())) == [1], {g: c for g, c in got.items() if c != 1}
    assert [row.status for row in await rows(db)] == ["sent"] * GROUPS
    assert stats.rate_limited > 0, stats  # the storm happened...
    retries = [a for a in await attempts(db) if a.outcome == "retry"]
    assert retries and all("retry after" in (a.detail or "").lower() for a in retries), retries
    assert stats.early_retries == 0, stats  # ...and no request came before its retry_after
    assert len(sandbox.sent(coordinator)) == 3  # no reply lost or sent twice either
