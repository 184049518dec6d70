"""Figures from the units: replies to the form's prompts, `MÃ: SỐ` lines, /baocao, /xem, /sua.

A chat answers for its own unit only: the unit is always the one the chat is registered to, and a
reply counts only when it answers a prompt sent to that chat for that unit. Unusual figures are
read back and recorded once the sender says "đúng".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.campaign.model import Form, FormRow
from bot.channels.base import InboundMessage
from bot.stats import grammar, table
from bot.stats.grammar import Accepted, Rejected, Value
from bot.store import answers, chats
from bot.store.models import Chat, Prompt, PromptKind, Unit
from bot.store.units import unit_by_code

if TYPE_CHECKING:
    from bot.app import Loa

YES = {"đúng", "dung", "đúng rồi", "đúng vậy", "ok", "oke", "okay", "xác nhận", "chính xác"}
_EDIT = re.compile(r"\s*(?:mục\s*)?(\d{1,2}(?:\.\d{1,2})*)\s*[:=]?\s*(.*)", re.DOTALL | re.I)


@dataclass(frozen=True)
class Place:
    """Where an answer comes from: a registered chat (database id) and its unit."""

    chat_id: int
    unit: Unit


@dataclass(frozen=True)
class Entry:
    """A recorded figure, for the acknowledgement: its row, as shown, and what it replaced."""

    row: FormRow
    text: str
    before: str | None = None


@dataclass(frozen=True)
class Refusal:
    code: str
    raw: str
    reason: str  # a grammar reason, "unknown_item" or "heading"
    row: FormRow | None = None


# -- entry points ---------------------------------------------------------------------------------


async def on_text(loa: Loa, message: InboundMessage, chat: Chat, unit: Unit | None) -> bool:
    """Take a text that is not a command as figures if it is one; False when it is not.

    `chat` and `unit` are the message's, as the dispatcher just read them.
    """
    form = loa.campaign.form
    if form is None:
        return False
    found = grammar.items(message.text)
    place = Place(chat.id, unit) if chat.active and unit is not None else None
    if place is None:  # figures from a chat of no unit are nobody's
        if found and message.addressed:
            await loa.reply(message, "replies/not_registered")
        return bool(found and message.addressed)
    if found and not (message.addressed or _any_figure(form, found)):
        return False  # group talk the bot overheard ("2: mang theo sổ"), not figures
    if found:
        await _answer(loa, message, place, found)
        return True
    prompt = await _prompt(loa, message, place)
    if prompt is None:
        return False
    if prompt.pending is not None and _is_yes(message.text):
        await _confirm(loa, message, place, prompt)
    elif len(prompt.items) == 1 and (message.reply_to or prompt.kind != PromptKind.SECTION):
        # a part of the form is answered by a bare figure only in a reply to it: the parts go
        # out together, so "the latest" would be a guess
        flow = prompt.kind == PromptKind.ITEM
        await _answer(loa, message, place, [(prompt.items[0], message.text)], flow=flow)
    else:
        rows = [row for row in table.answerable(form) if row.code in prompt.items]
        await loa.reply(message, "replies/answer_format", rows=rows)
    return True


async def start(loa: Loa, message: InboundMessage, args: str) -> None:
    """/baocao: ask the next missing item; `/baocao 5.2` asks that one; lines answer."""
    place = await _ready(loa, message)
    if place is None:
        return
    form = loa.campaign.form
    assert form is not None
    found = grammar.items(args)
    if found:
        await _answer(loa, message, place, found)
        return
    code = args.strip().rstrip(":=").strip()
    async with loa.db.session() as session:
        known = await answers.values(session, loa.campaign_key, place.unit.id)
    missing = table.missing(form, known)
    if code:
        row = _rows(form).get(code)
        if row is None or row.answer is None:
            refusal = Refusal(code, "", "unknown_item" if row is None else "heading", row)
            await loa.reply(message, "replies/answers", **_ack([], [refusal], missing, form))
            return
        await _ask(loa, message, place, row, missing)
    elif missing:
        await _ask(loa, message, place, missing[0], missing)
    else:
        await loa.reply(message, "replies/answers_complete", unit=place.unit, form=form)


async def show(loa: Loa, message: InboundMessage, args: str) -> None:
    """/xem: what the unit has entered and what is missing; a coordinator may name a unit."""
    form = loa.campaign.form
    if form is None:
        await loa.reply(message, "replies/no_form")
        return
    code = args.strip()
    async with loa.db.session() as session:
        if code and loa.is_coordinator(message.sender):
            unit = await unit_by_code(session, code)
            if unit is None:
                await loa.reply(message, "replies/unknown_unit", code=code)
                return
        else:
            place = await _place(session, message)
            if place is None:
                await loa.reply(message, "replies/not_registered")
                return
            unit = place.unit
        known = await answers.values(session, loa.campaign_key, unit.id)
    lines = [
        (row, grammar.show(known[row.code], row) if row.code in known else None)
        for row in table.answerable(form)
    ]
    await loa.reply(
        message, "replies/answers_view", unit=unit, lines=lines, missing=table.missing(form, known)
    )


async def correct(loa: Loa, message: InboundMessage, args: str) -> None:
    """/sua MÃ GIÁ-TRỊ: replace the unit's figure for one row (the old one stays in history)."""
    place = await _ready(loa, message)
    if place is None:
        return
    match = _EDIT.fullmatch(args)
    if not match or not match[2].strip():
        await loa.reply(message, "replies/correct_usage")
        return
    await _answer(loa, message, place, [(match[1], match[2])])


# -- answering ------------------------------------------------------------------------------------


async def _answer(
    loa: Loa,
    message: InboundMessage,
    place: Place,
    pairs: Sequence[tuple[str, str]],
    flow: bool = False,
) -> None:
    """Read each `(code, text)`, record what is valid, read back what is unusual, then say so.

    `flow`: the answer came to a /baocao question, so the acknowledgement asks the next one.
    """
    form = loa.campaign.form
    assert form is not None
    if len(pairs) > (most := len(table.answerable(form))):
        # not an answer but a flood (or a paste gone wrong): which of its repeats would count
        # is a guess, and an acknowledgement of each line would hold up the chat for minutes
        await loa.reply(message, "replies/answers_too_many", lines=len(pairs), rows=most)
        return
    rows = _rows(form)
    valid: list[tuple[FormRow, Value, str]] = []
    refused: list[Refusal] = []
    unusual: list[tuple[FormRow, Accepted, str]] = []
    for code, raw in pairs:
        row = rows.get(code)
        if row is None or row.answer is None:
            reason = "unknown_item" if row is None else "heading"
            refused.append(Refusal(code, raw, reason, row))
            continue
        reading = grammar.read(raw, row)
        if isinstance(reading, Rejected):
            refused.append(Refusal(code, raw, reading.reason, row))
        elif reading.unusual:
            unusual.append((row, reading, raw))
        else:
            valid.append((row, reading.value, raw))
    recorded, answered = await _record(loa, message, place, valid)
    missing = table.missing(form, answered)
    if recorded or refused:
        ack = _ack(recorded, refused, missing, form, ask_next=flow and not refused and not unusual)
        message_id = await loa.reply(message, "replies/answers", **ack)
        retry = refused[0].row if len(pairs) == 1 and refused and refused[0].row else None
        asking = ack["next_row"] or (retry if retry and retry.answer else None)
        if asking is not None and message_id is not None:
            await _asked(loa, place, message_id, PromptKind.ITEM, [asking.code])
    if unusual:  # one read-back for all of them: one "đúng" confirms what it shows
        shown = [(row, grammar.show(r.value, row), r.unusual) for row, r, _ in unusual]
        message_id = await loa.reply(message, "replies/answer_unusual", unusual=shown)
        if message_id is not None:
            pending = {"answers": [[answers.stored(r.value), raw] for _, r, raw in unusual]}
            items = [row.code for row, _, _ in unusual]
            await _asked(loa, place, message_id, PromptKind.CONFIRM, items, pending)


async def _confirm(loa: Loa, message: InboundMessage, place: Place, prompt: Prompt) -> None:
    """ "đúng" to a read-back: record the figures it held (those still in the form)."""
    form = loa.campaign.form
    assert form is not None and prompt.pending is not None
    rows = _rows(form)
    async with loa.db.session() as session:  # a figure sent since the read-back replaces it
        newer = await answers.answered_since(
            session, loa.campaign_key, place.unit.id, prompt.items, prompt.created_at
        )
    valid = [
        (rows[code], answers.loaded(value), raw)
        for code, (value, raw) in zip(prompt.items, prompt.pending["answers"], strict=True)
        if code in rows and code not in newer
    ]
    recorded, answered = await _record(loa, message, place, valid, settled=prompt.id)
    if not recorded:
        await loa.reply(message, "replies/confirm_stale")
        return
    missing = table.missing(form, answered)
    await loa.reply(message, "replies/answers", **_ack(recorded, [], missing, form))


async def _record(
    loa: Loa,
    message: InboundMessage,
    place: Place,
    valid: Sequence[tuple[FormRow, Value, str]],
    settled: int | None = None,
) -> tuple[list[Entry], frozenset[str]]:
    """Store the valid figures (and settle the read-back they confirm): the entries for the
    acknowledgement, and the items the unit has answered afterwards."""
    done = await loa.record(
        answers.Record(
            place.unit.id,
            [(row.code, value, raw) for row, value, raw in valid],
            place.chat_id,
            message.sender,
            loa.clock.now(),
            settles=settled,
        )
    )
    entries = []
    for (row, value, _), before in zip(valid, done.befores, strict=True):
        shown_before = grammar.show(before, row) if before is not None else None
        entries.append(Entry(row, grammar.show(value, row), shown_before))
    return entries, done.answered


def _ack(
    recorded: list[Entry],
    refused: list[Refusal],
    missing: list[FormRow],
    form: Form,
    ask_next: bool = False,
) -> dict[str, object]:
    return {
        "recorded": recorded,
        "refused": refused,
        "missing": missing,
        "total": len(table.answerable(form)),
        "next_row": missing[0] if ask_next and missing else None,
    }


async def _ask(
    loa: Loa, message: InboundMessage, place: Place, row: FormRow, missing: list[FormRow]
) -> None:
    message_id = await loa.reply(message, "replies/answer_ask", row=row, missing=missing)
    if message_id is not None:
        await _asked(loa, place, message_id, PromptKind.ITEM, [row.code])


async def _asked(
    loa: Loa,
    place: Place,
    message_id: str,
    kind: PromptKind,
    items: list[str],
    pending: dict[str, object] | None = None,
) -> None:
    async with loa.db.session() as session, session.begin():
        answers.asked(
            session,
            loa.campaign_key,
            place.chat_id,
            place.unit.id,
            message_id,
            kind,
            items,
            pending,
            at=loa.clock.now(),
        )


# -- where from -----------------------------------------------------------------------------------


async def _place(session: AsyncSession, message: InboundMessage) -> Place | None:
    chat = await chats.find(session, message.platform, message.chat_id)
    if chat is None or not chat.active or chat.unit_id is None:
        return None
    unit = await chats.unit_of(session, chat)
    return Place(chat.id, unit) if unit is not None else None


async def _prompt(loa: Loa, message: InboundMessage, place: Place) -> Prompt | None:
    """The prompt this message answers: the one it replies to, else (in a private chat, or a
    mention where replies are not marked, as on Zalo) the chat's latest.

    A prompt sent while the chat belonged to another unit answers nothing.
    """
    if message.reply_to is None and not message.addressed:
        return None
    found = await loa.prompt((place.chat_id, message.reply_to))
    return found if found is not None and found.unit_id == place.unit.id else None


async def _ready(loa: Loa, message: InboundMessage) -> Place | None:
    """The chat's place when it can report; otherwise say why not and return None."""
    if loa.campaign.form is None:
        await loa.reply(message, "replies/no_form")
        return None
    async with loa.db.session() as session:
        place = await _place(session, message)
    if place is None:
        await loa.reply(message, "replies/not_registered")
    return place


def _rows(form: Form) -> dict[str, FormRow]:
    return {row.code: row for row in form.rows()}


def _any_figure(form: Form, found: Sequence[tuple[str, str]]) -> bool:
    """Whether some `MÃ: SỐ` line is a figure the form can take."""
    rows = _rows(form)
    return any(
        code in rows
        and rows[code].answer is not None
        and isinstance(grammar.read(raw, rows[code]), Accepted)
        for code, raw in found
    )


def _is_yes(text: str) -> bool:
    clean = unicodedata.normalize("NFC", text).lower().strip(" .!")
    return clean in YES
