"""What the benchmarks share: a fresh database, groups on the sandbox, units bound to them.

Importing this module puts the repository root on the path, so a benchmark run as
`.venv/bin/python bench/NAME.py` finds `bot` whether or not Loa is installed.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

# ruff: noqa: E402 (the imports below need the repository root on the path first)
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Bot

from bot.campaign import units as core
from bot.campaign.model import Campaign
from bot.channels.base import ChatType
from bot.sandbox.telegram import TelegramSandbox
from bot.store import chats
from bot.store.db import Database, throwaway_postgres
from bot.store.units import import_units

CAMPAIGN = ROOT / "schedules" / "2023-lac-thuy.yaml"


def make_groups(sandbox: TelegramSandbox, count: int, bots: Sequence[str]) -> list[int]:
    """N supergroups, each with one person (its admin) and the given bots (added already)."""
    admin = sandbox.add_user("Admin")
    return [
        sandbox.create_group(f"Đơn vị {i:04d}", admins=[admin], bots=list(bots))
        for i in range(count)
    ]


async def forget_updates(base_url: str, token: str) -> None:
    """Confirm the bot's pending updates (offset -1, then past it), as a restarted bot may."""
    async with Bot(token, base_url=f"{base_url}/bot") as bot:
        last = await bot.get_updates(offset=-1, timeout=0)
        if last:
            await bot.get_updates(offset=last[-1].update_id + 1, timeout=0)


async def register(
    db: Database, campaign: Campaign, sandbox: TelegramSandbox, groups: list[int]
) -> None:
    """Units imported, each group met and bound to its unit, in one transaction."""
    audience = campaign.audiences[0].code
    units = [core.Unit(f"bench-{i:04d}", f"Đơn vị {i:04d}", audience) for i in range(len(groups))]
    async with db.session() as session, session.begin():
        await import_units(session, units)
        stored = {unit.code: unit for unit in await chats.all_units(session)}
        for unit, group in zip(units, groups, strict=True):
            title = sandbox.chat_title(group)
            chat = await chats.meet(session, "telegram", str(group), ChatType.GROUP, title)
            if not await chats.bind(session, chat, stored[unit.code]):
                raise RuntimeError(f"could not bind group {group} to {unit.code}")


@contextlib.asynccontextmanager
async def database(postgres: str | None) -> AsyncIterator[Database]:
    """A fresh, upgraded database: SQLite in a temporary folder, or a throwaway PostgreSQL one."""
    with contextlib.ExitStack() as stack:
        if postgres is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="loa-bench-"))
            url = f"sqlite:///{folder}/loa.db"
        else:
            url = stack.enter_context(throwaway_postgres(postgres, "loa_bench"))
        async with Database(url) as db:
            await db.upgrade()
            yield db
