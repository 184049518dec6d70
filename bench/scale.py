"""Province-scale figures (issue 19, item 4): 5,000 units in 100 communes, 6,000 chats.

The Lạc Thủy campaign (schedules/2023-lac-thuy.yaml) with `--units` units (default 5,000) listed
commune by commune in `--communes` communes (100), each with the whole form answered (as
`answers.py` fills them), and a registered chat for every unit: a Telegram group for 3 in 5, a
Zalo group for the rest, and for `--doubles` of them (1,000) a second chat (a Zalo group beside
the Telegram one, or a second Zalo group): 6,000 chats, every one a real chat on the in-process
sandboxes (Telegram's and Zalo's, no limits, no latency). Then, with the real code paths:

1. plan: `Loa.start()` (what `loa run` does at start: the sender epoch, the outbox planned for
   every registered chat, the sender started) over the empty outbox, its clock a day before the
   campaign's first delivery (nothing due). Baseline: a bulk insert of as many outbox rows.
2. restart: `loa run` (the real command, `python -m bot run`, console on) in a new process over
   that database, its clock standing on the first due delivery; from the spawn to the summary it
   prints once serving (outbox re-planned, channels polling, sender started, console listening),
   and to the first message the sandboxes receive from it. Baseline: `python -c "import bot.cli"`.
3. `/tiendo` through the real chat handler (`bot.conversation.coordinator.progress`: the
   operation, the template, the reply handed to a channel that only keeps it) and the console's
   overview `/` over HTTP (the real aiohttp app on loopback, a coordinator signed in), each for
   the province's coordinator and for xã số 7's (`LOA_ADMINS` telegram:4343@XA-SO-7).
   Baseline: the sign-in help page `/dang-nhap`. What was made so far is kept out of the full
   garbage collections (`gc.freeze()`), as `loa run` does once it serves.
4. `loa export` (xlsx, csv, docx) as a child process, as `answers.py` runs it: wall time and
   peak resident memory (the child's VmHWM). Baseline: the child's own start and imports.

    .venv/bin/python bench/scale.py
    .venv/bin/python bench/scale.py --database-url postgresql://postgres@127.0.0.1:5432/loa_scale

`--database-url` names an empty database (no tables): the script fills it and leaves it filled.
The exit status is 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from answers import GOAL_MB, KEY, FixedClock, export, fill  # also puts the root on the path
from common import CAMPAIGN, ROOT, forget_updates
from sqlalchemy import delete, func, insert, select, text
from web_pages import timed

from bot.app import Loa
from bot.campaign import units as core
from bot.campaign.loader import load_campaign
from bot.campaign.model import Campaign
from bot.campaign.scope import Scope
from bot.campaign.timeline import timeline
from bot.channels.base import ChatType, InboundMessage
from bot.conversation import coordinator
from bot.ops import signin
from bot.ops.env import Env
from bot.sandbox.telegram import Limits, TelegramSandbox
from bot.sandbox.zalo import ZaloSandbox
from bot.stats import table
from bot.store.db import Database
from bot.store.models import Chat, Delivery, Unit
from bot.web.app import serve
from bot.web.console import Console

TELEGRAM_TOKEN = "700021:bench-scale"
ZALO_TOKEN = "700022:bench-scale"
ADMIN = "telegram:4242"  # the coordinator asking /tiendo and signing in to the console
COMMUNE = "telegram:4343"  # a commune's coordinator (`LOA_ADMINS` telegram:4343@XA-SO-7)
SCOPES = {COMMUNE: Scope.of("XA-SO-7")}
GOALS = {"plan": 10.0, "restart": 3.0, "tiendo": 0.3, "overview": 0.3, "export": 5.0}


@dataclass(frozen=True)
class Figure:
    measure: str
    value: float  # seconds, or MB when `unit` says so
    goal: float | None  # in the same unit; None: information only
    baseline: float | None = None  # the baseline measured in the same run, same unit
    note: str = ""
    unit: str = "s"

    @property
    def ok(self) -> bool:
        return self.goal is None or self.value < self.goal

    def noting(self, more: str) -> Figure:
        return replace(self, note=f"{self.note}, {more}" if self.note else more)

    def row(self) -> str:
        shown = f"{self.value * 1000:8.1f} ms" if self.unit == "s" else f"{self.value:8.0f} MB"
        goal = f"< {self.goal:g} {self.unit}" if self.goal else "-"
        ratio = f"{self.value / self.goal:5.2f}" if self.goal else "    -"
        verdict = ("PASS" if self.ok else "FAIL") if self.goal else "info"
        base = f"{self.value / self.baseline:6.1f} x" if self.baseline else "       -"
        return f"{self.measure:<30} {shown}  {goal:>8}  {ratio}  {verdict}  {base}  {self.note}"


# -- the province ------------------------------------------------------------------------------


async def chats_for(
    db: Database, telegram: TelegramSandbox, zalo: ZaloSandbox, doubles: int
) -> dict[str, int]:
    """A registered chat for every unit, a second one for `doubles` of them, each a real group
    on its sandbox; inserted in bulk (registration itself is not measured here)."""
    async with db.session() as session:
        units = list(await session.execute(select(Unit.id, Unit.name).order_by(Unit.id)))
    admin, person = telegram.add_user("Admin"), zalo.add_user("Cán bộ")
    rows: list[dict[str, Any]] = []
    for i, (unit_id, name) in enumerate(units):
        places = ["telegram" if i % 5 < 3 else "zalo"]
        if i % 10 in (0, 8) and len(rows) - i < doubles:  # a Telegram unit, then a Zalo one
            places.append("zalo")  # beside the Telegram group, or a second Zalo group
        for n, platform in enumerate(places):
            title = f"{name} ({n + 1})"
            if platform == "telegram":
                chat = str(telegram.create_group(title, admins=[admin], bots=[TELEGRAM_TOKEN]))
            else:
                chat = zalo.create_group(title, members=[person], bots=[ZALO_TOKEN])
            rows.append(
                {"platform": platform, "external_id": chat, "kind": "group", "title": title}
                | {"unit_id": unit_id, "active": True, "registered_at": dt.datetime.now(dt.UTC)}
            )
    async with db.session() as session, session.begin():
        await session.execute(insert(Chat), rows)
    # Telegram told the bot of every group it was added to: a running Loa had read that long ago
    await forget_updates(telegram.base_url, TELEGRAM_TOKEN)
    return {p: sum(r["platform"] == p for r in rows) for p in ("telegram", "zalo")}


def first_delivery(campaign: Campaign) -> dt.datetime:
    unit = core.Unit("x", "x", campaign.audiences[0].code)
    return min(d.at for d in timeline(campaign, [unit]))


# -- 1. planning -------------------------------------------------------------------------------


async def plan(db: Database, campaign: Campaign) -> list[Figure]:
    before = first_delivery(campaign) - dt.timedelta(days=1)
    loa = Loa(campaign, KEY, db, {}, clock=FixedClock(before))
    began = time.perf_counter()
    await loa.start()
    seconds = time.perf_counter() - began
    await asyncio.sleep(0.2)  # the sender's first look (nothing is due): not cut short
    await loa.stop()
    async with db.session() as session:
        rows = await session.scalar(select(func.count()).select_from(Delivery)) or 0
        sample = (await session.execute(select(Delivery).limit(1))).scalar_one()
    base = await bulk_insert(db, sample, rows)
    again = Loa(campaign, KEY, db, {}, clock=FixedClock(before))
    began = time.perf_counter()
    await again.start()  # what a restart's start does in-process: every row already there
    replanned = time.perf_counter() - began
    await asyncio.sleep(0.2)
    await again.stop()
    return [
        Figure("plan the outbox (Loa.start)", seconds, GOALS["plan"], base, f"{rows} rows"),
        Figure("plan again, outbox full", replanned, None, base, "in-process part of a restart"),
    ]


async def bulk_insert(db: Database, sample: Delivery, count: int) -> float:
    """The baseline: as many outbox rows as were planned, inserted in bulk by the table's insert
    in chunks of 4,000 and committed, as the planner does (then removed)."""
    columns = ("campaign", "kind", "reference", "chat_id", "unit_id", "due_at", "expires_at")
    row = {column: getattr(sample, column) for column in columns}
    rows = [row | {"key": f"baseline:{i}"} for i in range(count)]
    began = time.perf_counter()
    async with db.session() as session, session.begin():
        for first in range(0, count, 4_000):
            await session.execute(Delivery.__table__.insert(), rows[first : first + 4_000])
    seconds = time.perf_counter() - began  # the commit included, as in Loa.start
    async with db.session() as session, session.begin():
        await session.execute(delete(Delivery).where(Delivery.key.like("baseline:%")))
    return seconds


# -- 3. /tiendo and the overview ---------------------------------------------------------------


class Kept:
    """A channel that keeps what it is given to send: /tiendo's answer without a platform."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def send(self, chat_id: str, text: str) -> str:
        self.texts.append(text)
        return str(len(self.texts))


async def runs(work: Callable[[], Awaitable[object]], count: int) -> list[float]:
    """Seconds of each of `count` runs, after one that warms the caches."""
    await work()
    times = []
    for _ in range(count):
        began = time.perf_counter()
        await work()
        times.append(time.perf_counter() - began)
    return times


def spread(name: str, times: list[float], goal: float | None, base: float | None = None) -> Figure:
    """The worst of the runs against the goal; the median in the note."""
    median, worst = statistics.median(times), max(times)
    return Figure(name, worst, goal, base, f"max; median {median * 1000:.1f} ms, {len(times)} runs")


async def tiendo(db: Database, campaign: Campaign, count: int, parent: str) -> list[Figure]:
    kept = Kept()
    channels: Any = {"telegram": kept}
    loa = Loa(campaign, KEY, db, channels, [ADMIN, COMMUNE], scopes=SCOPES)

    def asked(who: str, args: str) -> Callable[[], Awaitable[None]]:
        text = f"/tiendo {args}".strip()
        user = who.removeprefix("telegram:")
        message = InboundMessage(
            "telegram", user, ChatType.PRIVATE, None, user, "Cô Lan", text, "1",
            dt.datetime.now(dt.UTC),
        )  # fmt: skip
        return lambda: coordinator.progress(loa, message, args)

    figures = []
    for name, who, args in (
        ("/tiendo (chat handler)", ADMIN, ""),
        (f"/tiendo {parent}", ADMIN, parent),
        ("/tiendo, commune coordinator", COMMUNE, ""),
    ):
        figure = spread(name, await runs(asked(who, args), count), GOALS["tiendo"])
        figures.append(figure.noting(f"{len(kept.texts[-1])} characters"))
    return figures


async def overview(db: Database, campaign: Campaign, count: int) -> list[Figure]:
    env = Env(db, campaign, KEY)
    console = Console(env, frozenset({ADMIN, COMMUNE}), "http://127.0.0.1", scopes=SCOPES)
    runner = await serve(console, "127.0.0.1", 0)
    figures = []
    try:
        host, port = runner.addresses[0][:2]
        for name, who in (
            ("console overview GET /", ADMIN),
            ("  overview, commune coordinator", COMMUNE),
        ):
            async with httpx.AsyncClient(base_url=f"http://{host}:{port}") as client:
                token = await signin.issue(console.env, who)
                assert (await client.post(f"/login/{token}")).status_code == 303
                base, _ = await timed(client, "/dang-nhap", count)
                page, size = await timed(client, "/", count)
            figure = spread(name, [ms / 1000 for ms in page], GOALS["overview"])
            base_median = statistics.median(base) / 1000
            figures.append(replace(figure, baseline=base_median).noting(f"{size // 1024} KB"))
    finally:
        await runner.cleanup()
    return [*figures, Figure("  baseline GET /dang-nhap", base_median, None, note="median")]


# -- 2. a restart ------------------------------------------------------------------------------

# `loa run` as the shell runs it, but for its clock, which stands on the first due delivery
# (the campaign is of 2023); `bench:` lines on stderr say when the imports were done.
CHILD = """
import datetime as dt, runpy, sys, time
began = time.perf_counter()
import bot.cli
from bot.delivery.clock import Clock
print(f"bench: imports {time.perf_counter() - began:.3f}", file=sys.stderr, flush=True)
at = dt.datetime.fromisoformat(sys.argv.pop(1))
Clock.now = lambda self: at
sys.argv[0] = "loa"
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""
LOG = ROOT / "var" / "bench-scale-restart.log"  # the children's stderr
SERVING = "Loa đang phục vụ"  # the first line `loa run` prints once it serves
IMPORTS_ONLY = "import time; began = time.perf_counter(); import bot.cli"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def restart(
    url: str, telegram: TelegramSandbox, zalo: ZaloSandbox, due: dt.datetime, folder: Path
) -> tuple[float, float, float]:
    """Seconds from spawning `loa run` to its summary, and to the first message it sent; the
    seconds Python's start and the imports took of it."""
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM", "ZALO", "WEBHOOK", "LOA", "DATABASE"))
    } | {
        "DATABASE_URL": url,
        "LOA_CAMPAIGN": str(CAMPAIGN),
        "LOA_ADMINS": ADMIN,
        "LOA_WEB_PORT": str(port),
        "LOA_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "ZALO_BOT_TOKEN": ZALO_TOKEN,
        "ZALO_API_BASE_URL": zalo.base_url,
        "LOA_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    sent = telegram.stats.sent + zalo.stats.sent
    LOG.parent.mkdir(exist_ok=True)
    log = LOG.open("ab")
    began = time.perf_counter()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, due.isoformat(), "run",
        cwd=folder, env=env, stdout=asyncio.subprocess.PIPE, stderr=log,
    )  # fmt: skip
    assert child.stdout is not None
    serving = first = None

    async def first_sent() -> float:
        while telegram.stats.sent + zalo.stats.sent == sent:
            await asyncio.sleep(0.002)
        return time.perf_counter() - began

    watching = asyncio.create_task(first_sent())
    try:
        async with asyncio.timeout(60):
            while serving is None:
                line = (await child.stdout.readline()).decode()
                if not line:
                    raise RuntimeError(f"loa run ended: see {LOG}")
                if line.startswith(SERVING):
                    serving = time.perf_counter() - began
            first = await watching
    finally:
        watching.cancel()
        child.terminate()
        await child.communicate()
        log.close()
    return serving, first, await imports_only(env, folder)


async def imports_only(env: dict[str, str], folder: Path) -> float:
    """The baseline: Python's start and `loa`'s imports, what any `loa` command pays."""
    began = time.perf_counter()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", IMPORTS_ONLY, cwd=folder, env=env
    )
    await child.wait()
    return time.perf_counter() - began


async def restarts(
    url: str, telegram: TelegramSandbox, zalo: ZaloSandbox, due: dt.datetime, folder: Path, n: int
) -> list[Figure]:
    measured = [await restart(url, telegram, zalo, due, folder) for _ in range(n)]
    serving = [m[0] for m in measured]
    first = [m[1] for m in measured]
    base = statistics.median(m[2] for m in measured)
    return [
        spread("restart: loa run serving", serving, GOALS["restart"], base),
        spread("restart: first message sent", first, None, base),
    ]


# -- 4. the exports ----------------------------------------------------------------------------


def exports(url: str, folder: Path, units: int, rows: int, communes: int) -> list[Figure]:
    figures = []
    for fmt in ("xlsx", "csv", "docx"):
        run = export(fmt, url, folder, units, rows, communes)
        note = f"{run.size_mb:.1f} MB file | {run.check}" + ("" if run.ok else " (WRONG)")
        figures += [
            Figure(f"loa export {fmt}", run.seconds, GOALS["export"], run.imports, note),
            Figure(f"  peak memory {fmt}", run.peak_mb, GOAL_MB, unit="MB", note="VmHWM"),
        ]
        if not run.ok:
            figures.append(Figure(f"  {fmt} file as expected", 1, 1, note=run.check, unit="-"))
    return figures


# -- the run -----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def sandboxes() -> AsyncIterator[tuple[TelegramSandbox, ZaloSandbox]]:
    async with TelegramSandbox(limits=Limits.off()) as telegram:
        telegram.add_bot(TELEGRAM_TOKEN, username="loa_scale_bot")
        zalo = ZaloSandbox(Limits.off())
        zalo.add_bot(ZALO_TOKEN, "Loa")
        await zalo.start()
        try:
            yield telegram, zalo
        finally:
            await zalo.stop()


def sync_url(url: str) -> str:
    """`fill` writes with a synchronous engine: PostgreSQL through psycopg 3, as the bot."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


async def bench(args: argparse.Namespace) -> bool:
    campaign = load_campaign(CAMPAIGN)
    assert campaign.form is not None
    rows = len(table.answerable(campaign.form))
    with tempfile.TemporaryDirectory(prefix="loa-scale-") as name:
        folder = Path(name)
        url = args.database_url or f"sqlite:///{folder}/loa.db"
        if args.database_url:
            async with Database(url) as db:
                if await db.revision() is not None:
                    raise SystemExit(f"{url}: not empty; give an empty database")
        began = time.perf_counter()
        answers = await fill(sync_url(url), campaign, args.units, args.communes)
        async with sandboxes() as (telegram, zalo):
            async with Database(url) as db:
                made = await chats_for(db, telegram, zalo, args.doubles)
                if db.engine.name == "postgresql":
                    # what autovacuum does within a minute of such writes: a campaign's tables
                    # are never a few seconds old; without it a commune's counts took 160 ms
                    async with db.session() as session, session.begin():
                        await session.execute(text("ANALYZE"))
                print(
                    f"{args.units} units in {args.communes} communes, {answers} answers, chats "
                    f"{made} ({sum(made.values())}) in {time.perf_counter() - began:.1f} s "
                    f"({db.engine.name})",
                    flush=True,
                )
                figures = await plan(db, campaign)
                print(figures[0].row(), flush=True)
                gc.freeze()  # as `loa run` does once serving (bot.service.serve)
                asked = await tiendo(db, campaign, args.runs, "xã số 7")
                pages = await overview(db, campaign, args.runs)
                base = pages[-1].value  # the sign-in page's median: /tiendo's baseline too
                figures += [replace(figure, baseline=base) for figure in asked] + pages
                async with db.session() as session:
                    due = await session.scalar(select(func.min(Delivery.due_at)))
                assert due is not None
            figures += await restarts(url, telegram, zalo, due, folder, args.restarts)
        figures += exports(url, folder, args.units, rows, args.communes)
    print(
        f"\n{'measure':<30} {'figure':>11}  {'goal':>8}  ratio  verdict  baseline  note",
        flush=True,
    )
    for figure in figures:
        print(figure.row())
    print("baseline: bulk insert of as many rows (plan), python + import bot.cli (restart, export)")
    return all(figure.ok for figure in figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=5_000)
    parser.add_argument("--communes", type=int, default=100)
    parser.add_argument("--doubles", type=int, default=1_000, help="units with a second chat")
    parser.add_argument("--runs", type=int, default=10, help="runs of /tiendo and /")
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--database-url", help="an empty database (default: SQLite, temporary)")
    args = parser.parse_args()
    began = time.perf_counter()
    met = asyncio.run(bench(args))
    verdict = "goals met" if met else "goals MISSED"
    print(f"{verdict} (whole run {time.perf_counter() - began:.0f} s)")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
