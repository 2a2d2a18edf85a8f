"""Facts built from events agree with a naive day-by-day reference on generated data.

The reference below walks every calendar day of every enrollment span, one day at a time, and
implements the documented policy as plainly as possible. Hypothesis generates calendars (weekly
patterns, holidays, breaks, make-up and shortened days), enrollment spans (with mid-year moves),
attendance events (at most one per student-date here; conflicts are checked separately) and an
as-of date, and the builder must give the same numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierflow
from tierflow.attendance import (
    AttendanceEvent,
    AttendancePolicy,
    Enrollment,
    FactsBuilder,
    SchoolCalendar,
)
from tierflow.errors import DataError

START = dt.date(2025, 8, 4)
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR")
CATEGORIES = (
    "excused_absence",
    "unexcused_absence",
    "partial",
    "tardy",
    "early_departure",
    "suspension_out",
    "suspension_in",
    "present",
)


@dataclass
class Case:
    calendars: dict[str, SchoolCalendar]
    spans: list[Enrollment]
    events: list[AttendanceEvent]
    as_of: dt.date
    policy: AttendancePolicy


@st.composite
def calendars(draw: st.DrawFn, cal_id: str) -> SchoolCalendar:
    first = START + dt.timedelta(days=draw(st.integers(0, 30)))
    last = first + dt.timedelta(days=draw(st.integers(14, 150)))
    span = (last - first).days
    weekdays = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=5, unique=True))
    offsets = st.integers(0, span)
    holidays = [first + dt.timedelta(days=d) for d in draw(st.lists(offsets, max_size=6))]
    breaks = []
    if draw(st.booleans()):
        low = draw(offsets)
        breaks.append(
            (
                first + dt.timedelta(days=low),
                first + dt.timedelta(days=low + draw(st.integers(0, 9))),
            )
        )
    makeup = [first + dt.timedelta(days=d) for d in draw(st.lists(offsets, max_size=2))]
    try:
        base = SchoolCalendar.from_pattern(
            cal_id, first, last, weekdays=weekdays, holidays=holidays, breaks=breaks,
            makeup_days=makeup,
        )  # fmt: skip
    except DataError:  # every day fell on a holiday or a break
        return SchoolCalendar(cal_id, [first])
    short = draw(st.lists(st.sampled_from(base.days), max_size=3, unique=True))
    fractions = {d: draw(st.sampled_from((0.5, 0.75))) for d in short}
    return SchoolCalendar(cal_id, base.days, fractions)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    cal_a = draw(calendars("a"))
    cal_b = draw(calendars("b"))
    cals = {"a": cal_a, "b": cal_b}
    entry = draw(st.sampled_from(cal_a.days))
    spans = [Enrollment("s1", "a", entry, source="e:1")]
    if draw(st.booleans()):
        later = [d for d in cal_a.days if d >= entry]
        leave = draw(st.sampled_from(later))
        spans[0] = Enrollment("s1", "a", entry, exit=leave, source="e:1")
        move = [d for d in cal_b.days if d > leave]
        if move:
            spans.append(Enrollment("s1", "b", draw(st.sampled_from(move)), source="e:2"))
    all_days = sorted(set(cal_a.days) | set(cal_b.days))
    lo, hi = all_days[0] - dt.timedelta(days=3), all_days[-1] + dt.timedelta(days=3)
    # Mostly school days (where events count), some arbitrary days (where they are rejected).
    any_day = st.one_of(
        st.sampled_from(all_days), st.sampled_from(all_days), st.sampled_from(all_days),
        st.dates(min_value=lo, max_value=hi),
    )  # fmt: skip
    dates = draw(st.lists(any_day, min_size=3, max_size=40, unique=True))
    events = []
    for i, day in enumerate(dates):
        category = draw(st.sampled_from(CATEGORIES))
        enrolled_at = [
            s.school_id for s in spans if s.entry <= day and (s.exit is None or day <= s.exit)
        ]
        school = draw(st.sampled_from(enrolled_at * 4 + ["a", "b"]))
        duration = minutes = None
        how = draw(st.sampled_from(("none", "duration", "minutes")))
        if how == "duration":
            duration = draw(st.sampled_from((0.25, 0.5, 1.0)))
        elif how == "minutes":
            minutes = float(draw(st.integers(1, 400)))
        reason = draw(st.sampled_from((None, "missed the bus", "Absent unexcused", "sick")))
        events.append(
            AttendanceEvent("s1", school, day, category, duration, minutes, reason, f"ev:{i + 2}")
        )
    after_entry = [d for d in all_days if d >= entry] or [hi]
    as_of = draw(
        st.one_of(st.sampled_from(after_entry), st.just(hi), st.dates(min_value=lo, max_value=hi))
    )
    policy = AttendancePolicy(
        absent_day_threshold=draw(st.sampled_from((None, 0.5))),
        suspensions_count_as_absence=draw(st.booleans()),
        truancy_tardy_minutes=draw(st.sampled_from((10, 30))),
        partial_absence=draw(st.sampled_from(("excused", "unexcused"))),
        recent_days=draw(st.sampled_from((5, 20))),
    )
    return Case(cals, spans, events, as_of, policy)


# --- the naive reference ---------------------------------------------------------------------


def _reference(case: Case) -> dict[str, Any] | None:
    p = case.policy
    spans = [s for s in case.spans if s.entry <= case.as_of]
    if not spans:
        return None
    enrolled: list[tuple[dt.date, str, SchoolCalendar]] = []  # (day, school, calendar)
    for s in spans:
        cal = case.calendars[s.school_id]
        day = s.entry
        end = case.as_of if s.exit is None else min(case.as_of, s.exit)
        while day <= end:
            if day in cal:
                enrolled.append((day, s.school_id, cal))
            day += dt.timedelta(days=1)
    where = {day: (school, cal) for day, school, cal in enrolled}
    out = {"excused": 0.0, "unexcused": 0.0, "suspension": 0.0}
    absent_total = 0.0
    tardies = over = 0
    weekday = [0.0] * 7
    missed_on: dict[dt.date, float] = {}
    counted_on: dict[dt.date, float] = {}
    for e in case.events:
        if e.date not in where or where[e.date][0] != e.school_id:
            continue  # rejected: not enrolled there, or not a school day
        cal = where[e.date][1]
        if e.category == "tardy":
            tardies += 1
            if e.minutes is not None and e.minutes > p.truancy_tardy_minutes:
                over += 1
            continue
        long = e.minutes is not None and e.minutes > p.truancy_tardy_minutes
        if e.category == "early_departure" and long:
            over += 1
        if e.category in ("present", "suspension_in"):
            continue
        if e.duration is not None:
            part = e.duration
        elif e.minutes is not None:
            part = min(1.0, e.minutes / (p.minutes_per_day * cal.fraction(e.date)))
        else:
            part = 0.0 if e.category == "early_departure" else 1.0
        if part == 0:
            continue
        if e.category == "excused_absence":
            kind = "excused"
        elif e.category == "unexcused_absence":
            kind = "unexcused"
        elif e.category == "suspension_out":
            kind = "suspension"
        elif e.reason == "Absent unexcused":
            kind = "unexcused"
        else:
            kind = p.partial_absence
        if p.absent_day_threshold is not None:
            part_counted = 1.0 if part >= p.absent_day_threshold else 0.0
        else:
            part_counted = part
        out[kind] += part_counted
        counts = kind != "suspension" or p.suspensions_count_as_absence
        if counts:
            absent_total += part_counted
            weekday[e.date.weekday()] += part_counted
            counted_on[e.date] = part_counted
        missed_on[e.date] = part
    longest = run = 0
    for day, _, _ in enrolled:
        if missed_on.get(day, 0.0) >= p.streak_threshold:
            run += 1
            longest = max(longest, run)
        else:
            run = 0
    recent = [day for day, _, _ in enrolled][-p.recent_days :]
    recent_missed = sum(counted_on.get(day, 0.0) for day in recent)
    return {
        "days_enrolled": len(enrolled),
        "days_excused": out["excused"],
        "days_unexcused": out["unexcused"],
        "days_suspended": out["suspension"],
        "days_absent": absent_total,
        "days_present": max(0.0, len(enrolled) - absent_total),
        "tardies": tardies,
        "tardies_over_30": over,
        "longest_absence_streak": longest,
        "current_absence_streak": run,
        "absences_monday": weekday[0],
        "absences_friday": weekday[4],
        "recent_absence_rate": min(1.0, recent_missed / len(recent)) if recent else 0.0,
    }


def _build(case: Case) -> FactsBuilder:
    builder = FactsBuilder(case.calendars, policy=case.policy)
    for span in case.spans:
        assert builder.add_enrollment(span)
    for event in case.events:
        builder.add_event(event)
    return builder


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_facts_agree_with_the_day_by_day_reference(case: Case) -> None:
    builder = _build(case)
    assert builder.report.read == builder.report.accepted + builder.report.rejected
    got = builder.facts_for("s1", case.as_of)
    want = _reference(case)
    if want is None:
        assert got is None
        return
    assert got is not None
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-9), key
    assert got["school_days"] == tuple(
        d for s in case.spans if s.entry <= case.as_of
        for d in case.calendars[s.school_id].days
        if s.entry <= d <= (case.as_of if s.exit is None else min(case.as_of, s.exit))
    )  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.integers(1, 60))
def test_school_day_windows_agree_with_filtering_the_log(case: Case, n: int) -> None:
    facts = _build(case).facts_for("s1", case.as_of)
    if facts is None:
        return
    ruleset = tierflow.parse_ruleset(
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
    env, _ = ruleset.environment(facts, case.as_of)
    from tierflow.expr import interpret

    days = facts["school_days"][-n:]
    log = facts["attendance_log"]
    want_unexcused = sum(r["days"] for r in log if r["kind"] == "unexcused" and r["date"] in days)
    want_count = sum(
        1 for r in log if r["kind"] in ("excused", "unexcused", "suspension") and r["date"] in days
    )
    want_month = sum(
        r["days"]
        for r in log
        if r["kind"] in ("excused", "unexcused", "suspension")
        and (r["date"].year, r["date"].month) == (case.as_of.year, case.as_of.month)
    )
    c = ruleset._c  # the checked metrics, to evaluate each through the reference interpreter
    _, ctx = ruleset.environment(facts, case.as_of)
    values = {m: interpret(c.metric_exprs[m].tree, env, ctx, c.functions) for m in c.metric_order}
    assert values["recent_unexcused"] == pytest.approx(want_unexcused)
    assert values["recent_absences"] == want_count
    assert values["this_month"] == pytest.approx(want_month)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.data())
def test_back_testing_ignores_events_after_the_as_of_date(case: Case, data: st.DataObject) -> None:
    before = _build(case).facts_for("s1", case.as_of)
    later = [
        AttendanceEvent("s1", s.school_id, d, "unexcused_absence", source=f"late:{i}")
        for i, s in enumerate(case.spans)
        for d in case.calendars[s.school_id].days
        if d > case.as_of and d not in {e.date for e in case.events}
    ][:5]
    extended = Case(case.calendars, case.spans, [*case.events, *later], case.as_of, case.policy)
    after = _build(extended).facts_for("s1", case.as_of)
    assert before == after


def test_a_back_dated_correction_changes_counts_and_provenance() -> None:
    cal = SchoolCalendar.from_pattern("a", dt.date(2025, 9, 1), dt.date(2025, 9, 30))
    span = Enrollment("s1", "a", dt.date(2025, 9, 1))
    days = [dt.date(2025, 9, d) for d in (2, 3, 4)]

    def facts(categories: list[str]) -> dict[str, Any]:
        b = FactsBuilder({"a": cal})
        b.add_enrollment(span)
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


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 4),
            st.sampled_from(CATEGORIES),
            st.sampled_from((None, 0.25, 0.5, 1.0)),
        ),
        max_size=30,
    )
)
def test_conflict_rules_hold_for_any_arrival_order(
    items: list[tuple[int, str, float | None]],
) -> None:
    cal = SchoolCalendar.from_pattern("a", dt.date(2025, 9, 1), dt.date(2025, 9, 5))
    b = FactsBuilder({"a": cal})
    b.add_enrollment(Enrollment("s1", "a", dt.date(2025, 9, 1)))
    for i, (day, category, duration) in enumerate(items):
        b.add_event(AttendanceEvent("s1", "a", cal.days[day], category, duration, source=f"ev:{i}"))
    report = b.report
    assert report.read == report.accepted + report.rejected == len(items) + 1
    facts = b.facts_for("s1", dt.date(2025, 9, 5))
    assert facts is not None
    per_day: dict[dt.date, float] = {}
    for r in facts["attendance_log"]:
        per_day[r["date"]] = per_day.get(r["date"], 0.0) + r["days"]
    assert all(total <= 1.0 + 1e-9 for total in per_day.values())
    assert facts["days_absent"] <= facts["days_enrolled"]
