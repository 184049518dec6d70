"""The web face's application and server: routes from each page's module, served in Loa's loop."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest

from bot.web import (
    announcements,
    auth,
    deliveries,
    downloads,
    figures,
    form,
    overview,
    photos,
    signin,
    units,
)
from bot.web.console import CONSOLE, Console

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
# Path segments that are secrets (sign-in and download links, a unit's form) never reach a log.
_SECRET_PATH = re.compile(r"^/(login|f|t)/[^/?]+")


def application(console: Console) -> web.Application:
    app = web.Application(
        middlewares=[auth.headers, units.too_large, auth.guard], client_max_size=units.UPLOAD_LIMIT
    )
    app[CONSOLE] = console
    app.add_routes(signin.routes)
    app.add_routes(deliveries.routes)
    app.add_routes(announcements.routes)
    app.add_routes(overview.routes)
    app.add_routes(figures.routes)
    app.add_routes(downloads.routes)
    app.add_routes(units.routes)
    app.add_routes(form.routes)
    app.add_routes(photos.routes)
    app.router.add_static("/static/", STATIC)
    return app


class AccessLog(AbstractAccessLogger):
    """One line per request, with the secret part of a link masked."""

    def log(self, request: BaseRequest, response: web.StreamResponse, time: float) -> None:
        path = _SECRET_PATH.sub(lambda m: f"/{m[1]}/…", request.path)
        self.logger.info("web %s %s %d %.0fms", request.method, path, response.status, time * 1000)


async def serve(console: Console, host: str, port: int) -> web.AppRunner:
    """Start serving; the caller cleans the runner up. A port that cannot be had raises the
    `OSError` (nothing is left behind)."""
    runner = web.AppRunner(application(console), access_log_class=AccessLog, access_log=log)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
