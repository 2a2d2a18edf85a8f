"""Boundary cases (issue 13 item 9): consistent students at every threshold, rates included."""

from __future__ import annotations

import pytest

import tierflow
from tierflow.analysis import boundary_cases

BUNDLED = [
    "mtss",
    "ca",
    "tx",
    "rulesets/examples/anaheim.yaml",
    "rulesets/examples/anaheim-school.yaml",
    "rulesets/examples/dallas.yaml",
]


@pytest.mark.parametrize("name", BUNDLED)
def test_every_proposed_student_could_exist(name: str) -> None:
    cases = boundary_cases(tierflow.load_ruleset(name))
    assert cases
    for case in cases:
        f = case["facts"]
        enrolled, absent = f["days_enrolled"], f["days_absent"]
        assert 0 <= absent <= enrolled, case
        parts = [f.get(k, 0) for k in ("days_excused", "days_unexcused", "days_suspended")]
        assert all(p >= 0 for p in parts) and sum(parts) <= absent, case
        assert f.get("tardies_over_30", 0) <= f.get("tardies", f.get("tardies_over_30", 0)), case


@pytest.mark.parametrize("name", ["mtss", "ca", "tx"])
def test_rate_thresholds_get_cases_exactly_at_and_just_below(name: str) -> None:
    cases = {c["name"]: c for c in boundary_cases(tierflow.load_ruleset(name))}
    # mtss: Tier 2 from 5%, Tier 3 from 20% of days enrolled (rulesets/mtss.yaml).
    for rate, below, at in ((0.05, "tier1", "tier2"), (0.2, "tier2", "tier3")):
        key = f"ratio(days_absent, days_enrolled) {{}} {rate:g}"
        f_at = cases[key.format("at")]["facts"]
        f_below = cases[key.format("below")]["facts"]
        assert f_at["days_absent"] / f_at["days_enrolled"] == rate
        assert f_below["days_absent"] / f_below["days_enrolled"] < rate
        assert f_at["days_enrolled"] >= 10  # past rate_min_days: the rate decides
        assert cases[key.format("at")]["expect"]["tier"] == at
        assert cases[key.format("below")]["expect"]["tier"] == below


def test_the_early_warning_count_is_proposed_where_it_decides() -> None:
    cases = {c["name"]: c for c in boundary_cases(tierflow.load_ruleset("mtss"))}
    # mtss: 2 absences reach Tier 2 before 10 days enrolled make the rate count.
    at = cases["days_absent at 2"]
    assert at["facts"]["days_enrolled"] < 10 and at["expect"]["tier"] == "tier2"
    assert cases["days_absent below 2"]["expect"]["tier"] == "tier1"


def test_unexcused_thresholds_are_absent_days_too() -> None:
    cases = {c["name"]: c for c in boundary_cases(tierflow.load_ruleset("ca"))}
    # ca: the first truancy notice at 3 unexcused days (or tardies over 30 minutes).
    f = cases["days_unexcused + tardies_over_30 at 3"]["facts"]
    assert f["days_unexcused"] == 3 and f["days_absent"] >= 3
    assert cases["days_unexcused + tardies_over_30 at 3"]["expect"]["legal_due"] == ["not1"]


def test_cli_prints_rate_cases(capsys: pytest.CaptureFixture[str]) -> None:
    from tierflow.cli import main

    assert main(["test", "--boundaries", "mtss"]) == 0
    out = capsys.readouterr().out
    assert "name: ratio(days_absent, days_enrolled) at 0.05" in out
    assert "days_enrolled: 0\n" not in out
