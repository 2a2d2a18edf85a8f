"""Count one student's school year: the tally behind every attendance fact.

:func:`tally` is the one counting routine: the facts of the school year of ``as_of`` and the
``prior_year_*`` facts both come from it, so they are counted the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from typing import Any

from tierflow.attendance._calendar import SchoolCalendar
from tierflow.attendance._days import Student, event_key, fold_day, span_on
from tierflow.attendance._events import CauseMap, Enrollment
from tierflow.spec import AttendancePolicy

__all__ = [
    "Clip",
    "Tally",
    "exact_sum",
    "recent_rate",
    "school_days_of",
    "streaks",
    "tally",
]


Clip = tuple[Enrollment, SchoolCalendar, dt.date, dt.date]


class Tally:
    """One student's counts over some days of one school year (see :func:`tally`)."""

    __slots__ = (
        "absent",
        "causes",
        "digest",
        "enrolled",
        "events",
        "excused",
        "log",
        "occasions",
        "over",
        "streak_days",
        "suspended",
        "tardies",
        "unexcused",
        "weekday",
    )

    def __init__(self) -> None:
        self.enrolled = 0
        self.absent = self.excused = self.unexcused = self.suspended = self.over = 0.0
        self.tardies = self.occasions = self.events = 0
        self.streak_days: list[dt.date] = []
        self.weekday = [0.0] * 5
        self.log: list[dict[str, Any]] = []
        self.causes: Counter[str] = Counter()
        self.digest = hashlib.sha256()


def tally(
    student: Student,
    clips: list[Clip],
    first: dt.date,
    last: dt.date,
    *,
    policy: AttendancePolicy,
    causes_of: CauseMap,
    calendar_for: Callable[[Enrollment], SchoolCalendar | None],
    detail: bool,
) -> Tally:
    """Count one student's days from ``first`` to ``last`` (inside one school year).

    ``clips`` are the student's spans cut to those days. This is the one counting routine:
    this year's facts and the prior year's come from it. ``detail`` adds what only this
    year's facts need (the attendance log, the causes, the events' digest).
    """
    out = Tally()
    for _, span_cal, start, end in clips:
        out.enrolled += span_cal.count(start, end)
    # Local names in the loop, stored in ``out`` at the end: it runs once per day absent.
    excused = unexcused = suspended = absent = over = 0.0
    tardies = occasions = events = 0
    weekday, streak_days, log, causes = out.weekday, out.streak_days, out.log, out.causes
    digest = out.digest
    fallback = clips[-1][0]
    for day_date in sorted(d for d in student.days if first <= d <= last):
        day = student.days[day_date]
        cal = calendar_for(span_on(student, day_date) or fallback)
        assert cal is not None
        # In a canonical order, so that the digest, the log and ties between causes do not
        # depend on the order a day's events arrived in (they are unique by this key).
        ordered = sorted(day.events, key=event_key) if len(day.events) > 1 else day.events
        if detail:
            for e in ordered:
                events += 1
                digest.update(
                    f"{e.date}|{e.category}|{e.duration}|{e.minutes}|{e.reason}\n".encode()
                )
                cause = causes_of(e.reason)
                if cause is not None:
                    causes[cause] += 1
        record = fold_day(ordered, cal, policy)
        parts = record.parts
        total = min(1.0, sum(parts.values()))
        share = parts
        counted = total
        if total and policy.absent_day_threshold is not None:
            counted = 1.0 if total >= policy.absent_day_threshold - 1e-9 else 0.0
            share = {k: (counted if v == max(parts.values()) else 0.0) for k, v in parts.items()}
            if counted and list(share.values()).count(1.0) > 1:  # a tie: unexcused first
                first_kind = next(k for k in ("unexcused", "excused", "suspension") if share[k])
                share = {k: (1.0 if k == first_kind else 0.0) for k in share}
        if total:
            excused += share["excused"]
            unexcused += share["unexcused"]
            suspended += share["suspension"]
            day_absent = counted - (
                0.0 if policy.suspensions_count_as_absence else share["suspension"]
            )
            absent += day_absent
            if day_absent and day_date.weekday() < 5:
                weekday[day_date.weekday()] += day_absent
            if total >= policy.streak_threshold - 1e-9:
                streak_days.append(day_date)
            if detail:
                for kind, value in share.items():
                    if value:
                        log.append({"date": day_date, "kind": kind, "days": min(value, 1.0)})
        # A day is one occasion at most (EC 48260). tardies_over_30 holds the part of it
        # days_unexcused does not, so that their sum counts it once; and the log gets one
        # truancy row for it: a long tardy row only where no unexcused row stands.
        tardies += record.tardy
        if record.occasion:
            occasions += 1
            over += 1.0 - min(1.0, share["unexcused"])
        if detail:
            if record.occasion and not share["unexcused"]:
                log.append({"date": day_date, "kind": "tardy_over_30", "days": 0.0})
            elif record.tardy:
                log.append({"date": day_date, "kind": "tardy", "days": 0.0})
    out.excused, out.unexcused, out.suspended, out.absent = (
        excused,
        unexcused,
        suspended,
        absent,
    )
    out.tardies, out.occasions, out.events = tardies, occasions, events
    out.over = exact_sum(unexcused, over)
    return out


def school_days_of(clips: list[Clip]) -> tuple[dt.date, ...]:
    """The instructional days of the clipped spans, in order."""
    days: list[dt.date] = []
    for _, cal, start, end in clips:
        days.extend(cal.days_between(start, end))
    return tuple(days)


def recent_rate(
    days: tuple[dt.date, ...], log: list[dict[str, Any]], policy: AttendancePolicy
) -> float:
    """Absence rate over the last ``policy.recent_days`` enrolled school days."""
    recent = days[-policy.recent_days :]
    if not recent:
        return 0.0
    first = recent[0]
    counts = policy.suspensions_count_as_absence
    missed = sum(
        r["days"]
        for r in log
        if r["date"] >= first
        and r["kind"] in ("excused", "unexcused", "suspension")
        and (counts or r["kind"] != "suspension")
    )
    return min(1.0, float(missed) / len(recent))


def streaks(days: tuple[dt.date, ...], absent: list[dt.date]) -> tuple[int, int]:
    """Current and longest runs of consecutive enrolled school days absent.

    ``days`` are the enrolled school days in order; ``absent`` the days absent, in order.
    """
    if not days or not absent:
        return 0, 0
    longest = run = 0
    previous = -2
    for d in absent:
        i = bisect_left(days, d)
        if i == len(days) or days[i] != d:
            continue
        run = run + 1 if i == previous + 1 else 1
        previous = i
        longest = max(longest, run)
    current = run if previous == len(days) - 1 else 0
    return current, longest


def exact_sum(base: float, extra: float) -> float:
    """``extra``, nudged so that ``base + extra`` is exactly the whole number it stands for.

    ``days_unexcused + tardies_over_30`` counts truancy occasions, but both add up fractions of
    a day, and float addition can make 2 occasions read 1.9999999999999998, which a rule's
    ``>= 2`` would miss. A sum within 1e-9 of a whole number (no count of minutes comes that
    close to one otherwise) is made to reach it exactly, never to fall short.
    """
    total = base + extra
    target = float(round(total))
    if total >= target or target - total > 1e-9:
        return extra
    extra = max(0.0, target - base)
    for _ in range(4):  # target - base is exact or one step off; a few steps settle it
        if base + extra >= target:
            break
        extra = math.nextafter(extra, math.inf)
    return extra
