"""/deliveries: the timeline, its filter and pages, and sending a failed one again."""

import pytest
from sqlalchemy import select, update

from bot.delivery import outbox
from bot.store.models import Delivery, DeliveryStatus
from tests.ops.test_deliveries import BEFORE_THE_WEEK
from tests.store.test_outbox import registered


@pytest.fixture
async def planned(env):
    for target in await registered(env.db, "th-a", "th-b"):
        async with env.db.session() as session, session.begin():
            await outbox.plan_chat(session, "lac-thuy", env.campaign, target, BEFORE_THE_WEEK)
    async with env.db.session() as session, session.begin():
        ids = list(
            await session.scalars(select(Delivery.id).order_by(Delivery.due_at, Delivery.id))
        )
        await session.execute(
            update(Delivery)
            .where(Delivery.id == ids[-1])
            .values(status=DeliveryStatus.FAILED, last_error="Forbidden: bot was kicked")
        )
    return ids


async def test_the_timeline_shows_each_chat_and_why_one_failed(coordinator, planned):
    shown = await coordinator.get("/deliveries")
    assert shown.status_code == 200
    html = shown.text
    assert "Trường th-a" in html and "nhóm “Nhóm th-b” (Telegram)" in html
    assert "Tất cả (38)" in html and "lỗi (1)" in html
    assert "Forbidden: bot was kicked" in html
    assert html.count("Gửi lại</button>") == 1
    failed = await coordinator.get("/deliveries", params={"status": "failed"})
    assert failed.text.count("<tr>") == 2  # the heading and the one failed delivery


async def test_a_bad_filter_or_page_shows_everything(coordinator, planned):
    for params in ({"status": "'; drop"}, {"from": "-5"}, {"from": "x" * 50}):
        shown = await coordinator.get("/deliveries", params=params)
        assert shown.status_code == 200
        assert "Tất cả (38)" in shown.text


async def test_sending_again_needs_the_form_token_then_queues_it_once(coordinator, planned):
    failed = planned[-1]
    refused = await coordinator.post(f"/deliveries/{failed}/retry", data={"csrf": "stale"})
    assert refused.status_code == 403
    done = await coordinator.post(f"/deliveries/{failed}/retry", data={"csrf": coordinator.csrf})
    assert done.status_code == 303
    assert done.headers["location"] == "/deliveries?notice=queued"
    assert "Đã xếp tin nhắn gửi lại ngay." in (await coordinator.get(done.headers["location"])).text
    again = await coordinator.post(f"/deliveries/{failed}/retry", data={"csrf": coordinator.csrf})
    assert again.headers["location"] == "/deliveries?notice=not_failed"
    sent = await coordinator.post(
        f"/deliveries/{planned[0]}/retry", data={"csrf": coordinator.csrf}
    )
    assert sent.headers["location"] == "/deliveries?notice=not_failed"


async def test_without_a_session_nothing_is_shown_or_done(client, env, planned):
    assert (await client.get("/deliveries")).status_code == 303
    assert (await client.post(f"/deliveries/{planned[-1]}/retry")).status_code == 303
    async with env.db.session() as session:
        assert (await session.get(Delivery, planned[-1])).status == DeliveryStatus.FAILED
