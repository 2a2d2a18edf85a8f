"""Which school year a date belongs to, checked against a naive day-by-day definition.

The oracle here shares no code with ``attendance/_years.py``: a rule year is found by trying
the start day in the three calendar years around the date, and explicit years are checked by
the properties every answer must have (the date is inside the year it is given; consecutive
dates stay in one year or step to the next, which starts the day after the other ends and is
named one more; a date inside an explicit year gets exactly that year).

Mutation testing (docs/testing.md) leaves 6 mutants of ``_years.py`` alive, each equivalent
(no answer changes):

- 4 in ``SchoolYears.of``'s cache: not reading it (``year = None``, ``get(None)``) or clearing
  it at 4,097 entries instead of 4,096; the cache only saves work, answers come from ``_of``;
- 2 in ``__init__``: sorting the explicit years by the whole tuple (``key=None`` or no key)
  instead of by ``start``: years that pass the checks which follow are in the same order
  either way (each starts after the one before and is named one more).
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierflow.attendance import SchoolYear, SchoolYears
from tierflow.errors import DataError

_DAY = dt.timedelta(days=1)

starts = st.dates(dt.date(2001, 1, 1), dt.date(2001, 12, 31)).map(lambda d: (d.month, d.day))
days = st.dates(dt.date(1990, 1, 1), dt.date(2060, 12, 31))


def _naive(day: dt.date, month: int, first_day: int) -> tuple[int, dt.date, dt.date]:
    """The rule year holding ``day``: (the calendar year it ends in, first day, last day)."""
    candidates = [dt.date(y, month, first_day) for y in (day.year - 1, day.year, day.year + 1)]
    start = max(c for c in candidates if c <= day)
    end = dt.date(start.year + 1, month, first_day) - _DAY
    return end.year, start, end


@settings(max_examples=300)
@given(start=starts, day=days)
def test_a_rule_year_is_the_span_from_one_start_day_to_the_day_before_the_next(
    start: tuple[int, int], day: dt.date
) -> None:
    month, first = start
    years = SchoolYears(f"{month:02d}-{first:02d}")
    assert tuple(years.of(day)) == _naive(day, month, first)
    assert years.start_of(day) == _naive(day, month, first)[1]


@pytest.mark.parametrize(
    ("starts_on", "day", "expected"),
    [
        # By hand: a July 1 year is named by the June it ends in.
        ("07-01", dt.date(2025, 6, 30), (2025, dt.date(2024, 7, 1), dt.date(2025, 6, 30))),
        ("07-01", dt.date(2025, 7, 1), (2026, dt.date(2025, 7, 1), dt.date(2026, 6, 30))),
        # A January 1 year is the calendar year itself.
        ("01-01", dt.date(2025, 1, 1), (2025, dt.date(2025, 1, 1), dt.date(2025, 12, 31))),
        ("01-01", dt.date(2024, 12, 31), (2024, dt.date(2024, 1, 1), dt.date(2024, 12, 31))),
        # A January 2 year ends on the next January 1.
        ("01-02", dt.date(2025, 1, 1), (2025, dt.date(2024, 1, 2), dt.date(2025, 1, 1))),
        ("01-02", dt.date(2025, 1, 2), (2026, dt.date(2025, 1, 2), dt.date(2026, 1, 1))),
        # A March 1 year ends on February 29 in a leap year.
        ("03-01", dt.date(2024, 2, 29), (2024, dt.date(2023, 3, 1), dt.date(2024, 2, 29))),
        ("12-31", dt.date(2025, 12, 30), (2025, dt.date(2024, 12, 31), dt.date(2025, 12, 30))),
    ],
)
def test_known_rule_years(
    starts_on: str, day: dt.date, expected: tuple[int, dt.date, dt.date]
) -> None:
    assert tuple(SchoolYears(starts_on).of(day)) == expected


@st.composite
def explicit_years(draw: st.DrawFn) -> list[SchoolYear]:
    """Consecutive explicit years: 1-4 of 350-380 days, each ending in the year it is named by.

    (Ed-Fi names a school year by the calendar year it ends in: a first year starting June to
    September and 350-380 days long ends in its label's year, and so do the next three.)
    """
    label = draw(st.integers(2000, 2040))
    start = draw(st.dates(dt.date(label - 1, 6, 1), dt.date(label - 1, 9, 30)))
    years = []
    for i in range(draw(st.integers(1, 4))):
        end = start + dt.timedelta(days=draw(st.integers(350, 380)))
        assert end.year == label + i
        years.append(SchoolYear(label + i, start, end))
        start = end + _DAY
    return years


@settings(max_examples=300)
@given(start=starts, explicit=explicit_years(), offset=st.integers(-800, 800))
def test_every_date_lies_in_its_year_and_years_follow_one_another(
    start: tuple[int, int], explicit: list[SchoolYear], offset: int
) -> None:
    month, first = start
    years = SchoolYears(f"{month:02d}-{first:02d}", explicit)
    base = explicit[0].start + dt.timedelta(days=offset)
    window = [base + dt.timedelta(days=i) for i in range(-3, len(explicit) * 380 + 3, 7)]
    for day in window:
        year = years.of(day)
        assert day in year, (day, year)
        inside = [y for y in explicit if y.start <= day <= y.end]
        if inside:
            assert year == inside[0]
        elif day < explicit[0].start:
            assert year.label < explicit[0].label
        else:
            assert year.label > explicit[-1].label
    # Day by day across every boundary near the explicit years: one year, or the next one.
    first_day = explicit[0].start - dt.timedelta(days=400)
    last_day = explicit[-1].end + dt.timedelta(days=400)
    day, current = first_day, years.of(first_day)
    while day < last_day:
        day += _DAY
        year = years.of(day)
        if year != current:
            assert year.start == current.end + _DAY == day, (current, year)
            assert year.label == current.label + 1, (current, year)
            current = year


def test_the_year_before_explicit_years_runs_up_to_their_first_day() -> None:
    # By hand: sessions start 2025-08-20 (year 2026); July 1 rule. The summer before them
    # (2025-07-01 .. 2025-08-19) belongs to 2025, which therefore ends on 2025-08-19.
    years = SchoolYears("07-01", [SchoolYear(2026, dt.date(2025, 8, 20), dt.date(2026, 6, 30))])
    expected = SchoolYear(2025, dt.date(2024, 7, 1), dt.date(2025, 8, 19))
    assert years.of(dt.date(2025, 8, 1)) == expected
    assert years.of(dt.date(2025, 6, 30)) == expected
    assert years.of(dt.date(2024, 6, 30)) == SchoolYear(
        2024, dt.date(2023, 7, 1), dt.date(2024, 6, 30)
    )
    # A first explicit year starting before the rule's day shortens the year before it.
    early = SchoolYears("07-01", [SchoolYear(2026, dt.date(2025, 6, 1), dt.date(2026, 6, 30))])
    assert early.of(dt.date(2025, 5, 31)) == SchoolYear(
        2025, dt.date(2024, 7, 1), dt.date(2025, 5, 31)
    )


def test_the_year_after_explicit_years_starts_the_day_after_the_last() -> None:
    # By hand: the last explicit year (2026) ends 2026-06-10; the next one starts 2026-06-11
    # and ends as the rule says, 2027-06-30.
    years = SchoolYears("07-01", [SchoolYear(2026, dt.date(2025, 7, 1), dt.date(2026, 6, 10))])
    expected = SchoolYear(2027, dt.date(2026, 6, 11), dt.date(2027, 6, 30))
    assert years.of(dt.date(2026, 6, 20)) == expected
    assert years.of(dt.date(2026, 7, 1)) == expected
    assert years.of(dt.date(2027, 7, 1)) == SchoolYear(
        2028, dt.date(2027, 7, 1), dt.date(2028, 6, 30)
    )
    # A last explicit year ending after the rule's day shortens the year after it.
    late = SchoolYears("07-01", [SchoolYear(2026, dt.date(2025, 7, 1), dt.date(2026, 7, 20))])
    assert late.of(dt.date(2026, 7, 21)) == SchoolYear(
        2027, dt.date(2026, 7, 21), dt.date(2027, 6, 30)
    )


def test_previous_is_the_year_that_ends_the_day_before() -> None:
    years = SchoolYears("08-01")
    this = years.of(dt.date(2026, 8, 1))
    assert years.previous(this) == SchoolYear(2026, dt.date(2025, 8, 1), dt.date(2026, 7, 31))
    explicit = SchoolYears(
        "07-01",
        [
            SchoolYear(2025, dt.date(2024, 8, 19), dt.date(2025, 8, 17)),
            SchoolYear(2026, dt.date(2025, 8, 18), dt.date(2026, 8, 16)),
        ],
    )
    assert explicit.previous(explicit.of(dt.date(2026, 1, 5))).label == 2025
    assert explicit.previous(explicit.of(dt.date(2024, 9, 1))) == SchoolYear(
        2024, dt.date(2023, 7, 1), dt.date(2024, 8, 18)
    )


def test_explicit_years_are_read_in_order_of_their_start() -> None:
    a = SchoolYear(2025, dt.date(2024, 8, 19), dt.date(2025, 8, 17))
    b = SchoolYear(2026, dt.date(2025, 8, 18), dt.date(2026, 8, 16))
    assert SchoolYears("07-01", [b, a]) == SchoolYears("07-01", [a, b])
    assert SchoolYears("07-01", [b, a]).of(dt.date(2024, 9, 1)) == a


@pytest.mark.parametrize(
    ("years", "message"),
    [
        (
            [SchoolYear(2026, dt.date(2025, 8, 1), dt.date(2025, 7, 31))],
            "school year 2026 ends before it starts",
        ),
        (
            [
                SchoolYear(2025, dt.date(2024, 8, 1), dt.date(2025, 7, 30)),
                SchoolYear(2026, dt.date(2025, 8, 1), dt.date(2026, 7, 31)),
            ],
            "school years 2024-2025 (2024-08-01..2025-07-30) and 2025-2026 "
            "(2025-08-01..2026-07-31) must follow one another",
        ),
        (
            [
                SchoolYear(2025, dt.date(2024, 8, 1), dt.date(2025, 7, 31)),
                SchoolYear(2025, dt.date(2025, 7, 31), dt.date(2026, 7, 31)),
            ],
            "must follow one another",
        ),
        (
            [
                SchoolYear(2025, dt.date(2024, 8, 1), dt.date(2025, 7, 31)),
                SchoolYear(2027, dt.date(2025, 8, 1), dt.date(2026, 7, 31)),
            ],
            "must follow one another: each starts the day after the one before ends",
        ),
    ],
)
def test_explicit_years_that_do_not_follow_one_another_are_refused(
    years: list[SchoolYear], message: str
) -> None:
    with pytest.raises(DataError) as caught:
        SchoolYears("07-01", years)
    assert caught.value.code == "calendar.invalid"
    assert message in caught.value.reason


def test_a_one_day_year_is_accepted() -> None:
    day = dt.date(2025, 7, 1)
    assert SchoolYears("07-01", [SchoolYear(2026, day, day)]).of(day) == (2026, day, day)


def test_equality_hash_and_repr_follow_the_start_day_and_the_explicit_years() -> None:
    a = SchoolYear(2026, dt.date(2025, 8, 1), dt.date(2026, 7, 31))
    assert SchoolYears("08-01") == SchoolYears("08-01")
    assert hash(SchoolYears("08-01", [a])) == hash(SchoolYears("08-01", [a]))
    assert SchoolYears("08-01") != SchoolYears("08-02")
    assert SchoolYears("08-01") != SchoolYears("09-01")
    assert SchoolYears("08-01") != SchoolYears("08-01", [a])
    assert hash(SchoolYears("08-01")) != hash(SchoolYears("08-02"))
    assert SchoolYears("08-01").__eq__("08-01") is NotImplemented
    assert repr(SchoolYears("08-01")) == "SchoolYears(starts=08-01)"
    assert repr(SchoolYears("12-25", [a])) == "SchoolYears(starts=12-25, 1 explicit)"


def test_a_school_year_prints_its_two_calendar_years_or_one() -> None:
    assert str(SchoolYear(2026, dt.date(2025, 7, 1), dt.date(2026, 6, 30))) == "2025-2026"
    assert str(SchoolYear(2025, dt.date(2025, 1, 1), dt.date(2025, 12, 31))) == "2025"
    year = SchoolYear(2026, dt.date(2025, 7, 1), dt.date(2026, 6, 30))
    assert dt.date(2025, 7, 1) in year and dt.date(2026, 6, 30) in year
    assert dt.date(2025, 6, 30) not in year and dt.date(2026, 7, 1) not in year
    assert "2025-07-01" not in year


def test_from_sessions_spans_each_years_sessions_up_to_the_next_year() -> None:
    # By hand from Grand Bend-like sessions (the docstring's example, extended).
    years = SchoolYears.from_sessions(
        [
            (2023, dt.date(2022, 8, 22), dt.date(2023, 5, 26)),
            (2022, dt.date(2022, 1, 4), dt.date(2022, 5, 27)),
            (2022, dt.date(2021, 8, 23), dt.date(2021, 12, 17)),
        ]
    )
    assert years.of(dt.date(2021, 8, 23)) == SchoolYear(
        2022, dt.date(2021, 8, 23), dt.date(2022, 8, 21)
    )
    # The last year runs at least to the rule's end (summer school after the last session).
    assert years.of(dt.date(2023, 6, 15)) == SchoolYear(
        2023, dt.date(2022, 8, 22), dt.date(2023, 6, 30)
    )
    # A last session past the rule's end keeps its own end.
    late = SchoolYears.from_sessions([(2023, dt.date(2022, 8, 22), dt.date(2023, 7, 14))])
    assert late.of(dt.date(2023, 7, 14)).end == dt.date(2023, 7, 14)
    assert late.of(dt.date(2023, 7, 15)).label == 2024
    # The start day given is used outside the sessions.
    aug = SchoolYears.from_sessions([(2023, dt.date(2022, 8, 22), dt.date(2023, 5, 26))], "08-15")
    assert aug.of(dt.date(2023, 9, 1)) == SchoolYear(
        2024, dt.date(2023, 8, 15), dt.date(2024, 8, 14)
    )


def test_answers_stay_right_after_the_cache_is_cleared() -> None:
    years = SchoolYears("07-01")
    day = dt.date(2000, 1, 1)
    for i in range(5000):
        d = day + dt.timedelta(days=i)
        assert years.of(d).start <= d <= years.of(d).end


def test_consecutive_explicit_years_pair_up_in_order() -> None:
    explicit = [
        SchoolYear(2025 + i, dt.date(2024 + i, 8, 1), dt.date(2025 + i, 7, 31)) for i in range(3)
    ]
    years = SchoolYears("07-01", explicit)
    for a, b in pairwise(explicit):
        assert years.previous(b) == a


def test_from_sessions_ends_each_of_three_years_where_the_next_begins() -> None:
    years = SchoolYears.from_sessions(
        [
            (2022, dt.date(2021, 8, 23), dt.date(2022, 5, 27)),
            (2023, dt.date(2022, 8, 22), dt.date(2023, 5, 26)),
            (2024, dt.date(2023, 8, 21), dt.date(2024, 5, 24)),
        ]
    )
    # By hand: each year ends the day before the next one's first session.
    assert years.of(dt.date(2022, 8, 21)).end == dt.date(2022, 8, 21)
    assert years.of(dt.date(2023, 8, 20)) == SchoolYear(
        2023, dt.date(2022, 8, 22), dt.date(2023, 8, 20)
    )


def test_previous_of_a_year_after_a_one_day_year_is_that_day() -> None:
    day = dt.date(2025, 8, 1)
    years = SchoolYears(
        "07-01",
        [SchoolYear(2025, day, day), SchoolYear(2026, dt.date(2025, 8, 2), dt.date(2026, 6, 30))],
    )
    assert years.previous(years.of(dt.date(2025, 9, 1))) == SchoolYear(2025, day, day)
