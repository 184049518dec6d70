"""Progress as an operation: who Loa reaches, whose figures are in, and the /api/progress totals."""

import json

from sqlalchemy import update

from bot.ops import announcements, figures
from bot.ops.progress import Standing, progress
from bot.stats.table import Completion, answerable
from bot.store.models import Delivery
from tests.ops.support import bound, environment, with_units


async def test_progress_counts_units_chats_figures_and_deliveries(db):
    env = environment(db)
    await with_units(env, ("th-a", "truong-hoc"), ("th-b", "truong-hoc"), ("tt-c", "tthtcd"))
    a = await bound(env, "th-a", "-1001")
    await bound(env, "th-b", "-1002", active=False)  # registered, but the bot was removed
    items = [row.code for row in answerable(env.campaign.form)]
    await figures.record(env, a, [("1.1", "160")], "telegram:1")
    c = await bound(env, "tt-c", "-1003")
    await figures.record(env, c, [(code, "không") for code in items], "telegram:3")
    sent = await announcements.broadcast(env, "Họp", [], None, "telegram:9")  # to a and c
    later = await announcements.broadcast(env, "Nhắc", [], None, "telegram:9")
    async with db.session() as session, session.begin():
        await session.execute(
            update(Delivery).where(Delivery.id == sent.ids[0]).values(status="sent")
        )
        await session.execute(
            update(Delivery).where(Delivery.id == sent.ids[1]).values(status="failed")
        )
        await session.execute(
            update(Delivery).where(Delivery.id == later.ids[0]).values(status="missed")
        )
        await session.execute(
            update(Delivery).where(Delivery.id == later.ids[1]).values(status="sending")
        )

    found = await progress(env)

    by_code = {unit.code: unit for unit in found.units}
    assert [unit.code for unit in found.units] == ["th-a", "th-b", "tt-c"]
    assert found.active == {by_code["th-a"].id, by_code["tt-c"].id}
    assert [len(found.chats.get(unit.id, [])) for unit in found.units] == [1, 1, 1]
    assert found.figures == {
        by_code["th-a"].id: Standing(Completion.PARTIAL, 1),
        by_code["th-b"].id: Standing(Completion.SILENT, 0),
        by_code["tt-c"].id: Standing(Completion.COMPLETE, len(items)),
    }
    assert (found.items, found.missed) == (len(items), 1)
    totals = found.totals()
    assert totals == {
        "units": 3,
        "registered": 2,
        "complete": 1,
        "partial": 1,
        "silent": 1,
        "deliveries": {"sent": 1, "pending": 1, "failed": 1, "missed": 1},
    }
    assert json.loads(json.dumps(totals)) == totals  # what /api/progress answers, as it is


async def test_an_empty_campaign_has_zero_everywhere(db):
    totals = (await progress(environment(db))).totals()
    assert totals == {
        "units": 0,
        "registered": 0,
        "complete": 0,
        "partial": 0,
        "silent": 0,
        "deliveries": {"sent": 0, "pending": 0, "failed": 0, "missed": 0},
    }
