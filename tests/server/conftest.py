from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.served import Served, serving, tokens_file
from tierflow.server import ServerConfig


@pytest.fixture(scope="module")
def open_server() -> Iterator[Served]:
    """The open server (no tokens file): every caller has every scope."""
    with serving(ServerConfig(rulesets=("mtss", "ca"), max_body=64 * 1024)) as served:
        yield served


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server with tokens and a SQLite store."""
    folder: Path = tmp_path_factory.mktemp("secured")
    config = ServerConfig(
        rulesets=("mtss",),
        db=str(folder / "store.db"),
        tokens=tokens_file(folder),
    )
    with serving(config) as served:
        yield served
