"""The web's keys: one-time sign-in links for coordinators, sessions, and download links.

A coordinator asks for a link (`/quanly` in a private chat, or `loa web-link`); following it
spends it and starts a session. Tokens are random and only their SHA-256 is stored. Refused
sign-ins are audited and counted: past `REFUSALS_PER_WINDOW` from one address within
`REFUSAL_WINDOW`, that address is refused without looking (guessing a token is hopeless, but
hammering the database is not free).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.ops.env import Env
from bot.store import audit
from bot.store.models import AuditEntry, WebTicket, utcnow
from bot.store.rows import rowcount

LINK_LIFETIME = dt.timedelta(minutes=15)
SESSION_LIFETIME = dt.timedelta(hours=12)
DOWNLOAD_LIFETIME = dt.timedelta(hours=24)
ANNOUNCE_LIFETIME = dt.timedelta(hours=12)  # a previewed announcement's send button
REFUSAL_WINDOW = dt.timedelta(minutes=15)
REFUSALS_PER_WINDOW = 20
REFUSED = "web_signin_refused"


class TicketKind(StrEnum):
    LINK = "link"
    SESSION = "session"
    DOWNLOAD = "download"
    ANNOUNCE = "announce"  # spent by the announcement it was previewed for (`spend`)
    FORM = "form"  # a unit's own form (`bot.ops.unitlinks`), held by "unit:<id>"


class Refusal(StrEnum):
    """Why a sign-in link did not open the console (each has its own page)."""

    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    NOT_COORDINATOR = "not_coordinator"  # removed from LOA_ADMINS since the link was made
    THROTTLED = "throttled"


@dataclass(frozen=True)
class Session:
    token: str  # the cookie's value: shown once, never stored
    holder: str
    csrf: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Visitor:
    """Who a session cookie belongs to, and the token their forms must carry."""

    holder: str
    csrf: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(
    env: Env,
    holder: str,
    kind: TicketKind = TicketKind.LINK,
    scope: str | None = None,
) -> str:
    """A new token for `holder` (a coordinator, `platform:id`): a sign-in link's by default, or
    a download link's for `scope` (the path it opens)."""
    lifetime = {
        TicketKind.LINK: LINK_LIFETIME,
        TicketKind.DOWNLOAD: DOWNLOAD_LIFETIME,
        TicketKind.ANNOUNCE: ANNOUNCE_LIFETIME,
    }[kind]
    token = secrets.token_urlsafe(32)
    now = env.clock.now()
    async with env.db.session() as session, session.begin():
        session.add(
            WebTicket(
                digest=digest(token),
                kind=kind,
                holder=holder,
                scope=scope,
                created_at=now,
                expires_at=now + lifetime,
            )
        )
        audit.record(session, holder, f"web_{kind}_issued", scope=scope)
    return token


async def sign_in(
    env: Env, token: str, coordinators: frozenset[str], origin: str
) -> Session | Refusal:
    """Spend a sign-in link and start a session; `origin` (the client's address) is what
    refusals are counted against."""
    now = env.clock.now()
    async with env.db.session() as session, session.begin():
        since = utcnow() - REFUSAL_WINDOW  # guessing is counted in real time, like the log
        refused = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == REFUSED, AuditEntry.at >= since, AuditEntry.actor == origin)
        )
        if (refused or 0) >= REFUSALS_PER_WINDOW:
            return Refusal.THROTTLED
        ticket = await session.scalar(
            select(WebTicket).where(
                WebTicket.digest == digest(token), WebTicket.kind == TicketKind.LINK
            )
        )
        why = _refusal(ticket, now, coordinators)
        if why is not None or ticket is None:
            audit.record(session, origin, REFUSED, reason=why)
            return why or Refusal.UNKNOWN
        if not await spend(session, token, TicketKind.LINK, ticket.holder, now):  # two clicks
            audit.record(session, origin, REFUSED, reason=Refusal.USED)
            return Refusal.USED
        started = Session(
            secrets.token_urlsafe(32),
            ticket.holder,
            secrets.token_urlsafe(24),
            now + SESSION_LIFETIME,
        )
        session.add(
            WebTicket(
                digest=digest(started.token),
                kind=TicketKind.SESSION,
                holder=started.holder,
                csrf=started.csrf,
                created_at=now,
                expires_at=started.expires_at,
            )
        )
        audit.record(session, ticket.holder, "web_signed_in", origin=origin)
    return started


def _refusal(
    ticket: WebTicket | None, now: dt.datetime, coordinators: frozenset[str]
) -> Refusal | None:
    if ticket is None:
        return Refusal.UNKNOWN
    if ticket.used_at is not None:
        return Refusal.USED
    if ticket.expires_at <= now:
        return Refusal.EXPIRED
    if ticket.holder not in coordinators:
        return Refusal.NOT_COORDINATOR
    return None


async def visitor(env: Env, token: str, coordinators: frozenset[str]) -> Visitor | None:
    """Who holds this session cookie; None when it is no session, is over, or its coordinator
    is no longer one."""
    async with env.db.session() as session:
        ticket = await session.scalar(
            select(WebTicket).where(
                WebTicket.digest == digest(token), WebTicket.kind == TicketKind.SESSION
            )
        )
    if ticket is None or ticket.expires_at <= env.clock.now():
        return None
    if ticket.holder not in coordinators or ticket.csrf is None:
        return None
    return Visitor(ticket.holder, ticket.csrf)


async def download(env: Env, token: str, scope: str) -> str | None:
    """The holder of a live download link for `scope`; None when it is not one."""
    async with env.db.session() as session:
        ticket = await session.scalar(
            select(WebTicket).where(
                WebTicket.digest == digest(token),
                WebTicket.kind == TicketKind.DOWNLOAD,
                WebTicket.scope == scope,
            )
        )
    if ticket is None or ticket.expires_at <= env.clock.now():
        return None
    return ticket.holder


async def sign_out(env: Env, token: str) -> None:
    async with env.db.session() as session, session.begin():
        await session.execute(delete(WebTicket).where(WebTicket.digest == digest(token)))


async def forget_expired(env: Env) -> int:
    """Drop tickets past their time (a sign-in link's row stays a day, for its refusal page)."""
    cutoff = env.clock.now() - dt.timedelta(days=1)
    async with env.db.session() as session, session.begin():
        return await rowcount(session, delete(WebTicket).where(WebTicket.expires_at < cutoff))


async def spend(
    session: AsyncSession, token: str, kind: TicketKind, holder: str, now: dt.datetime
) -> bool:
    """Spend `holder`'s live ticket in the caller's transaction: True the first time only (it is
    spent in the same statement that checks it is unspent: two at once, one True)."""
    spent = await rowcount(
        session,
        update(WebTicket)
        .where(
            WebTicket.digest == digest(token),
            WebTicket.kind == kind,
            WebTicket.holder == holder,
            WebTicket.used_at.is_(None),
            WebTicket.expires_at > now,
        )
        .values(used_at=now),
    )
    return spent == 1
