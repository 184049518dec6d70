"""The units' figures: reading and recording a unit's answers, unusual ones held for a "yes",
what a unit has given and what it still owes, and the export's data.

A unit answers through a chat registered to it (`Place`); every answer is read by the core's
grammar (`bot.stats.grammar`) against the campaign's form. The faces ask and acknowledge; a
question or a read-back a face has sent is remembered here (`asked`, `hold`) so that a reply to it
can be read as an answer to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.campaign.model import Form, FormRow
from bot.campaign.scope import EVERYTHING, Scope
from bot.ops import photos
from bot.ops.env import Env
from bot.stats import grammar, table
from bot.stats.export import Export, ExportPhoto
from bot.stats.grammar import Accepted, Rejected, Value, printable
from bot.stats.table import UnitSheet
from bot.store import answers, chats
from bot.store.models import Prompt, PromptKind, Unit
from bot.store.payloads import Unconfirmed
from bot.store.units import unit_by_code

# A unit's photos in the report, the first it sent: "a few representative photos" (seed 001),
# four to a page; more would make a province's report a photo album of thousands of pages.
REPORT_PHOTOS = 4

T = TypeVar("T")
R = TypeVar("R")

# -- what answers are and what they give -----------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where an answer comes from: a registered chat (database id) and its unit."""

    chat_id: int
    unit: Unit


@dataclass(frozen=True)
class Entry:
    """A recorded figure: its row, as shown, and what it replaced."""

    row: FormRow
    text: str
    before: str | None = None


@dataclass(frozen=True)
class Refusal:
    code: str
    raw: str
    reason: str  # a grammar reason, "unknown_item" or "heading"
    row: FormRow | None = None


@dataclass(frozen=True)
class Unusual:
    """A valid figure that deserves a second look before it is recorded."""

    row: FormRow
    value: Value
    raw: str
    why: str  # a key of the grammar's unusual reasons

    @property
    def shown(self) -> str:
        return grammar.show(self.value, self.row)


@dataclass(frozen=True)
class Acknowledgement:
    """What an answer did: recorded, refused, what the unit still owes and, in a /baocao flow,
    the next item to ask. Its fields are the `replies/answers` template's context."""

    recorded: list[Entry]
    refused: list[Refusal]
    missing: list[FormRow]
    total: int  # answerable items of the form
    next_row: FormRow | None = None

    def fields(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Answered:
    """The outcome of an answer: its acknowledgement (None when nothing was recorded nor
    refused: it only held unusual figures), the unusual figures to read back, and the item a
    face should remember it asked if its acknowledgement is sent."""

    ack: Acknowledgement | None
    unusual: list[Unusual] = field(default_factory=list)
    asking: FormRow | None = None


@dataclass(frozen=True)
class TooMany:
    """More lines than the form has items: a flood or a paste gone wrong, not an answer."""

    lines: int
    rows: int


@dataclass(frozen=True)
class Question:
    """The item to ask a unit for, and everything it still owes."""

    row: FormRow
    missing: list[FormRow]


@dataclass(frozen=True)
class UnitFigures:
    """A unit's figures as given: each answerable row with its value shown (None: missing)."""

    unit: Unit
    lines: list[tuple[FormRow, str | None]]
    missing: list[FormRow]


# -- where from ------------------------------------------------------------------------------------


async def place_of(env: Env, platform: str, chat_id: str) -> Place | None:
    """The unit a chat answers for: None unless the chat is registered and active."""
    async with env.db.session() as session:
        chat = await chats.find(session, platform, chat_id)
        if chat is None or not chat.active or chat.unit_id is None:
            return None
        unit = await chats.unit_of(session, chat)
    return Place(chat.id, unit) if unit is not None else None


async def find_unit(env: Env, code: str, scope: Scope = EVERYTHING) -> Unit | None:
    """The unit with this code, as a coordinator types it; None beyond the coordinator's
    `scope`."""
    async with env.db.session() as session:
        unit = await unit_by_code(session, code)
    return unit if unit is not None and scope.covers(unit.parent) else None


async def prompt_for(env: Env, place: Place, reply_to: str | None) -> Prompt | None:
    """The question a message answers: the one it replies to (`reply_to`, the platform's
    message id), else the chat's latest. A question sent while the chat belonged to another
    unit answers nothing."""
    found = await env.db.batched(_prompts)((env.campaign_key, (place.chat_id, reply_to)))
    return found if found is not None and found.unit_id == place.unit.id else None


# -- answering -------------------------------------------------------------------------------------


async def record(
    env: Env,
    place: Place,
    pairs: Sequence[tuple[str, str]],
    author: str,
    flow: bool = False,
) -> Answered | TooMany:
    """Read each `(code, text)`: record what is valid, hold back what is unusual.

    `flow`: the answer came to a /baocao question, so the acknowledgement names the next one.
    """
    form = _form(env)
    if len(pairs) > (most := len(table.answerable(form))):
        # which of its repeats would count is a guess, and an acknowledgement of each line
        # would hold up the chat for minutes
        return TooMany(len(pairs), most)
    valid, refused, unusual = _read(form, pairs)
    recorded, answered = await _store(env, place.unit, place.chat_id, valid, author)
    if not (recorded or refused):
        return Answered(None, unusual)
    ack = acknowledgement(
        form, recorded, refused, answered, ask_next=flow and not refused and not unusual
    )
    retry = refused[0].row if len(pairs) == 1 and refused and refused[0].row else None
    asking = ack.next_row or (retry if retry and retry.answer else None)
    return Answered(ack, unusual, asking)


def _read(
    form: Form, pairs: Sequence[tuple[str, str]], confirmed: frozenset[str] = frozenset()
) -> tuple[list[tuple[FormRow, Value, str]], list[Refusal], list[Unusual]]:
    """Each `(code, text)` read: the valid figures, the refused and the unusual ones (those of
    `confirmed` rows count as valid: their unit already said yes)."""
    rows = _rows(form)
    valid: list[tuple[FormRow, Value, str]] = []
    refused: list[Refusal] = []
    unusual: list[Unusual] = []
    for code, raw in pairs:
        row = rows.get(code)
        if row is None or row.answer is None:
            reason = "unknown_item" if row is None else "heading"
            refused.append(Refusal(code, raw, reason, row))
            continue
        reading = grammar.read(raw, row)
        if isinstance(reading, Rejected):
            refused.append(Refusal(code, raw, reading.reason, row))
        elif reading.unusual and code not in confirmed:
            unusual.append(Unusual(row, reading.value, raw, reading.unusual))
        else:
            valid.append((row, reading.value, raw))
    return valid, refused, unusual


@dataclass(frozen=True)
class Entered:
    """What a unit's form on the web did: the acknowledgement (what was recorded and refused,
    what is still missing), and the unusual figures waiting for the unit's "yes"."""

    ack: Acknowledgement
    unusual: list[Unusual]


async def enter(
    env: Env,
    unit: Unit,
    pairs: Sequence[tuple[str, str]],
    author: str,
    confirmed: frozenset[str] = frozenset(),
) -> Entered:
    """Figures typed in the unit's form on the web (no chat): read like a chat's answer, a
    figure equal to the unit's current one left alone (a page posts every row), unusual ones
    held until the page sends them again with their row in `confirmed`."""
    form = _form(env)
    async with env.db.session() as session:
        known = await answers.values(session, env.campaign_key, unit.id)
    valid, refused, unusual = _read(form, pairs, confirmed)
    changed = [(row, value, raw) for row, value, raw in valid if known.get(row.code) != value]
    unusual = [u for u in unusual if known.get(u.row.code) != u.value]
    if changed:
        recorded, answered = await _store(env, unit, None, changed, author)
    else:
        recorded, answered = [], frozenset(known)
    return Entered(acknowledgement(form, recorded, refused, answered), unusual)


async def confirm(env: Env, place: Place, prompt: Prompt, author: str) -> Acknowledgement | None:
    """ "Yes" to a read-back: record the figures it held, those still in the form and not given
    again since; None when none is left to record."""
    form = _form(env)
    held = prompt.unconfirmed
    assert held is not None
    rows = _rows(form)
    async with env.db.session() as session:  # a figure sent since the read-back replaces it
        newer = await answers.answered_since(
            session, env.campaign_key, place.unit.id, prompt.items, prompt.created_at
        )
    valid = [
        (rows[code], value, raw)
        for code, (value, raw) in zip(prompt.items, held.answers, strict=True)
        if code in rows and code not in newer
    ]
    recorded, answered = await _store(
        env, place.unit, place.chat_id, valid, author, settles=prompt.id
    )
    if not recorded:
        return None
    return acknowledgement(form, recorded, [], answered)


def acknowledgement(
    form: Form,
    recorded: list[Entry],
    refused: list[Refusal],
    answered: frozenset[str] | dict[str, Value],
    ask_next: bool = False,
) -> Acknowledgement:
    missing = table.missing(form, answered)
    next_row = missing[0] if ask_next and missing else None
    return Acknowledgement(recorded, refused, missing, len(table.answerable(form)), next_row)


async def asked(env: Env, place: Place, message_id: str, rows: Sequence[FormRow]) -> None:
    """A face asked the unit for `rows` in its message `message_id`: a reply to it answers them."""
    await _remember(env, place, message_id, PromptKind.ITEM, [row.code for row in rows])


async def hold(env: Env, place: Place, message_id: str, unusual: Sequence[Unusual]) -> None:
    """A face read `unusual` back in its message `message_id`: a "yes" to it records them."""
    pending = Unconfirmed.of((u.value, u.raw) for u in unusual)
    items = [u.row.code for u in unusual]
    await _remember(env, place, message_id, PromptKind.CONFIRM, items, pending)


async def next_question(
    env: Env, place: Place, code: str = ""
) -> Question | Acknowledgement | None:
    """What to ask the unit: the item `code` names, else its first missing one. An
    acknowledgement refusing `code` when it names no item that takes a figure; None when the
    unit has answered everything."""
    form = _form(env)
    async with env.db.session() as session:
        known = await answers.values(session, env.campaign_key, place.unit.id)
    missing = table.missing(form, known)
    if code:
        row = _rows(form).get(code)
        if row is None or row.answer is None:
            refusal = Refusal(code, "", "unknown_item" if row is None else "heading", row)
            return acknowledgement(form, [], [refusal], known)
        return Question(row, missing)
    return Question(missing[0], missing) if missing else None


async def figures_of(env: Env, unit: Unit) -> UnitFigures:
    """What the unit has entered, row by row, and what it still owes."""
    form = _form(env)
    async with env.db.session() as session:
        known = await answers.values(session, env.campaign_key, unit.id)
    lines = [
        (row, grammar.show(known[row.code], row) if row.code in known else None)
        for row in table.answerable(form)
    ]
    return UnitFigures(unit, lines, table.missing(form, known))


async def values_of(env: Env, unit: Unit) -> dict[str, Value]:
    """The unit's current value of each row it has answered (its form on the web shows them)."""
    async with env.db.session() as session:
        return await answers.values(session, env.campaign_key, unit.id)


def any_figure(form: Form, found: Sequence[tuple[str, str]]) -> bool:
    """Whether some `MÃ: SỐ` line is a figure the form can take."""
    rows = _rows(form)
    return any(
        code in rows
        and rows[code].answer is not None
        and isinstance(grammar.read(raw, rows[code]), Accepted)
        for code, raw in found
    )


# -- the export ------------------------------------------------------------------------------------


async def gather(env: Env, scope: Scope = EVERYTHING) -> Export:
    """Every unit of `scope` and its answers, by the campaign's unit types, then as the units
    were listed."""
    campaign = env.campaign
    async with env.db.session() as session:
        units = scope.within(await chats.unit_rows(session), lambda unit: unit.parent)
        given = await answers.every_unit(session, env.campaign_key)
    order = {audience.code: index for index, audience in enumerate(campaign.audiences)}
    units.sort(key=lambda u: (order.get(u.type, len(order)), u.id))  # as the office listed them
    sheets = [
        UnitSheet(u.code, printable(u.name), u.type, given.get(u.id, {}), _parent(u.parent))
        for u in units
    ]
    kept = await photos.for_report(env, [u.code for u in units])
    shown = {
        code: [
            ExportPhoto(photos.path(env, p), printable(p.caption), p.width, p.height)
            for p in found[:REPORT_PHOTOS]
        ]
        for code, found in kept.items()
    }
    return Export(campaign, sheets, env.clock.now().astimezone(campaign.tz), shown)


def _parent(parent: str | None) -> str | None:
    shown = printable(parent or "").strip()
    return shown or None


# -- the store -------------------------------------------------------------------------------------


async def _store(
    env: Env,
    unit: Unit,
    chat_id: int | None,
    valid: Sequence[tuple[FormRow, Value, str]],
    author: str,
    settles: int | None = None,
) -> tuple[list[Entry], frozenset[str]]:
    """Store the valid figures (and settle the read-back they confirm): the entries, and the
    items the unit has answered afterwards."""
    given = [(row.code, value, raw) for row, value, raw in valid]
    record = answers.Record(unit.id, given, chat_id, author, env.clock.now(), settles=settles)
    done = await env.db.batched(_records)((env.campaign_key, record))
    entries = []
    for (row, value, _), before in zip(valid, done.befores, strict=True):
        shown_before = grammar.show(before, row) if before is not None else None
        entries.append(Entry(row, grammar.show(value, row), shown_before))
    return entries, done.answered


async def _remember(
    env: Env,
    place: Place,
    message_id: str,
    kind: PromptKind,
    items: list[str],
    pending: Unconfirmed | None = None,
) -> None:
    async with env.db.session() as session, session.begin():
        answers.asked(
            session,
            env.campaign_key,
            place.chat_id,
            place.unit.id,
            message_id,
            kind,
            items,
            pending,
            at=env.clock.now(),
        )


# What messages ask of the database is batched (`Database.batched`): the answers and questions
# of a busy moment share one transaction. Batches group by function, so these are module-level
# functions and each item names its campaign.

Asked = tuple[int, str | None]  # (chat id, the platform's id of the message replied to)


async def _prompts(
    session: AsyncSession, asked: Sequence[tuple[str, Asked]]
) -> list[Prompt | None]:
    return await _per_campaign(session, asked, answers.prompts)


async def _records(
    session: AsyncSession, records: Sequence[tuple[str, answers.Record]]
) -> list[answers.Recorded]:
    return await _per_campaign(session, records, answers.record_all)


async def _per_campaign(
    session: AsyncSession,
    items: Sequence[tuple[str, T]],
    work: Callable[[AsyncSession, str, Sequence[T]], Awaitable[Sequence[R]]],
) -> list[R]:
    """`work(session, campaign, its items)` for each campaign among `items`; results in order."""
    by_campaign: dict[str, list[int]] = {}
    for index, (campaign, _) in enumerate(items):
        by_campaign.setdefault(campaign, []).append(index)
    results: dict[int, R] = {}
    for campaign, indexes in by_campaign.items():
        done = await work(session, campaign, [items[index][1] for index in indexes])
        results.update(zip(indexes, done, strict=True))
    return [results[index] for index in range(len(items))]


def _form(env: Env) -> Form:
    form = env.campaign.form
    assert form is not None, "the faces answer 'no form' before asking for figures"
    return form


def _rows(form: Form) -> dict[str, FormRow]:
    return {row.code: row for row in form.rows()}
