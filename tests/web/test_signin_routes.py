"""Signing in to the console: one-time links, sessions, sign-out, CSRF, the headers."""

from bot.ops import signin
from tests.web.conftest import ADMIN, csrf_of


async def test_a_link_shows_a_button_and_is_not_spent_by_a_preview(client, env):
    token = await signin.issue(env, ADMIN)
    for _ in range(3):  # chat apps fetch addresses for their previews
        shown = await client.get(f"/login/{token}")
        assert shown.status_code == 200
        assert "Vào trang quản lý" in shown.text
    signed = await client.post(f"/login/{token}")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/"
    cookie = signed.headers["set-cookie"]
    assert "loa_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Max-Age=43200" in cookie
    assert "Secure" not in cookie  # the public address here is http


async def test_a_used_link_says_so_and_how_to_get_another(client, env):
    token = await signin.issue(env, ADMIN)
    assert (await client.post(f"/login/{token}")).status_code == 303
    again = await client.post(f"/login/{token}")
    assert again.status_code == 403
    assert "đã được dùng" in again.text
    assert "/quanly" in again.text
    assert "loa_session" not in again.headers.get("set-cookie", "")


async def test_an_expired_link_says_so(client, env):
    token = await signin.issue(env, ADMIN)
    env.clock.at += signin.LINK_LIFETIME
    refused = await client.post(f"/login/{token}")
    assert refused.status_code == 403
    assert "đã hết hạn" in refused.text


async def test_a_wrong_link_is_refused(client):
    refused = await client.post("/login/not-a-token")
    assert refused.status_code == 403
    assert "không đúng" in refused.text


async def test_without_a_session_pages_go_to_the_help_and_the_api_says_401(client):
    for path in ("/", "/units", "/figures", "/figures/export.xlsx"):
        answer = await client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/dang-nhap"
    api = await client.get("/api/progress")
    assert api.status_code == 401
    assert api.json() == {"error": "unauthorized"}
    bad = await client.get("/api/progress", headers={"Authorization": "Bearer wrong"})
    assert bad.status_code == 401
    help_page = await client.get("/dang-nhap")
    assert help_page.status_code == 200
    assert "/quanly" in help_page.text


async def test_a_forged_session_cookie_is_no_session(client):
    client.cookies.set("loa_session", "forged")
    assert (await client.get("/")).status_code == 303


async def test_sign_out_needs_the_form_token_and_ends_the_session(client, env):
    token = await signin.issue(env, ADMIN)
    signed = await client.post(f"/login/{token}")
    session = signed.cookies["loa_session"]
    refused = await client.post("/logout", data={"csrf": "wrong"})
    assert refused.status_code == 403
    assert await signin.visitor(env, session, frozenset({ADMIN})) is not None
    help_page = await client.get("/dang-nhap")  # any page the session sees carries the token
    out = await client.post("/logout", data={"csrf": csrf_of(help_page.text)})
    assert out.status_code == 303
    assert await signin.visitor(env, session, frozenset({ADMIN})) is None


async def test_every_answer_forbids_frames_other_origins_and_referrers(client):
    for answer in (await client.get("/dang-nhap"), await client.get("/")):
        assert answer.headers["x-frame-options"] == "DENY"
        assert "default-src 'self'" in answer.headers["content-security-policy"]
        assert answer.headers["referrer-policy"] == "no-referrer"
