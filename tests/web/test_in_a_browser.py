"""The console in a real browser: what a coordinator sees and clicks."""

from bot.ops import signin
from tests.web.conftest import ADMIN


async def test_a_coordinator_follows_the_link_presses_the_button_and_is_in(browser, web, env):
    token = await signin.issue(env, ADMIN)
    page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    await page.goto(f"{web}/login/{token}")
    assert await page.title() == "Đăng nhập · Loa"
    await page.click("text=Vào trang quản lý")
    await page.wait_for_url(f"{web}/")
    cookies = await page.context.cookies()
    session = next(c for c in cookies if c["name"] == "loa_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    await page.goto(f"{web}/deliveries")
    assert await page.inner_text("h1") == "Tin nhắn theo lịch"
    await page.click("text=Đăng xuất")
    await page.wait_for_url(f"{web}/dang-nhap")
    await page.goto(f"{web}/deliveries")
    assert page.url == f"{web}/dang-nhap"  # signed out: back to the help


async def test_a_spent_link_tells_how_to_get_another(browser, web, env):
    token = await signin.issue(env, ADMIN)
    page = await browser.new_page()
    await page.goto(f"{web}/login/{token}")
    await page.click("text=Vào trang quản lý")
    again = await browser.new_page()
    await again.goto(f"{web}/login/{token}")
    await again.click("text=Vào trang quản lý")
    assert "đã được dùng" in await again.inner_text("main")
    assert "/quanly" in await again.inner_text("main")
