"""/announcements: compose one for everyone or a unit type, now or at a date and time; see it as
the units will read it and how many chats it reaches; send it; the scheduled ones with cancel;
a running one's sent/total, live.

The preview's form carries what was asked (hidden) and a one-time key: a second press of "Gửi",
or the POST reloaded, sends nothing more (`announcements.broadcast(..., once=KEY)`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from aiohttp import web
from multidict import MultiDictProxy

from bot.campaign.model import Campaign, parse_time
from bot.campaign.timeline import Kind
from bot.messages import render
from bot.ops import announcements
from bot.ops.env import Env
from bot.stats.grammar import printable
from bot.web.console import CONSOLE, VISITOR, units_of
from bot.web.pages import page

routes = web.RouteTableDef()
Form = MultiDictProxy[str | bytes | bytearray | web.FileField]

NOW, LATER = "now", "later"
_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")  # what a browser without a date picker gets


@dataclass(frozen=True)
class Asked:
    """The form as filled in (shown again as it was), and what it means once read."""

    text: str = ""
    audience: str = ""  # "" everyone, or one audience code of the campaign
    when: str = NOW
    date: str = ""  # YYYY-MM-DD (or DD/MM/YYYY)
    time: str = ""  # HH:MM (or 7h00)
    at: dt.datetime | None = None  # None: now
    problem: str | None = None  # names the Vietnamese refusal in the page

    @property
    def audiences(self) -> list[str]:
        return [self.audience] if self.audience else []


def _asked(form: Form, campaign: Campaign, now: dt.datetime) -> Asked:
    """The compose form read; `problem` says what is wrong with it, if anything."""

    def field(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    # as the chat path keeps it: no control characters (a browser's CRLF is a line break)
    text = printable(field("text")).strip()
    audience, when = field("audience"), field("when") if field("when") == LATER else NOW
    date, time = field("date").strip(), field("time").strip()
    asked = Asked(text, audience, when, date, time)
    problem = _problem(asked, campaign)
    if problem or when == NOW:
        return _with(asked, problem=problem)
    try:
        day = _day(date)
    except ValueError:
        return _with(asked, problem="bad_date")
    try:
        hour = parse_time(time) if time else campaign.reminders.send_at
    except ValueError:
        return _with(asked, problem="bad_time")
    at = dt.datetime.combine(day, hour, campaign.tz)
    timing = announcements.timing_problem(campaign, at, now)
    return _with(asked, at=at, problem=str(timing) if timing else None)


def _problem(asked: Asked, campaign: Campaign) -> str | None:
    if not asked.text:
        return "empty"
    if asked.audience and asked.audience not in {a.code for a in campaign.audiences}:
        return "audience"
    return None


def _with(asked: Asked, **changes: object) -> Asked:
    return Asked(**{**asked.__dict__, **changes})


def _day(given: str) -> dt.date:
    if match := _DAY.fullmatch(given):
        return dt.date(int(match[3]), int(match[2]), int(match[1]))
    return dt.date.fromisoformat(given)


@routes.get("/announcements")
async def compose(request: web.Request) -> web.StreamResponse:
    env = request.app[CONSOLE].env
    return await _page(request, env, None, 200)


async def _page(request: web.Request, env: Env, asked: Asked | None, status: int) -> web.Response:
    """The compose form (blank, or as sent back with its problem) and the scheduled ones."""
    campaign = env.campaign
    local = env.clock.now().astimezone(campaign.tz)
    blank = Asked(date=local.date().isoformat(), time=f"{campaign.reminders.send_at:%H:%M}")
    notice = request.query.get("notice")
    return page(
        request,
        "announcements",
        http_status=status,
        asked=asked or blank,
        campaign=campaign,
        waiting=await announcements.scheduled(env, units_of(request)),
        tz=campaign.tz,
        notice=notice if notice in _NOTICES else None,
        count=_number(request.query.get("count")) or 0,
        number=_number(request.query.get("number")) or 0,
    )


_NOTICES = {"cancelled", "not_cancelled", "already_sent", "nobody"}


@routes.post("/announcements/preview")
async def preview(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    env = console.env
    asked = _asked(await request.post(), env.campaign, env.clock.now())
    if asked.problem:
        return await _page(request, env, asked, 400)
    reach = await announcements.reach(env, asked.audiences, units_of(request))
    # what a unit's chat gets, rendered as the sender renders it (dispatcher.text)
    shown = render(Kind.ANNOUNCEMENT, campaign=env.campaign, unit=reach.example, text=asked.text)
    once = await announcements.one_time_key(env, request[VISITOR].holder) if reach.chats else ""
    return page(
        request,
        "announcements_preview",
        asked=asked,
        campaign=env.campaign,
        reach=reach,
        shown=shown,
        once=once,
        tz=env.campaign.tz,
    )


@routes.post("/announcements/edit")
async def edit(request: web.Request) -> web.StreamResponse:
    """Back from the preview to the form, filled in as it was."""
    env = request.app[CONSOLE].env
    asked = _asked(await request.post(), env.campaign, env.clock.now())
    return await _page(request, env, _with(asked, problem=None), 200)


@routes.post("/announcements/send")
async def send(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    env = console.env
    form = await request.post()
    asked = _asked(form, env.campaign, env.clock.now())
    if asked.problem:  # a time that passed while the preview was read, a form made by hand
        return await _page(request, env, asked, 400)
    once = form.get("once")
    try:
        done = await announcements.broadcast(
            env,
            asked.text,
            asked.audiences,
            asked.at,
            actor=request[VISITOR].holder,
            once=once if isinstance(once, str) else "",
            scope=units_of(request),
        )
    except announcements.AlreadySent:
        raise web.HTTPSeeOther("/announcements?notice=already_sent") from None
    if not done.ids:
        raise web.HTTPSeeOther("/announcements?notice=nobody")
    env.wake()
    raise web.HTTPSeeOther(f"/announcements/{done.ids[0]}")


@routes.get("/announcements/{number:\\d+}")
async def shown(request: web.Request) -> web.StreamResponse:
    env = request.app[CONSOLE].env
    found = await _found(request)
    outcome = await announcements.outcome(env, found.ids) if found else None
    return page(
        request,
        "announcements_one",
        http_status=200 if found else 404,
        found=found,
        outcome=outcome,
        campaign=env.campaign,
        tz=env.campaign.tz,
        now=env.clock.now(),
    )


@routes.post("/announcements/{number:\\d+}/cancel")
async def cancel(request: web.Request) -> web.StreamResponse:
    env = request.app[CONSOLE].env
    number = _number(request.match_info["number"])
    holder, scope = request[VISITOR].holder, units_of(request)
    cancelled = await announcements.cancel(env, number, holder, scope) if number else 0
    if not cancelled:
        raise web.HTTPSeeOther("/announcements?notice=not_cancelled")
    raise web.HTTPSeeOther(f"/announcements?notice=cancelled&number={number}&count={cancelled}")


@routes.get("/api/announcements/{number:\\d+}/progress")
async def progress(request: web.Request) -> web.StreamResponse:
    """sent/total of one announcement, for the page's script; a coordinator's session only (the
    API token reads /api/progress, not this)."""
    if request.get(VISITOR) is None:
        raise web.HTTPUnauthorized(
            text='{"error": "unauthorized"}', content_type="application/json"
        )
    env = request.app[CONSOLE].env
    found = await _found(request)
    if found is None:
        raise web.HTTPNotFound(text='{"error": "not found"}', content_type="application/json")
    outcome = await announcements.outcome(env, found.ids)
    counts = {str(status): count for status, count in outcome.counts.items()}
    return web.json_response(
        {
            "number": found.number,
            "sent": outcome.sent,
            "total": outcome.total,
            "counts": counts,
            "settled": outcome.settled,
        },
        headers={"Cache-Control": "no-store"},
    )


async def _found(request: web.Request) -> announcements.Found | None:
    number = _number(request.match_info["number"])
    env, scope = request.app[CONSOLE].env, units_of(request)
    return await announcements.find(env, number, scope) if number else None


def _number(given: str | None) -> int | None:
    return int(given) if given and given.isdigit() and len(given) < 12 else None
