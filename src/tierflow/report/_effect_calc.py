"""The computation behind the effectiveness report: timelines, windows, matches, intervals.

Split from :mod:`tierflow.report._effect` (the report's records and outputs), which documents
the method; everything here is private to it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import math
import operator
import random
import statistics
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from tierflow.report._daily import DailyAttendance
from tierflow.workflow import CaseSummary, EventSummary
from tierflow.workflow._tried import Starts

__all__ = [
    "BOOTSTRAP_DRAWS",
    "TIMELINE_KINDS",
    "Cell",
    "Outcome",
    "Pool",
    "Served",
    "Timeline",
    "bootstrap",
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
    intervention: CaseSummary
    start: dt.date
    tier: str | None


@dataclass
class Timeline:
    """What the report needs of one student's records."""

    decisions: list[tuple[dt.date, str, tuple[str, ...]]]  # (day, tier, interventions called)
    first_start: dict[str, tuple[CaseSummary, dt.date]]  # kind -> first served, its start
    days: list[dt.date] = dataclasses.field(default_factory=list)  # the decisions' days

    def __post_init__(self) -> None:
        self.days = [at for at, _, _ in self.decisions]

    def in_force(self, on: dt.date) -> tuple[str, tuple[str, ...]] | None:
        """The tier and interventions of the last decision recorded by ``on``."""
        i = bisect_right(self.days, on)
        if i == 0:
            return None
        _, tier, called = self.decisions[i - 1]
        return tier, called


TIMELINE_KINDS = ("decision", "transition")
"""The events a :func:`timeline` reads: the decisions, and the starts and withdrawals."""


def timeline(
    summaries: Sequence[EventSummary], interventions: Iterable[CaseSummary], as_of: dt.date
) -> Timeline:
    """One student's timeline as the report reads it.

    Args:
        summaries: The student's events of :data:`TIMELINE_KINDS`, in order
            (``Repository.summaries``).
        interventions: The student's interventions (``Repository.cases``).
        as_of: Read them as they stood that day.
    """
    events = [e for e in summaries if e.at <= as_of]
    # Read in (date, seq) order: an intervention started on the earliest date a start was
    # recorded for (what the first transitions the store keeps answer; see first_transitions).
    starts = Starts.read(sorted(events, key=lambda e: (e.at, e.seq)))
    decisions = [(ev.at, ev.tier or "", ev.called) for ev in events if ev.kind == "decision"]
    decisions.sort(key=lambda d: d[0])  # stable: same-day decisions keep their order
    first: dict[str, tuple[CaseSummary, dt.date]] = {}
    for iv in interventions:
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


_Entry = tuple[float, str, float]  # (before rate, student, change)


class Pool:
    """The students a kind's served students may be compared with, read once a start day.

    Served students started on the same day share one reading of the pool (in a district,
    starts cluster on the days the workflow ran), kept by tier and grade and sorted by the
    before rate, so a served student's candidates within the caliper are found by bisection.
    """

    def __init__(
        self,
        kind: str,
        window: int,
        lookup: Callable[[str, dt.date], DailyAttendance | None],
        timelines: Mapping[str, Timeline],
        callers: Sequence[str],
    ) -> None:
        self._kind, self._window, self._lookup = kind, window, lookup
        self._timelines = timelines
        self._on: dict[dt.date, dict[tuple[str, str | None], list[_Entry]]] = {}
        # Latest served first (never served: first of all), so the students not yet served on
        # a day are a prefix, found by bisection: most of a kind's pool was served early.
        served: dict[str, int] = {}
        for cid in callers:
            own = timelines[cid].first_start.get(kind)
            served[cid] = dt.date.max.toordinal() if own is None else own[1].toordinal()
        self._callers = sorted(callers, key=served.__getitem__, reverse=True)
        self._served = [-served[cid] for cid in self._callers]  # ascending

    def _read(self, on: dt.date) -> dict[tuple[str, str | None], list[_Entry]]:
        found = self._on.get(on)
        if found is not None:
            return found
        kind, window = self._kind, self._window
        found = {}
        unserved = bisect_left(self._served, -on.toordinal())  # served after ``on``, or never
        for cid in self._callers[:unserved]:
            tl = self._timelines[cid]
            own = tl.first_start.get(kind)
            decided = tl.in_force(on)
            if decided is None or kind not in decided[1]:
                continue  # not meeting the trigger that day
            other = self._lookup(cid, on)
            if other is None:
                continue
            last = other.after_end(on, window)
            if last is None or (own is not None and own[1] <= last):
                continue  # too few days after, or served before the windows were over
            before, after = other.window_rates(on, window)
            if before is None or after is None:
                continue
            found.setdefault((decided[0], other.grade), []).append((before, cid, after - before))
        for entries in found.values():
            entries.sort()
        self._on[on] = found
        return found

    def cell(self, unit: Served, found: Outcome) -> Cell | None:
        """The students ``unit`` may be compared with, and its own before rate.

        They met the same trigger at the same tier on the start day, are in the same grade,
        have both windows full on their own days, and were not served before the windows
        ended; :func:`match` keeps those within the caliper. None: nobody (no before rate,
        no days, or no tier decided when it started).
        """
        if found.before is None or found.daily is None or unit.tier is None:
            return None
        entries = self._read(unit.start).get((unit.tier, found.daily.grade))
        return None if not entries else (entries, found.before)


Cell = tuple[list[_Entry], float]
"""A served student's candidates (sorted by before rate) and its own before rate."""


def _nearest(
    entries: list[_Entry], at: float, limit: float, used: set[str]
) -> Iterator[tuple[float, str, float]]:
    """``(gap, student, change)`` of entries within ``limit`` of ``at``: nearest first.

    Equal gaps go to the smaller student id, whether the students are above ``at``, below
    it, or both: entries are read a run of equal rates at a time. A student in ``used`` when
    its turn comes is passed over (the matching took it).
    """
    right = bisect_left(entries, (at,))
    left, size = right, len(entries)
    while True:
        low = at - entries[left - 1][0] if left > 0 else math.inf
        high = entries[right][0] - at if right < size else math.inf
        gap = min(low, high)
        if gap > limit:
            return
        run: list[_Entry] = []
        if low == gap:
            value, start = entries[left - 1][0], left - 1
            while start > 0 and entries[start - 1][0] == value:
                start -= 1
            run += entries[start:left]
            left = start
        if high == gap:
            value, end = entries[right][0], right + 1
            while end < size and entries[end][0] == value:
                end += 1
            run += entries[right:end]
            right = end
        if low == high:
            run.sort(key=_BY_STUDENT)  # two runs at one gap, each in order already: merged
        for _, cid, change in run:
            if cid not in used:
                yield gap, cid, change


_BY_STUDENT = operator.itemgetter(1)


def match(cells: Sequence[Cell | None], caliper: float) -> list[float | None]:
    """Pair served students with comparison students, each used once: the comparison's change.

    Greedy on the whole kind: the closest pair of all first (ties to the smaller served
    index, then the smaller student id), then the closest of what is left, and so on, among
    pairs whose before rates differ by at most ``caliper``; each served student's candidates
    are read nearest first, one at a time. Each comparison student serves one served
    student, so the pairs are independent, as the bootstrap of pairs assumes (with reuse,
    the intervals came out too narrow).

    Args:
        cells: Each served student's :meth:`Pool.cell`, in order.
        caliper: Largest difference of before rates a pair may have.
    """
    used: set[str] = set()
    limit = caliper + 1e-12  # a whole-day rate's float error never excludes a pair
    streams = [
        iter(()) if cell is None else _nearest(cell[0], cell[1], limit, used) for cell in cells
    ]
    heap: list[tuple[float, int, str, float]] = []
    for i, stream in enumerate(streams):
        first = next(stream, None)
        if first is not None:
            heap.append((first[0], i, first[1], first[2]))
    heapq.heapify(heap)
    out: list[float | None] = [None] * len(cells)
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        _, i, cid, change = pop(heap)
        if cid in used:  # taken since this stream offered it
            following = next(streams[i], None)
            if following is not None:
                push(heap, (following[0], i, following[1], following[2]))
            continue
        out[i] = change
        used.add(cid)
    return out


def groups_of(
    unit: Served,
    daily: DailyAttendance | None,
    keys: Iterable[str],
    *,
    separately: bool = False,
) -> list[tuple[tuple[str, str | None], ...]]:
    """Every group the unit counts in (one per student group with ``group``).

    By the combinations of ``keys`` (one group of every key), or with ``separately`` by
    each key on its own, after the district's ``()``.
    """
    values: list[tuple[str, list[str | None]]] = []
    for key in keys:
        if key == "intervention":
            continue
        if key == "school":
            values.append((key, [unit.intervention.school_id]))
        elif key == "owner":
            values.append((key, [unit.intervention.owner]))
        elif key == "grade":
            values.append((key, [None if daily is None else daily.grade]))
        else:
            groups = list(daily.groups) if daily is not None and daily.groups else [None]
            values.append((key, list(groups)))
    if separately:
        return [(), *(((key, v),) for key, vs in values for v in vs)]
    out: list[tuple[tuple[str, str | None], ...]] = [()]
    for key, vs in values:
        out = [(*g, (key, v)) for g in out for v in vs]
    return out


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


BOOTSTRAP_DRAWS = 500_000
"""Most draws a bootstrap makes (students x resamples); above it, the normal interval."""


def bootstrap(
    values: Sequence[float], rng: random.Random, resamples: int, level: float
) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``values`` (not empty).

    A row of many students (more than :data:`BOOTSTRAP_DRAWS` draws in all: 250 students
    at 2,000 resamples) gets the normal interval of the mean instead, ``mean +- z * s /
    sqrt(n)``: what the bootstrap of a mean converges to at that size (the central limit
    theorem), at no cost; drawing it would take a minute on a district's year.
    """
    n = len(values)
    if n * resamples > BOOTSTRAP_DRAWS:
        centre = mean(values)
        spread = statistics.stdev(values) / math.sqrt(n) if n > 1 else 0.0
        z = statistics.NormalDist().inv_cdf(1.0 - (1.0 - level) / 2)
        return centre - z * spread, centre + z * spread
    means = sorted(math.fsum(rng.choices(values, k=n)) / n for _ in range(resamples))
    tail = (1.0 - level) / 2
    return _quantile(means, tail), _quantile(means, 1.0 - tail)


def _quantile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile of sorted values, interpolated linearly (numpy's default)."""
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
