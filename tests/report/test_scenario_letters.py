"""The seed stories' letters, end to end: raw attendance events, the day's run, the letters home.

Dallas (seed 000, the example Dallas-style playbook on ``tx``): five unexcused absences bring
the middle-schooler to 5 of 55 school days (9%) when the host runs on 2025-11-03: Tier 2, a
weekly check-in and a counselor's family call. Her family reads Spanish, so the check-in
invitation and the days-missed letter go out that day in Spanish, once.

Anaheim (seed 001, the Anaheim-style playbook on ``ca``): eight missed days bring a weekly
mentor check-in on 2026-01-12 (its invitation letter); a third unexcused absence on 2026-01-14
makes the student truant (EC 48260), the clerk issues NOT1, and the first truancy notice goes out
in the version in force in 2026 (SB 691: supportive services, no prosecution warning). Katella
High's families are 20% Spanish-speaking and 10% Vietnamese: EC 48985 requires Spanish there
and not Vietnamese, so a Spanish family gets Spanish and the run would refuse to send a
required language it has no template for.

Expected figures are counted by hand from the calendar (school days from 2025-08-18, Labor Day
off: 10 in August, 21 in September, 23 in October) and the statutes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

import tierflow
from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.ingest import Person
from tierflow.notices import (
    DistrictInfo,
    FamilyContact,
    NoticeError,
    SchoolInfo,
    language_shares,
    required_languages,
)
from tierflow.report import Mailing, produce_notices
from tierflow.workflow import Engine, Roster, StaffMember

EXAMPLES = Path(__file__).resolve().parents[2] / "rulesets" / "examples"
YEAR = (dt.date(2025, 8, 18), dt.date(2026, 5, 29))
BREAKS = [
    (dt.date(2025, 11, 24), dt.date(2025, 11, 28)),
    (dt.date(2025, 12, 22), dt.date(2026, 1, 2)),
]


def _calendar(school: str) -> SchoolCalendar:
    return SchoolCalendar.from_pattern(school, *YEAR, holidays=[dt.date(2025, 9, 1)], breaks=BREAKS)


def _builder(
    cal: SchoolCalendar, sid: str, grade: int, absences: Iterable[tuple[dt.date, str]]
) -> FactsBuilder:
    b = FactsBuilder({cal.id: cal})
    assert b.add_enrollment(Enrollment(sid, cal.id, YEAR[0], grade=grade))
    for day, category in absences:
        assert b.add_event(AttendanceEvent(sid, cal.id, day, category))
    return b


def _text(mailing: Mailing, notice: str) -> str:
    """A letter's words as a reader sees them (tags dropped, spaces joined)."""
    (found,) = [n for n in mailing.notices if n.notice == notice]
    page = (mailing.folder / found.path).read_text("utf-8")
    body = page.split("<body>", 1)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body).replace("\xa0", " "))


def test_dallas_letters_go_home_in_spanish_the_day_tier_2_begins(tmp_path: Path) -> None:
    cal = _calendar("dallas-ms")
    misses = [dt.date(2025, m, d) for m, d in ((9, 3), (9, 17), (10, 1), (10, 15), (10, 29))]
    b = _builder(cal, "dallas-1", 7, [(d, "unexcused_absence") for d in misses])
    staff = [
        StaffMember("mr-diaz", "dallas-ms", ("mentor",), name="Mr. Díaz"),
        StaffMember("ms-okafor", "dallas-ms", ("counselor",), name="Ms. Okafor"),
        StaffMember("mrs-hall", "dallas-ms", ("attendance_clerk",), name="Mrs. Hall"),
    ]
    engine = Engine(
        tierflow.load_ruleset(EXAMPLES / "dallas.yaml"),
        roster=Roster(staff),
        calendars={"dallas-ms": cal},
    )
    inputs = {
        "families": {
            "dallas-1": FamilyContact("Rosa Martínez", "es-MX", ("410 Elm St", "Dallas, TX 75201"))
        },
        "students": {"dallas-1": Person("dallas-1", "Lucía Martínez", None, "Lucía", "Martínez")},
        "schools": {
            "dallas-ms": SchoolInfo(
                "Dallas Middle School", ("3700 Ross Ave", "Dallas, TX 75204"), "972-555-0140"
            )
        },
        "district": DistrictInfo("Dallas ISD", "972-555-0100"),
    }
    letters: dict[dt.date, Mailing] = {}
    for day in (dt.date(2025, 11, 3), dt.date(2025, 11, 4)):
        facts = b.facts_for("dallas-1", day)
        assert facts is not None
        engine.run(day, [facts])
        letters[day] = produce_notices(
            engine,
            on=day,
            directory=tmp_path,
            facts=[facts],
            **inputs,  # type: ignore[arg-type]
        )
    tier2 = letters[dt.date(2025, 11, 3)]
    assert sorted((n.notice, n.for_, n.language, n.fell_back) for n in tier2.notices) == [
        ("mtss-checkin-invitation", "weekly-checkin", "es", False),
        ("mtss-days-missed-nudge", "family-call", "es", False),
    ]
    nudge = _text(tier2, "mtss-days-missed-nudge")
    # 5 of 55 school days by 2025-11-03: 9%, written the Spanish way.
    assert "3 de noviembre de 2025" in nudge and "Lucía" in nudge
    assert "5 días" in nudge and "9 %" in nudge
    invitation = _text(tier2, "mtss-checkin-invitation")
    assert "Mr. Díaz" in invitation and "Dallas Middle School" in invitation
    # The next day nothing is sent again; the store's outbox holds each letter once.
    assert letters[dt.date(2025, 11, 4)].notices == ()
    assert sorted(r.notice for r in engine.notices_of("dallas-1")) == [
        "mtss-checkin-invitation",
        "mtss-days-missed-nudge",
    ]
    assert tier2.mail_house is not None
    assert tier2.mail_house.read_text("utf-8").count("\n") == 3  # a header and two letters


def _katella_languages() -> dict[str, frozenset[str]]:
    """Katella High's 20 families: 4 Spanish (20%), 2 Vietnamese (10%), 14 English."""
    languages = {f"k{i:02d}": "en" for i in range(14)}
    languages |= {f"s{i}": "Spanish" for i in range(3)} | {"anaheim-1": "es-MX"}
    languages |= {"v1": "vie", "v2": "Vietnamese"}
    school_of = dict.fromkeys(languages, "katella-hs")
    return required_languages(language_shares(languages, school_of), 0.15)


def _anaheim(tmp_path: Path, family_language: str) -> tuple[Engine, dict[dt.date, Mailing]]:
    cal = _calendar("katella-hs")
    excused = [dt.date(2025, 9, d) for d in (4, 11, 18, 25)] + [
        dt.date(2025, 10, d) for d in (2, 9)
    ]
    events = [(d, "excused_absence") for d in excused]
    events += [(dt.date(2025, 10, 16), "unexcused_absence")]
    events += [(dt.date(2025, 10, 23), "unexcused_absence")]
    events += [(dt.date(2026, 1, 14), "unexcused_absence")]
    b = _builder(cal, "anaheim-1", 9, events)
    staff = [
        StaffMember("ms-nguyen", "katella-hs", ("mentor",), 15, "Ms. Nguyen"),
        StaffMember("mr-park", "katella-hs", ("counselor", "social_worker"), 25, "Mr. Park"),
    ]
    engine = Engine(
        tierflow.load_ruleset(EXAMPLES / "anaheim.yaml"),
        roster=Roster(staff),
        calendars={"katella-hs": cal},
    )
    required = _katella_languages()
    letters: dict[dt.date, Mailing] = {}
    for day in (dt.date(2026, 1, 12), dt.date(2026, 1, 13), dt.date(2026, 1, 14)):
        facts = b.facts_for("anaheim-1", day)
        assert facts is not None
        plan = engine.run(day, [facts])
        for sid, action in plan.legal_due:
            engine.issue_legal(sid, action.step, on=day, by="mr-park", facts=facts)
        letters[day] = produce_notices(
            engine,
            on=day,
            directory=tmp_path,
            facts=[facts],
            families={
                "anaheim-1": FamilyContact(
                    "Ana Tran", family_language, ("1200 Katella Ave", "Anaheim, CA 92802")
                )
            },
            students={"anaheim-1": Person("anaheim-1", "Minh Tran", None, "Minh", "Tran")},
            schools={"katella-hs": SchoolInfo("Katella High School", ("2200 E Wagner Ave",))},
            district=DistrictInfo("Anaheim Union High School District", "714-555-0100"),
            required_languages=required,
        )
    return engine, letters


def test_anaheim_invitation_then_the_first_truancy_notice_in_force_in_2026(
    tmp_path: Path,
) -> None:
    assert _katella_languages() == {"katella-hs": frozenset({"es"})}
    engine, letters = _anaheim(tmp_path, "es")
    assert [n.notice for n in letters[dt.date(2026, 1, 12)].notices] == ["mtss-checkin-invitation"]
    assert letters[dt.date(2026, 1, 13)].notices == ()
    truant = letters[dt.date(2026, 1, 14)]
    assert [(n.notice, n.for_, n.language) for n in truant.notices] == [
        ("ca-first-truancy-notice", "not1", "es")
    ]
    text = _text(truant, "ca-first-truancy-notice")
    assert "14 de enero de 2026" in text and "Minh" in text
    # EC 48260.5 as amended by SB 691 (from 2025-07-01): supportive services, no prosecution
    # or driving-privilege warning.
    assert "salud mental" in text and "permiso de conducir" not in text
    [record] = [r for r in engine.notices_of("anaheim-1") if r.for_ == "not1"]
    issued = [e for e in engine.timeline("anaheim-1") if e.kind == "legal_issued"]
    assert [e.seq for e in issued] == [record.source_seq]


def test_anaheim_a_vietnamese_family_falls_back_where_vietnamese_is_not_required(
    tmp_path: Path,
) -> None:
    _, letters = _anaheim(tmp_path, "vi")
    notice = letters[dt.date(2026, 1, 14)].notices[0]
    assert (notice.language, notice.fell_back) == ("en", True)


def test_anaheim_a_required_language_without_a_template_is_never_sent_in_english(
    tmp_path: Path,
) -> None:
    # The district's own notice for the check-in has only an English template.
    english_only = tierflow.parse_ruleset(
        f"""
id: anaheim-english-only
name: x
version: "1"
extends: {EXAMPLES / "anaheim.yaml"}
notices:
  - id: mtss-checkin-invitation
    for: [weekly-checkin]
    templates:
      en: "<address>{{{{ family.name }}}}</address>
        <p>Dear family of {{{{ student.first_name }}}}</p>"
    elements: []
""",
        base_dir=EXAMPLES,
    )
    engine = Engine(
        english_only, roster=Roster([StaffMember("ms-nguyen", "katella-hs", ("mentor",))])
    )
    facts = {
        "student_id": "anaheim-1",
        "school_id": "katella-hs",
        "grade": 9,
        "days_enrolled": 90,
        "days_absent": 8,
        "days_unexcused": 2,
    }
    engine.run(dt.date(2026, 1, 12), [facts])
    with pytest.raises(NoticeError, match="school katella-hs must send 'es'"):
        produce_notices(
            engine,
            on=dt.date(2026, 1, 12),
            directory=tmp_path,
            facts=[facts],
            families={"anaheim-1": FamilyContact("Ana Tran", "es", ("1 Main St",))},
            students={"anaheim-1": Person("anaheim-1", "Minh Tran")},
            district=DistrictInfo("AUHSD"),
            required_languages=_katella_languages(),
        )
    assert not any(tmp_path.iterdir())
