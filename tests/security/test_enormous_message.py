"""One enormous message (issue 14, item 7): more `MÃ: SỐ` lines than the form has rows is answered
once, with a summary, and nothing of it is recorded."""

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.stats import table
from bot.store.models import Answer
from tests.e2e.conftest import VN, FixedClock
from tests.e2e.test_answers import form_of


@pytest.fixture
def clock():
    return FixedClock(dt.datetime(2023, 10, 9, 9, 0, tzinfo=VN))  # the report window is open


async def answer_rows(world) -> int:
    async with world.db.session() as session:
        return await session.scalar(select(func.count()).select_from(Answer))


async def test_twenty_thousand_lines_get_one_summary_and_record_nothing(world):
    principal = world.person("Cô Mai")
    await world.register(principal.id, "mn-an-binh", principal)
    await form_of(world, principal.id)  # the parts of the form are due and go out first
    rows = [row.code for row in table.answerable(world.loa.campaign.form)]
    lines = "\n".join(f"{rows[n % len(rows)]}: {n % 7}/{n % 50 + 7}" for n in range(20_000))
    before = len(world.sandbox.sent(principal.id))

    await principal.says(principal.id, lines)
    [summary] = (await world.sandbox.wait_sent(principal.id, before + 1, timeout=10))[before:]
    await asyncio.sleep(0.5)  # nothing else follows

    assert len(world.sandbox.sent(principal.id)) == before + 1
    assert "20.000 dòng" in summary["text"] and f"{len(rows)} mục" in summary["text"]
    assert await answer_rows(world) == 0


async def test_a_message_with_as_many_lines_as_the_form_has_rows_is_still_read(world):
    principal = world.person("Cô Mai")
    await world.register(principal.id, "mn-an-binh", principal)
    await form_of(world, principal.id)  # so that the next message is the answer's
    count = len(table.answerable(world.loa.campaign.form))
    lines = "\n".join(f"2: {n + 1}" for n in range(count))  # row 2 is a count

    reply = await principal.asks(principal.id, lines)

    assert "dòng số liệu" not in reply
    assert await answer_rows(world) >= 1
