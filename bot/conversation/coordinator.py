"""Coordinators only: /thongbao (now or at a set time, to every unit chat or one unit type),
/lichthongbao and /huythongbao for the scheduled ones, /tiendo, and /xuat for the table."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.campaign.model import Campaign, parse_time
from bot.channels.base import InboundMessage, SendError, Unsupported
from bot.delivery import outbox
from bot.messages import render
from bot.ops.env import Env
from bot.ops.figures import gather
from bot.stats import table
from bot.stats.formats import FORMATS, written
from bot.store import answers, audit, chats
from bot.store.db import is_transient
from bot.store.models import Chat, DeliveryStatus

log = logging.getLogger(__name__)

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


_WORD = re.compile(r"\S+")
_DAY = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{4}))?(?!\S)")
# Anything shaped like a time, valid or not (`7h00`, `7 giờ 30`, `8 h`, `7:5`, `25h`), on one line.
_CLOCK = re.compile(r"\d+[^\S\n]*(?:giờ|h|g|:)(?:[^\S\n]*\d+)?(?!\S)", re.IGNORECASE)
ROLLOVER = dt.timedelta(days=180)  # a yearless date further back than this means next year


def parse_broadcast(args: str, campaign: Campaign, now: dt.datetime) -> Broadcast:
    """`[LOẠI] [NGÀY [GIỜ]] NỘI DUNG`, e.g. `tthtcd 02/10 7h00 Họp trực tuyến`.

    Leading tokens recognised as an audience code, a date and (after a date only) a time are
    consumed; the text is what remains, line breaks kept, and may be empty. The code narrows the
    broadcast to that unit type; the date (02/10: this year, or next year if that is over
    `ROLLOVER` ago) schedules it, at the campaign's sending hour unless a time follows.
    """
    codes = {a.code for a in campaign.audiences}
    code, rest = _take(args, _WORD, lambda word: word.lower() in codes)
    audience = [code.lower()] if code else []
    day, rest = _take(rest, _DAY)
    if day is None:
        return Broadcast(rest, audience)
    hour, rest = _take(rest, _CLOCK)
    try:
        date = _day_of(day, now.astimezone(campaign.tz).date())
    except ValueError:
        return Broadcast(rest, audience, problem="broadcast_bad_date")
    try:
        time = parse_time(hour) if hour else campaign.reminders.send_at
    except ValueError:
        return Broadcast(rest, audience, problem="broadcast_bad_time")
    at = dt.datetime.combine(date, time, campaign.tz)
    if at <= now:
        return Broadcast(rest, audience, at, problem="broadcast_past")
    if campaign.reminders.quiet_hours.contains(time):
        return Broadcast(rest, audience, at, problem="broadcast_quiet")
    return Broadcast(rest, audience, at)


def _take(
    text: str, pattern: re.Pattern[str], wanted: Callable[[str], bool] = bool
) -> tuple[str | None, str]:
    """The token `pattern` finds at the start of `text` if `wanted` accepts it, and the rest."""
    text = text.strip()
    match = pattern.match(text)
    if match and wanted(match[0]):
        return match[0], text[match.end() :].strip()
    return None, text


def _day_of(word: str, today: dt.date) -> dt.date:
    """The date `word` names; ValueError if there is none (31/09, 29/02 of a common year)."""
    match = _DAY.match(word)
    assert match is not None  # taken because it matched
    day, month = int(match[1]), int(match[2])
    if match[3]:
        return dt.date(int(match[3]), month, day)
    date = dt.date(today.year, month, day)
    return date.replace(year=today.year + 1) if today - date > ROLLOVER else date


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
    if not number:  # which one? show them
        await scheduled(loa, message, args)
        return
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
        try:
            async with loa.db.session() as session:
                outcome = await outbox.outcome(session, ids)
        except Exception as exc:  # busy or away for a moment: the rows wait, so does the report
            if not is_transient(exc):
                raise
            outcome = {DeliveryStatus.PENDING: len(ids)}
        if not outcome.keys() & {DeliveryStatus.PENDING, DeliveryStatus.SENDING}:
            break
        await asyncio.sleep(REPORT_CHECK)
    await loa.reply(message, "replies/broadcast_done", outcome=outcome, total=len(ids))


async def progress(loa: Loa, message: InboundMessage, args: str) -> None:
    """Who receives Loa's messages, and who has sent their figures: complete, partial, silent."""
    async with loa.db.session() as session:
        units = await chats.all_units(session)
        bound = await chats.registered_chats(session)
        went = await outbox.statuses(session, loa.campaign_key)
        given = await answers.every_unit(session, loa.campaign_key)
    missed = sum(counts[DeliveryStatus.MISSED] for counts in went.values())
    by_unit: dict[int | None, list[Chat]] = defaultdict(list)
    for chat in bound:
        by_unit[chat.unit_id].append(chat)
    active = {chat.unit_id for chat in bound if chat.active}
    form = loa.campaign.form
    figures = {
        unit.id: (table.completion(form, given.get(unit.id, {})), len(given.get(unit.id, {})))
        for unit in units
        if form is not None
    }
    await loa.reply(
        message,
        "replies/progress",
        units=units,
        chats=by_unit,
        active=active,
        missed=missed,
        figures=figures,
        items=len(table.answerable(form)) if form else 0,
    )


async def export(loa: Loa, message: InboundMessage, args: str) -> None:
    """/xuat [xlsx|csv|docx]: the filled table (or the report) as a file in this chat."""
    fmt = args.strip().lower().lstrip(".") or "xlsx"
    if loa.campaign.form is None:
        await loa.reply(message, "replies/no_form")
        return
    if fmt not in FORMATS:
        await loa.reply(message, "replies/export_usage", formats=FORMATS)
        return
    if not loa.channel(message.platform).sends_files:
        await loa.reply(message, "replies/export_unsupported", fmt=fmt)
        return
    await loa.reply(message, "replies/export_started")  # a big table takes a few seconds
    exported = await gather(Env(loa.db, loa.campaign, loa.campaign_key, loa.clock))
    content = await asyncio.to_thread(written, exported, fmt)
    name = f"tong-hop-{loa.campaign_key}.{fmt}"
    caption = render("replies/export_caption", campaign=loa.campaign, export=exported)
    try:
        await loa.channel(message.platform).send_document(message.chat_id, name, content, caption)
    except Unsupported:
        await loa.reply(message, "replies/export_unsupported", fmt=fmt)
    except SendError as exc:
        log.warning("/xuat: the file could not be sent: %s", exc)
        await loa.reply(message, "replies/export_failed")
