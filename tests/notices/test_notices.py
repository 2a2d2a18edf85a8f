"""Family notices: the built-in CA and TX notices by date and language, checks and bounds.

The phrases expected below come from the statutes (EC 48260.5 before and after SB 691, TEC
25.095(b)) and from Babel's CLDR data written out by hand, not from the templates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tierflow
from tierflow.analysis import analyze
from tierflow.notices import (
    AttendanceFigures,
    DistrictInfo,
    FamilyContact,
    NoticeContext,
    NoticeError,
    SchoolInfo,
    StaffContact,
    StudentInfo,
    render_notice,
)

BEFORE, AFTER = dt.date(2025, 6, 30), dt.date(2025, 7, 1)

CONTEXT = NoticeContext(
    student=StudentInfo("s1", "Ana", "López", "5"),
    family=FamilyContact("María López", "es", ("12 Main St", "Anaheim, CA 92801")),
    school=SchoolInfo("Oak Elementary"),
    district=DistrictInfo("Anaheim Elementary"),
    attendance=AttendanceFigures(dt.date(2025, 9, 30), 40, 4, 3),
    staff=StaffContact("Sam Lee", "Attendance clerk", "555-0100", "sam@example.org"),
)

# EC 48260.5, in each language: the elements of both versions, then each version's own.
CA_BOTH = {
    "en": ["truant", "required by law", "alternative educational programs", "right to meet"],
    "es": [
        "ausentismo",
        "la ley le obliga",
        "programas educativos alternativos",
        "derecho a reunirse",
    ],
}
CA_BEFORE = {
    "en": ["infraction", "prosecution", "driving privileges", "13202.7", "attend classes with"],
    "es": [
        "infracción",
        "proceso judicial",
        "permiso de conducir",
        "13202.7",
        "asista a clases con",
    ],
}
CA_AFTER = {
    "en": [
        "Mental health",
        "supportive services",
        "strategies",
        "10 percent",
        "third grade",
        "middle school",
        "graduate",
    ],
    "es": [
        "salud mental",
        "servicios de apoyo",
        "estrategias",
        "10 %",
        "tercer grado",
        "secundaria",
        "gradúen",
    ],
}
TX = {
    "en": [
        "duty to monitor",
        "require Ana to attend school",
        "truancy prevention measures",
        "25.0915",
        "meet with us",
    ],
    "es": [
        "deber de vigilar",
        "exigirle que asista",
        "medidas de prevención del ausentismo",
        "25.0915",
        "se reúna con nosotros",
    ],
}


@pytest.fixture(scope="module")
def ca() -> tierflow.CompiledRuleset:
    return tierflow.load_ruleset("ca")


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_ca_first_notice_before_sb_691(ca: tierflow.CompiledRuleset, language: str) -> None:
    html = render_notice(ca, "ca-first-truancy-notice", CONTEXT, language=language, on=BEFORE).html
    for phrase in CA_BOTH[language] + CA_BEFORE[language]:
        assert phrase in html, phrase
    for phrase in CA_AFTER[language]:
        assert phrase not in html, phrase


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_ca_first_notice_from_sb_691(ca: tierflow.CompiledRuleset, language: str) -> None:
    r = render_notice(ca, "ca-first-truancy-notice", CONTEXT, language=language, on=AFTER)
    for phrase in CA_BOTH[language] + CA_AFTER[language]:
        assert phrase in r.html, phrase
    for phrase in CA_BEFORE[language]:
        assert phrase not in r.html, phrase
    assert r.missing_elements == ()
    assert set(r.elements) == {
        "truant",
        "compel_attendance",
        "alternative_programs",
        "meet_personnel",
        "supportive_services",
        "develop_strategies",
        "ten_percent",
    }


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_tx_warning_notice(language: str) -> None:
    tx = tierflow.load_ruleset("tx")
    assert [n.id for n in tx.program.notices.for_step("parent-notice")] == ["tx-warning-notice"]
    r = render_notice(tx, "tx-warning-notice", CONTEXT, language=language, on=AFTER)
    for phrase in TX[language]:
        assert phrase in r.html, phrase
    assert r.elements == ("duty_to_monitor", "prevention_measures", "conference_request")


def test_dates_and_numbers_follow_the_language(ca: tierflow.CompiledRuleset) -> None:
    en = render_notice(ca, "ca-first-truancy-notice", CONTEXT, language="en", on=AFTER).html
    es = render_notice(ca, "ca-first-truancy-notice", CONTEXT, language="es", on=AFTER).html
    assert "July 1, 2025" in en and "September 30, 2025" in en
    assert "1 de julio de 2025" in es and "30 de septiembre de 2025" in es
    assert "López" in es and "&lt;" not in es  # accents intact, nothing double-escaped


def test_language_fallback_is_reported_and_never_silent_when_required(
    ca: tierflow.CompiledRuleset,
) -> None:
    nid = "ca-first-truancy-notice"
    assert render_notice(ca, nid, CONTEXT, language="es-MX", on=AFTER).language == "es"
    r = render_notice(ca, nid, CONTEXT, language="vi", on=AFTER)
    assert (r.language, r.fell_back) == ("en", True)
    with pytest.raises(NoticeError, match="'vi' is required"):
        render_notice(ca, nid, CONTEXT, language="vi", on=AFTER, required_languages=["vi"])
    with pytest.raises(NoticeError, match="no notice 'nope'"):
        render_notice(ca, "nope", CONTEXT, language="en", on=AFTER)


def _playbook(notice: str) -> str:
    return "id: d\nname: D\nversion: '1'\nextends: tx\n" + textwrap.dedent(notice)


INLINE = """\
notices:
  - id: hello
    for: [parent-notice]
    templates:
      en: |
        Dear {{ family.name }},
        {{ student.nmae }} missed {{ attendance.days_absent | numbr }} days.
"""


def test_an_unknown_field_or_filter_is_a_load_error_where_it_is_written() -> None:
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.parse_ruleset(_playbook(INLINE), name="d.yaml")
    got = [(p.span.line, p.span.col, p.code, p.hint) for p in info.value.problems]
    # line 11 of the file is the template's second line; `.nmae` starts at column 19
    assert got == [
        (11, 19, "notice.unknown_field", ""),
        (11, 63, "notice.unknown_filter", "did you mean 'number'?"),
    ]


def test_a_template_file_is_checked_at_its_own_line(tmp_path: Path) -> None:
    (tmp_path / "letters").mkdir()
    (tmp_path / "letters" / "hello.html").write_text("<p>Hi</p>\n<p>{{ studnt.first_name }}</p>\n")
    text = _playbook(
        """\
        notices:
          - id: hello
            for: [parent-notice]
            templates:
              en: {file: letters/hello.html}
        """
    )
    (tmp_path / "d.yaml").write_text(text)
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.load_ruleset(tmp_path / "d.yaml")
    (p,) = info.value.problems
    assert (p.span.line, p.span.col, p.code, p.hint) == (
        2,
        7,
        "notice.unknown_field",
        "did you mean 'student'?",
    )
    assert p.span.file.endswith("letters/hello.html")


def test_a_template_file_outside_the_rule_set_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.html").write_text("secret")
    (tmp_path / "in").mkdir()
    text = _playbook(
        """\
        notices:
          - id: hello
            for: [parent-notice]
            templates:
              en: {file: ../secret.html}
        """
    )
    (tmp_path / "in" / "d.yaml").write_text(text)
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.load_ruleset(tmp_path / "in" / "d.yaml")
    assert info.value.codes == ["notice.file_outside"]


def test_unknown_steps_and_elements_are_load_errors() -> None:
    text = _playbook(
        """\
        notices:
          - id: hello
            for: [parent-notise]
            templates: {en: 'Hi {% element "duty_to_monitr" %}x{% endelement %}'}
            elements: [duty_to_monitr]
        """
    )
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.parse_ruleset(text, name="d.yaml")
    assert sorted(info.value.codes) == [
        "notice.unknown_element",
        "notice.unknown_target",
    ]
    hints = " ".join(p.hint for p in info.value.problems)
    assert "'parent-notice'" in hints and "'duty_to_monitor'" in hints


def test_private_attributes_are_refused_at_load() -> None:
    text = _playbook(
        """\
        notices:
          - id: evil
            for: [parent-notice]
            templates: {en: "{{ ''.__class__.__mro__ }}"}
        """
    )
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.parse_ruleset(text, name="d.yaml")
    assert set(info.value.codes) == {"notice.unsafe_name"}


@pytest.mark.parametrize(
    ("template", "tag"),
    [
        ("Hi {% include '/etc/passwd' %}", "include"),
        ("{% import 'x.html' as x %}", "import"),
        ("{% from 'x.html' import y %}", "from"),
        ("{% extends 'base.html' %}", "extends"),
    ],
)
def test_a_template_reads_no_other_file(template: str, tag: str) -> None:
    text = _playbook(
        f"""\
        notices:
          - id: evil
            for: [parent-notice]
            templates:
              en: "{template}"
        """
    )
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.parse_ruleset(text, name="d.yaml")
    (problem,) = info.value.problems
    assert problem.code == "notice.template_syntax"
    assert problem.message.startswith(f"'{{% {tag} %}}' is not available in a notice")
    assert problem.span is not None and problem.span.line == 9  # the template's line


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ ''|attr('__class__') }}", "unsafe"),  # passes the load checks; the sandbox stops it
        ("{% for i in range(10**9) %}x{% endfor %}", "at most 1000 items"),
        (
            "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
            "over 10000 items",
        ),
        ("{{ 'x' * 10**8 }}", "this long"),
        ("{{ 2 ** 100000 }}", "power above 64"),
        ("{% for i in range(1000) %}{{ 'x' * 1000 }}{% endfor %}", "at most 500000 characters"),
    ],
)
def test_a_malicious_template_is_bounded_at_render(template: str, message: str) -> None:
    text = _playbook(
        f"""\
        notices:
          - id: evil
            for: [parent-notice]
            templates: {{en: "{template}"}}
        """
    )
    ruleset = tierflow.parse_ruleset(text, name="d.yaml")
    with pytest.raises(NoticeError, match=message):
        render_notice(ruleset, "evil", CONTEXT, language="en", on=AFTER)


def test_check_warns_when_a_district_template_omits_a_required_element() -> None:
    text = (
        "id: anaheim\nname: Anaheim\nversion: '1'\nextends: ca\n"
        "notices:\n"
        "  - id: ca-first-truancy-notice\n"
        "    templates:\n"
        "      en: |\n"
        "        {% element 'truant' %}Ana is truant.{% endelement %}\n"
    )
    ruleset = tierflow.parse_ruleset(text, name="anaheim.yaml")
    (finding,) = [f for f in analyze(ruleset) if f.code == "notice.missing_element"]
    assert finding.severity == "warning"
    assert "'supportive_services'" in finding.message and "'truant'" not in finding.message
    assert (finding.span.file, finding.span.line) == ("anaheim.yaml", 8)
    # the district's own letter renders; the element it left out is reported, not invented
    r = render_notice(ruleset, "ca-first-truancy-notice", CONTEXT, language="en", on=AFTER)
    assert r.elements == ("truant",) and "supportive_services" in r.missing_elements


def test_an_email_has_a_plain_text_body_and_subject() -> None:
    text = _playbook(
        """\
        notices:
          - id: nudge
            for: [parent-notice]
            channel: email
            templates:
              es:
                subject: "Asistencia de {{ student.first_name }}"
                text: "{{ student.first_name }}: {{ attendance.absence_rate | percent }}"
        """
    )
    ruleset = tierflow.parse_ruleset(text, name="d.yaml")
    context = dataclasses.replace(CONTEXT, student=StudentInfo("s2", "Ana & <Bo>", "Ruiz"))
    r = render_notice(ruleset, "nudge", context, language="es", on=AFTER)
    assert r.subject == "Asistencia de Ana & <Bo>"
    # 4 of 40 days; CLDR Spanish puts a no-break space before the percent sign
    assert r.text == "Ana & <Bo>: 10\xa0%"
    assert r.html == "Ana &amp; &lt;Bo&gt;: 10\xa0%"


def test_import_tierflow_does_not_import_jinja2() -> None:
    code = "import sys, tierflow; print('jinja2' in sys.modules, 'babel' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_tierflow_check_prints_the_missing_element_warning(tmp_path: Path) -> None:
    from tierflow.cli import main

    path = tmp_path / "anaheim.yaml"
    path.write_text(
        "id: anaheim\nname: Anaheim\nversion: '1'\nextends: ca\n"
        "notices:\n"
        "  - id: ca-first-truancy-notice\n"
        "    templates:\n"
        "      es: {file: first.es.html}\n"
    )
    (tmp_path / "first.es.html").write_text(
        '{% element "truant" %}Ana tiene ausentismo injustificado.{% endelement %}\n'
    )
    out = io.StringIO()
    assert main(["check", str(path)], out=out) == 0  # a warning fails only with --strict
    assert "notice.missing_element" in out.getvalue()
    assert main(["check", "--strict", str(path)], out=io.StringIO()) == 1


def test_an_email_subject_is_checked_at_load_too() -> None:
    text = _playbook(
        """\
        notices:
          - id: nudge
            for: [parent-notice]
            channel: email
            templates:
              en: {subject: "About {{ studen.first_name }}", text: "Hello"}
        """
    )
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.parse_ruleset(text, name="d.yaml")
    (p,) = info.value.problems
    # line 10: '      en: {subject: "About {{ studen...': the name starts at column 31
    assert (p.span.line, p.span.col, p.code, p.hint) == (
        10,
        31,
        "notice.unknown_field",
        "did you mean 'student'?",
    )
