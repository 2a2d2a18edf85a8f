"""Students' names and dates of birth, read from a roster the host passes, for exports only.

The store holds student ids and nothing personal. An export (a packet, the compliance report)
prints names and dates of birth only when it is asked to (``include_personal=True``, or
``--include-pii`` on the command line), taking them from a roster the host reads with
:func:`read_people`. Problems with a roster record are reported with the file, line and
student id, never with the name or date of birth they concern.
"""

from __future__ import annotations

import datetime as dt
import xml.parsers.expat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierflow.errors import DataError, DataReport
from tierflow.ingest._rows import rows
from tierflow.ingest._values import not_an_object
from tierflow.ingest._xml import xml_error, xml_items

__all__ = ["People", "Person", "read_people"]

_KEYS = {
    "student_id": ("student_id", "studentUniqueId", "StudentUniqueId"),
    "name": ("name",),
    "first": ("first_name", "firstName", "FirstName"),
    "middle": ("middle_name", "middleName", "MiddleName"),
    "last": ("last_name", "lastSurname", "LastSurname"),
    "birth": ("birth_date", "birthDate", "BirthDate"),
}


@dataclass(frozen=True)
class Person:
    """What an export may print about a student when asked to.

    Attributes:
        student_id: The student.
        name: The full name as it should be printed.
        birth_date: The date of birth, if the roster gives one.
        first_name: The given name, when the roster gives names in parts ("" otherwise).
        last_name: The surname, when the roster gives names in parts ("" otherwise).
    """

    student_id: str
    name: str
    birth_date: dt.date | None = None
    first_name: str = ""
    last_name: str = ""

    def __post_init__(self) -> None:
        """Refuse a field of the wrong type here, not later in an export.

        A ``datetime`` birth date is kept as its date. The message names the field and the
        type, never the value: a name or date of birth is personal data.

        Raises:
            TypeError: ``student_id`` or ``name`` is not text, or ``birth_date`` is not a
                date (text such as ``"2008-09-13"`` included: parse it first) or None.
        """
        for attr in ("student_id", "name", "first_name", "last_name"):
            if not isinstance(getattr(self, attr), str):
                kind = type(getattr(self, attr)).__name__
                raise TypeError(f"Person.{attr} must be str, got {kind}")
        born = self.birth_date
        if isinstance(born, dt.datetime):
            object.__setattr__(self, "birth_date", born.date())
        elif born is not None and not isinstance(born, dt.date):
            raise TypeError(
                f"Person.birth_date must be a datetime.date or None, got {type(born).__name__}"
            )

    def describe(self) -> str:
        """``Lisa Sybil Woods, born 2008-09-13`` (the name alone without a birth date)."""
        born = f", born {self.birth_date.isoformat()}" if self.birth_date else ""
        return f"{self.name}{born}"


@dataclass
class People:
    """A roster read from a file: people by student id, and what happened to every record.

    Attributes:
        people: Each student's :class:`Person`, by student id.
        report: Its rejects are the records that could not be read (file, line, student id
            and why; no names); its ``ignored`` notes name the records of a student listed
            again, as ``file:line, student ID: ...`` (the first record is kept; a later one is
            named there, not used, and not counted as read).
    """

    people: dict[str, Person] = field(default_factory=dict)
    report: DataReport = field(default_factory=DataReport)


def _first(item: Mapping[str, Any], key: str) -> str | None:
    for name in _KEYS[key]:
        value = item.get(name)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _person(item: Mapping[str, Any], source: str) -> Person:
    sid = _first(item, "student_id")
    if sid is None:
        raise DataError("ingest.missing_value", "the record has no student id", source=source)
    name = _first(item, "name") or " ".join(
        part for part in (_first(item, k) for k in ("first", "middle", "last")) if part
    )
    if not name:
        raise DataError(
            "ingest.missing_value",
            "the record has no name (name, or first_name and last_name)",
            student_id=sid,
            source=source,
            field="name",
        )
    birth_text = _first(item, "birth")
    birth = None
    if birth_text is not None:
        try:
            birth = dt.date.fromisoformat(birth_text[:10])
        except ValueError:
            # The value itself is personal data: name the field, not what it held.
            raise DataError(
                "ingest.invalid_date",
                "the birth date is not a date YYYY-MM-DD",
                student_id=sid,
                source=source,
                field="birth_date",
            ) from None
    return Person(sid, name, birth, _first(item, "first") or "", _first(item, "last") or "")


def _xml_people(path: Path) -> Iterator[tuple[str, Mapping[str, Any] | DataError]]:
    name = str(path)
    try:
        for line, rec in xml_items(path, frozenset({"Student"})):
            if isinstance(rec, DataError):  # too deep or too much text: this record only
                yield f"{name}:{line}", rec
                continue
            yield (
                f"{name}:{line}",
                {
                    key: rec.value(key)
                    for key in (
                        "StudentUniqueId",
                        "FirstName",
                        "MiddleName",
                        "LastSurname",
                        "BirthDate",
                    )
                },
            )
    except xml.parsers.expat.ExpatError as exc:
        error = xml_error(exc, name)
        yield error.source or name, error


def read_people(path: str | Path, *, report: DataReport | None = None) -> People:
    """Read a roster of students' names and dates of birth.

    Formats, by the file's suffix: ``.csv`` with a header (``student_id``, then ``name`` or
    ``first_name``, ``middle_name``, ``last_name``, and ``birth_date`` as YYYY-MM-DD,
    optional); ``.json`` (a list of such objects) or ``.jsonl`` (one a line), Ed-Fi API
    spellings (``studentUniqueId``, ``firstName``, ``lastSurname``, ``birthDate``) accepted
    too; ``.xml``, an Ed-Fi ``InterchangeStudent`` file (``Student`` records).

    A record that cannot be read is rejected in :attr:`People.report` and the rest is read; a
    student listed again keeps the first record, and the later one is named in the report's
    ``ignored`` notes.

    Args:
        path: The roster file.
        report: The report to fill, as :attr:`People.report` (default: a new report).

    Raises:
        OSError: The file cannot be opened.
    """
    file = Path(path)
    found_rows: Iterator[tuple[str, Any]]
    found_rows = _xml_people(file) if file.suffix.lower() == ".xml" else rows(file, None)
    found = People(report=DataReport() if report is None else report)
    sources: dict[str, str] = {}
    for source, row in found_rows:
        try:
            if isinstance(row, DataError):
                raise row
            if not isinstance(row, Mapping):
                raise not_an_object(source, row)
            person = _person(row, source)
            if person.student_id in found.people:
                found.report.ignored.append(
                    f"{source}, student {person.student_id}: listed again; the first record "
                    f"({sources[person.student_id]}) is kept"
                )
                continue
            found.people[person.student_id] = person
            sources[person.student_id] = source
            found.report.accept()
        except DataError as exc:
            found.report.reject(exc)
    return found
