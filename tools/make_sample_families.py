"""Write the bundled sample district's families and schools: synthetic data for the demo.

Every name, address, email and phone number here is made up: names are drawn from short lists
of common given names and surnames and paired at random, streets and the town ("Sampleton")
are invented, phone numbers are in the 555-01xx range reserved for fiction, emails are at
example.org. No record describes a real person or place.

One contact per student of ``src/tierflow/data/sample_district.jsonl``, with a language chosen
so that the demo shows California EC 48985 at work (hand counts, of 400 pupils each):

- ``lincoln-es``: 96 Spanish (24%, a third written ``es-MX``), 8 Vietnamese (2%): Spanish
  is required there;
- ``washington-ms``: 56 Spanish (14%, just under), 12 Vietnamese (3%): nothing required;
- ``roosevelt-hs``: 20 Spanish (5%), 6 Vietnamese (1.5%): nothing required;
- everyone else English.

Run from the repository root; it rewrites ``src/tierflow/data/sample_families.csv``,
``sample_students.csv`` (the students' names) and ``sample_schools.csv``, byte for byte the
same each time::

    python tools/make_sample_families.py
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "src" / "tierflow" / "data"
SEED = 48985

# Per school: (Spanish speakers, Vietnamese speakers), of 400 pupils each.
LANGUAGES = {"lincoln-es": (96, 8), "washington-ms": (56, 12), "roosevelt-hs": (20, 6)}

GIVEN = {
    "en": ("James", "Mary", "Robert", "Linda", "David", "Susan", "Karen", "Mark", "Lisa", "Paul"),
    "es": ("María", "José", "Ana", "Luis", "Carmen", "Jorge", "Rosa", "Miguel", "Sofía", "Raúl"),
    "vi": ("Lan", "Minh", "Hoa", "Tuấn", "Mai", "Hùng", "Thu", "Dũng", "Linh", "Nam"),
}
FAMILY = {
    "en": ("Smith", "Johnson", "Brown", "Miller", "Davis", "Wilson", "Moore", "Taylor", "Clark"),
    "es": ("García", "López", "Martínez", "Hernández", "Ramírez", "Torres", "Flores", "Núñez"),
    "vi": ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi"),
}
STREETS = ("Oak", "Maple", "Cedar", "Pine", "Elm", "Willow", "Birch", "Aspen", "Juniper", "Alder")
KINDS = ("St", "Ave", "Rd", "Ln", "Way", "Ct")
POSTAL_CODES = ("95501", "95502", "95503", "95505")

SCHOOLS = (
    ("lincoln-es", "Lincoln Elementary School", "100 Lincoln Ave", "(707) 555-0110"),
    ("washington-ms", "Washington Middle School", "200 Washington Blvd", "(707) 555-0120"),
    ("roosevelt-hs", "Roosevelt High School", "300 Roosevelt Rd", "(707) 555-0130"),
)
FAMILY_COLUMNS = (
    "student_id",
    "name",
    "language",
    "address_1",
    "address_2",
    "city",
    "state",
    "postal_code",
    "email",
    "phone",
)


def _students() -> list[tuple[str, str]]:
    with open(DATA / "sample_district.jsonl", encoding="utf-8") as fh:
        return [(r["student_id"], r["school_id"]) for r in map(json.loads, fh)]


def _languages(rng: random.Random, students: list[tuple[str, str]]) -> dict[str, str]:
    """Each student's family language, with exactly the counts of :data:`LANGUAGES`."""
    out: dict[str, str] = {}
    for school, (spanish, vietnamese) in LANGUAGES.items():
        ids = [sid for sid, at in students if at == school]
        rng.shuffle(ids)
        for i, sid in enumerate(ids):
            if i < spanish:
                out[sid] = "es-MX" if i % 3 == 0 else "es"
            elif i < spanish + vietnamese:
                out[sid] = "vi"
            else:
                out[sid] = "en"
    return out


def families() -> list[dict[str, str]]:
    """The contact rows, in student order."""
    rng = random.Random(SEED)
    students = _students()
    languages = _languages(rng, students)
    rows = []
    for sid, _school in students:
        lang = languages[sid]
        base = lang.split("-")[0]
        number = rng.randint(100, 9899)
        rows.append(
            {
                "student_id": sid,
                "name": f"{rng.choice(GIVEN[base])} {rng.choice(FAMILY[base])}",
                "language": lang,
                "address_1": f"{number} {rng.choice(STREETS)} {rng.choice(KINDS)}",
                "address_2": f"Apt {rng.randint(1, 40)}" if rng.random() < 0.2 else "",
                "city": "Sampleton",
                "state": "CA",
                "postal_code": rng.choice(POSTAL_CODES),
                "email": f"family.{sid.lower()}@example.org" if rng.random() < 0.6 else "",
                "phone": f"(707) 555-01{rng.randint(0, 99):02d}",
            }
        )
    return rows


def students(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Each student's name: a given name of the family's language and the family's surname.

    A generator of its own (seeded apart), so the families file stays what it was.
    """
    rng = random.Random(SEED + 1)
    out = []
    for row in rows:
        base = row["language"].split("-")[0]
        out.append(
            {
                "student_id": row["student_id"],
                "first_name": rng.choice(GIVEN[base]),
                "last_name": row["name"].split(" ", 1)[1],
            }
        )
    return out


def main() -> None:
    """Write the three files."""
    with open(DATA / "sample_families.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, FAMILY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        rows = families()
        writer.writerows(rows)
    with open(DATA / "sample_students.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, ("student_id", "first_name", "last_name"), lineterminator="\n")
        writer.writeheader()
        writer.writerows(students(rows))
    with open(DATA / "sample_schools.csv", "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(
            ("school_id", "name", "address_1", "address_2", "city", "state", "postal_code", "phone")
        )
        for school_id, name, street, phone in SCHOOLS:
            out.writerow((school_id, name, street, "", "Sampleton", "CA", "95501", phone))


if __name__ == "__main__":
    main()
