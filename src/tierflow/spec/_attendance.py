"""The attendance settings of a rule set: counting policy, vendor column mapping, year start.

These are spec models: a rule set's ``attendance:`` block and ``school_years.starts`` are read
here, and the readers in :mod:`tierflow.ingest` and the builder in :mod:`tierflow.attendance`
take them as input (spec sits below both, so neither is imported from here).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tierflow.errors import Problem, RulesetError
from tierflow.spec._scalars import Number, StrictBool, WholeNumber
from tierflow.spec._yaml import load_yaml_file

__all__ = ["AttendancePolicy", "ColumnMapping", "parse_month_day"]

_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")


class AttendancePolicy(BaseModel):
    """How raw attendance events become counts. A rule set sets these under ``attendance:``.

    Attributes:
        absent_day_threshold: None counts full-day equivalents (a half-day absence adds 0.5).
            A number makes counting all-or-nothing: a day counts as one absent day when the
            absences recorded on it add up to at least this fraction of the day, else as present
            (Ed-Fi's common rule is 0.5).
        streak_threshold: Fraction of a day missed for the day to extend an absence streak.
        suspensions_count_as_absence: Whether out-of-school suspension days count toward
            ``days_absent`` (California's chronic absence rate counts them; in-school suspension
            is always attendance).
        truancy_tardy_minutes: A tardy or early departure longer than this many minutes counts
            in ``tardies_over_30`` (California EC 48260 uses 30).
        minutes_per_day: Length of a full school day, to turn minutes into a fraction of a day.
        partial_absence: Whether a ``partial`` event without an excused/unexcused reason counts as
            an excused or an unexcused absence.
        recent_days: School days in the "recent" window of ``recent_absence_rate``.
        unrecorded_day: What a school day with no event means: ``present`` (Ed-Fi records only
            exceptions).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    absent_day_threshold: Number | None = Field(default=None, gt=0, le=1)
    streak_threshold: Number = Field(default=0.5, gt=0, le=1)
    suspensions_count_as_absence: StrictBool = True
    truancy_tardy_minutes: Number = Field(default=30, ge=0)
    minutes_per_day: Number = Field(default=360, gt=0)
    partial_absence: Literal["excused", "unexcused"] = "excused"
    recent_days: WholeNumber = Field(default=20, ge=1)
    unrecorded_day: Literal["present"] = "present"


@dataclass(frozen=True)
class ColumnMapping:
    """How a vendor's export maps onto tierflow's columns and categories.

    Attributes:
        columns: Vendor column name to tierflow column name (``{"StuID": "student_id"}``).
        categories: Vendor category code to tierflow category (``{"A": "unexcused_absence"}``).
        date_format: ``strptime`` format of dates when they are not ISO ``YYYY-MM-DD``.
        causes: Local reason codes to tierflow causes (``{"TR": "transportation"}``), tried
            before the built-in keyword patterns.
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    categories: Mapping[str, str] = field(default_factory=dict)
    date_format: str | None = None
    causes: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> ColumnMapping:
        """Read a mapping file (YAML, read with tierflow's safe loader).

        The file looks like this::

            columns: {StuID: student_id, SchoolCode: school_id, AttDate: date, Code: category}
            categories: {A: unexcused_absence, E: excused_absence, T: tardy}
            date_format: "%m/%d/%Y"
            causes: {TR: transportation, MED: health}

        Raises:
            RulesetError: The file is not valid YAML, or has keys other than these three.
        """
        loaded = load_yaml_file(path)
        data = loaded.data
        problems = []
        if not isinstance(data, dict):
            problems.append(
                Problem(loaded.span_of(()), "schema.invalid_type", "a mapping file is a mapping")
            )
            raise RulesetError(problems)
        for key, value in data.items():
            if key not in ("columns", "categories", "date_format", "causes"):
                problems.append(
                    Problem(
                        loaded.key_span_of((key,)),
                        "schema.unknown_field",
                        f"unknown key {key!r}",
                        str(key),
                        "known keys: categories, causes, columns, date_format",
                    )
                )
            elif key in ("columns", "categories", "causes") and not (
                isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
            ):
                problems.append(
                    Problem(
                        loaded.span_of((key,)),
                        "schema.invalid_type",
                        f"{key} maps names to names",
                        str(key),
                    )
                )
        if problems:
            raise RulesetError(problems)
        return cls(
            {str(k): v for k, v in (data.get("columns") or {}).items()},
            {str(k): v for k, v in (data.get("categories") or {}).items()},
            data.get("date_format"),
            {str(k): v for k, v in (data.get("causes") or {}).items()},
        )


def parse_month_day(text: str) -> tuple[int, int]:
    """Read a ``MM-DD`` start day (February 29 is refused: not every year has one).

    >>> parse_month_day("07-01")
    (7, 1)

    Raises:
        ValueError: ``text`` is not a month and day every year has.
    """
    match = _MONTH_DAY.fullmatch(text)
    if match is None:
        raise ValueError(f"a school year starts on a day written MM-DD (07-01), not {text!r}")
    month, day = int(match[1]), int(match[2])
    try:
        dt.date(2001, month, day)  # not a leap year: 02-29 is refused
    except ValueError:
        raise ValueError(f"{text!r} is not a day every year has") from None
    return month, day
