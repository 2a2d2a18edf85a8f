"""A :class:`Person` holds what its fields say it holds, so every export can print it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tierflow.ingest import Person


@pytest.mark.parametrize(
    ("kwargs", "field", "kind"),
    [
        ({"birth_date": "2008-09-13"}, "birth_date", "str"),
        ({"birth_date": 20080913}, "birth_date", "int"),
        ({"name": None}, "name", "NoneType"),
        ({"student_id": 17}, "student_id", "int"),
    ],
)
def test_a_field_of_the_wrong_type_is_refused_at_construction(
    kwargs: dict[str, Any], field: str, kind: str
) -> None:
    # Before: Person("s1", "Lisa Woods", "2008-09-13") was built, and describe() (every packet
    # and compliance report with --include-pii) died with AttributeError on str.isoformat.
    values: dict[str, Any] = {"student_id": "s1", "name": "Lisa Woods", **kwargs}
    with pytest.raises(TypeError) as caught:
        Person(**values)
    assert str(caught.value).startswith(f"Person.{field} must be ")
    assert str(caught.value).endswith(f", got {kind}")
    assert "2008" not in str(caught.value)  # a date of birth is personal: never in a message


def test_a_datetime_birth_date_is_kept_as_its_date() -> None:
    person = Person("s1", "Lisa Sybil Woods", dt.datetime(2008, 9, 13, 23, 59))
    assert person.birth_date == dt.date(2008, 9, 13)
    assert type(person.birth_date) is dt.date
    assert person.describe() == "Lisa Sybil Woods, born 2008-09-13"


def test_describe_without_a_birth_date_is_the_name() -> None:
    assert Person("s1", "Lisa Sybil Woods").describe() == "Lisa Sybil Woods"
    assert Person("s1", "Lisa Sybil Woods", dt.date(2008, 9, 13)).describe() == (
        "Lisa Sybil Woods, born 2008-09-13"
    )


def test_a_refused_xml_record_is_one_reject_and_the_roster_reads_on(tmp_path: Any) -> None:
    # The second Student nests 100 elements (more than the readers' depth bound): it is one
    # reject at its line, and the third student is still read (the roster stopped there).
    from tierflow.ingest import read_people

    deep = "<x>" * 100 + "</x>" * 100
    students = [
        "<Student><StudentUniqueId>s1</StudentUniqueId><FirstName>Ana</FirstName>"
        "<LastSurname>Ruiz</LastSurname></Student>",
        f"<Student><StudentUniqueId>s2</StudentUniqueId>{deep}</Student>",
        "<Student><StudentUniqueId>s3</StudentUniqueId><FirstName>Bo</FirstName>"
        "<LastSurname>Li</LastSurname></Student>",
    ]
    roster = tmp_path / "students.xml"
    roster.write_text("<InterchangeStudent>\n" + "\n".join(students) + "\n</InterchangeStudent>\n")
    found = read_people(roster)
    assert sorted(found.people) == ["s1", "s3"]
    assert [(e.code, e.source) for e in found.report.rejects] == [
        ("ingest.too_deep", f"{roster}:3")
    ]
