"""A workflow repository in SQL (a SQLite file or memory, PostgreSQL), through SQLAlchemy Core.

:class:`SqlRepository` implements the :class:`tierflow.workflow.Repository` protocol on a
:class:`~tierflow.store._chain.ChainStore` (opening, transactions, the hash chains) and gives
the audit its rows as stored. Connections and each dialect's transaction rules are in
:mod:`tierflow.store._connect`; the schema and its migrations in :mod:`tierflow.store._schema`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any

import sqlalchemy as sa

from tierflow.errors import ConflictError, StoreError, UnknownInterventionError
from tierflow.store import _codec as codec
from tierflow.store._chain import ChainStore
from tierflow.store._rows import (
    ChainRow,
    StoredRows,
    intervention_columns,
    queue_columns,
    queue_params,
)
from tierflow.store._schema import QUEUE_COLUMNS, tables
from tierflow.store._statements import iv_row
from tierflow.workflow import CheckIn, Intervention, WorkflowEvent

__all__ = ["SqlRepository"]

_UNREADABLE = (StoreError, ValueError, TypeError, KeyError, AttributeError, RecursionError)
"""What decoding a record changed outside tierflow can raise (it becomes a StoreError)."""

_FIELDS = operator.attrgetter(*(f.name for f in dataclasses.fields(Intervention)))
"""An intervention's fields in order (to copy one)."""


class SqlRepository(ChainStore):
    """The workflow's records in SQL: ``Engine(ruleset, repository=SqlRepository(target))``.

    ``target`` is a SQLite file path (the embedded default: created if missing; ``":memory:"``
    for a database in memory) or a SQLAlchemy URL: ``sqlite:///records.db``, or
    ``postgresql+psycopg://user:password@host/database`` for PostgreSQL (the ``postgres``
    extra). The schema is migrated when the store opens.

    Event-sourced: every change (an intervention added or saved, an event, a check-in, a legal
    step issued) is appended to the ``events`` table, hash-chained per student, and the current
    state is updated in the same transaction.

    Concurrency: several processes may write the same store. Unique keys (an intervention id,
    a position in a student's chain, one open intervention of a kind per student) and
    optimistic versions refuse a change another writer made first with a
    :class:`~tierflow.errors.ConflictError`, keeping nothing of it; :meth:`run_batch` runs a
    day again on such a conflict.

    Args:
        target: A SQLite file path or a database URL (see :func:`tierflow.store.store_url`).
        schema: PostgreSQL only: the schema to keep the tables in (created if missing; default:
            the connection's ``search_path``, normally ``public``).
        busy_timeout: SQLite only: seconds a writer waits for another process's write to end
            before giving up with a :class:`~tierflow.errors.ConflictError`.
        now: The clock for migration timestamps (default: the system clock in UTC).

    Raises:
        StoreError: The database cannot be opened or migrated (its schema is newer than this
            tierflow, the server is unreachable, the driver is not installed...).
    """

    # --- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database."""
        self._conn.close()
        self._engine.dispose()

    def __enter__(self) -> SqlRepository:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqlRepository({self.path!r})"

    def _decode(self, text: str) -> Intervention:
        """The intervention a stored text holds, as a fresh copy (callers change what they get).

        A run reads a student's interventions five or six times; each distinct text is parsed
        once and copied after (its fields are immutable values, so a shallow copy is enough).
        """
        return Intervention(*_FIELDS(self._parsed(text)))

    def _parsed(self, text: str, iid: object = "?") -> Intervention:
        """The intervention a stored text holds (shared: callers must not change it).

        Raises:
            StoreError: The text is not an intervention (changed outside tierflow).
        """
        known = self._decoded.get(text)
        if known is None:
            try:
                known = codec.read_intervention(text)
            except codec.Unreadable as exc:
                raise self._inconsistent("interventions", f"id={iid}", str(exc)) from exc
            if len(self._decoded) >= 20_000:
                self._decoded.clear()
            self._decoded[text] = known
        return known

    def _checked(self, row: Sequence[Any]) -> str:
        """The body of an intervention row (``_statements.iv_row``), once its columns agree.

        The engine finds open interventions by ``is_open``, a kind by ``catalog_id`` and a
        concurrent change by ``version``: a column saying otherwise than the body would hide
        an intervention, or refuse every later change as a conflict.

        Raises:
            StoreError: A column disagrees with the body (changed outside tierflow).
        """
        text, iid, student, kind, is_open, version = row
        iv = self._parsed(text, iid)
        wrong = intervention_columns(iv, iid, student, kind, is_open, version)
        if wrong:
            raise self._inconsistent("interventions", f"id={iid}", "; ".join(wrong))
        return str(text)

    # --- the Repository protocol -------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh intervention id (numbering goes on from the largest stored).

        Numbers are handed out by this process and caught up with the store at the start of
        each batch; an id another process took meanwhile is refused by ``add`` with a
        :class:`~tierflow.errors.ConflictError` (and :meth:`run_batch` runs the batch again
        with fresh numbers).
        """
        number, self._next_id = self._next_id, self._next_id + 1
        return f"iv-{number:07d}"

    def add(self, intervention: Intervention) -> None:
        """Store a new intervention (and its ``intervention`` event).

        Raises:
            StoreError: An intervention with this id exists already.
        """
        state = codec.intervention_to_json(intervention)
        text = codec.dumps(state)
        with self._write():
            if self._exec("iv_exists", iid=intervention.id).fetchone():
                raise StoreError(f"intervention {intervention.id} already exists")
            self._exec(
                "insert_iv",
                id=intervention.id,
                student_id=intervention.student_id,
                catalog_id=intervention.intervention,
                is_open=intervention.ended_on is None,
                version=intervention.version,
                body=text,
                **queue_params(intervention),
            )
            self._chain(
                intervention.student_id,
                "intervention",
                intervention.id,
                {"op": "add", "state": state},
                f'{{"op":"add","state":{text}}}',
            )
        known = None if self._students is None else self._students.get(intervention.student_id)
        if known is not None:
            known.append(text)  # the newest: the last by position

    def get(self, intervention_id: str) -> Intervention:
        """The intervention with this id (a fresh copy).

        Raises:
            UnknownInterventionError: There is none (a ``KeyError`` too).
        """
        with self._read():
            found = self._exec("iv_body", iid=intervention_id).fetchone()
        if found is None:
            raise UnknownInterventionError(intervention_id)
        return self._decode(self._checked(found))

    def save(self, intervention: Intervention, expected_version: int) -> None:
        """Store a changed intervention, appending the fields that changed as an event.

        Raises:
            StoreError: It does not exist, or its stored row disagrees with itself (changed
                outside tierflow); or a :class:`~tierflow.errors.ConflictError`: its stored
                version is not ``expected_version`` (someone changed it first). Nothing is
                written.
        """
        iid = intervention.id
        with self._write():
            stored = self._exec("iv_stored", iid=iid).fetchone()
            if stored is None:
                raise StoreError(f"intervention {iid} does not exist")
            body, version = self._checked(stored), stored[-1]
            if version != expected_version:
                raise ConflictError(
                    f"intervention {iid} was changed concurrently: the store holds version "
                    f"{version}, this change expected version {expected_version}"
                )
            before = codec.loads(body)
            state = codec.intervention_to_json(intervention)
            changes = {k: v for k, v in state.items() if before.get(k) != v}
            updated = self._exec(
                "update_iv",
                iid=iid,
                expected=expected_version,
                now_open=intervention.ended_on is None,
                new_version=intervention.version,
                new_body=codec.dumps(state),
                **{f"new_{k}": v for k, v in queue_params(intervention).items()},
            )
            if updated.rowcount != 1:
                raise ConflictError(f"intervention {iid} was changed concurrently")
            if self._students is not None:
                self._students.pop(intervention.student_id, None)
            self._chain(
                intervention.student_id,
                "intervention",
                iid,
                {"op": "save", "id": iid, "expected_version": expected_version, "changes": changes},
            )

    def for_student(self, student_id: str) -> list[Intervention]:
        """Every intervention of a student, oldest first.

        A batch keeps what it read (a run reads a student's interventions five times): inside
        one, only the batch itself changes them (it holds SQLite's write lock; on PostgreSQL it
        reads one snapshot), and ``add`` and ``save`` keep what it kept up to date.
        """
        cache = self._students
        if cache is not None and self._failed is None:
            texts = cache.get(student_id)
            if texts is None:
                with self._read():
                    rows = self._exec("iv_bodies", sid=student_id).fetchall()
                texts = cache[student_id] = [self._checked(r) for r in rows]
            return [self._decode(b) for b in texts]
        with self._read():
            rows = self._exec("iv_bodies", sid=student_id).fetchall()
        return [self._decode(self._checked(r)) for r in rows]

    def open_interventions(self) -> Iterator[Intervention]:
        """Every open intervention, oldest first (read at once: callers save as they go)."""
        with self._read():
            rows = self._exec("open_bodies").fetchall()
        return iter([self._decode(self._checked(r)) for r in rows])

    def append(self, event: WorkflowEvent) -> WorkflowEvent:
        """Append a workflow event; its ``seq`` is its row number."""
        body = codec.event_to_json(event)
        with self._write():
            row = self._chain(event.student_id, "event", event.intervention_id, body)
        return event._replace(seq=row)  # what events() reads back (a property test checks)

    def events(self, student_id: str) -> list[WorkflowEvent]:
        """A student's workflow events in order."""
        with self._read():
            rows = self._exec("timeline", sid=student_id, kind="event").fetchall()
        try:
            return [codec.event_from_json(codec.loads(body), row) for row, body in rows]
        except _UNREADABLE as exc:
            raise self._unreadable("events", f"student_id={student_id}", exc) from exc

    def add_check_in(self, check_in: CheckIn) -> None:
        """Store a check-in.

        Raises:
            StoreError: Its intervention does not exist.
        """
        iid = check_in.intervention_id
        body = codec.check_in_to_json(check_in)
        with self._write():
            found = self._exec("iv_student", iid=iid).fetchone()
            if found is None:
                raise StoreError(f"a check-in for intervention {iid}, which does not exist")
            self._exec("insert_check_in", intervention_id=iid, body=codec.dumps(body))
            self._chain(found[0], "check_in", iid, body)

    def check_ins(self, intervention_id: str) -> list[CheckIn]:
        """An intervention's check-ins in order."""
        with self._read():
            rows = self._exec("check_in_bodies", iid=intervention_id).fetchall()
        try:
            return [codec.check_in_from_json(codec.loads(b)) for (b,) in rows]
        except _UNREADABLE as exc:
            raise self._unreadable("check_ins", f"intervention_id={intervention_id}", exc) from exc

    def issued(self, student_id: str) -> dict[str, dt.date]:
        """Legal steps issued to a student, with their dates.

        Read from the student's hash chain (the ``issued`` table is kept for queries and
        compared by :func:`~tierflow.store.verify`): a row added to or deleted from the table
        outside tierflow cannot make the engine skip or repeat a legal step.
        """
        with self._read():
            rows = self._exec("timeline", sid=student_id, kind="issued").fetchall()
        try:
            return dict(codec.read_issued(body) for _, body in rows)  # the last one counts
        except codec.Unreadable as exc:
            raise self._unreadable("events", f"student_id={student_id}", exc) from exc

    def record_issued(self, student_id: str, step: str, on: dt.date) -> None:
        """Record that a legal step was issued (a later record replaces its date)."""
        t = tables.issued
        with self._write() as conn:
            self._writes += 1  # a failure after this fails the batch (see _write)
            conn.execute(sa.delete(t).where(t.c.student_id == student_id, t.c.step == step))
            conn.execute(sa.insert(t).values(student_id=student_id, step=step, on=on))
            self._chain(student_id, "issued", None, {"on": codec.to_json(on), "step": step})

    def work_items(
        self,
        *,
        owner: str | None = None,
        role: str | None = None,
        school: str | None = None,
        unassigned: bool = False,
    ) -> list[Intervention]:
        """The open interventions a work queue lists, selected in SQL, oldest first.

        The filters are indexed columns (schema version 3): one owner's queue reads that
        owner's rows, not the district's. Each row's columns are
        checked against its body (a column changed outside tierflow is a
        :class:`~tierflow.errors.StoreError`, as on every read).
        """
        ivs = tables.interventions
        query = sa.select(*iv_row(ivs), *(ivs.c[n] for n in QUEUE_COLUMNS)).where(ivs.c.is_open)
        if owner is not None:
            query = query.where(ivs.c.owner == owner)
        if unassigned:
            query = query.where(ivs.c.owner.is_(None))
        if role is not None:
            query = query.where(ivs.c.owner_role == role)
        if school is not None:
            query = query.where(ivs.c.school_id == school)
        with self._read() as conn:
            rows = conn.execute(query.order_by(ivs.c.pos)).all()
        out = []
        for row in rows:
            iv = self._decode(self._checked(row[:6]))
            wrong = queue_columns(iv, tuple(row[6:]))
            if wrong:
                raise self._inconsistent("interventions", f"id={iv.id}", "; ".join(wrong))
            out.append(iv)
        return out

    def legal_events(self, student_ids: Iterable[str]) -> dict[str, list[WorkflowEvent]]:
        """The ``legal_*`` events of these students, each student's in order.

        Read in chunks of students; the canonical body text of a legal event holds
        ``"kind":"legal_``, which SQL matches first (a note quoting it matches too, and is
        left out once read), so the rest of a timeline is never decoded.
        """
        ev = tables.events
        wanted = list(dict.fromkeys(student_ids))
        out: dict[str, list[WorkflowEvent]] = {}
        with self._read() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                query = (
                    sa.select(ev.c.student_id, ev.c.row, ev.c.body)
                    .where(
                        ev.c.student_id.in_(chunk),
                        ev.c.record == "event",
                        ev.c.body.contains('"kind":"legal_', autoescape=True),
                    )
                    .order_by(ev.c.student_id, ev.c.seq)
                )
                for sid, row, body in conn.execute(query):
                    try:
                        event = codec.event_from_json(codec.loads(body), row)
                    except _UNREADABLE as exc:
                        raise self._unreadable("events", f"student_id={sid}", exc) from exc
                    if event.kind.startswith("legal_"):
                        out.setdefault(sid, []).append(event)
        return {sid: out[sid] for sid in wanted if sid in out}

    def notice_events(
        self, student_ids: Iterable[str] | None = None
    ) -> dict[str, list[WorkflowEvent]]:
        """The ``notice_*`` events (the outbox) of these students, each student's in order.

        As :meth:`legal_events`: SQL matches ``"kind":"notice_`` in the body text first (a
        note quoting it is left out once read). None reads every student's, sorted by id.
        """
        ev = tables.events
        query = sa.select(ev.c.student_id, ev.c.row, ev.c.body).where(
            ev.c.record == "event", ev.c.body.contains('"kind":"notice_', autoescape=True)
        )
        out: dict[str, list[WorkflowEvent]] = {}
        wanted = None if student_ids is None else list(dict.fromkeys(student_ids))
        chunks = (
            [None] if wanted is None else [wanted[i : i + 500] for i in range(0, len(wanted), 500)]
        )
        with self._read() as conn:
            for chunk in chunks:
                q = query if chunk is None else query.where(ev.c.student_id.in_(chunk))
                for sid, row, body in conn.execute(q.order_by(ev.c.student_id, ev.c.seq)):
                    try:
                        event = codec.event_from_json(codec.loads(body), row)
                    except _UNREADABLE as exc:
                        raise self._unreadable("events", f"student_id={sid}", exc) from exc
                    if event.kind.startswith("notice_"):
                        out.setdefault(sid, []).append(event)
        order = sorted(out) if wanted is None else wanted
        return {sid: out[sid] for sid in order if sid in out}

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

    def stored_rows(self) -> StoredRows:
        """Every row of every table, read in one transaction, as the driver returns it.

        Values are not converted (a column changed outside tierflow may hold anything the
        database accepts: text in an integer column on SQLite): the audit checks them.
        """
        ev, h, ivs, ci, iss = (
            tables.events,
            tables.chain_heads,
            tables.interventions,
            tables.check_ins,
            tables.issued,
        )
        queries = (
            sa.select(*ev.c).order_by(ev.c.student_id, ev.c.seq, ev.c.row),
            sa.select(h.c.student_id, h.c.seq, h.c.hash).order_by(h.c.student_id),
            sa.select(
                ivs.c.pos,
                ivs.c.id,
                ivs.c.student_id,
                ivs.c.catalog_id,
                ivs.c.is_open,
                ivs.c.version,
                ivs.c.body,
                *(ivs.c[name] for name in QUEUE_COLUMNS),
            ).order_by(ivs.c.pos),
            sa.select(ci.c.pos, ci.c.intervention_id, ci.c.body).order_by(ci.c.pos),
            sa.select(iss.c.student_id, iss.c.step, iss.c.on).order_by(
                iss.c.student_id, iss.c.step
            ),
        )
        with self._read() as conn:
            results = [
                [tuple(r) for r in conn.exec_driver_sql(str(q.compile(dialect=conn.dialect)))]
                for q in queries
            ]
        events, heads, interventions, check_ins, issued = results
        return StoredRows([ChainRow(*r) for r in events], heads, interventions, check_ins, issued)

    def students(self) -> list[str]:
        """Every student with a record, sorted."""
        h = tables.chain_heads
        ivs = tables.interventions
        with self._read() as conn:
            found = set(conn.execute(sa.select(h.c.student_id)).scalars())
            found |= set(conn.execute(sa.select(ivs.c.student_id).distinct()).scalars())
        return sorted(found)
