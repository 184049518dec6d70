"""A registration storm: how long a coordinator waits for the answer to /thongbao, and for the
announcement to start going out, while 500 units register within a minute (issue 13, item 7).

Telegram's limits on (30/s overall, 1/s in a private chat), the sandbox with 20 ms latency. The
coordinator sends /thongbao several times during the storm; each answer's delay is printed, with
how many notice messages the 500 registrations made in the coordinator's chat.

    .venv/bin/python bench/storm.py [--units 500] [--seconds 60] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Sequence

from common import CAMPAIGN, database, forget_updates  # also puts the root on the path

from bot.app import Loa
from bot.campaign.loader import load_campaign
from bot.campaign.units import Unit as CsvUnit
from bot.channels.defaults import TelegramLimits
from bot.channels.telegram import TelegramChannel
from bot.sandbox.telegram import Limits, TelegramSandbox
from bot.store import chats
from bot.store.units import import_units

TOKEN = "777777:storm-bench-token"
ASKS = 5  # /thongbao during the storm, evenly spread


async def one_ask(sandbox: TelegramSandbox, coordinator: int, number: int) -> tuple[float, float]:
    """Seconds to the answer of one /thongbao, and to its first copy in a group."""
    text = f"Thông báo số {number} trong lúc đăng ký"
    before = len(sandbox.sent(coordinator))
    asked = time.monotonic()
    await sandbox.post(coordinator, coordinator, f"/thongbao {text}")
    await sandbox.wait_sent(coordinator, before + 1, timeout=120)
    answered = time.monotonic() - asked
    while not any(text in m.get("text", "") for m in sandbox.sent() if m["chat"]["id"] < 0):
        await asyncio.sleep(0.01)
    return answered, time.monotonic() - asked


async def bench(args: argparse.Namespace) -> int:
    async with (
        TelegramSandbox(limits=Limits.off(), latency=0.02) as sandbox,
        database(args.postgres) as db,
    ):
        sandbox.add_bot(TOKEN, username="loa_bot")
        coordinator, principal = sandbox.add_user("Cô Lan"), sandbox.add_user("Thầy Minh")
        groups = [
            sandbox.create_group(f"Đơn vị {i:04}", members=[principal], bots=[TOKEN])
            for i in range(args.units)
        ]
        units = [CsvUnit(f"u{i:04}", f"Đơn vị {i:04}", "truong-hoc") for i in range(args.units)]
        async with db.session() as session, session.begin():
            await import_units(session, units)
            codes = {u.code: u.registration_code for u in await chats.all_units(session)}
        await forget_updates(sandbox.base_url, TOKEN)  # no greetings for the groups
        channel = TelegramChannel(TOKEN, api_base_url=sandbox.base_url, limits=TelegramLimits())
        loa = Loa(
            load_campaign(CAMPAIGN),
            "storm",
            db,
            {"telegram": channel},
            coordinators=frozenset({f"telegram:{coordinator}"}),
        )
        await loa.start()
        try:
            await sandbox.post(coordinator, coordinator, "/start")
            await sandbox.wait_sent(coordinator, 1)
            gap = args.seconds / args.units
            asks: list[asyncio.Task[tuple[float, float]]] = []
            started = time.monotonic()
            for i, group in enumerate(groups):
                await sandbox.post(group, principal, f"/dangky {codes[f'u{i:04}']}")
                if (i + 1) % (args.units // (ASKS + 1)) == 0 and len(asks) < ASKS:
                    asks.append(asyncio.create_task(one_ask(sandbox, coordinator, len(asks))))
                await asyncio.sleep(max(started + (i + 1) * gap - time.monotonic(), 0))
            timings = [await ask for ask in asks]
            for group in groups:
                await sandbox.wait_sent(group, 1, timeout=120)
            storm = time.monotonic() - started
        finally:
            await loa.stop()
        notices = [m for m in sandbox.sent(coordinator) if "đã đăng ký" in m["text"]]
    answers = [answered for answered, _ in timings]
    starts = [going for _, going in timings]
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{args.units} registrations in {storm:.1f} s ({backend})")
    print(
        f"/thongbao answered in {statistics.median(answers):.2f} s median, "
        f"{max(answers):.2f} s worst ({len(answers)} asks)"
    )
    going = f"{statistics.median(starts):.2f} s median, {max(starts):.2f} s worst"
    print(f"announcement going out after {going}")
    print(f"notice messages to the coordinator: {len(notices)} for {args.units} registrations")
    return 0


def options(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the storm lasts")
    parser.add_argument("--postgres", help="a PostgreSQL server URL (default: SQLite)")
    return parser.parse_args(argv)


def main() -> None:
    sys.exit(asyncio.run(bench(options())))


if __name__ == "__main__":
    main()
