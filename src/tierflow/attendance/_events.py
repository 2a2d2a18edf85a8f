"""Raw attendance data: events, enrollment spans, categories and the cause mapping layer."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tierflow.facts import CAUSES

__all__ = [
    "ABSENCE_CATEGORIES",
    "CATEGORIES",
    "AttendanceEvent",
    "CauseMap",
    "Enrollment",
    "StudentGroups",
    "category_of",
    "group_of",
]

CATEGORIES: tuple[str, ...] = (
    "present",
    "excused_absence",
    "unexcused_absence",
    "tardy",
    "early_departure",
    "partial",
    "suspension_out",
    "suspension_in",
)
"""Event categories. ``partial`` is a partial-day absence; ``suspension_in`` (in-school
suspension) is attendance, ``suspension_out`` is not."""

ABSENCE_CATEGORIES = frozenset(
    {"excused_absence", "unexcused_absence", "partial", "suspension_out"}
)
"""Categories that take time out of the school day."""

_CATEGORY_ALIASES: dict[str, str] = {
    # Ed-Fi AttendanceEventCategoryDescriptor defaults (the part after '#'), lower-cased.
    "in attendance": "present",
    "present": "present",
    "excused absence": "excused_absence",
    "unexcused absence": "unexcused_absence",
    "tardy": "tardy",
    "early departure": "early_departure",
    "partial": "partial",
    # Common vendor spellings.
    "excused": "excused_absence",
    "unexcused": "unexcused_absence",
    "absent excused": "excused_absence",
    "absent unexcused": "unexcused_absence",
    "late": "tardy",
    "oss": "suspension_out",
    "out-of-school suspension": "suspension_out",
    "out of school suspension": "suspension_out",
    "suspension": "suspension_out",
    "iss": "suspension_in",
    "in-school suspension": "suspension_in",
    "in school suspension": "suspension_in",
}


def category_of(text: str, extra: Mapping[str, str] | None = None) -> str | None:
    """Map a category as an SIS writes it onto a tierflow category (None when unknown).

    Accepts tierflow's own names, Ed-Fi descriptor URIs or short values, and common vendor
    spellings; ``extra`` adds local codes (``{"A": "unexcused_absence"}``), matched exactly first.

    >>> category_of("uri://ed-fi.org/AttendanceEventCategoryDescriptor#Excused Absence")
    'excused_absence'
    >>> category_of("X", {"X": "unexcused_absence"}), category_of("walkabout")
    ('unexcused_absence', None)
    """
    if extra and text in extra:
        return extra[text]
    try:
        return _MAPPED[text]
    except KeyError:
        pass
    value = text.rsplit("#", 1)[-1].strip()
    found = value if value in CATEGORIES else _CATEGORY_ALIASES.get(value.lower().replace("_", " "))
    if len(_MAPPED) < 10_000:  # categories repeat: remember the spellings seen
        _MAPPED[text] = found
    return found


_MAPPED: dict[str, str | None] = {}


@dataclass(frozen=True, slots=True)
class AttendanceEvent:
    """One attendance event for one student on one day.

    Attributes:
        student_id: The student.
        school_id: The school that recorded it.
        date: The day.
        category: One of :data:`CATEGORIES`.
        duration: Fraction of the school day it covers (Ed-Fi ``eventDuration``), if given.
        minutes: Minutes it covers (Ed-Fi ``schoolAttendanceDuration``), if given.
        reason: Free-text reason as recorded (Ed-Fi ``attendanceEventReason``).
        source: Where it was read (``file:line``), for reports.
    """

    student_id: str
    school_id: str
    date: dt.date
    category: str
    duration: float | None = None
    minutes: float | None = None
    reason: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Enrollment:
    """A span of enrollment of one student at one school.

    Attributes:
        student_id: The student.
        school_id: The school.
        entry: First day enrolled.
        exit: Last day enrolled (Ed-Fi ``exitWithdrawDate``), or None while still enrolled.
        calendar_id: The calendar that applies (default: the school's).
        grade: Grade level (PK = -1, K = 0), if known.
        groups: Student groups (``foster``, ``iep``...), if known.
        source: Where it was read, for reports.
    """

    student_id: str
    school_id: str
    entry: dt.date
    exit: dt.date | None = None
    calendar_id: str | None = None
    grade: int | None = None
    groups: tuple[str, ...] = ()
    source: str | None = None


@dataclass(frozen=True, slots=True)
class StudentGroups:
    """Student groups read from a source (Ed-Fi characteristics and programs, or a CSV).

    Attributes:
        student_id: The student.
        groups: tierflow groups (``foster``, ``homeless``, ``english_learner``...).
        unmapped: Values the source gave that map to no tierflow group (reported, not used).
        source: Where it was read.
    """

    student_id: str
    groups: tuple[str, ...]
    unmapped: tuple[str, ...] = ()
    source: str | None = None


_GROUP_ALIASES: dict[str, str] = {
    # Ed-Fi StudentCharacteristicDescriptor defaults and common spellings, lower-cased.
    "foster care": "foster",
    "foster": "foster",
    "homeless": "homeless",
    "unaccompanied homeless youth": "homeless",
    "pregnant": "pregnant_or_parenting",
    "parenting": "pregnant_or_parenting",
    "pregnant or parenting": "pregnant_or_parenting",
    "migrant": "migrant",
    "economic disadvantaged": "economically_disadvantaged",
    "economically disadvantaged": "economically_disadvantaged",
    "limited english proficiency": "english_learner",
    "limited": "english_learner",
    "english learner": "english_learner",
    "english as a second language": "english_learner",
    "section 504 handicapped": "section_504",
    "section 504": "section_504",
    "504 plan": "section_504",
    "special education": "iep",
    "idea": "iep",
    "iep": "iep",
    "principal earner": "principal_earner",
    "severe illness": "severe_illness",
}


def group_of(text: str) -> str | None:
    """Map a student characteristic or program as an SIS writes it onto a tierflow group.

    >>> group_of("uri://ed-fi.org/StudentCharacteristicDescriptor#Foster Care"), group_of("Gifted")
    ('foster', None)
    """
    value = text.rsplit("#", 1)[-1].strip().lower().replace("_", " ")
    return _GROUP_ALIASES.get(value)


class CauseMap:
    """Maps free-text absence reasons and local codes onto tierflow's cause taxonomy.

    Exact codes are looked up first (case-insensitive), then keyword patterns in order; a
    reason that matches nothing maps to None (no cause is inferred from silence).

    >>> causes = CauseMap.default()
    >>> causes("Missed the bus"), causes("Doctor appointment"), causes("Absent unexcused")
    ('transportation', 'health', None)
    """

    def __init__(
        self,
        codes: Mapping[str, str] | None = None,
        patterns: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Build a map.

        Args:
            codes: Exact local codes to causes (``{"T": "transportation"}``).
            patterns: ``(regular expression, cause)`` pairs tried in order, case-insensitive.

        Raises:
            ValueError: A cause outside :data:`tierflow.facts.CAUSES`, or a bad pattern.
        """
        self._codes = {k.strip().lower(): v for k, v in (codes or {}).items()}
        self._seen: dict[str, str | None] = {}  # reasons already mapped (they repeat a lot)
        self._patterns = [(re.compile(p, re.IGNORECASE), c) for p, c in patterns]
        for cause in [*self._codes.values(), *(c for _, c in self._patterns)]:
            if cause not in CAUSES:
                raise ValueError(f"unknown cause {cause!r}; expected one of {', '.join(CAUSES)}")

    @classmethod
    def default(cls, codes: Mapping[str, str] | None = None) -> CauseMap:
        """A keyword map for common English reasons, after the local ``codes`` given."""
        return cls(
            codes,
            patterns=[
                (r"\b(bus|ride|transport\w*|car (broke|trouble)|no ride)\b", "transportation"),
                (r"\b(anxiety|depress\w*|mental|counsel\w*|therap\w*)\b", "mental_health"),
                (
                    r"\b(ill|illness|sick|doctor|dentist|medical|hospital\w*|fever|flu|covid|"
                    r"asthma|appointment|injur\w*)\b",
                    "health",
                ),
                (r"\b(homeless\w*|evict\w*|shelter|housing|moved|motel)\b", "housing"),
                (r"\b(food|hunger|hungry)\b", "food"),
                (r"\b(bull\w*|unsafe|threat\w*|fight\w*|harass\w*)\b", "bullying"),
                (r"\b(babysit\w*|sibling|family|care ?giv\w*|funeral|work\w*)\b", "family"),
                (r"\b(disengag\w*|skip\w*|cut class|bored|refus\w*)\b", "engagement"),
            ],
        )

    def __call__(self, reason: str | None) -> str | None:
        """The cause a reason points to, or None."""
        if not reason:
            return None
        try:
            return self._seen[reason]
        except KeyError:
            pass
        text = reason.strip()
        found = self._codes.get(text.lower())
        if found is None:
            found = next((c for p, c in self._patterns if p.search(text)), None)
        if len(self._seen) >= 10_000:
            self._seen.clear()
        self._seen[reason] = found
        return found
