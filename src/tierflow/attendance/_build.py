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
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from tierflow.attendance._calendar import SchoolCalendar
from tierflow.attendance._days import Day, Student, absence_fraction, span_on
from tierflow.attendance._events import (
    CATEGORIES,
    AttendanceEvent,
    CauseMap,
    Enrollment,
    StudentGroups,
    category_of,
)
from tierflow.attendance._tally import (
    Clip,
    Tally,
    recent_rate,
    school_days_of,
    streaks,
    tally,
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
        self._students: dict[str, Student] = {}
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
        student = self._students.setdefault(span.student_id, Student())
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
        span = span_on(student, event.date) if student else None
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
        self._students.setdefault(sid, Student()).spans.append(span)
        if not self._assumed:
            self.report.assumptions.append(
                "students with events but no enrollment record are taken as enrolled for the "
                "whole year at the school that recorded their events"
            )
        self._assumed.add(sid)
        return span

    def _accept(self, student: Student, event: AttendanceEvent, cal: SchoolCalendar) -> bool:
        sid, src = event.student_id, event.source
        if event.category == "present" and event.duration is None and event.minutes is None:
            return self._accept_present(student, event)
        if student.present and student.is_present(event.date):
            fraction = absence_fraction(event, cal, self.policy)
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
            day = student.days[event.date] = Day()
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
        fraction = absence_fraction(event, cal, self.policy)
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
            used = sum(absence_fraction(e, cal, self.policy) for e in day.events)
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

    def _accept_present(self, student: Student, event: AttendanceEvent) -> bool:
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
        school_days = school_days_of(clips)
        current, longest = streaks(school_days, now.streak_days)
        recent = recent_rate(school_days, now.log, policy)
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
            "recent_absence_rate": recent,
            "absence_trend": recent - rate,
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

    def _tally(
        self, student: Student, clips: list[Clip], first: dt.date, last: dt.date, *, detail: bool
    ) -> Tally:
        """Count one student's days under this builder's policy, causes and calendars."""
        return tally(
            student,
            clips,
            first,
            last,
            policy=self.policy,
            causes_of=self.causes,
            calendar_for=self._calendar_for,
            detail=detail,
        )

    def _years_of(self, as_of: dt.date) -> tuple[SchoolYear, SchoolYear]:
        """The school year of ``as_of`` and the one before (kept for the next student's call)."""
        years = self.school_years
        cached = self._last_years
        if cached is None or cached[0] is not years or cached[1] != as_of:
            year = years.of(as_of)
            cached = self._last_years = (years, as_of, year, years.previous(year))
        return cached[2], cached[3]

    def _clip(self, student: Student, first: dt.date, last: dt.date) -> list[Clip]:
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
    def _enrolled_on(student: Student, last: Enrollment, year_end: dt.date, as_of: dt.date) -> bool:
        """Whether the student is enrolled on ``as_of`` (the ``enrolled`` fact).

        False when ``last`` (their last span of the year by ``as_of``) ended before ``as_of``
        and no later span starts in the same school year: a move out of the district. A later
        span of this year (a move between schools with days between) keeps it True.
        """
        if last.exit is None or last.exit >= as_of:
            return True
        return any(last.exit < s.entry <= year_end for s in student.spans)


def _overlap(a: Enrollment, b: Enrollment) -> bool:
    a_end = a.exit or dt.date.max
    b_end = b.exit or dt.date.max
    return a.entry <= b_end and b.entry <= a_end


def _replace(event: AttendanceEvent, **changes: Any) -> AttendanceEvent:
    values = {name: getattr(event, name) for name in AttendanceEvent.__slots__}
    values.update(changes)
    return AttendanceEvent(**values)
