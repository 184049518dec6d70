"""A unit's links to its form on the web (`bot.ops.unitlinks`): issued fresh, several live at
once, ended all together when the unit can no longer be reached or a coordinator resets them."""

import datetime as dt

import pytest

from bot.address import Address
from bot.ops import chats, unitlinks
from bot.ops.env import Env
from bot.ops.registration import codes_expire
from bot.ops.unitlinks import Door, Refusal
from tests.ops.support import StillClock, bound, with_units

START = dt.datetime(2023, 10, 9, 1, 0, tzinfo=dt.UTC)
BY = Address("telegram", "1")


@pytest.fixture
def env(db, seeds) -> Env:
    return Env(db, seeds["lac-thuy"], "lac-thuy", StillClock(START))


@pytest.fixture
async def place(env):
    await with_units(env, ("th-a", "truong-hoc"))
    return await bound(env, "th-a", "-1001")


async def test_each_link_is_new_and_all_open_the_units_form(env, place):
    one, two = await unitlinks.issue(env, place.unit), await unitlinks.issue(env, place.unit)
    assert one != two and len(one) >= 40
    for token in (one, two):
        door = await unitlinks.open_form(env, token, "10.0.0.1")
        assert isinstance(door, Door) and door.unit.id == place.unit.id
        assert door.author == "web:th-a" and len(door.csrf) >= 30
    other = await unitlinks.open_form(env, two, "10.0.0.1")
    assert other.csrf != (await unitlinks.open_form(env, one, "10.0.0.1")).csrf


async def test_the_bot_removed_from_the_last_chat_ends_the_links(env, place):
    token = await unitlinks.issue(env, place.unit)
    await chats.chat_gone(env, Address("telegram", "-1001"), None)
    assert await unitlinks.open_form(env, token, "10.0.0.1") is Refusal.REVOKED


async def test_a_coordinator_unregistering_the_unit_ends_the_links(env, place):
    token = await unitlinks.issue(env, place.unit)
    await chats.unregister_unit(env, "th-a", BY)
    assert await unitlinks.open_form(env, token, "10.0.0.1") is Refusal.REVOKED


async def test_links_end_a_week_after_the_report_deadline(env, place):
    token = await unitlinks.issue(env, place.unit)
    env.clock.at = codes_expire(env.campaign) - dt.timedelta(seconds=1)
    assert isinstance(await unitlinks.open_form(env, token, "10.0.0.1"), Door)
    env.clock.at = codes_expire(env.campaign)
    assert await unitlinks.open_form(env, token, "10.0.0.1") is Refusal.EXPIRED


async def test_resetting_an_unknown_unit_is_none(env, place):
    assert await unitlinks.reset(env, "nope", "cli") is None
