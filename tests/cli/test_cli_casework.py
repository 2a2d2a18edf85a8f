"""Staff actions from the shell (issue 14): assign, check-in, note, record, open, close, issue.

The store is made by an engine on the mtss playbook: 2 absences in 30 days (6.7%) is Tier 2,
a weekly check-in (a mentor's) and a family call (a counselor's) for each of three students,
with two mentors who have room for one case each, so the third check-in waits unowned.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

import tierflow
from tierflow.cli import main
from tierflow.store import SqlRepository
from tierflow.workflow import Engine, Roster, StaffMember

MONDAY = dt.date(2025, 10, 6)
STAFF = (
    "staff_id,school_id,roles,caseload_limit\n"
    "m1,lincoln,mentor,1\nm2,lincoln,mentor,1\nc1,lincoln,counselor,10\n"
)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    (tmp_path / "staff.csv").write_text(STAFF)
    roster = Roster(
        [
            StaffMember("m1", "lincoln", ("mentor",), caseload_limit=1),
            StaffMember("m2", "lincoln", ("mentor",), caseload_limit=1),
            StaffMember("c1", "lincoln", ("counselor",), caseload_limit=10),
        ]
    )
    with SqlRepository(str(tmp_path / "cases.db")) as repo:
        engine = Engine(tierflow.load_ruleset("mtss"), repository=repo, roster=roster)
        engine.run(
            MONDAY,
            [
                {"student_id": s, "school_id": "lincoln", "days_enrolled": 30, "days_absent": 2}
                for s in ("s1", "s2", "s3")
            ],
        )
    return tmp_path


def _ids(store: Path) -> dict[tuple[str, str], str]:
    with SqlRepository(str(store / "cases.db")) as repo:
        return {
            (iv.student_id, iv.intervention): iv.id
            for s in repo.students()
            for iv in repo.for_student(s)
        }


def _cli(store: Path, *args: str, staff: bool = True, ruleset: str = "mtss") -> tuple[int, str]:
    out = io.StringIO()
    common = [
        "--db",
        str(store / "cases.db"),
        "-r",
        ruleset,
        "--on",
        "2025-10-07",
        "--by",
        "principal",
    ]
    if staff:
        common += ["--staff", str(store / "staff.csv")]
    status = main([*args, *common], out)
    return status, out.getvalue()


def test_assign_json_names_the_change_and_the_override(store: Path) -> None:
    ivs = _ids(store)
    waiting = ivs[("s3", "weekly-checkin")]
    status, text = _cli(
        store, "assign", waiting, "m1", "--reason", "knows him", "--override", "--format", "json"
    )
    assert status == 0
    (ev,) = json.loads(text)["events"]
    assert (ev["kind"], ev["intervention_id"], ev["intervention"], ev["who"]) == (
        "assigned",
        waiting,
        "weekly-checkin",
        "principal",
    )
    assert ev["detail"] == {
        "from": None,
        "to": "m1",
        "role": "mentor",
        "reason": "knows him",
        "override": True,
    }


def test_a_refused_action_exits_1_and_records_nothing(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ivs = _ids(store)
    with SqlRepository(str(store / "cases.db")) as repo:
        before = len(repo.events("s3"))
    status, text = _cli(store, "assign", ivs[("s3", "weekly-checkin")], "m1", "--reason", "r")
    assert (status, text) == (1, "")
    assert "at their caseload limit (1)" in capsys.readouterr().err
    status, _ = _cli(store, "reassign", ivs[("s3", "weekly-checkin")], "m2", "--reason", "r")
    assert status == 1 and "has no owner to move; use assign" in capsys.readouterr().err
    with SqlRepository(str(store / "cases.db")) as repo:
        assert len(repo.events("s3")) == before


def test_a_missing_store_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        [
            "close",
            "iv-1",
            "--reason",
            "r",
            "--db",
            str(tmp_path / "no.db"),
            "-r",
            "mtss",
            "--by",
            "x",
        ]
    )
    assert status == 2 and "no database file" in capsys.readouterr().err


def test_closing_offers_the_place_and_the_text_shows_both_events(store: Path) -> None:
    ivs = _ids(store)
    status, text = _cli(store, "close", ivs[("s1", "weekly-checkin")], "--reason", "moved away")
    assert status == 0
    lines = text.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(
        f"s1  2025-10-07  transition  {ivs[('s1', 'weekly-checkin')]} (weekly-checkin)"
    )
    assert lines[1].startswith(f"s3  2025-10-07  assigned  {ivs[('s3', 'weekly-checkin')]}")
    assert "by tierflow" in lines[1]
    with SqlRepository(str(store / "cases.db")) as repo:
        assert repo.get(ivs[("s3", "weekly-checkin")]).owner == "m1"


def test_unassign_check_in_note_record_open_each_record_their_event(store: Path) -> None:
    ivs = _ids(store)
    steps = [
        (["unassign", ivs[("s2", "weekly-checkin")], "--reason", "leave"], "unassigned"),
        (
            ["check-in", ivs[("s1", "family-call")], "--goal-met", "no", "--contact-type", "call"],
            "transition",
        ),
        (["note", "s1", "walks to school"], "note"),
        (
            [
                "record",
                "barrier",
                "s1",
                "transportation",
                "--intervention",
                ivs[("s1", "family-call")],
            ],
            "barrier",
        ),
        (["record", "contact", "s1", "--method", "letter", "--outcome", "returned"], "contact"),
        (
            ["record", "conference", "s1", "sart", "--outcome", "attempted", "--method", "call"],
            "conference",
        ),
        (["open", "s1", "home-visit", "--reason", "no answer by phone"], "opened"),
    ]
    for args, kind in steps:
        status, text = _cli(store, *args, "--format", "json")
        assert status == 0, args
        assert [ev["kind"] for ev in json.loads(text)["events"]][:1] == [kind], args
    status, _ = _cli(store, "record", "barrier", "s1", "transportaton")
    assert status == 1


def test_issue_records_a_due_legal_step_only(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # ca: 7 unexcused absences (3 or more: truant) make NOT1 due, and NOT2 must wait for it.
    facts = store / "facts.jsonl"
    row = {"student_id": "t1", "school_id": "lincoln", "days_enrolled": 60, "days_absent": 7}
    facts.write_text(json.dumps(row | {"days_unexcused": 7}) + "\n")
    issue = ["--facts", str(facts), "--format", "json"]
    status, _ = _cli(store, "issue", "t1", "not2", *issue, ruleset="ca")
    assert status == 1 and "has not been issued" in capsys.readouterr().err
    status, text = _cli(store, "issue", "t1", "not1", *issue, ruleset="ca")
    assert status == 0
    (ev,) = json.loads(text)["events"]
    assert (ev["kind"], ev["detail"]["step"], ev["who"]) == ("legal_issued", "not1", "principal")
    with pytest.raises(SystemExit, match="no student 's9'"):
        _cli(store, "issue", "s9", "not1", *issue, ruleset="ca")
