"""Each student's family contact: whom a notice goes to, where, and in which language.

Read from tierflow's columns (CSV, JSON Lines, JSON; a column mapping renames a vendor's) or
an Ed-Fi ``InterchangeContact`` file (Data Standard 5.x ``Contact`` and
``StudentContactAssociation``; the 3.x names ``Parent`` and ``StudentParentAssociation`` too).
A family's language is read into the canonical form of
:func:`tierflow.notices.language_code` (``es``, ``es-MX``); a contact without one, or with one
tierflow does not recognise, is kept with the fallback language and a warning in the report,
never silently. Like :mod:`tierflow.ingest._people`, a problem is reported with the file,
line and student id, never with the name or address it concerns.

An Ed-Fi file is streamed record by record, but the contacts and links it holds are kept until
its end before each student's contact is chosen: a link may come before the contact it names.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierflow.errors import DataError, DataReport
from tierflow.ingest._rows import records
from tierflow.ingest._xml import Node, xml_error, xml_items
from tierflow.notices import DEFAULT_LANGUAGE, FamilyContact, language_code
from tierflow.spec import ColumnMapping

__all__ = ["Contacts", "read_contacts"]

_CONTACT_TAGS = frozenset({"Contact", "Parent"})
_LINK_TAGS = frozenset({"StudentContactAssociation", "StudentParentAssociation"})
# Ed-Fi LanguageUse values, best first: the language to write to a family in.
_USES = ("correspondence", "home", "dominant", "native", "spoken", "written")
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0", ""})
_LAST = 1 << 31  # the priority of a contact that states none: after every stated one


@dataclass
class Contacts(Mapping[str, FamilyContact]):
    """Family contacts read from a file: a mapping of student id to :class:`FamilyContact`.

    Attributes:
        contacts: Each student's contact, by student id.
        report: Its rejects are the records that could not be read (file, line, student id,
            why; no names or addresses); its warnings name each contact kept with the
            fallback language (``ingest.missing_language``, ``ingest.unknown_language``); its
            ``ignored`` notes name every other contact of a student that was not chosen.
    """

    contacts: dict[str, FamilyContact] = field(default_factory=dict)
    report: DataReport = field(default_factory=DataReport)

    def __getitem__(self, student_id: str) -> FamilyContact:
        return self.contacts[student_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.contacts)

    def __len__(self) -> int:
        return len(self.contacts)

    def languages(self) -> dict[str, str]:
        """Each student's family language, for :func:`tierflow.notices.language_shares`."""
        return {sid: contact.language for sid, contact in self.contacts.items()}


@dataclass(frozen=True)
class _Candidate:
    """One contact of a student, before the primary one is chosen."""

    student_id: str
    contact: FamilyContact
    source: str
    primary: bool
    priority: int
    language_note: DataError | None

    def rank(self, order: int) -> tuple[int, int, int]:
        return (0 if self.primary else 1, self.priority, order)


def _text(item: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        value = item.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return ""


def _language(written: str, default: str, sid: str, source: str) -> tuple[str, DataError | None]:
    """The canonical language, or the fallback with the warning that says why."""
    if not written:
        return default, DataError(
            "ingest.missing_language",
            f"no language given: notices go in {default!r}",
            student_id=sid,
            source=source,
            field="language",
        )
    code = language_code(written)
    if code is None:
        shown = written if len(written) <= 40 else written[:40] + "..."
        return default, DataError(
            "ingest.unknown_language",
            f"language {shown!r} is not one tierflow reads: notices go in {default!r} "
            "(write an ISO 639 code such as 'es' or 'es-MX', or the language's name)",
            student_id=sid,
            source=source,
            field="language",
        )
    return code, None


def _last_line(city: str, state: str, postal: str) -> str:
    """``Anaheim, CA 92801``: the city, state and postal code line of a US address."""
    tail = " ".join(part for part in (state, postal) if part)
    return ", ".join(part for part in (city, tail) if part)


def _priority(written: str, sid: str, source: str) -> int:
    if not written:
        return _LAST
    try:
        return int(written)
    except ValueError:
        raise DataError(
            "ingest.invalid_value",
            f"the contact priority {written[:20]!r} is not a whole number",
            student_id=sid,
            source=source,
            field="priority",
        ) from None


def _flag(written: str, sid: str, source: str, name: str) -> bool:
    lowered = written.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise DataError(
        "ingest.invalid_value",
        f"{name} {written[:20]!r} is not true or false",
        student_id=sid,
        source=source,
        field=name,
    )


def _row_candidate(source: str, row: Mapping[str, Any], default: str) -> _Candidate:
    sid = _text(row, "student_id", "studentUniqueId", "StudentUniqueId")
    if not sid:
        raise DataError("ingest.missing_value", "the record has no student id", source=source)
    name = _text(row, "name") or " ".join(
        part for part in (_text(row, "first_name"), _text(row, "last_name")) if part
    )
    if not name:
        raise DataError(
            "ingest.missing_value",
            "the contact has no name (name, or first_name and last_name)",
            student_id=sid,
            source=source,
            field="name",
        )
    language, note = _language(_text(row, "language"), default, sid, source)
    lines = [_text(row, "address_1"), _text(row, "address_2")]
    lines.append(_last_line(_text(row, "city"), _text(row, "state"), _text(row, "postal_code")))
    contact = FamilyContact(
        name=name,
        language=language,
        address_lines=tuple(line for line in lines if line),
        email=_text(row, "email"),
        phone=_text(row, "phone"),
    )
    return _Candidate(
        sid,
        contact,
        source,
        _flag(_text(row, "primary"), sid, source, "primary"),
        _priority(_text(row, "priority"), sid, source),
        note,
    )


def _children(node: Node, tag: str) -> list[Node]:
    return [child for child in node.children if child.tag == tag]


def _descriptor(text: str | None) -> str:
    """The code value of an Ed-Fi descriptor (the part of a URI after ``#``)."""
    return (text or "").rsplit("#", 1)[-1].strip()


def _xml_language(contact: Node) -> str:
    best: tuple[int, int, str] | None = None
    for order, entry in enumerate(_children(contact, "Language")):
        written = entry.value("Language") or ""
        uses = [_descriptor(u).lower() for u in entry.values("LanguageUse")]
        rank = min(
            (i for i, use in enumerate(_USES) for u in uses if u.startswith(use)),
            default=len(_USES),
        )
        if written and (best is None or (rank, order) < best[:2]):
            best = (rank, order, written)
    return best[2] if best else ""


def _xml_address(contact: Node, prefer: tuple[str, ...] = ("mailing", "home")) -> tuple[str, ...]:
    """A record's address lines: the first ``AddressType`` in ``prefer``, else the first."""
    addresses = _children(contact, "Address")
    kinds = [_descriptor(a.value("AddressType")).lower() for a in addresses]
    picks = [addresses[kinds.index(k)] for k in prefer if k in kinds] + addresses
    chosen = picks[0] if picks else None
    if chosen is not None:
        lines = [
            " ".join(v for v in map(chosen.value, ("BuildingSiteNumber", "StreetNumberName")) if v),
            chosen.value("ApartmentRoomSuiteNumber") or "",
            _last_line(
                chosen.value("City") or "",
                _descriptor(chosen.value("StateAbbreviation")),
                chosen.value("PostalCode") or "",
            ),
        ]
        return tuple(line for line in lines if line)
    for abroad in _children(contact, "InternationalAddress"):
        lines = [abroad.value(f"AddressLine{i}") or "" for i in range(1, 5)]
        lines.append(_descriptor(abroad.value("Country")))
        return tuple(line for line in lines if line)
    return ()


def _xml_phone(contact: Node) -> str:
    phones: list[tuple[int, int, str]] = []
    for order, phone in enumerate(_children(contact, "Telephone")):
        number = phone.value("TelephoneNumber")
        if not number or "fax" in _descriptor(phone.value("TelephoneNumberType")).lower():
            continue  # a fax number cannot take a call
        priority = phone.value("OrderOfPriority") or ""
        # ASCII digits only, and few: int() raises on "²" and on text of 4,300 digits or more.
        ranked = int(priority) if re.fullmatch(r"[0-9]{1,9}", priority) else _LAST
        phones.append((ranked, order, number))
    return min(phones)[2] if phones else ""


def _xml_email(contact: Node) -> str:
    emails = [
        (0 if (e.value("PrimaryEmailAddressIndicator") or "").lower() in _TRUE else 1, i, a)
        for i, e in enumerate(_children(contact, "ElectronicMail"))
        if (a := e.value("ElectronicMailAddress"))
    ]
    return min(emails)[2] if emails else ""


@dataclass(frozen=True)
class _XmlContact:
    unique_id: str
    name: str
    language: str
    address_lines: tuple[str, ...]
    email: str
    phone: str


def _xml_contact(rec: Node, source: str) -> _XmlContact:
    unique_id = rec.value("ContactUniqueId") or rec.value("ParentUniqueId") or ""
    if not unique_id:
        raise DataError("ingest.missing_value", "the contact has no ContactUniqueId", source=source)
    name_node = next(iter(_children(rec, "Name")), rec)
    parts = ("FirstName", "MiddleName", "LastSurname", "GenerationCodeSuffix")
    name = " ".join(v for v in (name_node.value(p) for p in parts) if v)
    if not name:
        raise DataError(
            "ingest.missing_value",
            f"contact {unique_id} has no name (FirstName, LastSurname)",
            source=source,
            field="Name",
        )
    return _XmlContact(
        unique_id,
        name,
        _xml_language(rec),
        _xml_address(rec),
        _xml_email(rec),
        _xml_phone(rec),
    )


def _xml_candidates(
    path: Path, default: str, report: DataReport
) -> Iterator[_Candidate | DataError]:
    """Every association's candidate contact (or its error), once the whole file is read."""
    name = str(path)
    by_ref: dict[str, _XmlContact] = {}
    by_unique_id: dict[str, _XmlContact] = {}
    links: list[tuple[str, Node]] = []
    try:
        for line, rec in xml_items(path, _CONTACT_TAGS | _LINK_TAGS):
            source = f"{name}:{line}"
            if isinstance(rec, DataError):
                yield rec
            elif rec.tag in _CONTACT_TAGS:
                try:
                    found = _xml_contact(rec, source)
                except DataError as exc:
                    yield exc
                    continue
                by_unique_id[found.unique_id] = found
                if "id" in rec.attrs:
                    by_ref[rec.attrs["id"]] = found
            else:
                links.append((source, rec))
    except xml.parsers.expat.ExpatError as exc:
        yield xml_error(exc, name)
        return
    used: set[str] = set()
    for source, link in links:
        sid = link.value("StudentUniqueId") or ""
        if not sid:
            yield DataError("ingest.missing_value", "the link has no student id", source=source)
            continue
        ref = next(
            (n for n in link.children if n.tag in ("ContactReference", "ParentReference")), None
        )
        key = ref.attrs.get("ref", "") if ref is not None else ""
        unique = (ref.value("ContactUniqueId") or ref.value("ParentUniqueId") or "") if ref else ""
        contact = by_ref.get(key) or by_unique_id.get(unique)
        if contact is None:
            yield DataError(
                "ingest.unknown_contact",
                "the link names a contact the file does not hold (or one that could not be read)",
                student_id=sid,
                source=source,
                field="ContactReference",
            )
            continue
        try:
            primary = _flag(link.value("PrimaryContactStatus") or "", sid, source, "primary")
            priority = _priority(link.value("ContactPriority") or "", sid, source)
        except DataError as exc:
            yield exc
            continue
        used.add(contact.unique_id)
        language, note = _language(contact.language, default, sid, source)
        family = FamilyContact(
            contact.name, language, contact.address_lines, contact.email, contact.phone
        )
        yield _Candidate(sid, family, source, primary, priority, note)
    unlinked = len(by_unique_id.keys() - used)
    if unlinked:
        report.ignored.append(f"{name}: {unlinked} contact(s) linked to no student, not used")


def read_contacts(
    path: str | Path,
    *,
    report: DataReport | None = None,
    mapping: ColumnMapping | str | Path | None = None,
    default_language: str = DEFAULT_LANGUAGE,
) -> Contacts:
    """Read each student's family contact: name, language, mailing address, email, phone.

    Formats, by the file's suffix: ``.csv`` with a header ``student_id, name, language,
    address_1, address_2, city, state, postal_code, email, phone`` (``name`` may be
    ``first_name`` and ``last_name``; optional ``primary`` (true/false) and ``priority`` (a
    whole number, lowest first)); ``.jsonl`` / ``.json`` with the same keys; ``.xml``, an Ed-Fi
    ``InterchangeContact`` (5.x) or its 3.x ``Parent`` form. From Ed-Fi: the name is
    ``FirstName MiddleName LastSurname``; the address the ``Mailing`` one, else ``Home``, else
    the first, as ``StreetNumberName`` / ``ApartmentRoomSuiteNumber`` / ``City, ST zip``; the
    phone the lowest ``OrderOfPriority`` that is not a fax; the email the primary one; the
    language the one whose ``LanguageUse`` is correspondence, else home, dominant, native,
    spoken, written, else the first.

    A student with several contacts gets one: a primary contact (``primary`` /
    ``PrimaryContactStatus`` true) before others, then the lowest ``priority`` /
    ``ContactPriority``, then the first in the file; the others are named in the report's
    ``ignored`` notes. A contact without a readable language is kept with
    ``default_language`` and a warning. A record that cannot be read is rejected, with its
    file, line and student id, and the rest is read on. The report counts one record per
    student kept and one per record rejected.

    Args:
        path: The contacts file.
        report: The report to fill, as :attr:`Contacts.report` (default: a new report).
        mapping: A :class:`~tierflow.spec.ColumnMapping` (or the path of a mapping file)
            renaming a vendor's columns (CSV and JSON Lines).
        default_language: The language of a family whose data gives none readable.

    Raises:
        OSError: The file cannot be opened.
        ValueError: ``default_language`` is not a language :func:`language_code` reads.
    """
    default = language_code(default_language)
    if default is None:
        raise ValueError(f"default_language {default_language!r} is not a language code")
    file = Path(path)
    found = Contacts(report=DataReport() if report is None else report)
    items: Iterator[_Candidate | DataError]
    if file.suffix.lower() == ".xml":
        items = _xml_candidates(file, default, found.report)
    else:
        cmap = ColumnMapping.load(mapping) if isinstance(mapping, (str, Path)) else mapping
        items = _row_candidates(file, cmap, default)
    chosen: dict[str, tuple[tuple[int, int, int], _Candidate]] = {}
    passed: list[_Candidate] = []
    for order, item in enumerate(items):
        if isinstance(item, DataError):
            found.report.reject(item)
            continue
        rank = item.rank(order)
        held = chosen.get(item.student_id)
        if held is None:
            chosen[item.student_id] = (rank, item)
        elif rank < held[0]:
            passed.append(held[1])
            chosen[item.student_id] = (rank, item)
        else:
            passed.append(item)
    for loser in passed:
        winner = chosen[loser.student_id][1]
        found.report.ignored.append(
            f"{loser.source}, student {loser.student_id}: another contact "
            f"({winner.source}) comes first (primary, then priority, then file order)"
        )
    for sid, (_, candidate) in chosen.items():
        found.contacts[sid] = candidate.contact
        found.report.accept()
        if candidate.language_note is not None:
            found.report.warnings.append(candidate.language_note)
    return found


def _row_candidates(
    file: Path, cmap: ColumnMapping | None, default: str
) -> Iterator[_Candidate | DataError]:
    for item in records(file, ("student_id",), cmap):
        if isinstance(item, DataError):
            yield item
            continue
        source, row = item
        try:
            yield _row_candidate(source, row, default)
        except DataError as exc:
            yield exc
