"""Data errors through the Python API: each names its source, line and student; the batch goes on.

The command line's view of the same codes, and every rule set load error with its exact
line:column, is in ``tests/cases/`` (run by ``tests/test_cases.py``, whose meta-test fails when
the source gains a code without a case). These tests call the library directly, as a host does:
``evaluate`` raising :class:`DataError`, ``read_facts``/``read_events`` yielding rejects,
``FactsBuilder`` keeping them in its report.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from pathlib import Path

import pytest

import tierflow
from ingest.reading import calendar_problems, read_all
from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.errors import DataError, DataReport
from tierflow.ingest import read_calendars, read_events, read_facts

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
    results = read_all(read_facts, path)
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
    results = read_all(read_facts, path, extra_kinds=ruleset_kinds)
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
    report = DataReport()
    list(read_events(path, report=report))
    (err,) = report.rejects
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
    (warning,) = calendar_problems(found)
    assert (warning.code, warning.source) == ("calendar.session_mismatch", f"{path}:2")
    assert "states 5" in warning.reason and "has 3" in warning.reason
    assert len(found.calendars["7"]) == 3


# --- one bad record never stops a run (issue 10, item 3) ---------------------------------------

_OK1 = b'{"student_id": "ok1", "days_enrolled": 60, "days_absent": 3, "days_unexcused": 0}\n'
_OK2 = b'{"student_id": "ok2", "days_enrolled": 60, "days_absent": 9, "days_unexcused": 0}\n'
_CSV_HEAD = b"student_id,days_enrolled,days_absent,days_unexcused,history\n"


def _line(sid: str, **facts: str) -> bytes:
    cells = {"days_enrolled": "60", "days_absent": "3", "days_unexcused": "0", **facts}
    body = ", ".join(f'"{k}": {v}' for k, v in cells.items())
    return f'{{"student_id": "{sid}", {body}}}\n'.encode()


# Each file holds a good record, the bad one, then another good one: (file name, bytes, the
# reject's source line/index, student (None: unreadable), code, field).
BAD_RECORDS = [
    (
        "jsonl-utf8",
        "f.jsonl",
        _OK1 + b'{"student_id": "s\xff", "days_absent": 3}\n' + _OK2,
        "f.jsonl:2",
        "s\ufffd",
        "ingest.invalid_encoding",
        None,
    ),
    (
        "csv-utf8",
        "f.csv",
        _CSV_HEAD + b"ok1,60,3,0,\nb\xe9,60,3,0,\nok2,60,9,0,\n",
        "f.csv:3",
        "b\ufffd",
        "ingest.invalid_encoding",
        None,
    ),
    (
        "json-utf8",
        "f.json",
        b"[" + _OK1 + b',{"student_id": "j\xff", "days_absent": 3},' + _OK2 + b"]",
        "f.json[1]",
        "j\udcff",
        "ingest.invalid_encoding",
        "student_id",
    ),
    (
        "jsonl-lone-surrogate",
        "f.jsonl",
        _OK1 + _line("u", note='"\\ud800"') + _OK2,
        "f.jsonl:2",
        "u",
        "ingest.invalid_encoding",
        "note",
    ),
    (
        "jsonl-deep",
        "f.jsonl",
        _OK1 + _line("d", history="[" * 100_000 + "]" * 100_000) + _OK2,
        "f.jsonl:2",
        None,
        "ingest.too_deep",
        None,
    ),
    (
        "csv-deep-cell",
        "f.csv",
        _CSV_HEAD + b"ok1,60,3,0,\nd,60,3,0," + b"[" * 5000 + b"]" * 5000 + b"\nok2,60,9,0,\n",
        "f.csv:3",
        "d",
        "ingest.too_deep",
        "history",
    ),
    (
        "csv-huge-cell",
        "f.csv",
        _CSV_HEAD + b"ok1,60,3,0,\nh,60,3,0," + b"[" * 200_000 + b"\nok2,60,9,0,\n",
        "f.csv:3",
        None,
        "ingest.too_long",
        None,
    ),
    (
        "jsonl-long-line",
        "f.jsonl",
        _OK1 + _line("l", note='"' + "x" * (1 << 20) + '"') + _OK2,
        "f.jsonl:2",
        None,
        "ingest.too_long",
        None,
    ),
    (
        "jsonl-5000-digits",
        "f.jsonl",
        _OK1 + _line("i", days_absent="9" * 5000) + _OK2,
        "f.jsonl:2",
        "i",
        "ingest.invalid_number",
        "days_absent",
    ),
    (
        "jsonl-400-digits",
        "f.jsonl",
        _OK1 + _line("i", days_absent="9" * 400) + _OK2,
        "f.jsonl:2",
        "i",
        "ingest.invalid_number",
        "days_absent",
    ),
    (
        "jsonl-beyond-10**15",
        "f.jsonl",
        _OK1 + _line("i", days_enrolled="1" + "0" * 16) + _OK2,
        "f.jsonl:2",
        "i",
        "ingest.invalid_number",
        "days_enrolled",
    ),
    (
        "csv-400-digits",
        "f.csv",
        _CSV_HEAD + b"ok1,60,3,0,\ni,60," + b"9" * 400 + b",0,\nok2,60,9,0,\n",
        "f.csv:3",
        "i",
        "ingest.invalid_number",
        "days_absent",
    ),
    (
        "jsonl-nan",
        "f.jsonl",
        _OK1 + _line("n", days_absent="NaN") + _OK2,
        "f.jsonl:2",
        "n",
        "ingest.invalid_number",
        "days_absent",
    ),
    (
        "jsonl-infinity",
        "f.jsonl",
        _OK1 + _line("n", days_enrolled="Infinity") + _OK2,
        "f.jsonl:2",
        "n",
        "ingest.invalid_number",
        "days_enrolled",
    ),
    (
        "jsonl-1e309",
        "f.jsonl",
        _OK1 + _line("n", days_absent="1e309") + _OK2,
        "f.jsonl:2",
        "n",
        "ingest.invalid_number",
        "days_absent",
    ),
    (
        "json-nan",
        "f.json",
        b"[" + _OK1 + b"," + _line("n", days_absent="-Infinity") + b"," + _OK2 + b"]",
        "f.json[1]",
        "n",
        "ingest.invalid_number",
        "days_absent",
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "source", "student", "code", "field"),
    [c[1:] for c in BAD_RECORDS],
    ids=[c[0] for c in BAD_RECORDS],
)
def test_one_bad_record_is_one_reject_and_the_file_goes_on(
    tmp_path: Path,
    name: str,
    data: bytes,
    source: str,
    student: str | None,
    code: str,
    field: str | None,
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    items = read_all(read_facts, path)
    assert len(items) == 3, items
    first, bad, last = items
    assert not isinstance(first, DataError) and first.facts["student_id"] == "ok1"
    assert not isinstance(last, DataError) and last.facts["student_id"] == "ok2"
    assert isinstance(bad, DataError), bad
    assert (bad.source, bad.student_id, bad.code, bad.field) == (
        str(tmp_path / source),
        student,
        code,
        field,
    )


def test_evaluate_command_reports_every_bad_record_and_decides_the_rest(tmp_path: Path) -> None:
    from tierflow.cli import main

    bad = [
        b'{"student_id": "a\xff", "days_absent": 3}\n',
        _line("b", history="[" * 100_000 + "]" * 100_000),
        _line("c", days_absent="9" * 5000),
        _line("d", days_absent="9" * 400),
        _line("e", days_absent="NaN"),
        _line("f", days_enrolled="Infinity", days_absent="20"),
        _line("g", days_absent="1e309"),
    ]
    path = tmp_path / "students.jsonl"
    path.write_bytes(_OK1 + b"".join(bad) + _OK2)
    rejects = tmp_path / "rejects.jsonl"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(
            [
                "evaluate",
                "-r",
                "mtss",
                "--as-of",
                "2025-11-03",
                "--rejects",
                str(rejects),
                str(path),
            ],
            out=out,
        )
    assert status == 0
    decided = [json.loads(line)["student_id"] for line in out.getvalue().splitlines()]
    assert decided == ["ok1", "ok2"]
    assert "read 9 records: 2 evaluated, 7 rejected" in err.getvalue()
    got = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["source"].rsplit(":", 1)[1], r["code"]) for r in got] == [
        ("2", "ingest.invalid_encoding"),
        ("3", "ingest.too_deep"),
        ("4", "ingest.invalid_number"),
        ("5", "ingest.invalid_number"),
        ("6", "ingest.invalid_number"),
        ("7", "ingest.invalid_number"),
        ("8", "ingest.invalid_number"),
    ]
    assert [r["student_id"] for r in got[2:]] == ["c", "d", "e", "f", "g"]


def test_nan_absences_no_longer_decide_a_tier(tmp_path: Path) -> None:
    # 1e309 days absent was read as infinity: an absence rate of inf put the student in tier3
    # (and NaN, failing every comparison, in tier1); neither is a count of days.
    path = tmp_path / "students.jsonl"
    path.write_bytes(_line("n1", days_absent="NaN") + _line("n2", days_absent="1e309"))
    ruleset = tierflow.load_ruleset("mtss")
    decided = [
        ruleset.evaluate(item.facts, as_of=AS_OF).tier
        for item in read_all(read_facts, path)
        if not isinstance(item, DataError)
    ]
    assert decided == []


@pytest.mark.parametrize(
    ("ruleset", "fact", "value", "says"),
    [
        ("tx", "attendance_log", 5, "must be a list of records, got int 5"),
        ("tx", "attendance_log", {"date": "2025-10-01"}, "must be a list of records, got dict"),
        ("ca", "history", {"legal_steps": 5}, "history.legal_steps"),
        ("ca", "history", {"legal_steps": "not1"}, "history.legal_steps"),
    ],
)
def test_a_nested_fact_of_the_wrong_type_is_facts_invalid(
    ruleset: str, fact: str, value: object, says: str
) -> None:
    facts = {
        "student_id": "w1",
        "grade": 5,
        "days_enrolled": 60,
        "days_absent": 12,
        "days_unexcused": 10,
        "days_excused": 2,
        "tardies": 0,
        "tardies_over_30": 0,
        "attendance_log": [],
        "history": {},
        fact: value,
    }
    with pytest.raises(DataError) as info:
        tierflow.load_ruleset(ruleset).evaluate(facts, as_of=AS_OF)
    assert (info.value.code, info.value.student_id) == ("facts.invalid", "w1")
    assert says in info.value.reason
