"""Static analysis: seeded faults each give the right finding, with a checked witness."""

from __future__ import annotations

import datetime as dt

import pytest

import tierflow
from tierflow.analysis import Finding, analyze
from tierflow.analysis._analyze import WITNESS_AS_OF

HEAD = 'id: seeded\nname: Seeded\nversion: "1"\n'
TIERS = """
tiers:
  - id: tier3
    level: 3
    when: absence_rate >= 20%
  - id: tier2
    level: 2
    when: absence_rate >= 5%
  - id: tier1
    level: 1
    default: true
"""
CATALOGUE = """
interventions:
  - id: call
    tier: tier2
    owner: counselor
  - id: visit
    tier: tier3
    owner: social_worker
"""


def findings(text: str) -> list[Finding]:
    return analyze(tierflow.parse_ruleset(HEAD + text, name="seeded.yaml"))


@pytest.mark.parametrize("name", ["mtss", "ca", "tx"])
def test_built_in_rule_sets_have_no_warnings(name: str) -> None:
    assert [f for f in analyze(tierflow.load_ruleset(name)) if f.severity == "warning"] == []


def test_a_shadowed_tier_is_found_with_a_student_who_shows_it() -> None:
    (f,) = findings(
        """
tiers:
  - id: tier2
    level: 2
    when: absence_rate >= 5%
  - id: tier3
    level: 3
    when: absence_rate >= 20%
  - id: tier1
    level: 1
    default: true
"""
    )
    where = (f.code, f.path, f.span.line, f.span.col)
    assert where == ("analysis.shadowed_tier", "tiers[1].when", 11, 11)
    assert "taken by an earlier tier first (here 'tier2')" in f.message
    assert f.witness is not None
    rs = tierflow.parse_ruleset(HEAD + TIERS, name="x.yaml")
    # the witness reaches Tier 3 under the right ordering: its condition really holds
    assert rs.evaluate(f.witness, as_of=WITNESS_AS_OF).tier == "tier3"


def test_a_tier_whose_condition_is_never_true() -> None:
    (f,) = findings(
        """
tiers:
  - id: tier2
    level: 2
    when: days_absent >= 10 and days_absent < 5
  - id: tier1
    level: 1
    default: true
"""
    )
    assert (f.code, f.path, f.witness) == ("analysis.unsatisfiable", "tiers[0].when", None)


def test_a_rule_that_can_never_fire_in_its_tiers() -> None:
    (f,) = findings(
        TIERS
        + CATALOGUE
        + """
rules:
  - id: tier1-chronic
    tiers: [tier1]
    when: absence_rate >= 10%
    assign: [call]
"""
    )
    assert (f.code, f.path) == ("analysis.rule_never_fires", "rules[0]")


def test_duplicate_rules() -> None:
    (f,) = findings(
        TIERS
        + CATALOGUE
        + """
rules:
  - id: bus
    causes: [transportation]
    assign: [call]
  - id: bus-again
    causes: [transportation]
    assign: [call]
"""
    )
    assert (f.code, f.path) == ("analysis.duplicate_rule", "rules[1]")
    assert "same condition and interventions as rule 'bus'" in f.message


def test_a_decreasing_ladder_is_out_of_order_with_a_witness() -> None:
    (f,) = findings(
        TIERS
        + CATALOGUE
        + """
legal:
  - id: letter-1
    when: days_unexcused >= 6
  - id: letter-2
    when: days_unexcused >= 3
"""
    )
    assert (f.code, f.path, f.span.line) == ("analysis.legal_out_of_order", "legal[1].when", 28)
    assert f.witness is not None and 3 <= f.witness["days_unexcused"] < 6


def test_an_unmeetable_prerequisite_and_a_downward_escalation() -> None:
    found = findings(
        TIERS
        + """
interventions:
  - id: call
    tier: tier2
    owner: counselor
  - id: visit
    tier: tier3
    owner: social_worker
    escalates_to: call
legal:
  - id: letter-1
    when: days_unexcused >= 3
    requires:
      supportive_interventions: 2
      supportive_min_tier: tier3
"""
    )
    assert [(f.code, f.path) for f in found] == [
        ("analysis.escalation_down", "interventions[1].escalates_to"),
        ("analysis.unmeetable_prerequisite", "legal[0].requires"),
    ]


def test_window_functions_are_reasoned_about_as_numbers() -> None:
    found = findings(
        TIERS
        + CATALOGUE
        + """
legal:
  - id: notice
    when: peak_count('unexcused', 4w) >= 3
  - id: court
    when: peak_count('unexcused', 4w) >= 2
"""
    )
    assert [f.code for f in found] == ["analysis.legal_out_of_order"]
    assert found[0].witness is None  # no facts can be made up for a window function


def test_check_prints_warnings_and_strict_fails_on_them(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    from tierflow.cli import main

    path = Path(str(tmp_path)) / "shadow.yaml"
    path.write_text(
        HEAD
        + """
tiers:
  - id: tier2
    level: 2
    when: absence_rate >= 5%
  - id: tier3
    level: 3
    when: absence_rate >= 20%
  - id: tier1
    level: 1
    default: true
"""
    )
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}:11:11: analysis.shadowed_tier:" in out and "witness: {" in out
    assert main(["check", "--strict", str(path)]) == 1
    assert main(["check", "--strict", "ca"]) == 0


def test_witnesses_are_evaluated_as_of_a_fixed_date() -> None:
    assert isinstance(WITNESS_AS_OF, dt.date)


def test_coverage_names_what_no_test_exercised() -> None:
    from tierflow.analysis import coverage

    rs = tierflow.parse_ruleset(
        HEAD
        + TIERS
        + CATALOGUE
        + """
rules:
  - id: bus
    causes: [transportation]
    assign: [call]
tests:
  - name: tier 2
    as_of: 2025-11-03
    facts: {student_id: a, days_enrolled: 100, days_absent: 5}
    expect: {tier: tier2}
""",
        name="cov.yaml",
    )
    cov = coverage(rs)
    assert cov.missing() == {"tiers": ["tier3", "tier1"], "rules": ["bus"], "legal steps": []}
    assert cov.summary() == (
        "tiers 1/3 (not exercised: tier3, tier1), rules 0/1 (not exercised: bus), legal steps 0/0"
    )


def test_boundary_cases_sit_at_every_threshold_and_pass_when_pasted_in() -> None:
    import yaml

    from tierflow.analysis import boundary_cases

    rs = tierflow.parse_ruleset(HEAD + TIERS, name="b.yaml")
    cases = boundary_cases(rs)
    names = [c["name"] for c in cases]
    for c in ("0.05", "0.2"):
        assert [n for n in names if n.endswith(c)] == [
            f"ratio(days_absent, days_enrolled) {where} {c}" for where in ("below", "at", "above")
        ]
    tiers = {c["name"]: c["expect"]["tier"] for c in cases}
    assert tiers["ratio(days_absent, days_enrolled) below 0.05"] == "tier1"
    assert tiers["ratio(days_absent, days_enrolled) at 0.05"] == "tier2"
    assert tiers["ratio(days_absent, days_enrolled) at 0.2"] == "tier3"
    pasted = tierflow.parse_ruleset(
        HEAD + TIERS + yaml.safe_dump({"tests": cases}, sort_keys=False), name="pasted.yaml"
    )
    assert all(r.passed for r in pasted.run_tests()) and len(pasted.run_tests()) == len(cases)


def test_impact_of_lowering_a_threshold() -> None:
    import json

    from tierflow._sample import generate_facts
    from tierflow.analysis import impact

    ca = tierflow.load_ruleset("ca")
    lower = tierflow.parse_ruleset(
        'id: ca-4\nname: Lower\nversion: "2"\nextends: ca\n'
        "metrics:\n  - id: at_risk_from\n    expr: '4%'\n",
        name="ca-4.yaml",
    )
    records = list(generate_facts(400))
    result = impact(ca, lower, [*records, {"student_id": "broken"}], as_of=dt.date(2026, 1, 30))
    assert result.students == 400 and len(result.rejected) == 1
    expected_moves = sum(
        1
        for f in records
        if ca.evaluate(f, as_of=dt.date(2026, 1, 30)).tier
        != lower.evaluate(f, as_of=dt.date(2026, 1, 30)).tier
    )
    assert result.moved == expected_moves == result.transitions[("tier1", "tier2")] > 0
    assert result.gained["weekly-checkin"] == expected_moves and not result.lost
    moved_up = sum(up for up, _ in result.by["school_id"].values())
    assert moved_up == expected_moves
    example = result.examples["tier1->tier2"][0]
    facts = next(f for f in records if f["student_id"] == example)
    assert lower.evaluate(facts, as_of=dt.date(2026, 1, 30)).tier == "tier2"
    report = result.report()
    assert f"{expected_moves} change tier" in report and "e.g. tier1 -> tier2" in report
    assert json.loads(json.dumps(result.to_dict()))["moved"] == expected_moves


def test_outside_the_fragment_generated_students_are_searched() -> None:
    found = findings(
        """
tiers:
  - id: tier3
    level: 3
    when: days_absent > days_enrolled
  - id: tier2
    level: 2
    when: days_unexcused * 2 >= days_absent and days_absent >= 3
  - id: tier1
    level: 1
    default: true
"""
    )
    codes = [(f.code, f.path, f.severity) for f in found]
    assert ("analysis.outside_fragment", "tiers[0].when", "info") in codes
    # nobody is absent more days than enrolled: the search does not reach tier3
    assert ("analysis.not_reached", "tiers[0].when", "info") in codes
    assert not any(f.path == "tiers[1].when" and f.code == "analysis.not_reached" for f in found)
