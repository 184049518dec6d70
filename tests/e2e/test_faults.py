"""Sending when Telegram misbehaves: 5xx and 429 are retried and still arrive exactly once; a
403 deactivates the chat; a message that cannot be rendered fails alone; nothing stays claimed."""

import asyncio
import datetime as dt
import time

import pytest
from sqlalchemy import select

from bot.delivery import outbox
from bot.store.models import Chat, Delivery
from tests.e2e.conftest import VN, Running, start_world


@pytest.fixture
async def live(sandbox, database):
    """Loa on a clock that moves (real time, shifted into the Lạc Thủy week)."""
    world = await start_world(sandbox, database, Running(dt.datetime(2023, 10, 3, 9, tzinfo=VN)))
    yield world
    await world.loa.stop()


async def rows(world, **where):
    async with world.db.session() as session:
        query = select(Delivery).filter_by(**where).order_by(Delivery.id)
        return list(await session.scalars(query))


async def test_a_broadcast_through_5xx_and_429_still_arrives_once_everywhere(live):
    groups = await live.registered_groups("th-chi-ne", "thcs-chi-ne", "tthtcd-an-binh")
    live.sandbox.fail_next("sendMessage", count=2, status=502, description="Bad Gateway")
    live.sandbox.fail_next(
        "sendMessage", count=1, status=429, description="Too Many Requests: retry after 1"
    )
    async with live.db.session() as session, session.begin():
        now = live.loa.clock.now()
        await outbox.broadcast(session, live.loa.campaign_key, "Họp giao ban lúc 14h", [], now)
    live.loa.wake()

    for group in groups.values():
        await live.sandbox.wait_sent(group, 3, timeout=15)  # greeting, registration, broadcast
    await asyncio.sleep(0.3)  # anything sent twice would show up by now
    for group in groups.values():
        got = [m for m in live.sandbox.sent(group) if "Họp giao ban lúc 14h" in m["text"]]
        assert len(got) == 1
    assert {row.status for row in await rows(live, kind="announcement")} == {"sent"}
    assert live.sandbox.stats.injected_failures == 3


async def test_a_403_on_sending_deactivates_the_chat_and_tells_the_coordinator(live):
    groups = await live.registered_groups("thcs-khoan-du")
    told = len(live.notices())
    live.sandbox.fail_next(  # before the row exists: the sender may take it as soon as it does
        "sendMessage", status=403, description="Forbidden: bot was kicked from the supergroup chat"
    )
    async with live.db.session() as session, session.begin():
        [row] = await outbox.broadcast(
            session, live.loa.campaign_key, "Nhắc", [], live.loa.clock.now()
        )

    # The sender, woken by the registration, may be sending the row already: this waits for
    # its look to end (one at a time), then sends the row if it is still pending.
    await live.loa.dispatcher.send_due([row.id])
    await live.sandbox.wait_sent(live.coordinator.id, told + 1)

    [failed] = await rows(live, id=row.id)
    assert failed.status == "failed" and failed.last_error.startswith("unreachable")
    async with live.db.session() as session:
        chat = await session.scalar(
            select(Chat).where(Chat.external_id == str(groups["thcs-khoan-du"]))
        )
    assert chat.active is False
    assert "Loa đã bị xóa khỏi nhóm" in live.notices()[-1]


async def test_a_message_that_cannot_be_rendered_fails_alone(live, monkeypatch):
    await live.registered_groups("th-chi-ne")
    async with live.db.session() as session, session.begin():
        broken = await outbox.broadcast(
            session, live.loa.campaign_key, "A", [], live.loa.clock.now()
        )
        fine = await outbox.broadcast(session, live.loa.campaign_key, "B", [], live.loa.clock.now())
    text = live.loa.dispatcher.text

    def failing(row, unit, *missing):
        if row.id == broken[0].id:
            raise ValueError("an office edited a template badly")
        return text(row, unit, *missing)

    monkeypatch.setattr(live.loa.dispatcher, "text", failing)
    # after the sender's look, if one (woken by the registration) has them: one batch at a time
    await live.loa.dispatcher.send_due([broken[0].id, fine[0].id])

    assert [
        (r.status, (r.last_error or "")[:7]) for r in await rows(live, kind="announcement")
    ] == [
        ("failed", "render:"),
        ("sent", ""),
    ]


async def test_stopping_does_not_wait_for_a_broadcast_still_retrying(live):
    await live.registered_groups("th-chi-ne")
    live.sandbox.fail_next("sendMessage", count=50, status=502, description="Bad Gateway")
    await live.coordinator.says(live.coordinator.id, "/thongbao Thử")
    await asyncio.sleep(0.5)
    started = time.monotonic()
    await live.loa.stop()
    assert time.monotonic() - started < 3
    assert [row.status for row in await rows(live, kind="announcement")] == ["pending"]  # kept


async def test_rows_claimed_by_a_process_that_died_are_sent_at_start(sandbox, database):
    clock = Running(dt.datetime(2023, 10, 3, 9, tzinfo=VN))
    first = await start_world(sandbox, database, clock)
    group = (await first.registered_groups("th-chi-ne"))["th-chi-ne"]
    await first.loa.stop()
    before = len(sandbox.sent(group))
    async with database.session() as session, session.begin():
        [row] = await outbox.broadcast(session, "lac-thuy-2023", "Sau sự cố", [], clock.now())
        row.status = "sending"  # claimed, then the process was killed

    second = await start_world(sandbox, database, clock)
    try:
        sent = await sandbox.wait_sent(group, before + 1)
        assert "Sau sự cố" in sent[-1]["text"]
    finally:
        await second.loa.stop()
