"""The ``pytest11`` entry point of tierflow's pytest plugin: ``pytest --tierflow PATH``.

This module sits outside the ``tierflow`` package on purpose. pytest imports every
``pytest11`` plugin before pytest-cov starts measuring, so a plugin inside ``tierflow`` would
import the package early and hide every module-level line of it from coverage (tierflow's own
suite showed 21% instead of 25% on ``tests/expr``). Like Hypothesis's
``_hypothesis_pytestplugin``, it imports the library only inside a hook, and only when
``--tierflow`` is given; the collection itself lives in :mod:`tierflow.testing.pytest_plugin`.
"""

from __future__ import annotations

import pytest

__all__ = ["pytest_addoption", "pytest_collection_modifyitems"]


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--tierflow PATH`` (repeatable) and ``--tierflow-examples N``."""
    group = parser.getgroup("tierflow", "tierflow rule sets")
    group.addoption(
        "--tierflow",
        action="append",
        default=[],
        metavar="PATH",
        help="check the rule sets under PATH: inline tests, properties, static analysis",
    )
    group.addoption(
        "--tierflow-examples",
        type=int,
        default=100,
        metavar="N",
        help="generated students per property check (default 100)",
    )


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Append the checks of every rule set under the ``--tierflow`` paths."""
    paths: list[str] = config.getoption("tierflow") or []
    if not paths:
        return
    # imported here, after coverage has started and only when asked for (see the docstring)
    from tierflow.testing.pytest_plugin import collect_rulesets

    collect_rulesets(session, paths, config.getoption("tierflow_examples"), items)
