"""The facts a rule reads: a typed, documented model of one student as of one date.

Hosts may pass a :class:`StudentFacts` or a plain mapping with the same keys (what JSON Lines and
CSV readers produce); the evaluator reads either. A fact that is absent (missing key or ``None``)
is an error naming the student and the fact, unless the rule set declares a default for it.

This module says what the facts are (the vocabularies, the table of standard facts, the pydantic
models); :mod:`tierflow.facts._read` reads the history and the attendance log out of a host's
mapping.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tierflow.expr._types import BOOL, NUMBER, STRING, Type, enum_of, list_of

__all__ = [
    "CAUSES",
    "CONFERENCE_OUTCOMES",
    "FACTS",
    "GRADE_RANGE",
    "GROUPS",
    "MAX_NUMBER",
    "OUTCOMES",
    "AttendanceRecord",
    "Conference",
    "FactInfo",
    "History",
    "IssuedStep",
    "StudentFacts",
    "TriedIntervention",
    "grade_level",
    "number_problem",
]

CAUSES: tuple[str, ...] = (
    "health",
    "mental_health",
    "transportation",
    "housing",
    "food",
    "engagement",
    "bullying",
    "family",
    "unknown",
)
"""The barrier (cause) taxonomy. ``bullying`` covers bullying and school safety; ``family`` covers
family obligations and an unstable home."""

GROUPS: tuple[str, ...] = (
    "iep",
    "section_504",
    "english_learner",
    "foster",
    "homeless",
    "migrant",
    "economically_disadvantaged",
    "pregnant_or_parenting",
    "principal_earner",
    "severe_illness",
)
"""Student groups watched for equity and for legal exemptions."""

OUTCOMES: tuple[str, ...] = (
    "positive",
    "potentially_positive",
    "mixed",
    "no_discernible",
    "potentially_negative",
    "negative",
)
"""Intervention outcomes, aligned with Ed-Fi's InterventionEffectivenessRatingDescriptor."""

_ID = r"^[a-z][a-z0-9_-]*$"

CONFERENCE_OUTCOMES: tuple[str, ...] = ("held", "attempted")
"""What a recorded conference documents: it was held, or a documented attempt to hold it
(EC 48262's "conscientious effort" to hold a parent conference)."""

MAX_NUMBER = 10**15
"""The largest magnitude a number fact may have. Counts of days and tardies are far below it; a
larger value is a corrupt record, and evaluating one could overflow a float (a 400-digit
``days_absent`` divided by ``days_enrolled``)."""


def number_problem(value: int | float) -> str | None:
    """Say why a number fact's value is refused (not finite, or beyond :data:`MAX_NUMBER`).

    >>> number_problem(12.5), number_problem(float("nan"))
    (None, 'nan is not a finite number')
    >>> number_problem(10**16)
    'a number may be at most 10**15 in size, got one with 17 digits'
    """
    if -MAX_NUMBER <= value <= MAX_NUMBER:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a finite number"
    if isinstance(value, float):
        return f"a number may be at most 10**15 in size, got {value:g}"
    bits = abs(int(value)).bit_length()  # str() of an int over 4,300 digits raises
    digits = len(str(abs(int(value)))) if bits < 10_000 else f"about {int(bits * 0.30103):,}"
    return f"a number may be at most 10**15 in size, got one with {digits} digits"


@dataclass(frozen=True)
class FactInfo:
    """What a fact means, for the type checker and the documentation."""

    name: str
    type: Type
    description: str
    default: Any = None


def _facts_table() -> dict[str, FactInfo]:
    number_facts = {
        "grade": "Grade level as a number: PK = -1, K = 0, 1-12.",
        "days_enrolled": "Instructional days enrolled in the school year up to the as-of date.",
        "days_absent": "Full-day-equivalent absences counted toward chronic absence "
        "(excused, unexcused and, by policy, suspension days).",
        "days_excused": "Full-day-equivalent excused absences.",
        "days_unexcused": "Full-day-equivalent unexcused absences.",
        "days_suspended": "Out-of-school suspension days.",
        "tardies": "Days with a tardy (late arrival), any length.",
        "tardies_over_30": "Truancy occasions (EC 48260) not already counted in days_unexcused: "
        "tardies or partial absences of more than 30 minutes without a valid excuse. Built from "
        "events, the part of each occasion's day days_unexcused does not count, so "
        "days_unexcused + tardies_over_30 counts each occasion once.",
        "truancy_occasions": "Days that are a truancy occasion (California EC 48260): a full-day "
        "absence, or a tardy or absence of more than 30 minutes, without a valid excuse; a day "
        "is one occasion at most.",
        "current_absence_streak": "Consecutive school days absent up to the as-of date "
        "(from events).",
        "longest_absence_streak": "The longest run of consecutive school days absent this year "
        "(from events).",
        "recent_absence_rate": "Absence rate over the last school days (the attendance policy's "
        "recent_days, default 20; from events).",
        "absence_trend": "recent_absence_rate minus the year-to-date absence rate: above 0 "
        "means getting worse (from events).",
        "absences_monday": "Full-day-equivalent absences on Mondays (from events).",
        "absences_tuesday": "Full-day-equivalent absences on Tuesdays (from events).",
        "absences_wednesday": "Full-day-equivalent absences on Wednesdays (from events).",
        "absences_thursday": "Full-day-equivalent absences on Thursdays (from events).",
        "absences_friday": "Full-day-equivalent absences on Fridays (from events).",
        "minutes_per_day": "Length of a school day in minutes (from the attendance policy).",
    }
    table = {
        "student_id": FactInfo("student_id", STRING, "The student's identifier."),
        "school_id": FactInfo("school_id", STRING, "The school's identifier."),
    }
    for name, text in number_facts.items():
        table[name] = FactInfo(name, NUMBER, text)
    table["school_year"] = FactInfo(
        "school_year",
        NUMBER,
        "The school year of the as-of date, named as Ed-Fi names it: the calendar year it ends "
        "in (2026 for 2025-26). Every other count is of this year only (from events).",
    )
    prior = {
        "prior_year_days_enrolled": "Instructional days enrolled in the school year before "
        "this one (0 when not enrolled then).",
        "prior_year_days_absent": "Full-day-equivalent absences of the school year before this "
        "one, counted as days_absent is.",
        "prior_year_days_unexcused": "Full-day-equivalent unexcused absences of the school year "
        "before this one.",
    }
    for name, text in prior.items():
        table[name] = FactInfo(name, NUMBER, text, default=0)
    table["enrolled"] = FactInfo(
        "enrolled",
        BOOL,
        "Whether the student is enrolled on the as-of date: false once their last enrollment "
        "of the school year has ended (a move out of the district).",
        default=True,
    )
    table["previous_tier"] = FactInfo(
        "previous_tier",
        STRING,
        "The id of the tier of the student's last decision (the workflow passes its own); a "
        "tier with `stay_while` keeps a student whose previous tier it was. Default: empty (no "
        "previous decision).",
        default="",
    )
    table["causes"] = FactInfo(
        "causes",
        list_of(enum_of("cause", set(CAUSES))),
        "Known barriers behind the absences, most important first.",
        default=(),
    )
    table["groups"] = FactInfo(
        "groups",
        list_of(enum_of("student group", set(GROUPS))),
        "Student groups the student belongs to.",
        default=(),
    )
    return table


FACTS: dict[str, FactInfo] = _facts_table()
"""Every standard fact a rule can name, with its type and meaning."""


class AttendanceRecord(BaseModel):
    """One dated absence or tardy, for window functions such as ``count_within``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    date: dt.date
    kind: Literal["excused", "unexcused", "suspension", "tardy", "tardy_over_30"]
    days: float = Field(
        default=1.0, ge=0, le=1, allow_inf_nan=False, description="Fraction of the day missed."
    )


class IssuedStep(BaseModel):
    """A legal (truancy) step already issued."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    step: str = Field(pattern=_ID)
    issued_on: dt.date


class TriedIntervention(BaseModel):
    """A supportive intervention already tried, with its outcome when known."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    intervention: str = Field(pattern=_ID)
    tier_level: int = Field(ge=1, le=9)
    started_on: dt.date
    ended_on: dt.date | None = None
    outcome: Literal[OUTCOMES] | None = None  # type: ignore[valid-type]
    check_ins: int | None = Field(
        default=None,
        ge=0,
        le=MAX_NUMBER,
        description="Check-ins documented by the as-of date (None: not known, counted as 0).",
    )


class Conference(BaseModel):
    """A documented meeting: a parent conference, a SART meeting, an ARD/504 notice, ...

    ``outcome`` says whether it was held or only attempted (a letter, call or visit that did
    not bring the parent in: EC 48262 asks for a "conscientious effort" to hold one); an
    attempt names its ``method``. ``held_on`` is the date of the meeting or of the attempt.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = Field(pattern=_ID)
    held_on: dt.date
    outcome: Literal["held", "attempted"] = "held"
    method: str | None = Field(default=None, pattern=_ID, max_length=64)
    note: str | None = None

    @model_validator(mode="after")
    def _attempt_has_method(self) -> Conference:
        if self.outcome == "attempted" and self.method is None:
            raise ValueError(
                f"an attempted {self.kind} names its method (letter, call, email, home_visit...)"
            )
        return self


class History(BaseModel):
    """What was already done for the student: legal steps, interventions, conferences."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    legal_steps: tuple[IssuedStep, ...] = ()
    interventions: tuple[TriedIntervention, ...] = ()
    conferences: tuple[Conference, ...] = ()


_GRADE_NAMES = {
    "pk": -1,
    "tk": -1,
    "k": 0,
    "kg": 0,
    # Ed-Fi GradeLevelDescriptor code values
    "infant/toddler": -1,
    "preschool/prekindergarten": -1,
    "prekindergarten": -1,
    "transitional kindergarten": -1,
    "kindergarten": 0,
    "first grade": 1,
    "second grade": 2,
    "third grade": 3,
    "fourth grade": 4,
    "fifth grade": 5,
    "sixth grade": 6,
    "seventh grade": 7,
    "eighth grade": 8,
    "ninth grade": 9,
    "tenth grade": 10,
    "eleventh grade": 11,
    "twelfth grade": 12,
}
GRADE_RANGE = (-1, 13)
"""The lowest and highest grade levels (PK = -1, K = 0)."""


def grade_level(text: str) -> int | None:
    """The grade level a text names, or None when it names none (or one out of range).

    Accepts numbers (``3``, ``03``, ``3.0``), ordinals (``3rd``), ``K``/``KG``, ``PK``/``TK``
    and Ed-Fi grade level descriptors (``uri://ed-fi.org/GradeLevelDescriptor#Third grade``).

    >>> [grade_level(t) for t in ("3", "3rd", "K", "pk", "Third grade", "-1", "x", "14", "2.5")]
    [3, 3, 0, -1, 3, -1, None, None, None]
    """
    key = text.rsplit("#", 1)[-1].strip().lower()
    level: int | None = _GRADE_NAMES.get(key)
    if level is None:
        for suffix in ("th", "st", "nd", "rd"):
            if key.endswith(suffix) and key[: -len(suffix)].isdigit():
                key = key[: -len(suffix)]
                break
        try:
            number = float(key)
        except ValueError:
            return None
        if not number.is_integer():
            return None
        level = int(number)
    low, high = GRADE_RANGE
    return level if low <= level <= high else None


class StudentFacts(BaseModel):
    """One student's attendance facts as of a date.

    Keys a rule set declares under ``facts.extra`` may be passed at the top level; they are kept in
    :attr:`extra`. The model also reads like a mapping (``facts["days_absent"]``, ``facts.get``),
    which is how the compiled evaluator reads it.

    >>> f = StudentFacts(student_id="s1", days_enrolled=40, days_absent=4, grade="K")
    >>> f["days_absent"], f.grade, f.get("tardies")
    (4.0, 0, None)
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    student_id: str = Field(min_length=1)
    school_id: str | None = None
    grade: int | None = Field(default=None, ge=-1, le=13)
    days_enrolled: float | None = Field(default=None, ge=0, le=MAX_NUMBER)
    days_absent: float | None = Field(default=None, ge=0, le=MAX_NUMBER)
    days_excused: float | None = Field(default=None, ge=0, le=MAX_NUMBER)
    days_unexcused: float | None = Field(default=None, ge=0, le=MAX_NUMBER)
    days_suspended: float | None = Field(default=None, ge=0, le=MAX_NUMBER)
    tardies: float | None = Field(default=None, ge=0, le=MAX_NUMBER)
    tardies_over_30: float | None = Field(default=None, ge=0, le=MAX_NUMBER)
    truancy_occasions: float | None = Field(default=None, ge=0, le=MAX_NUMBER)
    causes: tuple[str, ...] = ()
    groups: frozenset[str] = frozenset()
    attendance_log: tuple[AttendanceRecord, ...] | None = None
    history: History = History()
    extra: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _collect_extra(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = cls.model_fields
            extra = {k: v for k, v in data.items() if k not in known}
            if extra:
                data = {k: v for k, v in data.items() if k in known}
                data["extra"] = {**dict(data.get("extra") or {}), **extra}
        return data

    @field_validator("grade", mode="before")
    @classmethod
    def _grade(cls, value: Any) -> Any:
        if isinstance(value, str):
            level = grade_level(value)
            return value if level is None else level
        return value

    @model_validator(mode="after")
    def _consistent(self) -> StudentFacts:
        if (
            self.days_absent is not None
            and self.days_enrolled is not None
            and self.days_absent > self.days_enrolled
        ):
            raise ValueError(
                f"days_absent ({self.days_absent:g}) exceeds days_enrolled ({self.days_enrolled:g})"
            )
        return self

    def get(self, key: str, default: Any = None) -> Any:
        """Return the fact called ``key`` (a field or an extra), or ``default``."""
        if key in type(self).model_fields and key != "extra":
            value = getattr(self, key)
            return default if value is None else value
        return self.extra.get(key, default)

    def __getitem__(self, key: str) -> Any:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def keys(self) -> Iterator[str]:
        """Iterate over the names of the facts present."""
        for name in type(self).model_fields:
            if name != "extra" and getattr(self, name) is not None:
                yield name
        yield from self.extra
