"""A schema problem no longer hides the others (issue 13, item 10).

After a schema error the later stages run on a salvaged spec (a stand-in at each broken place)
and report every other problem where it is written, while what they find at a stand-in is left
out. The expected problems are worked out by hand from each text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierflow
from tierflow.errors import RulesetError

ISSUE = """
id: d
name: D
version: "1"
metrics:
  - {id: m, expr: 10}
  - {id: rate2, expr: absence_rate * 2}
tiers:
  - {id: tier2, level: 2, when: rate2 >= 'high', assign: [chek]}
  - {id: tier1, level: 1, default: true}
rules:
  - {id: r, when: days_absent and true, assign: [call]}
interventions:
  - {id: call, tier: tier2, owner: counsler, cadence: weekly}
"""


def _problems(text: str) -> list[tuple[int, int, str]]:
    with pytest.raises(RulesetError) as info:
        tierflow.parse_ruleset(text, name="d.yaml")
    return [(p.span.line, p.span.col, p.code) for p in info.value.problems]


def test_a_schema_error_and_every_other_problem_are_reported_together() -> None:
    assert _problems(ISSUE) == [
        (6, 19, "schema.invalid_type"),  # expr: 10, unquoted
        (9, 42, "expr.type_mismatch"),  # a number (rate2) compared with 'high'
        (9, 59, "ref.unknown_intervention"),  # chek
        (12, 19, "expr.type_mismatch"),  # days_absent is a number, not true/false
        (14, 36, "ref.unknown_role"),  # counsler
    ]


def test_nothing_is_reported_at_a_stand_in() -> None:
    # level 'one' (a stand-in level), an empty assign (a stand-in id), a misspelt 'default'
    # (no tier.no_default nor tier.missing_condition at that tier: they restate it).
    text = """
id: d
name: D
version: "1"
tiers:
  - {id: tier2, level: one, when: absence_rate >= 10%}
  - {id: tier1, level: 1, defualt: true}
rules:
  - {id: r, when: tardies > 2, assign: []}
"""
    assert _problems(text) == [
        (6, 24, "schema.invalid_type"),
        (7, 27, "schema.unknown_field"),
        (9, 40, "schema.invalid_value"),
    ]


def test_an_unsalvageable_metric_keeps_the_checks_without_a_spec() -> None:
    # A metric expr that is a list has no stand-in: the expressions are still checked.
    text = """
id: d
name: D
version: "1"
metrics:
  - {id: m, expr: [1]}
tiers:
  - {id: tier2, level: 2, when: absense_rate >= 10%}
  - {id: tier1, level: 1, default: true}
"""
    assert [code for *_, code in _problems(text)] == ["schema.invalid_type", "expr.unknown_name"]


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.text("ab:{} %-", max_size=6),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["id", "x", "when"]), st.integers(0, 2), max_size=2),
)


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaves(v, (*path, k))] + [path]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaves(v, (*path, i))] + [path]
    return [path]


BASE = yaml.safe_load((Path(tierflow.__file__).parent / "rulesets" / "mtss.yaml").read_text())
PATHS = [p for p in _leaves(BASE) if p and p[0] != "tests"]


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), _JUNK), min_size=1, max_size=3))
def test_any_broken_value_gives_problems_never_a_crash(breaks: list[tuple[Any, Any]]) -> None:
    data = yaml.safe_load(yaml.safe_dump(BASE))
    for path, junk in breaks:
        node = data
        try:
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = junk
        except (KeyError, IndexError, TypeError):
            continue
    try:
        tierflow.parse_ruleset(yaml.safe_dump(data), name="mtss-broken.yaml")
    except RulesetError as exc:
        assert exc.problems
