"""/figures, its downloads, and the download links `/xuat` gives (/t/<token>)."""

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import select

from bot.documents.formats import written
from bot.ops import figures, signin
from bot.ops.env import Env
from bot.ops.figures import gather
from bot.ops.signin import TicketKind
from bot.stats.table import answerable
from bot.store.models import AuditEntry
from tests.ops.crowd import crowd
from tests.ops.support import bound, with_units
from tests.web.conftest import ADMIN

TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@pytest.fixture
async def answered(env):
    """Two schools with figures (one complete, one partial) and a silent centre."""
    await with_units(env, ("th-a", "truong-hoc"), ("th-b", "truong-hoc"), ("tt-ha", "tthtcd"))
    a = await bound(env, "th-a", "-1001")
    b = await bound(env, "th-b", "-1002")
    items = [row.code for row in answerable(env.campaign.form)]
    await figures.record(env, a, [(code, "không") for code in items], "telegram:1")
    await figures.record(env, a, [("1.1", "2")], "telegram:1")
    await figures.record(env, b, [("1.1", "1500")], "telegram:2")
    return items


async def exported(env, actor=ADMIN):
    async with env.db.session() as session:
        return list(
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "figures_exported", AuditEntry.actor == actor
                )
            )
        )


async def test_the_page_shows_the_totals_and_every_unit_with_its_status(coordinator, answered):
    shown = await coordinator.get("/figures")
    assert shown.status_code == 200
    html = shown.text
    assert "Tổng hợp 3 đơn vị" in html
    assert ">1 đủ số liệu</a>" in html and ">1 đang nhập</a>" in html
    assert ">1 chưa gửi</a>" in html
    assert '<td class="num">1.502</td>' in html  # 1.1 summed over two units: 2 + 1500
    for code in ("th-a", "th-b", "tt-ha"):
        assert f">{code}</a>" in html
    assert f"(1/{len(answered)})" in html  # th-b's progress
    for fmt in TYPES:
        assert f'href="/figures/export.{fmt}"' in html


async def test_a_unit_shows_its_own_table(coordinator, answered):
    html = (await coordinator.get("/figures", params={"unit": "TH-B"})).text
    assert '<h3>Đơn vị th-b <span class="muted">(th-b)</span></h3>' in html
    assert f"đang nhập</span>\n    ({1}/{len(answered)} mục)" in html
    assert '<td class="num">1.500</td>' in html
    unknown = await coordinator.get("/figures", params={"unit": "nope"})
    assert unknown.status_code == 200 and "card figures-unit" not in unknown.text


async def test_units_are_filtered_searched_and_paged(coordinator, env, answered):
    silent = (await coordinator.get("/figures", params={"status": "silent"})).text
    assert ">tt-ha</a>" in silent and ">th-a</a>" not in silent
    centre = (await coordinator.get("/figures", params={"type": "tthtcd"})).text
    assert ">tt-ha</a>" in centre and ">th-b</a>" not in centre
    found = (await coordinator.get("/figures", params={"q": "DON VI TH-B"})).text
    assert ">th-b</a>" in found and ">th-a</a>" not in found
    for params in ({"status": "x"}, {"from": "-1"}, {"from": "9" * 30}, {"type": "<b>"}):
        assert (await coordinator.get("/figures", params=params)).status_code == 200
    await crowd(env, 250)
    first = (await coordinator.get("/figures")).text
    assert "1–100 / 253" in first and "from=100" in first
    last = (await coordinator.get("/figures", params={"from": "200"})).text
    assert "201–253 / 253" in last and "from=100" in last


async def test_the_xlsx_download_holds_what_loa_export_writes(coordinator, env, answered):
    got = await coordinator.get("/figures/export.xlsx")
    assert got.status_code == 200
    assert got.headers["Content-Type"] == TYPES["xlsx"]
    assert got.headers["Content-Disposition"] == 'attachment; filename="tong-hop-lac-thuy.xlsx"'
    assert got.headers["Cache-Control"] == "no-store"
    web = openpyxl.load_workbook(io.BytesIO(got.content))
    cli = openpyxl.load_workbook(io.BytesIO(written(await gather(env), "xlsx")))
    assert web.sheetnames == cli.sheetnames
    assert len(web.sheetnames) == 4  # the totals and one sheet per unit
    for name in web.sheetnames:
        values = [[c.value for c in row] for row in web[name].iter_rows()]
        assert values == [[c.value for c in row] for row in cli[name].iter_rows()], name
    entries = await exported(env)
    assert [(e.detail["format"], e.detail["via"]) for e in entries] == [("xlsx", "web")]


async def test_the_csv_and_docx_downloads(coordinator, env, answered):
    for fmt in ("csv", "docx"):
        got = await coordinator.get(f"/figures/export.{fmt}")
        assert got.status_code == 200
        assert got.headers["Content-Type"] == TYPES[fmt]
        assert got.headers["Content-Disposition"].endswith(f'filename="tong-hop-lac-thuy.{fmt}"')
        assert got.content == written(await gather(env), fmt) or fmt == "docx"
    assert "th-b" in (await coordinator.get("/figures/export.csv")).content.decode("utf-8-sig")
    assert (await coordinator.get("/figures/export.pdf")).status_code == 404
    assert len(await exported(env)) == 3


async def test_without_a_session_nothing_is_shown_or_downloaded(client, env, answered):
    for path in ("/figures", "/figures/export.xlsx", "/figures/export.csv"):
        refused = await client.get(path)
        assert refused.status_code == 303
        assert refused.headers["location"] == "/dang-nhap"
    assert await exported(env) == []


# -- download links (/t/<token>) -------------------------------------------------------------------


async def test_a_download_link_serves_its_file_to_anyone_holding_it(client, env, answered):
    token = await signin.issue(env, ADMIN, TicketKind.DOWNLOAD, scope="/figures/export.csv")
    got = await client.get(f"/t/{token}")
    assert got.status_code == 200
    assert got.headers["Content-Type"] == TYPES["csv"]
    assert got.headers["Content-Disposition"] == 'attachment; filename="tong-hop-lac-thuy.csv"'
    assert got.content == written(await gather(env), "csv")
    again = await client.get(f"/t/{token}")  # 24 hours, not once: a link preview costs nothing
    assert again.status_code == 200
    entries = await exported(env)
    assert [(e.detail["format"], e.detail["via"]) for e in entries] == [("csv", "link")] * 2
    docx = await signin.issue(env, ADMIN, TicketKind.DOWNLOAD, scope="/figures/export.docx")
    assert (await client.get(f"/t/{docx}")).headers["Content-Type"] == TYPES["docx"]


async def test_an_unknown_or_expired_link_says_how_to_get_a_new_one(client, env, answered):
    token = await signin.issue(env, ADMIN, TicketKind.DOWNLOAD, scope="/figures/export.xlsx")
    sign_in = await signin.issue(env, ADMIN)  # a sign-in link opens no file
    elsewhere = await signin.issue(env, ADMIN, TicketKind.DOWNLOAD, scope="/units")
    for wrong in ("nope", sign_in, elsewhere, token[:-2]):
        refused = await client.get(f"/t/{wrong}")
        assert refused.status_code == 403
        assert "Gửi lệnh <code>/xuat</code>" in refused.text
    env.clock.at += signin.DOWNLOAD_LIFETIME + dt.timedelta(seconds=1)
    expired = await client.get(f"/t/{token}")
    assert expired.status_code == 403 and "hết hạn" in expired.text
    assert await exported(env) == []


async def test_a_link_of_someone_no_longer_a_coordinator_opens_nothing(client, env, answered):
    token = await signin.issue(env, "zalo:gone", TicketKind.DOWNLOAD, scope="/figures/export.xlsx")
    refused = await client.get(f"/t/{token}")
    assert refused.status_code == 403
    assert "không còn trong danh sách" in refused.text
    assert await exported(env, "zalo:gone") == []


# -- a campaign without a form ---------------------------------------------------------------------


class TestWithoutAForm:
    @pytest.fixture
    def env(self, env) -> Env:  # the conftest's env, without its form
        campaign = env.campaign.model_copy(update={"form": None})
        return Env(env.db, campaign, env.campaign_key, env.clock)

    async def test_the_page_says_there_is_no_table_and_downloads_are_not_found(
        self, coordinator, client, env
    ):
        overview = (await coordinator.get("/")).text
        assert "Chiến dịch này không có bảng số liệu." in overview
        html = (await coordinator.get("/figures")).text
        assert "không có bảng số liệu" in html
        assert "/figures/export.xlsx" not in html
        for fmt in TYPES:
            missing = await coordinator.get(f"/figures/export.{fmt}")
            assert missing.status_code == 404
            assert "Không có bảng số liệu" in missing.text
        token = await signin.issue(env, ADMIN, TicketKind.DOWNLOAD, scope="/figures/export.csv")
        coordinator.cookies.clear()
        assert (await client.get(f"/t/{token}")).status_code == 404
