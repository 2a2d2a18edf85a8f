"""What every command shares: escaped output, usage errors, loading rule sets, options."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import errno
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from tierflow.compile import builtin_names
from tierflow.errors import (
    DataError,
    Problem,
    RulesetError,
)
from tierflow.evaluate import CompiledRuleset, load_ruleset

__all__ = []


_PROGRESS_EVERY = 5_000


def _progress_options(p: argparse.ArgumentParser) -> None:
    """Add ``--progress``/``--quiet``: force the progress display on or off (default: a tty)."""
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="show progress on standard error (default: only when it is a terminal)",
    )
    group.add_argument(
        "--quiet", "-q", dest="progress", action="store_false", help="show no progress"
    )


class _Progress:
    """A progress display on standard error, fed by the library's progress hooks.

    rich (the ``progress`` extra) draws a bar with a total and an estimate of the time left;
    without it, a line of counts is overwritten in place. Shown when ``--progress`` is given,
    or by default when standard error is a terminal; never with ``--quiet``.
    """

    def __init__(self, err: _Out, label: str, shown: bool | None) -> None:
        self.err = err
        self.label = label
        self.shown = err.is_terminal() if shown is None else shown
        self.drawn = False
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int | None = None) -> None:
        """Show ``done`` of ``total`` (None: not known)."""
        if not self.shown:
            return
        if self.bar is None and not self.drawn:
            self.bar = self._rich()
        self.drawn = True
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total)
        elif total is not None:
            self.err.progress(f"{self.label}: {done:,} of {total:,}")
        else:
            self.err.progress(f"{self.label}: {done:,}")

    def _rich(self) -> Any:
        try:  # an optional dependency: the counting line does without it
            from rich.console import Console
            from rich.progress import MofNCompleteColumn, Progress
        except ImportError:
            return None
        # Forced: shown only on a terminal or when --progress asks for it.
        console = Console(file=self.err.stream, force_terminal=True)
        columns = (*Progress.get_default_columns(), MofNCompleteColumn())
        bar = Progress(*columns, console=console, transient=True)
        self.task = bar.add_task(_escape(self.label), total=None)
        bar.start()
        return bar

    def close(self) -> None:
        """End the display (the bar is removed; the counting line is ended)."""
        if self.bar is not None:
            self.bar.stop()
        elif self.drawn:
            self.err.line()


_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""What a terminal would act on instead of showing: C0 (tab and newline too), DEL, C1, and the
bidirectional embeddings, overrides and isolates that reorder what is shown (Trojan Source)."""

_UNSAFE_IN_DATA = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""The same, except the newline that ends a line of a document."""


def _escape(text: str) -> str:
    r"""``text`` with each character of :data:`_UNSAFE` written as :func:`repr` writes it.

    A backslash is kept as it is, so escaping twice changes nothing (``\x1b`` stays four
    characters) and a Windows path stays readable.

    >>> print(_escape("x1\x1b]0;pwned\x07\tand\nnext\u202e"))
    x1\x1b]0;pwned\x07\tand\nnext\u202e
    """
    return _UNSAFE.sub(lambda m: repr(m.group())[1:-1], text)


def _escaped(value: Any) -> Any:
    r"""A copy of ``value`` with every text in it escaped (dataclasses, tuples, lists, dicts).

    An object that renders itself over several lines (an explanation, an impact report) is
    escaped field by field before it is rendered, so that a newline inside a value is shown as
    ``\n`` and cannot start a line of its own.
    """
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_escaped(v) for v in value)
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, dict):
        copy = value.copy()  # keeps a Counter a Counter and a defaultdict's factory
        copy.clear()
        dict.update(copy, {_escaped(k): _escaped(v) for k, v in value.items()})
        return copy
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _escaped(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **fields)
    return value


class _Out:
    """Where a command writes: the one place its output is made safe for a terminal.

    Human-readable text goes through :meth:`line` (or :meth:`lines`), one line a call, with
    every control character of the text escaped. Machine output (JSON, YAML, a CSV or HTML
    document) goes through :meth:`data` as it is, its format escaping its values, except that
    on a terminal control characters other than the newline are escaped too.
    """

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def is_terminal(self) -> bool:
        """Whether the stream is a terminal (progress counts are shown only there)."""
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty is not None and isatty())

    def line(self, text: str = "") -> None:
        """Write ``text`` as one line: a newline or control character in it is escaped."""
        self.stream.write(_escape(text) + "\n")

    def lines(self, value: Any, render: Callable[[Any], str] = str) -> None:
        """Write an object that renders itself over several lines, its values escaped first."""
        for text in render(_escaped(value)).split("\n"):
            self.line(text)

    def progress(self, text: str) -> None:
        """Overwrite the current line of a terminal with ``text`` (a count, no input text)."""
        self.stream.write("\r" + _escape(text))
        self.stream.flush()

    def data(self, text: str) -> None:
        """Write machine output (JSON, YAML, CSV, HTML) as it is; escaped on a terminal."""
        if self.is_terminal():
            text = _UNSAFE_IN_DATA.sub(lambda m: repr(m.group())[1:-1], text)
        self.stream.write(text)


class _UsageError(Exception):
    """A command's arguments do not fit together: exit status 2, as for argparse's errors."""


class _Failed(Exception):
    """A command cannot go on (a bad ``--as-of``, no such student): ``SystemExit``, status 1."""


class _Parser(argparse.ArgumentParser):
    """argparse, with the argument it complains about escaped (it is printed as given)."""

    def error(self, message: str) -> NoReturn:
        """Print the usage and ``message`` (escaped), and exit with status 2."""
        super().error(_escape(message))


def _require_files(paths: Iterable[str | None]) -> None:
    """Fail before any work is done when an input file named on the command line is missing.

    Raises:
        OSError: ``FileNotFoundError`` or ``IsADirectoryError`` naming the file (exit status 2).
    """
    for path in paths:
        if path is None or path == "-" or Path(path).is_file():
            continue
        code = errno.EISDIR if Path(path).is_dir() else errno.ENOENT
        error = IsADirectoryError if code == errno.EISDIR else FileNotFoundError
        raise error(code, os.strerror(code), path)


def _require_rejects_folder(args: argparse.Namespace) -> None:
    """Fail before any work is done when ``--rejects FILE`` cannot be written (no such folder)."""
    if args.rejects and not Path(args.rejects).parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), args.rejects)


def _file_problem(exc: OSError) -> str:
    """One line naming the file a command could not read or write, and why."""
    if exc.filename is None:
        return str(exc)
    return f"{exc.filename}: {exc.strerror or exc}"


def _ruleset_files(paths: Sequence[str]) -> list[tuple[str, list[str]]]:
    """Each rule set file to load, with the folder it was found in when a folder was named.

    A file found in a folder may extend any file of that folder's tree (``schools/x.yaml``
    extending ``../district.yaml``), as the one who named the folder allowed.
    """
    out: list[tuple[str, list[str]]] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = sorted(f for f in path.rglob("*.y*ml") if f.suffix in (".yaml", ".yml"))
            out += [(str(f), [p]) for f in found]
        else:
            out.append((p, []))
    return out


def _load(source: str, args: argparse.Namespace, roots: Sequence[str] = ()) -> CompiledRuleset:
    """Load a rule set named on the command line, its ``extends`` allowed in ``--extends-root``."""
    return load_ruleset(source, extends_roots=[*roots, *(args.extends_root or ())])


def _extends_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--extends-root",
        action="append",
        metavar="DIR",
        help="also let extends name files in this folder tree (default: only the built-ins and "
        "the loaded rule set's own folder tree); repeatable",
    )


def _load_all(
    paths: Sequence[str], args: argparse.Namespace
) -> tuple[list[CompiledRuleset], list[Problem]]:
    rulesets: list[CompiledRuleset] = []
    problems: list[Problem] = []
    for p, roots in _ruleset_files(paths):
        try:
            rulesets.append(_load(p, args, roots))
        except RulesetError as exc:
            problems += exc.problems
    return rulesets, problems


def _as_of(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _Failed(f"--as-of must be a date YYYY-MM-DD, got {text!r}") from None


def _write_rejects(rejects: list[DataError], args: argparse.Namespace, err: _Out) -> None:
    if args.rejects:
        with open(args.rejects, "w", encoding="utf-8") as fh:
            for r in rejects:
                fh.write(
                    json.dumps(
                        {
                            "source": r.source,
                            "student_id": r.student_id,
                            "code": r.code,
                            "field": r.field,
                            "message": r.reason,
                        }
                    )
                    + "\n"
                )
    for r in rejects[: args.show_rejects]:
        err.line(f"rejected: {r}")
    if len(rejects) > args.show_rejects:
        err.line(
            f"... {len(rejects) - args.show_rejects} more rejected records"
            f"{' (see ' + args.rejects + ')' if args.rejects else ' (use --rejects FILE)'}"
        )


def _table(rows: Sequence[Sequence[str]], out: _Out) -> None:
    cells = [[_escape(c) for c in row] for row in rows]  # columns as wide as what is printed
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    for n, row in enumerate(cells):
        out.line(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if n == 0:
            out.line("  ".join("-" * w for w in widths))


def _no_database(db: str, command: str, err: _Out) -> bool:
    """Say so (and return True) when ``db`` is neither a database URL nor an existing file."""
    from tierflow.store import is_url

    if is_url(db) or Path(db).is_file():
        return False
    err.line(f"tierflow {command}: no database file {db}")
    return True


def _stored_ruleset(named: Sequence[str], command: str, whose: str, err: _Out) -> str | None:
    """The built-in rule set the records name, or None after saying why on stderr.

    A store never names a file to load: its rows are data anyone who can write to the database
    may have edited (and ``audit verify`` has not run), so only a built-in id is taken from them;
    any other rule set is given with ``--ruleset``. The ids are printed with :func:`repr`.
    """
    found = list(dict.fromkeys(named))
    if len(found) != 1:
        listed = ", ".join(repr(n) for n in sorted(found)) or "none"
        err.line(f"tierflow export {command}: {whose} name rule sets {listed}; give --ruleset")
        return None
    if found[0] not in builtin_names():
        err.line(
            f"tierflow export {command}: {whose} name rule set {found[0]!r}, which "
            "is not built in; give --ruleset (pass -r FILE, the playbook's file: a rule set "
            "named in a store is only loaded if it is built in)"
        )
        return None
    return found[0]


def _write_export(document: Any, args: argparse.Namespace, out: _Out) -> None:
    """Write a packet or report as ``--format`` says, to ``--output`` or ``out``."""
    text: str = getattr(document, f"to_{args.format}")()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        out.data(text)


def _people(args: argparse.Namespace, command: str, err: _Out) -> dict[str, Any] | None:
    """The roster for ``--include-pii`` (problems on stderr, by file, line and id); None: no PII.

    Raises:
        _Failed: ``--include-pii`` without ``--students``, or the file cannot be read.
    """
    from tierflow.ingest import read_people

    if not args.include_pii:
        return None
    if not args.students:
        raise _Failed("--include-pii needs --students FILE")
    try:
        found = read_people(args.students)
    except OSError as exc:
        raise _Failed(f"cannot read {args.students}: {exc}") from None
    for problem in found.report.rejects:
        err.line(f"rejected: {problem}")
    for note in found.report.ignored:
        err.line(f"ignored: {note}")
    return dict(found.people)


def _pii_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--students",
        metavar="FILE",
        help="names and birth dates by student id (CSV, JSON, Ed-Fi Student XML)",
    )
    p.add_argument(
        "--include-pii",
        action="store_true",
        help="print names and dates of birth from --students (default: student ids only)",
    )


def _reject_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rejects", metavar="FILE", help="write rejected records here as JSON Lines")
    p.add_argument(
        "--show-rejects", type=int, default=20, metavar="N", help="print the first N rejects"
    )
    p.add_argument(
        "--strict", action="store_true", help="exit with status 1 if any record is rejected"
    )
