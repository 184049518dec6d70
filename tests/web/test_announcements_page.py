"""/announcements: compose, preview as the units read it, send once, the scheduled ones with
cancel, and a running one's progress."""

import html
import re

import pytest
from sqlalchemy import select, update

from bot.ops.env import Env
from bot.store.models import AuditEntry, Delivery, DeliveryStatus
from tests.ops.support import StillClock, Wakes, bound, with_units
from tests.web.conftest import ADMIN, START

COMPOSED = {"text": "Họp trực tuyến lúc 14h", "audience": "", "when": "now"}


@pytest.fixture
def env(db, seeds) -> Env:
    """The console's environment, its sender's wake-ups counted."""
    return Env(db, seeds["lac-thuy"], "lac-thuy", StillClock(START), Wakes())


@pytest.fixture
async def chats(env) -> dict[str, int]:
    """Three schools and two centres; one school's group removed the bot: chat id by unit."""
    await with_units(
        env,
        ("th-a", "truong-hoc"),
        ("th-b", "truong-hoc"),
        ("th-c", "truong-hoc"),
        ("tt-d", "tthtcd"),
        ("tt-e", "tthtcd"),
    )
    places = {
        code: await bound(env, code, f"-100{n}", active=code != "th-c")
        for n, code in enumerate(["th-a", "th-b", "th-c", "tt-d", "tt-e"])
    }
    return {code: place.chat_id for code, place in places.items() if code != "th-c"}


def form_of(page: str, action: str) -> dict[str, str]:
    """The fields of the page's form that posts to `action`."""
    found = re.search(
        rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S
    )
    assert found, f"no form to {action}"
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', found[1])
    return {name: html.unescape(value) for name, value in fields}


async def preview(coordinator, **asked: str):
    return await coordinator.post(
        "/announcements/preview", data={"csrf": coordinator.csrf, **COMPOSED, **asked}
    )


async def send(coordinator, **asked: str):
    """Compose, preview, and press "Gửi" on the preview."""
    shown = await preview(coordinator, **asked)
    assert shown.status_code == 200, shown.text
    return await coordinator.post(
        "/announcements/send", data=form_of(shown.text, "/announcements/send")
    )


async def outbox(env) -> list[Delivery]:
    async with env.db.session() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def test_the_form_offers_the_audiences_and_the_sending_hour(coordinator, chats):
    shown = await coordinator.get("/announcements")
    assert shown.status_code == 200
    page = shown.text
    assert 'action="/announcements/preview"' in page and f'value="{coordinator.csrf}"' in page
    assert '<option value="truong-hoc">Các trường học' in page
    assert '<option value="tthtcd">' in page
    assert 'name="time" value="07:00"' in page  # campaign.reminders.send_at
    assert 'name="date" value="2023-09-25"' in page  # today, where the campaign is
    assert "Không có thông báo nào đang chờ" in page


async def test_the_preview_shows_the_message_as_units_get_it_and_its_reach(coordinator, chats, env):
    shown = await preview(coordinator, text="Nộp <b>ảnh</b>\r\ntrước thứ Sáu")
    assert shown.status_code == 200
    page = shown.text
    message = re.search(r'<pre class="message">(.*?)</pre>', page, re.S)
    assert message and html.unescape(message[1]) == (
        f"Kính gửi: Đơn vị th-a\n📢 Thông báo: Nộp <b>ảnh</b>\ntrước thứ Sáu\n— {env.campaign.issuer}"
    )
    assert "Nộp &lt;b&gt;ảnh" in page  # escaped, shown as written
    assert "<b>4</b> nhóm/cuộc trò chuyện" in page
    assert "Gửi tới 4 nhóm" in page
    fields = form_of(page, "/announcements/send")
    assert fields["text"] == "Nộp <b>ảnh</b>\ntrước thứ Sáu" and fields["once"]
    assert await outbox(env) == []  # nothing sent before "Gửi"


async def test_sending_reaches_every_active_registered_chat_once(coordinator, chats, env):
    sent = await send(coordinator)
    assert sent.status_code == 303
    rows = await outbox(env)
    assert sent.headers["location"] == f"/announcements/{rows[0].id}"
    assert sorted(row.chat_id for row in rows) == sorted(chats.values())
    assert {row.announcement.text for row in rows if row.announcement} == {COMPOSED["text"]}
    assert {row.status for row in rows} == {DeliveryStatus.PENDING}
    assert env.wake.count == 1
    async with env.db.session() as session:
        audit = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "broadcast"))
        )
    assert [(a.actor, a.detail) for a in audit] == [(ADMIN, {"count": 4, "types": []})]


async def test_one_unit_type_only(coordinator, chats, env):
    shown = await preview(coordinator, audience="tthtcd")
    assert "<b>2</b> nhóm/cuộc trò chuyện" in shown.text
    assert "Kính gửi: Đơn vị tt-d" in shown.text
    sent = await coordinator.post(
        "/announcements/send", data=form_of(shown.text, "/announcements/send")
    )
    assert sent.status_code == 303
    assert sorted(row.chat_id for row in await outbox(env)) == [chats["tt-d"], chats["tt-e"]]


async def test_an_unknown_unit_type_is_refused(coordinator, chats, env):
    shown = await preview(coordinator, audience="nobody")
    assert shown.status_code == 400
    assert "Loại đơn vị này không có trong kế hoạch" in shown.text


async def test_control_characters_are_cleaned_before_the_preview_and_the_outbox(
    coordinator, chats, env
):
    shown = await preview(coordinator, text="Họp\x00 lúc\x07 14h\r\nở UBND\x1b")
    assert "📢 Thông báo: Họp lúc 14h\nở UBND" in shown.text
    sent = await coordinator.post(
        "/announcements/send", data=form_of(shown.text, "/announcements/send")
    )
    assert sent.status_code == 303
    texts = {row.announcement.text for row in await outbox(env) if row.announcement}
    assert texts == {"Họp lúc 14h\nở UBND"}


@pytest.mark.parametrize("text", ["", "   \n ", "\x00\x07"])
async def test_an_empty_text_is_refused(coordinator, chats, env, text):
    shown = await preview(coordinator, text=text)
    assert shown.status_code == 400
    assert "Chưa có nội dung thông báo" in shown.text
    refused = await coordinator.post(
        "/announcements/send", data={"csrf": coordinator.csrf, **COMPOSED, "text": text}
    )
    assert refused.status_code == 400
    assert await outbox(env) == []


async def test_a_time_gone_by_is_refused(coordinator, chats, env):
    shown = await preview(coordinator, when="later", date="2023-09-25", time="07:00")  # it is 8h
    assert shown.status_code == 400
    assert "Thời điểm 7h00 Thứ Hai, 25/09/2023 đã qua" in shown.text
    assert 'name="date" value="2023-09-25"' in shown.text  # the form as it was filled in
    assert "Họp trực tuyến lúc 14h</textarea>" in shown.text
    assert await outbox(env) == []


async def test_quiet_hours_are_refused(coordinator, chats, env):
    shown = await preview(coordinator, when="later", date="2023-09-26", time="22:30")
    assert shown.status_code == 400
    assert "22h30 nằm trong giờ yên lặng (21h00–6h30)" in shown.text
    assert "ví dụ 7h00" in shown.text
    assert await outbox(env) == []


@pytest.mark.parametrize(("date", "time"), [("2023-02-30", "07:00"), ("mai", ""), ("", "25:00")])
async def test_a_date_or_time_that_is_none_is_refused(coordinator, chats, env, date, time):
    shown = await preview(coordinator, when="later", date=date, time=time)
    assert shown.status_code == 400
    assert "không hợp lệ" in shown.text


async def test_a_time_that_passes_between_preview_and_send_is_refused(coordinator, chats, env):
    shown = await preview(coordinator, when="later", date="2023-09-25", time="08:30")
    assert shown.status_code == 200 and "Hẹn gửi tới 4 nhóm" in shown.text
    env.clock.at = START.replace(hour=2)  # 9h00 there
    sent = await coordinator.post(
        "/announcements/send", data=form_of(shown.text, "/announcements/send")
    )
    assert sent.status_code == 400 and "đã qua" in sent.text
    assert await outbox(env) == []


async def test_pressing_send_twice_sends_once(coordinator, chats, env):
    shown = await preview(coordinator)
    fields = form_of(shown.text, "/announcements/send")
    first = await coordinator.post("/announcements/send", data=fields)
    again = await coordinator.post("/announcements/send", data=fields)
    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == "/announcements?notice=already_sent"
    assert "đã được gửi rồi" in (await coordinator.get(again.headers["location"])).text
    assert len(await outbox(env)) == 4
    assert env.wake.count == 1


async def test_a_send_without_a_preview_key_sends_nothing(coordinator, chats, env):
    for once in ({}, {"once": "made-up"}):
        sent = await coordinator.post(
            "/announcements/send", data={"csrf": coordinator.csrf, **COMPOSED, **once}
        )
        assert sent.headers["location"] == "/announcements?notice=already_sent"
    assert await outbox(env) == []


async def test_with_nobody_registered_there_is_nothing_to_send(coordinator, env):
    shown = await preview(coordinator)
    assert shown.status_code == 200
    assert "Chưa có nhóm nào đăng ký nhận tin" in shown.text
    assert 'action="/announcements/send"' not in shown.text


async def test_editing_goes_back_to_the_form_as_filled_in(coordinator, chats):
    shown = await preview(coordinator, audience="tthtcd", when="later", date="2023-09-26")
    back = await coordinator.post(
        "/announcements/edit", data=form_of(shown.text, "/announcements/edit")
    )
    assert back.status_code == 200
    assert '<option value="tthtcd" selected>' in back.text
    assert 'value="later" checked' in back.text and 'name="date" value="2023-09-26"' in back.text


async def test_a_scheduled_one_is_listed_and_cancelled(coordinator, chats, env):
    sent = await send(coordinator, when="later", date="2023-09-26", time="14:00")
    assert sent.status_code == 303
    number = (await outbox(env))[0].id
    assert sent.headers["location"] == f"/announcements/{number}"
    one = await coordinator.get(sent.headers["location"])
    assert "Hẹn lúc 14h00 Thứ Ba, 26/09/2023" in one.text and "Hủy thông báo" in one.text
    listed = await coordinator.get("/announcements")
    assert f'<a href="/announcements/{number}">{number}</a>' in listed.text
    assert "14h00 26/09/2023" in listed.text
    assert f"Hủy thông báo số {number}? 4 nhóm" in listed.text

    stale = await coordinator.post(f"/announcements/{number}/cancel", data={"csrf": "stale"})
    assert stale.status_code == 403
    assert {row.status for row in await outbox(env)} == {DeliveryStatus.PENDING}

    done = await coordinator.post(
        f"/announcements/{number}/cancel",
        data=form_of(listed.text, f"/announcements/{number}/cancel"),
    )
    assert done.headers["location"] == f"/announcements?notice=cancelled&number={number}&count=4"
    after = await coordinator.get(done.headers["location"])
    assert f"Đã hủy thông báo số {number}: 4 nhóm" in after.text
    assert "Không có thông báo nào đang chờ" in after.text
    assert {row.status for row in await outbox(env)} == {DeliveryStatus.CANCELLED}
    assert "đã bị hủy" in (await coordinator.get(f"/announcements/{number}")).text
    async with env.db.session() as session:
        audit = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "broadcast_cancelled")
        )
    assert audit is not None and audit.actor == ADMIN

    again = await coordinator.post(
        f"/announcements/{number}/cancel", data={"csrf": coordinator.csrf}
    )
    assert again.headers["location"] == "/announcements?notice=not_cancelled"


async def test_a_running_one_shows_sent_of_total_and_its_progress_live(coordinator, chats, env):
    sent = await send(coordinator)
    rows = await outbox(env)
    one = await coordinator.get(sent.headers["location"])
    assert one.status_code == 200
    assert 'Đã gửi <b data-count="sent">0</b>/<b data-count="total">4</b>' in one.text
    assert '<script src="/static/progress.js" defer></script>' in one.text
    progress = f"/api/announcements/{rows[0].id}/progress"
    assert f'data-progress="{progress}"' in one.text

    async with env.db.session() as session, session.begin():
        await session.execute(
            update(Delivery).where(Delivery.id == rows[0].id).values(status="sent")
        )
        await session.execute(
            update(Delivery).where(Delivery.id == rows[1].id).values(status="failed")
        )
    looked = await coordinator.get(progress)
    assert looked.status_code == 200
    assert looked.json() == {
        "number": rows[0].id,
        "sent": 1,
        "total": 4,
        "counts": {"sent": 1, "failed": 1, "pending": 2},
        "settled": False,
    }
    assert (await coordinator.get(f"/api/announcements/{rows[-1].id}/progress")).json()[
        "number"
    ] == rows[0].id
    assert (await coordinator.get("/api/announcements/999/progress")).status_code == 404
    assert (await coordinator.get("/announcements/999")).status_code == 404
    script = await coordinator.get("/static/progress.js")
    assert script.status_code == 200 and "setTimeout(look, 1000)" in script.text


async def test_without_a_session_nothing_is_shown_or_sent(client, chats, env):
    assert (await client.get("/announcements")).headers["location"] == "/dang-nhap"
    for path in ("/announcements/preview", "/announcements/send", "/announcements/1/cancel"):
        refused = await client.post(path, data={**COMPOSED, "csrf": "x", "once": "x"})
        assert refused.status_code == 303
    assert (await client.get("/api/announcements/1/progress")).status_code == 401
    token = {"Authorization": "Bearer api-token-for-tests"}  # the API's token reads /api/progress
    assert (await client.get("/api/announcements/1/progress", headers=token)).status_code == 401
    assert await outbox(env) == []


async def test_a_bad_form_token_sends_nothing(coordinator, chats, env):
    shown = await preview(coordinator)
    fields = form_of(shown.text, "/announcements/send")
    refused = await coordinator.post("/announcements/send", data={**fields, "csrf": "stale"})
    assert refused.status_code == 403
    assert "Biểu mẫu này đã cũ" in refused.text
    assert (await coordinator.post("/announcements/preview", data={**COMPOSED})).status_code == 403
    assert await outbox(env) == []
    assert (
        await coordinator.post("/announcements/send", data=fields)
    ).status_code == 303  # key unspent
