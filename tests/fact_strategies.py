"""Hypothesis strategies for student facts consistent with a school year."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from tierflow.facts import CAUSES, GROUPS

YEAR_START = dt.date(2025, 8, 18)
AS_OF = dt.date(2026, 2, 2)

LEGAL_IDS = (
    "not1",
    "not2",
    "not3",
    "sarb-referral",
    "parent-notice",
    "prevention-measures",
    "court-referral",
)


def _dates(start: dt.date, end: dt.date) -> st.SearchStrategy[dt.date]:
    return st.dates(min_value=start, max_value=end)


@st.composite
def student_facts(draw: st.DrawFn, *, as_of: dt.date = AS_OF) -> dict[str, Any]:
    """Facts where absences never exceed enrolment and splits never exceed absences."""
    enrolled = draw(st.integers(min_value=0, max_value=180))
    halves = draw(st.integers(min_value=0, max_value=2 * enrolled))
    absent = halves / 2
    unexcused = draw(st.integers(min_value=0, max_value=halves)) / 2
    suspended = draw(st.integers(min_value=0, max_value=int(absent - unexcused)))
    tardies = draw(st.integers(min_value=0, max_value=20))
    log = draw(
        st.lists(
            st.tuples(
                _dates(YEAR_START, as_of + dt.timedelta(days=30)),
                st.sampled_from(["excused", "unexcused", "suspension", "tardy", "tardy_over_30"]),
                st.sampled_from([1.0, 0.5]),
            ),
            max_size=30,
        )
    )
    history = {
        "legal_steps": [
            {"step": s, "issued_on": d.isoformat()}
            for s, d in draw(
                st.lists(
                    st.tuples(st.sampled_from(LEGAL_IDS), _dates(YEAR_START, as_of)), max_size=4
                )
            )
        ],
        "interventions": [
            {
                "intervention": "weekly-checkin",
                "tier_level": lvl,
                "started_on": d.isoformat(),
                "outcome": o,
            }
            for lvl, d, o in draw(
                st.lists(
                    st.tuples(
                        st.integers(1, 3),
                        _dates(YEAR_START, as_of),
                        st.sampled_from([None, "positive", "no_discernible", "negative"]),
                    ),
                    max_size=3,
                )
            )
        ],
        "conferences": [
            {"kind": k, "held_on": d.isoformat()}
            for k, d in draw(
                st.lists(
                    st.tuples(
                        st.sampled_from(["parent_conference", "sart"]), _dates(YEAR_START, as_of)
                    ),
                    max_size=2,
                )
            )
        ],
    }
    return {
        "student_id": draw(st.from_regex(r"[A-Z][0-9]{3,6}", fullmatch=True)),
        "grade": draw(st.integers(min_value=-1, max_value=12)),
        "days_enrolled": enrolled,
        "days_absent": absent,
        "days_excused": absent - unexcused - suspended,
        "days_unexcused": unexcused,
        "days_suspended": suspended,
        "tardies": tardies,
        "tardies_over_30": draw(st.integers(min_value=0, max_value=tardies)),
        "causes": draw(st.lists(st.sampled_from(CAUSES), unique=True, max_size=3)),
        "groups": draw(st.lists(st.sampled_from(GROUPS), unique=True, max_size=3)),
        "attendance_log": [{"date": d.isoformat(), "kind": k, "days": f} for d, k, f in log],
        "history": history,
    }
