"""What a notice template may name: a documented, typed context.

Every field a template reads is declared here; the compiler checks each template's names and
attributes against these dataclasses (a template naming ``student.nmae`` is a load error), so
a letter cannot fail at print time for a misspelt field. Hosts build a :class:`NoticeContext`
from their records; :func:`~tierflow.notices.render_notice` adds ``letter_date`` and ``step``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AttendanceFigures",
    "DecisionSummary",
    "DistrictInfo",
    "FamilyContact",
    "NoticeContext",
    "SchoolInfo",
    "StaffContact",
    "StepInfo",
    "StudentInfo",
    "context_fields",
]


@dataclass(frozen=True)
class StudentInfo:
    """The student the notice is about."""

    id: str
    first_name: str
    last_name: str
    grade: str = ""


@dataclass(frozen=True)
class FamilyContact:
    """The parent or guardian the notice is addressed to."""

    name: str
    language: str = "en"
    address_lines: tuple[str, ...] = ()
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class SchoolInfo:
    """The student's school."""

    name: str
    address_lines: tuple[str, ...] = ()
    phone: str = ""


@dataclass(frozen=True)
class DistrictInfo:
    """The school district (or charter) sending the notice."""

    name: str
    phone: str = ""
    website: str = ""


@dataclass(frozen=True)
class StaffContact:
    """Whom the family can call about the notice."""

    name: str
    title: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class AttendanceFigures:
    """The student's attendance this school year, as of ``as_of``.

    Days are full-day equivalents, as the facts count them (a half day absent is 0.5), so
    they are ``float``; whole numbers print without decimals. Build them from a student's facts
    with :func:`~tierflow.notices.attendance_figures`.

    ``classmates_days_absent`` is the median days absent of the students enrolled in the same
    school and grade as of the same date (:func:`~tierflow.notices.classmates_medians`), the
    "typical classmate" of the Rogers and Feller (2018) letters. The median, not the mean: a
    few students absent for weeks pull a mean far above what most classmates missed, and the
    letter compares the student with a typical classmate, not with an average no child has.
    It is ``None`` when unknown or when the group is too small to show without revealing a
    few classmates' own figures; a template then leaves the comparison out.
    """

    as_of: dt.date
    days_enrolled: float
    days_absent: float
    days_unexcused: float
    tardies: int = 0
    absence_dates: tuple[dt.date, ...] = ()
    classmates_days_absent: float | None = None

    @property
    def absence_rate(self) -> float:
        """Share of enrolled days absent (0 when not enrolled)."""
        return self.days_absent / self.days_enrolled if self.days_enrolled else 0.0


@dataclass(frozen=True)
class DecisionSummary:
    """The engine's decision behind the notice, and why, in plain words."""

    tier: str = ""
    tier_label: str = ""
    interventions: tuple[str, ...] = ()
    explanation: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepInfo:
    """The legal step or intervention that calls for the notice (filled in by rendering)."""

    id: str
    label: str = ""


@dataclass(frozen=True)
class NoticeContext:
    """Everything a notice template may name (``{{ student.first_name }}``).

    ``letter_date`` and ``step`` are filled in by rendering from its ``on`` date and the
    notice; ``deadline`` is the date by which the family is asked to act (a conference), if any.
    """

    student: StudentInfo
    family: FamilyContact
    school: SchoolInfo
    district: DistrictInfo
    attendance: AttendanceFigures
    staff: StaffContact
    decision: DecisionSummary = field(default_factory=DecisionSummary)
    deadline: dt.date | None = None
    letter_date: dt.date | None = None
    step: StepInfo | None = None

    def as_mapping(self) -> Mapping[str, Any]:
        """The template variables: each top-level field by name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def _unwrap(hint: Any) -> Any:
    """``X | None`` -> ``X``; anything else as it is."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else Any
    return hint


def context_fields(cls: type = NoticeContext) -> dict[str, Any]:
    """The names a template may read on a context class, with their types (``X | None`` -> X).

    Properties count as fields (``attendance.absence_rate``).

    >>> sorted(context_fields(StaffContact))
    ['email', 'name', 'phone', 'title']
    """
    hints = typing.get_type_hints(cls)
    out = {f.name: _unwrap(hints[f.name]) for f in dataclasses.fields(cls)}
    for name, member in vars(cls).items():
        if isinstance(member, property) and member.fget is not None:
            out[name] = _unwrap(typing.get_type_hints(member.fget).get("return", Any))
    return out
