"""The command line, driven through ``tierflow.cli.main``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tierflow.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def test_check_builtins_and_examples_is_clean() -> None:
    status, out = run("check", str(ROOT / "rulesets"))
    assert status == 0
    assert out.count("\nok ") + out.startswith("ok ") == 6


def test_check_reports_every_problem_and_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        'id: bad\nname: B\nversion: "1"\ntiers:\n  - id: t2\n    level: 2\n'
        "    when: absense_rate >= 5%\n  - {id: t1, level: 1, default: true, colour: red}\n"
    )
    # A schema problem does not hide the expression problems: both are reported, sorted.
    status, out = run("check", str(bad))
    assert status == 1
    lines = out.splitlines()
    assert lines[0].endswith(
        "bad.yaml:7:11: expr.unknown_name: 'absense_rate' is not defined; "
        "did you mean 'absence_rate'? (tiers[0].when)"
    )
    assert lines[1].endswith(
        "bad.yaml:8:39: schema.unknown_field: unknown key 'colour'; known keys: after, assign, "
        "before, cites, default, description, id, label, level, remove, when (tiers[1].colour)"
    )
    bad.write_text(bad.read_text().replace(", colour: red", ""))
    status, out = run("check", "--format", "json", str(bad))
    data = json.loads(out)
    assert status == 1 and not data["ok"]
    assert [(p["code"], p["line"], p["col"]) for p in data["problems"]] == [
        ("expr.unknown_name", 7, 11)
    ]


def test_test_command_runs_inline_tests() -> None:
    status, out = run("test", "ca", "mtss")
    assert status == 0
    assert out.strip().splitlines()[-1].endswith(" passed, 0 failed")


def test_test_command_shows_a_diff_on_failure(tmp_path: Path) -> None:
    f = tmp_path / "t.yaml"
    f.write_text(
        'id: t\nname: T\nversion: "1"\ntiers:\n  - {id: t2, level: 2, when: "days_absent >= 3"}\n'
        "  - {id: t1, level: 1, default: true}\ntests:\n  - name: wrong\n    as_of: 2025-10-01\n"
        "    facts: {student_id: s, days_absent: 3}\n    expect: {tier: t1}\n"
    )
    status, out = run("test", str(f))
    assert status == 1
    assert "FAIL" in out and "tier: expected 't1', got 't2'" in out
    assert out.strip().endswith("0 passed, 1 failed")


def test_evaluate_jsonl_with_rejects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facts = tmp_path / "facts.jsonl"
    facts.write_text(
        '{"student_id": "a", "days_enrolled": 100, "days_absent": 12, "days_unexcused": 4}\n'
        "not json\n"
        '{"student_id": "b", "days_enrolled": 100}\n'
    )
    rejects = tmp_path / "rejects.jsonl"
    status, out = run(
        "evaluate",
        "--ruleset",
        "ca",
        "--as-of",
        "2025-11-03",
        str(facts),
        "--rejects",
        str(rejects),
        "--explain",
    )
    assert status == 0
    (decision,) = [json.loads(line) for line in out.splitlines()]
    assert decision["student_id"] == "a" and decision["tier"] == "tier2"
    assert decision["legal_actions"][0]["step"] == "not1"
    assert "absence_rate = 0.12" in decision["explanation"]
    err = capsys.readouterr().err
    assert "read 3 records: 1 evaluated, 2 rejected" in err
    bad = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["source"].rsplit("/", 1)[-1], r["code"], r["student_id"]) for r in bad] == [
        ("facts.jsonl:2", "ingest.invalid_json", None),
        ("facts.jsonl:3", "facts.missing", "b"),
    ]


def test_evaluate_csv(tmp_path: Path) -> None:
    facts = tmp_path / "facts.csv"
    facts.write_text(
        "student_id,grade,days_enrolled,days_absent,days_unexcused,causes,groups\n"
        "604822,K,100,9,1,transportation;health,english_learner\n"
        "604823,3,100,1,0,,\n"
    )
    status, out = run("evaluate", "-r", "mtss", "--as-of", "2025-11-03", str(facts))
    assert status == 0
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["student_id"] == "604822"
    assert {i["id"] for i in first["interventions"]} >= {
        "transport-support",
        "nurse-consult",
        "el-family-outreach",
    }
    assert second["tier"] == "tier1"


def test_explain_one_student() -> None:
    facts = '{"student_id": "s1", "days_enrolled": 100, "days_absent": 9.3}'
    status, out = run("explain", "-r", "mtss", "--facts", facts, "--as-of", "2025-11-03")
    assert status == 0
    assert "tier tier2 (Tier 2 - targeted): matched" in out
    assert "next tier: 14 more unexcused absences" in out


def test_schema_is_json_schema(tmp_path: Path) -> None:
    status, out = run("schema")
    assert status == 0
    schema = json.loads(out)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"tiers", "rules", "interventions", "legal", "tests", "extends"} <= set(
        schema["properties"]
    )
    target = tmp_path / "schema.json"
    assert run("schema", "-o", str(target))[0] == 0
    assert json.loads(target.read_text()) == schema


def test_demo_prints_a_summary() -> None:
    status, out = run("demo")
    assert status == 0
    assert "1,200 students of the bundled sample district" in out
    assert "tier1 (Tier 1 - universal)" in out
    assert "NOT1 - first truancy notification" in out
    assert "One student, explained" in out


def test_a_ruleset_error_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "-r", "no-such-ruleset", "x.jsonl"]) == 1
    assert "load.not_found" in capsys.readouterr().err
