"""Every error code tierflow reports, with the exact place it names.

Rule set cases live in ``tests/errors/``: one file per case (or a folder whose ``main.yaml`` is
loaded, for ``extends``), each ending with the problems it must produce::

    # expect: ref.unknown_tier 13:20 rules[0].tiers[1] did you mean 'tier2'

that is: the code, ``[file:]line:column``, optionally the path (``-`` for none), and optionally
text the message must contain. The case must report exactly these problems, all at once.
Data errors (facts, ingest, attendance events) are checked below with their source and student.
A meta-test fails when the source gains a code that no case covers.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import tierflow
from tierflow.attendance import (
    AttendanceEvent,
    Enrollment,
    FactsBuilder,
    SchoolCalendar,
    read_calendars,
    read_events,
)
from tierflow.errors import DataError, RulesetError
from tierflow.ingest import read_facts
from tierflow.spec import YamlLimits, load_yaml

HERE = Path(__file__).parent
CASES = HERE / "errors"
SRC = HERE.parent / "src" / "tierflow"
EXPECT = re.compile(
    r"^# expect: (?P<code>[a-z_]+\.[a-z_]+) (?:(?P<file>[\w.-]+\.yaml):)?(?P<line>\d+):(?P<col>\d+)"
    r"(?: (?P<path>\S+))?(?: (?P<text>.+))?$"
)
CODE = re.compile(
    r"""["'](?P<code>(?:yaml|schema|expr|extends|ref|rule|tier|legal|facts|ingest|load|event|"""
    r"""enrollment|calendar)\.[a-z_]+)["']"""
)


@dataclass(frozen=True)
class Expected:
    code: str
    file: str
    line: int
    col: int
    path: str | None
    text: str | None


def _case_files() -> list[Path]:
    files = sorted(p for p in CASES.glob("*.yaml"))
    files += sorted(d / "main.yaml" for d in CASES.iterdir() if d.is_dir())
    return files


def _expectations(case: Path) -> list[Expected]:
    out = []
    for raw in case.read_bytes().decode("utf-8", errors="replace").splitlines():
        m = EXPECT.match(raw)
        if m:
            path = m["path"] if m["path"] not in (None, "-") else None
            out.append(
                Expected(
                    m["code"],
                    m["file"] or case.name,
                    int(m["line"]),
                    int(m["col"]),
                    path,
                    m["text"],
                )
            )
    return out


def _case_id(case: Path) -> str:
    return case.parent.name if case.name == "main.yaml" else case.stem


@pytest.mark.parametrize("case", _case_files(), ids=_case_id)
def test_case_reports_exactly_its_problems(case: Path) -> None:
    expected = _expectations(case)
    assert expected, f"{case} has no '# expect:' line"
    with pytest.raises(RulesetError) as info:
        tierflow.load_ruleset(case)
    problems = info.value.problems
    got = sorted((Path(p.span.file).name, p.span.line, p.span.col, p.code) for p in problems)
    want = sorted((e.file, e.line, e.col, e.code) for e in expected)
    assert got == want, "\n".join(str(p) for p in problems)
    for e in expected:
        (problem,) = [
            p
            for p in problems
            if (p.code, p.span.line, p.span.col) == (e.code, e.line, e.col)
            and Path(p.span.file).name == e.file
        ]
        if e.path is not None:
            assert problem.path == e.path
        if e.text is not None:
            assert e.text in str(problem)
        rendered = str(problem)
        assert rendered.startswith(f"{problem.span.file}:{e.line}:{e.col}: {e.code}: ")


def test_every_case_file_names_its_own_code() -> None:
    for case in _case_files():
        codes = {e.code for e in _expectations(case)}
        name = _case_id(case)
        if name.count(".") == 1 and not name.startswith("expr.block"):
            assert name in codes, f"{case}: named {name} but expects {sorted(codes)}"


# --- YAML limits (generated inputs: nothing huge is committed) ----------------------------------


def test_billion_laughs_fails_fast_with_alias_expansion() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    start = time.perf_counter()
    with pytest.raises(RulesetError) as info:
        load_yaml("\n".join(lines), "laughs.yaml")
    elapsed = time.perf_counter() - start
    (problem,) = info.value.problems
    assert problem.code == "yaml.alias_expansion"
    assert problem.span.file == "laughs.yaml" and problem.span.line >= 1
    assert elapsed < 10  # a loader without the limit would expand 9**10 strings


def test_deep_nesting_reports_too_deep_where_it_starts() -> None:
    depth = 60
    text = "".join(f"{'  ' * i}k{i}:\n" for i in range(depth)) + f"{'  ' * depth}v\n"
    with pytest.raises(RulesetError) as info:
        load_yaml(text, "deep.yaml")
    (problem,) = info.value.problems
    assert problem.code == "yaml.too_deep"
    limit = YamlLimits().max_depth
    assert problem.span.line == limit + 1 or problem.span.line == limit + 2


def test_oversized_file_is_refused_before_parsing() -> None:
    limits = YamlLimits(max_bytes=1_000)
    with pytest.raises(RulesetError) as info:
        load_yaml("x: " + "a" * 2_000, "big.yaml", limits=limits)
    (problem,) = info.value.problems
    assert problem.code == "yaml.too_large"
    assert (problem.span.file, problem.span.line, problem.span.col) == ("big.yaml", 1, 1)


def test_too_many_nodes_counts_as_expansion() -> None:
    limits = YamlLimits(max_nodes=50)
    text = "items: [" + ", ".join(str(i) for i in range(100)) + "]"
    with pytest.raises(RulesetError) as info:
        load_yaml(text, "many.yaml", limits=limits)
    assert info.value.codes == ["yaml.alias_expansion"]


def test_missing_file_is_load_not_found(tmp_path: Path) -> None:
    with pytest.raises(RulesetError) as info:
        tierflow.load_ruleset(tmp_path / "nowhere.yaml")
    (problem,) = info.value.problems
    assert problem.code == "load.not_found"
    assert "nowhere.yaml" in str(problem)


def test_unreadable_file_is_load_unreadable(tmp_path: Path) -> None:
    folder = tmp_path / "district.yaml"
    folder.mkdir()  # a directory where a file was expected
    with pytest.raises(RulesetError) as info:
        tierflow.load_ruleset(folder)
    (problem,) = info.value.problems
    assert problem.code == "load.unreadable"
    assert problem.span.file.endswith("district.yaml")


# --- evaluation: facts ------------------------------------------------------------------------

AS_OF = dt.date(2025, 11, 3)


def test_missing_fact_names_student_and_fact() -> None:
    ruleset = tierflow.load_ruleset("mtss")
    with pytest.raises(DataError) as info:
        ruleset.evaluate({"student_id": "s9", "days_enrolled": 40}, as_of=AS_OF)
    err = info.value
    assert (err.code, err.student_id, err.field) == ("facts.missing", "s9", "days_absent")
    assert str(err).startswith("student s9: facts.missing: ")


def test_invalid_fact_names_student_and_fact() -> None:
    ruleset = tierflow.load_ruleset("mtss")
    facts = {"student_id": "s8", "days_enrolled": 40, "days_absent": "many"}
    with pytest.raises(DataError) as info:
        ruleset.evaluate(facts, as_of=AS_OF)
    assert (info.value.code, info.value.student_id, info.value.field) == (
        "facts.invalid",
        "s8",
        "days_absent",
    )


def test_division_by_zero_is_a_data_error_naming_the_student() -> None:
    ruleset = tierflow.parse_ruleset(
        """
id: div
name: Division
version: "1"
tiers:
  - id: t2
    level: 2
    when: days_absent / days_enrolled >= 5%
  - id: t1
    level: 1
    default: true
""",
        name="div.yaml",
    )
    with pytest.raises(DataError) as info:
        ruleset.evaluate({"student_id": "s0", "days_enrolled": 0, "days_absent": 0}, as_of=AS_OF)
    assert (info.value.code, info.value.student_id) == ("expr.division_by_zero", "s0")


# --- ingest: precomputed facts files ----------------------------------------------------------

INGEST_CASES = [
    (
        "facts.csv",
        "student_id,days_enrolled,days_absent\ns1,40,2\ns2,40\n",
        "ingest.column_count",
        "facts.csv:3",
        "s2",
    ),
    (
        "facts.csv",
        "student_id,days_enrolled,days_absent\ns1,40,two\n",
        "ingest.invalid_number",
        "facts.csv:2",
        "s1",
    ),
    (
        "facts.csv",
        'student_id,days_enrolled,history\ns1,40,"{""legal_steps"": ["\n',
        "ingest.invalid_json",
        "facts.csv:2",
        "s1",
    ),
    (
        "facts.jsonl",
        '{"student_id": "s1"}\n{"student_id": \n',
        "ingest.invalid_json",
        "facts.jsonl:2",
        None,
    ),
    (
        "facts.jsonl",
        '{"student_id": "s1"}\n[1, 2]\n',
        "ingest.not_an_object",
        "facts.jsonl:2",
        None,
    ),
    ("facts.json", '{"student_id": "s1"}', "ingest.not_a_list", "facts.json", None),
    ("facts.json", '[{"student_id": "s1"}, 3]', "ingest.not_an_object", "facts.json[1]", None),
]


@pytest.mark.parametrize(
    ("name", "text", "code", "source", "student"),
    INGEST_CASES,
    ids=[f"{c[2]}-{c[0]}" for c in INGEST_CASES],
)
def test_ingest_errors_name_source_and_student(
    tmp_path: Path, name: str, text: str, code: str, source: str, student: str | None
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    results = list(read_facts(path))
    errors = [r for r in results if isinstance(r, DataError)]
    assert len(errors) == 1, errors
    (err,) = errors
    assert err.code == code
    assert err.source == f"{path.parent / source}"
    assert err.student_id == student
    good = [r for r in results if not isinstance(r, DataError)]
    assert len(good) == len(results) - 1  # the rest of the batch goes on


def test_invalid_bool_in_csv(tmp_path: Path) -> None:
    ruleset_kinds = {"has_plan": "bool"}
    path = tmp_path / "facts.csv"
    path.write_text("student_id,has_plan\ns1,perhaps\ns2,true\n", encoding="utf-8")
    results = list(read_facts(path, extra_kinds=ruleset_kinds))
    err = results[0]
    assert isinstance(err, DataError)
    assert (err.code, err.source, err.student_id) == ("ingest.invalid_bool", f"{path}:2", "s1")
    assert not isinstance(results[1], DataError)


# --- attendance: calendars, enrollment, events ---------------------------------------------------

CAL = SchoolCalendar.from_pattern("lincoln", dt.date(2025, 9, 1), dt.date(2025, 9, 30))
MONDAY = dt.date(2025, 9, 8)


def _builder() -> FactsBuilder:
    b = FactsBuilder({"lincoln": CAL})
    assert b.add_enrollment(Enrollment("s1", "lincoln", dt.date(2025, 9, 1), source="enr.csv:2"))
    return b


EVENT_CASES: list[tuple[str, list[AttendanceEvent]]] = [
    (
        "event.unknown_category",
        [AttendanceEvent("s1", "lincoln", MONDAY, "walkabout", source="ev.csv:2")],
    ),
    (
        "event.invalid_duration",
        [AttendanceEvent("s1", "lincoln", MONDAY, "partial", duration=-0.5, source="ev.csv:2")],
    ),
    (
        "event.not_enrolled",
        [AttendanceEvent("s1", "roosevelt", MONDAY, "tardy", source="ev.csv:2")],
    ),
    (
        "event.not_instructional",
        [AttendanceEvent("s1", "lincoln", dt.date(2025, 9, 7), "tardy", source="ev.csv:2")],
    ),
    (
        "event.duplicate",
        [
            AttendanceEvent("s1", "lincoln", MONDAY, "tardy", minutes=5, source="ev.csv:1"),
            AttendanceEvent("s1", "lincoln", MONDAY, "tardy", minutes=5, source="ev.csv:2"),
        ],
    ),
    (
        "event.conflict",
        [
            AttendanceEvent("s1", "lincoln", MONDAY, "excused_absence", source="ev.csv:1"),
            AttendanceEvent("s1", "lincoln", MONDAY, "tardy", minutes=5, source="ev.csv:2"),
        ],
    ),
]


@pytest.mark.parametrize(("code", "events"), EVENT_CASES, ids=[c[0] for c in EVENT_CASES])
def test_event_rejects_name_source_and_student(code: str, events: list[AttendanceEvent]) -> None:
    b = _builder()
    for event in events:
        b.add_event(event)
    (err,) = b.report.rejects
    assert (err.code, err.source, err.student_id) == (code, "ev.csv:2", "s1")
    assert b.report.read == b.report.accepted + b.report.rejected


ENROLLMENT_CASES = [
    ("enrollment.unknown_calendar", Enrollment("s2", "nowhere", dt.date(2025, 9, 1), source="e:3")),
    (
        "enrollment.invalid",
        Enrollment("s2", "lincoln", dt.date(2025, 9, 10), exit=dt.date(2025, 9, 1), source="e:3"),
    ),
    ("enrollment.overlap", Enrollment("s1", "lincoln", dt.date(2025, 9, 15), source="e:3")),
]


@pytest.mark.parametrize(("code", "span"), ENROLLMENT_CASES, ids=[c[0] for c in ENROLLMENT_CASES])
def test_enrollment_rejects_name_source_and_student(code: str, span: Enrollment) -> None:
    b = _builder()
    assert not b.add_enrollment(span)
    (err,) = b.report.rejects
    assert (err.code, err.source, err.student_id) == (code, "e:3", span.student_id)


def test_calendar_errors() -> None:
    with pytest.raises(DataError) as empty:
        SchoolCalendar("c1", [])
    assert empty.value.code == "calendar.empty"
    with pytest.raises(DataError) as bad:
        SchoolCalendar("c1", [MONDAY], {MONDAY: 1.5})
    assert bad.value.code == "calendar.invalid"
    with pytest.raises(DataError) as weekday:
        SchoolCalendar.from_pattern("c1", MONDAY, MONDAY, weekdays=["XX"])
    assert weekday.value.code == "calendar.invalid"


# --- attendance readers ----------------------------------------------------------------------

HEAD = "student_id,school_id,date,category\n"
READER_CASES = [
    ("events.csv", HEAD + "s1,x,2025-99-01,tardy\n", "ingest.invalid_date", 2, "s1"),
    ("events.csv", HEAD + "s1,x,,tardy\n", "ingest.missing_value", 2, "s1"),
    (
        "events.csv",
        "student_id,date,category\ns1,2025-09-01,tardy\n",
        "ingest.missing_column",
        1,
        None,
    ),
    ("events.xml", "<I><StudentSchoolAttendanceEvent>\n<EventDate>", "ingest.invalid_xml", 2, None),
]


@pytest.mark.parametrize(
    ("name", "text", "code", "line", "student"), READER_CASES, ids=[c[2] for c in READER_CASES]
)
def test_reader_errors_name_line_and_student(
    tmp_path: Path, name: str, text: str, code: str, line: int, student: str | None
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    (err,) = [r for r in read_events(path) if isinstance(r, DataError)]
    assert (err.code, err.source, err.student_id) == (code, f"{path}:{line}", student)


def test_session_total_disagreeing_with_calendar_dates(tmp_path: Path) -> None:
    dates = "".join(
        f"<CalendarDate><Date>2025-09-0{d}</Date><SchoolReference><SchoolId>7</SchoolId>"
        "</SchoolReference><CalendarEvent>Instructional day</CalendarEvent></CalendarDate>\n"
        for d in (1, 2, 3)
    )
    session = (
        "<Session><SessionName>Fall</SessionName><BeginDate>2025-09-01</BeginDate>"
        "<EndDate>2025-09-30</EndDate><TotalInstructionalDays>5</TotalInstructionalDays>"
        "<SchoolReference><SchoolId>7</SchoolId></SchoolReference></Session>\n"
    )
    path = tmp_path / "calendar.xml"
    path.write_text(f"<Interchange>\n{session}{dates}</Interchange>\n", encoding="utf-8")
    found = read_calendars(path)
    (warning,) = found.warnings
    assert (warning.code, warning.source) == ("calendar.session_mismatch", f"{path}:2")
    assert "states 5" in warning.reason and "has 3" in warning.reason
    assert len(found.calendars["7"]) == 3


# --- every code has a case -------------------------------------------------------------------

TESTED_HERE = {
    "yaml.alias_expansion",
    "yaml.too_deep",
    "yaml.too_large",
    "load.not_found",
    "load.unreadable",
    "facts.missing",
    "facts.invalid",
    "expr.division_by_zero",
    "ingest.invalid_bool",
    "calendar.empty",
    "calendar.invalid",
    *(c[2] for c in INGEST_CASES),
    *(c[0] for c in EVENT_CASES),
    *(c[0] for c in ENROLLMENT_CASES),
    *(c[2] for c in READER_CASES),
    "calendar.session_mismatch",
}


def _codes_in_source() -> set[str]:
    codes: set[str] = set()
    for path in SRC.rglob("*.py"):
        codes |= {m["code"] for m in CODE.finditer(path.read_text(encoding="utf-8"))}
    return codes


def test_every_error_code_in_the_source_has_a_case() -> None:
    covered = {e.code for case in _case_files() for e in _expectations(case)} | TESTED_HERE
    missing = _codes_in_source() - covered
    assert not missing, f"error codes without a case: {sorted(missing)}"
