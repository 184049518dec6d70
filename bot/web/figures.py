"""/figures: the totals table and each unit's figures, the numbers the export writes.

The totals are `Export.totals` laid out by `table.columns`, as the XLSX's totals sheet. Units are
listed 100 a page with their status, filtered by status, type or a search; `?unit=CODE` shows one
unit's table.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web

from bot.campaign.model import Form, FormRow
from bot.ops.figures import gather
from bot.stats import table
from bot.stats.export import Export
from bot.stats.grammar import grouped
from bot.stats.table import Cells, Completion, UnitSheet
from bot.web.console import CONSOLE, units_of
from bot.web.pages import page

routes = web.RouteTableDef()

PAGE = 100  # units a page lists


@dataclass(frozen=True)
class Line:
    """A row of the table as the page shows it."""

    row: FormRow
    heading: bool  # a section's row ("1", "2"): bold, as the official table prints it
    cells: Cells


@dataclass(frozen=True)
class Listed:
    sheet: UnitSheet
    completion: Completion
    answered: int


@routes.get("/figures")
async def figures_page(request: web.Request) -> web.StreamResponse:
    env = request.app[CONSOLE].env
    campaign = env.campaign
    if campaign.form is None:
        return page(request, "figures", campaign=campaign, form=None)
    form = campaign.form
    export = await gather(env, units_of(request))
    answerable = {row.code for row in table.answerable(form)}
    listed = [
        Listed(
            sheet,
            table.completion(form, sheet.answers),
            sum(code in answerable for code in sheet.answers),
        )
        for sheet in export.sheets
    ]
    status = _status(request.query.get("status"))
    kind = request.query.get("type", "")
    kind = kind if any(sheet.type == kind for sheet in export.sheets) else ""
    search = request.query.get("q", "").strip()[:100]
    kept = [
        unit
        for unit in listed
        if (status is None or unit.completion is status)
        and (not kind or unit.sheet.type == kind)
        and (not search or _matches(search, unit.sheet))
    ]
    offset = _offset(request.query.get("from"), len(kept))
    chosen = _chosen(request.query.get("unit", ""), listed)
    query = {"status": status or "", "type": kind, "q": search}
    return page(
        request,
        "figures",
        campaign=campaign,
        form=form,
        export=export,
        totals=_lines(form, export.totals),
        counts=export.counts,
        types=sorted({sheet.type for sheet in export.sheets}, key=_type_order(export)),
        units=kept[offset : offset + PAGE],
        kept=len(kept),
        offset=offset,
        page_size=PAGE,
        status=status,
        kind=kind,
        search=search,
        chosen=chosen,
        chosen_lines=_lines(form, chosen.sheet.answers) if chosen else [],
        items=len(answerable),
        link=lambda **changes: _link(query, changes),
        grouped=grouped,
    )


def _lines(form: Form, values: table.Answers) -> list[Line]:
    return [
        Line(
            row,
            "." not in row.code,
            table.columns(row, values.get(row.code)) if row.answer else (None, None, None),
        )
        for row in form.rows()
    ]


def _chosen(code: str, listed: list[Listed]) -> Listed | None:
    wanted = code.strip().lower()
    if not wanted:
        return None
    return next((unit for unit in listed if unit.sheet.code.lower() == wanted), None)


def _status(given: str | None) -> Completion | None:
    return {str(c): c for c in Completion}.get(given or "")


def _offset(given: str | None, total: int) -> int:
    offset = int(given) if given and given.isdigit() and len(given) < 9 else 0
    return offset if offset < total else 0


def _type_order(export: Export) -> Callable[[str], tuple[int, str]]:
    order = {audience.code: index for index, audience in enumerate(export.campaign.audiences)}
    return lambda code: (order.get(code, len(order)), code)


def _folded(text: str) -> str:
    """Lower case without diacritics: "truong" finds "Trường", as people type on a phone."""
    text = text.casefold().replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _matches(search: str, sheet: UnitSheet) -> bool:
    wanted = _folded(search)
    return wanted in _folded(sheet.code) or wanted in _folded(sheet.name)


def _link(query: dict[str, str], changes: dict[str, object]) -> str:
    merged = {**query, **{key.rstrip("_"): str(value) for key, value in changes.items()}}
    kept = {key: value for key, value in merged.items() if value not in ("", "0", "None")}
    return "/figures" + ("?" + urlencode(kept) if kept else "")
