"""200 units registering within seconds while the coordinator broadcasts (issue 13, item 7), with
Telegram's limits (1 message a second in a private chat): the coordinator's /thongbao is answered
within 2 s and starts going out within 5 s, and the 200 notices reach them in at most 5 messages
that still name every unit."""

from __future__ import annotations

import asyncio
import time

from bot.campaign.units import Unit as CsvUnit
from bot.channels.defaults import TelegramLimits
from bot.sandbox.telegram import Limits, TelegramSandbox
from bot.store import chats
from bot.store.units import import_units
from tests.faults.helpers import drop_updates, registering_clock, sender_idle, start_loa

TOKEN = "767676:registration-storm-token"
UNITS = 200
TEXT = "Họp trực tuyến lúc 14h"
GAP = 0.06  # seconds between two registrations: 200 in 12 s, five times "in a minute"


async def answer_and_broadcast(sandbox: TelegramSandbox, coordinator: int) -> tuple[float, float]:
    """Seconds from /thongbao to its answer, and to the first group that has the announcement."""
    asked = time.monotonic()
    before = len(sandbox.sent(coordinator))
    await sandbox.post(coordinator, coordinator, f"/thongbao {TEXT}")
    await sandbox.wait_sent(coordinator, before + 1, timeout=10)
    answered = time.monotonic() - asked
    while not any(TEXT in m.get("text", "") for m in sandbox.sent() if m["chat"]["id"] < 0):
        if time.monotonic() - asked > 30:
            raise TimeoutError(
                f"no group has the announcement; the coordinator: {sandbox.sent(coordinator)[-3:]}"
            )
        await asyncio.sleep(0.01)
    return answered, time.monotonic() - asked


async def test_200_registrations_never_hold_up_the_coordinator(db):
    async with TelegramSandbox(limits=Limits.off()) as sandbox:
        sandbox.add_bot(TOKEN, username="loa_bot")
        coordinator = sandbox.add_user("Cô Lan")
        principal = sandbox.add_user("Thầy Minh")
        groups = [
            sandbox.create_group(f"Trường {i:03}", members=[principal], bots=[TOKEN])
            for i in range(UNITS)
        ]
        units = [
            CsvUnit(f"t{i:03}", f"Trường {i:03}", "truong-hoc", "Lạc Thủy") for i in range(UNITS)
        ]
        async with db.session() as session, session.begin():
            await import_units(session, units)
            codes = {u.code: u.registration_code for u in await chats.all_units(session)}
        await drop_updates(sandbox, TOKEN)
        loa = await start_loa(
            sandbox, db, TOKEN, TelegramLimits(), coordinator=coordinator, clock=registering_clock()
        )
        try:
            await sandbox.post(coordinator, coordinator, "/start")
            await sandbox.wait_sent(coordinator, 1, timeout=5)
            await sender_idle(loa)
            for i, group in enumerate(groups):
                await sandbox.post(group, principal, f"/dangky {codes[f't{i:03}']}")
                if i == UNITS // 2:  # in the middle of the storm
                    before = len(sandbox.sent(coordinator))
                    timing = asyncio.create_task(answer_and_broadcast(sandbox, coordinator))
                await asyncio.sleep(GAP)
            answered, broadcasting = await timing
            for group in groups:
                await sandbox.wait_sent(group, 1, timeout=30)  # every registration answered
        finally:
            await loa.stop()  # what still waits is sent now, in one message
    texts = [m["text"] for m in sandbox.sent(coordinator)]
    print(f"answered in {answered:.2f}s, broadcasting in {broadcasting:.2f}s")
    assert texts[before].startswith("📤 Đang gửi"), texts[before]  # the answer, before notices
    assert answered < 2.0
    assert broadcasting < 5.0
    notices = [t for t in texts if "đăng ký" in t and "thông báo tới" not in t][1:]  # not /start
    assert 1 <= len(notices) <= 5, notices
    named = sum(t.count("(t") for t in notices)  # each unit named with its code
    counted = sum(
        int(t.split("✅ ")[1].split(" đơn vị")[0]) if t.startswith("📋") else 1 for t in notices
    )
    assert counted == UNITS, notices
    assert named >= min(UNITS, 20 * (len(notices) - 1) + 1)
