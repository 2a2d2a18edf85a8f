"""The server benchmark runs small, and a server that answers differently fails it.

Timing is never asserted: this starts ``tierflow serve`` and runs
``benchmarks/bench_serve.py --quick`` once; then once more with the library's side evaluating
as of another date, which must be reported as a mismatch before anything is timed.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("uvicorn")
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_serve", BENCHMARKS / "bench_serve.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_serve_benchmark_runs_small(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load()
    assert bench.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "the server's decisions equal the library's" in out
    assert "server / in-process (same lines):" in out
    assert "requests/s" in out


def test_a_disagreeing_side_is_a_mismatch_not_a_figure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = _load()
    monkeypatch.setattr(bench, "AS_OF", dt.date(2024, 9, 3))  # the library's side only...
    real = bench.batch_by_server

    def server_as_of_the_real_day(client: object, body: bytes) -> object:
        monkeypatch.setattr(bench, "AS_OF", dt.date(2025, 11, 3))
        try:
            return real(client, body)
        finally:
            monkeypatch.setattr(bench, "AS_OF", dt.date(2024, 9, 3))

    monkeypatch.setattr(bench, "batch_by_server", server_as_of_the_real_day)
    assert bench.main(["--quick"]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH" in out and "us a student" not in out
