"""A restart's plan of the outbox, skipped when nothing it is made from changed.

A full plan (`outbox.plan`) reads every row of the campaign: 114,000 for a province, most of a
restart's time. What it makes depends on the campaign's content, its key, the registered active
chats with their units' types and parents, and the clock; the clock only takes away (a later plan
adds nothing an earlier one did not). So after a full plan the first three are kept as one
fingerprint (`PlanMark`), and a start that finds the same fingerprint plans nothing, unless the
outbox holds what only a full plan sets right (`_unsettled`). A registration plans its own chat
at once, and changes the fingerprint: the next start plans in full again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.campaign import units as core
from bot.campaign.model import Campaign
from bot.campaign.timeline import Kind, timeline
from bot.delivery import outbox
from bot.store.models import Chat, Delivery, DeliveryStatus, PlanMark, Unit

log = logging.getLogger(__name__)

# Planning's own version: raised when the planner makes other rows of the same campaign and chats,
# so that the first start of the new code plans in full.
PLANNER = 1


async def plan(
    session: AsyncSession, campaign_key: str, campaign: Campaign, now: dt.datetime
) -> int | None:
    """`outbox.plan` unless nothing it is made from changed since the last one: the rows added
    or changed, None when skipped. Rows of another campaign are cancelled either way."""
    mark = await fingerprint(session, campaign_key, campaign)
    last = await session.get(PlanMark, campaign_key)
    if (
        last is not None
        and last.fingerprint == mark
        and not await _unsettled(session, campaign_key, campaign, now)
    ):
        await outbox.cancel_stale(session, campaign_key)
        log.info(
            "outbox: campaign and chats as at the plan of %s: not planned again", last.planned_at
        )
        return None
    added = await outbox.plan(session, campaign_key, campaign, now)
    if last is None:
        session.add(PlanMark(campaign=campaign_key, fingerprint=mark, planned_at=now))
    else:
        last.fingerprint, last.planned_at = mark, now
    return added


async def fingerprint(session: AsyncSession, campaign_key: str, campaign: Campaign) -> str:
    """What a full plan is made from, in 64 hex digits: the planner's version, the campaign's key
    and content, and every registered active chat with its unit's type and parent."""
    digest = hashlib.sha256(f"{PLANNER}\n{campaign_key}\n".encode())
    digest.update(campaign.model_dump_json().encode())
    chats = await session.execute(
        select(Chat.id, Chat.unit_id, Unit.type, Unit.parent)
        .join(Unit, Chat.unit_id == Unit.id)
        .where(Chat.active.is_(True))
        .order_by(Chat.id)
    )
    for chat in chats:
        digest.update(f"\n{tuple(chat)!r}".encode())
    return digest.hexdigest()


async def _unsettled(
    session: AsyncSession, campaign_key: str, campaign: Campaign, now: dt.datetime
) -> bool:
    """Whether the outbox holds what a full plan would change though its fingerprint did not:
    a row still ahead of a delivery the campaign has, cancelled, of an active chat (the chat
    left and came back by a message, which plans nothing), or an announcement still waiting (a
    chat back since then joins it). Both read an index, not the outbox."""
    ahead = (Delivery.campaign == campaign_key, Delivery.due_at > now)
    audiences = [core.Unit(a.code, a.code, a.code) for a in campaign.audiences]
    references = sorted({d.reference for d in timeline(campaign, audiences)})
    cancelled = (
        select(Delivery.id)
        .join(Chat, Chat.id == Delivery.chat_id)
        .where(
            Delivery.status == DeliveryStatus.CANCELLED,
            *ahead,
            Delivery.payload.is_(None),
            Delivery.reference.in_(references),
            Chat.active.is_(True),
        )
        .limit(1)
    )
    waiting = (
        select(Delivery.id)
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            *ahead,
            Delivery.kind == Kind.ANNOUNCEMENT,
            Delivery.payload.is_not(None),
        )
        .limit(1)
    )
    return any([await session.scalar(cancelled), await session.scalar(waiting)])
