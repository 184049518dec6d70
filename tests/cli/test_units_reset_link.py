"""`loa units reset-link CODE`: every link of the unit to its form on the web stops working."""

import asyncio

from bot.campaign.loader import load_campaign
from bot.cli import main
from bot.ops import unitlinks
from bot.ops.env import Env
from bot.store.db import Database
from bot.store.units import unit_by_code
from tests.cli.test_bad_environments import said
from tests.cli.test_web_link import CAMPAIGN, folder  # noqa: F401 (a fixture)
from tests.ops.support import with_units


def run(place, work):
    async def go():
        async with Database(f"sqlite:///{place / 'loa.db'}") as db:
            await db.upgrade()
            return await work(Env(db, load_campaign(CAMPAIGN), "2023-lac-thuy"))

    return asyncio.run(go())


async def _issued(env):
    await with_units(env, ("th-a", "truong-hoc"))
    async with env.db.session() as session:
        unit = await unit_by_code(session, "th-a")
    return await unitlinks.issue(env, unit)


def test_a_units_links_are_reset(folder, capsys):  # noqa: F811
    token = run(folder, _issued)
    assert main(["units", "reset-link", "th-a"]) == 0
    assert "Đơn vị th-a" in capsys.readouterr().out

    async def opened(env):
        return await unitlinks.open_form(env, token, "127.0.0.1")

    assert run(folder, opened) is unitlinks.Refusal.REVOKED


def test_an_unknown_code_is_refused(folder, capsys):  # noqa: F811
    assert main(["units", "reset-link", "nope"]) == 2
    assert "nope" in said(capsys)
