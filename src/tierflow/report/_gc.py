"""Pausing Python's cyclic garbage collector while a report reads a district.

A district report makes a few million small, acyclic records (one per event row, student and
window) and keeps most of them until it returns. CPython's cycle collector runs whenever
allocations outnumber deallocations by a threshold, and each full pass walks every tracked
object alive, the host's own data included, to find cycles none of these records can form.
On the store benchmark's 50,000-student year that walking was a third of the effectiveness
report's CPU time (6.5 s with it, 4.4 s without; benchmarks/README.md).

:func:`collection_paused` pauses the collector for the report's duration and restores it:

* nested and concurrent reports share one pause; the last to finish resumes collection;
* a host that disabled the collector itself keeps it disabled;
* nothing is freed later than it would be without cycles: reference counting, which frees
  almost everything, is untouched; only the search for cycles waits.

The pause is process-wide (``gc`` has no other kind): a thread that makes cyclic garbage while
a report runs has it collected when the report ends, not before.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

__all__ = ["collection_paused", "pauses_collection"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

_lock = threading.Lock()
_pausing = 0  # reports inside a pause now
_resume = False  # whether the collector was on when the first of them began


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause cyclic garbage collection inside the ``with`` block (see the module docstring).

    >>> import gc
    >>> with collection_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    global _pausing, _resume
    with _lock:
        if _pausing == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pausing += 1
    try:
        yield
    finally:
        with _lock:
            _pausing -= 1
            if _pausing == 0 and _resume:
                gc.enable()


def pauses_collection(report: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run every call of ``report`` inside :func:`collection_paused`."""

    @functools.wraps(report)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with collection_paused():
            return report(*args, **kwargs)

    return paused
