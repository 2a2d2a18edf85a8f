"""The command line, driven through ``tierflow.cli.main``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tierflow.cli import main

ROOT = Path(__file__).resolve().parents[2]


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
        "before, cites, default, description, id, label, level, remove, stay_while, when "
        "(tiers[1].colour)"
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
        "--explain-format",
        "text",
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
    status, out = run("demo", "--db", ":memory:")
    assert status == 0
    assert "1,200 students of the bundled sample district" in out
    assert "tier1 (Tier 1 - universal)" in out
    assert "NOT1 - first truancy notification" in out
    assert "One student, explained" in out


def test_a_ruleset_error_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "-r", "no-such-ruleset", "x.jsonl"]) == 1
    assert "load.not_found" in capsys.readouterr().err


# --- files that cannot be read, usage errors, records that cannot be read ---------------------


def _events(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "events.csv").write_text(
        "student_id,school_id,date,category\ns1,lincoln,2025-09-02,tardy\n"
    )
    (tmp_path / "calendar.csv").write_text("calendar_id,date\nlincoln,2025-09-02\n")
    return str(tmp_path / "events.csv"), str(tmp_path / "calendar.csv")


@pytest.mark.parametrize(
    "argv",
    [
        ["evaluate", "-r", "mtss", "{tmp}/nope.csv"],
        ["evaluate", "-r", "mtss", "--events", "{events}", "--calendar", "{tmp}/nope.csv"],
        ["evaluate", "-r", "mtss", "--events", "{tmp}/nope.xml", "--calendar", "{cal}"],
        [
            "evaluate",
            "-r",
            "mtss",
            "--events",
            "{events}",
            "--calendar",
            "{cal}",
            "--enrollments",
            "{tmp}/nope.csv",
        ],
        [
            "evaluate",
            "-r",
            "mtss",
            "--events",
            "{events}",
            "--calendar",
            "{cal}",
            "--groups",
            "{tmp}/nope.csv",
        ],
        [
            "evaluate",
            "-r",
            "mtss",
            "--events",
            "{events}",
            "--calendar",
            "{cal}",
            "--mapping",
            "{tmp}/nope.yaml",
        ],
        ["evaluate", "-r", "mtss", "{events}", "--rejects", "{tmp}/no/such/folder.jsonl"],
        ["diff", "mtss", "ca", "--facts", "{tmp}/nope.csv"],
        ["explain", "-r", "mtss", "--student", "s1", "{tmp}/nope.csv"],
    ],
)
def test_a_missing_file_is_one_line_naming_it_with_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    events, cal = _events(tmp_path)
    args = [a.format(tmp=tmp_path, events=events, cal=cal) for a in argv]
    name = next(a for a in args if "/nope." in a or "/no/such/" in a)
    status, out = run(*args)
    err = capsys.readouterr().err
    assert (status, out) == (2, "")
    assert err == f"tierflow {argv[0]}: {name}: No such file or directory\n"


def test_a_folder_given_as_input_is_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("evaluate", "-r", "mtss", str(ROOT))[0] == 2
    assert capsys.readouterr().err == f"tierflow evaluate: {ROOT}: Is a directory\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "-r", "mtss"], "give INPUT (a facts file) or --events and --calendar"),
        (
            ["evaluate", "-r", "mtss", "x.csv", "--events", "e.csv", "--calendar", "c.csv"],
            "give either INPUT (facts) or --events, not both",
        ),
        (["evaluate", "-r", "mtss", "--events", "e.csv"], "--events needs --calendar FILE"),
        (
            ["explain", "-r", "mtss", "facts.csv"],
            "give --student ID and the INPUT file that holds it, or --facts JSON "
            "(or --events and --calendar instead of INPUT)",
        ),
        (
            ["explain", "-r", "mtss", "--student", "s1"],
            "--student s1 needs the INPUT file that holds it (or --events and --calendar)",
        ),
        (
            ["explain", "-r", "mtss", "--student", "s1", "--facts", "{}"],
            "give either --facts JSON or --student ID with INPUT, not both",
        ),
        (
            ["explain", "-r", "mtss", "--facts", "{oops"],
            "--facts is not valid JSON: Expecting property name enclosed in double quotes at "
            "column 2",
        ),
        (["explain", "-r", "mtss", "--facts", "[1]"], "--facts must be a JSON object, got list"),
    ],
)
def test_arguments_that_do_not_fit_together_are_a_usage_error(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert run(*argv) == (2, "")
    assert capsys.readouterr().err == f"tierflow {argv[0]}: error: {message}\n"


def test_explain_says_why_the_students_record_cannot_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facts = tmp_path / "facts.csv"
    facts.write_text("student_id,days_enrolled,days_absent\ns1,40,lots\ns2,40,1\n")
    assert run("explain", "-r", "mtss", "--student", "s1", str(facts))[0] == 1
    assert capsys.readouterr().err == (
        f"tierflow: {facts}:2, student s1: ingest.invalid_number: column 'days_absent': 'lots' "
        "is not a number\n"
    )
    status, out = run(
        "explain", "-r", "mtss", "--student", "s2", str(facts), "--as-of", "2025-11-03"
    )
    assert status == 0 and out.startswith("Student s2 as of 2025-11-03")


def test_diff_reports_records_it_cannot_read_or_evaluate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facts = tmp_path / "facts.csv"
    facts.write_text(
        "student_id,days_enrolled,days_absent,days_unexcused\n"
        "s1,100,12,4\ns2,100,lots,0\ns3,100\ns4,100,3,\ns5,100,1,0\n"
    )
    rejects = tmp_path / "rejects.jsonl"
    argv = ["diff", "mtss", "ca", "--facts", str(facts), "--as-of", "2025-11-03"]
    status, out = run(*argv, "--format", "json", "--rejects", str(rejects))
    assert status == 0  # without --strict, as evaluate
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == "read 5 records: 2 compared, 3 rejected"
    got = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(Path(r["source"]).name, r["student_id"], r["code"]) for r in got] == [
        ("facts.csv:3", "s2", "ingest.invalid_number"),
        ("facts.csv:4", "s3", "ingest.column_count"),
        ("facts.csv:5", "s4", "facts.missing"),  # ca reads days_unexcused; the record says where
    ]
    data = json.loads(out)
    assert data["students"] == 2 and len(data["rejected"]) == 3
    assert run(*argv, "--strict")[0] == 1
    assert "3 record(s) could not be evaluated" in run(*argv)[1]


# --- a store never names a file to load (issue 10, item 2) ----------------------------------


def _store_naming(tmp_path: Path, ruleset_id: str) -> Path:
    """A store whose one student's decision row was edited to name ``ruleset_id``."""
    import sqlite3

    import tierflow
    from stores import one_student_store

    db = tmp_path / "records.db"
    one_student_store(db, tierflow.load_ruleset("ca"))
    with sqlite3.connect(db) as con:
        edited = json.dumps(ruleset_id)
        con.execute('UPDATE events SET body = replace(body, \'"id":"ca"\', ?)', (f'"id":{edited}',))
    con.close()
    return db


@pytest.mark.parametrize("command", ["packet", "compliance"])
def test_an_edited_store_row_naming_a_file_does_not_load_it(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The file is a valid rule set: before, the export loaded it as the rule set to cite.
    other = tmp_path / "other.yaml"
    other.write_text(
        'id: other\nname: Other\nversion: "1"\ntiers:\n  - {id: t1, level: 1, default: true}\n'
    )
    db = _store_naming(tmp_path, str(other))
    argv = ["export", command, *(["c1"] if command == "packet" else []), "--db", str(db)]
    status, out = run(*argv, "--format", "json")
    err = capsys.readouterr().err
    assert (status, out) == (2, "")
    assert f"rule set {str(other)!r}, which is not built in; give --ruleset" in err
    # The rule set given on the command line is used.
    status, out = run(*argv, "--format", "json", "--ruleset", "ca")
    assert status == 0 and json.loads(out)


def test_a_store_row_naming_a_built_in_rule_set_is_still_followed(tmp_path: Path) -> None:
    db = _store_naming(tmp_path, "ca")
    status, out = run("export", "packet", "c1", "--db", str(db), "--format", "json")
    assert status == 0
    assert json.loads(out)["ruleset"].startswith("ca 2025.1 ")


@pytest.mark.parametrize(
    ("facts", "says"),
    [
        ("[" * 100_000, "--facts is refused (ingest.too_deep): "),
        ('{"student_id": "x", "days_enrolled": 40, "days_absent": NaN}', "NaN is not a number"),
        ('{"student_id": "x", "days_enrolled": 1e400}', "1e400 is too large for a number"),
        ('{"student_id": "x",', "--facts is not valid JSON: "),
    ],
)
def test_explain_facts_are_decoded_as_a_facts_file_is(
    facts: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: 100,000 '[' raised RecursionError (a traceback), and NaN or 1e400 went on to the
    # evaluator, which a facts file refuses (ingest.invalid_number).
    status, out = run("explain", "-r", "ca", "--facts", facts)
    err = capsys.readouterr().err
    assert (status, out) == (2, "")
    assert len(err.splitlines()) == 1 and err.startswith("tierflow explain: error: --facts ")
    assert says in err
