"""An engine on SQLite behaves exactly as on memory, and its events rebuild its state.

A ``hypothesis.stateful`` machine drives two engines in lockstep, one on the in-memory
repository and one on a SQLite store, through random school days, runs (some in one batch),
follow-up sweeps, starts, check-ins, closes and legal steps. After every step both hold the
same interventions, timelines, check-ins and issued steps, and replaying the store's events
table rebuilds exactly the state the store holds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import tierflow
from tierflow.attendance import SchoolCalendar
from tierflow.errors import WorkflowError
from tierflow.store import SqlRepository, replay, verify
from tierflow.workflow import Engine, InMemoryRepository, Repository, Roster, StaffMember

CA = tierflow.load_ruleset("ca")
CAL = SchoolCalendar.from_pattern("s", dt.date(2025, 8, 18), dt.date(2026, 5, 29))
STUDENTS = [f"st{i}" for i in range(5)]
LADDER = [step.id for step in CA.legal_steps]
ROLES = ("mentor", "counselor", "social_worker", "attendance_team")


def _engine(repo: Repository) -> Engine:
    roster = Roster(StaffMember(f"m{i}", "s", ROLES, caseload_limit=6) for i in range(2))
    return Engine(CA, repository=repo, roster=roster, calendars={"s": CAL})


class Lockstep(RuleBasedStateMachine):
    """Memory and SQLite under the same random use."""

    def __init__(self) -> None:
        super().__init__()
        self.store = SqlRepository(":memory:")
        self.memory = _engine(InMemoryRepository())
        self.sqlite = _engine(self.store)
        self.day = dt.date(2025, 9, 2)
        self.facts: dict[str, dict[str, Any]] = {}

    def teardown(self) -> None:
        assert verify(self.store) == []
        self.store.close()

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

    def _both(self, act: str, *args: Any, **kwargs: Any) -> None:
        outcomes = []
        for engine in (self.memory, self.sqlite):
            try:
                result = getattr(engine, act)(*args, **kwargs)
            except WorkflowError as exc:
                outcomes.append(("refused", str(exc)))
            else:
                outcomes.append(("done", getattr(result, "summary", lambda: None)()))
        assert outcomes[0] == outcomes[1]
        event(f"{act}: {outcomes[0][0]}")
        if act == "run" and "escalated 0," not in str(outcomes[0][1]):
            event("a run escalated")

    @rule(
        days=st.integers(1, 10),
        who=st.sampled_from(STUDENTS),
        absences=st.integers(0, 6),
        unexcused=st.booleans(),
    )
    def school_days_pass(self, days: int, who: str, absences: int, unexcused: bool) -> None:
        for _ in range(days):
            if self.day == CAL.last_day:
                break
            self.day = CAL.days[CAL.days.index(self.day) + 1]
            for f in self.facts.values():
                f["days_enrolled"] += 1
        f = self.facts[who]
        for _ in range(min(absences, f["days_enrolled"] - f["days_absent"])):
            f["days_absent"] += 1
            f["days_unexcused"] += unexcused
            f["attendance_log"].append(
                {"date": self.day.isoformat(), "kind": "unexcused" if unexcused else "excused"}
            )

    @rule(batched=st.booleans())
    def run(self, batched: bool) -> None:
        if batched:
            with self.store.batch():
                self._both("run", self.day, list(self.facts.values()))
        else:
            self._both("run", self.day, list(self.facts.values()))

    @rule()
    def advance(self) -> None:
        self._both("advance", self.day)

    @rule(
        who=st.sampled_from(STUDENTS),
        pick=st.integers(0, 5),
        action=st.sampled_from(["start", "check_in", "close"]),
        goal_met=st.booleans(),
    )
    def manual(self, who: str, pick: int, action: str, goal_met: bool) -> None:
        ivs = self.memory.interventions(who)
        if not ivs:
            return
        iid = ivs[pick % len(ivs)].id
        if action == "start":
            self._both("start", iid, on=self.day, by="m0")
        elif action == "check_in":
            self._both("check_in", iid, on=self.day, by="m0", goal_met=goal_met, note="n")
        else:
            self._both("close", iid, on=self.day, by="m0", reason="plan ended")

    @rule(who=st.sampled_from(STUDENTS), step=st.sampled_from(LADDER))
    def issue_legal(self, who: str, step: str) -> None:
        self._both("issue_legal", who, step, on=self.day, by="clerk", facts=self.facts[who])

    @invariant()
    def memory_and_sqlite_agree(self) -> None:
        mem, sql = self.memory.repository, self.store
        for sid in STUDENTS:
            ivs = mem.for_student(sid)
            assert sql.for_student(sid) == ivs
            assert [e._replace(seq=0) for e in sql.events(sid)] == [
                e._replace(seq=0) for e in mem.events(sid)
            ]
            assert sql.issued(sid) == mem.issued(sid)
            for iv in ivs:
                assert sql.check_ins(iv.id) == mem.check_ins(iv.id)
        assert list(sql.open_interventions()) == sorted(
            mem.open_interventions(), key=lambda iv: iv.id
        )

    @invariant()
    def work_queues_read_the_same(self) -> None:
        """The queue's queries agree: by owner, role, school and no owner, and legal events."""
        mem, sql = self.memory.repository, self.store

        def ids(found: list[Any]) -> list[str]:
            return sorted(iv.id for iv in found)

        for filters in (
            *({"owner": f"m{i}"} for i in range(2)),
            *({"role": r} for r in ROLES),
            {"school": "s"},
            {"role": "mentor", "school": "s"},
            {"unassigned": True},
            {},
        ):
            assert ids(sql.work_items(**filters)) == ids(mem.work_items(**filters)), filters
        got = sql.legal_events(STUDENTS)
        assert {s: [e._replace(seq=0) for e in evs] for s, evs in got.items()} == {
            s: [e._replace(seq=0) for e in evs] for s, evs in mem.legal_events(STUDENTS).items()
        }

    @invariant()
    def replaying_the_events_rebuilds_the_state(self) -> None:
        state = replay(self.store.chain_rows())
        for sid in STUDENTS:
            stored = self.store.for_student(sid)
            assert [iv for iv in state.interventions.values() if iv.student_id == sid] == stored
            assert state.events.get(sid, []) == self.store.events(sid)
            assert state.issued.get(sid, {}) == self.store.issued(sid)
            for iv in stored:
                assert state.check_ins.get(iv.id, []) == self.store.check_ins(iv.id)


Lockstep.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLockstep = pytest.mark.slow(Lockstep.TestCase)
