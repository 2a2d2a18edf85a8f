"""The statements a day's run makes for every student, compiled once per store.

Each is a SQLAlchemy Core statement over :data:`tierflow.store._schema.tables`, named, with the
columns an INSERT sets; :class:`Statement` compiles one for the store's dialect and binds plain
parameters the way the driver takes them.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.compiler import SQLCompiler

from tierflow.store._schema import (
    EVENT_REPORT_COLUMNS,
    IV_REPORT_COLUMNS,
    QUEUE_COLUMNS,
    tables,
)

__all__ = ["STATEMENTS", "Statement", "iv_row"]


class Statement:
    """A statement compiled once for the store's dialect, run straight on the DB-API cursor.

    Building and compiling a SQLAlchemy statement costs about 100 µs a time, the database a few:
    the hot paths (a day's run makes some 30 statements a student) compile each statement once
    per store and pass plain parameters, by name or in position as the driver wants them.
    """

    __slots__ = ("_pick", "names", "text", "writes")

    def __init__(
        self, statement: sa.ClauseElement, dialect: sa.Dialect, columns: list[str] | None
    ) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=columns)
        assert isinstance(compiled, SQLCompiler)  # a statement, not DDL
        self.text = str(compiled)
        self.names = tuple(compiled.positiontup or ()) if compiled.positional else None
        self.writes = compiled.isinsert or compiled.isupdate or compiled.isdelete
        # itemgetter of two or more names gives the tuple the driver takes, in one C call.
        names = self.names
        self._pick = operator.itemgetter(*names) if names and len(names) > 1 else None

    def bind(self, params: Mapping[str, Any]) -> Any:
        """The parameters as the driver takes them."""
        if self._pick is not None:
            return self._pick(params)
        return params if self.names is None else tuple(params[n] for n in self.names)


def _statements() -> dict[str, tuple[sa.ClauseElement, list[str] | None]]:
    ev, heads, ivs, ci = tables.events, tables.chain_heads, tables.interventions, tables.check_ins
    p = sa.bindparam
    event_columns = [
        "student_id",
        "seq",
        "record",
        "intervention_id",
        "body",
        "prev_hash",
        "hash",
        *EVENT_REPORT_COLUMNS,
    ]
    return {
        # The head, and where the chain really ends: they differ only in a store changed
        # outside tierflow (they are written together), which must not pass for a conflict.
        "head": (
            sa.select(
                sa.select(heads.c.seq).where(heads.c.student_id == p("sid")).scalar_subquery(),
                sa.select(heads.c.hash).where(heads.c.student_id == p("sid")).scalar_subquery(),
                sa.select(sa.func.max(ev.c.seq))
                .where(ev.c.student_id == p("sid"))
                .scalar_subquery(),
            ),
            None,
        ),
        # A batch on PostgreSQL numbers its rows from numbers it reserved (see ChainStore).
        "reserve_rows": (
            sa.select(
                sa.func.nextval(
                    sa.func.pg_get_serial_sequence(
                        sa.literal_column("'events'"), sa.literal_column("'row'")
                    )
                )
            )
            .select_from(sa.func.generate_series(sa.literal_column("1"), p("n")))
            .order_by(sa.literal_column("1")),
            None,
        ),
        "insert_event_at": (sa.insert(ev), ["row", *event_columns]),
        "insert_event": (sa.insert(ev).returning(ev.c.row), event_columns),
        "insert_head": (sa.insert(heads), ["student_id", "seq", "hash"]),
        "move_head": (
            sa.update(heads)
            .where(heads.c.student_id == p("sid"), heads.c.seq == p("old"))
            .values(seq=p("new_seq"), hash=p("new_hash")),
            None,
        ),
        "iv_exists": (sa.select(ivs.c.pos).where(ivs.c.id == p("iid")), None),
        "insert_iv": (
            sa.insert(ivs),
            [
                "id",
                "student_id",
                "catalog_id",
                "is_open",
                "version",
                "body",
                *QUEUE_COLUMNS,
                *IV_REPORT_COLUMNS,
            ],
        ),
        "iv_stored": (sa.select(*iv_row(ivs)).where(ivs.c.id == p("iid")), None),
        "update_iv": (
            sa.update(ivs)
            .where(ivs.c.id == p("iid"), ivs.c.version == p("expected"))
            .values(
                is_open=p("now_open"),
                version=p("new_version"),
                body=p("new_body"),
                **{name: p(f"new_{name}") for name in (*QUEUE_COLUMNS, *IV_REPORT_COLUMNS)},
            ),
            None,
        ),
        "iv_student": (sa.select(ivs.c.student_id).where(ivs.c.id == p("iid")), None),
        "insert_check_in": (sa.insert(ci), ["intervention_id", "body"]),
        # Reads a day's run makes for every student.
        "iv_body": (sa.select(*iv_row(ivs)).where(ivs.c.id == p("iid")), None),
        "iv_bodies": (
            sa.select(*iv_row(ivs)).where(ivs.c.student_id == p("sid")).order_by(ivs.c.pos),
            None,
        ),
        "open_bodies": (sa.select(*iv_row(ivs)).where(ivs.c.is_open).order_by(ivs.c.pos), None),
        "timeline": (
            sa.select(ev.c.row, ev.c.body)
            .where(ev.c.student_id == p("sid"), ev.c.record == p("kind"))
            .order_by(ev.c.seq),
            None,
        ),
        "check_in_bodies": (
            sa.select(ci.c.body).where(ci.c.intervention_id == p("iid")).order_by(ci.c.pos),
            None,
        ),
    }


def iv_row(ivs: sa.Table) -> tuple[sa.Column[Any], ...]:
    """An intervention's row as the engine reads it: the body, then the columns repeating it.

    The columns are checked against the body on every read (see ``SqlRepository._checked``).
    """
    c = ivs.c
    return (c.body, c.id, c.student_id, c.catalog_id, c.is_open, c.version)


STATEMENTS = _statements()
"""The hot statements by name: (statement, the columns an INSERT sets)."""
