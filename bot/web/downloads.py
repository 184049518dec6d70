"""The export's downloads: /figures/export.<format> for a session, and /t/<token> for a download
link `/xuat` gave in a chat (24 hours, for its coordinator)."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import quote

from aiohttp import web

from bot.documents.formats import FORMATS, written
from bot.ops import exports, signin
from bot.ops.env import Env
from bot.ops.figures import gather
from bot.web.console import CONSOLE, VISITOR
from bot.web.pages import NO_STORE, page

routes = web.RouteTableDef()

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def scope(fmt: str) -> str:
    """The path a download link opens (its ticket's scope)."""
    return f"/figures/export.{fmt}"


@routes.get("/figures/export.{fmt}")
async def download(request: web.Request) -> web.StreamResponse:
    fmt = request.match_info["fmt"]
    if fmt not in FORMATS:
        raise web.HTTPNotFound()
    return await _served(request, request.app[CONSOLE].env, fmt, request[VISITOR].holder, "web")


@routes.get("/t/{token}")
async def link(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    token = request.match_info["token"]
    for fmt in FORMATS:
        holder = await signin.download(console.env, token, scope(fmt))
        if holder is None:
            continue
        if holder not in console.coordinators:
            return page(request, "downloads_refused", http_status=403, reason="not_coordinator")
        return await _served(request, console.env, fmt, holder, "link")
    return page(request, "downloads_refused", http_status=403, reason="unknown")


async def _served(
    request: web.Request, env: Env, fmt: str, actor: str, via: str
) -> web.StreamResponse:
    """The table of `actor`'s units as `fmt`, written off the event loop (seconds for a
    province), audited."""
    if env.campaign.form is None:
        return page(request, "downloads_no_form", http_status=404)
    units = request.app[CONSOLE].scope_of(actor)
    export = await gather(env, units)
    content = await asyncio.to_thread(written, export, fmt)
    await exports.exported(env, actor, fmt, via, len(export.sheets))
    return web.Response(
        body=content,
        content_type=CONTENT_TYPES[fmt],
        charset="utf-8" if fmt == "csv" else None,
        headers={
            **NO_STORE,
            "Content-Disposition": disposition(exports.file_name(env, fmt, units)),
        },
    )


def disposition(name: str) -> str:
    """`attachment; filename="NAME"`; a name beyond plain ASCII (a campaign file named in
    Vietnamese) goes as UTF-8 too, with an ASCII stand-in for old browsers."""
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    if plain == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"
