"""Who is asking: the session cookie, the API's bearer token, the forms' CSRF token.

Every page needs a coordinator's session except the sign-in pages and a unit's own form; the API
also takes `Authorization: Bearer $LOA_API_TOKEN`. Without either, pages send the visitor to the
sign-in help and the API answers 401. Every POST carries the session's CSRF token.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.ops import signin
from bot.web.console import CONSOLE, VISITOR
from bot.web.pages import page

COOKIE = "loa_session"
HELP = "/dang-nhap"
OPEN = ("/login/", "/f/", "/t/", HELP, "/static/")  # reachable without a session
API = "/api/"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    console = request.app[CONSOLE]
    token = request.cookies.get(COOKIE)
    visitor = await signin.visitor(console.env, token, console.coordinators) if token else None
    if visitor is not None:
        request[VISITOR] = visitor
    if request.path.startswith(OPEN):
        return await handler(request)
    if visitor is None:
        if request.path.startswith(API) and _bearer_ok(request, console.api_token):
            return await handler(request)
        if request.path.startswith(API):
            raise web.HTTPUnauthorized(
                text='{"error": "unauthorized"}', content_type="application/json"
            )
        raise web.HTTPSeeOther(HELP)
    if request.method == "POST" and not await _csrf_ok(request, visitor.csrf):
        return page(request, "refused", http_status=403, reason="csrf")
    return await handler(request)


def _bearer_ok(request: web.Request, expected: str | None) -> bool:
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    if not expected or scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), expected.encode())


async def _csrf_ok(request: web.Request, expected: str) -> bool:
    """The form's `csrf` field (or the `X-CSRF-Token` header of a script's request)."""
    given = request.headers.get("X-CSRF-Token")
    if given is None:
        form = await request.post()  # read once; aiohttp keeps it for the handler
        field = form.get("csrf")
        given = field if isinstance(field, str) else ""
    return hmac.compare_digest(given.encode(), expected.encode())


@web.middleware
async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """What every answer says to the browser: nothing from elsewhere, not in a frame, and no
    address (which may hold a token) passed on to another site."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
        _secure(response)
        raise
    _secure(response)
    return response


def _secure(response: web.StreamResponse) -> None:
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'",
    )
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
