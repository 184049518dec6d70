"""Links to the web console, asked for in chat: a coordinator types /quanly in a private chat on
Telegram or Zalo and signs in with what Loa answers; in a group they are told to write privately
and no link is shown; /xuat on Zalo answers with a download link. The console is served beside
Loa, as `loa run` serves it (the clock: 09/10/2023, in the report window)."""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import Loa
from bot.campaign.loader import load_campaign
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel
from bot.ops import signin
from bot.ops.signin import TicketKind
from bot.sandbox.zalo import ZaloSandbox
from bot.service import Site, console_of, web_console
from bot.store.models import AuditEntry, WebTicket
from tests.conftest import SCHEDULES, SEEDS
from tests.e2e.conftest import TOKEN, UNLIMITED, Person, World
from tests.e2e.test_webhook_and_secrets import free_port
from tests.e2e.test_zalo import FAST, ZALO_TOKEN, ZaloPerson
from tests.e2e.test_zalo import clock as clock  # the report window's clock
from tests.e2e.test_zalo import zalo as zalo  # the Zalo sandbox fixture

LOGIN = re.compile(r"(http://127\.0\.0\.1:\d+)/login/([A-Za-z0-9_-]+)")
DOWNLOAD = re.compile(r"(http://127\.0\.0\.1:\d+)/t/([A-Za-z0-9_-]+)")


@dataclass
class Served:
    world: World  # the Telegram side, with its coordinator
    zalo: ZaloSandbox
    zalo_coordinator: ZaloPerson
    address: str  # the console's

    def person(self, name: str) -> ZaloPerson:
        return ZaloPerson(self.zalo, self.zalo.add_user(name), name)


async def served_world(sandbox, zalo, database, clock, web: bool = True) -> AsyncIterator[Served]:
    coordinator = Person(sandbox, sandbox.add_user("Cô Lan", username="lan_pgd"), "Cô Lan")
    zalo_coordinator = ZaloPerson(zalo, zalo.add_user("Thầy Bình (Phòng)"), "Thầy Bình")
    site = Site("127.0.0.1", free_port())
    loa = Loa(
        load_campaign(SCHEDULES / SEEDS["lac-thuy"]),
        "lac-thuy-2023",
        database,
        {
            "telegram": TelegramChannel(
                TOKEN, api_base_url=sandbox.base_url, poll_timeout=1, limits=UNLIMITED
            ),
            "zalo": ZaloChannel(
                ZALO_TOKEN, api_base_url=zalo.base_url, poll_timeout=1, limits=FAST
            ),
        },
        coordinators=frozenset({f"telegram:{coordinator.id}", f"zalo:{zalo_coordinator.id}"}),
        clock=clock,
        notice_every=0,
        public_url=f"http://{site}" if web else None,
    )
    world = World(sandbox, loa, database, coordinator)
    served = Served(world, zalo, zalo_coordinator, f"http://{site}")
    if not web:
        await loa.start()
        yield served
        await loa.stop()
        return
    async with web_console(console_of(loa, site), site):
        await loa.start()
        try:
            yield served
        finally:
            await loa.stop()


@pytest.fixture
async def served(sandbox, zalo, database, clock) -> AsyncIterator[Served]:
    async for world in served_world(sandbox, zalo, database, clock):
        yield world


@pytest.fixture
async def unserved(sandbox, zalo, database, clock) -> AsyncIterator[Served]:
    async for world in served_world(sandbox, zalo, database, clock, web=False):
        yield world


async def signs_in(address: str, reply: str) -> httpx.Response:
    """Follow the link in `reply` as a browser would: the page, then its button."""
    found = LOGIN.search(reply)
    assert found, reply
    assert found[1] == address
    async with httpx.AsyncClient(base_url=address) as browser:
        page = await browser.get(f"/login/{found[2]}")
        assert page.status_code == 200
        answer = await browser.post(f"/login/{found[2]}")
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        assert "loa_session" in answer.cookies
        home = await browser.get("/deliveries")  # a page only a session opens
        assert home.status_code == 200
        return answer


async def test_quanly_in_a_private_telegram_chat_gives_a_link_that_signs_in(served):
    coordinator = served.world.coordinator
    reply = await coordinator.asks(coordinator.id, "/quanly")
    assert reply.startswith(
        "🔑 Liên kết vào trang quản lý của Loa, dùng được một lần trong 15 phút"
    )
    await signs_in(served.address, reply)
    async with httpx.AsyncClient(base_url=served.address) as other:  # spent: not a second time
        again = await other.post(f"/login/{LOGIN.search(reply)[2]}")
    assert again.status_code == 403


async def test_quanly_in_a_zalo_private_chat_gives_a_link_that_signs_in(served):
    coordinator = served.zalo_coordinator
    reply = await coordinator.asks(coordinator.id, "/quanly")
    assert "dùng được một lần trong 15 phút" in reply
    await signs_in(served.address, reply)
    async with served.world.db.session() as session:
        signed = await session.scalar(
            select(AuditEntry.actor).where(AuditEntry.action == "web_signed_in")
        )
    assert signed == f"zalo:{coordinator.id}"


async def test_quanly_in_a_group_sends_no_link_there(served):
    world = served.world
    group = await world.group("Phòng GD&ĐT", world.coordinator)
    reply = await world.coordinator.asks(group, "/quanly")
    assert reply.startswith("🔒 Liên kết vào trang quản lý chỉ gửi trong chat riêng")
    principal = served.person("Thầy Bình")
    zalo_group = served.zalo.create_group(
        "Phòng GD&ĐT (Zalo)", bots=[ZALO_TOKEN], members=[served.zalo_coordinator.id, principal.id]
    )
    zalo_reply = await served.zalo_coordinator.asks(zalo_group, "@Loa /quanly")
    assert zalo_reply.startswith("🔒")
    for text in [m.get("text", "") for m in world.sandbox.sent(group)] + [
        m.get("text", "") for m in served.zalo.sent(zalo_group)
    ]:
        assert "/login/" not in text
    async with world.db.session() as session:
        tickets = await session.scalar(select(func.count()).select_from(WebTicket))
    assert tickets == 0


async def test_quanly_is_refused_to_someone_not_a_coordinator(served):
    teacher = served.world.person("Cô Hoa")
    reply = await teacher.asks(teacher.id, "/quanly")
    assert reply == "Lệnh /quanly chỉ dành cho cán bộ điều phối."
    stranger = served.person("Người lạ")
    assert (await stranger.asks(stranger.id, "/quanly")).startswith("Lệnh /quanly chỉ dành")
    async with served.world.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(WebTicket)) == 0


async def test_quanly_with_the_console_off_says_so(unserved):
    coordinator = unserved.world.coordinator
    reply = await coordinator.asks(coordinator.id, "/quanly")
    assert reply.startswith("Trang quản lý trên web đang tắt")
    assert "/login/" not in reply


async def test_xuat_on_zalo_answers_with_a_download_link(served):
    coordinator = served.zalo_coordinator
    reply = await coordinator.asks(coordinator.id, "/xuat")
    assert reply.startswith("📊 Tải bảng tổng hợp số liệu (Excel) tại liên kết này")
    assert "trong 24 giờ" in reply
    found = DOWNLOAD.search(reply)
    assert found and found[1] == served.address
    env = served.world.loa.env
    assert await signin.download(env, found[2], "/figures/export.xlsx") == f"zalo:{coordinator.id}"
    assert await signin.download(env, found[2], "/figures/export.csv") is None  # its own format
    docx = await coordinator.asks(coordinator.id, "/xuat docx")
    assert docx.startswith("📊 Tải báo cáo (Word)")
    token = DOWNLOAD.search(docx)[2]
    assert await signin.download(env, token, "/figures/export.docx") == f"zalo:{coordinator.id}"


async def test_xuat_link_on_telegram_answers_with_a_link_not_a_file(served):
    coordinator = served.world.coordinator
    reply = await coordinator.asks(coordinator.id, "/xuat csv liên kết")
    assert reply.startswith("📊 Tải số liệu từng dòng (CSV)")
    token = DOWNLOAD.search(reply)[2]
    env = served.world.loa.env
    assert await signin.download(env, token, "/figures/export.csv") == f"telegram:{coordinator.id}"
    assert DOWNLOAD.search(await coordinator.asks(coordinator.id, "/xuat link"))
    usage = await coordinator.asks(coordinator.id, "/xuat pdf link")
    assert usage.startswith("Cách dùng: /xuat")


async def test_xuat_on_zalo_with_the_console_off_says_files_cannot_go_there(unserved):
    coordinator = unserved.zalo_coordinator
    reply = await coordinator.asks(coordinator.id, "/xuat")
    assert reply.startswith("Zalo chưa cho bot gửi tệp")
    async with unserved.world.db.session() as session:
        kinds = list(await session.scalars(select(WebTicket.kind)))
    assert TicketKind.DOWNLOAD not in kinds


async def test_a_coordinator_s_start_mentions_quanly_while_the_console_is_on(served):
    coordinator = served.zalo_coordinator
    reply = await coordinator.asks(coordinator.id, "/start")
    assert "/quanly để vào trang quản lý trên web" in reply


async def test_a_coordinator_s_start_leaves_quanly_out_while_the_console_is_off(unserved):
    coordinator = unserved.world.coordinator
    assert "/quanly" not in await coordinator.asks(coordinator.id, "/start")
