"""Progress monitoring: one student's attendance by school week, with their support on one line.

:func:`progress` reads the student's daily record once (their facts as of ``through`` from a
:class:`~tierflow.attendance.FactsBuilder`: the enrolled school days and the attendance log of
that school year, each day's part missed read as :class:`~tierflow.report.DailyAttendance`
reads it for the effectiveness report) and cuts it into calendar weeks, Monday to Sunday, as
the school-week window functions do (:mod:`tierflow.facts._windows`); no fact is rebuilt for
each week. On the same
weeks it places what the store recorded: tier changes (``decision`` events whose tier differs
from the one before), interventions opened, started (first moved to ``active``) and ended,
check-ins with whether the period's goal was met, and legal steps.

The goal line: for each intervention of the student whose catalogue entry has a measurable
goal (read from the rule set given, never from the store), its text; and, when the compiled
goal is ``days_within('<kind>', <period>) <= N`` exactly, a numeric line: ``N``, with the
value the goal reads at the last school day of each week the intervention was open. The
form is read from the compiled syntax tree; nothing is evaluated as code. A goal of another
form (``weeks_at_most(...) >= 3``) keeps its text and has no line, and the report says so.

>>> import datetime as dt
>>> from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
>>> from tierflow.workflow import InMemoryRepository
>>> cal = SchoolCalendar.from_pattern("lincoln", dt.date(2025, 9, 1), dt.date(2025, 9, 12))
>>> b = FactsBuilder({"lincoln": cal})
>>> b.add_enrollment(Enrollment("s1", "lincoln", dt.date(2025, 9, 1)))
True
>>> b.add_event(AttendanceEvent("s1", "lincoln", dt.date(2025, 9, 3), "unexcused_absence"))
True
>>> p = progress(InMemoryRepository(), b, "s1", through=dt.date(2025, 9, 12))
>>> [(w.week, w.school_days, w.days_absent, w.rate, w.cumulative_rate) for w in p.weeks]
[(datetime.date(2025, 9, 1), 5, 1.0, 0.8, 0.8), (datetime.date(2025, 9, 8), 5, 0.0, 1.0, 0.9)]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dateutil.relativedelta import relativedelta

from tierflow.attendance import FactsBuilder
from tierflow.evaluate import CompiledRuleset
from tierflow.expr import Call, Compare, Const, Duration
from tierflow.facts import ATTENDANCE_KINDS
from tierflow.report._daily import DailyAttendance
from tierflow.report._export import Cell, csv_text, html, join, json_text
from tierflow.report._page import document
from tierflow.workflow import Intervention, Repository

__all__ = ["GoalLine", "GoalPoint", "Progress", "ProgressEvent", "ProgressWeek", "progress"]

_LEGAL_KINDS = frozenset(
    {
        "legal_due",
        "legal_overdue",
        "legal_issued",
        "legal_withdrawn",
        "legal_flagged",
        "legal_flag_resolved",
    }
)


@dataclass(frozen=True)
class ProgressWeek:
    """One calendar week (Monday to Sunday) of the student's school year up to ``through``.

    Attributes:
        week: Its Monday.
        school_days: Enrolled school days in it, up to ``through`` (0: a break).
        days_absent: Days absent in it, as ``days_absent`` counts them (the builder's policy).
        rate: Attendance rate of the week, ``1 - days_absent / school_days`` (None: no
            school day).
        cumulative_rate: Attendance rate from the year's first enrolled day to the week's end
            (None before the first school day).
        tier: The tier of the last decision recorded by the week's last day (None: none).
    """

    week: dt.date
    school_days: int
    days_absent: float
    rate: float | None
    cumulative_rate: float | None
    tier: str | None


@dataclass(frozen=True)
class ProgressEvent:
    """Something the store recorded, placed on its week.

    Attributes:
        on: The date.
        week: The Monday of its week.
        kind: ``tier``, ``opened``, ``started``, ``ended``, ``check_in`` or ``legal``.
        what: The tier, the intervention's catalogue id, or the legal step id.
        detail: The tier before (``from tier1``), the final state (``closed``), the check-in's
            ``goal met``, ``goal not met`` or ``goal not recorded``, or the legal event's kind
            (``legal_issued``).
        intervention_id: The intervention (None for a tier change or a legal step).
        goal_met: For a check-in, what the owner recorded (None otherwise or unknown).
    """

    on: dt.date
    week: dt.date
    kind: str
    what: str
    detail: str
    intervention_id: str | None = None
    goal_met: bool | None = None

    def describe(self) -> str:
        """``2025-09-10 opened weekly-checkin (iv-1)``."""
        iv = f" ({self.intervention_id})" if self.intervention_id else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.on} {self.kind} {self.what}{iv}{detail}"


@dataclass(frozen=True)
class GoalPoint:
    """The goal's value at the last school day of one week its intervention was open.

    Attributes:
        week: The Monday of the week.
        on: The school day it was read at.
        value: ``days_within(kind, period)`` as of ``on``.
        met: ``value <= at_most``.
    """

    week: dt.date
    on: dt.date
    value: float
    met: bool


@dataclass(frozen=True)
class GoalLine:
    """An intervention's measurable goal on the progress time line.

    Attributes:
        intervention_id: The intervention.
        intervention: Its catalogue id.
        text: The goal as the rule set words it.
        expression: The goal's condition as written.
        kind: The attendance kind of a ``days_within`` goal (None: no numeric line).
        period: Its window (``28d``; None: no numeric line).
        at_most: The line, ``N`` (None: the goal is not ``days_within(...) <= N``).
        points: The value each week the intervention was open (empty without a line).
        note: Why there is no numeric line, when there is none.
    """

    intervention_id: str
    intervention: str
    text: str
    expression: str
    kind: str | None
    period: str | None
    at_most: float | None
    points: tuple[GoalPoint, ...]
    note: str = ""


@dataclass(frozen=True)
class Progress:
    """One student's progress through a school year up to a date.

    Attributes:
        student_id: The student.
        school_year: The school year's label (``2025-2026``).
        through: The last day shown.
        weeks: Every calendar week from the first school day (or first event) to
            ``through``, breaks included (with no school day).
        events: The store's events on the time line, in date order.
        goals: The goal of each intervention that has one (empty without a rule set).
        notes: What the report could not show, in words.
    """

    student_id: str
    school_year: str
    through: dt.date
    weeks: tuple[ProgressWeek, ...]
    events: tuple[ProgressEvent, ...]
    goals: tuple[GoalLine, ...]
    notes: tuple[str, ...] = ()

    def events_of(self, week: dt.date) -> tuple[ProgressEvent, ...]:
        """The events of the week starting on Monday ``week``."""
        return tuple(e for e in self.events if e.week == week)

    def to_json(self) -> str:
        """The report as indented JSON: weeks, events, goal lines and notes."""
        data = {
            "student_id": self.student_id,
            "school_year": self.school_year,
            "through": self.through.isoformat(),
            "weeks": [
                {
                    "week": w.week.isoformat(),
                    "school_days": w.school_days,
                    "days_absent": w.days_absent,
                    "rate": _rounded(w.rate),
                    "cumulative_rate": _rounded(w.cumulative_rate),
                    "tier": w.tier,
                }
                for w in self.weeks
            ],
            "events": [
                {
                    "on": e.on.isoformat(),
                    "week": e.week.isoformat(),
                    "kind": e.kind,
                    "what": e.what,
                    "detail": e.detail,
                    "intervention_id": e.intervention_id,
                    "goal_met": e.goal_met,
                }
                for e in self.events
            ],
            "goals": [
                {
                    "intervention_id": g.intervention_id,
                    "intervention": g.intervention,
                    "text": g.text,
                    "expression": g.expression,
                    "kind": g.kind,
                    "period": g.period,
                    "at_most": g.at_most,
                    "note": g.note,
                    "points": [
                        {
                            "week": p.week.isoformat(),
                            "on": p.on.isoformat(),
                            "value": p.value,
                            "met": p.met,
                        }
                        for p in g.points
                    ],
                }
                for g in self.goals
            ],
            "notes": list(self.notes),
        }
        return json_text(data)

    def to_csv(self) -> str:
        """One row a week; the week's events joined by ``; ``, and each goal line's value.

        Rates are written as text with four decimals (``0.8000``) and days absent as the
        shortest text of the number: a CSV cell is never a float (docs/exports.md).
        """
        rows: list[list[Cell]] = [
            [
                "week",
                "school_days",
                "days_absent",
                "rate",
                "cumulative_rate",
                "tier",
                "events",
                "goals",
            ]
        ]
        for w in self.weeks:
            goals = []
            for g in self.goals:
                for p in g.points:
                    if p.week == w.week:
                        met = "met" if p.met else "not met"
                        goals.append(f"{g.intervention_id}: {p.value:g} <= {g.at_most:g} {met}")
            rows.append(
                [
                    w.week,
                    w.school_days,
                    f"{w.days_absent:g}",
                    _fixed(w.rate),
                    _fixed(w.cumulative_rate),
                    w.tier,
                    "; ".join(e.describe() for e in self.events_of(w.week)),
                    "; ".join(goals),
                ]
            )
        return csv_text(rows)

    def to_text(self) -> str:
        """For people: a line a week (rate, cumulative rate, tier), its events below it."""
        lines = [f"{self.student_id}, {self.school_year}, through {self.through}"]
        for g in self.goals:
            line = f"goal of {g.intervention_id} ({g.intervention}): {g.text}"
            if g.at_most is not None:
                line += f" [line: days_within({g.kind}, {g.period}) <= {g.at_most:g}]"
            lines.append(line)
            if g.note:
                lines.append(f"  {g.note}")
        lines.extend(f"note: {n}" for n in self.notes)
        for w in self.weeks:
            if w.school_days:
                line = (
                    f"{w.week}  {w.school_days} days  absent {w.days_absent:g}  "
                    f"rate {_percent(w.rate)}  year {_percent(w.cumulative_rate)}"
                )
            else:
                line = f"{w.week}  no school days"
            lines.append(f"{line}  {w.tier or '-'}")
            for g in self.goals:
                for p in g.points:
                    if p.week == w.week:
                        met = "met" if p.met else "not met"
                        lines.append(
                            f"    goal {g.intervention_id}: {p.value:g} <= {g.at_most:g} {met}"
                        )
            lines.extend(f"    {e.describe()}" for e in self.events_of(w.week))
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """The report's printable page: the goals, then a table a week (every value escaped)."""
        goals = join(
            "",
            (
                html(
                    "<li>{iv} ({what}): {text}{line}</li>",
                    iv=g.intervention_id,
                    what=g.intervention,
                    text=g.text,
                    line=(
                        f" (line: days_within({g.kind}, {g.period}) <= {g.at_most:g})"
                        if g.at_most is not None
                        else f" ({g.note})"
                    ),
                )
                for g in self.goals
            ),
        )
        rows = join(
            "\n",
            (
                html(
                    "<tr><td>{week}</td><td>{days}</td><td>{absent}</td><td>{rate}</td>"
                    "<td>{year}</td><td>{tier}</td><td>{events}</td></tr>",
                    week=w.week,
                    days=w.school_days,
                    absent=f"{w.days_absent:g}",
                    rate=_percent(w.rate),
                    year=_percent(w.cumulative_rate),
                    tier=w.tier or "",
                    events=join("<br>", (e.describe() for e in self.events_of(w.week))),
                )
                for w in self.weeks
            ),
        )
        body = html(
            "<ul>{goals}</ul>\n<table><thead><tr><th>week</th><th>school days</th>"
            "<th>days absent</th><th>rate</th><th>year to date</th><th>tier</th>"
            "<th>events</th></tr></thead>\n<tbody>\n{rows}\n</tbody></table>",
            goals=goals,
            rows=rows,
        )
        title = f"Progress of {self.student_id}, {self.school_year}, through {self.through}"
        return str(document(title=title, running=title, body=body))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _fixed(value: float | None) -> str | None:
    return None if value is None else f"{value:.4f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def progress(
    repository: Repository,
    attendance: FactsBuilder,
    student_id: str,
    *,
    through: dt.date,
    ruleset: CompiledRuleset | None = None,
) -> Progress:
    """A student's attendance by week over the school year of ``through``, with their support.

    Args:
        repository: The store (decisions, interventions, check-ins, legal steps).
        attendance: The district's attendance (calendars, enrollments, events); its policy
            counts the days, as for the facts rules read.
        student_id: The student.
        through: The last day shown; the school year is the one it falls in (the builder's
            ``school_years``).
        ruleset: The rule set whose catalogue words the interventions' goals (None: no goal
            is shown, and the report says so).
    """
    year = attendance.school_years.of(through)
    notes: list[str] = []
    facts = attendance.facts_for(student_id, through)
    days: Sequence[dt.date] = ()
    log: Sequence[Mapping[str, Any]] = ()
    if facts is None:
        notes.append(f"no enrollment in school year {year} by {through}")
    else:
        days = facts["school_days"]
        log = facts["attendance_log"]
    # Each day's part missed, read as the effectiveness report reads it (one reading).
    absent: dict[dt.date, float] = {}
    if facts is not None:
        daily = DailyAttendance.from_facts(
            facts, suspensions_count=attendance.policy.suspensions_count_as_absence
        )
        absent = dict(zip(daily.days, daily.absent, strict=True))

    ivs = [
        iv
        for iv in repository.for_student(student_id)
        if iv.opened_on <= through and (iv.ended_on is None or iv.ended_on >= year.start)
    ]
    stored = repository.events(student_id)
    events, tiers = _timeline(stored, ivs, repository, year.start, through)

    first = min([*days[:1], *(e.on for e in events)], default=None)
    weeks: list[ProgressWeek] = []
    if first is not None:
        by_week: dict[dt.date, list[dt.date]] = {}
        for d in days:
            by_week.setdefault(_monday(d), []).append(d)
        enrolled = 0
        missed = 0.0
        week = _monday(first)
        while week <= through:
            mine = by_week.get(week, [])
            lost = sum(absent.get(d, 0.0) for d in mine)
            enrolled += len(mine)
            missed += lost
            weeks.append(
                ProgressWeek(
                    week,
                    len(mine),
                    lost,
                    1.0 - lost / len(mine) if mine else None,
                    1.0 - missed / enrolled if enrolled else None,
                    _tier_on(tiers, min(week + dt.timedelta(days=6), through)),
                )
            )
            week += dt.timedelta(days=7)

    goals: list[GoalLine] = []
    if ruleset is None:
        if ivs:
            notes.append("no rule set given: the interventions' goals are not shown")
    else:
        goals = [g for iv in ivs if (g := _goal_line(ruleset, iv, days, log, through)) is not None]
    return Progress(
        student_id, str(year), through, tuple(weeks), tuple(events), tuple(goals), tuple(notes)
    )


def _tier_on(tiers: Sequence[tuple[dt.date, str]], day: dt.date) -> str | None:
    tier = None
    for on, name in tiers:
        if on > day:
            break
        tier = name
    return tier


def _timeline(
    stored: Sequence[Any],
    ivs: Sequence[Intervention],
    repository: Repository,
    start: dt.date,
    through: dt.date,
) -> tuple[list[ProgressEvent], list[tuple[dt.date, str]]]:
    """The events between ``start`` and ``through``, and every tier decided, with its date."""
    out: list[ProgressEvent] = []
    tiers: list[tuple[dt.date, str]] = []
    started: set[str] = set()
    names = {iv.id: iv.intervention for iv in ivs}
    previous: str | None = None
    for ev in stored:
        at = ev.at
        if not isinstance(at, dt.date) or at > through:
            continue
        d = ev.detail or {}
        shown = at >= start
        if ev.kind == "decision" and "tier" in d:
            tier = str(d["tier"])
            tiers.append((at, tier))
            if tier != previous and shown:
                was = f"from {previous}" if previous is not None else ""
                out.append(ProgressEvent(at, _monday(at), "tier", tier, was))
            previous = tier
        elif not shown:
            continue
        elif ev.kind == "opened":
            what = str(d.get("intervention", ""))
            out.append(ProgressEvent(at, _monday(at), "opened", what, "", ev.intervention_id))
        elif ev.kind == "transition" and ev.to_state == "active":
            iid = str(ev.intervention_id)
            if iid not in started:
                started.add(iid)
                out.append(ProgressEvent(at, _monday(at), "started", names.get(iid, ""), "", iid))
        elif ev.kind in _LEGAL_KINDS:
            step = str(d.get("step", ""))
            out.append(ProgressEvent(at, _monday(at), "legal", step, ev.kind))
    for iv in ivs:
        if iv.ended_on is not None and start <= iv.ended_on <= through:
            out.append(
                ProgressEvent(
                    iv.ended_on, _monday(iv.ended_on), "ended", iv.intervention, iv.state, iv.id
                )
            )
        for c in repository.check_ins(iv.id):
            if start <= c.on <= through:
                said = {True: "goal met", False: "goal not met", None: "goal not recorded"}
                out.append(
                    ProgressEvent(
                        c.on,
                        _monday(c.on),
                        "check_in",
                        iv.intervention,
                        said[c.goal_met],
                        iv.id,
                        c.goal_met,
                    )
                )
    order = {"tier": 0, "opened": 1, "started": 2, "check_in": 3, "ended": 4, "legal": 5}
    out.sort(key=lambda e: (e.on, order[e.kind]))
    return out, tiers


def _goal_line(
    ruleset: CompiledRuleset,
    iv: Intervention,
    days: Sequence[dt.date],
    log: Sequence[Mapping[str, Any]],
    through: dt.date,
) -> GoalLine | None:
    """The goal line of an intervention whose catalogue entry has a goal (else None)."""
    spec = ruleset.interventions.get(iv.intervention)
    checked = ruleset.goal(iv.intervention)
    if spec is None or spec.goal is None or checked is None:
        return None
    form = _days_within_limit(checked.tree)
    if form is None:
        return GoalLine(
            iv.id,
            iv.intervention,
            spec.goal.text,
            checked.text,
            None,
            None,
            None,
            (),
            "not of the form days_within(kind, period) <= N: no numeric line is drawn",
        )
    kind, period, limit = form
    kinds = ATTENDANCE_KINDS[kind]
    last = min(through, iv.ended_on) if iv.ended_on is not None else through
    week_last: dict[dt.date, dt.date] = {}
    for d in days:
        if iv.opened_on <= d <= last:
            week_last[_monday(d)] = d  # days are in order: the week's last one stays
    points = []
    for week, on in week_last.items():
        since = on - relativedelta(months=period.months, days=period.days)
        value = sum(float(r["days"]) for r in log if since < r["date"] <= on and r["kind"] in kinds)
        points.append(GoalPoint(week, on, value, value <= limit))
    return GoalLine(
        iv.id,
        iv.intervention,
        spec.goal.text,
        checked.text,
        kind,
        str(period),
        limit,
        tuple(points),
    )


def _days_within_limit(tree: Any) -> tuple[str, Duration, float] | None:
    """``(kind, period, N)`` when a goal's tree is ``days_within(kind, period) <= N``, else None.

    Only that exact shape is read, from the constants of the compiled tree: nothing is
    evaluated.
    """
    if not (isinstance(tree, Compare) and tree.ops == ["<="] and len(tree.operands) == 2):
        return None
    call, bound = tree.operands
    if not (isinstance(call, Call) and call.func == "days_within" and len(call.args) == 2):
        return None
    kind, period = call.args
    if not (
        isinstance(kind, Const)
        and isinstance(kind.value, str)
        and kind.value in ATTENDANCE_KINDS
        and isinstance(period, Const)
        and isinstance(period.value, Duration)
        and isinstance(bound, Const)
        and type(bound.value) in (int, float)
    ):
        return None
    return kind.value, period.value, float(bound.value)
