"""The U.S. Department of Education's chronic-absence test (EDFacts FS195), and its file.

The definition (FS195, "Chronic Absenteeism File Specifications", SY 2018-19 v15.0 and
SY 2020-21 v17.1, section 2.5; the same words on state pages that implement it): a student is
*chronically absent* when enrolled at least **10 days** and absent **10% or more** of the days
enrolled, for any reason. :func:`fs195_csv` writes the school-level records of the file in its
column order, as a state education agency's published FS195 build scripts lay it out
(docs/reports.md says which columns tierflow cannot fill, and why). Aggregating the students
into district, school and group rates is :mod:`tierflow.report._chronic`'s job.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from tierflow.report._export import Cell, csv_text

__all__ = [
    "FS195_COLUMNS",
    "MIN_DAYS_ENROLLED",
    "ChronicStudent",
    "fs195_csv",
    "is_chronic",
]

MIN_DAYS_ENROLLED = 10
"""FS195: a student enrolled fewer days than this is not counted (neither way)."""

_SHARE = Decimal("0.1")  # FS195: absent 10% or more of the days enrolled

FS195_COLUMNS: tuple[str, ...] = (
    "file_record_number",
    "state_code",
    "state_agency_number",
    "lea_identifier",
    "school_identifier",
    "table_name",
    "sex",
    "racial_ethnic",
    "disability_status_idea",
    "disability_status_504",
    "english_learner_status",
    "homeless_enrolled_status",
    "filler",
    "total_indicator",
    "explanation",
    "student_count",
)
"""The columns of an FS195 school-level record, in file order (docs/reports.md says which
tierflow can fill)."""

# FS195 permitted values (EDFacts racial-ethnic codes; the category values of the other
# columns), from the facts' own words or the codes themselves.
_RACE = {
    "american_indian": "AM7",
    "american_indian_or_alaska_native": "AM7",
    "asian": "AS7",
    "black": "BL7",
    "black_or_african_american": "BL7",
    "hispanic": "HI7",
    "hispanic_or_latino": "HI7",
    "two_or_more": "MU7",
    "multiple": "MU7",
    "pacific_islander": "PI7",
    "native_hawaiian_or_pacific_islander": "PI7",
    "white": "WH7",
}
_RACE.update({code.lower(): code for code in set(_RACE.values())})
_SEX = {"m": "M", "male": "M", "f": "F", "female": "F", "x": "X", "nonbinary": "X"}
_FS195_GROUPS = (
    ("iep", "disability_status_idea", "WDIS"),
    ("section_504", "disability_status_504", "DISAB504STAT"),
    ("english_learner", "english_learner_status", "LEP"),
    ("homeless", "homeless_enrolled_status", "HOMELSENRL"),
)


def is_chronic(days_enrolled: Decimal | float, days_absent: Decimal | float) -> bool | None:
    """FS195's test: None when enrolled under 10 days (not counted), else absent >= 10%.

    >>> is_chronic(10, 1), is_chronic(10, 0.5), is_chronic(9, 9), is_chronic(23, 2.3)
    (True, False, None, True)
    """
    enrolled, absent = Decimal(str(days_enrolled)), Decimal(str(days_absent))
    if enrolled < MIN_DAYS_ENROLLED:
        return None
    return absent >= enrolled * _SHARE


@dataclass(frozen=True)
class ChronicStudent:
    """One student at one school (or, for :attr:`ChronicAbsence.students`, in the district).

    Attributes:
        student_id: The student.
        school_id: The school (None for a district row).
        days_enrolled: Days enrolled there (summed over the student's records).
        days_absent: Days absent there.
        counted: Enrolled 10 days or more: in the denominator.
        chronic: Counted and absent 10% or more of the days enrolled.
        groups: The student's groups (the facts' ids, sorted).
        race_ethnicity: As the facts give it, or None.
        sex: As the facts give it, or None.
    """

    student_id: str
    school_id: str | None
    days_enrolled: Decimal
    days_absent: Decimal
    counted: bool
    chronic: bool
    groups: tuple[str, ...]
    race_ethnicity: str | None
    sex: str | None

    def in_groups(self) -> tuple[str, ...]:
        """Every group key the student is in (``english_learner``, ``sex:F``, ...)."""
        keys = list(self.groups)
        if self.race_ethnicity:
            keys.append(f"race_ethnicity:{self.race_ethnicity}")
        if self.sex:
            keys.append(f"sex:{self.sex}")
        return tuple(keys)


def fs195_csv(
    enrollments: Iterable[ChronicStudent],
    *,
    state_code: str | None = None,
    state_agency: str | None = None,
    lea_id: str | None = None,
    header: bool = True,
) -> str:
    """The school-level records of an FS195 file, as far as the facts allow.

    One total record a school (``total_indicator`` ``Y``), then one record a category
    value and sex among the school's students enrolled 10+ days: racial/ethnic (from
    ``race_ethnicity``), IDEA disability (group ``iep``), Section 504, English learner,
    homeless. ``student_count`` is the number chronically absent (0 is written: the
    category has students). A student whose race/ethnicity or sex tierflow cannot map to
    an FS195 value is in the total only. Cells go through
    :func:`~tierflow.report._export.csv_text`.

    Args:
        enrollments: One row a student and school
            (:attr:`tierflow.report.ChronicAbsence.enrollments`); a row not counted (under
            10 days) or without a school is left out.
        state_code: The state's FIPS code (tierflow does not hold it: empty if not given).
        state_agency: The state agency number (likewise).
        lea_id: The state's LEA identifier of the district (likewise).
        header: Start with a line of the column names (:data:`FS195_COLUMNS`); EDFacts'
            own header record (file type, record count, file name, period) is the
            submitter's to add.
    """
    rows: list[Sequence[Cell]] = [FS195_COLUMNS] if header else []
    by_school: dict[str, list[ChronicStudent]] = {}
    for e in enrollments:
        if e.counted and e.school_id is not None:
            by_school.setdefault(e.school_id, []).append(e)
    number = 0

    def record(school: str, cats: dict[str, str], total: bool, count: int) -> None:
        nonlocal number
        number += 1
        rows.append(
            (
                number,
                state_code,
                state_agency,
                lea_id,
                school,
                "CHRONABSENT",
                cats.get("sex"),
                cats.get("racial_ethnic"),
                cats.get("disability_status_idea"),
                cats.get("disability_status_504"),
                cats.get("english_learner_status"),
                cats.get("homeless_enrolled_status"),
                None,
                "Y" if total else "N",
                None,
                count,
            )
        )

    for school in sorted(by_school):
        students = by_school[school]
        record(school, {}, True, sum(s.chronic for s in students))
        cells: dict[tuple[str, str, str], int] = {}  # (column, value, sex) -> chronic
        for s in students:
            sex = _SEX.get((s.sex or "").lower())
            if sex is None:
                continue
            race = _RACE.get((s.race_ethnicity or "").lower())
            cats = [("racial_ethnic", race)] if race else []
            cats += [(col, value) for g, col, value in _FS195_GROUPS if g in s.groups]
            for col, value in cats:
                cells[col, value, sex] = cells.get((col, value, sex), 0) + s.chronic
        order = FS195_COLUMNS.index
        for col, value, sex in sorted(cells, key=lambda k: (order(k[0]), k[1], k[2])):
            record(school, {col: value, "sex": sex}, False, cells[col, value, sex])
    return csv_text(rows)
