"""``evaluate`` and ``explain`` read the same inputs; explanations are JSON objects (issue 13)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tierflow.cli import main


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def _raw(tmp_path: Path) -> list[str]:
    """One school week: s1 absent 2 of 5 days (40%), s2 present every day."""
    days = [f"2025-09-0{d}" for d in range(1, 6)]
    (tmp_path / "calendar.csv").write_text(
        "calendar_id,date\n" + "".join(f"lincoln,{d}\n" for d in days)
    )
    (tmp_path / "events.csv").write_text(
        "student_id,school_id,date,category\n"
        "s1,lincoln,2025-09-01,unexcused\n"
        "s1,lincoln,2025-09-02,unexcused\n"
        "s2,lincoln,2025-09-03,tardy\n"
    )
    return [
        "--events",
        str(tmp_path / "events.csv"),
        "--calendar",
        str(tmp_path / "calendar.csv"),
        "--assume-full-year",
    ]


def test_explain_reads_raw_attendance_data_as_evaluate_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = _raw(tmp_path)
    common = ["-r", "mtss", "--as-of", "2025-09-05", *raw]
    status, out = run("evaluate", *common)
    assert status == 0, capsys.readouterr().err
    tiers = {d["student_id"]: d["tier"] for d in map(json.loads, out.splitlines())}
    status, out = run("explain", *common, "--student", "s1", "--format", "json")
    assert status == 0, capsys.readouterr().err
    explained = json.loads(out)
    assert explained["student_id"] == "s1"
    # The explanation agrees with evaluate's decision for the same student.
    assert explained["tier"]["subject"].startswith(f"tier {tiers['s1']} (")
    text_status, text = run("explain", *common, "--student", "s1")
    assert text_status == 0 and text.startswith("Student s1 as of 2025-09-05")


def test_explain_says_when_the_raw_data_has_no_such_student(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no student 'x' in the attendance records"):
        run("explain", "-r", "mtss", "--as-of", "2025-09-05", *_raw(tmp_path), "--student", "x")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["x.csv"], "give either INPUT (facts) or --events, not both"),
        (["--facts", "{}"], "give either --facts JSON or --student ID with INPUT, not both"),
    ],
)
def test_explain_refuses_inputs_that_do_not_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    argv = ["explain", "-r", "mtss", *_raw(tmp_path), *extra]
    if "--facts" not in extra:
        argv += ["--student", "s1"]
    assert run(*argv)[0] == 2
    assert message in capsys.readouterr().err


def test_evaluate_explain_writes_the_explanation_as_an_object(tmp_path: Path) -> None:
    facts = tmp_path / "facts.jsonl"
    facts.write_text('{"student_id": "a", "days_enrolled": 100, "days_absent": 12}\n')
    status, out = run("evaluate", "-r", "mtss", "--as-of", "2025-11-03", str(facts), "--explain")
    assert status == 0
    (decision,) = map(json.loads, out.splitlines())
    explanation = decision["explanation"]
    assert isinstance(explanation, dict)
    # 12 absences in 100 days is 12%: between mtss's 5% tier 2 and 20% tier 3 lines
    # (rulesets/mtss.yaml, at_risk_from and severe_from).
    assert explanation["student_id"] == "a" and decision["tier"] == "tier2"
    assert explanation["tier"]["subject"] == "tier tier2 (Tier 2 - targeted)"
    assert explanation["tier"]["because"] == ["absence_rate = 0.12 >= at_risk_from = 0.05"]
