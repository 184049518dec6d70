"""A commune's coordinator through the operations: two communes, each operation keeps to the
scope it is given, the province's coordinator (`EVERYTHING`) sees both."""

import datetime as dt

from sqlalchemy import select, update

from bot.address import Address
from bot.campaign.scope import EVERYTHING, Scope
from bot.delivery import outbox
from bot.ops import announcements, chats, deliveries, figures, overview, unitlinks, units
from bot.ops.progress import progress
from bot.store.models import Delivery, DeliveryStatus, Unit
from tests.ops.support import VN, bound, environment, with_units

PHU_THANH = Scope.of("XA-PHU-THANH")
PHU_LAM = Scope.of("XA-PHU-LAM")
LATER = dt.datetime(2023, 10, 5, 14, tzinfo=VN)


async def province(db):
    """Two units in xã Phú Thành, one in xã Phú Lâm, one under no commune; all registered."""
    env = environment(db)
    await with_units(
        env,
        ("th-pt", "truong-hoc", "xã Phú Thành"),
        ("tt-pt", "tthtcd", "xã Phú Thành"),
        ("th-pl", "truong-hoc", "xã Phú Lâm"),
        ("pgd", "tthtcd"),
    )
    for n, code in enumerate(["th-pt", "tt-pt", "th-pl", "pgd"]):
        await bound(env, code, f"-100{n}")
    return env


def codes(found) -> list[str]:
    return sorted(unit.code for unit in found)


async def test_progress_and_the_export_hold_the_communes_units_only(db):
    env = await province(db)
    place = await figures.place_of(env, "telegram", "-1002")
    assert place is not None
    await figures.record(env, place, [("1.1", "160")], "telegram:1")  # Phú Lâm's figures

    mine = await progress(env, PHU_THANH)
    assert codes(mine.units) == ["th-pt", "tt-pt"]
    assert len(mine.figures) == 2 and mine.partial == 0
    assert {chat.unit_id for chats_ in mine.chats.values() for chat in chats_} == {
        unit.id for unit in mine.units
    }
    assert codes((await progress(env, PHU_LAM)).units) == ["th-pl"]
    assert codes((await progress(env, EVERYTHING)).units) == ["pgd", "th-pl", "th-pt", "tt-pt"]

    export = await figures.gather(env, PHU_THANH)
    assert sorted(sheet.code for sheet in export.sheets) == ["th-pt", "tt-pt"]
    assert [group.parent for group in export.groups] == ["xã Phú Thành"]  # one subtotal sheet
    assert len((await figures.gather(env)).sheets) == 4


async def test_the_overviews_counts_are_what_progress_says_for_the_commune(db):
    env = await province(db)
    await announcements.broadcast(env, "Họp", [], None, "telegram:9")  # a row to every chat
    for scope in (PHU_THANH, PHU_LAM, EVERYTHING):
        expected = (await progress(env, scope)).totals()
        assert await overview.totals(env, scope) == expected
        assert (await overview.overview(env, scope)).totals == expected
    seen = await overview.overview(env, PHU_THANH)
    assert [p.parent for p in seen.by_parent] == ["xã Phú Thành"]
    assert seen.totals["deliveries"]["pending"] == 2


async def test_what_goes_out_next_counts_the_communes_chats_only(db):
    env = await province(db)
    await announcements.broadcast(env, "Họp", [], LATER, "telegram:9")  # a row to every chat
    chats_of = {}
    for name, scope in (("phu-thanh", PHU_THANH), ("phu-lam", PHU_LAM), ("all", EVERYTHING)):
        coming = (await overview.overview(env, scope)).coming
        assert coming, name
        chats_of[name] = {(c.at, c.kind): c.chats for c in coming}
    announced = (LATER, "announcement")
    assert chats_of["phu-thanh"][announced] == 2
    assert chats_of["phu-lam"][announced] == 1
    assert chats_of["all"][announced] == 4
    # the commune's moments are the province's, each counting fewer chats
    for moment, count in chats_of["phu-thanh"].items():
        assert 0 < count < chats_of["all"][moment]
    # read by unit, every unit's rows say what the whole outbox says
    async with db.session() as session:
        for limit in (1, 2, 5, 50):
            every = await outbox.upcoming(session, env.campaign_key, limit)
            assert await outbox.upcoming(session, env.campaign_key, limit, select(Unit.id)) == every
        went = await outbox.statuses(session, env.campaign_key)
        assert await outbox.statuses(session, env.campaign_key, select(Unit.id)) == went


async def test_a_communes_broadcast_reaches_its_chats_and_later_ones_of_it_only(db):
    env = await province(db)
    reach = await announcements.reach(env, [], PHU_THANH)
    assert reach.chats == 2 and reach.example is not None
    done = await announcements.broadcast(env, "Họp xã", [], LATER, "zalo:xa", scope=PHU_THANH)
    async with db.session() as session:
        rows = list(await session.scalars(select(Delivery).where(Delivery.id.in_(done.ids))))
    assert len(rows) == 2
    assert all(row.announcement.scope == PHU_THANH for row in rows)

    # a chat of each commune registers later: only Phú Thành's joins the scheduled news
    await with_units(
        env, ("mn-pt", "truong-hoc", "xã Phú Thành"), ("mn-pl", "truong-hoc", "xã Phú Lâm")
    )
    await bound(env, "mn-pt", "-2001")
    await bound(env, "mn-pl", "-2002")
    async with db.session() as session, session.begin():
        await outbox.plan(session, env.campaign_key, env.campaign, env.clock.now())
    found = await announcements.find(env, done.ids[0], PHU_THANH)
    assert found is not None and len(found.ids) == 3


async def test_a_commune_sees_and_cancels_its_own_announcements_not_the_provinces(db):
    env = await province(db)
    provinces = await announcements.broadcast(env, "Cả tỉnh", [], LATER, "zalo:pgd")
    communes = await announcements.broadcast(env, "Xã", [], LATER, "zalo:xa", scope=PHU_THANH)

    assert [s.number for s in await announcements.scheduled(env, PHU_THANH)] == [communes.ids[0]]
    assert await announcements.scheduled(env, PHU_LAM) == []
    assert len(await announcements.scheduled(env)) == 2
    assert await announcements.find(env, provinces.ids[0], PHU_THANH) is None
    assert await announcements.outcome_of(env, communes.ids[0], PHU_LAM) is None

    assert await announcements.cancel(env, provinces.ids[0], "zalo:xa", PHU_THANH) == 0
    assert await announcements.cancel(env, communes.ids[0], "zalo:xa2", PHU_LAM) == 0
    assert await announcements.cancel(env, communes.ids[0], "zalo:xa", PHU_THANH) == 2
    assert await announcements.cancel(env, provinces.ids[0], "zalo:pgd") == 4  # the province's


async def test_the_units_list_and_its_links_are_the_communes(db):
    env = await province(db)
    assert codes(await units.roster(env, PHU_THANH)) == ["th-pt", "tt-pt"]
    assert await unitlinks.reset(env, "th-pl", "zalo:xa", PHU_THANH) is None
    assert await unitlinks.reset(env, "th-pt", "zalo:xa", PHU_THANH) is not None
    assert await figures.find_unit(env, "th-pl", PHU_THANH) is None
    assert await figures.find_unit(env, "TH-PT", PHU_THANH) is not None

    refused = await chats.unregister_unit(env, "th-pl", Address("zalo", "xa"), PHU_THANH)
    assert (refused.unit, refused.chats) == (None, [])
    assert codes((await progress(env, PHU_LAM)).units) == ["th-pl"]
    assert (await progress(env, PHU_LAM)).registered == 1  # still registered


async def test_a_commune_cannot_change_the_campaigns_units(db):
    env = await province(db)
    data = "code,name,type,parent\nth-moi,Trường mới,truong-hoc,xã Phú Thành\n".encode()
    done = await units.import_upload(env, data, "don-vi.csv", "zalo:xa", PHU_THANH)
    assert (done.refused, done.result) == (units.SCOPED, None)
    assert "th-moi" not in codes(await units.roster(env))
    assert (await units.import_upload(env, data, "don-vi.csv", "zalo:pgd")).result is not None


async def test_the_deliveries_timeline_and_retries_are_the_communes(db):
    env = await province(db)
    done = await announcements.broadcast(env, "Họp", [], None, "telegram:9")
    async with db.session() as session, session.begin():
        await session.execute(
            update(Delivery).where(Delivery.id.in_(done.ids)).values(status="failed")
        )
    mine = await deliveries.timeline(env, scope=PHU_THANH)
    assert sorted(line.unit_code for line in mine.lines) == ["th-pt", "tt-pt"]
    assert (mine.total, mine.counts[DeliveryStatus.FAILED]) == (2, 2)
    assert (await deliveries.timeline(env)).total == 4
    problems = await deliveries.problems_since(
        env, env.clock.now() - dt.timedelta(hours=1), PHU_LAM
    )
    assert problems[DeliveryStatus.FAILED] == 1

    by_id = {line.unit_code: line.id for line in (await deliveries.timeline(env)).lines}
    assert await deliveries.retry(env, by_id["th-pl"], "zalo:xa", PHU_THANH) == "unknown"
    assert await deliveries.retry(env, by_id["pgd"], "zalo:xa", PHU_THANH) == "unknown"
    assert await deliveries.retry(env, by_id["th-pt"], "zalo:xa", PHU_THANH) == "queued"
