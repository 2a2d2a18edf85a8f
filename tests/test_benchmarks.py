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


@pytest.mark.slow  # 16 s of CPU: CI's second pass
def test_benchmark_baselines_agree_with_the_rule_sets(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load()
    assert bench.main(["--records", "3000", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "mtss: 3,000 decisions equal" in out
    assert "ca: 3,000 decisions equal" in out


@pytest.mark.slow  # 9 s of CPU: CI's second pass
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


def _load_fuzz() -> ModuleType:
    """benchmarks/fuzz.py, under a name that does not hide the tests' ``fuzz`` package."""
    spec = importlib.util.spec_from_file_location("bench_fuzz", BENCHMARKS / "fuzz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fuzz_runs_each_target_and_counts_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    fuzz = _load_fuzz()
    fuzz.main(["--seconds", "0.3", "--target", "expr_soup", "--target", "facts"])
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()}
    assert rows["target"] == ["inputs", "exceptions", "hangs", "disagreements"]
    for name in ("expr_soup", "facts", "total"):
        assert int(rows[name][0].replace(",", "")) > 0


def test_fuzz_reports_and_saves_a_planted_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fuzz = _load_fuzz()
    real = fuzz._targets

    def with_planted() -> ModuleType:
        t = real()

        def check(sample: object) -> None:
            raise KeyError("planted")

        t.TARGETS["planted"] = t.Target(
            "planted", lambda rng: t.Sample("planted", "x.csv", b"a,b\n"), check, "a planted bug"
        )
        return t

    monkeypatch.setattr(fuzz, "_targets", with_planted)
    status = fuzz.main(["--seconds", "0.1", "--target", "planted", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 1
    assert "planted: " in out and "x exception: KeyError at " in out
    assert (tmp_path / "planted-1.csv").read_bytes() == b"a,b\n"
    assert "KeyError: 'planted'" in (tmp_path / "planted-1.txt").read_text(encoding="utf-8")
