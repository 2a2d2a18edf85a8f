"""The facts model: StudentFacts, the cheap history reader, the attendance log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierflow import DataError, History, StudentFacts
from tierflow.facts._model import attendance_log_of, history_of, history_view, issued_steps

_ids = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True), st.sampled_from(["NOT1", "", "x y"])
)
_dates = st.one_of(
    st.dates(dt.date(2024, 1, 1), dt.date(2027, 1, 1)).map(dt.date.isoformat),
    st.dates(dt.date(2024, 1, 1), dt.date(2027, 1, 1)),
    st.sampled_from(["2025-13-01", "yesterday", "", "2025-1-1"]),
    st.integers(),
)
_history = st.fixed_dictionaries(
    {},
    optional={
        "legal_steps": st.lists(
            st.fixed_dictionaries({"step": _ids, "issued_on": _dates}), max_size=3
        ),
        "interventions": st.lists(
            st.fixed_dictionaries(
                {
                    "intervention": _ids,
                    "tier_level": st.one_of(st.integers(0, 10), st.just("2")),
                    "started_on": _dates,
                },
                optional={
                    "outcome": st.sampled_from([None, "positive", "mixed", "great"]),
                    "ended_on": _dates,
                },
            ),
            max_size=3,
        ),
        "conferences": st.lists(
            st.fixed_dictionaries({"kind": _ids, "held_on": _dates}), max_size=2
        ),
        "notes": st.just("free text"),
    },
)


def _read(fn: Any, facts: dict[str, Any]) -> Any:
    try:
        h = fn(facts)
    except DataError as exc:
        return ("error", exc.code)
    return (
        [(s.step, s.issued_on) for s in h.legal_steps],
        [
            (i.intervention, i.tier_level, i.started_on, i.ended_on, i.outcome)
            for i in h.interventions
        ],
        [(c.kind, c.held_on) for c in h.conferences],
    )


@settings(max_examples=300, deadline=None)
@given(history=_history)
def test_cheap_history_reader_accepts_exactly_what_validation_accepts(
    history: dict[str, Any],
) -> None:
    facts = {"student_id": "s", "history": history}
    assert _read(history_view, facts) == _read(history_of, facts)
    full = _read(history_of, facts)
    steps = issued_steps(facts) if full[0] != "error" else None
    if steps is not None:
        assert [(s.step, s.issued_on) for s in steps] == full[0]


def test_malformed_history_names_student_and_place() -> None:
    facts = {
        "student_id": "S7",
        "history": {"legal_steps": [{"step": "not1", "issued_on": "soon"}]},
    }
    with pytest.raises(DataError) as info:
        history_view(facts)
    assert info.value.code == "facts.invalid"
    assert info.value.student_id == "S7"
    assert "history.legal_steps.0.issued_on" in str(info.value)


def test_history_model_passes_through() -> None:
    h = History.model_validate({"conferences": [{"kind": "sart", "held_on": "2025-10-01"}]})
    assert history_view({"student_id": "s", "history": h}) is h


def test_student_facts_reads_like_a_mapping() -> None:
    f = StudentFacts(student_id="s", days_enrolled=10, days_absent=1, gpa=3.5, grade="PK")
    assert f["days_absent"] == 1 and f.get("gpa") == 3.5 and f.grade == -1
    assert "tardies" not in f and "days_enrolled" in f
    with pytest.raises(KeyError):
        f["tardies"]
    assert set(f.keys()) >= {"student_id", "days_enrolled", "days_absent", "gpa"}


def test_student_facts_rejects_inconsistent_counts() -> None:
    with pytest.raises(ValueError, match="exceeds days_enrolled"):
        StudentFacts(student_id="s", days_enrolled=5, days_absent=6)
    with pytest.raises(ValueError):
        StudentFacts(student_id="s", days_absent=-1)


def test_attendance_log_is_sorted_and_validated() -> None:
    facts = {
        "student_id": "s",
        "attendance_log": [
            {"date": "2025-10-02", "kind": "unexcused"},
            {"date": "2025-10-01", "kind": "tardy_over_30", "days": 0.25},
        ],
    }
    assert attendance_log_of(facts) == (
        (dt.date(2025, 10, 1), "tardy_over_30", 0.25),
        (dt.date(2025, 10, 2), "unexcused", 1.0),
    )
    with pytest.raises(DataError) as info:
        attendance_log_of(
            {"student_id": "s", "attendance_log": [{"date": "2025-10-01", "kind": "absent"}]}
        )
    assert info.value.code == "facts.invalid" and "attendance_log[0]" in str(info.value)
    with pytest.raises(DataError) as info:
        attendance_log_of({"student_id": "s9"})
    assert (info.value.code, info.value.student_id) == ("facts.missing", "s9")
