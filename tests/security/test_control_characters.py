"""NUL and other control characters in names, titles and texts are cleaned where they enter.

PostgreSQL refuses NUL in text: before the cleaning, a person or group named with one got no
answer to /start or /dangky, and an answer holding one was dropped without a reply. Every test
runs on both backends (PostgreSQL when TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.store.models import Answer, Chat, Member
from tests.e2e.conftest import VN, FixedClock
from tests.e2e.test_answers import form_of, reply
from tests.e2e.test_zalo import ZaloPerson

NUL_NAME = "Thầy\x00 Hùng\x07"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime(2023, 10, 9, 9, 0, tzinfo=VN))  # the report window is open


async def test_a_person_and_a_group_named_with_nul_start_and_register(world) -> None:
    principal = world.person(NUL_NAME)
    assert (await principal.asks(principal.id, "/start")).startswith("👋")
    group = await world.group("Trường\x00 TH Chi Nê\x1b", admins=(principal,))
    reply_text = await world.register(group, "th-chi-ne", principal)
    assert reply_text.startswith("✅")
    async with world.db.session() as session:
        titles = set(await session.scalars(select(Chat.title)))
        names = set(await session.scalars(select(Member.name)))
    assert "Trường TH Chi Nê" in titles and "Thầy Hùng" in names


async def test_an_answer_with_nul_is_recorded_and_answered(world) -> None:
    principal = world.person("Thầy Hùng")
    group = await world.group("Trường TH Chi Nê", admins=(principal,))
    await world.register(group, "th-chi-ne", principal)
    parts = await form_of(world, group)
    ack = await reply(principal, group, parts[1], "1.2: 3 lớp,\x00 120 người\x0c")
    assert "✅ Đã ghi:" in ack and "3 lớp, 120 người" in ack
    async with world.db.session() as session:
        assert await session.scalar(select(Answer.id).limit(1)) is not None


async def test_a_zalo_person_named_with_nul_registers(mixed) -> None:
    director = ZaloPerson(mixed.zalo, mixed.zalo.add_user(NUL_NAME), NUL_NAME)
    assert (await director.asks(director.id, "/start\x00")).startswith("👋")
    reply_text = await mixed.register(director.id, "tthtcd-an-binh", director, mention="")
    assert reply_text.startswith("✅")
    async with mixed.world.db.session() as session:
        names = set(await session.scalars(select(Member.name)))
    assert "Thầy Hùng" in names
