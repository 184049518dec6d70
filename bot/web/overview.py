"""/ (the overview) and /api/progress (its numbers for scripts and dashboards)."""

from __future__ import annotations

from aiohttp import web

from bot.ops import overview
from bot.web.console import CONSOLE, units_of
from bot.web.pages import NO_STORE, page

routes = web.RouteTableDef()

REFRESH = 60  # seconds between the page's own reloads


@routes.get("/")
async def home(request: web.Request) -> web.StreamResponse:
    env = request.app[CONSOLE].env
    found = await overview.overview(env, units_of(request))
    return page(
        request,
        "overview",
        campaign=env.campaign,
        overview=found,
        now=env.clock.now(),
        tz=env.campaign.tz,
        refresh=REFRESH,
    )


@routes.get("/api/progress")
async def api_progress(request: web.Request) -> web.StreamResponse:
    """`{"units", "registered", "complete", "partial", "silent", "deliveries": {...}}`."""
    found = await overview.totals(request.app[CONSOLE].env, units_of(request))
    return web.json_response(found, headers=NO_STORE)
