"""HTML pages from `messages/web/`: Jinja2 like every other text, escaped, with the chat texts'
date and figure helpers."""

from __future__ import annotations

from functools import cache
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.messages import MESSAGES_DIR, environment
from bot.web.console import VISITOR, units_of

# Pages must never be kept by a shared computer's browser or a proxy: they hold codes and figures.
NO_STORE = {"Cache-Control": "no-store"}


@cache
def pages() -> Environment:
    chat = environment()
    env = Environment(
        loader=FileSystemLoader(MESSAGES_DIR),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(chat.filters)
    env.tests.update(chat.tests)
    env.globals["f"] = env.get_template("_format.j2").module
    env.globals["a"] = env.get_template("_answers.j2").module  # the chat's refusals, reused
    return env


def page(
    request: web.Request, template: str, http_status: int = 200, **context: Any
) -> web.Response:
    """`messages/web/TEMPLATE.html.j2` as the answer, with who is signed in, the units they
    coordinate (`scope`) and their form token."""
    visitor = request.get(VISITOR)
    html = (
        pages()
        .get_template(f"web/{template}.html.j2")
        .render(
            visitor=visitor,
            scope=units_of(request),
            csrf=visitor.csrf if visitor else "",
            path=request.path,
            **context,
        )
    )
    return web.Response(
        text=html, status=http_status, content_type="text/html", charset="utf-8", headers=NO_STORE
    )
