"""The compiled evaluator agrees with the slow reference interpreter on generated inputs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierflow
from fact_strategies import AS_OF, student_facts

RULESETS = Path(__file__).resolve().parent.parent / "rulesets"
LOADED = {p.stem: tierflow.load_ruleset(str(p)) for p in sorted(RULESETS.rglob("*.yaml"))}


def _outcome(fn, facts, as_of):  # type: ignore[no-untyped-def]
    try:
        return fn(facts, as_of=as_of)
    except tierflow.DataError as exc:
        return ("error", exc.code)


@pytest.mark.parametrize("name", sorted(LOADED))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=student_facts(), days=st.integers(min_value=-60, max_value=30))
def test_compiled_equals_reference(name: str, facts: dict, days: int) -> None:
    rs = LOADED[name]
    as_of = AS_OF + dt.timedelta(days=days)
    compiled = _outcome(lambda f, as_of: rs._run(f, as_of), facts, as_of)
    reference = _outcome(rs._reference_bits, facts, as_of)
    assert compiled == reference


@pytest.mark.parametrize("name", sorted(LOADED))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=student_facts())
def test_reference_decision_equals_evaluate(name: str, facts: dict) -> None:
    rs = LOADED[name]
    try:
        fast = rs.evaluate(facts, as_of=AS_OF).to_dict()
    except tierflow.DataError as exc:
        with pytest.raises(tierflow.DataError) as ref:
            rs.reference_evaluate(facts, as_of=AS_OF)
        assert ref.value.code == exc.code
        return
    assert rs.reference_evaluate(facts, as_of=AS_OF).to_dict() == fast


@st.composite
def small_rulesets(draw: st.DrawFn) -> str:
    """Rule sets with random thresholds, operators and shorthand filters."""
    t3 = draw(st.floats(min_value=0.0, max_value=1.0, allow_nan=False))
    t2 = draw(st.floats(min_value=0.0, max_value=1.0, allow_nan=False))
    op = draw(st.sampled_from([">=", ">", "==", "!=", "<", "<="]))
    n = draw(st.integers(min_value=0, max_value=30))
    combine = draw(st.sampled_from(["and", "or"]))
    cause = draw(st.sampled_from(["transportation", "health", "housing"]))
    return f"""
id: generated
name: Generated
version: "1"
metrics:
  - {{id: load, expr: "days_absent * 2 - tardies / 4"}}
tiers:
  - {{id: t3, level: 3, when: "absence_rate {op} {t3!r} {combine} days_unexcused >= {n}"}}
  - {{id: t2, level: 2, when: "absence_rate >= {t2!r} or load > {n} and not ('foster' in groups)"}}
  - {{id: t1, level: 1, default: true}}
rules:
  - {{id: r1, tiers: [t2, t3], causes: [{cause}], assign: [a]}}
  - {{id: r2, when: "tier_level >= 2 and max(tardies, days_suspended) >= {n}", assign: [a, b]}}
  - {{id: r3, groups: [iep, foster], when: "tier != 't1'", assign: [b]}}
interventions:
  - {{id: a, tier: t2, owner: counselor}}
  - {{id: b, tier: t3, owner: social_worker}}
legal:
  - {{id: l1, when: "days_unexcused + tardies_over_30 >= {n}", exempt_groups: [homeless]}}
  - {{id: l2, when: "count_within('truancy', 4w) >= 2", requires: {{conferences: [sart]}}}}
"""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=small_rulesets(), facts=st.lists(student_facts(), min_size=1, max_size=5))
def test_generated_rulesets_agree(text: str, facts: list) -> None:
    rs = tierflow.parse_ruleset(text, name="generated.yaml")
    for f in facts:
        assert _outcome(lambda x, as_of: rs._run(x, as_of), f, AS_OF) == _outcome(
            rs._reference_bits, f, AS_OF
        )
