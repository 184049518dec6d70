"""Every command, as a unit's staff and a coordinator use them (the campaign clock: 03/10/2023)."""

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.store.models import AuditEntry, Delivery
from tests.e2e.conftest import TOKEN, VN, FixedClock


async def test_start_in_an_unregistered_group_says_how_to_register(world):
    teacher = world.person("Cô Hoa")
    group = await world.group("Tổ Văn", teacher)
    reply = await teacher.asks(group, "/start")
    assert reply.startswith(
        "👋 Xin chào! Loa là trợ lý của Tuần lễ hưởng ứng học tập suốt đời năm 2023"
    )
    assert "gõ /dangky MÃ" in reply


async def test_start_in_a_private_chat_tells_the_person_their_id_for_loa_admins(world):
    teacher = world.person("Cô Hoa")
    reply = await teacher.asks(teacher.id, "/start")
    assert (
        f"Mã người dùng của bạn (cơ quan dùng mã này để giao quyền điều phối): telegram:{teacher.id}"
        in reply
    )
    assert "\nMã người dùng của bạn" in reply  # a line of its own
    group = await world.group("Tổ Văn", teacher)
    assert "Mã người dùng" not in await teacher.asks(group, "/start")


async def test_start_in_a_registered_group_names_the_unit(world):
    principal = world.person("Thầy Hùng")
    group = await world.group("Nhóm", principal)
    await world.register(group, "th-chi-ne", principal)
    assert "Nhóm này đã đăng ký cho: Trường Tiểu học Chi Nê." in await principal.asks(
        group, "/start"
    )


async def test_a_command_addressed_to_this_bot_by_name_works(world):
    teacher = world.person("Cô Hoa")
    group = await world.group("Tổ Văn", teacher)
    assert (await teacher.asks(group, "/help@loa_bot")).startswith("📖 Các lệnh của Loa:")


async def test_help_lists_coordinator_commands_only_to_coordinators(world):
    teacher = world.person("Cô Hoa")
    unit_help = await teacher.asks(teacher.id, "/help")
    for command in ("/lich", "/khaimac", "/khauhieu", "/dangky", "/huydangky", "/help", "/start"):
        assert command in unit_help
    assert "/thongbao" not in unit_help
    coordinator_help = await world.coordinator.asks(world.coordinator.id, "/help")
    assert "/thongbao" in coordinator_help and "/tiendo" in coordinator_help


async def test_the_command_menu_is_set_for_everyone_and_for_coordinators(world):
    menus = world.sandbox.commands(TOKEN)
    assert [c["command"] for c in menus["default"]] == [
        "lich", "khaimac", "khauhieu", "baocao", "xem", "sua", "nhaplieu", "anh", "dangky",
        "huydangky", "help",
        "start",
    ]  # fmt: skip
    # the coordinator's menu is set once they open a chat with the bot (/start, in the fixture)
    scope = f"chat:{world.coordinator.id}"
    for _ in range(100):
        if scope in (menus := world.sandbox.commands(TOKEN)):
            break
        await asyncio.sleep(0.02)
    coordinator_menu = [c["command"] for c in menus[scope]]
    assert coordinator_menu[12:] == [
        "thongbao", "lichthongbao", "huythongbao", "tiendo", "xuat", "quanly",
    ]  # fmt: skip
    assert all(c["description"] for c in menus["default"])


async def test_lich_shows_this_units_upcoming_deadlines(world):
    principal = world.person("Thầy Hùng")
    group = await world.group("Nhóm", principal)
    await world.register(group, "th-chi-ne", principal)
    reply = await principal.asks(group, "/lich")
    assert reply.splitlines() == [
        "🗓 Lịch sắp tới của Trường Tiểu học Chi Nê:",
        "- Chủ Nhật, 08/10/2023: kết thúc Tuần lễ",
        "- Hạn trước ngày Thứ Năm, 12/10/2023: Báo cáo kết quả thực hiện Tuần lễ (theo mẫu, kèm một số hình ảnh tiêu biểu) gửi Phòng Giáo dục và Đào tạo qua bộ phận GDTX, email gdtx.lat@hoabinh.edu.vn",
    ]


async def test_lich_in_an_unregistered_chat_lists_everything_and_says_why(world):
    teacher = world.person("Cô Hoa")
    reply = await teacher.asks(teacher.id, "/lich")
    assert "Báo cáo kết quả thực hiện Tuần lễ" in reply
    assert "Cuộc trò chuyện này chưa đăng ký đơn vị nên Loa liệt kê mọi hạn" in reply


async def test_khaimac_gives_time_place_and_participants(world):
    teacher = world.person("Cô Hoa")
    reply = await teacher.asks(teacher.id, "/khaimac")
    assert reply.splitlines()[:3] == [
        "🎤 Lễ khai mạc Tuần lễ hưởng ứng học tập suốt đời năm 2023",
        "- Thời gian: 8h00, Thứ Hai, 02/10/2023",
        "- Địa điểm: Theo hướng dẫn của Ủy ban nhân dân các xã, thị trấn",
    ]
    assert "Đại diện Ban giám hiệu, giáo viên, học sinh trong nhà trường" in reply
    assert "Kế hoạch chưa nêu chương trình chi tiết." in reply


async def test_khauhieu_outside_a_plan_without_slogans(world):
    teacher = world.person("Cô Hoa")
    assert (
        await teacher.asks(teacher.id, "/khauhieu") == "Kế hoạch không nêu khẩu hiệu cho Tuần lễ."
    )


async def test_unknown_commands_and_plain_text_get_a_hint(world):
    teacher = world.person("Cô Hoa")
    assert "Loa không có lệnh /abc" in await teacher.asks(teacher.id, "/abc")
    assert "Gõ /help" in await teacher.asks(teacher.id, "xin chào")


async def test_plain_group_chatter_is_not_answered(world):
    teacher = world.person("Cô Hoa")
    group = await world.group("Tổ Văn", teacher)
    await teacher.says(group, "Chiều nay họp tổ nhé")
    await teacher.asks(group, "/help")  # the next thing the bot says is the help, nothing before
    assert len(world.sandbox.sent(group)) == 2  # the greeting when it joined, and the help


@pytest.mark.parametrize("command", ["/thongbao Họp gấp", "/tiendo"])
async def test_coordinator_commands_are_refused_to_anyone_else(world, command):
    principal = world.person("Thầy Hùng")
    group = await world.group("Nhóm", principal)
    await world.register(group, "th-chi-ne", principal)
    name = command.split()[0]

    reply = await principal.asks(group, command)

    assert reply == f"Lệnh {name} chỉ dành cho cán bộ điều phối."
    async with world.db.session() as session:
        broadcasts = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.kind == "announcement")
        )
        refused = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "refused")
        )
    assert (broadcasts, refused) == (0, 1)
    assert len(world.sandbox.sent(group)) == 3  # greeting, registration, refusal


async def test_tiendo_shows_who_registered(world):
    principal = world.person("Thầy Hùng")
    group = await world.group("Nhóm THCS Chi Nê", principal)
    await world.register(group, "thcs-chi-ne", principal)

    reply = await world.coordinator.asks(world.coordinator.id, "/tiendo TT Chi Nê")

    assert reply.startswith("📍 TT Chi Nê\n📊 Tiến độ đăng ký: 1/2 đơn vị đang nhận tin của Loa.")
    assert "Các trường học trực thuộc Phòng Giáo dục và Đào tạo: 1/2" in reply
    assert "✅ Trường THCS Chi Nê (thcs-chi-ne): nhóm “Nhóm THCS Chi Nê” (Telegram)" in reply
    assert "⬜ Trường Tiểu học Chi Nê (th-chi-ne): chưa đăng ký" in reply
    assert "Đồng Tâm" not in reply  # another commune's


async def test_tiendo_counts_each_commune_on_a_line(world):
    principal = world.person("Thầy Hùng")
    group = await world.group("Nhóm THCS Chi Nê", principal)
    await world.register(group, "thcs-chi-ne", principal)
    await principal.asks(group, "/sua 1 3")

    reply = await world.coordinator.asks(world.coordinator.id, "/tiendo")

    lines = reply.splitlines()
    assert lines[0] == "📊 Tiến độ đăng ký: 1/6 đơn vị đang nhận tin của Loa."
    start = lines.index("Theo xã, phường: đơn vị nhận tin/số đơn vị · 📝 đủ/đang nhập/chưa gửi")
    assert lines[start + 1 : start + 3] == [
        "• TT Chi Nê: 1/2 · 📝 0/1/1",
        "• xã An Bình: 0/2 · 📝 0/0/2",
    ]
    assert "(thcs-chi-ne)" not in reply  # no unit one by one: a province has 1,600
    assert "Từng đơn vị của một xã, phường: /tiendo TÊN (ví dụ /tiendo TT Chi Nê)." in reply

    partly = await world.coordinator.asks(world.coordinator.id, "/tiendo an bình")
    assert partly.startswith("📍 xã An Bình\n📊 Tiến độ đăng ký: 0/2 đơn vị")
    unknown = await world.coordinator.asks(world.coordinator.id, "/tiendo Hà Nội")
    assert "Không có xã, phường nào tên “Hà Nội”." in unknown


async def test_slogan_of_the_day_in_a_campaign_with_slogans(sandbox, database):
    from bot.campaign.loader import load_campaign
    from tests.conftest import SCHEDULES, SEEDS
    from tests.e2e.conftest import start_world

    world = await start_world(sandbox, database, FixedClock(dt.datetime(2023, 10, 3, 9, tzinfo=VN)))
    try:
        world.loa.campaign = load_campaign(SCHEDULES / SEEDS["quan-12"])  # 01/10 - 07/10/2021
        world.loa.clock.at = dt.datetime(2021, 10, 3, 12, tzinfo=VN)
        teacher = world.person("Cô Hoa")
        reply = await teacher.asks(teacher.id, "/khauhieu")
        assert reply.startswith("💡 Khẩu hiệu ngày 3 của Tuần lễ (Chủ Nhật, 03/10/2021):")
    finally:
        await world.loa.stop()
