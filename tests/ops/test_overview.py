"""The overview's counts: the same as `progress` says, counted by the database; and the export
as a file, audited."""

import datetime as dt

from sqlalchemy import select, update

from bot.ops import announcements, exports, figures, overview
from bot.ops.env import Env
from bot.ops.progress import progress
from bot.stats.table import answerable
from bot.store.models import AuditEntry, Delivery, DeliveryStatus
from tests.ops.crowd import crowd
from tests.ops.support import VN, bound, environment, with_units


async def test_the_counts_are_what_progress_says(db):
    env = environment(db)
    await with_units(
        env, ("th-a", "truong-hoc"), ("th-b", "truong-hoc"), ("tt-c", "tthtcd"), ("x", "khac")
    )
    a = await bound(env, "th-a", "-1001")
    await bound(env, "th-b", "-1002", active=False)
    c = await bound(env, "tt-c", "-1003")
    await bound(env, "x", "-1004")
    await bound(env, "x", "-1005")  # two chats, one unit
    items = [row.code for row in answerable(env.campaign.form)]
    await figures.record(env, a, [("1.1", "160")], "telegram:1")
    await figures.record(env, a, [("1.1", "170")], "telegram:1")  # a correction counts once
    await figures.record(env, c, [(code, "không") for code in items], "telegram:3")
    sent = await announcements.broadcast(env, "Họp", [], None, "telegram:9")
    async with db.session() as session, session.begin():
        await session.execute(
            update(Delivery).where(Delivery.id == sent.ids[0]).values(status="sending")
        )
        await session.execute(
            update(Delivery).where(Delivery.id == sent.ids[1]).values(status="cancelled")
        )

    counted = await overview.totals(env)

    assert counted == (await progress(env)).totals()
    assert counted == {
        "units": 4,
        "registered": 3,
        "complete": 1,
        "partial": 1,
        "silent": 2,
        "deliveries": {"sent": 0, "pending": 3, "failed": 0, "missed": 0},  # one cancelled
    }


async def test_the_counts_of_a_crowd_are_what_progress_says(db):
    env = environment(db)
    await crowd(env, 300)
    assert await overview.totals(env) == (await progress(env)).totals()


async def test_without_a_form_no_unit_is_counted_for_figures(db):
    env = environment(db)
    env = Env(db, env.campaign.model_copy(update={"form": None}), env.campaign_key, env.clock)
    await with_units(env, ("th-a", "truong-hoc"))
    counted = await overview.totals(env)
    assert counted == (await progress(env)).totals()
    assert (counted["units"], counted["complete"], counted["silent"]) == (1, 0, 0)
    assert (await overview.overview(env)).items == 0


async def test_the_overview_has_every_type_what_comes_next_and_the_last_days_problems(db):
    env = environment(db, at=dt.datetime(2023, 10, 4, 9, tzinfo=VN))
    await with_units(env, ("th-a", "truong-hoc"), ("th-b", "truong-hoc"), ("x", "khac"))
    await bound(env, "th-a", "-1001")
    await bound(env, "x", "-1002")
    later = env.clock.now() + dt.timedelta(hours=2)
    await announcements.broadcast(env, "Họp", [], later, "telegram:9")
    old = await announcements.broadcast(env, "Cũ", [], None, "telegram:9")
    async with db.session() as session, session.begin():
        for number, (status, hours) in enumerate(((DeliveryStatus.FAILED, 3), ("missed", 30))):
            await session.execute(
                update(Delivery)
                .where(Delivery.id == old.ids[number])
                .values(status=status, due_at=env.clock.now() - dt.timedelta(hours=hours))
            )

    found = await overview.overview(env)

    assert [(t.code, t.units, t.registered) for t in found.by_type] == [
        ("truong-hoc", 2, 1),
        ("tthtcd", 0, 0),  # named by the campaign, no unit yet
        ("khac", 1, 1),  # not named by the campaign: its code
    ]
    assert found.by_type[0].name.startswith("Các trường học")
    assert found.by_type[2].name == "khac"
    assert [(c.at, c.kind, c.chats) for c in found.coming] == [(later, "announcement", 2)]
    assert found.problems == {DeliveryStatus.FAILED: 1, DeliveryStatus.MISSED: 0}
    assert found.since == env.clock.now() - overview.RECENT
    assert [e.kind for e in found.events] == ["week_end", "deadline"]  # 4/10: the week goes on
    assert found.items == len(answerable(env.campaign.form))


async def test_an_export_is_audited_with_who_took_it_and_how(db):
    env = environment(db)
    assert exports.file_name(env, "csv") == "tong-hop-lac-thuy-2023.csv"
    await exports.exported(env, "zalo:boss", "csv", "link", 12)
    async with db.session() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "figures_exported")
        )
    assert entry is not None and entry.actor == "zalo:boss"
    assert entry.detail == {"format": "csv", "via": "link", "units": 12}
