"""`loa demo`: the 2023 Lạc Thủy campaign, its two weeks in about two minutes (2 min 10 s
measured: the campaign's clock runs 60 s and stands still while people type), on the sandbox
Telegram and Zalo Bot APIs.

Six units register: four Telegram groups (one after a wrong code), a principal's private chat on
Telegram, and a centre director's private chat on Zalo. Loa sends the ceremony notices, the
week's messages and reminders; the coordinator broadcasts and checks progress; one school removes
the bot. When the week is over the form goes out in parts and the units answer (a reply with
`MÃ: SỐ` lines, /baocao questions, a correction with /sua, a refused figure); the next reminder
goes only to units still missing figures, and the coordinator gets the table with /xuat. The
units are a district's in four communes (a township and three communes); xã An Bình's official
coordinates its two units from Zalo (`LOA_ADMINS` `zalo:ID@XA-AN-BINH`): hears of their
registrations only, and asks /tiendo and /xuat, which show its units alone. Then a transcript per
chat, and the exports written to `var/demo/`: the district's, with a subtotal sheet per commune,
and xã An Bình's. Everything runs for real:
python-telegram-bot and Loa's Zalo client over HTTP to the sandboxes, SQLite, the outbox. The exit
status says whether every message arrived where it should, once.

The web console is served the whole time on loopback (LOA_WEB_PORT when it is free, else any
free port; LOA_WEB=0: not at all), its address printed first; the coordinator asks for a sign-in
link with /quanly at the end. The campaign's clock runs thousands of times faster than a real
one, so a sign-in link (15 minutes) or a session (12 hours) of the campaign's time would be over
in moments: with `--keep` the clock stops when the campaign is over, and the sandboxes, Loa and
the console stay up, with a fresh sign-in link printed, until Ctrl+C.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import itertools
import signal
import socket
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from PIL import Image, ImageDraw
from sqlalchemy import select

from bot.app import Loa
from bot.campaign.loader import load_campaign, load_units
from bot.campaign.scope import EVERYTHING, Scope
from bot.campaign.timeline import timeline
from bot.channels.base import Channel
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel
from bot.config import DEFAULT_WEB_HOST, Settings
from bot.delivery.clock import CompressedClock
from bot.delivery.notices import EVERY as NOTICE_EVERY
from bot.documents.formats import FORMATS, writer
from bot.messages import render
from bot.ops import exports, signin
from bot.ops import units as unit_ops
from bot.ops.env import Env
from bot.ops.figures import gather
from bot.sandbox.telegram import Limits, TelegramSandbox
from bot.sandbox.zalo import ZaloSandbox
from bot.service import Site, console_of, web_console
from bot.stats.export import Export
from bot.store.db import Database
from bot.store.models import Chat, Delivery, DeliveryStatus, Unit

ROOT = Path(__file__).resolve().parent.parent
CAMPAIGN = ROOT / "schedules" / "2023-lac-thuy.yaml"
UNITS = ROOT / "schedules" / "units" / "lac-thuy.csv"
TOKEN = "100200300:demo-token"
ZALO_TOKEN = "4004004004:demo-zalo-token"
COORDINATOR = "Cô Lan (Phòng GD&ĐT)"
COMMUNE_COORDINATOR = "Anh Bình (UBND xã An Bình)"  # on Zalo, coordinates xã An Bình's units
COMMUNE = Scope.of("XA-AN-BINH")
PRINCIPALS = ["Thầy Hùng", "Cô Thu", "Cô Mai", "Thầy Dũng", "Anh Tuấn", "Chị Lan Anh"]
PRIVATE_UNIT = "mn-an-binh"  # served through its principal's private chat
ZALO_UNIT = "tthtcd-dong-tam"  # served on Zalo, in its director's private chat
LEAVING_UNIT = "thcs-khoan-du"  # removes the bot from its group mid-week
OBSERVE_EVERY = 0.01  # seconds: how often the demo looks for new bot messages
QUIET = 1.5  # seconds without a new bot message that end a scene (replies are paced 1/s)
EXPORTS = Path("var") / "demo"

Where = tuple[str, int | str]  # (platform, chat id)


@dataclass
class Line:
    """One message of a transcript: who said it, when on the campaign's clock."""

    order: int  # arrival, across every chat
    message_id: str
    at: dt.datetime
    who: str
    text: str


class Demo:
    def __init__(
        self, telegram: TelegramSandbox, zalo: ZaloSandbox, db: Database, seconds: float
    ) -> None:
        self.sandboxes: dict[str, Any] = {"telegram": telegram, "zalo": zalo}
        self.db = db
        self.campaign = load_campaign(CAMPAIGN)
        moments = [d.at for d in timeline(self.campaign)]
        start = min(moments).replace(hour=12) - dt.timedelta(days=1)  # the day before: set-up
        self.end = max(moments) + dt.timedelta(hours=3)  # the coordinator's export
        self.clock = CompressedClock(start, (self.end - start).total_seconds() / seconds)
        self.names: dict[tuple[str, int | str], str] = {}
        self.chats: dict[Where, list[Line]] = {}  # in the order they appear
        self.unit_chats: dict[str, Where] = {}
        self.order = itertools.count()
        self.seen = dict.fromkeys(self.sandboxes, 0)  # messages the observer has dated
        self.coordinator = self.person("telegram", COORDINATOR)
        self.commune = self.person("zalo", COMMUNE_COORDINATOR)
        self.last_message = time.monotonic()

    def person(self, platform: str, name: str) -> int | str:
        user: int | str = self.sandboxes[platform].add_user(name)
        self.names[platform, user] = name
        return user

    async def say(
        self, where: Where, user: int | str, text: str, reply_to: Any = None, answers: int = 1
    ) -> None:
        """Someone writes; wait for Loa's answer (its `answers` messages)."""
        platform, chat = where
        expected = len(self.sandboxes[platform].sent(chat)) + answers
        message = await self.sandboxes[platform].post(chat, user, text, reply_to)
        await self._answered(where, user, text, message, expected)

    async def show(
        self, where: Where, user: int | str, caption: str, colour: str, reply_to: Any = None
    ) -> None:
        """Someone sends a photo of the week with a caption; wait for Loa's acknowledgement."""
        platform, chat = where
        sandbox = self.sandboxes[platform]
        expected = len(sandbox.sent(chat)) + 1
        content = picture(colour)
        if isinstance(sandbox, TelegramSandbox):
            message = await sandbox.post_photo(
                int(chat), int(user), content, caption, reply_to=reply_to
            )
        else:
            message = await sandbox.post(chat, user, caption, kind="image", content=content)
        await self._answered(where, user, f"[ảnh] {caption}", message, expected)

    async def _answered(
        self, where: Where, user: int | str, text: str, message: Any, expected: int
    ) -> None:
        platform, chat = where
        sandbox = self.sandboxes[platform]
        line = Line(
            next(self.order), str(message["message_id"]), self.clock.now(),
            self.names[platform, user], text,
        )  # fmt: skip
        self.chats.setdefault(where, []).append(line)
        await sandbox.wait_sent(chat, expected, timeout=30)
        while self.seen[platform] < len(sandbox.sent()):  # the answer is dated before what follows
            await asyncio.sleep(OBSERVE_EVERY)
        self.last_message = time.monotonic()

    def part(self, where: Where, number: int) -> Any:
        """The id of the form's part `number` as Loa sent it to the chat."""
        platform, chat = where
        marker = f"📝 Số liệu Tuần lễ, phần {number}/"
        sent = self.sandboxes[platform].sent(chat)
        return next(m["message_id"] for m in sent if marker in m.get("text", ""))

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
        seen = self.seen
        while True:
            for platform, sandbox in self.sandboxes.items():
                for message in sandbox.sent()[seen[platform] :]:
                    seen[platform] += 1
                    where = (platform, message["chat"]["id"])
                    text = message.get("text") or _document(message)
                    line = Line(
                        next(self.order), str(message["message_id"]), self.clock.now(), "Loa",
                        text,
                    )  # fmt: skip
                    self.chats.setdefault(where, []).append(line)
                    self.last_message = time.monotonic()
            await asyncio.sleep(OBSERVE_EVERY)

    async def play(self) -> None:
        async with self.db.session() as session:
            units = list(await session.scalars(select(Unit).order_by(Unit.id)))
        coordinator: Where = ("telegram", self.coordinator)
        commune: Where = ("zalo", self.commune)
        telegram = self.sandboxes["telegram"]
        people: dict[str, int | str] = {}
        async with self.scene(28, 9, 14):
            await self.say(coordinator, self.coordinator, "/start")
            await self.say(commune, self.commune, "/start")
            for number, (unit, name) in enumerate(zip(units, PRINCIPALS, strict=True)):
                platform = "zalo" if unit.code == ZALO_UNIT else "telegram"
                principal = people[unit.code] = self.person(platform, name)
                where: Where = (platform, principal)
                if platform == "zalo":
                    await self.say(where, principal, "/start")  # opens the chat
                elif unit.code != PRIVATE_UNIT:
                    title = f"{unit.name} - Tuần lễ HTSĐ 2023"
                    group = telegram.create_group(title, bots=[TOKEN], admins=[principal])
                    await telegram.wait_sent(group, 1)  # Loa greets the group
                    where = ("telegram", group)
                self.unit_chats[unit.code] = where
                if number == 1:
                    await self.say(where, principal, "/dangky ABC123")  # a typo first
                await self.say(where, principal, f"/dangky {unit.registration_code}")
        async with self.scene(2, 10, 10):
            first = self.unit_chats[units[0].code]
            teacher = self.person("telegram", "Cô Hoa (giáo viên)")
            telegram.add_member(first[1], teacher)
            await self.say(first, teacher, "/lich")
            await self.say(first, teacher, "/khaimac")
        async with self.scene(4, 10, 8):
            text = "Đề nghị các đơn vị gửi ảnh hoạt động Tuần lễ về Phòng trước 16h ngày 06/10."
            await self.say(coordinator, self.coordinator, f"/thongbao {text}")
        async with self.scene(6, 10, 9):
            telegram.remove_bot(self.unit_chats[LEAVING_UNIT][1], TOKEN)
        async with self.scene(6, 10, 15):  # the photos the announcement asked for
            school = self.unit_chats[units[0].code]
            asked = telegram.sent(school[1])[-1]["message_id"]  # in a group: a reply to Loa
            caption = "Lễ khai mạc Tuần lễ tại trường"
            await self.show(school, people[units[0].code], caption, "#2e7d32", asked)
            centre = self.unit_chats[ZALO_UNIT]
            caption = "Lớp tin học cho người cao tuổi"
            await self.show(centre, people[ZALO_UNIT], caption, "#1565c0")
        async with self.scene(7, 10, 9):
            await self.say(coordinator, self.coordinator, "/tiendo")
        async with self.scene(9, 10, 9):
            await self.answers(units, people)
        async with self.scene(11, 10, 9):
            await self.say(coordinator, self.coordinator, "/tiendo")
            await self.say(coordinator, self.coordinator, "/xuat", answers=2)  # "wait", the file
            await self.say(coordinator, self.coordinator, "/quanly")
            await self.say(commune, self.commune, "/tiendo")  # xã An Bình's units, one by one
            await self.say(commune, self.commune, "/xuat")  # a link: Zalo sends no files

    async def answers(self, units: list[Unit], people: dict[str, int | str]) -> None:
        """The form went out at 7h00: three units answer, each its own way."""
        await self.caught_up()
        school = self.unit_chats[units[0].code]
        lines = "1: 4\n1.1: 160\n1.2: 2 lớp, 80 người\n1.8: 2/75\n1.10: 1/-30"
        await self.say(school, people[units[0].code], lines, self.part(school, 1))
        await self.say(school, people[units[0].code], "12", self.part(school, 2))
        await self.say(school, people[units[0].code], "10.1: 3 triệu", self.part(school, 10))
        private = self.unit_chats[PRIVATE_UNIT]
        principal = people[PRIVATE_UNIT]
        await self.say(private, principal, "/baocao")
        for figure in ("2", "90", "không", "1 lớp, 45 người"):
            await self.say(private, principal, figure)
        centre = self.unit_chats[ZALO_UNIT]
        director = people[ZALO_UNIT]
        await self.say(centre, director, "1: 3\n1.1: 120\n1.6: 3 lớp, 120 người\n2: 5")
        await self.say(centre, director, "/sua 1.6 3/110")
        await self.say(centre, director, "/xem")

    async def caught_up(self) -> None:
        """Wait until everything due by now has gone out (a group takes 20 messages a minute)."""
        while True:
            async with self.db.session() as session:
                waiting = await session.scalar(
                    select(Delivery.id).where(
                        Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
                        Delivery.due_at <= self.clock.now(),
                    )
                )
            if waiting is None:
                return
            await asyncio.sleep(0.2)

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
            ids = {c.id: (c.platform, c.external_id) for c in await session.scalars(select(Chat))}
            planned = {
                (*ids[row.chat_id], row.message_id): row.due_at
                for row in await session.scalars(
                    select(Delivery).where(Delivery.status == DeliveryStatus.SENT)
                )
            }
        for (platform, chat), lines in self.chats.items():
            for line in lines:
                line.at = planned.get((platform, str(chat), line.message_id), line.at)
        return [
            (
                f"{self.sandboxes[platform].chat_title(chat)} ({platform.capitalize()})",
                sorted(lines, key=lambda line: line.order),
            )
            for (platform, chat), lines in self.chats.items()
        ]

    async def report(self) -> dict[str, Any]:
        """What went out, and anything that should not have happened."""
        async with self.db.session() as session:
            rows = list(await session.scalars(select(Delivery)))
            ids = {(c.platform, c.external_id): c.id for c in await session.scalars(select(Chat))}
        chats = {code: ids[p, str(chat)] for code, (p, chat) in self.unit_chats.items()}
        problems = [
            f"{row.key}: {row.status} ({row.last_error})"
            for row in rows
            if row.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
            or (row.status == DeliveryStatus.FAILED and row.chat_id != chats[LEAVING_UNIT])
        ]
        reached = {row.chat_id for row in rows if row.status == DeliveryStatus.SENT}
        problems += [f"nothing reached {code}" for code, c in chats.items() if c not in reached]
        for code, where in self.unit_chats.items():  # what arrived == what the outbox sent, once
            arrived = sorted(
                line.text for line in self.chats.get(where, []) if line.text.startswith("Kính gửi")
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
            "answered": sum(
                row.status == DeliveryStatus.CANCELLED
                and row.last_error == "the unit has answered what it asks for"
                for row in rows
            ),
            "chats": len(reached),
            "problems": problems,
        }


def picture(colour: str) -> bytes:
    """A stand-in for a photo of the week: a school under the sky, in the unit's colour."""
    image = Image.new("RGB", (1200, 800), "#bbdefb")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 560, 1200, 800), fill="#a5d6a7")  # the yard
    draw.rectangle((300, 300, 900, 600), fill=colour)  # the school
    draw.polygon([(260, 300), (600, 140), (940, 300)], fill="#b71c1c")  # its roof
    for left in range(360, 860, 140):
        draw.rectangle((left, 380, left + 80, 460), fill="#fff8e1")  # its windows
    draw.ellipse((1000, 60, 1120, 180), fill="#fdd835")  # the sun
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


async def export(env: Env) -> tuple[list[Path], Export]:
    """The table, the long form and the report, as the district's coordinator would take them,
    then the table as xã An Bình's would; and the district's export (its communes)."""
    EXPORTS.mkdir(parents=True, exist_ok=True)
    district, commune = await gather(env), await gather(env, COMMUNE)
    tables = [(district, EVERYTHING, fmt) for fmt in FORMATS] + [(commune, COMMUNE, "xlsx")]
    paths = []
    for exported, scope, fmt in tables:
        path = EXPORTS / exports.file_name(env, fmt, scope)
        with path.open("wb") as out:
            writer(fmt)(exported, out)
        paths.append(path)
    return paths, district


def _document(message: dict[str, Any]) -> str:
    document = message.get("document") or {}
    return f"📎 {document.get('file_name', 'tệp')}\n{message.get('caption', '')}".strip()


def loopback_port(preferred: int) -> int:
    """`preferred` if nothing listens there on loopback, else a port nobody uses."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind((DEFAULT_WEB_HOST, port))
            except OSError:
                continue
            found: int = probe.getsockname()[1]
            return found
    raise OSError("no free port on loopback")


async def until_stopped() -> None:
    """Wait for Ctrl+C (or SIGTERM)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)


async def run(
    out: TextIO, seconds: float = 60, settings: Settings | None = None, keep: bool = False
) -> int:
    """Play the demo; 0 when every planned message reached every chat still holding the bot.

    `settings`: LOA_WEB and LOA_WEB_PORT are read from them; `keep`: stay up after the campaign
    until Ctrl+C (see the module's docstring). Raises `Invalid` when the console cannot listen.
    """
    settings = settings or Settings()
    began = time.monotonic()
    site = Site(DEFAULT_WEB_HOST, loopback_port(settings.web_port)) if settings.web else None
    with tempfile.TemporaryDirectory(prefix="loa-demo-") as folder:
        async with (
            TelegramSandbox(limits=Limits(), latency=0.005) as telegram,
            ZaloSandbox(latency=0.005) as zalo,
            Database(f"sqlite:///{folder}/demo.db") as db,
            contextlib.AsyncExitStack() as serving,
        ):
            telegram.add_bot(TOKEN, username="loa_lacthuy_bot")
            zalo.add_bot(ZALO_TOKEN, display_name="Loa Lạc Thủy")
            await db.upgrade()
            campaign = load_campaign(CAMPAIGN)
            await unit_ops.import_units(db, load_units(UNITS, campaign), UNITS.name, actor="demo")
            demo = Demo(telegram, zalo, db, seconds)
            commune = f"zalo:{demo.commune}"
            channels: dict[str, Channel] = {
                "telegram": TelegramChannel(TOKEN, api_base_url=telegram.base_url),
                "zalo": ZaloChannel(ZALO_TOKEN, api_base_url=zalo.base_url, poll_timeout=1),
            }
            loa = Loa(
                campaign,
                "lac-thuy-2023",
                db,
                channels,
                coordinators=frozenset({f"telegram:{demo.coordinator}", commune}),
                scopes={commune: COMMUNE},
                clock=demo.clock,
                # a minute of the campaign's time between notice digests, as in real life
                notice_every=NOTICE_EVERY / demo.clock.factor,
                public_url=f"http://{site}" if site else None,
            )
            if site is not None:
                await serving.enter_async_context(web_console(console_of(loa, site), site))
                print(render("demo_console", address=loa.public_url), file=out, flush=True)
            observer = asyncio.create_task(demo.observe())
            await loa.start()
            serving.push_async_callback(loa.stop)  # before the console closes
            try:
                await demo.play()
                await demo.settled()
            finally:
                observer.cancel()
            if not keep:
                await serving.aclose()  # Loa stops, the console closes: the campaign is over
            demo.clock.pause()  # from here the campaign's time stands still
            report = await demo.report()
            files, district = await export(Env(db, campaign, "lac-thuy-2023", demo.clock))
            print(
                render(
                    "demo",
                    campaign=campaign,
                    chats=await demo.transcript(),
                    report=report,
                    files=files,
                    communes=[group.parent for group in district.groups if group.parent],
                    photos=sum(map(len, district.photos.values())),
                    commune=COMMUNE_COORDINATOR,
                    start=demo.clock.start,
                    end=demo.end,
                    seconds=seconds,
                    elapsed=time.monotonic() - began,
                    tz=campaign.tz,
                ),
                file=out,
                flush=True,
            )
            if keep:
                link = None
                if site is not None:
                    token = await signin.issue(loa.env, f"telegram:{demo.coordinator}")
                    link = loa.web_link(f"/login/{token}")
                kept = {"telegram": telegram.base_url, "zalo": zalo.base_url}
                context = {"address": loa.public_url, "link": link, "sandboxes": kept}
                print(render("demo_kept", coordinator=COORDINATOR, **context), file=out, flush=True)
                await until_stopped()
            elif site is not None:
                print(render("demo_closed"), file=out, flush=True)
            return 1 if report["problems"] else 0
