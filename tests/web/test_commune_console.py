"""The console for a commune's coordinator (`LOA_ADMINS` `zalo:xa-an-binh@XA-AN-BINH`): every
page shows, sends to, exports and changes only xã An Bình's units, over HTTP. The district's
coordinator (the `coordinator` fixture) and the API's bearer token still see everything."""

import io
from collections.abc import AsyncIterator

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from bot.campaign.loader import load_units
from bot.campaign.scope import Scope
from bot.ops import announcements, photos, signin
from bot.ops import units as unit_ops
from bot.ops.photos import Kept
from bot.ops.signin import TicketKind
from bot.store.models import Delivery
from bot.web.console import Console
from tests.conftest import SCHEDULES
from tests.ops.support import bound, jpeg
from tests.web.conftest import ADMIN, csrf_of, served
from tests.web.test_announcements_page import COMPOSED, form_of

COMMUNE = "zalo:xa-an-binh"
AN_BINH = ["mn-an-binh", "tthtcd-an-binh"]
OTHERS = ["th-chi-ne", "thcs-chi-ne", "thcs-khoan-du", "tthtcd-dong-tam"]
TOKEN = "api-token-for-tests"


@pytest.fixture
async def web(env) -> AsyncIterator[str]:
    """The console with a district coordinator and xã An Bình's."""
    scopes = {COMMUNE: Scope.of("XA-AN-BINH")}
    console = Console(env, frozenset({ADMIN, COMMUNE}), "http://127.0.0.1", TOKEN, scopes)
    async with served(console) as address:
        yield address


@pytest.fixture
async def commune(web, env) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in as xã An Bình's coordinator; `commune.csrf` its form token."""
    async with httpx.AsyncClient(base_url=web, follow_redirects=False) as http:
        token = await signin.issue(env, COMMUNE)
        assert (await http.post(f"/login/{token}")).status_code == 303
        http.csrf = csrf_of((await http.get("/dang-nhap")).text)  # type: ignore[attr-defined]
        yield http


@pytest.fixture
async def lac_thuy(env) -> dict[str, int]:
    """The Lạc Thủy units (four communes), each with a registered group: chat id by unit."""
    rows = load_units(SCHEDULES / "units" / "lac-thuy.csv", env.campaign)
    await unit_ops.import_units(env.db, rows, source="lac-thuy.csv", actor="test")
    places = {unit.code: await bound(env, unit.code, f"-10{n}") for n, unit in enumerate(rows)}
    return {code: place.chat_id for code, place in places.items()}


async def test_the_overview_and_its_numbers_are_the_communes(commune, coordinator, lac_thuy):
    page = (await commune.get("/")).text
    assert "xã An Bình" in page and "TT Chi Nê" not in page and "xã Đồng Tâm" not in page
    assert "Xã, phường: XA-AN-BINH</span>" in page
    assert "Xã, phường:" not in (await coordinator.get("/")).text
    assert (await commune.get("/api/progress")).json()["units"] == 2
    assert (await coordinator.get("/api/progress")).json()["units"] == 6
    async with httpx.AsyncClient(base_url=str(commune.base_url)) as api:
        bearer = await api.get("/api/progress", headers={"Authorization": f"Bearer {TOKEN}"})
    assert bearer.json()["units"] == 6  # the API's token is the whole campaign's


async def test_the_units_pages_list_the_communes_units(commune, lac_thuy):
    for path in ("/units", "/units/codes", "/units?q=chi"):
        page = (await commune.get(path)).text
        assert not any(code in page for code in OTHERS), path
    page = (await commune.get("/units")).text
    assert all(code in page for code in AN_BINH)
    assert "TT Chi Nê" not in page  # nor another commune among the filter's choices


async def test_a_link_reset_of_another_communes_unit_is_refused(commune, lac_thuy):
    refused = await commune.post("/units/th-chi-ne/reset-link", data={"csrf": commune.csrf})
    assert refused.status_code == 404
    done = await commune.post("/units/mn-an-binh/reset-link", data={"csrf": commune.csrf})
    assert done.status_code == 200


async def test_a_units_file_from_a_commune_is_refused_in_words(commune, env, lac_thuy):
    data = b"code,name,type,parent\nth-moi,Truong moi,truong-hoc,xa An Binh\n"
    sent = await commune.post(
        "/units/upload", data={"csrf": commune.csrf}, files={"file": ("don-vi.csv", data)}
    )
    assert sent.status_code == 400
    assert "Chỉ phòng, sở điều phối toàn chiến dịch mới nạp được danh sách đơn vị" in sent.text
    assert "th-moi" not in {unit.code for unit in await unit_ops.roster(env)}


async def test_the_deliveries_page_and_retries_are_the_communes(commune, env, lac_thuy):
    done = await announcements.broadcast(env, "Họp", [], None, ADMIN)
    async with env.db.session() as session, session.begin():
        await session.execute(
            update(Delivery).where(Delivery.id.in_(done.ids)).values(status="failed")
        )
        rows = {
            row.chat_id: row.id
            for row in await session.scalars(select(Delivery).where(Delivery.id.in_(done.ids)))
        }
    page = (await commune.get("/deliveries")).text
    assert "Nhóm mn-an-binh" in page and "Nhóm th-chi-ne" not in page
    other = rows[lac_thuy["th-chi-ne"]]
    refused = await commune.post(f"/deliveries/{other}/retry", data={"csrf": commune.csrf})
    assert refused.headers["location"] == "/deliveries?notice=unknown"
    mine = rows[lac_thuy["mn-an-binh"]]
    queued = await commune.post(f"/deliveries/{mine}/retry", data={"csrf": commune.csrf})
    assert queued.headers["location"] == "/deliveries?notice=queued"


async def test_an_announcement_from_the_commune_reaches_its_chats(commune, env, lac_thuy):
    shown = await commune.post("/announcements/preview", data={"csrf": commune.csrf, **COMPOSED})
    assert "<b>2</b> nhóm/cuộc trò chuyện" in shown.text
    sent = await commune.post(
        "/announcements/send", data=form_of(shown.text, "/announcements/send")
    )
    assert sent.status_code == 303
    async with env.db.session() as session:
        reached = set(await session.scalars(select(Delivery.chat_id)))
    assert reached == {lac_thuy[code] for code in AN_BINH}


async def test_the_districts_announcements_are_not_the_communes(
    commune, coordinator, env, lac_thuy
):
    later = {"when": "later", "date": "2023-10-05", "time": "14:00"}
    shown = await coordinator.post(
        "/announcements/preview", data={"csrf": coordinator.csrf, **COMPOSED, **later}
    )
    sent = await coordinator.post(
        "/announcements/send", data=form_of(shown.text, "/announcements/send")
    )
    number = int(sent.headers["location"].rsplit("/", 1)[1])

    assert COMPOSED["text"] not in (await commune.get("/announcements")).text
    assert (await commune.get(f"/announcements/{number}")).status_code == 404
    progress = await commune.get(f"/api/announcements/{number}/progress")
    assert progress.status_code == 404
    cancel = await commune.post(f"/announcements/{number}/cancel", data={"csrf": commune.csrf})
    assert cancel.headers["location"] == "/announcements?notice=not_cancelled"
    assert [s.number for s in await announcements.scheduled(env)] == [number]
    assert COMPOSED["text"] in (await coordinator.get("/announcements")).text


async def test_the_figures_page_and_export_are_the_communes(commune, env, lac_thuy):
    page = (await commune.get("/figures")).text
    assert "mn-an-binh" in page and "th-chi-ne" not in page
    got = await commune.get("/figures/export.xlsx")
    assert "tong-hop-lac-thuy-XA-AN-BINH.xlsx" in got.headers["content-disposition"]
    book = load_workbook(io.BytesIO(got.content))
    assert book.sheetnames == ["Tổng hợp", "xã An Bình", *AN_BINH]
    csv = (await commune.get("/figures/export.csv")).content.decode("utf-8-sig")
    assert "mn-an-binh" in csv and "th-chi-ne" not in csv


async def test_a_download_link_from_xuat_gives_the_holders_communes_table(client, env, lac_thuy):
    token = await signin.issue(env, COMMUNE, TicketKind.DOWNLOAD, scope="/figures/export.csv")
    got = await client.get(f"/t/{token}")
    assert got.status_code == 200
    csv = got.content.decode("utf-8-sig")
    assert "tthtcd-an-binh" in csv and not any(code in csv for code in OTHERS)


async def test_a_commune_coordinator_signs_in_and_sees_the_communes_overview(
    browser, web, env, lac_thuy
):
    token = await signin.issue(env, COMMUNE)
    page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    await page.goto(f"{web}/login/{token}")
    await page.click("text=Vào trang quản lý")
    await page.wait_for_url(f"{web}/")
    shown = await page.inner_text("main")
    assert "xã An Bình" in shown
    assert not any(name in shown for name in ("TT Chi Nê", "xã Khoan Dụ", "xã Đồng Tâm"))


async def test_the_photo_galleries_are_the_communes(commune, env, lac_thuy):
    ours = await photos.add(
        env, "mn-an-binh", jpeg(), caption="Ngày hội", sender="web", source="web"
    )
    theirs = await photos.add(
        env, "th-chi-ne", jpeg((9, 9, 9)), caption="Khai mạc", sender="web", source="web"
    )
    assert isinstance(ours, Kept) and isinstance(theirs, Kept)
    listing = (await commune.get("/photos")).text
    assert "mn-an-binh" in listing and "th-chi-ne" not in listing
    assert (await commune.get("/units/mn-an-binh/photos")).status_code == 200
    theirs_page = await commune.get("/units/th-chi-ne/photos")
    assert theirs_page.status_code == 404 and "Không có đơn vị này" in theirs_page.text
    assert (await commune.get(f"/photos/{theirs.photo.id}.jpg")).status_code == 404
    removed = await commune.post(f"/photos/{theirs.photo.id}/remove", data={"csrf": commune.csrf})
    assert removed.status_code == 404
    assert [p.caption for p in await photos.kept(env, "th-chi-ne")] == ["Khai mạc"]
    export = await commune.get("/figures/export.docx")
    assert export.status_code == 200
