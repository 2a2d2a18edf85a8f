"""Known answers for the legal ladder, written by hand from docs/legal.md, on both ladders.

``requires.previous`` (docs/legal.md, "requires"): "the previous step of the ladder must have
been issued (default: ``true`` for every step but the first)". Every built-in ladder writes
``previous: true``, so only these tests exercise the default.

``requires.min_days_after_previous``: "calendar days that must pass after the previous step
was issued". Issued on 25 October, 10 days have passed on 4 November (26-31 October are 6,
1-4 November are 4) and 9 on 3 November: a 10-day wait allows the step on the 4th and refuses
it on the 3rd.

Each answer is checked on the fast path (``evaluate``) and the reference path
(``reference_evaluate``), which have separate ladders. Checked by mutation: with the default
of ``previous`` turned to false, or the wait compared with ``<=``, in either ladder, these
tests fail.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import tierflow
from tierflow.facts import History

LADDER = """
id: letters
name: Two letters
version: "1"
tiers:
  - {id: tier1, level: 1, default: true}
legal:
  - {id: letter1, label: First letter, when: "days_unexcused >= 3"}
  - {id: letter2, label: Second letter, when: "days_unexcused >= 3"}
  - id: letter3
    label: Third letter
    when: "days_unexcused >= 3"
    requires: {min_days_after_previous: 10}
  - id: letter4
    label: Fourth letter
    when: "days_unexcused >= 3"
    requires: {previous: false}
"""
"""letter2 writes no ``requires``, letter3 writes one without ``previous``: both need the step
before them. letter4 turns it off."""

RS = tierflow.parse_ruleset(LADDER, name="letters.yaml")
PATHS = ["evaluate", "reference_evaluate"]
ISSUED = dt.date(2025, 10, 25)


def _facts(*issued: tuple[str, dt.date]) -> dict[str, Any]:
    return {
        "student_id": "k",
        "days_enrolled": 50,
        "days_absent": 4,
        "days_unexcused": 4,
        "history": {"legal_steps": [{"step": s, "issued_on": d.isoformat()} for s, d in issued]},
    }


def _actions(path: str, facts: dict[str, Any], as_of: dt.date) -> dict[str, tuple[str, tuple]]:
    decision = getattr(RS, path)(facts, as_of=as_of)
    return {a.step: (a.status, a.missing) for a in decision.legal_actions}


@pytest.mark.parametrize("path", PATHS)
def test_a_step_without_previous_needs_the_step_before_it_by_default(path: str) -> None:
    got = _actions(path, _facts(), dt.date(2025, 11, 3))
    assert got == {
        "letter1": ("due", ()),  # the first step needs nothing before it
        "letter2": ("blocked", ("First letter has not been issued",)),  # no requires at all
        "letter3": ("blocked", ("Second letter has not been issued",)),  # requires, no previous
        "letter4": ("due", ()),  # previous: false
    }


@pytest.mark.parametrize("path", PATHS)
def test_a_step_is_due_once_the_step_before_it_is_issued(path: str) -> None:
    got = _actions(path, _facts(("letter1", ISSUED)), dt.date(2025, 11, 3))
    assert got["letter2"] == ("due", ())
    assert "letter1" not in got  # issued: no longer an action


@pytest.mark.parametrize("path", PATHS)
def test_a_ten_day_wait_allows_the_step_on_the_tenth_day(path: str) -> None:
    facts = _facts(("letter1", dt.date(2025, 10, 1)), ("letter2", ISSUED))
    assert _actions(path, facts, dt.date(2025, 11, 4))["letter3"] == ("due", ())


@pytest.mark.parametrize("path", PATHS)
def test_a_ten_day_wait_refuses_the_step_on_the_ninth_day(path: str) -> None:
    facts = _facts(("letter1", dt.date(2025, 10, 1)), ("letter2", ISSUED))
    status, missing = _actions(path, facts, dt.date(2025, 11, 3))["letter3"]
    assert status == "blocked"
    assert missing == ("Second letter was issued 9 days ago; at least 10 days must pass",)


def test_readiness_says_the_same_as_the_decision() -> None:
    """``ladder.missing``, which the packet's readiness reads, gives the same known answers."""
    history = History()
    third = 2
    both = {"letter1": dt.date(2025, 10, 1), "letter2": ISSUED}
    on_ninth = RS.ladder.missing(third, history, both, dt.date(2025, 11, 3))
    assert on_ninth == ("Second letter was issued 9 days ago; at least 10 days must pass",)
    assert RS.ladder.missing(third, history, both, dt.date(2025, 11, 4)) == ()
    assert RS.ladder.missing(1, history, {}, dt.date(2025, 11, 4)) == (
        "First letter has not been issued",
    )
