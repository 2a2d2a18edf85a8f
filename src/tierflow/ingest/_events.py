"""Read attendance events and enrollment spans: Ed-Fi XML or API JSON, or tierflow's columns."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tierflow.attendance import AttendanceEvent, Enrollment
from tierflow.errors import DataError, DataReport
from tierflow.ingest._edfi import edfi_event, flatten_api_event, xml_enrollments, xml_events
from tierflow.ingest._reported import reported
from tierflow.ingest._rows import converted
from tierflow.ingest._values import grade_of, list_of, parse_date, reference, require, text_of
from tierflow.spec import ColumnMapping

__all__ = ["read_enrollments", "read_events"]


def read_events(
    path: str | Path,
    *,
    mapping: ColumnMapping | str | Path | None = None,
    report: DataReport | None = None,
) -> Iterator[AttendanceEvent]:
    """Yield every attendance event of a file; one that is bad goes to ``report``.

    The format follows the file: ``.xml`` is an Ed-Fi interchange; ``.json`` / ``.jsonl``
    holds Ed-Fi API resources or tierflow's columns (told apart per record); ``.csv`` has
    tierflow's columns ``student_id, school_id, date, category, duration, minutes, reason``
    (``duration`` a fraction of a day, ``minutes`` minutes; both optional).

    Args:
        path: The file.
        mapping: A :class:`ColumnMapping` (or the path of a mapping file) for vendor exports.
        report: Where a record that cannot be read goes (counted as read and rejected); the
            stream goes on. Without one, the first such record is raised.

    Raises:
        DataError: A record cannot be read and no ``report`` was given.
    """
    yield from reported(_events(Path(path), mapping), report)


def _events(
    file: Path, mapping: ColumnMapping | str | Path | None
) -> Iterator[AttendanceEvent | DataError]:
    cmap = ColumnMapping.load(mapping) if isinstance(mapping, (str, Path)) else mapping
    if file.suffix.lower() == ".xml":
        yield from xml_events(file, cmap)
        return
    extra = dict(cmap.categories) if cmap else None
    fmt = cmap.date_format if cmap else None

    def event(source: str, row: dict[str, Any]) -> AttendanceEvent | DataError:
        flat = flatten_api_event(row, source) if "studentReference" in row else row
        return edfi_event(flat, source, extra, fmt)

    yield from converted(file, ("student_id", "school_id", "date", "category"), cmap, event)


def read_enrollments(
    path: str | Path,
    *,
    mapping: ColumnMapping | str | Path | None = None,
    report: DataReport | None = None,
) -> Iterator[Enrollment]:
    """Yield every enrollment span of a file; one that is bad goes to ``report``.

    ``.xml``: Ed-Fi ``StudentSchoolAssociation``; ``.json``/``.jsonl``: Ed-Fi API
    ``studentSchoolAssociations`` or tierflow's columns; ``.csv``: ``student_id, school_id,
    entry_date, exit_date, calendar_id, grade, groups`` (groups separated by ``;``).

    Args:
        path: The file.
        mapping: A :class:`ColumnMapping` (or the path of a mapping file) for vendor exports.
        report: Where a record that cannot be read goes (counted as read and rejected); the
            stream goes on. Without one, the first such record is raised.

    Raises:
        DataError: A record cannot be read and no ``report`` was given.
    """
    yield from reported(_enrollments(Path(path), mapping), report)


def _enrollments(
    file: Path, mapping: ColumnMapping | str | Path | None
) -> Iterator[Enrollment | DataError]:
    cmap = ColumnMapping.load(mapping) if isinstance(mapping, (str, Path)) else mapping
    if file.suffix.lower() == ".xml":
        yield from xml_enrollments(file)
        return
    fmt = cmap.date_format if cmap else None

    def enrollment(source: str, row: dict[str, Any]) -> Enrollment:
        if "studentReference" in row:
            student = reference(row, "studentReference", source).get("studentUniqueId")
            sid = text_of(student)
            row = {
                "student_id": student,
                "school_id": reference(row, "schoolReference", source, sid).get("schoolId"),
                "entry_date": row.get("entryDate"),
                "exit_date": row.get("exitWithdrawDate"),
                "calendar_id": reference(row, "calendarReference", source, sid).get("calendarCode"),
                "grade": row.get("entryGradeLevelDescriptor"),
            }
        sid = text_of(row.get("student_id"))
        require(row, ("student_id", "school_id", "entry_date"), source, sid)
        exit_text = text_of(row.get("exit_date"))
        raw_groups = row.get("groups")
        if isinstance(raw_groups, str):
            groups = [g.strip() for g in raw_groups.split(";") if g.strip()]
        else:
            groups = [str(g) for g in list_of(row, "groups", source, sid)]
        return Enrollment(
            str(sid),
            str(text_of(row["school_id"])),
            parse_date(str(row["entry_date"]), source, sid, "entry_date", fmt),
            parse_date(exit_text, source, sid, "exit_date", fmt) if exit_text else None,
            text_of(row.get("calendar_id")),
            grade_of(text_of(row.get("grade"))),
            tuple(groups),
            source,
        )

    yield from converted(file, ("student_id", "school_id", "entry_date"), cmap, enrollment)
