"""The work queue benchmark runs small, and its hand-written baseline catches a wrong answer.

Timing is never asserted: this runs ``benchmarks/bench_queue.py`` on a small year, where a queue
that differs from the hand-written query's fails the run.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SMALL = ["--students", "300", "--cadence", "60", "--repeat", "1"]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_queue", BENCHMARKS / "bench_queue.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_queue_benchmark_runs_small(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load().main(SMALL) == 0
    out = capsys.readouterr().out
    assert "year: 300 students filled" in out
    assert out.count("same items as the hand-written query") == 2
    assert "MISMATCH" not in out


def test_a_baseline_that_forgets_an_item_is_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = _load()
    real = bench.queue_by_hand

    def forgets_the_last(*args: Any) -> Any:
        return real(*args)[:-1]

    monkeypatch.setattr(bench, "queue_by_hand", forgets_the_last)
    assert bench.main(SMALL) == 1
    assert "MISMATCH" in capsys.readouterr().out
