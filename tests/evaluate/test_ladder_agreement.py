"""The fast and the reference legal ladders agree on generated ladders and histories.

The two are separate implementations (``_ladder`` plans each step once and reads the history
through light views; ``_reference_ladder`` reads the spec and the validated history each time
and interprets checklists), so a mistake in either shows as a disagreement: a step due on one
path and blocked on the other, or different evidence missing.

Checked by mutation: each of these hand mutations made the property fail, then was reverted.
In ``_ladder``: ``days < min_days`` as ``<=``; ``previous`` defaulting to false; a conference
of last school year counted; ``ended_on >= since`` as ``>``; ``started_on <= as_of`` as ``<``;
``tier_level >= floor`` as ``>``; ``tried_count < supportive`` as ``<=``; a step issued on the
year's first day not counted; ``check_ins or 0`` as ``or 1``; an attempted conference counted
as held. In ``_reference_ladder``: ``waited <`` as ``<=``; ``previous`` defaulting to false;
an attempt counted as held; ``check_ins or 0`` as ``or 1``; a step issued last school year
counted; ``ended_on < first_day`` as ``<=``. 16 of 16 killed (the boundary ones only once the
strategies put dates on the boundaries: see ``ladder_strategies``). The last test keeps one
such mutation (a fast ladder that never blocks) as a standing check.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierflow
from evaluate.ladder_strategies import YEAR_START, ladder_rulesets, ladder_students
from tierflow.evaluate._ladder import LegalPlan


def _legal(run: Any, facts: dict[str, Any], as_of: dt.date) -> Any:
    try:
        return run(facts, as_of=as_of).legal_actions
    except tierflow.DataError as exc:
        return ("error", exc.code)


@st.composite
def _cases(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]], dt.date]:
    as_of = draw(st.dates(YEAR_START - dt.timedelta(days=10), dt.date(2026, 3, 1)))
    return (
        draw(ladder_rulesets()),
        draw(st.lists(ladder_students(as_of), min_size=1, max_size=6)),
        as_of,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_cases())
def test_fast_and_reference_ladders_agree(case: tuple[str, list[dict[str, Any]], dt.date]) -> None:
    text, students, as_of = case
    rs = tierflow.parse_ruleset(text, name="ladder.yaml")
    for facts in students:
        fast = _legal(rs.evaluate, facts, as_of)
        slow = _legal(rs.reference_evaluate, facts, as_of)
        assert fast == slow, (facts, as_of)


def test_the_property_fails_when_the_fast_ladder_forgets_a_prerequisite(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(LegalPlan, "missing", lambda *args: ())
    with pytest.raises(AssertionError):
        test_fast_and_reference_ladders_agree()
