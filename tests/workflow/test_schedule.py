"""School-day arithmetic and cadences agree with walking the calendar one day at a time."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tierflow.attendance import SchoolCalendar
from tierflow.spec import CadenceSpec
from tierflow.workflow import SchoolDays, next_follow_up

# Mutation testing (docs/testing.md): mutmut makes 154 mutants of workflow/_schedule.py and
# these tests kill 139. The 15 survivors change no answer, so no test can tell them apart:
# - the caches: found = None / .get(None) (always recomputed), and clearing at 100_000 vs
#   100_001 entries (add, follow_up): memory only;
# - on_or_after: day <= first_day returns first_day, as the next branch would;
# - between: end < start (an empty span still counts 0), start <= last_day and
#   end < last_day (at the boundary both branches count the same days);
# - _add: day <= last_day (from the last day the index is past the end, as the weekday branch
#   assumes), and the whole-weeks shortcut (count >= 5, > 6, (count - 2) // 5, // 6): fewer
#   weeks at once, the rest walked one day at a time, the same date.

CAL = SchoolCalendar.from_pattern(
    "x",
    dt.date(2025, 9, 2),
    dt.date(2025, 12, 19),
    holidays=[dt.date(2025, 10, 13)],
    breaks=[(dt.date(2025, 11, 24), dt.date(2025, 11, 28))],
)
DAYS = st.dates(dt.date(2025, 8, 1), dt.date(2026, 2, 28))

# CAL's school days written out by hand from a 2025 wall calendar (not from SchoolCalendar or
# SchoolDays): September from Tuesday the 2nd, no Columbus Day (October 13), no Thanksgiving
# week (November 24-28). After December 19 the calendar has ended: weekdays, as documented.
HAND = {
    9: [2, 3, 4, 5, 8, 9, 10, 11, 12, 15, 16, 17, 18, 19, 22, 23, 24, 25, 26, 29, 30],
    10: [1, 2, 3, 6, 7, 8, 9, 10, 14, 15, 16, 17, 20, 21, 22, 23, 24, 27, 28, 29, 30, 31],
    11: [3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 17, 18, 19, 20, 21],
    12: [1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 15, 16, 17, 18, 19, 22, 23, 24, 25, 26, 29, 30, 31],
}
SCHOOL_DAYS_2025 = {dt.date(2025, month, d) for month, days in HAND.items() for d in days}


def school_day(day: dt.date, calendar: SchoolCalendar | None) -> bool:
    """The oracle: the hand-written list in 2025 on CAL, else Monday to Friday."""
    if calendar is None or day.year > 2025:
        return day.weekday() < 5
    return day in SCHOOL_DAYS_2025


def walk(calendar: SchoolCalendar | None, day: dt.date, count: int) -> dt.date:
    """Step one day at a time, counting the oracle's school days."""
    while count > 0:
        day += dt.timedelta(days=1)
        if school_day(day, calendar):
            count -= 1
    return day


def test_the_hand_written_days_are_the_calendars() -> None:
    days = SchoolDays(CAL)
    day = dt.date(2025, 8, 1)
    while day < dt.date(2026, 3, 1):
        assert days.is_school_day(day) == school_day(day, CAL), day
        assert SchoolDays(None).is_school_day(day) == (day.weekday() < 5), day
        day += dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("day", "count", "expected"),
    [
        (dt.date(2025, 8, 1), 1, dt.date(2025, 9, 2)),  # before the year: its first day
        (dt.date(2025, 9, 1), 21, dt.date(2025, 9, 30)),  # September's 21 school days
        (dt.date(2025, 10, 10), 1, dt.date(2025, 10, 14)),  # Friday, Monday a holiday
        (dt.date(2025, 11, 21), 1, dt.date(2025, 12, 1)),  # over Thanksgiving week
        (dt.date(2025, 12, 18), 1, dt.date(2025, 12, 19)),  # the calendar's last day
        (dt.date(2025, 12, 19), 1, dt.date(2025, 12, 22)),  # past it: weekdays
        (dt.date(2025, 12, 19), 6, dt.date(2025, 12, 29)),  # a whole week and a day
        (dt.date(2025, 11, 22), 10, dt.date(2025, 12, 12)),  # from a Saturday in the break
        (dt.date(2026, 1, 3), 6, dt.date(2026, 1, 12)),  # from a Saturday past the calendar
        (dt.date(2026, 1, 4), 5, dt.date(2026, 1, 9)),  # from a Sunday: Monday is the first
    ],
)
def test_adding_school_days_known_answers(day: dt.date, count: int, expected: dt.date) -> None:
    assert SchoolDays(CAL).add(day, count) == expected
    assert SchoolDays(CAL).between(day, expected) == count


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2025, 8, 1), dt.date(2025, 9, 2)),  # before the calendar: its first day
        (dt.date(2025, 9, 2), dt.date(2025, 9, 2)),  # a school day is its own
        (dt.date(2025, 10, 11), dt.date(2025, 10, 14)),  # Saturday, Monday a holiday
        (dt.date(2025, 11, 24), dt.date(2025, 12, 1)),  # the break
        (dt.date(2025, 12, 20), dt.date(2025, 12, 22)),  # past the calendar: weekdays
        (dt.date(2025, 12, 19), dt.date(2025, 12, 19)),  # the last day itself
    ],
)
def test_on_or_after_known_answers(day: dt.date, expected: dt.date) -> None:
    assert SchoolDays(CAL).on_or_after(day) == expected


# A Saturday-school program: its first and last days are Saturdays (2025-09-06 and -13).
SATURDAYS = SchoolCalendar(
    "sat", [dt.date(2025, 9, 6), dt.date(2025, 9, 8), dt.date(2025, 9, 10), dt.date(2025, 9, 13)]
)


def test_a_calendar_starting_and_ending_on_saturdays() -> None:
    days = SchoolDays(SATURDAYS)
    assert days.is_school_day(dt.date(2025, 9, 13))  # its last day, though a Saturday
    assert not days.is_school_day(dt.date(2025, 9, 20))  # past it: weekdays only
    assert days.on_or_after(dt.date(2025, 9, 6)) == dt.date(2025, 9, 6)
    assert days.on_or_after(dt.date(2025, 9, 13)) == dt.date(2025, 9, 13)
    assert days.on_or_after(dt.date(2025, 9, 1)) == dt.date(2025, 9, 6)
    assert days.add(dt.date(2025, 9, 5), 1) == dt.date(2025, 9, 6)
    assert days.add(dt.date(2025, 9, 10), 1) == dt.date(2025, 9, 13)
    assert days.add(dt.date(2025, 9, 13), 1) == dt.date(2025, 9, 15)
    assert days.between(dt.date(2025, 9, 5), dt.date(2025, 9, 13)) == 4
    assert days.between(dt.date(2025, 9, 13), dt.date(2025, 9, 15)) == 1


def test_adding_one_past_the_calendars_end_from_inside_it() -> None:
    # the index lands exactly one past the calendar's days: continue on weekdays
    assert SchoolDays(CAL).add(dt.date(2025, 12, 18), 2) == dt.date(2025, 12, 22)


def test_the_cache_answers_each_question_with_its_own_answer() -> None:
    days = SchoolDays(CAL)
    assert days.add(dt.date(2025, 9, 1), 1) == dt.date(2025, 9, 2)
    assert days.add(dt.date(2025, 9, 1), 2) == dt.date(2025, 9, 3)
    assert days.add(dt.date(2025, 10, 10), 1) == dt.date(2025, 10, 14)
    weekly, every3 = CadenceSpec(every_weeks=1), CadenceSpec(every_school_days=3)
    assert days.follow_up(weekly, dt.date(2025, 10, 6)) == dt.date(2025, 10, 14)
    assert days.follow_up(every3, dt.date(2025, 10, 6)) == dt.date(2025, 10, 9)


def test_no_school_days_in_an_empty_or_backward_span() -> None:
    for days in (SchoolDays(CAL), SchoolDays(None)):
        assert days.between(dt.date(2025, 10, 6), dt.date(2025, 10, 6)) == 0
        assert days.between(dt.date(2025, 10, 7), dt.date(2025, 10, 6)) == 0
        assert days.between(dt.date(2026, 1, 7), dt.date(2026, 1, 6)) == 0


@given(day=DAYS, count=st.integers(1, 60), calendar=st.sampled_from([CAL, None]))
def test_adding_school_days_agrees_with_walking_the_calendar(
    day: dt.date, count: int, calendar: SchoolCalendar | None
) -> None:
    days = SchoolDays(calendar)
    expected = walk(calendar, day, count)
    assert days.add(day, count) == expected
    assert days.add(day, count) == expected  # cached answer, same date
    assert school_day(expected, calendar)
    assert days.between(day, expected) == count
    first = day
    while not school_day(first, calendar):
        first += dt.timedelta(days=1)
    assert days.on_or_after(day) == first


@given(day=DAYS)
def test_cadences_land_on_school_days(day: dt.date) -> None:
    days = SchoolDays(CAL)
    weekly = next_follow_up(CadenceSpec.model_validate("weekly"), day, days)
    assert weekly is not None and school_day(weekly, CAL)
    week_on = day + dt.timedelta(weeks=1)
    assert weekly == walk(CAL, week_on - dt.timedelta(days=1), 1)  # on or after a week on
    every3 = next_follow_up(CadenceSpec(every_school_days=3), day, days)
    assert every3 == walk(CAL, day, 3)
    thursdays = next_follow_up(CadenceSpec(rrule="FREQ=WEEKLY;BYDAY=TH"), day, days)
    assert thursdays is not None and thursdays > day and school_day(thursdays, CAL)
    assert thursdays.weekday() == 3
    assert next_follow_up(None, day, days) is None


@pytest.mark.parametrize(
    ("rrule", "after", "expected"),
    [
        # Thursday 2025-09-04: the next Thursday is the 11th.
        ("FREQ=WEEKLY;BYDAY=TH", dt.date(2025, 9, 4), dt.date(2025, 9, 11)),
        # The last Friday of September 2025 is the 26th.
        ("FREQ=MONTHLY;BYDAY=-1FR", dt.date(2025, 9, 1), dt.date(2025, 9, 26)),
        # Weekends only: no school day ever, found without searching past two years.
        ("FREQ=WEEKLY;BYDAY=SA,SU", dt.date(2025, 9, 1), None),
        # From February 29 the next one is four years on: beyond the two years looked at.
        ("FREQ=YEARLY", dt.date(2028, 2, 29), None),
        ("FREQ=WEEKLY;UNTIL=20250910", dt.date(2025, 9, 4), None),  # the 11th is past UNTIL
        # At the end of the calendar: dateutil ran into the year 10000 (a ValueError).
        ("FREQ=WEEKLY;BYDAY=TH", dt.date(9999, 12, 27), dt.date(9999, 12, 30)),
        ("FREQ=WEEKLY;BYDAY=TH", dt.date(9999, 12, 30), None),
    ],
)
def test_rrule_follow_ups_are_bounded(rrule: str, after: dt.date, expected: dt.date | None) -> None:
    assert next_follow_up(CadenceSpec(rrule=rrule), after, SchoolDays(None)) == expected
