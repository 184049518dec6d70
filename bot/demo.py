"""`loa demo`: the 2023 Lạc Thủy campaign, its twelve days in about a minute, on the sandbox.

Six units register (one through its principal's private chat, one after a wrong code); Loa sends
the ceremony notices, the week's messages, the report reminders and the data prompts; the
coordinator broadcasts and checks progress; one school removes the bot. Then a transcript per
chat. Everything runs for real: python-telegram-bot over HTTP to the sandbox Bot API, SQLite,
the outbox. The exit status says whether every message arrived where it should.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from dataclasses import dataclass
from itertools import pairwise
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
PRIVATE_UNIT = "mn-an-binh"  # served through its principal's private chat
LEAVING_UNIT = "thcs-khoan-du"  # removes the bot from its group mid-week
PRINCIPALS = ["Thầy Hùng", "Cô Thu", "Cô Mai", "Thầy Dũng", "Anh Tuấn", "Chị Lan Anh"]


@dataclass
class Line:
    """One message of a transcript: who said it, when on the campaign's clock."""

    chat: int
    message_id: int
    at: dt.datetime
    who: str
    text: str


class Demo:
    def __init__(self, sandbox: TelegramSandbox, db: Database, seconds: float) -> None:
        self.sandbox, self.db = sandbox, db
        self.campaign = load_campaign(CAMPAIGN)
        moments = [d.at for d in timeline(self.campaign)]
        start = min(moments) - dt.timedelta(hours=19)  # the afternoon before the first notice
        self.end = max(moments)
        self.clock = CompressedClock(start, (self.end - start).total_seconds() / seconds)
        self.said: list[Line] = []
        self.names: dict[int, str] = {}
        self.chats: dict[str, int] = {}  # unit code -> chat id

    def person(self, name: str) -> int:
        user = self.sandbox.add_user(name)
        self.names[user] = name
        return user

    async def say(self, chat: int, user: int, text: str) -> None:
        message = await self.sandbox.post(chat, user, text)
        self.said.append(
            Line(chat, message["message_id"], self.clock.now(), self.names[user], text)
        )
        await self.sandbox.wait_sent(chat, len(self.sandbox.sent(chat)) + 1)

    async def at(self, day: int, month: int, hour: int) -> None:
        """Wait until the campaign clock reads this local moment (2023)."""
        moment = dt.datetime(2023, month, day, hour, tzinfo=self.campaign.tz)
        await asyncio.sleep(self.clock.seconds_until(moment))

    async def play(self, loa: Loa) -> None:
        coordinator = next(int(c.split(":")[1]) for c in loa.coordinators)
        await self.say(coordinator, coordinator, "/start")
        async with self.db.session() as session:
            units = list(await session.scalars(select(Unit).order_by(Unit.id)))
        for number, (unit, name) in enumerate(zip(units, PRINCIPALS, strict=True)):
            principal = self.person(name)
            if unit.code == PRIVATE_UNIT:
                chat = principal
            else:
                chat = self.sandbox.create_group(
                    f"{unit.name} - Tuần lễ HTSĐ 2023", bots=[TOKEN], admins=[principal]
                )
            self.chats[unit.code] = chat
            if number == 1:
                await self.say(chat, principal, "/dangky ABC123")  # a typo first
            await self.say(chat, principal, f"/dangky {unit.registration_code}")
        first_group = self.chats[units[0].code]
        await self.at(2, 10, 10)
        teacher = self.person("Cô Hoa (giáo viên)")
        self.sandbox.add_member(first_group, teacher)
        await self.say(first_group, teacher, "/lich")
        await self.say(first_group, teacher, "/khaimac")
        await self.at(4, 10, 8)
        await self.say(
            coordinator,
            coordinator,
            "/thongbao Đề nghị các đơn vị gửi ảnh hoạt động Tuần lễ về Phòng trước 16h ngày 06/10.",
        )
        await self.at(6, 10, 9)
        self.sandbox.remove_bot(self.chats[LEAVING_UNIT], TOKEN)
        await self.at(7, 10, 9)
        await self.say(coordinator, coordinator, "/tiendo")

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
        """Every chat's messages in order; Loa's dated by when they were due, replies by what
        they answer."""
        async with self.db.session() as session:
            chat_ids = {c.external_id: c.id for c in await session.scalars(select(Chat))}
            sent = {
                (row.chat_id, row.message_id): row.due_at
                for row in await session.scalars(
                    select(Delivery).where(Delivery.status == DeliveryStatus.SENT)
                )
            }
        chats = []
        for chat in sorted({line.chat for line in self.said} | set(self.chats.values())):
            lines = [line for line in self.said if line.chat == chat]
            for message in self.sandbox.sent(chat):
                at = sent.get((chat_ids.get(str(chat)), str(message["message_id"])))
                lines.append(Line(chat, message["message_id"], at, "Loa", message["text"]))
            lines.sort(key=lambda line: line.message_id)
            for before, line in pairwise(lines):
                line.at = line.at or before.at
            for line in lines:
                line.at = line.at.astimezone(self.campaign.tz)
            chats.append((self.sandbox.chat_title(chat), lines))
        return chats

    async def report(self) -> dict[str, Any]:
        """What went out, and anything that should not have happened."""
        async with self.db.session() as session:
            rows = list(await session.scalars(select(Delivery)))
            chat_ids = {c.external_id: c.id for c in await session.scalars(select(Chat))}
        leaving = chat_ids[str(self.chats[LEAVING_UNIT])]
        problems = [
            f"delivery {row.key}: {row.status} ({row.last_error})"
            for row in rows
            if row.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
            or (row.status == DeliveryStatus.FAILED and row.chat_id != leaving)
        ]
        keys = [row.key for row in rows if row.status == DeliveryStatus.SENT]
        problems += [f"sent twice: {key}" for key in {k for k in keys if keys.count(k) > 1}]
        received = {row.chat_id for row in rows if row.status == DeliveryStatus.SENT}
        problems += [
            f"nothing reached {code}"
            for code, chat in self.chats.items()
            if chat_ids[str(chat)] not in received
        ]
        return {
            "sent": len(keys),
            "failed": sum(row.status == DeliveryStatus.FAILED for row in rows),
            "chats": len(received),
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
            coordinator = demo.person("Cô Lan (Phòng GD&ĐT)")
            channel = TelegramChannel(TOKEN, api_base_url=sandbox.base_url, poll_timeout=1)
            loa = Loa(
                campaign,
                "lac-thuy-2023",
                db,
                {"telegram": channel},
                coordinators=frozenset({f"telegram:{coordinator}"}),
                clock=demo.clock,
            )
            await loa.start()
            try:
                await demo.play(loa)
                await demo.settled()
            finally:
                await loa.stop()
            report = await demo.report()
            text = render(
                "demo",
                campaign=campaign,
                chats=await demo.transcript(),
                report=report,
                start=demo.clock.start,
                end=demo.end,
                seconds=seconds,
            )
            print(text, file=out)
            return 1 if report["problems"] else 0
