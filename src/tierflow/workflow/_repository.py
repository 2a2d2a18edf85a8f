"""Where the workflow keeps its records: a small interface and an in-memory implementation.

The persistence layer (databases) implements the same :class:`Repository` protocol; the engine
only ever talks to the protocol.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Protocol

from tierflow.errors import StoreError, UnknownInterventionError
from tierflow.workflow._machine import OPEN_STATES
from tierflow.workflow._records import CheckIn, Intervention, WorkflowEvent

__all__ = ["InMemoryRepository", "Repository"]


class Repository(Protocol):
    """What the engine needs from storage."""

    def new_id(self) -> str:
        """A fresh, unique intervention id."""
        ...

    def add(self, intervention: Intervention) -> None:
        """Store a new intervention."""
        ...

    def get(self, intervention_id: str) -> Intervention:
        """The intervention with this id.

        Raises:
            UnknownInterventionError: There is none (a ``KeyError`` too).
        """
        ...

    def save(self, intervention: Intervention, expected_version: int) -> None:
        """Store a changed intervention; raise ``StoreError`` if someone changed it first."""
        ...

    def for_student(self, student_id: str) -> list[Intervention]:
        """Every intervention of a student, oldest first."""
        ...

    def open_interventions(self) -> Iterator[Intervention]:
        """Every open intervention."""
        ...

    def append(self, event: WorkflowEvent) -> WorkflowEvent:
        """Append an event (its ``seq`` is assigned here) and return it as stored."""
        ...

    def events(self, student_id: str) -> list[WorkflowEvent]:
        """A student's events in order."""
        ...

    def add_check_in(self, check_in: CheckIn) -> None:
        """Store a check-in."""
        ...

    def check_ins(self, intervention_id: str) -> list[CheckIn]:
        """An intervention's check-ins in order."""
        ...

    def issued(self, student_id: str) -> dict[str, dt.date]:
        """Legal steps issued to a student, with their dates."""
        ...

    def record_issued(self, student_id: str, step: str, on: dt.date) -> None:
        """Record that a legal step was issued."""
        ...


class InMemoryRepository:
    """Keeps everything in dictionaries: for tests, embedding, and the benchmarks.

    Interventions are indexed by id and by student; events are kept per student (the whole
    history a timeline shows).
    """

    def __init__(self) -> None:
        self._by_id: dict[str, Intervention] = {}
        self._by_student: dict[str, list[Intervention]] = {}
        self._open: dict[str, Intervention] = {}
        self._events: dict[str, list[WorkflowEvent]] = {}
        self._check_ins: dict[str, list[CheckIn]] = {}
        self._issued: dict[str, dict[str, dt.date]] = {}
        self._ids = itertools.count(1)
        self._seq = itertools.count(1)

    def new_id(self) -> str:
        """A fresh, unique intervention id."""
        return f"iv-{next(self._ids):07d}"

    def add(self, intervention: Intervention) -> None:
        """Store a new intervention."""
        if intervention.id in self._by_id:
            raise StoreError(f"intervention {intervention.id} already exists")
        self._by_id[intervention.id] = intervention
        self._by_student.setdefault(intervention.student_id, []).append(intervention)
        if intervention.state in OPEN_STATES:
            self._open[intervention.id] = intervention

    def get(self, intervention_id: str) -> Intervention:
        """The intervention with this id.

        Raises:
            UnknownInterventionError: There is none.
        """
        found = self._by_id.get(intervention_id)
        if found is None:
            raise UnknownInterventionError(intervention_id)
        return found

    def save(self, intervention: Intervention, expected_version: int) -> None:
        """Store a changed intervention (in memory the object is shared; versions still count)."""
        stored = self._by_id.get(intervention.id)
        if stored is None:
            raise StoreError(f"intervention {intervention.id} does not exist")
        if stored is not intervention and stored.version != expected_version:
            raise StoreError(
                f"intervention {intervention.id} was changed concurrently "
                f"(version {stored.version}, expected {expected_version})"
            )
        self._by_id[intervention.id] = intervention
        if stored is not intervention:  # a copy was changed: it replaces the stored object
            mine = self._by_student[stored.student_id]
            mine[next(i for i, iv in enumerate(mine) if iv is stored)] = intervention
        if intervention.state in OPEN_STATES:
            self._open[intervention.id] = intervention
        else:
            self._open.pop(intervention.id, None)

    def for_student(self, student_id: str) -> list[Intervention]:
        """Every intervention of a student, oldest first."""
        return list(self._by_student.get(student_id, ()))

    def open_interventions(self) -> Iterator[Intervention]:
        """Every open intervention."""
        return iter(list(self._open.values()))

    def append(self, event: WorkflowEvent) -> WorkflowEvent:
        """Append an event, numbering it."""
        stored = event._replace(seq=next(self._seq))
        self._events.setdefault(event.student_id, []).append(stored)
        return stored

    def events(self, student_id: str) -> list[WorkflowEvent]:
        """A student's events in order."""
        return list(self._events.get(student_id, ()))

    def add_check_in(self, check_in: CheckIn) -> None:
        """Store a check-in."""
        self._check_ins.setdefault(check_in.intervention_id, []).append(check_in)

    def check_ins(self, intervention_id: str) -> list[CheckIn]:
        """An intervention's check-ins in order."""
        return list(self._check_ins.get(intervention_id, ()))

    def issued(self, student_id: str) -> dict[str, dt.date]:
        """Legal steps issued to a student, with their dates."""
        return dict(self._issued.get(student_id, {}))

    def record_issued(self, student_id: str, step: str, on: dt.date) -> None:
        """Record that a legal step was issued."""
        self._issued.setdefault(student_id, {})[step] = on
