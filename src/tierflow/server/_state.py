"""What a server is configured with, and what it holds while it runs.

:class:`ServerConfig` is what ``tierflow serve`` was given; :class:`ServerState` is built from it
once, when the app is made (the rule sets compiled, the tokens and the staff file read), so a
mistake in any of them stops the server before it listens. The store is opened when first used.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tierflow.attendance import SchoolCalendar
from tierflow.errors import DataReport
from tierflow.evaluate import load_ruleset
from tierflow.server._errors import ServeError
from tierflow.server._observe import DecisionLog, Metrics
from tierflow.server._privacy import Masker
from tierflow.server._rulesets import Rulesets
from tierflow.server._serialize import DecisionLines
from tierflow.server._tokens import Tokens, read_tokens
from tierflow.store import SqlRepository, is_url
from tierflow.workflow import Roster

__all__ = ["ServerConfig", "ServerState", "StorePool"]

MIB = 1024 * 1024


@dataclass(frozen=True)
class ServerConfig:
    """How a server runs (``tierflow serve``'s options).

    Attributes:
        rulesets: Built-in rule set names or YAML paths; the first is casework's default.
        db: The store for casework: a SQLite file or a database URL (None: no casework).
        tokens: The tokens file (None: the open server, for 127.0.0.1 only).
        staff: The staff file (owners, roles and caseloads) for assignments.
        students: The students' names and dates of birth (:func:`tierflow.ingest.read_people`'s
            formats), printed in packets and the compliance report for a caller with the
            ``personal`` scope (None: ids only).
        calendars: School calendar files (follow-up dates on school days).
        extends_roots: Folders a rule set's ``extends`` may name files in.
        max_body: The largest request body accepted, in bytes (a batch: see ``max_batch``).
        max_batch: The largest streamed batch accepted, in bytes.
        decision_log: Where each decision is logged as JSON Lines (None: not logged).
        log_personal_data: Log student ids as they are (default: masked).
        store_connections: Connections to the store (SQLite: 1, its writes are serial anyway).
    """

    rulesets: Sequence[str] = ("mtss",)
    db: str | None = None
    tokens: str | None = None
    staff: str | None = None
    students: str | None = None
    calendars: Sequence[str] = ()
    extends_roots: Sequence[str] = ()
    max_body: int = MIB
    max_batch: int = 256 * MIB
    decision_log: str | None = None
    log_personal_data: bool = False
    store_connections: int | None = None
    mask_key: bytes | None = field(default=None, repr=False)


class StorePool:
    """A few :class:`~tierflow.store.SqlRepository` connections, each used by one request at once.

    A repository holds one connection and is not shared between threads; a request borrows one
    (waiting while all are lent) and gives it back. Opened when first borrowed.
    """

    def __init__(self, target: str, size: int) -> None:
        self.target = target
        self.size = size
        self._free: queue.Queue[SqlRepository] = queue.Queue()
        self._opened = 0
        self._lock = threading.Lock()

    @contextmanager
    def repository(self) -> Iterator[SqlRepository]:
        """Borrow a repository for the length of the ``with`` block."""
        try:
            repo = self._free.get_nowait()
        except queue.Empty:
            with self._lock:
                opening = self._opened < self.size
                if opening:
                    self._opened += 1
            if opening:
                try:
                    repo = SqlRepository(self.target)
                except BaseException:
                    with self._lock:
                        self._opened -= 1
                    raise
            else:
                repo = self._free.get()
        try:
            yield repo
        finally:
            self._free.put(repo)

    def close(self) -> None:
        """Close every repository not lent."""
        while True:
            try:
                repo = self._free.get_nowait()
            except queue.Empty:
                return
            repo.close()


class ServerState:
    """Everything a running server holds; built once from a :class:`ServerConfig`.

    Raises:
        RulesetError: A rule set does not compile.
        OSError: A file named cannot be read.
        ValueError: The tokens file is malformed.
    """

    def __init__(self, config: ServerConfig) -> None:
        from tierflow.ingest import Person, read_calendars, read_people
        from tierflow.runner import read_staff

        self.config = config
        roots = list(config.extends_roots)
        self.rulesets = Rulesets(load_ruleset(s, extends_roots=roots) for s in config.rulesets)
        self.tokens = Tokens(None) if config.tokens is None else read_tokens(config.tokens)
        self.masker = Masker(config.mask_key)
        # A batch's lines, for callers with the personal scope and for the others: shared by
        # every batch, so outcomes written once are written for all (see DecisionLines).
        self.lines = {True: DecisionLines(None), False: DecisionLines(self.masker)}
        self.metrics = Metrics()
        self.staff_report = DataReport()
        self.roster = (
            None if config.staff is None else read_staff(config.staff, report=self.staff_report)
        )
        self.people_report = DataReport()
        self.people: dict[str, Person] | None = None
        if config.students is not None:
            self.people = dict(read_people(config.students, report=self.people_report).people)
        self.calendars: dict[str, SchoolCalendar] = {}
        for path in config.calendars:
            self.calendars.update(read_calendars(path).calendars)
        self.decision_log = (
            None
            if config.decision_log is None
            else DecisionLog(config.decision_log, None if config.log_personal_data else self.masker)
        )
        self.store: StorePool | None = None
        if config.db is not None:
            size = config.store_connections or (4 if is_url(config.db) else 1)
            self.store = StorePool(config.db, size)

    def people_for(self, personal: bool) -> dict[str, Any]:
        """``people`` and ``include_personal`` for a packet or report (names if ``personal``)."""
        if not personal or self.people is None:
            return {"people": None, "include_personal": False}
        return {"people": self.people, "include_personal": True}

    def roster_copy(self) -> Roster | None:
        """A fresh roster for one request (an engine counts the store's caseloads into it)."""
        return None if self.roster is None else Roster(self.roster.staff.values())

    def needs_store(self) -> StorePool:
        """The store pool.

        Raises:
            ServeError: ``serve.no_store``: the server was started without ``--db``.
        """
        if self.store is None:
            raise ServeError("serve.no_store", "this server has no store: start it with --db", 404)
        return self.store

    def close(self) -> None:
        """Close the store and the decision log."""
        if self.store is not None:
            self.store.close()
        if self.decision_log is not None:
            self.decision_log.close()
