"""The reports benchmark runs small, and a baseline that disagrees with a report fails it.

Timing is never asserted: this builds the store benchmark's year for 150 students on SQLite
and runs ``benchmarks/bench_reports.py`` on it once.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_reports", BENCHMARKS / "bench_reports.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("year") / "year.db"


def args(year: Path) -> list[str]:
    return ["--year", str(year), "--year-students", "150", "--samples", "1"]


def test_the_reports_benchmark_runs_small(year: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load()
    assert bench.main(args(year)) == 0
    out = capsys.readouterr().out
    assert "building the year: 150 students" in out
    assert "150 students, as of 2026-05-01" in out
    for name in ("operations", "equity", "effectiveness"):
        assert any(line.startswith(name) for line in out.splitlines()), name
    assert "disagree" not in out


@pytest.mark.parametrize("report", ["operations", "equity", "effectiveness"])
def test_a_baseline_that_disagrees_is_reported(
    year: Path,
    report: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bench = _load()
    if not year.exists():
        assert bench.main(args(year)) == 0
    real = bench.by_hand

    def one_off(name: str, path: str, inputs: dict[str, Any]) -> dict[str, Any]:
        got = real(name, path, inputs)
        first = next(iter(got))
        value = got[first]
        got[first] = value + Counter({"x": 1}) if isinstance(value, Counter) else value + 1
        return got

    monkeypatch.setattr(bench, "by_hand", one_off)
    assert bench.main([*args(year), "--reports", report]) == 1
    assert f"{report}: tierflow and the baseline disagree" in capsys.readouterr().out
