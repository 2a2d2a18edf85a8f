"""SchoolYears and SchoolYear on their own: the start-day rule, explicit years and their edges.

Expected years are worked by hand from docs/school-years.md: a year is named by the calendar
year it ends in and runs from the start day to the day before the next start day; explicit years
win where they cover a date, and a date outside them follows the start day, trimmed so that it
never overlaps an explicit year and always contains the date asked about.

Hand-computed examples beside ``test_school_year_spans.py``'s generated ones; the mutation
triage of ``_years.py`` (which survivors are equivalent, and why) is at the top of that module.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tierflow.attendance import SchoolYear, SchoolYears
from tierflow.errors import DataError

D = dt.date


@pytest.mark.parametrize(
    ("starts", "day", "want"),
    [
        ("07-01", D(2026, 6, 30), SchoolYear(2026, D(2025, 7, 1), D(2026, 6, 30))),
        ("07-01", D(2026, 7, 1), SchoolYear(2027, D(2026, 7, 1), D(2027, 6, 30))),
        ("08-01", D(2026, 7, 31), SchoolYear(2026, D(2025, 8, 1), D(2026, 7, 31))),
        ("08-15", D(2026, 8, 14), SchoolYear(2026, D(2025, 8, 15), D(2026, 8, 14))),
        ("08-15", D(2026, 8, 15), SchoolYear(2027, D(2026, 8, 15), D(2027, 8, 14))),
        # A year starting on January 1 is the calendar year itself.
        ("01-01", D(2026, 1, 1), SchoolYear(2026, D(2026, 1, 1), D(2026, 12, 31))),
        ("01-01", D(2025, 12, 31), SchoolYear(2025, D(2025, 1, 1), D(2025, 12, 31))),
        # A leap year's last day: 2024-03-01 minus one day is February 29.
        ("03-01", D(2024, 2, 29), SchoolYear(2024, D(2023, 3, 1), D(2024, 2, 29))),
    ],
)
def test_the_start_day_names_and_bounds_the_year(
    starts: str, day: dt.date, want: SchoolYear
) -> None:
    years = SchoolYears(starts)
    assert years.of(day) == want
    assert years.start_of(day) == want.start
    assert years.of(day) == want  # a second ask (from the cache) agrees


def test_a_year_prints_as_its_two_calendar_years_or_one() -> None:
    assert str(SchoolYear(2026, D(2025, 7, 1), D(2026, 6, 30))) == "2025-2026"
    assert str(SchoolYear(2026, D(2026, 1, 1), D(2026, 12, 31))) == "2026"


def test_a_year_contains_its_first_and_last_day_and_only_dates() -> None:
    year = SchoolYear(2026, D(2025, 7, 1), D(2026, 6, 30))
    assert D(2025, 7, 1) in year
    assert D(2026, 6, 30) in year
    assert D(2025, 6, 30) not in year
    assert D(2026, 7, 1) not in year
    assert "2025-07-01" not in year


def test_previous_is_the_year_that_ends_the_day_before() -> None:
    years = SchoolYears("08-01")
    want = SchoolYear(2026, D(2025, 8, 1), D(2026, 7, 31))
    assert years.previous(SchoolYear(2027, D(2026, 8, 1), D(2027, 7, 31))) == want


def test_repr_and_equality_follow_the_start_day_and_the_explicit_years() -> None:
    one = SchoolYear(2022, D(2021, 8, 23), D(2022, 8, 21))
    assert repr(SchoolYears("08-01")) == "SchoolYears(starts=08-01)"
    assert repr(SchoolYears("07-01", [one])) == "SchoolYears(starts=07-01, 1 explicit)"
    assert SchoolYears("08-01") == SchoolYears("08-01")
    assert hash(SchoolYears("08-01")) == hash(SchoolYears("08-01"))
    assert SchoolYears("08-01") != SchoolYears("08-02")
    assert SchoolYears("08-01") != SchoolYears("09-01")
    assert SchoolYears() != SchoolYears("07-01", [one])
    assert SchoolYears() != "07-01"


# Two explicit years: 2022 from 2021-08-23 to 2022-08-21, 2023 from 2022-08-22 to 2023-05-26.
_Y2022 = SchoolYear(2022, D(2021, 8, 23), D(2022, 8, 21))
_Y2023 = SchoolYear(2023, D(2022, 8, 22), D(2023, 5, 26))


@pytest.mark.parametrize(
    ("day", "want"),
    [
        (D(2021, 8, 23), _Y2022),
        (D(2022, 8, 21), _Y2022),
        (D(2022, 8, 22), _Y2023),
        (D(2023, 5, 26), _Y2023),
        # Before them: the start day's year 2021, running up to the day before 2022 starts, so
        # the summer gap (the rule puts 2021-07-15 in 2022, which starts later) stays in 2021.
        (D(2021, 8, 22), SchoolYear(2021, D(2020, 7, 1), D(2021, 8, 22))),
        (D(2021, 7, 15), SchoolYear(2021, D(2020, 7, 1), D(2021, 8, 22))),
        (D(2021, 6, 30), SchoolYear(2021, D(2020, 7, 1), D(2021, 8, 22))),
        (D(2020, 6, 30), SchoolYear(2020, D(2019, 7, 1), D(2020, 6, 30))),
        # After them: year 2024 from the day after 2023 ends to the start day's end of 2024.
        (D(2023, 5, 27), SchoolYear(2024, D(2023, 5, 27), D(2024, 6, 30))),
        (D(2023, 6, 1), SchoolYear(2024, D(2023, 5, 27), D(2024, 6, 30))),
        (D(2024, 7, 1), SchoolYear(2025, D(2024, 7, 1), D(2025, 6, 30))),
    ],
)
def test_explicit_years_win_and_the_rule_fills_around_them(day: dt.date, want: SchoolYear) -> None:
    years = SchoolYears("07-01", [_Y2023, _Y2022])  # given out of order: sorted by start
    got = years.of(day)
    assert got == want
    assert day in got


@pytest.mark.parametrize(
    "years",
    [
        [SchoolYear(2022, D(2022, 8, 21), D(2021, 8, 23))],  # ends before it starts
        [_Y2022, SchoolYear(2023, D(2022, 8, 23), D(2023, 5, 26))],  # a day's gap
        [_Y2022, SchoolYear(2023, D(2022, 8, 21), D(2023, 5, 26))],  # a day's overlap
        [_Y2022, SchoolYear(2024, D(2022, 8, 22), D(2023, 5, 26))],  # a label skipped
    ],
)
def test_explicit_years_that_do_not_follow_one_another_are_refused(years: list[SchoolYear]) -> None:
    with pytest.raises(DataError) as err:
        SchoolYears("07-01", years)
    assert err.value.code == "calendar.invalid"


def test_a_one_day_year_is_accepted() -> None:
    one = SchoolYear(2022, D(2022, 6, 30), D(2022, 6, 30))
    assert SchoolYears("07-01", [one]).of(D(2022, 6, 30)) == one
