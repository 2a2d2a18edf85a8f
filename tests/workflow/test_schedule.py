"""School-day arithmetic and cadences agree with walking the calendar one day at a time."""

from __future__ import annotations

import datetime as dt

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
