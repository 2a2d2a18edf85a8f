"""The engine's common ground: its settings, the records it reads and writes, one transition."""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from tierflow.attendance import SchoolCalendar
from tierflow.errors import WorkflowError
from tierflow.evaluate import CompiledRuleset
from tierflow.spec import LegalStepSpec
from tierflow.workflow._machine import IllegalTransitionError, Lifecycle
from tierflow.workflow._records import Intervention, Plan, WorkflowEvent
from tierflow.workflow._repository import Repository
from tierflow.workflow._roster import Roster
from tierflow.workflow._schedule import SchoolDays
from tierflow.workflow._tried import Starts

__all__ = ["Core", "Hook", "Recall", "as_date", "school_of"]

Hook = Callable[[WorkflowEvent], None]
"""A host's subscriber: called with each event after it is recorded."""
_BULKY = frozenset({"history", "attendance_log", "school_days", "provenance"})
_new_tuple = tuple.__new__


@dataclass(slots=True)
class Recall:
    """What a student's timeline says the engine already did (so a reopened store resumes)."""

    decision: tuple[Any, ...] | None = None
    decisions: list[tuple[dt.date, list[str]]] = field(default_factory=list)
    reported: dict[str, dt.date] = field(default_factory=dict)
    conferences: list[dict[str, Any]] = field(default_factory=list)
    support: Starts = field(default_factory=Starts)
    """When each intervention was started, and which were withdrawn on corrected data."""
    rolled: set[int] = field(default_factory=set)
    """School years (labels) whose rollover was already applied to the student."""
    restarted: set[str] = field(default_factory=set)
    """Interventions closed by a ``restart`` rollover: they do not hold back a new opening."""
    held: set[str] = field(default_factory=set)
    """Open interventions already recorded as held after their student left the district."""
    barriers: dict[str, WorkflowEvent] = field(default_factory=dict)
    """Causes staff recorded (``barrier`` events), each with the event that first did."""


def as_date(value: Any, name: str) -> dt.date:
    """``value`` if it is a date; a datetime (or anything else) is refused, not truncated.

    Every date the engine is given ends up in a record, and from there in the history the
    facts' ``History`` model validates before each evaluation, which refuses a datetime with a
    time of day: accepting one here would get the student rejected at every later run.

    Raises:
        WorkflowError: ``value`` is not a :class:`datetime.date`, or is a ``datetime``.
    """
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    kind = "a datetime (pass its .date())" if isinstance(value, dt.datetime) else repr(value)
    raise WorkflowError(f"{name} must be a date, not {kind}")


def school_of(facts: Mapping[str, Any]) -> str | None:
    """The school the facts name, as text (None if they name none).

    One string per school (interned): a host's reader makes a new one for every student, and
    each intervention keeps the one it was opened with.
    """
    school = facts.get("school_id")
    return None if school is None else sys.intern(str(school))


class Core:
    """What every part of the engine shares: settings, hooks, the repository and transitions.

    :class:`~tierflow.workflow.Engine` sets these attributes; the parts of the engine (day
    runs, staff actions, the legal ladder, school years and moves) are its bases and read them.
    """

    ruleset: CompiledRuleset
    repository: Repository
    calendars: dict[str, SchoolCalendar]
    lifecycle: Lifecycle
    grace_days: int
    cooldown_days: int
    default_review_days: int
    _hooks: list[tuple[Hook, frozenset[str] | None]]
    _levels: dict[str, int]
    _days_cache: dict[str, SchoolDays]
    _shared: dict[Any, Any]
    _roster: Roster
    _counted: bool
    """Whether the store's open caseloads were counted into :attr:`roster` yet, every owner's."""
    _counted_staff: set[str]
    """Staff whose open caseload was counted before every owner's was (see _school_roster)."""
    _counted_schools: set[str]
    """Schools whose staff's caseloads were counted so (``""``: staff without a school)."""
    _pending: list[WorkflowEvent] | None
    """Events recorded in the open unit, for the hooks once it is kept (None: no unit)."""
    _following: tuple[str, list[WorkflowEvent]] | None
    """The student a run is deciding, and the events recorded for them since their timeline
    was read (see :meth:`_catch_up`); None between students."""

    @property
    def roster(self) -> Roster:
        """Staff by school and role, with caseloads counted from the store on first use.

        The open interventions of a reopened store count against their owners, read when the
        roster is first needed (a run, a staff action, or a host reading it), not when the
        engine is built: building an engine reads nothing.
        """
        if not self._counted:
            done = self._counted_staff
            load = Counter(
                iv.owner
                for iv in self.repository.open_interventions()
                if iv.owner is not None and iv.owner not in done
            )
            self._roster.load.update(load)
            self._counted = True
        return self._roster

    @roster.setter
    def roster(self, roster: Roster) -> None:
        self._roster, self._counted = roster, False  # the store's caseloads count against it
        self._counted_staff, self._counted_schools = set(), set()

    def _school_roster(self, school_id: str | None) -> Roster:
        """The roster, with at least the caseloads of ``school_id``'s staff counted.

        What a run opens, moves or frees at a school needs only that school's staff's
        caseloads: each is read from the store's owner index (every open case they own, at any
        school), not from a scan of every open case of the district. A partition of a day
        (:func:`tierflow.scale.run_day_partitioned`) so reads its own schools' staff only. A
        staff member's load changes only once it has been counted (see :meth:`_release`); the
        rest are counted from the store when :attr:`roster` is first read.
        """
        roster = self._roster
        school = school_id or ""
        if self._counted or school in self._counted_schools:
            return roster
        if not self._indexed():
            return self.roster  # every owner's at once: a query would scan them all anyway
        done = self._counted_staff
        for member in roster.staff.values():
            if member.school_id == school and member.id not in done:
                roster.load[member.id] += len(self.repository.work_items(owner=member.id))
                done.add(member.id)
        self._counted_schools.add(school)
        return roster

    def _indexed(self) -> bool:
        """Whether the store's queries read by index (a store that does not say is taken to)."""
        return bool(getattr(self.repository, "indexed_queries", True))

    def _release(self, owner: str | None) -> None:
        """A case of ``owner`` ends (before it is saved): one fewer, if their load was counted.

        Not counted yet, their count is read later from the store, without this case.
        """
        if owner is not None and (self._counted or owner in self._counted_staff):
            self._roster.release(owner)

    def _unit(self) -> AbstractContextManager[None]:
        """One operation as one unit of the store: its changes and events kept together.

        Hooks see the unit's events once it is kept, so an exception from a hook reaches the
        caller after the change was kept (and a unit undone never reached a hook).
        """
        if not self._hooks or self._pending is not None:  # nothing to hold back, or held
            return self.repository.unit()
        return self._hooked_unit()

    @contextmanager
    def _hooked_unit(self) -> Iterator[None]:
        self._pending = []
        try:
            with self.repository.unit():
                yield
            kept = self._pending
        finally:
            self._pending = None
        for event in kept:
            self._notify(event)

    # --- hooks and reading --------------------------------------------------------------------

    def subscribe(self, hook: Hook, *, kinds: Collection[str] | None = None) -> None:
        """Call ``hook(event)`` after each event is recorded (to send a message, open a task).

        Hooks are plain Python callables registered by the host, called in the order they were
        subscribed. An exception from a hook propagates to the caller after the event has been
        recorded and the change kept.

        Args:
            hook: The callable.
            kinds: Only events of these kinds (``transition``, ``opened``, ``legal_due``...);
                None for every event.
        """
        self._hooks.append((hook, None if kinds is None else frozenset(kinds)))

    def timeline(self, student_id: str) -> list[WorkflowEvent]:
        """Everything that happened for a student, in order.

        Decisions (when they change), openings, transitions (check-ins among them), reviews,
        overdue flags, conferences and legal steps reported due, issued or withdrawn.
        """
        return self.repository.events(student_id)

    def interventions(self, student_id: str) -> list[Intervention]:
        """A student's interventions, oldest first."""
        return self.repository.for_student(student_id)

    def _days(self, school_id: str | None) -> SchoolDays:
        key = school_id or ""
        days = self._days_cache.get(key)
        if days is None:
            days = self._days_cache[key] = SchoolDays(self.calendars.get(key))
        return days

    def _record(self, event: WorkflowEvent) -> WorkflowEvent:
        stored = self.repository.append(event)
        following = self._following
        if following is not None and following[0] == stored.student_id:
            following[1].append(stored)
        if self._hooks:
            if self._pending is not None:
                self._pending.append(stored)
            else:
                self._notify(stored)
        return stored

    def _withdraw_step(
        self,
        as_of: dt.date,
        sid: str,
        step: str,
        why: str,
        snapshot: dict[str, Any] | None,
        plan: Plan,
        **detail: Any,
    ) -> None:
        """Withdraw a legal step reported due and never issued: in the plan and the timeline."""
        plan.legal_withdrawn.append((sid, step))
        self._record(
            WorkflowEvent(
                0,
                as_of,
                sid,
                "legal_withdrawn",
                why=why,
                ruleset=self.ruleset.ref,
                facts=snapshot,
                detail={"step": step, **detail},
            )
        )

    def _notify(self, stored: WorkflowEvent) -> None:
        for hook, kinds in self._hooks:
            if kinds is None or stored.kind in kinds:
                hook(stored)

    def _snapshot(self, facts: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The decisive facts worth keeping in an event (not the bulky logs)."""
        if facts is None:
            return None
        snap = {}
        for name in self.ruleset.fact_names:
            value = facts.get(name)
            if value is not None and name not in _BULKY:
                snap[name] = value
        provenance = facts.get("provenance")
        if isinstance(provenance, Mapping) and "events_sha256" in provenance:
            snap["events_sha256"] = provenance["events_sha256"]
        return snap

    def _share(self, key: Any, value: Any) -> Any:
        """One shared immutable object per distinct value (reasons, event details).

        A district's million open interventions carry a few hundred distinct reasons and
        opening details; sharing them keeps memory proportional to the records, not the text.
        """
        if len(self._shared) > 50_000:
            self._shared.clear()
        return self._shared.setdefault(key, value)

    def _recall(self, student_id: str) -> Recall:
        recall = Recall()
        for ev in self.repository.events(student_id):
            self._see(recall, ev)
        return recall

    def _catch_up(self, recall: Recall) -> Recall:
        """``recall`` with the events recorded for the student since it was read.

        What reading the timeline again would give (a timeline is read in the order it was
        recorded), without reading and making again every event of it.
        """
        following = self._following
        assert following is not None  # inside a run's student
        for ev in following[1]:
            self._see(recall, ev)
        following[1].clear()
        return recall

    def _see(self, recall: Recall, ev: WorkflowEvent) -> None:
        """Take one event of the timeline into ``recall``."""
        if ev.kind == "decision" and ev.detail is not None:
            d = ev.detail
            recall.decision = (d["tier"], list(d["interventions"]), list(d["legal"]))
            recall.decisions.append((ev.at, recall.decision[1]))
        elif ev.kind == "conference" and ev.detail is not None:
            # Conferences recorded before outcomes existed were held.
            entry = {"kind": ev.detail["kind"], "held_on": ev.at}
            for key in ("outcome", "method", "note"):
                if ev.detail.get(key) not in (None, "held"):  # held is the default
                    entry[key] = ev.detail[key]
            recall.conferences.append(entry)
        elif ev.kind == "legal_due" and ev.detail is not None:
            recall.reported.setdefault(ev.detail["step"], ev.at)
        elif ev.kind in ("legal_issued", "legal_withdrawn") and ev.detail is not None:
            recall.reported.pop(ev.detail["step"], None)
        elif ev.kind == "transition":
            recall.support.see(ev, self.lifecycle)
            if ev.detail is not None and ev.detail.get("rollover") == "restart":
                recall.restarted.add(str(ev.intervention_id))
        elif ev.kind == "rollover" and ev.detail is not None:
            recall.rolled.add(int(ev.detail["year"]))
        elif ev.kind == "left" and ev.detail is not None:
            recall.held.update(ev.detail["interventions"])
        elif ev.kind == "barrier" and ev.detail is not None:
            recall.barriers.setdefault(ev.detail["cause"], ev)

    # --- transitions ---------------------------------------------------------------------------

    def _fire(
        self,
        iv: Intervention,
        trigger: str,
        on: dt.date,
        who: str,
        why: str,
        facts: Mapping[str, Any] | None = None,
        detail: Mapping[str, Any] | None = None,
        **changes: Any,
    ) -> WorkflowEvent:
        """Apply ``trigger`` to ``iv`` through the shared lifecycle and record one event.

        ``facts`` is the snapshot of the facts that justified it (None for a person's action);
        ``changes`` are other fields saved with the new state (a check-in's next follow-up).
        """
        before = iv.state
        target = self.lifecycle.target(trigger, before)
        if target is None:
            self._check(iv, trigger)  # raises
        ended = None
        if target in self.lifecycle.terminal:
            if iv.ended_on is None:
                ended = iv.owner
            changes["ended_on"] = on
            # Before the save: a count of the owner's cases read after it would not hold it.
            self._release(iv.owner)
        changes["state"] = target
        self.repository.update(iv, changes)
        # Every field given: the tuple is made by one C call, not NamedTuple's Python __new__.
        stored = self._record(
            _new_tuple(
                WorkflowEvent,
                (
                    0,
                    on,
                    iv.student_id,
                    "transition",
                    iv.id,
                    trigger,
                    before,
                    target,
                    who,
                    why,
                    self.ruleset.ref,
                    facts,
                    detail,
                ),
            )
        )
        if ended is not None:
            self._ended(iv, ended, on)
        return stored

    def _ended(self, iv: Intervention, owner: str, on: dt.date) -> None:
        """``iv``, of ``owner``, has just ended (its event recorded): nothing more here."""

    def _save(self, iv: Intervention, **changes: Any) -> None:
        """Save ``changes`` to ``iv`` with its version counted up; ``iv`` takes them too.

        The store is given only the fields that change: one it refuses, or a unit it undoes,
        leaves the records as they were.
        """
        self.repository.update(iv, changes)

    def _check(self, iv: Intervention, trigger: str) -> str:
        """The state ``trigger`` leads ``iv`` to, or raise :class:`IllegalTransitionError`."""
        target = self.lifecycle.target(trigger, iv.state)
        if target is None:
            raise IllegalTransitionError(
                iv.id,
                iv.state,
                trigger,
                self.lifecycle.allowed(iv.state),
                f"{iv.intervention}, student {iv.student_id}",
            )
        return target

    def _step_spec(self, step: str) -> LegalStepSpec:
        """The rule set's legal step ``step``."""
        for spec in self.ruleset.legal_steps:
            if spec.id == step:
                return spec
        raise WorkflowError(f"no legal step {step!r} in rule set {self.ruleset.id}")
