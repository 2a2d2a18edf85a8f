"""``tierflow notices`` from the shell: a day's letters from a store, files named by the data.

The store is made by an engine on the mtss playbook: two absences in 30 days is Tier 2, so each
of the three students gets a weekly check-in (its invitation letter) and a family call (the
days-missed nudge). Oak Elementary has two Spanish-speaking families of three (67%), Elm one
of one English-speaking family.
"""

from __future__ import annotations

import contextlib
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
FAMILIES = (
    "student_id,name,language,address_1,city,state,postal_code,email,phone\n"
    "s1,María López,Spanish,12 Oak St,Anaheim,CA,92805,,\n"
    "s2,Rosa Díaz,es-MX,9 Elm St,Anaheim,CA,92801,,\n"
    "s3,Sam Lee,en,3 Pine St,Anaheim,CA,92803,,\n"
    "s4,Kim Tran,en,4 Pine St,Anaheim,CA,92803,,\n"
)
STUDENTS = "student_id,first_name,last_name\ns1,Ana,López\ns2,Luis,Díaz\ns3,Jo,Lee\ns4,Al,Tran\n"
SCHOOLS = (
    "school_id,name,address_1,city,state,postal_code,phone\n"
    "oak,Oak Elementary,1 School Rd,Anaheim,CA,92801,714-555-0100\n"
)
FACTS = [
    {"student_id": s, "school_id": school, "grade": 3, "days_enrolled": 30, "days_absent": 2}
    for s, school in (("s1", "oak"), ("s2", "oak"), ("s3", "oak"), ("s4", "elm"))
]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    (tmp_path / "families.csv").write_text(FAMILIES, "utf-8")
    (tmp_path / "students.csv").write_text(STUDENTS, "utf-8")
    (tmp_path / "schools.csv").write_text(SCHOOLS, "utf-8")
    (tmp_path / "facts.jsonl").write_text("".join(json.dumps(f) + "\n" for f in FACTS), "utf-8")
    roles = ("mentor", "counselor")
    roster = Roster(
        [StaffMember("m1", "oak", roles, 10, "Ms. Cruz"), StaffMember("m2", "elm", roles, 10)]
    )
    with SqlRepository(str(tmp_path / "cases.db")) as repo:
        Engine(tierflow.load_ruleset("mtss"), repository=repo, roster=roster).run(MONDAY, FACTS)
    return tmp_path


def _cli(store: Path, *args: str, ruleset: str = "mtss") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = [
        "notices",
        "--db",
        str(store / "cases.db"),
        "-r",
        ruleset,
        "--on",
        MONDAY.isoformat(),
        "-o",
        str(store / "out"),
        "--families",
        str(store / "families.csv"),
        "--students",
        str(store / "students.csv"),
        "--schools",
        str(store / "schools.csv"),
        "--district",
        "Anaheim ESD",
        *args,
    ]
    with contextlib.redirect_stderr(err):
        code = main(argv, out=out)
    return code, out.getvalue(), err.getvalue()


def test_the_day_s_letters_are_written_and_listed(store: Path) -> None:
    code, out, err = _cli(store, "--facts", str(store / "facts.jsonl"))
    assert code == 0, err
    assert out.splitlines()[0] == (
        f"notices on {MONDAY}: 8 rendered (letter 8), 0 already rendered, 0 not produced"
    )
    folder = store / "out" / MONDAY.isoformat()
    assert f"  oak: {folder / 'oak' / 'school-letters.html'}" in out
    assert f"  mail house: {folder / 'mail-house.csv'}" in out
    oak = (folder / "oak" / "school-letters.html").read_text("utf-8")
    assert oak.count('<section class="letter"') == 6
    assert oak.count('lang="es"') >= 4 and "Oak Elementary" in oak
    again = _cli(store, "--facts", str(store / "facts.jsonl"))
    assert again[0] == 0
    assert again[1].splitlines()[0] == (
        f"notices on {MONDAY}: 0 rendered (none), 8 already rendered, 0 not produced"
    )


def test_json_names_each_notice_and_its_outbox_entry(store: Path) -> None:
    code, out, err = _cli(store, "--facts", str(store / "facts.jsonl"), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    got = sorted((n["student_id"], n["notice"], n["language"]) for n in data["notices"])
    assert got == [
        ("s1", "mtss-checkin-invitation", "es"),
        ("s1", "mtss-days-missed-nudge", "es"),
        ("s2", "mtss-checkin-invitation", "es"),
        ("s2", "mtss-days-missed-nudge", "es"),
        ("s3", "mtss-checkin-invitation", "en"),
        ("s3", "mtss-days-missed-nudge", "en"),
        ("s4", "mtss-checkin-invitation", "en"),
        ("s4", "mtss-days-missed-nudge", "en"),
    ]
    with SqlRepository(str(store / "cases.db")) as repo:
        stored = {
            e.seq for e in repo.notice_events(None).get("s1", []) if e.kind == "notice_rendered"
        }
    assert {n["outbox_seq"] for n in data["notices"] if n["student_id"] == "s1"} == stored


def test_a_language_a_school_must_send_without_a_template_fails_the_run(store: Path) -> None:
    code, out, err = _cli(
        store, "--facts", str(store / "facts.jsonl"), "--require-language", "oak=vi"
    )
    assert code == 1 and out == ""
    assert "school oak must send 'vi'" in err
    assert not (store / "out").exists()


def test_missing_inputs_are_refused_before_any_work(store: Path) -> None:
    code, _, err = _cli(store, "--facts", str(store / "nope.jsonl"))
    assert code == 2 and "nope.jsonl" in err
    with pytest.raises(SystemExit, match="SCHOOL=LANG, got 'oak'"):
        _cli(store, "--require-language", "oak")
