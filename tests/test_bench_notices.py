"""The notices benchmark runs small, and its hand-written baseline catches a wrong letter.

Timing is never asserted: this runs ``benchmarks/bench_notices.py`` on a small district, where a
letter that differs from the hand-rendered one fails the run.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_notices", BENCHMARKS / "bench_notices.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_notices_benchmark_runs_small(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load().main(["--students", "40", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "agreement: 80 letters, each the same on both sides" in out
    assert "ratio:" in out
