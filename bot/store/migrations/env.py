"""Alembic's entry point, for `Database.upgrade()` and for the `alembic` command (alembic.ini).

`Database.upgrade()` hands its own connection in `config.attributes["connection"]` (Alembic's
"sharing a connection" recipe, run inside `AsyncConnection.run_sync`). The `alembic` command has
none, so one is opened here through `Database`: `sqlalchemy.url` if alembic.ini sets one,
otherwise `DATABASE_URL`, the same database the bot uses, with the same SQLite pragmas.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from bot.config import Settings
from bot.store.db import Database, database_url
from bot.store.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def render_item(kind: str, obj: object, autogen: AutogenContext) -> str | Literal[False]:
    """Autogenerate writes the column type the database sees, not our Python-side decorator.

    A migration must not import the models: it describes the schema as it was at that revision.
    """
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


OPTIONS: dict[str, Any] = {
    "target_metadata": target_metadata,
    "render_as_batch": True,
    "render_item": render_item,
}


def run_migrations(connection: Connection) -> None:
    """Migrate on `connection`; a caller's open transaction is left for the caller to commit.

    On SQLite, given a connection outside a transaction, the whole run is one transaction (the
    driver would otherwise commit each CREATE and ALTER on its own, and a failed migration would
    leave half a schema) with foreign keys off: batch migrations copy a table, drop the old one
    and rename the copy, and with enforcement on, dropping `units` would null or delete every
    row that refers to it. The keys are checked before committing.
    """
    own_sqlite_transaction = connection.dialect.name == "sqlite" and not connection.in_transaction()
    if own_sqlite_transaction:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # ignored inside a transaction
        connection.exec_driver_sql("BEGIN")
    try:
        context.configure(connection=connection, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
        if own_sqlite_transaction:
            if broken := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall():
                raise RuntimeError(f"the migration breaks foreign keys: {broken[:5]}")
            connection.commit()
    finally:
        if own_sqlite_transaction:
            connection.rollback()  # a no-op after the commit
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def url() -> str:
    return database_url(
        config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    )


def run_offline() -> None:
    """`alembic upgrade --sql`: print the SQL instead of running it."""
    context.configure(
        url=url(), literal_binds=True, dialect_opts={"paramstyle": "named"}, **OPTIONS
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_on_own_connection() -> None:
    async with Database(url()) as db, db.engine.connect() as connection:
        await connection.run_sync(run_migrations)


if context.is_offline_mode():
    run_offline()
elif (shared := config.attributes.get("connection")) is not None:
    run_migrations(shared)
else:
    if config.config_file_name is not None:
        # Keep the loggers the caller already has (the default would silence them).
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    asyncio.run(run_on_own_connection())
