"""What the command line prints from input never reaches a terminal raw (issue 10 follow-ups).

A student id, a rule set's label, a file name or a store row can hold terminal escape sequences
(``ESC ] 0 ; title BEL`` retitles the window, ``ESC [ 2 J`` clears it), newlines that forge
lines of output, and bidirectional overrides that reorder what is shown. Every line printed for
people shows them escaped as :func:`repr` does; machine output (JSON) escapes them itself.

The oracle is :func:`repr`: ``HOSTILE`` holds no quote or backslash, so ``repr(HOSTILE)[1:-1]``
is exactly how it must appear.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import tierflow
from tierflow.cli import main
from tierflow.store import SqlRepository
from tierflow.workflow import Engine, Roster, StaffMember

HOSTILE = "x1\x1b]0;pwned\x07\x1b[2J\ttab\nforged line\r\x7f\x9b31m\u202egnp.exe\u2066end"
SHOWN = repr(HOSTILE)[1:-1]
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters a terminal acts on; a newline is allowed only as the end of a line."""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue(), capsys.readouterr().err


def assert_safe(*texts: str, lines: bool = True) -> None:
    for text in texts:
        assert not RAW.search(text), RAW.findall(text)
        if not lines:
            continue
        # A newline inside a value never starts a line of output of its own.
        assert not any(line.startswith("forged line") for line in text.split("\n"))


def facts_file(tmp_path: Path, **extra: Any) -> Path:
    record = {
        "student_id": HOSTILE,
        "school_id": HOSTILE,
        "days_enrolled": 40,
        "days_absent": 12,
        "days_unexcused": 12,
        **extra,
    }
    path = tmp_path / "facts.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


def test_the_issue_reproducer_prints_the_rejected_id_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    esc = tmp_path / "esc.csv"
    esc.write_bytes(
        b'student_id,school_id,days_enrolled,days_absent\n"\x1b]0;pwned\x07\x1b[2Jx1",lincoln,40,'
        b"abc\n"
    )
    status, out, err = run(capsys, "evaluate", "-r", "ca", str(esc))
    assert status == 0 and out == ""
    assert_safe(err)
    assert ", student \\x1b]0;pwned\\x07\\x1b[2Jx1: ingest.invalid_number: " in err


def test_evaluate_rejects_and_decisions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = facts_file(tmp_path)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"student_id": HOSTILE, "days_enrolled": 40}) + "\n")
    status, out, err = run(
        capsys, "evaluate", "-r", "ca", str(path), "--explain", "--explain-format", "text"
    )
    assert status == 0
    assert_safe(out, err)
    assert f"student {SHOWN}: facts.missing: " in err
    decision = json.loads(out)  # JSON escapes the id itself, and it reads back whole
    assert decision["student_id"] == HOSTILE
    assert HOSTILE in decision["explanation"]


@pytest.mark.parametrize("form", ["text", "json"])
def test_explain(form: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = facts_file(tmp_path)
    status, out, err = run(
        capsys,
        "explain",
        "-r",
        "ca",
        "--student",
        HOSTILE,
        str(path),
        "--as-of",
        "2025-11-03",
        "--format",
        form,
    )
    assert status == 0
    assert_safe(out, err)
    if form == "json":
        assert json.loads(out)["student_id"] == HOSTILE
    else:
        assert out.startswith(f"Student {SHOWN} as of 2025-11-03 ")
        assert len(out.splitlines()) == len(str(_explanation()).splitlines())


def _explanation() -> Any:
    facts = {
        "student_id": "s",
        "school_id": "s",
        "days_enrolled": 40,
        "days_absent": 12,
        "days_unexcused": 12,
    }
    return tierflow.load_ruleset("ca").explain(facts, as_of=dt.date(2025, 11, 3))


def test_explain_a_missing_student_and_bad_facts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = facts_file(tmp_path)
    with pytest.raises(SystemExit) as caught:
        main(["explain", "-r", "ca", "--student", HOSTILE + "2", str(path)], io.StringIO())
    assert_safe(str(caught.value.code))
    status, out, err = run(
        capsys, "explain", "-r", "ca", "--facts", json.dumps({"student_id": HOSTILE})
    )
    assert status == 1
    assert_safe(out, err)
    assert f"student {SHOWN}: facts.missing" in err


def test_check_and_test_print_problems_and_file_names_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / f"rules{HOSTILE}"
    folder.mkdir()
    (folder / "r.yaml").write_text(
        'id: r\nname: R\nversion: "1"\ntiers:\n  - {id: t2, level: 2, when: "days_absent >= 3",'
        f" label: {json.dumps(HOSTILE)}}}\n  - {{id: t1, level: 1, default: true}}\n"
        f"tests:\n  - name: {json.dumps(HOSTILE)}\n    as_of: 2025-10-01\n"
        "    facts: {student_id: s, days_absent: 3, days_enrolled: 40}\n    expect: {tier: t1}\n",
        encoding="utf-8",
    )
    (folder / "bad.yaml").write_text(f"id: bad\n{json.dumps(HOSTILE)}: 1\n", encoding="utf-8")
    status, out, err = run(capsys, "check", str(folder))
    assert status == 1
    assert_safe(out, err)
    assert f"ok {folder / 'r.yaml'}".replace(HOSTILE, SHOWN) in out
    assert SHOWN in out.split("\n")[0]  # the unknown key, in the problem's message
    status, out, err = run(capsys, "test", str(folder / "r.yaml"))
    assert status == 1
    assert_safe(out, err)
    assert f": r: {SHOWN}\n" in out
    status, out, err = run(capsys, "check", "--format", "json", str(folder))
    assert_safe(out, err)
    assert any(HOSTILE in p["file"] for p in json.loads(out)["problems"])


def test_a_ruleset_error_prints_one_escaped_line_per_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"id: bad\n{json.dumps(HOSTILE)}: 1\n", encoding="utf-8")
    status, out, err = run(capsys, "evaluate", "-r", str(bad), str(facts_file(tmp_path)))
    assert status == 1 and out == ""
    assert_safe(err)
    assert SHOWN in err


def test_diff_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = facts_file(tmp_path, days_absent=4, days_unexcused=4)
    status, out, err = run(
        capsys, "diff", "mtss", "ca", "--facts", str(path), "--as-of", "2025-11-03"
    )
    assert status == 0
    assert_safe(out, err)
    assert f"e.g. {SHOWN}" in out
    status, out, err = run(capsys, "diff", "mtss", "ca", "--facts", str(path), "--format", "json")
    assert_safe(out, err)


def test_demo_prints_labels_of_a_rule_set_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    child = tmp_path / "labels.yaml"
    child.write_text(
        f"id: labels\nname: L\nversion: '1'\nextends: ca\ntiers:\n  - id: tier1\n"
        f"    label: {json.dumps(HOSTILE)}\n",
        encoding="utf-8",
    )
    status, out, err = run(capsys, "demo", "-r", str(child), "--db", ":memory:")
    assert status == 0, err
    assert_safe(out, err)
    assert f"tier1 ({SHOWN})" in out


@pytest.fixture
def store(tmp_path: Path) -> Path:
    db = tmp_path / "records.db"
    facts = {
        "student_id": HOSTILE,
        "school_id": "lincoln",
        "days_enrolled": 40,
        "days_absent": 4,
        "days_unexcused": 4,
    }
    with SqlRepository(db) as repo:
        roster = Roster(
            [
                StaffMember(
                    "ms-lee", "lincoln", ("mentor", "counselor", "social_worker", "attendance_team")
                )
            ]
        )
        Engine(tierflow.load_ruleset("ca"), repository=repo, roster=roster).run(
            dt.date(2025, 10, 15), [facts]
        )
    return db


def test_audit_verify_findings(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "audit", "verify", str(store))
    assert status == 0
    assert_safe(out, err)
    with sqlite3.connect(store) as con:
        con.execute("UPDATE events SET body = replace(body, 'tier2', ?)", (HOSTILE,))
    con.close()
    status, out, err = run(capsys, "audit", "verify", str(store))
    assert status == 1
    assert_safe(out, err)


def test_export_messages(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with sqlite3.connect(store) as con:
        edited = json.dumps(HOSTILE)
        con.execute('UPDATE events SET body = replace(body, \'"id":"ca"\', ?)', (f'"id":{edited}',))
    con.close()
    for command in (["packet", HOSTILE], ["compliance"]):
        status, out, err = run(capsys, "export", *command, "--db", str(store))
        assert (status, out) == (2, "")
        assert_safe(err)
        assert f"name rule set '{SHOWN}', which is not built in" in err
    status, out, err = run(
        capsys, "export", "packet", HOSTILE, "--db", str(store), "-r", "ca", "--readiness", HOSTILE
    )
    assert status == 2
    assert_safe(err)
    roster = tmp_path / "students.csv"
    with roster.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["student_id", "name"], [HOSTILE, ""]])
    pii = ["--include-pii", "--students", str(roster)]
    status, out, err = run(
        capsys, "export", "compliance", "--db", str(store), "-r", "ca", "--format", "json", *pii
    )
    assert status == 0
    assert_safe(out, err)
    assert f"student {SHOWN}: ingest.missing_value" in err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_document_is_written_as_it_is_except_to_a_terminal(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["export", "packet", HOSTILE, "--db", str(store), "-r", "ca", "--format", "csv"]
    to_file = io.StringIO()
    assert main(argv, out=to_file) == 0
    assert "\x1b]0;pwned" in to_file.getvalue()  # the data, as the records hold it
    to_terminal = _Terminal()
    assert main(argv, out=to_terminal) == 0
    shown = to_terminal.getvalue()
    assert_safe(shown, lines=False)  # a document's newlines are kept: it is a CSV file
    assert "x1\\x1b]0;pwned\\x07\\x1b[2J\\ttab\nforged line\\r" in shown


def test_an_argument_argparse_refuses_is_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["schema", HOSTILE], io.StringIO())
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert_safe(err.replace("\n", " "))
    assert f"unrecognized arguments: {SHOWN}" in err


def test_a_bad_as_of_is_escaped(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["evaluate", "-r", "ca", str(facts_file(tmp_path)), "--as-of", HOSTILE])
    assert_safe(str(caught.value.code))
