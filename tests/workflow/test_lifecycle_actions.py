"""Staff fire a district's own triggers (``Engine.fire``): guards, refusals, terminal states.

Expected states come from the YAML written here (hand reading of its transitions), never from
the lifecycle the engine built.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import tierflow
from tierflow.errors import WorkflowError
from tierflow.store import SqlRepository
from tierflow.workflow import Engine, IllegalTransitionError, Intervention, Roster, StaffMember
from tierflow.workflow._repository import Repository

DISTRICT = tierflow.parse_ruleset(
    """
id: district
name: District
version: "1"
extends: mtss
lifecycle:
  states:
    on_hold: {description: paused}
    declined_by_family: {}
  transitions:
    hold: {from: [active, follow_up_due], to: on_hold, guard: reason_given}
    resume: {from: [on_hold], to: active, guard: has_owner}
    decline: {from: [assigned, active, on_hold], to: declined_by_family}
    close: {from: [assigned, active, follow_up_due, on_hold], to: closed}
    confirm: {from: [active], to: met_goal, guard: goal_met_at_last_check_in}
    review: {from: [active], to: follow_up_due, guard: has_check_in}
  closed: [declined_by_family]
""",
    name="district.yaml",
)
MON = dt.date(2025, 10, 6)
FACTS = {"student_id": "s1", "school_id": "lincoln", "days_enrolled": 30, "days_absent": 3}


def _engine(repository: Repository | None = None, limit: int = 10) -> Engine:
    roster = Roster([StaffMember("ms-lee", "lincoln", ("mentor", "counselor"), limit)])
    return Engine(DISTRICT, roster=roster, repository=repository)


def _opened(engine: Engine) -> list[Intervention]:
    return engine.run(MON, [FACTS]).opened


def test_hold_needs_a_reason_and_resume_goes_back_to_active() -> None:
    engine = _engine()
    iv = _opened(engine)[0]
    engine.start(iv.id, on=MON, by="ms-lee")
    with pytest.raises(IllegalTransitionError, match="guard 'reason_given'") as info:
        engine.fire(iv.id, "hold", on=MON, by="ms-lee", reason="   ")
    assert info.value.guard == "reason_given"
    assert engine.repository.get(iv.id).state == "active"  # nothing changed
    before = len(list(engine.repository.events("s1")))
    held = engine.fire(iv.id, "hold", on=MON, by="ms-lee", reason="in hospital")
    assert held.state == "on_hold" and held.ended_on is None
    events = list(engine.repository.events("s1"))
    assert len(events) == before + 1
    last = events[-1]
    assert (last.trigger, last.from_state, last.to_state, last.why) == (
        "hold",
        "active",
        "on_hold",
        "in hospital",
    )
    assert engine.fire(iv.id, "resume", on=MON, by="ms-lee").state == "active"


def test_a_trigger_not_allowed_from_the_state_is_refused_with_the_allowed_ones() -> None:
    engine = _engine()
    iv = _opened(engine)[0]
    with pytest.raises(IllegalTransitionError) as info:
        engine.fire(iv.id, "resume", on=MON, by="ms-lee")
    assert info.value.guard is None
    # From assigned, by hand: start, check_in, close (built-in) and decline (district).
    assert set(info.value.allowed) == {"start", "check_in", "close", "decline"}


def test_the_engine_triggers_are_not_fired_through_fire() -> None:
    engine = _engine()
    iv = _opened(engine)[0]
    for trigger in ("start", "check_in", "follow_up_due", "meet_goal", "escalate", "close"):
        with pytest.raises(WorkflowError, match=r"not by Engine\.fire"):
            engine.fire(iv.id, trigger, on=MON, by="ms-lee")
    assert engine.repository.get(iv.id).state == "assigned"


def test_a_terminal_district_state_ends_the_intervention_and_frees_the_place() -> None:
    engine = _engine(limit=1)
    first = _opened(engine)
    owned = [iv for iv in first if iv.owner == "ms-lee"]
    assert len(owned) == 1  # a caseload of one
    ended = engine.fire(owned[0].id, "decline", on=MON, by="ms-lee", reason="family said no")
    assert ended.ended_on == MON
    assert ended.id not in {iv.id for iv in engine.repository.open_interventions()}
    assert engine.roster.load["ms-lee"] == 0
    with pytest.raises(IllegalTransitionError, match="nothing"):
        engine.fire(ended.id, "resume", on=MON, by="ms-lee")


def test_the_check_in_guards_read_the_recorded_check_ins() -> None:
    engine = _engine()
    iv = _opened(engine)[0]
    engine.start(iv.id, on=MON, by="ms-lee")
    with pytest.raises(IllegalTransitionError, match="has_check_in"):
        engine.fire(iv.id, "review", on=MON, by="ms-lee")
    with pytest.raises(IllegalTransitionError, match="goal_met_at_last_check_in"):
        engine.fire(iv.id, "confirm", on=MON, by="ms-lee")
    engine.check_in(iv.id, on=dt.date(2025, 10, 7), by="ms-lee", goal_met=True)
    engine.check_in(iv.id, on=dt.date(2025, 10, 8), by="ms-lee", goal_met=False)
    with pytest.raises(IllegalTransitionError, match="goal_met_at_last_check_in"):
        engine.fire(iv.id, "confirm", on=dt.date(2025, 10, 8), by="ms-lee")  # the last: not met
    engine.check_in(iv.id, on=dt.date(2025, 10, 9), by="ms-lee", goal_met=True)
    assert engine.fire(iv.id, "confirm", on=dt.date(2025, 10, 9), by="ms-lee").state == "met_goal"


def test_has_owner_refuses_an_unowned_intervention() -> None:
    engine = Engine(DISTRICT)  # nobody on the roster: every opening is unowned
    iv = _opened(engine)[0]
    assert iv.owner is None
    engine.start(iv.id, on=MON, by="ms-lee")
    engine.fire(iv.id, "hold", on=MON, by="ms-lee", reason="in hospital")
    with pytest.raises(IllegalTransitionError, match="has_owner"):
        engine.fire(iv.id, "resume", on=MON, by="ms-lee")


def test_a_sql_store_keeps_a_district_terminal_state_closed(tmp_path: Path) -> None:
    path = tmp_path / "records.db"
    with SqlRepository(path) as repo:
        engine = _engine(repo)
        iv, kept, *_ = _opened(engine)
        engine.fire(iv.id, "decline", on=MON, by="ms-lee")
        engine.start(kept.id, on=MON, by="ms-lee")
        engine.fire(kept.id, "hold", on=MON, by="ms-lee", reason="in hospital")
    with SqlRepository(path) as repo:
        still_open = {i.id: i.state for i in repo.open_interventions()}
        assert iv.id not in still_open
        assert still_open[kept.id] == "on_hold"


def test_an_intervention_on_hold_does_not_come_due_until_resumed() -> None:
    engine = _engine()
    iv = _opened(engine)[0]
    engine.start(iv.id, on=MON, by="ms-lee")
    follow_up = engine.repository.get(iv.id).next_follow_up
    assert follow_up is not None
    engine.fire(iv.id, "hold", on=MON, by="ms-lee", reason="in hospital")
    late = follow_up + dt.timedelta(days=14)  # well past the follow-up and the grace days
    plan = engine.advance(late)
    assert iv.id not in {d.id for d in plan.due}
    held = engine.repository.get(iv.id)
    assert (held.state, held.overdue) == ("on_hold", False)
    engine.fire(iv.id, "resume", on=late, by="ms-lee")
    plan = engine.advance(late)
    # Resumed (active again), its missed follow-up comes due at once: follow_up_due, overdue.
    assert iv.id in {d.id for d in plan.due}
    again = engine.repository.get(iv.id)
    assert (again.state, again.overdue) == ("follow_up_due", True)
