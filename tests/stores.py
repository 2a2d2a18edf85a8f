"""Databases for the store tests: a SQLite file, or a schema on the PostgreSQL test server.

PostgreSQL tests use the server named by ``TIERFLOW_TEST_POSTGRES_URL`` (``.ci/postgres`` starts
one), each test in a fresh schema dropped afterwards. Without a reachable server they skip,
saying why; with ``TIERFLOW_REQUIRE_POSTGRES=1`` (CI) they fail instead.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from tierflow._sample import generate_facts
from tierflow.evaluate import CompiledRuleset
from tierflow.store import SqlRepository
from tierflow.workflow import Roster, StaffMember

HOW = (
    "set TIERFLOW_TEST_POSTGRES_URL to a database the tests may create schemas in, e.g. "
    "postgresql+psycopg://me@127.0.0.1:5432/tierflow_test (.ci/postgres starts a throwaway "
    "server)"
)


@functools.cache
def _server_problem() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None when they can (checked once)."""
    url = os.environ.get("TIERFLOW_TEST_POSTGRES_URL")
    if not url:
        return f"no PostgreSQL server: {HOW}"
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # the driver missing, a refused connection, bad credentials...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"no PostgreSQL server at TIERFLOW_TEST_POSTGRES_URL ({first}); {HOW}"
    return None


def postgres_url() -> str:
    """The test server's URL; skip the test (fail it when required) if there is none."""
    problem = _server_problem()
    if problem is not None:
        if os.environ.get("TIERFLOW_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{problem} (TIERFLOW_REQUIRE_POSTGRES=1: the PostgreSQL tests must run)")
        pytest.skip(problem)
    return os.environ["TIERFLOW_TEST_POSTGRES_URL"]


@dataclass
class Store:
    """One database a test may open several times (to reopen it, or from two processes).

    Attributes:
        kind: ``sqlite`` or ``postgresql``.
        target: The file path or URL to open.
        schema: The PostgreSQL schema of this test (None on SQLite).
    """

    kind: str
    target: str
    schema: str | None = None

    def open(self, **options: Any) -> SqlRepository:
        """A repository on this database."""
        return SqlRepository(self.target, schema=self.schema, **options)

    @property
    def url(self) -> str:
        """A URL alone that opens this database (the schema in its connection options)."""
        if self.kind == "sqlite":
            return sa.URL.create("sqlite", database=self.target).render_as_string()
        return f"{self.target}?options=-csearch_path%3D{self.schema}"

    def sql(self, statement: str, **params: Any) -> list[Any]:
        """Run raw SQL on the database outside tierflow (as someone tampering would)."""
        engine = sa.create_engine(self.url)
        try:
            with engine.begin() as conn:
                result = conn.execute(sa.text(statement), params)
                return list(result.all()) if result.returns_rows else []
        finally:
            engine.dispose()


def day_facts(
    students: int, day: dt.date, first_day: dt.date, *, seed: int | None = None
) -> list[dict[str, Any]]:
    """``students`` generated students on ``first_day``; on any later day some missed more."""
    first = list(generate_facts(students) if seed is None else generate_facts(students, seed=seed))
    if day == first_day:
        return first
    return [
        dict(
            f,
            days_enrolled=f["days_enrolled"] + 5,
            days_absent=f["days_absent"] + i % 3,
            days_unexcused=f["days_unexcused"] + i % 3,
        )
        for i, f in enumerate(first)
    ]


def one_owner_per_role(ruleset: CompiledRuleset, schools: list[str], limit: int) -> Roster:
    """One owner per school and catalogue role, each with room for ``limit`` cases.

    One owner per role keeps the choice of owner a function of the caseloads alone, which a
    reopened store counts (ties between owners are broken by a turn each engine keeps in memory).
    """
    roles = sorted({iv.owner for iv in ruleset.interventions.values()})
    return Roster(
        StaffMember(f"{school}-{role}", school, (role,), caseload_limit=limit)
        for school in schools
        for role in roles
    )


def one_student_store(db: Any, ruleset: CompiledRuleset) -> None:
    """Run one student, c1 (4 unexcused days of 40 at lincoln), through ``ruleset`` into ``db``.

    As of 2025-10-15, with one staff member holding every role the built-ins' early tiers use.
    """
    from tierflow.workflow import Engine

    facts = {
        "student_id": "c1",
        "school_id": "lincoln",
        "days_enrolled": 40,
        "days_absent": 4,
        "days_unexcused": 4,
    }
    roles = ("mentor", "counselor", "social_worker", "attendance_team")
    with SqlRepository(db) as repo:
        roster = Roster([StaffMember("ms-lee", "lincoln", roles)])
        Engine(ruleset, repository=repo, roster=roster).run(dt.date(2025, 10, 15), [facts])
