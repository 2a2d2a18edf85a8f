"""Support that was actually given: only started interventions count as "tried" (issue 11, 6).

EC 48261/48262 (and the ca rule set's NOT2/NOT3/SARB prerequisites) ask for supportive
interventions *tried and documented* before the next truancy letter. An intervention the
workflow opened but nobody ever worked (no owner, never started, no check-in) was not tried,
and one closed because the data that opened it was corrected away was never warranted. So the
history the engine hands the legal ladder lists an intervention only once it was started (by
``start`` or a first check-in), from that date, and never one withdrawn on corrected data.

Expected values come from the statute's reading above and from hand-counted calendars: the
absences below are 2025-09-08 to 2025-09-16, seven school days (Monday to Friday, no holiday),
so seven truancies: NOT1 from 3, NOT2 from 6 (ca.yaml's 3/6/9 ladder).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierflow
from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.errors import WorkflowError
from tierflow.store import SqlRepository
from tierflow.workflow import Engine, Roster, StaffMember

CA = tierflow.load_ruleset("ca")
YEAR = (dt.date(2025, 8, 18), dt.date(2026, 5, 29))
CAL = SchoolCalendar.from_pattern("s", *YEAR)
SEVEN = [dt.date(2025, 9, d) for d in (8, 9, 10, 11, 12, 15, 16)]
# NOT2/NOT3 count supportive interventions; the SARB referral's checklist asks for a tier 2+
# intervention with an outcome (interventions_with_outcome(2) >= 1).
NEEDS_SUPPORT = frozenset(
    s.id
    for s in CA.spec.legal
    if s.requires.supportive_interventions
    or any("interventions_with_outcome" in item.when for item in s.requires.checklist)
)


def _builder(sid: str, unexcused: list[dt.date]) -> FactsBuilder:
    b = FactsBuilder({CAL.id: CAL})
    assert b.add_enrollment(Enrollment(sid, CAL.id, YEAR[0], grade=8))
    for day in unexcused:
        assert b.add_event(AttendanceEvent(sid, CAL.id, day, "unexcused_absence"))
    return b


def _facts(b: FactsBuilder, sid: str, day: dt.date) -> dict[str, Any]:
    facts = b.facts_for(sid, day)
    assert facts is not None
    return facts


def _status(e: Engine, facts: dict[str, Any], step: str, on: dt.date) -> str:
    decision = e.ruleset.evaluate(e.with_history(facts), as_of=on)
    return next(a.status for a in decision.legal_actions if a.step == step)


def test_the_premise_ca_asks_for_support_before_not2_not3_and_sarb() -> None:
    assert sorted(NEEDS_SUPPORT) == ["not2", "not3", "sarb-referral"]


def test_no_roster_interventions_never_start_and_not2_stays_blocked() -> None:
    b = _builder("x", SEVEN)
    e = Engine(CA, calendars={"s": CAL})  # nobody on the roster: nothing is ever owned
    first = dt.date(2025, 9, 22)
    facts = _facts(b, "x", first)
    assert facts["days_unexcused"] == 7
    plan = e.run(first, [facts])
    assert plan.opened and all(iv.owner is None and iv.state == "assigned" for iv in plan.opened)
    e.issue_legal("x", "not1", on=first, by="clerk", facts=facts)

    later = dt.date(2025, 10, 6)  # 14 days after NOT1: the 10-day wait is over
    plan = e.run(later, [_facts(b, "x", later)])
    assert plan.legal_due == []
    ((_, not2),) = plan.legal_blocked
    assert (not2.step, not2.missing) == (
        "not2",
        ("1 supportive tier 2+ intervention(s) must have been tried; found 0",),
    )
    with pytest.raises(WorkflowError, match="must have been tried; found 0"):
        e.issue_legal("x", "not2", on=later, by="clerk", facts=_facts(b, "x", later))
    assert e.with_history(_facts(b, "x", later))["history"]["interventions"] == []

    # Someone starts the root-cause meeting on 2025-10-08: tried from that day, not before.
    meeting = next(iv for iv in e.interventions("x") if iv.intervention == "root-cause-meeting")
    start = dt.date(2025, 10, 8)
    e.start(meeting.id, on=start, by="counselor-9")
    assert _status(e, _facts(b, "x", start), "not2", start - dt.timedelta(days=1)) == "blocked"
    assert _status(e, _facts(b, "x", start), "not2", start) == "due"
    plan = e.run(start, [_facts(b, "x", start)])
    assert [(a.step, a.status) for _, a in plan.legal_due] == [("not2", "due")]
    e.issue_legal("x", "not2", on=start, by="clerk", facts=_facts(b, "x", start))


def test_a_first_check_in_starts_it_and_a_host_close_keeps_it_tried() -> None:
    b = _builder("y", SEVEN)
    e = Engine(CA, calendars={"s": CAL})
    first = dt.date(2025, 9, 22)
    e.run(first, [_facts(b, "y", first)])
    meeting = next(iv for iv in e.interventions("y") if iv.intervention == "root-cause-meeting")
    assert meeting.state == "assigned"
    e.check_in(meeting.id, on=dt.date(2025, 10, 1), by="counselor-9", outcome="positive")
    e.close(meeting.id, on=dt.date(2025, 10, 20), by="counselor-9", reason="plan ended")
    tried = e.with_history(_facts(b, "y", dt.date(2025, 10, 21)))["history"]["interventions"]
    assert tried == [
        {
            "intervention": "root-cause-meeting",
            "tier_level": 2,
            "started_on": dt.date(2025, 10, 1),
            "ended_on": dt.date(2025, 10, 20),
            "outcome": "positive",
            "check_ins": 1,
        }
    ]


def _log(days: list[str], kind: str = "unexcused") -> list[dict[str, str]]:
    return [{"date": d, "kind": kind} for d in days]


def test_an_escalation_withdrawn_on_corrected_data_was_not_tried() -> None:
    roster = Roster([StaffMember("c1", "s", ("mentor", "counselor", "social_worker"), 50)])
    e = Engine(CA, roster=roster, calendars={"s": CAL})
    monday = dt.date(2025, 10, 6)
    facts = {
        "student_id": "w",
        "school_id": "s",
        "days_enrolled": 40,
        "days_absent": 3,
        "days_unexcused": 3,
        "attendance_log": _log(["2025-10-20", "2025-10-21"]),
        "provenance": {"events_sha256": "a"},
    }
    e.run(monday, [facts])
    first = list(e.interventions("w"))
    for iv in first:
        e.start(iv.id, on=monday, by="c1")
    checkin = next(iv for iv in first if iv.intervention == "weekly-checkin")
    assert checkin.review_on is not None
    plan = e.run(checkin.review_on, [facts])
    (visit,) = [iv for iv in plan.opened if iv.intervention == "home-visit"]
    e.start(visit.id, on=checkin.review_on, by="c1")
    corrected = facts | {
        "days_absent": 1,
        "days_unexcused": 1,
        "attendance_log": _log(["2025-10-20"], "excused"),
        "provenance": {"events_sha256": "b"},
    }
    plan = e.run(checkin.review_on, [corrected])
    assert plan.withdrawn == [visit]
    (close,) = [ev for ev in e.timeline("w") if ev.trigger == "close"]
    assert close.detail == {"withdrawn": "corrected_data"}
    tried = e.with_history(corrected)["history"]["interventions"]
    # Every intervention opened on 2025-10-06 was started that day; the home visit is not there.
    assert sorted(t["intervention"] for t in tried) == sorted(iv.intervention for iv in first)
    assert all(t["started_on"] == monday for t in tried)


# --- the invariant: a never-started intervention never satisfies a prerequisite ---------------

_DAYS = [d for d in CAL.days if dt.date(2025, 9, 2) <= d <= dt.date(2025, 12, 19)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    absences=st.lists(st.sampled_from(_DAYS), min_size=3, max_size=25, unique=True),
    runs=st.lists(st.sampled_from(_DAYS), min_size=1, max_size=10, unique=True),
    staffed=st.booleans(),
    conferences=st.booleans(),
    closes=st.lists(st.booleans(), max_size=10),
)
def test_a_never_started_intervention_never_satisfies_a_prerequisite(
    absences: list[dt.date],
    runs: list[dt.date],
    staffed: bool,
    conferences: bool,
    closes: list[bool],
) -> None:
    """Runs where interventions open (owned or not) but are never started nor checked in.

    Every step that needs no support is issued as soon as it is due, conferences are held and
    some interventions are closed by the host (assigned -> closed is not a start): still no
    step that needs supportive interventions is ever due, nor accepted by ``issue_legal``.
    """
    b = _builder("p", absences)
    staff = [StaffMember("m", "s", ("mentor", "counselor", "social_worker", "attendance_team"))]
    e = Engine(CA, roster=Roster(staff if staffed else ()), calendars={"s": CAL})
    pending = list(closes)
    for day in sorted(runs):
        facts = _facts(b, "p", day)
        plan = e.run(day, [facts])
        assert plan.rejected == []
        assert not [a.step for _, a in plan.legal_due if a.step in NEEDS_SUPPORT]
        for _, action in plan.legal_due:
            e.issue_legal("p", action.step, on=day, by="clerk", facts=facts)
        for step in sorted(NEEDS_SUPPORT - set(e.repository.issued("p"))):
            with pytest.raises(WorkflowError):
                e.issue_legal("p", step, on=day, by="clerk", facts=facts)
        if conferences:
            for kind in ("parent_conference", "sart"):
                e.record_conference("p", kind, on=day, by="m")
        for iv in e.interventions("p"):
            if iv.state == "assigned" and pending and pending.pop():
                e.close(iv.id, on=day, by="m", reason="family declined")
        assert e.with_history(facts).get("history", {}).get("interventions", []) == []
    assert not NEEDS_SUPPORT & set(e.repository.issued("p"))


def test_a_reopened_store_remembers_when_an_intervention_started(tmp_path: Path) -> None:
    b = _builder("r", SEVEN)
    first, start = dt.date(2025, 9, 22), dt.date(2025, 10, 8)
    with SqlRepository(tmp_path / "records.db") as repo:
        e = Engine(CA, repository=repo, calendars={"s": CAL})
        e.run(first, [_facts(b, "r", first)])
        meeting = next(iv for iv in e.interventions("r") if iv.intervention == "root-cause-meeting")
        e.start(meeting.id, on=start, by="counselor-9")
    with SqlRepository(tmp_path / "records.db") as repo:
        again = Engine(CA, repository=repo, calendars={"s": CAL})
        tried = again.with_history(_facts(b, "r", start))["history"]["interventions"]
    assert [(t["intervention"], t["started_on"]) for t in tried] == [("root-cause-meeting", start)]
