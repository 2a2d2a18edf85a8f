"""A notice's attendance figures, from a student's facts, and the typical classmate's days absent.

:func:`attendance_figures` reads the facts the engine stores for a student (``days_enrolled``,
``days_absent``, ``days_unexcused``, ``tardies``, ``attendance_log``) into the
:class:`~tierflow.notices.AttendanceFigures` a template names. :func:`classmates_medians` gives,
for every school and grade, the median days absent of its students on the same date: the
"typical classmate" the nudge letter compares the student with (Rogers and Feller 2018).

Privacy: a median of a handful of students is nearly one family's number, so a group smaller
than :data:`MIN_CLASSMATES` (10) gets ``None`` and its letters leave the comparison out, like the
minimum group sizes (often 10) states apply before they publish figures about students.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from tierflow.errors import DataError
from tierflow.facts import ATTENDANCE_KINDS
from tierflow.facts._model import grade_level
from tierflow.facts._read import attendance_log_of
from tierflow.notices._context import AttendanceFigures

__all__ = [
    "MIN_CLASSMATES",
    "attendance_figures",
    "classmates_group",
    "classmates_medians",
]

MIN_CLASSMATES = 10
"""The fewest students a school and grade needs for its median to be shown to families."""

_ABSENCE = ATTENDANCE_KINDS["absence"]


def _number(facts: Mapping[str, Any], name: str, *, required: bool) -> float:
    """The number fact ``name``: 0 when absent and optional.

    Raises:
        DataError: ``facts.missing`` (absent and required) or ``facts.invalid`` (not a finite
            number of at least 0).
    """
    value = facts.get(name)
    student = str(facts.get("student_id"))
    if value is None:
        if not required:
            return 0.0
        raise DataError(
            "facts.missing",
            f"fact {name!r} is required for a notice's attendance figures and was not provided",
            student_id=student,
            field=name,
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DataError(
            "facts.invalid",
            f"fact {name!r} must be a number, got {type(value).__name__} {value!r}",
            student_id=student,
            field=name,
        )
    if not math.isfinite(value) or value < 0:
        raise DataError(
            "facts.invalid",
            f"fact {name!r} must be a finite number of at least 0, got {value!r}",
            student_id=student,
            field=name,
        )
    return float(value)


def attendance_figures(
    facts: Mapping[str, Any], *, as_of: dt.date, classmates: float | None = None
) -> AttendanceFigures:
    """The attendance figures of one student's facts as of ``as_of``.

    ``days_enrolled`` and ``days_absent`` are required (a letter about days missed without
    them would be wrong, not empty); ``days_unexcused`` and ``tardies`` count 0 when absent.
    ``absence_dates`` are the dates of the ``attendance_log`` with an absence (excused,
    unexcused or suspension) up to ``as_of``, or none without a log. ``classmates`` is the
    student's group's entry of :func:`classmates_medians`.

    >>> f = attendance_figures({"student_id": "s1", "days_enrolled": 40, "days_absent": 3.5},
    ...                        as_of=dt.date(2025, 10, 31), classmates=2.0)
    >>> f.days_absent, f.days_unexcused, f.tardies, f.classmates_days_absent
    (3.5, 0.0, 0, 2.0)

    Raises:
        DataError: ``facts.missing`` when ``days_enrolled`` or ``days_absent`` is absent;
            ``facts.invalid`` when a count is not a number of at least 0, ``tardies`` is not
            whole, days absent exceed days enrolled, or the log is malformed.
    """
    enrolled = _number(facts, "days_enrolled", required=True)
    absent = _number(facts, "days_absent", required=True)
    unexcused = _number(facts, "days_unexcused", required=False)
    tardies = _number(facts, "tardies", required=False)
    student = str(facts.get("student_id"))
    if absent > enrolled:
        raise DataError(
            "facts.invalid",
            f"days_absent ({absent:g}) exceeds days_enrolled ({enrolled:g})",
            student_id=student,
            field="days_absent",
        )
    if not tardies.is_integer():
        raise DataError(
            "facts.invalid",
            f"fact 'tardies' counts days with a tardy and must be whole, got {tardies:g}",
            student_id=student,
            field="tardies",
        )
    dates: tuple[dt.date, ...] = ()
    if facts.get("attendance_log") is not None:
        dates = tuple(
            sorted(
                {
                    day
                    for day, kind, days in attendance_log_of(facts)
                    if kind in _ABSENCE and days > 0 and day <= as_of
                }
            )
        )
    return AttendanceFigures(
        as_of=as_of,
        days_enrolled=enrolled,
        days_absent=absent,
        days_unexcused=unexcused,
        tardies=int(tardies),
        absence_dates=dates,
        classmates_days_absent=classmates,
    )


def classmates_group(facts: Mapping[str, Any]) -> tuple[str, int] | None:
    """The key of a student's school and grade in :func:`classmates_medians` (None: unknown).

    Grades are levels as the facts model reads them (``"K"`` is 0, ``"PK"`` -1, ``"5"`` 5), so
    a student whose grade is written ``"05"`` and one written ``5`` are classmates.

    >>> classmates_group({"school_id": "oak-es", "grade": "K"})
    ('oak-es', 0)
    >>> classmates_group({"grade": 4}) is None
    True
    """
    school = facts.get("school_id")
    grade = facts.get("grade")
    if school is None or school == "" or grade is None or isinstance(grade, bool):
        return None
    if isinstance(grade, str):
        level = grade_level(grade)
    elif isinstance(grade, int) or (isinstance(grade, float) and grade.is_integer()):
        level = int(grade)
    else:
        level = None
    return None if level is None else (str(school), level)


def classmates_medians(
    facts: Iterable[Mapping[str, Any]], *, min_size: int = MIN_CLASSMATES
) -> dict[tuple[str, int], float | None]:
    """The median days absent per school and grade, of students' facts as of one date.

    Every student with a school, a grade, a number of ``days_absent`` and some days enrolled
    counts in their group (the student a letter is about included: one table serves every
    letter). A student missing one of those is in no group; the engine reports such facts
    when it evaluates them. A group of fewer than ``min_size`` students maps to ``None``, so
    that a letter never shows a figure from which a few classmates' own could be worked out.

    >>> rows = [{"school_id": "oak", "grade": 3, "days_enrolled": 40, "days_absent": d}
    ...         for d in (0, 1, 1, 2, 8)]
    >>> classmates_medians(rows, min_size=5)
    {('oak', 3): 1.0}
    >>> classmates_medians(rows)
    {('oak', 3): None}
    """
    groups: defaultdict[tuple[str, int], list[float]] = defaultdict(list)
    for row in facts:
        key = classmates_group(row)
        absent, enrolled = _days(row.get("days_absent")), _days(row.get("days_enrolled"))
        if key is None or absent is None or not enrolled:
            continue
        groups[key].append(absent)
    return {
        key: float(statistics.median(days)) if len(days) >= min_size else None
        for key, days in groups.items()
    }


def _days(value: Any) -> float | None:
    """``value`` as a number of days, or None when it is not one (a flag, text, NaN, below 0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None
