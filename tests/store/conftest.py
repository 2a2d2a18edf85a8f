from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tierflow.store import SqliteRepository
from tierflow.workflow import InMemoryRepository, Repository


@pytest.fixture(params=["memory", "sqlite-memory", "sqlite-file"])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Repository]:
    """Every repository implementation, for the shared contract tests."""
    if request.param == "memory":
        yield InMemoryRepository()
    elif request.param == "sqlite-memory":
        with SqliteRepository(":memory:") as sqlite:
            yield sqlite
    else:
        with SqliteRepository(tmp_path / "records.db") as sqlite:
            yield sqlite
