"""Coordinators only: /thongbao (now or at a set time, to every unit chat or one unit type),
/lichthongbao and /huythongbao for the scheduled ones, /tiendo, /xuat for the table (a file, or
a download link where files cannot go), and /quanly for a sign-in link to the web console.

Each translates a message into an operation (`bot.ops`) and its result into a reply. What
`/thongbao` typed means (`tthtcd 02/10 7 giờ 30 ...`) is read here: it is the chat's own way of
saying it (the web asks in form fields), while whether the time asked is allowed is the
operation's rule (`announcements.timing_problem`), the same for every face.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.campaign.model import Campaign, parse_time
from bot.channels.base import ChatType, InboundMessage
from bot.documents.formats import FORMATS, written
from bot.errors import SendError, Unsupported
from bot.messages import render
from bot.ops import announcements, exports, signin
from bot.ops import progress as ops_progress
from bot.ops.figures import gather
from bot.ops.signin import TicketKind
from bot.stats.table import Completion

if TYPE_CHECKING:
    from bot.conversation.context import ChatContext

log = logging.getLogger(__name__)


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
    timing = announcements.timing_problem(campaign, at, now)
    return Broadcast(rest, audience, at, problem=f"broadcast_{timing}" if timing else None)


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


async def broadcast(ctx: ChatContext, message: InboundMessage, args: str) -> None:
    campaign = ctx.campaign
    asked = parse_broadcast(args, campaign, ctx.env.clock.now())
    if not asked.text:
        await ctx.reply(message, "replies/broadcast_usage", audiences=campaign.audiences)
        return
    if asked.problem:
        await ctx.reply(message, f"replies/{asked.problem}", asked=asked)
        return
    done = await announcements.broadcast(
        ctx.env,
        asked.text,
        asked.types,
        asked.at,
        actor=message.sender,
        scope=ctx.scope_of(message.sender),
    )
    if asked.at is not None:
        await ctx.reply(message, "replies/broadcast_scheduled", asked=asked, count=done.count)
        ctx.env.wake()
        return
    await ctx.reply(message, "replies/broadcast_started", count=done.count, types=asked.types)
    if done.ids:
        ctx.spawn(_report(ctx, message, done.ids))


async def scheduled(ctx: ChatContext, message: InboundMessage, args: str) -> None:
    """/lichthongbao: announcements waiting for their time."""
    waiting = await announcements.scheduled(ctx.env, ctx.scope_of(message.sender))
    await ctx.reply(message, "replies/scheduled_list", waiting=waiting, tz=ctx.campaign.tz)


async def cancel_scheduled(ctx: ChatContext, message: InboundMessage, args: str) -> None:
    """/huythongbao SỐ: cancel one, by the number /lichthongbao shows."""
    number = args.strip().lstrip("#")
    if not number:  # which one? show them
        await scheduled(ctx, message, args)
        return
    cancelled = 0
    if number.isdigit():
        scope = ctx.scope_of(message.sender)
        cancelled = await announcements.cancel(ctx.env, int(number), message.sender, scope)
    await ctx.reply(message, "replies/scheduled_cancelled", number=number, count=cancelled)


async def _report(ctx: ChatContext, message: InboundMessage, ids: Sequence[int]) -> None:
    """Wake the sender, then tell the coordinator how the broadcast went once it is settled."""
    ctx.env.wake()
    outcome = await announcements.settled(ctx.env, ids)
    await ctx.reply(message, "replies/broadcast_done", outcome=outcome.counts, total=outcome.total)


async def progress(ctx: ChatContext, message: InboundMessage, args: str) -> None:
    """Who receives Loa's messages, and who has sent their figures: complete, partial, silent;
    by parent (commune, ward) when units name one, the units of one with `/tiendo NAME`. A
    commune's coordinator sees its units one by one."""
    found = await ops_progress.progress(ctx.env, ctx.scope_of(message.sender))
    wanted = args.strip()
    named = found.parents_named(wanted) if wanted else []
    parents = found.by_parent()
    if not named and not wanted and len(parents) == 1 and parents[0].parent:
        named = [parents[0].parent]  # a commune's coordinator: its units, as `/tiendo NAME`
    if named:  # `/tiendo xã An Bình`: its units one by one
        found = found.within(named)
    await ctx.reply(
        message,
        "replies/progress",
        asked=wanted,
        named=named,
        parents=[] if named or len(parents) == 1 else parents,
        units=found.units,
        reached=found.registered,  # counted here: Jinja's filters over 5,000 units take 250 ms
        states={state.value: found.count(state) for state in Completion},
        chats=found.chats,
        active=found.active,
        missed=found.missed,
        figures=found.figures,
        items=found.items,
    )


LINK_WORDS = ("liên kết", "lien ket", "link")  # `/xuat xlsx link`: a download link, not a file


def parse_export(args: str) -> tuple[str, bool] | None:
    """`/xuat [xlsx|csv|docx] [link]` -> (format, whether a link is asked for); None when the
    words are not that."""
    text = args.lower()
    wants_link = any(word in text for word in LINK_WORDS)
    for word in LINK_WORDS:
        text = text.replace(word, " ")
    words = [word.lstrip(".") for word in text.split()]
    if len(words) > 1 or (words and words[0] not in FORMATS):
        return None
    return (words[0] if words else "xlsx"), wants_link


async def export(ctx: ChatContext, message: InboundMessage, args: str) -> None:
    """/xuat [xlsx|csv|docx] [link]: the filled table (or the report) as a file in this chat; as
    a download link (valid a day) where files cannot go (Zalo), or when asked for one. With the
    web console off, a platform that sends files sends the file."""
    if ctx.campaign.form is None:
        await ctx.reply(message, "replies/no_form")
        return
    asked = parse_export(args)
    if asked is None:
        await ctx.reply(message, "replies/export_usage", formats=FORMATS)
        return
    fmt, wants_link = asked
    channel = ctx.channel(message.platform)
    if (wants_link or not channel.sends_files) and ctx.web_link("/") is not None:
        await _export_link(ctx, message, fmt)
        return
    if not channel.sends_files:
        await ctx.reply(message, "replies/export_unsupported", fmt=fmt)
        return
    await ctx.reply(message, "replies/export_started")  # a big table takes a few seconds
    scope = ctx.scope_of(message.sender)
    exported = await gather(ctx.env, scope)
    content = await asyncio.to_thread(written, exported, fmt)
    name = exports.file_name(ctx.env, fmt, scope)
    caption = render("replies/export_caption", campaign=ctx.campaign, export=exported)
    try:
        await channel.send_document(message.chat_id, name, content, caption)
    except Unsupported:
        await ctx.reply(message, "replies/export_unsupported", fmt=fmt)
    except SendError as exc:
        log.warning("/xuat: the file could not be sent: %s", exc)
        await ctx.reply(message, "replies/export_failed")


async def _export_link(ctx: ChatContext, message: InboundMessage, fmt: str) -> None:
    """A link that downloads the export, made when it is opened (the web console's `/t/`)."""
    token = await signin.issue(
        ctx.env, message.sender, TicketKind.DOWNLOAD, scope=f"/figures/export.{fmt}"
    )
    await ctx.reply(
        message,
        "replies/export_link",
        fmt=fmt,
        link=ctx.web_link(f"/t/{token}"),
        hours=int(signin.DOWNLOAD_LIFETIME.total_seconds() // 3600),
        until=(ctx.env.clock.now() + signin.DOWNLOAD_LIFETIME).astimezone(ctx.campaign.tz),
    )


async def console_link(ctx: ChatContext, message: InboundMessage, args: str) -> None:
    """/quanly: a one-time link that signs the coordinator in to the web console. Only in their
    private chat: a link in a group could be followed by anyone in it first."""
    if message.chat_type is not ChatType.PRIVATE:
        await ctx.reply(message, "replies/console_private_only")
        return
    if ctx.web_link("/") is None:
        await ctx.reply(message, "replies/console_off")
        return
    token = await signin.issue(ctx.env, message.sender)
    await ctx.reply(
        message,
        "replies/console_link",
        link=ctx.web_link(f"/login/{token}"),
        minutes=int(signin.LINK_LIFETIME.total_seconds() // 60),
        until=(ctx.env.clock.now() + signin.LINK_LIFETIME).astimezone(ctx.campaign.tz),
    )
