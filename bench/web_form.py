"""How fast a unit's own form on the web (`/f/<token>`) answers, and how big it is, in a
province: 5,000 units with chats and figures (`web_pages.py`'s seed).

One unit's link is issued; the page is asked for `--rounds` times, then a row is saved
`--rounds` times through the page script's address (`POST /f/<token>/row`, each time a new
figure: a real correction, its history kept), then the plain form post of every row. Times are
the whole answer as the client sees it on loopback (an upper bound of the server's time). The
baseline, in the same run: the sign-in help page (`/dang-nhap`, no campaign read). Goals: a row
saved under 50 ms and the page under 100 KB (exit 1 otherwise).

    .venv/bin/python bench/web_form.py
    .venv/bin/python bench/web_form.py --units 10000 --rounds 100
    .venv/bin/python bench/web_form.py --postgres postgresql://user:pw@host/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

import httpx
from common import CAMPAIGN, database  # also puts the repository root on the path
from sqlalchemy import select
from web_pages import seed

from bot.campaign.loader import load_campaign
from bot.delivery.clock import Clock
from bot.ops import unitlinks
from bot.ops.env import Env
from bot.store.models import Unit
from bot.web.app import serve
from bot.web.console import Console

ROW_GOAL_MS = 50.0
REPORTING = dt.datetime(2023, 10, 9, 9, 0, tzinfo=dt.UTC)  # the report window: links are live


class Reporting(Clock):
    def now(self) -> dt.datetime:
        return REPORTING


PAGE_GOAL_KB = 100.0


async def run(count: int, rounds: int, postgres: str | None) -> bool:
    campaign = load_campaign(CAMPAIGN)
    async with database(postgres) as db:
        env = Env(db, campaign, "bench", Reporting())
        began = time.perf_counter()
        await seed(db, env, count)
        print(f"seeded {count} units in {time.perf_counter() - began:.1f} s ({db.engine.name})")
        async with db.session() as session:  # one with a few figures given (seed: i % 8 != 0)
            unit = await session.scalar(select(Unit).order_by(Unit.id).offset(2).limit(1))
        assert unit is not None
        token = await unitlinks.issue(env, unit)
        runner = await serve(Console(env, frozenset(), "http://127.0.0.1"), "127.0.0.1", 0)
        try:
            host, port = runner.addresses[0][:2]
            async with httpx.AsyncClient(base_url=f"http://{host}:{port}") as client:
                return await measure(client, token, rounds)
        finally:
            await runner.cleanup()


async def timed(rounds: int, ask: Callable[[int], Awaitable[httpx.Response]]) -> list[float]:
    """Each answer's milliseconds, sorted (the first, warming caches, left out)."""
    times = []
    for n in range(rounds + 1):
        began = time.perf_counter()
        answer = await ask(n)
        times.append((time.perf_counter() - began) * 1000)
        assert answer.status_code in (200, 303), answer.status_code
    return sorted(times[1:])


def line(what: str, times: list[float], base: float, extra: str = "") -> tuple[float, float]:
    median = statistics.median(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(
        f"{what:<34} median {median:6.1f} ms ({median / base:4.1f} x base) | "
        f"p95 {p95:6.1f} ms{extra}"
    )
    return median, p95


async def measure(client: httpx.AsyncClient, token: str, rounds: int) -> bool:
    base = statistics.median(await timed(rounds, lambda _: client.get("/dang-nhap")))
    print(f"{'GET /dang-nhap':<34} median {base:6.1f} ms (the baseline)")
    page = await client.get(f"/f/{token}")
    size = len(page.content) / 1024
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, "no CSRF field"
    headers = {"X-CSRF-Token": csrf[1]}
    line(
        "GET /f/<token>",
        await timed(rounds, lambda _: client.get(f"/f/{token}")),
        base,
        f" | {size:5.1f} KB ({'ok' if size < PAGE_GOAL_KB else 'OVER'})",
    )

    def save(n: int) -> Awaitable[httpx.Response]:
        data = {"row": "1.2", "v:1.2:1": str(1 + n % 9), "v:1.2:2": str(20 + n)}
        return client.post(f"/f/{token}/row", data=data, headers=headers)

    _, p95 = line("POST /f/<token>/row (a pair)", await timed(rounds, save), base)
    row_ok = p95 < ROW_GOAL_MS
    print(f"{'':<34} row goal: p95 under {ROW_GOAL_MS:.0f} ms: {'ok' if row_ok else 'OVER'}")

    def save_all(n: int) -> Awaitable[httpx.Response]:
        data = {"csrf": csrf[1], "v:1.1": str(100 + n), "v:10.1": f"{n + 1}.000.000"}
        return client.post(f"/f/{token}", data=data)

    line("POST /f/<token> (two rows, no JS)", await timed(rounds, save_all), base)
    return row_ok and size < PAGE_GOAL_KB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--postgres", metavar="URL", help="a server to make a throwaway db on")
    args = parser.parse_args()
    began = dt.datetime.now()
    met = asyncio.run(run(args.units, args.rounds, args.postgres))
    seconds = (dt.datetime.now() - began).total_seconds()
    print(f"{'goals met' if met else 'goals MISSED'} ({seconds:.0f} s)")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
