"""The built-in NOT2, NOT3 and MTSS nudge notices, in English and Spanish.

The phrases expected below are written from the statutes (EC 48261: reported as a truant again;
EC 48262: habitual truant after three reports, only after a conscientious effort to hold at
least one conference with the parent and pupil; EC 48263: referral to a SARB or probation) and
from the attendance-nudge practice (days missed, every day counts, an offer of help), and the
dates from CLDR's long formats, not copied from the templates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pytest

import tierflow
from tierflow.notices import (
    AttendanceFigures,
    DistrictInfo,
    FamilyContact,
    NoticeContext,
    SchoolInfo,
    StaffContact,
    StudentInfo,
    render_notice,
)

ON = dt.date(2025, 11, 17)

CONTEXT = NoticeContext(
    student=StudentInfo("s1", "Ana", "López", "5"),
    family=FamilyContact("María López", "es", ("12 Main St", "Anaheim, CA 92801")),
    school=SchoolInfo("Oak Elementary"),
    district=DistrictInfo("Anaheim Elementary"),
    attendance=AttendanceFigures(dt.date(2025, 11, 14), 60, 6, 6),
    staff=StaffContact("Sam Lee", "Attendance clerk", "555-0100", "sam@example.org"),
    deadline=dt.date(2025, 12, 1),
)

# Written from the statutes, element by element; each language says it in its own words.
NOT2 = {
    "reported_again": {  # EC 48261
        "en": ["again", "without a valid excuse", "reported as truant again", "48261"],
        "es": ["ha vuelto a faltar", "sin una justificación válida", "vuelto a reportar", "48261"],
    },
    "next_steps_habitual": {  # EC 48262, 48263
        "en": ["habitual truant", "conference", "School Attendance Review Board", "48263"],
        "es": [
            "ausentismo habitual",
            "reunirse con usted",
            "Junta de Revisión de Asistencia Escolar",
            "48263",
        ],
    },
}
NOT3 = {
    "habitual_truant": {  # EC 48262
        "en": ["three or more times", "habitual truant", "48262"],
        "es": ["tres o más veces", "ausentismo habitual", "48262"],
    },
    "conscientious_effort": {  # EC 48262
        "en": ["conscientious effort", "at least one conference with you and Ana"],
        "es": ["esfuerzo serio", "al menos una reunión con usted y con Ana"],
    },
    "conference_invitation": {  # EC 48262
        "en": ["We invite you and Ana to a conference", "555-0100", "December 1, 2025"],
        "es": ["Los invitamos a usted y a Ana a una reunión", "555-0100", "1 de diciembre de 2025"],
    },
    "sarb_referral": {  # EC 48263
        "en": ["School Attendance Review Board", "probation", "48263"],
        "es": ["Junta de Revisión de Asistencia Escolar", "Libertad Condicional", "48263"],
    },
}
# The letter's date and the figures, as CLDR writes them, and the accents that must survive.
COMMON = {
    "en": ["November 17, 2025", "November 14, 2025"],
    "es": ["17 de noviembre de 2025", "14 de noviembre de 2025", "López", "Código de Educación"],
}


@pytest.fixture(scope="module")
def ca() -> tierflow.CompiledRuleset:
    return tierflow.load_ruleset("ca")


@pytest.mark.parametrize(
    ("step", "notice", "expected"),
    [
        ("not2", "ca-second-truancy-notice", NOT2),
        ("not3", "ca-habitual-truancy-notice", NOT3),
    ],
)
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_ca_not2_and_not3_letters_carry_their_statutory_elements(
    ca: tierflow.CompiledRuleset,
    step: str,
    notice: str,
    expected: dict[str, dict[str, list[str]]],
    language: str,
) -> None:
    assert [n.id for n in ca.program.notices.for_step(step)] == [notice]
    r = render_notice(ca, notice, CONTEXT, language=language, on=ON)
    assert (r.language, r.fell_back) == (language, False)
    assert r.elements == tuple(expected) and r.missing_elements == ()
    for element, phrases in expected.items():
        for phrase in phrases[language]:
            assert phrase in r.html, (element, phrase)
    for phrase in COMMON[language]:
        assert phrase in r.html, phrase
    assert r.html.count("Ana López") == 1  # one student per letter, named once in full
    assert "&amp;" not in r.html and "&lt;" not in r.html and "\ufffd" not in r.html


@pytest.mark.parametrize("name", ["mtss", "ca", "tx"])
def test_tierflow_check_on_the_built_in_rule_sets_stays_clean(name: str) -> None:
    from tierflow.cli import main

    out = io.StringIO()
    assert main(["check", "--strict", name], out=out) == 0, out.getvalue()
    assert "warning" not in out.getvalue() and "notice." not in out.getvalue()


# 3 days missed of 40 enrolled: 7.5%, which CLDR's whole-percent format rounds (half to even) to
# 8; Spanish puts a no-break space before the sign.
NUDGE_CONTEXT = NoticeContext(
    student=StudentInfo("s2", "Ana", "López", "2"),
    family=FamilyContact("María López", "es", ("12 Main St",)),
    school=SchoolInfo("Oak Elementary"),
    district=DistrictInfo("Anaheim Elementary"),
    attendance=AttendanceFigures(dt.date(2025, 10, 31), 40, 3, 1),
    staff=StaffContact("Sam Lee", "Counselor", "555-0100"),
)
NUDGE = {
    "days_missed": {
        "en": ["October 31, 2025", "missed 3 days", "so far", "8%"],
        "es": ["31 de octubre de 2025", "faltado 3 días", "en lo que va", "8\xa0%"],
    },
    "every_day_counts": {
        "en": ["Every day counts", "excused or not", "two days a month", "10 percent"],
        "es": ["Cada día cuenta", "justificadas o no", "dos días al mes", "10 %"],
    },
    "offer_help": {
        "en": ["here to help", "Sam Lee at 555-0100"],
        "es": ["Estamos aquí para ayudarle", "Sam Lee al 555-0100"],
    },
}
# A nudge is support: nothing of the truancy track's legal language.
NO_THREAT = {
    "en": ["truan", "law", "prosecut", "court", "infraction", "SARB"],
    "es": ["ausentismo", "ley", "proceso judicial", "tribunal", "infracción", "SARB"],
}


@pytest.mark.parametrize("name", ["mtss", "ca", "tx"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_mtss_nudge_letter_says_days_missed_and_offers_help(name: str, language: str) -> None:
    ruleset = tierflow.load_ruleset(name)  # ca and tx inherit it from mtss
    assert [n.id for n in ruleset.program.notices.for_step("family-call")] == [
        "mtss-days-missed-nudge"
    ]
    r = render_notice(ruleset, "mtss-days-missed-nudge", NUDGE_CONTEXT, language=language, on=ON)
    assert (r.language, r.fell_back) == (language, False)
    assert r.elements == tuple(NUDGE) and r.missing_elements == ()
    for element, phrases in NUDGE.items():
        for phrase in phrases[language]:
            assert phrase in r.html, (element, phrase)
    for word in NO_THREAT[language]:
        assert word not in r.html, word
    assert "López" in r.html and ("17 de noviembre de 2025" in r.html) == (language == "es")


# The typical classmate (Rogers and Feller 2018): Ana's 3 days next to the median of her school
# and grade, in each direction, and the plural as each language writes it.
CLASSMATES = {
    # median: (English, Spanish) phrases
    1.5: (
        ["a typical student in the same grade at Oak Elementary has missed 1.5 days",
         "Ana has missed more school than a typical classmate"],
        ["un estudiante típico del mismo grado en Oak Elementary ha faltado 1,5 días",
         "Ana ha faltado más días que un compañero típico"],
    ),
    3.0: (
        ["has missed 3 days so far this year", "about as much school as a typical classmate"],
        ["ha faltado 3 días en lo que va del año", "más o menos los mismos días que un compañero"],
    ),
    1.0: (
        ["has missed 1 day so far this year", "more school than a typical classmate"],
        ["ha faltado 1 día en lo que va del año", "más días que un compañero típico"],
    ),
    4.5: (
        ["has missed 4.5 days", "Ana has missed less school than a typical classmate"],
        ["ha faltado 4,5 días", "Ana ha faltado menos días que un compañero típico"],
    ),
}  # fmt: skip
SHAMING = {
    "en": ["worse", "behind her classmates", "fault", "should be ashamed", "bad"],
    "es": ["peor", "culpa", "vergüenza", "malo"],
}


@pytest.mark.parametrize("median", list(CLASSMATES))
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_nudge_compares_with_a_typical_classmate_when_the_figure_is_known(
    median: float, language: str
) -> None:
    mtss = tierflow.load_ruleset("mtss")
    attendance = dataclasses.replace(NUDGE_CONTEXT.attendance, classmates_days_absent=median)
    context = dataclasses.replace(NUDGE_CONTEXT, attendance=attendance)
    r = render_notice(mtss, "mtss-days-missed-nudge", context, language=language, on=ON)
    assert r.elements == tuple(NUDGE) and r.missing_elements == ()
    for phrase in CLASSMATES[median][language == "es"]:
        assert phrase in r.html, phrase
    for phrases in NUDGE.values():  # the rest of the letter is unchanged
        for phrase in phrases[language]:
            assert phrase in r.html, phrase
    for word in SHAMING[language] + NO_THREAT[language]:
        assert word not in r.html, word
    assert r.html.count('class="classmates"') == 1


@pytest.mark.parametrize("language", ["en", "es"])
def test_without_the_figure_the_comparison_is_left_out(language: str) -> None:
    mtss = tierflow.load_ruleset("mtss")
    assert NUDGE_CONTEXT.attendance.classmates_days_absent is None
    r = render_notice(mtss, "mtss-days-missed-nudge", NUDGE_CONTEXT, language=language, on=ON)
    assert r.elements == tuple(NUDGE) and r.missing_elements == ()
    for word in ["classmate", "typical", "compañero", "típico", 'class="classmates"']:
        assert word not in r.html, word


# The Tier 2 check-in invitation: what check-ins are (Check & Connect: a few minutes each week
# with one adult who reviews the week and sets a goal), that they are support and not
# discipline, and a meeting with the named staff member, by the deadline, with phone and email.
INVITATION = {
    "checkin_what": {
        "en": ["A check-in is a few minutes each week", "one adult at school",
               "Sam Lee, Attendance clerk", "a small goal for the next week"],
        "es": ["unos minutos cada semana", "un adulto de la escuela",
               "Sam Lee, Attendance clerk", "una meta pequeña para la semana siguiente"],
    },
    "checkin_support": {
        "en": ["support, not discipline", "Ana is not in trouble", "punishment"],
        "es": ["un apoyo, no una medida disciplinaria", "Ana no está en problemas", "castigo"],
    },
    "checkin_meeting": {
        "en": ["We invite you to meet Sam Lee", "call Sam Lee at 555-0100",
               "by December 1, 2025", "sam@example.org"],
        "es": ["invitarle a reunirse con Sam Lee", "Llame a Sam Lee al 555-0100",
               "a más tardar el 1 de diciembre de 2025", "sam@example.org"],
    },
}  # fmt: skip
# Outside the elements: the days missed (6 of 60) and the check-ins named in each language.
INVITATION_COMMON = {
    "en": ["Dear María López", "missed 6 days of school", "weekly check-ins at Oak Elementary"],
    "es": ["Estimada familia de Ana", "ha faltado 6 días", "ciclo escolar",
           "reuniones semanales de seguimiento en Oak Elementary", "usted"],
}  # fmt: skip


@pytest.mark.parametrize("name", ["mtss", "ca", "tx"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_checkin_invitation_explains_check_ins_and_invites_to_meet(
    name: str, language: str
) -> None:
    ruleset = tierflow.load_ruleset(name)  # ca and tx inherit it from mtss
    assert [n.id for n in ruleset.program.notices.for_step("weekly-checkin")] == [
        "mtss-checkin-invitation"
    ]
    r = render_notice(ruleset, "mtss-checkin-invitation", CONTEXT, language=language, on=ON)
    assert (r.language, r.fell_back, r.channel) == (language, False, "letter")
    assert r.elements == tuple(INVITATION) and r.missing_elements == ()
    for element, phrases in INVITATION.items():
        for phrase in phrases[language]:
            assert phrase in r.html, (element, phrase)
    for phrase in INVITATION_COMMON[language] + COMMON[language][:1]:
        assert phrase in r.html, phrase
    for word in NO_THREAT[language]:
        assert word not in r.html, word
    assert "López" in r.html and "\ufffd" not in r.html and "&amp;" not in r.html


@pytest.mark.parametrize(
    ("language", "present", "absent"),
    [
        ("en", ["Please call Oak Elementary at 555-0199 and ask for Sam Lee to find"],
         [" by ", "write to", "Sam Lee,"]),
        ("es", ["Llame a Oak Elementary al 555-0199 y pregunte por Sam Lee para acordar"],
         ["a más tardar", "escriba a", "Sam Lee,"]),
    ],
)  # fmt: skip
def test_the_invitation_without_a_deadline_email_or_staff_phone(
    language: str, present: list[str], absent: list[str]
) -> None:
    context = dataclasses.replace(
        CONTEXT,
        school=SchoolInfo("Oak Elementary", phone="555-0199"),
        staff=StaffContact("Sam Lee"),
        deadline=None,
    )
    mtss = tierflow.load_ruleset("mtss")
    r = render_notice(mtss, "mtss-checkin-invitation", context, language=language, on=ON)
    assert r.elements == tuple(INVITATION) and r.missing_elements == ()
    for phrase in present:
        assert phrase in r.html, phrase
    for phrase in absent:
        assert phrase not in r.html, phrase
