"""A letter issued on data a back-dated correction later removes is flagged (issue 11, 7b).

From raw events through the FactsBuilder and the Engine: a CA NOT1 issued at 3 truancies
(EC 48260: 3 unexcused absences in one school year), then one absence re-coded excused when a
note arrives. The facts are rebuilt from the corrected events, as a host does every night.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tierflow
from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.errors import WorkflowError
from tierflow.report import build_packet, compliance_report
from tierflow.store import SqlRepository
from tierflow.workflow import Engine, WorkflowEvent

D = dt.date
CAL = SchoolCalendar.from_pattern("lincoln", D(2025, 8, 18), D(2026, 5, 29))
SCHOOL_DAYS = [d for d in CAL.days if D(2025, 9, 1) <= d <= D(2025, 10, 31)]
CA = tierflow.load_ruleset("ca")
TX = tierflow.load_ruleset("tx")


def _facts(absences: dict[dt.date, str], as_of: dt.date) -> dict[str, object]:
    """Facts of student s1 as of a date, from raw events (day -> category)."""
    builder = FactsBuilder({"lincoln": CAL})
    builder.add_enrollment(Enrollment("s1", "lincoln", D(2025, 8, 18)))
    for day, category in absences.items():
        builder.add_event(AttendanceEvent("s1", "lincoln", day, category))
    facts = builder.facts_for("s1", as_of)
    assert facts is not None
    return facts


def _kind(engine: Engine, kind: str) -> list[WorkflowEvent]:
    return [e for e in engine.timeline("s1") if e.kind == kind]


THREE = {d: "unexcused_absence" for d in (D(2025, 9, 8), D(2025, 9, 9), D(2025, 9, 10))}
CORRECTED = THREE | {D(2025, 9, 9): "excused_absence"}  # a note arrived for 9 September


def _issued_not1() -> Engine:
    engine = Engine(CA, calendars={"lincoln": CAL})
    plan = engine.run(D(2025, 9, 10), [_facts(THREE, D(2025, 9, 10))])
    assert [a.step for _, a in plan.legal_due] == ["not1"]
    engine.issue_legal(
        "s1", "not1", on=D(2025, 9, 10), by="ms-diaz", facts=_facts(THREE, D(2025, 9, 10))
    )
    assert engine.run(D(2025, 9, 15), [_facts(THREE, D(2025, 9, 15))]).legal_flagged == []
    return engine


def test_a_correction_below_the_threshold_flags_the_letter_with_its_values() -> None:
    engine = _issued_not1()
    plan = engine.run(D(2025, 9, 22), [_facts(CORRECTED, D(2025, 9, 22))])
    (flag,) = plan.legal_flagged
    assert (flag.student_id, flag.step, flag.issued_on, flag.owner, flag.flagged_on) == (
        "s1",
        "not1",
        D(2025, 9, 10),
        "ms-diaz",
        D(2025, 9, 22),
    )
    # 3 unexcused days less the one excused: 2 truancies, under NOT1's 3 (EC 48260).
    assert flag.why == "truancies = 2 >= not1_from = 3 is false after corrections"
    (event,) = _kind(engine, "legal_flagged")
    assert event.at == D(2025, 9, 22)
    assert event.detail == {
        "step": "not1",
        "issued_on": D(2025, 9, 10),
        "why": flag.why,
        "owner": "ms-diaz",
    }
    assert "rescind it or notify the family" in event.why
    # The task stays in the plan at every run until resolved; the event is not repeated.
    again = engine.run(D(2025, 9, 23), [_facts(CORRECTED, D(2025, 9, 23))])
    assert [(f.step, f.flagged_on) for f in again.legal_flagged] == [("not1", D(2025, 9, 22))]
    assert len(_kind(engine, "legal_flagged")) == 1


def test_a_correction_that_leaves_the_grounds_flags_nothing() -> None:
    four = THREE | {D(2025, 9, 11): "unexcused_absence"}
    engine = Engine(CA, calendars={"lincoln": CAL})
    engine.run(D(2025, 9, 11), [_facts(four, D(2025, 9, 11))])
    engine.issue_legal(
        "s1", "not1", on=D(2025, 9, 11), by="ms-diaz", facts=_facts(four, D(2025, 9, 11))
    )
    fixed = four | {D(2025, 9, 9): "excused_absence"}  # 3 truancies remain
    assert engine.run(D(2025, 9, 22), [_facts(fixed, D(2025, 9, 22))]).legal_flagged == []
    assert _kind(engine, "legal_flagged") == []


@pytest.mark.parametrize("action", ["rescinded", "notified"])
def test_resolving_a_flag_ends_the_task(action: str) -> None:
    engine = _issued_not1()
    engine.run(D(2025, 9, 22), [_facts(CORRECTED, D(2025, 9, 22))])
    event = engine.resolve_flag(
        "s1", "not1", on=D(2025, 9, 24), by="ms-diaz", action=action, note="letter to family"
    )
    assert event.kind == "legal_flag_resolved"
    assert event.who == "ms-diaz"
    assert event.detail == {
        "step": "not1",
        "issued_on": D(2025, 9, 10),
        "action": action,
        "note": "letter to family",
    }
    assert engine.run(D(2025, 9, 25), [_facts(CORRECTED, D(2025, 9, 25))]).legal_flagged == []
    # Grounds return (a new truancy) and vanish again (re-coded too): the letter was already
    # reviewed on corrected data, so it is not flagged a second time.
    back = CORRECTED | {D(2025, 9, 29): "unexcused_absence"}
    engine.run(D(2025, 9, 29), [_facts(back, D(2025, 9, 29))])
    gone = back | {D(2025, 9, 29): "excused_absence"}
    assert engine.run(D(2025, 10, 6), [_facts(gone, D(2025, 10, 6))]).legal_flagged == []
    assert len(_kind(engine, "legal_flagged")) == 1
    with pytest.raises(WorkflowError, match="no open flag"):
        engine.resolve_flag("s1", "not1", on=D(2025, 10, 6), by="ms-diaz", action=action)


def test_resolve_flag_refuses_what_it_cannot_record() -> None:
    engine = _issued_not1()
    with pytest.raises(WorkflowError, match="no open flag on legal step 'not1'"):
        engine.resolve_flag("s1", "not1", on=D(2025, 9, 24), by="ms-diaz", action="notified")
    engine.run(D(2025, 9, 22), [_facts(CORRECTED, D(2025, 9, 22))])
    with pytest.raises(WorkflowError, match="unknown action 'ignored'"):
        engine.resolve_flag("s1", "not1", on=D(2025, 9, 24), by="ms-diaz", action="ignored")
    with pytest.raises(WorkflowError, match="staff id"):
        engine.resolve_flag("s1", "not1", on=D(2025, 9, 24), by=" ", action="notified")
    with pytest.raises(WorkflowError, match="predates the flag"):
        engine.resolve_flag("s1", "not1", on=D(2025, 9, 21), by="ms-diaz", action="notified")
    assert _kind(engine, "legal_flag_resolved") == []


def test_a_flag_shows_in_the_packet_and_the_compliance_report_until_resolved() -> None:
    engine = _issued_not1()
    engine.run(D(2025, 9, 22), [_facts(CORRECTED, D(2025, 9, 22))])
    packet = build_packet(engine.repository, "s1", CA, as_of=D(2025, 9, 23))
    (flag,) = packet.flags
    assert (flag.step, flag.issued_on, flag.flagged_on, flag.owner) == (
        "not1",
        D(2025, 9, 10),
        D(2025, 9, 22),
        "ms-diaz",
    )
    assert "truancies = 2" in packet.to_html()
    assert "truancies = 2" in packet.to_csv()
    assert '"flags"' in packet.to_json()
    report = compliance_report(engine.repository, CA, students=["s1"], as_of=D(2025, 9, 23))
    (check,) = report.steps
    assert "grounds_removed" in check.flags
    assert check.correction == (
        "issued 2025-09-10, flagged 2025-09-22: truancies = 2 >= not1_from = 3 is false after "
        "corrections; to rescind or notify (ms-diaz)"
    )
    assert "grounds removed" in report.to_html()
    assert "grounds_removed" in report.to_csv()

    engine.resolve_flag("s1", "not1", on=D(2025, 9, 24), by="ms-diaz", action="rescinded")
    packet = build_packet(engine.repository, "s1", CA, as_of=D(2025, 9, 25))
    assert packet.flags == ()
    # The timeline still documents both, in order.
    kinds = [e.kind for e in packet.timeline]
    assert kinds.index("legal_flagged") < kinds.index("legal_flag_resolved")
    (check,) = compliance_report(engine.repository, CA, students=["s1"]).steps
    assert "grounds_removed" not in check.flags
    assert check.correction.startswith("rescinded on 2025-09-24")


# --- the invariant: a correction that removes the grounds for an issued step always flags it ---


@settings(max_examples=40, deadline=None)
@given(
    days=st.lists(st.sampled_from(SCHOOL_DAYS), min_size=3, max_size=8, unique=True),
    excuse=st.data(),
)
def test_a_correction_under_not1s_threshold_always_flags_it(
    days: list[dt.date], excuse: st.DataObject
) -> None:
    days.sort()
    issued_on = days[-1]
    absences = {d: "unexcused_absence" for d in days}
    engine = Engine(CA, calendars={"lincoln": CAL})
    engine.run(issued_on, [_facts(absences, issued_on)])
    engine.issue_legal("s1", "not1", on=issued_on, by="clerk", facts=_facts(absences, issued_on))
    excused = excuse.draw(st.lists(st.sampled_from(days), unique=True))
    corrected = absences | dict.fromkeys(excused, "excused_absence")
    later = D(2025, 11, 10)
    plan = engine.run(later, [_facts(corrected, later)])
    removed = len(days) - len(excused) < 3  # EC 48260: three truancies make a truant
    assert [f.step for f in plan.legal_flagged] == (["not1"] if removed else [])
    assert len(_kind(engine, "legal_flagged")) == int(removed)


@settings(max_examples=40, deadline=None)
@given(
    days=st.lists(st.sampled_from(SCHOOL_DAYS[:15]), min_size=3, max_size=6, unique=True),
    after=st.lists(st.sampled_from(SCHOOL_DAYS[20:]), max_size=4, unique=True),
    excuse=st.data(),
)
def test_later_absences_do_not_hide_a_removed_tx_notice(
    days: list[dt.date], after: list[dt.date], excuse: st.DataObject
) -> None:
    """TX counts windows over the log: its condition is read as of the issue date."""
    days.sort()
    # The notice goes out on the first day three fall within four weeks (TEC 25.095(b));
    # SCHOOL_DAYS[:15] spans three weeks, so that is the third absence.
    issued_on = days[2]
    absences = {d: "unexcused_absence" for d in days}
    engine = Engine(TX, calendars={"lincoln": CAL})
    engine.run(issued_on, [_facts(absences, issued_on)])
    engine.issue_legal(
        "s1", "parent-notice", on=issued_on, by="clerk", facts=_facts(absences, issued_on)
    )
    excused = excuse.draw(st.lists(st.sampled_from(days[:3]), unique=True))
    corrected = absences | dict.fromkeys(excused, "excused_absence")
    corrected |= dict.fromkeys(after, "unexcused_absence")  # absences after it was issued
    later = D(2025, 11, 10)
    plan = engine.run(later, [_facts(corrected, later)])
    removed = bool(excused)  # on its issue date only the first three were recorded
    flagged = [f.step for f in plan.legal_flagged if f.step == "parent-notice"]
    assert flagged == (["parent-notice"] if removed else [])


def test_a_reopened_store_remembers_flags_and_deadlines(tmp_path: Path) -> None:
    """The trail is read from stored events: dates in their details come back as dates."""
    path = tmp_path / "records.db"
    with SqlRepository(path) as repo:
        engine = Engine(CA, repository=repo, calendars={"lincoln": CAL})
        engine.run(D(2025, 9, 10), [_facts(THREE, D(2025, 9, 10))])
        engine.issue_legal(
            "s1", "not1", on=D(2025, 9, 10), by="ms-diaz", facts=_facts(THREE, D(2025, 9, 10))
        )
        assert len(engine.run(D(2025, 9, 22), [_facts(CORRECTED, D(2025, 9, 22))]).legal_flagged)
    with SqlRepository(path) as repo:
        engine = Engine(CA, repository=repo, calendars={"lincoln": CAL})
        (flag,) = engine.run(D(2025, 9, 23), [_facts(CORRECTED, D(2025, 9, 23))]).legal_flagged
        assert flag.flagged_on == D(2025, 9, 22)  # the stored flag, not a new one
        engine.resolve_flag("s1", "not1", on=D(2025, 9, 24), by="ms-diaz", action="rescinded")
    with SqlRepository(path) as repo:
        engine = Engine(CA, repository=repo, calendars={"lincoln": CAL})
        assert engine.run(D(2025, 9, 25), [_facts(CORRECTED, D(2025, 9, 25))]).legal_flagged == []
        kinds = [e.kind for e in engine.timeline("s1")]
        assert (kinds.count("legal_flagged"), kinds.count("legal_flag_resolved")) == (1, 1)
