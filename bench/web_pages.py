"""How fast the console's `/` and `/units` answer for a province: 5,000 units with chats and
figures.

A fresh database gets the units (two unit types, 50 parents), a group for 3 in 5 of them (1 in
10 of those with the bot removed) and figures for half of them (every item for one in four, a
few for the others), all in bulk. The console is then served on loopback as `loa run` serves it,
a coordinator signs in, and each address below is asked for `--rounds` times, one at a time; the
time is the whole answer as the client sees it. Goal: the overview, the API's progress and every
`/units` address under 300 ms at the 95th percentile (exit 1 otherwise); the code sheet prints
every unit the filter keeps and has no goal.

    .venv/bin/python bench/web_pages.py
    .venv/bin/python bench/web_pages.py --units 10000 --rounds 50
    .venv/bin/python bench/web_pages.py --postgres postgresql://user:pw@host/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time

import httpx
from common import CAMPAIGN, database  # also puts the repository root on the path
from sqlalchemy import insert, select

from bot.campaign import units as core
from bot.campaign.loader import load_campaign
from bot.ops import signin
from bot.ops.env import Env
from bot.stats.table import answerable
from bot.store.db import Database
from bot.store.models import Answer, Chat, Unit
from bot.store.units import import_units
from bot.web.app import serve
from bot.web.console import Console

GOAL_MS = 300.0
ADMIN = "zalo:bench-coordinator"
PARENTS = 50
ADDRESSES = [  # (address, whether the goal applies)
    ("/", True),
    ("/api/progress", True),
    ("/units", True),
    ("/units?q=lac+thuy", True),
    ("/units?q=tr%C6%B0%E1%BB%9Dng+s%E1%BB%91+12", True),  # "trường số 12", with its accents
    ("/units?type=tthtcd&registered=no", True),
    ("/units?figures=partial&registered=yes", True),
    ("/units?from=2500", True),
    ("/units/codes?parent=X%C3%A3+s%E1%BB%91+7", False),  # "Xã số 7": about 100 slips
]


async def seed(db: Database, env: Env, count: int) -> None:
    audiences = [audience.code for audience in env.campaign.audiences]
    rows = [
        core.Unit(
            f"dv-{i:05d}",
            f"Trường số {i} Lạc Thủy" if i % 10 == 0 else f"Trường số {i}",
            audiences[i % len(audiences)],
            f"Xã số {i % PARENTS}",
        )
        for i in range(count)
    ]
    form = env.campaign.form
    assert form is not None
    items = [row.code for row in answerable(form)]
    async with db.session() as session, session.begin():
        await import_units(session, rows)
        stored = list(await session.scalars(select(Unit).order_by(Unit.id)))
        groups = [
            {
                "platform": "telegram",
                "external_id": f"-100{i}",
                "kind": "group",
                "title": f"Nhóm {i}",
                "unit_id": unit.id,
                "active": i % 10 != 0,  # the bot removed from 1 in 10 of them
            }
            for i, unit in enumerate(stored)
            if i % 5 < 3
        ]
        await session.execute(insert(Chat), groups)
        answers = []
        for i, unit in enumerate(stored):
            if i % 2 == 0:
                given = items if i % 8 == 0 else items[: 1 + i % 7]
                answers += [
                    {
                        "campaign": env.campaign_key,
                        "unit_id": unit.id,
                        "item": item,
                        "value": [1, 20],
                        "raw": "1/20",
                        "author": "telegram:1",
                    }
                    for item in given
                ]
        await session.execute(insert(Answer), answers)


async def run(count: int, rounds: int, postgres: str | None) -> bool:
    campaign = load_campaign(CAMPAIGN)
    async with database(postgres) as db:
        env = Env(db, campaign, "bench")
        began = time.perf_counter()
        await seed(db, env, count)
        print(f"seeded {count} units in {time.perf_counter() - began:.1f} s ({db.engine.name})")
        console = Console(env, frozenset({ADMIN}), "http://127.0.0.1")
        runner = await serve(console, "127.0.0.1", 0)
        try:
            host, port = runner.addresses[0][:2]
            async with httpx.AsyncClient(base_url=f"http://{host}:{port}") as client:
                token = await signin.issue(env, ADMIN)
                assert (await client.post(f"/login/{token}")).status_code == 303
                return await measure(client, rounds)
        finally:
            await runner.cleanup()


# The baseline, measured in the same run: the sign-in help, a page of the same server, session
# check and layout included, that reads nothing of the campaign. "x base" is how many times that.
BASELINE = "/dang-nhap"


async def timed(client: httpx.AsyncClient, address: str, rounds: int) -> tuple[list[float], int]:
    """Each answer's milliseconds, sorted (the first, warming the templates' cache, left out),
    and the size of the last."""
    times = []
    for _ in range(rounds + 1):
        began = time.perf_counter()
        answer = await client.get(address)
        times.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, (address, answer.status_code)
    return sorted(times[1:]), len(answer.content)


async def measure(client: httpx.AsyncClient, rounds: int) -> bool:
    base, _ = await timed(client, BASELINE, rounds)
    base_median = statistics.median(base)
    print(f"GET {BASELINE:<45} median {base_median:6.1f} ms (the baseline)")
    met = True
    for address, goal in ADDRESSES:
        times, size = await timed(client, address, rounds)
        median = statistics.median(times)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        verdict = ("ok" if p95 < GOAL_MS else "OVER") if goal else "no goal"
        met = met and (p95 < GOAL_MS or not goal)
        print(
            f"GET {address:<45} median {median:6.1f} ms ({median / base_median:4.1f} x base) | "
            f"p95 {p95:6.1f} ms ({p95 / GOAL_MS:4.2f} of the goal) | {size / 1024:5.0f} KB | "
            f"{verdict}"
        )
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--postgres", metavar="URL", help="a server to make a throwaway db on")
    args = parser.parse_args()
    began = dt.datetime.now()
    met = asyncio.run(run(args.units, args.rounds, args.postgres))
    seconds = (dt.datetime.now() - began).total_seconds()
    print(f"{'goal met' if met else 'goal MISSED'}: p95 under {GOAL_MS:.0f} ms ({seconds:.0f} s)")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
