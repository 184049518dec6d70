"""Database failures in words a coordinator can act on.

Drivers say what failed in English (`file is not a database`, `connection refused`). Each known
failure becomes a `Problem` whose wording in messages/errors.yaml says first, in Vietnamese, what
is wrong and what to do; the driver's words follow as the detail, for whoever helps.
"""

from __future__ import annotations

import contextlib
import sqlite3

from sqlalchemy.engine import make_url

from bot.errors import Problem
from bot.store.db import display_url

# The driver's words (lower case) that tell which database failure this is; the first match wins.
DATABASE_FAILURES = (
    ("file is not a database", "database_not_sqlite"),
    ("file is encrypted or is not a database", "database_not_sqlite"),
    ("unable to open database file", "database_cannot_open"),
    ("readonly database", "database_read_only"),
    ("database or disk is full", "database_full"),
    ("database is locked", "database_locked"),
    ("connection refused", "database_unreachable"),
    ("failed to resolve host", "database_unknown_host"),
    ("timeout expired", "database_unreachable"),
    ("password authentication failed", "database_login"),
    ('fatal: role "', "database_login"),  # role "x" does not exist
    ('fatal: database "', "database_missing"),  # database "x" does not exist
    ("can't locate revision", "database_newer"),
)


def database_problem(exc: BaseException, url: str) -> Problem:
    """A failure reaching or using the database at `url` (a SQLAlchemy, driver or Alembic error)."""
    cause = getattr(exc, "orig", None) or exc
    detail = " ".join(str(cause).split())  # psycopg's answers run over several lines
    lowered = detail.lower()
    code = next((code for words, code in DATABASE_FAILURES if words in lowered), "database_error")
    return Problem(("DATABASE_URL",), code, {"url": display_url(url), "detail": detail})


def url_problem(exc: Exception) -> Problem:
    """A DATABASE_URL that cannot be used as written (its text is not repeated: it may hold a
    password SQLAlchemy could not find to mask)."""
    detail = str(exc)
    if "could not parse" in detail.lower():
        code = "database_url_unparsed"
    elif "unsupported database" in detail:
        code = "database_url_backend"
    else:
        code = "database_url_invalid"
    return Problem(("DATABASE_URL",), code, {"detail": detail})


def folder_problem(exc: OSError, url: str) -> Problem:
    """The folder of a SQLite file could not be made."""
    detail = {"folder": exc.filename, "url": display_url(url), "detail": exc.strerror or str(exc)}
    return Problem(("DATABASE_URL",), "database_folder", detail)


def check_sqlite(url: str) -> None:
    """Open a SQLite file once with the standard library before the async driver does, so that
    a file that cannot be opened, or is no database, fails here: aiosqlite, failing to connect,
    leaves its worker thread to answer an event loop already closed, which prints a traceback.

    Raises `sqlite3.Error`, which `database_problem` explains.
    """
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return
    with contextlib.closing(sqlite3.connect(database, uri=database.startswith("file:"))) as db:
        db.execute("PRAGMA schema_version")
