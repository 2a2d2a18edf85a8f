"""The engine a host embeds: decisions become tracked interventions that nobody forgets."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tierflow.attendance import SchoolCalendar
from tierflow.errors import DataError, WorkflowError
from tierflow.evaluate import CompiledRuleset, Decision, LegalAction
from tierflow.facts._model import issued_steps
from tierflow.spec import LegalStepSpec
from tierflow.workflow._machine import (
    LIFECYCLE,
    OPEN_STATES,
    TERMINAL_STATES,
    IllegalTransitionError,
)
from tierflow.workflow._records import (
    CONTACT_TYPES,
    CheckIn,
    Intervention,
    LegalFlag,
    LegalOverdue,
    Plan,
    Unassigned,
    WorkflowEvent,
)
from tierflow.workflow._repository import InMemoryRepository, Repository
from tierflow.workflow._roster import Roster
from tierflow.workflow._schedule import SchoolDays, next_follow_up
from tierflow.workflow._tried import WITHDRAWN, WITHDRAWN_WHY, Starts, support_tried

__all__ = ["Engine", "Hook"]

Hook = Callable[[WorkflowEvent], None]
"""A host's subscriber: called with each event after it is recorded."""
_BULKY = frozenset({"history", "attendance_log", "school_days", "provenance"})
_OUTCOMES = frozenset(
    {"positive", "potentially_positive", "mixed", "no_discernible", "potentially_negative",
     "negative"}
)  # fmt: skip

_ID = re.compile(r"[a-z][a-z0-9_-]*")  # spec.ID_PATTERN, used with fullmatch: no final newline
_ID_MAX = 64  # as the rule set's ids (spec.Id), so a required conference kind can be one
_VERDICT = {True: "; goal met this period", False: "; goal not met this period", None: ""}
FLAG_ACTIONS = ("rescinded", "notified")
"""How the owner of a flagged legal step resolves it (:meth:`Engine.resolve_flag`)."""


@dataclass(slots=True)
class _Trail:
    """What a student's timeline says about the legal ladder: clocks, overdue notes and flags.

    Read only when a deadline passed, a correction removed an issued step's grounds, or a step
    is issued or a flag resolved, so an ordinary run does not read the timeline twice.
    """

    due_since: dict[str, dt.date] = field(default_factory=dict)
    """When each step still due and not issued first came due (its clock's start)."""
    overdue: set[tuple[str, dt.date]] = field(default_factory=set)
    """``(step, due since)`` already recorded overdue."""
    flags: dict[tuple[str, dt.date], WorkflowEvent] = field(default_factory=dict)
    """Every ``legal_flagged`` event by ``(step, issued on)``."""
    resolved: dict[tuple[str, dt.date], WorkflowEvent] = field(default_factory=dict)
    """The ``legal_flag_resolved`` event of each flag resolved, by ``(step, issued on)``."""

    @classmethod
    def read(cls, events: Iterable[WorkflowEvent]) -> _Trail:
        trail = cls()
        for ev in events:
            d = ev.detail
            if d is None or not ev.kind.startswith("legal_"):
                continue
            step = str(d.get("step"))
            if ev.kind == "legal_due":
                trail.due_since.setdefault(step, ev.at)
            elif ev.kind in ("legal_issued", "legal_withdrawn"):
                trail.due_since.pop(step, None)
            elif ev.kind == "legal_overdue" and isinstance(d.get("due_since"), dt.date):
                trail.overdue.add((step, d["due_since"]))
            elif ev.kind == "legal_flagged" and isinstance(d.get("issued_on"), dt.date):
                trail.flags.setdefault((step, d["issued_on"]), ev)
            elif ev.kind == "legal_flag_resolved" and isinstance(d.get("issued_on"), dt.date):
                trail.resolved.setdefault((step, d["issued_on"]), ev)
        return trail


@dataclass(slots=True)
class _Recall:
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


def _date(value: Any, name: str) -> dt.date:
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


def _school(facts: Mapping[str, Any]) -> str | None:
    school = facts.get("school_id")
    return None if school is None else str(school)


def _decision_key(decision: Decision) -> tuple[Any, ...]:
    return (
        decision.tier,
        [i.id for i in decision.interventions],
        [f"{a.step}:{a.status}" for a in decision.legal_actions],
    )


class Engine:
    """Runs a playbook over time, keeping one event per accepted change.

    It opens the interventions decisions call for, names their owners, schedules follow-ups on
    school days, reviews goals, escalates, tracks the legal ladder and withdraws what corrected
    data no longer supports. Time is always passed in; nothing sleeps or runs in the background.
    Everything it needs to resume lives in the repository (interventions, check-ins, legal
    steps issued and the events of the timeline), so an engine built on a reopened store goes on
    where the last one stopped.

    Runs are idempotent: running the same day twice on the same facts opens nothing and records
    nothing new.

    Every date a method is given (``on``, ``as_of``, ``now``) is a :class:`datetime.date`; a
    ``datetime`` or anything else raises :class:`WorkflowError` before anything is recorded
    (the records become the students' history, whose dates have no time of day).

    No flapping: a decision only ever *opens* interventions. An open intervention ends by its
    goal (met at review), by escalation (not met at review), by an explicit close, or by a
    correction that withdraws an escalation. A student hovering around a threshold therefore
    keeps the interventions already opened, and an intervention that ended is not opened again
    for the same student until ``cooldown_days`` school days after it ended.

    Args:
        ruleset: The compiled playbook.
        repository: Where records live (default: in memory).
        roster: Staff by school and role, with caseload limits (default: nobody; every
            opening is reported unassigned).
        calendars: School calendars by school id (follow-ups and reviews land on school days;
            Monday to Friday for a school without one).
        grace_days: School days after a missed follow-up before it is flagged overdue.
        cooldown_days: School days after an intervention ended before the same catalogue
            intervention can open again for the student.
        default_review_days: School days between reviews for an intervention whose catalogue
            entry gives no review period (its review is extended by this much when it cannot
            be decided).
    """

    def __init__(
        self,
        ruleset: CompiledRuleset,
        *,
        repository: Repository | None = None,
        roster: Roster | None = None,
        calendars: Mapping[str, SchoolCalendar] | None = None,
        grace_days: int = 2,
        cooldown_days: int = 10,
        default_review_days: int = 20,
    ) -> None:
        if min(grace_days, cooldown_days) < 0 or default_review_days < 1:
            raise WorkflowError(
                "grace_days and cooldown_days must be >= 0 and default_review_days >= 1"
            )
        self.ruleset = ruleset
        self.repository: Repository = repository if repository is not None else InMemoryRepository()
        self.roster = roster if roster is not None else Roster()
        self.calendars = dict(calendars or {})
        self.lifecycle = LIFECYCLE
        self.grace_days = grace_days
        self.cooldown_days = cooldown_days
        self.default_review_days = default_review_days
        self._hooks: list[tuple[Hook, frozenset[str] | None]] = []
        self._levels = {t.id: t.level for t in ruleset.tiers}
        self._days_cache: dict[str, SchoolDays] = {}
        self._shared: dict[Any, Any] = {}
        # A store that can make several writes one transaction offers unit() (SqlRepository):
        # each operation below runs in one, so a change is never kept without its event.
        unit = getattr(self.repository, "unit", None)
        self._unit: Callable[[], AbstractContextManager[Any]] = (
            unit if callable(unit) else nullcontext
        )
        for iv in self.repository.open_interventions():  # a reopened store: count caseloads
            if iv.owner is not None:
                self.roster.load[iv.owner] += 1

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
        for hook, kinds in self._hooks:
            if kinds is None or stored.kind in kinds:
                hook(stored)
        return stored

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

    def _recall(self, student_id: str) -> _Recall:
        recall = _Recall()
        for ev in self.repository.events(student_id):
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
        return recall

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
    ) -> WorkflowEvent:
        """Apply ``trigger`` to ``iv`` through the shared lifecycle and record one event.

        ``facts`` is the snapshot of the facts that justified it (None for a person's action).
        """
        target = self._check(iv, trigger)
        before, version = iv.state, iv.version
        iv.state = target
        iv.version += 1
        if target in TERMINAL_STATES:
            iv.ended_on = on
            self.roster.release(iv.owner)
        self.repository.save(iv, version)
        return self._record(
            WorkflowEvent(
                0, on, iv.student_id, "transition", iv.id, trigger, before, target, who, why,
                self.ruleset.ref, facts, detail,
            )
        )  # fmt: skip

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

    def _get(self, intervention_id: str) -> Intervention:
        try:
            return self.repository.get(intervention_id)
        except KeyError:
            raise WorkflowError(f"no intervention {intervention_id!r}") from None

    def start(self, intervention_id: str, *, on: dt.date, by: str) -> Intervention:
        """The owner starts the intervention (assigned to active).

        Raises:
            WorkflowError: There is no such intervention, or it is not in a state that can
                start (:class:`IllegalTransitionError`); nothing changes.
        """
        _date(on, "on")
        with self._unit():
            iv = self._get(intervention_id)
            self._fire(iv, "start", on, by, "started by its owner")
        return iv

    def check_in(
        self,
        intervention_id: str,
        *,
        on: dt.date,
        by: str,
        goal_met: bool | None = None,
        contact_type: str = "meeting",
        note: str = "",
        outcome: str | None = None,
    ) -> Intervention:
        """Record a check-in: back to active, the next follow-up scheduled on school days.

        Args:
            intervention_id: The intervention.
            on: The date of the check-in.
            by: Staff id of who checked in.
            goal_met: Whether the period's goal was met, in the owner's judgement.
            contact_type: One of :data:`CONTACT_TYPES`.
            note: Free text.
            outcome: Ed-Fi style effectiveness (``positive``, ``potentially_positive``,
                ``mixed``, ``no_discernible``, ``potentially_negative``, ``negative``).

        Raises:
            WorkflowError: No such intervention, an unknown contact type or outcome, a check-in
                dated before the intervention opened, or an intervention that has ended
                (:class:`IllegalTransitionError`); nothing changes.
        """
        _date(on, "on")
        iv = self._get(intervention_id)
        if contact_type not in CONTACT_TYPES:
            raise WorkflowError(
                f"unknown contact type {contact_type!r}; use one of {', '.join(CONTACT_TYPES)}"
            )
        if outcome is not None and outcome not in _OUTCOMES:
            raise WorkflowError(
                f"unknown outcome {outcome!r}; use one of {', '.join(sorted(_OUTCOMES))}"
            )
        if on < iv.opened_on:
            raise WorkflowError(
                f"a check-in on {on} predates intervention {iv.id}, opened on {iv.opened_on}"
            )
        with self._unit():
            self._check(iv, "check_in")
            self.repository.add_check_in(
                CheckIn(intervention_id, on, by, goal_met, contact_type, note, outcome)
            )
            spec = self.ruleset.interventions.get(iv.intervention)
            iv.next_follow_up = next_follow_up(
                spec.cadence if spec else None, on, self._days(iv.school_id)
            )
            iv.overdue = False
            self._fire(
                iv,
                "check_in",
                on,
                by,
                f"{contact_type} check-in{_VERDICT[goal_met]}",
                detail={
                    "goal_met": goal_met,
                    "contact_type": contact_type,
                    "note": note,
                    "outcome": outcome,
                    "next_follow_up": iv.next_follow_up,
                },
            )
        return iv

    def close(self, intervention_id: str, *, on: dt.date, by: str, reason: str) -> Intervention:
        """End an open intervention for a reason (withdrew, transferred, plan ended...).

        Raises:
            WorkflowError: No reason was given, there is no such intervention, or it has ended
                already (:class:`IllegalTransitionError`); nothing changes.
        """
        _date(on, "on")
        if not reason.strip():
            raise WorkflowError("closing an intervention needs a reason")
        with self._unit():
            iv = self._get(intervention_id)
            self._fire(iv, "close", on, by, reason)
        return iv

    def record_conference(
        self,
        student_id: str,
        kind: str,
        *,
        on: dt.date,
        by: str,
        outcome: str = "held",
        method: str | None = None,
        note: str = "",
    ) -> WorkflowEvent:
        """Document a conference (``parent_conference``, ``sart``...): evidence for legal steps.

        A conference is recorded as ``held`` (the default) or ``attempted``: a documented
        effort to hold it that did not bring the family in (EC 48262 asks for a "conscientious
        effort" to hold a parent conference before a pupil is declared a habitual truant). An
        attempt names its ``method`` (``letter``, ``call``, ``email``, ``home_visit``,
        ``in_person``...). A step's ``requires.conferences`` counts only held ones;
        ``requires.conferences_attempted`` counts attempts too.

        The kind and method are ids, as a rule set's legal steps name the conferences they
        require (``[a-z][a-z0-9_-]*``, at most 64 characters), so the history the engine builds
        from its records is always one the facts' ``History`` model accepts.

        Args:
            student_id: The student.
            kind: The conference kind.
            on: The date it was held or attempted.
            by: Staff id of who held or attempted it.
            outcome: ``held`` or ``attempted``.
            method: How it was held or attempted (needed for an attempt).
            note: Free text (what happened: no answer, letter returned...).

        Raises:
            WorkflowError: The kind or method is empty or not an id (the message shows it with
                :func:`repr`, so control characters in it are escaped), the outcome is unknown,
                or an attempt names no method; nothing is recorded.
        """
        if not isinstance(kind, str) or not kind.strip():
            raise WorkflowError("a conference needs a kind (parent_conference, sart...)")
        _date(on, "on")
        if len(kind) > _ID_MAX or not _ID.fullmatch(kind):
            raise WorkflowError(
                f"a conference kind is an id ([a-z][a-z0-9_-]*, at most {_ID_MAX} characters, "
                f"such as parent_conference or sart), not {kind!r}"
            )
        if outcome not in ("held", "attempted"):
            raise WorkflowError(f"a conference is 'held' or 'attempted', not {outcome!r}")
        if method is not None and (
            not isinstance(method, str) or len(method) > _ID_MAX or not _ID.fullmatch(method)
        ):
            raise WorkflowError(
                f"a conference method is an id (letter, call, email, home_visit, in_person...), "
                f"not {method!r}"
            )
        if outcome == "attempted" and method is None:
            raise WorkflowError(
                f"an attempted {kind} needs its method (letter, call, email, home_visit...)"
            )
        if not isinstance(note, str):
            raise WorkflowError(f"a conference note is text, not {type(note).__name__}")
        detail: dict[str, Any] = {"kind": kind, "outcome": outcome}
        if method is not None:
            detail["method"] = method
        if note:
            detail["note"] = note
        why = f"{kind} held" if outcome == "held" else f"{kind} attempted ({method})"
        return self._record(
            WorkflowEvent(0, on, student_id, "conference", who=by, why=why, detail=detail)
        )

    # --- legal ---------------------------------------------------------------------------------

    def with_history(
        self, facts: Mapping[str, Any], *, as_of: dt.date | None = None
    ) -> Mapping[str, Any]:
        """The facts with what the workflow documented added to their ``history``.

        The tier of the last decision recorded is added as ``previous_tier`` (unless the facts
        give one), so that a tier with ``stay_while`` keeps its students as the rule set says.

        Legal steps issued, interventions tried (their tier level, start, end, the last
        outcome recorded at a check-in and how many check-ins were recorded) and conferences
        held or attempted come from the workflow's records, so legal prerequisites are met only
        by what was documented here (or by the host). Given ``as_of``, the records are read as
        they stood that day (check-ins, outcomes, ends and withdrawals dated later are not
        seen).
        """
        return self._with_history(facts, self._recall(str(facts.get("student_id"))), as_of)

    def _with_history(
        self, facts: Mapping[str, Any], recall: _Recall, as_of: dt.date | None = None
    ) -> Mapping[str, Any]:
        if recall.decision is not None and facts.get("previous_tier") is None:
            # The tier of the last decision recorded, for tiers that say how they are left
            # (stay_while); a host's own previous_tier wins.
            facts = {**facts, "previous_tier": recall.decision[0]}
        sid = str(facts.get("student_id"))
        issued = self.repository.issued(sid)
        ivs = self.repository.for_student(sid)
        held = recall.conferences
        if not (issued or ivs or held):
            return facts
        host = facts.get("history") or {}
        if not isinstance(host, Mapping):
            return facts  # the evaluator reports a malformed history itself
        tried = []
        for t in support_tried(
            self.repository,
            sid,
            as_of=as_of,
            starts=recall.support,
            interventions=ivs,
            lifecycle=self.lifecycle,
        ):  # started and not withdrawn: the same reading as the packet and compliance report
            entry: dict[str, Any] = {
                "intervention": t.intervention,
                "tier_level": t.tier_level,
                "started_on": t.started_on,
                "check_ins": t.check_ins,
            }
            if t.ended_on is not None:
                entry["ended_on"] = t.ended_on
            if t.outcome:
                entry["outcome"] = t.outcome
            tried.append(entry)
        merged = dict(facts)
        merged["history"] = {
            "legal_steps": [
                *host.get("legal_steps", ()),
                *({"step": s, "issued_on": d} for s, d in issued.items()),
            ],
            "interventions": [*host.get("interventions", ()), *tried],
            "conferences": [*host.get("conferences", ()), *held],
        }
        return merged

    def issue_legal(
        self, student_id: str, step: str, *, on: dt.date, by: str, facts: Mapping[str, Any]
    ) -> WorkflowEvent:
        """Record that a legal step was issued: only in order, only when it is due.

        The rule set is evaluated on ``facts`` with the workflow's own records as history, so
        the step must be due: its condition holds, the steps before it were issued long enough
        ago, the supportive interventions and conferences it requires are documented, and the
        student is not exempt.

        Raises:
            WorkflowError: The facts are another student's, the step is unknown or already
                issued, or it is not due (the message names what is missing, or the
                exemption); nothing is recorded.
        """
        _date(on, "on")
        if str(facts.get("student_id")) != student_id:
            raise WorkflowError(f"the facts given are not student {student_id}'s")
        known = [s.id for s in self.ruleset.legal_steps]
        if step not in known:
            raise WorkflowError(f"no legal step {step!r}; steps: {', '.join(known) or 'none'}")
        year = self.ruleset.school_years.of(on)
        before = self.repository.issued(student_id).get(step)
        if before is not None and before >= year.start:
            raise WorkflowError(
                f"{step} was already issued to student {student_id} in school year {year} "
                f"(on {before})"
            )
        decision = self.ruleset.evaluate(self.with_history(facts, as_of=on), as_of=on)
        action = next((a for a in decision.legal_actions if a.step == step), None)
        if action is None:
            raise WorkflowError(
                f"{step} is not warranted for student {student_id} on {on}: its condition "
                "does not hold"
            )
        if action.status != "due":
            why = "; ".join(action.missing) if action.missing else "the student is exempt"
            raise WorkflowError(f"{step} cannot be issued to student {student_id}: {why}")
        detail: dict[str, Any] = {"step": step, "cites": list(action.cites)}
        label = f"{action.label} issued"
        since = _Trail.read(self.repository.events(student_id)).due_since.get(step)
        if since is not None and since >= self.ruleset.school_years.start_of(on):
            # Its aging, as the packet and the compliance report show it: when it came due,
            # how many school days it waited and, with a deadline, how late it went out.
            days = self._days(_school(facts))
            waited = days.between(since, on)
            detail |= {"due_since": since, "waited_school_days": waited}
            limit = self._step_spec(step).deadline_school_days
            if limit is not None:
                late = max(0, waited - limit)
                detail |= {"deadline": days.add(since, limit), "late_school_days": late}
                if late:
                    label += (
                        f" {late} school day{'s' if late > 1 else ''} late: due since {since}, "
                        f"deadline {detail['deadline']} ({limit} school days)"
                    )
        with self._unit():
            self.repository.record_issued(student_id, step, on)
            return self._record(
                WorkflowEvent(
                    0, on, student_id, "legal_issued", who=by, why=label,
                    ruleset=self.ruleset.ref, facts=self._snapshot(facts), detail=detail,
                )
            )  # fmt: skip

    def resolve_flag(
        self,
        student_id: str,
        step: str,
        *,
        on: dt.date,
        by: str,
        action: str,
        note: str = "",
    ) -> WorkflowEvent:
        """The owner resolves a flagged legal step: the letter rescinded, or the family notified.

        A step is flagged (a ``legal_flagged`` event) when corrected data removed the grounds
        it was issued on; the flag stays in the plan, the packet and the compliance report
        until it is resolved here, with one ``legal_flag_resolved`` event. A resolved flag is
        never raised again for the same issued step (see docs/legal.md).

        Args:
            student_id: The student.
            step: The legal step id.
            on: The date of the resolution.
            by: Staff id of who resolved it.
            action: ``rescinded`` (the letter was withdrawn) or ``notified`` (the family was
                told of the correction and the letter stands as a record).
            note: Free text.

        Raises:
            WorkflowError: An unknown action, no staff id, no open flag for the step, or a
                date before the flag; nothing is recorded.
        """
        _date(on, "on")
        if action not in FLAG_ACTIONS:
            raise WorkflowError(
                f"unknown action {action!r} for a flagged step; use one of "
                f"{', '.join(FLAG_ACTIONS)}"
            )
        if not isinstance(by, str) or not by.strip():
            raise WorkflowError("resolving a flag needs the staff id of who resolved it")
        trail = _Trail.read(self.repository.events(student_id))
        open_flags = [k for k in trail.flags if k[0] == step and k not in trail.resolved]
        if not open_flags:
            raise WorkflowError(f"student {student_id} has no open flag on legal step {step!r}")
        key = max(open_flags, key=lambda k: k[1])
        flagged = trail.flags[key]
        if on < flagged.at:
            raise WorkflowError(
                f"a resolution on {on} predates the flag on {step} of student {student_id}, "
                f"raised on {flagged.at}"
            )
        label = self._step_spec(step).label or step
        why = f"{label} issued on {key[1]} and flagged on {flagged.at}: {action}"
        return self._record(
            WorkflowEvent(
                0, on, student_id, "legal_flag_resolved", who=by,
                why=f"{why}; {note}" if note else why, ruleset=self.ruleset.ref,
                detail={"step": step, "issued_on": key[1], "action": action, "note": note},
            )
        )  # fmt: skip

    def _step_spec(self, step: str) -> LegalStepSpec:
        """The rule set's legal step ``step``."""
        for spec in self.ruleset.legal_steps:
            if spec.id == step:
                return spec
        raise WorkflowError(f"no legal step {step!r} in rule set {self.ruleset.id}")

    # --- runs ----------------------------------------------------------------------------------

    def run(self, as_of: dt.date, facts: Iterable[Mapping[str, Any]]) -> Plan:
        """Evaluate the playbook for a batch of students and act on the decisions.

        For each student: withdraw escalations that corrected data no longer supports, review
        open interventions whose review date came (goal met: met_goal; not met: escalate to the
        catalogue's next intervention), open the interventions the decision calls for that the
        student does not have open (nor ended within the cool-down), and report legal steps due
        or blocked (withdrawing any reported due that are no longer due). Then follow-ups are
        advanced as of the date (see :meth:`advance`).

        A student whose facts cannot be evaluated is reported in ``plan.rejected``; the batch
        goes on.

        Raises:
            WorkflowError: ``as_of`` is not a date.
        """
        plan = Plan(_date(as_of, "as_of"))
        for record in facts:
            with self._unit():  # a student's changes and their events: together or not at all
                try:
                    self._run_student(as_of, record, plan)
                except DataError as exc:
                    plan.rejected.append(exc)
        self._advance(as_of, plan)
        return plan

    def advance(self, now: dt.date) -> Plan:
        """Move missed follow-ups to follow_up_due; flag those past the grace period overdue.

        An active intervention whose follow-up date passed without a check-in moves to
        ``follow_up_due``; once ``now`` is more than ``grace_days`` school days past the
        follow-up date it is flagged ``overdue`` (one ``overdue`` event). Every open
        intervention whose follow-up date has come is listed in ``plan.due``.

        Raises:
            WorkflowError: ``now`` is not a date.
        """
        plan = Plan(_date(now, "now"))
        self._advance(now, plan)
        return plan

    def _advance(self, now: dt.date, plan: Plan) -> None:
        for iv in self.repository.open_interventions():
            if iv.next_follow_up is None or iv.next_follow_up > now:
                continue
            with self._unit():  # the change and its event together
                if iv.state == "active":
                    self._fire(
                        iv, "follow_up_due", now, "tierflow",
                        f"follow-up of {iv.next_follow_up} has no check-in",
                    )  # fmt: skip
                late = self._days(iv.school_id).add(iv.next_follow_up, self.grace_days)
                if now > late and not iv.overdue:
                    version = iv.version
                    iv.overdue = True
                    iv.version += 1
                    self.repository.save(iv, version)
                    self._record(
                        WorkflowEvent(
                            0, now, iv.student_id, "overdue", iv.id, who="tierflow",
                            why=f"follow-up of {iv.next_follow_up} is more than {self.grace_days} "
                            "school days late",
                        )
                    )  # fmt: skip
            plan.due.append(iv)

    def _run_student(self, as_of: dt.date, raw: Mapping[str, Any], plan: Plan) -> None:
        sid = str(raw.get("student_id"))
        recall = self._recall(sid)
        open_ivs = [iv for iv in self.repository.for_student(sid) if iv.state in OPEN_STATES]
        if open_ivs or recall.reported:
            snapshot = self._snapshot(raw)
            if self._rollover(as_of, sid, recall, snapshot, plan, open_ivs) | self._moved(
                as_of, sid, raw, snapshot, plan, recall, open_ivs
            ):
                recall = self._recall(sid)  # what the year's start or the move recorded counts
        facts = self._with_history(raw, recall, as_of)
        decision = self.ruleset.evaluate(facts, as_of=as_of)
        snapshot = self._snapshot(facts)
        last = self._record_decision(as_of, decision, snapshot, recall.decision)
        changes = plan.changes()
        self._withdraw(as_of, facts, snapshot, plan)
        self._review(as_of, facts, snapshot, plan)
        for assigned in decision.interventions:
            if self._blocks_opening(sid, assigned.id, as_of, facts, recall):
                continue
            reason = self._share(
                ("reason", decision.tier, assigned.assigned_by),
                f"{decision.tier}: assigned by {', '.join(assigned.assigned_by)}",
            )
            self._open(as_of, facts, snapshot, assigned.id, plan, reason)
        if plan.changes() != changes:
            # What this run documented (an intervention tried, one ended) is history the legal
            # ladder reads: decide again so a second run the same day finds nothing new.
            recall = self._recall(sid)  # what this run recorded (a withdrawal) counts now
            facts = self._with_history(raw, recall, as_of)
            decision = self.ruleset.evaluate(facts, as_of=as_of)
            self._record_decision(as_of, decision, snapshot, last)
        self._legal(as_of, sid, facts, snapshot, decision, recall, plan)

    def _record_decision(
        self,
        as_of: dt.date,
        decision: Decision,
        snapshot: Mapping[str, Any] | None,
        last: tuple[Any, ...] | None,
    ) -> tuple[Any, ...]:
        """Record the decision if it differs from the last one recorded; return its key."""
        key = _decision_key(decision)
        if key != last:
            self._record(
                WorkflowEvent(
                    0, as_of, decision.student_id, "decision",
                    why=f"{decision.tier}; rules fired: {', '.join(decision.rules) or 'none'}",
                    ruleset=self.ruleset.ref, facts=snapshot,
                    detail=self._share(
                        ("decision", repr(key)),
                        MappingProxyType(
                            {"tier": key[0], "interventions": key[1], "legal": key[2]}
                        ),
                    ),
                )
            )  # fmt: skip
        return key

    def _withdraw(
        self, as_of: dt.date, facts: Mapping[str, Any], snapshot: Any, plan: Plan
    ) -> None:
        """Withdraw open escalations whose reason no longer holds on the facts given now.

        An escalation was justified by a goal not met at a review. It is re-checked as of that
        review date, so attendance that improves *after* the review does not withdraw it (that
        would be flapping), while a correction of the days before the review does.
        """
        for iv in self.repository.for_student(str(facts.get("student_id"))):
            if iv.state not in OPEN_STATES or iv.escalated_from is None:
                continue
            before = self.repository.get(iv.escalated_from)
            if before.ended_on is None:
                continue
            if self.ruleset.goal_met(before.intervention, facts, as_of=before.ended_on):
                self._fire(
                    iv, "close", as_of, "tierflow",
                    f"{WITHDRAWN_WHY} the goal of {before.intervention} "
                    f"({before.id}) was met by its review on {before.ended_on}, so the "
                    "escalation is no longer supported", snapshot, {"withdrawn": WITHDRAWN},
                )  # fmt: skip
                plan.withdrawn.append(iv)

    def _judge(
        self, iv: Intervention, facts: Mapping[str, Any], as_of: dt.date
    ) -> tuple[bool | None, str]:
        """Whether ``iv``'s goal is met at review, and why in words.

        A measurable goal is evaluated on the facts; without one, the owner's judgement at the
        latest check-in that recorded one decides; with neither, the review cannot decide.
        """
        spec = self.ruleset.interventions.get(iv.intervention)
        met = self.ruleset.goal_met(iv.intervention, facts, as_of=as_of)
        if met is not None and spec is not None and spec.goal is not None:
            return met, f"goal {'met' if met else 'not met'} at review: {spec.goal.text}"
        judged = [c for c in self.repository.check_ins(iv.id) if c.goal_met is not None]
        if judged:
            last = judged[-1]
            verdict = "met" if last.goal_met else "not met"
            return last.goal_met, (
                f"no measurable goal; the latest check-in ({last.on}, {last.by}) says the goal "
                f"was {verdict}"
            )
        return None, "no measurable goal and no check-in judged the goal"

    def _review(self, as_of: dt.date, facts: Mapping[str, Any], snapshot: Any, plan: Plan) -> None:
        for iv in self.repository.for_student(str(facts.get("student_id"))):
            if iv.review_on is None or iv.review_on > as_of:
                continue
            if self.lifecycle.target("meet_goal", iv.state) is None:
                continue  # not started yet (or ended): reviewed once it is being worked
            met, why = self._judge(iv, facts, as_of)
            if met:
                self._fire(iv, "meet_goal", as_of, "tierflow", why, snapshot)
                plan.met_goal.append(iv)
            elif met is False and iv.escalates_to:
                self._fire(
                    iv, "escalate", as_of, "tierflow",
                    f"{why}; escalates to {iv.escalates_to}", snapshot,
                )  # fmt: skip
                plan.escalated.append(iv)
                if not self._has_open(iv.student_id, iv.escalates_to):
                    self._open(
                        as_of, facts, snapshot, iv.escalates_to, plan,
                        f"escalated from {iv.intervention} ({iv.id}): {why}", escalated_from=iv.id,
                    )  # fmt: skip
            else:
                spec = self.ruleset.interventions.get(iv.intervention)
                period = (spec.review_after_days if spec else None) or self.default_review_days
                version = iv.version
                iv.review_on = self._days(iv.school_id).add(as_of, period)
                iv.version += 1
                self.repository.save(iv, version)
                rest = "no escalation is defined" if met is False else "the review is extended"
                self._record(
                    WorkflowEvent(
                        0, as_of, iv.student_id, "reviewed", iv.id,
                        why=f"{why}; {rest}; next review {iv.review_on}",
                        ruleset=self.ruleset.ref, facts=snapshot,
                    )
                )  # fmt: skip

    # --- school years and moves -----------------------------------------------------------

    def _rollover(
        self,
        as_of: dt.date,
        sid: str,
        recall: _Recall,
        snapshot: Any,
        plan: Plan,
        open_ivs: list[Intervention],
    ) -> bool:
        """Apply the rule set's ``school_year.rollover`` once, when a new school year starts.

        Open interventions opened before the year's first day are carried into it (one
        ``rollover`` event lists them), closed with the year as the reason, or closed so this
        year's decisions open again what is still warranted (``restart``). Legal steps reported
        due last year and never issued are withdrawn: the ladder starts again this year. Return
        whether anything was recorded.
        """
        year = self.ruleset.school_years.of(as_of)
        if year.label in recall.rolled:
            return False
        old = [iv for iv in open_ivs if iv.opened_on < year.start]
        steps = sorted(s for s, on in recall.reported.items() if on < year.start)
        if not (old or steps):
            return False
        policy = self.ruleset.spec.school_year.rollover
        ended = f"school year {self.ruleset.school_years.previous(year)} ended"
        for step in steps:
            plan.legal_withdrawn.append((sid, step))
            self._record(
                WorkflowEvent(
                    0, as_of, sid, "legal_withdrawn",
                    why=f"{step} was reported due on {recall.reported[step]} and not issued; "
                    f"{ended}, and the ladder starts again in school year {year}",
                    ruleset=self.ruleset.ref, facts=snapshot,
                    detail={"step": step, "school_year": year.label},
                )
            )  # fmt: skip
        if policy != "carry":
            for iv in old:
                why = f"{ended}: the rule set closes open interventions at the year's start"
                if policy == "restart":
                    why += " and opens again this year what is still warranted"
                self._fire(
                    iv, "close", as_of, "tierflow", why, snapshot,
                    {"rollover": policy, "school_year": year.label},
                )  # fmt: skip
                plan.rolled_over.append(iv)
        else:
            plan.rolled_over.extend(old)
        self._record(
            WorkflowEvent(
                0, as_of, sid, "rollover",
                why=f"school year {year} started: {len(old)} open intervention(s) "
                + {"carry": "carried into it", "close": "closed", "restart": "closed to restart"}[
                    policy
                ]
                + (f"; {len(steps)} unissued legal step(s) withdrawn" if steps else ""),
                ruleset=self.ruleset.ref, facts=snapshot,
                detail={
                    "year": year.label, "rollover": policy,
                    "interventions": [iv.id for iv in old], "steps": steps,
                },
            )
        )  # fmt: skip
        return True

    def _moved(
        self,
        as_of: dt.date,
        sid: str,
        facts: Mapping[str, Any],
        snapshot: Any,
        plan: Plan,
        recall: _Recall,
        open_ivs: list[Intervention],
    ) -> bool:
        """Move open casework with a student who changed school, or end it when they left.

        A student whose facts name another school than an open intervention's is a transfer
        within the district: by the rule set's ``transfers.cases`` the intervention is
        reassigned to someone of its role at the new school (unassigned when nobody there has
        room) or keeps its owner; either way it now belongs to the new school and a
        ``transferred`` event says from where, to where and who owns it. A student whose facts
        say ``enrolled: false`` left the district: by ``transfers.on_leaving`` open
        interventions are closed with that reason or held open (one ``left`` event). Return
        whether anything was recorded.
        """
        rules = self.ruleset.spec.transfers
        school = facts.get("school_id")
        new_school = None if school is None else str(school)
        if not open_ivs:
            return False
        if facts.get("enrolled") is False:
            if rules.on_leaving == "hold":
                if all(iv.id in recall.held for iv in open_ivs):
                    return False
                self._record(
                    WorkflowEvent(
                        0, as_of, sid, "left",
                        why=f"no longer enrolled as of {as_of}: {len(open_ivs)} open "
                        "intervention(s) held for their owners to decide",
                        ruleset=self.ruleset.ref, facts=snapshot,
                        detail={"interventions": [iv.id for iv in open_ivs], "action": "hold"},
                    )
                )  # fmt: skip
                return True
            for iv in open_ivs:
                self._fire(
                    iv, "close", as_of, "tierflow",
                    f"the student is no longer enrolled as of {as_of} (left the district)",
                    snapshot, {"left": True},
                )  # fmt: skip
                plan.left.append(iv)
            return True
        moved = False
        for iv in open_ivs:
            if new_school is None or iv.school_id is None or iv.school_id == new_school:
                continue
            before_owner, before_school = iv.owner, iv.school_id
            owner = before_owner
            if rules.cases == "reassign":
                self.roster.release(before_owner)
                owner = self.roster.assign(new_school, iv.owner_role)
            version = iv.version
            iv.school_id, iv.owner = new_school, owner
            iv.version += 1
            self.repository.save(iv, version)
            who = owner or "nobody (unassigned)"
            self._record(
                WorkflowEvent(
                    0, as_of, sid, "transferred", iv.id,
                    why=f"the student moved from school {before_school} to {new_school}; "
                    + (
                        f"reassigned from {before_owner or 'nobody'} to {who} ({iv.owner_role})"
                        if rules.cases == "reassign"
                        else f"kept with {before_owner or 'nobody'} as the rule set says"
                    ),
                    ruleset=self.ruleset.ref, facts=snapshot,
                    detail={
                        "from_school": before_school, "to_school": new_school,
                        "from_owner": before_owner, "to_owner": owner, "role": iv.owner_role,
                    },
                )
            )  # fmt: skip
            plan.transferred.append(iv)
            if owner is None:
                why = self.roster.why_unassigned(new_school, iv.owner_role)
                plan.unassigned.append(Unassigned(sid, iv.id, iv.owner_role, new_school, why))
            moved = True
        return moved

    def _has_open(self, student_id: str, intervention: str) -> bool:
        return any(
            iv.intervention == intervention and iv.state in OPEN_STATES
            for iv in self.repository.for_student(student_id)
        )

    def _blocks_opening(
        self,
        student_id: str,
        intervention: str,
        as_of: dt.date,
        facts: Mapping[str, Any],
        recall: _Recall,
    ) -> bool:
        """Whether a decision calling for ``intervention`` must not open it (no flapping).

        Only the student's latest intervention of that kind matters. It blocks while it is
        open, and for ``cooldown_days`` school days after it ended. After that, one that was
        escalated blocks while what it escalated to is open; one that met its goal blocks while
        its measurable goal still holds (or, without one, until the decisions since it ended
        stopped calling for it at least once: the student left the tier and came back); one
        that was closed no longer blocks.
        """
        latest = None
        for iv in self.repository.for_student(student_id):
            if iv.intervention == intervention:
                latest = iv
        if latest is None:
            return False
        if latest.state in OPEN_STATES or latest.ended_on is None:
            return True
        if latest.id in recall.restarted:
            return False  # closed at the year's start so that this year decides afresh
        ended = latest.ended_on
        if self._days(latest.school_id).add(ended, self.cooldown_days) > as_of:
            return True
        if latest.state == "escalated":
            return any(
                iv.escalated_from == latest.id and iv.state in OPEN_STATES
                for iv in self.repository.for_student(student_id)
            )
        if latest.state == "met_goal":
            holds = self.ruleset.goal_met(intervention, facts, as_of=as_of)
            if holds is not None:
                return holds
            return not any(
                on >= ended and intervention not in called for on, called in recall.decisions
            )
        return False

    def _open(
        self,
        as_of: dt.date,
        facts: Mapping[str, Any],
        snapshot: Any,
        catalogue_id: str,
        plan: Plan,
        reason: str,
        escalated_from: str | None = None,
    ) -> Intervention:
        spec = self.ruleset.interventions[catalogue_id]
        sid = str(facts.get("student_id"))
        school = facts.get("school_id")
        school_id = None if school is None else str(school)
        days = self._days(school_id)
        owner = self.roster.assign(school_id, spec.owner)
        iv = Intervention(
            self.repository.new_id(),
            sid,
            school_id,
            spec.id,
            self._levels.get(spec.tier, 0),
            spec.owner,
            owner,
            self.lifecycle.initial,
            as_of,
            next_follow_up(spec.cadence, as_of, days),
            days.add(as_of, spec.review_after_days) if spec.review_after_days else None,
            spec.escalates_to,
            escalated_from,
            reason,
        )
        self.repository.add(iv)
        plan.opened.append(iv)
        self._record(
            WorkflowEvent(
                0, as_of, sid, "opened", iv.id, to_state=iv.state, why=reason,
                ruleset=self.ruleset.ref, facts=snapshot,
                detail=self._share(
                    ("opened", spec.id, owner),
                    MappingProxyType({"intervention": spec.id, "owner": owner, "role": spec.owner}),
                ),
            )
        )  # fmt: skip
        if owner is None:
            why = self.roster.why_unassigned(school_id, spec.owner)
            plan.unassigned.append(Unassigned(sid, iv.id, spec.owner, school_id, why))
        return iv

    def _legal(
        self,
        as_of: dt.date,
        sid: str,
        facts: Mapping[str, Any],
        snapshot: Any,
        decision: Decision,
        recall: _Recall,
        plan: Plan,
    ) -> None:
        now = {a.step: a for a in decision.legal_actions}
        year = self.ruleset.school_years.start_of(as_of)
        trail: list[_Trail] = []  # read once, and only if needed
        for action in decision.legal_actions:
            if action.status == "due":
                plan.legal_due.append((sid, action))
                limit = self._step_spec(action.step).deadline_school_days
                since = recall.reported.get(action.step)
                if since is None:
                    since = as_of
                    detail: dict[str, Any] = {"step": action.step}
                    why = f"{action.label} is due"
                    if limit is not None:
                        school = _school(facts)
                        deadline = self._days(school).add(as_of, limit)
                        detail |= {"deadline": deadline, "deadline_school_days": limit}
                        if school is not None:  # whose calendar the packet counts days on
                            detail["school_id"] = school
                        why += f"; to be issued by {deadline} ({limit} school days)"
                    self._record(
                        WorkflowEvent(
                            0, as_of, sid, "legal_due", why=why,
                            ruleset=self.ruleset.ref, facts=snapshot, detail=detail,
                        )
                    )  # fmt: skip
                if limit is not None:
                    # The clock runs in this school year: a step still due from last year
                    # (no new legal_due was recorded) counts from the year's first day.
                    self._overdue(as_of, sid, facts, action, max(since, year), limit, plan, trail)
            elif action.status == "blocked":
                plan.legal_blocked.append((sid, action))
        for step, reported_on in sorted(recall.reported.items()):
            current = now.get(step)
            if current is not None and current.status == "due":
                continue
            plan.legal_withdrawn.append((sid, step))
            self._record(
                WorkflowEvent(
                    0, as_of, sid, "legal_withdrawn",
                    why=f"{step} was reported due on {reported_on} and not issued; "
                    + self._why_not_due(step, current, facts, reported_on),
                    ruleset=self.ruleset.ref, facts=snapshot, detail={"step": step},
                )
            )  # fmt: skip
        self._flag(as_of, sid, facts, snapshot, year, plan, trail)

    def _trail(self, sid: str, trail: list[_Trail]) -> _Trail:
        """The student's legal trail, read from the timeline the first time it is needed."""
        if not trail:
            trail.append(_Trail.read(self.repository.events(sid)))
        return trail[0]

    def _overdue(
        self,
        as_of: dt.date,
        sid: str,
        facts: Mapping[str, Any],
        action: LegalAction,
        since: dt.date,
        limit: int,
        plan: Plan,
        trail: list[_Trail],
    ) -> None:
        """Report a due step not issued within ``limit`` school days of ``since`` overdue.

        It is overdue once more than ``limit`` school days passed after the day it came due
        (that day not counted, as TEC 25.0951's "within 10 school days of" the 10th absence):
        listed in the plan at every run, and one ``legal_overdue`` event for each time it
        came due.
        """
        days = self._days(_school(facts))
        waited = days.between(since, as_of)
        if waited <= limit:
            return
        deadline = days.add(since, limit)
        late = waited - limit
        plan.legal_overdue.append(LegalOverdue(sid, action.step, since, deadline, late))
        if (action.step, since) in self._trail(sid, trail).overdue:
            return
        self._trail(sid, trail).overdue.add((action.step, since))
        self._record(
            WorkflowEvent(
                0, as_of, sid, "legal_overdue",
                why=f"{action.label} has been due since {since} and was not issued by its "
                f"deadline of {deadline} ({limit} school days); {late} school "
                f"day{'s' if late > 1 else ''} late",
                ruleset=self.ruleset.ref,
                detail={"step": action.step, "due_since": since, "deadline": deadline,
                        "school_days_late": late},
            )
        )  # fmt: skip

    def _flag(
        self,
        as_of: dt.date,
        sid: str,
        facts: Mapping[str, Any],
        snapshot: Any,
        year: dt.date,
        plan: Plan,
        trail: list[_Trail],
    ) -> None:
        """Flag each step issued this school year whose condition no longer holds.

        The condition is read on the facts given now, as of the day the step was issued: the
        counts a legal step compares are cumulative, so with later absences added they can
        only be higher than on that day, and a count below the step's threshold means a
        back-dated correction removed absences it was issued on. One ``legal_flagged`` event
        for each issued step, ever; the plan lists it until :meth:`resolve_flag` resolves it.
        """
        steps = issued_steps(facts)
        if not steps:
            return
        known = {s.id for s in self.ruleset.legal_steps}
        for issued in steps:
            step, on = issued.step, issued.issued_on
            if step not in known or not year <= on <= as_of:
                continue
            if self.ruleset.step_warranted(step, facts, as_of=on, explain=False)[0]:
                continue
            found = self._trail(sid, trail)
            key = (step, on)
            if key in found.resolved:
                continue
            flagged = found.flags.get(key)
            if flagged is None:
                _, because = self.ruleset.step_warranted(step, facts, as_of=on)
                owner = next(
                    (
                        ev.who
                        for ev in self.repository.events(sid)
                        if ev.kind == "legal_issued"
                        and ev.detail is not None
                        and ev.detail.get("step") == step
                        and ev.at == on
                    ),
                    "",
                )
                label = self._step_spec(step).label or step
                why = f"{because} after corrections"
                flagged = found.flags[key] = self._record(
                    WorkflowEvent(
                        0, as_of, sid, "legal_flagged", who="tierflow",
                        why=f"{label} was issued on {on} on grounds corrected data no longer "
                        f"shows ({why}): rescind it or notify the family",
                        ruleset=self.ruleset.ref, facts=snapshot,
                        detail={"step": step, "issued_on": on, "why": why, "owner": owner},
                    )
                )  # fmt: skip
            d = flagged.detail or {}
            plan.legal_flagged.append(
                LegalFlag(sid, step, on, str(d.get("why", "")), str(d.get("owner", "")), flagged.at)
            )

    def _why_not_due(
        self, step: str, current: LegalAction | None, facts: Mapping[str, Any], since: dt.date
    ) -> str:
        if current is not None and current.status == "exempt":
            return "the student is now exempt"
        if current is not None:
            return f"it is now blocked: {'; '.join(current.missing)}"
        then = self.ruleset.evaluate(facts, as_of=since)
        if any(a.step == step and a.status == "due" for a in then.legal_actions):
            return f"its condition no longer holds as of {then.as_of}"
        return f"on corrected data its condition did not hold on {since} either"
