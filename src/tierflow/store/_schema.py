"""The SQL schema (SQLAlchemy Core) and its numbered migrations, applied when a store opens.

``events`` is the truth: an append-only log of every change, one hash chain per student.
``interventions``, ``check_ins`` and ``issued`` hold the current state, written in the same
transaction as the event that changed them, so queries stay fast.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import sqlalchemy as sa

from tierflow.errors import StoreError
from tierflow.store import _codec as codec
from tierflow.store._connect import migration_lock
from tierflow.store._rows import (
    EVENT_REPORT_COLUMNS,
    IV_REPORT_COLUMNS,
    event_report_params,
    iv_report_params,
)
from tierflow.workflow import summarize

__all__ = [
    "EVENT_REPORT_COLUMNS",
    "IV_REPORT_COLUMNS",
    "MIGRATIONS",
    "QUEUE_COLUMNS",
    "SCHEMA_VERSION",
    "metadata",
    "migrate",
    "queue_values",
    "tables",
]

metadata = sa.MetaData()

# Row numbers: 64-bit identity columns on PostgreSQL (a large district writes millions of rows a
# year); on SQLite a plain INTEGER PRIMARY KEY, which is the table's rowid (BIGINT would not be).
_RowNumber = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

migrations_table = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("applied_at", sa.String, nullable=False),
)


def _v1_tables(md: sa.MetaData) -> tuple[sa.Table, ...]:
    """The tables as version 1 created them (frozen: later versions change them by migration)."""
    return (
        sa.Table(
            "events",
            md,
            sa.Column("row", _RowNumber, sa.Identity(), primary_key=True),
            sa.Column("student_id", sa.String, nullable=False),
            sa.Column("seq", sa.Integer, nullable=False),
            sa.Column("record", sa.String, nullable=False),
            sa.Column("intervention_id", sa.String, nullable=True),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("prev_hash", sa.String(64), nullable=False),
            sa.Column("hash", sa.String(64), nullable=False),
            sa.UniqueConstraint("student_id", "seq", name="uq_events_student_seq"),
        ),
        sa.Table(
            "chain_heads",
            md,
            sa.Column("student_id", sa.String, primary_key=True),
            sa.Column("seq", sa.Integer, nullable=False),
            sa.Column("hash", sa.String(64), nullable=False),
        ),
        sa.Table(
            "interventions",
            md,
            sa.Column("pos", _RowNumber, sa.Identity(), primary_key=True),
            sa.Column("id", sa.String, nullable=False, unique=True),
            sa.Column("student_id", sa.String, nullable=False, index=True),
            sa.Column("is_open", sa.Boolean, nullable=False, index=True),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("body", sa.Text, nullable=False),
        ),
        sa.Table(
            "check_ins",
            md,
            sa.Column("pos", _RowNumber, sa.Identity(), primary_key=True),
            sa.Column("intervention_id", sa.String, nullable=False, index=True),
            sa.Column("body", sa.Text, nullable=False),
        ),
        sa.Table(
            "issued",
            md,
            sa.Column("student_id", sa.String, primary_key=True),
            sa.Column("step", sa.String, primary_key=True),
            sa.Column("on", sa.Date, nullable=False),
        ),
    )


events, chain_heads, interventions, check_ins, issued = _v1_tables(metadata)

# Version 2: the catalogue id as a column, and at most one open intervention of a kind per
# student (two processes running the same day cannot both open it).
interventions.append_column(sa.Column("catalog_id", sa.String, nullable=True))
open_per_kind = sa.Index(
    "uq_interventions_open_kind",
    interventions.c.student_id,
    interventions.c.catalog_id,
    unique=True,
    sqlite_where=interventions.c.is_open,
    postgresql_where=interventions.c.is_open,
)

# Version 3: the work queue's columns, repeating the body as ``catalog_id`` does, and indexes
# that find one owner's, role's or school's open interventions without reading the others.
# Whole indexes, ``is_open`` last, not partial ones: SQLite uses a partial index only for a
# query that repeats its WHERE term as written, and SQLAlchemy writes ``is_open = 1``.
# ``next_follow_up`` is ISO date text (``YYYY-MM-DD``, which sorts and compares as the date
# does), so the hot statements bind the same plain text on SQLite and PostgreSQL.
QUEUE_COLUMNS = ("owner", "owner_role", "school_id", "next_follow_up")
"""The columns version 3 added, in this order (each repeats the body's field of that name)."""
for _name in QUEUE_COLUMNS:
    interventions.append_column(sa.Column(_name, sa.String, nullable=True))
queue_indexes = (
    sa.Index("ix_interventions_owner_open", interventions.c.owner, interventions.c.is_open),
    sa.Index(
        "ix_interventions_school_role_open",
        interventions.c.school_id,
        interventions.c.owner_role,
        interventions.c.is_open,
    ),
    sa.Index("ix_interventions_role_open", interventions.c.owner_role, interventions.c.is_open),
)


def queue_values(body: dict[str, object]) -> dict[str, str | None]:
    """The queue columns of an intervention's body (its JSON data), as the columns hold them."""
    out: dict[str, str | None] = {}
    for name in QUEUE_COLUMNS:
        value = body.get(name)
        if isinstance(value, dict):  # a tagged date: {"$t": "date", "v": "2025-10-06"}
            value = value.get("v")
        out[name] = None if value is None else str(value)
    return out


# Version 4: reporting columns. A report over a district's year (equity, effectiveness, legal
# aging) reads a few fields of millions of events; each event row repeats them beside its body
# (see tierflow.workflow.summarize) so SQL selects them and no JSON body is decoded. Interventions
# repeat their tier level, state and dates for the same reason (and for a district's own SQL or
# BI tools). Dates are ISO text, as ``next_follow_up``. ``verify`` checks every column against
# the body it repeats. NULL on rows that are not workflow events.
for _name in EVENT_REPORT_COLUMNS:
    events.append_column(
        sa.Column(_name, sa.Boolean if _name == "withdrawn" else sa.String, nullable=True)
    )
for _name in IV_REPORT_COLUMNS:
    interventions.append_column(
        sa.Column(_name, sa.Integer if _name == "tier_level" else sa.String, nullable=True)
    )
# Covering: a report reads every column it needs from the index, in kind and student order,
# without visiting the table's rows (on the 50,000-student year: 1.3 s of CPU for the 870,000
# rows equity reads, against 2.3 s through a narrow index).
report_indexes = (
    sa.Index(
        "ix_events_kind_student",
        events.c.kind,
        events.c.student_id,
        events.c.seq,
        events.c.row,
        events.c.intervention_id,
        *(events.c[n] for n in EVENT_REPORT_COLUMNS if n != "kind"),
    ),
    sa.Index("ix_interventions_catalog", interventions.c.catalog_id),
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
    _v1 = sa.MetaData()
    _v1.create_all(conn, tables=list(_v1_tables(_v1)), checkfirst=False)


def _open_per_kind(conn: sa.Connection) -> None:
    conn.execute(sa.text("ALTER TABLE interventions ADD COLUMN catalog_id VARCHAR"))
    ivs = interventions
    rows = conn.execute(sa.select(ivs.c.id, ivs.c.body)).all()
    for iid, body in rows:
        kind = json.loads(body)["intervention"]
        conn.execute(sa.update(ivs).where(ivs.c.id == iid).values(catalog_id=kind))
    open_per_kind.create(conn)


def _work_queue(conn: sa.Connection) -> None:
    for name in QUEUE_COLUMNS:
        conn.execute(sa.text(f"ALTER TABLE interventions ADD COLUMN {name} VARCHAR"))
    ivs = interventions
    rows = conn.execute(sa.select(ivs.c.id, ivs.c.body)).all()
    fill = (
        sa.update(ivs)
        .where(ivs.c.id == sa.bindparam("b_id"))
        .values({name: sa.bindparam(f"b_{name}") for name in QUEUE_COLUMNS})
    )
    params = [
        {"b_id": iid, **{f"b_{k}": v for k, v in queue_values(json.loads(body)).items()}}
        for iid, body in rows
    ]
    if params:  # one executemany: a district's year holds some 100,000 interventions
        conn.execute(fill, params)
    for index in queue_indexes:
        index.create(conn)


def _reporting(conn: sa.Connection) -> None:
    quote = conn.dialect.identifier_preparer.quote
    types = {"withdrawn": "BOOLEAN", "tier_level": "INTEGER"}
    for table, names in (("events", EVENT_REPORT_COLUMNS), ("interventions", IV_REPORT_COLUMNS)):
        for name in names:
            kind = types.get(name, "VARCHAR")
            conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {quote(name)} {kind}"))
    ev, ivs = events, interventions
    fill_events = (
        sa.update(ev)
        .where(ev.c.row == sa.bindparam("b_row"))
        .values({n: sa.bindparam(f"b_{n}") for n in EVENT_REPORT_COLUMNS})
    )
    rows = conn.execute(sa.select(ev.c.row, ev.c.body).where(ev.c.record == "event"))
    params = []
    for row, body in rows:
        try:
            values = event_report_params(summarize(codec.read_event(body, row)))
        except (codec.Unreadable, ValueError, TypeError, KeyError, AttributeError):
            continue  # unreadable (changed outside tierflow): left NULL, and verify says so
        params.append({"b_row": row, **{f"b_{k}": v for k, v in values.items()}})
        if len(params) >= 10_000:  # a year holds millions of events: bounded memory
            conn.execute(fill_events, params)
            params = []
    if params:
        conn.execute(fill_events, params)
    fill_ivs = (
        sa.update(ivs)
        .where(ivs.c.id == sa.bindparam("b_id"))
        .values({n: sa.bindparam(f"b_{n}") for n in IV_REPORT_COLUMNS})
    )
    iv_params = []
    for iid, body in conn.execute(sa.select(ivs.c.id, ivs.c.body)).all():
        try:
            values = iv_report_params(codec.read_intervention(body))
        except (codec.Unreadable, ValueError, TypeError, KeyError, AttributeError):
            continue
        iv_params.append({"b_id": iid, **{f"b_{k}": v for k, v in values.items()}})
    if iv_params:
        conn.execute(fill_ivs, iv_params)
    for index in report_indexes:
        index.create(conn)


MIGRATIONS: tuple[tuple[int, str, Callable[[sa.Connection], None]], ...] = (
    (1, "events, chain heads, interventions, check-ins, issued steps", _initial),
    (2, "at most one open intervention of a kind per student", _open_per_kind),
    (3, "work queues: owner, role, school and next follow-up, indexed", _work_queue),
    (4, "reporting columns: each event's kind, date, state, tier and step", _reporting),
)
"""Every migration in order: (version, what it does, how)."""

SCHEMA_VERSION = MIGRATIONS[-1][0]
"""The schema version this tierflow writes."""


def migrate(conn: sa.Connection, now: dt.datetime) -> list[int]:
    """Apply the migrations a database lacks, in one transaction; return their versions.

    ``conn`` must begin write transactions (SQLite: ``BEGIN IMMEDIATE``) and, on PostgreSQL,
    run at ``READ COMMITTED``: the migration lock is taken first, then the applied versions
    are read, so a second process opening a new store at once waits and applies nothing.

    Raises:
        StoreError: The database was written by a newer tierflow (its schema is ahead).
    """
    with conn.begin():
        migration_lock(conn)
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
