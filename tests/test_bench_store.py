"""The store benchmark runs small, and its hand-written baselines catch a wrong answer.

Timing is never asserted: this runs ``benchmarks/bench_store.py`` on a few hundred students on
SQLite (and on the PostgreSQL test server when one is set), where a store and a baseline that
disagree fail the run.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SMALL = ["--students", "300", "--year-students", "120", "--sample", "15", "--packets", "3"]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_store", BENCHMARKS / "bench_store.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _where(tmp_path: Path) -> list[str]:
    url = os.environ.get("TIERFLOW_TEST_POSTGRES_URL")
    return ["--dir", str(tmp_path)] + (["--postgres", url] if url else ["--no-postgres"])


def test_the_store_benchmark_runs_small(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load()
    assert bench.main([*SMALL, *_where(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "day (sqlite): 300 students; store rows equal the hand-written rows" in out
    assert "year: 120 students under ca" in out
    assert "timeline (sqlite), 15 random students" in out
    assert "same rows as the hand-written query" in out
    assert "MISMATCH" not in out
    if os.environ.get("TIERFLOW_TEST_POSTGRES_URL"):
        assert "day (postgresql): 300 students" in out
        assert "timeline (postgresql)" in out
    assert list(tmp_path.iterdir()) == []  # its databases are removed


def test_a_baseline_that_forgets_a_row_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = _load()
    real = bench.baseline_rows

    def forgets_the_last_event(*args: Any) -> Any:
        rows = real(*args)
        rows["events"] = rows["events"][:-1]
        return rows

    monkeypatch.setattr(bench, "baseline_rows", forgets_the_last_event)
    assert (
        bench.main([*SMALL, "--year-students", "0", "--dir", str(tmp_path), "--no-postgres"]) == 1
    )
    assert "MISMATCH (sqlite)" in capsys.readouterr().out


def test_a_timeline_query_that_loses_an_event_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = _load()
    real = bench.timeline_by_hand

    def loses_the_first(*args: Any) -> Any:
        rows, ids = real(*args)
        return rows[1:], ids

    monkeypatch.setattr(bench, "timeline_by_hand", loses_the_first)
    assert bench.main([*SMALL, "--students", "0", "--dir", str(tmp_path), "--no-postgres"]) == 1
    assert "MISMATCH (sqlite): student" in capsys.readouterr().out
