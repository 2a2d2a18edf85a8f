"""Family contacts: whom a notice goes to, where, and in which language.

Expected contacts are written out by hand from the small files each test writes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tierflow import DataReport
from tierflow.ingest import Contacts, read_contacts
from tierflow.notices import FamilyContact
from tierflow.spec import ColumnMapping

HEADER = "student_id,name,language,address_1,address_2,city,state,postal_code,email,phone\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_csv_row_becomes_the_family_contact(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "families.csv",
        HEADER
        + "s1,María López,Spanish,12 Oak St,Apt 4,Anaheim,CA,92801,ml@example.org,555-0101\n"
        + "s2,Lan Tran,vie,9 Elm Ave,,Anaheim,CA,92805,,\n",
    )
    found = read_contacts(path)
    assert isinstance(found, Contacts)
    assert dict(found) == {
        "s1": FamilyContact(
            "María López",
            "es",
            ("12 Oak St", "Apt 4", "Anaheim, CA 92801"),
            "ml@example.org",
            "555-0101",
        ),
        "s2": FamilyContact("Lan Tran", "vi", ("9 Elm Ave", "Anaheim, CA 92805")),
    }
    assert found.languages() == {"s1": "es", "s2": "vi"}
    assert (found.report.read, found.report.accepted, found.report.warnings) == (2, 2, [])


def test_a_missing_or_unreadable_language_falls_back_with_a_warning(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "families.csv",
        HEADER + "s1,A B,,1 Main,,X,CA,1,,\ns2,C D,Klingon,2 Main,,X,CA,1,,\ns3,E F,es-mx,,,,,,,\n",
    )
    found = read_contacts(path)
    assert [found[s].language for s in ("s1", "s2", "s3")] == ["en", "en", "es-MX"]
    warnings = [(w.code, w.source, w.student_id, w.field) for w in found.report.warnings]
    assert warnings == [
        ("ingest.missing_language", f"{path}:2", "s1", "language"),
        ("ingest.unknown_language", f"{path}:3", "s2", "language"),
    ]
    assert "'en'" in str(found.report.warnings[0])
    # The district may choose another fallback; it is still reported.
    spanish = read_contacts(path, default_language="Spanish")
    assert spanish["s1"].language == "es"
    assert len(spanish.report.warnings) == 2
    with pytest.raises(ValueError, match="default_language"):
        read_contacts(path, default_language="Klingon")


def test_a_bad_row_is_rejected_with_file_line_and_student_and_the_rest_is_read(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path / "families.csv",
        "student_id,name,language,address_1,priority\n"
        ",Ana Secret,es,1 Hidden Rd,\n"
        "s2,,es,2 Hidden Rd,\n"
        "s3,Bo Secret,es,3 Hidden Rd,first\n"
        "s4,Cy Ok,en,4 Main,\n",
    )
    report = DataReport()
    found = read_contacts(path, report=report)
    assert found.report is report
    assert list(found) == ["s4"]
    rejects = [(r.code, r.source, r.student_id, r.field) for r in report.rejects]
    assert rejects == [
        ("ingest.missing_value", f"{path}:2", None, None),
        ("ingest.missing_value", f"{path}:3", "s2", "name"),
        ("ingest.invalid_value", f"{path}:4", "s3", "priority"),
    ]
    assert (report.read, report.accepted, report.rejected) == (4, 1, 3)
    for reject in report.rejects:  # names and addresses are personal data
        assert "Secret" not in str(reject) and "Hidden" not in str(reject)


def test_the_primary_contact_wins_then_the_lowest_priority_then_the_first(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path / "families.csv",
        "student_id,name,language,primary,priority\n"
        "s1,Second Parent,en,false,1\n"
        "s1,Primary Parent,es,true,5\n"
        "s2,Later Priority,en,,2\n"
        "s2,Lower Priority,vi,,1\n"
        "s3,First Listed,en,,\n"
        "s3,Listed Again,es,,\n",
    )
    found = read_contacts(path)
    assert {s: c.name for s, c in found.items()} == {
        "s1": "Primary Parent",
        "s2": "Lower Priority",
        "s3": "First Listed",
    }
    assert (found.report.read, found.report.accepted) == (3, 3)
    assert sorted(found.report.ignored) == [
        f"{path}:2, student s1: another contact ({path}:3) comes first "
        "(primary, then priority, then file order)",
        f"{path}:4, student s2: another contact ({path}:5) comes first "
        "(primary, then priority, then file order)",
        f"{path}:7, student s3: another contact ({path}:6) comes first "
        "(primary, then priority, then file order)",
    ]


def test_a_column_mapping_renames_a_vendor_export(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "vendor.csv",
        "StuID,Guardian,HomeLang,Street,Town,ST,Zip\ns1,Ana Ruiz,SP,5 Vine St,Fresno,CA,93701\n",
    )
    mapping = ColumnMapping(
        columns={
            "StuID": "student_id",
            "Guardian": "name",
            "HomeLang": "language",
            "Street": "address_1",
            "Town": "city",
            "ST": "state",
            "Zip": "postal_code",
        }
    )
    found = read_contacts(path, mapping=mapping)
    # "SP" is no ISO code tierflow knows: English, with a warning, not a guess.
    assert found["s1"] == FamilyContact("Ana Ruiz", "en", ("5 Vine St", "Fresno, CA 93701"))
    assert [w.code for w in found.report.warnings] == ["ingest.unknown_language"]
    mapping_file = _write(tmp_path / "map.yaml", "columns: {StuID: student_id, Guardian: name}\n")
    assert read_contacts(path, mapping=mapping_file)["s1"].name == "Ana Ruiz"
    missing = read_contacts(_write(tmp_path / "bad.csv", "id,name\ns1,A\n"))
    assert [r.code for r in missing.report.rejects] == ["ingest.missing_column"]


def test_json_lines_use_the_same_keys(tmp_path: Path) -> None:
    rows = [
        {"student_id": 7, "name": "Ana Ruiz", "language": "es-MX", "postal_code": 92801},
        {"student_id": "s8", "first_name": "Bo", "last_name": "Li", "language": "zh"},
        ["not", "an", "object"],
    ]
    path = _write(tmp_path / "families.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    found = read_contacts(path)
    assert found["7"] == FamilyContact("Ana Ruiz", "es-MX", ("92801",))
    assert found["s8"] == FamilyContact("Bo Li", "zh")
    assert [r.source for r in found.report.rejects] == [f"{path}:3"]


EDFI5 = """<?xml version="1.0" encoding="UTF-8"?>
<InterchangeContact xmlns="http://ed-fi.org/5.2.0">
  <Contact id="PRNT_1">
    <ContactUniqueId>c1</ContactUniqueId>
    <Name><PersonalTitlePrefix>Ms</PersonalTitlePrefix><FirstName>Rosa</FirstName>
      <MiddleName>M</MiddleName><LastSurname>Vega</LastSurname></Name>
    <OtherName><FirstName>Not</FirstName><LastSurname>This</LastSurname></OtherName>
    <Address>
      <StreetNumberName>1 Home Rd</StreetNumberName><City>Anaheim</City>
      <StateAbbreviation>uri://ed-fi.org/StateAbbreviationDescriptor#CA</StateAbbreviation>
      <PostalCode>92801</PostalCode>
      <AddressType>uri://ed-fi.org/AddressTypeDescriptor#Home</AddressType>
    </Address>
    <Address>
      <StreetNumberName>PO Box 9</StreetNumberName>
      <ApartmentRoomSuiteNumber>Unit B</ApartmentRoomSuiteNumber>
      <City>Anaheim</City>
      <StateAbbreviation>uri://ed-fi.org/StateAbbreviationDescriptor#CA</StateAbbreviation>
      <PostalCode>92802</PostalCode>
      <AddressType>uri://ed-fi.org/AddressTypeDescriptor#Mailing</AddressType>
    </Address>
    <Telephone><TelephoneNumber>555-0001</TelephoneNumber>
      <TelephoneNumberType>uri://ed-fi.org/TelephoneNumberTypeDescriptor#Fax</TelephoneNumberType>
      <OrderOfPriority>1</OrderOfPriority></Telephone>
    <Telephone><TelephoneNumber>555-0003</TelephoneNumber>
      <TelephoneNumberType>uri://ed-fi.org/TelephoneNumberTypeDescriptor#Home</TelephoneNumberType>
      <OrderOfPriority>3</OrderOfPriority></Telephone>
    <Telephone><TelephoneNumber>555-0002</TelephoneNumber>
      <TelephoneNumberType>uri://ed-fi.org/TelephoneNumberTypeDescriptor#Mobile</TelephoneNumberType>
      <OrderOfPriority>2</OrderOfPriority></Telephone>
    <ElectronicMail><ElectronicMailAddress>work@example.org</ElectronicMailAddress>
      <ElectronicMailType>uri://ed-fi.org/ElectronicMailTypeDescriptor#Work</ElectronicMailType>
    </ElectronicMail>
    <ElectronicMail><ElectronicMailAddress>home@example.org</ElectronicMailAddress>
      <ElectronicMailType>uri://ed-fi.org/ElectronicMailTypeDescriptor#Home/Personal</ElectronicMailType>
      <PrimaryEmailAddressIndicator>true</PrimaryEmailAddressIndicator>
    </ElectronicMail>
    <Language><Language>uri://ed-fi.org/LanguageDescriptor#eng</Language>
      <LanguageUse>uri://ed-fi.org/LanguageUseDescriptor#Spoken language</LanguageUse></Language>
    <Language><Language>uri://ed-fi.org/LanguageDescriptor#spa</Language>
      <LanguageUse>uri://ed-fi.org/LanguageUseDescriptor#Home language</LanguageUse></Language>
  </Contact>
  <Contact id="PRNT_2">
    <ContactUniqueId>c2</ContactUniqueId>
    <Name><FirstName>Tom</FirstName><LastSurname>Vega</LastSurname></Name>
    <Language><Language>uri://ed-fi.org/LanguageDescriptor#eng</Language></Language>
  </Contact>
  <Contact id="PRNT_3">
    <ContactUniqueId>c3</ContactUniqueId>
    <Name><FirstName>Linh</FirstName><LastSurname>Pham</LastSurname></Name>
    <Language><Language>uri://ed-fi.org/LanguageDescriptor#vie</Language></Language>
  </Contact>
  <Contact id="PRNT_4">
    <ContactUniqueId>c4</ContactUniqueId>
    <Name><FirstName>Nobody</FirstName><LastSurname>Linked</LastSurname></Name>
  </Contact>
  <Contact id="PRNT_5"><ContactUniqueId>c5</ContactUniqueId><Name/></Contact>
  <StudentContactAssociation>
    <StudentReference><StudentIdentity><StudentUniqueId>s1</StudentUniqueId></StudentIdentity>
    </StudentReference>
    <ContactReference ref="PRNT_2"/>
    <PrimaryContactStatus>false</PrimaryContactStatus>
    <ContactPriority>1</ContactPriority>
  </StudentContactAssociation>
  <StudentContactAssociation>
    <StudentReference><StudentIdentity><StudentUniqueId>s1</StudentUniqueId></StudentIdentity>
    </StudentReference>
    <ContactReference><ContactIdentity><ContactUniqueId>c1</ContactUniqueId></ContactIdentity>
    </ContactReference>
    <PrimaryContactStatus>true</PrimaryContactStatus>
    <ContactPriority>2</ContactPriority>
  </StudentContactAssociation>
  <StudentContactAssociation>
    <StudentReference><StudentIdentity><StudentUniqueId>s2</StudentUniqueId></StudentIdentity>
    </StudentReference>
    <ContactReference ref="PRNT_3"/>
  </StudentContactAssociation>
  <StudentContactAssociation>
    <StudentReference><StudentIdentity><StudentUniqueId>s3</StudentUniqueId></StudentIdentity>
    </StudentReference>
    <ContactReference ref="PRNT_404"/>
  </StudentContactAssociation>
  <StudentContactAssociation>
    <StudentReference><StudentIdentity><StudentUniqueId>s4</StudentUniqueId></StudentIdentity>
    </StudentReference>
    <ContactReference ref="PRNT_3"/>
    <ContactPriority>soon</ContactPriority>
  </StudentContactAssociation>
</InterchangeContact>
"""


def test_edfi_5_contacts_and_their_links(tmp_path: Path) -> None:
    path = _write(tmp_path / "Contact.xml", EDFI5)
    found = read_contacts(path)
    assert dict(found) == {
        # The primary contact; its Mailing address, its non-fax phone of lowest priority,
        # its primary email, and its home language (before a spoken one).
        "s1": FamilyContact(
            "Rosa M Vega",
            "es",
            ("PO Box 9", "Unit B", "Anaheim, CA 92802"),
            "home@example.org",
            "555-0002",
        ),
        "s2": FamilyContact("Linh Pham", "vi"),
    }
    rejects = [(r.code, r.student_id) for r in found.report.rejects]
    assert sorted(rejects, key=str) == sorted(
        [
            ("ingest.missing_value", None),  # c5 has no name
            ("ingest.unknown_contact", "s3"),
            ("ingest.invalid_value", "s4"),
        ],
        key=str,
    )
    assert all(r.source and r.source.startswith(f"{path}:") for r in found.report.rejects)
    assert (found.report.read, found.report.accepted) == (5, 2)
    assert f"{path}: 1 contact(s) linked to no student, not used" in found.report.ignored
    assert any("student s1: another contact" in note for note in found.report.ignored)
    assert found.report.warnings == []


EDFI3 = """<?xml version="1.0" encoding="UTF-8"?>
<InterchangeParent xmlns="http://ed-fi.org/0300">
  <Parent id="P1">
    <ParentUniqueId>p1</ParentUniqueId>
    <Name><FirstName>Ana</FirstName><LastSurname>Cruz</LastSurname></Name>
    <Address><StreetNumberName>3 Pine St</StreetNumberName><City>Austin</City>
      <StateAbbreviation><CodeValue>TX</CodeValue></StateAbbreviation>
      <PostalCode>78701</PostalCode></Address>
  </Parent>
  <StudentParentAssociation>
    <StudentReference><StudentIdentity><StudentUniqueId>s9</StudentUniqueId></StudentIdentity>
    </StudentReference>
    <ParentReference><ParentIdentity><ParentUniqueId>p1</ParentUniqueId></ParentIdentity>
    </ParentReference>
    <PrimaryContactStatus>true</PrimaryContactStatus>
  </StudentParentAssociation>
</InterchangeParent>
"""


def test_edfi_3_parents_are_read_too(tmp_path: Path) -> None:
    found = read_contacts(_write(tmp_path / "Parent.xml", EDFI3))
    assert found["s9"] == FamilyContact("Ana Cruz", "en", ("3 Pine St", "Austin, TX 78701"))
    assert [w.code for w in found.report.warnings] == ["ingest.missing_language"]


def test_a_malformed_xml_file_is_one_reject(tmp_path: Path) -> None:
    path = _write(tmp_path / "Contact.xml", "<InterchangeContact><Contact>\n</Oops>")
    found = read_contacts(path)
    assert len(found) == 0
    assert [r.code for r in found.report.rejects] == ["ingest.invalid_xml"]


def _contact(uid: str, inner: str = "") -> str:
    return (
        f'<Contact id="P{uid}"><ContactUniqueId>{uid}</ContactUniqueId><Name><FirstName>A'
        f"</FirstName><LastSurname>B</LastSurname></Name>{inner}</Contact>\n"
    )


def _link(sid: str, uid: str, inner: str = "") -> str:
    return (
        f"<StudentContactAssociation><StudentReference><StudentIdentity><StudentUniqueId>{sid}"
        f'</StudentUniqueId></StudentIdentity></StudentReference><ContactReference ref="P{uid}"/>'
        f"{inner}</StudentContactAssociation>\n"
    )


def test_a_doctype_is_refused_before_any_entity_expands(tmp_path: Path) -> None:
    ents = ['<!ENTITY e0 "xxxxxxxxxx">'] + [
        f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10)
    ]
    path = _write(
        tmp_path / "Contact.xml",
        f'<?xml version="1.0"?>\n<!DOCTYPE I [{"".join(ents)}]>\n<I>{_contact("&e9;")}</I>\n',
    )
    found = read_contacts(path)
    assert [(r.code, r.source) for r in found.report.rejects] == [
        ("ingest.invalid_xml", f"{path}:2")
    ]


def test_hostile_records_are_one_reject_each_and_the_rest_is_read(tmp_path: Path) -> None:
    deep = "<x>" * 100_000 + "</x>" * 100_000
    long_text = "<Note>" + "x" * (1 << 20) + "</Note>"
    phone = (
        "<Telephone><TelephoneNumber>555-0009</TelephoneNumber><TelephoneNumberType>Home"
        "</TelephoneNumberType><OrderOfPriority>{}</OrderOfPriority></Telephone>"
    )
    odd_phones = phone.format("9" * 5000) + phone.format("²")
    path = _write(
        tmp_path / "Contact.xml",
        "<I>\n"
        + _contact("c1", odd_phones)  # line 2
        + _contact("c2", deep)  # line 3
        + _contact("c3", long_text)  # line 4
        + _link("s1", "c1")  # line 5
        + _link("s2", "c2")  # line 6
        + _link("s3", "c3")  # line 7
        + _link("s4", "c1", f"<ContactPriority>{'9' * 5000}</ContactPriority>")  # line 8
        + "</I>\n",
    )
    found = read_contacts(path)
    assert found["s1"].phone == "555-0009"
    assert list(found) == ["s1"]
    assert sorted((r.code, r.source) for r in found.report.rejects) == [
        ("ingest.invalid_value", f"{path}:8"),
        ("ingest.too_deep", f"{path}:3"),
        ("ingest.too_long", f"{path}:4"),
        ("ingest.unknown_contact", f"{path}:6"),
        ("ingest.unknown_contact", f"{path}:7"),
    ]
