"""The computation behind the effectiveness report: timelines, windows, matches, intervals.

Split from :mod:`tierflow.report._effect` (the report's records and outputs), which documents
the method; everything here is private to it.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from tierflow.report._daily import DailyAttendance
from tierflow.workflow import Intervention, Repository, WorkflowEvent
from tierflow.workflow._tried import Starts

__all__ = [
    "Outcome",
    "Served",
    "Timeline",
    "bootstrap",
    "candidates",
    "groups_of",
    "match",
    "mean",
    "outcome",
    "timeline",
]


@dataclass(frozen=True)
class Served:
    """One served student's first intervention of a kind."""

    student_id: str
    intervention: Intervention
    start: dt.date
    tier: str | None


@dataclass
class Timeline:
    """What the report needs of one student's records."""

    decisions: list[tuple[dt.date, str, tuple[str, ...]]]  # (day, tier, interventions called)
    first_start: dict[str, tuple[Intervention, dt.date]]  # kind -> first served, its start

    def in_force(self, on: dt.date) -> tuple[str, tuple[str, ...]] | None:
        """The tier and interventions of the last decision recorded by ``on``."""
        found = None
        for at, tier, called in self.decisions:
            if at > on:
                break
            found = (tier, called)
        return found


def timeline(repository: Repository, student_id: str, as_of: dt.date) -> Timeline:
    events: list[WorkflowEvent] = [e for e in repository.events(student_id) if e.at <= as_of]
    starts = Starts.read(events)
    decisions = []
    for ev in events:
        if ev.kind == "decision" and ev.detail is not None:
            called = tuple(str(i) for i in ev.detail.get("interventions") or ())
            decisions.append((ev.at, str(ev.detail.get("tier") or ""), called))
    decisions.sort(key=lambda d: d[0])  # stable: same-day decisions keep their order
    first: dict[str, tuple[Intervention, dt.date]] = {}
    for iv in repository.for_student(student_id):
        if iv.opened_on > as_of or iv.id in starts.withdrawn:
            continue  # not yet opened by then; or withdrawn on corrected data: not support
        start = starts.started.get(iv.id, iv.opened_on)
        if start > as_of:
            start = iv.opened_on  # started after the report's date: counted from its opening
        known = first.get(iv.intervention)
        if known is None or start < known[1]:
            first[iv.intervention] = (iv, start)
    return Timeline(decisions, first)


@dataclass(frozen=True)
class Outcome:
    """One served student's windows, their match's, and the intervention's end."""

    daily: DailyAttendance | None
    left_out: str | None
    before: float | None
    after: float | None
    comparison: float | None  # the matched student's change
    state: str
    ended: bool


def outcome(
    unit: Served, window: int, lookup: Callable[[str, dt.date], DailyAttendance | None]
) -> Outcome:
    """A served student's windows (no comparison yet: :func:`match` adds it)."""
    iv = unit.intervention
    ended = iv.ended_on is not None
    daily = lookup(unit.student_id, unit.start)
    if daily is None or not daily.days:
        return Outcome(daily, "no_attendance", None, None, None, iv.state, ended)
    before, after = daily.window_rates(unit.start, window)
    if before is None:
        return Outcome(daily, "too_few_before", None, None, None, iv.state, ended)
    if after is None:
        return Outcome(daily, "too_few_after", None, None, None, iv.state, ended)
    return Outcome(daily, None, before, after, None, iv.state, ended)


def candidates(
    unit: Served,
    found: Outcome,
    kind: str,
    window: int,
    lookup: Callable[[str, dt.date], DailyAttendance | None],
    timelines: Mapping[str, Timeline],
    callers: Sequence[str],
    caliper: float,
) -> list[tuple[float, str, float]]:
    """``(gap, student, change)`` of every student ``unit`` may be compared with.

    They met the same trigger at the same tier on the start day, are in the same grade, have
    both windows full on their own days, were not served before the windows ended, and their
    before rate is within ``caliper`` of the served student's.
    """
    if found.before is None or found.daily is None or unit.tier is None:
        return []
    out = []
    for cid in callers:
        if cid == unit.student_id:
            continue
        tl = timelines[cid]
        decided = tl.in_force(unit.start)
        if decided is None or kind not in decided[1] or decided[0] != unit.tier:
            continue  # not meeting the same trigger, at the same tier, that day
        other = lookup(cid, unit.start)
        if other is None or other.grade != found.daily.grade:
            continue
        c_before, c_after = other.window_rates(unit.start, window)
        if c_before is None or c_after is None:
            continue
        own = tl.first_start.get(kind)
        last = other.after_end(unit.start, window)
        if own is not None and last is not None and own[1] <= last:
            continue  # served before the windows were over: not a comparison
        gap = abs(c_before - found.before)
        if gap <= caliper + 1e-12:
            out.append((gap, cid, c_after - c_before))
    return out


def match(options: Sequence[list[tuple[float, str, float]]]) -> list[float | None]:
    """Pair served students with comparison students, each used once: the comparison's change.

    Greedy on the whole list: the closest pair of all first (ties to the smaller served
    index, then the smaller student id), then the closest of what is left, and so on. Each
    comparison student serves one served student, so the pairs are independent, as the
    bootstrap of pairs assumes (with reuse, the intervals came out too narrow).
    """
    ranked = sorted(
        (gap, i, cid, change) for i, found in enumerate(options) for gap, cid, change in found
    )
    out: list[float | None] = [None] * len(options)
    used: set[str] = set()
    for _, i, cid, change in ranked:
        if out[i] is None and cid not in used:
            out[i] = change
            used.add(cid)
    return out


def groups_of(
    unit: Served, daily: DailyAttendance | None, keys: Iterable[str]
) -> list[tuple[tuple[str, str | None], ...]]:
    """Every group the unit counts in (one per student group with ``group``)."""
    out: list[tuple[tuple[str, str | None], ...]] = [()]
    for key in keys:
        if key == "intervention":
            continue
        values: list[str | None]
        if key == "school":
            values = [unit.intervention.school_id]
        elif key == "owner":
            values = [unit.intervention.owner]
        elif key == "grade":
            values = [None if daily is None else daily.grade]
        else:
            values = list(daily.groups) if daily is not None and daily.groups else [None]
        out = [(*g, (key, v)) for g in out for v in values]
    return out


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def bootstrap(
    values: Sequence[float], rng: random.Random, resamples: int, level: float
) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``values`` (not empty)."""
    n = len(values)
    means = sorted(math.fsum(rng.choices(values, k=n)) / n for _ in range(resamples))
    tail = (1.0 - level) / 2
    return _quantile(means, tail), _quantile(means, 1.0 - tail)


def _quantile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile of sorted values, interpolated linearly (numpy's default)."""
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
