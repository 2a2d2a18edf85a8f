"""The SQL schema (SQLAlchemy Core) and its numbered migrations, applied when a store opens.

``events`` is the truth: an append-only log of every change, one hash chain per student.
``interventions``, ``check_ins`` and ``issued`` hold the current state, written in the same
transaction as the event that changed them, so queries stay fast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa

from tierflow.errors import StoreError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "metadata", "migrate", "tables"]

metadata = sa.MetaData()

migrations_table = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("applied_at", sa.String, nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("row", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("student_id", sa.String, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("record", sa.String, nullable=False),
    sa.Column("intervention_id", sa.String, nullable=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("student_id", "seq", name="uq_events_student_seq"),
)

chain_heads = sa.Table(
    "chain_heads",
    metadata,
    sa.Column("student_id", sa.String, primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

interventions = sa.Table(
    "interventions",
    metadata,
    sa.Column("pos", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String, nullable=False, unique=True),
    sa.Column("student_id", sa.String, nullable=False, index=True),
    sa.Column("is_open", sa.Boolean, nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
)

check_ins = sa.Table(
    "check_ins",
    metadata,
    sa.Column("pos", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("intervention_id", sa.String, nullable=False, index=True),
    sa.Column("body", sa.Text, nullable=False),
)

issued = sa.Table(
    "issued",
    metadata,
    sa.Column("student_id", sa.String, primary_key=True),
    sa.Column("step", sa.String, primary_key=True),
    sa.Column("on", sa.Date, nullable=False),
)


class _Tables:
    """The tables by name (one import for the repository and the audit)."""

    migrations = migrations_table
    events = events
    chain_heads = chain_heads
    interventions = interventions
    check_ins = check_ins
    issued = issued


tables = _Tables


def _initial(conn: sa.Connection) -> None:
    metadata.create_all(
        conn, tables=[events, chain_heads, interventions, check_ins, issued], checkfirst=False
    )


MIGRATIONS: tuple[tuple[int, str, Callable[[sa.Connection], None]], ...] = (
    (1, "events, chain heads, interventions, check-ins, issued steps", _initial),
)
"""Every migration in order: (version, what it does, how)."""

SCHEMA_VERSION = MIGRATIONS[-1][0]
"""The schema version this tierflow writes."""


def migrate(conn: sa.Connection, now: dt.datetime) -> list[int]:
    """Apply the migrations a database lacks, in one transaction; return their versions.

    Raises:
        StoreError: The database was written by a newer tierflow (its schema is ahead).
    """
    with conn.begin():
        migrations_table.create(conn, checkfirst=True)
        done = {v for (v,) in conn.execute(sa.select(migrations_table.c.version))}
        if done and max(done) > SCHEMA_VERSION:
            raise StoreError(
                f"the database schema is version {max(done)}, newer than this tierflow "
                f"understands ({SCHEMA_VERSION}); upgrade tierflow"
            )
        applied = []
        for version, name, apply in MIGRATIONS:
            if version in done:
                continue
            apply(conn)
            conn.execute(
                sa.insert(migrations_table).values(
                    version=version, name=name, applied_at=now.isoformat()
                )
            )
            applied.append(version)
        return applied
