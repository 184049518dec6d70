"""Each unit's own link to its form on the web: `LOA_PUBLIC_URL/f/<token>`.

A link is a web ticket of kind "form" held by `unit:<id>`, valid until a week after the report
deadline (`registration.codes_expire`). Only its SHA-256 is stored, so a link cannot be shown
again: each message that carries one gets a fresh one, and the older ones stay valid until the
unit's chats are all unregistered, a coordinator resets the link, or the campaign's time is up.
A ticket carries its own CSRF value: the form has no session. Wrong, revoked or expired links are
audited and counted per client address, like refused sign-ins.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.campaign.scope import EVERYTHING, Scope
from bot.ops import signin
from bot.ops.env import Env
from bot.ops.registration import codes_expire
from bot.store import audit
from bot.store.models import AuditEntry, Chat, Unit, WebTicket, utcnow
from bot.store.rows import rowcount
from bot.store.units import unit_by_code

REFUSED = "web_form_refused"


class Refusal(StrEnum):
    """Why a link did not open a form (the refusal page words each)."""

    UNKNOWN = "unknown"
    REVOKED = "revoked"
    EXPIRED = "expired"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class Door:
    """An open link: whose form it is, the CSRF value its posts carry, and who answers through it
    (the answers' author)."""

    unit: Unit
    csrf: str

    @property
    def author(self) -> str:
        return f"web:{self.unit.code}"


def holder(unit: Unit) -> str:
    return f"unit:{unit.id}"


async def issue(env: Env, unit: Unit) -> str:
    """A new link's token for the unit (its path is `/f/<token>`)."""
    token = secrets.token_urlsafe(32)
    now = env.clock.now()
    async with env.db.session() as session, session.begin():
        session.add(
            WebTicket(
                digest=signin.digest(token),
                kind=signin.TicketKind.FORM,
                holder=holder(unit),
                csrf=secrets.token_urlsafe(24),
                created_at=now,
                expires_at=codes_expire(env.campaign),
            )
        )
    return token


async def open_form(env: Env, token: str, origin: str) -> Door | Refusal:
    """The unit whose link this is; a refusal (audited against `origin`, the client's address)
    when it is no live link."""
    now = env.clock.now()
    async with env.db.session() as session, session.begin():
        since = utcnow() - signin.REFUSAL_WINDOW  # guessing is counted in real time
        refused = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == REFUSED, AuditEntry.at >= since, AuditEntry.actor == origin)
        )
        if (refused or 0) >= signin.REFUSALS_PER_WINDOW:
            return Refusal.THROTTLED
        ticket = await session.scalar(
            select(WebTicket).where(
                WebTicket.digest == signin.digest(token),
                WebTicket.kind == signin.TicketKind.FORM,
            )
        )
        unit = await _unit(session, ticket)
        why = _refusal(ticket, unit, now)
        if why is not None or unit is None or ticket is None or ticket.csrf is None:
            audit.record(session, origin, REFUSED, reason=why or Refusal.UNKNOWN)
            return why or Refusal.UNKNOWN
        return Door(unit, ticket.csrf)


async def _unit(session: AsyncSession, ticket: WebTicket | None) -> Unit | None:
    if ticket is None or not ticket.holder.startswith("unit:"):
        return None
    unit_id = ticket.holder.removeprefix("unit:")
    return await session.get(Unit, int(unit_id)) if unit_id.isdigit() else None


def _refusal(ticket: WebTicket | None, unit: Unit | None, now: dt.datetime) -> Refusal | None:
    if ticket is None or unit is None:
        return Refusal.UNKNOWN
    if ticket.used_at is not None:
        return Refusal.REVOKED
    if ticket.expires_at <= now:
        return Refusal.EXPIRED
    return None


async def revoke(session: AsyncSession, unit: Unit, at: dt.datetime) -> int:
    """End every live link of the unit, in the caller's transaction: how many."""
    return await rowcount(
        session,
        update(WebTicket)
        .where(
            WebTicket.holder == holder(unit),
            WebTicket.kind == signin.TicketKind.FORM,
            WebTicket.used_at.is_(None),
        )
        .values(used_at=at),
    )


async def revoke_if_unreachable(session: AsyncSession, unit: Unit, at: dt.datetime) -> None:
    """End the unit's links when no registered chat of it is left active (its last chat was
    unregistered or lost): the link came through a chat, and no chat can ask for a new one."""
    left = await session.scalar(
        select(func.count()).select_from(Chat).where(Chat.unit_id == unit.id, Chat.active.is_(True))
    )
    if not left:
        await revoke(session, unit, at)


async def reset(env: Env, code: str, by: str, scope: Scope = EVERYTHING) -> Unit | None:
    """A coordinator ends every link of the unit `code` (one was passed around): the unit gets a
    new one with `/nhaplieu`. None when no unit of `scope` has that code."""
    async with env.db.session() as session, session.begin():
        unit = await unit_by_code(session, code)
        if unit is None or not scope.covers(unit.parent):
            return None
        ended = await revoke(session, unit, env.clock.now())
        audit.record(session, by, "web_form_reset", unit=unit, links=ended)
    return unit
