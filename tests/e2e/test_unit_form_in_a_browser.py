"""A unit's own form on the web, end to end: the form's first message reaches a unit's Zalo
private chat with its link; a browser opens it and fills a pair, money and a refused figure,
row by row with the page's script; the chat's /xem and the export show what was entered."""

import asyncio
import datetime as dt
import io
import re

import httpx
from openpyxl import load_workbook

from bot.documents.formats import written
from bot.ops.figures import gather
from tests.e2e.conftest import VN
from tests.e2e.test_console_links import served as served  # the console beside Loa
from tests.e2e.test_console_links import unserved as unserved
from tests.e2e.test_console_links import zalo as zalo
from tests.e2e.test_zalo import clock as clock
from tests.e2e.test_zalo import parts_in

FORM_LINK = re.compile(r"Nhập nhanh trên web: (http://127\.0\.0\.1:\d+/f/[A-Za-z0-9_-]+)")


async def note(page, code: str, wanted: str) -> str:
    """The row's note once it says `wanted` (the script re-renders the row when saved)."""
    row = page.locator(f"[id='r-{code}'] .note")
    for _ in range(100):
        text = await row.inner_text()
        if wanted in text:
            return text
        await asyncio.sleep(0.05)
    raise AssertionError(f"row {code}: {await row.inner_text()!r}")


async def test_a_unit_fills_its_form_in_a_browser_from_the_link_in_its_chat(served, browser):
    director = served.person("Bà Hoa")
    code = await served.world.code_of("tthtcd-an-binh")
    assert (await director.asks(director.id, f"/dangky {code}")).startswith("✅")
    first, *rest = await parts_in(served.zalo, director.id)
    link = FORM_LINK.search(first["text"])
    assert link and link[1].startswith(served.address)
    assert not any("Nhập nhanh trên web" in part["text"] for part in rest)  # once, in the first

    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await page.goto(link[1])
    assert "Trung tâm học tập cộng đồng" in await page.inner_text("h1")
    await page.get_by_label("1.2 – lớp", exact=True).fill("3")
    await page.get_by_label("1.2 – người", exact=True).fill("120")
    await page.get_by_label("1.2 – người", exact=True).blur()
    await note(page, "1.2", "Đã lưu")
    money = page.get_by_label("10.1 – đồng", exact=True)
    await money.fill("1.500.000")
    await money.blur()
    await note(page, "10.1", "Đã lưu")
    count = page.get_by_label("1.1 – người", exact=True)
    await count.fill("-2")
    await count.blur()
    assert "số liệu không được âm" in await note(page, "1.1", "không được âm")
    view = await director.asks(director.id, "/xem")
    assert "1.1. " in view and "-2" not in view  # nothing saved
    count = page.get_by_label("1.1 – người", exact=True)  # the row was drawn again
    await count.fill("25")
    await count.blur()
    await note(page, "1.1", "Đã lưu")
    assert "Còn thiếu" in await page.inner_text("#status")

    view = await director.asks(director.id, "/xem")
    assert "3 lớp, 120 người" in view and "1.500.000 đồng" in view and ": 25" in view
    exported = written(await gather(served.world.loa.env), "xlsx")
    sheet = load_workbook(io.BytesIO(exported)).active
    cells = {cell.value for row in sheet.iter_rows() for cell in row}
    assert {1_500_000, 120, 25} <= cells

    await page.reload()  # what the unit entered, as the page shows it afresh
    assert await page.get_by_label("10.1 – đồng", exact=True).input_value() == "1.500.000"
    assert await page.get_by_label("1.2 – lớp", exact=True).input_value() == "3"


async def test_nhaplieu_sends_the_link_again_in_a_registered_chat_only(served):
    director = served.person("Bà Hoa")
    stranger = served.person("Người lạ")
    assert (await stranger.asks(stranger.id, "/nhaplieu")).startswith("Cuộc trò chuyện này chưa")
    code = await served.world.code_of("tthtcd-an-binh")
    assert (await director.asks(director.id, f"/dangky {code}")).startswith("✅")
    await parts_in(served.zalo, director.id)
    reply = await director.asks(director.id, "/nhaplieu")
    assert reply.startswith("📝 Nhập số liệu của Trung tâm học tập cộng đồng")
    assert "Thứ Tư, 18/10/2023" in reply  # a week after the report's deadline
    link = re.search(r"(http://127\.0\.0\.1:\d+/f/[A-Za-z0-9_-]+)", reply)
    assert link and link[1].startswith(served.address)


async def test_nhaplieu_with_the_web_off_says_to_answer_in_the_chat(unserved):
    director = unserved.person("Bà Hoa")
    code = await unserved.world.code_of("tthtcd-an-binh")
    assert (await director.asks(director.id, f"/dangky {code}")).startswith("✅")
    parts = await parts_in(unserved.zalo, director.id)
    assert not any("Nhập nhanh trên web" in part["text"] for part in parts)
    reply = await director.asks(director.id, "/nhaplieu")
    assert reply.startswith("Trang nhập số liệu trên web đang tắt") and "/f/" not in reply


async def test_a_reminder_to_a_unit_with_missing_figures_brings_a_new_link(served):
    director = served.person("Bà Hoa")
    code = await served.world.code_of("tthtcd-an-binh")
    assert (await director.asks(director.id, f"/dangky {code}")).startswith("✅")
    first, *_ = await parts_in(served.zalo, director.id)
    before = len(served.zalo.sent(director.id))
    loa = served.world.loa
    loa.clock.at = dt.datetime(2023, 10, 10, 7, 5, tzinfo=VN)  # "còn 1 ngày" is due
    await loa.dispatcher.send_due()  # or the running sender, woken, sends it first
    await served.zalo.wait_sent(director.id, before + 1)
    [reminder] = [m["text"] for m in served.zalo.sent(director.id)[before:]]
    assert "📝 Đơn vị còn thiếu 37 mục số liệu" in reminder
    link = FORM_LINK.search(reminder)
    assert link and link[1] != FORM_LINK.search(first["text"])[1]  # a new one; both work
    async with httpx.AsyncClient() as client:
        for address in (link[1], FORM_LINK.search(first["text"])[1]):
            page = await client.get(address)
            assert page.status_code == 200 and "Trung tâm học tập cộng đồng" in page.text
