"""Readers of raw attendance data: tierflow CSV/JSON Lines, Ed-Fi API JSON, Ed-Fi XML, mappings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ingest.reading import calendar_problems, read_all
from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder
from tierflow.errors import DataError, RulesetError
from tierflow.ingest import read_calendars, read_enrollments, read_events
from tierflow.spec import ColumnMapping


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_events_with_every_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "events.csv",
        "student_id,school_id,date,category,duration,minutes,reason\n"
        "s1,lincoln,2025-09-08,unexcused_absence,,,missed the bus\n"
        "s1,lincoln,2025-09-09,tardy,,35,\n"
        "s2,lincoln,2025-09-09,partial,0.5,,doctor\n",
    )
    events = read_all(read_events, path)
    assert events == [
        AttendanceEvent(
            "s1",
            "lincoln",
            dt.date(2025, 9, 8),
            "unexcused_absence",
            None,
            None,
            "missed the bus",
            f"{path}:2",
        ),
        AttendanceEvent(
            "s1", "lincoln", dt.date(2025, 9, 9), "tardy", None, 35.0, None, f"{path}:3"
        ),
        AttendanceEvent(
            "s2", "lincoln", dt.date(2025, 9, 9), "partial", 0.5, None, "doctor", f"{path}:4"
        ),
    ]


def test_csv_event_errors_name_line_and_student(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "events.csv",
        "student_id,school_id,date,category,minutes\n"
        "s1,lincoln,09/08/2025,unexcused_absence,\n"
        "s2,lincoln,2025-09-08,walkabout,\n"
        "s3,lincoln,2025-09-08,tardy,ten\n"
        "s4,lincoln,2025-09-08\n"
        ",lincoln,2025-09-08,tardy,\n"
        "s6,lincoln,2025-09-08,tardy,5\n",
    )
    results = read_all(read_events, path)
    errors = [(r.code, r.source, r.student_id) for r in results if isinstance(r, DataError)]
    assert errors == [
        ("ingest.invalid_date", f"{path}:2", "s1"),
        ("event.unknown_category", f"{path}:3", "s2"),
        ("ingest.invalid_number", f"{path}:4", "s3"),
        ("ingest.column_count", f"{path}:5", "s4"),
        ("ingest.missing_value", f"{path}:6", None),
    ]
    assert [r.student_id for r in results if isinstance(r, AttendanceEvent)] == ["s6"]


def test_missing_column_is_reported_once(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "events.csv", "student,school_id,date,category\ns1,x,2025-09-08,tardy\n"
    )
    (err,) = read_all(read_events, path)
    assert isinstance(err, DataError)
    assert (err.code, err.source) == ("ingest.missing_column", f"{path}:1")
    assert "student_id" in err.reason and "column-mapping" in err.reason


def test_vendor_export_through_a_mapping_file(tmp_path: Path) -> None:
    mapping = _write(
        tmp_path / "vendor.yaml",
        "columns: {StuID: student_id, Bldg: school_id, AttDate: date, Code: category}\n"
        "categories: {A: unexcused_absence, E: excused_absence, T: tardy}\n"
        'date_format: "%m/%d/%Y"\n',
    )
    path = _write(
        tmp_path / "export.csv",
        "StuID,Bldg,AttDate,Code\n1001,lincoln,09/08/2025,A\n1002,lincoln,09/09/2025,T\n",
    )
    events = read_all(read_events, path, mapping=mapping)
    assert [
        (e.student_id, e.date, e.category) for e in events if isinstance(e, AttendanceEvent)
    ] == [
        ("1001", dt.date(2025, 9, 8), "unexcused_absence"),
        ("1002", dt.date(2025, 9, 9), "tardy"),
    ]


def test_mapping_file_local_cause_codes_reach_the_facts(tmp_path: Path) -> None:
    from tierflow.attendance import CauseMap, SchoolCalendar

    mapping = _write(tmp_path / "vendor.yaml", "causes: {TR: transportation, MED: health}\n")
    cmap = ColumnMapping.load(mapping)
    causes = CauseMap.default(cmap.causes)
    assert (causes("TR"), causes("med"), causes("missed the bus"), causes("ZZ")) == (
        "transportation",
        "health",
        "transportation",
        None,
    )
    cal = SchoolCalendar.from_pattern("a", dt.date(2025, 9, 1), dt.date(2025, 9, 5))
    b = FactsBuilder({"a": cal}, causes=causes, assume_full_year=True)
    b.add_event(AttendanceEvent("s1", "a", dt.date(2025, 9, 2), "unexcused_absence", reason="MED"))
    facts = b.facts_for("s1", dt.date(2025, 9, 5))
    assert facts is not None and facts["causes"] == ["health"]


def test_bad_mapping_file_names_the_key(tmp_path: Path) -> None:
    mapping = _write(tmp_path / "vendor.yaml", "columns: {A: student_id}\ncolumn: {B: date}\n")
    with pytest.raises(RulesetError) as info:
        ColumnMapping.load(mapping)
    (problem,) = info.value.problems
    assert (problem.code, problem.span.line, problem.span.col) == ("schema.unknown_field", 2, 1)


def test_edfi_api_json_resources(tmp_path: Path) -> None:
    resource = {
        "studentReference": {"studentUniqueId": "604822"},
        "schoolReference": {"schoolId": 255901001},
        "sessionReference": {"schoolId": 255901001, "schoolYear": 2022, "sessionName": "Fall"},
        "eventDate": "2021-09-01",
        "attendanceEventCategoryDescriptor": "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Tardy",
        "attendanceEventReason": "Late bus",
        "schoolAttendanceDuration": 20,
    }
    path = _write(tmp_path / "events.jsonl", json.dumps(resource) + "\n[1]\n{bad json\n")
    results = read_all(read_events, path)
    event = results[0]
    assert isinstance(event, AttendanceEvent)
    assert (event.student_id, event.school_id, event.category, event.minutes, event.reason) == (
        "604822",
        "255901001",
        "tardy",
        20.0,
        "Late bus",
    )
    assert [(r.code, r.source) for r in results[1:] if isinstance(r, DataError)] == [
        ("ingest.not_an_object", f"{path}:2"),
        ("ingest.invalid_json", f"{path}:3"),
    ]


def test_edfi_api_enrollments_and_calendar_dates(tmp_path: Path) -> None:
    associations = [
        {
            "studentReference": {"studentUniqueId": "604822"},
            "schoolReference": {"schoolId": 255901107},
            "entryDate": "2021-08-23",
            "exitWithdrawDate": "2022-01-14",
            "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Fifth grade",
            "calendarReference": {"calendarCode": "107-main", "schoolId": 255901107},
        }
    ]
    dates = [
        {
            "calendarReference": {"calendarCode": "107-main", "schoolId": 255901107},
            "date": f"2021-08-{day}",
            "calendarEvents": [
                {"calendarEventDescriptor": f"uri://ed-fi.org/CalendarEventDescriptor#{kind}"}
            ],
        }
        for day, kind in (
            (23, "Instructional day"),
            (24, "Instructional day"),
            (25, "Holiday"),
            (28, "Make-up day"),
        )
    ]
    (span,) = list(read_enrollments(_write(tmp_path / "ssa.json", json.dumps(associations))))
    assert span == Enrollment(
        "604822",
        "255901107",
        dt.date(2021, 8, 23),
        dt.date(2022, 1, 14),
        "107-main",
        5,
        source=f"{tmp_path / 'ssa.json'}[0]",
    )
    found = read_calendars(_write(tmp_path / "dates.json", json.dumps(dates)))
    cal = found.calendars["107-main"]
    assert cal.days == (dt.date(2021, 8, 23), dt.date(2021, 8, 24), dt.date(2021, 8, 28))
    assert found.schools == {"107-main": "255901107"} and not calendar_problems(found)


def test_csv_enrollments_and_calendar(tmp_path: Path) -> None:
    enr = _write(
        tmp_path / "enrollments.csv",
        "student_id,school_id,entry_date,exit_date,grade,groups\n"
        "s1,lincoln,2025-09-01,,K,foster;english_learner\n"
        "s2,lincoln,2025-09-01,2025-09-03,3rd,\n"
        "s3,lincoln,,,,\n",
    )
    cal = _write(
        tmp_path / "calendar.csv",
        "calendar_id,date,fraction\nlincoln,2025-09-01,\nlincoln,2025-09-02,0.5\n"
        "lincoln,2025-09-03,\nlincoln,2025-09-04,\nlincoln,not-a-date,\n",
    )
    spans = read_all(read_enrollments, enr)
    assert isinstance(spans[0], Enrollment) and spans[0].groups == ("foster", "english_learner")
    assert isinstance(spans[1], Enrollment) and (spans[1].grade, spans[1].exit) == (
        3,
        dt.date(2025, 9, 3),
    )
    assert isinstance(spans[2], DataError) and spans[2].code == "ingest.missing_value"
    found = read_calendars(cal)
    assert len(found.calendars["lincoln"]) == 4
    assert found.calendars["lincoln"].fraction(dt.date(2025, 9, 2)) == 0.5
    assert [(w.code, w.source) for w in calendar_problems(found)] == [
        ("ingest.invalid_date", f"{cal}:6")
    ]
    builder = FactsBuilder(found.calendars)
    for span in spans:
        if isinstance(span, DataError):
            builder.report.reject(span)
        else:
            builder.add_enrollment(span)
    assert builder.report.read == 3 and builder.report.accepted == 2
    facts = builder.facts_for("s1", dt.date(2025, 9, 4))
    assert facts is not None and facts["groups"] == ["english_learner", "foster"]
    assert facts["grade"] == 0 and facts["days_enrolled"] == 4


CATEGORY = "uri://ed-fi.org/AttendanceEventCategoryDescriptor#"
EDFI_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<InterchangeStudentAttendance xmlns="http://ed-fi.org/5.2.0">
  <StudentSchoolAttendanceEvent>
    <AttendanceEvent>
      <EventDate>2021-09-01</EventDate>
      <AttendanceEventCategory>{CATEGORY}Unexcused Absence</AttendanceEventCategory>
      <AttendanceEventReason>Absent unexcused</AttendanceEventReason>
      <EventDuration>1</EventDuration>
    </AttendanceEvent>
    <StudentReference><StudentIdentity><StudentUniqueId>1</StudentUniqueId></StudentIdentity></StudentReference>
    <SchoolReference><SchoolIdentity><SchoolId>9</SchoolId></SchoolIdentity></SchoolReference>
  </StudentSchoolAttendanceEvent>
  <StudentSchoolAttendanceEvent>
    <AttendanceEvent>
      <EventDate>2021-13-01</EventDate>
      <AttendanceEventCategory>{CATEGORY}Tardy</AttendanceEventCategory>
    </AttendanceEvent>
    <StudentReference><StudentIdentity><StudentUniqueId>2</StudentUniqueId></StudentIdentity></StudentReference>
    <SchoolReference><SchoolIdentity><SchoolId>9</SchoolId></SchoolIdentity></SchoolReference>
  </StudentSchoolAttendanceEvent>
  <StudentSchoolAttendanceEvent>
    <AttendanceEvent>
"""


def test_edfi_xml_stream_reports_bad_records_and_a_broken_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "attendance.xml", EDFI_XML)
    results = read_all(read_events, path)
    first = results[0]
    assert isinstance(first, AttendanceEvent)
    assert (first.student_id, first.school_id, first.category, first.duration, first.source) == (
        "1",
        "9",
        "unexcused_absence",
        1.0,
        f"{path}:3",
    )
    assert [(r.code, r.source, r.student_id) for r in results[1:] if isinstance(r, DataError)] == [
        ("ingest.invalid_date", f"{path}:13", "2"),
        ("ingest.invalid_xml", f"{path}:23", None),
    ]


def test_edfi_xml_enrollments(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "enrollment.xml",
        """<?xml version="1.0"?>
<InterchangeStudentEnrollment xmlns="http://ed-fi.org/5.2.0">
  <StudentSchoolAssociation>
    <StudentReference><StudentIdentity><StudentUniqueId>604822</StudentUniqueId></StudentIdentity></StudentReference>
    <SchoolReference><SchoolIdentity><SchoolId>255901107</SchoolId></SchoolIdentity></SchoolReference>
    <EntryDate>2021-08-23</EntryDate>
    <EntryGradeLevel>uri://ed-fi.org/GradeLevelDescriptor#Fifth grade</EntryGradeLevel>
  </StudentSchoolAssociation>
  <StudentSchoolAssociation>
    <StudentReference><StudentIdentity><StudentUniqueId>604823</StudentUniqueId></StudentIdentity></StudentReference>
    <EntryDate>2021-08-23</EntryDate>
  </StudentSchoolAssociation>
</InterchangeStudentEnrollment>
""",
    )
    first, second = read_all(read_enrollments, path)
    assert first == Enrollment(
        "604822", "255901107", dt.date(2021, 8, 23), None, None, 5, source=f"{path}:3"
    )
    assert isinstance(second, DataError)
    assert (second.code, second.source, second.student_id) == (
        "ingest.missing_value",
        f"{path}:9",
        "604823",
    )


def test_explicit_presence_is_marked_not_stored() -> None:
    from tierflow.attendance import SchoolCalendar

    cal = SchoolCalendar.from_pattern("a", dt.date(2025, 9, 1), dt.date(2025, 9, 5))
    b = FactsBuilder({"a": cal})
    b.add_enrollment(Enrollment("s1", "a", dt.date(2025, 9, 1)))
    for day in cal.days:
        assert b.add_event(AttendanceEvent("s1", "a", day, "present", source=f"p:{day.day}"))
    assert not b.add_event(AttendanceEvent("s1", "a", cal.days[0], "present", source="p:dup"))
    assert b.add_event(AttendanceEvent("s1", "a", cal.days[1], "unexcused_absence", source="a:1"))
    assert not b.add_event(AttendanceEvent("s1", "a", cal.days[1], "present", source="p:late"))
    codes = [(r.code, r.source) for r in b.report.rejects]
    assert codes == [
        ("event.duplicate", "p:dup"),
        ("event.conflict", "present record of 2025-09-02"),
        ("event.conflict", "p:late"),
    ]
    assert b.report.read == b.report.accepted + b.report.rejected == 9
    assert b._students["s1"].days.keys() == {cal.days[1]}  # presence holds no records
    facts = b.facts_for("s1", cal.days[-1])
    assert facts is not None and (facts["days_absent"], facts["days_present"]) == (1.0, 4.0)


CHARACTERISTIC = "uri://ed-fi.org/StudentCharacteristicDescriptor#"


def test_student_groups_from_edfi_json_xml_and_csv(tmp_path: Path) -> None:
    from tierflow.attendance import SchoolCalendar, StudentGroups
    from tierflow.ingest import read_groups

    seoa = {
        "studentReference": {"studentUniqueId": "604822"},
        "educationOrganizationReference": {"educationOrganizationId": 255901},
        "studentCharacteristics": [
            {
                "studentCharacteristicDescriptor": "uri://ed-fi.org/StudentCharacteristicDescriptor#Homeless"
            },
            {
                "studentCharacteristicDescriptor": "uri://ed-fi.org/StudentCharacteristicDescriptor#Gifted"
            },
        ],
        "limitedEnglishProficiencyDescriptor": "uri://ed-fi.org/LimitedEnglishProficiencyDescriptor#Limited",
    }
    sped = {
        "studentReference": {"studentUniqueId": "604823"},
        "programReference": {"programName": "Special Education", "programTypeDescriptor": "x"},
        "ideaEligibility": True,
    }
    api = _write(tmp_path / "groups.jsonl", json.dumps(seoa) + "\n" + json.dumps(sped) + "\n")
    first, second = read_all(read_groups, api)
    assert first == StudentGroups(
        "604822",
        ("homeless", "english_learner"),
        ("uri://ed-fi.org/StudentCharacteristicDescriptor#Gifted",),
        f"{api}:1",
    )
    assert isinstance(second, StudentGroups) and second.groups == ("iep",)
    xml_path = _write(
        tmp_path / "seoa.xml",
        f"""<?xml version="1.0"?>
<InterchangeStudentEnrollment xmlns="http://ed-fi.org/3.2.0">
  <StudentEducationOrganizationAssociation>
    <StudentReference><StudentIdentity><StudentUniqueId>7</StudentUniqueId></StudentIdentity></StudentReference>
    <StudentCharacteristic>
      <StudentCharacteristic>{CHARACTERISTIC}Foster Care</StudentCharacteristic>
    </StudentCharacteristic>
  </StudentEducationOrganizationAssociation>
</InterchangeStudentEnrollment>
""",
    )
    (from_xml,) = read_all(read_groups, xml_path)
    assert isinstance(from_xml, StudentGroups) and (from_xml.groups, from_xml.source) == (
        ("foster",),
        f"{xml_path}:3",
    )
    csv_path = _write(tmp_path / "groups.csv", "student_id,groups\n9,foster;iep\n,homeless\n")
    rows = read_all(read_groups, csv_path)
    assert isinstance(rows[0], StudentGroups) and rows[0].groups == ("foster", "iep")
    assert isinstance(rows[1], DataError) and rows[1].code == "ingest.missing_value"
    cal = SchoolCalendar.from_pattern("a", dt.date(2025, 9, 1), dt.date(2025, 9, 5))
    b = FactsBuilder({"a": cal})
    b.add_enrollment(Enrollment("604822", "a", dt.date(2025, 9, 1), groups=("iep",)))
    b.add_groups(first)
    facts = b.facts_for("604822", dt.date(2025, 9, 5))
    assert facts is not None and facts["groups"] == ["english_learner", "homeless", "iep"]
    assert b.report.read == b.report.accepted == 2
    assert b.report.ignored == [
        f"{api}:1: student 604822: '{CHARACTERISTIC}Gifted' maps to no tierflow group"
    ]


def test_a_bad_shortened_day_names_the_line_it_was_read_from(tmp_path: Path) -> None:
    cal = _write(
        tmp_path / "calendar.csv",
        "calendar_id,date,fraction\nlincoln,2025-09-01,\nroosevelt,2025-09-01,\n"
        "roosevelt,2025-09-02,1.5\n",
    )
    found = read_calendars(cal)
    assert list(found.calendars) == ["lincoln"]  # the other calendar is refused, this one kept
    assert [(w.code, w.source) for w in calendar_problems(found)] == [
        ("calendar.invalid", f"{cal}:4")
    ]
    assert str(calendar_problems(found)[0]) == (
        f"{cal}:4: calendar.invalid: calendar 'roosevelt': day 2025-09-02 lasts 1.5 of a day; "
        "expected (0, 1]"
    )
    xml = _write(
        tmp_path / "calendar.xml",
        """<?xml version="1.0"?>
<InterchangeEducationOrgCalendar xmlns="http://ed-fi.org/0220">
  <CalendarDate>
    <Date>2025-09-01</Date>
    <CalendarEvent><EventDuration>1</EventDuration>
      <CalendarEvent><CodeValue>Instructional day</CodeValue></CalendarEvent></CalendarEvent>
    <SchoolReference><SchoolIdentity><SchoolId>9</SchoolId></SchoolIdentity></SchoolReference>
  </CalendarDate>
  <CalendarDate>
    <Date>2025-09-02</Date>
    <CalendarEvent><EventDuration>0</EventDuration>
      <CalendarEvent><CodeValue>Instructional day</CodeValue></CalendarEvent></CalendarEvent>
    <SchoolReference><SchoolIdentity><SchoolId>9</SchoolId></SchoolIdentity></SchoolReference>
  </CalendarDate>
</InterchangeEducationOrgCalendar>
""",
    )
    found = read_calendars(xml)
    assert found.calendars == {}  # a zero-length instructional day is not silently a full day
    assert [(w.code, w.source) for w in calendar_problems(found)] == [
        ("calendar.invalid", f"{xml}:9")
    ]


def test_csv_records_start_where_they_start_and_a_bom_is_ignored(tmp_path: Path) -> None:
    # A quoted reason running over two lines: the record is at its first line (2), and the
    # next one at its own (4). The byte order mark Excel writes is not part of 'student_id'.
    path = tmp_path / "events.csv"
    path.write_bytes(
        b"\xef\xbb\xbfstudent_id,school_id,date,category,reason\n"
        b's1,lincoln,2025-09-08,walkabout,"bus broke\ndown"\n'
        b"s2,lincoln,2025-09-08,tardy,\n"
    )
    results = read_all(read_events, path)
    assert [(r.code, r.source, r.student_id) for r in results if isinstance(r, DataError)] == [
        ("event.unknown_category", f"{path}:2", "s1")
    ]
    assert [(r.student_id, r.source) for r in results if isinstance(r, AttendanceEvent)] == [
        ("s2", f"{path}:4")
    ]


def test_a_cut_short_json_lines_event_says_so(tmp_path: Path) -> None:
    path = _write(tmp_path / "events.jsonl", '{"student_id": "s1", "date": "2025-09-08"\n')
    (error,) = read_all(read_events, path)
    assert isinstance(error, DataError)
    assert str(error) == (
        f"{path}:1: ingest.invalid_json: the line ends before its JSON object does (Expecting "
        "',' delimiter at column 42); each line must hold one whole object"
    )
