"""Gaps between tier bands and non-monotone tiering, each with a witness that lands there."""

from __future__ import annotations

import pytest

import tierflow
from tierflow.analysis import analyze
from tierflow.analysis._analyze import WITNESS_AS_OF
from tierflow.analysis._consistent import fact_problems

HEAD = 'id: seeded\nname: Seeded\nversion: "1"\n'
GAP = """
tiers:
  - id: tier3
    level: 3
    when: absence_rate >= 10%
  - id: tier2
    level: 2
    when: absence_rate >= 5% and absence_rate < 9%
  - id: tier1
    level: 1
    default: true
"""


def test_the_issue_gap_is_found_and_its_witness_lands_in_tier1() -> None:
    rs = tierflow.parse_ruleset(HEAD + GAP, name="gap.yaml")
    [finding] = [f for f in analyze(rs) if f.severity == "warning"]
    assert finding.code == "analysis.tier_gap"
    assert finding.path == "tiers[1].when"  # the band that ends too early
    witness = finding.witness
    assert witness is not None and fact_problems(witness) == []
    # By hand: the gap is [9%, 10%) of days enrolled.
    rate = witness["days_absent"] / witness["days_enrolled"]
    assert 0.09 <= rate < 0.10
    assert rs.evaluate(witness, as_of=WITNESS_AS_OF).tier == "tier1"
    assert "'tier1'" in finding.message and "'tier2'" in finding.message


def test_bands_without_a_gap_give_no_warning() -> None:
    closed = GAP.replace("absence_rate < 9%", "absence_rate < 10%")
    rs = tierflow.parse_ruleset(HEAD + closed, name="closed.yaml")
    assert [f for f in analyze(rs) if f.severity == "warning"] == []


def test_a_band_with_nothing_above_is_not_monotone() -> None:
    text = """
tiers:
  - id: tier2
    level: 2
    when: days_unexcused >= 3 and days_unexcused <= 6
  - id: tier1
    level: 1
    default: true
"""
    rs = tierflow.parse_ruleset(HEAD + text, name="band.yaml")
    [finding] = [f for f in analyze(rs) if f.severity == "warning"]
    assert finding.code == "analysis.not_monotone"
    witness = finding.witness
    assert witness is not None and fact_problems(witness) == []
    # By hand: the first half day above 6 unexcused days, which are absent days too.
    assert witness["days_unexcused"] == 6.5 and witness["days_absent"] == 6.5
    assert rs.evaluate(witness, as_of=WITNESS_AS_OF).tier == "tier1"


def test_a_narrow_gap_just_below_a_threshold_is_found() -> None:
    text = GAP.replace("absence_rate < 9%", "absence_rate <= 9.5%")
    rs = tierflow.parse_ruleset(HEAD + text, name="narrow.yaml")
    codes = [f.code for f in analyze(rs)]
    assert codes == ["analysis.tier_gap"]


@pytest.mark.parametrize(
    "name",
    [
        "mtss",
        "ca",
        "tx",
        "rulesets/examples/anaheim.yaml",
        "rulesets/examples/anaheim-school.yaml",
        "rulesets/examples/dallas.yaml",
    ],
)
def test_bundled_rule_sets_have_no_gap(name: str) -> None:
    codes = {f.code for f in analyze(tierflow.load_ruleset(name))}
    assert not codes & {"analysis.tier_gap", "analysis.not_monotone"}


@pytest.mark.parametrize(
    ("facts", "problem"),
    [
        ({"days_enrolled": 0, "days_absent": 0, "days_unexcused": 3}, "days_unexcused (3)"),
        ({"days_enrolled": 5, "days_absent": 6}, "days_absent (6) exceeds days_enrolled"),
        ({"days_absent": 4, "days_excused": 3, "days_unexcused": 3}, "exceed days_absent"),
        ({"tardies": 1, "tardies_over_30": 2}, "tardies_over_30 (2) exceeds tardies"),
    ],
)
def test_inconsistent_facts_are_named(facts: dict[str, float], problem: str) -> None:
    found = fact_problems({"student_id": "s", **facts})
    assert any(problem in p for p in found), found


def test_check_strict_fails_on_the_gap(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    from tierflow.cli import main

    path = Path(str(tmp_path)) / "gap.yaml"
    path.write_text(HEAD + GAP)
    assert main(["check", "--strict", str(path)]) == 1
    assert f"{path}:11:11: analysis.tier_gap:" in capsys.readouterr().out


def test_a_gap_a_child_playbook_opens_is_reported_in_the_child(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "riverside.yaml"
    path.write_text(
        'id: riverside\nname: Riverside\nversion: "1"\nextends: mtss\n'
        "metrics:\n  - {id: severe_from, expr: '25%'}\n"
        "tiers:\n  - id: tier2\n"
        "    when: rate_counts and absence_rate >= at_risk_from and absence_rate < 15%\n"
    )
    rs = tierflow.load_ruleset(str(path))
    [finding] = [f for f in analyze(rs) if f.severity == "warning"]
    assert finding.code == "analysis.tier_gap" and finding.span.file.endswith("riverside.yaml")
    assert finding.witness is not None
    # By hand: mtss's Tier 3 now starts at 25%, so 15% to 25% falls to Tier 1.
    assert 0.15 <= finding.witness["days_absent"] / finding.witness["days_enrolled"] < 0.25
    assert rs.evaluate(finding.witness, as_of=WITNESS_AS_OF).tier == "tier1"
