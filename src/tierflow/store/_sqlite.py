"""A workflow repository in SQL (a SQLite file or memory, PostgreSQL), through SQLAlchemy Core.

Connections and each dialect's transaction rules are in :mod:`tierflow.store._connect`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from json.encoder import encode_basestring
from types import TracebackType
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlalchemy.sql.compiler import SQLCompiler

from tierflow.errors import ConflictError, StoreError, UnknownInterventionError
from tierflow.store import _codec as codec
from tierflow.store._connect import Target, conflict_or_error, connect, is_url, store_url
from tierflow.store._schema import migrate, tables
from tierflow.workflow import OPEN_STATES, CheckIn, Intervention, WorkflowEvent

__all__ = [
    "ChainRow",
    "SqlRepository",
    "SqliteRepository",
    "StoredRows",
    "envelope",
    "envelope_text",
    "intervention_columns",
]

_T = TypeVar("_T")


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


def envelope_text(record: str, student_id: str, seq: int, body_text: str) -> str:
    """:func:`envelope` from the body's canonical text (its keys are already in sorted order).

    The stored body is that text: the audit hashes it as it stands, so a body written again
    with other spacing or key order is an edit.
    """
    return (
        f'{{"body":{body_text},"record":{encode_basestring(record)},"seq":{seq},'
        f'"student_id":{encode_basestring(student_id)}}}'
    )


def _cause(exc: BaseException) -> str:
    """What failed, in words: the driver's own message, and what to do about a full disk."""
    orig = getattr(exc, "orig", None) or exc
    text = f"{type(orig).__name__}: {orig}"
    full = getattr(orig, "sqlite_errorname", None) == "SQLITE_FULL"
    if full or getattr(orig, "sqlstate", None) == "53100":  # PostgreSQL's disk_full
        text += (
            " (the disk is full, or the database reached its size limit: nothing of the batch"
            " was kept; free space and run it again)"
        )
    return text


_UNREADABLE = (StoreError, ValueError, TypeError, KeyError, AttributeError, RecursionError)
"""What decoding a record changed outside tierflow can raise (it becomes a StoreError)."""

_FIELDS = operator.attrgetter(*(f.name for f in dataclasses.fields(Intervention)))
"""An intervention's fields in order (to copy one)."""


def intervention_columns(
    iv: Intervention, iid: Any, student: Any, kind: Any, is_open: Any, version: Any
) -> list[str]:
    """How an intervention row's columns disagree with its body ``iv`` (empty: they agree).

    ``is_open`` as SQL reads it (``WHERE is_open``: any true value); the others exactly.
    """
    return [
        f"{name} is {value!r}, its body says {said!r}"
        for name, value, said in (
            ("id", iid, iv.id),
            ("student_id", student, iv.student_id),
            ("catalog_id", kind, iv.intervention),
            ("is_open", is_open, iv.state in OPEN_STATES),
            ("version", version, iv.version),
        )
        if (bool(value) != said if name == "is_open" else value != said or type(value) is bool)
    ]


class StoredRows(NamedTuple):
    """Every row of every table as the driver gives it (nothing converted: the audit's input).

    Attributes:
        events: The events table, by student, position and row number.
        heads: ``(student_id, seq, hash)`` of ``chain_heads``.
        interventions: ``(pos, id, student_id, catalog_id, is_open, version, body)``, by pos.
        check_ins: ``(pos, intervention_id, body)``, by pos.
        issued: ``(student_id, step, on)``.
    """

    events: list[ChainRow]
    heads: list[tuple[Any, ...]]
    interventions: list[tuple[Any, ...]]
    check_ins: list[tuple[Any, ...]]
    issued: list[tuple[Any, ...]]


class _Head(NamedTuple):
    """A student's chain head as a batch sees it: where it stood when the batch began."""

    start: int | None
    seq: int
    hash: str


class _Statement:
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
        "insert_event": (
            sa.insert(ev).returning(ev.c.row),
            ["student_id", "seq", "record", "intervention_id", "body", "prev_hash", "hash"],
        ),
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
            ["id", "student_id", "catalog_id", "is_open", "version", "body"],
        ),
        "iv_stored": (sa.select(*_iv_row(ivs)).where(ivs.c.id == p("iid")), None),
        "update_iv": (
            sa.update(ivs)
            .where(ivs.c.id == p("iid"), ivs.c.version == p("expected"))
            .values(is_open=p("now_open"), version=p("new_version"), body=p("new_body")),
            None,
        ),
        "iv_student": (sa.select(ivs.c.student_id).where(ivs.c.id == p("iid")), None),
        "insert_check_in": (sa.insert(ci), ["intervention_id", "body"]),
        # Reads a day's run makes for every student.
        "iv_body": (sa.select(*_iv_row(ivs)).where(ivs.c.id == p("iid")), None),
        "iv_bodies": (
            sa.select(*_iv_row(ivs)).where(ivs.c.student_id == p("sid")).order_by(ivs.c.pos),
            None,
        ),
        "open_bodies": (sa.select(*_iv_row(ivs)).where(ivs.c.is_open).order_by(ivs.c.pos), None),
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


def _iv_row(ivs: sa.Table) -> tuple[sa.Column[Any], ...]:
    """An intervention's row as the engine reads it: the body, then the columns repeating it.

    The columns are checked against the body on every read (see ``SqlRepository._checked``).
    """
    c = ivs.c
    return (c.body, c.id, c.student_id, c.catalog_id, c.is_open, c.version)


_STATEMENTS = _statements()
"""The hot statements by name: (statement, the columns an INSERT sets)."""


class _Step:
    """A read or a change inside a batch (a class: a generator context costs 3x as much).

    A database error becomes a :class:`~tierflow.errors.StoreError` naming the store; a change
    that fails after it wrote (``writes`` is the store's count of write statements when it
    began; None for a read) fails the whole batch (see ``SqlRepository._write``).
    """

    __slots__ = ("repo", "writes")

    def __init__(self, repo: SqlRepository, writes: int | None) -> None:
        self.repo = repo
        self.writes = writes

    def __enter__(self) -> sa.Connection:
        return self.repo._conn

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            return
        repo = self.repo
        if self.writes is not None and repo._writes != self.writes:
            repo._failed = exc
        if isinstance(exc, sa.exc.SQLAlchemyError):
            raise conflict_or_error(f"store {repo.path}", exc, _cause(exc)) from exc


class SqlRepository:
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

    def __init__(
        self,
        target: Target = ":memory:",
        *,
        schema: str | None = None,
        busy_timeout: float = 60.0,
        now: dt.datetime | None = None,
    ) -> None:
        self.url = store_url(target)
        self.path = (
            os.fspath(target)
            if not isinstance(target, sa.URL) and not is_url(target)
            else self.url.render_as_string(hide_password=True)
        )
        """Where the records are, as error messages name it (a URL without its password)."""
        self.dialect = self.url.get_backend_name()
        """``sqlite`` or ``postgresql``."""
        self._engine = connect(self.url, schema=schema, busy_timeout=busy_timeout)
        try:
            with self._engine.connect() as setup:
                if self.dialect == "postgresql":
                    setup = setup.execution_options(isolation_level="READ COMMITTED")
                setup.info["write"] = True
                migrate(setup, now or dt.datetime.now(dt.timezone.utc))
            self._conn = self._engine.connect()
            self._next_id = self._stored_next_id()
            self._conn.rollback()
        except sa.exc.SQLAlchemyError as exc:
            self._engine.dispose()
            raise StoreError(f"cannot open the store {self.path}: {_cause(exc)}") from exc
        except StoreError:
            self._engine.dispose()
            raise
        self._sql: dict[str, _Statement] = {}  # compiled on first use (write paths)
        self._heads: dict[str, _Head] | None = None  # chain heads, cached during a batch
        self._students: dict[str, list[str]] | None = None  # for_student's texts, in a batch
        self._failed: BaseException | None = None  # a write that failed half-way in a batch
        self._writes = 0  # write statements run (tells whether a failed change wrote anything)
        self._decoded: dict[str, Intervention] = {}  # stored text -> intervention (see _decode)

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
        self._heads, self._failed, self._students = {}, None, {}
        first_id: int | None = None
        try:
            with conn.begin():
                conn.info["write"] = False
                # Catch up with ids other processes took (SQLite: under the write lock).
                self._next_id = first_id = max(self._next_id, self._stored_next_id())
                yield
                if self._failed is not None:
                    failed = self._failed
                    raise conflict_or_error(
                        f"store {self.path}: the batch failed and was undone",
                        failed,
                        _cause(failed),
                    ) from failed
                self._flush_heads()
        except BaseException as exc:
            if first_id is not None:
                self._next_id = first_id  # the ids it handed out were undone with it
            if isinstance(exc, sa.exc.SQLAlchemyError):
                raise conflict_or_error(
                    f"store {self.path}: the batch failed and was undone", exc, _cause(exc)
                ) from exc
            raise
        finally:
            conn.info["write"] = False
            self._heads, self._failed, self._students = None, None, None

    @contextmanager
    def unit(self) -> Iterator[None]:
        """One piece of work as one transaction, unless a batch already holds it.

        The engine wraps each operation in a unit (a student's part of a run, a follow-up
        moved, a check-in, a legal step issued), so a change and the event that documents it
        are kept together or not at all, even when a process is killed between them. Inside
        :meth:`batch` a unit is the batch's (nothing more to do).

        Raises:
            StoreError: The database failed (nothing of the unit is kept).
        """
        if self._heads is not None:  # a batch is open
            yield
        else:
            with self.batch():
                yield

    def run_batch(self, work: Callable[[], _T], *, attempts: int = 5, pause: float = 0.05) -> _T:
        """Run ``work()`` in a batch, and again if another writer changed the same records first.

        For writers that may run at once (two processes running the same day, a run while
        staff record check-ins): ``repo.run_batch(lambda: Engine(ruleset,
        repository=repo).run(day, facts))``. A :class:`~tierflow.errors.ConflictError` undoes
        the attempt (nothing of it is kept) and runs ``work`` again after a short random pause,
        so ``work`` must read what it needs from the store each time (build the engine inside
        it): the next attempt starts from what the other writer committed, and a day already
        run by the other writer changes nothing. Any other error fails the batch at once.

        Args:
            work: What to do in the batch.
            attempts: How many times to try in all.
            pause: The base of the pause between attempts, in seconds (doubled each time, with
                jitter so two retrying writers do not collide again).

        Returns:
            What ``work`` returned on the attempt that was kept.

        Raises:
            ConflictError: Every attempt conflicted (the last conflict, with the count).
            StoreError: The database failed, or a batch is already open; nothing is kept.
        """
        attempt = 1
        while True:
            try:
                with self.batch():
                    return work()
            except ConflictError as exc:
                if attempt >= attempts:
                    raise ConflictError(f"{exc} (gave up after {attempts} attempts)") from exc
            time.sleep(random.uniform(0, pause * 2**attempt))
            attempt += 1

    def _statement(self, name: str) -> _Statement:
        sql = self._sql.get(name)
        if sql is None:
            statement, columns = _STATEMENTS[name]
            sql = self._sql[name] = _Statement(statement, self._conn.dialect, columns)
        return sql

    def _exec(self, name: str, *many: Mapping[str, Any], **params: Any) -> Any:
        """Run a hot statement (compiled once per store) once, or once per mapping of ``many``.

        Returns the DB-API cursor. A driver error is raised as SQLAlchemy raises it (a
        ``DBAPIError`` subclass, the connection invalidated when it was lost), so callers
        handle one kind of error whichever way a statement ran.
        """
        sql = self._statement(name)
        dbapi = self._conn.connection.dbapi_connection
        assert dbapi is not None  # an open store's connection
        cursor = dbapi.cursor()
        if sql.writes:
            self._writes += 1
        try:
            if many:
                cursor.executemany(sql.text, [sql.bind(p) for p in many])
            else:
                cursor.execute(sql.text, sql.bind(params))
        except self._conn.dialect.loaded_dbapi.Error as exc:
            dialect = self._conn.dialect
            lost = dialect.is_disconnect(exc, dbapi, cursor)
            wrapped = sa.exc.DBAPIError.instance(
                sql.text, params or list(many), exc, dialect.loaded_dbapi.Error,
                connection_invalidated=lost, dialect=dialect,
            )  # fmt: skip
            if lost:
                self._conn.invalidate(wrapped)
            raise wrapped from exc
        return cursor

    def _flush_heads(self) -> None:
        """Write the chain heads a batch moved (two statements for the whole batch)."""
        heads = self._heads
        if not heads:
            return
        added = [h for h in heads.items() if h[1].start is None]
        moved = [h for h in heads.items() if h[1].start is not None and h[1].start != h[1].seq]
        if added:
            self._exec(
                "insert_head", *({"student_id": s, "seq": h.seq, "hash": h.hash} for s, h in added)
            )
        if moved:
            cursor = self._exec(
                "move_head",
                *({"sid": s, "old": h.start, "new_seq": h.seq, "new_hash": h.hash}
                  for s, h in moved),
            )  # fmt: skip
            if cursor.rowcount != len(moved):
                raise ConflictError(
                    f"store {self.path}: a student's chain was extended concurrently during "
                    "the batch"
                )
        for sid, h in added + moved:
            heads[sid] = h._replace(start=h.seq)

    def _write(self) -> AbstractContextManager[sa.Connection]:
        """One write transaction (a step of the batch inside one); failures become StoreError.

        A change checks everything that can refuse it before it writes, so a refused change
        inside a batch has written nothing (no savepoint needed: that saves two statements a
        change). A change that fails after writing (a full disk, a lost connection) fails the
        whole batch: later changes are refused and the batch is undone when it ends.
        """
        if self._conn.in_transaction():
            if self._failed is not None:
                raise StoreError(
                    f"store {self.path}: an earlier change of this batch failed "
                    f"({_cause(self._failed)}); the batch will be undone"
                )
            return _Step(self, self._writes)
        return self._own_write()

    @contextmanager
    def _own_write(self) -> Iterator[sa.Connection]:
        """A write outside a batch: its own transaction."""
        conn = self._conn
        conn.info["write"] = True
        try:
            with conn.begin():
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise conflict_or_error(f"store {self.path}", exc, _cause(exc)) from exc
        finally:
            conn.info["write"] = False

    def _read(self) -> AbstractContextManager[sa.Connection]:
        """Reads: in the batch's transaction inside one, else in their own."""
        if self._conn.in_transaction():
            return _Step(self, None)
        return self._own_read()

    @contextmanager
    def _own_read(self) -> Iterator[sa.Connection]:
        conn = self._conn
        try:
            with conn.begin():
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise conflict_or_error(f"store {self.path}", exc, _cause(exc)) from exc

    def _chain(
        self,
        student_id: str,
        record: str,
        intervention_id: str | None,
        body: Any,
        text: str | None = None,
    ) -> int:
        """Append a row to the student's chain; return its row number.

        ``text`` is ``body``'s canonical JSON when the caller has it already.

        Inside a batch the chain heads are read once per student and written once at the end
        (the batch holds the write lock); outside one, the head moves with the row.
        """
        heads = self._heads
        head = None if heads is None else heads.get(student_id)
        if head is None:
            stored, stored_hash, last = self._exec("head", sid=student_id).fetchone()
            if stored != last:
                raise self._inconsistent(
                    "chain_heads", f"student_id={student_id}",
                    f"the head says the chain ends at seq {stored}, the events table at seq "
                    f"{last}",
                )  # fmt: skip
            head = (
                _Head(None, 0, codec.GENESIS)
                if stored is None
                else _Head(stored, stored, stored_hash)
            )
        seq = head.seq + 1
        if text is None:
            text = codec.dumps(body)
        digest = codec.chain_hash(head.hash, envelope_text(record, student_id, seq, text))
        (row,) = self._exec(
            "insert_event", student_id=student_id, seq=seq, record=record,
            intervention_id=intervention_id, body=text, prev_hash=head.hash, hash=digest,
        ).fetchone()  # fmt: skip
        if heads is not None:
            heads[student_id] = head._replace(seq=seq, hash=digest)
        elif head.start is None:
            self._exec("insert_head", student_id=student_id, seq=seq, hash=digest)
        elif (
            self._exec(
                "move_head", sid=student_id, old=head.seq, new_seq=seq, new_hash=digest
            ).rowcount
            != 1
        ):
            raise ConflictError(f"student {student_id}'s chain was extended concurrently")
        return int(row)

    def _inconsistent(self, table: str, key: str, what: str) -> StoreError:
        """The error for a row that disagrees with the rest of the store.

        Not a :class:`~tierflow.errors.ConflictError`: running again cannot help, the store was
        changed outside tierflow (or damaged) and must be looked at first.
        """
        return StoreError(
            f"store {self.path}: {table} row {key} is inconsistent with the rest of the store "
            f"({what}); it was changed outside tierflow: nothing was done, run "
            "'tierflow audit verify' on the store"
        )

    def _unreadable(self, table: str, key: str, exc: BaseException) -> StoreError:
        """The error for a stored record the engine cannot read back."""
        return self._inconsistent(
            table, key, f"a record cannot be read back: {type(exc).__name__}: {exc}"
        )

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
        """The body of an intervention row (see ``_iv_row``), once its columns agree with it.

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

    def _stored_next_id(self) -> int:
        """The number after the largest intervention id stored."""
        ids = tables.interventions.c.id
        top = self._conn.execute(
            sa.select(sa.func.max(sa.cast(sa.func.substr(ids, 4), sa.Integer))).where(
                ids.like("iv-%")
            )
        ).scalar()
        return int(top or 0) + 1

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
                "insert_iv", id=intervention.id, student_id=intervention.student_id,
                catalog_id=intervention.intervention,
                is_open=intervention.state in OPEN_STATES, version=intervention.version,
                body=text,
            )  # fmt: skip
            self._chain(
                intervention.student_id, "intervention", intervention.id,
                {"op": "add", "state": state}, f'{{"op":"add","state":{text}}}',
            )  # fmt: skip
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
                "update_iv", iid=iid, expected=expected_version,
                now_open=intervention.state in OPEN_STATES, new_version=intervention.version,
                new_body=codec.dumps(state),
            )  # fmt: skip
            if updated.rowcount != 1:
                raise ConflictError(f"intervention {iid} was changed concurrently")
            if self._students is not None:
                self._students.pop(intervention.student_id, None)
            self._chain(
                intervention.student_id, "intervention", iid,
                {"op": "save", "id": iid, "expected_version": expected_version,
                 "changes": changes},
            )  # fmt: skip

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
            tables.events, tables.chain_heads, tables.interventions, tables.check_ins,
            tables.issued,
        )  # fmt: skip
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


SqliteRepository = SqlRepository
"""The same store under its first name (it opens SQLite files and, now, any store URL)."""
