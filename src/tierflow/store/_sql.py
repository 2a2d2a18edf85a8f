"""A workflow repository in SQL (a SQLite file or memory, PostgreSQL), through SQLAlchemy Core.

:class:`SqlRepository` implements the :class:`tierflow.workflow.Repository` protocol on a
:class:`~tierflow.store._chain.ChainStore` (opening, transactions, the hash chains) and gives
the audit its rows as stored. Connections and each dialect's transaction rules are in
:mod:`tierflow.store._connect`; the schema and its migrations in :mod:`tierflow.store._schema`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import operator
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

import sqlalchemy as sa

from tierflow.errors import ConflictError, StoreError, UnknownInterventionError
from tierflow.store import _codec as codec
from tierflow.store._chain import ChainStore, _Head
from tierflow.store._prefetch import CHUNK, read_ahead
from tierflow.store._rows import (
    ChainRow,
    StoredRows,
    event_report_params,
    intervention_columns,
    iv_report_params,
    queue_columns,
    queue_params,
    read_cases,
)
from tierflow.store._schema import (
    EVENT_REPORT_COLUMNS,
    IV_REPORT_COLUMNS,
    QUEUE_COLUMNS,
    tables,
)
from tierflow.store._statements import iv_row
from tierflow.workflow import (
    CaseSummary,
    CheckIn,
    EventSummary,
    Intervention,
    WorkflowEvent,
    check_update,
    summarize,
)

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
        reserved_ids: PostgreSQL only: inside a batch, take intervention ids from numbers the
            server hands out (the sequence that numbers event rows), so that writers running
            at once never take the same id (ids then grow, but are not consecutive nor the same
            from one run to the next). Default: each id is the next after the largest stored,
            so a run gives the same ids whether batched or not, but two writers adding
            interventions at once take the same ids, and one runs its batch again.

    Raises:
        StoreError: The database cannot be opened or migrated (its schema is newer than this
            tierflow, the server is unreachable, the driver is not installed...).
    """

    indexed_queries = True
    """:meth:`work_items` reads by indexed columns: an engine counts a school's staff's
    caseloads one owner at a time, not by reading every open case (``Core._school_roster``)."""

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
        """A fresh intervention id.

        Numbering goes on from the largest stored id. Numbers are handed out by this process
        and caught up with the store at the start of each batch; an id another process took
        meanwhile is refused by ``add`` with a :class:`~tierflow.errors.ConflictError` (and
        :meth:`run_batch` runs the batch again with fresh numbers). With ``reserved_ids``, on
        PostgreSQL inside a batch: a number reserved from the server's sequence (the one that
        numbers event rows), unique among every writer at once.
        """
        if self._deferring and self._reserved_ids:
            # On PostgreSQL, inside a batch: a number reserved from the server's sequence of
            # event rows, which no other writer can be given. Numbering on from the largest
            # stored id, two writers running at once (a day split over workers) took the same
            # ids and one of them had to run its whole batch again.
            iid = f"iv-{self._next_row():07d}"
        else:
            number, self._next_id = self._next_id, self._next_id + 1
            iid = f"iv-{number:07d}"
        if self._deferring:
            self._fresh.add(iid)  # add need not look it up: see add
        return iid

    def add(self, intervention: Intervention) -> None:
        """Store a new intervention (and its ``intervention`` event).

        Raises:
            StoreError: An intervention with this id exists already. Inside a batch on
                PostgreSQL, an id this store's :meth:`new_id` made in the batch is not looked
                up: one another writer took meanwhile fails the batch as a
                :class:`~tierflow.errors.ConflictError` when the insert is sent.
        """
        state = codec.intervention_to_json(intervention)
        text = codec.dumps(state)
        with self._write():
            fresh = self._deferring and intervention.id in self._fresh
            if fresh:
                # Made by new_id in this batch from a number past every stored id: only
                # another writer can have taken it since, and the primary key refuses that
                # when the insert is sent (a ConflictError: run_batch runs the batch again).
                self._fresh.discard(intervention.id)
            elif self._exec("iv_exists", iid=intervention.id).fetchone():
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
                **iv_report_params(intervention),
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
                **{f"new_{k}": v for k, v in iv_report_params(intervention).items()},
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

    def update(self, intervention: Intervention, changes: Mapping[str, Any]) -> None:
        """Store these fields changed, its version counted up: :meth:`save` of a changed copy.

        ``intervention`` takes the changes once the store has them (a refused save leaves it
        as it was).

        Raises:
            StoreError: As :meth:`save`; or a name in ``changes`` is not a field it may change
                (:func:`~tierflow.workflow.check_update`).
        """
        check_update(changes)
        version = intervention.version
        changed = dataclasses.replace(intervention, **changes, version=version + 1)
        self.save(changed, version)
        for name, value in changes.items():
            setattr(intervention, name, value)
        intervention.version = version + 1

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
            row = self._chain(
                event.student_id,
                "event",
                event.intervention_id,
                body,
                report=event_report_params(summarize(event)),
            )
        return event._replace(seq=row)  # what events() reads back (a property test checks)

    def events(self, student_id: str) -> list[WorkflowEvent]:
        """A student's workflow events in order."""
        rows = self._timeline(student_id, "event")
        try:
            return [codec.event_from_json(codec.loads(body), row) for row, body in rows]
        except _UNREADABLE as exc:
            raise self._unreadable("events", f"student_id={student_id}", exc) from exc

    def _timeline(self, student_id: str, record: str) -> list[tuple[int, str]]:
        """A student's rows of one record kind (row, body), prefetched or read now."""
        known = None if self._timelines is None else self._timelines.get((student_id, record))
        if known is not None and self._failed is None:
            return known
        with self._read():
            return list(self._exec("timeline", sid=student_id, kind=record).fetchall())

    def prefetch(self, student_ids: Sequence[str]) -> None:
        """Read these students' records together, to answer the batch's reads from them.

        Inside a batch only (outside one, each read is its own transaction and must see what
        others committed since): the interventions, events, legal steps issued and chain heads
        of up to 500 students a query (:mod:`tierflow.store._prefetch`). The batch's own
        writes are added to what it kept (it is the only writer of what it read: SQLite's
        write lock, PostgreSQL's snapshot), and a student whose rows disagree with each other
        is left to the read that reports it. The answers are the same as
        without it; a run on PostgreSQL makes one round trip a student fewer for each read.
        """
        heads, students, timelines = self._heads, self._students, self._timelines
        if heads is None or students is None or timelines is None or self._failed is not None:
            return
        wanted = [s for s in dict.fromkeys(student_ids) if s not in heads]
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            with self._read() as conn:
                ahead = read_ahead(conn, chunk)
            for sid in chunk:
                stored, last = ahead.heads.get(sid), ahead.last.get(sid)
                if (None if stored is None else stored[0]) == last:  # else: the read says why
                    heads[sid] = (
                        _Head(None, 0, codec.GENESIS)
                        if stored is None
                        else _Head(stored[0], stored[0], stored[1])
                    )
                if sid not in students:
                    with contextlib.suppress(StoreError):  # for_student reads it and raises
                        students[sid] = [self._checked(r) for r in ahead.interventions.get(sid, ())]
                for record in ("event", "issued"):
                    timelines[(sid, record)] = ahead.timelines.get((sid, record), [])

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
        rows = self._timeline(student_id, "issued")
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

        Selected by the ``kind`` column (schema version 4), read in chunks of students: the
        rest of a timeline is never read.
        """
        return self._events_like("legal_", list(dict.fromkeys(student_ids)))

    def notice_events(
        self, student_ids: Iterable[str] | None = None
    ) -> dict[str, list[WorkflowEvent]]:
        """The ``notice_*`` events (the outbox) of these students, each student's in order.

        As :meth:`legal_events`; None reads every student's, sorted by id.
        """
        wanted = None if student_ids is None else list(dict.fromkeys(student_ids))
        return self._events_like("notice_", wanted)

    def _events_like(self, prefix: str, wanted: list[str] | None) -> dict[str, list[WorkflowEvent]]:
        """The events whose kind begins with ``prefix``, of these students (None: all)."""
        ev = tables.events
        kind = ev.c.kind
        if self.dialect == "sqlite":
            # SQLite compares text byte by byte (BINARY): the kinds beginning with the prefix
            # are the range [prefix, prefix with its last character's successor), which the
            # (kind, student_id, seq) index finds; LIKE would scan the whole table.
            following = prefix[:-1] + chr(ord(prefix[-1]) + 1)
            match = sa.and_(kind >= prefix, kind < following)
        else:  # a collation may not order by bytes: LIKE is exact everywhere
            match = kind.startswith(prefix, autoescape=True)
        query = sa.select(ev.c.student_id, ev.c.row, ev.c.body, ev.c.kind).where(
            ev.c.record == "event", match
        )
        out: dict[str, list[WorkflowEvent]] = {}
        # Many students (a report over the district): one read by kind, then picked here; a
        # few (one owner's queue): by student, through the (student_id, seq) key.
        keep = None if wanted is None or len(wanted) <= _BY_STUDENT else set(wanted)
        with self._read() as conn:
            for chunk in _chunks(None if keep is not None else wanted):
                q = query if chunk is None else query.where(ev.c.student_id.in_(chunk))
                for sid, row, body, said in conn.execute(q.order_by(ev.c.student_id, ev.c.seq)):
                    if keep is not None and sid not in keep:
                        continue
                    try:
                        event = codec.event_from_json(codec.loads(body), row)
                    except _UNREADABLE as exc:
                        raise self._unreadable("events", f"student_id={sid}", exc) from exc
                    if event.kind != said or event.student_id != sid:
                        raise self._inconsistent(
                            "events",
                            f"row={row}",
                            f"kind is {said!r}, its body says {event.kind!r}",
                        )
                    out.setdefault(sid, []).append(event)
        order = sorted(out) if wanted is None else wanted
        return {sid: out[sid] for sid in order if sid in out}

    def summaries(
        self,
        kinds: Collection[str],
        student_ids: Iterable[str] | None = None,
        *,
        firsts: bool = False,
    ) -> dict[str, list[EventSummary]]:
        """The summaries of these students' events of these kinds, each student's in order.

        Read from the reporting columns (schema version 4): no body is decoded, which is what
        makes a report over a district's year take seconds. The columns are the body's, as
        :func:`~tierflow.store.verify` checks. ``firsts``: SQL keeps only the first
        transition of each intervention into each state (a window function), as
        :func:`~tierflow.workflow.first_transitions` does.
        """
        ev = tables.events
        wanted = None if student_ids is None else list(dict.fromkeys(student_ids))
        kinds = sorted(set(kinds))
        thin = firsts and "transition" in kinds
        columns = (
            ev.c.student_id,
            ev.c.row,
            ev.c.intervention_id,
            *(ev.c[n] for n in EVENT_REPORT_COLUMNS),
        )
        others = [k for k in kinds if k != "transition"] if thin else kinds
        keep = None if wanted is None or len(wanted) <= _BY_STUDENT else set(wanted)
        out: dict[str, list[EventSummary]] = {}
        with self._read() as conn:
            for chunk in _chunks(None if keep is not None else wanted):
                # In the index's order (kind, student, seq): no sort in SQL; each student's
                # rows of several kinds are put in order below.
                queries = [sa.select(*columns).where(ev.c.kind.in_(others))] if others else []
                if thin:
                    queries.append(_first_transitions(columns, sqlite=self.dialect == "sqlite"))
                for query in queries:
                    if chunk is not None:
                        query = query.where(query.selected_columns[0].in_(chunk))
                    rows = _fetch_all(conn, query)
                    try:
                        _summaries_into(out, rows, keep)
                    except _UNREADABLE as exc:
                        raise self._unreadable("events", "reporting columns", exc) from exc
        if len(kinds) > 1:
            for mine in out.values():
                mine.sort()  # by seq, the first field
        order = sorted(out) if wanted is None else wanted
        return {sid: out[sid] for sid in order if sid in out}

    def cases(self, *, open_only: bool = False) -> list[CaseSummary]:
        """Every intervention's summary (only the open ones with ``open_only``), oldest first.

        Read from the columns (the queue's, version 3, and the reporting ones, version 4): no
        body is decoded. :func:`~tierflow.store.verify` checks the columns against the bodies.
        """
        ivs = tables.interventions
        c = ivs.c
        query = sa.select(
            c.id,
            c.student_id,
            c.school_id,
            c.catalog_id,
            c.tier_level,
            c.owner_role,
            c.owner,
            c.state,
            c.opened_on,
            c.next_follow_up,
            c.ended_on,
        )
        if open_only:
            query = query.where(c.is_open)
        with self._read() as conn:
            rows = _fetch_all(conn, query.order_by(c.pos))
        try:
            return read_cases(rows)
        except _UNREADABLE as exc:
            raise self._unreadable("interventions", "reporting columns", exc) from exc

    # --- for the audit -----------------------------------------------------------------------

    def chain_rows(self) -> list[ChainRow]:
        """Every row of the events table, by student and position in the chain."""
        ev = tables.events
        with self._read() as conn:
            rows = conn.execute(
                sa.select(*_chain_columns()).order_by(ev.c.student_id, ev.c.seq, ev.c.row)
            ).all()
        return [_chain_row(tuple(r)) for r in rows]

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
            sa.select(*_chain_columns()).order_by(ev.c.student_id, ev.c.seq, ev.c.row),
            sa.select(h.c.student_id, h.c.seq, h.c.hash).order_by(h.c.student_id),
            sa.select(
                ivs.c.pos,
                ivs.c.id,
                ivs.c.student_id,
                ivs.c.catalog_id,
                ivs.c.is_open,
                ivs.c.version,
                ivs.c.body,
                *(ivs.c[name] for name in (*QUEUE_COLUMNS, *IV_REPORT_COLUMNS)),
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
        return StoredRows(
            [_chain_row(r) for r in events],
            heads,
            interventions,
            check_ins,
            issued,
        )

    def students(self) -> list[str]:
        """Every student with a record, sorted."""
        h = tables.chain_heads
        ivs = tables.interventions
        with self._read() as conn:
            found = set(conn.execute(sa.select(h.c.student_id)).scalars())
            found |= set(conn.execute(sa.select(ivs.c.student_id).distinct()).scalars())
        return sorted(found)


def _chain_columns() -> tuple[sa.Column[Any], ...]:
    """An events row as the audit reads it: ``ChainRow``'s columns, then the reporting ones."""
    ev = tables.events
    return (
        ev.c.row,
        ev.c.student_id,
        ev.c.seq,
        ev.c.record,
        ev.c.intervention_id,
        ev.c.body,
        ev.c.prev_hash,
        ev.c.hash,
        *(ev.c[n] for n in EVENT_REPORT_COLUMNS),
    )


def _chain_row(r: tuple[Any, ...]) -> ChainRow:
    """A row of :func:`_chain_columns` as the audit takes it."""
    row, student_id, seq, record, intervention_id, body, prev_hash, digest = r[:8]
    return ChainRow(row, student_id, seq, record, intervention_id, body, prev_hash, digest, r[8:])


def _fetch_all(conn: sa.Connection, query: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """Every row of ``query`` as the driver's tuples.

    A report reads a million rows: the driver's cursor makes them in C, where a SQLAlchemy
    row costs some 4 µs more each.
    """
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    if compiled.positional:
        bound: Any = tuple(params[name] for name in compiled.positiontup or ())
    else:
        bound = params
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None  # an open store's connection
    cursor = dbapi.cursor()
    try:
        cursor.execute(str(compiled), bound)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _first_transitions(columns: tuple[sa.Column[Any], ...], *, sqlite: bool) -> sa.Select[Any]:
    """The first transition of each intervention into each state, by date then seq.

    ``columns`` of the events table; the first, ``student_id``, is what a caller filters on.
    On SQLite, a ``GROUP BY`` with one ``min()``: SQLite documents that the other columns
    then come from the row holding the minimum, and the key (the date, then seq padded to
    twelve digits) is unique within a student. It reads the covering index once and sorts
    only the groups (1.1 s for a district year's 730,000 transitions, where the window
    function below sorts every row within each student: 1.6 s). Elsewhere, the standard
    ``ROW_NUMBER`` window.
    """
    ev = tables.events
    partition = (ev.c.student_id, ev.c.intervention_id, ev.c.to_state, ev.c.withdrawn)
    if sqlite:
        key = ev.c["at"] + sa.func.substr("000000000000" + sa.cast(ev.c.seq, sa.String), -12)
        firsts = (
            sa.select(*columns, sa.func.min(key).label("first"))
            .where(ev.c.kind == "transition")
            .group_by(*partition)
            .subquery()
        )
        return sa.select(*(firsts.c[c.name] for c in columns))
    rank = (
        sa.func.row_number()
        .over(partition_by=partition, order_by=(ev.c["at"], ev.c.seq))
        .label("rank")
    )
    ranked = sa.select(*columns, rank).where(ev.c.kind == "transition").subquery()
    return sa.select(*(ranked.c[c.name] for c in columns)).where(ranked.c.rank == 1)


def _summaries_into(
    out: dict[str, list[EventSummary]], rows: list[tuple[Any, ...]], keep: set[str] | None
) -> None:
    """Each row's summary, as cheaply as Python allows: a year is a million rows.

    A year has some 180 distinct dates and a few dozen distinct lists of interventions called:
    each is parsed once. A summary is made with ``tuple.__new__`` (what its class's own
    constructor calls, less a Python frame). A column that cannot be read raises
    ``ValueError`` or ``TypeError``.
    """
    dates: dict[str, dt.date] = {}
    lists: dict[str | None, tuple[str, ...]] = {None: ()}
    date, loads, new, make = dt.date.fromisoformat, codec.loads, tuple.__new__, EventSummary
    for sid, row, iid, kind, at, trigger, to_state, tier, step, withdrawn, called in rows:
        if keep is not None and sid not in keep:
            continue
        day = dates.get(at)
        if day is None:
            day = dates[at] = date(at)
        listed = lists.get(called)
        if listed is None:
            listed = lists[called] = tuple(map(str, loads(called)))
        summary = new(
            make, (row, day, sid, kind, iid, trigger, to_state, tier, step, bool(withdrawn), listed)
        )
        mine = out.get(sid)
        if mine is None:
            out[sid] = [summary]
        else:
            mine.append(summary)


_BY_STUDENT = 2_000
"""Above this many students, a read by kind selects every student's rows and keeps theirs."""


def _chunks(wanted: list[str] | None) -> list[list[str] | None]:
    """Students 500 at a time (a bound on SQL parameters); None: one read of everyone."""
    if wanted is None:
        return [None]
    return [wanted[i : i + 500] for i in range(0, len(wanted), 500)]
