"""A notice's attendance figures from a student's facts, and the typical classmate's days absent.

Every expected value is computed by hand in the comments beside it (medians by sorting the
days written in the test), never by calling the code under test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tierflow.errors import DataError
from tierflow.facts import StudentFacts
from tierflow.notices import (
    MIN_CLASSMATES,
    AttendanceFigures,
    attendance_figures,
    classmates_group,
    classmates_medians,
)

AS_OF = dt.date(2025, 11, 14)

FACTS: dict[str, Any] = {
    "student_id": "s1",
    "school_id": "oak-es",
    "grade": 5,
    "days_enrolled": 60,
    "days_absent": 6.5,
    "days_unexcused": 4.0,
    "tardies": 3,
    "attendance_log": [
        {"date": "2025-09-02", "kind": "unexcused", "days": 1},
        {"date": "2025-09-02", "kind": "tardy", "days": 0},  # same day: one date
        {"date": "2025-09-10", "kind": "excused", "days": 0.5},
        {"date": "2025-09-15", "kind": "tardy_over_30", "days": 0.25},  # a tardy, not absent
        {"date": "2025-10-01", "kind": "suspension", "days": 1},
        {"date": "2025-11-14", "kind": "unexcused", "days": 1},  # on as_of: counted
        {"date": "2025-11-20", "kind": "unexcused", "days": 1},  # after as_of: left out
    ],
}


def test_figures_come_from_the_facts_as_the_engine_stores_them() -> None:
    f = attendance_figures(FACTS, as_of=AS_OF, classmates=2.5)
    assert f == AttendanceFigures(
        as_of=AS_OF,
        days_enrolled=60,
        days_absent=6.5,
        days_unexcused=4,
        tardies=3,
        # Absences (excused, unexcused, suspension) up to as_of, each date once, in order.
        absence_dates=(
            dt.date(2025, 9, 2),
            dt.date(2025, 9, 10),
            dt.date(2025, 10, 1),
            dt.date(2025, 11, 14),
        ),
        classmates_days_absent=2.5,
    )
    assert f.absence_rate == pytest.approx(6.5 / 60)  # 0.108333...


def test_optional_counts_are_zero_and_the_comparison_unknown() -> None:
    f = attendance_figures({"student_id": "s2", "days_enrolled": 40, "days_absent": 3}, as_of=AS_OF)
    assert (f.days_unexcused, f.tardies, f.absence_dates) == (0, 0, ())
    assert f.classmates_days_absent is None
    assert f.absence_rate == pytest.approx(3 / 40)


def test_student_facts_read_like_a_mapping() -> None:
    facts = StudentFacts(student_id="s3", days_enrolled=50, days_absent=5, tardies=2)
    f = attendance_figures(facts, as_of=AS_OF)  # type: ignore[arg-type]
    assert (f.days_enrolled, f.days_absent, f.tardies) == (50, 5, 2)


@pytest.mark.parametrize("missing", ["days_enrolled", "days_absent"])
def test_a_missing_required_count_names_the_fact(missing: str) -> None:
    facts = {k: v for k, v in FACTS.items() if k != missing}
    with pytest.raises(DataError) as info:
        attendance_figures(facts, as_of=AS_OF)
    assert (info.value.code, info.value.field, info.value.student_id) == (
        "facts.missing",
        missing,
        "s1",
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"days_absent": "many"}, "days_absent"),
        ({"days_unexcused": True}, "days_unexcused"),
        ({"tardies": -1}, "tardies"),
        ({"tardies": 1.5}, "tardies"),
        ({"days_enrolled": float("nan")}, "days_enrolled"),
        ({"days_absent": 61}, "days_absent"),  # more than the 60 enrolled
        ({"attendance_log": [{"date": "2025-09-02", "kind": "absent"}]}, "attendance_log[0]"),
    ],
)
def test_a_bad_count_is_a_data_error(change: dict[str, Any], field: str) -> None:
    with pytest.raises(DataError) as info:
        attendance_figures({**FACTS, **change}, as_of=AS_OF)
    assert info.value.code == "facts.invalid"
    assert info.value.field == field


def _rows(school: str, grade: Any, days: list[float]) -> list[dict[str, Any]]:
    return [
        {"student_id": f"{school}-{grade}-{i}", "school_id": school, "grade": grade}
        | {"days_enrolled": 60, "days_absent": d}
        for i, d in enumerate(days)
    ]


def test_medians_per_school_and_grade() -> None:
    odd = [20, 0, 4, 1, 9, 2, 0, 5, 1, 3, 2]
    # sorted: 0 0 1 1 2 [2] 3 4 5 9 20 -> the 6th of 11 is 2
    even = [30, 0.5, 3, 1, 6, 1.5, 0, 10, 1, 4, 2, 3]
    # sorted: 0 0.5 1 1 1.5 [2 3] 3 4 6 10 30 -> (2 + 3) / 2 = 2.5
    small = [1, 2, 3, 4, 5, 6, 7, 8, 9]  # 9 students: fewer than 10, not shown
    rows = (
        _rows("oak-es", 3, odd[:6])
        + _rows("oak-es", "3", odd[6:])  # "3" and 3 are one grade
        + _rows("oak-es", "K", even)
        + _rows("elm-es", 3, small)
    )
    # In no group, or not counted: they would move both medians if they were.
    rows += [
        {"student_id": "x1", "grade": 3, "days_enrolled": 60, "days_absent": 50},
        {"student_id": "x2", "school_id": "oak-es", "days_enrolled": 60, "days_absent": 50},
        {"student_id": "x3", "school_id": "oak-es", "grade": 3, "days_enrolled": 60},
        {"student_id": "x4", "school_id": "oak-es", "grade": 3, "days_enrolled": 0,
         "days_absent": 0},
        {"student_id": "x5", "school_id": "oak-es", "grade": 0, "days_enrolled": 60,
         "days_absent": "many"},
    ]  # fmt: skip
    assert classmates_medians(rows) == {
        ("oak-es", 3): 2.0,
        ("oak-es", 0): 2.5,
        ("elm-es", 3): None,
    }
    assert MIN_CLASSMATES == 10
    assert classmates_medians(_rows("elm-es", 3, small), min_size=9) == {("elm-es", 3): 5.0}
    assert classmates_medians(iter(_rows("oak-es", 3, [*small, 100]))) == {("oak-es", 3): 5.5}


def test_a_student_is_found_in_the_medians_by_their_group() -> None:
    medians = classmates_medians(_rows("oak-es", "05", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
    # 0..9: (4 + 5) / 2 = 4.5; the student's grade 5 written as a number finds "05"
    key = classmates_group(FACTS)
    assert key == ("oak-es", 5)
    f = attendance_figures(FACTS, as_of=AS_OF, classmates=medians.get(key))
    assert f.classmates_days_absent == 4.5
    assert classmates_group({"school_id": "oak-es", "grade": "PK"}) == ("oak-es", -1)
    for nowhere in ({"grade": 5}, {"school_id": "", "grade": 5}, {"school_id": "oak-es"}):
        assert classmates_group(nowhere) is None
    assert classmates_group({"school_id": "oak-es", "grade": "senior"}) is None
