"""`loa demo`: the 2023 Lạc Thủy campaign, its two weeks in about a minute, on the sandbox.

Six units register (one through its principal's private chat, one after a wrong code); Loa sends
the ceremony notices, the week's messages, the report reminders and the data prompts; the
coordinator broadcasts and checks progress; one school removes the bot. Then a transcript per
chat. Everything runs for real: python-telegram-bot over HTTP to the sandbox Bot API, SQLite,
the outbox. The exit status says whether every message arrived where it should, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select

from bot.app import Loa
from bot.campaign.loader import load_campaign, load_units
from bot.campaign.timeline import timeline
from bot.channels.telegram import TelegramChannel
from bot.delivery.clock import CompressedClock
from bot.messages import render
from bot.sandbox.telegram import Limits, TelegramSandbox
from bot.store.db import Database
from bot.store.models import Chat, Delivery, DeliveryStatus, Unit
from bot.store.units import import_units

ROOT = Path(__file__).resolve().parent.parent
CAMPAIGN = ROOT / "schedules" / "2023-lac-thuy.yaml"
UNITS = ROOT / "schedules" / "units" / "lac-thuy.csv"
TOKEN = "100200300:demo-token"
COORDINATOR = "Cô Lan (Phòng GD&ĐT)"
PRINCIPALS = ["Thầy Hùng", "Cô Thu", "Cô Mai", "Thầy Dũng", "Anh Tuấn", "Chị Lan Anh"]
PRIVATE_UNIT = "mn-an-binh"  # served through its principal's private chat
LEAVING_UNIT = "thcs-khoan-du"  # removes the bot from its group mid-week
OBSERVE_EVERY = 0.01  # seconds: how often the demo looks for new bot messages
QUIET = 1.5  # seconds without a new bot message that end a scene (replies are paced 1/s)


@dataclass
class Line:
    """One message of a transcript: who said it, when on the campaign's clock."""

    message_id: int
    at: dt.datetime
    who: str
    text: str


class Demo:
    def __init__(self, sandbox: TelegramSandbox, db: Database, seconds: float) -> None:
        self.sandbox, self.db = sandbox, db
        self.campaign = load_campaign(CAMPAIGN)
        moments = [d.at for d in timeline(self.campaign)]
        start = min(moments).replace(hour=12) - dt.timedelta(days=1)  # the day before: set-up
        self.end = max(moments)
        self.clock = CompressedClock(start, (self.end - start).total_seconds() / seconds)
        self.names: dict[int, str] = {}
        self.chats: dict[int, list[Line]] = {}  # in the order they appear
        self.unit_chats: dict[str, int] = {}
        self.coordinator = self.person(COORDINATOR)
        self.last_message = time.monotonic()

    def person(self, name: str) -> int:
        user = self.sandbox.add_user(name)
        self.names[user] = name
        return user

    async def say(self, chat: int, user: int, text: str) -> None:
        """Someone writes; wait for Loa's answer."""
        expected = len(self.sandbox.sent(chat)) + 1
        message = await self.sandbox.post(chat, user, text)
        line = Line(message["message_id"], self.clock.now(), self.names[user], text)
        self.chats.setdefault(chat, []).append(line)
        await self.sandbox.wait_sent(chat, expected)
        self.last_message = time.monotonic()  # the observer may not have stamped it yet

    @contextlib.asynccontextmanager
    async def scene(self, day: int, month: int, hour: int) -> AsyncIterator[None]:
        """Wait until the campaign clock reads this moment of 2023, and hold it there."""
        moment = dt.datetime(2023, month, day, hour, tzinfo=self.campaign.tz)
        await asyncio.sleep(self.clock.seconds_until(moment))
        self.clock.pause()
        try:
            yield
            while time.monotonic() - self.last_message < QUIET:  # notices follow the replies
                await asyncio.sleep(OBSERVE_EVERY)
        finally:
            self.clock.resume()

    async def observe(self) -> None:
        """Date each message Loa sends by the campaign clock when it arrives."""
        seen: dict[int, int] = {}
        while True:
            for message in self.sandbox.sent():
                chat = message["chat"]["id"]
                if message["message_id"] > seen.get(chat, 0):
                    seen[chat] = message["message_id"]
                    line = Line(message["message_id"], self.clock.now(), "Loa", message["text"])
                    self.chats.setdefault(chat, []).append(line)
                    self.last_message = time.monotonic()
            await asyncio.sleep(OBSERVE_EVERY)

    async def play(self) -> None:
        async with self.db.session() as session:
            units = list(await session.scalars(select(Unit).order_by(Unit.id)))
        async with self.scene(28, 9, 14):
            await self.say(self.coordinator, self.coordinator, "/start")
            for number, (unit, name) in enumerate(zip(units, PRINCIPALS, strict=True)):
                principal = self.person(name)
                chat = principal
                if unit.code != PRIVATE_UNIT:
                    title = f"{unit.name} - Tuần lễ HTSĐ 2023"
                    chat = self.sandbox.create_group(title, bots=[TOKEN], admins=[principal])
                    await self.sandbox.wait_sent(chat, 1)  # Loa greets the group
                self.unit_chats[unit.code] = chat
                if number == 1:
                    await self.say(chat, principal, "/dangky ABC123")  # a typo first
                await self.say(chat, principal, f"/dangky {unit.registration_code}")
        async with self.scene(2, 10, 10):
            first = self.unit_chats[units[0].code]
            teacher = self.person("Cô Hoa (giáo viên)")
            self.sandbox.add_member(first, teacher)
            await self.say(first, teacher, "/lich")
            await self.say(first, teacher, "/khaimac")
        async with self.scene(4, 10, 8):
            text = "Đề nghị các đơn vị gửi ảnh hoạt động Tuần lễ về Phòng trước 16h ngày 06/10."
            await self.say(self.coordinator, self.coordinator, f"/thongbao {text}")
        async with self.scene(6, 10, 9):
            self.sandbox.remove_bot(self.unit_chats[LEAVING_UNIT], TOKEN)
        async with self.scene(7, 10, 9):
            await self.say(self.coordinator, self.coordinator, "/tiendo")

    async def settled(self) -> None:
        """Wait until nothing is waiting in the outbox."""
        while True:
            async with self.db.session() as session:
                waiting = await session.scalar(
                    select(Delivery.id).where(
                        Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING])
                    )
                )
            if waiting is None:
                return
            await asyncio.sleep(0.2)

    async def transcript(self) -> list[tuple[str, list[Line]]]:
        """Every chat's messages in order; those of the timeline dated by when they were due
        (a compressed minute stretches the sending time of a message into hours)."""
        async with self.db.session() as session:
            ids = {c.id: c.external_id for c in await session.scalars(select(Chat))}
            planned = {
                (ids[row.chat_id], row.message_id): row.due_at
                for row in await session.scalars(
                    select(Delivery).where(Delivery.status == DeliveryStatus.SENT)
                )
            }
        for chat, lines in self.chats.items():
            for line in lines:
                line.at = planned.get((str(chat), str(line.message_id)), line.at)
        return [
            (self.sandbox.chat_title(chat), sorted(lines, key=lambda line: line.message_id))
            for chat, lines in self.chats.items()
        ]

    async def report(self) -> dict[str, Any]:
        """What went out, and anything that should not have happened."""
        async with self.db.session() as session:
            rows = list(await session.scalars(select(Delivery)))
            ids = {c.external_id: c.id for c in await session.scalars(select(Chat))}
        chats = {code: ids[str(chat)] for code, chat in self.unit_chats.items()}
        problems = [
            f"{row.key}: {row.status} ({row.last_error})"
            for row in rows
            if row.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
            or (row.status == DeliveryStatus.FAILED and row.chat_id != chats[LEAVING_UNIT])
        ]
        reached = {row.chat_id for row in rows if row.status == DeliveryStatus.SENT}
        problems += [f"nothing reached {code}" for code, c in chats.items() if c not in reached]
        for code, chat in self.unit_chats.items():  # what arrived == what the outbox sent, once
            arrived = sorted(
                line.text for line in self.chats.get(chat, []) if line.text.startswith("Kính gửi")
            )
            planned = sorted(
                row.text or ""
                for row in rows
                if row.chat_id == chats[code] and row.status == DeliveryStatus.SENT
            )
            if arrived != planned:
                problems.append(f"{code}: {len(arrived)} messages arrived, {len(planned)} sent")
        return {
            "sent": sum(row.status == DeliveryStatus.SENT for row in rows),
            "failed": sum(row.status == DeliveryStatus.FAILED for row in rows),
            "chats": len(reached),
            "problems": problems,
        }


async def run(out: TextIO, seconds: float = 60) -> int:
    """Play the demo; 0 when every planned message reached every chat still holding the bot."""
    with tempfile.TemporaryDirectory(prefix="loa-demo-") as folder:
        async with (
            TelegramSandbox(limits=Limits(), latency=0.005) as sandbox,
            Database(f"sqlite:///{folder}/demo.db") as db,
        ):
            sandbox.add_bot(TOKEN, username="loa_lacthuy_bot")
            await db.upgrade()
            campaign = load_campaign(CAMPAIGN)
            async with db.session() as session, session.begin():
                await import_units(session, load_units(UNITS, campaign))
            demo = Demo(sandbox, db, seconds)
            loa = Loa(
                campaign,
                "lac-thuy-2023",
                db,
                {"telegram": TelegramChannel(TOKEN, api_base_url=sandbox.base_url)},
                coordinators=frozenset({f"telegram:{demo.coordinator}"}),
                clock=demo.clock,
            )
            observer = asyncio.create_task(demo.observe())
            await loa.start()
            try:
                await demo.play()
                await demo.settled()
            finally:
                await loa.stop()
                observer.cancel()
            report = await demo.report()
            print(
                render(
                    "demo",
                    campaign=campaign,
                    chats=await demo.transcript(),
                    report=report,
                    start=demo.clock.start,
                    end=demo.end,
                    seconds=seconds,
                    tz=campaign.tz,
                ),
                file=out,
            )
            return 1 if report["problems"] else 0
