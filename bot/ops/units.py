"""The units: loading an office's list of them, and listing them with their codes and chats.

The file is read, and every row checked, by the core (`bot.campaign.loader.load_units`) before
any of this runs: a bad file changes nothing.

Units belong to the database, not to one campaign (`loa units import` may run without a
campaign file), so `import_units` and `list_units` take the database rather than an `Env`; a face
holding an `Env` passes `env.db`. The console's roster (`roster`, `completions`, `Filter`) and its
upload (`import_upload`) are about one campaign: they take its `Env`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.campaign import units as csv_units
from bot.campaign.loader import load_units
from bot.campaign.scope import EVERYTHING, Scope, fold
from bot.errors import Invalid, Problem
from bot.ops.env import Env
from bot.stats import table
from bot.stats.table import Completion
from bot.store import audit, units
from bot.store.db import Database
from bot.store.models import Answer, Chat, Unit
from bot.store.units import ImportResult, UnitListing

__all__ = [
    "ChatState",
    "Filter",
    "ImportResult",
    "UnitListing",
    "UnitState",
    "Upload",
    "completions",
    "fold",
    "import_units",
    "import_upload",
    "list_units",
    "roster",
]


async def import_units(
    db: Database, rows: Sequence[csv_units.Unit], source: str, actor: str
) -> ImportResult:
    """Add the new units (each gets a registration code) and update the known ones; units not
    in `rows` are left alone. `source` names the file in the audit log."""
    async with db.session() as session, session.begin():
        result = await units.import_units(session, rows)
        audit.record(session, actor, "units_import", file=source, **dataclasses.asdict(result))
    return result


async def list_units(db: Database) -> list[UnitListing]:
    """Every unit by code, with its registration code and the chats bound to it."""
    async with db.session() as session:
        return await units.list_units(session)


# -- the console's roster --------------------------------------------------------------------------


class ChatState(NamedTuple):
    """A chat bound to a unit, as the roster shows it."""

    platform: str
    kind: str  # ChatKind
    title: str | None
    active: bool  # False once the bot was removed from it


class UnitState(NamedTuple):
    """A unit with its registration code, its chats (active ones first) and how far its figures
    are (None when the campaign has no form). A tuple: a province's 5,000 are made per page."""

    id: int
    code: str
    name: str
    type: str
    parent: str | None
    registration_code: str
    chats: tuple[ChatState, ...]
    figures: Completion | None

    @property
    def registered(self) -> bool:
        """Loa reaches it: at least one of its chats is active (as `/tiendo` counts)."""
        return any(chat.active for chat in self.chats)


_UNITS = select(Unit.id, Unit.code, Unit.name, Unit.type, Unit.parent, Unit.registration_code)
_CHATS = (  # active ones first
    select(Chat.unit_id, Chat.platform, Chat.kind, Chat.title, Chat.active)
    .where(Chat.unit_id.is_not(None))
    .order_by(Chat.active.desc(), Chat.id)
)


async def roster(env: Env, scope: Scope = EVERYTHING) -> list[UnitState]:
    """Every unit of `scope` by code with its chats and figures status: three queries whatever
    the count, read as plain rows."""
    async with env.db.session() as session:
        connection = await session.connection()
        rows = (await connection.execute(_UNITS)).all()
        chats: dict[int | None, list[ChatState]] = defaultdict(list)
        for unit_id, platform, kind, title, active in await connection.execute(_CHATS):
            chats[unit_id].append(ChatState(platform, kind, title, active))
        given = await _completions(connection, env)
    silent = Completion.SILENT if env.campaign.form is not None else None
    none: tuple[ChatState, ...] = ()
    found = [
        UnitState(
            *row, tuple(chats[row[0]]) if row[0] in chats else none, given.get(row[0], silent)
        )
        for row in rows
        if scope.covers(row.parent)
    ]
    found.sort(key=lambda unit: unit.code)  # here, so SQLite and PostgreSQL collations agree
    return found


async def completions(env: Env) -> dict[int, Completion]:
    """Each unit that has answered something of the form, and how completely; a unit absent is
    silent. Nothing without a form. One query: the database counts each unit's answered items."""
    async with env.db.session() as session:
        return await _completions(await session.connection(), env)


async def _completions(connection: AsyncConnection, env: Env) -> dict[int, Completion]:
    form = env.campaign.form
    if form is None:
        return {}
    items = [row.code for row in table.answerable(form)]
    counted = await connection.execute(
        select(Answer.unit_id, func.count(func.distinct(Answer.item)))
        .where(
            Answer.campaign == env.campaign_key,
            Answer.replaced_at.is_(None),
            Answer.item.in_(items),
        )
        .group_by(Answer.unit_id)
    )
    # `bot.stats.table.completion` over the items a unit answered; a count of them is enough
    # (`items[:count]` stands for them), so it is asked once per count, not once per unit
    by_count = {count: table.completion(form, items[:count]) for count in range(len(items) + 1)}
    return {unit_id: by_count[count] for unit_id, count in counted if count}


@functools.lru_cache(maxsize=50_000)  # a province's units, searched again and again
def _folded(*texts: str) -> str:
    return fold(" ".join(texts))


@dataclass(frozen=True)
class Filter:
    """What the console's roster keeps: every condition given must hold."""

    search: str = ""  # words found in the unit's code, name or registration code, any accents
    type: str | None = None  # an audience code
    parent: str | None = None
    registered: bool | None = None
    figures: Completion | None = None

    def keep(self, found: Iterable[UnitState]) -> list[UnitState]:
        words = fold(self.search).split()
        kept = []
        for unit in found:
            if self.type is not None and unit.type != self.type:
                continue
            if self.parent is not None and (unit.parent or "").strip() != self.parent.strip():
                continue
            if self.registered is not None and unit.registered != self.registered:
                continue
            if self.figures is not None and unit.figures is not self.figures:
                continue
            if words:
                haystack = _folded(unit.code, unit.name, unit.registration_code)
                if not all(word in haystack for word in words):
                    continue
            kept.append(unit)
        return kept


# -- a units file sent to the console --------------------------------------------------------------

NOT_A_TABLE = "not_a_table"  # bytes no spreadsheet has: a picture, a PDF, a Word file
EMPTY = "empty"
# The units list is the campaign's: a commune's coordinator cannot add or move units (another
# commune's included), the province's office imports it.
SCOPED = "scoped"


@dataclass(frozen=True)
class Upload:
    """What a units file sent to the console did: its counts when imported, or why nothing was
    written: the file's problems (each with its line), or `refused` (`EMPTY`, `NOT_A_TABLE`)."""

    file: str
    result: ImportResult | None = None
    problems: tuple[Problem, ...] = ()
    refused: str | None = None


async def import_upload(
    env: Env, data: bytes, filename: str, actor: str, scope: Scope = EVERYTHING
) -> Upload:
    """Check a units file as `loa units import` does (`load_units` with the campaign's unit
    types), then import it; on any problem nothing is written, and nothing from a coordinator
    of a part of the campaign (`SCOPED`)."""
    name = PurePath(filename.replace("\\", "/")).name[:120] or "units"
    if not scope.everything:
        return Upload(name, refused=SCOPED)
    if not data.strip():
        return Upload(name, refused=EMPTY)
    if _binary(data):
        return Upload(name, refused=NOT_A_TABLE)
    try:
        rows = await asyncio.to_thread(_read, data, name, env)
    except Invalid as exc:
        return Upload(name, problems=tuple(exc.problems))
    result = await import_units(env.db, rows, source=name, actor=actor)
    return Upload(name, result=result)


def _read(data: bytes, name: str, env: Env) -> list[csv_units.Unit]:
    """The file's units, read by the command line's own reader from a private copy."""
    with tempfile.TemporaryDirectory(prefix="loa-units-") as folder:
        path = Path(folder) / "upload"
        path.write_bytes(data)
        try:
            return load_units(path, env.campaign)
        except Invalid as exc:  # name the file as the coordinator knows it
            raise Invalid([dataclasses.replace(p, file=name) for p in exc.problems]) from None


def _binary(data: bytes) -> bool:
    """Neither a workbook (zip, or the old .xls the reader names) nor text: NUL bytes outside
    UTF-16 (which marks itself)."""
    if data.startswith((csv_units.ZIP, csv_units.OLE, b"\xff\xfe", b"\xfe\xff")):
        return False
    return b"\x00" in data[:8192]
