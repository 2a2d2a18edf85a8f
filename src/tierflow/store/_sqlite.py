"""A workflow repository in a SQLite file (or in memory), through SQLAlchemy Core."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

import sqlalchemy as sa

from tierflow.errors import StoreError
from tierflow.store import _codec as codec
from tierflow.store._schema import migrate, tables
from tierflow.workflow import OPEN_STATES, CheckIn, Intervention, WorkflowEvent

__all__ = ["ChainRow", "SqliteRepository"]


class ChainRow(NamedTuple):
    """One row of the events table, as stored (what the audit checks).

    Attributes:
        row: The row number (global order; a workflow event's ``seq``).
        student_id: Whose chain it belongs to.
        seq: Its position in the student's chain (1, 2, 3...).
        record: ``event``, ``intervention``, ``check_in`` or ``issued``.
        intervention_id: The intervention it concerns, if any.
        body: The record as canonical JSON text.
        prev_hash: The hash of the previous row of the chain.
        hash: sha256 of ``prev_hash`` and the row's canonical content.
    """

    row: int
    student_id: str
    seq: int
    record: str
    intervention_id: str | None
    body: str
    prev_hash: str
    hash: str


def envelope(record: str, student_id: str, seq: int, body: Any) -> str:
    """The canonical text a chain row's hash covers: its kind, place and body."""
    return codec.dumps({"body": body, "record": record, "seq": seq, "student_id": student_id})


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (the recipe in
    # SQLAlchemy's pysqlite documentation), so each one can take the write lock up front.
    dbapi_connection.isolation_level = None


def _on_begin(conn: sa.Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")


class SqliteRepository:
    """The workflow's records in SQLite: ``Engine(ruleset, repository=SqliteRepository(path))``.

    Event-sourced: every change (an intervention added or saved, an event, a check-in, a legal
    step issued) is appended to the ``events`` table, hash-chained per student, and the current
    state is updated in the same transaction. The schema is migrated when the file opens.

    Args:
        path: A database file (created if missing), or ``":memory:"``.
        now: The clock for migration timestamps (default: the system clock in UTC).
    """

    def __init__(
        self,
        path: str | Path = ":memory:",
        *,
        now: dt.datetime | None = None,
    ) -> None:
        self.path = str(path)
        # URL.create, not an f-string: a file name may hold '?' or '#'.
        url = sa.URL.create("sqlite", database=None if self.path == ":memory:" else self.path)
        self._engine = sa.create_engine(url)
        sa.event.listen(self._engine, "connect", _on_connect)
        sa.event.listen(self._engine, "begin", _on_begin)
        try:
            self._conn = self._engine.connect()
            migrate(self._conn, now or dt.datetime.now(dt.timezone.utc))
        except sa.exc.SQLAlchemyError as exc:
            self._engine.dispose()
            raise StoreError(f"cannot open the store {self.path}: {exc}") from exc
        ids = tables.interventions.c.id
        top = self._conn.execute(
            sa.select(sa.func.max(sa.cast(sa.func.substr(ids, 4), sa.Integer))).where(
                ids.like("iv-%")
            )
        ).scalar()
        self._conn.rollback()
        self._next_id = (top or 0) + 1

    # --- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database."""
        self._conn.close()
        self._engine.dispose()

    def __enter__(self) -> SqliteRepository:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteRepository({self.path!r})"

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Make everything inside one transaction: all of it is kept, or none of it.

        Wrap a day's run in a batch (``with repo.batch(): engine.run(day, facts)``): it is
        much faster on a file (one commit instead of one per change), and a run that fails
        part way leaves nothing behind, so running the day again resumes cleanly. Each change
        inside stays atomic on its own (a refused ``save`` undoes only itself). After a failed
        batch, build a new engine on the store: the old one counted caseloads that were undone.

        Raises:
            StoreError: A batch is already open, or the database failed (nothing is kept).
        """
        conn = self._conn
        if conn.in_transaction():
            raise StoreError(f"store {self.path}: a batch is already open (batches do not nest)")
        conn.info["write"] = True
        try:
            with conn.begin():
                conn.info["write"] = False
                yield
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"store {self.path}: the batch failed and was undone: {exc}") from exc
        finally:
            conn.info["write"] = False

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """One write transaction (a savepoint inside a batch); failures become StoreError."""
        conn = self._conn
        try:
            if conn.in_transaction():
                with conn.begin_nested():
                    yield conn
                return
            conn.info["write"] = True
            with conn.begin():
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"store {self.path}: {exc}") from exc
        finally:
            conn.info["write"] = False

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        conn = self._conn
        try:
            if conn.in_transaction():
                yield conn
                return
            with conn.begin():
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"store {self.path}: {exc}") from exc

    def _chain(
        self,
        conn: sa.Connection,
        student_id: str,
        record: str,
        intervention_id: str | None,
        body: Any,
    ) -> int:
        """Append a row to the student's chain; return its row number."""
        heads = tables.chain_heads
        head = conn.execute(
            sa.select(heads.c.seq, heads.c.hash).where(heads.c.student_id == student_id)
        ).first()
        seq = 1 if head is None else head.seq + 1
        prev = codec.GENESIS if head is None else head.hash
        digest = codec.chain_hash(prev, envelope(record, student_id, seq, body))
        result = conn.execute(
            sa.insert(tables.events).values(
                student_id=student_id,
                seq=seq,
                record=record,
                intervention_id=intervention_id,
                body=codec.dumps(body),
                prev_hash=prev,
                hash=digest,
            )
        )
        if head is None:
            conn.execute(sa.insert(heads).values(student_id=student_id, seq=seq, hash=digest))
        else:
            moved = conn.execute(
                sa.update(heads)
                .where(heads.c.student_id == student_id, heads.c.seq == head.seq)
                .values(seq=seq, hash=digest)
            )
            if moved.rowcount != 1:
                raise StoreError(f"student {student_id}'s chain was extended concurrently")
        key = result.inserted_primary_key
        assert key is not None  # an INSERT into a table with an integer primary key
        return int(key[0])

    # --- the Repository protocol -------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh intervention id (numbering goes on from the largest stored)."""
        number, self._next_id = self._next_id, self._next_id + 1
        return f"iv-{number:07d}"

    def add(self, intervention: Intervention) -> None:
        """Store a new intervention (and its ``intervention`` event).

        Raises:
            StoreError: An intervention with this id exists already.
        """
        state = codec.intervention_to_json(intervention)
        ivs = tables.interventions
        with self._write() as conn:
            if conn.execute(sa.select(ivs.c.pos).where(ivs.c.id == intervention.id)).first():
                raise StoreError(f"intervention {intervention.id} already exists")
            conn.execute(
                sa.insert(ivs).values(
                    id=intervention.id,
                    student_id=intervention.student_id,
                    is_open=intervention.state in OPEN_STATES,
                    version=intervention.version,
                    body=codec.dumps(state),
                )
            )
            self._chain(
                conn, intervention.student_id, "intervention", intervention.id,
                {"op": "add", "state": state},
            )  # fmt: skip

    def get(self, intervention_id: str) -> Intervention:
        """The intervention with this id (a fresh copy).

        Raises:
            KeyError: There is none.
        """
        ivs = tables.interventions
        with self._read() as conn:
            body = conn.execute(sa.select(ivs.c.body).where(ivs.c.id == intervention_id)).scalar()
        if body is None:
            raise KeyError(intervention_id)
        return codec.intervention_from_json(codec.loads(body))

    def save(self, intervention: Intervention, expected_version: int) -> None:
        """Store a changed intervention, appending the fields that changed as an event.

        Raises:
            StoreError: It does not exist, or its stored version is not ``expected_version``
                (someone changed it first); nothing is written.
        """
        ivs = tables.interventions
        iid = intervention.id
        with self._write() as conn:
            stored = conn.execute(
                sa.select(ivs.c.version, ivs.c.body).where(ivs.c.id == iid)
            ).first()
            if stored is None:
                raise StoreError(f"intervention {iid} does not exist")
            if stored.version != expected_version:
                raise StoreError(
                    f"intervention {iid} was changed concurrently: the store holds version "
                    f"{stored.version}, this change expected version {expected_version}"
                )
            before = codec.loads(stored.body)
            state = codec.intervention_to_json(intervention)
            changes = {k: v for k, v in state.items() if before.get(k) != v}
            conn.execute(
                sa.update(ivs)
                .where(ivs.c.id == iid, ivs.c.version == expected_version)
                .values(
                    is_open=intervention.state in OPEN_STATES,
                    version=intervention.version,
                    body=codec.dumps(state),
                )
            )
            self._chain(
                conn, intervention.student_id, "intervention", iid,
                {"op": "save", "id": iid, "expected_version": expected_version,
                 "changes": changes},
            )  # fmt: skip

    def for_student(self, student_id: str) -> list[Intervention]:
        """Every intervention of a student, oldest first."""
        ivs = tables.interventions
        with self._read() as conn:
            bodies = conn.execute(
                sa.select(ivs.c.body).where(ivs.c.student_id == student_id).order_by(ivs.c.pos)
            ).scalars()
            return [codec.intervention_from_json(codec.loads(b)) for b in bodies]

    def open_interventions(self) -> Iterator[Intervention]:
        """Every open intervention, oldest first (read at once: callers save as they go)."""
        ivs = tables.interventions
        with self._read() as conn:
            bodies = conn.execute(
                sa.select(ivs.c.body).where(ivs.c.is_open).order_by(ivs.c.pos)
            ).scalars()
            found = [codec.intervention_from_json(codec.loads(b)) for b in bodies]
        return iter(found)

    def append(self, event: WorkflowEvent) -> WorkflowEvent:
        """Append a workflow event; its ``seq`` is its row number."""
        body = codec.event_to_json(event)
        with self._write() as conn:
            row = self._chain(conn, event.student_id, "event", event.intervention_id, body)
        return codec.event_from_json(body, row)

    def events(self, student_id: str) -> list[WorkflowEvent]:
        """A student's workflow events in order."""
        ev = tables.events
        with self._read() as conn:
            rows = conn.execute(
                sa.select(ev.c.row, ev.c.body)
                .where(ev.c.student_id == student_id, ev.c.record == "event")
                .order_by(ev.c.seq)
            ).all()
        return [codec.event_from_json(codec.loads(r.body), r.row) for r in rows]

    def add_check_in(self, check_in: CheckIn) -> None:
        """Store a check-in.

        Raises:
            StoreError: Its intervention does not exist.
        """
        ivs = tables.interventions
        body = codec.check_in_to_json(check_in)
        with self._write() as conn:
            student = conn.execute(
                sa.select(ivs.c.student_id).where(ivs.c.id == check_in.intervention_id)
            ).scalar()
            if student is None:
                raise StoreError(
                    f"a check-in for intervention {check_in.intervention_id}, which does not exist"
                )
            conn.execute(
                sa.insert(tables.check_ins).values(
                    intervention_id=check_in.intervention_id, body=codec.dumps(body)
                )
            )
            self._chain(conn, student, "check_in", check_in.intervention_id, body)

    def check_ins(self, intervention_id: str) -> list[CheckIn]:
        """An intervention's check-ins in order."""
        ci = tables.check_ins
        with self._read() as conn:
            bodies = conn.execute(
                sa.select(ci.c.body)
                .where(ci.c.intervention_id == intervention_id)
                .order_by(ci.c.pos)
            ).scalars()
            return [codec.check_in_from_json(codec.loads(b)) for b in bodies]

    def issued(self, student_id: str) -> dict[str, dt.date]:
        """Legal steps issued to a student, with their dates."""
        t = tables.issued
        with self._read() as conn:
            rows = conn.execute(
                sa.select(t.c.step, t.c.on).where(t.c.student_id == student_id)
            ).all()
        return {r.step: r.on for r in rows}

    def record_issued(self, student_id: str, step: str, on: dt.date) -> None:
        """Record that a legal step was issued (a later record replaces its date)."""
        t = tables.issued
        with self._write() as conn:
            conn.execute(sa.delete(t).where(t.c.student_id == student_id, t.c.step == step))
            conn.execute(sa.insert(t).values(student_id=student_id, step=step, on=on))
            self._chain(conn, student_id, "issued", None, {"on": codec.to_json(on), "step": step})

    # --- for the audit -----------------------------------------------------------------------

    def chain_rows(self) -> list[ChainRow]:
        """Every row of the events table, by student and position in the chain."""
        ev = tables.events
        with self._read() as conn:
            rows = conn.execute(
                sa.select(*ev.c).order_by(ev.c.student_id, ev.c.seq, ev.c.row)
            ).all()
        return [ChainRow(*r) for r in rows]

    def chain_heads(self) -> dict[str, tuple[int, str]]:
        """The last position and hash of each student's chain, as the store recorded them."""
        h = tables.chain_heads
        with self._read() as conn:
            rows = conn.execute(sa.select(h.c.student_id, h.c.seq, h.c.hash)).all()
        return {r.student_id: (r.seq, r.hash) for r in rows}

    def students(self) -> list[str]:
        """Every student with a record, sorted."""
        h = tables.chain_heads
        ivs = tables.interventions
        with self._read() as conn:
            found = set(conn.execute(sa.select(h.c.student_id)).scalars())
            found |= set(conn.execute(sa.select(ivs.c.student_id).distinct()).scalars())
        return sorted(found)
