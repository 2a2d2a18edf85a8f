"""Equity and coverage: who at Tier 2 or 3 is supported, how soon, and who reaches legal steps.

Read from a store (decisions, interventions, legal steps) and the day's facts (schools,
groups, race/ethnicity, days enrolled and absent), for the district, each school and each
group:

- **coverage**: of the students whose latest decision (by ``as_of``) put them at a tier of
  level 2 or more, the share with an *active* supportive intervention: started (the reading of
  :func:`tierflow.workflow.support_tried`: its first transition into a started state, and not
  withdrawn on corrected data) and not ended by ``as_of``;
- **time to support**: from the *trigger* (the first decision at level 2 or more) to the first
  support started on or after it, in school days when ``calendars`` are given (Monday to
  Friday for a school without one), in calendar days when not (:attr:`EquityReport.day_unit`
  says which); students still waiting are counted apart;
- **chronic absence** (:func:`tierflow.report._chronic.chronic_absence`: FS195's definition)
  and the **legal-step rate** (students with a ``legal_issued`` event by ``as_of``; a step
  later withdrawn still counts: it was issued);
- **support first**: of the students with a legal step, the share given a supportive
  intervention started on or before the day of their first step (the reading the engine and
  the compliance report use). A group is **flagged** when it has at least ``min_legal`` such
  students and its share is below the district's by ``margin`` (10 percentage points by
  default) or more: its students reach legal steps with less support first.

The students are those of the facts; the groups are the facts' ``groups`` and
``race_ethnicity`` values (and ``sex``), as in the chronic-absence report.

>>> import datetime as dt
>>> from tierflow.workflow import InMemoryRepository
>>> r = equity_report(InMemoryRepository(), [{"student_id": "s1", "days_enrolled": 20,
...                   "days_absent": 2, "groups": ["foster"]}], as_of=dt.date(2025, 10, 6))
>>> r.district.students, r.district.tier23, r.district.coverage
(1, 0, None)
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from tierflow.attendance import SchoolCalendar
from tierflow.evaluate import CompiledRuleset
from tierflow.report._chronic import WATCHED_GROUPS, chronic_absence
from tierflow.report._export import Cell, csv_text, json_text
from tierflow.report._gc import pauses_collection
from tierflow.workflow import CaseSummary, EventSummary, Repository, SchoolDays
from tierflow.workflow._tried import Starts, started_support

__all__ = ["EquityReport", "EquityRow", "StudentEquity", "equity_report"]

DEFAULT_MARGIN = 0.10
"""How far below the district's support-first share a group must be to be flagged."""


@dataclass(frozen=True)
class StudentEquity:
    """What the report read for one student.

    Attributes:
        student_id: The student.
        school_id: The student's school (the last facts record's).
        groups: The student's group keys.
        tier: The latest decision's tier id by ``as_of`` (None: no decision).
        tier_level: That tier's level (0: none).
        triggered_on: The first decision at level 2 or more (None: never).
        supported_on: The first support started on or after ``triggered_on``.
        days_to_support: Days from trigger to that support (the report's unit).
        active_support: A started intervention not ended by ``as_of``.
        legal_on: The first legal step issued by ``as_of`` (None: none).
        support_before_legal: Support started on or before ``legal_on``.
        chronic: FS195's verdict (None: enrolled under 10 days).
    """

    student_id: str
    school_id: str | None
    groups: tuple[str, ...]
    tier: str | None
    tier_level: int
    triggered_on: dt.date | None
    supported_on: dt.date | None
    days_to_support: int | None
    active_support: bool
    legal_on: dt.date | None
    support_before_legal: bool
    chronic: bool | None


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


@dataclass(frozen=True)
class EquityRow:
    """The figures of one scope: the district, a school or a group.

    Attributes:
        scope: ``district``, ``school`` or ``group``.
        key: ``all``, the school id or the group key.
        students: Students in the facts.
        tier23: Of those, at a tier of level 2 or more by their latest decision.
        tier23_supported: Of those, with an active supportive intervention.
        days_to_support: Days from trigger to first support, one entry a student served.
        waiting: Triggered students with no support started since the trigger.
        chronic_enrolled: Students enrolled 10+ days (FS195's denominator).
        chronic: Of those, chronically absent.
        legal: Students with a legal step issued.
        legal_support_first: Of those, given support on or before their first step.
        flagged: A group whose support-first share is below the district's by the margin.
    """

    scope: str
    key: str
    students: int
    tier23: int
    tier23_supported: int
    days_to_support: tuple[int, ...]
    waiting: int
    chronic_enrolled: int
    chronic: int
    legal: int
    legal_support_first: int
    flagged: bool = False

    @property
    def coverage(self) -> float | None:
        """Share of Tier 2/3 students with active support (None: no Tier 2/3 student)."""
        return _share(self.tier23_supported, self.tier23)

    @property
    def median_days_to_support(self) -> float | None:
        """The median of :attr:`days_to_support` (None: nobody served after a trigger)."""
        return None if not self.days_to_support else float(statistics.median(self.days_to_support))

    @property
    def chronic_rate(self) -> float | None:
        """Chronically absent over enrolled 10+ days (None: nobody enrolled 10+ days)."""
        return _share(self.chronic, self.chronic_enrolled)

    @property
    def legal_rate(self) -> float | None:
        """Students with a legal step over students (None: no student)."""
        return _share(self.legal, self.students)

    @property
    def support_first(self) -> float | None:
        """Share of students with a legal step who had support first (None: no legal step)."""
        return _share(self.legal_support_first, self.legal)


def _row(scope: str, key: str, students: Sequence[StudentEquity]) -> EquityRow:
    tier23 = [s for s in students if s.tier_level >= 2]
    triggered = [s for s in students if s.triggered_on is not None]
    legal = [s for s in students if s.legal_on is not None]
    return EquityRow(
        scope,
        key,
        len(students),
        len(tier23),
        sum(s.active_support for s in tier23),
        tuple(s.days_to_support for s in triggered if s.days_to_support is not None),
        sum(s.supported_on is None for s in triggered),
        sum(s.chronic is not None for s in students),
        sum(s.chronic is True for s in students),
        len(legal),
        sum(s.support_before_legal for s in legal),
    )


_FIELDS = (
    "scope",
    "key",
    "students",
    "tier23",
    "tier23_supported",
    "coverage",
    "served_after_trigger",
    "median_days_to_support",
    "waiting",
    "chronic_enrolled",
    "chronic",
    "chronic_rate",
    "legal",
    "legal_rate",
    "legal_support_first",
    "support_first",
    "flagged",
)


def _values(r: EquityRow) -> dict[str, Any]:
    return {
        "scope": r.scope,
        "key": r.key,
        "students": r.students,
        "tier23": r.tier23,
        "tier23_supported": r.tier23_supported,
        "coverage": r.coverage,
        "served_after_trigger": len(r.days_to_support),
        "median_days_to_support": r.median_days_to_support,
        "waiting": r.waiting,
        "chronic_enrolled": r.chronic_enrolled,
        "chronic": r.chronic,
        "chronic_rate": r.chronic_rate,
        "legal": r.legal,
        "legal_rate": r.legal_rate,
        "legal_support_first": r.legal_support_first,
        "support_first": r.support_first,
        "flagged": r.flagged,
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


@dataclass(frozen=True)
class EquityReport:
    """Coverage, time to support, chronic-absence and legal-step rates, by scope.

    Attributes:
        as_of: The report's date.
        day_unit: ``school days`` (calendars given) or ``calendar days``.
        margin: The flag's margin (a share: 0.10 is 10 percentage points).
        min_legal: Students with a legal step a group needs before it can be flagged.
        district: The district row.
        schools: One row a school, by id.
        groups: One row a group (:data:`~tierflow.report._chronic.WATCHED_GROUPS` first,
            even when empty).
        students: What was read for each student, by id.
    """

    as_of: dt.date
    day_unit: str
    margin: float
    min_legal: int
    district: EquityRow
    schools: tuple[EquityRow, ...]
    groups: tuple[EquityRow, ...]
    students: tuple[StudentEquity, ...]

    @property
    def flagged(self) -> tuple[EquityRow, ...]:
        """The groups flagged."""
        return tuple(g for g in self.groups if g.flagged)

    def group(self, key: str) -> EquityRow:
        """One group's row.

        Raises:
            KeyError: No such group.
        """
        for g in self.groups:
            if g.key == key:
                return g
        raise KeyError(key)

    def school(self, school_id: str) -> EquityRow:
        """One school's row.

        Raises:
            KeyError: No such school.
        """
        for s in self.schools:
            if s.key == school_id:
                return s
        raise KeyError(school_id)

    def summary(self) -> str:
        """One line: district coverage, support first, and the groups flagged."""
        d = self.district
        flagged = ", ".join(g.key for g in self.flagged) or "none"
        return (
            f"equity as of {self.as_of}: {d.tier23_supported} of {d.tier23} Tier 2/3 students "
            f"supported ({_pct(d.coverage)}); {d.legal_support_first} of {d.legal} with a "
            f"legal step had support first ({_pct(d.support_first)}); flagged: {flagged}"
        )

    def to_text(self) -> str:
        """For people: a line a scope."""
        lines = [self.summary(), f"(days to support in {self.day_unit})", ""]
        for r in (self.district, *self.schools, *self.groups):
            med = r.median_days_to_support
            lines.append(
                f"{'!' if r.flagged else ' '} {r.scope} {r.key}: coverage {r.tier23_supported}/"
                f"{r.tier23} ({_pct(r.coverage)}), median days to support "
                f"{'-' if med is None else f'{med:g}'} ({r.waiting} waiting), chronic "
                f"{_pct(r.chronic_rate)}, legal {_pct(r.legal_rate)}, support first "
                f"{r.legal_support_first}/{r.legal} ({_pct(r.support_first)})"
            )
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        """The report as indented JSON (shares as fractions, None where nobody counts)."""

        def row(r: EquityRow) -> dict[str, Any]:
            return {k: round(v, 6) if isinstance(v, float) else v for k, v in _values(r).items()}

        return json_text(
            {
                "as_of": self.as_of.isoformat(),
                "day_unit": self.day_unit,
                "margin": self.margin,
                "min_legal": self.min_legal,
                "district": row(self.district),
                "schools": [row(s) for s in self.schools],
                "groups": [row(g) for g in self.groups],
            }
        )

    def to_csv(self) -> str:
        """One row a scope; shares in percent with one decimal (text), empty where none.

        Cells go through :func:`~tierflow.report._export.csv_text`.
        """
        rows: list[Sequence[Cell]] = [_FIELDS]
        for r in (self.district, *self.schools, *self.groups):
            cells: list[Cell] = []
            for name, v in _values(r).items():
                if isinstance(v, bool):
                    cells.append("yes" if v else "no")
                elif isinstance(v, float):
                    cells.append(f"{v:g}" if name == "median_days_to_support" else f"{100 * v:.1f}")
                else:
                    cells.append(v)
            rows.append(cells)
        return csv_text(rows)


def _level_of(ruleset: CompiledRuleset | None) -> Mapping[str, int]:
    return {} if ruleset is None else {t.id: t.level for t in ruleset.spec.tiers}


def _level(tier: object, levels: Mapping[str, int]) -> int:
    if not isinstance(tier, str):
        return 0
    if tier in levels:
        return levels[tier]
    # Without the rule set (or a tier it no longer has): the number the id ends with (tier2).
    m = re.search(r"(\d+)$", tier)
    return int(m[1]) if m else 0


_AT_SEQ = operator.itemgetter(1, 0)
"""An event summary's (at, seq): the order a timeline is read in."""
_KINDS = ("decision", "legal_issued", "transition")
"""The events equity reads: tiers decided, legal steps issued, interventions started."""


def _student(
    sid: str,
    summaries: Sequence[EventSummary],
    interventions: Sequence[CaseSummary],
    school: str | None,
    groups: tuple[str, ...],
    chronic: bool | None,
    as_of: dt.date,
    levels: Mapping[str, int],
    between: Callable[[str | None, dt.date, dt.date], int],
) -> StudentEquity:
    events = sorted((e for e in summaries if e.at <= as_of), key=_AT_SEQ)
    tier: str | None = None
    trigger: dt.date | None = None
    legal_on: dt.date | None = None
    starts = Starts()
    for ev in events:  # one pass: a district's year is a million of them
        if ev.kind == "transition":
            starts.see(ev)
        elif ev.kind == "decision":
            tier = ev.tier
            if trigger is None and _level(tier, levels) >= 2:
                trigger = ev.at
        elif ev.kind == "legal_issued" and legal_on is None:
            legal_on = ev.at
    tried = started_support(interventions, starts, as_of=as_of)
    after = sorted(started for _, started, _ in tried if trigger is not None and started >= trigger)
    supported_on = after[0] if after else None
    before_legal = legal_on is not None and bool(
        started_support(interventions, starts, as_of=legal_on)
    )
    return StudentEquity(
        sid,
        school,
        groups,
        tier,
        _level(tier, levels),
        trigger,
        supported_on,
        None if trigger is None or supported_on is None else between(school, trigger, supported_on),
        any(ended is None for _, _, ended in tried),
        legal_on,
        before_legal,
        chronic,
    )


@pauses_collection
def equity_report(
    repository: Repository,
    facts: Iterable[Mapping[str, Any]],
    *,
    as_of: dt.date,
    ruleset: CompiledRuleset | None = None,
    calendars: Mapping[str, SchoolCalendar] | None = None,
    margin: float = DEFAULT_MARGIN,
    min_legal: int = 1,
    groups: Sequence[str] = WATCHED_GROUPS,
) -> EquityReport:
    """Equity and coverage as of a date, from a store and the day's facts.

    Args:
        repository: The store.
        facts: The day's facts (as :func:`~tierflow.report._chronic.chronic_absence` reads
            them): whose students, at which school, in which groups.
        as_of: Read the records as they stood that day.
        ruleset: The rule set, for each tier's level (without it: the number a tier id ends
            with, ``tier2`` is 2).
        calendars: School calendars by school id: time to support in school days (Monday to
            Friday for a school without one). None: in calendar days.
        margin: How far below the district's support-first share flags a group (a share).
        min_legal: Students with a legal step a group needs before it can be flagged.
        groups: Groups listed even when empty.

    Raises:
        ValueError: A facts record ``chronic_absence`` rejects, a margin outside 0-1 or a
            negative ``min_legal``.
    """
    if not 0 <= margin <= 1:
        raise ValueError(f"margin must be a share between 0 and 1, got {margin}")
    if min_legal < 0:
        raise ValueError(f"min_legal must be 0 or more, got {min_legal}")
    records = list(facts)
    chronic = chronic_absence(records, as_of=as_of, groups=groups)
    school_of: dict[str, str | None] = {}
    for record in records:
        school = record.get("school_id")
        school_of[str(record["student_id"])] = None if school in (None, "") else str(school)
    levels = _level_of(ruleset)
    days: dict[str | None, SchoolDays] = {}

    def between(school: str | None, start: dt.date, end: dt.date) -> int:
        if calendars is None:
            return (end - start).days
        found = days.get(school)
        if found is None:
            found = days[school] = SchoolDays(calendars.get(school or ""))
        return found.between(start, end)

    ids = [s.student_id for s in chronic.students]
    # Two reads for the district, from the store's reporting columns (no event body decoded).
    summaries = repository.summaries(_KINDS, ids, firsts=True)
    interventions: dict[str, list[CaseSummary]] = {}
    for case in repository.cases():
        interventions.setdefault(case.student_id, []).append(case)
    students = tuple(
        _student(
            s.student_id,
            summaries.get(s.student_id, ()),
            interventions.get(s.student_id, ()),
            school_of.get(s.student_id),
            s.in_groups(),
            None if not s.counted else s.chronic,
            as_of,
            levels,
            between,
        )
        for s in chronic.students
    )
    district = _row("district", "all", students)
    by_school: dict[str, list[StudentEquity]] = {}
    by_group: dict[str, list[StudentEquity]] = {g.key: [] for g in chronic.groups}
    for s in students:
        if s.school_id is not None:
            by_school.setdefault(s.school_id, []).append(s)
        for key in s.groups:
            by_group.setdefault(key, []).append(s)
    base = district.support_first
    rows = []
    for key, members in by_group.items():
        row = _row("group", key, members)
        own = row.support_first
        flagged = (
            base is not None
            and own is not None
            and row.legal >= max(min_legal, 1)
            # a small tolerance, so a share exactly `margin` below is flagged as documented
            and own <= base - margin + 1e-9
        )
        rows.append(replace(row, flagged=True) if flagged else row)
    return EquityReport(
        as_of,
        "calendar days" if calendars is None else "school days",
        margin,
        min_legal,
        district,
        tuple(_row("school", k, v) for k, v in sorted(by_school.items())),
        tuple(rows),
        students,
    )
