"""The compiled evaluator agrees with the slow reference interpreter on generated inputs.

The legal ladder is checked on both paths by two separate implementations
(``tierflow.evaluate._ladder`` on the fast path, ``tierflow.evaluate._reference_ladder`` on the
reference path), so the decisions compared below include legal steps: which are due, blocked
or exempt, and the evidence each blocked step still needs (its readiness). Generated ladders
with every kind of prerequisite are compared in ``tests/evaluate/test_ladder_agreement.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierflow
from tierflow.evaluate._reference import reference_bits
from tierflow.testing import AS_OF, rule_sets
from tierflow.testing import student_facts as _student_facts

RULESETS = Path(__file__).resolve().parent.parent / "rulesets"
LOADED = {p.stem: tierflow.load_ruleset(str(p)) for p in sorted(RULESETS.rglob("*.yaml"))}


def _outcome(fn, facts, as_of):  # type: ignore[no-untyped-def]
    try:
        return fn(facts, as_of=as_of)
    except tierflow.DataError as exc:
        return ("error", exc.code)


def _bits(rs: tierflow.CompiledRuleset):  # type: ignore[no-untyped-def]
    """The two paths' ``(tier, rules, legal, exempt)`` as functions of ``(facts, as_of=)``."""
    return (
        lambda f, as_of: rs._run(f, as_of),
        lambda f, as_of: reference_bits(rs, f, as_of),
    )


LEGAL_IDS = (
    "not1",
    "not2",
    "not3",
    "sarb-referral",
    "parent-notice",
    "prevention-measures",
    "court-referral",
)  # fmt: skip  (one line per kind of id: CA, then TX)


TIER_IDS = ("tier1", "tier2", "tier3", "t1", "t2", "t3")  # built-in and generated rule sets


def student_facts() -> st.SearchStrategy[dict[str, Any]]:
    """Facts for every built-in ladder, with log records after the as-of date too, and a
    previous tier of a built-in or a generated rule set (or none) for their stay_while."""
    return _student_facts(legal_steps=LEGAL_IDS, future_days=30, tiers=TIER_IDS)


def _previous_tiers(facts: dict[str, Any], tiers: tuple[str, ...]) -> list[dict[str, Any]]:
    """The facts as drawn, and with each of ``tiers`` (those with a stay_while) as previous."""
    return [facts, *({**facts, "previous_tier": t} for t in tiers)]


@pytest.mark.parametrize("name", sorted(LOADED))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=student_facts(), days=st.integers(min_value=-60, max_value=30))
def test_compiled_equals_reference(name: str, facts: dict, days: int) -> None:
    rs = LOADED[name]
    fast, slow = _bits(rs)
    as_of = AS_OF + dt.timedelta(days=days)
    for f in _previous_tiers(facts, ("tier2", "tier3")):
        assert _outcome(fast, f, as_of) == _outcome(slow, f, as_of)


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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=rule_sets(), facts=st.lists(student_facts(), min_size=1, max_size=5))
def test_generated_rulesets_agree(text: str, facts: list) -> None:
    rs = tierflow.parse_ruleset(text, name="generated.yaml")
    fast, slow = _bits(rs)
    for f in (g for drawn in facts for g in _previous_tiers(drawn, ("t2", "t3"))):
        assert _outcome(fast, f, AS_OF) == _outcome(slow, f, AS_OF)
