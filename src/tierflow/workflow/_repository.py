"""Where the workflow keeps its records: a small interface and an in-memory implementation.

The persistence layer (databases) implements the same :class:`Repository` protocol; the engine
and the reports only ever talk to the protocol, which declares everything they call (nothing is
discovered with ``getattr``), atomic units and the list of students included.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from itertools import islice
from typing import Any, Protocol

from tierflow.errors import StoreError, UnknownInterventionError
from tierflow.evaluate import RulesetRef
from tierflow.workflow._records import CheckIn, Intervention, WorkflowEvent
from tierflow.workflow._summary import (
    CaseSummary,
    EventSummary,
    case_summary,
    first_transitions,
    summarize,
)

__all__ = ["UPDATABLE", "InMemoryRepository", "Repository", "check_update"]


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

    def update(self, intervention: Intervention, changes: Mapping[str, Any]) -> None:
        """Store these fields of ``intervention`` changed, its version counted up; then it too.

        What the engine calls for every transition: only the fields that change are given.
        A store that refuses (``StoreError``; a ``ConflictError`` when its stored version is
        not ``intervention.version``) changes nothing, ``intervention`` included. Only the
        fields :data:`UPDATABLE` may be given: not ``id``, ``student_id`` or ``version``.
        """
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

    def students(self) -> list[str]:
        """Every student with a record (an intervention, an event or a legal step), sorted."""
        ...

    def work_items(
        self,
        *,
        owner: str | None = None,
        role: str | None = None,
        school: str | None = None,
        unassigned: bool = False,
    ) -> list[Intervention]:
        """The open interventions a work queue lists, selected by the store, oldest first.

        Every filter given must hold: ``owner`` (a staff id), ``role`` (``owner_role``),
        ``school`` (``school_id``), ``unassigned`` (no owner).
        """
        ...

    def legal_events(self, student_ids: Iterable[str]) -> dict[str, list[WorkflowEvent]]:
        """The ``legal_*`` events of these students, each student's in order.

        Students without one are left out. A work queue reads the legal steps of the students
        it lists with one call, not one timeline a student.
        """
        ...

    def notice_events(
        self, student_ids: Iterable[str] | None = None
    ) -> dict[str, list[WorkflowEvent]]:
        """The ``notice_*`` events (the outbox) of these students, each student's in order.

        Students without one are left out; None: every student's. A notice's producer, the
        outbox and a work queue read the notices with one call, not one timeline a student.
        """
        ...

    def summaries(
        self,
        kinds: Collection[str],
        student_ids: Iterable[str] | None = None,
        *,
        firsts: bool = False,
    ) -> dict[str, list[EventSummary]]:
        """The summaries of these students' events of these kinds, each student's in order.

        What a report over a whole district reads: the SQL store selects them by its
        reporting columns without decoding an event's body. Students without one are left
        out; None: every student's, sorted by id. ``firsts``: only the first transition of
        each intervention into each state (see :func:`~tierflow.workflow.first_transitions`),
        which is all a report reading starts and withdrawals needs.
        """
        ...

    def cases(self, *, open_only: bool = False) -> list[CaseSummary]:
        """Every intervention's summary (only the open ones with ``open_only``), oldest first.

        One read for a report over a district: the SQL store selects the columns and decodes
        no body.
        """
        ...

    def prefetch(self, student_ids: Sequence[str]) -> None:
        """A hint: these students' records are read next (a run's next students).

        A store that pays a round trip a read (PostgreSQL) reads their interventions, events,
        legal steps issued and chain heads in a few queries and answers the reads from that,
        inside a batch. It changes no answer; the in-memory store does nothing.
        """
        ...

    def unit(self) -> AbstractContextManager[None]:
        """One piece of work: every write inside is kept, or none is if an exception leaves it.

        The engine makes each operation a unit (a student's part of a run, a follow-up moved,
        a check-in, a legal step issued), so a change is never kept without the event that
        documents it.
        """
        ...


_FIELDS = operator.attrgetter(*Intervention.__slots__)
_new_tuple = tuple.__new__
_ROW = 5
"""Items a stored event takes in its student's list: seq, intervention id, facts, detail, shape."""
_SHAPES = 10_000
"""Distinct event shapes remembered for sharing; past it, sharing starts afresh."""

Shape = tuple[dt.date, str, str | None, str | None, str | None, str, str, RulesetRef | None]
"""What many events have in common: date, kind, trigger, states, who, why and rule set."""

UPDATABLE = frozenset(Intervention.__slots__) - {"id", "student_id", "version"}
"""The fields :meth:`Repository.update` may change: not the keys a store files it under, and
not the version, which the store counts."""


def check_update(changes: Mapping[str, Any]) -> None:
    """Refuse an update naming a field it may not change: what a store's ``update`` does first.

    Raises:
        StoreError: A name in ``changes`` is not one of :data:`UPDATABLE`.
    """
    if not changes.keys() <= UPDATABLE:
        bad = ", ".join(sorted(map(repr, set(changes) - UPDATABLE)))
        raise StoreError(f"an update cannot change {bad}: only {', '.join(sorted(UPDATABLE))}")


class _Packed(tuple[Any, ...]):
    """A plain dict of facts as one tuple: its keys (a tuple shared by alike facts), its values.

    A dict of a few facts takes three times the memory; :func:`_read` makes it a dict again,
    equal to the one appended (the same keys, in order, and the same value objects).
    """

    __slots__ = ()


def _write(stored: Intervention, values: tuple[Any, ...]) -> None:
    """Give ``stored`` these field values, in place (every reference to it sees them).

    The dataclass's own ``__init__`` assigns every field in one call: three times faster than
    a ``setattr`` per field, on the path of every change the engine saves.
    """
    Intervention.__init__(stored, *values)


class InMemoryRepository:
    """Keeps everything in dictionaries: for tests, embedding, and the benchmarks.

    Interventions are indexed by id; a student's interventions and events (the whole history
    a timeline shows) share one flat list: how many interventions, the interventions, then
    the events, compactly. A district's million events are mostly alike (one day, one kind,
    one reason, one rule set), so each is five items of the list (its number, intervention
    id, facts, detail and a shared :data:`Shape` of the rest) and is made a
    :class:`WorkflowEvent` again, equal to the one appended, when it is read. Facts given as a
    plain dict are kept packed (:class:`_Packed`) and read as a new dict each time, as a
    database's are: changing the dict after appending it changes nothing stored.

    The interventions it returns are its own objects, shared with every caller (which keeps a
    district's records in memory once): change a copy (:func:`dataclasses.replace`) and
    :meth:`save` it, as the engine does, and the stored object takes the change in place, so
    every reference to it sees it.

    A :meth:`unit` is atomic as a database transaction is: each write inside it notes how to
    undo itself, and an exception leaving the unit undoes them all, newest first (a unit inside
    another undoes only its own writes). An object changed in place before it was saved cannot
    be restored: that change was never the store's to undo.
    """

    indexed_queries = False
    """Its queries (:meth:`work_items`) scan every open case: an engine counting caseloads
    reads them all at once, not one staff member's at a time (see ``Core._school_roster``)."""

    def __init__(self) -> None:
        self._by_id: dict[str, Intervention] = {}
        self._open: dict[str, Intervention] = {}
        self._students: dict[str, list[Any]] = {}
        """Per student: n, their n interventions, then ``_ROW`` items an event (seq,
        intervention id, facts, detail, shape). One list, not two, a student: a district has
        half a million, and a list and a dictionary entry cost more than the student's own
        interventions' places in it."""
        self._shapes: dict[tuple[Any, ...], Shape] = {}
        """Shared shapes by their key (the rule set by identity: its hash is Python code)."""
        self._keys: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        """Shared keys of packed facts."""
        self._packed: _Packed | None = None
        """The facts packed last: a student's decision and openings share one snapshot."""
        self._check_ins: dict[str, tuple[tuple[Any, ...], ...]] = {}
        self._issued: dict[str, dict[str, dt.date]] = {}
        self._next_id = 1
        self._next_seq = 1
        # The open units' journal: (undo function, its arguments...) per write, and where each
        # open unit's writes begin. Tuples of module functions, one unit object for all: the
        # engine opens a unit per change, and closures would give the collector work.
        self._journal: list[tuple[Any, ...]] = []
        self._marks: list[int] = []
        self._unit = _Unit(self)

    def unit(self) -> AbstractContextManager[None]:
        """One piece of work: every write inside is kept, or none is if an exception leaves it.

        Ids and event numbers handed out inside a unit that fails are handed out again, as a
        database's rolled-back sequence would.
        """
        return self._unit

    def prefetch(self, student_ids: Sequence[str]) -> None:
        """Nothing to do: every read is a dictionary lookup."""

    def new_id(self) -> str:
        """A fresh, unique intervention id."""
        n = self._next_id
        self._next_id = n + 1
        if self._marks:
            self._journal.append((_undo_id, self, n))
        return f"iv-{n:07d}"

    def add(self, intervention: Intervention) -> None:
        """Store a new intervention (the object given becomes the stored one)."""
        iid = intervention.id
        if iid in self._by_id:
            raise StoreError(f"intervention {iid} already exists")
        self._by_id[iid] = intervention
        sid = intervention.student_id
        mine = self._students.get(sid)
        if mine is None:
            mine = self._students[sid] = [0]
        n = mine[0] + 1
        mine.insert(n, intervention)  # after the student's other interventions, before events
        mine[0] = n
        if intervention.ended_on is None:
            self._open[iid] = intervention
        if self._marks:
            self._journal.append((_undo_add, self, intervention, mine))

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
        """Store a changed intervention; a copy's values are written into the stored object.

        Raises:
            StoreError: It does not exist, or a copy was saved whose version is not the stored
                one (someone changed it first); nothing changes.
        """
        stored = self._by_id.get(intervention.id)
        if stored is None:
            raise StoreError(f"intervention {intervention.id} does not exist")
        if stored is not intervention:
            if stored.version != expected_version:
                raise StoreError(
                    f"intervention {intervention.id} was changed concurrently "
                    f"(version {stored.version}, expected {expected_version})"
                )
            if self._marks:
                self._journal.append((_undo_save, self, stored, _FIELDS(stored)))
            _write(stored, _FIELDS(intervention))
        self._place(stored)

    def update(self, intervention: Intervention, changes: Mapping[str, Any]) -> None:
        """Store these fields changed, its version counted up; the stored object takes them.

        Only the changed fields are written, and no copy of the intervention is made (a
        transition's save was a third of its time); the old values are journalled as one tuple
        of every field (one C call).

        Raises:
            StoreError: A name in ``changes`` is not a field :data:`UPDATABLE`, it does not
                exist, or ``intervention`` is a copy whose version is not the stored one
                (someone changed it first); nothing changes.
        """
        if not changes.keys() <= UPDATABLE:  # the check's cheap half, inline: every transition
            check_update(changes)
        stored = self._by_id.get(intervention.id)
        if stored is None:
            raise StoreError(f"intervention {intervention.id} does not exist")
        version = stored.version
        if stored is not intervention and version != intervention.version:
            raise StoreError(
                f"intervention {intervention.id} was changed concurrently "
                f"(version {version}, expected {intervention.version})"
            )
        if self._marks:
            self._journal.append((_undo_save, self, stored, _FIELDS(stored)))
        for name, value in changes.items():
            setattr(stored, name, value)
        stored.version = version + 1
        if stored is not intervention:
            for name, value in changes.items():
                setattr(intervention, name, value)
            intervention.version = version + 1
        if "ended_on" in changes:
            self._place(stored)

    def _place(self, stored: Intervention) -> None:
        """Keep ``stored`` among the open interventions if, and only if, it is open."""
        if stored.ended_on is None:
            self._open[stored.id] = stored
        else:
            self._open.pop(stored.id, None)

    def for_student(self, student_id: str) -> list[Intervention]:
        """Every intervention of a student, oldest first."""
        mine = self._students.get(student_id)
        return [] if mine is None else mine[1 : mine[0] + 1]

    def open_interventions(self) -> Iterator[Intervention]:
        """Every open intervention."""
        return iter(list(self._open.values()))

    def append(self, event: WorkflowEvent) -> WorkflowEvent:
        """Append an event, numbering it."""
        seq = self._next_seq
        self._next_seq = seq + 1
        # The numbered copy, made by one C call: NamedTuple._replace runs Python (_make, a map
        # over the fields) for every event, about a fifth of a transition.
        stored = _new_tuple(WorkflowEvent, (seq, *event[1:]))
        _, at, sid, kind, iid, trigger, before, after, who, why, ruleset, facts, detail = event
        shapes = self._shapes
        key = (at, kind, trigger, before, after, who, why, id(ruleset))
        try:
            shape = shapes.get(key)
            if shape is None:
                if len(shapes) >= _SHAPES:
                    shapes.clear()
                # The shape holds the rule set, so its id is not reused while the key is kept.
                shape = shapes[key] = (at, kind, trigger, before, after, who, why, ruleset)
        except TypeError:  # an unhashable value where a text belongs: kept, not shared
            shape = (at, kind, trigger, before, after, who, why, ruleset)
        held = self._pack(facts) if type(facts) is dict else facts
        mine = self._students.get(sid)
        if mine is None:
            mine = self._students[sid] = [0]
        mine += (seq, iid, held, detail, shape)
        if self._marks:
            self._journal.append((_undo_event, self, sid, mine, seq))
        return stored

    def _pack(self, facts: dict[Any, Any]) -> _Packed:
        """``facts`` as a :class:`_Packed` tuple, the one packed last if it holds the same."""
        last = self._packed
        # The same key and value objects (a student's decision, then its openings): not a new
        # tuple. Equal is not enough: 1 == True, and a dict changed in between is not the same.
        if (
            last is not None
            and len(last) == len(facts) + 1
            and all(map(operator.is_, facts, last[0]))
            and all(map(operator.is_, facts.values(), islice(last, 1, None)))
        ):
            return last
        keys = tuple(facts)
        values = tuple(facts.values())
        shared = self._keys.get(keys)
        # Equal keys of other types (1 and True) are not the same keys: those are not shared.
        if shared is None or not all(map(operator.is_, map(type, shared), map(type, keys))):
            if len(self._keys) >= _SHAPES:
                self._keys.clear()
            shared = self._keys[keys] = keys
        packed = self._packed = _new_tuple(_Packed, (shared, *values))
        return packed

    def events(self, student_id: str) -> list[WorkflowEvent]:
        """A student's events in order."""
        return _read(student_id, self._students.get(student_id))

    def add_check_in(self, check_in: CheckIn) -> None:
        """Store a check-in.

        An intervention's check-ins are kept as a plain tuple of plain tuples, made
        :class:`CheckIn` again when read: the garbage collector stops tracking plain tuples of
        dates and text, where a list and a named tuple a check-in stayed tracked for ever (a
        full collection during a district's check-ins took a sixth of their time).
        """
        iid = check_in.intervention_id
        index = self._check_ins
        before = index.get(iid)
        index[iid] = (*before, tuple(check_in)) if before is not None else (tuple(check_in),)
        if self._marks:
            self._journal.append((_undo_check_in, index, iid, before))

    def check_ins(self, intervention_id: str) -> list[CheckIn]:
        """An intervention's check-ins in order."""
        return [_new_tuple(CheckIn, row) for row in self._check_ins.get(intervention_id, ())]

    def issued(self, student_id: str) -> dict[str, dt.date]:
        """Legal steps issued to a student, with their dates."""
        return dict(self._issued.get(student_id, {}))

    def record_issued(self, student_id: str, step: str, on: dt.date) -> None:
        """Record that a legal step was issued."""
        mine = self._issued.setdefault(student_id, {})
        if self._marks:
            self._journal.append((_undo_issued, self._issued, student_id, step, mine.get(step)))
        mine[step] = on

    def students(self) -> list[str]:
        """Every student with a record (an intervention, an event or a legal step), sorted."""
        return sorted(self._students.keys() | self._issued.keys())

    def work_items(
        self,
        *,
        owner: str | None = None,
        role: str | None = None,
        school: str | None = None,
        unassigned: bool = False,
    ) -> list[Intervention]:
        """The open interventions a work queue lists (see :meth:`Repository.work_items`)."""
        return [
            iv
            for iv in self._open.values()
            if (owner is None or iv.owner == owner)
            and (role is None or iv.owner_role == role)
            and (school is None or iv.school_id == school)
            and (not unassigned or iv.owner is None)
        ]

    def legal_events(self, student_ids: Iterable[str]) -> dict[str, list[WorkflowEvent]]:
        """The ``legal_*`` events of these students, each student's in order."""
        out: dict[str, list[WorkflowEvent]] = {}
        for sid in dict.fromkeys(student_ids):
            mine = _read(sid, self._students.get(sid), "legal_")
            if mine:
                out[sid] = mine
        return out

    def notice_events(
        self, student_ids: Iterable[str] | None = None
    ) -> dict[str, list[WorkflowEvent]]:
        """The ``notice_*`` events of these students (None: every student), each in order."""
        wanted = sorted(self._students) if student_ids is None else dict.fromkeys(student_ids)
        out: dict[str, list[WorkflowEvent]] = {}
        for sid in wanted:
            mine = _read(sid, self._students.get(sid), "notice_")
            if mine:
                out[sid] = mine
        return out

    def summaries(
        self,
        kinds: Collection[str],
        student_ids: Iterable[str] | None = None,
        *,
        firsts: bool = False,
    ) -> dict[str, list[EventSummary]]:
        """Summaries of these students' events of these kinds (see :meth:`Repository.summaries`)."""
        wanted = sorted(self._students) if student_ids is None else dict.fromkeys(student_ids)
        kinds = frozenset(kinds)
        out: dict[str, list[EventSummary]] = {}
        for sid in wanted:
            mine = [summarize(e) for e in _read(sid, self._students.get(sid), kinds=kinds)]
            if firsts:
                mine = first_transitions(mine)
            if mine:
                out[sid] = mine
        return out

    def cases(self, *, open_only: bool = False) -> list[CaseSummary]:
        """Every intervention's summary, oldest first (see :meth:`Repository.cases`)."""
        found = self._open.values() if open_only else self._by_id.values()
        return [case_summary(iv) for iv in found]


# --- undoing a unit's writes: each the inverse of one write above, run newest first ------------


def _undo_id(repo: InMemoryRepository, n: int) -> None:
    repo._next_id = n


def _undo_add(repo: InMemoryRepository, added: Intervention, mine: list[Any]) -> None:
    del repo._by_id[added.id]
    n = mine[0]
    del mine[n]  # later writes were undone first: it is the student's newest intervention
    mine[0] = n - 1
    if len(mine) == 1:
        del repo._students[added.student_id]
    repo._open.pop(added.id, None)


def _undo_save(repo: InMemoryRepository, stored: Intervention, values: tuple[Any, ...]) -> None:
    _write(stored, values)
    repo._place(stored)


def _undo_event(repo: InMemoryRepository, student_id: str, mine: list[Any], seq: int) -> None:
    del mine[-_ROW:]  # later writes were undone first: the event's row is the last
    if len(mine) == 1:
        del repo._students[student_id]
    repo._next_seq = seq


def _undo_check_in(
    index: dict[str, tuple[tuple[Any, ...], ...]],
    key: str,
    before: tuple[tuple[Any, ...], ...] | None,
) -> None:
    """Put back ``key``'s check-ins as they were (none: the key goes)."""
    if before is None:
        del index[key]
    else:
        index[key] = before


def _undo_issued(
    index: dict[str, dict[str, dt.date]], student_id: str, step: str, before: dt.date | None
) -> None:
    mine = index[student_id]
    if before is not None:
        mine[step] = before
        return
    del mine[step]
    if not mine:
        del index[student_id]


def _read(
    student_id: str,
    mine: list[Any] | None,
    prefix: str | None = None,
    kinds: Collection[str] | None = None,
) -> list[WorkflowEvent]:
    """The events of a student's list (see ``InMemoryRepository._students``), in order.

    Only the kinds starting with ``prefix``, or among ``kinds``, when given.
    """
    if mine is None:
        return []
    items = islice(mine, mine[0] + 1, None)
    events = []
    packed = made = None
    every = prefix is None and kinds is None
    # One iterator five times: each row's five items in turn (a multiple of five: not strict).
    for seq, iid, facts, detail, shape in zip(items, items, items, items, items):  # noqa: B905
        at, kind, trig, before, after, who, why, ref = shape
        if type(facts) is _Packed:
            # Events that shared a dict when appended share one again (not one dict each).
            if facts is not packed:
                packed, made = facts, dict(zip(facts[0], facts[1:], strict=True))
            facts = made
        if every or (
            (prefix is None or kind.startswith(prefix)) and (kinds is None or kind in kinds)
        ):
            event = (
                seq,
                at,
                student_id,
                kind,
                iid,
                trig,
                before,
                after,
                who,
                why,
                ref,
                facts,
                detail,
            )
            events.append(_new_tuple(WorkflowEvent, event))
    return events


class _Unit:
    """The units of one :class:`InMemoryRepository`: a mark in its journal per open unit.

    One object serves every unit of its store (entering pushes a mark, leaving pops it): the
    engine opens a unit per change, and an object per unit would cost a third of the change.
    """

    __slots__ = ("_journal", "_marks")

    def __init__(self, repo: InMemoryRepository) -> None:
        # The store's own lists (changed in place, never replaced): no lookup through it.
        self._journal = repo._journal
        self._marks = repo._marks

    def __enter__(self) -> None:
        self._marks.append(len(self._journal))

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        marks = self._marks
        mark = marks.pop()
        journal = self._journal
        if exc_type is not None:
            while len(journal) > mark:
                entry = journal.pop()
                entry[0](*entry[1:])
        if not marks:
            journal.clear()  # the outermost unit ended: its writes are kept
