"""What the web's announcements page needs of the operations: who an announcement would reach,
a one-time key so a form sends once, and an announcement found again by its number."""

import asyncio
import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select, update

from bot.ops import announcements, signin
from bot.store.models import Delivery, DeliveryStatus
from tests.ops.support import VN, bound, environment, with_units


async def registered(db):
    env = environment(db)
    await with_units(
        env, ("th-a", "truong-hoc"), ("th-b", "truong-hoc"), ("tt-c", "tthtcd"), ("tt-d", "tthtcd")
    )
    await bound(env, "th-a", "-1001")
    await bound(env, "th-b", "-1002", active=False)  # the bot was removed: not written to
    await bound(env, "tt-c", "-1003")
    await bound(env, "tt-c", "-1004")  # a second group of the same unit
    return env


async def rows(db) -> list[Delivery]:
    async with db.session() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def test_the_reach_counts_active_registered_chats_of_the_audience(db):
    env = await registered(db)
    everyone = await announcements.reach(env, [])
    assert everyone.chats == 3 and everyone.example is not None
    assert everyone.example.code == "th-a"
    centres = await announcements.reach(env, ["tthtcd"])
    assert (centres.chats, centres.example and centres.example.name) == (2, "Đơn vị tt-c")
    assert await announcements.reach(env, ["nobody"]) == announcements.Reach(0, None)


async def test_a_one_time_key_sends_once(db):
    env = await registered(db)
    key = await announcements.one_time_key(env, "zalo:1")
    done = await announcements.broadcast(env, "Họp", [], None, "zalo:1", once=key)
    assert done.count == 3
    with pytest.raises(announcements.AlreadySent):
        await announcements.broadcast(env, "Họp", [], None, "zalo:1", once=key)
    assert len(await rows(db)) == 3


async def test_a_key_of_someone_else_unknown_or_over_sends_nothing(db):
    env = await registered(db)
    theirs = await announcements.one_time_key(env, "zalo:2")
    with pytest.raises(announcements.AlreadySent):
        await announcements.broadcast(env, "Họp", [], None, "zalo:1", once=theirs)
    with pytest.raises(announcements.AlreadySent):
        await announcements.broadcast(env, "Họp", [], None, "zalo:1", once="made-up")
    old = await announcements.one_time_key(env, "zalo:1")
    env.clock.at += signin.ANNOUNCE_LIFETIME  # type: ignore[attr-defined]
    with pytest.raises(announcements.AlreadySent):
        await announcements.broadcast(env, "Họp", [], None, "zalo:1", once=old)
    assert await rows(db) == []
    with pytest.raises(announcements.AlreadySent):  # over for its own holder too
        await announcements.broadcast(env, "Họp", [], None, "zalo:2", once=theirs)


async def test_a_key_refused_to_another_is_still_its_holders(db):
    env = await registered(db)
    theirs = await announcements.one_time_key(env, "zalo:2")
    with pytest.raises(announcements.AlreadySent):
        await announcements.broadcast(env, "Họp", [], None, "zalo:1", once=theirs)
    assert (await announcements.broadcast(env, "Họp", [], None, "zalo:2", once=theirs)).count == 3


async def test_two_sends_at_once_with_one_key_send_once(db):
    env = await registered(db)
    key = await announcements.one_time_key(env, "zalo:1")
    both = await asyncio.gather(
        announcements.broadcast(env, "Họp", [], None, "zalo:1", once=key),
        announcements.broadcast(env, "Họp", [], None, "zalo:1", once=key),
        return_exceptions=True,
    )
    refused = [r for r in both if isinstance(r, announcements.AlreadySent)]
    assert len(refused) == 1, both
    assert len(await rows(db)) == 3


async def test_the_text_is_kept_without_control_characters(db):
    env = await registered(db)
    await announcements.broadcast(env, "Họp\x00 lúc\x07 14h\r\nở\tUBND", [], None, "zalo:1")
    texts = {row.announcement.text for row in await rows(db) if row.announcement}
    assert texts == {"Họp lúc 14h\nở\tUBND"}


async def test_an_announcement_is_found_by_its_number(db):
    env = await registered(db)
    at = dt.datetime(2023, 10, 5, 14, tzinfo=VN)
    await announcements.broadcast(env, "Trước", [], None, "zalo:1")
    done = await announcements.broadcast(env, "Nộp ảnh", ["tthtcd"], at, "zalo:1")
    found = await announcements.find(env, done.ids[0])
    assert found is not None
    assert (found.number, found.text, found.types, found.ids) == (
        done.ids[0],
        "Nộp ảnh",
        ("tthtcd",),
        done.ids,
    )
    assert found.at == at
    assert await announcements.find(env, done.ids[1]) == found  # any of its rows names it
    assert await announcements.find(env, 999) is None
    other = dataclasses.replace(env, campaign_key="another")
    assert await announcements.find(other, done.ids[0]) is None


async def test_the_outcome_by_number_counts_each_status(db):
    env = await registered(db)
    done = await announcements.broadcast(env, "Họp", [], None, "zalo:1")
    async with db.session() as session, session.begin():
        await session.execute(
            update(Delivery).where(Delivery.id == done.ids[0]).values(status="sent")
        )
    found = await announcements.outcome_of(env, done.ids[0])
    assert found is not None
    assert (found.total, found.sent, found.settled) == (3, 1, False)
    assert dict(found.counts) == {DeliveryStatus.SENT: 1, DeliveryStatus.PENDING: 2}
    assert await announcements.outcome_of(env, 999) is None
