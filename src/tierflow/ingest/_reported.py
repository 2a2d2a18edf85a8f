"""The one way a streaming reader hands over a record it cannot read: to a :class:`DataReport`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from tierflow.errors import DataError, DataReport

__all__ = ["reported"]

T = TypeVar("T")


def reported(items: Iterable[T | DataError], report: DataReport | None) -> Iterator[T]:
    """Yield the records of ``items``; put each :class:`DataError` in ``report``.

    A refused record is counted in ``report`` (read and rejected) and the stream goes on; the
    records yielded are counted by whoever takes them. Without a report the first refused
    record is raised, as :meth:`~tierflow.CompiledRuleset.evaluate_many` does.

    Raises:
        DataError: A record cannot be read and no ``report`` was given.
    """
    for item in items:
        if not isinstance(item, DataError):
            yield item
        elif report is None:
            raise item
        else:
            report.reject(item)
