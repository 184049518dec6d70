"""Coordinators only: /thongbao (now or at a set time, to every unit chat or one unit type),
/lichthongbao and /huythongbao for the scheduled ones, and /tiendo."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.campaign.model import Campaign, parse_time
from bot.channels.base import InboundMessage
from bot.delivery import outbox
from bot.store import audit, chats
from bot.store.models import Chat, DeliveryStatus

REPORT_CHECK = 0.5  # seconds between looks at a broadcast's progress

if TYPE_CHECKING:
    from bot.app import Loa


@dataclass(frozen=True)
class Broadcast:
    """What `/thongbao` asks for; `problem` names the reply when it cannot be done as asked."""

    text: str
    types: list[str] = field(default_factory=list)
    at: dt.datetime | None = None  # None: now
    problem: str | None = None


_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{4}))?$")


def parse_broadcast(args: str, campaign: Campaign, now: dt.datetime) -> Broadcast:
    """`[LOẠI] [NGÀY [GIỜ]] NỘI DUNG`, e.g. `tthtcd 02/10 7h00 Họp trực tuyến`.

    A leading audience code narrows the broadcast to that unit type; a date (02/10, the year of
    `now` unless written) schedules it, at the campaign's sending hour unless a time follows.
    The text keeps its line breaks.
    """
    codes = {a.code for a in campaign.audiences}
    audience_code, rest = _take(args, lambda word: word.lower() in codes)
    day, rest = _take(rest, _DAY.match)
    audience = [audience_code.lower()] if audience_code else []
    if day is None:
        return Broadcast(rest, audience)
    hour, rest = _take(rest, _is_time)
    d, m, y = _day_of(day)
    try:
        date = dt.date(y or now.astimezone(campaign.tz).year, m, d)
    except ValueError:
        return Broadcast(rest, audience, problem="broadcast_bad_date")
    time = parse_time(hour) if hour else campaign.reminders.send_at
    at = dt.datetime.combine(date, time, campaign.tz)
    if at <= now:
        return Broadcast(rest, audience, at, problem="broadcast_past")
    if campaign.reminders.quiet_hours.contains(time):
        return Broadcast(rest, audience, at, problem="broadcast_quiet")
    return Broadcast(rest, audience, at)


def _take(text: str, wanted: Callable[[str], object]) -> tuple[str | None, str]:
    """The first word if `wanted` accepts it and something follows; else None."""
    words = text.split(maxsplit=1)
    if len(words) == 2 and wanted(words[0]):
        return words[0], words[1].strip()
    return None, text.strip()


def _day_of(word: str) -> tuple[int, int, int | None]:
    match = _DAY.match(word)
    assert match is not None  # taken because it matched
    day, month, year = match.groups()
    return int(day), int(month), int(year) if year else None


def _is_time(word: str) -> bool:
    try:
        parse_time(word)
    except ValueError:
        return False
    return True


async def broadcast(loa: Loa, message: InboundMessage, args: str) -> None:
    asked = parse_broadcast(args, loa.campaign, loa.clock.now())
    if not asked.text:
        await loa.reply(message, "replies/broadcast_usage", audiences=loa.campaign.audiences)
        return
    if asked.problem:
        await loa.reply(message, f"replies/{asked.problem}", asked=asked)
        return
    async with loa.db.session() as session, session.begin():
        at = asked.at or loa.clock.now()
        rows = await outbox.broadcast(
            session, loa.campaign_key, asked.text, asked.types, at, loa.campaign.tz
        )
        audit.record(session, message.sender, "broadcast", count=len(rows), types=asked.types)
    if asked.at is not None:
        await loa.reply(message, "replies/broadcast_scheduled", asked=asked, count=len(rows))
        loa.wake()
        return
    await loa.reply(message, "replies/broadcast_started", count=len(rows), types=asked.types)
    if rows:
        loa.spawn(_report(loa, message, [row.id for row in rows]))


async def scheduled(loa: Loa, message: InboundMessage, args: str) -> None:
    """/lichthongbao: announcements waiting for their time."""
    async with loa.db.session() as session:
        waiting = await outbox.scheduled_broadcasts(session)
    await loa.reply(message, "replies/scheduled_list", waiting=waiting, tz=loa.campaign.tz)


async def cancel_scheduled(loa: Loa, message: InboundMessage, args: str) -> None:
    """/huythongbao SỐ: cancel one, by the number /lichthongbao shows."""
    number = args.strip().lstrip("#")
    cancelled = 0
    if number.isdigit():
        async with loa.db.session() as session, session.begin():
            cancelled = await outbox.cancel_broadcast(session, int(number))
            if cancelled:
                audit.record(session, message.sender, "broadcast_cancelled", number=int(number))
    await loa.reply(message, "replies/scheduled_cancelled", number=number, count=cancelled)


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
        went = await outbox.statuses(session, loa.campaign_key)
    missed = sum(counts[DeliveryStatus.MISSED] for counts in went.values())
    by_unit: dict[int | None, list[Chat]] = defaultdict(list)
    for chat in bound:
        by_unit[chat.unit_id].append(chat)
    active = {chat.unit_id for chat in bound if chat.active}
    await loa.reply(
        message, "replies/progress", units=units, chats=by_unit, active=active, missed=missed
    )
