"""/ and /api/progress: the campaign at a glance, and its numbers for a script."""

import pytest
from sqlalchemy import update

from bot.campaign.units import Unit as CsvUnit
from bot.ops import announcements, figures
from bot.ops import units as unit_ops
from bot.ops.overview import overview
from bot.ops.progress import progress
from bot.stats.table import answerable
from bot.store.models import Delivery
from tests.ops.crowd import crowd
from tests.ops.support import bound, with_units

TOKEN = "api-token-for-tests"  # the `web` fixture's LOA_API_TOKEN


@pytest.fixture
async def campaign(env):
    """Three schools and a centre; two reached, one of them complete, one partial; a failed
    and a missed delivery."""
    await with_units(
        env,
        ("th-a", "truong-hoc"),
        ("th-b", "truong-hoc"),
        ("th-c", "truong-hoc"),
        ("tt-d", "tthtcd"),
    )
    a = await bound(env, "th-a", "-1001")
    d = await bound(env, "tt-d", "-1004")
    await bound(env, "th-b", "-1002", active=False)
    items = [row.code for row in answerable(env.campaign.form)]
    await figures.record(env, a, [("1.1", "160")], "telegram:1")
    await figures.record(env, d, [(code, "không") for code in items], "telegram:4")
    sent = await announcements.broadcast(env, "Họp", [], None, "telegram:9")
    async with env.db.session() as session, session.begin():
        await session.execute(
            update(Delivery).where(Delivery.id == sent.ids[0]).values(status="failed")
        )
        await session.execute(
            update(Delivery).where(Delivery.id == sent.ids[1]).values(status="missed")
        )


async def test_the_overview_shows_the_campaign_registration_figures_and_problems(
    coordinator, env, campaign
):
    shown = await coordinator.get("/")
    assert shown.status_code == 200
    html = shown.text
    assert env.campaign.name in html and env.campaign.issuer in html
    assert "Thứ Hai, 02/10/2023" in html  # the week's first day
    assert '<meta http-equiv="refresh" content="60">' in html
    assert "<b>2/4</b>đơn vị đã đăng ký" in html
    assert "<b>1/3</b>Các trường học trực thuộc" in html
    assert "<b>1/1</b>Các Trung tâm học tập cộng đồng" in html
    assert '<b class="ok">1</b>đơn vị đủ số liệu' in html
    assert '<b class="warn">1</b>đơn vị đang nhập' in html
    assert "<b>2</b>đơn vị chưa gửi" in html
    assert 'href="/deliveries?status=failed" class="bad"><b>1</b> tin lỗi' in html
    assert 'href="/deliveries?status=missed" class="warn"><b>1</b> tin bỏ lỡ' in html


async def test_the_overview_names_what_goes_out_next(coordinator, env):
    await with_units(env, ("th-a", "truong-hoc"))
    await bound(env, "th-a", "-1001")
    await announcements.broadcast(env, "Họp", [], env.clock.now().replace(hour=3), "telegram:9")
    html = (await coordinator.get("/")).text
    assert "Thông báo, 1 nhóm nhận" in html
    assert "10h00 25/09/2023" in html  # 03:00 UTC in Hòa Bình
    assert "Không có tin nhắn nào lỗi hay bỏ lỡ trong 24 giờ qua." in html
    assert "Lịch sắp tới" in html and "kết thúc Tuần lễ" in html


async def test_an_empty_campaign_shows_zeros_and_where_to_start(coordinator):
    html = (await coordinator.get("/")).text
    assert "<b>0/0</b>đơn vị đã đăng ký" in html
    assert "Chưa có đơn vị nào." in html
    assert "Không còn tin nhắn nào chờ gửi." in html


async def test_progress_answers_a_session_or_the_api_token(coordinator, client, env, campaign):
    expected = (await progress(env)).totals()
    assert expected["deliveries"]["failed"] == 1
    by_session = await coordinator.get("/api/progress")
    assert by_session.status_code == 200
    assert by_session.headers["Content-Type"].startswith("application/json")
    assert by_session.json() == expected
    coordinator.cookies.clear()
    by_token = await client.get("/api/progress", headers={"Authorization": f"Bearer {TOKEN}"})
    assert by_token.status_code == 200
    assert by_token.json() == expected
    assert list(by_token.json()) == [
        "units",
        "registered",
        "complete",
        "partial",
        "silent",
        "deliveries",
    ]


async def test_progress_refuses_a_wrong_token_or_none(client, campaign):
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer"},
    ):
        refused = await client.get("/api/progress", headers=headers)
        assert refused.status_code == 401
        assert refused.json() == {"error": "unauthorized"}


async def test_without_a_session_the_overview_sends_to_sign_in(client, campaign):
    shown = await client.get("/")
    assert shown.status_code == 303
    assert shown.headers["location"] == "/dang-nhap"
    # the API token opens the API, not the pages
    shown = await client.get("/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert shown.status_code == 303


async def test_the_overview_of_5000_units_counts_them_all(coordinator, env):
    """(How fast: bench/web_pages.py, 300 ms the goal.)"""
    await crowd(env, 5000)
    shown = await coordinator.get("/")
    assert shown.status_code == 200
    assert "<b>3500/5000</b>đơn vị đã đăng ký" in shown.text
    assert (await coordinator.get("/api/progress")).json()["units"] == 5000


async def test_the_overview_counts_each_commune_as_progress_does(coordinator, env):
    rows = [
        CsvUnit("th-a", "Trường A", "truong-hoc", "xã An Bình"),
        CsvUnit("th-b", "Trường B", "truong-hoc", "phường Chi Nê"),
        CsvUnit("tt-c", "Trung tâm C", "tthtcd", "xã An Bình "),
        CsvUnit("th-d", "Trường D", "truong-hoc"),
    ]
    await unit_ops.import_units(env.db, rows, source="units.csv", actor="test")
    a = await bound(env, "th-a", "-1001")
    await bound(env, "tt-c", "-1003")
    items = [row.code for row in answerable(env.campaign.form)]
    await figures.record(env, a, [(code, "không") for code in items], "telegram:1")
    c = await bound(env, "th-b", "-1002")
    await figures.record(env, c, [("1.1", "160")], "telegram:2")

    shown = (await overview(env)).by_parent
    assert shown == (await progress(env)).by_parent()
    assert [(p.parent, p.units, p.registered, p.complete, p.partial, p.silent) for p in shown] == [
        ("xã An Bình", 2, 2, 1, 0, 1),
        ("phường Chi Nê", 1, 1, 0, 1, 0),
        (None, 1, 0, 0, 0, 1),
    ]
    html = (await coordinator.get("/")).text
    assert "<h2>Theo xã, phường</h2>" in html
    assert '<a href="/units?parent=x%C3%A3%20An%20B%C3%ACnh">xã An Bình</a>' in html
    assert '<td class="num">2/2</td>' in html
    assert "Không thuộc xã/phường nào" in html


async def test_the_overview_has_no_commune_table_when_no_unit_names_one(coordinator, env):
    await with_units(env, ("th-a", "truong-hoc"))
    assert (await overview(env)).by_parent == []
    assert "Theo xã, phường" not in (await coordinator.get("/")).text
