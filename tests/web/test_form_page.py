"""A unit's own form on the web, /f/<token>: opened only by a live link of that unit, saving
row by row or all at once, with the chat's rules and one record of answers."""

import datetime as dt
import re

import pytest
from sqlalchemy import select

from bot.address import Address
from bot.ops import chats, figures, unitlinks
from bot.ops.registration import codes_expire
from bot.store import answers
from bot.store.models import AuditEntry
from tests.ops.support import bound, with_units
from tests.web.conftest import csrf_of


@pytest.fixture
async def school(env):
    """Two schools, each with a registered group; the first one's link."""
    await with_units(env, ("th-a", "truong-hoc"), ("th-b", "truong-hoc"))
    a = await bound(env, "th-a", "-1001")
    await bound(env, "th-b", "-1002")
    return a, await unitlinks.issue(env, a.unit)


async def history(env, unit, item):
    async with env.db.session() as session:
        return await answers.history(session, env.campaign_key, unit.id, item)


async def test_the_page_shows_the_unit_its_rows_and_what_it_already_gave(client, env, school):
    place, token = school
    await figures.record(env, place, [("1.1", "25"), ("10.1", "2 triệu")], "telegram:1")
    page = await client.get(f"/f/{token}")
    assert page.status_code == 200
    html = page.text
    assert "Đơn vị th-a" in html
    assert '<label for="v-1.2-1">1.2 – lớp</label>' in html
    assert '<label for="v-1.2-2">1.2 – người</label>' in html
    assert re.search(r'id="v-1.1" name="v:1.1" value="25"', html)
    assert 'value="2.000.000"' in html  # money with its thousands separators
    assert "Còn thiếu" in html and "Hoàn thành" not in html
    assert '<script src="/static/form.js" defer></script>' in html
    assert page.headers["Cache-Control"] == "no-store"


async def test_a_plain_post_saves_every_row_given_by_the_units_link(client, env, school):
    place, token = school
    csrf = csrf_of((await client.get(f"/f/{token}")).text)
    sent = await client.post(
        f"/f/{token}",
        data={"csrf": csrf, "v:1.2:1": "3", "v:1.2:2": "120", "v:10.1": "1.500.000", "v:1.1": ""},
    )
    assert sent.status_code == 303 and sent.headers["Location"] == f"/f/{token}?luu=2"
    assert await figures.values_of(env, place.unit) == {"1.2": (3, 120), "10.1": (1_500_000,)}
    [given] = await history(env, place.unit, "1.2")
    assert given.author == "web:th-a" and given.chat_id is None
    again = await client.get(sent.headers["Location"])
    assert "Đã lưu 2 mục" in again.text and 'value="1.500.000"' in again.text


async def test_a_refused_value_saves_nothing_and_says_why_in_the_chats_words(client, env, school):
    place, token = school
    csrf = csrf_of((await client.get(f"/f/{token}")).text)
    sent = await client.post(f"/f/{token}", data={"csrf": csrf, "v:1.1": "-2", "v:1.2:1": "3"})
    assert sent.status_code == 422
    assert "Mục 1.1 “-2”: số liệu không được âm" in sent.text
    assert "Mục 1.2 “3”: cần đủ hai số" in sent.text
    assert 'id="v-1.1" name="v:1.1" value="-2"' in sent.text  # kept as typed, to correct
    assert await figures.values_of(env, place.unit) == {}


async def test_an_unusual_figure_waits_for_the_units_yes(client, env, school):
    place, token = school
    csrf = csrf_of((await client.get(f"/f/{token}")).text)
    asked = await client.post(f"/f/{token}", data={"csrf": csrf, "v:1.1": "20000"})
    assert asked.status_code == 422 and "số lớn hơn thường lệ" in asked.text
    assert 'name="ok:1.1"' in asked.text
    assert await figures.values_of(env, place.unit) == {}
    sure = await client.post(f"/f/{token}", data={"csrf": csrf, "v:1.1": "20000", "ok:1.1": "1"})
    assert sure.status_code == 303
    assert await figures.values_of(env, place.unit) == {"1.1": (20_000,)}


async def test_a_correction_keeps_the_old_value_and_chat_answers_show(client, env, school):
    place, token = school
    await figures.record(env, place, [("1.1", "25")], "telegram:1")
    csrf = csrf_of((await client.get(f"/f/{token}")).text)
    row = await client.post(
        f"/f/{token}/row", data={"row": "1.1", "v:1.1": "30"}, headers={"X-CSRF-Token": csrf}
    )
    assert row.status_code == 200
    done = row.json()
    assert "✓ Đã lưu (thay cho 25)" in done["row"] and 'value="30"' in done["row"]
    assert "Còn thiếu" in done["status"]
    old, new = await history(env, place.unit, "1.1")
    assert old.replaced_at is not None and old.author == "telegram:1"
    assert new.author == "web:th-a" and new.replaced_at is None
    # the same figure again records nothing new
    await client.post(f"/f/{token}", data={"csrf": csrf, "v:1.1": "30"})
    assert len(await history(env, place.unit, "1.1")) == 2


async def test_a_row_refused_through_the_script(client, env, school):
    place, token = school
    csrf = csrf_of((await client.get(f"/f/{token}")).text)
    row = await client.post(
        f"/f/{token}/row", data={"row": "10.1", "v:10.1": "-2"}, headers={"X-CSRF-Token": csrf}
    )
    assert row.json()["refused"] is True
    assert "số liệu không được âm" in row.json()["row"]
    assert await figures.values_of(env, place.unit) == {}


async def test_every_row_in_says_complete(client, env, school):
    place, token = school
    codes = [r.code for r in env.campaign.form.rows() if r.answer]
    await figures.record(env, place, [(code, "không") for code in codes], "telegram:1")
    assert "Hoàn thành" in (await client.get(f"/f/{token}")).text


async def test_posts_without_the_links_csrf_value_save_nothing(client, env, school):
    place, token = school
    other = await unitlinks.issue(env, place.unit)
    other_csrf = csrf_of((await client.get(f"/f/{other}")).text)
    refused = await client.post(f"/f/{token}", data={"csrf": other_csrf, "v:1.1": "3"})
    assert refused.status_code == 403
    row = await client.post(f"/f/{token}/row", data={"row": "1.1", "v:1.1": "3"})
    assert row.status_code == 403
    assert await figures.values_of(env, place.unit) == {}


async def test_a_link_opens_only_its_own_units_form(client, env, school):
    place, token = school
    async with env.db.session() as session:
        from bot.store.units import unit_by_code

        b = await unit_by_code(session, "th-b")
    theirs = await unitlinks.issue(env, b)
    csrf_b = csrf_of((await client.get(f"/f/{theirs}")).text)
    assert "Đơn vị th-b" in (await client.get(f"/f/{theirs}")).text
    # a's link with b's CSRF value is refused; b's link writes only b's figures
    assert (
        await client.post(f"/f/{token}", data={"csrf": csrf_b, "v:1.1": "3"})
    ).status_code == 403
    await client.post(f"/f/{theirs}", data={"csrf": csrf_b, "v:1.1": "4"})
    assert await figures.values_of(env, place.unit) == {}
    assert await figures.values_of(env, b) == {"1.1": (4,)}


async def test_a_wrong_link_says_how_to_get_a_new_one(client, env, school):
    page = await client.get("/f/not-a-real-token")
    assert page.status_code == 404
    assert "/nhaplieu" in page.text and "không đúng" in page.text
    assert (await client.post("/f/not-a-real-token", data={"v:1.1": "3"})).status_code == 404


async def test_a_reset_link_is_revoked(client, env, school):
    place, token = school
    assert (await unitlinks.reset(env, "th-a", "zalo:coordinator-1")).id == place.unit.id
    page = await client.get(f"/f/{token}")
    assert page.status_code == 410 and "thu hồi" in page.text and "/nhaplieu" in page.text
    fresh = await unitlinks.issue(env, place.unit)
    assert (await client.get(f"/f/{fresh}")).status_code == 200


async def test_unregistering_the_units_last_chat_revokes_its_links(client, env, school):
    _, token = school
    await bound(env, "th-a", "-1003")
    await chats.unregister(env, Address("telegram", "-1001"), Address("telegram", "1"), True)
    assert (await client.get(f"/f/{token}")).status_code == 200  # another chat is left
    await chats.unregister(env, Address("telegram", "-1003"), Address("telegram", "1"), True)
    assert (await client.get(f"/f/{token}")).status_code == 410


async def test_a_link_expires_a_week_after_the_report_deadline(client, env, school):
    _, token = school
    env.clock.at = codes_expire(env.campaign) + dt.timedelta(seconds=1)
    page = await client.get(f"/f/{token}")
    assert page.status_code == 410 and "hết hạn" in page.text


async def test_wrong_links_are_counted_per_address_and_throttled(client, env, school, monkeypatch):
    _, token = school
    monkeypatch.setattr(unitlinks.signin, "REFUSALS_PER_WINDOW", 3)
    for n in range(3):
        assert (await client.get(f"/f/guess-{n}")).status_code == 404
    assert (await client.get(f"/f/{token}")).status_code == 429  # this address guessed enough
    async with env.db.session() as session:
        refused = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.action == unitlinks.REFUSED))
        )
    assert len(refused) == 3 and all(token not in str(e.detail) for e in refused)


async def test_a_coordinator_resets_a_units_links_on_the_units_page(coordinator, env, school):
    _, token = school
    assert "/units/th-a/reset-link" in (await coordinator.get("/units")).text
    bad = await coordinator.post("/units/th-a/reset-link", data={"csrf": "wrong"})
    assert bad.status_code == 403
    assert (await coordinator.get(f"/f/{token}")).status_code == 200
    done = await coordinator.post("/units/th-a/reset-link", data={"csrf": coordinator.csrf})
    assert done.status_code == 200 and "/nhaplieu" in done.text
    assert (await coordinator.get(f"/f/{token}")).status_code == 410
    async with env.db.session() as session:
        [entry] = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "web_form_reset")
        )
    assert entry.actor == "zalo:coordinator-1"
    missing = await coordinator.post("/units/nope/reset-link", data={"csrf": coordinator.csrf})
    assert missing.status_code == 404


async def test_without_a_session_no_link_is_reset(client, env, school):
    _, token = school
    refused = await client.post("/units/th-a/reset-link", data={"csrf": "x"})
    assert refused.status_code == 303
    assert (await client.get(f"/f/{token}")).status_code == 200
