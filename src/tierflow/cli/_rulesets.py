"""``tierflow check``, ``test``, ``diff`` and ``schema``: rule sets as source code."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tierflow.cli._shell import (
    _as_of,
    _load,
    _load_all,
    _Out,
    _require_files,
    _require_rejects_folder,
    _write_rejects,
)
from tierflow.errors import (
    DataError,
    DataReport,
)
from tierflow.ingest import read_facts

__all__ = []


def _cmd_check(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.analysis import analyze

    rulesets, problems = _load_all(args.paths, args)
    errors = len(problems)
    for r in rulesets:
        problems.extend(f.as_problem() for f in analyze(r))
    warnings = sum(1 for p in problems if p.severity == "warning")
    failed = bool(errors or (args.strict and warnings))
    if args.format == "json":
        document = {
            "ok": not failed,
            "rulesets": [
                {"id": r.id, "version": r.version, "files": list(r.files)} for r in rulesets
            ],
            "problems": [
                {
                    "file": p.span.file,
                    "line": p.span.line,
                    "col": p.span.col,
                    "code": p.code,
                    "message": p.message,
                    "path": p.path,
                    "hint": p.hint,
                    "severity": p.severity,
                }
                for p in problems
            ],
        }
        out.data(json.dumps(document, indent=2) + "\n")
    else:
        for p in problems:
            out.line(f"{p}")
        for r in rulesets:
            out.line(
                f"ok {r.files[-1]} ({r.id} {r.version}, {len(r.tiers)} tiers, "
                f"{len(r.spec.rules)} rules, {len(r.legal_steps)} legal steps)"
            )
        if errors:
            out.line(f"{errors} problem(s)")
        if warnings:
            out.line(f"{warnings} warning(s){' (--strict: failing)' if args.strict else ''}")
    return 1 if failed else 0


def _cmd_test(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.analysis import boundary_cases, coverage

    rulesets, problems = _load_all(args.paths, args)
    for p in problems:
        out.line(f"{p}")
    if args.boundaries:
        import yaml

        for r in rulesets:
            out.line(f"# boundary cases for {r.id}: review, then paste into its tests:")
            out.data(yaml.safe_dump(boundary_cases(r), sort_keys=False, width=100))
        return 1 if problems else 0
    passed = failed = 0
    for r in rulesets:
        for result in r.run_tests():
            if result.passed:
                passed += 1
                if args.verbose:
                    out.line(f"PASS {r.id}: {result.name}")
            else:
                failed += 1
                out.line(f"FAIL {result.location}: {r.id}: {result.name}")
                for d in result.diffs:
                    out.line(f"    {d}")
    for r in rulesets:
        if args.coverage:
            out.line(f"coverage of {r.id}: {coverage(r).summary()}")
    out.line(f"{passed} passed, {failed} failed")
    return 1 if failed or problems else 0


def _cmd_diff(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.analysis import Impact, impact

    old, new = _load(args.old, args), _load(args.new, args)
    _require_files([args.facts])
    _require_rejects_folder(args)
    kinds = {name: decl.type for r in (old, new) for name, decl in r.spec.facts.extra.items()}
    rejects: list[DataError] = []
    report = DataReport(rejects=rejects)  # a record that cannot be read is reported, not dropped
    sources: dict[str, str | None] = {}  # student id -> its record (None: several records)
    taken = 0

    def records() -> Iterator[dict[str, Any]]:
        nonlocal taken
        for item in read_facts(args.facts, extra_kinds=kinds, report=report):
            taken += 1
            sid = str(item.facts.get("student_id"))
            sources[sid] = None if sid in sources else item.source
            yield item.facts

    result = impact(old, new, records(), as_of=_as_of(args.as_of))
    read = taken + report.read
    for exc in result.rejected:  # records either rule set could not evaluate
        rejects.append(exc.with_source(sources.get(str(exc.student_id))))
    result.rejected = rejects
    if args.format == "json":
        out.data(json.dumps(result.to_dict(), indent=2) + "\n")
    else:
        out.lines(result, Impact.report)
    _write_rejects(rejects, args, err)
    err.line(f"read {read:,} records: {result.students:,} compared, {len(rejects):,} rejected")
    return 1 if rejects and args.strict else 0


def _cmd_schema(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.spec import ruleset_json_schema

    text = json.dumps(ruleset_json_schema(child=args.child), indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        out.data(text)
    return 0
