"""The chat and registration operations over a real store: what each returns and leaves."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.address import Address
from bot.campaign.loader import load_campaign, load_units
from bot.ops import chats, registration
from bot.ops.chats import Unregistered, Visit
from bot.ops.env import Env
from bot.ops.registration import (
    AlreadyRegistered,
    Busy,
    Claimant,
    OverBudget,
    Registered,
    Registrar,
    Throttled,
    WrongCode,
    codes_expire,
)
from bot.store.db import Database
from bot.store.models import AuditEntry, Chat, Delivery, DeliveryStatus, Unit
from bot.store.units import import_units
from tests.conftest import SCHEDULES, SEEDS
from tests.e2e.conftest import VN, FixedClock

KEY = "lac-thuy-2023"
GROUP, OTHER, PERSON = "-100", "-200", "7"


@pytest.fixture
async def env(db: Database) -> Env:
    campaign = load_campaign(SCHEDULES / SEEDS["lac-thuy"])
    async with db.session() as session, session.begin():
        await import_units(session, load_units(SCHEDULES / "units" / "lac-thuy.csv", campaign))
    return Env(db, campaign, KEY, FixedClock(dt.datetime(2023, 10, 3, 9, tzinfo=VN)))


async def meet(env: Env, chat_id: str = GROUP, person: str = PERSON) -> Chat:
    chat, _ = await chats.visit(
        env, Visit("telegram", chat_id, "group", "Nhóm", person, "Thầy Hùng", "staff")
    )
    return chat


def claimant(chat_id: str = GROUP, person: str = PERSON) -> Claimant:
    return Claimant(Address("telegram", chat_id), Address("telegram", person), group=True)


async def code_of(env: Env, unit_code: str) -> str:
    async with env.db.session() as session:
        unit = await session.scalar(select(Unit).where(Unit.code == unit_code))
        assert unit is not None
        return unit.registration_code


async def audited(env: Env, action: str) -> int:
    async with env.db.session() as session:
        query = select(func.count()).where(AuditEntry.action == action)
        return int(await session.scalar(query) or 0)


async def registered(env: Env, chat_id: str = GROUP, unit_code: str = "th-chi-ne") -> Registered:
    await meet(env, chat_id)
    done = await Registrar().register(env, claimant(chat_id), await code_of(env, unit_code))
    assert isinstance(done, Registered)
    return done


def test_an_anonymous_admin_guesses_as_every_anonymous_admin_of_the_platform():
    assert claimant(GROUP, GROUP).guesser == "telegram:anonymous"
    assert claimant(GROUP, PERSON).guesser == "telegram:7"
    private = Claimant(Address("zalo", "9"), Address("zalo", "9"), group=False)
    assert private.guesser == "zalo:9"


async def test_a_live_code_binds_the_chat_spends_the_code_and_plans_its_deliveries(env):
    code = await code_of(env, "th-chi-ne")

    done = await registered(env)

    assert done.unit.code == "th-chi-ne" and done.registered == 1 and done.total > 1
    assert await code_of(env, "th-chi-ne") != code
    assert (await chats.unit_of_chat(env, Address("telegram", GROUP))).code == "th-chi-ne"
    assert await audited(env, registration.REFUSED) == 0  # the try proved right
    async with env.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) > 0


async def test_a_registered_chat_is_told_so_whatever_the_code(env):
    await registered(env)
    other = await code_of(env, "thcs-chi-ne")

    again = await Registrar().register(env, claimant(), other)

    assert isinstance(again, AlreadyRegistered) and again.unit.code == "th-chi-ne"
    assert await code_of(env, "thcs-chi-ne") == other


async def test_wrong_codes_stay_counted_and_the_sixth_is_not_checked(env):
    await meet(env)
    registrar = Registrar()
    outcomes = [await registrar.register(env, claimant(), "ZZZZZ-ZZZZZ") for _ in range(6)]

    assert outcomes[:5] == [WrongCode()] * 5
    assert isinstance(outcomes[5], Throttled) and outcomes[5].minutes >= 1
    assert await audited(env, registration.REFUSED) == 5


async def test_an_expired_code_is_a_wrong_code(env):
    await meet(env)
    late = Env(env.db, env.campaign, KEY, FixedClock(codes_expire(env.campaign)))

    assert await Registrar().register(late, claimant(), await code_of(env, "th-chi-ne")) == (
        WrongCode()
    )


async def test_over_budget_the_registrar_tells_once_and_turns_away_past_the_queue(env, monkeypatch):
    monkeypatch.setattr(registration, "WRONG_CODES_PER_HOUR", 0)
    monkeypatch.setattr(registration, "SLOW_EVERY", 0.0)
    told: list[OverBudget] = []
    registrar = Registrar(told.append)
    await meet(env)
    await meet(env, OTHER)

    first = await registrar.register(env, claimant(), "ZZZZZ-ZZZZZ")
    second = await registrar.register(env, claimant(OTHER), "ZZZZZ-ZZZZZ")
    monkeypatch.setattr(registration, "SLOW_QUEUE", 0)
    turned_away = await registrar.register(env, claimant(OTHER), "ZZZZZ-ZZZZZ")

    assert (first, second, turned_away) == (WrongCode(), WrongCode(), Busy())
    assert told == [OverBudget(1, 0, 0.0)]
    assert await audited(env, registration.SLOWED) == 1
    assert await audited(env, registration.REFUSED) == 2  # the turned-away try is not counted


async def test_two_registrars_keep_their_own_spells(env, monkeypatch):
    """The guessing state belongs to the registrar, not to the module."""
    monkeypatch.setattr(registration, "WRONG_CODES_PER_HOUR", 0)
    monkeypatch.setattr(registration, "SLOW_EVERY", 0.0)
    told: list[OverBudget] = []
    await meet(env)
    await Registrar(told.append).register(env, claimant(), "ZZZZZ-ZZZZZ")
    await Registrar(told.append).register(env, claimant(), "ZZZZZ-ZZZZZ")
    assert len(told) == 2


async def test_unregistering_needs_a_registered_chat_and_permission(env):
    where, by = Address("telegram", GROUP), Address("telegram", PERSON)
    assert (await chats.unregister(env, where, by, allowed=True)).outcome is (
        Unregistered.NOT_REGISTERED
    )
    await registered(env)

    refused = await chats.unregister(env, where, by, allowed=False)
    done = await chats.unregister(env, where, by, allowed=True)

    assert refused.outcome is Unregistered.REFUSED and refused.unit.code == "th-chi-ne"
    assert done.outcome is Unregistered.UNREGISTERED and done.unit.code == "th-chi-ne"
    assert await chats.unit_of_chat(env, where) is None
    async with env.db.session() as session:
        statuses = set(await session.scalars(select(Delivery.status)))
    assert statuses == {DeliveryStatus.CANCELLED}


async def test_a_unit_unregistered_by_code_names_its_chats_and_those_still_reachable(env):
    await registered(env, GROUP)
    await registered(env, OTHER)
    await chats.chat_gone(env, Address("telegram", OTHER), by=None)

    done = await chats.unregister_unit(env, "th-chi-ne", Address("telegram", "1"))
    unknown = await chats.unregister_unit(env, "no-such-unit", Address("telegram", "1"))

    assert done.unit.code == "th-chi-ne"
    assert sorted(c.external_id for c in done.chats) == sorted([GROUP, OTHER])
    assert done.reachable == [Address("telegram", GROUP)]
    assert unknown.unit is None and unknown.chats == []


async def test_a_chat_gone_once_is_reported_once(env):
    await registered(env)
    where = Address("telegram", GROUP)

    gone = await chats.chat_gone(env, where, by=Address("telegram", PERSON))

    assert gone is not None and gone.unit.code == "th-chi-ne" and not gone.chat.active
    assert await chats.chat_gone(env, where, by=None) is None
    assert await chats.chat_gone(env, Address("telegram", "-999"), by=None) is None


async def test_the_bot_added_back_to_a_registered_chat_brings_its_unit(env):
    new = await chats.bot_added(env, Address("telegram", OTHER), "group", "Mới", by=None)
    await registered(env)
    await chats.chat_gone(env, Address("telegram", GROUP), by=None)

    back = await chats.bot_added(env, Address("telegram", GROUP), "group", "Nhóm", by=None)

    assert new.unit is None and new.chat.external_id == OTHER
    assert back.unit.code == "th-chi-ne" and back.chat.active


async def test_a_moved_chat_keeps_its_unit(env):
    await registered(env)

    moved = await chats.chat_moved(env, Address("telegram", GROUP), "-100999")

    assert moved is not None and moved.external_id == "-100999"
    assert (await chats.unit_of_chat(env, Address("telegram", "-100999"))).code == "th-chi-ne"
    assert await chats.chat_moved(env, Address("telegram", GROUP), "-100999") is None
