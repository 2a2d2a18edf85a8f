"""The stores every shared test runs on: in memory, SQLite (memory and file) and PostgreSQL.

See tests/stores.py for how the PostgreSQL test server is found (and skipped or required).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from stores import Store, postgres_url
from tierflow.store import SqlRepository
from tierflow.workflow import InMemoryRepository, Repository


@pytest.fixture
def postgres() -> Iterator[Store]:
    """A fresh schema on the test server, dropped after the test."""
    url = postgres_url()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    yield Store("postgresql", url, schema)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A durable database: a SQLite file, or a schema on the PostgreSQL test server."""
    if request.param == "sqlite":
        return Store("sqlite", str(tmp_path / "records.db"))
    postgres: Store = request.getfixturevalue("postgres")
    return postgres


@pytest.fixture(params=["memory", "sqlite-memory", "sqlite-file", "postgresql"])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Repository]:
    """Every repository implementation, for the shared contract tests."""
    if request.param == "memory":
        yield InMemoryRepository()
    elif request.param == "sqlite-memory":
        with SqlRepository(":memory:") as sqlite:
            yield sqlite
    elif request.param == "sqlite-file":
        with SqlRepository(tmp_path / "records.db") as sqlite:
            yield sqlite
    else:
        postgres: Store = request.getfixturevalue("postgres")
        with postgres.open() as server:
            yield server
