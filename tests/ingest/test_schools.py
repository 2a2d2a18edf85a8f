"""Schools for a notice's letterhead: tierflow's columns and Ed-Fi EducationOrganization.

The Ed-Fi figures are read by hand from the Ed-Fi Alliance's Grand Bend sample
(``../shared/data/edfi-grand-bend``, see its NOTES.md), an unchanged copy of the published file.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tierflow.ingest import Schools, read_schools
from tierflow.notices import SchoolInfo
from tierflow.spec import ColumnMapping

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "edfi-grand-bend"
EDORG = DATA / "edfi-ds-5.2.0_2021-2022" / "EducationOrganization.xml"

if not EDORG.exists() and os.environ.get("TIERFLOW_REQUIRE_SAMPLE_DATA"):
    raise RuntimeError(f"TIERFLOW_REQUIRE_SAMPLE_DATA is set but the Ed-Fi sample is not at {DATA}")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_csv_row_becomes_the_school(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "schools.csv",
        "school_id,name,address_1,address_2,city,state,postal_code,phone\n"
        "oak-es,Oak Elementary,100 Oak St,,Anaheim,CA,92801,555-0100\n"
        "elm-ms,Elm Middle,,,,,,\n",
    )
    found = read_schools(path)
    assert isinstance(found, Schools)
    assert dict(found) == {
        "oak-es": SchoolInfo("Oak Elementary", ("100 Oak St", "Anaheim, CA 92801"), "555-0100"),
        "elm-ms": SchoolInfo("Elm Middle"),
    }
    assert (found.report.read, found.report.accepted) == (2, 2)


def test_bad_and_repeated_rows_are_reported_and_the_rest_is_read(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "schools.csv",
        "school_id,name\n,No Id\noak,\nelm,Elm Middle\nelm,Elm Again\n",
    )
    found = read_schools(path)
    assert dict(found) == {"elm": SchoolInfo("Elm Middle")}
    assert [(r.code, r.source, r.field) for r in found.report.rejects] == [
        ("ingest.missing_value", f"{path}:2", None),
        ("ingest.missing_value", f"{path}:3", "name"),
    ]
    assert found.report.ignored == [
        f"{path}:5, school elm: listed again; the first record ({path}:4) is kept"
    ]
    assert (found.report.read, found.report.accepted, found.report.rejected) == (3, 1, 2)


def test_a_column_mapping_and_json_lines(tmp_path: Path) -> None:
    path = _write(tmp_path / "vendor.csv", "SchoolCode,SchoolName,Tel\n42,Pine High,555-0142\n")
    columns = {"SchoolCode": "school_id", "SchoolName": "name", "Tel": "phone"}
    mapping = ColumnMapping(columns=columns)
    assert read_schools(path, mapping=mapping)["42"] == SchoolInfo("Pine High", (), "555-0142")
    lines = _write(tmp_path / "schools.jsonl", '{"school_id": 7, "name": "Ash K-8"}\n')
    assert dict(read_schools(lines)) == {"7": SchoolInfo("Ash K-8")}


def test_a_school_without_id_or_name_in_edfi_is_rejected(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "EducationOrganization.xml",
        '<InterchangeEducationOrganization xmlns="http://ed-fi.org/5.2.0">\n'
        "<School><NameOfInstitution>No Id</NameOfInstitution></School>\n"
        "<School><SchoolId>9</SchoolId></School>\n"
        "<LocalEducationAgency><LocalEducationAgencyId>1</LocalEducationAgencyId>"
        "</LocalEducationAgency>\n"
        "</InterchangeEducationOrganization>\n",
    )
    found = read_schools(path)
    assert len(found) == 0
    assert [(r.code, r.source) for r in found.report.rejects] == [
        ("ingest.missing_value", f"{path}:2"),
        ("ingest.missing_value", f"{path}:3"),
    ]


@pytest.mark.skipif(not EDORG.exists(), reason=f"the Ed-Fi Grand Bend sample is not at {DATA}")
def test_the_grand_bend_schools() -> None:
    found = read_schools(EDORG)
    # Each school's Mailing address (a P.O. box; the Physical one is a street) and its Main
    # phone (the Fax number is not taken).
    assert dict(found) == {
        "255901001": SchoolInfo(
            "Grand Bend High School",
            ("P.O. Box 2035", "Grand Bend, TX 73334-2035"),
            "(950) 325-9465",
        ),
        "255901044": SchoolInfo(
            "Grand Bend Middle School",
            ("P.O. Box 3393", "Grand Bend, TX 73334-3393"),
            "(950) 325-3164",
        ),
        "255901107": SchoolInfo(
            "Grand Bend Elementary School",
            ("P.O. Box 9991", "Grand Bend, TX 73334-9991"),
            "(950) 367-1346",
        ),
    }
    assert found.report.summary() == "read 3, accepted 3, rejected 0"
