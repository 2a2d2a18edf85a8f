"""Attendance policy: the counting choices jurisdictions make differently, as explicit settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AttendancePolicy"]


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

    absent_day_threshold: float | None = Field(default=None, gt=0, le=1)
    streak_threshold: float = Field(default=0.5, gt=0, le=1)
    suspensions_count_as_absence: bool = True
    truancy_tardy_minutes: float = Field(default=30, ge=0)
    minutes_per_day: float = Field(default=360, gt=0)
    partial_absence: Literal["excused", "unexcused"] = "excused"
    recent_days: int = Field(default=20, ge=1)
    unrecorded_day: Literal["present"] = "present"
