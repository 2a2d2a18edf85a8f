"""Schools' names, addresses and phone numbers, for the letterhead of a notice.

Read from tierflow's columns (CSV, JSON Lines, JSON; a column mapping renames a vendor's) or
an Ed-Fi ``InterchangeEducationOrganization`` file (its ``School`` records).
"""

from __future__ import annotations

import xml.parsers.expat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierflow.errors import DataError, DataReport
from tierflow.ingest._contacts import _children, _descriptor, _last_line, _text, _xml_address
from tierflow.ingest._rows import records
from tierflow.ingest._xml import Node, xml_error, xml_items
from tierflow.notices import SchoolInfo
from tierflow.spec import ColumnMapping

__all__ = ["Schools", "read_schools"]


@dataclass
class Schools(Mapping[str, SchoolInfo]):
    """Schools read from a file: a mapping of school id to :class:`SchoolInfo`.

    Attributes:
        schools: Each school, by id.
        report: Its rejects are the records that could not be read; its ``ignored`` notes
            name a school listed again (the first record is kept).
    """

    schools: dict[str, SchoolInfo] = field(default_factory=dict)
    report: DataReport = field(default_factory=DataReport)

    def __getitem__(self, school_id: str) -> SchoolInfo:
        return self.schools[school_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.schools)

    def __len__(self) -> int:
        return len(self.schools)


def _row_school(source: str, row: Mapping[str, Any]) -> tuple[str, SchoolInfo]:
    school_id = _text(row, "school_id", "schoolId", "SchoolId")
    if not school_id:
        raise DataError("ingest.missing_value", "the record has no school id", source=source)
    name = _text(row, "name", "nameOfInstitution")
    if not name:
        raise DataError(
            "ingest.missing_value",
            f"school {school_id} has no name",
            source=source,
            field="name",
        )
    lines = [_text(row, "address_1"), _text(row, "address_2")]
    lines.append(_last_line(_text(row, "city"), _text(row, "state"), _text(row, "postal_code")))
    return school_id, SchoolInfo(name, tuple(x for x in lines if x), _text(row, "phone"))


def _xml_phone(school: Node) -> str:
    phones: list[tuple[int, int, str]] = []
    for order, phone in enumerate(_children(school, "InstitutionTelephone")):
        number = phone.value("TelephoneNumber")
        kind = _descriptor(phone.value("InstitutionTelephoneNumberType")).lower()
        if number and "fax" not in kind:  # a fax number cannot take a family's call
            phones.append((0 if kind == "main" else 1, order, number))
    return min(phones)[2] if phones else ""


def _xml_school(rec: Node, source: str) -> tuple[str, SchoolInfo]:
    school_id = next((c.text.strip() for c in _children(rec, "SchoolId")), "")
    school_id = school_id or rec.value("StateOrganizationId") or ""
    if not school_id:
        raise DataError("ingest.missing_value", "the School has no SchoolId", source=source)
    name = rec.value("NameOfInstitution") or ""
    if not name:
        raise DataError(
            "ingest.missing_value",
            f"school {school_id} has no NameOfInstitution",
            source=source,
            field="NameOfInstitution",
        )
    address = _xml_address(rec, ("mailing", "physical"))
    return school_id, SchoolInfo(name, address, _xml_phone(rec))


def _xml_schools(path: Path) -> Iterator[tuple[str, SchoolInfo, str] | DataError]:
    name = str(path)
    try:
        for line, rec in xml_items(path, frozenset({"School"})):
            if isinstance(rec, DataError):
                yield rec
                continue
            source = f"{name}:{line}"
            try:
                yield (*_xml_school(rec, source), source)
            except DataError as exc:
                yield exc
    except xml.parsers.expat.ExpatError as exc:
        yield xml_error(exc, name)


def read_schools(
    path: str | Path,
    *,
    report: DataReport | None = None,
    mapping: ColumnMapping | str | Path | None = None,
) -> Schools:
    """Read schools' names, addresses and phone numbers.

    Formats, by the file's suffix: ``.csv`` with a header ``school_id, name, address_1,
    address_2, city, state, postal_code, phone``; ``.jsonl`` / ``.json`` with the same keys;
    ``.xml``, an Ed-Fi ``InterchangeEducationOrganization`` (its ``School`` records: ``SchoolId``,
    ``NameOfInstitution``, the ``Mailing`` address, else the ``Physical`` one, as mail to the
    school is addressed, and the ``Main`` phone, else the first that is not a fax).

    A record that cannot be read is rejected in :attr:`Schools.report` with its file and line,
    and the rest is read; a school listed again keeps its first record (the later one is named
    in the report's ``ignored`` notes).

    Args:
        path: The schools file.
        report: The report to fill, as :attr:`Schools.report` (default: a new report).
        mapping: A :class:`~tierflow.spec.ColumnMapping` (or the path of a mapping file)
            renaming a vendor's columns (CSV and JSON Lines).

    Raises:
        OSError: The file cannot be opened.
    """
    file = Path(path)
    found = Schools(report=DataReport() if report is None else report)
    items: Iterator[tuple[str, SchoolInfo, str] | DataError]
    if file.suffix.lower() == ".xml":
        items = _xml_schools(file)
    else:
        cmap = ColumnMapping.load(mapping) if isinstance(mapping, (str, Path)) else mapping
        items = _row_schools(file, cmap)
    first: dict[str, str] = {}
    for item in items:
        if isinstance(item, DataError):
            found.report.reject(item)
            continue
        school_id, school, source = item
        if school_id in found.schools:
            found.report.ignored.append(
                f"{source}, school {school_id}: listed again; the first record "
                f"({first[school_id]}) is kept"
            )
            continue
        found.schools[school_id] = school
        first[school_id] = source
        found.report.accept()
    return found


def _row_schools(
    file: Path, cmap: ColumnMapping | None
) -> Iterator[tuple[str, SchoolInfo, str] | DataError]:
    for item in records(file, ("school_id",), cmap):
        if isinstance(item, DataError):
            yield item
            continue
        source, row = item
        try:
            yield (*_row_school(source, row), source)
        except DataError as exc:
            yield exc
