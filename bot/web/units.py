"""/units: every unit with its registration code, chats and figures; a printable sheet of the
codes; a units file uploaded with the command line's checks."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.errors import Problem
from bot.messages import describe
from bot.ops import unitlinks, units
from bot.ops.units import Filter, UnitState
from bot.stats.table import Completion
from bot.web.auth import Handler
from bot.web.console import CONSOLE, VISITOR, units_of
from bot.web.pages import page

routes = web.RouteTableDef()

PAGE = 100  # units a page shows; a province has thousands
UPLOAD_LIMIT = 8 * 2**20  # bytes a request may carry (the console's `client_max_size`)
SEARCH_LENGTH = 100


@routes.get("/units")
async def roster(request: web.Request) -> web.StreamResponse:
    env = request.app[CONSOLE].env
    everyone = await units.roster(env, units_of(request))
    chosen = _filter(request, everyone)
    kept = chosen.keep(everyone)
    offset = _offset(request.query.get("from"), len(kept))
    return page(
        request,
        "units",
        units=kept[offset : offset + PAGE],
        total=len(kept),
        everyone=len(everyone),
        offset=offset,
        page=PAGE,
        chosen=chosen,
        query=_query(chosen),
        **_choices(request, everyone),
    )


@routes.get("/units/codes")
async def code_sheet(request: web.Request) -> web.StreamResponse:
    env = request.app[CONSOLE].env
    everyone = await units.roster(env, units_of(request))
    chosen = _filter(request, everyone)
    return page(
        request,
        "units_codes",
        units=chosen.keep(everyone),
        chosen=chosen,
        query=_query(chosen),
        **_choices(request, everyone),
    )


@routes.post("/units/{code}/reset-link")
async def reset_link(request: web.Request) -> web.StreamResponse:
    """End every link of the unit to its form on the web (one was passed around)."""
    env = request.app[CONSOLE].env
    code = request.match_info["code"]
    unit = await unitlinks.reset(env, code, request[VISITOR].holder, units_of(request))
    return page(request, "units_link_reset", http_status=200 if unit else 404, unit=unit, code=code)


@routes.post("/units/upload")
async def upload(request: web.Request) -> web.StreamResponse:
    env = request.app[CONSOLE].env
    form = await request.post()  # already read by the guard, for its CSRF token
    sent = form.get("file")
    if not isinstance(sent, web.FileField) or not sent.filename:
        return page(request, "units_upload", http_status=400, refused="no_file", upload=None)
    data = await asyncio.to_thread(sent.file.read)
    holder = request[VISITOR].holder
    done = await units.import_upload(env, data, sent.filename, holder, units_of(request))
    return page(
        request,
        "units_upload",
        http_status=200 if done.result else 400,
        refused=done.refused,
        upload=done,
        problems=[(p.line, _worded(p)) for p in done.problems],
    )


@web.middleware
async def too_large(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A units file over the console's limit (`client_max_size`) is refused in words, not by
    aiohttp's bare 413: the guard reads the form (for its CSRF token) before any handler runs.
    Other pages keep the bare 413 (nothing else of theirs takes a file)."""
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        if request.get(VISITOR) is None or request.path != "/units/upload":
            raise
        return page(
            request,
            "units_upload",
            http_status=413,
            refused="too_big",
            upload=None,
            limit=UPLOAD_LIMIT // 2**20,
        )


def _worded(problem: Problem) -> str:
    """The problem's Vietnamese wording, without the `FILE:LINE:` the command line puts first."""
    return describe(dataclasses.replace(problem, file=None))


def _filter(request: web.Request, everyone: list[UnitState]) -> Filter:
    """The filter the address asks for; a value that names nothing is left out."""
    query = request.query
    audiences = request.app[CONSOLE].env.campaign.audiences
    kinds = {unit.type for unit in everyone} | {audience.code for audience in audiences}
    parents = {unit.parent for unit in everyone if unit.parent}
    registered = {"yes": True, "no": False}.get(query.get("registered", ""))
    figures = {str(c): c for c in Completion}.get(query.get("figures", ""))
    kind = query.get("type")
    parent = query.get("parent")
    return Filter(
        search=query.get("q", "")[:SEARCH_LENGTH].strip(),
        type=kind if kind in kinds else None,
        parent=parent if parent in parents else None,
        registered=registered,
        figures=figures,
    )


def _query(chosen: Filter) -> str:
    """The filter as an address's query, for the pager and the code sheet's link."""
    given = {
        "q": chosen.search,
        "type": chosen.type or "",
        "parent": chosen.parent or "",
        "registered": {True: "yes", False: "no", None: ""}[chosen.registered],
        "figures": str(chosen.figures or ""),
    }
    return urlencode({key: value for key, value in given.items() if value})


def _choices(request: web.Request, everyone: list[UnitState]) -> dict[str, Any]:
    """What the filter's lists offer: the campaign's unit types (then any other a unit has), by
    their names, and every parent named."""
    campaign = request.app[CONSOLE].env.campaign
    names = {audience.code: audience.name for audience in campaign.audiences}
    for unit in everyone:
        names.setdefault(unit.type, unit.type)
    return {
        "types": names,
        "parents": sorted({unit.parent for unit in everyone if unit.parent}),
        "has_form": campaign.form is not None,
        "campaign": campaign,
    }


def _offset(given: str | None, total: int) -> int:
    if not given or not given.isdigit() or len(given) > 8:
        return 0
    offset = int(given) // PAGE * PAGE
    return offset if offset < total else 0
