"""SchoolCalendar's own contract, with answers worked out by hand from a 2025 wall calendar.

These tests kill the mutants of attendance/_calendar.py that the property tests (which compare
with a naive reference) could not see: names and sources in errors, the boundaries of a
fraction, weekday names, equality, and the edges of the queries.

Mutation testing (docs/testing.md): of the surviving mutants two are equivalent and left:
``hash(None)`` in ``__hash__`` (a constant hash is still a valid one: equal calendars hash
equal) and ``if end or True`` in ``window_start`` (before the first day ``end`` is 0 and both
branches give the first day).
"""

from __future__ import annotations

import datetime as dt

import pytest

from tierflow.attendance import CalendarSet, SchoolCalendar
from tierflow.errors import DataError

MON, TUE, WED = dt.date(2025, 9, 1), dt.date(2025, 9, 2), dt.date(2025, 9, 3)


def test_a_calendar_keeps_its_id() -> None:
    assert SchoolCalendar("lincoln", [MON]).id == "lincoln"
    cal = SchoolCalendar.from_pattern("lincoln", MON, WED)
    assert cal.id == "lincoln" and cal.days == (MON, TUE, WED)
    assert repr(cal) == "SchoolCalendar('lincoln', 2025-09-01..2025-09-03, 3 days)"


def test_an_empty_calendar_names_itself() -> None:
    with pytest.raises(DataError, match="calendar 'lincoln' has no instructional days"):
        SchoolCalendar("lincoln", [])


def test_errors_about_a_shortened_day_name_where_it_was_read() -> None:
    with pytest.raises(DataError) as caught:
        SchoolCalendar("x", [MON], {TUE: 0.5}, sources={TUE: "cal.csv:3", MON: "cal.csv:2"})
    assert caught.value.source == "cal.csv:3"
    with pytest.raises(DataError) as caught:
        SchoolCalendar("x", [MON], {MON: 2.0}, sources={MON: "cal.csv:2", TUE: "cal.csv:3"})
    assert caught.value.source == "cal.csv:2"


def test_a_full_day_is_a_fraction_of_one() -> None:
    cal = SchoolCalendar("x", [MON, TUE], {MON: 1.0, TUE: 0.5})
    assert (cal.fraction(MON), cal.fraction(TUE), cal.fraction(WED)) == (1.0, 0.5, 0.0)


def test_weekdays_may_be_written_out() -> None:
    # "Monday" and "wed" are read by their first two letters, as MO and WE
    cal = SchoolCalendar.from_pattern("x", MON, dt.date(2025, 9, 14), weekdays=["Monday", "wed"])
    assert cal.days == (MON, WED, dt.date(2025, 9, 8), dt.date(2025, 9, 10))


def test_calendars_are_equal_by_id_days_and_fractions() -> None:
    a = SchoolCalendar("x", [MON, TUE])
    assert a == SchoolCalendar("x", [TUE, MON]) and hash(a) == hash(SchoolCalendar("x", [TUE, MON]))
    assert a != SchoolCalendar("y", [MON, TUE])
    assert a != SchoolCalendar("x", [MON])
    assert a != SchoolCalendar("x", [MON, TUE], {TUE: 0.5})
    assert a != "x" and a.__eq__("x") is NotImplemented


def test_counting_a_single_day() -> None:
    cal = SchoolCalendar.from_pattern("x", MON, dt.date(2025, 9, 12))
    assert cal.count(TUE, TUE) == 1
    assert cal.count(dt.date(2025, 9, 6), dt.date(2025, 9, 6)) == 0  # a Saturday
    assert cal.count(WED, TUE) == 0
    assert cal.count(MON, dt.date(2025, 9, 12)) == 10


def test_a_window_before_the_year_starts_on_the_first_day() -> None:
    cal = SchoolCalendar.from_pattern("x", TUE, dt.date(2025, 9, 12))
    assert cal.window_start(MON, 5) == TUE
    assert cal.window_start(dt.date(2025, 9, 12), 5) == dt.date(2025, 9, 8)
    assert cal.window_start(dt.date(2025, 9, 12), 0) == dt.date(2025, 9, 12)


def test_dates_outside_the_sessions_follow_the_given_start() -> None:
    found = CalendarSet(sessions=[(2022, dt.date(2021, 8, 23), dt.date(2022, 5, 27))])
    assert found.school_years("08-01").of(dt.date(2019, 9, 2)).start == dt.date(2019, 8, 1)
    assert found.school_years().of(dt.date(2019, 9, 2)).start == dt.date(2019, 7, 1)
