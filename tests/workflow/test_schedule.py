"""School-day arithmetic and cadences agree with walking the calendar one day at a time."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tierflow.attendance import SchoolCalendar
from tierflow.spec import CadenceSpec
from tierflow.workflow import SchoolDays, next_follow_up

CAL = SchoolCalendar.from_pattern(
    "x",
    dt.date(2025, 9, 2),
    dt.date(2025, 12, 19),
    holidays=[dt.date(2025, 10, 13)],
    breaks=[(dt.date(2025, 11, 24), dt.date(2025, 11, 28))],
)
DAYS = st.dates(dt.date(2025, 8, 1), dt.date(2026, 2, 28))


def walk(days: SchoolDays, day: dt.date, count: int) -> dt.date:
    while count > 0:
        day += dt.timedelta(days=1)
        if days.is_school_day(day):
            count -= 1
    return day


@given(day=DAYS, count=st.integers(1, 60), calendar=st.sampled_from([CAL, None]))
def test_adding_school_days_agrees_with_walking_the_calendar(
    day: dt.date, count: int, calendar: SchoolCalendar | None
) -> None:
    days = SchoolDays(calendar)
    assert days.add(day, count) == walk(days, day, count)
    assert days.add(day, count) == walk(days, day, count)  # cached answer, same date
    assert days.is_school_day(days.add(day, count))


@given(day=DAYS)
def test_cadences_land_on_school_days(day: dt.date) -> None:
    days = SchoolDays(CAL)
    weekly = next_follow_up(CadenceSpec.model_validate("weekly"), day, days)
    assert weekly is not None and days.is_school_day(weekly)
    assert weekly == days.on_or_after(day + dt.timedelta(weeks=1))
    every3 = next_follow_up(CadenceSpec(every_school_days=3), day, days)
    assert every3 == walk(days, day, 3)
    thursdays = next_follow_up(CadenceSpec(rrule="FREQ=WEEKLY;BYDAY=TH"), day, days)
    assert thursdays is not None and thursdays > day and days.is_school_day(thursdays)
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
