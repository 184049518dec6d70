"""What fell due while Loa was down: sent at start if still useful, otherwise marked missed,
never silently lost. The Lạc Thủy report is due "trước ngày 12/10/2023"; reminders go on 08/10
(3 days before the last day, 11/10), 10/10 and 11/10, the week ends on 08/10."""

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from bot.store.models import Delivery
from tests.e2e.conftest import VN, Running, start_world


@pytest.fixture
async def registered_then_down(sandbox, database):
    """A school registered on 07/10; then Loa stops."""
    world = await start_world(sandbox, database, Running(dt.datetime(2023, 10, 7, 9, tzinfo=VN)))
    principal = world.person("Thầy Hùng")
    group = await world.group("Nhóm trường", admins=(principal,))
    await world.register(group, "th-chi-ne", principal)
    await world.loa.stop()
    return group


async def back_at(sandbox, database, group, moment):
    """Start Loa again at `moment`; return what reached the group, and the rows by reference."""
    before = len(sandbox.sent(group))
    world = await start_world(sandbox, database, Running(moment))
    try:
        async with database.session() as session:
            for _ in range(100):  # until the first batch at start is through
                rows = list(await session.scalars(select(Delivery).order_by(Delivery.id)))
                busy = [
                    r
                    for r in rows
                    if r.status == "sending" or (r.status == "pending" and r.due_at <= moment)
                ]
                if not busy:
                    break
                session.expire_all()
                await asyncio.sleep(0.02)
    finally:
        await world.loa.stop()
    async with database.session() as session:
        rows = {r.reference: r for r in await session.scalars(select(Delivery))}
    return [m["text"] for m in sandbox.sent(group)[before:]], rows


async def test_a_reminder_that_fell_due_is_sent_with_the_days_really_left(
    sandbox, database, registered_then_down
):
    texts, rows = await back_at(
        sandbox, database, registered_then_down, dt.datetime(2023, 10, 9, 10, tzinfo=VN)
    )
    reminder, *form = texts
    assert "⏰ Nhắc hạn: Báo cáo kết quả thực hiện Tuần lễ" in reminder
    assert "Còn 2 ngày." in reminder  # planned as "còn 3 ngày" for 08/10
    assert "Đơn vị còn thiếu 37 mục số liệu" in reminder  # nothing answered yet
    assert [t.split("\n")[1].split(":")[0] for t in form] == [
        f"📝 Số liệu Tuần lễ, phần {n}/11" for n in range(1, 12)
    ]  # the form went out on 09/10 at 7h00, still useful until the deadline
    assert rows["bao-cao@2023-10-12-3"].status == "sent"
    assert rows["week"].status == "missed"  # "today is the last day of the week": not on 09/10
    assert rows["week"].last_error == "no longer useful"
    assert {rows["bao-cao@2023-10-12-1"].status, rows["bao-cao@2023-10-12-0"].status} == {"pending"}


async def test_of_several_overdue_reminders_only_the_newest_goes(
    sandbox, database, registered_then_down
):
    texts, rows = await back_at(
        sandbox, database, registered_then_down, dt.datetime(2023, 10, 10, 10, tzinfo=VN)
    )
    reminders = [t for t in texts if "Nhắc hạn" in t]
    assert len(reminders) == 1 and "Còn 1 ngày." in reminders[0]
    assert len(texts) == 1 + 11  # and the form
    assert rows["bao-cao@2023-10-12-1"].status == "sent"
    assert (rows["bao-cao@2023-10-12-3"].status, rows["bao-cao@2023-10-12-3"].last_error) == (
        "missed",
        "a later reminder went",
    )


async def test_after_the_deadline_nothing_stale_is_sent_and_all_is_accounted_for(
    sandbox, database, registered_then_down
):
    texts, rows = await back_at(
        sandbox, database, registered_then_down, dt.datetime(2023, 10, 12, 10, tzinfo=VN)
    )
    assert texts == []
    assert {r.status for r in rows.values()} == {"missed"}


async def test_at_night_what_is_still_useful_waits_for_the_morning(
    sandbox, database, registered_then_down
):
    texts, rows = await back_at(
        sandbox, database, registered_then_down, dt.datetime(2023, 10, 9, 23, tzinfo=VN)
    )
    assert texts == []  # nobody's phone rings at 23h00
    assert rows["bao-cao@2023-10-12-3"].status == "pending"
    assert rows["bao-cao@2023-10-12-3"].due_at == dt.datetime(2023, 10, 10, 6, 30, tzinfo=VN)
    assert rows["week"].status == "missed"
