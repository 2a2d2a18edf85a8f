"""Expressions built around extreme values: only tierflow's errors, and both evaluators agree.

A targeted property (the general fuzz suite is ``tests/fuzz``): rule sets whose metric and
condition combine huge and tiny numbers, whole numbers of hundreds of digits, far dates and long
durations, evaluated for facts just as extreme (a 400- or 5,000-digit count, 1e308, infinity,
NaN, the first and last dates Python holds). Loading either succeeds or raises
:class:`~tierflow.RulesetError`; evaluating gives a decision or a :class:`~tierflow.DataError`,
and the generated code and the reference interpreter give the same decision or the same code.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import tierflow
from tierflow import DataError, RulesetError

_WHOLE_LITERALS = ["0", "2", "40", "1" + "0" * 300, "9" * 301, "1" + "0" * 400]
_OTHER_LITERALS = [
    "0.5",
    "1e308",
    "1.7976931348623157e308",
    "1e309",
    "1e-320",
    "1e-400",
    "1e999999999999999999999%",
    "5%",
    "2.5e-300",
]
_DURATIONS = ["1d", "36525d", "5217w", "1200mo", "100y", "36526d", "99999999999d", "999999999mo"]
_DATES = ["as_of", "enrolled_on", "date('9999-12-31')", "date('0001-01-01')", "date('2025-08-18')"]
_NUMBER_FACTS = ["days_absent", "days_enrolled", "score"]


def _numbers(depth: int) -> st.SearchStrategy[str]:
    leaves = st.sampled_from(_NUMBER_FACTS + _WHOLE_LITERALS + _OTHER_LITERALS)
    if depth <= 0:
        return leaves
    sub = _numbers(depth - 1)
    dates = _dates(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(sub, st.sampled_from("+-*/"), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        sub.map(lambda a: f"-{a}"),
        st.tuples(sub, sub).map(lambda t: f"round({t[0]}, {t[1]})"),
        st.tuples(sub, sub).map(lambda t: f"ratio({t[0]}, {t[1]})"),
        st.tuples(st.sampled_from(["min", "max"]), sub, sub).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        sub.map(lambda a: f"abs({a})"),
        st.tuples(dates, dates).map(lambda t: f"days_between({t[0]}, {t[1]})"),
        st.tuples(dates, dates).map(lambda t: f"({t[0]} - {t[1]})"),
    )


def _dates(depth: int) -> st.SearchStrategy[str]:
    leaves = st.sampled_from(_DATES)
    if depth <= 0:
        return leaves
    return st.one_of(
        leaves,
        st.tuples(_dates(depth - 1), st.sampled_from("+-"), st.sampled_from(_DURATIONS)).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
    )


_CONDITIONS = st.one_of(
    st.tuples(_numbers(3), st.sampled_from(["<", ">=", "==", "!="]), _numbers(1)).map(
        lambda t: f"{t[0]} {t[1]} {t[2]}"
    ),
    st.tuples(_dates(3), st.sampled_from(["<", ">="]), _dates(1)).map(
        lambda t: f"{t[0]} {t[1]} {t[2]}"
    ),
)

_FACT_NUMBERS = st.sampled_from(
    [
        0,
        1,
        -1,
        40,
        2**53,
        10**400,
        -(10**400),
        10**5000,
        1e308,
        -1e308,
        5e-324,
        0.0,
        math.inf,
        -math.inf,
        math.nan,
    ]
)
_FACT_DATES = st.sampled_from([dt.date.min, dt.date.max, dt.date(2025, 8, 18)])
_AS_OF = st.sampled_from([dt.date.min, dt.date.max, dt.date(2025, 11, 3)])


def _ruleset(metric: str, condition: str) -> str:
    return f"""
id: extremes
name: Extremes
version: "1"
facts:
  extra:
    score: {{type: number}}
    enrolled_on: {{type: date}}
metrics:
  - {{id: m, expr: "{metric}"}}
tiers:
  - {{id: tier3, level: 3, when: "{condition}"}}
  - {{id: tier2, level: 2, when: "m == m"}}
  - {{id: tier1, level: 1, default: true}}
rules:
  - {{id: r, when: "{condition} or tier_level > 2", assign: [note]}}
interventions:
  - {{id: note, tier: tier1, owner: counselor}}
"""


def _outcome(run: Any, facts: dict[str, Any], as_of: dt.date) -> tuple[str, Any]:
    try:
        d = run(facts, as_of=as_of)
    except DataError as exc:
        return ("error", exc.code)
    return ("decision", (d.tier, d.rules, [iv.id for iv in d.interventions]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    metric=st.one_of(_numbers(3), _dates(3)),
    condition=_CONDITIONS,
    numbers=st.fixed_dictionaries({n: _FACT_NUMBERS for n in _NUMBER_FACTS}),
    enrolled_on=_FACT_DATES,
    as_of=_AS_OF,
)
def test_extreme_values_give_only_tierflow_errors_and_both_evaluators_agree(
    metric: str,
    condition: str,
    numbers: dict[str, Any],
    enrolled_on: dt.date,
    as_of: dt.date,
) -> None:
    try:
        rs = tierflow.parse_ruleset(_ruleset(metric, condition), name="extremes.yaml")
    except RulesetError as exc:
        assert all(p.code.startswith("expr.") for p in exc.problems), exc
        event(f"refused at load: {exc.problems[0].code}")
        return
    facts = {"student_id": "s1", **numbers, "enrolled_on": enrolled_on}
    compiled = _outcome(rs.evaluate, facts, as_of)
    reference = _outcome(rs.reference_evaluate, facts, as_of)
    assert compiled == reference, (metric, condition, facts, as_of)
    event(f"evaluated: {compiled[0] if compiled[0] == 'decision' else compiled[1]}")
    if compiled[0] == "decision":
        rs.explain(facts, as_of=as_of)  # shows any value, however large, without raising
