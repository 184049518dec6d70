"""The database: URLs, migrations that match the models, UTC times, on SQLite and PostgreSQL."""

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path
from textwrap import dedent
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, StatementError

from bot.errors import Invalid
from bot.messages import describe
from bot.store import db as db_module
from bot.store.db import Database, alembic_config, database_url, display_url
from bot.store.models import AuditEntry, Base, Chat, Unit
from tests.conftest import ROOT

TABLES = {*Base.metadata.tables, "alembic_version"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("sqlite:///x/loa.db", "sqlite+aiosqlite:///x/loa.db"),
        ("postgresql://u:p@h:5432/loa", "postgresql+psycopg://u:p@h:5432/loa"),
        ("postgres://u:p@h/loa", "postgresql+psycopg://u:p@h/loa"),
        ("postgresql+asyncpg://h/loa", "postgresql+asyncpg://h/loa"),
        ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
    ],
)
def test_urls_are_normalised_to_async_drivers(raw, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert make_url(database_url(raw)) == make_url(expected)  # the string may escape ":"


def test_the_default_is_a_sqlite_file_whose_folder_is_created(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert database_url(None) == "sqlite+aiosqlite:///var/loa.db"
    assert (tmp_path / "var").is_dir()


def test_another_database_without_a_driver_is_refused():
    with pytest.raises(ArgumentError, match="unsupported database 'mysql'"):
        database_url("mysql://h/loa")


def test_passwords_are_never_shown():
    url = database_url("postgresql://loa:s3cret@db.example/loa")
    assert display_url(url) == "postgresql+psycopg://loa:***@db.example/loa"
    assert "s3cret" not in repr(Database(url))


def test_a_sqlite_file_is_shown_as_its_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert display_url(database_url("sqlite:///Tài liệu/loa.db")) == "Tài liệu/loa.db"


HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()

OPEN_AT_HEAD = """
import asyncio, sys
from bot.store.db import Database

async def main():
    async with Database(sys.argv[1]) as db:
        await db.upgrade()  # what `loa run` does at every start
        print(await db.revision(), "alembic" in sys.modules, "psycopg" in sys.modules)

asyncio.run(main())
"""


def test_head_is_the_newest_migration():
    assert db_module.HEAD == HEAD


async def test_a_database_at_the_newest_migration_starts_without_alembic_or_psycopg(tmp_path):
    url = f"sqlite:///{tmp_path}/loa.db"
    async with Database(url) as db:
        await db.upgrade()
    done = subprocess.run(
        [sys.executable, "-c", OPEN_AT_HEAD, url], capture_output=True, text=True, cwd=ROOT
    )
    assert done.stdout.split() == [HEAD, "False", "False"], done.stderr  # 0.5 s of imports saved
    async with Database(url) as db:
        await db.downgrade("0009")
    done = subprocess.run(
        [sys.executable, "-c", OPEN_AT_HEAD, url], capture_output=True, text=True, cwd=ROOT
    )
    assert done.stdout.split() == [HEAD, "True", "False"], done.stderr  # migrated by Alembic


def columns(sync_connection) -> dict[str, set[str]]:
    inspector = inspect(sync_connection)
    return {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()}


async def test_upgrade_creates_every_table(db):
    async with db.engine.connect() as connection:
        found = await connection.run_sync(columns)
    assert set(found) == TABLES
    for table in Base.metadata.sorted_tables:
        assert found[table.name] == set(table.columns.keys())
    assert await db.revision() == HEAD


def differences(sync_connection) -> list:
    context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def test_migrations_match_the_models(db):
    async with db.engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_downgrade_to_base_and_up_again(db):
    await db.downgrade("base")
    async with db.engine.connect() as connection:
        assert set(await connection.run_sync(columns)) == {"alembic_version"}
    assert await db.revision() is None
    await db.upgrade()
    async with db.engine.connect() as connection:
        assert set(await connection.run_sync(columns)) == TABLES
        assert await connection.run_sync(differences) == []


async def test_the_alembic_command_uses_database_url_and_finds_nothing_to_generate(db):
    await db.downgrade("base")
    script = "from alembic.config import main; main(['upgrade', 'head']); main(['check'])"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": db.url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "No new upgrade operations detected" in done.stdout + done.stderr
    assert await db.revision() == HEAD


async def test_aware_datetimes_round_trip_as_utc(db):
    eight_in_hanoi = dt.datetime(2023, 10, 2, 8, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    async with db.session() as session, session.begin():
        session.add(AuditEntry(at=eight_in_hanoi, actor="cli", action="test"))
    async with db.session() as session:
        stored = await session.scalar(select(AuditEntry.at))
        later = await session.scalar(
            select(AuditEntry.id).where(AuditEntry.at > eight_in_hanoi - dt.timedelta(seconds=1))
        )
    assert stored == eight_in_hanoi
    assert stored.tzinfo == dt.UTC
    assert (stored.hour, stored.minute) == (1, 0)
    assert later is not None


async def test_naive_datetimes_are_refused(db):
    with pytest.raises(StatementError, match="naive datetime"):
        async with db.session() as session, session.begin():
            session.add(AuditEntry(at=dt.datetime(2023, 10, 2, 8, 0), actor="cli", action="x"))


async def test_foreign_keys_are_enforced(db):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        async with db.session() as session, session.begin():
            session.add(Chat(platform="telegram", external_id="-1", kind="group", unit_id=999))


def with_extra_migration(tmp_path: Path, monkeypatch, body: str) -> None:
    """Point `Database` at a copy of the migrations with one more revision, of `body`."""
    copy = tmp_path / "migrations"
    shutil.copytree(db_module.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    header = 'import sqlalchemy as sa\nfrom alembic import op\n\nrevision = "extra"\n'
    header += f'down_revision = "{HEAD}"\nbranch_labels = depends_on = None\n\n'
    (copy / "versions" / "extra.py").write_text(header + dedent(body), encoding="utf-8")
    monkeypatch.setattr(db_module, "MIGRATIONS", copy)
    monkeypatch.setattr(db_module, "HEAD", "extra")  # as a Loa shipping it would name its head


async def test_a_failed_migration_changes_nothing(db, tmp_path, monkeypatch):
    with_extra_migration(
        tmp_path,
        monkeypatch,
        """
        def upgrade():
            op.create_table("scratch", sa.Column("id", sa.Integer, primary_key=True))
            with op.batch_alter_table("units") as batch:
                batch.add_column(sa.Column("extra", sa.String(10)))
            op.execute("SELECT * FROM no_such_table")
        """,
    )
    with pytest.raises(Exception, match="no_such_table"):
        await db.upgrade()
    assert await db.revision() == HEAD
    async with db.engine.connect() as connection:
        found = await connection.run_sync(columns)
    assert set(found) == TABLES
    assert "extra" not in found["units"]


async def test_a_table_rebuilt_by_a_batch_migration_keeps_what_refers_to_it(
    db, tmp_path, monkeypatch
):
    """SQLite rebuilds `units` (copy, drop, rename); with foreign keys on, the drop would have
    unbound every chat (ON DELETE SET NULL). PostgreSQL alters the column in place."""
    async with db.session() as session, session.begin():
        unit = Unit(code="th-a", name="TH A", type="truong-hoc", registration_code="ABCDEF")
        session.add(unit)
        await session.flush()
        session.add(Chat(platform="telegram", external_id="-1", kind="group", unit_id=unit.id))
    with_extra_migration(
        tmp_path,
        monkeypatch,
        """
        def upgrade():
            with op.batch_alter_table("units") as batch:
                batch.alter_column("name", type_=sa.String(300))


        def downgrade():
            with op.batch_alter_table("units") as batch:
                batch.alter_column("name", type_=sa.String(255))
        """,
    )
    await db.upgrade()
    try:
        async with db.session() as session:
            assert await session.scalar(select(Chat.unit_id)) == unit.id
        async with db.engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    finally:
        await db.downgrade(HEAD)  # the PostgreSQL database is shared by the next tests
    async with db.session() as session:
        assert await session.scalar(select(Chat.unit_id)) == unit.id


async def test_only_one_loa_run_may_hold_a_database(db):
    other = Database(db.url)
    try:
        async with db.only_instance():
            with pytest.raises(Invalid) as caught:
                async with other.only_instance():
                    pass
            assert "một tiến trình loa run khác đang phục vụ" in describe(caught.value.problems[0])
        async with other.only_instance():  # free again once the first let go
            pass
    finally:
        await other.dispose()
