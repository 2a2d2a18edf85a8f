"""``tierflow audit`` and ``tierflow export``: a store's records, verified and exported."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from tierflow.cli._shell import (
    _as_of,
    _load,
    _no_database,
    _Out,
    _people,
    _Progress,
    _stored_ruleset,
    _write_export,
)
from tierflow.errors import (
    StoreError,
)
from tierflow.evaluate import CompiledRuleset, RulesetRef

__all__: list[str] = []


def _compare_recorded(
    recorded: Sequence[RulesetRef], ruleset: CompiledRuleset, command: str, err: _Out
) -> None:
    """Say on ``err`` when the rule set used is not the one the records were made with.

    The store keeps each decision's rule set identity (id, version, content hash), never a
    path to load; this compares that identity with the rule set given (``-r``, or the
    built-in of the recorded id), so an export cited from an edited or newer playbook says so.
    """
    made_with = {ref.content_hash: ref for ref in recorded}
    if not made_with or ruleset.ref.content_hash in made_with:
        return
    listed = ", ".join(sorted(str(ref) for ref in made_with.values()))
    err.line(
        f"tierflow export {command}: warning: the records were made with rule set {listed}; "
        f"citing {ruleset.ref}, whose content differs"
    )


def _cmd_audit_verify(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.store import Anchor, SqlRepository, verify

    if _no_database(args.db, "audit verify", err):
        return 2
    saved: Anchor | None = None
    if args.anchor is not None:
        try:
            saved = Anchor.from_json(Path(args.anchor).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            err.line(f"tierflow audit verify: cannot read the anchor {args.anchor}: {exc}")
            return 2
        except StoreError as exc:
            err.line(f"tierflow audit verify: {args.anchor}: {exc}")
            return 2
    shown = _Progress(err, "verifying student chains", args.progress)
    try:
        with SqlRepository(args.db) as repo:
            try:
                findings = verify(repo, anchor=saved, progress=shown)
            finally:
                shown.close()
            rows, students = len(repo.chain_rows()), len(repo.chain_heads())
            args.db = repo.path  # a URL is printed without its password
    except StoreError as exc:
        err.line(f"tierflow audit verify: {exc}")
        return 2
    for finding in findings:
        out.line(f"{args.db}: {finding}")
    if findings:
        n = len(findings)
        out.line(f"{n} problem{'s' * (n != 1)}: the records were changed outside tierflow")
        return 1
    out.line(f"{args.db}: ok, {rows:,} rows in {students:,} student chains verified")
    return 0


def _cmd_audit_anchor(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.store import SqlRepository, anchor

    if _no_database(args.db, "audit anchor", err):
        return 2
    try:
        with SqlRepository(args.db) as repo:
            saved = anchor(repo)
    except StoreError as exc:
        err.line(f"tierflow audit anchor: {exc}")
        return 2
    text = saved.to_json() + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        out.data(text)
    # Apart from the anchor's text: keep the digest somewhere else again (an anchor whose heads
    # were edited no longer matches it).
    err.line(f"digest: {saved.digest}")
    return 0


def _cmd_export_packet(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.report import build_packet
    from tierflow.store import SqlRepository

    if _no_database(args.db, "export packet", err):
        return 2
    people = _people(args, "packet", err)
    try:
        with SqlRepository(args.db) as repo:
            name = args.ruleset
            refs = [e.ruleset for e in repo.events(args.student) if e.ruleset]
            if name is None:
                whose = f"the records of student {args.student!r}"
                name = _stored_ruleset([r.id for r in refs[:1]], "packet", whose, err)
                if name is None:
                    return 2
            ruleset = _load(name, args)
            _compare_recorded(refs, ruleset, "packet", err)
            packet = build_packet(
                repo,
                args.student,
                ruleset,
                as_of=_as_of(args.as_of),
                step=args.readiness,
                people=people,
                include_personal=people is not None,
            )
    except (StoreError, KeyError) as exc:
        err.line(f"tierflow export packet: {exc}")
        return 2
    _write_export(packet, args, out)
    return 0


def _cmd_export_compliance(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.report import compliance_report
    from tierflow.store import SqlRepository

    if _no_database(args.db, "export compliance", err):
        return 2
    people = _people(args, "compliance", err)
    try:
        with SqlRepository(args.db) as repo:
            students = repo.students()
            name = args.ruleset
            refs = [
                e.ruleset
                for s in students
                for e in repo.events(s)
                if e.ruleset is not None and e.kind in ("legal_issued", "decision")
            ]
            if name is None:
                name = _stored_ruleset([r.id for r in refs], "compliance", "the records", err)
                if name is None:
                    return 2
            ruleset = _load(name, args)
            _compare_recorded(refs, ruleset, "compliance", err)
            report = compliance_report(
                repo,
                ruleset,
                students=students,
                people=people,
                include_personal=people is not None,
            )
    except StoreError as exc:
        err.line(f"tierflow export compliance: {exc}")
        return 2
    _write_export(report, args, out)
    err.line(f"{report.summary()}")
    return 0
