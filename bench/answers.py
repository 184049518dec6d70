"""How fast Loa takes units' figures, against a bare python-telegram-bot echo bot; and how long the
export of 10,000 units takes.

1. Answers. The sandbox Bot API runs in this process with its flood control off (`Limits.off()`)
   and no latency, so what is measured is the bots' own cost. N groups (`--groups`, default 200)
   are created there with two bots in each and bound to their units in a fresh database (no
   /dangky conversations). With the clock on 09/10/2023 09:00, when the Lạc Thủy report window
   is open, Loa starts and its outbox sends each group the form, 11 parts. Two bots then answer:

   - `loa`: the real Loa (TelegramChannel with limits far above the traffic, the dispatcher,
     SQLite in a temporary folder or a throwaway database on `--postgres URL`'s server). The
     staff of every group reply to the parts of the form with figures as people type them
     ("1.2: 3 lớp, 120 người", "10.1: 2 triệu", a bare "12" to a part of one row), 1 to 3 lines
     a message; each is read, stored and acknowledged ("✅ Đã ghi: ..., Còn thiếu ...").
   - `echo`: the baseline. A bare python-telegram-bot `Application` (the same PTB, the same
     `concurrent_updates` as TelegramChannel, no rate limiter) whose one handler sends the text
     back. It first sends each group the same 11 parts, and the staff reply to those with the
     same messages.

   What the setup made is then frozen (`gc.freeze()`): the sandbox's history is no bot's memory,
   and full collections need not walk it. Each bot gets a warm-up (one message a group); then
   `--messages` messages (default 2000) go to each in `--rounds` rounds (default 4), the bots
   taking turns so that whatever else the machine does falls on both. A round posts its messages
   all at once, round robin over the groups (a group's messages to Loa are taken in order, as Loa
   does); it lasts from the first post until the sandbox has sent as many replies (its sent
   counter, looked at every 2 ms). Afterwards every group must have exactly one reply per message,
   Loa's all acknowledgements with nothing refused, and the database one answer row per line.

2. Export. A fresh SQLite database gets 10,000 units (`--units`), each with the whole form
   answered (37 rows: 370,000 answers, inserted in bulk). Then `loa export --format F` runs as a
   child process for xlsx, csv and docx: its wall time, the part of it Python's start and Loa's
   imports took (a running bot's /xuat does not pay it), and its peak resident memory (VmHWM).
   The XLSX must list 10,001 sheets and the right total in its first row, the CSV 370,000 lines.

Lines (2 CPUs):

    loa  2000 answers (4000 lines, 4000 stored) in 5.00 s: 399.8/s | one acknowledgement each: yes
    echo 2000 messages in 4.07 s: 491.3/s | one echo each: yes
    ratio 0.814 of the echo bot (goal >= 0.7)
    export xlsx 10000 units: 3.54 s (imports 0.65 s), 176 MB peak, 41.1 MB file (goals < 5 s, ...

The exit status is 1 when a goal is missed (the echo bot is information, not a goal).
Run from the repository root: `.venv/bin/python bench/answers.py [--messages N] [--groups G]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from common import CAMPAIGN, ROOT, database, forget_updates, make_groups, register  # the path
from sqlalchemy import create_engine, func, insert, select
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.app import Loa
from bot.campaign.loader import campaign_key, load_campaign
from bot.campaign.model import AnswerKind, Campaign
from bot.channels.defaults import TelegramLimits
from bot.channels.telegram import CONCURRENT_UPDATES, TelegramChannel
from bot.delivery.clock import Clock
from bot.sandbox.telegram import Limits, TelegramSandbox
from bot.stats import table
from bot.store.db import Database
from bot.store.models import Answer, Unit
from bot.store.units import new_registration_code

KEY = campaign_key(CAMPAIGN)  # as `loa run` and `loa export` name it
LOA_TOKEN = "700011:bench-loa"
ECHO_TOKEN = "700012:bench-echo"
REPORT_OPEN = dt.datetime(2023, 10, 9, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
FAR_ABOVE = TelegramLimits(  # the sandbox has no limits: keep Loa's limiter out of the way
    overall_per_second=100_000, group_per_minute=6_000_000, private_per_second=100_000
)
FORM_PARTS = 11
PART = re.compile(r"📝 Số liệu Tuần lễ, phần (\d+)/")
GOAL_RATIO = 0.7
GOAL_SECONDS = 5.0
GOAL_MB = 300
POLL = 0.002  # seconds between looks at the sandbox's sent counter
SLACK = 120.0  # seconds a round may take before it is given up

# What staff write in reply to each part of the form: the part, the text, the lines it answers.
REPLIES: tuple[tuple[int, str, int], ...] = (
    (1, "1: 5\n1.1: 200\n1.2: 3 lớp, 120 người", 3),
    (2, "12", 1),
    (3, "350 tờ", 1),
    (4, "4.1: 3/12\n4.2: 320 quyển", 2),
    (5, "5: 3\n5.1: 1\n5.3: 2/150", 3),
    (6, "6: 4\n6.1: 2 cuộc, 300 người\n6.2: 2/180", 3),
    (7, "7.2: 1", 1),
    (8, "2", 1),
    (9, "9.1: 2\n9.2: 5", 2),
    (10, "10.1: 2 triệu\n10.2: 1.500.000 đồng", 2),
    (11, "Ngày hội đọc sách, 300 học sinh tham gia", 1),
)


class FixedClock(Clock):
    """The campaign's clock stands on one moment: only what is due then goes out."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


@dataclass(frozen=True)
class Post:
    chat: int
    text: str
    reply_to: int
    lines: int


@dataclass
class Contender:
    """A bot the staff answer: where its parts of the form are, and what it replies."""

    name: str
    token: str
    parts: dict[int, dict[int, int]]  # group -> part of the form -> message id
    good: Callable[[Post, str], bool]  # whether a reply answers a post as it should
    already: int = 0  # messages it had sent before the warm-up
    messages: int = 0  # measured, over every round
    seconds: float = 0.0
    posts: list[Post] = field(default_factory=list)  # everything it was sent, warm-up included

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0


def posts(groups: Sequence[int], parts: dict[int, dict[int, int]], first: int, count: int):
    """Messages `first` to `first + count` of the run, round robin over the groups, each a reply
    to a part of the form: a group's turn t answers part (t + its index) of the cycle, so over 11
    turns each group answers every part once, and neighbours answer different parts."""
    made = []
    for k in range(first, first + count):
        index, turn = k % len(groups), k // len(groups)
        part, text, lines = REPLIES[(turn + index) % len(REPLIES)]
        chat = groups[index]
        made.append(Post(chat, text, parts[chat][part], lines))
    return made


async def play(sandbox: TelegramSandbox, staff: int, batch: Sequence[Post]) -> float:
    """Post the batch at once; the seconds until as many replies have been sent."""
    loop = asyncio.get_running_loop()
    expected = sandbox.stats.sent + len(batch)
    began = loop.time()
    for post in batch:
        await sandbox.post(post.chat, staff, post.text, reply_to=post.reply_to)
    while sandbox.stats.sent < expected:
        if loop.time() > began + SLACK:
            raise RuntimeError(f"{expected - sandbox.stats.sent} replies missing after {SLACK} s")
        await asyncio.sleep(POLL)
    elapsed = loop.time() - began
    await asyncio.sleep(0.2)  # a second reply to any post would be counted by the next check
    return elapsed


def replied_once(sandbox: TelegramSandbox, bot: Contender) -> tuple[bool, int]:
    """(every post got exactly one reply in its chat, replies that were not what they should)."""
    replies = sandbox.sent(token=bot.token)[bot.already :]
    once_each = Counter(m["chat"]["id"] for m in replies) == Counter(p.chat for p in bot.posts)
    waiting: dict[int, list[Post]] = {}
    for post in bot.posts:
        waiting.setdefault(post.chat, []).append(post)
    wrong = 0
    for message in replies:  # each reply answers a post of its chat (in any order, for PTB)
        own = waiting.get(message["chat"]["id"], [])
        match = next((p for p in own if bot.good(p, message.get("text", ""))), None)
        if match is None:
            wrong += 1
        else:
            own.remove(match)
    return once_each, wrong


def acknowledged(_post: Post, text: str) -> bool:
    return text.startswith("✅ Đã ghi:") and "❌" not in text and "⚠️" not in text


def echoed(post: Post, text: str) -> bool:
    return text == post.text


async def race(
    sandbox: TelegramSandbox, groups: list[int], staff: int, bots: list[Contender], args
) -> None:
    """A warm-up round each, then the measured messages in rounds, the bots taking turns."""
    for bot in bots:
        bot.already = len(sandbox.sent(token=bot.token))
        bot.posts = posts(groups, bot.parts, 0, len(groups))
        await play(sandbox, staff, bot.posts)
    size = args.messages // args.rounds
    for number in range(args.rounds):
        first = len(groups) + number * size
        for bot in bots:
            batch = posts(groups, bot.parts, first, size)
            bot.seconds += await play(sandbox, staff, batch)
            bot.messages += len(batch)
            bot.posts += batch


# -- the two bots ------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def loa_running(
    sandbox: TelegramSandbox, groups: list[int], postgres: str | None
) -> AsyncIterator[tuple[Contender, Database, str]]:
    """Loa serving the groups, each of which has received the form; (Loa, its database, setup)."""
    campaign = load_campaign(CAMPAIGN)
    async with database(postgres) as db:
        began = time.perf_counter()
        await register(db, campaign, sandbox, groups)
        await forget_updates(sandbox.base_url, LOA_TOKEN)
        channel = TelegramChannel(
            LOA_TOKEN, api_base_url=sandbox.base_url, poll_timeout=1, limits=FAR_ABOVE
        )
        loa = Loa(campaign, KEY, db, {"telegram": channel}, clock=FixedClock(REPORT_OPEN))
        await loa.start()
        try:
            parts = await form_parts(sandbox, LOA_TOKEN, groups)
            setup = (
                f"{len(groups)} groups registered and sent the form "
                f"({len(groups) * FORM_PARTS} parts) in {time.perf_counter() - began:.1f} s "
                f"({db.engine.dialect.name})"
            )
            yield Contender("loa", LOA_TOKEN, parts, acknowledged), db, setup
        finally:
            await loa.stop()


async def form_parts(
    sandbox: TelegramSandbox, token: str, groups: list[int]
) -> dict[int, dict[int, int]]:
    """Wait for every group's 11 parts from the bot: group -> part number -> message id."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SLACK
    while loop.time() < deadline:
        parts: dict[int, dict[int, int]] = {}
        for message in sandbox.sent(token=token):
            found = PART.search(message.get("text", ""))
            if found:
                parts.setdefault(message["chat"]["id"], {})[int(found[1])] = message["message_id"]
        if all(len(parts.get(group, ())) == FORM_PARTS for group in groups):
            return parts
        await asyncio.sleep(0.5)
    raise RuntimeError("the form did not reach every group")


async def answer_rows(db: Database) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.count()).select_from(Answer)) or 0


@contextlib.asynccontextmanager
async def echo_running(sandbox: TelegramSandbox, groups: list[int]) -> AsyncIterator[Contender]:
    """A bare PTB bot that has sent each group Loa's parts of the form and echoes what comes."""
    await forget_updates(sandbox.base_url, ECHO_TOKEN)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.text is not None:
            await context.bot.send_message(message.chat_id, message.text)

    app = (
        Application.builder()
        .token(ECHO_TOKEN)
        .base_url(f"{sandbox.base_url}/bot")
        .concurrent_updates(CONCURRENT_UPDATES)  # as TelegramChannel
        .job_queue(None)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    texts: dict[int, list[str]] = {}
    for message in sandbox.sent(token=LOA_TOKEN):
        if PART.search(message.get("text", "")):
            texts.setdefault(message["chat"]["id"], []).append(message["text"])
    async with app:
        for group in groups:
            await asyncio.gather(*(app.bot.send_message(group, text) for text in texts[group]))
        parts = await form_parts(sandbox, ECHO_TOKEN, groups)
        await app.updater.start_polling(timeout=dt.timedelta(seconds=1))
        await app.start()
        try:
            yield Contender("echo", ECHO_TOKEN, parts, echoed)
        finally:
            await app.updater.stop()
            await app.stop()


# -- export ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    fmt: str
    units: int
    seconds: float  # the command, from its start to its exit
    imports: float  # of which Python's start and `loa`'s imports (none for /xuat in `loa run`)
    peak_mb: float
    size_mb: float
    check: str
    ok: bool

    def line(self) -> str:
        return (
            f"export {self.fmt:<4} {self.units} units: {self.seconds:.2f} s "
            f"(imports {self.imports:.2f} s), {self.peak_mb:.0f} MB peak, "
            f"{self.size_mb:.1f} MB file (goals < {GOAL_SECONDS:g} s, < {GOAL_MB} MB) | "
            f"{self.check}"
        )

    def misses(self) -> list[str]:
        missed = []
        if self.seconds >= GOAL_SECONDS:
            missed.append(f"{self.fmt} {self.seconds:.2f} s")
        if self.peak_mb >= GOAL_MB:
            missed.append(f"{self.fmt} {self.peak_mb:.0f} MB")
        if not self.ok:
            missed.append(f"{self.fmt}: {self.check}")
        return missed


def sample(row_index: int, unit_index: int, kind: AnswerKind | None) -> list[int] | str:
    """A plausible stored value for the row (JSON as `bot.store.payloads.stored` writes it)."""
    if kind is AnswerKind.TEXT:
        return f"Ngày hội đọc sách lần {unit_index % 9 + 1}"
    small = (unit_index + row_index) % 9 + 1
    if kind is AnswerKind.PAIR:
        return [small, small * 40]
    if kind is AnswerKind.MONEY:
        return [small * 500_000]
    return [small * 10]


async def fill(url: str, campaign: Campaign, count: int, communes: int = 0) -> int:
    """`count` units, each with the whole form answered; the answers stored."""
    assert campaign.form is not None
    async with Database(url) as db:
        await db.upgrade()
    engine = create_engine(url)
    rows = table.answerable(campaign.form)
    now = dt.datetime.now(dt.UTC)
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(new_registration_code())
    audiences = [audience.code for audience in campaign.audiences]
    units = [
        {
            "id": i + 1,
            "code": f"dv-{i:05d}",
            "name": f"Trường số {i + 1}",
            "type": audiences[i % len(audiences)],
            # the office lists its units commune by commune
            "parent": f"xã số {i * communes // count + 1}" if communes else None,
            "registration_code": code,
            "created_at": now,
            "updated_at": now,
        }
        for i, code in enumerate(sorted(codes))
    ]
    with engine.begin() as connection:
        connection.execute(insert(Unit), units)
        for first in range(0, count, 1000):
            connection.execute(
                insert(Answer),
                [
                    {
                        "campaign": KEY,
                        "unit_id": i + 1,
                        "item": row.code,
                        "value": sample(r, i, row.answer),
                        "raw": "bench",
                        "chat_id": None,
                        "author": "bench",
                        "created_at": now,
                        "replaced_at": None,
                    }
                    for i in range(first, min(first + 1000, count))
                    for r, row in enumerate(rows)
                ],
            )
    engine.dispose()
    return count * len(rows)


# `loa export` as it runs from the shell, reporting what it alone used: `ru_maxrss` would count
# the memory of this process, which the child is forked from, and VmHWM does not.
CHILD = """
import atexit, runpy, sys, time
began = time.perf_counter()
import bot.cli
imported = time.perf_counter() - began
def report():
    status = open("/proc/self/status").read().split("VmHWM:")
    peak = status[1].split()[0] if len(status) > 1 else "0"
    print(f"bench: imports {imported:.3f} peak-kb {peak}", file=sys.stderr)
atexit.register(report)
sys.argv[0] = "loa"
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""


def export(
    fmt: str, database_url: str, folder: Path, units: int, rows: int, communes: int
) -> Export:
    """`loa export --format fmt` as a child process: its wall time and peak memory."""
    output = folder / f"tong-hop.{fmt}"
    arguments = ["export", "--format", fmt, "-o", str(output), "--campaign", str(CAMPAIGN)]
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    began = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", CHILD, *arguments], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - began
    report = re.search(r"bench: imports ([\d.]+) peak-kb (\d+)", child.stderr)
    if child.returncode != 0 or report is None:
        problem = f"exit {child.returncode}: {child.stderr.strip()[-300:]!r}"
        return Export(fmt, units, seconds, 0, 0, 0, problem, False)
    check, ok = inspect(fmt, output, units, rows, communes)
    return Export(
        fmt,
        units,
        seconds,
        float(report[1]),
        int(report[2]) / 1024,
        output.stat().st_size / 2**20,
        check,
        ok,
    )


def inspect(fmt: str, output: Path, units: int, rows: int, communes: int) -> tuple[str, bool]:
    """A look inside the file: what it should hold for `units` units of `rows` answers, in
    `communes` communes (a subtotal sheet each)."""
    if fmt == "xlsx":  # openpyxl takes 11 s to list 10,001 sheets, even read-only
        with zipfile.ZipFile(output) as package:
            sheets = package.read("xl/workbook.xml").decode().count("<sheet ")
            totals = package.read("xl/worksheets/sheet1.xml").decode()
        first = re.search(r'<c r="D7"[^>]*><v>(\d+)</v>', totals)  # row 1's total
        values = [sample(0, i, AnswerKind.COUNT) for i in range(units)]
        expected = sum(value[0] for value in values if isinstance(value, list))
        total = int(first[1]) if first else None
        made = f"{sheets} sheets, row 1 total {total}"
        return made, sheets == units + communes + 1 and total == expected
    if fmt == "csv":
        with output.open(encoding="utf-8-sig") as lines:
            count = sum(1 for _ in lines) - 1
        return f"{count} lines", count == units * rows
    with zipfile.ZipFile(output) as package:
        document = len(package.read("word/document.xml"))
    return f"document.xml {document / 1024:.0f} kB", document > 0


async def bench_export(units: int, communes: int) -> list[Export]:
    campaign = load_campaign(CAMPAIGN)
    assert campaign.form is not None
    rows = len(table.answerable(campaign.form))
    with tempfile.TemporaryDirectory(prefix="loa-bench-") as name:
        folder = Path(name)
        url = f"sqlite:///{folder}/loa.db"
        began = time.perf_counter()
        answers = await fill(url, campaign, units, communes)
        print(
            f"export: {units} units and {answers} answers stored in "
            f"{time.perf_counter() - began:.1f} s (sqlite), in {communes} communes",
            flush=True,
        )
        return [export(fmt, url, folder, units, rows, communes) for fmt in ("xlsx", "csv", "docx")]


# -- main --------------------------------------------------------------------------------------


def options(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=2000, help="answer messages (2000)")
    parser.add_argument("--groups", type=int, default=200, help="registered groups (200)")
    parser.add_argument("--rounds", type=int, default=4, help="turns each bot takes (4)")
    parser.add_argument("--units", type=int, default=10_000, help="units exported (10000)")
    parser.add_argument("--postgres", metavar="URL", help="a server for the answers' database")
    parser.add_argument(
        "--communes", type=int, default=600, help="communes the exported units are in (600)"
    )
    parser.add_argument("--skip-export", action="store_true", help="only the answers")
    parser.add_argument("--only-export", action="store_true", help="only the export")
    args = parser.parse_args(argv)
    if args.messages < args.rounds:
        parser.error("--messages: at least one a round")
    return args


async def bench(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    missed = []
    if args.only_export:
        for run in await bench_export(args.units, args.communes):
            print(run.line(), flush=True)
            missed += run.misses()
        print("goals met" if not missed else "goals MISSED: " + ", ".join(missed))
        return 1 if missed else 0
    async with TelegramSandbox(limits=Limits.off()) as sandbox:
        sandbox.add_bot(LOA_TOKEN, username="loa_bench_bot")
        sandbox.add_bot(ECHO_TOKEN, username="echo_bench_bot")
        groups = make_groups(sandbox, args.groups, [LOA_TOKEN, ECHO_TOKEN])
        staff = sandbox.add_user("Cán bộ")
        async with loa_running(sandbox, groups, args.postgres) as (loa, db, setup):
            print(f"sandbox: no limits, no latency; {setup}", flush=True)
            async with echo_running(sandbox, groups) as echo:
                # The sandbox keeps every message of the run in this process, which a bot's
                # process does not: frozen, the setup's objects stay out of the full garbage
                # collections the rounds trigger, as they would be in production.
                gc.collect()
                gc.freeze()
                before = await answer_rows(db)
                await race(sandbox, groups, staff, [loa, echo], args)
                stored = await answer_rows(db) - before
        lines = sum(post.lines for post in loa.posts)
        for bot in (loa, echo):
            once_each, wrong = replied_once(sandbox, bot)
            what = "answers" if bot is loa else "messages"
            verdict = "yes" if once_each and not wrong else f"NO ({wrong} wrong)"
            extra = f" ({lines} lines, {stored} stored)" if bot is loa else ""
            print(
                f"{bot.name:<5}{bot.messages} {what}{extra} in {bot.seconds:.2f} s: "
                f"{bot.rate:.1f}/s | one {'acknowledgement' if bot is loa else 'echo'} each: "
                f"{verdict}"
            )
            if bot is loa and verdict != "yes":
                missed.append("not one acknowledgement per answer")
    ratio = loa.rate / echo.rate if echo.rate else 0.0
    print(f"ratio {ratio:.3f} of the echo bot (goal >= {GOAL_RATIO})", flush=True)
    if ratio < GOAL_RATIO:
        missed.append(f"ratio {ratio:.3f} < {GOAL_RATIO}")
    if stored != lines:
        missed.append(f"{stored} answers stored of {lines} lines")
    if not args.skip_export:
        for run in await bench_export(args.units, args.communes):
            print(run.line(), flush=True)
            missed += run.misses()
    verdict = "goals met" if not missed else "goals MISSED: " + ", ".join(missed)
    print(f"{verdict} (whole run {time.perf_counter() - began:.0f} s)")
    return 1 if missed else 0


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(asyncio.run(bench(options())))


if __name__ == "__main__":
    main()
