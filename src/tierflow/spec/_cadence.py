"""Cadence rules: the part of an RFC 5545 RRULE a follow-up needs, checked at load, bounded.

A follow-up falls on a school day, so a cadence rule counts in days, weeks, months or years
(``FREQ=DAILY`` or coarser) and may say which days (``BYDAY``, ``BYMONTHDAY``, ``BYMONTH``,
``BYYEARDAY``, ``BYSETPOS``, ``WKST``), how many periods apart (``INTERVAL``) and until when
(``UNTIL``). The rule starts again at each follow-up (its DTSTART is the last follow-up), so
``COUNT`` would mean nothing (``COUNT=1`` would end the follow-ups at once) and is refused, as are
times of day and ``BYWEEKNO``.

:func:`parse_rrule` refuses, with a plain message, what python-dateutil refuses and what cannot
give a follow-up within :data:`HORIZON_DAYS` of a start (``FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30``
made dateutil search to the year 9999: about 6 s a follow-up). :meth:`Recurrence.occurrences`
lists the occurrences within a window, one period at a time, so finding a follow-up takes at most
two years of periods however rare the rule; it agrees with dateutil (``tests/spec/test_cadence``).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["HORIZON_DAYS", "Recurrence", "parse_rrule"]

HORIZON_DAYS = 731
"""How far after a start a cadence rule must have an occurrence: two years (one a leap year)."""

_FREQS = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY")
_FINER = ("HOURLY", "MINUTELY", "SECONDLY")
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_MAX_INTERVAL = 1_000
_MAX_VALUES = 400
_NAME = re.compile(r"[A-Z]+\Z")
_NTH_DAY = re.compile(r"([+-]?)(\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)\Z")
_INTEGER = re.compile(r"[+-]?\d+\Z")
_UNTIL = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T\d{6})?\Z")
_UNSUPPORTED = {
    "COUNT": "the rule starts again at each follow-up, so COUNT means nothing; use UNTIL",
    "BYHOUR": "follow-ups are dates, not times of day",
    "BYMINUTE": "follow-ups are dates, not times of day",
    "BYSECOND": "follow-ups are dates, not times of day",
    "BYWEEKNO": "week numbers are not supported; use BYMONTH, BYMONTHDAY or BYDAY",
    "BYEASTER": "BYEASTER is not part of RFC 5545",
    "DTSTART": "the rule starts at each follow-up",
}
_SAMPLE_STARTS = tuple(dt.date(2027 + m // 12, m % 12 + 1, 1) for m in range(24))
"""Starts a rule must give an occurrence after: the first of each month of 2027 and 2028."""


@dataclass(frozen=True)
class Recurrence:
    """A checked cadence rule (see the module docstring). Weekdays are 0 (Monday) to 6.

    Attributes:
        freq: ``YEARLY``, ``MONTHLY``, ``WEEKLY`` or ``DAILY``.
        interval: Periods between two periods the rule uses.
        until: The last day an occurrence may fall on.
        bymonth: Months (1-12).
        bymonthday: Days of the month, negative from its end (-1 is the last).
        byyearday: Days of the year, negative from its end.
        weekdays: Weekdays (``BYDAY=MO,TH``).
        nth_weekdays: Numbered weekdays, ``(n, weekday)`` (``BYDAY=1MO,-1FR``).
        bysetpos: Positions among a period's days, negative from its end.
        wkst: The weekday a week starts on.
    """

    freq: str
    interval: int = 1
    until: dt.date | None = None
    bymonth: frozenset[int] = frozenset()
    bymonthday: frozenset[int] = frozenset()
    byyearday: frozenset[int] = frozenset()
    weekdays: frozenset[int] = frozenset()
    nth_weekdays: frozenset[tuple[int, int]] = frozenset()
    bysetpos: tuple[int, ...] = ()
    wkst: int = 0

    def occurrences(
        self, start: dt.date, last: dt.date, memo: dict[Any, list[dt.date]] | None = None
    ) -> Iterator[dt.date]:
        """Yield, in order, the rule's days after ``start`` up to ``last``, starting at ``start``.

        Work is bounded by the window: one step per period from ``start`` to ``last`` (days,
        weeks, months or years) and per day in each period. ``memo`` keeps each period's days
        for the next call with other starts (the load check asks from 24 starts).

        >>> thursdays = parse_rrule("FREQ=WEEKLY;BYDAY=TH")
        >>> list(thursdays.occurrences(dt.date(2025, 9, 4), dt.date(2025, 9, 18)))
        [datetime.date(2025, 9, 11), datetime.date(2025, 9, 18)]
        """
        if self.until is not None:
            last = min(last, self.until)
        months, monthdays, weekdays = self.bymonth, self.bymonthday, self.weekdays
        if not (monthdays or self.byyearday or weekdays or self.nth_weekdays):
            # RFC 5545: what the rule leaves open is taken from its start.
            if self.freq == "YEARLY":
                months = months or frozenset({start.month})
                monthdays = frozenset({start.day})
            elif self.freq == "MONTHLY":
                monthdays = frozenset({start.day})
            elif self.freq == "WEEKLY":
                weekdays = frozenset({start.weekday()})
        for period in self._periods(start, last, months):
            key = (period[0], len(period), months, monthdays, weekdays) if period else None
            days = memo.get(key) if memo is not None else None
            if days is None:
                days = [
                    d
                    for d in period
                    if (not months or d.month in months)
                    and (not monthdays or _matches(d.day, _month_length(d), monthdays))
                    and (
                        not self.byyearday or _matches(_yearday(d), _year_length(d), self.byyearday)
                    )
                    and (not weekdays or d.weekday() in weekdays)
                    and (not self.nth_weekdays or self._is_nth_weekday(d))
                ]
                if self.bysetpos:
                    days = sorted(
                        {days[p - 1 if p > 0 else p] for p in self.bysetpos if _has(days, p)}
                    )
                if memo is not None:
                    memo[key] = days
            for d in days:
                if d > last:
                    return
                if d > start:
                    yield d

    def _periods(
        self, start: dt.date, last: dt.date, allowed: frozenset[int]
    ) -> Iterator[list[dt.date]]:
        """Yield the days of each period the rule uses, from the one holding ``start``.

        Days outside the ``allowed`` months (when given) could not pass the filter: a month
        or year leaves them out, and a daily rule steps over them.
        """
        end = last.toordinal()
        if self.freq in ("DAILY", "WEEKLY"):
            # Day numbers, not dates: a period's start may lie past the last date there is.
            day = start.toordinal()
            length, step = 1, self.interval
            if self.freq == "WEEKLY":
                # As dateutil, the first week is counted from the start (which BYSETPOS sees),
                # the next ones from their first day.
                length, step = 7 - (start.weekday() - self.wkst) % 7, 7 * self.interval
            while day <= end:
                if self.freq == "DAILY" and allowed and (month := _month_of(day)) not in allowed:
                    # To the first day of the next allowed month, in step with the interval.
                    day += -(-(_next_month_start(day, month, allowed) - day) // step) * step
                    continue
                # A week is whole even past ``last``: BYSETPOS counts in the whole period (the
                # last Thursday of a week ending after ``last`` is not its Monday). Only a week
                # running past the last date there is stays cut; BYSETPOS has no answer there.
                stop = day + length
                if stop > _LAST_ORDINAL + 1:
                    if self.bysetpos:
                        return
                    stop = _LAST_ORDINAL + 1
                yield [dt.date.fromordinal(d) for d in range(day, stop)]
                if self.freq == "WEEKLY" and length < 7:
                    day, length = day + length - 7, 7  # back to the first day of that week
                day += step
            return
        months = 12 if self.freq == "YEARLY" else 1
        index = start.year * 12 + (start.month - 1 if months == 1 else 0)
        while index // 12 <= last.year:
            year, month = divmod(index, 12)
            wanted = [m for m in range(1, 13) if not allowed or m in allowed]
            yield [
                dt.date(year, m, d)
                for m in (wanted if months == 12 else [month + 1] if month + 1 in wanted else [])
                for d in range(1, calendar.monthrange(year, m)[1] + 1)
            ]
            index += months * self.interval

    def _is_nth_weekday(self, d: dt.date) -> bool:
        # Numbered within the month (MONTHLY, or YEARLY with BYMONTH), else within the year.
        if self.freq == "MONTHLY" or self.bymonth:
            position, length = d.day, _month_length(d)
        else:
            position, length = _yearday(d), _year_length(d)
        wd = d.weekday()
        first, from_end = (position - 1) // 7 + 1, -((length - position) // 7 + 1)
        return (first, wd) in self.nth_weekdays or (from_end, wd) in self.nth_weekdays


_LAST_ORDINAL = dt.date.max.toordinal()


def _month_of(ordinal: int) -> int:
    return dt.date.fromordinal(ordinal).month


def _next_month_start(ordinal: int, month: int, allowed: frozenset[int]) -> int:
    """The day number of the first day of the first month in ``allowed`` after ``ordinal``'s."""
    year = dt.date.fromordinal(ordinal).year
    for _ in range(12):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if month in allowed:
            break
    if year > dt.MAXYEAR:
        return dt.date.max.toordinal() + 1
    return dt.date(year, month, 1).toordinal()


def _has(days: list[dt.date], p: int) -> bool:
    return 1 <= p <= len(days) or -len(days) <= p <= -1


def _matches(position: int, length: int, wanted: frozenset[int]) -> bool:
    return position in wanted or position - length - 1 in wanted


def _yearday(d: dt.date) -> int:
    return d.timetuple().tm_yday


def _year_length(d: dt.date) -> int:
    return 366 if calendar.isleap(d.year) else 365


def _month_length(d: dt.date) -> int:
    return calendar.monthrange(d.year, d.month)[1]


@functools.lru_cache(maxsize=1024)
def parse_rrule(text: str) -> Recurrence:
    """Check a cadence rule and return it.

    Raises:
        ValueError: Saying what is wrong, if the rule is not one a cadence can use.

    >>> parse_rrule("FREQ=MONTHLY;BYDAY=-1FR").nth_weekdays
    frozenset({(-1, 4)})
    >>> parse_rrule("FREQ=DAILY;BYHOUR=25")
    Traceback (most recent call last):
    ...
    ValueError: BYHOUR is not allowed in a cadence: follow-ups are dates, not times of day
    """
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    parts: dict[str, str] = {}
    for item in body.split(";"):
        if not item.strip():
            continue
        name, eq, value = item.partition("=")
        name = name.strip().upper()
        if not eq or not _NAME.match(name) or not value.strip():
            raise ValueError(f"{item!r} is not NAME=VALUE; write e.g. 'FREQ=WEEKLY;BYDAY=MO'")
        if name in parts:
            raise ValueError(f"{name} is given twice")
        parts[name] = value.strip().upper()
    freq = parts.get("FREQ")
    if freq is None:
        raise ValueError("FREQ is missing; start with e.g. 'FREQ=WEEKLY'")
    if freq in _FINER:
        raise ValueError(
            f"FREQ={freq} is finer than a day: follow-ups fall on school days "
            "(use DAILY, WEEKLY, MONTHLY or YEARLY)"
        )
    if freq not in _FREQS:
        raise ValueError(f"unknown FREQ {freq!r}; use DAILY, WEEKLY, MONTHLY or YEARLY")
    for name in parts:
        if name in _UNSUPPORTED:
            raise ValueError(f"{name} is not allowed in a cadence: {_UNSUPPORTED[name]}")
    known = {"FREQ", "INTERVAL", "UNTIL", "BYMONTH", "BYMONTHDAY", "BYYEARDAY"}
    known |= {"BYDAY", "BYSETPOS", "WKST"}
    for name in parts:
        if name not in known:
            raise ValueError(f"unknown rule part {name}; use {', '.join(sorted(known))}")
    interval = _integers(parts, "INTERVAL", 1, _MAX_INTERVAL, signed=False)
    if "INTERVAL" in parts and len(interval) != 1:
        raise ValueError("INTERVAL is one number")
    weekdays: set[int] = set()
    nth: set[tuple[int, int]] = set()
    for item in _items(parts, "BYDAY"):
        m = _NTH_DAY.match(item)
        if m is None:
            raise ValueError(f"BYDAY {item!r} is not a weekday such as MO, 1MO or -1FR")
        sign, number, day = m.groups()
        wd = _WEEKDAYS.index(day)
        if number is None:
            if sign:
                raise ValueError(f"BYDAY {item!r} has a sign but no number")
            weekdays.add(wd)
            continue
        if freq not in ("MONTHLY", "YEARLY"):
            raise ValueError(f"a numbered BYDAY such as {item!r} needs FREQ=MONTHLY or YEARLY")
        n = int(number) * (-1 if sign == "-" else 1)
        limit = 5 if freq == "MONTHLY" or "BYMONTH" in parts else 53
        if not 1 <= abs(n) <= limit:
            raise ValueError(
                f"BYDAY {item!r}: the number must be from 1 to {limit} (or -1 to -{limit})"
            )
        nth.add((n, wd))
    if weekdays and nth:
        raise ValueError("BYDAY mixes weekdays with numbered weekdays (MO,1TU); write one kind")
    wkst = parts.get("WKST", "MO")
    if wkst not in _WEEKDAYS:
        raise ValueError(f"WKST {wkst!r} is not a weekday (MO ... SU)")
    rule = Recurrence(
        freq=freq,
        interval=interval[0] if interval else 1,
        until=_until(parts.get("UNTIL")),
        bymonth=frozenset(_integers(parts, "BYMONTH", 1, 12, signed=False)),
        bymonthday=frozenset(_integers(parts, "BYMONTHDAY", 1, 31)),
        byyearday=frozenset(_integers(parts, "BYYEARDAY", 1, 366)),
        weekdays=frozenset(weekdays),
        nth_weekdays=frozenset(nth),
        bysetpos=tuple(sorted(set(_integers(parts, "BYSETPOS", 1, 366)))),
        wkst=_WEEKDAYS.index(wkst),
    )
    _check_dateutil(";".join(f"{k}={v}" for k, v in parts.items()))
    unbounded = dataclasses.replace(rule, until=None)  # UNTIL ends follow-ups, as it should
    memo: dict[Any, list[dt.date]] = {}
    for start in _SAMPLE_STARTS:
        horizon = start + dt.timedelta(days=HORIZON_DAYS)
        if next(unbounded.occurrences(start, horizon, memo), None) is None:
            raise ValueError(
                f"the rule gives no day in the two years after {start.isoformat()}, so follow-ups "
                "would stop; check its months, days and INTERVAL"
            )
    return rule


def _items(parts: dict[str, str], name: str) -> list[str]:
    value = parts.get(name)
    if value is None:
        return []
    items = [v.strip() for v in value.split(",")]
    if len(items) > _MAX_VALUES:
        raise ValueError(f"{name} lists more than {_MAX_VALUES} values")
    return items


def _integers(
    parts: dict[str, str], name: str, low: int, high: int, *, signed: bool = True
) -> list[int]:
    out = []
    for item in _items(parts, name):
        if not _INTEGER.match(item):
            raise ValueError(f"{name} {item!r} is not a whole number")
        n = int(item)
        if not (low <= n <= high or (signed and -high <= n <= -low)):
            span = f"{low} to {high}" + (f" or -{low} to -{high}" if signed else "")
            raise ValueError(f"{name}={item} is out of range: {span}")
        out.append(n)
    return out


def _until(value: str | None) -> dt.date | None:
    if value is None:
        return None
    m = _UNTIL.match(value)
    if m is None:
        raise ValueError(
            f"UNTIL {value!r} is not a date such as 20260630 (follow-ups are dates: no time zone)"
        )
    year, month, day = (int(g) for g in m.groups())
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"UNTIL {value!r}: {exc}") from exc


def _check_dateutil(text: str) -> None:
    """Refuse what python-dateutil refuses (building the rule only: nothing is iterated)."""
    from dateutil.rrule import rrulestr

    try:
        rrulestr(text, dtstart=dt.datetime(2000, 1, 3))
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"python-dateutil refuses the rule: {exc}") from exc
