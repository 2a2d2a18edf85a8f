"""The attendance benchmark's hand-written computation must agree with FactsBuilder.

Nothing is timed here: the benchmark runs on a few students, and fails if any student's facts
differ between tierflow and the hand-written code (or if the file readers lose a record).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_attendance.py"


@pytest.fixture
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_attendance", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_outputs_equal_on_a_small_district(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench.main(["--students", "150", "--seed", "7"]) == 0
    out = capsys.readouterr().out
    assert "outputs equal: all 150 students' facts equal the hand-written computation" in out
    assert "MISMATCH" not in out
    assert "events.csv" in out and "events.xml" in out
    assert "peak memory" in out


def test_the_data_has_what_the_benchmark_claims(bench: ModuleType) -> None:
    cals = bench.calendars()
    assert [len(c) for c in cals.values()] == [180, 180]
    spans, events = bench.generate(400, 3, cals)
    assert len({s.student_id for s in spans}) == 400 < len(spans)  # some moved
    categories = {e.category for e in events}
    assert categories == {
        "excused_absence",
        "unexcused_absence",
        "partial",
        "suspension_out",
        "tardy",
    }
    assert len({(e.student_id, e.date) for e in events}) == len(events)


def test_a_wrong_hand_written_computation_is_reported(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = bench.by_hand

    def off_by_one(*args: Any) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = real(*args)
        first = next(iter(out.values()))
        first["longest_absence_streak"] += 1
        return out

    monkeypatch.setattr(bench, "by_hand", off_by_one)
    assert bench.main(["--students", "60", "--no-files"]) == 1
    assert "MISMATCH: 1 differences" in capsys.readouterr().out


def test_streaming_holds_one_student_and_gives_the_same_records(bench: ModuleType) -> None:
    # The fresh-process memory figures stream the records student by student: the same
    # exceptions as the lists, plus a present record for every other school day with explicit.
    cals = bench.calendars()
    spans, events = bench.generate(40, 5, cals)
    streamed = list(bench.stream(40, 5, cals, False))
    assert streamed == [
        r
        for sid in sorted({s.student_id for s in spans})
        for r in [
            *(s for s in spans if s.student_id == sid),
            *(e for e in events if e.student_id == sid),
        ]
    ]
    explicit = list(bench.stream(40, 5, cals, True))
    present = [r for r in explicit if getattr(r, "category", None) == "present"]
    school_days = sum(
        cals[s.school_id].count(s.entry, s.exit or cals[s.school_id].last_day) for s in spans
    )
    assert len(present) + len(events) == school_days
    assert [r for r in explicit if getattr(r, "category", None) != "present"] == streamed


def test_the_fresh_process_measures_a_streamed_district(bench: ModuleType) -> None:
    line = bench.streamed(30, 3, True)
    assert line.startswith("  explicit daily records: ")
    assert "streamed into a fresh process's FactsBuilder" in line and "MiB resident" in line
