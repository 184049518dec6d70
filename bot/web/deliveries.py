"""/deliveries: the timeline with each chat's status and why; a failed one sent again."""

from __future__ import annotations

from aiohttp import web

from bot.ops import deliveries
from bot.store.models import DeliveryStatus
from bot.web.console import CONSOLE, VISITOR, units_of
from bot.web.pages import page

routes = web.RouteTableDef()


@routes.get("/deliveries")
async def timeline(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    status = _status(request.query.get("status"))
    offset = _offset(request.query.get("from"))
    found = await deliveries.timeline(console.env, status, offset, scope=units_of(request))
    return page(
        request,
        "deliveries",
        timeline=found,
        status=status,
        offset=offset,
        page=deliveries.PAGE,
        tz=console.env.campaign.tz,
        notice=request.query.get("notice") if request.query.get("notice") in _NOTICES else None,
    )


@routes.post("/deliveries/{id:\\d+}/retry")
async def retry(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    outcome = await deliveries.retry(
        console.env, int(request.match_info["id"]), request[VISITOR].holder, units_of(request)
    )
    raise web.HTTPSeeOther(f"/deliveries?notice={outcome}")


_NOTICES = {str(outcome) for outcome in deliveries.Retry}


def _status(given: str | None) -> DeliveryStatus | None:
    """A status the filter names; anything else shows them all."""
    known = {str(status): status for status in DeliveryStatus}
    return known.get(given or "")


def _offset(given: str | None) -> int:
    return int(given) if given and given.isdigit() and len(given) < 9 else 0
