"""Opening a store: a SQLAlchemy URL or a SQLite file path, and each dialect's transaction rules.

Two dialects are supported, each with its own rules made explicit here:

SQLite
    One writer at a time. A write transaction (a single change, a batch, the migrations) starts
    with ``BEGIN IMMEDIATE`` so it takes the write lock up front and waits (up to
    ``busy_timeout`` seconds) for another writer to finish, instead of failing half way when it
    first writes. Writers are therefore serialized: a batch sees everything committed before it.
PostgreSQL
    Transactions run at ``REPEATABLE READ``: a batch reads one consistent snapshot, and writing
    a row another transaction changed since (a student's chain head, an intervention) is a
    serialization failure instead of a silent overwrite. Migrations run at ``READ COMMITTED``
    under an advisory lock, so two processes opening a new database at once migrate it once.
"""

from __future__ import annotations

import os
import re
from typing import Any, TypeAlias

import sqlalchemy as sa

from tierflow.errors import ConflictError, StoreError

__all__ = [
    "DIALECTS",
    "Target",
    "conflict_or_error",
    "connect",
    "is_url",
    "lost_connection",
    "migration_lock",
    "store_url",
]

Target: TypeAlias = str | os.PathLike[str] | sa.URL
"""What a store opens: a SQLAlchemy URL (text or object) or a SQLite file path."""

DIALECTS = ("sqlite", "postgresql")
"""The database dialects a store runs on."""

_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

# PostgreSQL SQLSTATEs that mean "another transaction got there first": safe to retry.
_PG_CONFLICTS = {
    "40001": "a concurrent transaction changed the same rows (serialization failure)",
    "40P01": "a deadlock with a concurrent transaction",
    "23505": "a concurrent transaction added the same row first",
}


def is_url(target: Target) -> bool:
    """Whether ``target`` names a database by URL rather than a SQLite file path.

    >>> is_url("postgresql+psycopg://tierflow@db.example.org/records")
    True
    >>> is_url("records.db"), is_url(":memory:")
    (False, False)
    """
    return isinstance(target, sa.URL) or (isinstance(target, str) and "://" in target)


def store_url(target: Target) -> sa.URL:
    """The SQLAlchemy URL of a store given as a URL or a SQLite file path.

    A text holding ``://`` is a URL; anything else (text or a path) is a SQLite file, and
    ``":memory:"`` an in-memory SQLite database. ``postgresql://`` without a driver means
    psycopg 3 (the ``postgres`` extra), not SQLAlchemy's default psycopg2.

    >>> store_url("records.db").render_as_string()
    'sqlite:///records.db'
    >>> store_url("postgresql://tierflow:secret@localhost/records")
    postgresql+psycopg://tierflow:***@localhost/records

    Raises:
        StoreError: The URL cannot be parsed, or names a dialect tierflow does not run on.
    """
    if isinstance(target, sa.URL):
        url = target
    elif isinstance(target, str) and is_url(target):
        try:
            url = sa.make_url(target)
        except sa.exc.ArgumentError as exc:
            raise StoreError(f"cannot read the store URL {target!r}: {exc}") from None
    else:
        path = os.fspath(target)
        # URL.create, not an f-string: a file name may hold '?' or '#'.
        return sa.URL.create("sqlite", database=None if path == ":memory:" else path)
    if url.get_backend_name() not in DIALECTS:
        raise StoreError(
            f"a tierflow store runs on {' or '.join(DIALECTS)}, not {url.get_backend_name()} "
            f"({url.render_as_string()})"
        )
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (the recipe in
    # SQLAlchemy's pysqlite documentation), so each one can take the write lock up front.
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: sa.Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")


def connect(url: sa.URL, *, schema: str | None, busy_timeout: float) -> sa.Engine:
    """An engine for ``url`` with its dialect's transaction rules (see the module docstring).

    Args:
        url: From :func:`store_url`.
        schema: PostgreSQL only: the schema holding the tables (created if missing).
        busy_timeout: SQLite only: seconds a writer waits for another writer's lock.

    Raises:
        StoreError: A schema name that is not a plain identifier, a schema on SQLite, or a
            PostgreSQL URL without its driver installed.
    """
    if url.get_backend_name() == "sqlite":
        if schema is not None:
            raise StoreError("a SQLite store has no schemas; give a file per store instead")
        engine = sa.create_engine(url, connect_args={"timeout": busy_timeout})
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    args: dict[str, Any] = {}
    if schema is not None:
        if not _SCHEMA_NAME.fullmatch(schema):
            raise StoreError(
                f"schema name {schema!r}: use letters, digits and '_' (not first), "
                "at most 63 characters"
            )
        args["options"] = f"-c search_path={schema}"
    try:
        engine = sa.create_engine(
            url, isolation_level="REPEATABLE READ", pool_pre_ping=True, connect_args=args
        )
    except ImportError as exc:
        raise StoreError(
            f"the store {url.render_as_string()} needs the PostgreSQL driver: "
            f"pip install 'tierflow[postgres]' ({exc})"
        ) from None
    if schema is not None:
        with engine.connect() as conn, conn.begin():
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('tierflow.schema'))"))
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    return engine


def migration_lock(conn: sa.Connection) -> None:
    """Take the lock that makes two processes opening a new store migrate it once.

    SQLite: the write transaction's own lock. PostgreSQL: a transaction-scoped advisory lock.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('tierflow.migrate'))"))


def conflict_or_error(where: str, exc: BaseException, cause: str) -> StoreError:
    """The error to raise for a database failure: a :class:`ConflictError` when safe to retry.

    Conflicts are another writer getting there first: a serialization failure, a deadlock, a
    unique key taken (PostgreSQL reports these by SQLSTATE), SQLite's write lock held past the
    busy timeout. A lost connection is not a conflict: the batch fails, nothing of it is kept,
    and the message says so (run it again once the database is back).

    Args:
        where: What failed (``store records.db``), to begin the message.
        exc: What SQLAlchemy or the driver raised.
        cause: ``exc`` in words.
    """
    orig = getattr(exc, "orig", None) or exc
    state = getattr(orig, "sqlstate", None)
    text = str(orig)
    if isinstance(state, str) and state in _PG_CONFLICTS:
        return ConflictError(f"{where}: {_PG_CONFLICTS[state]}; nothing of it was kept ({cause})")
    if "UNIQUE constraint failed" in text:
        return ConflictError(f"{where}: another writer added the same row first ({cause})")
    if "database is locked" in text:
        return ConflictError(
            f"{where}: another writer held the database past the busy timeout ({cause})"
        )
    if lost_connection(exc):
        return StoreError(
            f"{where}: the connection to the database was lost; nothing of the unfinished "
            f"batch or change was kept, run it again ({cause})"
        )
    return StoreError(f"{where}: {cause}")


def lost_connection(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection to the database is gone (not a refused statement)."""
    if getattr(exc, "connection_invalidated", False):
        return True
    orig = getattr(exc, "orig", None) or exc
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str) and (state.startswith("08") or state in ("57P01", "57P02", "57P03")):
        return True  # connection exceptions; the server terminated or is shutting down
    text = str(orig).lower()
    return any(
        words in text
        for words in (
            "cannot operate on a closed database",
            "server closed the connection",
            "connection is closed",
            "terminating connection",
            "consuming input failed",
        )
    )
