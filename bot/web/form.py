"""A unit's own form: `/f/<token>`, the link each unit gets in its chat.

No session: the link is the key, and its ticket carries the CSRF value the page's posts must
send back. Without JavaScript the page is one plain form that saves every row given; with
/static/form.js each row is saved as it is entered (`/f/<token>/row`, JSON with the row's HTML).
Figures are read and recorded as the chat's are (`bot.ops.figures.enter`), by `web:<unit code>`.
"""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.campaign.model import AnswerKind, Form, FormRow
from bot.ops import figures, photos, unitlinks
from bot.ops.figures import Entered
from bot.ops.unitlinks import Door, Refusal
from bot.stats.grammar import Value, grouped
from bot.web.console import CONSOLE
from bot.web.pages import page, pages

routes = web.RouteTableDef()

_STATUS = {Refusal.THROTTLED: 429, Refusal.UNKNOWN: 404}  # revoked, expired: gone


async def door_of(request: web.Request) -> Door | web.Response:
    env = request.app[CONSOLE].env
    opened = await unitlinks.open_form(
        env, request.match_info["token"], request.remote or "unknown"
    )
    if isinstance(opened, Refusal):
        status = _STATUS.get(opened, 410)
        return page(request, "form_refused", http_status=status, reason=str(opened))
    return opened


@routes.get("/f/{token}")
async def form_page(request: web.Request) -> web.StreamResponse:
    door = await door_of(request)
    if isinstance(door, web.Response):
        return door
    saved = request.query.get("luu", "")
    return await show(request, door, saved=int(saved) if saved.isdigit() else None)


@routes.post("/f/{token}")
async def save_all(request: web.Request) -> web.StreamResponse:
    """The page posted without its script: every row given, in one go."""
    door = await door_of(request)
    if isinstance(door, web.Response):
        return door
    posted = await request.post()
    if not _csrf_ok(request, posted, door):
        return page(request, "form_refused", http_status=403, reason="csrf")
    env = request.app[CONSOLE].env
    form = _form(request)
    given, confirmed = _given(form, posted)
    entered = await figures.enter(env, door.unit, given, door.author, confirmed)
    if not (entered.ack.refused or entered.unusual):
        raise web.HTTPSeeOther(f"{request.path}?luu={len(entered.ack.recorded)}")
    typed = {code: _typed(posted, row) for code, row in _rows(form).items()}
    return await show(request, door, entered, typed, http_status=422)


@routes.post("/f/{token}/row")
async def save_row(request: web.Request) -> web.StreamResponse:
    """One row, from the page's script: the row's HTML as it is now, and the page's status."""
    door = await door_of(request)
    if isinstance(door, web.Response):
        return web.json_response({"error": "link"}, status=door.status)
    posted = await request.post()
    if not _csrf_ok(request, posted, door):
        return web.json_response({"error": "csrf"}, status=403)
    form = _form(request)
    row = _rows(form).get(str(posted.get("row", "")))
    if row is None:
        return web.json_response({"error": "row"}, status=400)
    env = request.app[CONSOLE].env
    given, confirmed = _given(form, posted, only=row)
    entered = await figures.enter(env, door.unit, given, door.author, confirmed)
    values = await figures.values_of(env, door.unit)
    state = _states(entered).get(row.code)
    shown = _typed(posted, row) if state and state[0] != "saved" else _fields(values, row)
    macros: Any = pages().get_template("web/_form.html.j2").module
    return web.json_response(
        {
            "row": str(macros.row(row, shown, state)),
            "status": str(macros.status(entered.ack.missing, entered.ack.total)),
            "refused": bool(entered.ack.refused),
        },
        headers={"Cache-Control": "no-store"},
    )


async def show(
    request: web.Request,
    door: Door,
    entered: Entered | None = None,
    typed: dict[str, list[str]] | None = None,
    saved: int | None = None,
    http_status: int = 200,
    photo_refused: str | None = None,
) -> web.Response:
    """The unit's form page: its figures, and its photos (`photo_refused`: why the photo just
    sent was not kept)."""
    env = request.app[CONSOLE].env
    form = _form(request)
    values = await figures.values_of(env, door.unit)
    rows = [r for r in form.rows() if r.answer is not None]
    shown = {r.code: _fields(values, r) for r in rows}
    if typed:
        shown.update(typed)
    states = _states(entered) if entered else {}
    for code, (state, _) in states.items():
        if state == "saved":
            shown[code] = _fields(values, _rows(form)[code])
    missing = [r for r in rows if r.code not in values]
    return page(
        request,
        "form",
        http_status=http_status,
        door=door,
        form=form,
        shown=shown,
        states=states,
        missing=missing,
        total=len(rows),
        saved=saved,
        form_csrf=door.csrf,
        action=_form_path(request),
        photos=await photos.kept(env, door.unit.code),
        photo_limits=env.photos,
        tz=env.campaign.tz,
        photo_refused=photo_refused,
        photo_note=request.query.get("anh", ""),
    )


def _form_path(request: web.Request) -> str:
    return f"/f/{request.match_info['token']}"


def _states(entered: Entered) -> dict[str, tuple[str, Any]]:
    """What happened to each row posted: ("saved", entry), ("refused", refusal) or
    ("unusual", unusual)."""
    states: dict[str, tuple[str, Any]] = {}
    for entry in entered.ack.recorded:
        states[entry.row.code] = ("saved", entry)
    for refusal in entered.ack.refused:
        states[refusal.code] = ("refused", refusal)
    for unusual in entered.unusual:
        states[unusual.row.code] = ("unusual", unusual)
    return states


def _csrf_ok(request: web.Request, posted: MultiDictProxy[Any], door: Door) -> bool:
    given = request.headers.get("X-CSRF-Token")
    if given is None:
        field = posted.get("csrf")
        given = field if isinstance(field, str) else ""
    return hmac.compare_digest(given.encode(), door.csrf.encode())


def _given(
    form: Form, posted: MultiDictProxy[Any], only: FormRow | None = None
) -> tuple[list[tuple[str, str]], frozenset[str]]:
    """The `(code, text)` of each row given a figure (a pair's two fields joined: one alone is
    half a pair), and the rows whose unusual figure the unit confirmed."""
    given = []
    rows = [only] if only else [r for r in form.rows() if r.answer is not None]
    for row in rows:
        parts = [part.strip() for part in _typed(posted, row)]
        if not any(parts):
            continue
        given.append((row.code, "/".join(p for p in parts if p)))
    confirmed = frozenset(r.code for r in rows if posted.get(f"ok:{r.code}"))
    return given, confirmed


def _typed(posted: MultiDictProxy[Any], row: FormRow) -> list[str]:
    names = [f"v:{row.code}:1", f"v:{row.code}:2"] if _pair(row) else [f"v:{row.code}"]
    return [str(posted.get(name, "")) for name in names]


def _fields(values: dict[str, Value], row: FormRow) -> list[str]:
    """The row's fields as the page shows the unit's value: `1.500.000`, a pair's two numbers."""
    value = values.get(row.code)
    if isinstance(value, str):
        return [value]
    if value is None:
        return ["", ""] if _pair(row) else [""]
    return [grouped(number) for number in value]


def _pair(row: FormRow) -> bool:
    return row.answer is AnswerKind.PAIR


def _form(request: web.Request) -> Form:
    form = request.app[CONSOLE].env.campaign.form
    if form is None:
        raise web.HTTPNotFound(text="Chiến dịch này không có mẫu số liệu.")
    return form


def _rows(form: Form) -> dict[str, FormRow]:
    return {row.code: row for row in form.rows() if row.answer is not None}
