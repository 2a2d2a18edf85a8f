"""Test helpers: what a reader yielded and refused, in the order it met them in the file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from tierflow.attendance import CalendarSet
from tierflow.errors import DataError, DataReport


def read_all(reader: Callable[..., Iterator[Any]], path: Any, **kwargs: Any) -> list[Any]:
    """Every record ``reader`` yields and every :class:`DataError` it reports, in file order."""
    out: list[Any] = []

    class InOrder(DataReport):
        def reject(self, error: DataError) -> None:
            super().reject(error)
            out.append(error)

    for item in reader(path, report=InOrder(), **kwargs):
        out.append(item)
    return out


def calendar_problems(found: CalendarSet) -> list[DataError]:
    """A calendar file's rejected records, then its warnings (refused calendars, sessions)."""
    return found.report.rejects + found.report.warnings
