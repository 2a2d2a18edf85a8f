"""The bundled sample district through a rule set and the workflow: what ``tierflow demo`` runs.

A host (or a notebook) can run the same steps the command prints: evaluate the bundled sample
district's 1,200 students, then run the workflow engine for the day over a store, with a
generated staff owning the interventions.

>>> import tierflow
>>> from tierflow.demo import evaluate_sample, run_sample_day
>>> sample = evaluate_sample(tierflow.load_ruleset("ca"))
>>> sample.report.read, sample.report.rejected
(1200, 0)
>>> day = run_sample_day(sample, ":memory:")
>>> day.events_before, day.events_added > 0, day.students_stored <= 1200
(0, True, True)
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from typing import Any

from tierflow._sample import SAMPLE_AS_OF
from tierflow.errors import DataReport
from tierflow.evaluate import CompiledRuleset
from tierflow.ingest import FactsRecord, Person, read_contacts, read_people, read_schools
from tierflow.notices import DistrictInfo, FamilyContact, SchoolInfo
from tierflow.pipeline import evaluate_facts_file
from tierflow.store import SqlRepository
from tierflow.workflow import Engine, Plan, Roster, StaffMember

__all__ = [
    "SAMPLE_DISTRICT",
    "SampleDay",
    "SampleFamilies",
    "SampleRun",
    "evaluate_sample",
    "run_sample_day",
    "sample_families",
    "sample_staff",
]

SAMPLE_DISTRICT = DistrictInfo("Sampleton Unified School District", "(707) 555-0100")
"""The sample district's letterhead (synthetic, like every record of the sample)."""

_STAFF_NAMES = ("Alex Rivera", "Jordan Lee", "Sam Patel", "Casey Morgan")


@dataclass(frozen=True)
class SampleRun:
    """The sample district's decisions, counted.

    Attributes:
        ruleset: The rule set the students went through.
        as_of: The date the sample's facts describe.
        students: Every evaluated student's facts, in file order.
        tiers: Students per tier id.
        interventions: Students per intervention id.
        legal: Students per (legal step id, status).
        report: Records read, accepted and rejected.
        example: The first student at tier 2 or above with a blocked legal step (the one a
            reader is shown explained), or None.
    """

    ruleset: CompiledRuleset
    as_of: dt.date
    students: tuple[dict[str, Any], ...]
    tiers: Counter[str]
    interventions: Counter[str]
    legal: Counter[tuple[str, str]]
    report: DataReport
    example: FactsRecord | None


@dataclass(frozen=True)
class SampleDay:
    """What one day's workflow run did to a store.

    Attributes:
        plan: What the engine did (opened, unassigned, legal steps due, ...).
        location: Where the records are: the database file, or ``:memory:``.
        events_before: Events the store held before the run.
        events_after: Events it holds after.
        students_stored: Students with records in the store.
    """

    plan: Plan
    location: str
    events_before: int
    events_after: int
    students_stored: int

    @property
    def events_added(self) -> int:
        """Events this run added (0 when the day had already been run)."""
        return self.events_after - self.events_before


def evaluate_sample(ruleset: CompiledRuleset, *, as_of: dt.date = SAMPLE_AS_OF) -> SampleRun:
    """Evaluate every student of the bundled sample district.

    Args:
        ruleset: The rule set (``tierflow.load_ruleset("ca")``, say).
        as_of: The date to evaluate as of; the sample's facts describe 2026-01-30.

    Returns:
        The decisions, counted by tier, intervention and legal step.
    """
    tiers: Counter[str] = Counter()
    interventions: Counter[str] = Counter()
    legal: Counter[tuple[str, str]] = Counter()
    report = DataReport()
    example: FactsRecord | None = None
    students: list[dict[str, Any]] = []
    sample = resources.files("tierflow") / "data" / "sample_district.jsonl"
    with resources.as_file(sample) as path:
        for item, decision in evaluate_facts_file(ruleset, str(path), as_of=as_of, report=report):
            students.append(dict(item.facts))
            tiers[decision.tier] += 1
            interventions.update(i.id for i in decision.interventions)
            legal.update((a.step, a.status) for a in decision.legal_actions)
            if example is None and decision.legal_blocked and decision.tier_level >= 2:
                example = item
    return SampleRun(ruleset, as_of, tuple(students), tiers, interventions, legal, report, example)


def sample_staff(ruleset: CompiledRuleset, students: tuple[dict[str, Any], ...]) -> Roster:
    """A generated staff: four people per owner role at each school, 75 cases each."""
    roles = sorted({iv.owner for iv in ruleset.interventions.values()})
    schools = sorted({str(f["school_id"]) for f in students if f.get("school_id") is not None})
    return Roster(
        [
            StaffMember(f"{school}-{role}-{n}", school, (role,), 75, _STAFF_NAMES[n - 1])
            for school in schools
            for role in roles
            for n in range(1, 5)
        ]
    )


@dataclass(frozen=True)
class SampleFamilies:
    """Who the sample district's letters go to: synthetic families, names and schools.

    Attributes:
        families: Each student's family contact (``sample_families.csv``).
        students: Each student's name (``sample_students.csv``).
        schools: The three schools (``sample_schools.csv``).
        report: Records read, and any rejected (none: the files are generated and tested).
    """

    families: dict[str, FamilyContact]
    students: dict[str, Person]
    schools: dict[str, SchoolInfo]
    report: DataReport


def sample_families() -> SampleFamilies:
    """Read the bundled sample district's families, students' names and schools.

    >>> found = sample_families()
    >>> len(found.families), len(found.students), sorted(found.schools)
    (1200, 1200, ['lincoln-es', 'roosevelt-hs', 'washington-ms'])
    """
    report = DataReport()
    data = resources.files("tierflow") / "data"
    with resources.as_file(data / "sample_families.csv") as path:
        families = read_contacts(path, report=report)
    with resources.as_file(data / "sample_students.csv") as path:
        people = read_people(path, report=report)
    with resources.as_file(data / "sample_schools.csv") as path:
        schools = read_schools(path, report=report)
    return SampleFamilies(dict(families), dict(people.people), dict(schools), report)


def run_sample_day(sample: SampleRun, db: str) -> SampleDay:
    """Run the workflow engine for the sample's day, keeping its records in ``db``.

    Running the same day again over the same store opens nothing and adds no event.

    Args:
        sample: What :func:`evaluate_sample` returned.
        db: A SQLite file (created if missing), a database URL, or ``:memory:``.

    Returns:
        What the run did, and the store's event counts before and after.

    Raises:
        StoreError: The store cannot be opened or written.
    """
    with SqlRepository(db) as repo:
        before = sum(seq for seq, _ in repo.chain_heads().values())
        engine = Engine(
            sample.ruleset, repository=repo, roster=sample_staff(sample.ruleset, sample.students)
        )
        with repo.batch():
            plan = engine.run(sample.as_of, sample.students)
        heads = repo.chain_heads()
        location = ":memory:" if db == ":memory:" else str(repo.path)
    after = sum(seq for seq, _ in heads.values())
    return SampleDay(plan, location, before, after, len(heads))
