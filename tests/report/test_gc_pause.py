"""The reports' pause of the cycle collector: always undone, shared, and respectful of a host's."""

from __future__ import annotations

import datetime as dt
import gc
import threading
from collections.abc import Iterator

import pytest

from tierflow.report import effectiveness, equity_report, operations
from tierflow.report._gc import collection_paused
from tierflow.workflow import CaseSummary, InMemoryRepository, Roster


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_the_collector_is_paused_inside_and_resumed_after_an_error() -> None:
    with pytest.raises(RuntimeError), collection_paused():
        assert not gc.isenabled()
        raise RuntimeError("a report failed")
    assert gc.isenabled()


def test_nested_pauses_resume_only_when_the_outer_one_ends() -> None:
    with collection_paused():
        with collection_paused():
            pass
        assert not gc.isenabled()  # the inner one ended; the outer report still runs
    assert gc.isenabled()


def test_a_host_that_turned_the_collector_off_keeps_it_off() -> None:
    gc.disable()
    with collection_paused():
        pass
    assert not gc.isenabled()


def test_concurrent_reports_share_one_pause() -> None:
    first_in, second_done, states = threading.Event(), threading.Event(), []

    def first() -> None:
        with collection_paused():
            first_in.set()
            second_done.wait(10)
            states.append(gc.isenabled())  # the other report ended: still paused for this one

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(10)
    with collection_paused():
        pass
    second_done.set()
    thread.join(10)
    assert states == [False]
    assert gc.isenabled()


class _Watching(InMemoryRepository):
    """A store that notes whether the collector ran while a report read its cases."""

    def __init__(self) -> None:
        super().__init__()
        self.collecting: list[bool] = []

    def cases(self, *, open_only: bool = False) -> list[CaseSummary]:
        self.collecting.append(gc.isenabled())
        return super().cases(open_only=open_only)


@pytest.mark.parametrize("report", ["operations", "equity", "effectiveness"])
def test_the_district_reports_read_with_the_collector_paused(report: str) -> None:
    repo, day = _Watching(), dt.date(2025, 10, 6)
    if report == "operations":
        operations(repo, Roster(), as_of=day)
    elif report == "equity":
        equity_report(repo, [], as_of=day)
    else:
        effectiveness(repo, {}, as_of=day)
    assert repo.collecting == [False]
    assert gc.isenabled()
