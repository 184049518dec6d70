"""A group where the bot reads every message (privacy mode off, as some offices set it): figures
written as `MÃ: SỐ` lines count without a reply, and ordinary talk that merely looks like them is
left alone."""

import asyncio
import datetime as dt

import pytest

from bot.sandbox.telegram import Limits, TelegramSandbox
from tests.e2e.conftest import TOKEN, VN, FixedClock
from tests.e2e.test_answers import form_of, stored


@pytest.fixture
async def sandbox():
    async with TelegramSandbox(limits=Limits.off()) as sandbox:
        sandbox.add_bot(TOKEN, username="loa_bot", privacy=False)
        yield sandbox


@pytest.fixture
def clock():
    return FixedClock(dt.datetime(2023, 10, 9, 9, 0, tzinfo=VN))


async def test_figures_count_and_talk_that_looks_like_them_is_ignored(world):
    groups = await world.registered_groups("th-chi-ne")
    group = groups["th-chi-ne"]
    await form_of(world, group)
    teacher = world.person("Cô Hoa")
    before = len(world.sandbox.sent(group))
    await teacher.says(group, "Nhắc cả nhóm:\n2: mang theo sổ\n3: đến sớm")
    await teacher.says(group, "Xin chào cả nhà")
    await asyncio.sleep(0.3)
    assert len(world.sandbox.sent(group)) == before  # no reply to group talk
    ack = await teacher.asks(group, "1.2: 3/120")  # a figure, written without a reply
    assert ack.startswith("✅ Đã ghi:") and "3 lớp, 120 người" in ack
    assert await stored(world, "th-chi-ne") == {"1.2": (3, 120)}
