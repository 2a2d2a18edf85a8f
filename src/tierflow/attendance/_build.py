"""Turn calendars, enrollment spans and attendance events into the facts rules read.

The builder keeps, per student, only the days that have an exception (absence, tardy, ...), so
memory grows with students and exceptions, not with every present day. Facts are computed as of
any date: events after it are ignored, which is what back-testing and corrections need; and so
are the days before its school year (truancy is counted "in one school year": California EC
48260, Texas TEC 25.0951), apart from the previous year's totals in the ``prior_year_*`` facts.

Conflict rules (one student, one day), applied as events arrive and reported, never silent:

1. An event equal to one already accepted (same category, duration and minutes) is rejected as
   ``event.duplicate``.
2. A full-day absence and any other event (a partial absence, a tardy, a present record) cannot
   both stand: the full-day absence is kept and the other is rejected as ``event.conflict``,
   whichever arrived first.
3. Partial absences add up; one that would take the day past a full day is rejected as
   ``event.conflict``.
4. Explicit present records (an SIS that exports every day) are kept as one mark per day, not
   as records, so memory does not grow with them. A second one on a day is ``event.duplicate``;
   one on a day with a full-day absence is rejected; a full-day absence arriving after one
   withdraws the mark, reported as ``event.conflict`` with the source ``present record of
   <date>`` (the present record's own line is not kept).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tierflow.attendance._calendar import SchoolCalendar
from tierflow.attendance._events import (
    ABSENCE_CATEGORIES,
    CATEGORIES,
    AttendanceEvent,
    CauseMap,
    Enrollment,
    StudentGroups,
    category_of,
)
from tierflow.attendance._years import SchoolYear, SchoolYears
from tierflow.errors import DataError, DataReport
from tierflow.spec import AttendancePolicy

__all__ = ["FactsBuilder"]

_WEEKDAY_FACTS = (
    "absences_monday",
    "absences_tuesday",
    "absences_wednesday",
    "absences_thursday",
    "absences_friday",
)


class _Day:
    """The accepted events of one student on one day."""

    __slots__ = ("events", "full")

    def __init__(self) -> None:
        self.events: list[AttendanceEvent] = []
        self.full: AttendanceEvent | None = None


_CATEGORY_KIND = {
    "excused_absence": "excused",
    "unexcused_absence": "unexcused",
    "suspension_out": "suspension",
}


class _DayRecord:
    """One student-date folded: time missed by kind, whether late, whether a truancy occasion."""

    __slots__ = ("occasion", "parts", "tardy")

    def __init__(self) -> None:
        self.parts = {"excused": 0.0, "unexcused": 0.0, "suspension": 0.0}
        self.tardy = False
        self.occasion = False


@dataclass
class _Student:
    spans: list[Enrollment] = field(default_factory=list)
    days: dict[dt.date, _Day] = field(default_factory=dict)
    # Explicit "present" records are only marked, one byte per day of the year, so that an SIS
    # that exports every present day does not make memory grow with the number of records.
    present: dict[int, bytearray] = field(default_factory=dict)

    def is_present(self, day: dt.date) -> bool:
        n = day.toordinal()
        marks = self.present.get(n >> 9)
        return marks is not None and marks[n & 511] == 1

    def mark_present(self, day: dt.date, value: int) -> None:
        n = day.toordinal()
        marks = self.present.get(n >> 9)
        if marks is None:
            marks = self.present[n >> 9] = bytearray(512)
        marks[n & 511] = value


class FactsBuilder:
    """Accumulates calendars, enrollments and events; yields facts as of any date.

    >>> cal = SchoolCalendar.from_pattern("lincoln", dt.date(2025, 9, 1), dt.date(2025, 9, 30))
    >>> b = FactsBuilder({"lincoln": cal})
    >>> b.add_enrollment(Enrollment("s1", "lincoln", dt.date(2025, 9, 1)))
    True
    >>> b.add_event(AttendanceEvent("s1", "lincoln", dt.date(2025, 9, 8), "unexcused_absence"))
    True
    >>> b.add_event(AttendanceEvent("s1", "lincoln", dt.date(2025, 9, 13), "tardy"))  # Saturday
    False
    >>> f = next(b.facts(as_of=dt.date(2025, 9, 30)))
    >>> f["days_enrolled"], f["days_absent"], f["days_unexcused"]
    (22, 1.0, 1.0)
    >>> b.report.summary()
    'read 3, accepted 2, rejected 1 (event.not_instructional 1)'
    """

    def __init__(
        self,
        calendars: Mapping[str, SchoolCalendar],
        *,
        policy: AttendancePolicy | None = None,
        causes: CauseMap | None = None,
        assume_full_year: bool = False,
        school_years: SchoolYears | None = None,
        report: DataReport | None = None,
    ) -> None:
        """Create a builder.

        Args:
            calendars: Calendars by id; an enrollment uses its ``calendar_id``, else the one
                whose id is its school id.
            policy: Counting choices (default :class:`AttendancePolicy`).
            causes: Maps event reasons to causes (default :meth:`CauseMap.default`).
            assume_full_year: A student with events but no enrollment is taken as enrolled at
                the event's school from the calendar's first day (recorded in
                ``report.assumptions``); otherwise such events are rejected.
            school_years: Which school year a date belongs to (default: years starting July
                1). Facts as of a date count that date's school year only; pass a rule set's
                ``school_years``, or a calendar's (:meth:`CalendarSet.school_years`) when it
                has Ed-Fi sessions.
            report: Where to count every record offered and put the rejected ones (default:
                a new :class:`~tierflow.DataReport`). Pass the same report to the readers
                (``read_events(path, report=builder.report)``) so a record a reader refuses
                is counted too, and ``read == accepted + rejected`` covers the files.
        """
        self.calendars = dict(calendars)
        self.policy = policy or AttendancePolicy()
        self.causes = causes if causes is not None else CauseMap.default()
        self.assume_full_year = assume_full_year
        self.school_years = school_years if school_years is not None else SchoolYears()
        self._last_years: tuple[SchoolYears, dt.date, SchoolYear, SchoolYear] | None = None
        self.report = DataReport() if report is None else report
        self._students: dict[str, _Student] = {}
        self._assumed: set[str] = set()
        self._groups: dict[str, set[str]] = {}

    # --- input --------------------------------------------------------------------------------

    def _reject(self, code: str, message: str, student: str | None, source: str | None) -> bool:
        self.report.rejects.append(DataError(code, message, student_id=student, source=source))
        return False

    def _calendar_for(self, span: Enrollment) -> SchoolCalendar | None:
        return self.calendars.get(span.calendar_id or span.school_id)

    def add_enrollment(self, span: Enrollment) -> bool:
        """Add an enrollment span; return whether it was accepted (else it is in the report)."""
        self.report.read += 1
        if self._calendar_for(span) is None:
            which = span.calendar_id or span.school_id
            return self._reject(
                "enrollment.unknown_calendar",
                f"no calendar {which!r} for school {span.school_id!r}",
                span.student_id,
                span.source,
            )
        if span.exit is not None and span.exit < span.entry:
            return self._reject(
                "enrollment.invalid",
                f"exit date {span.exit} is before entry date {span.entry}",
                span.student_id,
                span.source,
            )
        student = self._students.setdefault(span.student_id, _Student())
        for other in student.spans:
            if _overlap(other, span):
                return self._reject(
                    "enrollment.overlap",
                    f"span at {span.school_id!r} from {span.entry} overlaps the span at "
                    f"{other.school_id!r} from {other.entry}",
                    span.student_id,
                    span.source,
                )
        student.spans.append(span)
        student.spans.sort(key=lambda s: s.entry)
        self.report.accepted += 1
        return True

    def add_enrollments(self, spans: Iterable[Enrollment]) -> None:
        """Add many enrollment spans."""
        for span in spans:
            self.add_enrollment(span)

    def add_event(self, event: AttendanceEvent) -> bool:
        """Add one event; return whether it was accepted (else it is in the report)."""
        self.report.read += 1
        sid, src = event.student_id, event.source
        if event.category not in CATEGORIES:
            mapped = category_of(event.category)
            if mapped is None:
                return self._reject(
                    "event.unknown_category",
                    f"unknown attendance category {event.category!r}",
                    sid,
                    src,
                )
            event = _replace(event, category=mapped)
        if event.duration is not None or event.minutes is not None:
            for name, value in (("duration", event.duration), ("minutes", event.minutes)):
                if value is not None and not value >= 0:
                    return self._reject(
                        "event.invalid_duration",
                        f"{name} must not be negative, got {value}",
                        sid,
                        src,
                    )
        if event.duration is not None and event.duration > 1:
            return self._reject(
                "event.invalid_duration",
                f"duration is a fraction of a day, at most 1; got {event.duration}",
                sid,
                src,
            )
        student = self._students.get(sid)
        span = _span_on(student, event.date) if student else None
        if span is None and self.assume_full_year and (student is None or not student.spans):
            # No calendar for the event's school: nothing to enrol the student in, so the
            # event is rejected below like any other outside an enrollment.
            span = self._assume(sid, event.school_id, src)
            if span is not None:
                student = self._students[sid]
        if span is None or student is None:
            why = f"{event.date} is outside the student's enrollment"
            if self.assume_full_year and event.school_id not in self.calendars:
                why = (
                    f"no enrollment record, and no calendar for school {event.school_id!r} "
                    "to assume a full-year enrollment at"
                )
            return self._reject("event.not_enrolled", why, sid, src)
        if span.school_id != event.school_id:
            return self._reject(
                "event.not_enrolled",
                f"on {event.date} the student is enrolled at {span.school_id!r}, "
                f"not {event.school_id!r}",
                sid,
                src,
            )
        calendar = self._calendar_for(span)
        if calendar is None or event.date not in calendar:
            weekday = event.date.strftime("%A")
            return self._reject(
                "event.not_instructional",
                f"{event.date} ({weekday}) is not an instructional day in calendar "
                f"{span.calendar_id or span.school_id!r}",
                sid,
                src,
            )
        return self._accept(student, event, calendar)

    def add_groups(self, record: StudentGroups) -> bool:
        """Add a student's groups (from Ed-Fi characteristics, programs, or a CSV)."""
        self.report.read += 1
        self._groups.setdefault(record.student_id, set()).update(record.groups)
        for value in record.unmapped:
            self.report.ignored.append(
                f"{record.source or 'groups'}: student {record.student_id}: {value!r} maps to "
                "no tierflow group"
            )
        self.report.accepted += 1
        return True

    def add_events(self, events: Iterable[AttendanceEvent]) -> None:
        """Add many events."""
        for event in events:
            self.add_event(event)

    def _assume(self, sid: str, school: str, source: str | None) -> Enrollment | None:
        calendar = self.calendars.get(school)
        if calendar is None:
            return None
        span = Enrollment(sid, school, calendar.first_day, source="assumed")
        self._students.setdefault(sid, _Student()).spans.append(span)
        if not self._assumed:
            self.report.assumptions.append(
                "students with events but no enrollment record are taken as enrolled for the "
                "whole year at the school that recorded their events"
            )
        self._assumed.add(sid)
        return span

    def _accept(self, student: _Student, event: AttendanceEvent, cal: SchoolCalendar) -> bool:
        sid, src = event.student_id, event.source
        if event.category == "present" and event.duration is None and event.minutes is None:
            return self._accept_present(student, event)
        if student.present and student.is_present(event.date):
            fraction = self._absence_fraction(event, cal)
            if fraction >= 1:  # rule 4: the absence stands; the present mark is withdrawn
                student.mark_present(event.date, 0)
                self.report.accepted -= 1
                self._reject(
                    "event.conflict",
                    f"the present record of {event.date} is superseded by a full-day "
                    f"{event.category}" + (f" (at {src})" if src else ""),
                    sid,
                    f"present record of {event.date}",
                )
        day = student.days.get(event.date)
        if day is None:
            day = student.days[event.date] = _Day()
        key = (event.category, event.duration, event.minutes)
        for other in day.events:
            if (other.category, other.duration, other.minutes) == key:
                where = f" (first at {other.source})" if other.source else ""
                return self._reject(
                    "event.duplicate",
                    f"a {event.category} event on {event.date} was already recorded{where}",
                    sid,
                    src,
                )
        fraction = self._absence_fraction(event, cal)
        if day.full is not None:
            where = f" (at {day.full.source})" if day.full.source else ""
            return self._reject(
                "event.conflict",
                f"{event.date} already has a full-day {day.full.category}{where}; "
                f"a {event.category} event cannot stand beside it",
                sid,
                src,
            )
        if fraction >= 1:
            for other in day.events:  # rule 2: the full day wins; the others are reported
                self.report.accepted -= 1
                where = f" (at {src})" if src else ""
                self._reject(
                    "event.conflict",
                    f"{event.date} has a full-day {event.category}{where}; "
                    f"this {other.category} event cannot stand beside it",
                    other.student_id,
                    other.source,
                )
            day.events = [event]
            day.full = event
        else:
            used = sum(self._absence_fraction(e, cal) for e in day.events)
            if fraction and used + fraction > 1 + 1e-9:
                return self._reject(
                    "event.conflict",
                    f"absences on {event.date} would add up to {used + fraction:.2f} days",
                    sid,
                    src,
                )
            day.events.append(event)
        self.report.accepted += 1
        return True

    def _accept_present(self, student: _Student, event: AttendanceEvent) -> bool:
        sid, src = event.student_id, event.source
        if student.is_present(event.date):
            return self._reject(
                "event.duplicate", f"{event.date} was already recorded as present", sid, src
            )
        day = student.days.get(event.date)
        if day is not None and day.full is not None:
            where = f" (at {day.full.source})" if day.full.source else ""
            return self._reject(
                "event.conflict",
                f"{event.date} already has a full-day {day.full.category}{where}; "
                "a present record cannot stand beside it",
                sid,
                src,
            )
        student.mark_present(event.date, 1)
        self.report.accepted += 1
        return True

    def _fold_day(self, events: Iterable[AttendanceEvent], cal: SchoolCalendar) -> _DayRecord:
        """Fold one student-date's accepted events into one day record.

        Each event's time goes to one kind (excused, unexcused, suspension): its category, or
        for a partial absence, an early departure or a tardy the reason it gives (``Absent
        excused``...), else the policy (``partial_absence``; a tardy with no reason is
        unexcused). The date is one truancy occasion (California EC 48260) when an unexcused
        event is a full-day absence or lasts more than ``truancy_tardy_minutes``; excused and
        suspension time never makes one, and a date is one occasion however many events say so.
        """
        policy = self.policy
        record = _DayRecord()
        for e in events:
            if e.category == "tardy":
                record.tardy = True
            kind = self._kind_of(e)
            if kind is None:
                continue
            fraction = self._absence_fraction(e, cal)
            if kind == "unexcused" and (
                fraction >= 1 or self._minutes(e, cal) > policy.truancy_tardy_minutes
            ):
                record.occasion = True
            if e.category != "tardy" and fraction:  # a late arrival's time is not an absence
                record.parts[kind] += fraction
        return record

    def _kind_of(self, event: AttendanceEvent) -> str | None:
        """The kind of time an event records: excused, unexcused, suspension, or None."""
        category = event.category
        if category in _CATEGORY_KIND:
            return _CATEGORY_KIND[category]
        if category not in ("partial", "early_departure", "tardy"):
            return None  # present, in-school suspension: attendance
        said = category_of(event.reason or "")
        if said in ("excused_absence", "unexcused_absence"):
            return "excused" if said == "excused_absence" else "unexcused"
        return "unexcused" if category == "tardy" else self.policy.partial_absence

    def _minutes(self, event: AttendanceEvent, cal: SchoolCalendar) -> float:
        """How many minutes an event covers (0 when neither minutes nor a duration is given)."""
        if event.minutes is not None:
            return float(event.minutes)
        if event.duration is not None:
            return event.duration * self.policy.minutes_per_day * cal.fraction(event.date)
        return 0.0

    def _absence_fraction(self, event: AttendanceEvent, cal: SchoolCalendar) -> float:
        """The fraction of the school day an event takes away (0 for attendance)."""
        if event.category not in ABSENCE_CATEGORIES and event.category != "early_departure":
            return 0.0
        if event.duration is not None:
            return float(event.duration)
        if event.minutes is not None:
            day_minutes = self.policy.minutes_per_day * cal.fraction(event.date)
            return min(1.0, event.minutes / day_minutes) if day_minutes else 0.0
        return 0.0 if event.category == "early_departure" else 1.0

    # --- output -------------------------------------------------------------------------------

    @property
    def student_ids(self) -> list[str]:
        """Students known to the builder, sorted."""
        return sorted(self._students)

    def facts(self, as_of: dt.date) -> Iterator[dict[str, Any]]:
        """Yield the facts of every student enrolled in the school year of ``as_of`` by then.

        Sorted by student id; a student whose enrollments all ended before the year is left out.
        """
        for sid in sorted(self._students):
            facts = self.facts_for(sid, as_of)
            if facts is not None:
                yield facts

    def facts_for(self, student_id: str, as_of: dt.date) -> dict[str, Any] | None:
        """The facts of one student as of a date, in the school year of that date.

        Every count is of the school year ``as_of`` belongs to (``school_years``): enrollment
        from the year's first day to ``as_of``, the events of those days. The year before it
        is counted the same way, whole, into the ``prior_year_*`` facts. None when the student
        has no enrollment in this school year by ``as_of``.
        """
        student = self._students.get(student_id)
        if student is None:
            return None
        year, before = self._years_of(as_of)
        clips = self._clip(student, year.start, as_of)
        if not clips:
            return None
        now = self._tally(student, clips, year.start, as_of, detail=True)
        past = self._clip(student, before.start, before.end)
        then = self._tally(student, past, before.start, before.end, detail=False) if past else None
        policy = self.policy
        spans = [span for span, *_ in clips]
        last = spans[-1]
        school_days = self._school_days_of(clips)
        current, longest = _streaks(school_days, now.streak_days)
        recent_rate = self._recent_rate(school_days, now.log)
        rate = now.absent / now.enrolled if now.enrolled else 0.0
        facts: dict[str, Any] = {
            "student_id": student_id,
            "school_id": last.school_id,
            "school_year": year.label,
            "enrolled": self._enrolled_on(student, last, year.end, as_of),
            "days_enrolled": now.enrolled,
            # As the built-in metric: suspension days count as present when the policy keeps
            # them out of days_absent.
            "days_present": max(0.0, now.enrolled - now.absent),
            "days_absent": now.absent,
            "days_excused": now.excused,
            "days_unexcused": now.unexcused,
            "days_suspended": now.suspended,
            "tardies": now.tardies,
            "tardies_over_30": now.over,
            "truancy_occasions": now.occasions,
            "current_absence_streak": current,
            "longest_absence_streak": longest,
            "recent_absence_rate": recent_rate,
            "absence_trend": recent_rate - rate,
            "prior_year_days_enrolled": then.enrolled if then else 0,
            "prior_year_days_absent": then.absent if then else 0.0,
            "prior_year_days_unexcused": then.unexcused if then else 0.0,
            "causes": [c for c, _ in now.causes.most_common()],
            "groups": sorted(
                {g for s in spans for g in s.groups} | self._groups.get(student_id, set())
            ),
            "attendance_log": now.log,
            "school_days": school_days,
            "minutes_per_day": policy.minutes_per_day,
            "provenance": {
                "calendars": sorted({s.calendar_id or s.school_id for s in spans}),
                "events": now.events,
                "events_sha256": now.digest.hexdigest(),
                "assumed_enrollment": student_id in self._assumed,
            },
        }
        facts.update(zip(_WEEKDAY_FACTS, now.weekday, strict=True))
        if last.grade is not None:
            facts["grade"] = last.grade
        return facts

    def _years_of(self, as_of: dt.date) -> tuple[SchoolYear, SchoolYear]:
        """The school year of ``as_of`` and the one before (kept for the next student's call)."""
        years = self.school_years
        cached = self._last_years
        if cached is None or cached[0] is not years or cached[1] != as_of:
            year = years.of(as_of)
            cached = self._last_years = (years, as_of, year, years.previous(year))
        return cached[2], cached[3]

    def _clip(self, student: _Student, first: dt.date, last: dt.date) -> list[_Clip]:
        """The student's enrollment spans between two dates, each cut to them, in order."""
        clips = []
        for span in student.spans:
            if span.entry > last:
                break  # spans are sorted by entry
            end = last if span.exit is None else min(last, span.exit)
            start = max(first, span.entry)
            if start <= end:
                cal = self._calendar_for(span)
                assert cal is not None  # checked when the span was added
                clips.append((span, cal, start, end))
        return clips

    @staticmethod
    def _enrolled_on(
        student: _Student, last: Enrollment, year_end: dt.date, as_of: dt.date
    ) -> bool:
        """Whether the student is enrolled on ``as_of`` (the ``enrolled`` fact).

        False when ``last`` (their last span of the year by ``as_of``) ended before ``as_of``
        and no later span starts in the same school year: a move out of the district. A later
        span of this year (a move between schools with days between) keeps it True.
        """
        if last.exit is None or last.exit >= as_of:
            return True
        return any(last.exit < s.entry <= year_end for s in student.spans)

    def _tally(
        self,
        student: _Student,
        clips: list[_Clip],
        first: dt.date,
        last: dt.date,
        *,
        detail: bool,
    ) -> _Tally:
        """Count one student's days from ``first`` to ``last`` (inside one school year).

        ``clips`` are the student's spans cut to those days. This is the one counting routine:
        this year's facts and the prior year's come from it. ``detail`` adds what only this
        year's facts need (the attendance log, the causes, the events' digest).
        """
        policy = self.policy
        out = _Tally()
        for _, span_cal, start, end in clips:
            out.enrolled += span_cal.count(start, end)
        # Local names in the loop, stored in ``out`` at the end: it runs once per day absent.
        excused = unexcused = suspended = absent = over = 0.0
        tardies = occasions = events = 0
        weekday, streak_days, log, causes = out.weekday, out.streak_days, out.log, out.causes
        digest = out.digest
        fallback = clips[-1][0]
        for day_date in sorted(d for d in student.days if first <= d <= last):
            day = student.days[day_date]
            cal = self._calendar_for(_span_on(student, day_date) or fallback)
            assert cal is not None
            # In a canonical order, so that the digest, the log and ties between causes do not
            # depend on the order a day's events arrived in (they are unique by this key).
            ordered = sorted(day.events, key=_event_key) if len(day.events) > 1 else day.events
            if detail:
                for e in ordered:
                    events += 1
                    digest.update(
                        f"{e.date}|{e.category}|{e.duration}|{e.minutes}|{e.reason}\n".encode()
                    )
                    cause = self.causes(e.reason)
                    if cause is not None:
                        causes[cause] += 1
            record = self._fold_day(ordered, cal)
            parts = record.parts
            total = min(1.0, sum(parts.values()))
            share = parts
            counted = total
            if total and policy.absent_day_threshold is not None:
                counted = 1.0 if total >= policy.absent_day_threshold - 1e-9 else 0.0
                share = {
                    k: (counted if v == max(parts.values()) else 0.0) for k, v in parts.items()
                }
                if counted and list(share.values()).count(1.0) > 1:  # a tie: unexcused first
                    first_kind = next(k for k in ("unexcused", "excused", "suspension") if share[k])
                    share = {k: (1.0 if k == first_kind else 0.0) for k in share}
            if total:
                excused += share["excused"]
                unexcused += share["unexcused"]
                suspended += share["suspension"]
                day_absent = counted - (
                    0.0 if policy.suspensions_count_as_absence else share["suspension"]
                )
                absent += day_absent
                if day_absent and day_date.weekday() < 5:
                    weekday[day_date.weekday()] += day_absent
                if total >= policy.streak_threshold - 1e-9:
                    streak_days.append(day_date)
                if detail:
                    for kind, value in share.items():
                        if value:
                            log.append({"date": day_date, "kind": kind, "days": min(value, 1.0)})
            # A day is one occasion at most (EC 48260). tardies_over_30 holds the part of it
            # days_unexcused does not, so that their sum counts it once; and the log gets one
            # truancy row for it: a long tardy row only where no unexcused row stands.
            tardies += record.tardy
            if record.occasion:
                occasions += 1
                over += 1.0 - min(1.0, share["unexcused"])
            if detail:
                if record.occasion and not share["unexcused"]:
                    log.append({"date": day_date, "kind": "tardy_over_30", "days": 0.0})
                elif record.tardy:
                    log.append({"date": day_date, "kind": "tardy", "days": 0.0})
        out.excused, out.unexcused, out.suspended, out.absent = (
            excused,
            unexcused,
            suspended,
            absent,
        )
        out.tardies, out.occasions, out.events = tardies, occasions, events
        out.over = _exact_sum(unexcused, over)
        return out

    @staticmethod
    def _school_days_of(clips: list[_Clip]) -> tuple[dt.date, ...]:
        """The instructional days of the clipped spans, in order."""
        days: list[dt.date] = []
        for _, cal, start, end in clips:
            days.extend(cal.days_between(start, end))
        return tuple(days)

    def _recent_rate(self, days: tuple[dt.date, ...], log: list[dict[str, Any]]) -> float:
        """Absence rate over the last ``policy.recent_days`` enrolled school days."""
        recent = days[-self.policy.recent_days :]
        if not recent:
            return 0.0
        first = recent[0]
        counts = self.policy.suspensions_count_as_absence
        missed = sum(
            r["days"]
            for r in log
            if r["date"] >= first
            and r["kind"] in ("excused", "unexcused", "suspension")
            and (counts or r["kind"] != "suspension")
        )
        return min(1.0, float(missed) / len(recent))


_Clip = tuple[Enrollment, SchoolCalendar, dt.date, dt.date]


class _Tally:
    """One student's counts over some days of one school year (see ``FactsBuilder._tally``)."""

    __slots__ = (
        "absent",
        "causes",
        "digest",
        "enrolled",
        "events",
        "excused",
        "log",
        "occasions",
        "over",
        "streak_days",
        "suspended",
        "tardies",
        "unexcused",
        "weekday",
    )

    def __init__(self) -> None:
        self.enrolled = 0
        self.absent = self.excused = self.unexcused = self.suspended = self.over = 0.0
        self.tardies = self.occasions = self.events = 0
        self.streak_days: list[dt.date] = []
        self.weekday = [0.0] * 5
        self.log: list[dict[str, Any]] = []
        self.causes: Counter[str] = Counter()
        self.digest = hashlib.sha256()


def _streaks(days: tuple[dt.date, ...], absent: list[dt.date]) -> tuple[int, int]:
    """Current and longest runs of consecutive enrolled school days absent.

    ``days`` are the enrolled school days in order; ``absent`` the days absent, in order.
    """
    if not days or not absent:
        return 0, 0
    longest = run = 0
    previous = -2
    for d in absent:
        i = bisect_left(days, d)
        if i == len(days) or days[i] != d:
            continue
        run = run + 1 if i == previous + 1 else 1
        previous = i
        longest = max(longest, run)
    current = run if previous == len(days) - 1 else 0
    return current, longest


def _exact_sum(base: float, extra: float) -> float:
    """``extra``, nudged so that ``base + extra`` is exactly the whole number it stands for.

    ``days_unexcused + tardies_over_30`` counts truancy occasions, but both add up fractions of
    a day, and float addition can make 2 occasions read 1.9999999999999998, which a rule's
    ``>= 2`` would miss. A sum within 1e-9 of a whole number (no count of minutes comes that
    close to one otherwise) is made to reach it exactly, never to fall short.
    """
    total = base + extra
    target = float(round(total))
    if total >= target or target - total > 1e-9:
        return extra
    extra = max(0.0, target - base)
    for _ in range(4):  # target - base is exact or one step off; a few steps settle it
        if base + extra >= target:
            break
        extra = math.nextafter(extra, math.inf)
    return extra


def _event_key(event: AttendanceEvent) -> tuple[str, float, float]:
    """Order a day's accepted events; no two share a key (rule 1 rejects the second)."""
    return (
        event.category,
        -1.0 if event.duration is None else event.duration,
        -1.0 if event.minutes is None else event.minutes,
    )


def _overlap(a: Enrollment, b: Enrollment) -> bool:
    a_end = a.exit or dt.date.max
    b_end = b.exit or dt.date.max
    return a.entry <= b_end and b.entry <= a_end


def _span_on(student: _Student | None, day: dt.date) -> Enrollment | None:
    if student is None:
        return None
    for span in student.spans:
        if span.entry <= day and (span.exit is None or day <= span.exit):
            return span
    return None


def _replace(event: AttendanceEvent, **changes: Any) -> AttendanceEvent:
    values = {name: getattr(event, name) for name in AttendanceEvent.__slots__}
    values.update(changes)
    return AttendanceEvent(**values)
