"""``tierflow lifecycle RULESET``: print a rule set's intervention lifecycle.

As a Mermaid state diagram (the default, what docs embed) or as JSON (states with their
descriptions and whether they end an intervention, transitions with their guards, the roles).
A rule set that does not load reports its problems like ``tierflow check`` (status 1).
"""

from __future__ import annotations

import argparse
import json

from tierflow.cli._shell import _extends_option, _load, _Out, _Parser

__all__ = ["add_lifecycle_command"]


def _cmd_lifecycle(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    lifecycle = _load(args.ruleset, args).lifecycle
    if args.format == "json":
        out.data(json.dumps(lifecycle.to_json(), indent=2) + "\n")
    else:
        out.data(lifecycle.mermaid() + "\n")
    return 0


def add_lifecycle_command(sub: argparse._SubParsersAction[_Parser]) -> None:
    """Register ``tierflow lifecycle`` on the command's subparsers."""
    p = sub.add_parser("lifecycle", help="print a rule set's intervention lifecycle")
    p.add_argument("ruleset", metavar="RULESET", help="a built-in rule set name or a YAML file")
    p.add_argument(
        "--format",
        choices=("mermaid", "json"),
        default="mermaid",
        help="a Mermaid state diagram (default) or JSON",
    )
    _extends_option(p)
    p.set_defaults(func=_cmd_lifecycle)
