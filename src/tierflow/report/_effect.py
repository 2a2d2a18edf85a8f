"""Effectiveness: attendance before and after an intervention started, against a comparison.

For each intervention kind (and school, grade, student group or owner when asked), each
served student's attendance rate over the ``window`` school days before the intervention
started is set against the same number of school days from the start on, each on the
student's own enrolled school days (:class:`~tierflow.report._daily.DailyAttendance`). A
student is *served* from the day their first intervention of the kind was started (the first
transition into a started state, :class:`tierflow.workflow.Starts`), or opened when it never
was; one withdrawn on corrected data is not counted (as :func:`tierflow.workflow.support_tried`
does not count it). A student with fewer school days before or after is left out and counted by
reason, never dropped silently.

**The comparison.** Students picked for support are picked because their attendance dipped,
and a dip tends to recover on its own (regression to the mean), so a served student's change
alone overstates what support did. Each served student is matched to a *comparison* student
who met the same trigger but was not served by then: the decision in force on the served
student's start day (the last ``decision`` event by then) called for the same intervention,
and their own first intervention of that kind, if any, starts only after the after window
(served later). The comparison student's windows are the same ``window`` school days before
and from that same day, on their own days. Matching: the same tier (of the decision in force
that day), the same grade, and a before-window rate within ``caliper`` (absolute, 0.05 = 5
percentage points); each comparison student is used once, the closest pairs of the whole
kind first (nearest-neighbour matching without replacement, greedy; ties to the smaller
served student id, then the smaller comparison id). The difference-in-differences is the mean
over matched pairs of (served change - comparison change). A served student with no
candidate left is counted unmatched.

**Intervals.** Percentile bootstrap (``resamples`` resamples of the students, with
replacement; the ``level`` share of the resampled means lies inside), seeded per row from
``seed`` and the row's key, so a report is reproducible and a row does not change when
another row is added. Rows with fewer than ``min_n`` students show counts only.

**Goal met.** The share of served interventions that *ended* in the ``met_goal`` state (the
review's verdict: a measurable goal on the facts, else the owner's judgement at the latest
check-in), of those that ended by the report's date.

The computation (timelines, windows, matches, intervals) is in
:mod:`tierflow.report._effect_calc`; the report's records and outputs are here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from tierflow.report._daily import AttendanceSource, daily_lookup
from tierflow.report._effect_calc import (
    TIMELINE_KINDS,
    Outcome,
    Pool,
    Served,
    bootstrap,
    groups_of,
    match,
    mean,
    outcome,
    timeline,
)
from tierflow.report._export import Cell, csv_text, json_text
from tierflow.report._gc import pauses_collection
from tierflow.workflow import CaseSummary, Repository

__all__ = ["EFFECT_BY", "LEFT_OUT_REASONS", "EffectRow", "Effectiveness", "effectiveness"]

EFFECT_BY = ("intervention", "school", "grade", "group", "owner")
"""What an effectiveness report can group by (``intervention`` always comes first)."""

LEFT_OUT_REASONS = ("no_attendance", "too_few_before", "too_few_after")
"""Why a served student is left out: no days at all, or too few before or after the start."""


@dataclass(frozen=True)
class EffectRow:
    """One row: an intervention kind (and a school, grade, group or owner).

    Rates are attendance rates (1 - the share of the day missed), from 0 to 1; changes are
    after minus before (positive: better attendance). Estimates are None below ``min_n``.

    Attributes:
        intervention: The catalogue id (``weekly-checkin``).
        group: ``(by, value)`` pairs beyond the intervention (``(("school", "lincoln"),)``).
        served: Served students in the row.
        left_out: Served students left out, by reason (:data:`LEFT_OUT_REASONS`).
        analysed: Served students with both windows full.
        before_rate: Their mean rate before the start.
        after_rate: Their mean rate after.
        change: Their mean change.
        change_ci: Its bootstrap interval ``(low, high)``.
        ended: Served interventions that had ended by the report's date.
        goal_met: Of those, how many ended in ``met_goal``.
        goal_met_share: ``goal_met / ended`` (None when none ended).
        matched: Analysed students matched to a comparison student.
        unmatched: Analysed students without one.
        comparison_change: The matched comparison students' mean change.
        did: The difference-in-differences (served change - comparison change, per pair).
        did_ci: Its bootstrap interval.
    """

    intervention: str
    group: tuple[tuple[str, str | None], ...]
    served: int
    left_out: tuple[tuple[str, int], ...]
    analysed: int
    before_rate: float | None
    after_rate: float | None
    change: float | None
    change_ci: tuple[float, float] | None
    ended: int
    goal_met: int
    goal_met_share: float | None
    matched: int
    unmatched: int
    comparison_change: float | None
    did: float | None
    did_ci: tuple[float, float] | None

    def left_out_total(self) -> int:
        """Served students left out, whatever the reason."""
        return sum(n for _, n in self.left_out)


@dataclass(frozen=True)
class Effectiveness:
    """The report: one row per intervention kind (and group), with its settings.

    Attributes:
        as_of: Attendance is read up to this day (later days are not yet attended).
        window: School days in each window.
        by: What the rows are grouped by.
        min_n: Rows with fewer analysed (or matched) students show no estimate.
        caliper: Largest before-rate difference a match may have.
        level: The intervals' coverage (0.95).
        seed: The bootstrap's seed.
        resamples: Bootstrap resamples.
        rows: The rows, sorted by intervention and group.
        separately: The rows are grouped by each of ``by`` on its own, after the
            district's row (see :func:`effectiveness`), not by their combinations.
    """

    as_of: dt.date
    window: int
    by: tuple[str, ...]
    min_n: int
    caliper: float
    level: float
    seed: int
    resamples: int
    rows: tuple[EffectRow, ...]
    separately: bool = False

    def summary(self) -> str:
        """One line: rows, students served, analysed, matched and left out."""
        served = sum(r.served for r in self.rows)
        analysed = sum(r.analysed for r in self.rows)
        matched = sum(r.matched for r in self.rows)
        left = sum(r.left_out_total() for r in self.rows)
        return (
            f"effectiveness as of {self.as_of}, {self.window} school days each side: "
            f"{len(self.rows)} row{'s' if len(self.rows) != 1 else ''}, {served} served, "
            f"{analysed} analysed, {matched} matched, {left} left out"
        )

    def to_json(self) -> str:
        """The report as indented JSON: its settings and rows (rates as numbers 0..1)."""
        return json_text(
            {
                "as_of": self.as_of.isoformat(),
                "window": self.window,
                "by": list(self.by),
                "min_n": self.min_n,
                "caliper": self.caliper,
                "level": self.level,
                "seed": self.seed,
                "resamples": self.resamples,
                "separately": self.separately,
                "note": CAVEAT,
                "rows": [_row_json(r) for r in self.rows],
            }
        )

    def to_csv(self) -> str:
        """One row a row, with a header.

        A CSV cell may hold whole numbers only (:func:`~tierflow.report._export.csv_text`),
        and a negative change written as text would be marked as a formula, so rates,
        changes and shares are written in basis points: hundredths of a percentage point,
        whole numbers (a rate of 0.9125 is ``9125``, a change of -0.05 is ``-500``).
        """
        keys = [k for k in self.by if k != "intervention"]
        # Grouped separately, a row's other keys are empty, as a student without a group's
        # is: a column says which key the row is by ("district": none).
        by: list[Cell] = ["grouped_by"] if self.separately else []
        header: list[Cell] = ["intervention", *by, *keys, *_CSV_COLUMNS]
        rows: list[list[Cell]] = [header]
        for r in self.rows:
            values = dict(r.group)
            left = dict(r.left_out)
            if self.separately:
                by = [r.group[0][0] if r.group else "district"]
            rows.append(
                [
                    r.intervention,
                    *by,
                    *(values.get(k) for k in keys),
                    r.served,
                    *(left.get(reason, 0) for reason in LEFT_OUT_REASONS),
                    r.analysed,
                    _bp(r.before_rate),
                    _bp(r.after_rate),
                    _bp(r.change),
                    *_bp_pair(r.change_ci),
                    r.ended,
                    r.goal_met,
                    _bp(r.goal_met_share),
                    r.matched,
                    r.unmatched,
                    _bp(r.comparison_change),
                    _bp(r.did),
                    *_bp_pair(r.did_ci),
                ]
            )
        return csv_text(rows)

    def to_text(self) -> str:
        """For people: the settings, then a paragraph a row, rates in percent."""
        pct = round(self.level * 100)
        lines = [self.summary()]
        for r in self.rows:
            where = "".join(f", {k} {v if v is not None else '-'}" for k, v in r.group)
            lines.append(f"\n{r.intervention}{where}: {r.served} served, {r.analysed} analysed")
            if r.left_out_total():
                left = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in r.left_out if n)
                lines.append(f"  left out: {left}")
            if r.change is None:
                lines.append(f"  too few students for an estimate (fewer than {self.min_n})")
            else:
                lines.append(
                    f"  attendance {_pct(r.before_rate)} before, {_pct(r.after_rate)} after: "
                    f"change {_pp(r.change)} ({pct}% CI {_pp_pair(r.change_ci)})"
                )
            lines.append(f"  comparison: {r.matched} matched, {r.unmatched} unmatched")
            if r.did is not None:
                lines.append(
                    f"  comparison change {_pp(r.comparison_change)}; difference-in-differences "
                    f"{_pp(r.did)} ({pct}% CI {_pp_pair(r.did_ci)})"
                )
            share = "-" if r.goal_met_share is None else _pct(r.goal_met_share)
            lines.append(f"  goal met: {r.goal_met} of {r.ended} ended ({share})")
        lines.append("")
        lines.extend(textwrap.wrap(CAVEAT, 92))
        return "\n".join(lines) + "\n"


CAVEAT = (
    "Observational, not randomised: the comparison students met the same trigger and are "
    "matched on tier, grade and the before rate, which guards against regression to the mean "
    "and a trend all students share, but not against what staff saw and the records do not "
    "(why one student was served first); with few students the intervals are wide or "
    "unreliable. A difference is evidence, not proof, that the support caused it."
)
"""What the report can and cannot claim, printed with it (docs/reports.md says more)."""

_CSV_COLUMNS = (
    "served",
    *(f"left_out_{reason}" for reason in LEFT_OUT_REASONS),
    "analysed",
    "before_rate_bp",
    "after_rate_bp",
    "change_bp",
    "change_ci_low_bp",
    "change_ci_high_bp",
    "ended",
    "goal_met",
    "goal_met_share_bp",
    "matched",
    "unmatched",
    "comparison_change_bp",
    "did_bp",
    "did_ci_low_bp",
    "did_ci_high_bp",
)


def _bp(value: float | None) -> int | None:
    return None if value is None else round(value * 10_000)


def _bp_pair(pair: tuple[float, float] | None) -> tuple[int | None, int | None]:
    return (None, None) if pair is None else (_bp(pair[0]), _bp(pair[1]))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _pp(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:+.1f} pp"


def _pp_pair(pair: tuple[float, float] | None) -> str:
    return "-" if pair is None else f"{pair[0] * 100:+.1f} to {pair[1] * 100:+.1f} pp"


def _row_json(r: EffectRow) -> dict[str, object]:
    return {
        "intervention": r.intervention,
        **dict(r.group),
        "served": r.served,
        "left_out": dict(r.left_out),
        "analysed": r.analysed,
        "before_rate": r.before_rate,
        "after_rate": r.after_rate,
        "change": r.change,
        "change_ci": None if r.change_ci is None else list(r.change_ci),
        "ended": r.ended,
        "goal_met": r.goal_met,
        "goal_met_share": r.goal_met_share,
        "matched": r.matched,
        "unmatched": r.unmatched,
        "comparison_change": r.comparison_change,
        "did": r.did,
        "did_ci": None if r.did_ci is None else list(r.did_ci),
    }


# --- the computation -------------------------------------------------------------------------


@pauses_collection
def effectiveness(
    repository: Repository,
    attendance: AttendanceSource,
    *,
    as_of: dt.date | None = None,
    window: int = 20,
    by: Sequence[str] = ("intervention",),
    min_n: int = 10,
    caliper: float = 0.05,
    level: float = 0.95,
    seed: int = 0,
    resamples: int = 2000,
    separately: bool = False,
) -> Effectiveness:
    """Attendance before and after each intervention kind started, against matched students.

    Args:
        repository: The store (interventions, their transitions, the decisions recorded).
        attendance: The students' school days: a :class:`~tierflow.attendance.FactsBuilder`
            of raw events, or a mapping of student id to
            :class:`~tierflow.report.DailyAttendance`.
        as_of: Read records and attendance up to this day (default: today); a window that
            needs later days is short.
        window: School days in each window (before the start; from the start on).
        by: ``intervention`` and any of ``school`` (the intervention's), ``grade``, ``group``
            (a student in several groups counts in each) and ``owner``.
        min_n: Rows with fewer analysed students (or matched pairs, for the comparison) show
            counts but no estimate.
        caliper: Largest difference of before-window rates a match may have (0..1).
        level: Coverage of the intervals.
        seed: The bootstrap's seed (same seed, same report).
        resamples: Bootstrap resamples.
        separately: Rows for the whole district and for each of ``by`` on its own (SQL's
            ``GROUPING SETS``): with ``by=("school", "group")``, each kind's district row,
            a row per school and a row per group, and none per school and group. Without
            it, a row per combination of ``by``'s values. The matching is done once either
            way.

    Raises:
        ValueError: A ``window``, ``min_n`` or ``resamples`` below 1, an unknown ``by``, a
            ``caliper`` outside 0..1 or a ``level`` outside (0, 1).
    """
    as_of = dt.date.today() if as_of is None else as_of
    keys = tuple(dict.fromkeys(("intervention", *by)))
    unknown = [k for k in keys if k not in EFFECT_BY]
    if unknown:
        raise ValueError(f"unknown grouping {unknown[0]!r}; use {', '.join(EFFECT_BY)}")
    for name, value in (("window", window), ("min_n", min_n), ("resamples", resamples)):
        if value < 1:
            raise ValueError(f"{name} must be 1 or more, got {value}")
    if not 0.0 <= caliper <= 1.0:
        raise ValueError(f"caliper must be from 0 to 1, got {caliper}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    days_of = daily_lookup(attendance, as_of)
    # Two reads for the district, from the store's reporting columns (no event body decoded).
    summaries = repository.summaries(TIMELINE_KINDS, firsts=True)
    interventions: dict[str, list[CaseSummary]] = {}
    for case in repository.cases():
        interventions.setdefault(case.student_id, []).append(case)
    timelines = {
        sid: timeline(summaries.get(sid, ()), interventions.get(sid, ()), as_of)
        for sid in repository.students()
    }
    served: dict[str, list[Served]] = {}
    callers: dict[str, list[str]] = {}  # kind -> students a decision called it for
    for sid, tl in timelines.items():
        for kind, (iv, start) in tl.first_start.items():
            decided = tl.in_force(start)
            served.setdefault(kind, []).append(
                Served(sid, iv, start, None if decided is None else decided[0])
            )
        for kind in {k for _, _, called in tl.decisions for k in called}:
            callers.setdefault(kind, []).append(sid)
    groups: dict[tuple[str, tuple[tuple[str, str | None], ...]], list[Outcome]] = {}
    for kind in sorted(served):
        units = sorted(served[kind], key=lambda u: u.student_id)
        found = [outcome(unit, window, days_of) for unit in units]
        pool = Pool(kind, window, days_of, timelines, callers.get(kind, []))
        cells = [pool.cell(u, f) for u, f in zip(units, found, strict=True)]
        for unit, one, change in zip(units, found, match(cells, caliper), strict=True):
            done = one if change is None else dataclasses.replace(one, comparison=change)
            for group in groups_of(unit, done.daily, keys, separately=separately):
                groups.setdefault((kind, group), []).append(done)
    rows = tuple(
        _row(kind, group, outcomes, min_n, level, resamples, seed)
        for (kind, group), outcomes in sorted(groups.items(), key=lambda kv: _sort_key(kv[0]))
    )
    return Effectiveness(
        as_of, window, keys, min_n, caliper, level, seed, resamples, rows, separately
    )


def _sort_key(key: tuple[str, tuple[tuple[str, str | None], ...]]) -> tuple[object, ...]:
    kind, group = key
    return (kind, tuple((k, v is None, v or "") for k, v in group))


def _row(
    kind: str,
    group: tuple[tuple[str, str | None], ...],
    outcomes: list[Outcome],
    min_n: int,
    level: float,
    resamples: int,
    seed: int,
) -> EffectRow:
    left = {reason: 0 for reason in LEFT_OUT_REASONS}
    for o in outcomes:
        if o.left_out is not None:
            left[o.left_out] += 1
    done = [o for o in outcomes if o.before is not None and o.after is not None]
    befores = [o.before for o in done if o.before is not None]
    afters = [o.after for o in done if o.after is not None]
    changes = [a - b for a, b in zip(afters, befores, strict=True)]
    pairs = [
        (o.after - o.before, o.comparison)
        for o in done
        if o.comparison is not None and o.after is not None and o.before is not None
    ]
    dids = [c - k for c, k in pairs]
    rng_key = f"{seed}|{kind}|{group!r}"
    enough = len(changes) >= min_n
    matched = len(pairs) >= min_n
    ended = sum(1 for o in outcomes if o.ended)
    met = sum(1 for o in outcomes if o.ended and o.state == "met_goal")
    return EffectRow(
        intervention=kind,
        group=group,
        served=len(outcomes),
        left_out=tuple(left.items()),
        analysed=len(done),
        before_rate=mean(befores) if enough else None,
        after_rate=mean(afters) if enough else None,
        change=mean(changes) if enough else None,
        change_ci=bootstrap(changes, random.Random(rng_key + "|change"), resamples, level)
        if enough
        else None,
        ended=ended,
        goal_met=met,
        goal_met_share=met / ended if ended else None,
        matched=len(pairs),
        unmatched=len(done) - len(pairs),
        comparison_change=mean([k for _, k in pairs]) if matched else None,
        did=mean(dids) if matched else None,
        did_ci=bootstrap(dids, random.Random(rng_key + "|did"), resamples, level)
        if matched
        else None,
    )
