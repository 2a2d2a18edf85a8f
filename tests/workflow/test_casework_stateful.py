"""Staff actions and engine runs interleaved at random, on the memory and SQLite stores.

A ``hypothesis.stateful`` machine drives two engines in lockstep (one in memory, one on a
SQLite store) through school days, runs, assignments, reassignments, unassignments,
check-ins, barriers, manual openings and closes (issue 14). After every step:

* both stores hold the same interventions and timelines (seq and the seq-bearing provenance
  aside), and the SQLite store's chain rows replay to exactly its state;
* no open intervention is without an owner while a staff member of its school and role has
  room, except the one who just gave it back;
* nobody holds more cases than their limit, except by as many overrides as are open;
* every owner and state is the one its events say (a second reading of the timeline, not the
  engine's), and the roster's loads are the open cases counted by owner.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import tierflow
from tierflow.errors import WorkflowError
from tierflow.store import SqlRepository, replay, verify
from tierflow.workflow import (
    OPEN_STATES,
    Engine,
    InMemoryRepository,
    Intervention,
    Repository,
    Roster,
    StaffMember,
)

MTSS = tierflow.load_ruleset("mtss")
STUDENTS = [f"st{i}" for i in range(5)]
STAFF = [
    StaffMember("mentor-a", "s", ("mentor",), caseload_limit=2),
    StaffMember("mentor-b", "s", ("mentor",), caseload_limit=1),
    StaffMember("counsel-a", "s", ("counselor",), caseload_limit=3),
    StaffMember("social-a", "s", ("social_worker",), caseload_limit=1),
    StaffMember("manager-a", "s", ("case_manager",), caseload_limit=1),
]
LIMIT = {m.id: m.caseload_limit for m in STAFF}
# mtss: the causes that assign an intervention, and catalogue entries a person may open.
CAUSES = ["transportation", "engagement", "health", "family"]
CATALOGUE = ["mentor", "home-visit", "iep-team-notice", "safety-plan", "family-meeting"]


def _engine(repo: Repository) -> Engine:
    return Engine(MTSS, repository=repo, roster=Roster(STAFF))


def _comparable(ev: Any) -> Any:
    return ev._replace(seq=0, facts=None)  # decision facts name event seqs, which differ


class Casework(RuleBasedStateMachine):
    """Staff and the engine on the same cases."""

    def __init__(self) -> None:
        super().__init__()
        self.store = SqlRepository(":memory:")
        self.memory = _engine(InMemoryRepository())
        self.sqlite = _engine(self.store)
        self.day = dt.date(2025, 9, 15)  # a Monday
        self.facts: dict[str, dict[str, Any]] = {}
        self.given_back: dict[str, str] = {}  # intervention -> who it was just taken from

    def teardown(self) -> None:
        assert verify(self.store) == []
        self.store.close()

    @initialize()
    def enrol(self) -> None:
        for sid in STUDENTS:
            self.facts[sid] = {
                "student_id": sid,
                "school_id": "s",
                "days_enrolled": 20,
                "days_absent": 0,
                "attendance_log": [],
            }

    def _both(self, act: str, *args: Any, **kwargs: Any) -> bool:
        """Do ``act`` on both engines: both do it or both refuse it, refusals changing nothing."""
        outcomes = []
        for engine in (self.memory, self.sqlite):
            before = sum(len(engine.timeline(s)) for s in STUDENTS)
            try:
                result = getattr(engine, act)(*args, **kwargs)
            except WorkflowError as exc:
                assert sum(len(engine.timeline(s)) for s in STUDENTS) == before
                outcomes.append(("refused", str(exc)))
            else:
                outcomes.append(("done", getattr(result, "summary", lambda: None)()))
        assert outcomes[0] == outcomes[1]
        event(f"{act}: {outcomes[0][0]}")
        return outcomes[0][0] == "done"

    def _pick(self, who: str, n: int) -> Intervention | None:
        ivs = self.memory.interventions(who)
        return ivs[n % len(ivs)] if ivs else None

    # --- what happens ---------------------------------------------------------------------------

    @rule(days=st.integers(1, 6), who=st.sampled_from(STUDENTS), absences=st.integers(0, 4))
    def school_days_pass_and_the_engine_runs(self, days: int, who: str, absences: int) -> None:
        for _ in range(days):
            self.day += dt.timedelta(days=3 if self.day.weekday() == 4 else 1)
            for f in self.facts.values():
                f["days_enrolled"] += 1
        f = self.facts[who]
        f["days_absent"] = min(f["days_absent"] + absences, f["days_enrolled"])
        self._both("run", self.day, list(self.facts.values()))

    @rule(
        who=st.sampled_from(STUDENTS),
        n=st.integers(0, 9),
        staff=st.sampled_from([m.id for m in STAFF]),
        override=st.booleans(),
    )
    def assign_or_reassign(self, who: str, n: int, staff: str, override: bool) -> None:
        iv = self._pick(who, n)
        if iv is None:
            return
        kind = "reassign" if iv.owner is not None else "assign"
        event(kind)
        self._both(
            "assign", iv.id, staff, on=self.day, by="principal", reason=kind, override=override
        )

    @rule(who=st.sampled_from(STUDENTS), n=st.integers(0, 9))
    def unassign(self, who: str, n: int) -> None:
        iv = self._pick(who, n)
        if iv is None:
            return
        owner = iv.owner
        if self._both("unassign", iv.id, on=self.day, by="principal", reason="too many"):
            assert owner is not None
            self.given_back[iv.id] = owner  # until it has an owner again

    @rule(who=st.sampled_from(STUDENTS), n=st.integers(0, 9), goal_met=st.booleans())
    def check_in(self, who: str, n: int, goal_met: bool) -> None:
        iv = self._pick(who, n)
        if iv is not None:
            self._both("check_in", iv.id, on=self.day, by=iv.owner or "x", goal_met=goal_met)

    @rule(who=st.sampled_from(STUDENTS), cause=st.sampled_from(CAUSES))
    def barrier(self, who: str, cause: str) -> None:
        self._both("record_barrier", who, cause, on=self.day, by="counsel-a")

    @rule(who=st.sampled_from(STUDENTS), what=st.sampled_from(CATALOGUE))
    def manual_open(self, who: str, what: str) -> None:
        self._both(
            "open_intervention", who, what, on=self.day, by="counsel-a", reason="r", school_id="s"
        )

    @rule(who=st.sampled_from(STUDENTS), n=st.integers(0, 9))
    def close(self, who: str, n: int) -> None:
        iv = self._pick(who, n)
        if iv is not None:
            self._both("close", iv.id, on=self.day, by="principal", reason="plan ended")

    # --- what always holds ----------------------------------------------------------------------

    def _open(self) -> list[Intervention]:
        return [
            iv for s in STUDENTS for iv in self.memory.interventions(s) if iv.state in OPEN_STATES
        ]

    @invariant()
    def memory_and_sqlite_agree_and_sqlite_replays_to_its_state(self) -> None:
        mem, sql = self.memory.repository, self.store
        state = replay(sql.chain_rows())
        for sid in STUDENTS:
            assert sql.for_student(sid) == mem.for_student(sid)
            assert [_comparable(e) for e in sql.events(sid)] == [
                _comparable(e) for e in mem.events(sid)
            ]
            assert [iv for iv in state.interventions.values() if iv.student_id == sid] == (
                sql.for_student(sid)
            )
            assert state.events.get(sid, []) == sql.events(sid)

    @invariant()
    def nobody_waits_while_someone_has_room(self) -> None:
        load = Counter(iv.owner for iv in self._open() if iv.owner is not None)
        for iv in self._open():
            if iv.owner is not None:
                continue
            room = [
                m.id
                for m in STAFF
                if m.school_id == iv.school_id
                and iv.owner_role in m.roles
                and load[m.id] < m.caseload_limit
            ]
            assert set(room) <= {self.given_back.get(iv.id)}, (iv, room)

    @invariant()
    def limits_hold_except_by_open_overrides(self) -> None:
        overrides: Counter[str] = Counter()
        for iv in self._open():
            last = [
                ev
                for ev in self.memory.timeline(iv.student_id)
                if ev.intervention_id == iv.id and ev.kind in ("assigned", "unassigned")
            ]
            if last and last[-1].detail is not None and last[-1].detail["override"]:
                overrides[iv.owner or ""] += 1
        load = Counter(iv.owner for iv in self._open() if iv.owner is not None)
        for staff, n in load.items():
            assert n - LIMIT[staff] <= overrides[staff]
        assert +self.memory.roster.load == +load  # the roster counts what is open
        assert +self.sqlite.roster.load == +load

    @invariant()
    def every_owner_and_state_is_what_its_events_say(self) -> None:
        for sid in STUDENTS:
            owner: dict[str, str | None] = {}
            state: dict[str, str | None] = {}
            for ev in self.memory.timeline(sid):
                if ev.intervention_id is None:
                    continue
                if ev.kind == "opened" and ev.detail is not None:
                    owner[ev.intervention_id] = ev.detail["owner"]
                    state[ev.intervention_id] = ev.to_state
                elif ev.kind in ("assigned", "unassigned") and ev.detail is not None:
                    assert owner[ev.intervention_id] == ev.detail["from"]
                    owner[ev.intervention_id] = ev.detail["to"]
                elif ev.kind == "transition":
                    assert state[ev.intervention_id] == ev.from_state
                    state[ev.intervention_id] = ev.to_state
            ivs = self.memory.interventions(sid)
            assert owner == {iv.id: iv.owner for iv in ivs}
            assert state == {iv.id: iv.state for iv in ivs}


Casework.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCasework = pytest.mark.slow(Casework.TestCase)
