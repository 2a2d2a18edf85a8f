"""Legal-step readiness: condition plus evidence; conference attempts; checklists (issue 11).

- Readiness means the step's condition holds on the date *and* nothing is missing: NOT2 at 3
  truancies is not warranted (ca.yaml: NOT2 from 6), whatever is documented.
- EC 48262 declares a habitual truant only after a "conscientious effort" to hold a parent
  conference: a documented attempt meets ``requires.conferences_attempted`` (ca's NOT3) and
  never ``requires.conferences`` (a meeting held).
- A SART meeting counts only when recorded as held: an intervention called sart-meeting that was
  opened is no meeting.
- ca's SARB referral carries the SARB readiness checklist of shared/DOMAIN.md section 1; each
  item missing blocks the step and is named by its label.
- ``requires.min_check_ins`` counts an intervention only with that many check-ins by the date.

Absences are 2025-09-08 onward, Monday to Friday school days with no holiday, counted by hand.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierflow
from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.errors import RulesetError, WorkflowError
from tierflow.report import build_packet
from tierflow.workflow import Engine

CA = tierflow.load_ruleset("ca")
YEAR = (dt.date(2025, 8, 18), dt.date(2026, 5, 29))
CAL = SchoolCalendar.from_pattern("s", *YEAR)
SCHOOL_DAYS = [d for d in CAL.days if d >= dt.date(2025, 9, 8)]

SMALL = """
id: small
name: Conference and check-in prerequisites
version: "1"
metrics:
  - {id: truancies, expr: days_unexcused}
tiers:
  - {id: tier2, level: 2, when: "truancies >= 3", assign: [checkin]}
  - {id: tier1, level: 1, default: true}
interventions:
  - {id: checkin, tier: tier2, owner: mentor}
legal:
  - id: held
    when: truancies >= 3
    requires: {conferences: [parent_conference]}
  - id: tried
    when: truancies >= 3
    requires: {previous: false, conferences_attempted: [parent_conference]}
  - id: checked
    when: truancies >= 3
    requires: {previous: false, supportive_interventions: 1, min_check_ins: 2}
"""
SMALL_RS = tierflow.parse_ruleset(SMALL)


def _facts(sid: str, truancies: int, day: dt.date) -> dict[str, Any]:
    """Facts built from raw events: ``truancies`` unexcused days from 2025-09-08."""
    b = FactsBuilder({CAL.id: CAL})
    assert b.add_enrollment(Enrollment(sid, CAL.id, YEAR[0], grade=8))
    for d in SCHOOL_DAYS[:truancies]:
        assert b.add_event(AttendanceEvent(sid, CAL.id, d, "unexcused_absence"))
    facts = b.facts_for(sid, day)
    assert facts is not None and facts["days_unexcused"] == truancies
    return facts


def _status(engine: Engine, facts: dict[str, Any], step: str, on: dt.date) -> Any:
    decision = engine.ruleset.evaluate(engine.with_history(facts, as_of=on), as_of=on)
    return next((a for a in decision.legal_actions if a.step == step), None)


# --- readiness is condition and evidence -------------------------------------------------------


def test_not2_at_three_truancies_is_not_ready_whatever_is_documented() -> None:
    day = dt.date(2025, 10, 6)
    e = Engine(CA, calendars={"s": CAL})
    facts = _facts("r", 3, day)
    e.run(day, [facts])
    e.issue_legal("r", "not1", on=day, by="clerk", facts=facts)
    meeting = next(iv for iv in e.interventions("r") if iv.intervention == "root-cause-meeting")
    e.start(meeting.id, on=day, by="counselor")
    later = day + dt.timedelta(days=14)  # NOT1 + 14 days; a tier 2 support started: NOT2's
    later_facts = _facts("r", 3, later)  # evidence is complete, but 3 truancies < 6
    assert CA.evaluate(e.with_history(later_facts, as_of=later), as_of=later).legal_actions == ()
    given_facts = build_packet(e.repository, "r", CA, as_of=later, step="not2", facts=later_facts)
    recorded = build_packet(e.repository, "r", CA, as_of=later, step="not2")
    for packet in (given_facts, recorded):
        r = packet.readiness
        assert r is not None and not r.ready and r.missing == () and r.warranted is False
        assert r.verdict == "not warranted: truancies = 3 >= not2_from = 6 is false"
    with pytest.raises(WorkflowError, match="its condition does not hold"):
        e.issue_legal("r", "not2", on=later, by="clerk", facts=later_facts)
    six = _facts("r", 6, later)  # six truancies: warranted, and documented: ready
    r = build_packet(e.repository, "r", CA, as_of=later, step="not2", facts=six).readiness
    assert r is not None and r.ready and r.verdict == "ready" and r.warranted is True


# --- conferences: held or attempted --------------------------------------------------------------


def test_an_attempted_conference_meets_conferences_attempted_not_conferences() -> None:
    day = dt.date(2025, 9, 15)
    e = Engine(SMALL_RS)
    facts = _facts("a", 3, day)
    e.record_conference(
        "a",
        "parent_conference",
        on=day,
        by="ms-lee",
        outcome="attempted",
        method="letter",
        note="no reply",
    )
    tried, held = _status(e, facts, "tried", day), _status(e, facts, "held", day)
    assert tried.status == "due"
    assert (held.status, held.missing) == (
        "blocked",
        (
            "no parent conference has been held (an attempt is documented; this step needs one "
            "held)",
        ),
    )
    e.record_conference("a", "parent_conference", on=day, by="ms-lee")
    assert _status(e, facts, "held", day).status == "due"


def test_ca_not3_accepts_a_documented_attempt_as_ec_48262_does() -> None:
    # ca's NOT3 with NOT1/NOT2 issued and two tier 2 supports started, as in ca.yaml's tests.
    history = {
        "legal_steps": [
            {"step": "not1", "issued_on": "2025-10-15"},
            {"step": "not2", "issued_on": "2025-11-15"},
        ],
        "interventions": [
            {"intervention": "root-cause-meeting", "tier_level": 2, "started_on": "2025-10-20"},
            {"intervention": "weekly-checkin", "tier_level": 2, "started_on": "2025-11-20"},
        ],
    }
    facts = {"student_id": "n", "days_enrolled": 80, "days_absent": 9, "days_unexcused": 9}
    day = dt.date(2025, 12, 15)
    none = CA.evaluate(facts | {"history": history}, as_of=day)
    (not3,) = [a for a in none.legal_actions if a.step == "not3"]
    assert not3.missing == ("no parent conference has been held or attempted",)
    attempt = {
        "kind": "parent_conference",
        "held_on": "2025-12-01",
        "outcome": "attempted",
        "method": "call",
    }
    with_attempt = CA.evaluate(facts | {"history": history | {"conferences": [attempt]}}, as_of=day)
    assert "not3" in with_attempt.legal_due


def test_an_attempt_names_its_method() -> None:
    e = Engine(SMALL_RS)
    with pytest.raises(WorkflowError, match="needs its method"):
        e.record_conference(
            "a", "parent_conference", on=dt.date(2025, 9, 15), by="x", outcome="attempted"
        )
    with pytest.raises(WorkflowError, match="'held' or 'attempted'"):
        e.record_conference(
            "a", "parent_conference", on=dt.date(2025, 9, 15), by="x", outcome="missed"
        )
    with pytest.raises(tierflow.DataError, match="names its method"):
        SMALL_RS.evaluate(
            {
                "student_id": "a",
                "days_enrolled": 9,
                "days_absent": 3,
                "days_unexcused": 3,
                "history": {
                    "conferences": [
                        {
                            "kind": "parent_conference",
                            "held_on": "2025-09-15",
                            "outcome": "attempted",
                        }
                    ]
                },
            },
            as_of=dt.date(2025, 9, 16),
        )
    assert e.timeline("a") == []


# --- the SARB checklist ------------------------------------------------------------------------

SARB_DAY = dt.date(2026, 1, 20)
TWELVE = {"student_id": "s", "days_enrolled": 90, "days_absent": 12, "days_unexcused": 12}
LABELS = {item.id: item.label for s in CA.spec.legal for item in s.requires.checklist}


def _complete() -> dict[str, Any]:
    """A history meeting every item of ca's SARB checklist (DOMAIN section 1), by hand."""
    return {
        "legal_steps": [
            {"step": "not1", "issued_on": "2025-10-15"},
            {"step": "not2", "issued_on": "2025-11-15"},
            {"step": "not3", "issued_on": "2025-12-15"},
        ],
        "interventions": [
            {
                "intervention": "root-cause-meeting",
                "tier_level": 2,
                "started_on": "2025-10-20",
                "outcome": "mixed",
                "check_ins": 1,
            },
            {"intervention": "attendance-plan", "tier_level": 2, "started_on": "2025-11-01"},
        ],
        "conferences": [
            {
                "kind": "parent_conference",
                "held_on": "2025-12-01",
                "outcome": "attempted",
                "method": "letter",
            },
            {
                "kind": "home_visit",
                "held_on": "2025-12-03",
                "outcome": "attempted",
                "method": "home_visit",
                "note": "nobody home",
            },
            {"kind": "sart", "held_on": "2026-01-10"},
        ],
    }


def _sarb(history: dict[str, Any]) -> Any:
    decision = CA.evaluate(TWELVE | {"history": history}, as_of=SARB_DAY)
    return next(a for a in decision.legal_actions if a.step == "sarb-referral")


def test_the_complete_checklist_makes_sarb_due() -> None:
    assert _sarb(_complete()).status == "due"
    assert sorted(LABELS) == sorted(
        [
            "letters",
            "parent-contacts",
            "parent-conference",
            "home-visit",
            "sart-held",
            "tier-plan",
            "attendance-contract",
        ]
    )


def _without(item: str) -> dict[str, Any]:
    h = _complete()
    if item == "letters":  # NOT1 missing (NOT2 and NOT3 still there)
        h["legal_steps"] = h["legal_steps"][1:]
    elif item == "parent-contacts":  # 0 check-ins + 2 conferences = 2 < 3
        h["interventions"][0]["check_ins"] = 0
        h["conferences"] = [c for c in h["conferences"] if c["kind"] != "home_visit"]
        h["interventions"].append(
            {"intervention": "home-visit", "tier_level": 3, "started_on": "2025-12-03"}
        )  # the visit, tried instead
    elif item == "parent-conference":
        h["conferences"] = [c for c in h["conferences"] if c["kind"] != "parent_conference"]
        h["interventions"][0]["check_ins"] = 3  # contacts stay >= 3
    elif item == "home-visit":
        h["conferences"] = [c for c in h["conferences"] if c["kind"] != "home_visit"]
        h["interventions"][0]["check_ins"] = 3
    elif item == "sart-held":  # attempted is no meeting held
        h["conferences"][2] = {
            "kind": "sart",
            "held_on": "2026-01-10",
            "outcome": "attempted",
            "method": "letter",
        }
    elif item == "tier-plan":
        del h["interventions"][0]["outcome"]
    elif item == "attendance-contract":
        h["interventions"] = h["interventions"][:1]
    return h


@pytest.mark.parametrize("item", sorted(LABELS))
def test_each_checklist_item_missing_blocks_sarb_by_its_label(item: str) -> None:
    action = _sarb(_without(item))
    assert (action.status, action.missing) == ("blocked", (LABELS[item],))


def test_a_sart_meeting_opened_but_never_held_does_not_count() -> None:
    # 10 unexcused days of 10 enrolled: a chronic truant (EC 48263.6), so ca opens a
    # sart-meeting intervention, and the engine starts it; no SART conference is recorded.
    day = dt.date(2025, 9, 22)
    e = Engine(CA, calendars={"s": CAL})
    facts = _facts("t", 10, day)
    e.run(day, [facts])
    sart = next(iv for iv in e.interventions("t") if iv.intervention == "sart-meeting")
    e.start(sart.id, on=day, by="team")
    r = build_packet(e.repository, "t", CA, as_of=day, step="sarb-referral", facts=facts)
    assert r.readiness is not None and LABELS["sart-held"] in r.readiness.missing
    assert not any("sart held" in p for p in r.readiness.present)
    e.record_conference("t", "sart", on=day, by="team", outcome="attempted", method="letter")
    r = build_packet(e.repository, "t", CA, as_of=day, step="sarb-referral", facts=facts)
    assert r.readiness is not None and LABELS["sart-held"] in r.readiness.missing
    e.record_conference("t", "sart", on=day, by="team")
    r = build_packet(e.repository, "t", CA, as_of=day, step="sarb-referral", facts=facts)
    assert r.readiness is not None and LABELS["sart-held"] not in r.readiness.missing
    assert f"sart held on {day}" in r.readiness.present


# --- minimum check-ins -------------------------------------------------------------------------


def test_min_check_ins_counts_check_ins_documented_by_the_date() -> None:
    day = dt.date(2025, 9, 15)
    e = Engine(SMALL_RS)
    facts = _facts("m", 3, day)
    e.run(day, [facts])
    (iv,) = e.interventions("m")
    e.start(iv.id, on=day, by="mentor")
    missing = (
        "1 supportive intervention(s) with at least 2 check-in(s) must have been tried; found 0",
    )
    assert _status(e, facts, "checked", day).missing == missing
    e.check_in(iv.id, on=day + dt.timedelta(days=1), by="mentor")
    e.check_in(iv.id, on=day + dt.timedelta(days=8), by="mentor")
    # One check-in by 09-20: still blocked; both by 09-23: due.
    assert _status(e, facts, "checked", day + dt.timedelta(days=5)).missing == missing
    assert _status(e, facts, "checked", day + dt.timedelta(days=8)).status == "due"


# --- checklist conditions are checked at load -----------------------------------------------------


def test_a_bad_checklist_condition_is_a_load_error_with_its_place() -> None:
    text = (
        SMALL
        + """
  - id: referral
    when: truancies >= 3
    requires:
      previous: false
      checklist:
        - id: visit
          label: a home visit
          when: intervention_tried('home-vist')
        - id: facts
          label: facts are not history
          when: truancies >= 3
"""
    )
    with pytest.raises(RulesetError) as info:
        tierflow.parse_ruleset(text, name="small.yaml")
    shown = [str(p) for p in info.value.problems]
    assert len(shown) == 2, shown
    assert shown[0].startswith("small.yaml:30:")
    assert "expr.unknown_value" in shown[0] and "did you mean 'checkin'" not in shown[0]
    assert "'home-vist' is not a known intervention" in shown[0]
    assert shown[1].startswith("small.yaml:33:") and "expr.unknown_name" in shown[1]
    assert "reads the documented history only" in shown[1]


# --- the invariant -----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    attempts=st.lists(
        st.tuples(st.integers(0, 40), st.sampled_from(["letter", "call", "email", "home_visit"])),
        min_size=1,
        max_size=6,
    ),
    later=st.integers(0, 60),
)
def test_a_conference_recorded_as_attempted_never_satisfies_conferences(
    attempts: list[tuple[int, str]], later: int
) -> None:
    start = dt.date(2025, 9, 15)
    e = Engine(SMALL_RS)
    for offset, method in attempts:
        e.record_conference(
            "p",
            "parent_conference",
            on=start + dt.timedelta(days=offset),
            by="x",
            outcome="attempted",
            method=method,
        )
    day = start + dt.timedelta(days=later)
    facts = _facts("p", 3, day)
    assert _status(e, facts, "held", day).status == "blocked"
    first = min(start + dt.timedelta(days=o) for o, _ in attempts)
    assert _status(e, facts, "tried", day).status == ("due" if first <= day else "blocked")
