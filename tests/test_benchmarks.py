"""The benchmark's hand-written baselines must mean what the rule sets mean.

Timing is never asserted here; this only runs the benchmark on a small sample, which fails if
any decision differs between tierflow and the hand-written functions.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str = "bench_evaluate") -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_benchmark_baselines_agree_with_the_rule_sets(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load()
    assert bench.main(["--records", "3000", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "mtss: 3,000 decisions equal" in out
    assert "ca: 3,000 decisions equal" in out


def test_a_wrong_baseline_is_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = _load()
    real = bench.ca_by_hand

    def off_by_one(f: object, as_of: object) -> object:
        tier, ivs, legal = real(f, as_of)
        return tier, ivs, legal[:-1]  # forgets the last legal step

    monkeypatch.setattr(bench, "ca_by_hand", off_by_one)
    assert bench.main(["--records", "3000", "--repeat", "1"]) == 1
    assert "decisions differ from the hand-written function" in capsys.readouterr().out
