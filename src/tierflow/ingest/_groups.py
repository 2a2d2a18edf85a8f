"""Read student groups (IEP, English learner, foster...): Ed-Fi XML or API JSON, or CSV."""

from __future__ import annotations

import xml.parsers.expat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from tierflow.attendance import StudentGroups, group_of
from tierflow.errors import DataError, DataReport
from tierflow.facts import GROUPS
from tierflow.ingest._reported import reported
from tierflow.ingest._rows import converted
from tierflow.ingest._values import list_of, reference, text_of
from tierflow.ingest._xml import xml_error, xml_items

__all__ = ["read_groups"]


_GROUP_NAMES = frozenset(GROUPS)


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
        for c in list_of(item, "studentCharacteristics", source, sid)
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


def read_groups(path: str | Path, *, report: DataReport | None = None) -> Iterator[StudentGroups]:
    """Yield each student's groups from a file; a bad record goes to ``report``.

    ``.xml``: Ed-Fi ``StudentEducationOrganizationAssociation`` characteristics and student
    program associations (program names); ``.json``/``.jsonl``: the Ed-Fi API's
    ``studentEducationOrganizationAssociations`` (``studentCharacteristics``,
    ``limitedEnglishProficiencyDescriptor``) and program associations (special education
    means ``iep``); ``.csv``: ``student_id, groups`` (separated by ``;``). Values that map to
    no tierflow group are carried in ``unmapped`` for the report.

    Args:
        path: The file.
        report: Where a record that cannot be read goes (counted as read and rejected); the
            stream goes on. Without one, the first such record is raised.

    Raises:
        DataError: A record cannot be read and no ``report`` was given.
    """
    yield from reported(_groups(Path(path)), report)


def _groups(file: Path) -> Iterator[StudentGroups | DataError]:
    name = str(file)
    if file.suffix.lower() == ".xml":
        tags = frozenset(
            {
                "StudentEducationOrganizationAssociation",
                "StudentProgramAssociation",
                "StudentSpecialEducationProgramAssociation",
            }
        )
        try:
            for line, rec in xml_items(file, tags):
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
            yield xml_error(exc, name)
        return

    def groups(source: str, row: dict[str, Any]) -> StudentGroups | DataError:
        if "studentReference" in row:
            sid = text_of(reference(row, "studentReference", source).get("studentUniqueId"))
            values = _api_group_values(row, source, sid)
        else:
            sid = text_of(row.get("student_id"))
            raw = row.get("groups")
            values = raw.split(";") if isinstance(raw, str) else list_of(row, "groups", source, sid)
        if sid is None:
            return DataError("ingest.missing_value", "student_id is missing", source=source)
        return _groups_record(sid, [str(v) for v in values], source)

    yield from converted(file, ("student_id", "groups"), None, groups)
