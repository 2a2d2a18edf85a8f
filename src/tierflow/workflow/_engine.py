"""The engine a host embeds: decisions become tracked interventions that nobody forgets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tierflow.attendance import SchoolCalendar
from tierflow.errors import DataError, WorkflowError
from tierflow.evaluate import CompiledRuleset, Decision
from tierflow.workflow._machine import LIFECYCLE, OPEN_STATES, TERMINAL_STATES, Lifecycle
from tierflow.workflow._records import (
    CONTACT_TYPES,
    CheckIn,
    Intervention,
    Plan,
    Unassigned,
    WorkflowEvent,
)
from tierflow.workflow._repository import InMemoryRepository, Repository
from tierflow.workflow._roster import Roster
from tierflow.workflow._schedule import SchoolDays, next_follow_up

__all__ = ["Engine"]

Hook = Callable[[WorkflowEvent], None]
_BULKY = frozenset({"history", "attendance_log", "school_days", "provenance"})
_OUTCOMES = frozenset(
    {"positive", "potentially_positive", "mixed", "no_discernible", "potentially_negative",
     "negative"}
)  # fmt: skip


class Engine:
    """Runs a playbook over time, keeping one event per accepted change.

    It opens interventions, schedules follow-ups, reviews goals, escalates and tracks the legal
    ladder.

    Time is always passed in; nothing sleeps or runs in the background. Runs are idempotent:
    running the same day twice opens nothing new and records nothing new.

    No flapping: a decision only ever *opens* interventions. An open intervention ends by its
    goal (met at review), by escalation (goal not met at review), by an explicit close, or by a
    correction of the data it was opened on. A student hovering around a threshold therefore
    keeps the interventions already opened, and an intervention that ended is not reopened for
    the same student until ``cooldown_days`` school days have passed.

    Args:
        ruleset: The compiled playbook.
        repository: Where records live (default: in memory).
        roster: Staff by school and role, with caseload limits (default: nobody; every
            opening is reported unassigned).
        calendars: School calendars by school id (follow-ups and reviews land on school days;
            Monday to Friday for a school without one).
        lifecycle: The state machine definition (default: :data:`LIFECYCLE`).
        grace_days: School days after a missed follow-up before it counts as overdue.
        cooldown_days: School days after an intervention ended before the same one can open
            again for the student.
    """

    def __init__(
        self,
        ruleset: CompiledRuleset,
        *,
        repository: Repository | None = None,
        roster: Roster | None = None,
        calendars: Mapping[str, SchoolCalendar] | None = None,
        lifecycle: Lifecycle = LIFECYCLE,
        grace_days: int = 2,
        cooldown_days: int = 10,
    ) -> None:
        self.ruleset = ruleset
        self.repository: Repository = repository or InMemoryRepository()
        self.roster = roster or Roster()
        self.calendars = dict(calendars or {})
        self.lifecycle = lifecycle
        self.grace_days = grace_days
        self.cooldown_days = cooldown_days
        self._hooks: list[Hook] = []
        self._levels = {t.id: t.level for t in ruleset.tiers}
        self._last_decision: dict[str, tuple[Any, ...]] = {}
        self._legal_reported: dict[str, set[str]] = {}
        self._digest: dict[str, str] = {}
        self._conferences: dict[str, list[dict[str, Any]]] = {}
        for iv in self.repository.open_interventions():  # a reopened store: count caseloads
            if iv.owner is not None:
                self.roster.load[iv.owner] += 1

    # --- hooks and reading --------------------------------------------------------------------

    def subscribe(self, hook: Hook) -> None:
        """Call ``hook(event)`` after every event is recorded (to message, create a task...)."""
        self._hooks.append(hook)

    def timeline(self, student_id: str) -> list[WorkflowEvent]:
        """Everything that happened for a student, in order.

        Decisions, openings, transitions, check-ins, reviews, conferences and legal steps.
        """
        return self.repository.events(student_id)

    def interventions(self, student_id: str) -> list[Intervention]:
        """A student's interventions, oldest first."""
        return self.repository.for_student(student_id)

    def _days(self, school_id: str | None) -> SchoolDays:
        return SchoolDays(self.calendars.get(school_id or ""))

    def _record(self, event: WorkflowEvent) -> WorkflowEvent:
        stored = self.repository.append(event)
        for hook in self._hooks:
            hook(stored)
        return stored

    def _snapshot(self, facts: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if facts is None:
            return None
        names = self.ruleset.read_facts
        snap = {k: facts.get(k) for k in names if k not in _BULKY and facts.get(k) is not None}
        provenance = facts.get("provenance")
        if isinstance(provenance, Mapping) and "events_sha256" in provenance:
            snap["events_sha256"] = provenance["events_sha256"]
        return snap

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
        target = self.lifecycle.target(trigger, iv.state)
        if target is None:
            allowed = [t for t in self.lifecycle.triggers if self.lifecycle.target(t, iv.state)]
            raise WorkflowError(
                f"intervention {iv.id} ({iv.intervention}, student {iv.student_id}) is "
                f"{iv.state}: {trigger!r} is not allowed there; allowed: "
                f"{', '.join(allowed) if allowed else 'nothing (it has ended)'}"
            )
        before, version = iv.state, iv.version
        iv.state = target
        iv.version += 1
        if target in TERMINAL_STATES:
            iv.ended_on = on
            self.roster.release(iv.owner)
        self.repository.save(iv, version)
        return self._record(
            WorkflowEvent(
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
                self._snapshot(facts),
                detail,
            )
        )

    def _get(self, intervention_id: str) -> Intervention:
        try:
            return self.repository.get(intervention_id)
        except KeyError:
            raise WorkflowError(f"no intervention {intervention_id!r}") from None

    def start(self, intervention_id: str, *, on: dt.date, by: str) -> Intervention:
        """The owner starts the intervention (assigned to active).

        Raises:
            WorkflowError: It is not in a state that can start; nothing changes.
        """
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
        """Record a check-in: back to active, next follow-up scheduled on school days.

        Raises:
            WorkflowError: The intervention has ended, or the contact type or outcome is unknown;
                nothing changes.
        """
        iv = self._get(intervention_id)
        if contact_type not in CONTACT_TYPES:
            raise WorkflowError(
                f"unknown contact type {contact_type!r}; use one of {', '.join(CONTACT_TYPES)}"
            )
        if outcome is not None and outcome not in _OUTCOMES:
            raise WorkflowError(
                f"unknown outcome {outcome!r}; use one of {', '.join(sorted(_OUTCOMES))}"
            )
        if self.lifecycle.target("check_in", iv.state) is None:
            self._fire(iv, "check_in", on, by, "")  # raises, naming the state
        check = CheckIn(intervention_id, on, by, goal_met, contact_type, note, outcome)
        self.repository.add_check_in(check)
        spec = self.ruleset.interventions.get(iv.intervention)
        iv.next_follow_up = next_follow_up(
            spec.cadence if spec else None, on, self._days(iv.school_id)
        )
        iv.overdue = False
        goal = {True: "goal met this period", False: "goal not met this period", None: ""}
        self._fire(
            iv,
            "check_in",
            on,
            by,
            f"{contact_type} check-in" + (f"; {goal[goal_met]}" if goal_met is not None else ""),
            detail={
                "goal_met": goal_met,
                "contact_type": contact_type,
                "note": note,
                "outcome": outcome,
                "next_follow_up": iv.next_follow_up.isoformat() if iv.next_follow_up else None,
            },
        )
        return iv

    def close(self, intervention_id: str, *, on: dt.date, by: str, reason: str) -> Intervention:
        """End an open intervention for a reason (withdrew, transferred, plan ended...).

        Raises:
            WorkflowError: It has already ended, or no reason was given; nothing changes.
        """
        if not reason.strip():
            raise WorkflowError("closing an intervention needs a reason")
        iv = self._get(intervention_id)
        self._fire(iv, "close", on, by, reason)
        return iv

    def record_conference(self, student_id: str, kind: str, *, on: dt.date, by: str) -> None:
        """Document a conference (``parent_conference``, ``sart``...): evidence for legal steps."""
        self._conferences.setdefault(student_id, []).append({"kind": kind, "held_on": on})
        self._record(
            WorkflowEvent(
                0, on, student_id, "conference", who=by, why=f"{kind} held", detail={"kind": kind}
            )
        )

    # --- legal ---------------------------------------------------------------------------------

    def with_history(self, facts: Mapping[str, Any]) -> Mapping[str, Any]:
        """The facts with what the workflow documented added to their ``history``.

        Legal steps issued, interventions tried (their tier level, start, end and the last
        outcome recorded at a check-in) and conferences held come from the workflow's records,
        so legal prerequisites are met only by what was documented here (or by the host).
        """
        sid = str(facts.get("student_id"))
        issued = self.repository.issued(sid)
        ivs = self.repository.for_student(sid)
        held = self._conferences.get(sid, [])
        if not (issued or ivs or held):
            return facts
        host = facts.get("history") or {}
        if not isinstance(host, Mapping):
            return facts  # the evaluator reports a malformed history itself
        tried = []
        for iv in ivs:
            outcomes = [c.outcome for c in self.repository.check_ins(iv.id) if c.outcome]
            entry: dict[str, Any] = {
                "intervention": iv.intervention,
                "tier_level": iv.tier_level,
                "started_on": iv.opened_on,
            }
            if iv.ended_on is not None:
                entry["ended_on"] = iv.ended_on
            if outcomes:
                entry["outcome"] = outcomes[-1]
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

        Raises:
            WorkflowError: The step is not due (its condition does not hold, it was issued
                already, prerequisites are missing: named, or the student is exempt); nothing
                is recorded.
        """
        if str(facts.get("student_id")) != student_id:
            raise WorkflowError(f"the facts given are not student {student_id}'s")
        decision = self.ruleset.evaluate(self.with_history(facts), as_of=on)
        action = next((a for a in decision.legal_actions if a.step == step), None)
        if action is None:
            known = [s.id for s in self.ruleset.legal_steps]
            if step not in known:
                raise WorkflowError(f"no legal step {step!r}; steps: {', '.join(known)}")
            if step in self.repository.issued(student_id):
                raise WorkflowError(f"{step} was already issued to student {student_id}")
            raise WorkflowError(
                f"{step} is not warranted for student {student_id} on {on}: its condition "
                "does not hold"
            )
        if action.status != "due":
            why = "; ".join(action.missing) if action.missing else "the student is exempt"
            raise WorkflowError(f"{step} cannot be issued to student {student_id}: {why}")
        self.repository.record_issued(student_id, step, on)
        self._legal_reported.get(student_id, set()).discard(step)
        return self._record(
            WorkflowEvent(
                0,
                on,
                student_id,
                "legal_issued",
                who=by,
                why=f"{action.label} issued",
                ruleset=self.ruleset.ref,
                facts=self._snapshot(facts),
                detail={"step": step, "cites": list(action.cites)},
            )
        )

    # --- runs ----------------------------------------------------------------------------------

    def run(self, as_of: dt.date, facts: Iterable[Mapping[str, Any]]) -> Plan:
        """Evaluate the playbook for a batch of students and act on the decisions.

        For each student: review open interventions whose review date came (goal met: met_goal;
        not met: escalate to the catalogue's next intervention), withdraw what corrected data no
        longer supports, open the interventions the decision calls for that are not open yet,
        and report legal steps due or blocked. Then follow-ups are advanced as of the date.
        """
        plan = Plan(as_of)
        for record in facts:
            try:
                self._run_student(as_of, record, plan)
            except DataError as exc:
                plan.rejected.append(exc)
        self._advance(as_of, plan)
        return plan

    def advance(self, now: dt.date) -> Plan:
        """Move missed follow-ups to follow_up_due; flag those past the grace period overdue.

        An active intervention whose follow-up date passed without a check-in moves to
        ``follow_up_due``; one that stays there more than ``grace_days`` school days is marked
        ``overdue``. Every intervention with a follow-up due is listed in the plan.
        """
        plan = Plan(now)
        self._advance(now, plan)
        return plan

    def _advance(self, now: dt.date, plan: Plan) -> None:
        for iv in self.repository.open_interventions():
            if iv.next_follow_up is None or iv.next_follow_up > now:
                continue
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
            plan.due.append(iv)

    def _run_student(self, as_of: dt.date, facts: Mapping[str, Any], plan: Plan) -> None:
        sid = str(facts.get("student_id"))
        facts = self.with_history(facts)
        decision = self.ruleset.evaluate(facts, as_of=as_of)
        self._record_decision(sid, as_of, decision, facts)
        corrected = self._corrected(sid, facts)
        self._review(as_of, facts, decision, plan)
        if corrected:
            self._withdraw(as_of, facts, decision, plan)
        self._open(as_of, facts, decision, plan)
        self._legal(as_of, sid, facts, decision, plan, corrected)

    def _record_decision(
        self, sid: str, as_of: dt.date, decision: Decision, facts: Mapping[str, Any]
    ) -> None:
        key = (
            decision.tier,
            tuple(i.id for i in decision.interventions),
            tuple((a.step, a.status) for a in decision.legal_actions),
        )
        if self._last_decision.get(sid) == key:
            return
        self._last_decision[sid] = key
        self._record(
            WorkflowEvent(
                0,
                as_of,
                sid,
                "decision",
                why=f"tier {decision.tier}; rules fired: {', '.join(decision.rules) or 'none'}",
                ruleset=self.ruleset.ref,
                facts=self._snapshot(facts),
                detail={
                    "tier": decision.tier,
                    "interventions": list(key[1]),
                    "legal": [f"{s}:{st}" for s, st in key[2]],
                },
            )
        )

    def _corrected(self, sid: str, facts: Mapping[str, Any]) -> bool:
        provenance = facts.get("provenance")
        digest = provenance.get("events_sha256") if isinstance(provenance, Mapping) else None
        if not isinstance(digest, str):
            return False
        before = self._digest.get(sid)
        self._digest[sid] = digest
        return before is not None and before != digest

    def _review(
        self, as_of: dt.date, facts: Mapping[str, Any], decision: Decision, plan: Plan
    ) -> None:
        for iv in self.repository.for_student(decision.student_id):
            if iv.state not in ("active", "follow_up_due") or iv.review_on is None:
                continue
            if iv.review_on > as_of:
                continue
            spec = self.ruleset.interventions.get(iv.intervention)
            met = self.ruleset.goal_met(iv.intervention, facts, as_of=as_of)
            goal = spec.goal.text if spec and spec.goal else "no measurable goal"
            if met:
                self._fire(iv, "meet_goal", as_of, "tierflow", f"goal met at review: {goal}", facts)
                plan.met_goal.append(iv)
            elif met is False and iv.escalates_to:
                self._fire(
                    iv, "escalate", as_of, "tierflow",
                    f"goal not met by review on {iv.review_on} ({goal}); escalates to "
                    f"{iv.escalates_to}", facts,
                )  # fmt: skip
                plan.escalated.append(iv)
                successor = self.ruleset.interventions.get(iv.escalates_to)
                if successor is not None and not self._has_open(iv.student_id, successor.id):
                    self._open_one(
                        as_of, facts, successor.id, plan,
                        f"escalated from {iv.intervention} ({iv.id}): goal not met by review",
                        escalated_from=iv.id,
                    )  # fmt: skip
            else:
                spec_days = spec.review_after_days if spec and spec.review_after_days else 20
                version = iv.version
                iv.review_on = self._days(iv.school_id).add(as_of, spec_days)
                iv.version += 1
                self.repository.save(iv, version)
                why = (
                    "goal not met; no escalation is defined"
                    if met is False
                    else "no measurable goal to review"
                )
                self._record(
                    WorkflowEvent(
                        0, as_of, iv.student_id, "reviewed", iv.id,
                        why=f"{why}; next review {iv.review_on}",
                        ruleset=self.ruleset.ref, facts=self._snapshot(facts),
                    )
                )  # fmt: skip

    def _withdraw(
        self, as_of: dt.date, facts: Mapping[str, Any], decision: Decision, plan: Plan
    ) -> None:
        for iv in self.repository.for_student(decision.student_id):
            if (
                iv.state in OPEN_STATES
                and iv.escalated_from
                and iv.tier_level > decision.tier_level
            ):
                self._fire(
                    iv, "close", as_of, "tierflow",
                    f"withdrawn: corrected attendance data puts the student in {decision.tier}, "
                    "which no longer supports this escalation", facts,
                )  # fmt: skip
                plan.withdrawn.append(iv)

    def _has_open(self, student_id: str, intervention: str) -> bool:
        return any(
            iv.intervention == intervention and iv.state in OPEN_STATES
            for iv in self.repository.for_student(student_id)
        )

    def _cooling_down(self, student_id: str, intervention: str, as_of: dt.date) -> bool:
        for iv in self.repository.for_student(student_id):
            if (
                iv.intervention == intervention
                and iv.ended_on is not None
                and self._days(iv.school_id).add(iv.ended_on, self.cooldown_days) > as_of
            ):
                return True
        return False

    def _open(
        self, as_of: dt.date, facts: Mapping[str, Any], decision: Decision, plan: Plan
    ) -> None:
        for assigned in decision.interventions:
            if self._has_open(decision.student_id, assigned.id):
                continue
            if self._cooling_down(decision.student_id, assigned.id, as_of):
                continue
            self._open_one(
                as_of, facts, assigned.id, plan, f"assigned by {', '.join(assigned.assigned_by)}"
            )

    def _open_one(
        self,
        as_of: dt.date,
        facts: Mapping[str, Any],
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
                ruleset=self.ruleset.ref, facts=self._snapshot(facts),
                detail={"intervention": spec.id, "owner": owner, "role": spec.owner},
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
        decision: Decision,
        plan: Plan,
        corrected: bool,
    ) -> None:
        reported = self._legal_reported.setdefault(sid, set())
        due_now = set()
        for action in decision.legal_actions:
            if action.status == "due":
                plan.legal_due.append((sid, action))
                due_now.add(action.step)
                if action.step not in reported:
                    reported.add(action.step)
                    self._record(
                        WorkflowEvent(
                            0, as_of, sid, "legal_due", why=f"{action.label} is due",
                            ruleset=self.ruleset.ref, facts=self._snapshot(facts),
                            detail={"step": action.step},
                        )
                    )  # fmt: skip
            elif action.status == "blocked":
                plan.legal_blocked.append((sid, action))
        for step in sorted(reported - due_now):
            reported.discard(step)
            plan.legal_withdrawn.append((sid, step))
            cause = "corrected attendance data" if corrected else "the latest data"
            self._record(
                WorkflowEvent(
                    0, as_of, sid, "legal_withdrawn",
                    why=f"{step} is no longer due on {cause}; it had not been issued",
                    ruleset=self.ruleset.ref, facts=self._snapshot(facts), detail={"step": step},
                )
            )  # fmt: skip
