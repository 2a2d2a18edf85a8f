"""Clearing an inherited key: ``key: null`` is the one way; an empty restriction is refused.

Expected decisions are worked out by hand from ``mtss.yaml``: ``engagement`` assigns ``mentor``
in tiers 2 and 3 to students with the ``engagement`` cause; Tier 2 starts at 5% and keeps a
student already there down to 4% (``stay_while``).
"""

from __future__ import annotations

import datetime as dt

import jsonschema
import pytest

import tierflow
from tierflow.errors import RulesetError
from tierflow.spec import ruleset_json_schema

AS_OF = dt.date(2025, 11, 3)
HEAD = 'id: district\nname: District\nversion: "1"\nextends: mtss\n'
CHILD = jsonschema.Draft202012Validator(ruleset_json_schema(child=True))
WHOLE = jsonschema.Draft202012Validator(ruleset_json_schema())

# Tier 1 (no absence), with the engagement cause.
ENGAGED = {"student_id": "s", "days_enrolled": 100, "days_absent": 0, "causes": ["engagement"]}


def test_null_lifts_an_inherited_restriction() -> None:
    inherited = tierflow.parse_ruleset(HEAD, name="d.yaml").evaluate(ENGAGED, as_of=AS_OF)
    assert (inherited.tier, inherited.rules) == ("tier1", ())
    text = HEAD + "rules:\n  - id: engagement\n    tiers: null\n"
    lifted = tierflow.parse_ruleset(text, name="d.yaml").evaluate(ENGAGED, as_of=AS_OF)
    assert (lifted.tier, lifted.rules) == ("tier1", ("engagement",))
    assert [i.id for i in lifted.interventions] == ["mentor"]


def test_null_clears_a_key_whose_absence_is_empty_or_false() -> None:
    text = HEAD + "tiers:\n  - id: tier2\n    cites: null\n    stay_while: null\n"
    rs = tierflow.parse_ruleset(text, name="d.yaml")
    tier2 = next(t for t in rs.spec.tiers if t.id == "tier2")
    assert (tier2.cites, tier2.stay_while) == ((), None)
    # 9 of 200 days is 4.5%: below Tier 2's 5% entry, above its 4% stay bar, now gone.
    kept = {"student_id": "s", "days_enrolled": 200, "days_absent": 9, "previous_tier": "tier2"}
    assert rs.evaluate(kept, as_of=AS_OF).tier == "tier1"
    parent = tierflow.load_ruleset("mtss")
    assert parent.evaluate(kept, as_of=AS_OF).tier == "tier2"


def test_a_required_key_cannot_be_cleared_and_is_reported_in_the_child() -> None:
    text = HEAD + "rules:\n  - id: engagement\n    assign: null\n"
    with pytest.raises(RulesetError) as info:
        tierflow.parse_ruleset(text, name="d.yaml")
    (problem,) = info.value.problems
    assert (problem.code, problem.span.file, problem.span.line) == (
        "schema.invalid_type",
        "d.yaml",
        7,
    )
    assert not CHILD.is_valid({**_head(), "rules": [{"id": "engagement", "assign": None}]})


def test_an_empty_restriction_is_refused_with_both_ways_out() -> None:
    text = HEAD + "rules:\n  - id: engagement\n    causes: []\n"
    with pytest.raises(RulesetError) as info:
        tierflow.parse_ruleset(text, name="d.yaml")
    (problem,) = info.value.problems
    assert (problem.code, problem.span.line, problem.span.col) == ("schema.invalid_value", 7, 13)
    assert "causes: null" in problem.hint and "remove: true" in problem.hint


def test_the_schemas_say_the_same() -> None:
    assert CHILD.is_valid({**_head(), "rules": [{"id": "engagement", "tiers": None}]})
    assert CHILD.is_valid({**_head(), "tiers": [{"id": "tier2", "cites": None}]})
    assert not CHILD.is_valid({**_head(), "rules": [{"id": "engagement", "tiers": []}]})
    whole = {
        "id": "x",
        "name": "X",
        "version": "1",
        "tiers": [{"id": "t", "level": 1, "default": True}],
        "rules": [{"id": "r", "groups": [], "assign": ["a"]}],
    }
    assert not WHOLE.is_valid(whole)
    assert WHOLE.is_valid({**whole, "rules": [{"id": "r", "groups": ["foster"], "assign": ["a"]}]})


def _head() -> dict[str, str]:
    return {"id": "district", "name": "District", "version": "1", "extends": "mtss"}
