"""Units in the database: importing a coordinator's CSV, listing them, finding one by its code.

A unit's registration code is what its staff type (`/dangky MÃ`) in the unit's chat to bind the
chat to the unit, so it is unambiguous on a phone keyboard and split in two halves (`ABCDE-FGHJK`)
to read aloud. Re-importing the CSV never changes it: the coordinator may already have sent it out.

Why ten characters: a group may try 5 wrong codes in 15 minutes, so 5,000 groups try 8.8e8 a year;
with 10,000 codes unspent, a first hit among 32**10 (1.1e15) codes takes about 128 years (the
bot-wide budget of `bot.conversation.registration` makes it far longer). Six-character codes
issued before are still read: 32**6 would fall in days to the same groups.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.campaign import units as csv_units
from bot.store.models import Chat, Unit

# No 0/O or 1/I: people copy the code from a printed list or a screenshot into a phone.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10  # without the dash; see the module's docstring for why
LEGACY_LENGTH = 6  # codes issued before issue 14, kept until spent or expired
_TYPED_NOISE = re.compile(r"[\s\-‐‑‒–—_.]+")  # spaces, dashes (incl. typographic), dots


def new_registration_code() -> str:
    """`ABCDE-FGHJK`: stored as shown, so lists, sheets and the web print it one way."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return _with_dash(code)


def stored_form(typed: str) -> str | None:
    """A typed code as the database holds it (`abcde fghjk` -> `ABCDE-FGHJK`, an older
    `abc-234` -> `ABC234`); None when it cannot be a code at all."""
    code = normalise_code(typed)
    if not set(code) <= set(ALPHABET):
        return None
    if len(code) == CODE_LENGTH:
        return _with_dash(code)
    return code if len(code) == LEGACY_LENGTH else None


def _with_dash(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class UnitListing:
    """A unit and every chat bound to it, active ones first."""

    unit: Unit
    chats: tuple[Chat, ...]


async def import_units(session: AsyncSession, units: Sequence[csv_units.Unit]) -> ImportResult:
    """Upsert by unit code: new units get a fresh code, known ones keep theirs.

    Units missing from `units` are left alone: a CSV may list only some of them, and a unit's
    chats and answers must not disappear because a row was left out.
    """
    known = {unit.code.lower(): unit for unit in await session.scalars(select(Unit))}
    taken = {unit.registration_code for unit in known.values()}
    created = updated = 0
    for row in units:
        unit = known.get(row.code.lower())  # "TH-A" and "th-a" are one unit
        if unit is None:
            code = _unused_code(taken)
            taken.add(code)
            known[row.code.lower()] = Unit(
                code=row.code,
                name=row.name,
                type=row.type,
                parent=row.parent,
                registration_code=code,
            )
            session.add(known[row.code.lower()])
            created += 1
        elif (unit.name, unit.type, unit.parent) != (row.name, row.type, row.parent):
            unit.name, unit.type, unit.parent = row.name, row.type, row.parent
            updated += 1
    await session.flush()
    return ImportResult(created, updated, len(units) - created - updated)


async def list_units(session: AsyncSession) -> list[UnitListing]:
    """Every unit by code (sorted here, so SQLite and PostgreSQL collations agree)."""
    units = sorted(await session.scalars(select(Unit)), key=lambda unit: unit.code)
    chats: dict[int | None, list[Chat]] = {}
    for chat in await session.scalars(
        select(Chat).where(Chat.unit_id.is_not(None)).order_by(Chat.id)
    ):
        chats.setdefault(chat.unit_id, []).append(chat)
    return [
        UnitListing(unit, tuple(sorted(chats.get(unit.id, []), key=lambda c: not c.active)))
        for unit in units
    ]


async def unit_by_code(session: AsyncSession, code: str) -> Unit | None:
    """The unit with this code, as the coordinator types it: `TH-UPPER`, `th-upper`."""
    return await session.scalar(select(Unit).where(Unit.code_key == code.strip().lower()))


async def unit_by_registration_code(session: AsyncSession, code: str) -> Unit | None:
    """The unit whose code this is, however it was typed: `abcde-fghjk`, `ABCDE FGHJK`."""
    stored = stored_form(code)
    if stored is None:
        return None
    return await session.scalar(select(Unit).where(Unit.registration_code == stored))


def normalise_code(typed: str) -> str:
    return _TYPED_NOISE.sub("", typed).upper()


def _unused_code(taken: set[str]) -> str:
    while (code := new_registration_code()) in taken:
        pass
    return code
