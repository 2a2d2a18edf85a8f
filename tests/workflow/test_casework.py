"""Staff act on cases (issue 14): owners by hand, freed places, findings, manual openings.

Expected values are worked out by hand from the mtss playbook: 2 absences in 30 enrolled days
(6.7%) is Tier 2, which opens a weekly check-in (a mentor's, weekly) and a family call (a
counselor's, biweekly); 2025-10-06 is a Monday.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

import tierflow
from tierflow.errors import WorkflowError
from tierflow.workflow import Engine, Roster, StaffMember

MTSS = tierflow.load_ruleset("mtss")
MONDAY = dt.date(2025, 10, 6)
TUESDAY = dt.date(2025, 10, 7)


def facts(sid: str, absent: int = 2, **more: object) -> dict[str, object]:
    return {
        "student_id": sid,
        "school_id": "lincoln",
        "days_enrolled": 30,
        "days_absent": absent,
        **more,
    }


def engine(mentor_limit: int = 1) -> Engine:
    return Engine(
        MTSS,
        roster=Roster(
            [
                StaffMember("mentor-1", "lincoln", ("mentor",), caseload_limit=mentor_limit),
                StaffMember("mentor-2", "lincoln", ("mentor",), caseload_limit=mentor_limit),
                StaffMember("counselor-1", "lincoln", ("counselor",), caseload_limit=10),
                StaffMember("mentor-9", "grant", ("mentor",)),
            ]
        ),
    )


def checkins(e: Engine) -> dict[str, str]:
    """Each student's weekly check-in id."""
    return {
        sid: iv.id
        for sid in ("s1", "s2", "s3")
        for iv in e.interventions(sid)
        if iv.intervention == "weekly-checkin"
    }


def three_students() -> tuple[Engine, dict[str, str]]:
    e = engine()
    e.run(MONDAY, [facts("s1"), facts("s2"), facts("s3")])
    return e, checkins(e)


def test_an_unowned_case_stays_listed_until_someone_takes_it() -> None:
    e, ids = three_students()
    # Two mentors with room for one case each: s1 and s2 are owned, s3 waits.
    assert [e.repository.get(ids[s]).owner for s in ("s1", "s2", "s3")] == [
        "mentor-1",
        "mentor-2",
        None,
    ]
    for later in (e.advance(TUESDAY), e.run(TUESDAY, [facts("s3")])):
        assert [u.intervention_id for u in later.unassigned] == [ids["s3"]]
    e.assign(ids["s3"], "mentor-1", on=TUESDAY, by="principal", reason="urgent", override=True)
    assert e.advance(TUESDAY).unassigned == []


def test_assigning_checks_the_roster_school_role_and_caseload() -> None:
    e, ids = three_students()
    s3 = ids["s3"]
    bad = {
        "mentr-1": "did you mean 'mentor-1'?",
        "mentor-9": "works at school grant",
        "counselor-1": "needs a mentor",
        "mentor-1": "at their caseload limit (1)",
    }
    for staff, message in bad.items():
        with pytest.raises(WorkflowError, match=re.escape(message)):
            e.assign(s3, staff, on=TUESDAY, by="principal", reason="cover")
    with pytest.raises(WorkflowError, match="needs a reason"):
        e.assign(s3, "mentor-1", on=TUESDAY, by="principal", reason=" ", override=True)
    with pytest.raises(WorkflowError, match="already owns"):
        e.assign(ids["s1"], "mentor-1", on=TUESDAY, by="principal", reason="again")
    assert len(e.timeline("s3")) == 3  # decision and two openings: nothing was recorded
    assert e.roster.load["mentor-1"] == 1


def test_an_override_is_recorded_and_counted() -> None:
    e, ids = three_students()
    iv = e.assign(
        ids["s3"], "mentor-2", on=TUESDAY, by="principal", reason="knows the family", override=True
    )
    assert iv.owner == "mentor-2" and e.roster.load["mentor-2"] == 2  # one over the limit
    last = e.timeline("s3")[-1]
    assert (last.kind, last.who, last.why, last.intervention_id) == (
        "assigned",
        "principal",
        "knows the family",
        ids["s3"],
    )
    assert last.detail == {
        "from": None,
        "to": "mentor-2",
        "role": "mentor",
        "reason": "knows the family",
        "override": True,
    }


def test_a_closed_case_gives_its_place_to_the_oldest_unowned_one() -> None:
    e = engine()
    e.run(MONDAY, [facts("s1"), facts("s2"), facts("s3")])
    e.run(TUESDAY, [facts("s4")])  # opened a day later: younger than s3's
    s4 = next(iv.id for iv in e.interventions("s4") if iv.intervention == "weekly-checkin")
    ids = checkins(e)
    e.close(ids["s1"], on=TUESDAY, by="mentor-1", reason="moved to another program")
    assert e.repository.get(ids["s3"]).owner == "mentor-1"  # the older waiting case
    assert e.repository.get(s4).owner is None
    offered = e.timeline("s3")[-1]
    assert (offered.kind, offered.who) == ("assigned", "tierflow")
    assert offered.detail is not None and offered.detail["from"] is None
    assert offered.detail["to"] == "mentor-1" and offered.detail["override"] is False
    assert f"{ids['s1']} of mentor-1 ended (closed)" in offered.why
    assert e.roster.load["mentor-1"] == 1  # released one, took one


def test_reassigning_moves_the_load_and_offers_the_freed_place() -> None:
    e, ids = three_students()
    # mentor-2 takes s1's case over the limit; mentor-1's freed place goes to s3's.
    e.assign(ids["s1"], "mentor-2", on=TUESDAY, by="principal", reason="swap", override=True)
    assert e.repository.get(ids["s3"]).owner == "mentor-1"
    assert (e.roster.load["mentor-1"], e.roster.load["mentor-2"]) == (1, 2)
    moved = [ev for ev in e.timeline("s1") if ev.kind == "assigned"]
    assert [ev.detail["from"] for ev in moved if ev.detail] == ["mentor-1"]


def test_unassigning_releases_the_owner_and_never_hands_it_straight_back() -> None:
    e, ids = three_students()
    with pytest.raises(WorkflowError, match="has no owner"):
        e.unassign(ids["s3"], on=TUESDAY, by="principal", reason="x")
    e.unassign(ids["s1"], on=TUESDAY, by="mentor-1", reason="conflict of interest")
    # mentor-1's place goes to s3's older-waiting case? Both opened Monday: s1's id is older,
    # but it was taken from mentor-1, so s3's gets the place and s1's waits.
    assert e.repository.get(ids["s1"]).owner is None
    assert e.repository.get(ids["s3"]).owner == "mentor-1"
    kinds = [ev.kind for ev in e.timeline("s1")][-1:]
    assert kinds == ["unassigned"]
    (waiting,) = e.advance(TUESDAY).unassigned
    assert waiting.intervention_id == ids["s1"]
    assert "caseload limit" in waiting.reason


def test_ended_cases_cannot_change_hands() -> None:
    e, ids = three_students()
    e.close(ids["s2"], on=TUESDAY, by="mentor-2", reason="family moved")
    with pytest.raises(WorkflowError, match="has ended"):
        e.assign(ids["s2"], "mentor-1", on=TUESDAY, by="x", reason="y", override=True)


def test_a_barrier_is_a_cause_of_the_vocabulary_and_a_fact_on_the_next_run() -> None:
    e, ids = three_students()
    with pytest.raises(WorkflowError, match=r"unknown cause 'transportaton'.*'transportation'"):
        e.record_barrier("s1", "transportaton", on=TUESDAY, by="counselor-1")
    with pytest.raises(WorkflowError, match="is student s2's, not s1's"):
        e.record_barrier("s1", "health", on=TUESDAY, by="counselor-1", intervention_id=ids["s2"])
    assert len(e.timeline("s1")) == 3
    ev = e.record_barrier(
        "s1",
        "transportation",
        on=TUESDAY,
        by="counselor-1",
        note="no bus",
        intervention_id=ids["s1"],
    )
    assert (ev.kind, ev.who, ev.intervention_id) == ("barrier", "counselor-1", ids["s1"])
    assert ev.detail == {"cause": "transportation", "note": "no bus"}
    # mtss: transportation in tier 2 assigns transport-support (a social worker's).
    plan = e.run(TUESDAY, [facts("s1", causes=["health"])])
    assert sorted(iv.intervention for iv in plan.opened) == ["nurse-consult", "transport-support"]


def test_notes_contacts_and_attachments_are_one_event_each() -> None:
    e, _ = three_students()
    digest = "ab" * 32
    before = len(e.timeline("s1"))
    e.add_note("s1", "older brother walks him", on=TUESDAY, by="mentor-1")
    e.record_contact("s1", "call", "no_answer", on=TUESDAY, by="counselor-1")
    e.attach("s1", "doc-17", digest, on=TUESDAY, by="nurse", title="doctor's note")
    notes = e.timeline("s1")[before:]
    assert [(ev.kind, ev.why) for ev in notes] == [
        ("note", "note"),
        ("contact", "call contact: no answer"),
        ("attachment", "attached doctor's note"),
    ]
    assert [ev.detail for ev in notes] == [
        {"note": "older brother walks him"},
        {"method": "call", "outcome": "no_answer"},
        {"document": "doc-17", "sha256": digest, "title": "doctor's note"},
    ]
    bad = [
        lambda: e.add_note("s1", "  ", on=TUESDAY, by="x"),
        lambda: e.record_contact("s1", "Call!", "reached", on=TUESDAY, by="x"),
        lambda: e.record_contact("s1", "call", "no_anwser", on=TUESDAY, by="x"),
        lambda: e.attach("s1", "doc-18", "AB" * 32, on=TUESDAY, by="x"),
        lambda: e.attach("s1", "doc-18", digest, on=dt.datetime(2025, 10, 7, 9), by="x"),  # type: ignore[arg-type]
    ]
    for call in bad:
        with pytest.raises(WorkflowError):
            call()
    assert len(e.timeline("s1")) == before + 3
