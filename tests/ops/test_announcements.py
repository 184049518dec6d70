"""Announcements as operations: broadcast now or at a time, list, cancel, wait for the outcome."""

import asyncio
import datetime as dt

from sqlalchemy import select, update

from bot.ops import announcements
from bot.ops.announcements import Timing
from bot.store.models import AuditEntry, Delivery, DeliveryStatus
from tests.ops.support import VN, bound, environment, with_units


def aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)  # SQLite keeps UTC, unlabelled


async def registered(db):
    env = environment(db)
    await with_units(env, ("th-a", "truong-hoc"), ("th-b", "truong-hoc"), ("tt-c", "tthtcd"))
    await bound(env, "th-a", "-1001")
    await bound(env, "th-b", "-1002", active=False)  # the bot was removed: not written to
    await bound(env, "tt-c", "-1003")
    return env


async def test_a_broadcast_now_is_one_row_per_active_chat_of_its_audience(db):
    env = await registered(db)
    everyone = await announcements.broadcast(env, "Họp lúc 14h", [], None, "telegram:9")
    schools = await announcements.broadcast(env, "Nộp ảnh", ["truong-hoc"], None, "telegram:9")
    assert (everyone.count, schools.count, everyone.at) == (2, 1, None)
    async with db.session() as session:
        rows = {r.id: r for r in await session.scalars(select(Delivery))}
        audit = list(await session.scalars(select(AuditEntry)))
    assert set(rows) == {*everyone.ids, *schools.ids}
    assert {aware(rows[i].due_at) for i in everyone.ids} == {env.clock.now()}
    assert [(a.actor, a.action, a.detail) for a in audit if a.action == "broadcast"] == [
        ("telegram:9", "broadcast", {"count": 2, "types": []}),
        ("telegram:9", "broadcast", {"count": 1, "types": ["truong-hoc"]}),
    ]


async def test_a_scheduled_broadcast_is_listed_until_cancelled(db):
    env = await registered(db)
    at = dt.datetime(2023, 10, 5, 14, tzinfo=VN)
    done = await announcements.broadcast(env, "Họp trực tuyến", [], at, "telegram:9")
    [waiting] = await announcements.scheduled(env)
    assert (waiting.number, waiting.chats, waiting.text) == (done.ids[0], 2, "Họp trực tuyến")
    assert await announcements.cancel(env, waiting.number + 100, "telegram:9") == 0
    assert await announcements.cancel(env, waiting.number, "telegram:9") == 2
    assert await announcements.scheduled(env) == []
    assert await announcements.cancel(env, waiting.number, "telegram:9") == 0  # gone already


async def test_the_outcome_is_settled_once_nothing_waits(db):
    env = await registered(db)
    done = await announcements.broadcast(env, "Họp", [], None, "telegram:9")
    first = await announcements.outcome(env, done.ids)
    assert (first.settled, first.total, first.sent) == (False, 2, 0)

    async def deliver():
        await asyncio.sleep(0.05)
        async with db.session() as session, session.begin():
            await session.execute(
                update(Delivery).where(Delivery.id == done.ids[0]).values(status="sent")
            )
            await session.execute(
                update(Delivery).where(Delivery.id == done.ids[1]).values(status="failed")
            )

    sender = asyncio.create_task(deliver())
    settled = await announcements.settled(env, done.ids, every=0.01)
    await sender
    assert settled.settled and settled.sent == 1
    assert dict(settled.counts) == {DeliveryStatus.SENT: 1, DeliveryStatus.FAILED: 1}


def test_a_time_in_the_past_or_in_quiet_hours_is_refused():
    campaign = environment(None).campaign
    now = dt.datetime(2023, 10, 4, 9, tzinfo=VN)
    assert announcements.timing_problem(campaign, now, now) is Timing.PAST
    late = dt.datetime(2023, 10, 4, 22, tzinfo=VN)
    assert announcements.timing_problem(campaign, late, now) is Timing.QUIET
    assert announcements.timing_problem(campaign, late.replace(hour=14), now) is None
