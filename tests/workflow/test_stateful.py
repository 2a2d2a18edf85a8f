"""Random sequences of runs, follow-ups, check-ins, closes and legal steps over many students.

A ``hypothesis.stateful`` machine drives the engine and checks after every step: states are
declared ones, each accepted manual trigger leaves exactly one event and a refused one leaves
none and changes nothing, terminal states absorb, no student has the same intervention open
twice, and no legal step is issued before the steps and evidence it requires.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import tierflow
from tierflow.attendance import SchoolCalendar
from tierflow.errors import WorkflowError
from tierflow.workflow import (
    LIFECYCLE,
    OPEN_STATES,
    STATES,
    TERMINAL_STATES,
    Engine,
    Roster,
    StaffMember,
)

CA = tierflow.load_ruleset("ca")
CAL = SchoolCalendar.from_pattern("s", dt.date(2025, 8, 18), dt.date(2026, 5, 29))
STUDENTS = [f"st{i}" for i in range(6)]
LADDER = [step.id for step in CA.legal_steps]
ROLES = ("mentor", "counselor", "social_worker", "attendance_team")


class WorkflowMachine(RuleBasedStateMachine):
    """The engine under random use."""

    def __init__(self) -> None:
        super().__init__()
        self.engine = Engine(
            CA,
            roster=Roster(StaffMember(f"m{i}", "s", ROLES, caseload_limit=8) for i in range(3)),
            calendars={"s": CAL},
        )
        self.day = dt.date(2025, 9, 2)
        self.facts: dict[str, dict[str, Any]] = {}
        self.ended: dict[str, str] = {}

    @initialize()
    def enrol(self) -> None:
        for sid in STUDENTS:
            self.facts[sid] = {
                "student_id": sid,
                "school_id": "s",
                "days_enrolled": 10,
                "days_absent": 0,
                "days_unexcused": 0,
                "attendance_log": [],
            }

    def _events(self) -> int:
        return sum(len(self.engine.timeline(s)) for s in STUDENTS)

    def _offers(self) -> int:
        """Places freed and offered by the engine itself ('assigned' events by tierflow)."""
        return sum(
            1
            for s in STUDENTS
            for e in self.engine.timeline(s)
            if e.kind == "assigned" and e.who == "tierflow"
        )

    def _ivs(self) -> list[Any]:
        return [iv for s in STUDENTS for iv in self.engine.interventions(s)]

    @rule(
        days=st.integers(1, 10),
        who=st.sampled_from(STUDENTS),
        absences=st.integers(0, 6),
        unexcused=st.booleans(),
    )
    def school_days_pass(self, days: int, who: str, absences: int, unexcused: bool) -> None:
        for _ in range(days):
            if self.day == CAL.last_day:
                break  # the school year is over; later rules still run on its last day
            self.day = CAL.days[CAL.days.index(self.day) + 1]
            for f in self.facts.values():
                f["days_enrolled"] += 1
        f = self.facts[who]
        for _ in range(min(absences, f["days_enrolled"] - f["days_absent"])):
            f["days_absent"] += 1
            if unexcused:
                f["days_unexcused"] += 1
            f["attendance_log"].append(
                {"date": self.day.isoformat(), "kind": "unexcused" if unexcused else "excused"}
            )

    @rule()
    def run(self) -> None:
        plan = self.engine.run(self.day, list(self.facts.values()))
        event("a run opened interventions" if plan.opened else "a run opened nothing")
        for what in ("escalated", "met_goal", "withdrawn", "legal_due", "legal_withdrawn"):
            if getattr(plan, what):
                event(f"a run had {what}")

    @rule()
    def run_twice_is_idempotent(self) -> None:
        self.engine.run(self.day, list(self.facts.values()))
        before = self._events()
        plan = self.engine.run(self.day, list(self.facts.values()))
        assert plan.opened == [] and self._events() == before

    @rule()
    def advance(self) -> None:
        self.engine.advance(self.day)

    @precondition(lambda self: bool(self._ivs()))
    @rule(data=st.data(), action=st.sampled_from(["start", "check_in", "close"]))
    def manual(self, data: st.DataObject, action: str) -> None:
        iv = data.draw(st.sampled_from(self._ivs()))
        before_events, before = self._events(), (iv.state, iv.version)
        before_offers = self._offers()
        try:
            if action == "start":
                self.engine.start(iv.id, on=self.day, by="m0")
            elif action == "check_in":
                self.engine.check_in(iv.id, on=self.day, by="m0", goal_met=data.draw(st.booleans()))
            else:
                self.engine.close(iv.id, on=self.day, by="m0", reason="plan ended")
        except WorkflowError:
            assert (iv.state, iv.version) == before and self._events() == before_events
            assert before[0] in TERMINAL_STATES or action == "start"
        else:
            event(f"accepted {action}")
            # One event for the change; a close also frees its owner's place, which goes to
            # the oldest unowned case of that role (workflow/_owners.py), one 'assigned' each.
            offered = self._offers() - before_offers
            assert self._events() == before_events + 1 + offered
            assert offered == 0 or action == "close"
            assert iv.version == before[1] + 1

    @rule(who=st.sampled_from(STUDENTS), step=st.sampled_from(LADDER))
    def issue_legal(self, who: str, step: str) -> None:
        issued_before = self.engine.repository.issued(who)
        try:
            self.engine.issue_legal(who, step, on=self.day, by="clerk", facts=self.facts[who])
        except WorkflowError:
            assert self.engine.repository.issued(who) == issued_before
        else:
            event(f"issued {step}")
            assert set(self.engine.repository.issued(who)) == {*issued_before, step}

    @invariant()
    def states_are_declared_and_terminal_states_absorb(self) -> None:
        for iv in self._ivs():
            assert iv.state in STATES
            if iv.id in self.ended:
                assert iv.state == self.ended[iv.id]
            elif iv.state in TERMINAL_STATES:
                self.ended[iv.id] = iv.state
                assert iv.ended_on is not None

    @invariant()
    def nothing_is_open_twice(self) -> None:
        for sid in STUDENTS:
            open_ids = [
                iv.intervention for iv in self.engine.interventions(sid) if iv.state in OPEN_STATES
            ]
            assert len(open_ids) == len(set(open_ids))

    @invariant()
    def legal_steps_never_precede_their_prerequisites(self) -> None:
        for sid in STUDENTS:
            issued = self.engine.repository.issued(sid)
            for i, step in enumerate(LADDER):
                if step in issued and i > 0:
                    previous = LADDER[i - 1]
                    assert previous in issued and issued[previous] <= issued[step]
            if issued:
                tried = [iv for iv in self.engine.interventions(sid) if iv.tier_level >= 2]
                later = [s for s in issued if s != LADDER[0]]
                assert not later or tried  # supportive interventions came first

    @invariant()
    def every_transition_left_exactly_one_event(self) -> None:
        # Replaying each intervention's events through the lifecycle table, from its opening,
        # must arrive at its current state, with its version counting one change per event.
        for sid in STUDENTS:
            replay: dict[str, str] = {}
            for ev in self.engine.timeline(sid):
                if ev.kind == "opened":
                    assert ev.intervention_id not in replay  # opened once
                    replay[ev.intervention_id] = ev.to_state
                elif ev.kind == "transition":
                    assert ev.intervention_id is not None and ev.trigger is not None and ev.who
                    assert replay[ev.intervention_id] == ev.from_state
                    replay[ev.intervention_id] = LIFECYCLE.target(ev.trigger, ev.from_state)
                    assert replay[ev.intervention_id] == ev.to_state
            ivs = self.engine.interventions(sid)
            assert replay == {iv.id: iv.state for iv in ivs}


WorkflowMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestWorkflow = WorkflowMachine.TestCase
