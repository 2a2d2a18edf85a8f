"""Opening a SQL store, its transactions, and appending rows to the per-student hash chains.

:class:`ChainStore` is what :class:`~tierflow.store.SqlRepository` stands on: it opens the
database (migrating its schema), runs the hot statements of :mod:`tierflow.store._statements`
straight on the driver, keeps a batch's changes in one transaction, and appends every change
to its student's chain (:meth:`ChainStore._chain`), moving the chain head with it. Connections
and each dialect's transaction rules are in :mod:`tierflow.store._connect`.
"""

from __future__ import annotations

import collections
import datetime as dt
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa

from tierflow.errors import ConflictError, StoreError
from tierflow.store import _codec as codec
from tierflow.store._connect import Target, conflict_or_error, connect, is_url, store_url
from tierflow.store._rows import envelope_text
from tierflow.store._schema import EVENT_REPORT_COLUMNS, migrate, tables
from tierflow.store._statements import STATEMENTS, Statement
from tierflow.workflow import Intervention

__all__ = ["ChainStore", "cause"]

_NO_REPORT = dict.fromkeys(EVENT_REPORT_COLUMNS)
"""The reporting columns of a row that is not a workflow event: all NULL."""

_T = TypeVar("_T")


def cause(exc: BaseException) -> str:
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


class _Head(NamedTuple):
    """A student's chain head as a batch sees it: where it stood when the batch began."""

    start: int | None
    seq: int
    hash: str


_DEFERRED = frozenset(("insert_event_at", "insert_iv"))
"""Inserts a batch on PostgreSQL sends together, before its next read (see ``_exec``)."""

_ROW_BLOCK = 1024
"""Row numbers a batch on PostgreSQL reserves at a time (one round trip each)."""


class _Step:
    """A read or a change inside a batch (a class: a generator context costs 3x as much).

    A database error becomes a :class:`~tierflow.errors.StoreError` naming the store; a change
    that fails after it wrote (``writes`` is the store's count of write statements when it
    began; None for a read) fails the whole batch (see ``ChainStore._write``).
    """

    __slots__ = ("repo", "writes")

    def __init__(self, repo: ChainStore, writes: int | None) -> None:
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
            raise conflict_or_error(f"store {repo.path}", exc, cause(exc)) from exc


class ChainStore:
    """A SQL database opened as a store: transactions, batches and the hash chains.

    See :class:`~tierflow.store.SqlRepository` (which adds the workflow's records on top) for
    ``target`` and the keywords.

    Raises:
        StoreError: The database cannot be opened or migrated.
    """

    def __init__(
        self,
        target: Target = ":memory:",
        *,
        schema: str | None = None,
        busy_timeout: float = 60.0,
        now: dt.datetime | None = None,
        reserved_ids: bool = False,
    ) -> None:
        self.url = store_url(target)
        self._reserved_ids = reserved_ids
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
            raise StoreError(f"cannot open the store {self.path}: {cause(exc)}") from exc
        except StoreError:
            self._engine.dispose()
            raise
        self._sql: dict[str, Statement] = {}  # compiled on first use (write paths)
        self._heads: dict[str, _Head] | None = None  # chain heads, cached during a batch
        self._students: dict[str, list[str]] | None = None  # for_student's texts, in a batch
        # events' and issued's rows of students prefetched, until the student is written to
        self._timelines: dict[tuple[str, str], list[tuple[int, str]]] | None = None
        self._failed: BaseException | None = None  # a write that failed half-way in a batch
        self._writes = 0  # write statements run (tells whether a failed change wrote anything)
        self._decoded: dict[str, Intervention] = {}  # stored text -> intervention (see _decode)
        # A batch on PostgreSQL: inserts waiting to be sent, and row numbers reserved for them.
        self._deferring = False
        self._pending: list[tuple[Statement, Any]] = []
        self._rows: collections.deque[int] = collections.deque()
        self._fresh: set[str] = set()  # intervention ids new_id handed out in the batch

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
        self._timelines = {}
        self._deferring = self.dialect == "postgresql"
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
                        cause(failed),
                    ) from failed
                self._flush_heads()
        except BaseException as exc:
            if first_id is not None:
                self._next_id = first_id  # the ids it handed out were undone with it
            if isinstance(exc, sa.exc.SQLAlchemyError):
                raise conflict_or_error(
                    f"store {self.path}: the batch failed and was undone", exc, cause(exc)
                ) from exc
            raise
        finally:
            conn.info["write"] = False
            self._heads, self._failed, self._students = None, None, None
            self._timelines = None
            self._deferring = False
            self._pending.clear()  # sent, or undone with the batch
            self._rows.clear()  # numbers not used: gaps, as a rolled-back insert leaves
            self._fresh.clear()

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

    def _stored_next_id(self) -> int:
        """The number after the largest intervention id stored."""
        ids = tables.interventions.c.id
        top = self._conn.execute(
            sa.select(sa.func.max(sa.cast(sa.func.substr(ids, 4), sa.Integer))).where(
                ids.like("iv-%")
            )
        ).scalar()
        return int(top or 0) + 1

    def _statement(self, name: str) -> Statement:
        sql = self._sql.get(name)
        if sql is None:
            statement, columns = STATEMENTS[name]
            sql = self._sql[name] = Statement(statement, self._conn.dialect, columns)
        return sql

    def _exec(self, name: str, *many: Mapping[str, Any], **params: Any) -> Any:
        """Run a hot statement (compiled once per store) once, or once per mapping of ``many``.

        Returns the DB-API cursor. A driver error is raised as SQLAlchemy raises it (a
        ``DBAPIError`` subclass, the connection invalidated when it was lost), so callers
        handle one kind of error whichever way a statement ran.
        """
        sql = self._statement(name)
        if self._deferring and name in _DEFERRED and not many:
            self._writes += 1
            self._pending.append((sql, sql.bind(params)))
            return None
        if self._pending:
            self._send_pending()
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
            raise self._driver_error(exc, dbapi, cursor, sql.text, params or list(many)) from exc
        return cursor

    def _driver_error(
        self, exc: Any, dbapi: Any, cursor: Any, text: str, params: Any
    ) -> BaseException:
        """A driver error as SQLAlchemy raises it; the connection invalidated when it was lost."""
        dialect = self._conn.dialect
        lost = dialect.is_disconnect(exc, dbapi, cursor)
        wrapped: BaseException = sa.exc.DBAPIError.instance(
            text,
            params,
            exc,
            dialect.loaded_dbapi.Error,
            connection_invalidated=lost,
            dialect=dialect,
        )
        if lost:
            self._conn.invalidate(wrapped)
        return wrapped

    def _send_pending(self) -> None:
        """Send the inserts a batch on PostgreSQL held back, in order, in one round trip.

        A batch's reads come after its writes in time, so each read sends what is waiting
        first (it sees every row the batch wrote), and the batch sends the rest before it
        commits: a day's run makes half the round trips it did (the inserts of a student go
        together, and the existence check of an id the batch made itself is left to the
        primary key). psycopg's pipeline mode sends the statements without waiting for each
        answer. An insert refused here (another writer took an id first) fails the batch,
        which is undone: the same outcome as when it was refused on its own, one step later.
        """
        pending, self._pending = self._pending, []
        dbapi = self._conn.connection.dbapi_connection
        assert dbapi is not None  # an open store's connection
        cursor = dbapi.cursor()
        try:
            with dbapi.pipeline():
                for sql, bound in pending:
                    cursor.execute(sql.text, bound)
        except self._conn.dialect.loaded_dbapi.Error as exc:
            wrapped = self._driver_error(exc, dbapi, cursor, pending[0][0].text, None)
            self._failed = wrapped
            raise wrapped from exc

    def _next_row(self) -> int:
        """A row number for the batch's next event, from numbers it reserved.

        Rows still grow along each student's chain, as when the server numbers them: the
        batch reads one snapshot (``REPEATABLE READ``) taken before it reserved any number,
        so every row it can append after was numbered before its own; a row another writer
        adds to the same chain meanwhile is not in the snapshot, and the chain head's check
        refuses the batch as a conflict (run again, it reserves numbers anew).
        """
        if not self._rows:
            reserved = self._exec("reserve_rows", n=_ROW_BLOCK).fetchall()
            self._rows.extend(int(r) for (r,) in reserved)
        return self._rows.popleft()

    def _flush_heads(self) -> None:
        """Write the chain heads a batch moved (two statements for the whole batch)."""
        heads = self._heads
        if not heads:
            return
        # A head prefetched for a student with no chain who was not written to: nothing to add.
        added = [h for h in heads.items() if h[1].start is None and h[1].seq]
        moved = [h for h in heads.items() if h[1].start is not None and h[1].start != h[1].seq]
        if added:
            self._exec(
                "insert_head", *({"student_id": s, "seq": h.seq, "hash": h.hash} for s, h in added)
            )
        if moved:
            cursor = self._exec(
                "move_head",
                *(
                    {"sid": s, "old": h.start, "new_seq": h.seq, "new_hash": h.hash}
                    for s, h in moved
                ),
            )
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
                    f"({cause(self._failed)}); the batch will be undone"
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
            raise conflict_or_error(f"store {self.path}", exc, cause(exc)) from exc
        finally:
            conn.info["write"] = False

    def _read(self) -> AbstractContextManager[sa.Connection]:
        """Reads: in the batch's transaction inside one, else in their own."""
        if self._pending:
            self._send_pending()  # a read sees what the batch wrote
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
            raise conflict_or_error(f"store {self.path}", exc, cause(exc)) from exc

    def _chain(
        self,
        student_id: str,
        record: str,
        intervention_id: str | None,
        body: Any,
        text: str | None = None,
        report: Mapping[str, Any] = _NO_REPORT,
    ) -> int:
        """Append a row to the student's chain; return its row number.

        ``text`` is ``body``'s canonical JSON when the caller has it already; ``report`` a
        workflow event's reporting columns (``_rows.event_report_params``; NULL otherwise).

        Inside a batch the chain heads are read once per student and written once at the end
        (the batch holds the write lock); outside one, the head moves with the row.
        """
        heads = self._heads
        head = None if heads is None else heads.get(student_id)
        if head is None:
            stored, stored_hash, last = self._exec("head", sid=student_id).fetchone()
            if stored != last:
                raise self._inconsistent(
                    "chain_heads",
                    f"student_id={student_id}",
                    f"the head says the chain ends at seq {stored}, the events table at seq {last}",
                )
            head = (
                _Head(None, 0, codec.GENESIS)
                if stored is None
                else _Head(stored, stored, stored_hash)
            )
        seq = head.seq + 1
        if text is None:
            text = codec.dumps(body)
        digest = codec.chain_hash(head.hash, envelope_text(record, student_id, seq, text))
        row_params = {
            "student_id": student_id,
            "seq": seq,
            "record": record,
            "intervention_id": intervention_id,
            "body": text,
            "prev_hash": head.hash,
            "hash": digest,
            **report,
        }
        if self._deferring:  # numbered here, sent with the batch's next read (see _exec)
            row = self._next_row()
            self._exec("insert_event_at", row=row, **row_params)
        else:
            (row,) = self._exec("insert_event", **row_params).fetchone()
        timelines = self._timelines
        if timelines:  # a student's prefetched rows of this record grow with the chain
            known = timelines.get((student_id, record))
            if known is not None:
                known.append((int(row), text))
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
