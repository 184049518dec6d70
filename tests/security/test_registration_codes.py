"""Registration codes cannot be guessed (issue 14, item 2): an atomic limit per person and per
chat, anonymous admins counted as one person, a bot-wide budget that slows every check and tells
the coordinators once, codes long enough for a year of 5,000 groups, expiry, and no oracle."""

import asyncio
import datetime as dt
import time

import pytest
from sqlalchemy import select

from bot.ops import registration
from bot.store import units as store_units
from bot.store.models import Chat
from tests.e2e.conftest import VN, FixedClock, start_world

WRONG = "❌"
THROTTLED = "⏳"


async def unit_of_chat(world, chat_id) -> int | None:
    async with world.db.session() as session:
        chat = await session.scalar(select(Chat).where(Chat.external_id == str(chat_id)))
        return chat.unit_id


async def replies_to(world, posts) -> list[str]:
    """Post (person, chat, text) all at once; each chat's first reply after it."""
    before = {chat: len(world.sandbox.sent(chat)) for _, chat, _ in posts}
    await asyncio.gather(*(person.says(chat, text) for person, chat, text in posts))
    sent = [await world.sandbox.wait_sent(chat, before[chat] + 1, 20) for _, chat, _ in posts]
    return [s[before[chat]]["text"] for s, (_, chat, _) in zip(sent, posts, strict=True)]


async def test_thirty_wrong_codes_at_once_from_thirty_groups_check_only_five(world):
    guesser = world.person("Người đoán mã")
    groups = [await world.group(f"Nhóm {n}", guesser) for n in range(30)]

    replies = await replies_to(
        world, [(guesser, g, f"/dangky ZZZZZ{n:05}") for n, g in enumerate(groups)]
    )

    checked = [r for r in replies if r.startswith(WRONG)]
    assert len(checked) == registration.WRONG_CODE_LIMIT
    assert all(r.startswith((WRONG, THROTTLED)) for r in replies)


async def test_an_anonymous_admin_is_one_guesser_in_every_group(world):
    admin = world.person("Quản trị ẩn danh")
    groups = [await world.group(f"Nhóm {n}", admins=(admin,)) for n in range(7)]
    replies = []
    for n, group in enumerate(groups):
        before = len(world.sandbox.sent(group))
        await world.sandbox.post(group, admin.id, f"/dangky YYYYY{n:05}", anonymous=True)
        replies.append((await world.sandbox.wait_sent(group, before + 1))[before]["text"])
    assert [r[0] for r in replies] == [WRONG] * 5 + [THROTTLED] * 2


async def test_over_the_hourly_budget_checks_slow_down_and_the_coordinators_are_told_once(
    world, monkeypatch
):
    monkeypatch.setattr(registration, "WRONG_CODES_PER_HOUR", 2)
    monkeypatch.setattr(registration, "SLOW_EVERY", 0.4)
    people = [world.person(f"Người {n}") for n in range(5)]
    groups = [await world.group(f"Nhóm {n}", p) for n, p in enumerate(people)]
    for person, group in zip(people[:2], groups[:2], strict=True):
        assert (await person.asks(group, "/dangky ZZZZZ-ZZZZZ")).startswith(WRONG)
    told = len(world.notices())

    began = time.monotonic()
    replies = await replies_to(
        world, [(p, g, "/dangky XXXXX-XXXXX") for p, g in zip(people[2:], groups[2:], strict=True)]
    )
    took = time.monotonic() - began

    assert all(r.startswith(WRONG) for r in replies)
    assert took >= 2 * 0.4  # three checks, one per SLOW_EVERY across the bot
    await world.sandbox.wait_sent(world.coordinator.id, told + 1)
    await asyncio.sleep(0.2)
    alerts = [n for n in world.notices()[told:] if "dò mã" in n]
    assert len(alerts) == 1


def test_five_thousand_groups_need_over_a_year_for_one_hit():
    """Each group may try WRONG_CODE_LIMIT codes per WRONG_CODE_WINDOW (the per-person limit
    only helps); with as many unspent codes as a province has units, the expected wait for a
    first valid code is 1 / (guesses a year * unspent / possible codes)."""
    groups, unspent = 5_000, 10_000  # a province: about 1,600 institutions, thousands of units
    per_year = dt.timedelta(days=365) / registration.WRONG_CODE_WINDOW
    guesses = groups * registration.WRONG_CODE_LIMIT * per_year
    possible = len(store_units.ALPHABET) ** store_units.CODE_LENGTH
    years_to_a_hit = possible / (guesses * unspent)
    assert years_to_a_hit > 1
    # and bot-wide, however many groups: at most the budget plus one check per SLOW_EVERY
    bot_wide = (registration.WRONG_CODES_PER_HOUR + 3600 / registration.SLOW_EVERY) * 24 * 365
    assert possible / (bot_wide * unspent) > 1_000


def test_new_codes_are_easy_to_type_and_old_ones_still_read():
    code = store_units.new_registration_code()
    left, dash, right = code.partition("-")
    assert dash and len(left) == len(right) == store_units.CODE_LENGTH // 2
    assert set(left + right) <= set(store_units.ALPHABET)
    assert store_units.stored_form(code.lower().replace("-", " ")) == code
    assert store_units.stored_form("abc-234") == "ABC234"  # issued before: still read
    assert store_units.stored_form("abc-23") is None


async def test_a_registered_chat_learns_nothing_from_another_units_valid_code(world):
    principal = world.person("Thầy Hùng")
    group = await world.group("Nhóm", principal)
    await world.register(group, "th-chi-ne", principal)
    other = await world.code_of("thcs-chi-ne")

    valid = await principal.asks(group, f"/dangky {other}")
    wrong = await principal.asks(group, "/dangky ZZZZZ-ZZZZZ")

    assert valid == wrong
    assert await world.code_of("thcs-chi-ne") == other  # not spent


@pytest.fixture
async def late_world(sandbox, database):
    after = dt.datetime(2023, 10, 19, 9, 0, tzinfo=VN)  # a week after the 12/10 report deadline
    world = await start_world(sandbox, database, FixedClock(after))
    yield world
    await world.loa.stop()


async def test_unspent_codes_expire_a_week_after_the_report_deadline(late_world):
    world = late_world
    principal = world.person("Thầy Hùng")
    group, other = await world.group("Nhóm", principal), await world.group("Khác", principal)

    late = await world.register(group, "th-chi-ne", principal)

    assert late == await principal.asks(other, "/dangky ZZZZZ-ZZZZZ")
    assert late.startswith(WRONG)
    assert await unit_of_chat(world, group) is None


async def test_while_slowed_too_many_waiting_are_asked_to_come_back(world, monkeypatch):
    monkeypatch.setattr(registration, "WRONG_CODES_PER_HOUR", 0)
    monkeypatch.setattr(registration, "SLOW_EVERY", 1.5)
    monkeypatch.setattr(registration, "SLOW_QUEUE", 1)
    people = [world.person(f"Người {n}") for n in range(3)]
    groups = [await world.group(f"Nhóm {n}", p) for n, p in enumerate(people)]
    posts = [(p, g, "/dangky XXXXX-XXXXX") for p, g in zip(people, groups, strict=True)]

    replies = await replies_to(world, posts)

    assert sorted(r[:1] for r in replies) == sorted([WRONG, WRONG, THROTTLED])
    assert sum("quá nhiều lượt nhập mã" in r for r in replies) == 1
