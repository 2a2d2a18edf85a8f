"""Rule sets with random legal ladders, and students with random histories, for the ladder tests.

Every key of ``requires`` is drawn (``previous`` written, left to its default or turned off;
``min_days_after_previous``; earlier ``steps``; conferences held or attempted; supportive
interventions with a tier floor, an outcome or check-ins; checklist conditions over the
history), and histories hold records of last school year, of this one and after the as-of date,
conferences held and attempted, interventions the catalogue calls unsupportive.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import strategies as st

YEAR_START = dt.date(2025, 7, 1)  # the default school_year.starts, 07-01
STEP_IDS = ("s0", "s1", "s2", "s3")
KINDS = ("parent_conference", "sart")
CHECKLIST = (
    "contacts() >= 2",
    "conferences_held('sart') >= 1",
    "conferences_attempted('parent_conference') >= 1",
    "intervention_tried('reminder')",
    "interventions_with_outcome(2) >= 1",
    "legal_issued('s0')",
    "legal_count() >= 2",
)


def _subset(items: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(items), unique=True, max_size=len(items)).map(
        lambda chosen: [i for i in items if i in chosen]
    )


def _sometimes(draw: st.DrawFn) -> bool:
    """One time in three: a step asks for a few things, so some steps come due."""
    return draw(st.integers(0, 2)) == 0


@st.composite
def _requires(draw: st.DrawFn, index: int) -> dict[str, Any]:
    req: dict[str, Any] = {}
    previous = draw(
        st.sampled_from(["default", "true", "false"] if index else ["default", "false"])
    )
    if previous != "default":
        req["previous"] = previous == "true"
    if index and previous != "false" and draw(st.booleans()):
        req["min_days_after_previous"] = draw(st.sampled_from([1, 5, 10, 30]))
    if index and _sometimes(draw) and (steps := draw(_subset(STEP_IDS[:index]))):
        req["steps"] = steps
    if _sometimes(draw) and (held := draw(_subset(KINDS))):
        req["conferences"] = held
    if _sometimes(draw) and (tried := draw(_subset(KINDS))):
        req["conferences_attempted"] = tried
    if _sometimes(draw) and (supportive := draw(st.integers(1, 2))):
        req["supportive_interventions"] = supportive
        if floor := draw(st.sampled_from([None, "t2", "t3"])):
            req["supportive_min_tier"] = floor
        if draw(st.booleans()):
            req["with_outcome"] = True
        if check_ins := draw(st.integers(0, 2)):
            req["min_check_ins"] = check_ins
    items = []
    if _sometimes(draw):
        items = draw(st.lists(st.sampled_from(CHECKLIST), unique=True, max_size=2))
    if items:
        req["checklist"] = [
            {"id": f"c{j}", "label": f"item {j}: {text}", "when": text}
            for j, text in enumerate(items)
        ]
    return req


@st.composite
def ladder_rulesets(draw: st.DrawFn) -> str:
    """YAML text of a rule set whose legal ladder has 1 to 4 steps with random requirements."""
    size = draw(st.integers(1, len(STEP_IDS)))
    steps = []
    for i in range(size):
        step: dict[str, Any] = {
            "id": STEP_IDS[i],
            "when": f"days_unexcused >= {draw(st.integers(0, 6))}",
            "requires": draw(_requires(i)),
        }
        if draw(st.booleans()):
            step["label"] = f"Step {i}"
        if draw(st.integers(0, 3)) == 0:
            step["exempt_groups"] = ["homeless"]
        steps.append(step)
    # JSON is YAML: the nested requirements need no hand-written layout.
    return json.dumps(
        {
            "id": "ladder",
            "name": "Ladder",
            "version": "1",
            "tiers": [
                {"id": "t3", "level": 3, "when": "days_unexcused >= 8"},
                {"id": "t2", "level": 2, "when": "days_unexcused >= 3"},
                {"id": "t1", "level": 1, "default": True},
            ],
            "interventions": [
                {"id": "checkin", "tier": "t2", "owner": "mentor"},
                {"id": "mentor", "tier": "t3", "owner": "mentor"},
                {"id": "reminder", "tier": "t1", "owner": "clerk", "supportive": False},
            ],
            "legal": steps,
        }
    )


def _issued(draw: st.DrawFn, as_of: dt.date) -> str:
    """When a step was issued: half the time exactly as a wait of 1, 5, 10 or 30 days ends (or
    a day short of it), else as :func:`_day` draws."""
    if draw(st.booleans()):
        waits = [as_of - dt.timedelta(days=n - e) for n in (1, 5, 10, 30) for e in (0, 1)]
        return draw(st.sampled_from(waits)).isoformat()
    return _day(draw, as_of)


def _ended(draw: st.DrawFn, as_of: dt.date) -> str:
    """When an intervention ended: half the time on the first day of ``as_of``'s school year or
    the day before it, else as :func:`_day` draws."""
    if draw(st.booleans()):
        first = dt.date(as_of.year if as_of >= dt.date(as_of.year, 7, 1) else as_of.year - 1, 7, 1)
        return draw(st.sampled_from([first, first - dt.timedelta(days=1)])).isoformat()
    return _day(draw, as_of)


def _day(draw: st.DrawFn, as_of: dt.date) -> str:
    """A date up to 50 days before ``as_of`` (mostly), or from last spring to three weeks after
    it: records of last school year, of this one, and dated after the decision. Some fall on a
    boundary: the year's first day or the day before it, ``as_of`` or the day after, or the
    day a wait of 1, 5, 10 or 30 days ends (or the day before)."""
    if draw(st.integers(0, 2)) == 0:
        edges = [YEAR_START, YEAR_START - dt.timedelta(days=1), as_of, as_of + dt.timedelta(1)]
        edges += [as_of - dt.timedelta(days=n + e) for n in (1, 5, 10, 30) for e in (0, -1)]
        return draw(st.sampled_from(edges)).isoformat()
    if draw(st.integers(0, 3)):
        lo, hi = as_of - dt.timedelta(days=50), as_of
    else:
        lo, hi = dt.date(2025, 4, 1), as_of + dt.timedelta(days=21)
    return draw(st.dates(min_value=lo, max_value=hi)).isoformat()


@st.composite
def ladder_students(draw: st.DrawFn, as_of: dt.date) -> dict[str, Any]:
    """Facts of one student with a random history around ``as_of``."""
    unexcused = draw(st.integers(0, 10))
    issued = draw(st.lists(st.sampled_from(STEP_IDS), max_size=4))
    conferences = draw(
        st.lists(
            st.tuples(st.sampled_from(KINDS), st.sampled_from(["held", "attempted"])), max_size=5
        )
    )
    tried = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["checkin", "mentor", "reminder"]),
                st.integers(1, 3),
                st.sampled_from([None, "positive", "negative"]),
                st.sampled_from([None, 0, 1, 2, 3]),
                st.booleans(),
            ),
            max_size=3,
        )
    )
    return {
        "student_id": "s",
        "days_enrolled": 60,
        "days_absent": unexcused,
        "days_unexcused": unexcused,
        "groups": draw(st.sampled_from([[], ["homeless"]])),
        "history": {
            "legal_steps": [{"step": s, "issued_on": _issued(draw, as_of)} for s in issued],
            "conferences": [
                {"kind": k, "held_on": _day(draw, as_of), "outcome": o}
                | ({"method": "letter"} if o == "attempted" else {})
                for k, o in conferences
            ],
            "interventions": [
                {
                    "intervention": iv,
                    "tier_level": level,
                    "started_on": _day(draw, as_of),
                    **({"ended_on": _ended(draw, as_of)} if ended else {}),
                    **({"outcome": outcome} if outcome else {}),
                    **({"check_ins": n} if n is not None else {}),
                }
                for iv, level, outcome, n, ended in tried
            ],
        },
    }
