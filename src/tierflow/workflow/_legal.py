"""The legal ladder in the workflow: steps due, overdue, issued, withdrawn and flagged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tierflow.errors import WorkflowError
from tierflow.evaluate import Decision, LegalAction
from tierflow.facts._read import issued_steps
from tierflow.workflow._core import Core, Recall, as_date, school_of
from tierflow.workflow._records import LegalFlag, LegalOverdue, Plan, WorkflowEvent
from tierflow.workflow._tried import support_tried

__all__ = ["FLAG_ACTIONS", "LegalLadder", "Trail"]

FLAG_ACTIONS = ("rescinded", "notified")
"""How the owner of a flagged legal step resolves it (:meth:`Engine.resolve_flag`)."""


@dataclass(slots=True)
class Trail:
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
    def read(cls, events: Iterable[WorkflowEvent]) -> Trail:
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


class LegalLadder(Core):
    """The engine's part that documents legal steps and reads the workflow's records as history."""

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
        self, facts: Mapping[str, Any], recall: Recall, as_of: dt.date | None = None
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
        as_date(on, "on")
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
        since = Trail.read(self.repository.events(student_id)).due_since.get(step)
        if since is not None and since >= self.ruleset.school_years.start_of(on):
            # Its aging, as the packet and the compliance report show it: when it came due,
            # how many school days it waited and, with a deadline, how late it went out.
            days = self._days(school_of(facts))
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
                    0,
                    on,
                    student_id,
                    "legal_issued",
                    who=by,
                    why=label,
                    ruleset=self.ruleset.ref,
                    facts=self._snapshot(facts),
                    detail=detail,
                )
            )

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
        as_date(on, "on")
        if action not in FLAG_ACTIONS:
            raise WorkflowError(
                f"unknown action {action!r} for a flagged step; use one of "
                f"{', '.join(FLAG_ACTIONS)}"
            )
        if not isinstance(by, str) or not by.strip():
            raise WorkflowError("resolving a flag needs the staff id of who resolved it")
        trail = Trail.read(self.repository.events(student_id))
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
                0,
                on,
                student_id,
                "legal_flag_resolved",
                who=by,
                why=f"{why}; {note}" if note else why,
                ruleset=self.ruleset.ref,
                detail={"step": step, "issued_on": key[1], "action": action, "note": note},
            )
        )

    def _legal(
        self,
        as_of: dt.date,
        sid: str,
        facts: Mapping[str, Any],
        snapshot: Any,
        decision: Decision,
        recall: Recall,
        plan: Plan,
    ) -> None:
        now = {a.step: a for a in decision.legal_actions}
        year = self.ruleset.school_years.start_of(as_of)
        trail: list[Trail] = []  # read once, and only if needed
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
                        school = school_of(facts)
                        deadline = self._days(school).add(as_of, limit)
                        detail |= {"deadline": deadline, "deadline_school_days": limit}
                        if school is not None:  # whose calendar the packet counts days on
                            detail["school_id"] = school
                        why += f"; to be issued by {deadline} ({limit} school days)"
                    self._record(
                        WorkflowEvent(
                            0,
                            as_of,
                            sid,
                            "legal_due",
                            why=why,
                            ruleset=self.ruleset.ref,
                            facts=snapshot,
                            detail=detail,
                        )
                    )
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
            why = f"{step} was reported due on {reported_on} and not issued; "
            why += self._why_not_due(step, current, facts, reported_on)
            self._withdraw_step(as_of, sid, step, why, snapshot, plan)
        self._flag(as_of, sid, facts, snapshot, year, plan, trail)

    def _trail(self, sid: str, trail: list[Trail]) -> Trail:
        """The student's legal trail, read from the timeline the first time it is needed."""
        if not trail:
            trail.append(Trail.read(self.repository.events(sid)))
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
        trail: list[Trail],
    ) -> None:
        """Report a due step not issued within ``limit`` school days of ``since`` overdue.

        It is overdue once more than ``limit`` school days passed after the day it came due
        (that day not counted, as TEC 25.0951's "within 10 school days of" the 10th absence):
        listed in the plan at every run, and one ``legal_overdue`` event for each time it
        came due.
        """
        days = self._days(school_of(facts))
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
                0,
                as_of,
                sid,
                "legal_overdue",
                why=f"{action.label} has been due since {since} and was not issued by its "
                f"deadline of {deadline} ({limit} school days); {late} school "
                f"day{'s' if late > 1 else ''} late",
                ruleset=self.ruleset.ref,
                detail={
                    "step": action.step,
                    "due_since": since,
                    "deadline": deadline,
                    "school_days_late": late,
                },
            )
        )

    def _flag(
        self,
        as_of: dt.date,
        sid: str,
        facts: Mapping[str, Any],
        snapshot: Any,
        year: dt.date,
        plan: Plan,
        trail: list[Trail],
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
                        0,
                        as_of,
                        sid,
                        "legal_flagged",
                        who="tierflow",
                        why=f"{label} was issued on {on} on grounds corrected data no longer "
                        f"shows ({why}): rescind it or notify the family",
                        ruleset=self.ruleset.ref,
                        facts=snapshot,
                        detail={"step": step, "issued_on": on, "why": why, "owner": owner},
                    )
                )
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
