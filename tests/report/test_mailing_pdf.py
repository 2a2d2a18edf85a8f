"""A school's letters printed to one PDF by a real Chromium, read back with pdftotext.

What is checked comes from outside the code: the TEC 25.095(b) elements in words written from
the statute, the accents of the Spanish letters, one family a sheet (a page never holds two
students' letters), and the address block inside a #10 window envelope's window when the sheet
is folded in three (2.1 to 3.05 inches from the top, 1 to 4.5 inches from the left edge:
151.2-219.6 and 72-324 points). Without chromium or pdftotext the tests skip, unless
``TIERFLOW_REQUIRE_BROWSER=1`` (as in CI), which makes them fail.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import tierflow
from tierflow.ingest import Person
from tierflow.notices import DistrictInfo, FamilyContact, SchoolInfo
from tierflow.report import produce_notices
from tierflow.workflow import Engine, Roster, StaffMember

ON = dt.date(2025, 10, 31)
NAMES = {
    "s1": ("Ana", "Pérez", "es", "75205"),
    "s2": ("Ben", "Okafor", "en", "75201"),
    "s3": ("Íñigo", "Muñoz", "es", "75203"),
}
# TEC 25.095(b), element by element, as each language's letter should say it.
ELEMENTS = {
    "en": ["duty to monitor", "truancy prevention measures", "25.0915", "meet with us"],
    "es": ["deber de vigilar", "medidas de prevención", "25.0915", "reúna con nosotros"],
}


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is not None:
        return path
    why = f"{tool} is not installed (CI installs Debian's chromium and poppler-utils)"
    if os.environ.get("TIERFLOW_REQUIRE_BROWSER"):
        pytest.fail(f"TIERFLOW_REQUIRE_BROWSER is set but {why}")
    pytest.skip(why)


def _facts(sid: str) -> dict[str, Any]:
    return {
        "student_id": sid,
        "school_id": "oak",
        "grade": 7,
        "days_enrolled": 45,
        "days_absent": 3,
        "days_unexcused": 3,
        "attendance_log": [
            {"date": d, "kind": "unexcused"} for d in ("2025-10-06", "2025-10-20", "2025-10-30")
        ],
    }


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], str]:
    chromium = _need("chromium")
    _need("pdftotext")
    staff = [StaffMember("c1", "oak", ("counselor", "mentor", "attendance_team"), 50, "Ms. Cruz")]
    engine = Engine(tierflow.load_ruleset("tx"), roster=Roster(staff))
    facts = [_facts(sid) for sid in NAMES]
    engine.run(ON, facts)
    for f in facts:
        engine.issue_legal(f["student_id"], "parent-notice", on=ON, by="c1", facts=f)
    families = {
        sid: FamilyContact(
            f"{first} {last} (familia)" if lang == "es" else f"The {last} family",
            lang,
            (f"{i} Elm St", f"Dallas, TX {zip_code}"),
        )
        for i, (sid, (first, last, lang, zip_code)) in enumerate(NAMES.items(), start=1)
    }
    run = produce_notices(
        engine,
        on=ON,
        directory=tmp_path_factory.mktemp("mail"),
        facts=facts,
        families=families,
        students={
            sid: Person(sid, f"{a} {b}", first_name=a, last_name=b)
            for sid, (a, b, _, _) in NAMES.items()
        },
        schools={"oak": SchoolInfo("Oak Middle School", ("1 School Rd", "Dallas, TX 75201"))},
        district=DistrictInfo("Dallas ISD", phone="214-555-0000"),
        pdf=True,
        chromium=chromium,
    )
    pdf = run.pdfs["oak"]
    assert pdf.read_bytes().startswith(b"%PDF-")
    pages = []
    n = 1
    while True:
        done = subprocess.run(
            ["pdftotext", "-layout", "-f", str(n), "-l", str(n), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            break
        pages.append(done.stdout)
        n += 1
    bbox = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return pdf, pages, bbox


def test_one_family_a_sheet_in_mail_order(printed: tuple[Path, list[str], str]) -> None:
    _, pages, _ = printed
    # Nine letters (the check-in invitation, the nudge and the warning for each of three
    # students), each on its own sheet.
    assert len(pages) == 9
    order = []
    for text in pages:
        students = [sid for sid, (first, last, *_) in NAMES.items() if last in text]
        assert len(students) == 1, text[:400]
        order.append(students[0])
    # Mail order is by ZIP code: 75201 (s2), 75203 (s3), 75205 (s1).
    assert order == ["s2"] * 3 + ["s3"] * 3 + ["s1"] * 3


def test_every_element_in_both_languages_and_accents_intact(
    printed: tuple[Path, list[str], str],
) -> None:
    _, pages, _ = printed
    warnings = [p for p in pages if "25.0915" in p]
    assert len(warnings) == 3
    for text in warnings:
        flat = re.sub(r"\s+", " ", text)
        lang = "es" if "Estimada" in flat else "en"
        for phrase in ELEMENTS[lang]:
            assert phrase in flat, (lang, phrase)
    whole = "\n".join(pages)
    assert "Íñigo" in whole and "Muñoz" in whole and "Pérez" in whole


def test_the_address_sits_in_the_envelope_window(printed: tuple[Path, list[str], str]) -> None:
    _, _, bbox = printed
    # pdftotext -bbox gives each word's box in points from the page's top left.
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        bbox,
    )
    elm = [
        (float(x0), float(y0), float(x1), float(y1)) for x0, y0, x1, y1, w in words if w == "Elm"
    ]
    assert len(elm) == 9
    for x0, y0, x1, y1 in elm:
        assert x0 >= 72 and x1 <= 324, (x0, x1)
        assert y0 >= 151.2 and y1 <= 219.6, (y0, y1)


HOSTILE = """
id: district-hostile
name: A district whose template was tampered with
version: "1"
extends: mtss
notices:
  - id: mtss-days-missed-nudge
    for: [family-call]
    templates:
      en: |
        <address>{{ family.name }}</address>
        <p>Dear family of {{ student.first_name }}: ORIGINAL LETTER</p>
        <script>document.body.innerHTML = "<p>SCRIPT RAN</p>";</script>
        <img src="http://127.0.0.1:9/beacon.png" onerror="document.title='ONERROR RAN'">
        <iframe src="file:///etc/hostname"></iframe>
    elements: []
"""


def test_a_tampered_template_prints_as_written_and_runs_nothing(tmp_path: Path) -> None:
    """The page's Content-Security-Policy stops scripts, event handlers and every fetch."""
    chromium = _need("chromium")
    _need("pdftotext")
    engine = Engine(
        tierflow.parse_ruleset(HOSTILE),
        roster=Roster([StaffMember("c1", "oak", ("counselor", "mentor"), 50, "Ms. Cruz")]),
    )
    facts = [{"student_id": "s1", "school_id": "oak", "days_enrolled": 30, "days_absent": 2}]
    engine.run(ON, facts)
    run = produce_notices(
        engine,
        on=ON,
        directory=tmp_path,
        facts=facts,
        families={"s1": FamilyContact("A Family", "en", ("1 Elm St", "Dallas, TX 75201"))},
        students={"s1": Person("s1", "Ana Ruiz", first_name="Ana", last_name="Ruiz")},
        district=DistrictInfo("Dallas ISD"),
        pdf=True,
        chromium=chromium,
    )
    text = subprocess.run(
        ["pdftotext", str(run.pdfs["oak"]), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "ORIGINAL LETTER" in text
    assert "SCRIPT RAN" not in text and "ONERROR RAN" not in text
    hostname = Path("/etc/hostname")
    if hostname.exists() and hostname.read_text().strip():
        assert hostname.read_text().strip() not in text
