"""How long `loa units list` takes for a province's units: 2,000, 10,000 and 100,000 of them.

For each count a fresh SQLite database gets that many units (`import_units`, in bulk), then
`loa units list` runs as a child process, as a coordinator runs it: its wall time (Python's start
and Loa's imports included) and the lines it printed. The goal is 10,000 units under 2 s and a
time that grows with the units, not with their square (before the fix: 2,000 in 4.5 s, 10,000 in
37 s, 100,000 never finished).

    .venv/bin/python bench/units_list.py                 # 2000, 10000, 100000
    .venv/bin/python bench/units_list.py --units 10000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.campaign.units import Unit
from bot.store.db import Database
from bot.store.units import import_units

ROOT = Path(__file__).resolve().parent.parent


async def fill(url: str, count: int) -> None:
    units = [Unit(f"th-{i:06d}", f"Trường Tiểu học số {i}", "truong-hoc") for i in range(count)]
    async with Database(url) as db:
        await db.upgrade()
        async with db.session() as session, session.begin():
            await import_units(session, units)


def list_units(url: str) -> tuple[float, int]:
    env = os.environ | {"DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    began = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "bot", "units", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - began, len(run.stdout.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, nargs="+", default=[2_000, 10_000, 100_000])
    args = parser.parse_args()
    for count in args.units:
        with tempfile.TemporaryDirectory(prefix="loa-bench-") as folder:
            url = f"sqlite:///{folder}/loa.db"
            asyncio.run(fill(url, count))
            seconds, lines = list_units(url)
        print(f"units list {count:>7} units: {seconds:6.2f} s, {lines} lines")


if __name__ == "__main__":
    main()
