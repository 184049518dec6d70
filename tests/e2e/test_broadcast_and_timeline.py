"""Coordinator broadcasts and the campaign timeline reach every registered chat exactly once."""

import datetime as dt
import time
from collections import Counter

from sqlalchemy import select

from bot.store.models import Delivery
from tests.e2e.conftest import TOKEN, VN, Running, start_world


def announcements(world, chat):
    return [m["text"] for m in world.sandbox.sent(chat) if "📢 Thông báo:" in m["text"]]


async def test_a_broadcast_reaches_every_registered_group_exactly_once(world):
    groups = await world.registered_groups(
        "th-chi-ne", "thcs-chi-ne", "mn-an-binh", "tthtcd-an-binh", "tthtcd-dong-tam"
    )
    unregistered = await world.group("Nhóm chưa đăng ký", world.person("Ai đó"))
    text = "Đề nghị các đơn vị gửi ảnh hoạt động\ntrước 16h hôm nay."

    started = await world.coordinator.asks(world.coordinator.id, f"/thongbao {text}")
    assert started == "📤 Đang gửi thông báo tới 5 nhóm/cuộc trò chuyện của đơn vị..."
    done = await world.sandbox.wait_sent(world.coordinator.id, len(world.notices()) + 1)

    assert done[-1]["text"] == "✅ Đã gửi thông báo tới cả 5 nhóm/cuộc trò chuyện."
    for group in groups.values():
        [message] = announcements(world, group)
        assert message.startswith("Kính gửi: ")
        assert f"📢 Thông báo: {text}" in message
    assert announcements(world, unregistered) == []


async def test_a_broadcast_to_one_unit_type(world):
    groups = await world.registered_groups("th-chi-ne", "tthtcd-an-binh")
    reply = await world.coordinator.asks(
        world.coordinator.id, "/thongbao tthtcd Họp trực tuyến 14h"
    )
    assert (
        reply
        == "📤 Đang gửi thông báo tới 1 nhóm/cuộc trò chuyện của đơn vị (Các Trung tâm học tập cộng đồng các xã, thị trấn)..."
    )
    await world.sandbox.wait_sent(world.coordinator.id, len(world.notices()) + 1)
    assert len(announcements(world, groups["tthtcd-an-binh"])) == 1
    assert announcements(world, groups["th-chi-ne"]) == []


async def test_thongbao_without_text_explains_itself(world):
    reply = await world.coordinator.asks(world.coordinator.id, "/thongbao")
    assert reply.startswith("Gõ /thongbao kèm nội dung")
    assert "- tthtcd: Các Trung tâm học tập cộng đồng các xã, thị trấn" in reply


async def test_a_broadcast_to_a_group_that_removed_the_bot_is_reported(world):
    groups = await world.registered_groups("th-chi-ne", "thcs-chi-ne")
    world.sandbox.remove_bot(groups["thcs-chi-ne"], TOKEN)  # bot kicked; Loa not yet told...
    await world.sandbox.wait_sent(world.coordinator.id, len(world.notices()) + 1)  # ...now it is

    await world.coordinator.asks(world.coordinator.id, "/thongbao Nhắc nộp báo cáo")
    done = await world.sandbox.wait_sent(world.coordinator.id, len(world.notices()) + 1)

    assert (
        done[-1]["text"] == "✅ Đã gửi thông báo tới cả 1 nhóm/cuộc trò chuyện."
    )  # inactive chats are skipped
    assert len(announcements(world, groups["th-chi-ne"])) == 1


async def test_the_timeline_goes_out_when_due_once_per_group(sandbox, database):
    clock = Running(dt.datetime(2023, 10, 1, 6, 0, tzinfo=VN))
    world = await start_world(sandbox, database, clock)
    try:
        groups = await world.registered_groups("th-chi-ne", "tthtcd-dong-tam")
        # one second before the ceremony notice of 01/10/2023 7h00 (the day before the opening)
        clock.set(dt.datetime(2023, 10, 1, 6, 59, 59, tzinfo=VN))
        world.loa.wake()
        started = time.monotonic()
        for group in groups.values():
            sent = await world.sandbox.wait_sent(group, 3, timeout=5)  # greeting, reply, notice
            assert sent[2]["text"].startswith("Kính gửi: ")
            assert (
                "📅 Thông báo Lễ khai mạc Tuần lễ hưởng ứng học tập suốt đời năm 2023 (còn 1 ngày)"
                in sent[2]["text"]
            )
        assert time.monotonic() - started < 3
    finally:
        await world.loa.stop()  # lets the dispatcher record what it sent
    async with world.db.session() as session:
        statuses = Counter(
            (row.kind, row.status) for row in await session.scalars(select(Delivery))
        )
    assert statuses[("opening_notice", "sent")] == 2, statuses
    assert not any(status == "failed" for _, status in statuses)
    assert sum("📅" in m["text"] for g in groups.values() for m in world.sandbox.sent(g)) == 2
