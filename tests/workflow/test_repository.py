"""The Repository protocol's capabilities, in memory and in SQL alike: lookups and atomic units."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

import tierflow
from tierflow.errors import TierflowError, UnknownInterventionError, WorkflowError
from tierflow.store import SqlRepository
from tierflow.workflow import Engine, InMemoryRepository, Repository

D = dt.date(2025, 10, 6)
MTSS = tierflow.load_ruleset("mtss")


@pytest.fixture(params=["memory", "sql"])
def repo(request: pytest.FixtureRequest) -> Iterator[Repository]:
    if request.param == "memory":
        yield InMemoryRepository()
    else:
        with SqlRepository(":memory:") as sql:
            yield sql


def test_an_unknown_id_is_a_workflow_error_and_a_key_error(repo: Repository) -> None:
    with pytest.raises(UnknownInterventionError) as info:
        repo.get("iv-404")
    error = info.value
    assert isinstance(error, WorkflowError) and isinstance(error, TierflowError)
    assert isinstance(error, KeyError)  # ``except KeyError`` around a lookup keeps working
    assert (str(error), error.intervention_id) == ("no intervention 'iv-404'", "iv-404")


def test_a_staff_action_on_an_unknown_id_names_it(repo: Repository) -> None:
    engine = Engine(MTSS, repository=repo)
    with pytest.raises(UnknownInterventionError, match=r"^no intervention 'iv-404'$"):
        engine.start("iv-404", on=D, by="x")
