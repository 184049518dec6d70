"""Signing in with a one-time link, and out.

Following `/login/<token>` shows a page with one button; pressing it spends the link. A GET that
spent it would lose it to the link previews chat apps fetch for every address they show.
"""

from __future__ import annotations

from aiohttp import web

from bot.ops import signin
from bot.ops.signin import Refusal
from bot.web.auth import COOKIE
from bot.web.console import CONSOLE
from bot.web.pages import page

routes = web.RouteTableDef()


@routes.get("/login/{token}")
async def login_page(request: web.Request) -> web.StreamResponse:
    return page(request, "login", token=request.match_info["token"])


@routes.post("/login/{token}")
async def login(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    token = request.match_info["token"]
    started = await signin.sign_in(
        console.env, token, console.coordinators, request.remote or "unknown"
    )
    if isinstance(started, Refusal):
        status = 429 if started is Refusal.THROTTLED else 403
        return page(request, "login_refused", http_status=status, reason=str(started))
    response = web.HTTPSeeOther("/")
    response.set_cookie(
        COOKIE,
        started.token,
        max_age=int(signin.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=console.secure,
        path="/",
    )
    raise response


@routes.get("/dang-nhap")
async def help_page(request: web.Request) -> web.StreamResponse:
    return page(request, "signin_help")


@routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(COOKIE)
    if token:
        await signin.sign_out(request.app[CONSOLE].env, token)
    response = web.HTTPSeeOther("/dang-nhap")
    response.del_cookie(COOKIE, path="/")
    raise response
