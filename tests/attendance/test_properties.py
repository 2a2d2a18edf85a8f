"""FactsBuilder and SchoolCalendar agree with a naive day-by-day reference on generated data.

The reference below is written from the docstrings alone (``_build.py``'s conflict rules,
``AttendancePolicy``, ``SchoolCalendar.from_pattern``) and is meant to be obviously right rather
than fast: calendars are every date from the first to the last day filtered by the pattern,
ingestion applies the conflict rules to a plain list of accepted events per student-day, and
facts walk every calendar date from the first entry to the as-of date.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import tierflow
from attendance.attendance_strategies import (
    CATEGORY_SPELLINGS,
    REASONS,
    CalendarPlan,
    Scenario,
    calendar_plans,
    scenarios,
)
from tierflow.attendance import (
    AttendanceEvent,
    Enrollment,
    FactsBuilder,
    SchoolCalendar,
    SchoolYears,
)
from tierflow.errors import DataError
from tierflow.evaluate._reference import environment
from tierflow.spec import AttendancePolicy

EPS = 1e-9
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(SETTINGS, max_examples=80)  # the policy comparisons build four times each
KINDS = ("unexcused", "excused", "suspension")  # the order ties are broken in
WEEKDAY_FACTS = (
    "absences_monday",
    "absences_tuesday",
    "absences_wednesday",
    "absences_thursday",
    "absences_friday",
)

# --- the naive reference -----------------------------------------------------------------------


def naive_days(plan: CalendarPlan) -> list[dt.date]:
    """Every date from the first to the last day, filtered by the plan; then the make-up days."""
    days = set()
    day = plan.first
    while day <= plan.last:
        on_pattern = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[day.weekday()] in plan.weekdays
        in_break = any(low <= day <= high for low, high in plan.breaks)
        if on_pattern and day not in plan.holidays and not in_break:
            days.add(day)
        day += dt.timedelta(days=1)
    return sorted(days | set(plan.makeup))


@dataclass
class RefDay:
    """What the reference accepted for one student on one day, in arrival order."""

    events: list[AttendanceEvent] = field(default_factory=list)
    present_mark: bool = False


class Reference:
    """A plain re-implementation of ingestion and facts, from the documentation."""

    def __init__(self, plans: dict[str, CalendarPlan], policy: AttendancePolicy) -> None:
        self.plans = plans
        self.days = {k: naive_days(p) for k, p in plans.items()}
        self.policy = policy
        self.read = self.accepted = 0
        self.rejects: list[tuple[str, str | None, str | None]] = []
        self.spans: dict[str, list[Enrollment]] = {}
        self.accepted_on: dict[tuple[str, dt.date], RefDay] = {}

    def _reject(self, code: str, sid: str | None, source: str | None) -> bool:
        self.rejects.append((code, sid, source))
        return False

    @staticmethod
    def calendar_of(span: Enrollment) -> str:
        return span.calendar_id or span.school_id

    def add_enrollment(self, span: Enrollment) -> bool:
        self.read += 1
        sid = span.student_id
        if self.calendar_of(span) not in self.plans:
            return self._reject("enrollment.unknown_calendar", sid, span.source)
        if span.exit is not None and span.exit < span.entry:
            return self._reject("enrollment.invalid", sid, span.source)
        for other in self.spans.get(sid, []):
            a_end = other.exit or dt.date.max
            b_end = span.exit or dt.date.max
            if other.entry <= b_end and span.entry <= a_end:
                return self._reject("enrollment.overlap", sid, span.source)
        self.spans.setdefault(sid, []).append(span)
        self.accepted += 1
        return True

    def span_on(self, sid: str, day: dt.date) -> Enrollment | None:
        for span in self.spans.get(sid, []):
            if span.entry <= day and (span.exit is None or day <= span.exit):
                return span
        return None

    def fraction(self, event: AttendanceEvent, calendar: str) -> float:
        """How much of its day an event takes away (docs/attendance.md, the categories table)."""
        if event.category in ("present", "tardy", "suspension_in"):
            return 0.0
        if event.duration is not None:
            return event.duration
        if event.minutes is not None:
            length = self.policy.minutes_per_day * self.plans[calendar].shortened.get(
                event.date, 1.0
            )
            return min(1.0, event.minutes / length)
        return 0.0 if event.category == "early_departure" else 1.0

    def add_event(self, event: AttendanceEvent) -> bool:
        self.read += 1
        sid, src = event.student_id, event.source
        category = CATEGORY_SPELLINGS.get(event.category)
        if category is None:
            return self._reject("event.unknown_category", sid, src)
        event = replace(event, category=category)
        for value in (event.duration, event.minutes):
            if value is not None and (math.isnan(value) or value < 0):
                return self._reject("event.invalid_duration", sid, src)
        if event.duration is not None and event.duration > 1:
            return self._reject("event.invalid_duration", sid, src)
        span = self.span_on(sid, event.date)
        if span is None or span.school_id != event.school_id:
            return self._reject("event.not_enrolled", sid, src)
        calendar = self.calendar_of(span)
        if event.date not in self.days[calendar]:
            return self._reject("event.not_instructional", sid, src)
        day = self.accepted_on.setdefault((sid, event.date), RefDay())
        full = [e for e in day.events if self.fraction(e, calendar) >= 1]
        mine = self.fraction(event, calendar)
        if category == "present" and event.duration is None and event.minutes is None:
            # Rule 4: explicit present records are a mark per day.
            if day.present_mark:
                return self._reject("event.duplicate", sid, src)
            if full:
                return self._reject("event.conflict", sid, src)
            day.present_mark = True
            self.accepted += 1
            return True
        key = (event.category, event.duration, event.minutes)
        if any((e.category, e.duration, e.minutes) == key for e in day.events):  # rule 1
            return self._reject("event.duplicate", sid, src)
        if full:  # rule 2, the full-day absence came first
            return self._reject("event.conflict", sid, src)
        if mine >= 1:  # rule 2, the full-day absence came last; rule 4, it withdraws the mark
            for other in day.events:
                self.accepted -= 1
                self._reject("event.conflict", other.student_id, other.source)
            if day.present_mark:
                day.present_mark = False
                self.accepted -= 1
                self._reject("event.conflict", sid, f"present record of {event.date}")
            day.events = []
        elif mine > 0 and sum(self.fraction(e, calendar) for e in day.events) + mine > 1 + EPS:
            return self._reject("event.conflict", sid, src)  # rule 3
        day.events.append(event)
        self.accepted += 1
        return True

    def facts(self, sid: str, as_of: dt.date) -> dict[str, Any] | None:
        """The facts of one student, walking every calendar date up to ``as_of``."""
        p = self.policy
        spans = [s for s in self.spans.get(sid, []) if s.entry <= as_of]
        if not spans:
            return None
        enrolled: list[dt.date] = []
        tardies = occasions = 0
        over = 0.0
        counted = dict.fromkeys(KINDS, 0.0)
        absent = 0.0
        weekday = [0.0] * 7
        missed: dict[dt.date, float] = {}  # what each day adds to days_absent
        run = longest = 0
        events = 0
        causes: Counter[str] = Counter()
        day = min(s.entry for s in spans)
        while day <= as_of:
            span = self.span_on(sid, day)
            if span is None or day not in self.days[self.calendar_of(span)]:
                day += dt.timedelta(days=1)
                continue
            enrolled.append(day)
            parts = dict.fromkeys(KINDS, 0.0)
            late = occasion = False  # EC 48260: a date is at most one truancy occasion
            for e in self.accepted_on.get((sid, day), RefDay()).events:
                events += 1
                cause = REASONS[e.reason][1]
                if cause:
                    causes[cause] += 1
                share = self.fraction(e, self.calendar_of(span))
                said = REASONS[e.reason][0]
                kind = {
                    "excused_absence": "excused",
                    "unexcused_absence": "unexcused",
                    "suspension_out": "suspension",
                    "partial": said or p.partial_absence,
                    "early_departure": said or p.partial_absence,
                    "tardy": said or "unexcused",  # a tardy with no excuse given has none
                }.get(e.category)
                if e.minutes is not None:
                    minutes = e.minutes
                elif e.duration is not None:
                    length = p.minutes_per_day * self.plans[self.calendar_of(span)].shortened.get(
                        day, 1.0
                    )
                    minutes = e.duration * length
                else:
                    minutes = 0.0
                if kind == "unexcused" and (share >= 1 or minutes > p.truancy_tardy_minutes):
                    occasion = True
                if e.category == "tardy":
                    late = True
                elif kind is not None:
                    parts[kind] += share
            tardies += late
            occasions += occasion
            total = min(1.0, sum(parts.values()))
            if p.absent_day_threshold is None:
                day_parts = parts
            else:  # one whole day, to the largest part (ties: unexcused, excused, suspension)
                day_parts = dict.fromkeys(KINDS, 0.0)
                if total > 0 and total >= p.absent_day_threshold - EPS:
                    day_parts[max(KINDS, key=lambda k: (parts[k], -KINDS.index(k)))] = 1.0
            for kind in KINDS:
                counted[kind] += day_parts[kind]
            # What of the occasion days_unexcused does not already count is counted here.
            if occasion:
                over += 1.0 - day_parts["unexcused"]
            day_absent = sum(
                v
                for k, v in day_parts.items()
                if k != "suspension" or p.suspensions_count_as_absence
            )
            absent += day_absent
            missed[day] = day_absent
            if day.weekday() < 5:
                weekday[day.weekday()] += day_absent
            if total > 0 and total >= p.streak_threshold - EPS:
                run += 1
                longest = max(longest, run)
            else:
                run = 0
            day += dt.timedelta(days=1)
        recent = enrolled[-p.recent_days :]
        recent_rate = min(1.0, sum(missed[d] for d in recent) / len(recent)) if recent else 0.0
        rate = absent / len(enrolled) if enrolled else 0.0
        last = max(spans, key=lambda s: s.entry)
        facts: dict[str, Any] = {
            "student_id": sid,
            "school_id": last.school_id,
            "grade": last.grade,
            "days_enrolled": len(enrolled),
            "days_present": max(0.0, len(enrolled) - absent),
            "days_absent": absent,
            "days_excused": counted["excused"],
            "days_unexcused": counted["unexcused"],
            "days_suspended": counted["suspension"],
            "tardies": tardies,
            "tardies_over_30": over,
            "truancy_occasions": occasions,
            "current_absence_streak": run,
            "longest_absence_streak": longest,
            "recent_absence_rate": recent_rate,
            "absence_trend": recent_rate - rate,
            "school_days": tuple(enrolled),
            "events": events,
            "causes": causes,
            "calendars": sorted({self.calendar_of(s) for s in spans}),
        }
        facts.update(zip(WEEKDAY_FACTS, weekday[:5], strict=True))
        return facts

    def accepted_events(self) -> list[AttendanceEvent]:
        """Every event still standing (present marks as present records), by student and day."""
        out = []
        for (sid, day), got in sorted(self.accepted_on.items()):
            out.extend(got.events)
            if got.present_mark:
                span = self.span_on(sid, day)
                assert span is not None
                out.append(AttendanceEvent(sid, span.school_id, day, "present", source="mark"))
        return out


# --- helpers -----------------------------------------------------------------------------------


def build(
    scenario: Scenario,
    events: list[AttendanceEvent] | None = None,
    years: SchoolYears | None = None,
) -> FactsBuilder:
    builder = FactsBuilder(scenario.calendars, policy=scenario.policy, school_years=years)
    builder.add_enrollments(scenario.enrollments)
    builder.add_events(scenario.events if events is None else events)
    return builder


def reference(scenario: Scenario, events: list[AttendanceEvent] | None = None) -> Reference:
    ref = Reference(scenario.plans, scenario.policy)
    for span in scenario.enrollments:
        ref.add_enrollment(span)
    for event in scenario.events if events is None else events:
        ref.add_event(event)
    return ref


def assert_agree(got: dict[str, Any] | None, want: dict[str, Any] | None) -> None:
    if want is None:
        assert got is None
        return
    assert got is not None
    for key, value in want.items():
        if key == "events":
            assert got["provenance"]["events"] == value
        elif key == "calendars":
            assert got["provenance"]["calendars"] == value
        elif key == "causes":
            assert set(got["causes"]) == set(value)
            counts = [value[c] for c in got["causes"]]
            assert counts == sorted(counts, reverse=True), "causes: most frequent first"
        elif isinstance(value, float):
            assert got[key] == pytest.approx(value, abs=1e-9), key
        else:
            assert got.get(key) == value, key  # grade is left out when not known
    log = got["attendance_log"]
    for kind, fact in (
        ("excused", "days_excused"),
        ("unexcused", "days_unexcused"),
        ("suspension", "days_suspended"),
    ):
        assert sum(r["days"] for r in log if r["kind"] == kind) == pytest.approx(got[fact])
    # One row per date per kind, and a date is at most one truancy occasion in the log: a long
    # tardy row only where no unexcused row already stands for that date.
    rows = Counter((r["date"], r["kind"]) for r in log)
    assert max(rows.values(), default=1) == 1
    unexcused_dates = {r["date"] for r in log if r["kind"] == "unexcused"}
    over_dates = {r["date"] for r in log if r["kind"] == "tardy_over_30"}
    assert not unexcused_dates & over_dates
    assert len(over_dates) <= got["tardies_over_30"] + EPS
    assert got["days_unexcused"] + got["tardies_over_30"] >= got["truancy_occasions"] - EPS
    assert (
        len({r["date"] for r in log if r["kind"] in ("tardy", "tardy_over_30")}) >= got["tardies"]
    )


def rejects_of(builder: FactsBuilder) -> Counter[tuple[str, str | None, str | None]]:
    return Counter((r.code, r.student_id, r.source) for r in builder.report.rejects)


# --- calendars ---------------------------------------------------------------------------------


@SETTINGS
@given(calendar_plans())
def test_from_pattern_gives_the_naive_days(plan: CalendarPlan) -> None:
    cal = plan.build()
    assert list(cal.days) == naive_days(plan)
    assert (cal.first_day, cal.last_day) == (cal.days[0], cal.days[-1])
    for day in cal.days:
        assert day in cal
        assert cal.fraction(day) == plan.shortened.get(day, 1.0)
    outside = plan.first - dt.timedelta(days=1)
    assert outside not in cal and cal.fraction(outside) == 0.0


@SETTINGS
@given(calendar_plans(), st.data())
def test_calendar_queries_agree_with_filtering_the_days(
    plan: CalendarPlan, data: st.DataObject
) -> None:
    cal = plan.build()
    days = naive_days(plan)
    around = st.dates(plan.first - dt.timedelta(days=10), days[-1] + dt.timedelta(days=10))
    start, end, as_of = data.draw(around), data.draw(around), data.draw(around)
    n = data.draw(st.integers(-2, 250))
    between = [d for d in days if start <= d <= end]
    assert cal.count(start, end) == len(between)
    assert list(cal.days_between(start, end)) == between
    up_to = [d for d in days if d <= as_of]
    window = up_to[-max(n, 1) :] or days[:1]
    assert cal.window_start(as_of, n) == window[0]
    assert cal.last_day_up_to(as_of) == (up_to[-1] if up_to else None)


def test_make_up_days_inside_breaks_and_on_holidays_are_instructional() -> None:
    cal = SchoolCalendar.from_pattern(
        "a",
        dt.date(2025, 9, 1),
        dt.date(2025, 9, 30),
        holidays=[dt.date(2025, 9, 15)],
        breaks=[(dt.date(2025, 9, 8), dt.date(2025, 9, 12))],
        makeup_days=[dt.date(2025, 9, 10), dt.date(2025, 9, 15), dt.date(2025, 9, 13)],
    )
    assert dt.date(2025, 9, 9) not in cal  # the break still holds
    assert dt.date(2025, 9, 10) in cal  # a snow day made up during the break
    assert dt.date(2025, 9, 15) in cal  # a holiday given back
    assert dt.date(2025, 9, 13) in cal  # a Saturday
    assert len(cal) == 22 - 5 - 1 + 3


# --- facts against the reference ---------------------------------------------------------------


@pytest.mark.slow
@SETTINGS
@given(scenarios())
def test_ingest_and_facts_agree_with_the_naive_reference(scenario: Scenario) -> None:
    builder = build(scenario)
    ref = reference(scenario)
    report = builder.report
    assert report.read == report.accepted + report.rejected
    assert (report.read, report.accepted) == (ref.read, ref.accepted)
    assert rejects_of(builder) == Counter(ref.rejects)
    for sid in scenario.students:
        assert_agree(builder.facts_for(sid, scenario.as_of), ref.facts(sid, scenario.as_of))
    everyone = list(builder.facts(scenario.as_of))
    assert [f["student_id"] for f in everyone] == sorted(
        sid for sid in scenario.students if ref.facts(sid, scenario.as_of) is not None
    )


@pytest.mark.slow
@SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_facts_do_not_depend_on_the_order_accepted_events_arrive_in(
    scenario: Scenario, rng: random.Random
) -> None:
    standing = reference(scenario).accepted_events()
    shuffled = list(standing)
    rng.shuffle(shuffled)
    first, second = build(scenario, standing), build(scenario, shuffled)
    for b in (first, second):  # what stood once stands in any order
        assert not [r for r in b.report.rejects if r.code.startswith("event.")]
    for sid in scenario.students:
        assert first.facts_for(sid, scenario.as_of) == second.facts_for(sid, scenario.as_of)


# --- invariants --------------------------------------------------------------------------------


@pytest.mark.slow
@SETTINGS
@given(scenarios(), st.data())
def test_back_testing_ignores_events_after_the_as_of_date(
    scenario: Scenario, data: st.DataObject
) -> None:
    before = build(scenario)
    later_days = [d for c in scenario.calendars.values() for d in c.days if d > scenario.as_of] + [
        scenario.as_of + dt.timedelta(days=1)
    ]
    extra = [
        AttendanceEvent(
            data.draw(st.sampled_from(scenario.students)),
            data.draw(st.sampled_from(("a", "b"))),
            data.draw(st.sampled_from(later_days)),
            data.draw(st.sampled_from(("unexcused_absence", "tardy", "partial", "suspension_out"))),
            minutes=data.draw(st.sampled_from((None, 45.0, 180.0))),
            reason="sick",
            source=f"late:{i}",
        )
        for i in range(data.draw(st.integers(1, 8)))
    ]
    after = build(scenario, [*scenario.events, *extra])
    assert after.report.read == before.report.read + len(extra)
    for sid in scenario.students:
        assert after.facts_for(sid, scenario.as_of) == before.facts_for(sid, scenario.as_of)


@pytest.mark.slow
@SETTINGS
@given(scenarios(), st.data())
def test_a_back_dated_correction_changes_exactly_the_expected_counts(
    scenario: Scenario, data: st.DataObject
) -> None:
    ref = reference(scenario)
    # The wrong record: an unexcused absence alone on its day, on or before the as-of date;
    # one already there, or one added on a day without events.
    alone = [
        e
        for e in ref.accepted_events()
        if e.category == "unexcused_absence"
        and e.date <= scenario.as_of
        and len(ref.accepted_on[(e.student_id, e.date)].events) == 1
        and not ref.accepted_on[(e.student_id, e.date)].present_mark
    ]
    free = [
        (sid, day)
        for sid in scenario.students
        for day in (ref.facts(sid, scenario.as_of) or {"school_days": ()})["school_days"]
        if (sid, day) not in ref.accepted_on
    ]
    if not alone or (bool(free) and data.draw(st.booleans())):
        assume(free)
        sid, day = data.draw(st.sampled_from(free))
        span = ref.span_on(sid, day)
        assert span is not None
        duration = data.draw(st.sampled_from((None, 0.25, 0.5, 0.75)))
        ref.add_event(AttendanceEvent(sid, span.school_id, day, "unexcused_absence", duration))
        alone = [e for e in ref.accepted_events() if (e.student_id, e.date) == (sid, day)]
    standing = ref.accepted_events()
    wrong = data.draw(st.sampled_from(alone))
    right = replace(wrong, category="excused_absence", reason="doctor note", source="fix:1")
    corrected = [right if e is wrong else e for e in standing]
    old = build(scenario, standing).facts_for(wrong.student_id, scenario.as_of)
    new = build(scenario, corrected).facts_for(wrong.student_id, scenario.as_of)
    assert old is not None and new is not None
    p = scenario.policy
    span = ref.span_on(wrong.student_id, wrong.date)
    assert span is not None
    part = whole = ref.fraction(wrong, ref.calendar_of(span))
    if p.absent_day_threshold is not None:
        part = 1.0 if part > 0 and part >= p.absent_day_threshold - EPS else 0.0
    # EC 48260: the day was an occasion when the absence was a full day or longer than the
    # policy's minutes; excused, it is none, and tardies_over_30 loses what it held of it.
    length = p.minutes_per_day * scenario.plans[ref.calendar_of(span)].shortened.get(
        wrong.date, 1.0
    )
    if wrong.minutes is not None:
        minutes = wrong.minutes
    else:
        minutes = length if wrong.duration is None else wrong.duration * length
    was = whole >= 1 or minutes > p.truancy_tardy_minutes
    changed = {"days_unexcused", "days_excused", "attendance_log", "provenance", "causes"}
    changed |= {"truancy_occasions", "tardies_over_30"}
    assert {k: v for k, v in new.items() if k not in changed} == {
        k: v for k, v in old.items() if k not in changed
    }
    assert new["truancy_occasions"] == old["truancy_occasions"] - was
    assert new["tardies_over_30"] == pytest.approx(old["tardies_over_30"] - was * (1.0 - part))
    assert new["days_unexcused"] == pytest.approx(old["days_unexcused"] - part)
    assert new["days_excused"] == pytest.approx(old["days_excused"] + part)
    assert new["provenance"]["events"] == old["provenance"]["events"]
    assert new["provenance"]["events_sha256"] != old["provenance"]["events_sha256"]
    assert "health" in new["causes"]


@pytest.mark.slow
@SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_a_day_never_loses_more_than_a_day_whatever_the_arrival_order(
    scenario: Scenario, rng: random.Random
) -> None:
    # Every event read (duplicates, conflicts and bad ones included), in a shuffled order: the
    # conflict rules keep each day's absences within one day and the counts adding up.
    events = list(scenario.events)
    rng.shuffle(events)
    builder = build(scenario, events)
    report = builder.report
    assert (
        report.read == report.accepted + report.rejected == len(scenario.enrollments) + len(events)
    )
    for facts in builder.facts(scenario.as_of):
        per_day: Counter[dt.date] = Counter()
        for r in facts["attendance_log"]:
            per_day[r["date"]] += r["days"]
        assert all(total <= 1.0 + EPS for total in per_day.values())
        assert facts["days_absent"] <= facts["days_enrolled"] + EPS


@functools.cache
def _windows(n: int) -> tierflow.CompiledRuleset:
    return tierflow.parse_ruleset(
        f"""
id: windows
name: Windows
version: "1"
metrics:
  - id: recent_unexcused
    expr: recent_days('unexcused', {n})
  - id: recent_absences
    expr: recent_count('absence', {n})
  - id: this_month
    expr: month_days('absence')
tiers:
  - id: t2
    level: 2
    when: recent_unexcused > 0 or recent_absences > 0 or this_month > 0
  - id: t1
    level: 1
    default: true
""",
        name="windows.yaml",
    )


@FEWER
@given(scenarios(), st.integers(1, 60))
def test_school_day_windows_of_rules_agree_with_filtering_the_log(
    scenario: Scenario, n: int
) -> None:
    # The window functions a rule calls, on the facts the builder made: the last n school days
    # the student was enrolled (not calendar days), and the calendar month of the as-of date.
    ruleset = _windows(n)
    absences = ("excused", "unexcused", "suspension")
    for facts in build(scenario).facts(scenario.as_of):
        days = set(facts["school_days"][-n:])
        log = facts["attendance_log"]
        month = (scenario.as_of.year, scenario.as_of.month)
        env, _ = environment(ruleset, facts, scenario.as_of)
        assert env["recent_unexcused"] == pytest.approx(
            sum(r["days"] for r in log if r["kind"] == "unexcused" and r["date"] in days)
        )
        assert env["recent_absences"] == sum(
            1 for r in log if r["kind"] in absences and r["date"] in days
        )
        assert env["this_month"] == pytest.approx(
            sum(
                r["days"]
                for r in log
                if r["kind"] in absences and (r["date"].year, r["date"].month) == month
            )
        )


def test_a_back_dated_correction_changes_what_a_rule_set_decides() -> None:
    # The example behind the property above: three unexcused absences made a first truancy
    # letter due under ca; one re-coded as excused, the letter is no longer due, and the
    # provenance says the events changed (the workflow records a correction).
    cal = SchoolCalendar.from_pattern("a", dt.date(2025, 9, 1), dt.date(2025, 9, 30))
    days = [dt.date(2025, 9, d) for d in (2, 3, 4)]

    def facts(categories: list[str]) -> dict[str, Any]:
        b = FactsBuilder({"a": cal})
        b.add_enrollment(Enrollment("s1", "a", dt.date(2025, 9, 1)))
        for day, category in zip(days, categories, strict=True):
            b.add_event(AttendanceEvent("s1", "a", day, category))
        result = b.facts_for("s1", dt.date(2025, 9, 30))
        assert result is not None
        return result

    original = facts(["unexcused_absence"] * 3)
    corrected = facts(["unexcused_absence", "excused_absence", "unexcused_absence"])
    assert (original["days_unexcused"], original["days_excused"]) == (3.0, 0.0)
    assert (corrected["days_unexcused"], corrected["days_excused"]) == (2.0, 1.0)
    assert original["days_absent"] == corrected["days_absent"] == 3.0
    assert original["provenance"]["events_sha256"] != corrected["provenance"]["events_sha256"]
    ca = tierflow.load_ruleset("ca")
    assert ca.evaluate(original, as_of=dt.date(2025, 9, 30)).legal_due == ("not1",)
    assert ca.evaluate(corrected, as_of=dt.date(2025, 9, 30)).legal_due == ()


# --- each policy option does what its docstring says -------------------------------------------


def _with(scenario: Scenario, **changes: Any) -> Scenario:
    return replace(scenario, policy=scenario.policy.model_copy(update=changes))


def _all_facts(scenario: Scenario) -> dict[str, dict[str, Any]]:
    return {f["student_id"]: f for f in build(scenario).facts(scenario.as_of)}


@FEWER
@given(scenarios())
def test_suspensions_count_as_absence_moves_exactly_the_suspended_days(scenario: Scenario) -> None:
    counted = _all_facts(_with(scenario, suspensions_count_as_absence=True))
    not_counted = _all_facts(_with(scenario, suspensions_count_as_absence=False))
    for sid, yes in counted.items():
        no = not_counted[sid]
        assert no["days_suspended"] == yes["days_suspended"]
        assert no["days_absent"] == pytest.approx(yes["days_absent"] - yes["days_suspended"])
        assert no["days_present"] == pytest.approx(
            min(yes["days_enrolled"], yes["days_present"] + yes["days_suspended"])
        )
        assert no["recent_absence_rate"] <= yes["recent_absence_rate"] + EPS


@FEWER
@given(scenarios())
def test_a_higher_tardy_limit_never_finds_more_long_tardies(scenario: Scenario) -> None:
    low = _all_facts(_with(scenario, truancy_tardy_minutes=15))
    high = _all_facts(_with(scenario, truancy_tardy_minutes=60))
    for sid, f in low.items():
        assert high[sid]["tardies_over_30"] <= f["tardies_over_30"]
        assert high[sid]["tardies"] == f["tardies"]


@FEWER
@given(scenarios())
def test_partial_absence_decides_only_how_partial_days_are_coded(scenario: Scenario) -> None:
    scenario = _with(scenario, absent_day_threshold=None)
    excused = _all_facts(_with(scenario, partial_absence="excused"))
    unexcused = _all_facts(_with(scenario, partial_absence="unexcused"))
    for sid, e in excused.items():
        u = unexcused[sid]
        assert u["days_absent"] == pytest.approx(e["days_absent"])
        assert u["days_excused"] + u["days_unexcused"] == pytest.approx(
            e["days_excused"] + e["days_unexcused"]
        )
        assert u["days_unexcused"] >= e["days_unexcused"] - EPS


@FEWER
@given(scenarios())
def test_thresholds_are_monotone(scenario: Scenario) -> None:
    loose = _all_facts(_with(scenario, absent_day_threshold=0.5, streak_threshold=0.25))
    strict = _all_facts(_with(scenario, absent_day_threshold=1.0, streak_threshold=1.0))
    for sid, f in loose.items():
        assert strict[sid]["days_absent"] <= f["days_absent"]
        assert strict[sid]["longest_absence_streak"] <= f["longest_absence_streak"]
        assert strict[sid]["current_absence_streak"] <= f["current_absence_streak"]
        assert float(f["days_absent"]).is_integer()


@pytest.fixture
def september() -> SchoolCalendar:
    # 22 weekdays; 2025-09-01 is a Monday.
    return SchoolCalendar.from_pattern(
        "a", dt.date(2025, 9, 1), dt.date(2025, 9, 30), shortened={dt.date(2025, 9, 5): 0.5}
    )


def _facts(cal: SchoolCalendar, events: list[AttendanceEvent], **policy: Any) -> dict[str, Any]:
    builder = FactsBuilder({"a": cal}, policy=AttendancePolicy(**policy))
    builder.add_enrollment(Enrollment("s1", "a", cal.first_day))
    for event in events:
        assert builder.add_event(event), builder.report.rejects
    facts = builder.facts_for("s1", cal.last_day)
    assert facts is not None
    return facts


def _ev(day: int, category: str, **kw: Any) -> AttendanceEvent:
    return AttendanceEvent("s1", "a", dt.date(2025, 9, day), category, **kw)


def test_absent_day_threshold_none_counts_fractions_a_number_whole_days(
    september: SchoolCalendar,
) -> None:
    events = [_ev(2, "partial", duration=0.25), _ev(3, "partial", duration=0.5)]
    assert _facts(september, events)["days_absent"] == 0.75
    assert _facts(september, events, absent_day_threshold=0.5)["days_absent"] == 1.0
    assert _facts(september, events, absent_day_threshold=0.2)["days_absent"] == 2.0
    assert _facts(september, events, absent_day_threshold=0.75)["days_absent"] == 0.0


def test_streak_threshold_is_the_fraction_missed_that_extends_a_streak(
    september: SchoolCalendar,
) -> None:
    events = [_ev(d, "partial", duration=0.5) for d in (26, 29, 30)]  # Fri, Mon, Tue
    assert _facts(september, events)["current_absence_streak"] == 3
    assert _facts(september, events, streak_threshold=0.75)["longest_absence_streak"] == 0


def test_suspensions_count_as_absence(september: SchoolCalendar) -> None:
    events = [_ev(2, "suspension_out"), _ev(3, "suspension_in")]
    yes = _facts(september, events)
    no = _facts(september, events, suspensions_count_as_absence=False)
    assert (yes["days_absent"], yes["days_suspended"], yes["days_present"]) == (1.0, 1.0, 21.0)
    assert (no["days_absent"], no["days_suspended"], no["days_present"]) == (0.0, 1.0, 22.0)


def test_truancy_tardy_minutes_counts_unexcused_tardies_and_departures_longer_than_it(
    september: SchoolCalendar,
) -> None:
    events = [
        _ev(2, "tardy", minutes=45.0),  # no excuse given: unexcused
        _ev(3, "early_departure", minutes=45.0, reason="Unexcused"),
        _ev(4, "early_departure", minutes=45.0),  # partial_absence: excused by default
    ]
    facts = _facts(september, events)
    # Two occasions: the late arrival (no absence time: a whole one in tardies_over_30) and the
    # unexcused departure (45 of 360 minutes: 0.125 in days_unexcused, the other 0.875 in
    # tardies_over_30); the excused departure is none.
    assert (facts["truancy_occasions"], facts["tardies_over_30"]) == (2, 1.875)
    assert (facts["days_unexcused"], facts["days_excused"], facts["tardies"]) == (0.125, 0.125, 1)
    longer = _facts(september, events, truancy_tardy_minutes=45)
    assert (longer["truancy_occasions"], longer["tardies_over_30"]) == (0, 0)


def test_minutes_per_day_turns_minutes_into_a_fraction_of_the_day(
    september: SchoolCalendar,
) -> None:
    events = [_ev(2, "partial", minutes=90.0), _ev(5, "partial", minutes=90.0)]  # 5th: half day
    assert _facts(september, events)["days_absent"] == 0.25 + 0.5
    assert _facts(september, events, minutes_per_day=180)["days_absent"] == 0.5 + 1.0


def test_partial_absence_codes_partials_without_an_excused_or_unexcused_reason(
    september: SchoolCalendar,
) -> None:
    events = [
        _ev(2, "partial", duration=0.5),
        _ev(3, "partial", duration=0.5, reason="missed the bus"),
        _ev(4, "partial", duration=0.5, reason="Unexcused"),
        _ev(8, "early_departure", duration=0.25, reason="Excused"),
    ]
    e = _facts(september, events)
    u = _facts(september, events, partial_absence="unexcused")
    assert (e["days_excused"], e["days_unexcused"]) == (1.25, 0.5)
    assert (u["days_excused"], u["days_unexcused"]) == (0.25, 1.5)


def test_recent_days_is_the_window_of_the_recent_rate(september: SchoolCalendar) -> None:
    events = [_ev(d, "unexcused_absence") for d in (26, 29, 30)]
    assert _facts(september, events, recent_days=5)["recent_absence_rate"] == 3 / 5
    assert _facts(september, events, recent_days=20)["recent_absence_rate"] == 3 / 20
    assert _facts(september, events, recent_days=200)["recent_absence_rate"] == 3 / 22
    assert _facts(september, events, recent_days=1)["recent_absence_rate"] == 1.0


def test_unrecorded_day_means_present(september: SchoolCalendar) -> None:
    facts = _facts(september, [])
    assert (facts["days_present"], facts["days_absent"]) == (22.0, 0.0)
    with pytest.raises(ValueError, match="unrecorded_day"):
        AttendancePolicy(unrecorded_day="absent")  # type: ignore[arg-type]


# --- every reject code names the student and the source ----------------------------------------


@pytest.fixture
def builder(september: SchoolCalendar) -> FactsBuilder:
    b = FactsBuilder({"a": september})
    assert b.add_enrollment(Enrollment("s1", "a", dt.date(2025, 9, 1), dt.date(2025, 9, 19)))
    return b


def _only_reject(b: FactsBuilder) -> DataError:
    assert b.report.read == b.report.accepted + b.report.rejected
    assert b.report.rejected == 1
    return b.report.rejects[0]


@pytest.mark.parametrize(
    ("event", "code"),
    [
        (_ev(2, "walkabout"), "event.unknown_category"),
        (_ev(2, "partial", duration=-0.5), "event.invalid_duration"),
        (_ev(2, "partial", duration=1.5), "event.invalid_duration"),
        (_ev(2, "partial", minutes=-1.0), "event.invalid_duration"),
        (_ev(2, "partial", minutes=float("nan")), "event.invalid_duration"),
        (_ev(22, "tardy"), "event.not_enrolled"),  # after the exit
        (replace(_ev(2, "tardy"), school_id="b"), "event.not_enrolled"),  # another school
        (replace(_ev(2, "tardy"), student_id="s9"), "event.not_enrolled"),  # unknown student
        (_ev(6, "tardy"), "event.not_instructional"),  # a Saturday
    ],
)
def test_a_rejected_event_names_its_code_student_and_source(
    builder: FactsBuilder, event: AttendanceEvent, code: str
) -> None:
    assert not builder.add_event(replace(event, source="events.csv:7"))
    error = _only_reject(builder)
    assert (error.code, error.student_id, error.source) == (code, event.student_id, "events.csv:7")
    assert str(error).startswith(f"events.csv:7, student {event.student_id}: {code}: ")


def test_a_duplicate_event_is_rejected_naming_the_first(builder: FactsBuilder) -> None:
    assert builder.add_event(_ev(2, "tardy", minutes=10.0, source="events.csv:2"))
    assert not builder.add_event(_ev(2, "tardy", minutes=10.0, reason="x", source="events.csv:3"))
    error = _only_reject(builder)
    assert (error.code, error.student_id, error.source) == ("event.duplicate", "s1", "events.csv:3")
    assert "first at events.csv:2" in str(error)


def test_a_duplicate_present_record_is_rejected(builder: FactsBuilder) -> None:
    assert builder.add_event(_ev(2, "present", source="p:1"))
    assert not builder.add_event(_ev(2, "In Attendance", source="p:2"))
    error = _only_reject(builder)
    assert (error.code, error.student_id, error.source) == ("event.duplicate", "s1", "p:2")


def test_an_event_beside_a_full_day_absence_is_a_conflict(builder: FactsBuilder) -> None:
    assert builder.add_event(_ev(2, "excused_absence", source="e:1"))
    assert not builder.add_event(_ev(2, "tardy", source="e:2"))
    error = _only_reject(builder)
    assert (error.code, error.student_id, error.source) == ("event.conflict", "s1", "e:2")
    assert "(at e:1)" in str(error)


def test_a_full_day_absence_arriving_last_displaces_the_others(builder: FactsBuilder) -> None:
    assert builder.add_event(_ev(2, "tardy", source="e:1"))
    assert builder.add_event(_ev(2, "partial", duration=0.5, source="e:2"))
    assert builder.add_event(_ev(2, "present", source="e:3"))
    assert builder.add_event(_ev(2, "unexcused_absence", source="e:4"))
    report = builder.report
    assert (report.read, report.accepted, report.rejected) == (5, 2, 3)
    assert [(r.code, r.student_id, r.source) for r in report.rejects] == [
        ("event.conflict", "s1", "present record of 2025-09-02"),
        ("event.conflict", "s1", "e:1"),
        ("event.conflict", "s1", "e:2"),
    ]
    facts = builder.facts_for("s1", dt.date(2025, 9, 2))
    assert facts is not None
    assert (facts["days_unexcused"], facts["tardies"], facts["provenance"]["events"]) == (1.0, 0, 1)


def test_partials_past_a_full_day_are_a_conflict(builder: FactsBuilder) -> None:
    assert builder.add_event(_ev(2, "partial", duration=0.75, source="e:1"))
    assert not builder.add_event(_ev(2, "partial", minutes=180.0, source="e:2"))
    error = _only_reject(builder)
    assert (error.code, error.student_id, error.source) == ("event.conflict", "s1", "e:2")


@pytest.mark.parametrize(
    ("span", "code"),
    [
        (
            Enrollment("s2", "nowhere", dt.date(2025, 9, 1), source="en:4"),
            "enrollment.unknown_calendar",
        ),
        (
            Enrollment("s2", "a", dt.date(2025, 9, 1), calendar_id="nope", source="en:4"),
            "enrollment.unknown_calendar",
        ),
        (
            Enrollment("s2", "a", dt.date(2025, 9, 10), dt.date(2025, 9, 9), source="en:4"),
            "enrollment.invalid",
        ),
        (Enrollment("s1", "a", dt.date(2025, 9, 19), source="en:4"), "enrollment.overlap"),
    ],
)
def test_a_rejected_enrollment_names_its_code_student_and_source(
    builder: FactsBuilder, span: Enrollment, code: str
) -> None:
    assert not builder.add_enrollment(span)
    error = _only_reject(builder)
    assert (error.code, error.student_id, error.source) == (code, span.student_id, "en:4")


def test_an_empty_calendar_is_rejected() -> None:
    with pytest.raises(DataError) as caught:
        SchoolCalendar("empty", [])
    assert caught.value.code == "calendar.empty"
    with pytest.raises(DataError) as caught:
        SchoolCalendar.from_pattern(
            "all-off",
            dt.date(2025, 9, 6),
            dt.date(2025, 9, 7),  # a weekend
        )
    assert caught.value.code == "calendar.empty"


@pytest.mark.parametrize(
    "make",
    [
        lambda: SchoolCalendar.from_pattern("x", dt.date(2025, 9, 2), dt.date(2025, 9, 1)),
        lambda: SchoolCalendar.from_pattern(
            "x", dt.date(2025, 9, 1), dt.date(2025, 9, 5), weekdays=["SA"]
        ),
        lambda: SchoolCalendar("x", [dt.date(2025, 9, 1)], {dt.date(2025, 9, 2): 0.5}),
        lambda: SchoolCalendar("x", [dt.date(2025, 9, 1)], {dt.date(2025, 9, 1): 0.0}),
        lambda: SchoolCalendar("x", [dt.date(2025, 9, 1)], {dt.date(2025, 9, 1): 1.5}),
    ],
)
def test_an_invalid_calendar_is_rejected(make: Any) -> None:
    with pytest.raises(DataError) as caught:
        make()
    assert caught.value.code == "calendar.invalid"
    assert "'x'" in str(caught.value)


def test_assume_full_year_enrolls_a_student_without_records_and_says_so(
    september: SchoolCalendar,
) -> None:
    b = FactsBuilder({"a": september}, assume_full_year=True)
    assert b.add_event(_ev(3, "unexcused_absence", source="e:1"))
    assert not b.add_event(replace(_ev(4, "tardy", source="e:2"), school_id="b"))
    assert [(r.code, r.student_id, r.source) for r in b.report.rejects] == [
        ("event.not_enrolled", "s1", "e:2")
    ]
    assert len(b.report.assumptions) == 1
    facts = b.facts_for("s1", dt.date(2025, 9, 30))
    assert facts is not None
    assert (facts["days_enrolled"], facts["days_absent"]) == (22, 1.0)
    assert facts["provenance"]["assumed_enrollment"] is True
    strict = FactsBuilder({"a": september})
    assert not strict.add_event(_ev(3, "unexcused_absence", source="e:1"))
    assert strict.report.rejects[0].code == "event.not_enrolled"


def test_assume_full_year_rejects_an_event_at_a_school_without_a_calendar(
    september: SchoolCalendar,
) -> None:
    # The student's first event names a school with no calendar: there is nothing to enrol them
    # in, so the event is rejected (it used to raise KeyError); a later event at a known school
    # still enrols them.
    b = FactsBuilder({"a": september}, assume_full_year=True)
    assert not b.add_event(replace(_ev(3, "tardy", source="e:1"), school_id="typo"))
    error = _only_reject(b)
    assert (error.code, error.student_id, error.source) == ("event.not_enrolled", "s1", "e:1")
    assert "no calendar for school 'typo'" in str(error)
    assert b.facts_for("s1", dt.date(2025, 9, 30)) is None
    assert b.add_event(_ev(4, "unexcused_absence", source="e:2"))
    facts = b.facts_for("s1", dt.date(2025, 9, 30))
    assert facts is not None
    assert (facts["days_enrolled"], facts["days_absent"]) == (22, 1.0)


# --- truancy occasions (California EC 48260) ---------------------------------------------------

_MAY_BE_UNEXCUSED = {"unexcused_absence", "tardy", "partial", "early_departure"}
_COUNTS = ("truancy_occasions", "tardies_over_30", "days_unexcused", "tardies")


def _truancy(facts: dict[str, Any]) -> tuple[float, float]:
    """The occasions, and the sum ca.yaml reads (``days_unexcused + tardies_over_30``)."""
    return facts["truancy_occasions"], facts["days_unexcused"] + facts["tardies_over_30"]


@pytest.mark.slow
@SETTINGS
@given(scenarios())
def test_a_day_is_at_most_one_truancy_occasion(scenario: Scenario) -> None:
    for sid, facts in _all_facts(scenario).items():
        dates = {
            e.date
            for e in scenario.events
            if e.student_id == sid
            and e.date <= scenario.as_of
            and CATEGORY_SPELLINGS.get(e.category) in _MAY_BE_UNEXCUSED
        }
        assert facts["truancy_occasions"] <= len(dates)
        assert facts["tardies_over_30"] <= facts["truancy_occasions"] + EPS
        log = facts["attendance_log"]
        truancy_dates = [r["date"] for r in log if r["kind"] in ("unexcused", "tardy_over_30")]
        assert len(truancy_dates) == len(set(truancy_dates)) <= len(dates)


def _excused(event: AttendanceEvent) -> AttendanceEvent:
    if CATEGORY_SPELLINGS.get(event.category) == "unexcused_absence":
        return replace(event, category="excused_absence")
    return replace(event, reason="excused")


@pytest.mark.slow
@SETTINGS
@given(scenarios(), st.data())
def test_excused_time_never_counts_toward_truancy(scenario: Scenario, data: st.DataObject) -> None:
    assume(scenario.events)
    which = data.draw(st.sets(st.integers(0, len(scenario.events) - 1), min_size=1))
    excused = [_excused(e) if i in which else e for i, e in enumerate(scenario.events)]
    before = _all_facts(scenario)
    after = {f["student_id"]: f for f in build(scenario, excused).facts(scenario.as_of)}
    assert after.keys() == before.keys()
    for sid, was in before.items():
        now = after[sid]
        assert now["truancy_occasions"] <= was["truancy_occasions"]
        assert _truancy(now)[1] <= _truancy(was)[1] + EPS
    everything = [_excused(e) for e in scenario.events]
    for facts in build(scenario, everything).facts(scenario.as_of):
        assert _truancy(facts) == (0, 0.0)


@pytest.mark.slow
@SETTINGS
@given(scenarios(), st.data())
def test_a_duplicated_event_row_changes_no_count(scenario: Scenario, data: st.DataObject) -> None:
    assume(scenario.events)
    i = data.draw(st.integers(0, len(scenario.events) - 1))
    at = data.draw(st.integers(i + 1, len(scenario.events)))
    events = list(scenario.events)
    events.insert(at, replace(events[i], source="copy"))  # the same row, read again
    before = _all_facts(scenario)
    after = {f["student_id"]: f for f in build(scenario, events).facts(scenario.as_of)}
    assert after.keys() == before.keys()
    for sid, was in before.items():
        assert {k: after[sid][k] for k in _COUNTS} == {k: was[k] for k in _COUNTS}
        assert after[sid]["attendance_log"] == was["attendance_log"]


# --- school years ------------------------------------------------------------------------------

_PRIOR = ("prior_year_days_enrolled", "prior_year_days_absent", "prior_year_days_unexcused")


def _boundary(scenario: Scenario, data: st.DataObject) -> SchoolYears:
    """School years that start on one of the scenario's school days, so that a year boundary
    falls among its events (the scenarios span less than a year: two school years)."""
    days = sorted({d for c in scenario.calendars.values() for d in c.days})
    start = data.draw(st.sampled_from(days))
    return SchoolYears(f"{start.month:02d}-{start.day:02d}")


def _this_year(facts: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if facts is None else {k: v for k, v in facts.items() if k not in _PRIOR}


def _last_year(facts: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if facts is None else {k: facts[k] for k in _PRIOR}


def _as_of_dates(scenario: Scenario, years: SchoolYears, *more: dt.date) -> set[dt.date]:
    lo, hi = scenario.span
    start = years.of(hi).start
    return {scenario.as_of, lo, hi, start, start - dt.timedelta(days=1), *more}


@SETTINGS
@given(scenarios(), st.data())
def test_no_count_of_the_year_includes_an_event_dated_before_it(
    scenario: Scenario, data: st.DataObject
) -> None:
    years = _boundary(scenario, data)
    full = build(scenario, years=years)
    for as_of in _as_of_dates(scenario, years):
        year = years.of(as_of)
        # Whether an event stands depends on its own day only (the conflict rules are per day),
        # so dropping the days before the year changes no event of the year.
        cut = build(scenario, [e for e in scenario.events if e.date >= year.start], years=years)
        for sid in scenario.students:
            got = full.facts_for(sid, as_of)
            assert _this_year(got) == _this_year(cut.facts_for(sid, as_of))
            if got is None:
                continue
            assert got["school_year"] == year.label
            assert all(year.start <= r["date"] <= as_of for r in got["attendance_log"])
            assert all(year.start <= d <= as_of for d in got["school_days"])
            # Last year is counted as this year is: as its last day's facts count it.
            before = full.facts_for(sid, years.previous(year).end)
            if before is None:
                assert _last_year(got) == dict.fromkeys(_PRIOR, 0)
            else:
                assert _last_year(got) == {p: before[p.removeprefix("prior_year_")] for p in _PRIOR}


@pytest.mark.slow
@SETTINGS
@given(scenarios(), st.data())
def test_moving_an_event_across_the_year_boundary_changes_only_the_year_it_lands_in(
    scenario: Scenario, data: st.DataObject
) -> None:
    ref = reference(scenario)
    standing = ref.accepted_events()
    # An event alone on its day (so that nothing else stands or falls with it), and a school
    # day on which the student is enrolled at its school, with no event: there it stands alone
    # too. The year boundary is then drawn between the two days (the scenarios span less than a
    # year), so the event always crosses it: no input is drawn only to be thrown away.
    alone = [
        e
        for e in standing
        if e.category != "present"
        and len(ref.accepted_on[(e.student_id, e.date)].events) == 1
        and not ref.accepted_on[(e.student_id, e.date)].present_mark
    ]
    assume(alone)
    moved = data.draw(st.sampled_from(alone))
    sid, day = moved.student_id, moved.date
    targets = []
    for cal_id, cal in sorted(scenario.calendars.items()):
        for other in cal.days:
            span = ref.span_on(sid, other)
            if (
                span is not None
                and ref.calendar_of(span) == cal_id
                and span.school_id == moved.school_id
                and other != day
                and (sid, other) not in ref.accepted_on
            ):
                targets.append(other)
    assume(targets)
    landed = data.draw(st.sampled_from(targets))
    low, high = sorted((day, landed))
    starts = [
        d
        for d in sorted({d for c in scenario.calendars.values() for d in c.days} | {high})
        if low < d <= high and (d.month, d.day) != (2, 29)
    ]
    assume(starts)
    start = data.draw(st.sampled_from(starts))
    years = SchoolYears(f"{start.month:02d}-{start.day:02d}")
    assert years.of(landed) != years.of(day)
    rest = [e for e in standing if e is not moved]
    without = build(scenario, rest, years)
    there = build(scenario, standing, years)
    here = build(scenario, [*rest, replace(moved, date=landed)], years)
    for b in (there, here):
        assert b.report.accepted == without.report.accepted + 1
    for as_of in _as_of_dates(scenario, years, day, landed):
        year = years.of(as_of)
        for b, on in ((there, day), (here, landed)):
            got, want = b.facts_for(sid, as_of), without.facts_for(sid, as_of)
            assert (got is None) == (want is None)
            if got is None or want is None:
                continue
            if on in year and on <= as_of:  # the year it is in: counted there
                assert got["provenance"]["events"] == want["provenance"]["events"] + 1
            else:  # any other year's counts are as if it did not exist
                assert _this_year(got) == _this_year(want)
            if on not in years.previous(year):
                assert _last_year(got) == _last_year(want)
