"""The units: loading an office's list of them, and listing them with their codes and chats.

The file is read, and every row checked, by the core (`bot.campaign.loader.load_units`) before
any of this runs: a bad file changes nothing.

Units belong to the database, not to one campaign (`loa units import` may run without a
campaign file), so these take the database rather than an `Env`; a face holding an `Env` passes
`env.db`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from bot.campaign import units as csv_units
from bot.store import audit, units
from bot.store.db import Database
from bot.store.units import ImportResult, UnitListing

__all__ = ["ImportResult", "UnitListing", "import_units", "list_units"]


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
