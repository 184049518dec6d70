"""Coordinators only: /thongbao (broadcast to every unit chat, or one unit type) and /tiendo."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Collection
from typing import TYPE_CHECKING

from bot.channels.base import InboundMessage
from bot.delivery import outbox
from bot.store import audit, chats
from bot.store.models import Chat, DeliveryStatus

REPORT_CHECK = 0.5  # seconds between looks at a broadcast's progress

if TYPE_CHECKING:
    from bot.app import Loa


def parse_broadcast(args: str, audiences: Collection[str]) -> tuple[list[str], str]:
    """`truong-hoc Họp lúc 14h` -> (["truong-hoc"], "Họp lúc 14h"): a leading audience code
    narrows the broadcast to that unit type; the rest, line breaks kept, is the text."""
    words = args.split(maxsplit=1)
    if len(words) == 2 and words[0].lower() in audiences:
        return [words[0].lower()], words[1].strip()
    return [], args.strip()


async def broadcast(loa: Loa, message: InboundMessage, args: str) -> None:
    types, text = parse_broadcast(args, [a.code for a in loa.campaign.audiences])
    if not text:
        await loa.reply(message, "replies/broadcast_usage", audiences=loa.campaign.audiences)
        return
    async with loa.db.session() as session, session.begin():
        now, tz = loa.clock.now(), loa.campaign.tz
        rows = await outbox.broadcast(session, loa.campaign_key, text, types, now, tz)
        audit.record(session, message.sender, "broadcast", count=len(rows), types=types)
    await loa.reply(message, "replies/broadcast_started", count=len(rows), types=types)
    if rows:
        loa.spawn(_report(loa, message, [row.id for row in rows]))


async def _report(loa: Loa, message: InboundMessage, ids: list[int]) -> None:
    """Wake the sender, then tell the coordinator how the broadcast went once it is settled."""
    loa.wake()
    while True:
        async with loa.db.session() as session:
            outcome = await outbox.outcome(session, ids)
        if not outcome.keys() & {DeliveryStatus.PENDING, DeliveryStatus.SENDING}:
            break
        await asyncio.sleep(REPORT_CHECK)
    await loa.reply(message, "replies/broadcast_done", outcome=outcome, total=len(ids))


async def progress(loa: Loa, message: InboundMessage, args: str) -> None:
    async with loa.db.session() as session:
        units = await chats.all_units(session)
        bound = await chats.registered_chats(session)
    by_unit: dict[int | None, list[Chat]] = defaultdict(list)
    for chat in bound:
        by_unit[chat.unit_id].append(chat)
    active = {chat.unit_id for chat in bound if chat.active}
    await loa.reply(message, "replies/progress", units=units, chats=by_unit, active=active)
