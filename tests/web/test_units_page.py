"""/units: the roster with its search, filters and pages; the printable code sheet; a units file
uploaded with the command line's checks."""

import io
import re

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from bot.campaign.units import Unit as CsvUnit
from bot.ops import figures, units
from bot.stats.table import answerable
from bot.store.models import AuditEntry, Unit
from bot.web.units import PAGE, UPLOAD_LIMIT
from tests.ops.support import bound
from tests.web.conftest import ADMIN


@pytest.fixture
async def roster(env):
    """Three units: one registered on Telegram with every figure, one whose group removed the
    bot, one never registered."""
    rows = [
        CsvUnit("th-lt", "Trường Tiểu học Lạc Thủy", "truong-hoc", "Xã Đồng Tâm"),
        CsvUnit("th-dt", "Trường Tiểu học Đồng Tâm", "truong-hoc", "Xã Đồng Tâm"),
        CsvUnit("tt-cn", "TTHTCĐ thị trấn Chi Nê", "tthtcd", "Thị trấn Chi Nê"),
    ]
    await units.import_units(env.db, rows, "units.csv", "test")
    lt = await bound(env, "th-lt", "-1001")
    await bound(env, "th-dt", "-1002", active=False)
    items = [row.code for row in answerable(env.campaign.form)]
    await figures.record(env, lt, [(code, "không") for code in items], "telegram:1")
    return {unit.code: unit for unit in await units.roster(env)}


def shown_units(html):
    """The unit codes the roster's table shows, in order."""
    return re.findall(r'<br><span class="muted">([\w.-]+)</span></td>', html)


async def test_the_roster_shows_types_parents_codes_chats_and_figures(coordinator, roster):
    shown = await coordinator.get("/units")
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    html = shown.text
    assert shown_units(html) == ["th-dt", "th-lt", "tt-cn"]
    assert "Các trường học trực thuộc Phòng Giáo dục và Đào tạo</td>" in html
    assert "Các Trung tâm học tập cộng đồng các xã, thị trấn</td>" in html
    for unit in roster.values():
        assert f'<code class="regcode">{unit.registration_code}</code>' in html
    assert 'nhóm “Nhóm th-lt” (Telegram): <span class="ok">đang hoạt động</span>' in html
    assert 'nhóm “Nhóm th-dt” (Telegram): <span class="bad">bot đã bị xóa</span>' in html
    assert html.count("Chưa đăng ký</span>") == 1  # tt-cn; th-dt needs to register again
    assert '<td class="fig ok" data-label="Số liệu">Đủ số liệu</td>' in html
    assert html.count('<td class="fig bad" data-label="Số liệu">Chưa gửi</td>') == 2
    assert "3 đơn vị" in html
    assert 'enctype="multipart/form-data"' in html and 'name="csrf"' in html


@pytest.mark.parametrize(
    ("params", "codes"),
    [
        ({"q": "lac thuy"}, ["th-lt"]),
        ({"q": "LẠC thủy"}, ["th-lt"]),
        ({"q": "dong tam"}, ["th-dt"]),
        ({"q": "TT-CN"}, ["tt-cn"]),
        ({"type": "tthtcd"}, ["tt-cn"]),
        ({"parent": "Xã Đồng Tâm"}, ["th-dt", "th-lt"]),
        ({"registered": "yes"}, ["th-lt"]),
        ({"registered": "no"}, ["th-dt", "tt-cn"]),
        ({"figures": "complete"}, ["th-lt"]),
        ({"figures": "silent", "type": "truong-hoc"}, ["th-dt"]),
        ({"figures": "partial"}, []),
        # what names nothing is left out
        ({"type": "dai-hoc", "parent": "Hà Nội", "registered": "maybe", "figures": "x"}, None),
        ({"from": "-5"}, None),
        ({"from": "9" * 40}, None),
        ({"q": "'; drop table units; --" * 20}, []),
    ],
)
async def test_search_and_filters(coordinator, roster, params, codes):
    shown = await coordinator.get("/units", params=params)
    assert shown.status_code == 200
    assert shown_units(shown.text) == (["th-dt", "th-lt", "tt-cn"] if codes is None else codes)
    if codes == []:
        assert "Không có đơn vị nào khớp bộ lọc." in shown.text


async def test_a_filtered_roster_links_its_code_sheet_with_the_same_filter(coordinator, roster):
    html = (await coordinator.get("/units", params={"q": "tieu hoc", "registered": "no"})).text
    assert "1 / 3 đơn vị khớp bộ lọc" in html
    link = re.search(r'<a href="(/units/codes[^"]*)">In phiếu mã', html)[1]
    assert link == "/units/codes?q=tieu+hoc&amp;registered=no"
    sheet = (await coordinator.get(link.replace("&amp;", "&"))).text
    code = roster["th-dt"].registration_code
    assert sheet.count('<article class="codeslip">') == 1
    assert f"<b>{code}</b>" in sheet
    assert f"<code>/dangky {code}</code>" in sheet  # a private chat, and a Telegram group
    assert f"<code>@Loa /dangky {code}</code>" in sheet  # a Zalo group
    assert "Mã đơn vị: th-dt · Xã Đồng Tâm" in sheet


async def test_the_code_sheet_has_a_slip_per_unit_and_prints_on_a4(coordinator, roster):
    sheet = await coordinator.get("/units/codes")
    assert sheet.status_code == 200
    assert sheet.text.count('<article class="codeslip">') == 3
    css = (await coordinator.get("/static/loa.css")).text
    assert "size: A4" in css and "break-inside: avoid" in css


async def test_thousands_of_units_come_a_page_at_a_time(coordinator, env):
    rows = [CsvUnit(f"u{n:04}", f"Đơn vị {n}", "truong-hoc") for n in range(PAGE * 2 + 50)]
    await units.import_units(env.db, rows, "units.csv", "test")
    first = (await coordinator.get("/units")).text
    assert shown_units(first) == [f"u{n:04}" for n in range(PAGE)]
    assert f'href="?from={PAGE}">Sau →' in first
    last = (await coordinator.get("/units", params={"from": str(PAGE * 2)})).text
    assert shown_units(last) == [f"u{n:04}" for n in range(PAGE * 2, PAGE * 2 + 50)]
    assert "Sau →" not in last and f'href="?from={PAGE}">← Trước' in last
    assert f"{PAGE * 2 + 1}–{PAGE * 2 + 50} / {PAGE * 2 + 50}" in last
    searched = (await coordinator.get("/units", params={"q": "đơn vị 1", "from": "100"})).text
    assert 'href="?q=%C4%91%C6%A1n+v%E1%BB%8B+1&amp;from=0">← Trước' in searched


# -- uploads -----------------------------------------------------------------------------------

GOOD = "code,name,type,parent\nth-a,Trường A,truong-hoc,Xã Đồng Tâm\ntt-b,TTHTCĐ B,tthtcd,\n"


def upload(client, data, name="don-vi.csv", csrf=None):
    form = {} if csrf is False else {"csrf": csrf or client.csrf}
    return client.post("/units/upload", data=form, files={"file": (name, data)})


async def count_units(env):
    async with env.db.session() as session:
        return await session.scalar(select(func.count()).select_from(Unit))


async def audited(env):
    async with env.db.session() as session:
        return [
            (entry.actor, entry.action, entry.detail)
            for entry in await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "units_import")
            )
        ]


async def test_a_good_csv_is_imported_with_its_counts_and_who_sent_it(coordinator, env):
    done = await upload(coordinator, GOOD.encode())
    assert done.status_code == 200
    assert (
        "Đã nạp don-vi.csv</b>: 2 đơn vị mới, 0 đơn vị cập nhật, 0 đơn vị không đổi." in done.text
    )
    assert await count_units(env) == 2
    assert await audited(env) == [
        (ADMIN, "units_import", {"file": "don-vi.csv", "created": 2, "updated": 0, "unchanged": 0})
    ]
    again = await upload(coordinator, GOOD.replace("TTHTCĐ B", "TTHTCĐ xã B").encode())
    assert "0 đơn vị mới, 1 đơn vị cập nhật, 1 đơn vị không đổi." in again.text


async def test_a_good_workbook_is_imported(coordinator, env):
    book = Workbook()
    for row in [("Code", "Name", "Type"), ("th-a", "Trường A", "truong-hoc")]:
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    done = await upload(coordinator, data.getvalue(), "Danh sách.xlsx")
    assert "Đã nạp Danh sách.xlsx</b>: 1 đơn vị mới" in done.text
    assert await count_units(env) == 1


async def test_each_bad_line_is_shown_and_nothing_is_written(coordinator, env):
    bad = (
        "code,name,type\n"
        "th-a,Trường A,truong-hoc\n"
        "=cmd,Trường B,truong-hoc\n"
        "th-c,Trường C,truong-hoc\n"
        "th-d,Trường D,dai-hoc\n"
    )
    done = await upload(coordinator, bad.encode())
    assert done.status_code == 400
    html = done.text
    assert "Tệp don-vi.csv có 2 lỗi, Loa chưa ghi gì." in html
    lines = re.findall(r'<tr><td class="num">(\d+)</td><td>([^<]*)</td></tr>', html)
    assert [line for line, _ in lines] == ["3", "5"]
    assert lines[0][1].startswith("mã đơn vị “=cmd” không hợp lệ")
    assert lines[1][1].startswith("loại đơn vị “dai-hoc” không có trong audiences")
    assert await count_units(env) == 0 and await audited(env) == []


@pytest.mark.parametrize(
    ("data", "name", "said"),
    [
        (b"", "don-vi.csv", "Tệp don-vi.csv trống."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "anh.png", "không phải bảng tính"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "a.pdf", "dòng tiêu đề thiếu cột"),
        (b"\xd0\xcf\x11\xe0" + bytes(600), "cu.xls", "Excel 97-2003 (.xls)"),
        (b"PK\x03\x04 not really a zip", "hong.xlsx", "không phải tệp Excel .xlsx đọc được"),
    ],
)
async def test_what_is_not_a_units_file_is_refused_in_words(coordinator, env, data, name, said):
    done = await upload(coordinator, data, name)
    assert done.status_code == 400
    assert said in done.text
    assert "Không có gì thay đổi" in done.text
    assert await count_units(env) == 0


async def test_a_form_without_a_file_asks_for_one(coordinator):
    done = await coordinator.post("/units/upload", data={"csrf": coordinator.csrf})
    assert done.status_code == 400 and "Chưa chọn tệp." in done.text


async def test_a_file_over_the_limit_is_refused_in_words(coordinator, env):
    data = GOOD.encode() + b"x" * UPLOAD_LIMIT
    done = await upload(coordinator, data)
    assert done.status_code == 413
    assert "Tệp quá lớn</b> (tối đa 8 MB)" in done.text
    assert done.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert await count_units(env) == 0


async def test_without_the_form_token_nothing_is_written(coordinator, env):
    for csrf in ("stale", False):
        refused = await upload(coordinator, GOOD.encode(), csrf=csrf)
        assert refused.status_code == 403
    assert await count_units(env) == 0 and await audited(env) == []


async def test_without_a_session_nothing_is_shown_or_written(client, env, roster):
    for path in ("/units", "/units/codes", "/units?q=lac"):
        shown = await client.get(path)
        assert (shown.status_code, shown.headers["location"]) == (303, "/dang-nhap")
    sent = await client.post(
        "/units/upload", data={"csrf": "x"}, files={"file": ("a.csv", GOOD.encode())}
    )
    assert sent.status_code == 303
    big = await client.post("/units/upload", files={"file": ("a.csv", b"x" * (UPLOAD_LIMIT + 1))})
    assert big.status_code == 303  # refused before the file is read
    assert await count_units(env) == 3
    assert [actor for actor, _, _ in await audited(env)] == ["test"]  # the fixture's import only
