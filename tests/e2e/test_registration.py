"""Units register their chats with one-time codes; wrong codes are refused and throttled;
a removed bot marks the chat inactive. Everything through the sandbox over HTTP."""

import asyncio

from sqlalchemy import select

from bot.store.models import AuditEntry, Chat, Unit
from tests.e2e.conftest import TOKEN


async def chat_row(world, chat_id) -> Chat:
    async with world.db.session() as session:
        return await session.scalar(select(Chat).where(Chat.external_id == str(chat_id)))


async def test_a_unit_registers_its_group_and_the_coordinator_is_told(world):
    principal = world.person("Thầy Hùng")
    group = await world.group("THCS Chi Nê - Tuần lễ HTSĐ", admins=(principal,))
    code = await world.code_of("thcs-chi-ne")

    reply = await world.register(group, "thcs-chi-ne", principal)

    assert reply.startswith("✅ Đã đăng ký nhóm này cho Trường THCS Chi Nê.")
    chat = await chat_row(world, group)
    async with world.db.session() as session:
        unit = await session.get(Unit, chat.unit_id)
    assert (unit.code, chat.active, chat.kind) == ("thcs-chi-ne", True, "group")
    assert unit.registration_code != code  # spent: the next chat of the unit needs a new one
    sent = await world.sandbox.wait_sent(world.coordinator.id, 2)
    [notice] = sent[1:]  # after the reply to the coordinator's /start
    assert notice["text"] == (
        "✅ Trường THCS Chi Nê (thcs-chi-ne) đã đăng ký nhóm “THCS Chi Nê - Tuần lễ HTSĐ” "
        "(Telegram); người đăng ký: Thầy Hùng.\nTiến độ: 1/6 đơn vị đã đăng ký."
    )


async def test_a_principal_registers_in_a_private_chat(world):
    principal = world.person("Cô Mai")
    reply = await world.register(principal.id, "mn-an-binh", principal)
    assert "Trường Mầm non An Bình" in reply
    assert (await chat_row(world, principal.id)).kind == "private"
    assert "đã đăng ký tin nhắn riêng với Cô Mai (Telegram)" in world.notices()[-1]


async def test_the_bot_greets_a_group_that_adds_it(world):
    principal = world.person("Thầy Hùng")
    chat = world.sandbox.create_group("Tổ Toán", members=[principal.id], bots=[])
    world.sandbox.add_bot_to_chat(chat, TOKEN, by_user=principal.id)
    [greeting] = await world.sandbox.wait_sent(chat, 1)
    assert greeting["text"].startswith("👋 Xin chào! Loa là trợ lý của Tuần lễ")
    assert "Để nhóm nhận lịch và nhắc hạn của đơn vị, gõ /dangky MÃ" in greeting["text"]


async def test_a_wrong_code_is_refused_without_revealing_any_code(world):
    stranger = world.person("Người lạ")
    group = await world.group("Nhóm lạ", stranger)
    codes = [await world.code_of(u) for u in ("th-chi-ne", "thcs-chi-ne", "mn-an-binh")]

    reply = await stranger.asks(group, "/dangky ZZZZZZ")

    assert reply.startswith("❌ Mã không đúng, đã được dùng hoặc đã hết hạn.")
    assert not any(code in reply for code in codes)
    assert (await chat_row(world, group)).unit_id is None


async def test_a_reused_code_is_refused_and_the_new_code_works(world):
    principal = world.person("Thầy Hùng")
    first, second = await world.group("Nhóm 1", principal), await world.group("Nhóm 2", principal)
    code = await world.code_of("th-chi-ne")
    await principal.asks(first, f"/dangky {code}")

    assert (await principal.asks(second, f"/dangky {code}")).startswith("❌ Mã không đúng")
    assert "Trường Tiểu học Chi Nê" in await world.register(second, "th-chi-ne", principal)


async def test_codes_are_read_the_way_people_type_them(world):
    principal = world.person("Thầy Hùng")
    group = await world.group("Nhóm", principal)
    code = await world.code_of("thcs-khoan-du")
    typed = f"{code[:3].lower()}-{code[3:].lower()}"
    assert "Trường THCS Khoan Dụ" in await principal.asks(group, f"/dangky {typed}")


async def test_registering_twice_and_for_another_unit(world):
    principal = world.person("Thầy Hùng")
    group = await world.group("Nhóm", principal)
    await world.register(group, "th-chi-ne", principal)
    assert "Nhóm này đã đăng ký cho Trường Tiểu học Chi Nê rồi" in await world.register(
        group, "th-chi-ne", principal
    )
    other = await world.register(group, "thcs-chi-ne", principal)  # told the same: no oracle
    assert "đã đăng ký cho Trường Tiểu học Chi Nê rồi" in other and "/huydangky" in other


async def test_repeated_wrong_codes_are_throttled(world):
    guesser = world.person("Người đoán mã")
    group = await world.group("Nhóm đoán", guesser)
    for attempt in range(5):
        assert (await guesser.asks(group, f"/dangky AAAAA{attempt}")).startswith("❌")
    real = await world.code_of("th-chi-ne")

    reply = await guesser.asks(group, f"/dangky {real}")  # even the right code, for a while

    assert reply.startswith("⏳ Đã nhập sai mã nhiều lần. Vui lòng thử lại sau 15 phút.")
    assert (await chat_row(world, group)).unit_id is None
    # the same person in another chat is throttled too
    other = await world.group("Nhóm khác", guesser)
    assert (await guesser.asks(other, f"/dangky {real}")).startswith("⏳")


async def test_dangky_without_a_code_says_how(world):
    someone = world.person("Ai đó")
    assert (await someone.asks(someone.id, "/dangky")).startswith("Gõ /dangky kèm mã đơn vị")


async def test_unregister_by_a_group_admin_but_not_by_a_member(world):
    admin, member = world.person("Hiệu trưởng"), world.person("Giáo viên")
    group = await world.group("Nhóm trường", member, admins=(admin,))
    await world.register(group, "th-chi-ne", admin)

    assert (await member.asks(group, "/huydangky")).startswith("Chỉ quản trị viên")
    assert (await chat_row(world, group)).unit_id is not None

    told = len(world.notices())
    assert (await admin.asks(group, "/huydangky")).startswith("Đã hủy đăng ký")
    assert (await chat_row(world, group)).unit_id is None
    await world.sandbox.wait_sent(world.coordinator.id, told + 1)
    assert world.notices()[-1] == (
        "⚠️ Trường Tiểu học Chi Nê (th-chi-ne) đã hủy đăng ký nhóm “Nhóm trường” (Telegram); "
        "người thực hiện: Hiệu trưởng."
    )
    assert (await admin.asks(group, "/huydangky")) == "Nhóm này chưa đăng ký cho đơn vị nào."


async def test_the_coordinator_revokes_every_chat_of_a_unit_from_anywhere(world):
    principal, stranger = world.person("Thầy Hùng"), world.person("Người lạ")
    group = await world.group("Nhóm trường", admins=(principal,))
    await world.register(group, "th-chi-ne", principal)
    await world.register(stranger.id, "th-chi-ne", stranger)  # the code leaked

    reply = await world.coordinator.asks(world.coordinator.id, "/huydangky th-chi-ne")

    assert (
        reply.splitlines()[0]
        == "Đã hủy đăng ký 2 cuộc trò chuyện của Trường Tiểu học Chi Nê (th-chi-ne):"
    )
    assert "tin nhắn riêng với Người lạ (Telegram)" in reply
    for chat in (group, stranger.id):
        assert (await chat_row(world, chat)).unit_id is None
        assert world.sandbox.sent(chat)[-1]["text"].startswith("Cơ quan điều phối đã hủy đăng ký")
    assert (await world.coordinator.asks(world.coordinator.id, "/huydangky khong-co")).startswith(
        "Không có đơn vị mã “khong-co”"
    )


async def test_the_coordinator_may_unregister_any_chat(world):
    principal = world.person("Thầy Hùng")
    group = await world.group("Nhóm", principal, world.coordinator)
    await world.register(group, "th-chi-ne", principal)
    assert (await world.coordinator.asks(group, "/huydangky")).startswith("Đã hủy đăng ký")


async def test_a_removed_bot_marks_the_chat_inactive_and_tells_the_coordinator(world):
    principal = world.person("Thầy Hùng")
    group = await world.group("THCS Khoan Dụ", admins=(principal,))
    await world.register(group, "thcs-khoan-du", principal)
    told = len(world.notices())

    world.sandbox.remove_bot(group, TOKEN, by_user=principal.id)
    await world.sandbox.wait_sent(world.coordinator.id, told + 1)

    chat = await chat_row(world, group)
    assert chat.active is False and chat.left_at is not None
    assert "không còn gửi được tin vào nhóm “THCS Khoan Dụ” (Telegram)" in world.notices()[-1]
    assert "Trường THCS Khoan Dụ (thcs-khoan-du)" in world.notices()[-1]
    async with world.db.session() as session:
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-1] == "bot_removed"

    # added back: the chat is active again, the group and the coordinator are told
    world.sandbox.add_bot_to_chat(group, TOKEN, by_user=principal.id)
    welcome = (await world.sandbox.wait_sent(group, 3))[-1]["text"]
    assert "Nhóm này đã đăng ký cho Trường THCS Khoan Dụ" in welcome
    await world.sandbox.wait_sent(world.coordinator.id, told + 2)
    assert "Loa đã được thêm lại vào nhóm “THCS Khoan Dụ”" in world.notices()[-1]
    assert (await chat_row(world, group)).active is True


async def test_every_unit_registering_at_the_same_moment(world):
    codes = [
        "th-chi-ne",
        "thcs-chi-ne",
        "mn-an-binh",
        "thcs-khoan-du",
        "tthtcd-an-binh",
        "tthtcd-dong-tam",
    ]
    principals = [world.person(f"Hiệu trưởng {n}") for n in range(len(codes))]
    groups = [
        await world.group(f"Nhóm {code}", admins=(p,))
        for code, p in zip(codes, principals, strict=True)
    ]
    typed = [f"/dangky {await world.code_of(code)}" for code in codes]

    await asyncio.gather(*(p.says(g, t) for p, g, t in zip(principals, groups, typed, strict=True)))
    # and a few others asking at the same time
    await asyncio.gather(*(p.says(g, "/lich") for p, g in zip(principals, groups, strict=True)))

    for group in groups:
        replies = [m["text"] for m in await world.sandbox.wait_sent(group, 3)]
        assert replies[1].startswith("✅ Đã đăng ký nhóm này cho")  # in order: register, then /lich
        assert replies[2].startswith("🗓 Lịch sắp tới của")
    async with world.db.session() as session:
        bound = await session.scalars(select(Chat).where(Chat.unit_id.is_not(None)))
        assert len({chat.unit_id for chat in bound}) == 6
