"""The district compliance report: each legal step issued and the documentation before it."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

import tierflow
from tierflow.cli import main
from tierflow.ingest import read_people
from tierflow.report import compliance_report
from tierflow.store import SqlRepository
from tierflow.workflow import Engine, InMemoryRepository, Roster, StaffMember, WorkflowEvent

CA = tierflow.load_ruleset("ca")
D = dt.date(2025, 10, 15)
ROLES = ("mentor", "counselor", "social_worker", "attendance_team")
SUPPORTED = {
    "student_id": "c1",
    "school_id": "lincoln",
    "days_enrolled": 40,
    "days_absent": 4,
    "days_unexcused": 4,
}
ROSTER = """student_id,first_name,last_name,birth_date
c1,Ada,Quill,2011-03-04
c2,Bo,Zephyr,2012-05-06
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """c1: NOT1 issued by the engine after interventions opened and a check-in with an outcome.

    c2: NOT1 recorded with no intervention at all (imported from another system).
    c3: an intervention opened after the fact, and NOT2 issued with no NOT1 before it.
    """
    path = tmp_path / "records.db"
    with SqlRepository(path) as repo:
        engine = Engine(
            CA, repository=repo, roster=Roster([StaffMember("ms-lee", "lincoln", ROLES)])
        )
        plan = engine.run(D, [SUPPORTED])
        tier2 = next(iv for iv in plan.opened if iv.tier_level >= 2)
        engine.start(tier2.id, on=D, by="ms-lee")
        engine.check_in(
            tier2.id, on=D + dt.timedelta(days=7), by="ms-lee", goal_met=False, outcome="mixed"
        )
        engine.issue_legal("c1", "not1", on=D + dt.timedelta(days=8), by="clerk", facts=SUPPORTED)
        engine.record_conference(
            "c1", "parent_conference", on=D + dt.timedelta(days=9), by="ms-lee"
        )
        repo.record_issued("c2", "not1", D)
        repo.append(
            WorkflowEvent(
                0,
                D + dt.timedelta(days=3),
                "c3",
                "legal_issued",
                who="clerk-2",
                why="NOT2 sent",
                ruleset=CA.ref,
                detail={"step": "not2"},
            )
        )
        late = {**SUPPORTED, "student_id": "c3"}
        engine.run(D + dt.timedelta(days=20), [late])
    return path


def test_a_step_after_documented_support_is_not_flagged(db: Path) -> None:
    with SqlRepository(db) as repo:
        report = compliance_report(repo, CA)
        interventions = repo.for_student("c1")
    c1 = next(s for s in report.steps if s.student_id == "c1")
    assert (c1.step, c1.issued_on, c1.issued_by, c1.flags) == (
        "not1",
        D + dt.timedelta(days=8),
        "clerk",
        (),
    )
    assert c1.ok and c1.missing == () and c1.ruleset == str(CA.ref)
    # Of the interventions opened on D, only the tier 2 one was started (and checked in): the
    # others, never started, are not support (EC 48262 asks for support tried).
    tier2 = next(iv for iv in interventions if iv.tier_level >= 2)
    assert len(interventions) > 1 and len(c1.interventions) == 1
    (given,) = c1.interventions
    assert (given.intervention_id, given.intervention) == (tier2.id, tier2.intervention)
    assert (given.outcome, given.outcome_on) == ("mixed", D + dt.timedelta(days=7))
    assert given.opened_on == given.started_on == D
    assert c1.conferences == ()  # held the day after the letter: not evidence before it
    refs = {r.id: r.title for r in CA.spec.references}
    assert c1.cites == tuple(refs[c] for c in CA.legal_steps[0].cites)


def test_a_step_issued_without_prior_support_is_flagged(db: Path) -> None:
    with SqlRepository(db) as repo:
        report = compliance_report(repo, CA)
    assert [(s.student_id, s.step) for s in report.steps] == [
        ("c2", "not1"),
        ("c3", "not2"),
        ("c1", "not1"),
    ]  # by date
    c2 = report.steps[0]
    assert c2.flags == ("no_prior_support",) and c2.interventions == ()
    assert c2.issued_by == "" and c2.missing == ()  # NOT1 itself needs nothing before it
    c3 = report.steps[1]
    # Its intervention opened 17 days after the letter: it does not count.
    assert c3.flags == ("no_prior_support", "requirements_unmet")
    assert c3.missing == (
        "NOT1 - first truancy notification has not been issued",
        "1 supportive tier 2+ intervention(s) must have been tried; found 0",
    )
    assert c3.issued_by == "clerk-2"
    assert report.flagged == (c2, c3)
    assert report.summary() == (
        "3 legal steps issued to 3 of 3 students; 2 flagged "
        "(2 no prior support, 1 requirements unmet); 1 due and not issued (0 overdue)"
    )  # c3's NOT1 was reported due by the run of D + 20 and not issued; it has no deadline
    (waiting,) = report.pending
    assert (waiting.student_id, waiting.step, waiting.due_on, waiting.status) == (
        "c3",
        "not1",
        D + dt.timedelta(days=20),
        "due",
    )


def test_requirements_are_checked_on_what_was_documented_by_then(tmp_path: Path) -> None:
    # A SARB referral recorded after NOT1-3 and a SART, but with no tier 2 outcome documented.
    with SqlRepository(tmp_path / "r.db") as repo:
        engine = Engine(
            CA, repository=repo, roster=Roster([StaffMember("ms-lee", "lincoln", ROLES)])
        )
        plan = engine.run(D, [SUPPORTED])
        tier2 = next(iv for iv in plan.opened if iv.tier_level >= 2)
        engine.start(tier2.id, on=D, by="ms-lee")  # started, but no outcome ever recorded
        for n, step in enumerate(("not1", "not2", "not3")):
            repo.record_issued("c1", step, D + dt.timedelta(days=30 * n))
        engine.record_conference("c1", "sart", on=D + dt.timedelta(days=70), by="ms-lee")
        # The rest of ca's SARB checklist: a parent conference attempted, a home visit waived
        # with a reason (three contacts with the SART), an attendance contract started.
        engine.record_conference(
            "c1",
            "parent_conference",
            on=D + dt.timedelta(days=40),
            by="ms-lee",
            outcome="attempted",
            method="letter",
        )
        engine.record_conference(
            "c1",
            "home_visit_waived",
            on=D + dt.timedelta(days=41),
            by="ms-lee",
            note="family in a shelter",
        )
        contract = next(iv for iv in plan.opened if iv.intervention == "attendance-plan")
        engine.start(contract.id, on=D, by="ms-lee")
        repo.record_issued("c1", "sarb-referral", D + dt.timedelta(days=75))
        report = compliance_report(repo, CA)
    sarb = next(s for s in report.steps if s.step == "sarb-referral")
    assert sarb.flags == ("requirements_unmet",) and sarb.interventions
    assert sarb.missing == ("a Tier 2/3 intervention tried with a recorded outcome",)
    assert sarb.earlier_steps == tuple(
        (s, D + dt.timedelta(days=30 * n)) for n, s in enumerate(("not1", "not2", "not3"))
    )
    # Held ones only: the attempt is evidence where a step accepts attempts, not a meeting.
    assert sarb.conferences == (  # in the order they were recorded
        ("sart", D + dt.timedelta(days=70)),
        ("home_visit_waived", D + dt.timedelta(days=41)),
    )


def test_an_unknown_step_is_reported_not_dropped() -> None:
    repo = InMemoryRepository()
    repo.record_issued("x1", "court-order", D)
    report = compliance_report(repo, CA, students=["x1"])
    (check,) = report.steps
    assert check.flags == ("no_prior_support", "unknown_step")
    assert check.missing == ("rule set ca has no legal step 'court-order'",)
    assert compliance_report(repo, CA).steps == report.steps  # it lists its students itself


def _export(db: Path, fmt: str, *extra: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["export", "compliance", "--db", str(db), "--format", fmt, *extra], out) == 0
    assert "2 flagged" in err.getvalue()
    return out.getvalue()


def test_json_csv_and_html_say_the_same(db: Path) -> None:
    data = json.loads(_export(db, "json"))
    assert (data["issued"], data["flagged"], data["students"]) == (3, 2, 3)
    assert data["ruleset"] == str(CA.ref)
    c3 = data["steps"][1]
    assert c3["student_id"] == "c3" and c3["flags"] == ["no_prior_support", "requirements_unmet"]
    rows = list(csv.DictReader(io.StringIO(_export(db, "csv"))))
    assert [(r["student_id"], r["step"], r["flags"]) for r in rows if r["issued_on"]] == [
        (s["student_id"], s["step"], "; ".join(s["flags"])) for s in data["steps"]
    ]
    # Then the steps due and not issued, as the JSON lists them.
    assert (
        [(r["student_id"], r["step"], r["status"]) for r in rows if not r["issued_on"]]
        == [(p["student_id"], p["step"], p["status"]) for p in data["pending"]]
        == [("c3", "not1", "due")]
    )
    assert "iv-0000001" in rows[2]["interventions"] and "outcome mixed" in rows[2]["interventions"]
    page = _export(db, "html")
    assert page.count('<tr class="flagged">') == 2 and page.count('<tr class="ok">') == 1
    assert "NOT1 - first truancy notification has not been issued" in page
    assert "Cal. Educ. Code 48260" in page and "@media print" in page


def test_the_rule_set_comes_from_the_records_or_must_be_given(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "compliance", "--db", str(tmp_path / "no.db")], io.StringIO()) == 2
    empty = tmp_path / "empty.db"
    SqlRepository(empty).close()
    assert main(["export", "compliance", "--db", str(empty)], io.StringIO()) == 2
    assert "name rule sets none; give --ruleset" in capsys.readouterr().err
    out = io.StringIO()
    assert (
        main(["export", "compliance", "--db", str(empty), "-r", "ca", "--format", "json"], out) == 0
    )
    assert json.loads(out.getvalue())["steps"] == []


# --- personal data ----------------------------------------------------------------------------


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    path = tmp_path / "students.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return path


SECRETS = ("Ada", "Quill", "2011-03-04", "Zephyr", "2012-05-06")


def test_names_and_birth_dates_only_with_include_pii(db: Path, roster: Path) -> None:
    for fmt in ("json", "csv", "html"):
        plain = _export(db, fmt, "--students", str(roster))  # a roster alone prints nothing
        assert not [s for s in SECRETS if s in plain], fmt
        shown = _export(db, fmt, "--students", str(roster), "--include-pii")
        assert all(s in shown for s in SECRETS), fmt
    data = json.loads(_export(db, "json", "--students", str(roster), "--include-pii"))
    c3 = data["steps"][1]
    assert (c3["student_id"], c3["name"], c3["birth_date"]) == ("c3", None, None)
    assert data["steps"][0]["name"] == "Bo Zephyr"


def test_packets_print_names_only_with_include_pii(db: Path, roster: Path) -> None:
    for fmt in ("json", "csv", "html"):
        args = ["export", "packet", "c1", "--db", str(db), "--format", fmt]
        out = io.StringIO()
        assert main([*args, "--students", str(roster)], out) == 0
        assert not [s for s in SECRETS if s in out.getvalue()], fmt
        out = io.StringIO()
        assert main([*args, "--students", str(roster), "--include-pii"], out) == 0
        assert "Ada Quill" in out.getvalue() and "2011-03-04" in out.getvalue(), fmt
        assert "Zephyr" not in out.getvalue()  # only the packet's own student


def test_include_pii_needs_a_roster(db: Path) -> None:
    with pytest.raises(SystemExit, match="--include-pii needs --students FILE"):
        main(["export", "compliance", "--db", str(db), "--include-pii"], io.StringIO())
    with SqlRepository(db) as repo, pytest.raises(ValueError, match="needs people"):
        compliance_report(repo, CA, include_personal=True)


def test_roster_problems_name_the_line_and_id_never_the_data(tmp_path: Path, db: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "student_id,name,birth_date\nc1,Ada Quill,2011-13-45\nc2,,2012-05-06\n"
        ",Nobody Known,2010-01-01\nc9,Cy Vance,2013-07-08\nc9,Cyrus Vance,2013-07-08\n",
        encoding="utf-8",
    )
    found = read_people(bad)
    assert list(found.people) == ["c9"] and found.people["c9"].name == "Cy Vance"
    assert [str(e) for e in found.report.rejects] == [
        f"{bad}:2, student c1: ingest.invalid_date: the birth date is not a date YYYY-MM-DD",
        f"{bad}:3, student c2: ingest.missing_value: the record has no name (name, or "
        "first_name and last_name)",
        f"{bad}:4: ingest.missing_value: the record has no student id",
    ]
    assert found.report.ignored == [
        f"{bad}:6, student c9: listed again; the first record ({bad}:5) is kept"
    ]
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        main(
            [
                "export",
                "compliance",
                "--db",
                str(db),
                "--students",
                str(bad),
                "--include-pii",
                "--format",
                "json",
            ],
            io.StringIO(),
        )
    for secret in ("Ada", "Quill", "2011-13-45", "Nobody", "2012-05-06", "Cy", "Vance"):
        assert secret not in err.getvalue()
    assert f"{bad}:2, student c1: ingest.invalid_date" in err.getvalue()
    assert f"{bad}:6, student c9: listed again" in err.getvalue()


def test_ed_fi_and_json_rosters(tmp_path: Path) -> None:
    xml = tmp_path / "Student.xml"
    xml.write_text(
        '<?xml version="1.0"?>\n<InterchangeStudent xmlns="http://ed-fi.org/5.2.0">\n'
        "<Student><StudentUniqueId>604822</StudentUniqueId><Name><FirstName>Lisa</FirstName>"
        "<MiddleName>Sybil</MiddleName><LastSurname>Woods</LastSurname></Name>"
        "<BirthData><BirthDate>2008-09-13</BirthDate></BirthData></Student>\n"
        "<Student><StudentUniqueId>604823</StudentUniqueId></Student>\n</InterchangeStudent>\n",
        encoding="utf-8",
    )
    found = read_people(xml)
    assert found.people["604822"].describe() == "Lisa Sybil Woods, born 2008-09-13"
    assert [(e.source, e.student_id, e.code) for e in found.report.rejects] == [
        (f"{xml}:4", "604823", "ingest.missing_value")
    ]
    api = tmp_path / "students.json"
    api.write_text(
        json.dumps(
            [
                {
                    "studentUniqueId": "s1",
                    "firstName": "Jo",
                    "lastSurname": "Ng",
                    "birthDate": "2010-02-03",
                },
                ["not", "an", "object"],
            ]
        )
    )
    found = read_people(api)
    assert found.people["s1"].describe() == "Jo Ng, born 2010-02-03"
    assert [e.code for e in found.report.rejects] == ["ingest.not_an_object"]


def _unstarted(repo: SqlRepository, start_on: dt.date | None = None) -> list[str]:
    """NOT1 issued by the engine on D + 8 after it opened interventions on D.

    With ``start_on``, the tier 2 one is started that day; otherwise none ever is.
    """
    engine = Engine(CA, repository=repo)  # no roster: nobody owns what opens
    plan = engine.run(D, [SUPPORTED])
    tier2 = next(iv for iv in plan.opened if iv.tier_level >= 2)
    if start_on is not None:
        engine.start(tier2.id, on=start_on, by="ms-lee")
    engine.issue_legal("c1", "not1", on=D + dt.timedelta(days=8), by="clerk", facts=SUPPORTED)
    return [iv.id for iv in plan.opened]


def test_an_opened_intervention_never_started_is_no_prior_support(tmp_path: Path) -> None:
    # Interventions opened on D, never owned nor started, then NOT1 on D + 8: nothing was
    # tried before the letter, so it is flagged (the old report listed the opened ones as
    # support, dated from their opening).
    with SqlRepository(tmp_path / "r.db") as repo:
        opened = _unstarted(repo)
    with SqlRepository(tmp_path / "r.db") as repo:  # reopened: read from the store alone
        (step,) = compliance_report(repo, CA).steps
    assert opened and step.interventions == ()
    assert step.flags == ("no_prior_support",)


def test_support_counts_from_its_start_and_only_if_started_by_the_step(tmp_path: Path) -> None:
    with SqlRepository(tmp_path / "late.db") as repo:
        _unstarted(repo, start_on=D + dt.timedelta(days=9))  # the day after the letter
        (late,) = compliance_report(repo, CA).steps
    assert late.flags == ("no_prior_support",) and late.interventions == ()
    with SqlRepository(tmp_path / "early.db") as repo:
        _unstarted(repo, start_on=D + dt.timedelta(days=3))
        (early,) = compliance_report(repo, CA).steps
    assert early.flags == ()
    (given,) = early.interventions
    assert (given.opened_on, given.started_on) == (D, D + dt.timedelta(days=3))
    assert "opened 2025-10-15, started 2025-10-18, no outcome recorded" in given.describe()


def test_an_intervention_withdrawn_on_corrected_data_is_not_support(tmp_path: Path) -> None:
    # Started on D + 1, then closed by tierflow on D + 2 because corrected data withdrew it
    # (the close event's detail names it): before a letter of D + 8 it is no support; before
    # a letter of D + 1 (as the records stood then) it was.
    with SqlRepository(tmp_path / "r.db") as repo:
        engine = Engine(CA, repository=repo)
        plan = engine.run(D, [SUPPORTED])
        tier2 = next(iv for iv in plan.opened if iv.tier_level >= 2)
        engine.start(tier2.id, on=D + dt.timedelta(days=1), by="ms-lee")
        repo.append(
            WorkflowEvent(
                0,
                D + dt.timedelta(days=2),
                "c1",
                "transition",
                tier2.id,
                "close",
                "active",
                "closed",
                "tierflow",
                "withdrawn: on corrected data ...",
                detail={"withdrawn": "corrected_data"},
            )
        )
        repo.record_issued("c1", "not1", D + dt.timedelta(days=1))
        repo.record_issued("c1", "not2", D + dt.timedelta(days=8))
        report = compliance_report(repo, CA)
    not1, not2 = report.steps
    assert [i.intervention_id for i in not1.interventions] == [tier2.id] and not1.flags == ()
    assert not2.interventions == () and not2.flags[0] == "no_prior_support"
