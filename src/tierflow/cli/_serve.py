"""``tierflow serve``: the HTTP service (the optional ``server`` extra), run under uvicorn."""

from __future__ import annotations

import argparse
import ipaddress
from typing import Any

from tierflow.cli._shell import _extends_option, _Out, _require_files, _UsageError
from tierflow.errors import RulesetError

__all__: list[str] = []


def _add_serve_command(sub: Any) -> None:
    """Add ``serve`` to the parser's subcommands."""
    p = sub.add_parser("serve", help="serve decisions and casework over HTTP (tierflow[server])")
    p.add_argument(
        "--ruleset",
        "-r",
        action="append",
        required=True,
        help="built-in rule set or a path; repeatable (the first is casework's default)",
    )
    p.add_argument("--db", help="the store for casework: a SQLite file or a database URL")
    p.add_argument(
        "--tokens",
        metavar="FILE",
        help="the bearer tokens (hashed) and their scopes; without it every caller has every "
        "scope, and only a loopback --host is allowed",
    )
    p.add_argument("--staff", metavar="FILE", help="the roster: owners, roles and caseloads")
    p.add_argument(
        "--students",
        metavar="FILE",
        help="students' names and dates of birth (CSV, JSON, Ed-Fi XML), printed in packets "
        "and the compliance report for tokens with the personal scope (default: ids only)",
    )
    p.add_argument(
        "--calendar", action="append", metavar="FILE", help="school calendars (follow-up dates)"
    )
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="the port to listen on (8000)")
    p.add_argument(
        "--max-body",
        type=int,
        default=1024 * 1024,
        metavar="BYTES",
        help="the largest request body accepted (1 MiB; a batch: --max-batch)",
    )
    p.add_argument(
        "--max-batch",
        type=int,
        default=256 * 1024 * 1024,
        metavar="BYTES",
        help="the largest streamed batch accepted (256 MiB)",
    )
    p.add_argument(
        "--decision-log", metavar="FILE", help="append each decision to FILE as JSON Lines"
    )
    p.add_argument(
        "--log-personal-data",
        action="store_true",
        help="write student ids to the decision log as they are (default: masked)",
    )
    _extends_option(p)
    p.set_defaults(func=_cmd_serve)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _cmd_serve(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    if args.tokens is None and not _is_loopback(args.host):
        raise _UsageError(f"--host {args.host} needs --tokens FILE (only loopback serves openly)")
    if args.max_body < 1 or args.max_batch < 1:
        raise _UsageError("--max-body and --max-batch must be positive")
    _require_files([args.tokens, args.staff, args.students, *(args.calendar or ())])
    try:
        import uvicorn

        from tierflow.server import ServerConfig, create_app
    except ImportError as exc:
        raise _UsageError(f"{exc} (pip install 'tierflow[server]')") from None
    config = ServerConfig(
        rulesets=tuple(args.ruleset),
        db=args.db,
        tokens=args.tokens,
        staff=args.staff,
        students=args.students,
        calendars=tuple(args.calendar or ()),
        extends_roots=tuple(args.extends_root or ()),
        max_body=args.max_body,
        max_batch=args.max_batch,
        decision_log=args.decision_log,
        log_personal_data=args.log_personal_data,
    )
    try:
        app = create_app(config)
    except RulesetError:
        raise  # printed as every other command prints a rule set's problems
    except ValueError as exc:  # a malformed tokens file
        raise _UsageError(str(exc)) from None
    state = app.state.tierflow
    for name, report in ((args.staff, state.staff_report), (args.students, state.people_report)):
        for problem in report.rejects:  # the rest of the file is served
            err.line(f"rejected: {problem}")
        for note in report.ignored:
            err.line(f"ignored ({name}): {note}")
    held = ", ".join(state.rulesets.names())
    err.line(f"tierflow serve: http://{args.host}:{args.port}/v1 (rule sets: {held})")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", server_header=False)
    return 0
