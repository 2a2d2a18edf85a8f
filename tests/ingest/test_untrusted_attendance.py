"""Readers of raw attendance data given hostile or broken files (issue 10, items 3 and 4).

Each file holds a good record, then the bad one, then another good one: the bad one must be one
reject naming its line (and student when readable), and the good ones must still be read. The
expected lines are counted by hand from the file text written in each test.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from ingest.reading import calendar_problems, read_all
from tierflow.errors import DataError
from tierflow.ingest import read_calendars, read_enrollments, read_events, read_groups

_ENROLLMENT = (
    "<StudentSchoolAssociation><StudentUniqueId>{sid}</StudentUniqueId><SchoolId>lincoln"
    "</SchoolId><EntryDate>2025-09-01</EntryDate>{inner}</StudentSchoolAssociation>\n"
)
_EVENT = (
    "<StudentSchoolAttendanceEvent><StudentUniqueId>{sid}</StudentUniqueId><SchoolId>lincoln"
    "</SchoolId><EventDate>2025-09-02</EventDate><AttendanceEventCategory>Excused Absence"
    "</AttendanceEventCategory>{inner}</StudentSchoolAttendanceEvent>\n"
)


def _ids(items: Iterable[Any]) -> list[str]:
    """The student of each record read, or 'code@line' for each reject."""
    out = []
    for item in items:
        if isinstance(item, DataError):
            assert item.source is not None
            out.append(f"{item.code}@{item.source.rsplit(':', 1)[-1]}")
        else:
            out.append(item.student_id)
    return out


def _laughs(levels: int) -> str:
    """A 'billion laughs' DOCTYPE: entity e<levels> expands to 10 ** (levels + 1) characters."""
    ents = ['<!ENTITY e0 "xxxxxxxxxx">'] + [
        f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, levels + 1)
    ]
    return f'<?xml version="1.0"?>\n<!DOCTYPE I [{"".join(ents)}]>\n'


READERS: list[tuple[str, Callable[[Path], Iterable[Any]], str]] = [
    ("enrollments", read_enrollments, _ENROLLMENT),
    ("events", read_events, _EVENT),
]


@pytest.mark.parametrize(("kind", "read", "record"), READERS, ids=[r[0] for r in READERS])
def test_a_doctype_is_refused_before_any_entity_expands(
    tmp_path: Path, kind: str, read: Callable[[Path], Iterable[Any]], record: str
) -> None:
    # 10**10 characters if expanded; the old reader ran for hours on a 548-byte file like it.
    path = tmp_path / f"{kind}.xml"
    path.write_text(_laughs(9) + "<I>" + record.format(sid="&e9;", inner="") + "</I>\n")
    (reject,) = read_all(read, path)
    assert isinstance(reject, DataError)
    assert (reject.code, reject.source) == ("ingest.invalid_xml", f"{path}:2")
    assert "DOCTYPE" in reject.reason


@pytest.mark.parametrize("encoding", ["UTFK8", "rot13", "utf-7", "big5", "utf-32"])
@pytest.mark.parametrize(("kind", "read", "record"), READERS, ids=[r[0] for r in READERS])
def test_an_encoding_expat_cannot_read_is_one_reject(
    tmp_path: Path, kind: str, read: Callable[[Path], Iterable[Any]], record: str, encoding: str
) -> None:
    # Unknown to Python (LookupError) or multi-byte, which expat refuses (ValueError): both
    # escaped the readers (found by benchmarks/fuzz.py).
    path = tmp_path / f"{kind}.xml"
    path.write_text(
        f'<?xml version="1.0" encoding="{encoding}"?>\n<I>'
        + record.format(sid="s1", inner="")
        + "</I>\n"
    )
    (reject,) = read_all(read, path)
    assert isinstance(reject, DataError)
    assert (reject.code, reject.source) == ("ingest.invalid_xml", f"{path}:1")
    assert "encoding" in reject.reason


def test_calendars_and_groups_refuse_a_doctype_too(tmp_path: Path) -> None:
    calendar = tmp_path / "calendar.xml"
    calendar.write_text(
        _laughs(9) + "<I><CalendarDate><Date>2025-09-02</Date><SchoolId>&e9;</SchoolId>"
        "<CalendarEvent>Instructional day</CalendarEvent></CalendarDate></I>\n"
    )
    found = read_calendars(calendar)
    assert found.calendars == {}
    assert [(w.code, w.source) for w in calendar_problems(found)] == [
        ("ingest.invalid_xml", f"{calendar}:2")
    ]
    groups = tmp_path / "groups.xml"
    groups.write_text(
        _laughs(9) + "<I><StudentEducationOrganizationAssociation><StudentUniqueId>&e9;"
        "</StudentUniqueId></StudentEducationOrganizationAssociation></I>\n"
    )
    assert _ids(read_all(read_groups, groups)) == ["ingest.invalid_xml@2"]


@pytest.mark.parametrize(("kind", "read", "record"), READERS, ids=[r[0] for r in READERS])
@pytest.mark.parametrize("depth", [63, 100_000])
def test_a_record_nested_too_deep_is_one_reject(
    tmp_path: Path, kind: str, read: Callable[[Path], Iterable[Any]], record: str, depth: int
) -> None:
    # The record element is at depth 1 of the record; 63 more levels reach the limit of 64.
    # 100,000 levels raised RecursionError in _Node.find.
    inner = "<x>" * depth + "</x>" * depth
    path = tmp_path / f"{kind}.xml"
    path.write_text(
        "<I>\n"
        + record.format(sid="s1", inner="")
        + record.format(sid="s2", inner=inner)
        + record.format(sid="s3", inner="")
        + "</I>\n"
    )
    want = ["s1", "s2" if depth == 63 else "ingest.too_deep@3", "s3"]
    assert _ids(read_all(read, path)) == want


@pytest.mark.parametrize(("kind", "read", "record"), READERS, ids=[r[0] for r in READERS])
def test_a_record_with_too_much_text_is_one_reject(
    tmp_path: Path, kind: str, read: Callable[[Path], Iterable[Any]], record: str
) -> None:
    path = tmp_path / f"{kind}.xml"
    path.write_text(
        "<I>\n"
        + record.format(sid="s1", inner="")
        + record.format(sid="s2", inner="<Note>" + "x" * (1 << 20) + "</Note>")
        + record.format(sid="s3", inner="")
        + "</I>\n"
    )
    assert _ids(read_all(read, path)) == ["s1", "ingest.too_long@3", "s3"]


def test_session_total_too_large_for_a_float_is_a_warning(tmp_path: Path) -> None:
    # int(float("1e309")) raised OverflowError and stopped reading the calendar.
    path = tmp_path / "calendar.xml"
    path.write_text(
        "<I>\n"
        "<Session><SchoolId>lincoln</SchoolId><SessionName>Fall</SessionName>"
        "<BeginDate>2025-09-01</BeginDate><EndDate>2025-12-19</EndDate>"
        "<TotalInstructionalDays>1e309</TotalInstructionalDays></Session>\n"
        "<CalendarDate><Date>2025-09-02</Date><SchoolId>lincoln</SchoolId>"
        "<CalendarEvent>Instructional day</CalendarEvent></CalendarDate>\n"
        "</I>\n"
    )
    found = read_calendars(path)
    assert len(found.calendars["lincoln"]) == 1
    assert [(w.code, w.source, w.field) for w in calendar_problems(found)] == [
        ("ingest.invalid_number", f"{path}:2", "TotalInstructionalDays")
    ]


@pytest.mark.parametrize("text", ["nan", "inf", "1e309", "-1", "2.5", "x"])
def test_a_session_total_must_be_a_whole_number_of_days(tmp_path: Path, text: str) -> None:
    path = tmp_path / "calendar.xml"
    path.write_text(
        "<I><Session><SchoolId>lincoln</SchoolId><BeginDate>2025-09-01</BeginDate>"
        f"<EndDate>2025-12-19</EndDate><TotalInstructionalDays>{text}</TotalInstructionalDays>"
        "</Session></I>\n"
    )
    assert [w.code for w in calendar_problems(read_calendars(path))] == ["ingest.invalid_number"]


# --- JSON, JSON Lines and CSV files of raw data ----------------------------------------------

_GOOD = {"student_id": "s1", "school_id": "lincoln", "date": "2025-09-02", "category": "tardy"}


def _jsonl(*lines: bytes | dict[str, Any]) -> bytes:
    return b"".join(
        (line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines
    )


EVENT_FILES = [
    (
        "not-utf8",
        "events.jsonl",
        _jsonl(
            _GOOD, b'{"student_id": "s\xff", "date": "2025-09-02"}', {**_GOOD, "student_id": "s3"}
        ),
        "ingest.invalid_encoding@2",
    ),
    (
        "deep",
        "events.jsonl",
        _jsonl(
            _GOOD, b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", {**_GOOD, "student_id": "s3"}
        ),
        "ingest.too_deep@2",
    ),
    (
        "nan-duration",
        "events.jsonl",
        _jsonl(
            _GOOD,
            b'{"student_id": "s2", "school_id": "lincoln", "date": "2025-09-02", '
            b'"category": "partial", "duration": NaN}',
            {**_GOOD, "student_id": "s3"},
        ),
        "ingest.invalid_number@2",
    ),
    (
        "huge-minutes",
        "events.jsonl",
        _jsonl(
            _GOOD, {**_GOOD, "student_id": "s2", "minutes": 10**16}, {**_GOOD, "student_id": "s3"}
        ),
        "ingest.invalid_number@2",
    ),
    (
        "reference-list",
        "events.jsonl",
        _jsonl(
            _GOOD,
            {"studentReference": ["s2"], "eventDate": "2025-09-02"},
            {**_GOOD, "student_id": "s3"},
        ),
        "ingest.not_an_object@2",
    ),
    (
        "csv-not-utf8",
        "events.csv",
        b"student_id,school_id,date,category\ns1,lincoln,2025-09-02,tardy\n"
        b"s2,lincoln,2025-09-02,t\xe9rdy\ns3,lincoln,2025-09-02,tardy\n",
        "ingest.invalid_encoding@3",
    ),
    (
        "csv-infinite-duration",
        "events.csv",
        b"student_id,school_id,date,category,duration\ns1,lincoln,2025-09-02,tardy,\n"
        b"s2,lincoln,2025-09-02,partial,inf\ns3,lincoln,2025-09-02,tardy,\n",
        "ingest.invalid_number@3",
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "reject"), [c[1:] for c in EVENT_FILES], ids=[c[0] for c in EVENT_FILES]
)
def test_a_bad_event_record_is_one_reject(
    tmp_path: Path, name: str, data: bytes, reject: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert _ids(read_all(read_events, path)) == ["s1", reject, "s3"]


def test_a_bad_item_of_a_json_array_is_one_reject(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_bytes(
        b"["
        + json.dumps(_GOOD).encode()
        + b',{"student_id": "s\xff", "school_id": "lincoln"},'
        + b'{"student_id": "s2", "school_id": "lincoln", "date": "2025-09-02", '
        + b'"category": "partial", "duration": Infinity},'
        + json.dumps({**_GOOD, "student_id": "s3"}).encode()
        + b"]"
    )
    got = [
        (e.code, e.source) if isinstance(e, DataError) else e.student_id
        for e in read_all(read_events, path)
    ]
    assert got == [
        "s1",
        ("ingest.invalid_encoding", f"{path}[1]"),
        ("ingest.invalid_number", f"{path}[2]"),
        "s3",
    ]


def test_wrong_json_types_in_api_resources_are_rejects(tmp_path: Path) -> None:
    enrollments = tmp_path / "enrollments.jsonl"
    enrollments.write_bytes(
        _jsonl(
            {"student_id": "s1", "school_id": "lincoln", "entry_date": "2025-09-01"},
            {"studentReference": {"studentUniqueId": "s2"}, "schoolReference": "lincoln"},
            {"student_id": "s3", "school_id": "lincoln", "entry_date": "2025-09-01", "groups": 5},
            {"student_id": "s4", "school_id": "lincoln", "entry_date": "2025-09-01"},
        )
    )
    assert _ids(read_all(read_enrollments, enrollments)) == [
        "s1",
        "ingest.not_an_object@2",
        "ingest.not_a_list@3",
        "s4",
    ]
    calendar = tmp_path / "calendar.jsonl"
    calendar.write_bytes(
        _jsonl(
            {"calendar_id": "lincoln", "date": "2025-09-02"},
            {"calendarReference": ["lincoln"], "date": "2025-09-03"},
            {
                "calendarReference": {"calendarCode": "lincoln"},
                "date": "2025-09-04",
                "calendarEvents": 5,
            },
            {"calendar_id": "lincoln", "date": "2025-09-05"},
        )
    )
    found = read_calendars(calendar)
    assert len(found.calendars["lincoln"]) == 2
    assert [(w.code, w.source) for w in calendar_problems(found)] == [
        ("ingest.not_an_object", f"{calendar}:2"),
        ("ingest.not_a_list", f"{calendar}:3"),
    ]
    groups = tmp_path / "groups.jsonl"
    groups.write_bytes(
        _jsonl(
            {"student_id": "s1", "groups": ["foster"]},
            {"student_id": "s2", "groups": 5},
            {"studentReference": {"studentUniqueId": "s3"}, "studentCharacteristics": 5},
            {"studentReference": "s4"},
            {"student_id": "s5", "groups": "homeless"},
        )
    )
    assert _ids(read_all(read_groups, groups)) == [
        "s1",
        "ingest.not_a_list@2",
        "ingest.not_a_list@3",
        "ingest.not_an_object@4",
        "s5",
    ]


def test_evaluate_command_goes_on_past_bad_raw_records(tmp_path: Path) -> None:
    from tierflow.cli import main

    calendar = tmp_path / "calendar.xml"
    calendar.write_text(
        "<I>\n<Session><SchoolId>lincoln</SchoolId><BeginDate>2025-09-01</BeginDate>"
        "<EndDate>2025-09-05</EndDate><TotalInstructionalDays>1e309</TotalInstructionalDays>"
        "</Session>\n"
        + "".join(
            f"<CalendarDate><Date>2025-09-0{d}</Date><SchoolId>lincoln</SchoolId>"
            "<CalendarEvent>Instructional day</CalendarEvent></CalendarDate>\n"
            for d in (1, 2, 3, 4, 5)
        )
        + "</I>\n"
    )
    events = tmp_path / "events.jsonl"
    events.write_bytes(
        _jsonl(
            _GOOD,
            b'{"student_id": "s\xff"}',
            {**_GOOD, "student_id": "s2", "minutes": float("nan")},
            b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            {**_GOOD, "student_id": "s3", "category": "unexcused_absence"},
        )
    )
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(
            [
                "evaluate",
                "-r",
                "mtss",
                "--as-of",
                "2025-09-05",
                "--assume-full-year",
                "--calendar",
                str(calendar),
                "--events",
                str(events),
            ],
            out=out,
        )
    assert status == 0, err.getvalue()
    assert sorted(json.loads(line)["student_id"] for line in out.getvalue().splitlines()) == [
        "s1",
        "s3",
    ]
    text = err.getvalue()
    assert f"warning: {calendar}:2: ingest.invalid_number:" in text
    assert "read 5, accepted 2, rejected 3" in text
