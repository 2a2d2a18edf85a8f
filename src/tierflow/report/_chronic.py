"""Chronic absence as the U.S. Department of Education counts it (EDFacts file FS195).

The definition (FS195, "Chronic Absenteeism File Specifications", SY 2018-19 v15.0 and
SY 2020-21 v17.1, section 2.5; the same words on state pages that implement it): a student is
*chronically absent* when enrolled at least **10 days** and absent **10% or more** of the days
enrolled, for any reason (excused, unexcused, suspension): tierflow's ``days_absent`` fact
(docs/facts.md) counts exactly those. A student enrolled fewer than 10 days is in neither the
numerator nor the denominator.

FS195 is reported **per school**, and a student is reported in each school where they were
enrolled and chronically absent (ED Data Express's note on FS195/DG814: "students who are
defined and reported as chronically absent at more than one school in a given school year will
be counted more than once"). So a facts file with one record per student and school counts the
student at each school where that record has 10+ days. The district figure here is
*unduplicated*: a student's days are summed over their records before the 10-day and 10% tests
(so the district count is not the sum of the schools' counts; say so when comparing).

Comparisons are exact: ``days_absent`` and ``days_enrolled`` are read as decimals from their
text (``2.3`` of ``23`` days is exactly 10%, where binary floating point would say 9.99...%).

>>> report = chronic_absence([
...     {"student_id": "a", "school_id": "lincoln", "days_enrolled": 40, "days_absent": 4},
...     {"student_id": "b", "school_id": "lincoln", "days_enrolled": 40, "days_absent": 3.5},
...     {"student_id": "c", "school_id": "lincoln", "days_enrolled": 9, "days_absent": 9},
... ])
>>> d = report.district
>>> d.enrolled, d.chronic, d.rate, d.short_enrollment
(2, 1, 0.5, 1)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from tierflow.report._export import Cell, csv_text, json_text
from tierflow.report._fs195 import ChronicStudent, fs195_csv, is_chronic

__all__ = ["WATCHED_GROUPS", "ChronicAbsence", "ChronicRate", "chronic_absence"]

WATCHED_GROUPS: tuple[str, ...] = (
    "english_learner",
    "iep",
    "section_504",
    "economically_disadvantaged",
    "foster",
    "homeless",
    "migrant",
)
"""Groups every report lists, even with no student in them (a rate of None: nobody to count).

``iep`` is students with disabilities under IDEA, ``section_504`` those with a 504 plan
(the facts' group ids, docs/facts.md). Any other group a facts record names is listed too,
after these, and so are ``race_ethnicity:<value>`` and ``sex:<value>`` where records carry
``race_ethnicity`` and ``sex``.
"""


def _number(record: Mapping[str, Any], name: str) -> Decimal:
    value = record.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"student {record.get('student_id')!r}: {name} is not a number: {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(
            f"student {record.get('student_id')!r}: {name} is not a number: {value!r}"
        ) from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"student {record.get('student_id')!r}: {name} must be 0 or more")
    return number


@dataclass(frozen=True)
class ChronicRate:
    """Chronic absence in one scope: the district, a school or a group.

    Attributes:
        scope: ``district``, ``school`` or ``group``.
        key: ``all``, the school id, or the group key.
        enrolled: Students enrolled 10 days or more (the denominator).
        chronic: Of those, the chronically absent (the numerator).
        short_enrollment: Students left out for fewer than 10 days enrolled.
    """

    scope: str
    key: str
    enrolled: int
    chronic: int
    short_enrollment: int

    @property
    def rate(self) -> float | None:
        """``chronic / enrolled``, or None when nobody was enrolled 10+ days."""
        return None if self.enrolled == 0 else self.chronic / self.enrolled

    def percent(self) -> str:
        """The rate as a percentage with one decimal (``12.5``), or ``-`` without students."""
        rate = self.rate
        return "-" if rate is None else f"{100 * rate:.1f}"


def _shown(r: ChronicRate) -> str:
    return "-" if r.rate is None else f"{r.percent()}%"


def _rate(scope: str, key: str, rows: Iterable[ChronicStudent]) -> ChronicRate:
    enrolled = chronic = short = 0
    for r in rows:
        if not r.counted:
            short += 1
            continue
        enrolled += 1
        chronic += r.chronic
    return ChronicRate(scope, key, enrolled, chronic, short)


@dataclass(frozen=True)
class ChronicAbsence:
    """Chronic absence (FS195's definition) for a district, its schools and its groups.

    Attributes:
        as_of: The date the facts are as of (None: not given).
        district: The district, unduplicated (a student's days summed over schools).
        schools: One rate a school, by school id (a student counted at each school).
        groups: One rate a group (district-wide, unduplicated): :data:`WATCHED_GROUPS`
            first, then other groups, race/ethnicity and sex values, each sorted.
        enrollments: One row a student and school, by school then student.
        students: One row a student (district-wide), by student.
    """

    as_of: dt.date | None
    district: ChronicRate
    schools: tuple[ChronicRate, ...]
    groups: tuple[ChronicRate, ...]
    enrollments: tuple[ChronicStudent, ...]
    students: tuple[ChronicStudent, ...]

    def group(self, key: str) -> ChronicRate:
        """The rate of one group key.

        Raises:
            KeyError: No such group in the report.
        """
        for g in self.groups:
            if g.key == key:
                return g
        raise KeyError(key)

    def school(self, school_id: str) -> ChronicRate:
        """The rate of one school.

        Raises:
            KeyError: No such school in the facts.
        """
        for s in self.schools:
            if s.key == school_id:
                return s
        raise KeyError(school_id)

    def _rates(self) -> tuple[ChronicRate, ...]:
        return (self.district, *self.schools, *self.groups)

    def summary(self) -> str:
        """One line: the district's count and rate."""
        d = self.district
        when = f" as of {self.as_of}" if self.as_of else ""
        return (
            f"chronic absence{when}: {d.chronic} of {d.enrolled} students enrolled 10+ days "
            f"({_shown(d)}); {d.short_enrollment} enrolled under 10 days not counted"
        )

    def to_text(self) -> str:
        """For people: the district, then a line a school, then a line a group."""
        lines = [self.summary(), "", "schools:"]
        for s in self.schools:
            lines.append(f"  {s.key}: {s.chronic} of {s.enrolled} ({_shown(s)})")
        lines.append(f"groups (district rate {_shown(self.district)}):")
        for g in self.groups:
            lines.append(f"  {g.key}: {g.chronic} of {g.enrolled} ({_shown(g)})")
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        """The report as indented JSON (rates as fractions, None without students)."""

        def row(r: ChronicRate) -> dict[str, Any]:
            rate = r.rate
            return {
                "scope": r.scope,
                "key": r.key,
                "enrolled": r.enrolled,
                "chronic": r.chronic,
                "short_enrollment": r.short_enrollment,
                "rate": None if rate is None else round(rate, 6),
            }

        return json_text(
            {
                "definition": "FS195: enrolled 10+ days, absent 10% or more of days enrolled",
                "as_of": None if self.as_of is None else self.as_of.isoformat(),
                "district": row(self.district),
                "schools": [row(s) for s in self.schools],
                "groups": [row(g) for g in self.groups],
            }
        )

    def to_csv(self) -> str:
        """One row a scope (district, schools, groups): counts, and the rate in percent.

        The percentage is text with one decimal (the export writes only whole numbers as
        numbers); empty without students. Cells go through
        :func:`~tierflow.report._export.csv_text`.
        """
        rows: list[Sequence[Cell]] = [
            ("scope", "key", "enrolled", "chronic", "short_enrollment", "rate_percent")
        ]
        for r in self._rates():
            pct = r.percent()
            rows.append(
                (
                    r.scope,
                    r.key,
                    r.enrolled,
                    r.chronic,
                    r.short_enrollment,
                    None if pct == "-" else pct,
                )
            )
        return csv_text(rows)

    def to_fs195_csv(
        self,
        *,
        state_code: str | None = None,
        state_agency: str | None = None,
        lea_id: str | None = None,
        header: bool = True,
    ) -> str:
        """The school-level records of an FS195 file: :func:`~tierflow.report._fs195.fs195_csv`.

        Args:
            state_code: The state's FIPS code (tierflow does not hold it: empty if not given).
            state_agency: The state agency number (likewise).
            lea_id: The state's LEA identifier of the district (likewise).
            header: Start with a line of the column names (:data:`FS195_COLUMNS`).
        """
        return fs195_csv(
            self.enrollments,
            state_code=state_code,
            state_agency=state_agency,
            lea_id=lea_id,
            header=header,
        )


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def chronic_absence(
    facts: Iterable[Mapping[str, Any]],
    *,
    as_of: dt.date | None = None,
    groups: Sequence[str] = WATCHED_GROUPS,
) -> ChronicAbsence:
    """Chronic absence by FS195's definition, from the day's facts.

    Args:
        facts: One record a student and school: ``student_id``, ``school_id``,
            ``days_enrolled``, ``days_absent``, ``groups``, and where present
            ``race_ethnicity`` and ``sex``. Two records of one student at one school are
            summed; at two schools, the student counts at each (where enrolled 10+ days).
        as_of: The date the facts are as of (shown in the report).
        groups: Groups to list even when no student is in them (default
            :data:`WATCHED_GROUPS`).

    Raises:
        ValueError: A record without a student id, or days that are not a number of 0 or more.
    """
    per_school: dict[tuple[str, str | None], dict[str, Any]] = {}
    for record in facts:
        sid = record.get("student_id")
        if not isinstance(sid, str) or not sid:
            raise ValueError(f"a facts record has no student_id: {dict(record)!r}")
        school = _text(record.get("school_id"))
        enrolled, absent = _number(record, "days_enrolled"), _number(record, "days_absent")
        row = per_school.setdefault(
            (sid, school),
            {
                "enrolled": Decimal(0),
                "absent": Decimal(0),
                "groups": set(),
                "race": None,
                "sex": None,
            },
        )
        row["enrolled"] += enrolled
        row["absent"] += absent
        row["groups"].update(str(g) for g in record.get("groups") or ())
        row["race"] = row["race"] or _text(record.get("race_ethnicity"))
        row["sex"] = row["sex"] or _text(record.get("sex"))

    def student(sid: str, school: str | None, row: Mapping[str, Any]) -> ChronicStudent:
        verdict = is_chronic(row["enrolled"], row["absent"])
        return ChronicStudent(
            sid,
            school,
            row["enrolled"],
            row["absent"],
            verdict is not None,
            bool(verdict),
            tuple(sorted(row["groups"])),
            row["race"],
            row["sex"],
        )

    enrollments = tuple(
        student(sid, school, row)
        for (sid, school), row in sorted(
            per_school.items(), key=lambda kv: (kv[0][1] or "", kv[0][0])
        )
    )
    whole: dict[str, dict[str, Any]] = {}
    for (sid, _school), row in per_school.items():
        w = whole.setdefault(
            sid,
            {
                "enrolled": Decimal(0),
                "absent": Decimal(0),
                "groups": set(),
                "race": None,
                "sex": None,
            },
        )
        w["enrolled"] += row["enrolled"]
        w["absent"] += row["absent"]
        w["groups"] |= row["groups"]
        w["race"] = w["race"] or row["race"]
        w["sex"] = w["sex"] or row["sex"]
    students = tuple(student(sid, None, whole[sid]) for sid in sorted(whole))

    schools: dict[str, list[ChronicStudent]] = {}
    for e in enrollments:
        if e.school_id is not None:  # a record without a school counts for the district only
            schools.setdefault(e.school_id, []).append(e)
    members: dict[str, list[ChronicStudent]] = {g: [] for g in groups}
    for s in students:
        for key in s.in_groups():
            members.setdefault(key, []).append(s)
    listed = list(groups)
    others = sorted(k for k in members if k not in groups and ":" not in k)
    tagged = sorted(k for k in members if ":" in k)
    return ChronicAbsence(
        as_of,
        _rate("district", "all", students),
        tuple(_rate("school", k, v) for k, v in sorted(schools.items())),
        tuple(_rate("group", k, members[k]) for k in (*listed, *others, *tagged)),
        enrollments,
        students,
    )
