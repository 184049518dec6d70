"""Figures from the units: replies to the form's prompts, `MÃ: SỐ` lines, /baocao, /xem, /sua.

A chat answers for its own unit only: the unit is always the one the chat is registered to, and a
reply counts only when it answers a prompt sent to that chat for that unit. Unusual figures are
read back and recorded once the sender says "đúng". The reading and recording are the
operations' (`bot.ops.figures`); what is typed in a chat ("đúng", `/sua 1.2 3/120`) is read here.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.channels.base import InboundMessage
from bot.ops import figures, unitlinks
from bot.ops.figures import Acknowledgement, Answered, Place, Question, TooMany
from bot.ops.registration import codes_expire
from bot.stats import grammar, table
from bot.store.models import Chat, Prompt, PromptKind, Unit

if TYPE_CHECKING:
    from bot.conversation.context import ChatContext

YES = {"đúng", "dung", "đúng rồi", "đúng vậy", "ok", "oke", "okay", "xác nhận", "chính xác"}
_EDIT = re.compile(r"\s*(?:mục\s*)?(\d{1,2}(?:\.\d{1,2})*)\s*[:=]?\s*(.*)", re.DOTALL | re.I)


# -- entry points ---------------------------------------------------------------------------------


async def on_text(ctx: ChatContext, message: InboundMessage, chat: Chat, unit: Unit | None) -> bool:
    """Take a text that is not a command as figures if it is one; False when it is not.

    `chat` and `unit` are the message's, as the dispatcher just read them.
    """
    form = ctx.campaign.form
    if form is None:
        return False
    found = grammar.items(message.text)
    place = Place(chat.id, unit) if chat.active and unit is not None else None
    if place is None:  # figures from a chat of no unit are nobody's
        if found and message.addressed:
            await ctx.reply(message, "replies/not_registered")
        return bool(found and message.addressed)
    if found and not (message.addressed or figures.any_figure(form, found)):
        return False  # group talk the bot overheard ("2: mang theo sổ"), not figures
    if found:
        await _answer(ctx, message, place, found)
        return True
    prompt = await _prompt(ctx, message, place)
    if prompt is None:
        return False
    if prompt.pending is not None and _is_yes(message.text):
        await _confirm(ctx, message, place, prompt)
    elif len(prompt.items) == 1 and (message.reply_to or prompt.kind != PromptKind.SECTION):
        # a part of the form is answered by a bare figure only in a reply to it: the parts go
        # out together, so "the latest" would be a guess
        flow = prompt.kind == PromptKind.ITEM
        await _answer(ctx, message, place, [(prompt.items[0], message.text)], flow=flow)
    else:
        rows = [row for row in table.answerable(form) if row.code in prompt.items]
        await ctx.reply(message, "replies/answer_format", rows=rows)
    return True


async def start(ctx: ChatContext, message: InboundMessage, args: str) -> None:
    """/baocao: ask the next missing item; `/baocao 5.2` asks that one; lines answer."""
    place = await _ready(ctx, message)
    if place is None:
        return
    found = grammar.items(args)
    if found:
        await _answer(ctx, message, place, found)
        return
    code = args.strip().rstrip(":=").strip()
    asking = await figures.next_question(ctx.env, place, code)
    if isinstance(asking, Question):
        await _ask(ctx, message, place, asking)
    elif isinstance(asking, Acknowledgement):
        await ctx.reply(message, "replies/answers", **asking.fields())
    else:
        await ctx.reply(
            message, "replies/answers_complete", unit=place.unit, form=ctx.campaign.form
        )


async def show(ctx: ChatContext, message: InboundMessage, args: str) -> None:
    """/xem: what the unit has entered and what is missing; a coordinator may name a unit."""
    if ctx.campaign.form is None:
        await ctx.reply(message, "replies/no_form")
        return
    code = args.strip()
    if code and ctx.is_coordinator(message.sender):
        unit = await figures.find_unit(ctx.env, code, ctx.scope_of(message.sender))
        if unit is None:
            await ctx.reply(message, "replies/unknown_unit", code=code)
            return
    else:
        place = await figures.place_of(ctx.env, message.platform, message.chat_id)
        if place is None:
            await ctx.reply(message, "replies/not_registered")
            return
        unit = place.unit
    given = await figures.figures_of(ctx.env, unit)
    await ctx.reply(
        message, "replies/answers_view", unit=unit, lines=given.lines, missing=given.missing
    )


async def correct(ctx: ChatContext, message: InboundMessage, args: str) -> None:
    """/sua MÃ GIÁ-TRỊ: replace the unit's figure for one row (the old one stays in history)."""
    place = await _ready(ctx, message)
    if place is None:
        return
    match = _EDIT.fullmatch(args)
    if not match or not match[2].strip():
        await ctx.reply(message, "replies/correct_usage")
        return
    await _answer(ctx, message, place, [(match[1], match[2])])


# -- answering ------------------------------------------------------------------------------------


async def _answer(
    ctx: ChatContext,
    message: InboundMessage,
    place: Place,
    pairs: Sequence[tuple[str, str]],
    flow: bool = False,
) -> None:
    """Record the answer, acknowledge it, read back what is unusual; remember each question
    asked so that a reply to it answers it.

    `flow`: the answer came to a /baocao question, so the acknowledgement asks the next one.
    """
    answered = await figures.record(ctx.env, place, pairs, message.sender, flow)
    if isinstance(answered, TooMany):
        await ctx.reply(
            message, "replies/answers_too_many", lines=answered.lines, rows=answered.rows
        )
        return
    await _acknowledge(ctx, message, place, answered)
    if answered.unusual:  # one read-back for all of them: one "đúng" confirms what it shows
        shown = [(u.row, u.shown, u.why) for u in answered.unusual]
        message_id = await ctx.reply(message, "replies/answer_unusual", unusual=shown)
        if message_id is not None:
            await figures.hold(ctx.env, place, message_id, answered.unusual)


async def _acknowledge(
    ctx: ChatContext, message: InboundMessage, place: Place, answered: Answered
) -> None:
    if answered.ack is None:
        return
    message_id = await ctx.reply(message, "replies/answers", **answered.ack.fields())
    if answered.asking is not None and message_id is not None:
        await figures.asked(ctx.env, place, message_id, [answered.asking])


async def _confirm(ctx: ChatContext, message: InboundMessage, place: Place, prompt: Prompt) -> None:
    """ "đúng" to a read-back: record the figures it held (those still in the form)."""
    ack = await figures.confirm(ctx.env, place, prompt, message.sender)
    if ack is None:
        await ctx.reply(message, "replies/confirm_stale")
        return
    await ctx.reply(message, "replies/answers", **ack.fields())


async def _ask(ctx: ChatContext, message: InboundMessage, place: Place, asking: Question) -> None:
    message_id = await ctx.reply(
        message, "replies/answer_ask", row=asking.row, missing=asking.missing
    )
    if message_id is not None:
        await figures.asked(ctx.env, place, message_id, [asking.row])


# -- where from -----------------------------------------------------------------------------------


async def _prompt(ctx: ChatContext, message: InboundMessage, place: Place) -> Prompt | None:
    """The prompt this message answers: the one it replies to, else (in a private chat, or a
    mention where replies are not marked, as on Zalo) the chat's latest.
    """
    if message.reply_to is None and not message.addressed:
        return None
    return await figures.prompt_for(ctx.env, place, message.reply_to)


async def web_form(ctx: ChatContext, message: InboundMessage, args: str) -> None:
    """/nhaplieu: the unit's own link to its form on the web (a new one each time; the older
    ones still work until a coordinator resets them)."""
    place = await _ready(ctx, message)
    if place is None:
        return
    if ctx.web_link("/") is None:
        await ctx.reply(message, "replies/form_link_off")
        return
    token = await unitlinks.issue(ctx.env, place.unit)
    await ctx.reply(
        message,
        "replies/form_link",
        unit=place.unit,
        link=ctx.web_link(f"/f/{token}"),
        until=(codes_expire(ctx.campaign) - dt.timedelta(microseconds=1)).date(),  # its last day
    )


async def _ready(ctx: ChatContext, message: InboundMessage) -> Place | None:
    """The chat's place when it can report; otherwise say why not and return None."""
    if ctx.campaign.form is None:
        await ctx.reply(message, "replies/no_form")
        return None
    place = await figures.place_of(ctx.env, message.platform, message.chat_id)
    if place is None:
        await ctx.reply(message, "replies/not_registered")
    return place


def _is_yes(text: str) -> bool:
    clean = unicodedata.normalize("NFC", text).lower().strip(" .!")
    return clean in YES
