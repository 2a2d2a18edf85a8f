"""Ed-Fi attendance records (XML interchange and API JSON) as tierflow events and enrollments.

Any Data Standard version: XML elements are matched by local name, so the
``http://ed-fi.org/0220``, ``/3.2.0`` and ``/5.2.0`` namespaces all work; API resources
(``studentSchoolAttendanceEvents``, ``studentSchoolAssociations``) are flattened to tierflow's
columns and read by the same code as tierflow's own files.
"""

from __future__ import annotations

import xml.parsers.expat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tierflow.attendance import AttendanceEvent, Enrollment, category_of
from tierflow.errors import DataError
from tierflow.ingest._values import (
    grade_of,
    parse_date,
    parse_number,
    reference,
    require,
    text_of,
)
from tierflow.ingest._xml import xml_error, xml_flat_records, xml_items
from tierflow.spec import ColumnMapping

__all__ = ["edfi_event", "flatten_api_event", "xml_enrollments", "xml_events"]


_EVENT_TAGS = {
    "StudentUniqueId": "student_id",
    "SchoolId": "school_id",
    "EventDate": "date",
    "AttendanceEventCategory": "category",
    "AttendanceEventReason": "reason",
    "EventDuration": "duration",
    "SchoolAttendanceDuration": "minutes",
}


def xml_events(path: Path, mapping: ColumnMapping | None) -> Iterator[AttendanceEvent | DataError]:
    name = str(path)
    extra = dict(mapping.categories) if mapping else None
    try:
        for line, row in xml_flat_records(path, "StudentSchoolAttendanceEvent", _EVENT_TAGS):
            yield row if isinstance(row, DataError) else edfi_event(row, f"{name}:{line}", extra)
    except xml.parsers.expat.ExpatError as exc:
        yield xml_error(exc, name)


def edfi_event(
    row: Mapping[str, Any], source: str, extra: Mapping[str, str] | None, fmt: str | None = None
) -> AttendanceEvent | DataError:
    sid = text_of(row.get("student_id"))
    try:
        require(row, ("student_id", "school_id", "date", "category"), source, sid)
        raw_category = str(row["category"]).strip()
        category = category_of(raw_category, extra)
        if category is None:
            raise DataError(
                "event.unknown_category",
                f"unknown attendance category {raw_category!r}",
                student_id=sid,
                source=source,
                field="category",
            )
        return AttendanceEvent(
            str(sid),
            str(text_of(row["school_id"])),
            parse_date(str(row["date"]), source, sid, "date", fmt),
            category,
            parse_number(row.get("duration"), source, sid, "duration"),
            parse_number(row.get("minutes"), source, sid, "minutes"),
            text_of(row.get("reason")),
            source,
        )
    except DataError as err:
        return err


def xml_enrollments(path: Path) -> Iterator[Enrollment | DataError]:
    name = str(path)
    try:
        for line, rec in xml_items(path, frozenset({"StudentSchoolAssociation"})):
            if isinstance(rec, DataError):
                yield rec
                continue
            source = f"{name}:{line}"
            sid = rec.value("StudentUniqueId")
            try:
                if sid is None or rec.value("SchoolId") is None or rec.value("EntryDate") is None:
                    raise DataError(
                        "ingest.missing_value",
                        "an enrollment needs StudentUniqueId, SchoolId and EntryDate",
                        student_id=sid,
                        source=source,
                    )
                exit_text = rec.value("ExitWithdrawDate")
                yield Enrollment(
                    sid,
                    str(rec.value("SchoolId")),
                    parse_date(str(rec.value("EntryDate")), source, sid, "EntryDate", None),
                    parse_date(exit_text, source, sid, "ExitWithdrawDate", None)
                    if exit_text
                    else None,
                    rec.value("CalendarCode"),
                    grade_of(rec.value("EntryGradeLevel")),
                    source=source,
                )
            except DataError as err:
                yield err
    except xml.parsers.expat.ExpatError as exc:
        yield xml_error(exc, name)


def flatten_api_event(item: Mapping[str, Any], source: str) -> dict[str, Any]:
    """An Ed-Fi API studentSchoolAttendanceEvent resource as tierflow columns.

    Raises:
        DataError: A reference is not an object (``ingest.not_an_object``).
    """
    student = reference(item, "studentReference", source).get("studentUniqueId")
    return {
        "student_id": student,
        "school_id": reference(item, "schoolReference", source, text_of(student)).get("schoolId"),
        "date": item.get("eventDate"),
        "category": item.get("attendanceEventCategoryDescriptor"),
        "reason": item.get("attendanceEventReason"),
        "duration": item.get("eventDuration"),
        "minutes": item.get("schoolAttendanceDuration"),
    }
