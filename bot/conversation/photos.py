"""Photos a unit sends in its chat (`PhotoReceived`, issue 20), and `/anh` to see and remove them.

A photo is kept for the chat's unit when the chat is registered and the photo comes in the report
window (`in_report_window`) or in reply to one of the bot's messages (its reminders and the
form's last message ask for photos; in a group, Telegram's privacy mode passes a photo on only as
such a reply). What the platform states is checked first (a non-image type, a size over the cap:
refused without a download); the download is capped in bytes and time (`Channel.fetch`), and
the content is checked to be an image by the operation (`bot.ops.photos.add`), never by its name.
"""

from __future__ import annotations

import datetime as dt
import re

from bot.campaign.timeline import in_report_window
from bot.channels.base import FetchFailed, InboundMessage, PhotoReceived, TooLarge
from bot.channels.defaults import PHOTO_FETCH_TIMEOUT
from bot.conversation.context import ChatContext
from bot.conversation.visits import visit
from bot.ops import photos
from bot.store.models import Unit

MB = 2**20
_REMOVE = re.compile(r"(?:xoa|xoá|xóa)\s+(\d{1,3})", re.IGNORECASE)


async def photo(ctx: ChatContext, event: PhotoReceived) -> None:
    message = event.message
    _, chat, unit = await visit(ctx, message)
    if not chat.active or unit is None:
        if message.addressed:
            await ctx.reply(message, "replies/photo_not_registered")
        return
    if not (in_report_window(ctx.campaign, ctx.env.clock.now()) or message.reply_to):
        if message.addressed:
            await ctx.reply(message, "replies/photo_not_now")
        return
    await _keep(ctx, event, unit)


async def _keep(ctx: ChatContext, event: PhotoReceived, unit: Unit) -> None:
    message, limits = event.message, ctx.env.photos
    reason = _refused_as_stated(event, limits.max_bytes)
    if reason is None:
        try:
            content = await ctx.channel(event.platform).fetch(
                event.ref, max_bytes=limits.max_bytes, timeout=PHOTO_FETCH_TIMEOUT
            )
        except TooLarge:
            reason = "too_large"
        except FetchFailed:
            await ctx.reply(message, "replies/photo_fetch_failed")
            return
    if reason is not None:
        await _refuse(ctx, message, reason, limits.per_unit, limits.max_bytes)
        return
    result = await photos.add(
        ctx.env,
        unit.code,
        content,
        caption=event.caption,
        sender=message.sender,
        source=message.platform,
        sender_name=message.user_name,
    )
    if isinstance(result, photos.Refused):
        await _refuse(ctx, message, result.reason, result.limit, result.max_bytes)
    else:
        await ctx.reply(message, "replies/photo_kept", kept=result, caption=event.caption)


def _refused_as_stated(event: PhotoReceived, max_bytes: int) -> str | None:
    """Why to refuse from what the platform says alone; None: fetch it and see."""
    if not event.maybe_image:
        return "not_image"
    if event.size is not None and event.size > max_bytes:
        return "too_large"
    return None


async def _refuse(
    ctx: ChatContext, message: InboundMessage, reason: str, limit: int, max_bytes: int
) -> None:
    if reason == "full" and not message.addressed:
        return  # a group sharing its pictures, not meant for Loa: no refusal for each one
    max_mb = max_bytes / MB
    await ctx.reply(
        message, "replies/photo_refused", reason=reason, limit=limit, max_mb=f"{max_mb:g}"
    )


async def command(ctx: ChatContext, message: InboundMessage, args: str) -> None:
    """/anh: the unit's photos; `/anh xoa N` (or xoá, xóa) removes photo N."""
    _, chat, unit = await visit(ctx, message)
    if not chat.active or unit is None:
        await ctx.reply(message, "replies/not_registered")
        return
    if not args.strip():
        kept = await _listed(ctx, unit)
        await ctx.reply(message, "replies/photos_list", unit=unit, photos=kept)
        return
    found = _REMOVE.fullmatch(args.strip())
    if found is None:
        await ctx.reply(message, "replies/photos_usage")
        return
    number = int(found.group(1))
    removed = await photos.remove(ctx.env, unit.code, number, actor=message.sender)
    left = len(await photos.kept(ctx.env, unit.code))
    await ctx.reply(message, "replies/photo_removed", number=number, removed=removed, left=left)


async def _listed(ctx: ChatContext, unit: Unit) -> list[tuple[photos.Photo, dt.datetime]]:
    """The unit's photos, each with when it came in the campaign's time zone."""
    kept = await photos.kept(ctx.env, unit.code)
    return [(p, p.received_at.astimezone(ctx.campaign.tz)) for p in kept]
