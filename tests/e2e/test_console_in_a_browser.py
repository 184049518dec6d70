"""A coordinator's morning in the console, in a real browser beside the real bot: a link from
/quanly signs in; units register and answer in their Telegram groups and the overview follows; an
announcement composed on the page reaches every registered group once; the XLSX downloaded from
/figures has the cells `loa export` writes."""

import asyncio
import io

from openpyxl import load_workbook

from bot.documents.formats import written
from bot.ops.figures import gather
from tests.e2e.test_console_links import LOGIN
from tests.e2e.test_console_links import clock as clock  # 09/10/2023: the report window
from tests.e2e.test_console_links import served as served  # Loa with its console
from tests.e2e.test_console_links import zalo as zalo

UNITS = ("th-chi-ne", "thcs-chi-ne")
NEWS = "Phòng họp trực tuyến lúc 14h00 hôm nay, đề nghị các đơn vị tham dự đầy đủ."


def cells(content: bytes) -> dict[str, list[tuple[object, ...]]]:
    book = load_workbook(io.BytesIO(content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book}


async def test_a_coordinator_follows_the_week_sends_news_and_takes_the_table(served, browser):
    world = served.world
    reply = await world.coordinator.asks(world.coordinator.id, "/quanly")
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(LOGIN.search(reply)[0])
    await page.click("text=Vào trang quản lý")
    await page.wait_for_url(f"{served.address}/")

    registered = page.locator(".tile", has_text="đã đăng ký nhóm nhận tin").locator("b")
    partial = page.locator(".tile", has_text="đơn vị đang nhập").locator("b")
    total = (await registered.inner_text()).split("/")[1]
    assert await registered.inner_text() == f"0/{total}"
    principal = world.person("Thầy Hùng")
    groups = {}
    for code in UNITS:
        groups[code] = await world.group(f"Nhóm {code}", admins=(principal,))
        assert (await world.register(groups[code], code, principal)).startswith("✅")
    await principal.says(groups[UNITS[0]], "/baocao 1.1: 120")
    for _ in range(50):  # the page follows: as a coordinator would, reload until it shows
        await page.reload()
        if await partial.inner_text() == "1":
            break
        await asyncio.sleep(0.1)
    assert await partial.inner_text() == "1"
    assert await registered.inner_text() == f"2/{total}"

    await page.click("nav >> text=Thông báo")
    await page.fill("#text", NEWS)
    async with page.expect_navigation():
        await page.click("button:has-text('Xem trước')")
    assert NEWS in await page.inner_text("main")
    before = {code: len(world.sandbox.sent(chat)) for code, chat in groups.items()}
    async with page.expect_navigation():
        await page.click("button:has-text('Gửi tới 2 nhóm')")
    for code, chat in groups.items():  # other messages may come too (the form's parts)
        for _ in range(100):
            if any(NEWS in m.get("text", "") for m in world.sandbox.sent(chat)[before[code] :]):
                break
            await asyncio.sleep(0.05)
    await asyncio.sleep(1)  # long enough for a second copy, were one on its way
    for chat in groups.values():
        assert sum(NEWS in m.get("text", "") for m in world.sandbox.sent(chat)) == 1

    await page.click("nav >> text=Số liệu")
    async with page.expect_download() as downloading:
        await page.click("text=Excel (.xlsx)")
    download = await downloading.value
    assert download.suggested_filename == "tong-hop-lac-thuy-2023.xlsx"
    content = (await download.path()).read_bytes()
    exported = written(await gather(world.loa.env), "xlsx")  # what `loa export` writes
    assert cells(content) == cells(exported)
    assert any(120 in row for sheet in cells(content).values() for row in sheet)
