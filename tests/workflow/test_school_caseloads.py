"""Caseloads counted a school at a time give the owners counting every case at once gives.

On a database store an engine counts the open caseloads of a school's staff when a run first
opens, moves or frees a case at that school, each staff member's from the owner index, and
reads a school's unowned cases when a place there first frees: a partition of a day reads its
own schools', not the district's. These tests hold that to the old reading (every open case
counted at once, every school's unowned cases read together), which the engine keeps for stores
whose queries scan everything (``indexed_queries = False``): the same days, with caseload
limits that bind, moves between schools (cases kept or given to the new school's staff) and
cases closed by hand, must leave the same events and interventions in both stores.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierflow.evaluate import CompiledRuleset, parse_ruleset
from tierflow.store import SqlRepository
from tierflow.workflow import OPEN_STATES, Engine, Roster, StaffMember

SCHOOLS = ("lincoln", "grant")
STUDENTS = [f"s{n}" for n in range(6)]


class _Scanning(SqlRepository):
    """The same store, read as one whose queries scan everything (the old counting)."""

    indexed_queries = False


def _ruleset(transfers: str) -> CompiledRuleset:
    return parse_ruleset(
        f"""
id: district
name: District
version: "1"
extends: mtss
transfers: {transfers}
""",
        name="district.yaml",
    )


def _roster(ruleset: CompiledRuleset) -> Roster:
    roles = sorted({iv.owner for iv in ruleset.interventions.values()})
    return Roster(
        [
            StaffMember(f"{school}-{role}-{n}", school, (role,), caseload_limit=2)
            for school in SCHOOLS
            for role in roles
            for n in (1, 2)
        ]
    )


def _state(engine: Engine) -> list[Any]:
    return [(engine.timeline(s), engine.interventions(s)) for s in STUDENTS]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    days=st.lists(
        st.tuples(
            st.lists(st.sampled_from(SCHOOLS), min_size=len(STUDENTS), max_size=len(STUDENTS)),
            st.lists(
                st.integers(min_value=0, max_value=14),
                min_size=len(STUDENTS),
                max_size=len(STUDENTS),
            ),
            st.lists(st.integers(min_value=0, max_value=5), max_size=3),
        ),
        min_size=1,
        max_size=5,
    ),
    transfers=st.sampled_from(["{cases: keep}", "{cases: reassign}"]),
)
def test_counting_a_school_at_a_time_leaves_what_counting_everything_leaves(
    tmp_path_factory: Any,
    days: list[tuple[list[str], list[int], list[int]]],
    transfers: str,
) -> None:
    folder: Path = tmp_path_factory.mktemp("caseloads")
    ruleset = _ruleset(transfers)
    with (
        SqlRepository(f"sqlite:///{folder / 'by-school.db'}") as by_school,
        _Scanning(f"sqlite:///{folder / 'scanning.db'}") as scanning,
    ):
        assert by_school.indexed_queries is True
        on = dt.date(2025, 10, 1)
        for schools, absences, closing in days:
            records = [
                {"student_id": sid, "school_id": school, "days_enrolled": 40, "days_absent": a}
                for sid, school, a in zip(STUDENTS, schools, absences, strict=True)
            ]
            # A fresh engine a day (as each run of `tierflow run` is): it counts again.
            engines = [
                Engine(ruleset, repository=repo, roster=_roster(ruleset))
                for repo in (by_school, scanning)
            ]
            plans = [e.run(on, records) for e in engines]
            assert plans[0].summary() == plans[1].summary()
            for index in closing:  # cases closed by hand free places for unowned ones
                opened = sorted(
                    (iv.id for s in STUDENTS for iv in engines[0].interventions(s)
                     if iv.state in OPEN_STATES),
                )  # fmt: skip
                if index < len(opened):
                    for e in engines:
                        e.close(opened[index], on=on, by="office", reason="family moved")
            assert _state(engines[0]) == _state(engines[1])
            loads = [dict(+e.roster.load) for e in engines]  # counted in full by now
            assert loads[0] == loads[1]
            on += dt.timedelta(days=1)


def test_a_run_at_one_school_reads_only_that_schools_staff(tmp_path: Path) -> None:
    ruleset = _ruleset("{cases: keep}")
    url = f"sqlite:///{tmp_path / 'records.db'}"
    with SqlRepository(url) as repo:
        e = Engine(ruleset, repository=repo, roster=_roster(ruleset))
        e.run(
            dt.date(2025, 10, 1),
            [{"student_id": "g1", "school_id": "grant", "days_enrolled": 40, "days_absent": 9}],
        )
    with SqlRepository(url) as repo:
        asked: list[Any] = []
        work_items = repo.work_items

        def counting(**filters: Any) -> Any:
            asked.append(filters)
            return work_items(**filters)

        repo.work_items = counting  # type: ignore[method-assign]
        scans: list[int] = []
        open_interventions = repo.open_interventions

        def scanning() -> Any:
            scans.append(1)
            return open_interventions()

        repo.open_interventions = scanning  # type: ignore[method-assign]
        e = Engine(ruleset, repository=repo, roster=_roster(ruleset))
        plan = e.run(
            dt.date(2025, 10, 2),
            [{"student_id": "l1", "school_id": "lincoln", "days_enrolled": 40, "days_absent": 9}],
            schools={"lincoln"},
        )
        assert plan.opened and all(
            iv.owner and iv.owner.startswith("lincoln-") for iv in plan.opened
        )
        owners = {f["owner"] for f in asked if "owner" in f}
        assert owners and all(o.startswith("lincoln-") for o in owners)
        assert scans == []  # nothing read every open case of the district
        # A host reading the roster gets every owner's count: grant's cases are counted then.
        assert sum(e.roster.load.values()) == len(plan.opened) + sum(
            1 for iv in repo.for_student("g1") if iv.owner is not None
        )
        assert scans == [1]
