"""The database connection: one async engine, sessions on it, and its migrations.

`DATABASE_URL` is written the way people write it (`sqlite:///var/loa.db`,
`postgres://user:pw@host/db`); the bot needs the asyncio drivers (aiosqlite, psycopg 3), so the
URL is normalised here and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import secrets
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.request import pathname2url

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.errors import DatabaseLost, Invalid, Problem
from bot.store.batch import Batched
from bot.store.defaults import DEFAULT_DATABASE_URL

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic (0.4 s to import) and psycopg (0.1 s) are imported only when needed: `loa run` over a
# database already at the newest migration, or any command on SQLite, needs neither.
HEAD = "0011"  # the newest migration (tests/store/test_db.py checks it is Alembic's head)
VERSION_TABLE = "alembic_version"

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
Work = Callable[[AsyncSession, Sequence[Any]], Awaitable[Sequence[Any]]]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PRIVATE_FOLDER, PRIVATE_FILE = 0o700, 0o600
LOCK = 0x4C6F61  # "Loa": the advisory lock key of `loa run` on PostgreSQL
HOLDS_LOCK = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND classid = 0 AND objid = :k AND objsubid = 1)"
)
HOLD_CHECK = 1.0  # seconds between checks that this process still holds the database
HOLD_CHECK_TIMEOUT = 10.0  # seconds a check may take before the lock counts as lost

# The asyncio driver for a URL that names none; psycopg 3 serves sync (Alembic CLI) and async.
ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "psycopg"}

# Run on every new SQLite connection: SQLite enforces foreign keys only when asked, WAL lets the
# bot read while a command writes, and a writer waits for a lock instead of failing at once.
SQLITE_PRAGMAS = ("PRAGMA busy_timeout=5000", "PRAGMA foreign_keys=ON", "PRAGMA journal_mode=WAL")


def database_url(raw: str | None = None) -> str:
    """`raw` (default `DEFAULT_DATABASE_URL`) as an async URL; creates a SQLite file's folder.

    `sqlite:///x.db` -> `sqlite+aiosqlite:///x.db`; `postgres://` and `postgresql://` ->
    `postgresql+psycopg://`; a URL that names its driver keeps it. Raises `ArgumentError` for a
    URL that cannot be parsed or names another database without a driver.
    """
    url = make_url(raw or DEFAULT_DATABASE_URL)
    backend, _, driver = url.drivername.partition("+")
    if backend == "postgres":  # Heroku-style, which SQLAlchemy does not accept
        backend = "postgresql"
    known = driver or ASYNC_DRIVERS.get(backend)
    if not known:
        raise ArgumentError(f"unsupported database {backend!r}: use sqlite or postgresql")
    driver = known
    url = url.set(drivername=f"{backend}+{driver}")
    if backend == "sqlite" and url.database and not _in_memory(url.database):
        Path(url.database).parent.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    return url.render_as_string(hide_password=False)


def keep_private(database: Path, create: bool = False) -> None:
    """Unspent codes, names and figures are for Loa's user alone: the SQLite file is made 0600
    (`create`: made so before SQLite makes it), and its WAL and shared-memory files take its
    mode; Loa's own folder (the default `var/`) is 0700. A folder the user chose keeps its mode.
    Only an upgrade creates the file: `loa run` never makes an empty database by opening one."""
    try:
        fd = os.open(database, os.O_RDONLY | (os.O_CREAT if create else 0), PRIVATE_FILE)
    except OSError:
        return  # missing, or not ours to make (a read-only place): SQLite says why
    try:
        if os.fstat(fd).st_uid == os.geteuid():
            os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.chmod(f"{database}{suffix}", PRIVATE_FILE)
    default = make_url(DEFAULT_DATABASE_URL).database
    if default and database.parent.resolve() == Path(default).parent.resolve():
        with contextlib.suppress(PermissionError):
            database.parent.chmod(PRIVATE_FOLDER)


def display_url(url: str) -> str:
    """The database as people should see it: a SQLite file's path as written (the URL form
    escapes non-ASCII letters), any other URL with its password, if any, as `***`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return parsed.database
    return parsed.render_as_string(hide_password=True)


def _in_memory(database: str) -> bool:
    return database == ":memory:" or (database.startswith("file:") and "mode=memory" in database)


class Database:
    """The engine and session factory for `DATABASE_URL`; one per process, disposed at exit.

    Use `async with db.session() as s, s.begin(): ...` for a unit of work.
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = database_url(url)
        self.engine: AsyncEngine = create_async_engine(self.url)
        database = make_url(self.url).database
        if self.engine.dialect.name == "sqlite" and database and not _in_memory(database):
            keep_private(Path(database))
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_on_connect)
            if database and not _in_memory(database):
                event.listen(self.engine.sync_engine, "do_connect", _sqlite_never_create)
        # Objects stay readable after commit: the bot hands them to templates and adapters.
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._batch: Batched[tuple[Work, Any], Any] = Batched(self._run_batch)
        self.lost = asyncio.Event()  # set once this process no longer holds the database
        self._lost_why = ""
        self._check_hold: Callable[[], Awaitable[None]] | None = None
        self._file_identity: tuple[int, int] | None = None  # (device, inode) of the file held
        if self.file is not None:  # a commit into a deleted file would confirm what is lost
            event.listen(self.engine.sync_engine, "commit", self._check_file_now)

    def __repr__(self) -> str:
        return f"Database({display_url(self.url)!r})"

    def session(self) -> AsyncSession:
        return self._sessions()

    def batched(
        self, work: Callable[[AsyncSession, Sequence[T]], Awaitable[Sequence[R]]]
    ) -> Callable[[T], Coroutine[Any, Any, R]]:
        """`work(session, items)` for the items many tasks ask at once: what every message does,
        at a fraction of the cost. Every `batched` work of the database shares one `Batched`, so
        the chats, prompts and figures asked while a transaction ran go in the next one."""

        async def ask(item: T) -> R:
            return cast(R, await self._batch((work, item)))

        return ask

    async def upgrade(self, revision: str = "head") -> None:
        """Apply migrations up to `revision` on this engine (Alembic's shared-connection recipe);
        a SQLite file is made here, private, if it does not exist yet."""
        if self.file is not None:
            keep_private(Path(self.file), create=True)
        if revision == "head" and await self.revision() == HEAD:
            return  # nothing to do: Alembic is not even loaded
        from alembic import command

        await self._alembic(command.upgrade, revision)

    async def downgrade(self, revision: str) -> None:
        """Undo migrations down to `revision` (`base`: an empty database); for tests and repairs."""
        from alembic import command

        await self._alembic(command.downgrade, revision)

    async def revision(self) -> str | None:
        """The migration the database is at; None for an empty one."""
        async with self.engine.connect() as connection:
            return await connection.run_sync(_current_revision)

    @contextlib.asynccontextmanager
    async def only_instance(self) -> AsyncIterator[None]:
        """Hold the database for this process while serving: `loa run` takes back at start the
        claims a killed predecessor left, which would be the live sender's claims if two ran.

        PostgreSQL: a session advisory lock on a connection of its own; SQLite: a lock on the
        database file itself, at its real path (a symlink or a deleted lock file cannot let a
        second process in). The hold is checked every `HOLD_CHECK` seconds and by
        `still_ours()`; once it is lost, `lost` is set. Raises `Invalid` when another process
        holds it.
        """
        if self.engine.dialect.name == "postgresql":
            async with self._advisory_lock():
                yield
            return
        path = self.file
        if path is None:  # in memory: nobody else can reach it
            yield
            return
        try:
            fd = os.open(path, os.O_RDONLY)  # never creates it: `loa db upgrade` does
        except FileNotFoundError:
            raise self.missing() from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise _running(self.url) from None
            held = os.fstat(fd)
            self._file_identity = (held.st_dev, held.st_ino)
            async with self._watching(self._check_file):
                yield
        finally:
            # SQLite's own locks are POSIX locks, which closing any descriptor of the file drops:
            # its connections go first.
            await self.engine.dispose()
            os.close(fd)

    @contextlib.asynccontextmanager
    async def _advisory_lock(self) -> AsyncIterator[None]:
        async with self.engine.connect() as connection:
            held = await connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK})
            await connection.commit()
            if not held:
                raise _running(self.url)
            asking = asyncio.Lock()  # the watch and `still_ours` share the connection

            async def check() -> None:
                async with asking:
                    still = await asyncio.wait_for(
                        connection.scalar(text(HOLDS_LOCK), {"k": LOCK}), HOLD_CHECK_TIMEOUT
                    )
                    await connection.commit()
                if not still:
                    raise DatabaseLost(self._lost_problem("lock_gone"))

            try:
                async with self._watching(check):
                    yield
            finally:
                with contextlib.suppress(Exception):  # gone with its connection, if lost
                    await connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK})
                    await connection.commit()

    @contextlib.asynccontextmanager
    async def _watching(self, check: Callable[[], Awaitable[None]]) -> AsyncIterator[None]:
        """Run `check` every `HOLD_CHECK` seconds (and on `still_ours`) while the hold lasts."""
        self._check_hold = check
        watch = asyncio.create_task(self._watch(check))
        try:
            yield
        finally:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
            self._check_hold = None

    async def _watch(self, check: Callable[[], Awaitable[None]]) -> None:
        while not self.lost.is_set():
            await asyncio.sleep(HOLD_CHECK)
            with contextlib.suppress(DatabaseLost):
                await self.still_ours()

    async def still_ours(self) -> None:
        """Raise `DatabaseLost` if this process no longer holds the database (its lock is gone,
        its file deleted or replaced); nothing to check when it holds none."""
        if self.lost.is_set():
            raise DatabaseLost(self._lost_problem(self._lost_why))
        if self._check_hold is None:
            return
        try:
            await self._check_hold()
        except DatabaseLost as exc:
            self._lose(exc.problems[0].code.removeprefix("database_lost_"))
            raise
        except Exception as exc:  # the lock's connection is gone, so is the lock
            log.error("database: the instance lock could not be checked (%s)", exc)
            self._lose("lock_gone")
            raise DatabaseLost(self._lost_problem("lock_gone")) from exc

    def _lose(self, why: str) -> None:
        if not self.lost.is_set():
            self._lost_why = why
            log.error("database: this process no longer holds %s (%s): stop sending", self, why)
            self.lost.set()

    def _lost_problem(self, why: str) -> list[Problem]:
        return [Problem(("DATABASE_URL",), f"database_lost_{why}", {"url": display_url(self.url)})]

    @property
    def file(self) -> str | None:
        """A SQLite database's file, symlinks resolved; None for an in-memory one or a server."""
        database = make_url(self.url).database
        if self.engine.dialect.name != "sqlite" or not database or _in_memory(database):
            return None
        return os.path.realpath(database)

    def missing(self) -> Invalid:
        """The error of `loa run` for a database that does not exist yet."""
        return Invalid(
            [Problem(("DATABASE_URL",), "database_missing", {"url": display_url(self.url)})]
        )

    async def _check_file(self) -> None:
        self._check_file_now()

    def _check_file_now(self, *_: Any) -> None:
        """Raise `DatabaseLost` when the file this process opened is no longer at its path
        (deleted, or replaced): what would be written now would be lost."""
        if self._file_identity is None or self.file is None:
            return
        try:
            now = os.stat(self.file)
        except FileNotFoundError:
            self._lose("file_gone")
            raise DatabaseLost(self._lost_problem("file_gone")) from None
        if (now.st_dev, now.st_ino) != self._file_identity:
            self._lose("file_gone")
            raise DatabaseLost(self._lost_problem("file_gone"))

    async def _run_batch(self, asked: Sequence[tuple[Work, Any]]) -> list[Any]:
        """One transaction: each work once, with its items in the order asked."""
        by_work: dict[Work, list[int]] = {}
        for index, (work, _) in enumerate(asked):
            by_work.setdefault(work, []).append(index)
        results: list[Any] = [None] * len(asked)
        async with self.session() as session, session.begin():
            for work, indexes in by_work.items():
                done = await work(session, [asked[i][1] for i in indexes])
                for index, result in zip(indexes, done, strict=True):
                    results[index] = result
        return results

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.dispose()

    async def _alembic(self, action: Any, revision: str) -> None:
        # A fresh connection, not in a transaction: env.py decides how to run (see there).
        async with self.engine.connect() as connection:
            await connection.run_sync(_run_alembic, action, revision)


def is_transient(exc: BaseException) -> bool:
    """Whether a database error may pass if the work is done again: SQLite busy or locked,
    PostgreSQL's serialization failures and deadlocks, a connection lost or refused."""
    if not isinstance(exc, DBAPIError) or isinstance(exc.orig, DatabaseLost):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    psycopg = sys.modules.get("psycopg")  # not loaded: the error is not PostgreSQL's
    if psycopg is not None:
        errors = psycopg.errors
        if isinstance(orig, errors.SerializationFailure | errors.DeadlockDetected):
            return True
        if isinstance(orig, psycopg.OperationalError):  # the server went away or refused
            return True
    return isinstance(exc, OperationalError) and any(
        busy in str(orig).lower() for busy in ("database is locked", "database table is locked")
    )


def _running(url: str) -> Invalid:
    return Invalid([Problem(("DATABASE_URL",), "instance_running", {"url": display_url(url)})])


def and_migration_errors(*errors: type[Exception]) -> tuple[type[Exception], ...]:
    """`errors` and Alembic's own error, to catch, once Alembic is loaded (only a migration
    loads it, and nothing else raises it)."""
    util = sys.modules.get("alembic.util")
    return (*errors, util.CommandError) if util is not None else errors


def _current_revision(connection: Connection) -> str | None:
    """What Alembic's `get_current_revision` says, without loading Alembic."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    found = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(found) > 1:
        raise RuntimeError(f"the database is at several migrations: {found}")
    return found[0] if found else None


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration without alembic.ini: the migrations shipped in the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _run_alembic(connection: Connection, action: Any, revision: str) -> None:
    action(alembic_config(connection), revision)


def _sqlite_never_create(
    _dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]
) -> None:
    """Open the file read-write, never create it: a connection opened after the file was deleted
    would otherwise make an empty database there and confirm what goes into it (only
    `Database.upgrade` makes the file)."""
    cargs[0] = f"file:{pathname2url(os.path.abspath(cargs[0]))}?mode=rw"
    cparams["uri"] = True


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


@contextlib.contextmanager
def throwaway_postgres(server_url: str, prefix: str) -> Iterator[str]:
    """A fresh database named `prefix_…` on `server_url`'s PostgreSQL server, dropped afterwards
    (nothing else on the server is touched): what tests and benchmarks run against."""
    server = make_url(server_url).set(drivername="postgresql")  # libpq's own URL form
    admin = server.render_as_string(hide_password=False)
    import psycopg
    from psycopg import sql

    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
