"""The coordinators' view of the outbox, and trying a failed delivery again."""

import datetime as dt

import pytest
from sqlalchemy import select, update

from bot.delivery import outbox
from bot.ops import deliveries
from bot.ops.deliveries import Retry
from bot.ops.env import Env
from bot.store import chats
from bot.store.models import AuditEntry, Delivery, DeliveryStatus
from tests.ops.support import StillClock, Wakes
from tests.store.test_outbox import registered

VN = dt.timezone(dt.timedelta(hours=7))
BEFORE_THE_WEEK = dt.datetime(2023, 9, 1, tzinfo=VN)
IN_THE_WEEK = dt.datetime(2023, 10, 3, 9, tzinfo=VN)


@pytest.fixture
async def env(db, seeds):
    env = Env(db, seeds["lac-thuy"], "lac-thuy", StillClock(IN_THE_WEEK), Wakes())
    targets = await registered(db, "a", "b")
    async with db.session() as session, session.begin():
        for target in targets:
            await outbox.plan_chat(session, "lac-thuy", env.campaign, target, BEFORE_THE_WEEK)
    return env


async def set_status(db, status, ids):
    async with db.session() as session, session.begin():
        await session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(status=status))


async def test_the_timeline_is_in_time_order_with_each_chat_and_the_counts(env):
    seen = await deliveries.timeline(env)
    assert seen.total == 38 == len(seen.lines)  # 19 deliveries for each of two schools
    assert [line.due_at for line in seen.lines] == sorted(line.due_at for line in seen.lines)
    assert {line.unit_code for line in seen.lines} == {"a", "b"}
    assert seen.counts[DeliveryStatus.PENDING] == 38
    assert seen.counts[DeliveryStatus.FAILED] == 0


async def test_a_filter_keeps_one_status_and_pages_hold_the_rest(env):
    first = (await deliveries.timeline(env)).lines[:3]
    await set_status(env.db, DeliveryStatus.FAILED, [line.id for line in first])
    failed = await deliveries.timeline(env, DeliveryStatus.FAILED)
    assert [line.id for line in failed.lines] == [line.id for line in first]
    assert failed.counts[DeliveryStatus.FAILED] == 3
    assert failed.counts[DeliveryStatus.PENDING] == 35
    page = await deliveries.timeline(env, offset=30, limit=5)
    assert len(page.lines) == 5 and page.total == 38


async def test_a_failed_delivery_goes_again_now_once(env):
    line = (await deliveries.timeline(env)).lines[-1]  # the week's end: still useful
    await set_status(env.db, DeliveryStatus.FAILED, [line.id])
    assert await deliveries.retry(env, line.id, "zalo:x") is Retry.QUEUED
    assert env.wake.count == 1
    async with env.db.session() as session:
        row = await session.get(Delivery, line.id)
        assert (row.status, row.due_at) == (DeliveryStatus.PENDING, IN_THE_WEEK)
        logged = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "delivery_retried")
        )
    assert logged.actor == "zalo:x" and logged.detail == {"delivery": line.id}
    assert await deliveries.retry(env, line.id, "zalo:x") is Retry.NOT_FAILED


async def test_what_cannot_be_tried_again_says_why(env):
    lines = (await deliveries.timeline(env)).lines
    sent, gone = lines[0], lines[-1]
    late = next(line for line in lines[1:] if line.unit_code != gone.unit_code)
    await set_status(env.db, DeliveryStatus.SENT, [sent.id])
    assert await deliveries.retry(env, sent.id, "zalo:x") is Retry.NOT_FAILED  # never twice
    await set_status(env.db, DeliveryStatus.FAILED, [late.id, gone.id])
    async with env.db.session() as session, session.begin():
        await session.execute(
            update(Delivery).where(Delivery.id == late.id).values(expires_at=IN_THE_WEEK)
        )
        chat = await chats.find(
            session, gone.platform, "-1001" if gone.unit_code == "b" else "-1000"
        )
        chats.deactivate(chat)
    assert await deliveries.retry(env, late.id, "zalo:x") is Retry.TOO_LATE
    assert await deliveries.retry(env, gone.id, "zalo:x") is Retry.CHAT_GONE
    assert await deliveries.retry(env, 10**6, "zalo:x") is Retry.UNKNOWN
    assert env.wake.count == 0


async def test_problems_of_the_last_day(env):
    lines = (await deliveries.timeline(env)).lines
    await set_status(env.db, DeliveryStatus.FAILED, [lines[0].id, lines[-1].id])
    await set_status(env.db, DeliveryStatus.MISSED, [lines[-2].id])
    since = lines[-2].due_at
    assert await deliveries.problems_since(env, since) == {
        DeliveryStatus.FAILED: 1,
        DeliveryStatus.MISSED: 1,
    }
