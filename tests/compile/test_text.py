"""Text that quotes thresholds shows the values in force (issue 13, item 12).

A child of mtss that lowers ``severe_from`` to 10% must not cite "severe chronic >= 20%". The
expected texts are written out by hand from the child's and mtss's values.
"""

from __future__ import annotations

import datetime as dt

import pytest

import tierflow
from tierflow.errors import RulesetError

CHILD = """
id: riverside
name: Riverside USD
version: "1"
extends: mtss
metrics:
  - {id: severe_from, expr: "10%"}
"""

FACTS = {"student_id": "a", "days_enrolled": 100, "days_absent": 12, "days_unexcused": 0}


def _title(ruleset: tierflow.CompiledRuleset, ref: str) -> str:
    return next(r.title for r in ruleset.spec.references if r.id == ref)


def test_the_built_in_citation_quotes_its_own_thresholds() -> None:
    assert _title(tierflow.load_ruleset("mtss"), "aw-bands") == (
        "Attendance Works: levels of absence (satisfactory < 5%, at risk >= 5%, "
        "chronic >= 10%, severe chronic >= 20%)"
    )
    assert _title(tierflow.load_ruleset("ca"), "ca-not-letters").startswith(
        "District practice: NOT1/NOT2/NOT3 letters at 3, 6 and 9 truancies"
    )


def test_an_inherited_citation_quotes_the_childs_threshold() -> None:
    child = tierflow.parse_ruleset(CHILD, name="riverside.yaml")
    title = _title(child, "aw-bands")
    assert "severe chronic >= 10%)" in title
    assert "20%" not in title
    assert "Tier 3 intensive supports from 10%" in (child.spec.description or "")


def test_the_explanation_cites_the_value_in_force() -> None:
    child = tierflow.parse_ruleset(CHILD, name="riverside.yaml")
    explanation = str(child.explain(FACTS, as_of=dt.date(2025, 11, 3)))
    assert "tier tier3" in explanation  # 12% >= 10%
    assert "severe chronic >= 10%" in explanation
    assert "severe chronic >= 20%" not in explanation


def test_a_metric_written_as_a_decimal_is_shown_as_written() -> None:
    child = tierflow.parse_ruleset(CHILD.replace('"10%"', '"0.15"'), name="riverside.yaml")
    assert "severe chronic >= 0.15)" in _title(child, "aw-bands")


def test_a_placeholder_naming_no_constant_metric_is_an_error() -> None:
    text = CHILD + (
        "references:\n"
        "  - {id: local, title: 'Board policy: Tier 3 from {severe_form}'}\n"
        "  - {id: local2, title: 'Board policy: {rate_counts}'}\n"
    )
    with pytest.raises(RulesetError) as info:
        tierflow.parse_ruleset(text, name="riverside.yaml")
    problems = info.value.problems
    assert [p.code for p in problems] == ["ref.unknown_placeholder"] * 2
    assert "did you mean 'severe_from'?" in str(problems[0])
    assert (problems[0].span.line, problems[1].span.line) == (9, 10)


def test_braces_that_are_no_placeholder_stay_as_written() -> None:
    text = CHILD + "references:\n  - {id: local, title: 'Policy {A-1} and {}'}\n"
    child = tierflow.parse_ruleset(text, name="riverside.yaml")
    assert _title(child, "local") == "Policy {A-1} and {}"
