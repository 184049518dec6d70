"""The real bot (python-telegram-bot, SQLite, the outbox) against the sandbox Bot API over HTTP.

Tests read as conversations: people (`Person`) write in chats of the sandbox, the bot answers
there, and the database shows what happened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot.app import Loa
from bot.campaign.loader import load_campaign, load_units
from bot.campaign.scope import Scope
from bot.channels.defaults import TelegramLimits
from bot.channels.telegram import TelegramChannel
from bot.delivery.clock import Clock
from bot.sandbox.telegram import Limits, TelegramSandbox
from bot.store.db import Database
from bot.store.defaults import PhotoSettings
from bot.store.models import Unit
from bot.store.units import import_units
from tests.conftest import SCHEDULES, SEEDS

TOKEN = "123456:TEST-token-that-must-never-be-logged"
VN = dt.timezone(dt.timedelta(hours=7))
UNLIMITED = TelegramLimits(
    overall_per_second=1000, group_per_minute=60_000, private_per_second=1000
)


class FixedClock(Clock):
    """A campaign moment that does not move: only what is due at it goes out."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


class Running(Clock):
    """Real time, shifted to a moment of the campaign (retries fall due as they should)."""

    def __init__(self, start: dt.datetime) -> None:
        self.set(start)

    def set(self, moment: dt.datetime) -> None:
        self.offset = moment - dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


@dataclass
class Person:
    sandbox: TelegramSandbox
    id: int
    name: str

    async def says(self, chat: int, text: str, reply_to: int | None = None) -> dict:
        return await self.sandbox.post(chat, self.id, text, reply_to=reply_to)

    async def asks(self, chat: int, text: str, timeout: float = 5.0) -> str:
        """Write in a chat and return the bot's next message there."""
        before = len(self.sandbox.sent(chat))
        await self.says(chat, text)
        sent = await self.sandbox.wait_sent(chat, before + 1, timeout)
        return sent[before]["text"]


@dataclass
class World:
    sandbox: TelegramSandbox
    loa: Loa
    db: Database
    coordinator: Person

    def person(self, name: str) -> Person:
        return Person(self.sandbox, self.sandbox.add_user(name), name)

    async def group(self, title: str, *members: Person, admins: tuple[Person, ...] = ()) -> int:
        """A group with the bot in it, once the bot has greeted it."""
        chat = self.sandbox.create_group(
            title,
            members=[m.id for m in (*members, *admins)],
            bots=[TOKEN],
            admins=[a.id for a in admins],
        )
        await self.sandbox.wait_sent(chat, 1)
        return chat

    async def code_of(self, unit_code: str) -> str:
        async with self.db.session() as session:
            unit = await session.scalar(select(Unit).where(Unit.code == unit_code))
            assert unit is not None
            return unit.registration_code

    async def register(self, chat: int, unit_code: str, who: Person) -> str:
        """Register with the unit's current code; wait for the coordinator's notice too."""
        told = len(self.notices())
        reply = await who.asks(chat, f"/dangky {await self.code_of(unit_code)}")
        if reply.startswith("✅"):
            await self.sandbox.wait_sent(self.coordinator.id, told + 1)
        return reply

    async def registered_groups(self, *unit_codes: str) -> dict[str, int]:
        """A group per unit, registered by its admin: unit code -> chat id."""
        principal = self.person("Hiệu trưởng")
        groups = {}
        for code in unit_codes:
            groups[code] = await self.group(f"Nhóm {code}", admins=(principal,))
            await self.register(groups[code], code, principal)
        return groups

    def notices(self) -> list[str]:
        """What the coordinator received in their private chat."""
        return [m["text"] for m in self.sandbox.sent(self.coordinator.id)]


@pytest.fixture
async def sandbox() -> AsyncIterator[TelegramSandbox]:
    async with TelegramSandbox(limits=Limits.off()) as sandbox:
        sandbox.add_bot(TOKEN, username="loa_bot")
        yield sandbox


@pytest.fixture
def clock() -> Clock:
    return FixedClock(dt.datetime(2023, 10, 3, 9, 0, tzinfo=VN))  # day 2 of the Lạc Thủy week


@pytest.fixture
async def database(db: Database) -> Database:
    """The Lạc Thủy units in a fresh database (SQLite; PostgreSQL too with TEST_DATABASE_URL)."""
    campaign = load_campaign(SCHEDULES / SEEDS["lac-thuy"])
    async with db.session() as session, session.begin():
        await import_units(session, load_units(SCHEDULES / "units" / "lac-thuy.csv", campaign))
    return db


async def start_world(
    sandbox: TelegramSandbox,
    db: Database,
    clock: Clock,
    scopes: Mapping[str, Scope] | None = None,
    photos: PhotoSettings | None = None,
    **channel,
) -> World:
    """`scopes`: commune coordinators (`telegram:ID` -> their parents) beside Cô Lan, the
    campaign's."""
    coordinator = Person(sandbox, sandbox.add_user("Cô Lan", username="lan_pgd"), "Cô Lan")
    telegram = TelegramChannel(
        TOKEN,
        api_base_url=sandbox.base_url,
        poll_timeout=1,
        limits=UNLIMITED,  # the sandbox has no limits here either
        **channel,
    )
    loa = Loa(
        load_campaign(SCHEDULES / SEEDS["lac-thuy"]),
        "lac-thuy-2023",
        db,
        {"telegram": telegram},
        coordinators=frozenset({f"telegram:{coordinator.id}", *(scopes or {})}),
        clock=clock,
        notice_every=0,  # each notice as it comes: these conversations read them one by one
        scopes=scopes,
        photos=photos,
    )
    await loa.start()
    world = World(sandbox, loa, db, coordinator)
    await coordinator.asks(coordinator.id, "/start")  # opens the private chat for notices
    return world


@pytest.fixture
async def world(sandbox, database, clock) -> AsyncIterator[World]:
    world = await start_world(sandbox, database, clock)
    yield world
    await world.loa.stop()
