"""A day's notices from a store: what is due, the files written, the outbox, and refusals.

Expected values are written by hand: which notices a rule set's ``notices:`` attach to the
steps and interventions the day opened (the built-in ``tx`` rule set: the MTSS nudge for the
family call, the TEC 25.095(b) warning for the parent notice), the mail order of ZIP codes, and
the file names a hostile id may not escape from.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

import tierflow
from tierflow.ingest import Person
from tierflow.notices import DistrictInfo, FamilyContact, NoticeError, SchoolInfo
from tierflow.report import produce_notices
from tierflow.workflow import Engine, Roster, StaffMember

ON = dt.date(2025, 10, 31)
ROLES = (
    "counselor",
    "mentor",
    "attendance_team",
    "social_worker",
    "nurse",
    "teacher",
    "administrator",
    "attendance_clerk",
)
DISTRICT = DistrictInfo("Dallas ISD", phone="214-555-0000")
SCHOOLS = {
    "oak": SchoolInfo("Oak Middle School", ("1 School Rd", "Dallas, TX 75201"), "214-555-0100")
}


STUDENTS = {
    f"s{i}": Person(f"s{i}", f"Student{i} Ruiz", first_name=f"Student{i}", last_name="Ruiz")
    for i in range(1, 4)
}


def _facts(sid: str, *, school: str = "oak", unexcused: int = 3) -> dict[str, Any]:
    """Three unexcused days in four weeks: tier 2 (family call) and the TEC 25.095(b) notice."""
    days = ["2025-10-06", "2025-10-20", "2025-10-30", "2025-10-27", "2025-10-28"][:unexcused]
    return {
        "student_id": sid,
        "school_id": school,
        "grade": 7,
        "days_enrolled": 45,
        "days_absent": unexcused,
        "days_unexcused": unexcused,
        "attendance_log": [{"date": d, "kind": "unexcused"} for d in days],
    }


def _engine(ruleset: str | tierflow.CompiledRuleset = "tx") -> Engine:
    rs = tierflow.load_ruleset(ruleset) if isinstance(ruleset, str) else ruleset
    staff = [StaffMember("c1", "oak", ROLES, 100, "Ms. Cruz")]
    return Engine(rs, roster=Roster(staff))


def _family(name: str, language: str = "en", zip_code: str = "75201") -> FamilyContact:
    return FamilyContact(name, language, ("12 Elm St", f"Dallas, TX {zip_code}"), "f@example.org")


def _day(engine: Engine, facts: list[dict[str, Any]], *, issue: bool = True) -> None:
    engine.run(ON, facts)
    if issue:
        for f in facts:
            engine.issue_legal(f["student_id"], "parent-notice", on=ON, by="c1", facts=f)


def test_each_notice_due_is_rendered_once_and_recorded_in_the_outbox(tmp_path: Path) -> None:
    engine = _engine()
    facts = [_facts("s1")]
    _day(engine, facts)
    families = {"s1": _family("María Pérez", "es")}
    first = produce_notices(
        engine,
        on=ON,
        directory=tmp_path,
        facts=facts,
        families=families,
        district=DISTRICT,
        schools=SCHOOLS,
        students={"s1": Person("s1", "Ana Pérez", first_name="Ana", last_name="Pérez")},
    )
    # Tier 2's weekly check-in calls for the invitation, its family call for the MTSS nudge;
    # the parent notice for the TEC 25.095(b) warning.
    assert sorted((n.notice, n.for_) for n in first.notices) == [
        ("mtss-checkin-invitation", "weekly-checkin"),
        ("mtss-days-missed-nudge", "family-call"),
        ("tx-warning-notice", "parent-notice"),
    ]
    assert {n.language for n in first.notices} == {"es"}
    assert first.problems == () and first.already == 0
    records = {r.notice: r for r in engine.notices_of("s1")}
    for n in first.notices:
        page = (first.folder / n.path).read_text("utf-8")
        assert "Estimada familia" in page and "Oak Middle School" in page
        assert records[n.notice].seq == n.seq
        assert records[n.notice].content_sha256 == n.content_sha256
        detail = records[n.notice].detail
        assert detail is not None and detail["path"] == n.path
    warning = (
        first.folder
        / "oak"
        / f"s1-tx-warning-notice-{records['tx-warning-notice'].source_seq}.html"
    ).read_text("utf-8")
    # Whom to call: the owner of the student's case (the roster's name), at the school's phone.
    assert "25.0915" in warning and "llame a Ms. Cruz al 214-555-0100" in warning
    # The same day again: nothing is rendered twice, nothing more is recorded.
    again = produce_notices(
        engine,
        students=STUDENTS,
        on=ON,
        directory=tmp_path,
        facts=facts,
        families=families,
        district=DISTRICT,
    )
    assert again.notices == () and again.already == 3
    assert len(engine.notices_of("s1")) == 3


def test_the_store_keeps_hashes_not_the_family_s_name_or_address(tmp_path: Path) -> None:
    engine = _engine()
    facts = [_facts("s1")]
    _day(engine, facts)
    family = _family("María Pérez", "es")
    produce_notices(
        engine,
        students=STUDENTS,
        on=ON,
        directory=tmp_path,
        facts=facts,
        families={"s1": family},
        district=DISTRICT,
    )
    events = [e for e in engine.repository.events("s1") if e.kind == "notice_rendered"]
    assert len(events) == 3
    text = repr(events)
    assert "María" not in text and "Elm" not in text
    expected = hashlib.sha256(
        "\n".join(["María Pérez", "12 Elm St", "Dallas, TX 75201", "f@example.org", ""]).encode()
    ).hexdigest()
    assert {e.detail["recipient_sha256"] for e in events if e.detail} == {expected}


def test_a_family_without_contact_or_address_is_a_problem_and_stays_due(tmp_path: Path) -> None:
    engine = _engine()
    facts = [_facts("s1"), _facts("s2"), _facts("s4")]
    _day(engine, facts)
    no_address = FamilyContact("Li Wei", "en")
    run = produce_notices(
        engine,
        students=STUDENTS,
        on=ON,
        directory=tmp_path,
        facts=facts,
        families={"s2": no_address, "s4": _family("D")},
        district=DISTRICT,
    )
    assert run.notices == ()
    assert sorted((p.student_id, p.code) for p in run.problems) == [
        *[("s1", "notice.no_contact")] * 3,
        *[("s2", "notice.no_address")] * 3,
        *[("s4", "notice.no_student")] * 3,
    ]
    assert "Li Wei" not in " ".join(map(str, run.problems))
    assert engine.notices_of("s1") == [] and engine.notices_of("s2") == []
    fixed = produce_notices(
        engine,
        students=STUDENTS,
        on=ON,
        directory=tmp_path,
        facts=facts,
        families={"s1": _family("A"), "s2": _family("B"), "s4": _family("D")},
        district=DISTRICT,
    )
    assert len(fixed.notices) == 6 and [p.student_id for p in fixed.problems] == ["s4"] * 3


def test_a_required_language_without_a_template_stops_the_run_before_anything(
    tmp_path: Path,
) -> None:
    engine = _engine()
    facts = [_facts("s1"), _facts("s2")]
    _day(engine, facts)
    families = {"s1": _family("A", "vi"), "s2": _family("B", "en")}
    with pytest.raises(NoticeError) as caught:
        produce_notices(
            engine,
            students=STUDENTS,
            on=ON,
            directory=tmp_path,
            facts=facts,
            families=families,
            district=DISTRICT,
            required_languages={"oak": ["vi"]},
        )
    message = str(caught.value)
    assert "school oak must send 'vi'" in message
    for notice in ("mtss-checkin-invitation", "mtss-days-missed-nudge", "tx-warning-notice"):
        assert f"notice {notice!r} has no 'vi' template" in message
    assert not any(tmp_path.iterdir())
    assert engine.notices_of("s1") == [] and engine.notices_of("s2") == []
    # Spanish is required and written: the Spanish family gets Spanish, never English only.
    ok = produce_notices(
        engine,
        students=STUDENTS,
        on=ON,
        directory=tmp_path,
        facts=facts,
        families={"s1": _family("A", "es-MX"), "s2": _family("B", "en")},
        district=DISTRICT,
        required_languages={"oak": ["es"]},
    )
    assert sorted((n.student_id, n.language) for n in ok.notices) == [
        *[("s1", "es")] * 3,
        *[("s2", "en")] * 3,
    ]


def test_a_language_not_required_falls_back_and_says_so(tmp_path: Path) -> None:
    engine = _engine()
    facts = [_facts("s1")]
    _day(engine, facts, issue=False)
    run = produce_notices(
        engine,
        students=STUDENTS,
        on=ON,
        directory=tmp_path,
        facts=facts,
        families={"s1": _family("A", "vi")},
        district=DISTRICT,
    )
    assert len(run.notices) == 2
    assert {(n.language, n.fell_back) for n in run.notices} == {("en", True)}


def test_letters_go_in_mail_order_and_the_csv_holds_what_a_mail_house_needs(
    tmp_path: Path,
) -> None:
    engine = _engine()
    facts = [_facts("s1"), _facts("s2"), _facts("s3")]
    _day(engine, facts, issue=False)
    families = {
        "s1": _family("Cruz", zip_code="75205"),
        "s2": _family("Baker", zip_code="75201"),
        "s3": _family("Adams", zip_code="75203-1234"),
    }
    run = produce_notices(
        engine,
        students=STUDENTS,
        on=ON,
        directory=tmp_path,
        facts=facts,
        families=families,
        district=DISTRICT,
    )
    assert [n.student_id for n in run.notices] == ["s2", "s2", "s3", "s3", "s1", "s1"]
    assert run.mail_house is not None
    rows = list(csv.DictReader(io.StringIO(run.mail_house.read_text("utf-8"))))
    assert [(r["mail_order"], r["student_id"], r["postal_code"]) for r in rows] == [
        ("1", "s2", "75201"),
        ("2", "s2", "75201"),
        ("3", "s3", "75203"),
        ("4", "s3", "75203"),
        ("5", "s1", "75205"),
        ("6", "s1", "75205"),
    ]
    assert rows[2]["address_2"] == "Dallas, TX 75203-1234" and rows[2]["recipient"] == "Adams"
    page = run.pages["oak"].read_text("utf-8")
    assert page.index('data-student="s2"') < page.index('data-student="s3"')
    assert page.index('data-student="s3"') < page.index('data-student="s1"')
    assert page.count('<section class="letter"') == 6
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_hostile_ids_and_names_stay_inside_the_folder_and_inert(tmp_path: Path) -> None:
    engine = _engine()
    evil = "../../etc/passwd"
    facts = [_facts(evil, school="../oak")]
    _day(engine, facts, issue=False)
    family = FamilyContact("=HYPERLINK(1)", "en", ("<script>alert(1)</script>", "Dallas, TX 75201"))
    run = produce_notices(
        engine,
        students={evil: Person(evil, "<b>Eve</b>")},
        on=ON,
        directory=tmp_path / "out",
        facts=facts,
        families={evil: family},
        district=DISTRICT,
    )
    letter = run.notices[0]
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert written and all(p.resolve().is_relative_to(run.folder.resolve()) for p in written)
    assert ".." not in letter.path
    page = (run.folder / letter.path).read_text("utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<b>" not in page and "&lt;b&gt;Eve&lt;/b&gt;" in page
    assert run.mail_house is not None
    assert '"\'=HYPERLINK(1)"' in run.mail_house.read_text("utf-8")


SMS_RULESET = """
id: district-sms
name: A district that texts
version: "1"
extends: mtss
notices:
  - id: mtss-days-missed-nudge
    for: [family-call]
    channel: sms
    templates:
      en: "{{ student.first_name }} missed {{ attendance.days_absent | number }} days.
        {{ staff.phone }}"
      es: "{% for i in range(30) %}{{ student.first_name }} faltó
        {{ attendance.days_absent | number }} días. {% endfor %}"
    elements: []
  - id: mtss-checkin-invitation
    for: [weekly-checkin]
    channel: email
    templates:
      en:
        subject: "Check-ins for {{ student.first_name }}"
        text: "Dear {{ family.name }}, {{ staff.name }} will check in weekly."
    elements: []
"""


def test_texts_and_emails_are_written_as_payloads_and_long_texts_refused(tmp_path: Path) -> None:
    engine = _engine(tierflow.parse_ruleset(SMS_RULESET))
    facts = [_facts("s1"), _facts("s2")]
    _day(engine, facts, issue=False)
    families = {
        "s1": FamilyContact("A", "en", (), "a@example.org", "+12145550101"),
        "s2": FamilyContact("B", "es", (), "b@example.org", "+12145550102"),
    }
    students = {
        "s1": Person("s1", "Ana Ruiz", first_name="Ana", last_name="Ruiz"),
        "s2": Person("s2", "Íñigo Ruiz", first_name="Íñigo", last_name="Ruiz"),
    }
    run = produce_notices(
        engine,
        on=ON,
        directory=tmp_path,
        facts=facts,
        families=families,
        district=DISTRICT,
        students=students,
        schools=SCHOOLS,
    )
    assert run.mail_house is None and run.messages is not None
    lines = [json.loads(line) for line in run.messages.read_text("utf-8").splitlines()]
    by = {(x["student_id"], x["channel"]): x for x in lines}
    # "Ana missed 3 days. 214-555-0100": 31 GSM-7 characters, one message.
    assert by[("s1", "sms")]["text"] == "Ana missed 3 days. 214-555-0100"
    assert (by[("s1", "sms")]["encoding"], by[("s1", "sms")]["segments"]) == ("gsm-7", 1)
    assert by[("s1", "sms")]["to"] == "+12145550101"
    assert by[("s1", "email")]["subject"] == "Check-ins for Ana"
    assert by[("s2", "email")]["to"] == "b@example.org"
    # 30 x "Íñigo faltó 3 días. " = 600 UTF-16 units: UCS-2 (Í, ó, í are not GSM-7), 9 parts.
    assert ("s2", "sms") not in by
    [problem] = run.problems
    assert (problem.student_id, problem.code) == ("s2", "notice.sms_too_long")
    assert "9 ucs-2 messages" in problem.message


def test_a_returned_letter_is_produced_again_once_the_address_changes(tmp_path: Path) -> None:
    engine = _engine()
    facts = [_facts("s1")]
    _day(engine, facts, issue=False)
    old = _family("A", zip_code="75201")
    first = produce_notices(
        engine,
        students=STUDENTS,
        on=ON,
        directory=tmp_path,
        facts=facts,
        families={"s1": old},
        district=DISTRICT,
    )
    nudge = next(n for n in first.notices if n.notice == "mtss-days-missed-nudge")
    assert nudge.school_id == "oak"
    [record] = [r for r in engine.notices_of("s1") if r.seq == nudge.seq]
    assert record.detail is not None and record.detail["school_id"] == "oak"
    later = ON + dt.timedelta(days=4)
    engine.record_delivery("s1", nudge.seq, "returned", on=later, by="clerk")
    # Same address: not sent again, and said so.
    same = produce_notices(
        engine,
        students=STUDENTS,
        on=later,
        since=ON,
        directory=tmp_path,
        facts=facts,
        families={"s1": old},
        district=DISTRICT,
    )
    assert same.notices == () and same.already == 1
    assert [(p.notice, p.code) for p in same.problems] == [
        ("mtss-days-missed-nudge", "notice.returned_unchanged")
    ]
    assert "returned on 2025-11-04" in same.problems[0].message
    # A corrected address: the letter goes out again, recorded as a second rendering.
    moved = FamilyContact("A", "en", ("77 Oak Ave", "Dallas, TX 75209"))
    again = produce_notices(
        engine,
        students=STUDENTS,
        on=later,
        since=ON,
        directory=tmp_path,
        facts=facts,
        families={"s1": moved},
        district=DISTRICT,
    )
    assert [(n.notice, n.postal_code) for n in again.notices] == [
        ("mtss-days-missed-nudge", "75209")
    ]
    assert len([r for r in engine.notices_of("s1") if r.notice == "mtss-days-missed-nudge"]) == 2


def test_the_ca_rule_set_counts_each_school_s_languages_itself(tmp_path: Path) -> None:
    """EC 48985 through ca's translations: 1 of 3 Oak families Spanish (33%), Elm all Vietnamese."""
    staff = [StaffMember("c1", school, ROLES, 100, "Ms. Cruz") for school in ("oak", "elm")]
    engine = Engine(tierflow.load_ruleset("ca"), roster=Roster(staff))
    facts = [
        {**_facts(sid, school=school), "days_absent": 4, "days_unexcused": 0}
        for sid, school in (("s1", "oak"), ("s2", "oak"), ("s3", "oak"))
    ]
    engine.run(ON, facts)
    families = {"s1": _family("A", "es"), "s2": _family("B"), "s3": _family("C")}
    # Without the day's facts nothing says who the schools' pupils are: refused, not guessed.
    with pytest.raises(NoticeError, match="EC 48985"):
        produce_notices(
            engine,
            students=STUDENTS,
            on=ON,
            directory=tmp_path,
            families=families,
            district=DISTRICT,
        )
    run = produce_notices(
        engine,
        students=STUDENTS,
        on=ON,
        directory=tmp_path,
        facts=facts,
        families=families,
        district=DISTRICT,
    )
    assert run.required_languages == {"oak": frozenset({"es"})}
    assert {(n.student_id, n.language) for n in run.notices} == {
        ("s1", "es"),
        ("s2", "en"),
        ("s3", "en"),
    }
    # A fourth pupil at Elm, the only one there, reads Vietnamese: 100% of Elm, required, and
    # no built-in notice has a Vietnamese template.
    elm = {**_facts("s4", school="elm"), "days_absent": 4, "days_unexcused": 0}
    engine.run(ON, [elm])
    with pytest.raises(NoticeError, match="school elm must send 'vi'"):
        produce_notices(
            engine,
            students={**STUDENTS, "s4": Person("s4", "Bao Le", first_name="Bao", last_name="Le")},
            on=ON,
            directory=tmp_path / "second",
            facts=[*facts, elm],
            families={**families, "s4": _family("D", "vi")},
            district=DISTRICT,
        )
    assert not (tmp_path / "second").exists()
