"""What the fault tests share: many registered groups at once, set up without a conversation."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter

import aiohttp
from sqlalchemy import select

from bot.app import Loa
from bot.campaign.loader import load_campaign
from bot.campaign.units import Unit as CsvUnit
from bot.channels.defaults import TelegramLimits
from bot.channels.telegram import TelegramChannel
from bot.delivery.clock import Clock, CompressedClock
from bot.ops.registration import codes_expire
from bot.sandbox.telegram import TelegramSandbox
from bot.store import chats
from bot.store.db import Database
from bot.store.models import Delivery, DeliveryAttempt
from bot.store.units import import_units
from tests.conftest import SCHEDULES, SEEDS


async def registered_groups(
    sandbox: TelegramSandbox, db: Database, token: str, count: int
) -> list[int]:
    """`count` units, each with one group in the sandbox (the bot a member) bound to it in the
    database, as if each had sent `/dangky`; the my_chat_member updates are consumed, so the bot
    does not greet them when it starts. Returns the groups' chat ids."""
    groups = [sandbox.create_group(f"Trường số {i:03}", bots=[token]) for i in range(count)]
    units = [
        CsvUnit(f"truong-{i:03}", f"Trường số {i:03}", "truong-hoc", "huyện Lạc Thủy")
        for i in range(count)
    ]
    async with db.session() as session, session.begin():
        await import_units(session, units)
        for unit_row, group in zip(
            sorted(await chats.all_units(session), key=lambda u: u.code), groups, strict=True
        ):
            chat = await chats.meet(session, "telegram", str(group), "supergroup", unit_row.name)
            assert await chats.bind(session, chat, unit_row)
    await drop_updates(sandbox, token)
    return groups


async def drop_updates(sandbox: TelegramSandbox, token: str) -> None:
    """Confirm every pending update through the Bot API, as a previous poller would have."""
    async with aiohttp.ClientSession() as http:
        url = f"{sandbox.base_url}/bot{token}/getUpdates"
        offset = 0
        while True:  # at most 100 a call
            async with http.post(url, json={"offset": offset, "timeout": 0}) as response:
                updates = (await response.json())["result"]
            if not updates:
                return
            offset = updates[-1]["update_id"] + 1


def copies(sandbox: TelegramSandbox, marker: str, groups: list[int]) -> Counter[int]:
    """How many messages containing `marker` each group got (0 for those that got none)."""
    wanted = set(groups)
    got = Counter({group: 0 for group in groups})
    for message in sandbox.sent():
        chat = message["chat"]["id"]
        if chat in wanted and marker in message.get("text", ""):
            got[chat] += 1
    return got


async def start_loa(
    sandbox: TelegramSandbox,
    db: Database,
    token: str,
    limits: TelegramLimits,
    coordinator: int | None = None,
    clock: Clock | None = None,
) -> Loa:
    """Loa in this process on the Lạc Thủy campaign, at the real time (the 2023 week is over,
    so nothing of its timeline is planned: only broadcasts go out), or at `clock`'s."""
    telegram = TelegramChannel(
        token,
        api_base_url=sandbox.base_url,
        poll_timeout=10,  # one long poll for the test's few seconds: no other request in between
        limits=limits,
    )
    loa = Loa(
        load_campaign(SCHEDULES / SEEDS["lac-thuy"]),
        "lac-thuy-2023",
        db,
        {"telegram": telegram},
        coordinators=frozenset({f"telegram:{coordinator}"} if coordinator else ()),
        clock=clock or Clock(),
    )
    await loa.start()
    return loa


def registering_clock() -> Clock:
    """Real time running from the last day the Lạc Thủy codes work (a week after its report
    deadline): the units can still register, and its whole timeline is past."""
    campaign = load_campaign(SCHEDULES / SEEDS["lac-thuy"])
    return CompressedClock(codes_expire(campaign) - dt.timedelta(days=1), factor=1.0)


async def rows(db: Database) -> list[Delivery]:
    async with db.session() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def attempts(db: Database) -> list[DeliveryAttempt]:
    async with db.session() as session:
        query = select(DeliveryAttempt).order_by(DeliveryAttempt.id)
        return list(await session.scalars(query))


async def sender_idle(loa: Loa, timeout: float = 5.0) -> None:
    """Wait until the look at the outbox that `start` made is over (the next one is far off):
    a wake now starts a look of its own instead of landing in the middle of that one."""
    deadline = time.monotonic() + timeout
    while True:
        planned = loa.sender.next_look()
        if planned is not None and planned > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the sender is still busy; next look at {planned}")
        await asyncio.sleep(0.02)
