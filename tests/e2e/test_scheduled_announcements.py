"""A coordinator schedules announcements from their phone, lists them, cancels one; the other
goes out at its time."""

import datetime as dt

from sqlalchemy import select

from bot.store.models import Delivery
from tests.e2e.conftest import VN, Running, start_world


async def test_schedule_list_cancel_and_delivery_on_time(sandbox, database):
    clock = Running(dt.datetime(2023, 10, 3, 9, 0, tzinfo=VN))
    world = await start_world(sandbox, database, clock)
    try:
        principal = world.person("Thầy Hùng")
        group = await world.group("Nhóm trường", admins=(principal,))
        await world.register(group, "th-chi-ne", principal)
        ask = world.coordinator.asks
        me = world.coordinator.id

        reply = await ask(me, "/thongbao 03/10 9h01 Nộp ảnh hoạt động trước 10h")
        assert reply.splitlines()[0] == (
            "🕖 Đã hẹn gửi thông báo lúc 9h01 Thứ Ba, 03/10/2023 tới 1 nhóm/cuộc trò chuyện."
        )
        await ask(me, "/thongbao 05/10 Họp tổng kết chiều thứ Năm")
        listing = await ask(me, "/lichthongbao")
        lines = listing.splitlines()
        assert lines[0] == "🕖 Thông báo đã hẹn giờ:"
        assert "9h01 Thứ Ba, 03/10/2023, 1 nơi nhận: “Nộp ảnh hoạt động trước 10h”" in lines[1]
        assert "7h00 Thứ Năm, 05/10/2023" in lines[2]
        later = lines[2].split(":")[0].lstrip("#")

        assert (await ask(me, f"/huythongbao {later}")).startswith(f"Đã hủy thông báo #{later}")
        assert (await ask(me, f"/huythongbao {later}")).startswith("Không có thông báo hẹn giờ")
        assert "05/10" not in await ask(me, "/lichthongbao")
        assert (await ask(me, "/thongbao 01/10 7h00 Muộn rồi")).startswith("Thời điểm 7h00")

        late = (await world.registered_groups("tthtcd-dong-tam"))[
            "tthtcd-dong-tam"
        ]  # registers after

        clock.set(dt.datetime(2023, 10, 3, 9, 0, 59, tzinfo=VN))  # a second before it is due
        world.loa.wake()
        for chat in (group, late):
            sent = await world.sandbox.wait_sent(chat, 3, timeout=5)  # greeting, registration, it
            assert "📢 Thông báo: Nộp ảnh hoạt động trước 10h" in sent[-1]["text"]
    finally:
        await world.loa.stop()
    async with database.session() as session:
        statuses = sorted(
            r.status
            for r in await session.scalars(select(Delivery).where(Delivery.kind == "announcement"))
        )
    assert statuses == ["cancelled", "sent", "sent"]
