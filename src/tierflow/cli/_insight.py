"""``tierflow report ...``: insight reports read from a store (issue 16).

Each report is a subcommand added by its own module's ``add_*`` function, listed in
:data:`_REPORTS`; this module only makes the group.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from tierflow.cli._insight_dashboard import add_dashboard
from tierflow.cli._insight_effect import add_effectiveness
from tierflow.cli._insight_equity import add_chronic, add_equity
from tierflow.cli._insight_progress import add_operations, add_progress

__all__: list[str] = []

_REPORTS: list[Callable[[Any], None]] = [
    add_effectiveness,
    add_chronic,
    add_equity,
    add_progress,
    add_operations,
    add_dashboard,
]
"""Each report's ``add_*(subparsers)``, in the order ``tierflow report --help`` lists them."""


def _add_report_commands(sub: Any) -> None:
    """Add ``report`` and its subcommands to the parser's subcommands."""
    if not _REPORTS:
        return
    p: argparse.ArgumentParser = sub.add_parser(
        "report", help="insight from a store: chronic absence, equity, effectiveness, progress"
    )
    reports = p.add_subparsers(dest="report_command", required=True)
    for add in _REPORTS:
        add(reports)
