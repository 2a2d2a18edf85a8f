"""Cadence rules: what is refused at load, and the occurrences agree with python-dateutil."""

from __future__ import annotations

import datetime as dt

import pytest
from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierflow.spec import CadenceSpec
from tierflow.spec._cadence import HORIZON_DAYS, parse_rrule


@pytest.mark.parametrize(
    ("rrule", "says"),
    [
        ("FREQ=SECONDLY;BYHOUR=25", "FREQ=SECONDLY is finer than a day"),
        ("FREQ=HOURLY", "FREQ=HOURLY is finer than a day"),
        ("FREQ=FORTNIGHTLY", "unknown FREQ 'FORTNIGHTLY'"),
        ("BYDAY=MO", "FREQ is missing"),
        ("FREQ=DAILY;BYHOUR=9", "BYHOUR is not allowed in a cadence"),
        ("FREQ=WEEKLY;COUNT=1", "COUNT is not allowed in a cadence"),
        ("FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO is not allowed"),
        ("FREQ=YEARLY;BYEASTER=0", "BYEASTER is not allowed"),
        ("FREQ=WEEKLY;FOO=1", "unknown rule part FOO"),
        ("FREQ=WEEKLY;FREQ=DAILY", "FREQ is given twice"),
        ("FREQ=WEEKLY;BYDAY", "'BYDAY' is not NAME=VALUE"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY=0 is out of range: 1 to 31 or -1 to -31"),
        ("FREQ=MONTHLY;BYMONTHDAY=-32", "BYMONTHDAY=-32 is out of range"),
        ("FREQ=YEARLY;BYMONTH=13", "BYMONTH=13 is out of range: 1 to 12"),
        ("FREQ=YEARLY;BYYEARDAY=367", "BYYEARDAY=367 is out of range"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL=0 is out of range: 1 to 1000"),
        ("FREQ=DAILY;INTERVAL=" + "9" * 300, "is out of range: 1 to 1000"),
        ("FREQ=DAILY;INTERVAL=1,2", "INTERVAL is one number"),
        ("FREQ=WEEKLY;BYDAY=XX", "BYDAY 'XX' is not a weekday"),
        ("FREQ=WEEKLY;BYDAY=1MO", "a numbered BYDAY such as '1MO' needs FREQ=MONTHLY"),
        ("FREQ=MONTHLY;BYDAY=6MO", "the number must be from 1 to 5"),
        ("FREQ=MONTHLY;BYDAY=MO,1TU", "BYDAY mixes weekdays with numbered weekdays"),
        ("FREQ=WEEKLY;WKST=XX", "WKST 'XX' is not a weekday"),
        ("FREQ=WEEKLY;UNTIL=2026", "UNTIL '2026' is not a date"),
        ("FREQ=WEEKLY;UNTIL=20260230", "UNTIL '20260230': day is out of range"),
        ("FREQ=WEEKLY;UNTIL=20260630T000000Z", "is not a date such as 20260630"),
        ("FREQ=WEEKLY;BYMONTHDAY=" + ",".join(["1"] * 401), "more than 400 values"),
        # No day at all, or none in two years from some start (hand-checked calendars):
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "gives no day in the two years after 2027-01-01"),
        ("FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31", "gives no day in the two years after 2027-01-01"),
        # Every 12 months from a start in February: only Februaries, which have no 31st.
        ("FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=31", "after 2027-02-01"),
        ("FREQ=WEEKLY;INTERVAL=105", "after 2027-01-01"),  # the next week is 735 days on
        # A fifth Monday in February needs a leap year starting on a Monday: 2044 is next.
        ("FREQ=YEARLY;BYMONTH=2;BYDAY=5MO", "after 2027-01-01"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", "after 2027-01-01"),  # at most 5 Mondays a month
        # From March 2028 the next February 29 is in 2032.
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "after 2028-03-01"),
    ],
)
def test_refused_rules_say_why(rrule: str, says: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_rrule(rrule)
    assert says in str(info.value)
    with pytest.raises(ValueError, match=r"invalid rrule|at most 400 characters"):
        CadenceSpec(rrule=rrule)


@pytest.mark.parametrize(
    "rrule",
    [
        "FREQ=WEEKLY;BYDAY=MO,TH",
        "FREQ=MONTHLY",
        "freq=monthly;byday=-1fr",
        "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;",
        "FREQ=WEEKLY;INTERVAL=104",
        "FREQ=YEARLY",
        "FREQ=DAILY;INTERVAL=730",
        "FREQ=WEEKLY;UNTIL=20000101",  # ended long ago: no follow-ups, as it says
    ],
)
def test_rules_a_cadence_can_use_are_accepted(rrule: str) -> None:
    parse_rrule(rrule)
    assert CadenceSpec(rrule=rrule).rrule == rrule.strip()


def test_the_examples_of_the_issue_are_hand_checked() -> None:
    # September 2025: the 1st is a Monday; the last Friday is the 26th.
    rule = parse_rrule("FREQ=MONTHLY;BYDAY=-1FR")
    start = dt.date(2025, 9, 1)
    assert list(rule.occurrences(start, dt.date(2025, 11, 30))) == [
        dt.date(2025, 9, 26),
        dt.date(2025, 10, 31),
        dt.date(2025, 11, 28),
    ]
    weekdays_last = parse_rrule("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1")
    assert list(weekdays_last.occurrences(start, dt.date(2025, 12, 31))) == [
        dt.date(2025, 9, 30),
        dt.date(2025, 10, 31),
        dt.date(2025, 11, 28),  # the 30th is a Sunday
        dt.date(2025, 12, 31),
    ]


WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@st.composite
def rules(draw: st.DrawFn, until: bool) -> str:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}"]
    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 5))}")
    days = st.integers(1, 31) | st.integers(-31, -1)
    for name, values in [
        ("BYMONTH", st.integers(1, 12)),
        ("BYMONTHDAY", days),
        ("BYYEARDAY", st.integers(1, 366) | st.integers(-366, -1)),
        ("BYSETPOS", st.integers(1, 4) | st.integers(-4, -1)),
    ]:
        if draw(st.integers(0, 3)) == 0:
            chosen = draw(st.lists(values, min_size=1, max_size=3))
            parts.append(f"{name}={','.join(map(str, chosen))}")
    kind = draw(st.sampled_from(["none", "plain", "nth"]))
    if kind == "plain" or (kind == "nth" and freq in ("DAILY", "WEEKLY")):
        parts.append("BYDAY=" + ",".join(draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1))))
    elif kind == "nth":
        n = st.integers(1, 4) | st.integers(-4, -1)
        chosen = draw(st.lists(st.tuples(n, st.sampled_from(WEEKDAYS)), min_size=1, max_size=3))
        parts.append("BYDAY=" + ",".join(f"{k}{d}" for k, d in chosen))
    if draw(st.booleans()):
        parts.append(f"WKST={draw(st.sampled_from(WEEKDAYS))}")
    if until and draw(st.booleans()):
        parts.append(f"UNTIL={draw(st.dates(dt.date(9995, 1, 1), dt.date(9999, 12, 31))):%Y%m%d}")
    return ";".join(parts)


def dateutil_days(rrule: str, start: dt.date, last: dt.date) -> list[dt.date]:
    rule = rrulestr(rrule, dtstart=dt.datetime.combine(start, dt.time()))
    out = []
    try:
        for occurrence in rule.xafter(dt.datetime.combine(start, dt.time())):
            if occurrence.date() > last:
                break
            out.append(occurrence.date())
    except ValueError as exc:  # a week running into the year 10000, after every day asked for
        assert "year 10000 is out of range" in str(exc)
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The last start whose window (HORIZON_DAYS = 731 days) still ends in the year 9999.
@given(rrule=rules(until=True), start=st.dates(dt.date(9995, 1, 1), dt.date(9997, 12, 30)))
def test_occurrences_agree_with_dateutil_to_the_end_of_the_calendar(
    rrule: str, start: dt.date
) -> None:
    # Near the year 9999 dateutil's search for a rare rule's next day ends soon, so it can list
    # everything (or nothing) in the window, as a second implementation.
    try:
        rule = parse_rrule(rrule)
    except ValueError:
        return
    last = start + dt.timedelta(days=HORIZON_DAYS)
    assert list(rule.occurrences(start, last)) == dateutil_days(rrule, start, last)


@settings(max_examples=300, deadline=None)
@given(rrule=rules(until=False), start=st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31)))
def test_occurrences_agree_with_dateutil_in_school_years(rrule: str, start: dt.date) -> None:
    try:
        rule = parse_rrule(rrule)
    except ValueError:
        return
    last = start + dt.timedelta(days=HORIZON_DAYS)
    assert list(rule.occurrences(start, last)) == dateutil_days(rrule, start, last)


def test_a_first_week_of_one_day_is_not_stepped_over_as_a_day() -> None:
    # 2025-09-28 is a Sunday, the last day of its week: the rule's first period is that one
    # day, in a month the rule leaves out; the Wednesdays of October 2025 are the 1st, 8th,
    # 15th, 22nd and 29th (hypothesis found the case near the year 9999).
    rule = parse_rrule("FREQ=WEEKLY;BYMONTH=10;BYDAY=WE")
    assert list(rule.occurrences(dt.date(2025, 9, 28), dt.date(2025, 10, 31))) == [
        dt.date(2025, 10, d) for d in (1, 8, 15, 22, 29)
    ]


def test_bysetpos_counts_in_a_whole_week_that_ends_after_the_window() -> None:
    # Mondays and Thursdays, the last of each week: the week of Monday 2025-09-29 ends on
    # Sunday 2025-10-05, and its last such day is Thursday 2025-10-02, after the window's end
    # on 2025-09-30. Its Monday must not stand in for it (RFC 5545: BYSETPOS counts within
    # the whole interval); the Thursday before is 2025-09-25.
    rule = parse_rrule("FREQ=WEEKLY;BYSETPOS=-1;BYDAY=MO,TH")
    assert list(rule.occurrences(dt.date(2025, 9, 20), dt.date(2025, 9, 30))) == [
        dt.date(2025, 9, 25)
    ]
