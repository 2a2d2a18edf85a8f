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


def test_the_day_benchmark_runs_small_and_the_stores_agree(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _load().main(["--day", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "the three stores agree" in out and "2 workers / 1 worker" in out


def test_a_day_whose_stores_differ_is_a_mismatch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = _load()
    real = bench.store_records
    calls: list[str] = []

    def the_last_store_lost_an_event(url: str) -> Any:
        kinds, ivs = real(url)
        calls.append(url)
        if len(calls) == 3:
            kinds["opened"] -= 1
        return kinds, ivs

    monkeypatch.setattr(bench, "store_records", the_last_store_lost_an_event)
    assert bench.main(["--day", "--quick"]) == 1
    assert "MISMATCH" in capsys.readouterr().out
