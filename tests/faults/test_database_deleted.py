"""The SQLite file deleted while `loa run` serves (issue 13, item 4): nothing is confirmed that
would be lost, the process stops with a clear error, and starting it again does not make an
empty database: it says the database is missing and how to make one."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot import service
from bot.app import Loa
from bot.campaign.loader import load_campaign
from bot.campaign.units import Unit as CsvUnit
from bot.channels.telegram import TelegramChannel
from bot.errors import DatabaseLost, Invalid
from bot.messages import describe
from bot.sandbox.telegram import Limits, TelegramSandbox
from bot.store import chats
from bot.store.db import Database
from bot.store.units import import_units
from tests.conftest import SCHEDULES, SEEDS
from tests.e2e.conftest import UNLIMITED
from tests.faults.helpers import drop_updates, registering_clock

TOKEN = "757575:deleted-database-token"
SCHOOLS = 6


def loa_for(sandbox: TelegramSandbox, url: str) -> Loa:
    channel = TelegramChannel(TOKEN, api_base_url=sandbox.base_url, limits=UNLIMITED)
    campaign = load_campaign(SCHEDULES / SEEDS["lac-thuy"])
    db = Database(url)
    return Loa(campaign, "lac-thuy-2023", db, {"telegram": channel}, clock=registering_clock())


async def started(loa: Loa, stop: asyncio.Event) -> asyncio.Task[None]:
    task = asyncio.create_task(service.serve(loa, stop))
    while not loa.sender.scheduler.running and not task.done():
        await asyncio.sleep(0.01)
    return task


async def test_a_deleted_database_stops_loa_run_and_is_never_made_again_empty(tmp_path):
    path = tmp_path / "loa.db"
    url = f"sqlite:///{path}"
    async with TelegramSandbox(limits=Limits.off()) as sandbox:
        sandbox.add_bot(TOKEN, username="loa_bot")
        principal = sandbox.add_user("Thầy Minh")
        groups = [
            sandbox.create_group(f"Trường {i}", members=[principal], bots=[TOKEN])
            for i in range(SCHOOLS)
        ]
        async with Database(url) as db:
            await db.upgrade()
            async with db.session() as session, session.begin():
                await import_units(
                    session,
                    [CsvUnit(f"t{i}", f"Trường {i}", "truong-hoc", "Lạc Thủy") for i in range(6)],
                )
                codes = {u.code: u.registration_code for u in await chats.all_units(session)}
        await drop_updates(sandbox, TOKEN)
        loa, stop = loa_for(sandbox, url), asyncio.Event()
        serving = await started(loa, stop)
        try:
            await sandbox.post(groups[0], principal, f"/dangky {codes['t0']}")
            [first] = await sandbox.wait_sent(groups[0], 1, timeout=10)
            assert first["text"].startswith("✅ Đã đăng ký")  # served as usual until then

            path.unlink()
            deleted = time.monotonic()
            for i, group in enumerate(groups[1:], start=1):
                await sandbox.post(group, principal, f"/dangky {codes[f't{i}']}")
            with pytest.raises(DatabaseLost) as lost:
                await asyncio.wait_for(serving, 5)
            assert time.monotonic() - deleted < 5
        finally:
            stop.set()
            await asyncio.gather(serving, return_exceptions=True)
        assert "đã bị xóa hoặc thay thế trong khi Loa đang chạy" in describe(lost.value.problems[0])
        confirmed = [
            message["text"]
            for group in groups[1:]
            for message in sandbox.sent(group)
            if message["text"].startswith("✅")
        ]
        assert confirmed == []  # what went into the deleted file was never confirmed

        again = loa_for(sandbox, url)
        with pytest.raises(Invalid) as missing:
            await service.serve(again, asyncio.Event())
    assert "loa run không tự tạo cơ sở dữ liệu mới" in describe(missing.value.problems[0])
    assert "loa db upgrade" in describe(missing.value.problems[0])
    assert not path.exists()
