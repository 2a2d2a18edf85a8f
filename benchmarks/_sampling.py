"""Alternating samples of process CPU time, with the garbage collector on or off.

The benchmarks compare tierflow with hand-written code on a machine other work shares. One run
of each is not a comparison: a burst of other work lands on one side. So the sides alternate
(tierflow, baseline, tierflow, ...), each sample is the process CPU time of one run (time other
processes take is not counted; time this process spends in the collector is), and the ratio
is given for each pair of neighbouring samples, with its median and spread.

Whatever a run returns is kept until its time is taken, then dropped: a host that keeps the
results pays for making them, not for freeing them.

Three settings of the garbage collector: ``"on"`` (as a host that does nothing about it),
``"freeze"`` (``gc.freeze()`` just before the run, as a host that freezes what it loaded: the
collector still runs, but no longer walks the objects that were there before) and ``"off"``
(disabled during the run: the ceiling). The collector is as it was after each run.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["GC_SETTINGS", "Samples", "alternate", "collector_set"]


@dataclass(frozen=True)
class Samples:
    """CPU seconds of each side, one per round, in the order they were taken."""

    times: dict[str, list[float]]

    def best(self, name: str) -> float:
        """The fastest run of ``name``."""
        return min(self.times[name])

    def median(self, name: str) -> float:
        """The median run of ``name``."""
        return statistics.median(self.times[name])

    def ratios(self, name: str, base: str) -> list[float]:
        """``name``'s time over ``base``'s, round by round."""
        return [a / b for a, b in zip(self.times[name], self.times[base], strict=True)]

    def ratio(self, name: str, base: str) -> str:
        """``1.23x (1.10-1.40x)``: the median ratio and the min-max of the rounds."""
        r = self.ratios(name, base)
        return f"{statistics.median(r):.2f}x ({min(r):.2f}-{max(r):.2f}x)"


GC_SETTINGS = ("on", "freeze", "off")


@contextmanager
def collector_set(setting: str) -> Iterator[None]:
    """Collect, then run the block with the collector ``"on"``, frozen (``"freeze"``) or ``"off"``.

    The collector is enabled and unfrozen again after the block.
    """
    if setting not in GC_SETTINGS:
        raise ValueError(f"collector must be one of {GC_SETTINGS}, got {setting!r}")
    gc.collect()
    if setting == "freeze":
        gc.freeze()
    elif setting == "off":
        gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def alternate(
    runs: Mapping[str, Callable[[], object]], rounds: int, *, collector: str = "on"
) -> Samples:
    """Run each of ``runs`` once a round, in turn, for ``rounds`` rounds; time each run.

    Args:
        runs: What to time, by name; each is called with no argument.
        rounds: How many samples of each (at least 5 for a figure worth reporting).
        collector: ``"on"``, ``"freeze"`` or ``"off"`` (see the module's docstring).
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            with collector_set(collector):
                started = time.process_time()
                kept = run()
                times[name].append(time.process_time() - started)
            del kept
    return Samples(times)
