"""How close a 1,000-group broadcast comes to Telegram's overall limit, without drawing a 429.

The sandbox Bot API runs in this process with Telegram-like flood control (its default
`Limits()`: 30 messages/s per bot overall, 20/min per group, 3 per 3 s per private chat) and a
delay before every answer (`--latency`, default 20 ms). N groups (`--groups`, default 1000) are
created there with two bots in each, and registered in a fresh database directly (units imported,
each group met and bound to its unit: no /dangky conversations). Then, one after the other:

1. `loa`: the real Loa (TelegramChannel with the default TelegramLimits, the outbox and the
   dispatcher, SQLite in a temporary folder or a throwaway database on `--postgres URL`'s
   server) broadcasts one announcement: the rows are made by `outbox.broadcast(...)`, as
   `/thongbao` makes them, and `loa.wake()` starts the sender.
2. `ptb-stock`: the baseline. A bare python-telegram-bot `ExtBot` with PTB's stock
   `AIORateLimiter()` sends the same N messages to the same groups, all at once
   (`asyncio.gather`), each waiting out `retry_after` and trying again on a 429.

Each gets a line:

    loa       1000 delivered in 34.70 s: 28.79/s of 30/s = 0.960 | 429s 0 | early 0 | once each: yes

- `delivered`: messages the sandbox accepted from that bot in this run;
- `in S s`: from the first accepted message to the last (watched on the sandbox every 2 ms);
- `R/s`: intervals per second between them, (delivered - 1) / S, i.e. the sustained rate;
- `of 30/s = X`: the sandbox's overall limit, and the ratio R / 30 (goal for Loa: >= 0.95);
- `429s`: 429 answers the sandbox gave that bot (`stats.rate_limited`; goal for Loa: 0);
- `early`: sends made after the bot had read a 429 (on that connection) and before its
  `retry_after` elapsed; sends already on their way are not early (goal: 0);
- `once each`: every group got exactly one copy.

The rate means something only for N well above 30: the first 30 messages of a second may go
as one burst. Everything runs in one process and one event loop (the sandbox too), so a slow
machine shows up as a lower rate; the first line says how long the setup took.

The exit status is 1 when Loa misses a goal (the baseline is information, not a goal).
Run from the repository root: `.venv/bin/python bench/broadcast.py [--groups N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from common import CAMPAIGN, database, forget_updates, make_groups, register  # first: the path
from sqlalchemy import select
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, ExtBot

from bot.app import Loa
from bot.campaign.loader import load_campaign
from bot.channels.telegram import TelegramChannel
from bot.delivery import outbox
from bot.sandbox.telegram import TelegramSandbox
from bot.store.db import Database
from bot.store.models import Delivery, DeliveryStatus

CAMPAIGN_KEY = "bench"
LOA_TOKEN = "700001:bench-loa"
STOCK_TOKEN = "700002:bench-ptb-stock"
TEXT = "Thông báo: họp trực tuyến lúc 14h00 hôm nay. Các đơn vị vui lòng tham dự đầy đủ."
GOAL_RATIO = 0.95
POLL = 0.002  # seconds between looks at the sandbox's sent counter
SLACK = 60.0  # seconds a run may take beyond three times its ideal one before it is given up


@dataclass(frozen=True)
class Run:
    """One sender's broadcast as the sandbox saw it."""

    name: str
    delivered: int
    elapsed: float
    limit: float  # the sandbox's overall messages/s
    rate_limited: int
    early: int
    once_each: bool

    @property
    def rate(self) -> float:
        return (self.delivered - 1) / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def ratio(self) -> float:
        return self.rate / self.limit

    def line(self) -> str:
        return (
            f"{self.name:<9} {self.delivered} delivered in {self.elapsed:.2f} s: "
            f"{self.rate:.2f}/s of {self.limit:g}/s = {self.ratio:.3f} | "
            f"429s {self.rate_limited} | early {self.early} | "
            f"once each: {'yes' if self.once_each else 'NO'}"
        )

    def misses(self) -> list[str]:
        """The goals this run missed, worded for the last line."""
        missed = []
        if self.ratio < GOAL_RATIO:
            missed.append(f"ratio {self.ratio:.3f} < {GOAL_RATIO}")
        if self.rate_limited:
            missed.append(f"{self.rate_limited} 429s")
        if self.early:
            missed.append(f"{self.early} early retries")
        if not self.once_each:
            missed.append("not exactly one copy per group")
        return missed


# -- measuring -------------------------------------------------------------------------------


async def watch(sandbox: TelegramSandbox, expected: int, deadline: float) -> tuple[int, float]:
    """Wait for `expected` more sent messages (or the deadline); how many and first-to-last.

    The counter is looked at every POLL seconds, so either end is known within that.
    """
    loop = asyncio.get_running_loop()
    start, seen = sandbox.stats.sent, 0
    first = last = 0.0
    while seen < expected and loop.time() < deadline:
        await asyncio.sleep(POLL)
        now, count = loop.time(), sandbox.stats.sent - start
        if count > seen:
            first, last, seen = first or now, now, count
    return seen, last - first


async def measure(
    name: str,
    sandbox: TelegramSandbox,
    token: str,
    groups: list[int],
    send: Callable[[], Awaitable[object]],
) -> Run:
    """Run `send` while watching the sandbox; what it did to the groups and to the limits."""
    limit = sandbox.limits.overall
    per_second = limit.count / limit.per if limit else float("inf")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + len(groups) / min(per_second, 1000) * 3 + SLACK
    before = sandbox.stats.as_dict()
    watcher = asyncio.create_task(watch(sandbox, len(groups), deadline))
    await send()
    delivered, elapsed = await watcher
    after = sandbox.stats.as_dict()
    copies = Counter(m["chat"]["id"] for m in sandbox.sent(token=token))
    return Run(
        name,
        delivered,
        elapsed,
        per_second,
        after["rate_limited"] - before["rate_limited"],
        after["early_retries"] - before["early_retries"],
        copies == Counter(groups),
    )


# -- the two senders -------------------------------------------------------------------------


async def run_loa(
    sandbox: TelegramSandbox, groups: list[int], postgres: str | None
) -> tuple[Run, str]:
    """Loa broadcasts through its outbox; also says how long the setup took."""
    campaign = load_campaign(CAMPAIGN)
    async with database(postgres) as db:
        began = time.perf_counter()
        await register(db, campaign, sandbox, groups)
        registered = time.perf_counter()
        await forget_updates(sandbox.base_url, LOA_TOKEN)
        channel = TelegramChannel(LOA_TOKEN, api_base_url=sandbox.base_url, poll_timeout=1)
        loa = Loa(campaign, CAMPAIGN_KEY, db, {"telegram": channel})
        await loa.start()
        started = time.perf_counter()
        try:

            async def send() -> None:
                async with db.session() as session, session.begin():
                    await outbox.broadcast(session, CAMPAIGN_KEY, TEXT, [], loa.clock.now())
                loa.wake()

            run = await measure("loa", sandbox, LOA_TOKEN, groups, send)
        finally:
            await loa.stop()  # finishes the batch: the last row is recorded
        unsettled = await unsettled_rows(db)
    setup = (
        f"{len(groups)} units and chats registered in {registered - began:.2f} s "
        f"({db.engine.dialect.name}), Loa started in {started - registered:.2f} s"
        + (f"; {unsettled} outbox rows not sent" if unsettled else "")
    )
    return run, setup


async def unsettled_rows(db: Database) -> int:
    """Outbox rows not `sent` (there should be none once every group has its copy)."""
    async with db.session() as session:
        rows = await session.scalars(select(Delivery.status))
        return sum(status != DeliveryStatus.SENT for status in rows)


async def run_stock(sandbox: TelegramSandbox, groups: list[int]) -> Run:
    """A bare PTB bot with the stock AIORateLimiter sends to every group at once."""
    bot = ExtBot(STOCK_TOKEN, base_url=f"{sandbox.base_url}/bot", rate_limiter=AIORateLimiter())
    async with bot:

        async def send() -> None:
            await asyncio.gather(*(send_until_delivered(bot, group) for group in groups))

        return await measure("ptb-stock", sandbox, STOCK_TOKEN, groups, send)


async def send_until_delivered(bot: ExtBot, chat_id: int) -> None:
    """What an application on the stock limiter does: on a 429, wait `retry_after`, again."""
    while True:
        try:
            await bot.send_message(chat_id, TEXT)
            return
        except RetryAfter as exc:
            wait = exc.retry_after
            await asyncio.sleep(wait.total_seconds() if isinstance(wait, dt.timedelta) else wait)


# -- main ------------------------------------------------------------------------------------


def options(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--groups", type=int, default=1000, help="registered groups (1000)")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per answer (0.02)")
    parser.add_argument("--postgres", metavar="URL", help="a server to make a database on")
    args = parser.parse_args(argv)
    if args.groups < 2:
        parser.error("--groups: at least 2 (a rate needs two deliveries)")
    return args


async def bench(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    async with TelegramSandbox(latency=args.latency) as sandbox:
        sandbox.add_bot(LOA_TOKEN, username="loa_bench_bot")
        sandbox.add_bot(STOCK_TOKEN, username="stock_bench_bot")
        groups = make_groups(sandbox, args.groups, [LOA_TOKEN, STOCK_TOKEN])
        made = time.perf_counter() - began
        loa, setup = await run_loa(sandbox, groups, args.postgres)
        stock = await run_stock(sandbox, groups)
    latency = f"{args.latency * 1000:g} ms latency"
    print(f"sandbox: {len(groups)} groups in {made:.2f} s, {latency}; {setup}")
    print(loa.line())
    print(stock.line())
    if stock.rate:
        print(f"loa/ptb-stock {loa.rate / stock.rate:.2f} (Loa's rate over the stock limiter's)")
    missed = loa.misses() + ([] if loa.delivered == len(groups) else ["not all delivered"])
    verdict = "goals met" if not missed else "goals MISSED: " + ", ".join(missed)
    print(f"{verdict} (whole run {time.perf_counter() - began:.0f} s)")
    return 1 if missed else 0


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # The stock limiter logs every 429 it passes on, with a traceback: counted, not shown.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    sys.exit(asyncio.run(bench(options())))


if __name__ == "__main__":
    main()
