"""The workflow benchmark runs tiny: its engine and baseline must agree (no timing asserted)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_workflow.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_workflow", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_runs_and_engine_and_baseline_agree(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bench = _load()
    argv = ["--students", "300", "--speed-students", "200", "--machines", "20", "--repeat", "1"]
    assert bench.main(argv) == 0
    out = capsys.readouterr().out
    assert "memory: 600 open interventions equal in engine and baseline" in out
    assert "speed: 1,600 transitions, final states and event counts equal to the baseline" in out
    assert "(median of 1 rounds, process CPU time)" in out
    assert "transitions.Machine" in out
    assert "by hand, same records" in out


def test_a_baseline_that_disagrees_fails_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    bench = _load()
    wrong = dict(bench.BASE_TABLE)
    wrong[("close", "active")] = "met_goal"
    monkeypatch.setattr(bench, "BASE_TABLE", wrong)
    with pytest.raises(SystemExit, match="MISMATCH"):
        bench.speed(50)


def test_a_guarded_baseline_that_keeps_less_than_the_engine_fails_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bench = _load()
    event = bench.GuardedBaseline._event

    def no_overdue_event(self: object, case: object, on: object, kind: str, *rest: object) -> None:
        if kind != "overdue":
            event(self, case, on, kind, *rest)

    monkeypatch.setattr(bench.GuardedBaseline, "_event", no_overdue_event)
    with pytest.raises(SystemExit, match="MISMATCH"):
        bench.speed(50)


def test_a_guarded_baseline_with_another_cadence_fails_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bench = _load()
    monkeypatch.setitem(bench.CADENCE, "family-call", bench.CADENCE["weekly-checkin"])
    with pytest.raises(SystemExit, match="MISMATCH"):
        bench.speed(50)
