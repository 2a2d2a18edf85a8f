"""The Dask benchmark runs small, and runs that disagree are a mismatch, not figures."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("distributed")
pytestmark = pytest.mark.slow  # two LocalClusters a run: CI's second pass
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_dask", BENCHMARKS / "bench_dask.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_dask_benchmark_runs_small(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load().main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "1 and 2 workers agree" in out and "6,000,000 students on 128 workers" in out


def test_workers_that_disagree_are_a_mismatch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = _load()
    real = bench.outcomes

    def two_workers_lose_a_student(decisions: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        found = real(decisions)
        return found[1:] if len(found) > 1500 else found  # the runs, not the sample

    monkeypatch.setattr(bench, "outcomes", two_workers_lose_a_student)
    assert bench.main(["--quick"]) == 1
    assert "MISMATCH" in capsys.readouterr().out
