"""Two `loa run` on one database (issue 13, item 1): the first loses its hold while a broadcast
goes out (PostgreSQL terminates its connections) or a second one tries to get in around the lock
(the lock file deleted, the database reached through a symlink). No group gets the announcement
twice, and a first process that lost its hold stops sending within 5 s and ends with an error.

Each process is `service.serve` in this process with a bot of its own, both bots in every group,
so what each one sent can be told apart.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bot import service
from bot.app import Loa
from bot.campaign.loader import load_campaign
from bot.campaign.units import Unit as CsvUnit
from bot.channels.telegram import TelegramChannel
from bot.delivery import outbox
from bot.errors import DatabaseLost, Invalid
from bot.messages import describe
from bot.sandbox.telegram import Limits, TelegramSandbox
from bot.store import chats
from bot.store.db import Database, throwaway_postgres
from bot.store.units import import_units
from tests.conftest import SCHEDULES, SEEDS
from tests.e2e.conftest import UNLIMITED
from tests.faults.helpers import drop_updates

FIRST, SECOND = "717171:first-instance-token", "727272:second-instance-token"
GROUPS = 40
LATENCY = 0.03  # seconds a send takes: the broadcast takes over a second
TEXT = "Thông báo họp khẩn lúc 14h"
KEY = "lac-thuy-2023"


@dataclass
class Running:
    loa: Loa
    token: str
    stop: asyncio.Event
    task: asyncio.Task[None]


async def serving(sandbox: TelegramSandbox, url: str, token: str) -> Running:
    """`loa run` for `token` on `url`, in this process; returns once it sends (or it failed)."""
    channel = TelegramChannel(
        token, api_base_url=sandbox.base_url, poll_timeout=10, limits=UNLIMITED
    )
    loa = Loa(
        load_campaign(SCHEDULES / SEEDS["lac-thuy"]), KEY, Database(url), {"telegram": channel}
    )
    stop = asyncio.Event()
    task = asyncio.create_task(service.serve(loa, stop))
    deadline = time.monotonic() + 10
    while not loa.sender.scheduler.running and not task.done():
        assert time.monotonic() < deadline, "loa run did not start"
        await asyncio.sleep(0.01)
    return Running(loa, token, stop, task)


async def shared_groups(sandbox: TelegramSandbox, db: Database) -> list[int]:
    """Registered groups, each with both bots in it."""
    groups = [sandbox.create_group(f"Trường {i:02}", bots=[FIRST, SECOND]) for i in range(GROUPS)]
    units = [CsvUnit(f"t{i:02}", f"Trường {i:02}", "truong-hoc", "Lạc Thủy") for i in range(GROUPS)]
    async with db.session() as session, session.begin():
        await import_units(session, units)
        stored = sorted(await chats.all_units(session), key=lambda u: u.code)
        for unit, group in zip(stored, groups, strict=True):
            chat = await chats.meet(session, "telegram", str(group), "supergroup", unit.name)
            assert await chats.bind(session, chat, unit)
    for token in (FIRST, SECOND):
        await drop_updates(sandbox, token)
    return groups


def copies(sandbox: TelegramSandbox, groups: list[int]) -> Counter[int]:
    got = Counter({group: 0 for group in groups})
    for message in sandbox.sent():
        if message["chat"]["id"] in got and TEXT in message.get("text", ""):
            got[message["chat"]["id"]] += 1
    return got


async def broadcast_started(sandbox: TelegramSandbox, first: Running, url: str) -> None:
    """The announcement goes out through the first process; returns when 5 groups have it."""
    async with Database(url) as db, db.session() as session, session.begin():
        await outbox.broadcast(session, KEY, TEXT, [], first.loa.clock.now())
    first.loa.wake()
    deadline = time.monotonic() + 10
    while len(sandbox.sent(token=FIRST)) < 5:
        assert time.monotonic() < deadline, "the broadcast did not start"
        await asyncio.sleep(0.005)


async def finish(*running: Running) -> None:
    for one in running:
        one.stop.set()
    await asyncio.gather(*(one.task for one in running), return_exceptions=True)


async def settled(sandbox: TelegramSandbox, groups: list[int], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while min(copies(sandbox, groups).values()) == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # anything sent twice would come now


@pytest.fixture
async def postgres() -> AsyncIterator[str]:
    given = os.environ.get("TEST_DATABASE_URL")
    if not given:
        pytest.skip("TEST_DATABASE_URL is not set")
    with throwaway_postgres(given, "loa_lock") as url:
        yield url


def terminate_backends(url: str) -> int:
    """What a server restart or a failover does to `loa run`: every connection to the
    database cut (this one excepted)."""
    server = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(server, autocommit=True) as connection:
        killed = connection.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    return killed[0] if killed else 0


async def test_postgresql_connections_cut_the_first_stops_within_5s_and_nothing_goes_twice(
    postgres,
):
    async with TelegramSandbox(limits=Limits.off(), latency=LATENCY) as sandbox:
        for token, name in ((FIRST, "loa_bot"), (SECOND, "loa2_bot")):
            sandbox.add_bot(token, username=name)
        async with Database(postgres) as db:
            await db.upgrade()
            groups = await shared_groups(sandbox, db)
        first = await serving(sandbox, postgres, FIRST)
        second = None
        try:
            await broadcast_started(sandbox, first, postgres)
            assert terminate_backends(postgres) >= 1
            cut = time.monotonic()
            second = await serving(sandbox, postgres, SECOND)  # a supervisor, or an operator
            with pytest.raises(DatabaseLost) as lost:
                await asyncio.wait_for(first.task, 5.0 - (time.monotonic() - cut))
            assert "Loa đã mất khóa trên cơ sở dữ liệu" in service_error(lost.value)
            stopped = len(sandbox.sent(token=FIRST))
            await settled(sandbox, groups)
            assert len(sandbox.sent(token=FIRST)) == stopped  # nothing after it stopped
        finally:
            await finish(*(one for one in (first, second) if one is not None))
    got = copies(sandbox, groups)
    assert [g for g, n in got.items() if n != 1] == [], got


async def test_sqlite_lock_file_deleted_or_a_symlink_lets_no_second_process_in(tmp_path):
    real = tmp_path / "loa.db"
    link = tmp_path / "duong-dan-khac.db"
    link.symlink_to(real)
    url = f"sqlite:///{real}"
    async with TelegramSandbox(limits=Limits.off(), latency=LATENCY) as sandbox:
        for token, name in ((FIRST, "loa_bot"), (SECOND, "loa2_bot")):
            sandbox.add_bot(token, username=name)
        async with Database(url) as db:
            await db.upgrade()
            groups = await shared_groups(sandbox, db)
        first = await serving(sandbox, url, FIRST)
        seconds = []
        try:
            await broadcast_started(sandbox, first, url)
            for lock_file in tmp_path.glob("*.lock"):  # what an over-eager clean-up does
                lock_file.unlink()
            for path in (real, link):
                second = await serving(sandbox, f"sqlite:///{path}", SECOND)
                seconds.append(second)
                with pytest.raises(Invalid) as refused:
                    await asyncio.wait_for(second.task, 5)
                assert "một tiến trình loa run khác đang phục vụ" in service_error(refused.value)
            await settled(sandbox, groups)
            assert not first.task.done()  # the first one serves on
        finally:
            await finish(first, *seconds)
    got = copies(sandbox, groups)
    assert [g for g, n in got.items() if n != 1] == [], got
    assert sandbox.sent(token=SECOND) == []


def service_error(exc: Invalid) -> str:
    return describe(exc.problems[0])
