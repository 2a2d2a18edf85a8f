"""Read calendars, enrollment spans and attendance events from the files SIS products export.

Formats:

- **Ed-Fi XML interchange files** (any Data Standard version: elements are matched by local name,
  so the ``http://ed-fi.org/0220``, ``/3.2.0`` and ``/5.2.0`` namespaces all work):
  ``StudentSchoolAttendanceEvent``, ``StudentSchoolAssociation``, ``CalendarDate`` and
  ``Session``. Read as a stream with the line where each record starts.
- **Ed-Fi API JSON** resources (a JSON array, or JSON Lines): ``studentSchoolAttendanceEvents``,
  ``studentSchoolAssociations``, ``calendarDates``.
- **tierflow's own CSV or JSON Lines** columns (see ``docs/attendance.md``), with an optional
  column-mapping file for vendor exports.

Readers yield records or :class:`~tierflow.DataError` for a record that cannot be read (with its
``file:line`` and student id), never stopping the stream; hand the errors to
:meth:`FactsBuilder.reject` so the counts add up.

Every reader is linear in its file and bounded: text is decoded line by line
(:class:`~tierflow.ingest._text.TextLines`), JSON through
:class:`~tierflow.ingest._json.SafeJson` (depth, number size), and XML with a DOCTYPE refused
(so no entity can expand), elements at most :data:`MAX_DEPTH` deep inside a record and at most
:data:`MAX_LINE_BYTES` of text in one record.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
import xml.parsers.expat
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierflow.attendance._calendar import SchoolCalendar
from tierflow.attendance._events import (
    AttendanceEvent,
    Enrollment,
    StudentGroups,
    category_of,
    group_of,
)
from tierflow.attendance._years import SchoolYears
from tierflow.errors import DataError
from tierflow.facts._model import MAX_NUMBER, grade_level
from tierflow.ingest._csv import csv_rows
from tierflow.ingest._facts import json_record
from tierflow.ingest._json import MAX_DEPTH, JsonProblem, SafeJson
from tierflow.ingest._text import MAX_LINE_BYTES, TextLines

__all__ = [
    "CalendarSet",
    "ColumnMapping",
    "read_calendars",
    "read_enrollments",
    "read_events",
    "read_groups",
]

_INSTRUCTIONAL = frozenset({"instructional day", "make-up day", "makeup day", "make up day"})


# --- column mapping ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnMapping:
    """How a vendor's export maps onto tierflow's columns and categories.

    Attributes:
        columns: Vendor column name to tierflow column name (``{"StuID": "student_id"}``).
        categories: Vendor category code to tierflow category (``{"A": "unexcused_absence"}``).
        date_format: ``strptime`` format of dates when they are not ISO ``YYYY-MM-DD``.
        causes: Local reason codes to tierflow causes (``{"TR": "transportation"}``), tried
            before the built-in keyword patterns.
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    categories: Mapping[str, str] = field(default_factory=dict)
    date_format: str | None = None
    causes: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> ColumnMapping:
        """Read a mapping file (YAML, read with tierflow's safe loader).

        The file looks like this::

            columns: {StuID: student_id, SchoolCode: school_id, AttDate: date, Code: category}
            categories: {A: unexcused_absence, E: excused_absence, T: tardy}
            date_format: "%m/%d/%Y"
            causes: {TR: transportation, MED: health}

        Raises:
            RulesetError: The file is not valid YAML, or has keys other than these three.
        """
        from tierflow.errors import Problem, RulesetError
        from tierflow.spec import load_yaml_file

        loaded = load_yaml_file(path)
        data = loaded.data
        problems = []
        if not isinstance(data, dict):
            problems.append(
                Problem(loaded.span_of(()), "schema.invalid_type", "a mapping file is a mapping")
            )
            raise RulesetError(problems)
        for key, value in data.items():
            if key not in ("columns", "categories", "date_format", "causes"):
                problems.append(
                    Problem(
                        loaded.key_span_of((key,)),
                        "schema.unknown_field",
                        f"unknown key {key!r}",
                        str(key),
                        "known keys: categories, causes, columns, date_format",
                    )
                )
            elif key in ("columns", "categories", "causes") and not (
                isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
            ):
                problems.append(
                    Problem(
                        loaded.span_of((key,)),
                        "schema.invalid_type",
                        f"{key} maps names to names",
                        str(key),
                    )
                )
        if problems:
            raise RulesetError(problems)
        return cls(
            {str(k): v for k, v in (data.get("columns") or {}).items()},
            {str(k): v for k, v in (data.get("categories") or {}).items()},
            data.get("date_format"),
            {str(k): v for k, v in (data.get("causes") or {}).items()},
        )


# --- values -------------------------------------------------------------------------------------


def _date(text: str, source: str, sid: str | None, column: str, fmt: str | None) -> dt.date:
    value = text.strip()
    try:
        if fmt:
            return dt.datetime.strptime(value, fmt).date()
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise DataError(
            "ingest.invalid_date",
            f"{column} {value!r} is not a date" + (f" ({fmt})" if fmt else " (YYYY-MM-DD)"),
            student_id=sid,
            source=source,
            field=column,
        ) from None


def _number(text: Any, source: str, sid: str | None, column: str) -> float | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if isinstance(text, bool):
        raise DataError(
            "ingest.invalid_number", f"{column} is not a number", student_id=sid, source=source
        )
    try:
        value = float(text)
    except (TypeError, ValueError, OverflowError):
        value = math.nan
    if not -MAX_NUMBER <= value <= MAX_NUMBER:  # also NaN, and what is not a number
        shown = repr(text) if len(repr(text)) <= 40 else f"{repr(text)[:30]}..."
        raise DataError(
            "ingest.invalid_number",
            f"{column} {shown} is not a finite number of at most 10**15",
            student_id=sid,
            source=source,
            field=column,
        )
    return value


def _ref(
    row: Mapping[str, Any], key: str, source: str, sid: str | None = None
) -> Mapping[str, Any]:
    """An Ed-Fi API reference (``studentReference``...): an object, or empty when absent."""
    value = row.get(key)
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    raise DataError(
        "ingest.not_an_object",
        f"{key} must be an object, got {type(value).__name__}",
        student_id=sid,
        source=source,
        field=key,
    )


def _list(row: Mapping[str, Any], key: str, source: str, sid: str | None = None) -> list[Any]:
    """A list of a record (``calendarEvents``, ``groups``...): empty when absent."""
    value = row.get(key)
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    raise DataError(
        "ingest.not_a_list",
        f"{key} must be a list, got {type(value).__name__}",
        student_id=sid,
        source=source,
        field=key,
    )


def _grade(text: str | None) -> int | None:
    return grade_level(text) if text else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# --- Ed-Fi XML ----------------------------------------------------------------------------------


class _Node:
    """A small element tree of one record: local tag, attributes, text, children."""

    __slots__ = ("attrs", "children", "parts", "tag", "text")

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[_Node] = []
        self.parts: list[str] = []
        self.text = ""

    def find(self, tag: str) -> _Node | None:
        """The first descendant with this local tag, depth first in document order."""
        stack = self.children[::-1]
        while stack:
            node = stack.pop()
            if node.tag == tag:
                return node
            stack.extend(reversed(node.children))
        return None

    def value(self, tag: str) -> str | None:
        """The text of the first descendant ``tag`` (a descriptor's ``CodeValue`` if nested)."""
        node = self.find(tag)
        if node is None:
            return None
        if node.children:
            code = node.find("CodeValue")
            return code.text.strip() if code is not None else None
        return node.text.strip() or None

    def values(self, tag: str) -> list[str]:
        """The texts of every descendant ``tag``, in document order."""
        out: list[str] = []
        stack = self.children[::-1]
        while stack:
            child = stack.pop()
            if child.tag == tag and not child.children:
                if child.text.strip():
                    out.append(child.text.strip())
                continue
            if child.tag == tag:
                code = child.find("CodeValue")
                if code is not None:
                    out.append(code.text.strip())
                    continue
            stack.extend(reversed(child.children))
        return out


class _XmlRefused(xml.parsers.expat.ExpatError):
    """A document tierflow does not read on (a DOCTYPE), raised from an expat handler.

    An ``ExpatError``, so a reader that stops at a malformed file stops at this one too.
    """

    def __init__(self, message: str, lineno: int) -> None:
        super().__init__(message)
        self.lineno = lineno


def _xml_error(exc: Exception, name: str) -> DataError:
    """The ``ingest.invalid_xml`` reject of a file expat or tierflow stopped reading."""
    line = getattr(exc, "lineno", None)
    return DataError("ingest.invalid_xml", str(exc), source=f"{name}:{line}" if line else name)


def _parser(namespace_separator: str | None = None) -> Any:
    """An expat parser that refuses DTDs and hands text over in large pieces.

    A DOCTYPE is refused outright: its internal subset can declare entities that expand to
    gigabytes ("billion laughs"), and Ed-Fi interchange files never have one. Without it, an
    entity reference other than the five predefined ones is an expat error.
    """
    parser = xml.parsers.expat.ParserCreate(namespace_separator=namespace_separator)

    def doctype(*_: Any) -> None:
        raise _XmlRefused(
            "a DOCTYPE is not allowed in an Ed-Fi file (its entities could expand without "
            "bound); the file was not read",
            parser.CurrentLineNumber,
        )

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    return parser


def _record_problem(code: str, path: Path, line: int) -> DataError:
    if code == "ingest.too_deep":
        message = f"elements inside the record are nested more than {MAX_DEPTH} deep"
    else:
        message = f"the record holds more than {MAX_LINE_BYTES:,} characters of text"
    return DataError(code, message, source=f"{path}:{line}")


def _feed(parser: Any, path: Path, ready: list[Any]) -> Iterator[Any]:
    """Feed ``path`` to an expat parser in chunks, yielding what its handlers made ready."""
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 16)
            try:
                parser.Parse(chunk, not chunk)
            except (LookupError, ValueError) as exc:
                if isinstance(exc, DataError):
                    raise
                # The XML declaration names an encoding Python does not know (LookupError) or
                # expat cannot use (ValueError: 'multi-byte encodings are not supported'): the
                # file is refused at its line, like a DOCTYPE.
                raise _XmlRefused(
                    f"cannot read the encoding the XML declaration names: {exc}",
                    parser.CurrentLineNumber or 1,
                ) from None
            yield from ready
            ready.clear()
            if not chunk:
                break


def _xml_items(path: Path, tags: frozenset[str]) -> Iterator[tuple[int, _Node | DataError]]:
    """Stream the records (children of the root) whose local tag is in ``tags``.

    Yields ``(line where the record starts, its tree)``; only one record is held at a time. A
    record nested more than :data:`MAX_DEPTH` deep or holding more than :data:`MAX_LINE_BYTES`
    characters of text is yielded as its :class:`DataError` (``ingest.too_deep``,
    ``ingest.too_long``) and the file is read on.

    Raises:
        xml.parsers.expat.ExpatError: The file is not well-formed.
        _XmlRefused: The file has a DOCTYPE.
    """
    parser = _parser(" ")
    stack: list[_Node] = []
    ready: list[tuple[int, _Node | DataError]] = []
    depth = 0
    start_line = 0
    record: _Node | None = None
    problem: str | None = None
    size = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth, start_line, record, problem, size
        depth += 1
        tag = name.rsplit(" ", 1)[-1]
        if depth == 2 and tag in tags:
            start_line = parser.CurrentLineNumber
            record = _Node(tag, attrs)
            stack.append(record)
            problem, size = None, 0
        elif record is not None and problem is None:
            if len(stack) >= MAX_DEPTH:
                problem = "ingest.too_deep"
                return
            node = _Node(tag, attrs)
            stack[-1].children.append(node)
            stack.append(node)

    def end(_: str) -> None:
        nonlocal depth, record
        depth -= 1
        if record is None:
            return
        if depth == 1:
            if problem is None:
                record.text = "".join(record.parts)
                ready.append((start_line, record))
            else:
                ready.append((start_line, _record_problem(problem, path, start_line)))
            record = None
            stack.clear()
        elif problem is None:
            node = stack.pop()
            node.text = "".join(node.parts)
            node.parts = []

    def chars(data: str) -> None:
        nonlocal size, problem
        if record is not None and problem is None:
            size += len(data)
            if size > MAX_LINE_BYTES:
                problem = "ingest.too_long"
                return
            stack[-1].parts.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    yield from _feed(parser, path, ready)


def _xml_flat_records(
    path: Path, record: str, wanted: Mapping[str, str]
) -> Iterator[tuple[int, dict[str, str] | DataError]]:
    """Stream records named ``record``, keeping only the first text of each ``wanted`` tag.

    ``wanted`` maps local tag names to the keys of the yielded dicts. A descriptor written as a
    nested ``CodeValue`` (Data Standard 2.x) counts as the text of its parent. Faster than
    building a tree, for the large attendance files. A record nested too deep or holding too
    much text is yielded as its :class:`DataError`, as by :func:`_xml_items`.

    Raises:
        xml.parsers.expat.ExpatError: The file is not well-formed.
        _XmlRefused: The file has a DOCTYPE.
    """
    parser = _parser()
    depth = 0
    start_line = 0
    current: dict[str, str] | None = None
    tags: list[str] = []
    texts: list[str] = []
    ready: list[tuple[int, dict[str, str] | DataError]] = []
    problem: str | None = None
    skipped = 0  # elements below the depth limit, not followed
    size = 0

    def local(name: str) -> str:
        return name.rsplit(":", 1)[-1]

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth, start_line, current, problem, skipped, size
        depth += 1
        if depth == 2:
            if local(name) == record:
                start_line = parser.CurrentLineNumber
                current = {}
                problem, skipped, size = None, 0, 0
            return
        if current is not None:
            if skipped or len(tags) >= MAX_DEPTH:
                problem = problem or "ingest.too_deep"
                skipped += 1
                return
            tags.append(local(name))
            texts.clear()

    def end(_: str) -> None:
        nonlocal depth, current, skipped
        depth -= 1
        if current is None:
            return
        if depth == 1:
            if problem is None:
                ready.append((start_line, current))
            else:
                ready.append((start_line, _record_problem(problem, path, start_line)))
            current = None
            tags.clear()
            return
        if skipped:
            skipped -= 1
            return
        tag = tags.pop()
        key = wanted.get(tag)
        if key is None and tag == "CodeValue" and tags:
            key = wanted.get(tags[-1])
        if key is not None and key not in current:
            text = "".join(texts).strip()
            if text:
                current[key] = text
        texts.clear()

    def chars(data: str) -> None:
        nonlocal size, problem
        if current is not None and tags and not skipped:
            size += len(data)
            if size > MAX_LINE_BYTES:
                problem = problem or "ingest.too_long"
                texts.clear()
                return
            texts.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    yield from _feed(parser, path, ready)


_EVENT_TAGS = {
    "StudentUniqueId": "student_id",
    "SchoolId": "school_id",
    "EventDate": "date",
    "AttendanceEventCategory": "category",
    "AttendanceEventReason": "reason",
    "EventDuration": "duration",
    "SchoolAttendanceDuration": "minutes",
}


def _xml_events(path: Path, mapping: ColumnMapping | None) -> Iterator[AttendanceEvent | DataError]:
    name = str(path)
    extra = dict(mapping.categories) if mapping else None
    try:
        for line, row in _xml_flat_records(path, "StudentSchoolAttendanceEvent", _EVENT_TAGS):
            yield row if isinstance(row, DataError) else _edfi_event(row, f"{name}:{line}", extra)
    except xml.parsers.expat.ExpatError as exc:
        yield _xml_error(exc, name)


def _edfi_event(
    row: Mapping[str, Any], source: str, extra: Mapping[str, str] | None, fmt: str | None = None
) -> AttendanceEvent | DataError:
    sid = _text(row.get("student_id"))
    try:
        for column in ("student_id", "school_id", "date", "category"):
            if _text(row.get(column)) is None:
                raise DataError(
                    "ingest.missing_value",
                    f"{column} is missing",
                    student_id=sid,
                    source=source,
                    field=column,
                )
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
            str(_text(row["school_id"])),
            _date(str(row["date"]), source, sid, "date", fmt),
            category,
            _number(row.get("duration"), source, sid, "duration"),
            _number(row.get("minutes"), source, sid, "minutes"),
            _text(row.get("reason")),
            source,
        )
    except DataError as err:
        return err


def _xml_enrollments(path: Path) -> Iterator[Enrollment | DataError]:
    name = str(path)
    try:
        for line, rec in _xml_items(path, frozenset({"StudentSchoolAssociation"})):
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
                    _date(str(rec.value("EntryDate")), source, sid, "EntryDate", None),
                    _date(exit_text, source, sid, "ExitWithdrawDate", None) if exit_text else None,
                    rec.value("CalendarCode"),
                    _grade(rec.value("EntryGradeLevel")),
                    source=source,
                )
            except DataError as err:
                yield err
    except xml.parsers.expat.ExpatError as exc:
        yield _xml_error(exc, name)


# --- calendars ----------------------------------------------------------------------------------


@dataclass
class CalendarSet:
    """Calendars read from a file, by id, with what looked wrong in the source.

    Attributes:
        calendars: By id: the calendar code when the source has one, else the school id.
        warnings: Disagreements found (``calendar.session_mismatch``: a session states a number
            of instructional days its calendar dates do not have; the calendar dates win),
            and calendar dates that could not be read.
        schools: The school each calendar belongs to.
        sessions: Ed-Fi ``Session`` records that name their school year, as
            ``(school year, begin date, end date)``; the year is named as Ed-Fi names it, by the
            calendar year it ends in (``2021-2022`` is 2022). Empty for files without sessions.
    """

    calendars: dict[str, SchoolCalendar] = field(default_factory=dict)
    warnings: list[DataError] = field(default_factory=list)
    schools: dict[str, str] = field(default_factory=dict)
    sessions: list[tuple[int, dt.date, dt.date]] = field(default_factory=list)

    def school_years(self, starts: str = "07-01") -> SchoolYears:
        """The school years the calendar's sessions give, else those ``starts`` gives.

        A district's own sessions win over a rule set's start day: every date from a year's
        first session to the day before the next year's belongs to it (summer school after the
        last session included); dates outside every session follow ``starts`` (``MM-DD``).

        >>> found = CalendarSet(sessions=[(2022, dt.date(2021, 8, 23), dt.date(2021, 12, 17)),
        ...                               (2022, dt.date(2022, 1, 4), dt.date(2022, 5, 27))])
        >>> found.school_years().of(dt.date(2021, 8, 23))
        SchoolYear(label=2022, start=datetime.date(2021, 8, 23), end=datetime.date(2022, 6, 30))
        >>> CalendarSet().school_years("08-01").of(dt.date(2021, 8, 23)).start
        datetime.date(2021, 8, 1)

        Raises:
            DataError: ``calendar.invalid`` when the sessions' years overlap or leave a gap.
        """
        if not self.sessions:
            return SchoolYears(starts)
        return SchoolYears.from_sessions(self.sessions, starts)


def _calendar_set(
    days: Mapping[str, set[dt.date]],
    fractions: Mapping[str, dict[dt.date, float]],
    schools: Mapping[str, str],
    sessions: list[tuple[str, str, dt.date, dt.date, int, str]],
    warnings: list[DataError],
    sources: Mapping[str, dict[dt.date, str]] | None = None,
) -> CalendarSet:
    out = CalendarSet(warnings=warnings)
    for cal_id, dates in sorted(days.items()):
        if not dates:
            continue
        try:
            out.calendars[cal_id] = SchoolCalendar(
                cal_id, dates, fractions.get(cal_id), sources=(sources or {}).get(cal_id)
            )
        except DataError as err:
            out.warnings.append(err)
            continue
        out.schools[cal_id] = schools.get(cal_id, cal_id)
    for school, session, begin, end, stated, source in sessions:
        for cal_id, cal in out.calendars.items():
            if out.schools[cal_id] != school:
                continue
            counted = cal.count(begin, end)
            if counted != stated:
                out.warnings.append(
                    DataError(
                        "calendar.session_mismatch",
                        f"session {session!r} of school {school} states {stated} instructional "
                        f"days from {begin} to {end}, but calendar {cal_id!r} has {counted}; "
                        "the calendar dates are used",
                        source=source,
                    )
                )
    return out


def _day_count(text: str, source: str) -> int:
    """A session's ``TotalInstructionalDays``: a whole number of days in a year (0 to 366)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 <= value <= 366 and value.is_integer()):
        raise DataError(
            "ingest.invalid_number",
            f"TotalInstructionalDays {text[:30]!r} is not a whole number of days from 0 to 366",
            source=source,
            field="TotalInstructionalDays",
        )
    return int(value)


def _xml_calendars(path: Path) -> CalendarSet:
    name = str(path)
    days: dict[str, set[dt.date]] = defaultdict(set)
    fractions: dict[str, dict[dt.date, float]] = defaultdict(dict)
    sources: dict[str, dict[dt.date, str]] = defaultdict(dict)
    schools: dict[str, str] = {}
    sessions: list[tuple[str, str, dt.date, dt.date, int, str]] = []
    years: list[tuple[int, dt.date, dt.date]] = []
    warnings: list[DataError] = []
    try:
        for line, rec in _xml_items(path, frozenset({"CalendarDate", "Session"})):
            if isinstance(rec, DataError):
                warnings.append(rec)
                continue
            source = f"{name}:{line}"
            try:
                if rec.tag == "Session":
                    total = rec.value("TotalInstructionalDays")
                    school, begin, end = (
                        rec.value("SchoolId"),
                        rec.value("BeginDate"),
                        rec.value("EndDate"),
                    )
                    if total and school and begin and end:
                        sessions.append(
                            (
                                school,
                                rec.value("SessionName") or "",
                                _date(begin, source, None, "BeginDate", None),
                                _date(end, source, None, "EndDate", None),
                                _day_count(total, source),
                                source,
                            )
                        )
                    year = rec.value("SchoolYear")
                    if year and begin and end:
                        years.append(
                            (
                                _school_year(year, source),
                                _date(begin, source, None, "BeginDate", None),
                                _date(end, source, None, "EndDate", None),
                            )
                        )
                    continue
                school = rec.value("SchoolId")
                text = rec.value("Date")
                if school is None or text is None:
                    raise DataError(
                        "ingest.missing_value",
                        "a CalendarDate needs a Date and a SchoolId",
                        source=source,
                    )
                cal_id = rec.value("CalendarCode") or school
                schools[cal_id] = school
                day = _date(text, source, None, "Date", None)
                kinds = [v.rsplit("#", 1)[-1].strip().lower() for v in rec.values("CalendarEvent")]
                days.setdefault(cal_id, set())
                if any(k in _INSTRUCTIONAL for k in kinds):
                    days[cal_id].add(day)
                    text = rec.value("EventDuration")
                    duration = (
                        None if text is None else _number(text, source, None, "EventDuration")
                    )
                    if duration is not None and duration != 1:
                        # A shortened day; one outside (0, 1] refuses the calendar, naming
                        # this record (calendar.invalid).
                        fractions[cal_id][day] = duration
                        sources[cal_id][day] = source
            except DataError as err:
                warnings.append(err)
    except xml.parsers.expat.ExpatError as exc:
        warnings.append(_xml_error(exc, name))
    found = _calendar_set(days, fractions, schools, sessions, warnings, sources)
    found.sessions = years
    return found


def _school_year(text: str, source: str) -> int:
    """A session's ``SchoolYear``, named by the year it ends in: ``2021-2022`` or ``2022``."""
    match = _SCHOOL_YEAR.fullmatch(text.strip())
    if match is None or (match[2] is not None and int(match[2]) != int(match[1]) + 1):
        raise DataError(
            "calendar.invalid",
            f"SchoolYear {text[:30]!r} is not a school year (2021-2022, or 2022 for the year "
            "ending in 2022)",
            source=source,
            field="SchoolYear",
        )
    return int(match[2] or match[1])


_SCHOOL_YEAR = re.compile(r"(\d{4})(?:\s*[-/]\s*(\d{4}))?")


# --- JSON, JSON Lines, CSV ----------------------------------------------------------------------

_EVENT_KEYS = {
    "studentReference": None,
    "studentUniqueId": "student_id",
    "schoolId": "school_id",
    "eventDate": "date",
    "attendanceEventCategoryDescriptor": "category",
    "attendanceEventReason": "reason",
    "eventDuration": "duration",
    "schoolAttendanceDuration": "minutes",
}


def _rows(path: Path, mapping: ColumnMapping | None) -> Iterator[tuple[str, Any]]:
    """Yield ``(source, row)`` from CSV (dicts by column), JSON Lines or a JSON array.

    A row that cannot be read is yielded as its :class:`DataError`.
    """
    name = str(path)
    suffix = path.suffix.lower()
    columns = dict(mapping.columns) if mapping else {}
    with open(path, "rb") as raw:
        if suffix == ".json":
            # Bad bytes become lone surrogates, which reject only the item holding them.
            text = raw.read().decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
            for index, item in SafeJson().items(text):
                source = f"{name}[{index}]"
                if index < 0 and isinstance(item, JsonProblem):
                    where = f"{name}:{item.line}" if item.line else name
                    message = item.message + (f" at column {item.column}" if item.column else "")
                    yield where, DataError(item.code, message, source=where)
                elif index < 0:
                    yield (
                        name,
                        DataError(
                            "ingest.not_a_list", "a .json file holds a list of records", source=name
                        ),
                    )
                elif isinstance(item, JsonProblem):
                    yield source, DataError(item.code, item.message, source=source, field=item.key)
                else:
                    yield source, _renamed(item, columns)
            return
        lines = TextLines(raw)
        if suffix == ".csv":
            yield from _csv_rows(lines, name, columns, lines.problems)
            return
        decoder = SafeJson()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            source = f"{name}:{number}"
            value = json_record(line, source, decoder, lines.problems.get(number))
            yield source, value if isinstance(value, DataError) else _renamed(value, columns)


def _renamed(item: Any, columns: Mapping[str, str]) -> Any:
    if isinstance(item, dict) and columns:
        return {columns.get(k, k): v for k, v in item.items()}
    return item


def _csv_rows(
    lines: Iterable[str],
    name: str,
    columns: Mapping[str, str],
    problems: Mapping[int, tuple[str, str]],
) -> Iterator[tuple[str, Any]]:
    for row in csv_rows(lines, name, columns, problems):
        yield (row.source or name, row) if isinstance(row, DataError) else row


def _flatten_api_event(item: Mapping[str, Any], source: str) -> dict[str, Any]:
    """An Ed-Fi API studentSchoolAttendanceEvent resource as tierflow columns.

    Raises:
        DataError: A reference is not an object (``ingest.not_an_object``).
    """
    student = _ref(item, "studentReference", source).get("studentUniqueId")
    return {
        "student_id": student,
        "school_id": _ref(item, "schoolReference", source, _text(student)).get("schoolId"),
        "date": item.get("eventDate"),
        "category": item.get("attendanceEventCategoryDescriptor"),
        "reason": item.get("attendanceEventReason"),
        "duration": item.get("eventDuration"),
        "minutes": item.get("schoolAttendanceDuration"),
    }


def _not_an_object(source: str, item: Any) -> DataError:
    return DataError(
        "ingest.not_an_object", f"expected an object, got {type(item).__name__}", source=source
    )


def _missing_columns(
    path: Path, needed: tuple[str, ...], mapping: ColumnMapping | None
) -> DataError | None:
    if path.suffix.lower() != ".csv":
        return None
    columns = dict(mapping.columns) if mapping else {}
    with open(path, "rb") as raw:
        try:
            header = next(csv.reader(TextLines(raw)), [])
        except csv.Error:  # a header cell over the field limit: csv_rows rejects it
            return None
    have = {columns.get(h.strip(), h.strip()) for h in header}
    missing = [c for c in needed if c not in have]
    if missing:
        return DataError(
            "ingest.missing_column",
            f"missing column(s) {', '.join(missing)}; found {', '.join(sorted(have)) or 'none'}"
            + ("" if mapping else " (a column-mapping file can rename a vendor's columns)"),
            source=f"{path}:1",
        )
    return None


def _records(
    file: Path, needed: tuple[str, ...], mapping: ColumnMapping | None
) -> Iterator[tuple[str, dict[str, Any]] | DataError]:
    """Yield ``(source, record)`` of a CSV, JSON Lines or JSON file, or the error of a bad one.

    A CSV file missing one of the ``needed`` columns is a single ``ingest.missing_column``.
    """
    missing = _missing_columns(file, needed, mapping)
    if missing is not None:
        yield missing
        return
    for source, row in _rows(file, mapping):
        if isinstance(row, DataError):
            yield row
        elif not isinstance(row, dict):
            yield _not_an_object(source, row)
        else:
            yield source, row


def read_events(
    path: str | Path, *, mapping: ColumnMapping | str | Path | None = None
) -> Iterator[AttendanceEvent | DataError]:
    """Yield every attendance event of a file, or a :class:`DataError` for one that is bad.

    The format follows the file: ``.xml`` is an Ed-Fi interchange; ``.json`` / ``.jsonl``
    holds Ed-Fi API resources or tierflow's columns (told apart per record); ``.csv`` has
    tierflow's columns ``student_id, school_id, date, category, duration, minutes, reason``
    (``duration`` a fraction of a day, ``minutes`` minutes; both optional).

    Args:
        path: The file.
        mapping: A :class:`ColumnMapping` (or the path of a mapping file) for vendor exports.
    """
    file = Path(path)
    cmap = ColumnMapping.load(mapping) if isinstance(mapping, (str, Path)) else mapping
    if file.suffix.lower() == ".xml":
        yield from _xml_events(file, cmap)
        return
    extra = dict(cmap.categories) if cmap else None
    fmt = cmap.date_format if cmap else None
    for item in _records(file, ("student_id", "school_id", "date", "category"), cmap):
        if isinstance(item, DataError):
            yield item
            continue
        source, row = item
        try:
            flat = _flatten_api_event(row, source) if "studentReference" in row else row
        except DataError as err:
            yield err
            continue
        yield _edfi_event(flat, source, extra, fmt)


def read_enrollments(
    path: str | Path, *, mapping: ColumnMapping | str | Path | None = None
) -> Iterator[Enrollment | DataError]:
    """Yield every enrollment span of a file, or a :class:`DataError` for one that is bad.

    ``.xml``: Ed-Fi ``StudentSchoolAssociation``; ``.json``/``.jsonl``: Ed-Fi API
    ``studentSchoolAssociations`` or tierflow's columns; ``.csv``: ``student_id, school_id,
    entry_date, exit_date, calendar_id, grade, groups`` (groups separated by ``;``).
    """
    file = Path(path)
    cmap = ColumnMapping.load(mapping) if isinstance(mapping, (str, Path)) else mapping
    if file.suffix.lower() == ".xml":
        yield from _xml_enrollments(file)
        return
    fmt = cmap.date_format if cmap else None
    for item in _records(file, ("student_id", "school_id", "entry_date"), cmap):
        if isinstance(item, DataError):
            yield item
            continue
        source, row = item
        try:
            if "studentReference" in row:
                student = _ref(row, "studentReference", source).get("studentUniqueId")
                sid = _text(student)
                row = {
                    "student_id": student,
                    "school_id": _ref(row, "schoolReference", source, sid).get("schoolId"),
                    "entry_date": row.get("entryDate"),
                    "exit_date": row.get("exitWithdrawDate"),
                    "calendar_id": _ref(row, "calendarReference", source, sid).get("calendarCode"),
                    "grade": row.get("entryGradeLevelDescriptor"),
                }
        except DataError as err:
            yield err
            continue
        sid = _text(row.get("student_id"))
        try:
            for column in ("student_id", "school_id", "entry_date"):
                if _text(row.get(column)) is None:
                    raise DataError(
                        "ingest.missing_value",
                        f"{column} is missing",
                        student_id=sid,
                        source=source,
                        field=column,
                    )
            exit_text = _text(row.get("exit_date"))
            raw_groups = row.get("groups")
            if isinstance(raw_groups, str):
                groups = [g.strip() for g in raw_groups.split(";") if g.strip()]
            else:
                groups = [str(g) for g in _list(row, "groups", source, sid)]
            yield Enrollment(
                str(sid),
                str(_text(row["school_id"])),
                _date(str(row["entry_date"]), source, sid, "entry_date", fmt),
                _date(exit_text, source, sid, "exit_date", fmt) if exit_text else None,
                _text(row.get("calendar_id")),
                _grade(_text(row.get("grade"))),
                tuple(groups),
                source,
            )
        except DataError as err:
            yield err


def read_calendars(path: str | Path) -> CalendarSet:
    """Read school calendars from a file.

    ``.xml``: Ed-Fi ``CalendarDate`` rows ("Instructional day" and "Make-up day" count) and
    ``Session`` totals, which are checked against the dates; ``.json``/``.jsonl``: Ed-Fi API
    ``calendarDates`` or tierflow's columns; ``.csv``: ``calendar_id, date`` and optionally
    ``fraction`` (a shortened day) and ``school_id``. Every listed date of a tierflow file is an
    instructional day.
    """
    file = Path(path)
    if file.suffix.lower() == ".xml":
        return _xml_calendars(file)
    days: dict[str, set[dt.date]] = defaultdict(set)
    fractions: dict[str, dict[dt.date, float]] = defaultdict(dict)
    sources: dict[str, dict[dt.date, str]] = defaultdict(dict)
    schools: dict[str, str] = {}
    warnings: list[DataError] = []
    for item in _records(file, ("calendar_id", "date"), None):
        if isinstance(item, DataError):
            warnings.append(item)
            continue
        source, row = item
        try:
            if "calendarReference" in row:
                ref = _ref(row, "calendarReference", source)
                cal_id = _text(ref.get("calendarCode")) or _text(ref.get("schoolId"))
                school = _text(ref.get("schoolId")) or cal_id
                kinds = [
                    str(e.get("calendarEventDescriptor", "")).rsplit("#", 1)[-1].strip().lower()
                    for e in _list(row, "calendarEvents", source)
                    if isinstance(e, dict)
                ]
                instructional = any(k in _INSTRUCTIONAL for k in kinds)
                fraction = None
            else:
                cal_id = _text(row.get("calendar_id"))
                school = _text(row.get("school_id")) or cal_id
                instructional = True
                fraction = _number(row.get("fraction"), source, None, "fraction")
            if cal_id is None or _text(row.get("date")) is None:
                raise DataError(
                    "ingest.missing_value",
                    "a calendar date needs a calendar and a date",
                    source=source,
                )
            day = _date(str(row["date"]), source, None, "date", None)
            schools[cal_id] = str(school)
            days.setdefault(cal_id, set())
            if instructional:
                days[cal_id].add(day)
                if fraction is not None and fraction != 1:
                    fractions[cal_id][day] = fraction
                    sources[cal_id][day] = source
        except DataError as err:
            warnings.append(err)
    return _calendar_set(days, fractions, schools, [], warnings, sources)


# --- student groups ---------------------------------------------------------------------------

_GROUP_NAMES = frozenset(
    {"iep", "section_504", "english_learner", "foster", "homeless", "migrant",
     "economically_disadvantaged", "pregnant_or_parenting", "principal_earner", "severe_illness"}
)  # fmt: skip


def _groups_record(sid: str, values: Iterable[str], source: str) -> StudentGroups:
    groups: list[str] = []
    unmapped: list[str] = []
    for value in values:
        text = value.strip()
        if not text:
            continue
        group = text if text in _GROUP_NAMES else group_of(text)
        if group is None:
            unmapped.append(text)
        elif group not in groups:
            groups.append(group)
    return StudentGroups(sid, tuple(groups), tuple(unmapped), source)


def _api_group_values(item: Mapping[str, Any], source: str, sid: str | None) -> list[str]:
    values = [
        str(c.get("studentCharacteristicDescriptor", ""))
        for c in _list(item, "studentCharacteristics", source, sid)
        if isinstance(c, Mapping)
    ]
    lep = item.get("limitedEnglishProficiencyDescriptor")
    if isinstance(lep, str) and lep.rsplit("#", 1)[-1].strip().lower().startswith("limited"):
        values.append("english_learner")
    program = item.get("programReference")
    if isinstance(program, Mapping) and program.get("programName"):
        values.append(str(program["programName"]))
    if "specialEducationSettingDescriptor" in item or "ideaEligibility" in item:
        values.append("iep")
    return values


def read_groups(path: str | Path) -> Iterator[StudentGroups | DataError]:
    """Yield each student's groups from a file, or a :class:`DataError` for a bad record.

    ``.xml``: Ed-Fi ``StudentEducationOrganizationAssociation`` characteristics and student
    program associations (program names); ``.json``/``.jsonl``: the Ed-Fi API's
    ``studentEducationOrganizationAssociations`` (``studentCharacteristics``,
    ``limitedEnglishProficiencyDescriptor``) and program associations (special education
    means ``iep``); ``.csv``: ``student_id, groups`` (separated by ``;``). Values that map to
    no tierflow group are carried in ``unmapped`` for the report.
    """
    file = Path(path)
    name = str(file)
    if file.suffix.lower() == ".xml":
        tags = frozenset(
            {"StudentEducationOrganizationAssociation", "StudentProgramAssociation",
             "StudentSpecialEducationProgramAssociation"}
        )  # fmt: skip
        try:
            for line, rec in _xml_items(file, tags):
                if isinstance(rec, DataError):
                    yield rec
                    continue
                source = f"{name}:{line}"
                sid = rec.value("StudentUniqueId")
                if sid is None:
                    yield DataError(
                        "ingest.missing_value", "StudentUniqueId is missing", source=source
                    )
                    continue
                values = rec.values("StudentCharacteristic") + rec.values("ProgramName")
                if rec.tag == "StudentSpecialEducationProgramAssociation":
                    values.append("iep")
                lep = rec.value("LimitedEnglishProficiency")
                if lep and lep.rsplit("#", 1)[-1].strip().lower().startswith("limited"):
                    values.append("english_learner")
                yield _groups_record(sid, values, source)
        except xml.parsers.expat.ExpatError as exc:
            yield _xml_error(exc, name)
        return
    for item in _records(file, ("student_id", "groups"), None):
        if isinstance(item, DataError):
            yield item
            continue
        source, row = item
        try:
            if "studentReference" in row:
                sid = _text(_ref(row, "studentReference", source).get("studentUniqueId"))
                values = _api_group_values(row, source, sid)
            else:
                sid = _text(row.get("student_id"))
                raw = row.get("groups")
                values = (
                    raw.split(";") if isinstance(raw, str) else _list(row, "groups", source, sid)
                )
        except DataError as err:
            yield err
            continue
        if sid is None:
            yield DataError("ingest.missing_value", "student_id is missing", source=source)
            continue
        yield _groups_record(sid, [str(v) for v in values], source)
