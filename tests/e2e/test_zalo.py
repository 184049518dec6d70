"""The same bot on Zalo, through the sandbox Zalo Bot API, and a campaign that mixes platforms.

Zalo passes on only the group messages that mention the bot, so people in a Zalo group write
`@Loa …`; a unit may also be served in its principal's private chat. The clock stands on
09/10/2023, in the Lạc Thủy report window.
"""

import asyncio
import datetime as dt
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.app import Loa
from bot.campaign.loader import load_campaign
from bot.channels.defaults import ZaloLimits
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel
from bot.sandbox.zalo import Limits, ZaloSandbox
from bot.store import answers
from bot.store.models import Chat, Delivery, DeliveryAttempt, Unit
from tests.conftest import SCHEDULES, SEEDS
from tests.e2e.conftest import TOKEN, UNLIMITED, VN, FixedClock, Person, World

ZALO_TOKEN = "4400:zalo-test-token"
FAST = ZaloLimits(overall_per_second=1000, chat_per_second=1000)


@dataclass
class ZaloPerson:
    sandbox: ZaloSandbox
    id: str
    name: str

    async def says(self, chat: str, text: str, reply_to: str | None = None) -> dict:
        return await self.sandbox.post(chat, self.id, text, reply_to)

    async def asks(self, chat: str, text: str, timeout: float = 5.0) -> str:
        before = len(self.sandbox.sent(chat))
        await self.says(chat, text)
        return (await self.sandbox.wait_sent(chat, before + 1, timeout))[before]["text"]


@dataclass
class Mixed:
    world: World  # the Telegram side, with the coordinator
    zalo: ZaloSandbox
    zalo_coordinator: ZaloPerson

    def person(self, name: str) -> ZaloPerson:
        return ZaloPerson(self.zalo, self.zalo.add_user(name), name)

    async def group(self, title: str, *admins: ZaloPerson) -> str:
        return self.zalo.create_group(
            title, bots=[ZALO_TOKEN], admins=[a.id for a in admins], members=[a.id for a in admins]
        )

    async def register(self, chat: str, unit_code: str, who: ZaloPerson, mention: str) -> str:
        told = len(self.world.notices())
        reply = await who.asks(chat, f"{mention}/dangky {await self.world.code_of(unit_code)}")
        if reply.startswith("✅"):
            await self.world.sandbox.wait_sent(self.world.coordinator.id, told + 1)
        return reply


@pytest.fixture
def clock():
    return FixedClock(dt.datetime(2023, 10, 9, 9, 0, tzinfo=VN))


@pytest.fixture
async def zalo() -> AsyncIterator[ZaloSandbox]:
    async with ZaloSandbox(limits=Limits.off()) as sandbox:
        sandbox.add_bot(ZALO_TOKEN, display_name="Loa")
        yield sandbox


@pytest.fixture
async def mixed(sandbox, zalo, database, clock) -> AsyncIterator[Mixed]:
    coordinator = Person(sandbox, sandbox.add_user("Cô Lan", username="lan_pgd"), "Cô Lan")
    zalo_coordinator = ZaloPerson(zalo, zalo.add_user("Thầy Bình (Phòng)"), "Thầy Bình")
    channels = {
        "telegram": TelegramChannel(
            TOKEN, api_base_url=sandbox.base_url, poll_timeout=1, limits=UNLIMITED
        ),
        "zalo": ZaloChannel(ZALO_TOKEN, api_base_url=zalo.base_url, poll_timeout=1, limits=FAST),
    }
    loa = Loa(
        load_campaign(SCHEDULES / SEEDS["lac-thuy"]),
        "lac-thuy-2023",
        database,
        channels,
        coordinators=frozenset({f"telegram:{coordinator.id}", f"zalo:{zalo_coordinator.id}"}),
        clock=clock,
        notice_every=0,  # each notice as it comes: these conversations read them one by one
    )
    await loa.start()
    world = World(sandbox, loa, database, coordinator)
    await coordinator.asks(coordinator.id, "/start")
    await zalo_coordinator.asks(zalo_coordinator.id, "/start")
    yield Mixed(world, zalo, zalo_coordinator)
    await loa.stop()


async def parts_in(sandbox, chat, count: int = 11) -> list[dict]:
    """Wait for the form's parts in a chat; return them in order."""
    for _ in range(50):
        parts = [m for m in sandbox.sent(chat) if "📝 Số liệu Tuần lễ, phần" in m.get("text", "")]
        if len(parts) >= count:
            return parts
        await sandbox.wait_sent(chat, len(sandbox.sent(chat)) + 1, timeout=5)
    raise AssertionError("the form did not arrive")


async def test_a_unit_registers_and_uses_commands_in_a_zalo_private_chat(mixed):
    director = mixed.person("Bà Hoa")
    assert (await director.asks(director.id, "/start")).startswith("👋")
    reply = await mixed.register(director.id, "tthtcd-an-binh", director, mention="")
    assert reply.startswith("✅ Đã đăng ký cuộc trò chuyện này cho Trung tâm học tập cộng đồng")
    assert "(Zalo)" in mixed.world.notices()[-1]
    await parts_in(mixed.zalo, director.id)  # the form follows the registration
    schedule = await director.asks(director.id, "/lich")
    assert "12/10/2023" in schedule
    assert "/baocao" in await director.asks(director.id, "/help")
    async with mixed.world.db.session() as session:
        chat = await session.scalar(
            select(Chat).where(Chat.platform == "zalo", Chat.external_id == director.id)
        )
    assert (chat.external_id, chat.kind, chat.unit_id is not None) == (director.id, "private", True)


async def test_a_zalo_group_answers_through_mentions_and_replies(mixed):
    principal = mixed.person("Thầy Hùng")
    group = await mixed.group("Trường TH Chi Nê", principal)
    reply = await mixed.register(group, "th-chi-ne", principal, mention="@Loa ")
    assert reply.startswith("✅ Đã đăng ký nhóm này cho Trường Tiểu học Chi Nê")
    parts = await parts_in(mixed.zalo, group)
    assert all(len(p["text"]) <= 2000 for p in parts)

    ack = await principal.asks(group, "@Loa 1.2: 3 lớp, 120 người\n1.3: -1")
    assert "3 lớp, 120 người" in ack and "❌ Mục 1.3" in ack
    # a bare figure needs a question it answers: /baocao asks one, the next mention answers it
    question = await principal.asks(group, "@Loa /baocao")
    assert question.startswith("📝 Mục 1: Các lớp bồi dưỡng")
    ack = await principal.asks(group, "@Loa 12")
    assert "1. Các lớp bồi dưỡng, tập huấn tổ chức trong Tuần lễ: 12" in ack
    assert "📝 Mục 1.1" in ack
    hint = await principal.asks(group, "@Loa không biết")  # not a figure: says what it needs
    assert hint.startswith("❌ Mục 1.1 “không biết”")
    async with mixed.world.db.session() as session:
        unit = await session.scalar(select(Unit).where(Unit.code == "th-chi-ne"))
        stored = await answers.values(session, "lac-thuy-2023", unit.id)
    assert stored == {"1.2": (3, 120), "1": (12,)}


async def test_a_mixed_campaign_broadcasts_once_to_each_and_exports_one_table(mixed):
    world = mixed.world
    telegram_groups = await world.registered_groups("thcs-chi-ne")
    principal = mixed.person("Cô Thu")
    zalo_group = await mixed.group("Trường MN An Bình", principal)
    await mixed.register(zalo_group, "mn-an-binh", principal, mention="@Loa ")
    director = mixed.person("Bà Hoa")
    await mixed.register(director.id, "tthtcd-an-binh", director, mention="")
    telegram_parts = await parts_in(world.sandbox, telegram_groups["thcs-chi-ne"])
    await parts_in(mixed.zalo, zalo_group)
    await parts_in(mixed.zalo, director.id)

    before = {chat: len(mixed.zalo.sent(chat)) for chat in (zalo_group, director.id)}
    before_tg = len(world.sandbox.sent(telegram_groups["thcs-chi-ne"]))
    done = await world.coordinator.asks(world.coordinator.id, "/thongbao Họp giao ban lúc 14h")
    assert done.startswith("📤 Đang gửi thông báo tới 3 nhóm/cuộc trò chuyện")
    await world.sandbox.wait_sent(world.coordinator.id, len(world.notices()) + 1, timeout=10)
    assert "3" in world.notices()[-1]  # the report once all went
    for chat in (zalo_group, director.id):
        new = [m["text"] for m in mixed.zalo.sent(chat)[before[chat] :]]
        assert [t for t in new if "Họp giao ban lúc 14h" in t] == [new[0]]  # once each
    new_tg = [m["text"] for m in world.sandbox.sent(telegram_groups["thcs-chi-ne"])[before_tg:]]
    assert len([t for t in new_tg if "Họp giao ban lúc 14h" in t]) == 1
    async with world.db.session() as session:
        rows = list(await session.scalars(select(Delivery).where(Delivery.kind == "announcement")))
    assert len(rows) == 3 and {r.status for r in rows} == {"sent"}

    # figures from both platforms
    await world.sandbox.post(
        telegram_groups["thcs-chi-ne"], world.coordinator.id, "1.2: 2/40",
        reply_to=telegram_parts[0]["message_id"],
    )  # fmt: skip
    await principal.asks(zalo_group, "@Loa 1.2: 3/60")
    await director.asks(director.id, "1.2: 1/20\n10.1: 2 triệu")

    # a Zalo coordinator cannot get files there; a Telegram one gets the table
    refused = await mixed.zalo_coordinator.asks(mixed.zalo_coordinator.id, "/xuat")
    assert refused.startswith("Zalo chưa cho bot gửi tệp")
    count = len(world.notices())
    await world.coordinator.says(world.coordinator.id, "/xuat")
    sent = await world.sandbox.wait_sent(world.coordinator.id, count + 2)
    book = load_workbook(io.BytesIO(sent[-1]["sandbox"]["file_bytes"]))
    totals = book["Tổng hợp"]
    codes = [row.code for row in world.loa.campaign.form.rows()]
    line = 7 + codes.index("1.2")
    assert (totals.cell(line, 4).value, totals.cell(line, 5).value) == (6, 120)
    assert book["mn-an-binh"].cell(line, 4).value == 3  # the Zalo group's own sheet
    assert totals.cell(7 + codes.index("10.1"), 4).value == 2_000_000


async def test_a_zalo_chat_is_given_up_only_after_failures_over_an_hour(mixed, clock):
    """Zalo's 403 is its internal server error, not "blocked": one failed send deactivates
    nothing; three over at least an hour give the chat up, and the coordinators are told then."""
    director = mixed.person("Bà Hoa")
    await director.asks(director.id, "/start")
    await mixed.register(director.id, "tthtcd-an-binh", director, mention="")
    await parts_in(mixed.zalo, director.id)
    mixed.zalo.remove_bot(director.id, ZALO_TOKEN)  # she blocks Loa, or Zalo fails: 403 alike
    world = mixed.world
    told = len(world.notices())
    await world.coordinator.says(world.coordinator.id, "/thongbao Họp giao ban lúc 14h")
    for failures, later in ((1, 0), (2, 30), (3, 31)):  # minutes between the tries
        clock.at += dt.timedelta(minutes=later)
        world.loa.wake()
        await doubtful_failures(world.db, director.id, failures)
        if failures < 3:
            assert await active(world.db, director.id), f"given up after {failures}"
    await world.sandbox.wait_sent(world.coordinator.id, told + 2, timeout=10)
    notices = world.notices()[told:]
    assert not any("Loa không còn" in n for n in notices[:1])  # not before the third failure
    await world.sandbox.wait_sent(world.coordinator.id, told + 3, timeout=10)
    notices = world.notices()[told:]
    assert any("Loa không còn nhắn tin riêng được cho Bà Hoa (Zalo)" in n for n in notices)
    assert not await active(world.db, director.id)


async def doubtful_failures(db, chat_id: str, count: int) -> None:
    """Wait until the chat's sends have failed `count` times with Zalo's 403."""
    for _ in range(500):
        async with db.session() as session:
            failed = await session.scalar(
                select(func.count())
                .select_from(DeliveryAttempt)
                .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
                .join(Chat, Chat.id == Delivery.chat_id)
                .where(Chat.external_id == chat_id, DeliveryAttempt.detail.like("%403%"))
            )
        if failed >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{failed} failed sends to {chat_id}, not {count}")


async def active(db, chat_id: str) -> bool:
    async with db.session() as session:
        chat = await session.scalar(select(Chat).where(Chat.external_id == chat_id))
    return chat.active


async def test_a_coordinator_unregisters_a_zalo_unit_from_telegram(mixed):
    principal = mixed.person("Thầy Hùng")
    group = await mixed.group("Trường TH Chi Nê", principal)
    await mixed.register(group, "th-chi-ne", principal, mention="@Loa ")
    await parts_in(mixed.zalo, group)
    refused = await principal.asks(group, "@Loa /huydangky")  # Zalo names no group admins
    assert refused == "Chỉ quản trị viên của nhóm hoặc cán bộ điều phối mới hủy đăng ký được."
    done = await mixed.world.coordinator.asks(mixed.world.coordinator.id, "/huydangky th-chi-ne")
    assert "Đã hủy đăng ký 1 cuộc trò chuyện của Trường Tiểu học Chi Nê" in done
    assert "- một nhóm không tên (Zalo)" in done  # Zalo does not tell groups' names
    await mixed.zalo.wait_sent(group, len(mixed.zalo.sent(group)))
    async with mixed.world.db.session() as session:
        chat = await session.scalar(select(Chat).where(Chat.external_id == group))
    assert chat.unit_id is None
