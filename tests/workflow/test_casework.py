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


def test_staff_open_from_the_catalogue_and_the_rules_never_open_a_second() -> None:
    e, _ = three_students()
    with pytest.raises(WorkflowError, match=r"no intervention 'mentr'.*did you mean 'mentor'"):
        e.open_intervention("s1", "mentr", on=TUESDAY, by="counselor-1", reason="engaged")
    with pytest.raises(WorkflowError, match=r"no tier 'tier4'"):
        e.open_intervention("s1", "mentor", on=TUESDAY, by="c", reason="r", tier="tier4")
    with pytest.raises(WorkflowError, match="already"):
        e.open_intervention("s1", "weekly-checkin", on=TUESDAY, by="c", reason="again")
    iv = e.open_intervention(
        "s1", "mentor", on=TUESDAY, by="counselor-1", reason="loves robotics", tier="tier3"
    )
    # The student's school comes from their other cases; mentors are full (1 each): unowned.
    assert (iv.school_id, iv.tier_level, iv.owner, iv.reason) == (
        "lincoln",
        3,
        None,
        "loves robotics",
    )
    assert iv.next_follow_up == dt.date(2025, 10, 14)  # weekly: a week after Tuesday
    opened = e.timeline("s1")[-1]
    assert (opened.kind, opened.who, opened.intervention_id) == ("opened", "counselor-1", iv.id)
    assert opened.detail is not None and opened.detail["opened_by"] == "counselor-1"
    # mtss: the engagement cause assigns a mentor; the one opened by hand is open.
    plan = e.run(TUESDAY, [facts("s1", causes=["engagement"])])
    assert plan.opened == []
    assert [x.intervention for x in e.interventions("s1")].count("mentor") == 1


def test_an_intervention_without_a_cadence_is_due_until_held() -> None:
    # mtss: iep-team-notice (a case manager's) has no cadence; the iep group assigns it.
    e = engine()
    e.roster.add(StaffMember("cm-1", "lincoln", ("case_manager",)))
    plan = e.run(MONDAY, [facts("s1", groups=["iep"])])
    (notice,) = [iv for iv in plan.opened if iv.intervention == "iep-team-notice"]
    assert notice.next_follow_up == MONDAY and notice in plan.due
    assert notice in e.advance(dt.date(2025, 10, 8)).due  # still due two days on
    e.check_in(notice.id, on=dt.date(2025, 10, 8), by="cm-1", note="team met")
    assert notice.next_follow_up is None
    assert notice not in e.advance(dt.date(2025, 10, 9)).due


def test_escalating_into_a_kind_already_open_links_to_it() -> None:
    # mtss: family-call (no measurable goal) escalates to family-meeting at its review, 20
    # school days after Monday 6 October (3 November), when the latest check-in judged the goal
    # not met; the counselor opened a family meeting by hand meanwhile.
    e, _ = three_students()
    call = next(iv for iv in e.interventions("s1") if iv.intervention == "family-call")
    e.check_in(call.id, on=dt.date(2025, 10, 13), by="counselor-1", goal_met=False)
    meeting = e.open_intervention(
        "s1", "family-meeting", on=dt.date(2025, 10, 14), by="counselor-1", reason="dad asked"
    )
    plan = e.run(dt.date(2025, 10, 31), [facts("s1")])
    assert plan.escalated == []  # the day before the review
    plan = e.run(dt.date(2025, 11, 3), [facts("s1")])
    assert plan.escalated == [call] and plan.opened == [] and plan.rejected == []
    (esc,) = [ev for ev in e.timeline("s1") if ev.trigger == "escalate"]
    assert esc.detail == {"linked_to": meeting.id}
    assert esc.why.endswith(f"escalates to family-meeting, already open as {meeting.id}")


def test_a_case_offered_a_place_later_in_the_same_run_is_not_reported_unassigned() -> None:
    # One counselor with room for one case. s1's family call (no measurable goal) is reviewed
    # 20 school days after Monday 6 October, on 3 November, and its check-in judged it met.
    e = Engine(
        MTSS,
        roster=Roster(
            [
                StaffMember("mentor-1", "lincoln", ("mentor",)),
                StaffMember("counselor-1", "lincoln", ("counselor",), caseload_limit=1),
            ]
        ),
    )
    e.run(MONDAY, [facts("s1")])
    call = next(iv for iv in e.interventions("s1") if iv.intervention == "family-call")
    e.check_in(call.id, on=dt.date(2025, 10, 13), by="counselor-1", goal_met=True)
    # s2 comes first in the batch: its family call opens unowned, then s1's ends and frees
    # the counselor's place, which s2's takes.
    plan = e.run(dt.date(2025, 11, 3), [facts("s2"), facts("s1")])
    assert plan.met_goal == [call]
    (s2_call,) = [iv for iv in plan.opened if iv.intervention == "family-call"]
    assert s2_call.owner == "counselor-1" and plan.unassigned == []
