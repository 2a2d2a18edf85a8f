"""The argument parser and ``main``: which module runs which command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO

from tierflow.cli._casework import _add_casework_commands
from tierflow.cli._demo import (
    _cmd_demo,
)
from tierflow.cli._evaluate import (
    _cmd_evaluate,
    _cmd_explain,
    _input_options,
)
from tierflow.cli._insight import _add_report_commands
from tierflow.cli._lifecycle import add_lifecycle_command
from tierflow.cli._notices import _cmd_notices, _notices_options
from tierflow.cli._outbox import _add_outbox_commands
from tierflow.cli._queue import _cmd_queue, _queue_options
from tierflow.cli._records import (
    _cmd_audit_anchor,
    _cmd_audit_verify,
    _cmd_export_compliance,
    _cmd_export_packet,
)
from tierflow.cli._rulesets import (
    _cmd_check,
    _cmd_diff,
    _cmd_schema,
    _cmd_test,
)
from tierflow.cli._run import _add_run_commands
from tierflow.cli._serve import _add_serve_command
from tierflow.cli._shell import (
    _escape,
    _extends_option,
    _Failed,
    _file_problem,
    _Out,
    _Parser,
    _pii_options,
    _progress_options,
    _reject_options,
    _UsageError,
)
from tierflow.compile import builtin_names
from tierflow.errors import (
    RulesetError,
    StoreError,
    TierflowError,
)

__all__ = ["main"]


def _version() -> str:
    """The installed distribution's version (package metadata), or ``unknown`` if not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tierflow")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tierflow", description="Attendance playbooks as code.")
    parser.add_argument("--version", action="version", version=f"tierflow {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="compile rule sets and print every problem")
    p.add_argument(
        "paths", nargs="+", metavar="PATH", help="rule set files, directories or built-in names"
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument(
        "--strict", action="store_true", help="exit with status 1 on warnings from the analysis too"
    )
    _extends_option(p)
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("test", help="run the inline tests of rule sets")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("-v", "--verbose", action="store_true", help="also list passing tests")
    p.add_argument(
        "--coverage",
        action="store_true",
        help="list tiers, rules and legal steps no test exercised",
    )
    p.add_argument(
        "--boundaries",
        action="store_true",
        help="print test cases one below, at and one above every threshold, as YAML",
    )
    _extends_option(p)
    p.set_defaults(func=_cmd_test)

    p = sub.add_parser(
        "evaluate", help="evaluate facts (CSV, JSON Lines, JSON) into JSON Lines decisions"
    )
    _input_options(p, "facts file, or - for JSON Lines on standard input (or give --events)")
    p.add_argument(
        "--ruleset", "-r", required=True, help=f"built-in ({', '.join(builtin_names())}) or a path"
    )
    p.add_argument("--as-of", help="date the facts describe (default: today)")
    p.add_argument("--explain", action="store_true", help="add each decision's explanation")
    p.add_argument(
        "--explain-format",
        choices=("json", "text"),
        default="json",
        help="the explanation as an object (Explanation.to_dict(), default) or text for people",
    )
    _reject_options(p)
    _extends_option(p)
    _progress_options(p)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("explain", help="explain the decision for one student")
    _input_options(p, "facts file holding the student (or give --events)")
    p.add_argument("--ruleset", "-r", required=True)
    p.add_argument("--student", help="the student id to explain")
    p.add_argument("--facts", help="the student's facts as a JSON object instead of INPUT")
    p.add_argument("--as-of", help="date the facts describe (default: today)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    _extends_option(p)
    p.set_defaults(func=_cmd_explain)

    p = sub.add_parser("diff", help="show what changes for students when a rule set changes")
    p.add_argument("old", metavar="OLD", help="the rule set in use (built-in or path)")
    p.add_argument("new", metavar="NEW", help="the proposed rule set")
    p.add_argument("--facts", required=True, metavar="FILE", help="students' facts to compare on")
    p.add_argument("--as-of", help="date the facts describe (default: today)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    _reject_options(p)
    _extends_option(p)
    p.set_defaults(func=_cmd_diff)

    p = sub.add_parser("schema", help="print the JSON Schema of the rule set format")
    p.add_argument("--output", "-o", help="write to this file")
    p.add_argument(
        "--child",
        action="store_true",
        help="the schema of a playbook that extends another (partial overrides)",
    )
    p.set_defaults(func=_cmd_schema)

    add_lifecycle_command(sub)

    p = sub.add_parser("demo", help="run the bundled sample district through a built-in rule set")
    p.add_argument("--ruleset", "-r", default="ca", help="built-in rule set (default: ca)")
    p.add_argument(
        "--db",
        default="tierflow-demo.db",
        help="where the workflow keeps its records: a SQLite file (default: tierflow-demo.db in "
        "the current directory), :memory:, or a database URL",
    )
    p.add_argument(
        "--letters",
        metavar="DIR",
        help="where the day's letters home are written (default: beside the --db file, named "
        "after it: tierflow-demo-letters)",
    )
    p.add_argument("--pdf", action="store_true", help="also print each school's letters to PDF")
    p.add_argument(
        "--dashboard",
        metavar="FILE",
        help="where the district dashboard is written (default: beside the --db file, named "
        "after it: tierflow-demo-dashboard.html)",
    )
    p.set_defaults(func=_cmd_demo)
    _add_run_commands(sub)  # run, advance, timeline: the workflow's days from the shell
    _add_casework_commands(sub)  # assign, check-in, note, record, open, close, issue

    p = sub.add_parser("audit", help="check stored workflow records")
    audit = p.add_subparsers(dest="audit_command", required=True)
    p = audit.add_parser("verify", help="find edited or deleted rows of a store's event chains")
    p.add_argument(
        "db", metavar="DB", help="a SQLite store file, or a database URL (postgresql+psycopg://...)"
    )
    p.add_argument(
        "--anchor",
        metavar="FILE",
        help="an anchor saved by 'tierflow audit anchor': also report chains cut short, rolled "
        "back or rewritten since",
    )
    _progress_options(p)
    p.set_defaults(func=_cmd_audit_verify)
    p = audit.add_parser(
        "anchor", help="print every chain's head and their digest, to keep outside the store"
    )
    p.add_argument(
        "db", metavar="DB", help="a SQLite store file, or a database URL (postgresql+psycopg://...)"
    )
    p.add_argument("--output", "-o", metavar="FILE", help="write the anchor to a file")
    p.set_defaults(func=_cmd_audit_anchor)

    p = sub.add_parser("export", help="export documentation from a store")
    export = p.add_subparsers(dest="export_command", required=True)
    p = export.add_parser("packet", help="a student's timeline with the rule behind each step")
    p.add_argument("student", metavar="STUDENT", help="the student id")
    p.add_argument(
        "--db",
        required=True,
        help="a SQLite store file, or a database URL (postgresql+psycopg://...)",
    )
    p.add_argument("--format", choices=("json", "csv", "html"), default="html")
    p.add_argument("--ruleset", "-r", help="for citations (default: the one in the records)")
    p.add_argument("--as-of", help="date the packet is prepared for (default: today)")
    p.add_argument("--readiness", metavar="STEP", help="check a legal step (sarb-referral)")
    p.add_argument("--output", "-o", help="write to this file")
    _pii_options(p)
    _extends_option(p)
    p.set_defaults(func=_cmd_export_packet)
    p = export.add_parser(
        "compliance", help="every legal step issued, and the interventions documented before it"
    )
    p.add_argument(
        "--db",
        required=True,
        help="a SQLite store file, or a database URL (postgresql+psycopg://...)",
    )
    p.add_argument("--format", choices=("json", "csv", "html"), default="html")
    p.add_argument("--ruleset", "-r", help="the rule set to check against (default: the records')")
    p.add_argument("--output", "-o", help="write to this file")
    _pii_options(p)
    _extends_option(p)
    p.set_defaults(func=_cmd_export_compliance)

    p = sub.add_parser(
        "queue", help="an owner's, role's or school's work: overdue, due, upcoming, unassigned"
    )
    _queue_options(p)
    p.set_defaults(func=_cmd_queue)

    p = sub.add_parser(
        "notices", help="render the day's family notices: letters, a PDF per school, messages"
    )
    _notices_options(p)
    p.set_defaults(func=_cmd_notices)
    _add_report_commands(sub)  # report chronic, equity, effectiveness, progress, operations
    _add_outbox_commands(sub)  # outbox, delivery: the notices rendered and their deliveries
    _add_serve_command(sub)  # serve: the HTTP service (the server extra)
    return parser


def main(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Every error tierflow raises ends the command with its message (a rule set's problems one a
    line) and a nonzero status: 1, or 2 for a usage error, a file that cannot be read or written
    and a store that cannot be used. What is printed for people has its control characters
    escaped (see :class:`_Out`).

    Raises:
        SystemExit: A message that ends a command early (a bad ``--as-of``, no such student,
            ``--include-pii`` without a roster), escaped; status 1, as on the command line.
    """
    args = _parser().parse_args(argv)
    command = " ".join(
        name
        for name in (
            args.command,
            getattr(args, "audit_command", None),
            getattr(args, "export_command", None),
        )
        if name
    )
    err = _Out(sys.stderr)
    try:
        status: int = args.func(args, _Out(out or sys.stdout), err)
    except RulesetError as exc:
        for problem in exc.problems:
            err.line(str(problem))
        if exc.omitted:
            err.line(f"... and {exc.omitted} more problems")
        return 1
    except _UsageError as exc:
        err.line(f"tierflow {command}: error: {exc}")
        return 2
    except _Failed as exc:  # as documented: SystemExit with the message (status 1)
        raise SystemExit(_escape(f"tierflow {command}: {exc}")) from None
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 0
    except OSError as exc:  # a file named on the command line cannot be read (or written)
        err.line(f"tierflow {command}: {_file_problem(exc)}")
        return 2
    except StoreError as exc:
        err.line(f"tierflow {command}: {exc}")
        return 2
    except TierflowError as exc:  # a DataError or WorkflowError no command caught itself
        err.line(f"tierflow {command}: {exc}")
        return 1
    return status
