"""Hypothesis strategies for raw attendance data: calendars, enrollment spans, events, policies.

A calendar is drawn as a :class:`CalendarPlan` (the arguments of ``SchoolCalendar.from_pattern``)
so that a test can rebuild its days naively. A :class:`Scenario` holds one to three students on
two schools' calendars, with their enrollment records and events in arrival order: mid-year
moves and exits, some bad spans (unknown calendar, exit before entry, overlaps), and events of
every category and many spellings, with durations, minutes and reasons, some on days that are
not instructional or outside enrollment, some duplicated and many on the same few days so that
the conflict rules are exercised.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hypothesis import strategies as st

from tierflow.attendance import AttendanceEvent, Enrollment, SchoolCalendar
from tierflow.errors import DataError
from tierflow.spec import AttendancePolicy

__all__ = [
    "CATEGORY_SPELLINGS",
    "REASONS",
    "CalendarPlan",
    "Scenario",
    "calendar_plans",
    "policies",
    "scenarios",
]

YEAR_START = dt.date(2025, 8, 1)
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR")

CATEGORY_SPELLINGS: dict[str, str | None] = {
    # tierflow's own names
    "present": "present",
    "excused_absence": "excused_absence",
    "unexcused_absence": "unexcused_absence",
    "tardy": "tardy",
    "early_departure": "early_departure",
    "partial": "partial",
    "suspension_out": "suspension_out",
    "suspension_in": "suspension_in",
    # as SIS products write them
    "Excused Absence": "excused_absence",
    "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Unexcused Absence": "unexcused_absence",
    "uri://ed-fi.org/AttendanceEventCategoryDescriptor#In Attendance": "present",
    "OSS": "suspension_out",
    "late": "tardy",
    # unknown
    "walkabout": None,
    "": None,
}
"""Category spellings the strategies use, with the tierflow category each means (None: unknown)."""

REASONS: dict[str | None, tuple[str | None, str | None]] = {
    None: (None, None),
    "sick": (None, "health"),
    "missed the bus": (None, "transportation"),
    "Absent unexcused": ("unexcused", None),
    "excused": ("excused", None),
    "Unexcused": ("unexcused", None),
    "late": (None, None),
}
"""Reasons the strategies use: (what it says of a partial absence, the cause it names)."""


@dataclass(frozen=True)
class CalendarPlan:
    """The arguments of ``SchoolCalendar.from_pattern``, kept to check the days naively."""

    id: str
    first: dt.date
    last: dt.date
    weekdays: tuple[str, ...]
    holidays: tuple[dt.date, ...] = ()
    breaks: tuple[tuple[dt.date, dt.date], ...] = ()
    makeup: tuple[dt.date, ...] = ()
    shortened: dict[dt.date, float] = field(default_factory=dict)

    def build(self) -> SchoolCalendar:
        """The calendar this plan describes."""
        return SchoolCalendar.from_pattern(
            self.id,
            self.first,
            self.last,
            weekdays=self.weekdays,
            holidays=self.holidays,
            breaks=self.breaks,
            makeup_days=self.makeup,
            shortened=self.shortened,
        )


@st.composite
def calendar_plans(draw: st.DrawFn, cal_id: str = "a") -> CalendarPlan:
    """A school year: weekday pattern, holidays, breaks, make-up days and shortened days."""
    first = YEAR_START + dt.timedelta(days=draw(st.integers(0, 40)))
    length = draw(st.integers(0, 200))
    last = first + dt.timedelta(days=length)

    def day(lo: int = 0, hi: int = length) -> st.SearchStrategy[dt.date]:
        return st.integers(lo, hi).map(lambda n: first + dt.timedelta(days=n))

    weekdays = tuple(draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=5, unique=True)))
    holidays = tuple(draw(st.lists(day(), max_size=6)))
    breaks = []
    for low in draw(st.lists(day(), max_size=2)):
        breaks.append((low, low + dt.timedelta(days=draw(st.integers(0, 12)))))
    # Make-up days: mostly inside the year (on weekends, holidays or breaks), rarely after it.
    makeup = list(draw(st.lists(st.one_of(day(), day(), day(length, length + 10)), max_size=3)))
    plan = CalendarPlan(cal_id, first, last, weekdays, holidays, tuple(breaks), tuple(makeup))
    try:
        days = plan.build().days
    except DataError:  # every day fell on a holiday or a break: give the year one make-up day
        plan = CalendarPlan(
            cal_id, first, last, weekdays, holidays, tuple(breaks), (*plan.makeup, first)
        )
        days = plan.build().days
    short = draw(st.lists(st.sampled_from(days), max_size=3, unique=True))
    shortened = {d: draw(st.sampled_from((0.5, 0.25))) for d in short}
    return CalendarPlan(
        cal_id, first, last, weekdays, holidays, tuple(breaks), plan.makeup, shortened
    )


def policies() -> st.SearchStrategy[AttendancePolicy]:
    """Attendance policies over every option."""
    return st.builds(
        AttendancePolicy,
        absent_day_threshold=st.sampled_from((None, None, 0.5, 0.75, 1.0)),
        streak_threshold=st.sampled_from((0.5, 0.25, 1.0)),
        suspensions_count_as_absence=st.booleans(),
        truancy_tardy_minutes=st.sampled_from((30.0, 0.0, 60.0)),
        minutes_per_day=st.sampled_from((360.0, 240.0)),
        partial_absence=st.sampled_from(("excused", "unexcused")),
        recent_days=st.sampled_from((20, 1, 5, 200)),
    )


@dataclass
class Scenario:
    """Calendars, enrollment records and events (in arrival order), an as-of date, a policy."""

    plans: dict[str, CalendarPlan]
    calendars: dict[str, SchoolCalendar]
    enrollments: list[Enrollment]
    events: list[AttendanceEvent]
    as_of: dt.date
    policy: AttendancePolicy
    students: tuple[str, ...]

    @property
    def span(self) -> tuple[dt.date, dt.date]:
        """The first and last dates any calendar covers."""
        days = [d for c in self.calendars.values() for d in (c.first_day, c.last_day)]
        return min(days), max(days)


# Strategies drawn for every event, built once (building them per draw is most of the cost).
_DICE = st.integers(0, 9)
_ORDER = st.integers(0, 10**6)
_SCHOOLS = st.sampled_from(("a", "b", "x"))
_CATEGORY = st.one_of(
    st.sampled_from(list(CATEGORY_SPELLINGS)[:8]), st.sampled_from(list(CATEGORY_SPELLINGS))
)
_HOW = st.sampled_from(("plain", "plain", "duration", "minutes", "both"))
_DURATION = st.sampled_from((0.25, 0.5, 0.75, 1.0, 0.0, 1.5, -0.25))
_MINUTES = st.sampled_from(
    (45.0, 90.0, 180.0, 30.0, 15.0, 270.0, 360.0, 400.0, 0.0, -5.0, float("nan"))
)
_REASON = st.sampled_from(sorted(REASONS, key=str))


def _plus(day: dt.date, n: int) -> dt.date:
    return day + dt.timedelta(days=n)


@st.composite
def _spans(
    draw: st.DrawFn, sid: str, plans: dict[str, CalendarPlan], counter: list[int]
) -> list[Enrollment]:
    """One student's enrollment records: one school, or a mid-year move; sometimes bad ones."""

    def source() -> str:
        counter[0] += 1
        return f"enrollments.csv:{counter[0]}"

    first = draw(st.sampled_from(sorted(plans)))
    other = next(s for s in sorted(plans) if s != first)
    plan = plans[first]
    entry = _plus(plan.first, draw(st.integers(-5, max(0, (plan.last - plan.first).days))))
    calendar_id = draw(st.sampled_from((None, None, None, None, other)))
    exit_ = None
    if draw(st.booleans()):
        exit_ = _plus(entry, draw(st.integers(0, 120)))
    spans = [Enrollment(sid, first, entry, exit_, calendar_id, grade=9, source=source())]
    if exit_ is not None and draw(st.booleans()):  # moves to the other school
        second = _plus(exit_, draw(st.integers(1, 20)))
        leave = draw(st.one_of(st.none(), st.integers(0, 120).map(lambda n: _plus(second, n))))
        spans.append(Enrollment(sid, other, second, leave, grade=10, source=source()))
    bad = draw(st.sampled_from(("none",) * 6 + ("unknown", "backwards", "overlap")))
    if bad == "unknown":
        spans.append(Enrollment(sid, "nowhere", entry, source=source()))
    elif bad == "backwards":
        spans.append(Enrollment(sid, other, entry, _plus(entry, -1), source=source()))
    elif bad == "overlap":
        spans.append(Enrollment(sid, other, _plus(entry, draw(st.integers(0, 5))), source=source()))
    return draw(st.permutations(spans))


@st.composite
def scenarios(draw: st.DrawFn, max_events: int = 25) -> Scenario:
    """One to three students on two calendars, their spans and events, an as-of date, a policy."""
    plans = {"a": draw(calendar_plans("a")), "b": draw(calendar_plans("b"))}
    calendars = {k: p.build() for k, p in plans.items()}
    students = tuple(f"s{i}" for i in range(1, draw(st.integers(1, 3)) + 1))
    counter = [0]
    enrollments: list[Enrollment] = []
    for sid in students:
        enrollments.extend(draw(_spans(sid, plans, counter)))
    lo = min(p.first for p in plans.values())
    hi = max(c.last_day for c in calendars.values())
    school_days = sorted({d for c in calendars.values() for d in c.days})
    any_day = st.one_of(
        st.sampled_from(school_days),
        st.sampled_from(school_days),
        st.dates(_plus(lo, -7), _plus(hi, 7)),
    )
    tagged: list[tuple[int, AttendanceEvent]] = []
    for sid in students:
        # A few days take most events, so that duplicates and same-day conflicts are common.
        hot = draw(st.lists(any_day, min_size=1, max_size=6))
        hot_day = st.one_of(st.sampled_from(hot), st.sampled_from(hot), any_day)
        mine = [e for e in enrollments if e.student_id == sid]
        for _ in range(draw(st.integers(0, max_events))):
            if tagged and draw(_DICE) == 0:  # a duplicate, read again elsewhere
                _, again = draw(st.sampled_from(tagged))
                if again.student_id == sid:
                    tagged.append(
                        (
                            draw(_ORDER),
                            AttendanceEvent(
                                sid,
                                again.school_id,
                                again.date,
                                again.category,
                                again.duration,
                                again.minutes,
                                draw(_REASON),
                                f"events.csv:{len(tagged) + 2}",
                            ),
                        )
                    )
                    continue
            day = draw(hot_day)
            at = [e.school_id for e in mine if e.entry <= day and (e.exit is None or day <= e.exit)]
            # Mostly the school the student is enrolled at that day, if any.
            school = at[0] if at and draw(_DICE) < 7 else draw(_SCHOOLS)
            category = draw(_CATEGORY)
            how = draw(_HOW)
            duration = minutes = None
            if how in ("duration", "both"):
                duration = draw(_DURATION)
            if how in ("minutes", "both"):
                minutes = draw(_MINUTES)
            reason = draw(_REASON)
            event = AttendanceEvent(
                sid,
                school,
                day,
                category,
                duration,
                minutes,
                reason,
                f"events.csv:{len(tagged) + 2}",
            )
            tagged.append((draw(_ORDER), event))
    # Students' events arrive interleaved, as in a file sorted by something else.
    events = (
        [e for _, e in sorted(tagged, key=lambda t: t[0])]
        if draw(st.booleans())
        else [e for _, e in tagged]
    )
    as_of = draw(
        st.one_of(st.sampled_from(school_days), st.just(hi), st.dates(_plus(lo, -3), _plus(hi, 10)))
    )
    return Scenario(plans, calendars, enrollments, events, as_of, draw(policies()), students)
