"""A day's run: decide, review, withdraw, open what is called for, advance follow-ups."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Container, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from tierflow.errors import DataError, WorkflowError, suggest
from tierflow.evaluate import Decision
from tierflow.workflow._core import Recall, as_date, school_of
from tierflow.workflow._findings import provenance, with_barriers
from tierflow.workflow._legal import LegalLadder
from tierflow.workflow._moves import Moves
from tierflow.workflow._owners import Owners
from tierflow.workflow._records import Intervention, Plan, Unassigned, WorkflowEvent
from tierflow.workflow._schedule import next_follow_up
from tierflow.workflow._tried import WITHDRAWN, WITHDRAWN_WHY

__all__ = ["DayRun"]

_new_tuple = tuple.__new__

_PREFETCH = 500
"""Students a run hands the store at a time (``Repository.prefetch``): a bound on memory."""


def _decision_key(decision: Decision) -> tuple[Any, ...]:
    return (
        decision.tier,
        [i.id for i in decision.interventions],
        [f"{a.step}:{a.status}" for a in decision.legal_actions],
    )


class DayRun(LegalLadder, Moves, Owners):
    """The engine's daily work over a batch of students' facts."""

    def run(
        self,
        as_of: dt.date,
        facts: Iterable[Mapping[str, Any]],
        *,
        schools: Container[str | None] | None = None,
    ) -> Plan:
        """Evaluate the playbook for a batch of students and act on the decisions.

        For each student: withdraw escalations that corrected data no longer supports, review
        open interventions whose review date came (goal met: met_goal; not met: escalate to the
        catalogue's next intervention), open the interventions the decision calls for that the
        student does not have open (nor ended within the cool-down), and report legal steps due
        or blocked (withdrawing any reported due that are no longer due). Then follow-ups are
        advanced as of the date (see :meth:`advance`).

        A student whose facts cannot be evaluated is reported in ``plan.rejected``; the batch
        goes on.

        Args:
            as_of: The day.
            facts: Every student's facts as of the day.
            schools: Advance only the open interventions of these schools (``None`` in it: those
                without a school); default: every open intervention. A run split by school
                (:func:`tierflow.scale.run_day_partitioned`) advances each school's once.

        Raises:
            WorkflowError: ``as_of`` is not a date.
        """
        plan = Plan(as_date(as_of, "as_of"))
        records = iter(facts)
        # A chunk of students at a time: the store may read their records together.
        while chunk := list(itertools.islice(records, _PREFETCH)):
            self.repository.prefetch([str(r.get("student_id")) for r in chunk])
            for record in chunk:
                with self._unit():  # a student's changes and their events: together or none
                    try:
                        self._run_student(as_of, record, plan)
                    except DataError as exc:
                        plan.rejected.append(exc)
        self._advance(as_of, plan, schools)
        return plan

    def advance(self, now: dt.date, *, schools: Container[str | None] | None = None) -> Plan:
        """Move missed follow-ups to follow_up_due; flag those past the grace period overdue.

        An active intervention whose follow-up date passed without a check-in moves to
        ``follow_up_due``; once ``now`` is more than ``grace_days`` school days past the
        follow-up date it is flagged ``overdue`` (one ``overdue`` event). Every open
        intervention whose follow-up date has come is listed in ``plan.due``, except one paused
        in a state of the rule set's lifecycle that is neither its initial state nor a
        ``started`` one (a district's ``on_hold``): its follow-ups wait until it leaves it.
        Every open intervention without an owner is listed in ``plan.unassigned`` (until
        someone takes it). With ``schools``, only the open interventions of those schools are
        looked at (as :meth:`run`'s).

        Raises:
            WorkflowError: ``now`` is not a date.
        """
        plan = Plan(as_date(now, "now"))
        self._advance(now, plan, schools)
        return plan

    def _open_at(self, schools: Container[str | None] | None) -> Iterable[Intervention]:
        """The open interventions of ``schools`` (None: every school), each school's oldest first.

        A set of school ids is read school by school from the store's index (a partition of a
        district's day reads its own schools' cases, not every open case of the district);
        anything else (a school id None among them, or every school but some) by one scan.
        """
        if isinstance(schools, (set, frozenset)) and all(isinstance(s, str) for s in schools):
            return [
                iv for school in sorted(schools) for iv in self.repository.work_items(school=school)
            ]
        every = self.repository.open_interventions()
        if schools is None:
            return every
        return [iv for iv in every if iv.school_id in schools]

    def _advance(
        self, now: dt.date, plan: Plan, schools: Container[str | None] | None = None
    ) -> None:
        lifecycle = self.lifecycle
        target, grace = lifecycle.target, self.grace_days
        whys: dict[dt.date, tuple[str, str]] = {}  # the events' reasons, one per follow-up date
        listed = {u.intervention_id for u in plan.unassigned}
        waiting: set[str] = set()
        for iv in self._open_at(schools):
            if iv.owner is None:
                waiting.add(iv.id)
                if iv.id not in listed:
                    # Unowned until someone takes it: every plan says so, not only the opening's.
                    why = self._school_roster(iv.school_id).why_unassigned(
                        iv.school_id, iv.owner_role
                    )
                    plan.unassigned.append(
                        Unassigned(iv.student_id, iv.id, iv.owner_role, iv.school_id, why)
                    )
            if iv.next_follow_up is None or iv.next_follow_up > now:
                continue
            if iv.state != lifecycle.initial and iv.state not in lifecycle.started:
                continue  # paused in a district state (on hold): due again once resumed
            due_on = iv.next_follow_up
            late = self._days(iv.school_id).add(due_on, grace) < now and not iv.overdue
            texts = whys.get(due_on)
            if texts is None:
                texts = whys[due_on] = (
                    f"follow-up of {due_on} has no check-in",
                    f"follow-up of {due_on} is more than {grace} school days late",
                )
            with self._unit():  # the change, the flag and their events together
                if target("follow_up_due", iv.state) is not None:
                    if late:  # flagged by the same save
                        self._fire(iv, "follow_up_due", now, "tierflow", texts[0], overdue=True)
                    else:
                        self._fire(iv, "follow_up_due", now, "tierflow", texts[0])
                elif late:
                    self._save(iv, overdue=True)
                if late:
                    self._record(
                        _new_tuple(
                            WorkflowEvent,
                            (
                                0,
                                now,
                                iv.student_id,
                                "overdue",
                                iv.id,
                                None,
                                None,
                                None,
                                "tierflow",
                                texts[1],
                                None,
                                None,
                                None,
                            ),
                        )
                    )
            plan.due.append(iv)
        if not listed <= waiting:
            # Opened unowned earlier in this run, then offered a place that freed later in it.
            plan.unassigned[:] = [u for u in plan.unassigned if u.intervention_id in waiting]

    def _run_student(self, as_of: dt.date, raw: Mapping[str, Any], plan: Plan) -> None:
        sid = str(raw.get("student_id"))
        recall = self._recall(sid)
        self._following = (sid, [])
        try:
            self._decide_student(as_of, sid, raw, recall, plan)
        finally:
            self._following = None

    def _decide_student(
        self, as_of: dt.date, sid: str, raw: Mapping[str, Any], recall: Recall, plan: Plan
    ) -> None:
        open_ivs = [iv for iv in self.repository.for_student(sid) if iv.ended_on is None]
        if open_ivs or recall.reported:
            snapshot = self._snapshot(raw)
            if self._rollover(as_of, sid, recall, snapshot, plan, open_ivs) | self._moved(
                as_of, sid, raw, snapshot, plan, recall, open_ivs
            ):
                recall = self._catch_up(recall)  # what the year's start or the move recorded
        if recall.barriers:  # causes staff recorded are facts the rules see
            raw = with_barriers(raw, recall.barriers, as_of)
        facts = self._with_history(raw, recall, as_of)
        decision = self.ruleset.evaluate(facts, as_of=as_of)
        snapshot = self._snapshot(facts)
        if recall.barriers and snapshot is not None:
            snapshot["causes_recorded"] = provenance(recall.barriers, as_of)
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
            recall = self._catch_up(recall)  # what this run recorded (a withdrawal) counts now
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
                    0,
                    as_of,
                    decision.student_id,
                    "decision",
                    # One string per distinct tier and rules, not one per student and run.
                    why=self._share(
                        ("why", decision.tier, decision.rules),
                        f"{decision.tier}; rules fired: {', '.join(decision.rules) or 'none'}",
                    ),
                    ruleset=self.ruleset.ref,
                    facts=snapshot,
                    detail=self._share(
                        ("decision", repr(key)),
                        MappingProxyType(
                            {"tier": key[0], "interventions": key[1], "legal": key[2]}
                        ),
                    ),
                )
            )
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
            if iv.ended_on is not None or iv.escalated_from is None:
                continue
            before = self.repository.get(iv.escalated_from)
            if before.ended_on is None:
                continue
            if self.ruleset.goal_met(before.intervention, facts, as_of=before.ended_on):
                self._fire(
                    iv,
                    "close",
                    as_of,
                    "tierflow",
                    f"{WITHDRAWN_WHY} the goal of {before.intervention} "
                    f"({before.id}) was met by its review on {before.ended_on}, so the "
                    "escalation is no longer supported",
                    snapshot,
                    {"withdrawn": WITHDRAWN},
                )
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
                open_next = self._open_one(iv.student_id, iv.escalates_to)
                # Already open (by hand, or by another rule): the escalation links to it.
                linked = "" if open_next is None else f", already open as {open_next.id}"
                self._fire(
                    iv,
                    "escalate",
                    as_of,
                    "tierflow",
                    f"{why}; escalates to {iv.escalates_to}{linked}",
                    snapshot,
                    None if open_next is None else {"linked_to": open_next.id},
                )
                plan.escalated.append(iv)
                if open_next is None:
                    self._open(
                        as_of,
                        facts,
                        snapshot,
                        iv.escalates_to,
                        plan,
                        f"escalated from {iv.intervention} ({iv.id}): {why}",
                        escalated_from=iv.id,
                    )
            else:
                spec = self.ruleset.interventions.get(iv.intervention)
                period = (spec.review_after_days if spec else None) or self.default_review_days
                self._save(iv, review_on=self._days(iv.school_id).add(as_of, period))
                rest = "no escalation is defined" if met is False else "the review is extended"
                self._record(
                    WorkflowEvent(
                        0,
                        as_of,
                        iv.student_id,
                        "reviewed",
                        iv.id,
                        why=f"{why}; {rest}; next review {iv.review_on}",
                        ruleset=self.ruleset.ref,
                        facts=snapshot,
                    )
                )

    def _has_open(self, student_id: str, intervention: str) -> bool:
        return self._open_one(student_id, intervention) is not None

    def _open_one(self, student_id: str, intervention: str) -> Intervention | None:
        """The student's open intervention of this catalogue id, if any."""
        for iv in self.repository.for_student(student_id):
            if iv.intervention == intervention and iv.ended_on is None:
                return iv
        return None

    def open_intervention(
        self,
        student_id: str,
        intervention: str,
        *,
        on: dt.date,
        by: str,
        reason: str,
        school_id: str | None = None,
        tier: str | None = None,
    ) -> Intervention:
        """A staff member opens an intervention of the catalogue for a student by hand.

        It opens as the rules' openings do (an owner of its role with room at the school, its
        follow-up and review dates), with the staff member and reason in its ``opened`` event
        (``detail.opened_by``). The rules never open a second one of the same kind while it is
        open.

        Args:
            student_id: The student.
            intervention: A catalogue id (``home-visit``).
            on: The opening day.
            by: Staff id of who opened it.
            reason: Why (kept as the intervention's reason).
            school_id: The student's school (default: that of their latest intervention).
            tier: A tier id of the rule set, if not the catalogue entry's own.

        Raises:
            WorkflowError: No reason, an unknown intervention or tier (with a did-you-mean),
                or one of that kind open for the student already; nothing changes.
        """
        as_date(on, "on")
        if not isinstance(reason, str) or not reason.strip():
            raise WorkflowError("opening an intervention by hand needs a reason")
        if intervention not in self.ruleset.interventions:
            known = sorted(self.ruleset.interventions)
            hint = suggest(str(intervention), known) or f"known: {', '.join(known)}"
            raise WorkflowError(f"no intervention {intervention!r} in the catalogue; {hint}")
        if tier is not None and tier not in self._levels:
            hint = suggest(str(tier), self._levels) or f"known: {', '.join(self._levels)}"
            raise WorkflowError(f"no tier {tier!r} in rule set {self.ruleset.id}; {hint}")
        mine = self.repository.for_student(student_id)
        already = self._open_one(student_id, intervention)
        if already is not None:
            raise WorkflowError(
                f"student {student_id} has {intervention} open already ({already.id})"
            )
        if school_id is None and mine:
            school_id = mine[-1].school_id
        facts = {"student_id": student_id, "school_id": school_id}
        plan = Plan(on)
        with self._unit():
            return self._open(
                on,
                facts,
                None,
                intervention,
                plan,
                reason,
                who=by,
                level=None if tier is None else self._levels[tier],
            )

    def _blocks_opening(
        self,
        student_id: str,
        intervention: str,
        as_of: dt.date,
        facts: Mapping[str, Any],
        recall: Recall,
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
        if latest.ended_on is None:
            return True
        if latest.id in recall.restarted:
            return False  # closed at the year's start so that this year decides afresh
        ended = latest.ended_on
        if self._days(latest.school_id).add(ended, self.cooldown_days) > as_of:
            return True
        if latest.state in self.lifecycle.escalated:
            return any(
                iv.escalated_from == latest.id and iv.ended_on is None
                for iv in self.repository.for_student(student_id)
            )
        if latest.state in self.lifecycle.met:
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
        who: str = "tierflow",
        level: int | None = None,
    ) -> Intervention:
        """Open ``catalogue_id`` for the student of ``facts`` (by hand when ``who`` is staff).

        An intervention without a cadence (a SART meeting, a home visit) is due on its opening
        day (``next_follow_up``), so it is in what is due until a check-in holds it (which
        schedules nothing after it) or it is closed.
        """
        spec = self.ruleset.interventions[catalogue_id]
        sid = str(facts.get("student_id"))
        school_id = school_of(facts)
        days = self._days(school_id)
        owner = self._school_roster(school_id).assign(school_id, spec.owner)
        iv = Intervention(
            self.repository.new_id(),
            sid,
            school_id,
            spec.id,
            self._levels.get(spec.tier, 0) if level is None else level,
            spec.owner,
            owner,
            self.lifecycle.initial,
            as_of,
            as_of if spec.cadence is None else next_follow_up(spec.cadence, as_of, days),
            days.add(as_of, spec.review_after_days) if spec.review_after_days else None,
            spec.escalates_to,
            escalated_from,
            reason,
        )
        self.repository.add(iv)
        plan.opened.append(iv)
        self._record(
            WorkflowEvent(
                0,
                as_of,
                sid,
                "opened",
                iv.id,
                to_state=iv.state,
                who=who,
                why=reason,
                ruleset=self.ruleset.ref,
                facts=snapshot,
                detail=self._share(
                    ("opened", spec.id, owner),
                    MappingProxyType({"intervention": spec.id, "owner": owner, "role": spec.owner}),
                )
                if who == "tierflow"
                else {
                    "intervention": spec.id,
                    "owner": owner,
                    "role": spec.owner,
                    "opened_by": who,
                },
            )
        )
        if owner is None:
            why = self._school_roster(school_id).why_unassigned(school_id, spec.owner)
            plan.unassigned.append(Unassigned(sid, iv.id, spec.owner, school_id, why))
            self._track_unowned(iv)
        return iv
