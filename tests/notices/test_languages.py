"""Languages: one canonical code, and California EC 48985's required translations.

Expected values are hand counts: EC 48985 requires a notice in a language that 15% or more of
a school's pupils speak as their primary language, English aside.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
from importlib import resources
from pathlib import Path

import pytest

from tierflow.ingest import read_contacts, read_schools
from tierflow.notices import (
    EC_48985_SHARE,
    language_code,
    language_shares,
    pick_language,
    required_languages,
)
from tierflow.spec._notices import LANGUAGE_PATTERN


def _school(counts: dict[str, int], school: str = "oak") -> tuple[dict[str, str], dict[str, str]]:
    """Students of one school, ``counts[language]`` of each (``""``: no language given)."""
    languages: dict[str, str] = {}
    school_of: dict[str, str] = {}
    for lang, n in counts.items():
        for i in range(n):
            sid = f"{school}-{lang or 'none'}-{i}"
            school_of[sid] = school
            if lang:
                languages[sid] = lang
    return languages, school_of


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("es", "es"),
        ("Spanish", "es"),
        ("spanish ", "es"),
        ("SPA", "es"),
        ("Español", "es"),
        ("es-MX", "es-MX"),
        ("es-mx", "es-MX"),
        ("ES_mx", "es-MX"),
        ("es-419", "es"),
        ("uri://ed-fi.org/LanguageDescriptor#spa", "es"),
        ("uri://ed-fi.org/LanguageDescriptor#vie", "vi"),
        ("Vietnamese", "vi"),
        ("Tiếng Việt", "vi"),
        ("eng", "en"),
        ("English", "en"),
        ("Hmong", "hmn"),
        ("hmn", "hmn"),
        ("Mandarin", "zh"),
        ("Cantonese", "yue"),
        ("zh-Hant-TW", "zh-TW"),
        ("Tagalog", "tl"),
        ("fas", "fa"),
        ("ton", "ton"),  # well formed, not in the table: kept as written
        ("to-TO", "to-TO"),
    ],
)
def test_language_code_reads_what_districts_write(written: str, code: str) -> None:
    assert language_code(written) == code
    assert re.match(LANGUAGE_PATTERN, code)  # the form a rule set's templates are keyed by


NOT_LANGUAGES = ["", "  ", "und", "N/A", "NA", "Klingon", "es-", "12", "e", "SP", "xx-MX"]


@pytest.mark.parametrize("written", NOT_LANGUAGES)
def test_language_code_does_not_guess(written: str) -> None:
    assert language_code(written) is None


def test_the_canonical_code_finds_the_template() -> None:
    assert pick_language(["en", "es-MX"], language_code("es_mx") or "", "en") == "es-MX"
    assert pick_language(["en", "es"], language_code("Spanish") or "", "en") == "es"


def test_exactly_fifteen_percent_by_count_is_required() -> None:
    # 3 of 20 pupils speak Spanish: 15% exactly, the statute's "15 percent or more".
    languages, school_of = _school({"es": 3, "en": 17})
    shares = language_shares(languages, school_of)
    assert shares == {"oak": {"en": 0.85, "es": 0.15}}
    assert required_languages(shares) == {"oak": frozenset({"es"})}
    # 30 of 200 and 150 of 1000 are 15% too.
    for es, total in ((30, 200), (150, 1000)):
        languages, school_of = _school({"es": es, "en": total - es})
        assert required_languages(language_shares(languages, school_of)) == {
            "oak": frozenset({"es"})
        }


def test_just_under_fifteen_percent_is_not_required() -> None:
    # 1,499 of 10,000 pupils: 14.99%.
    languages, school_of = _school({"vi": 1499, "en": 8501})
    shares = language_shares(languages, school_of)
    assert shares["oak"]["vi"] == pytest.approx(0.1499)
    assert required_languages(shares) == {"oak": frozenset()}
    assert required_languages({"oak": {"vi": 0.1499}}) == {"oak": frozenset()}
    # 2 of 14 is 14.3%.
    languages, school_of = _school({"vi": 2, "en": 12})
    assert required_languages(language_shares(languages, school_of)) == {"oak": frozenset()}


def test_regional_forms_count_with_their_base_language() -> None:
    # 2 es-MX + 1 es of 20: 15% Spanish; either alone is under.
    languages, school_of = _school({"es-MX": 2, "es": 1, "en": 17})
    shares = language_shares(languages, school_of)
    assert shares == {"oak": {"en": 0.85, "es": 0.15}}
    assert required_languages(shares) == {"oak": frozenset({"es"})}
    # Shares a district gives in regional forms are added up the same way: 0.10 + 0.05.
    assert required_languages({"oak": {"es-MX": 0.10, "es-US": 0.05}}) == {"oak": frozenset({"es"})}


def test_english_is_never_a_required_translation() -> None:
    languages, school_of = _school({"en": 20})
    assert required_languages(language_shares(languages, school_of)) == {"oak": frozenset()}
    assert required_languages({"oak": {"en": 1.0}}, given={"elm": ["en", "es"]}) == {
        "oak": frozenset(),
        "elm": frozenset({"es"}),
    }


def test_pupils_without_a_language_stay_in_the_denominator() -> None:
    # 3 Spanish, 1 unreadable, 1 not given, 15 English: 3 of 20 pupils.
    languages, school_of = _school({"es": 3, "Klingon": 1, "": 1, "en": 15})
    shares = language_shares(languages, school_of)
    assert shares == {"oak": {"en": 0.75, "es": 0.15}}
    assert required_languages(shares) == {"oak": frozenset({"es"})}


def test_each_school_is_counted_apart_and_unenrolled_students_not_at_all() -> None:
    oak_lang, oak = _school({"es": 4, "en": 6}, "oak")  # 40% Spanish
    elm_lang, elm = _school({"es": 1, "vi": 2, "en": 7}, "elm")  # 10% es, 20% vi
    languages = {**oak_lang, **elm_lang, "gone": "vi"}  # "gone" has no school
    shares = language_shares(languages, {**oak, **elm})
    assert shares == {
        "elm": {"en": 0.7, "es": 0.1, "vi": 0.2},
        "oak": {"en": 0.6, "es": 0.4},
    }
    assert required_languages(shares) == {"elm": frozenset({"vi"}), "oak": frozenset({"es"})}


def test_a_district_list_replaces_the_computed_share_for_its_school() -> None:
    shares = {"oak": {"es": 0.40}, "elm": {"es": 0.05}}
    assert required_languages(shares, given={"elm": ["Spanish", "Hmong"]}) == {
        "oak": frozenset({"es"}),
        "elm": frozenset({"es", "hmn"}),
    }
    with pytest.raises(ValueError, match="'Klingon' is not a language"):
        required_languages(shares, given={"elm": ["Klingon"]})


def test_the_threshold_is_the_statute_unless_told() -> None:
    assert EC_48985_SHARE == 0.15
    assert required_languages({"oak": {"es": 0.12}}, 0.10) == {"oak": frozenset({"es"})}
    for bad in (0, -0.1, 1.5):
        with pytest.raises(ValueError, match="threshold"):
            required_languages({}, bad)


def test_the_bundled_sample_families_show_ec_48985_at_one_school() -> None:
    # The generator's stated counts (tools/make_sample_families.py), of 400 pupils a school:
    # lincoln-es 96 Spanish (24%), washington-ms 56 (14%), roosevelt-hs 20 (5%).
    data = resources.files("tierflow") / "data"
    with resources.as_file(data / "sample_families.csv") as path:
        families = read_contacts(path)
    with resources.as_file(data / "sample_schools.csv") as path:
        schools = read_schools(path)
    assert families.report.summary() == "read 1200, accepted 1200, rejected 0"
    assert families.report.warnings == []
    school_of = {}
    with resources.as_file(data / "sample_district.jsonl") as path:
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            school_of[record["student_id"]] = record["school_id"]
    shares = language_shares(families.languages(), school_of)
    assert {school: by["es"] for school, by in shares.items()} == {
        "lincoln-es": 0.24,
        "roosevelt-hs": 0.05,
        "washington-ms": 0.14,
    }
    assert required_languages(shares) == {
        "lincoln-es": frozenset({"es"}),
        "roosevelt-hs": frozenset(),
        "washington-ms": frozenset(),
    }
    assert sorted(schools) == sorted(shares)


def test_the_sample_generator_reproduces_the_bundled_files() -> None:
    tool = Path(__file__).resolve().parents[2] / "tools" / "make_sample_families.py"
    spec = importlib.util.spec_from_file_location("make_sample_families", tool)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    bundled = resources.files("tierflow") / "data" / "sample_families.csv"
    rows = csv.DictReader(bundled.read_text(encoding="utf-8").splitlines())
    assert list(rows) == module.families()
    names = resources.files("tierflow") / "data" / "sample_students.csv"
    named = csv.DictReader(names.read_text(encoding="utf-8").splitlines())
    assert list(named) == module.students(module.families())
