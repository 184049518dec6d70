"""A platform's resend acts once (issue 13, item 5): one update sent 5 more times, by polling and
by webhook, on Telegram and on Zalo, gives one reply, one answer row, one broadcast.

The sandboxes resend the bot's latest update (`resend`): to a webhook as it was, to a Telegram
poll under fresh update ids (the offset would hide the same one), to a Zalo poll as it was (Zalo
has no offset). Every test runs on both backends.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.app import Loa
from bot.campaign.loader import load_campaign
from bot.channels.webhook import Webhook
from bot.channels.zalo import ZaloChannel
from bot.sandbox.zalo import ZaloSandbox
from bot.store.handled import KEEP, HandledUpdates, UpdateKey, prune
from bot.store.models import Answer, HandledUpdate, Unit, utcnow
from tests.conftest import SCHEDULES, SEEDS
from tests.e2e.conftest import TOKEN, VN, FixedClock, World, start_world
from tests.e2e.test_answers import form_of
from tests.e2e.test_broadcast_and_timeline import announcements
from tests.e2e.test_zalo import FAST, ZALO_TOKEN, ZaloPerson, parts_in

RESENDS = 5
SECRET = "replay-webhook-secret"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime(2023, 10, 9, 9, 0, tzinfo=VN))  # the report window is open


def hook() -> Webhook:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return Webhook(f"http://127.0.0.1:{port}/hook", SECRET, listen="127.0.0.1", port=port)


async def answer_rows(db) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Answer)) or 0)


async def settled() -> None:
    """Time for every resent copy to arrive and, were it acted on, to be answered."""
    await asyncio.sleep(0.8)


# -- Telegram ------------------------------------------------------------------------------------


@pytest.fixture(params=["polling", "webhook"])
async def telegram(request, sandbox, database, clock) -> AsyncIterator[World]:
    channel = {"webhook": hook()} if request.param == "webhook" else {}
    world = await start_world(sandbox, database, clock, **channel)
    yield world
    await world.loa.stop()


async def test_a_resent_telegram_broadcast_goes_out_once(telegram: World) -> None:
    groups = await telegram.registered_groups("th-chi-ne", "tthtcd-an-binh")
    told = len(telegram.notices())
    await telegram.coordinator.says(telegram.coordinator.id, "/thongbao Họp lúc 14h")
    telegram.sandbox.resend(TOKEN, RESENDS)
    await telegram.sandbox.wait_sent(telegram.coordinator.id, told + 2)  # started, done
    await settled()
    assert len(telegram.notices()) == told + 2
    for group in groups.values():
        assert len(announcements(telegram, group)) == 1


async def test_a_resent_telegram_answer_is_recorded_and_acknowledged_once(
    telegram: World,
) -> None:
    principal = telegram.person("Thầy Hùng")
    group = await telegram.group("Trường TH Chi Nê", admins=(principal,))
    await telegram.register(group, "th-chi-ne", principal)
    await form_of(telegram, group)
    rows = await answer_rows(telegram.db)
    before = len(telegram.sandbox.sent(group))
    await principal.says(group, "/sua 1.2: 3 lớp, 120 người")
    telegram.sandbox.resend(TOKEN, RESENDS)
    await telegram.sandbox.wait_sent(group, before + 1)
    await settled()
    assert len(telegram.sandbox.sent(group)) == before + 1
    assert await answer_rows(telegram.db) == rows + 1
    async with telegram.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(HandledUpdate))


# -- Zalo ----------------------------------------------------------------------------------------


@pytest.fixture(params=["polling", "webhook"])
async def zalo_loa(request, zalo: ZaloSandbox, database, clock) -> AsyncIterator[ZaloPerson]:
    """Loa on Zalo alone; yields its coordinator, whose private chat is open."""
    coordinator = ZaloPerson(zalo, zalo.add_user("Thầy Bình (Phòng)"), "Thầy Bình")
    webhook = hook() if request.param == "webhook" else None
    channel = ZaloChannel(
        ZALO_TOKEN, api_base_url=zalo.base_url, poll_timeout=1, limits=FAST, webhook=webhook
    )
    loa = Loa(
        load_campaign(SCHEDULES / SEEDS["lac-thuy"]),
        "lac-thuy-2023",
        database,
        {"zalo": channel},
        coordinators=frozenset({f"zalo:{coordinator.id}"}),
        clock=clock,
    )
    await loa.start()
    await coordinator.asks(coordinator.id, "/start")
    yield coordinator
    await loa.stop()


async def test_a_resent_zalo_answer_and_broadcast_act_once(
    zalo_loa: ZaloPerson, zalo: ZaloSandbox, database
) -> None:
    coordinator = zalo_loa
    director = ZaloPerson(zalo, zalo.add_user("Bà Hoa"), "Bà Hoa")
    async with database.session() as session:
        code = await session.scalar(
            select(Unit.registration_code).where(Unit.code == "tthtcd-an-binh")
        )
    assert (await director.asks(director.id, f"/dangky {code}")).startswith("✅")
    await parts_in(zalo, director.id)

    rows, before = await answer_rows(database), len(zalo.sent(director.id))
    await director.says(director.id, "/sua 1.2: 3 lớp, 120 người")
    zalo.resend(ZALO_TOKEN, RESENDS)
    await zalo.wait_sent(director.id, before + 1)
    await settled()
    assert len(zalo.sent(director.id)) == before + 1
    assert await answer_rows(database) == rows + 1

    told, before = len(zalo.sent(coordinator.id)), len(zalo.sent(director.id))
    await coordinator.says(coordinator.id, "/thongbao Họp lúc 14h")
    zalo.resend(ZALO_TOKEN, RESENDS)
    await zalo.wait_sent(coordinator.id, told + 2)
    await settled()
    assert len(zalo.sent(coordinator.id)) == told + 2
    got = [m["text"] for m in zalo.sent(director.id)[before:]]
    assert sum("📢 Thông báo:" in text for text in got) == 1


# -- the store -----------------------------------------------------------------------------------


async def test_handled_updates_are_kept_for_days_then_pruned_and_a_failure_is_forgotten(
    db,
) -> None:
    handled = HandledUpdates(db)
    key, now = UpdateKey("zalo", "chat-1", "message-1"), utcnow()
    assert await handled.first(key, now) is True
    assert await handled.first(key, now) is False
    await handled.forget(key)  # its handling failed: a resend may try again
    assert await handled.first(key, now) is True
    await asyncio.sleep(0.1)  # written down in the background
    after_a_restart = HandledUpdates(db)  # remembers what the database holds
    assert await after_a_restart.first(key, now) is False
    old = UpdateKey("zalo", "chat-1", "message-0")  # a resend days later asks the database
    assert await HandledUpdates(db).first(old, now - dt.timedelta(days=3)) is True
    assert await HandledUpdates(db).first(old, now - dt.timedelta(days=3)) is False
    async with db.session() as session, session.begin():
        row = await session.scalar(select(HandledUpdate))
        assert row is not None
        row.handled_at = utcnow() - KEEP + dt.timedelta(hours=1)
        assert await prune(session, utcnow() - KEEP) == 0
        row.handled_at = utcnow() - KEEP - dt.timedelta(hours=1)
        await session.flush()
        assert await prune(session, utcnow() - KEEP) == 1
    assert await HandledUpdates(db).first(key, utcnow()) is True
