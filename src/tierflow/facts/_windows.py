"""Window functions: counts of a student's attendance log over a period ending on the as-of date.

All read ``attendance_log``. ``count_within``, ``days_within`` and ``peak_count`` count calendar
periods (``30d``, ``1m``); the calendar-aware ones count school days, school weeks, calendar
months and hours.

The calendar-aware ones also read two facts that :class:`tierflow.attendance.FactsBuilder` provides:
``school_days`` (the instructional days the student was enrolled, in order) and ``minutes_per_day``
(the length of a school day, for hours). Windows skip weekends and holidays because they count
school days, not calendar days; events after the as-of date never count. ``school_days`` and
``attendance_log`` are read as given: the builder's are of the as-of date's school year only, so no
window reaches into last year; a host passing its own sends this school year's
(docs/school-years.md).

A school week is a calendar week, Monday to Sunday, holding at least one school day the student
was enrolled; a week of break holds none and is no school week.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from collections.abc import Callable, Mapping
from typing import Any

from tierflow.errors import DataError
from tierflow.expr import DURATION, NUMBER, Duration, EvalContext, Function, Type
from tierflow.expr._functions import subtract_duration
from tierflow.facts._read import attendance_log_of

__all__ = ["ATTENDANCE_KINDS", "WINDOW_FUNCTIONS"]

ATTENDANCE_KINDS: dict[str, frozenset[str]] = {
    "absence": frozenset({"excused", "unexcused", "suspension"}),
    "excused": frozenset({"excused"}),
    "unexcused": frozenset({"unexcused"}),
    "suspension": frozenset({"suspension"}),
    "tardy": frozenset({"tardy", "tardy_over_30"}),
    "tardy_over_30": frozenset({"tardy_over_30"}),
    "truancy": frozenset({"unexcused", "tardy_over_30"}),
}
"""Kinds a window function counts, mapped to the record kinds of ``StudentFacts.attendance_log``.

``truancy`` follows California EC 48260: unexcused absences and tardies of more than 30 minutes.
"""


_KIND = Type("string", values=frozenset(ATTENDANCE_KINDS), vocabulary="attendance kind")


def _log(ctx: EvalContext) -> tuple[tuple[dt.date, str, float], ...]:
    return ctx.cached("log", lambda: attendance_log_of(ctx.facts))  # type: ignore[no-any-return]


def _window(ctx: EvalContext, kind: str, period: Duration) -> list[tuple[dt.date, str, float]]:
    kinds = ATTENDANCE_KINDS[kind]
    start = subtract_duration(ctx.as_of, period)
    return [r for r in _log(ctx) if start < r[0] <= ctx.as_of and r[1] in kinds]


def _count_within(ctx: EvalContext, kind: str, period: Duration) -> int:
    # Days, not log rows: a date logged as an excused and an unexcused part is one day of
    # 'absence' (statutes count "days or parts of days").
    return len({r[0] for r in _window(ctx, kind, period)})


def _days_within(ctx: EvalContext, kind: str, period: Duration) -> float:
    return sum(r[2] for r in _window(ctx, kind, period))


def _peak_count(ctx: EvalContext, kind: str, period: Duration) -> int:
    kinds = ATTENDANCE_KINDS[kind]
    dates = sorted({r[0] for r in _log(ctx) if r[1] in kinds and r[0] <= ctx.as_of})
    best = 0
    first = 0
    for last, end in enumerate(dates):
        start = subtract_duration(end, period)
        # A zero-length period holds nothing, so ``first`` may pass ``last``; stop at the end.
        while first <= last and dates[first] <= start:
            first += 1
        best = max(best, last - first + 1)
    return best


def _school_days(ctx: EvalContext) -> tuple[dt.date, ...]:
    def build() -> tuple[dt.date, ...]:
        raw = ctx.facts.get("school_days")
        if raw is None:
            raise DataError(
                "facts.missing",
                "fact 'school_days' is required by a school-day window and was not provided "
                "(facts built from events carry it)",
                student_id=_sid(ctx.facts),
                field="school_days",
            )
        try:
            days = sorted(d if isinstance(d, dt.date) else dt.date.fromisoformat(d) for d in raw)
        except (TypeError, ValueError) as exc:
            raise DataError(
                "facts.invalid",
                f"school_days must be a list of dates: {exc}",
                student_id=_sid(ctx.facts),
                field="school_days",
            ) from exc
        return tuple(days[: bisect_right(days, ctx.as_of)])

    return ctx.cached("school_days", build)  # type: ignore[no-any-return]


def _sid(facts: Mapping[str, Any]) -> str | None:
    value = facts.get("student_id")
    return None if value is None else str(value)


def _recent(ctx: EvalContext, kind: str, n: float) -> list[tuple[dt.date, str, float]]:
    days = _school_days(ctx)
    count = int(n)
    if count <= 0 or not days:
        return []
    start = days[max(0, len(days) - count)]
    kinds = ATTENDANCE_KINDS[kind]
    return [r for r in _log(ctx) if start <= r[0] <= ctx.as_of and r[1] in kinds]


def _recent_count(ctx: EvalContext, kind: str, n: float) -> int:
    return len({r[0] for r in _recent(ctx, kind, n)})  # days, not log rows (as count_within)


def _recent_days(ctx: EvalContext, kind: str, n: float) -> float:
    return sum(r[2] for r in _recent(ctx, kind, n))


def _first(ctx: EvalContext, kind: str, n: float) -> list[tuple[dt.date, str, float]]:
    days = _school_days(ctx)
    count = int(n)
    if count <= 0 or not days:
        return []
    end = days[min(count, len(days)) - 1]
    kinds = ATTENDANCE_KINDS[kind]
    return [r for r in _log(ctx) if days[0] <= r[0] <= end and r[1] in kinds]


def _first_count(ctx: EvalContext, kind: str, n: float) -> int:
    # Days, not log rows: a day the log splits into an excused and an unexcused part is one
    # day of 'absence'.
    return len({r[0] for r in _first(ctx, kind, n)})


def _first_days(ctx: EvalContext, kind: str, n: float) -> float:
    return sum(r[2] for r in _first(ctx, kind, n))


_SLACK = 1e-9
"""Room for a sum of day fractions (1/3 + 2/3) to land a hair above the whole it makes."""


def _weeks_at_most(ctx: EvalContext, kind: str, limit: float) -> int:
    if math.isnan(limit):
        raise ValueError("the most days a week is not a number (NaN)")
    days = _school_days(ctx)
    week: dict[dt.date, float] = {}  # a school week's Monday -> full-day equivalents of kind
    for day in days:
        week.setdefault(day - dt.timedelta(days=day.weekday()), 0.0)
    kinds = ATTENDANCE_KINDS[kind]
    for day, k, n in _log(ctx):
        monday = day - dt.timedelta(days=day.weekday())
        if k in kinds and day <= ctx.as_of and monday in week:
            week[monday] += n
    current = ctx.as_of - dt.timedelta(days=ctx.as_of.weekday())
    run = 0
    for monday in sorted(week, reverse=True):
        if week[monday] > limit + _SLACK:
            break
        # The as-of date's week counts once it reaches Friday; before, it can only end the run.
        if monday != current or ctx.as_of.weekday() >= 4:
            run += 1
    return run


def _by_month(ctx: EvalContext, kind: str) -> dict[tuple[int, int], float]:
    kinds = ATTENDANCE_KINDS[kind]
    months: dict[tuple[int, int], float] = {}
    for day, k, days in _log(ctx):
        if k in kinds and day <= ctx.as_of:
            key = (day.year, day.month)
            months[key] = months.get(key, 0.0) + days
    return months


def _month_days(ctx: EvalContext, kind: str) -> float:
    return _by_month(ctx, kind).get((ctx.as_of.year, ctx.as_of.month), 0.0)


def _peak_month_days(ctx: EvalContext, kind: str) -> float:
    return max(_by_month(ctx, kind).values(), default=0.0)


def _hours_per_day(ctx: EvalContext) -> float:
    value = ctx.facts.get("minutes_per_day")
    if value is None:
        raise DataError(
            "facts.missing",
            "fact 'minutes_per_day' is required to count hours and was not provided",
            student_id=_sid(ctx.facts),
            field="minutes_per_day",
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise DataError(
            "facts.invalid",
            f"minutes_per_day must be a positive number, got {value!r}",
            student_id=_sid(ctx.facts),
            field="minutes_per_day",
        )
    return float(value) / 60


def _hours(ctx: EvalContext, kind: str) -> float:
    kinds = ATTENDANCE_KINDS[kind]
    days = sum(r[2] for r in _log(ctx) if r[1] in kinds and r[0] <= ctx.as_of)
    return days * _hours_per_day(ctx)


def _peak_month_hours(ctx: EvalContext, kind: str) -> float:
    return _peak_month_days(ctx, kind) * _hours_per_day(ctx)


def _of_kind(
    name: str, more: tuple[Type, ...], impl: Callable[..., float], doc: str, *reads: str
) -> Function:
    """A window function: a number from the attendance log, for a kind and ``more`` arguments."""
    return Function(
        name, (_KIND, *more), NUMBER, impl, doc, context=True, reads=("attendance_log", *reads)
    )


WINDOW_FUNCTIONS: tuple[Function, ...] = (
    _of_kind(
        "count_within",
        (DURATION,),
        _count_within,
        "Days or parts of days of a kind in the period ending on the as-of date.",
    ),
    _of_kind(
        "days_within",
        (DURATION,),
        _days_within,
        "Full-day equivalents of a kind in the period ending on the as-of date.",
    ),
    _of_kind(
        "peak_count",
        (DURATION,),
        _peak_count,
        "The most days or parts of days of a kind in any period of this length so far.",
    ),
    _of_kind(
        "recent_count",
        (NUMBER,),
        _recent_count,
        "Days or parts of days of a kind in the last n school days enrolled (IL: 180).",
        "school_days",
    ),
    _of_kind(
        "recent_days",
        (NUMBER,),
        _recent_days,
        "Full-day equivalents of a kind in the last n school days enrolled.",
        "school_days",
    ),
    _of_kind(
        "first_count",
        (NUMBER,),
        _first_count,
        "Days with a kind in the student's first n school days enrolled (8 in the first 30).",
        "school_days",
    ),
    _of_kind(
        "first_days",
        (NUMBER,),
        _first_days,
        "Full-day equivalents of a kind in the student's first n school days enrolled.",
        "school_days",
    ),
    _of_kind(
        "weeks_at_most",
        (NUMBER,),
        _weeks_at_most,
        "Consecutive school weeks, back from the as-of date, with at most n days of a kind.",
        "school_days",
    ),
    _of_kind(
        "month_days",
        (),
        _month_days,
        "Full-day equivalents of a kind in the calendar month of the as-of date.",
    ),
    _of_kind(
        "peak_month_days",
        (),
        _peak_month_days,
        "The most full-day equivalents of a kind in any one calendar month so far (WA).",
    ),
    _of_kind(
        "hours",
        (),
        _hours,
        "Hours of a kind so far this year, from the school day's length (OH: 72).",
        "minutes_per_day",
    ),
    _of_kind(
        "peak_month_hours",
        (),
        _peak_month_hours,
        "The most hours of a kind in any one calendar month so far (OH: 42).",
        "minutes_per_day",
    ),
)
"""The window functions, for :data:`tierflow.facts.DEFAULT_FUNCTIONS`."""
