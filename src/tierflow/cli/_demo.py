"""``tierflow demo``: the bundled sample district through a built-in rule set.

The work is :mod:`tierflow.demo`'s; this module prints it.
"""

from __future__ import annotations

import argparse
from collections import Counter

from tierflow.cli._shell import _Out, _table
from tierflow.demo import SampleRun, evaluate_sample, run_sample_day
from tierflow.errors import StoreError
from tierflow.evaluate import load_ruleset

__all__: list[str] = []


def _cmd_demo(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    ruleset = load_ruleset(args.ruleset)
    sample = evaluate_sample(ruleset)
    total = len(sample.students)
    out.line(
        f"tierflow demo: {total:,} students of the bundled sample district through the built-in "
        f"'{ruleset.id}' rule set ({ruleset.ref}), as of {sample.as_of.isoformat()}"
    )
    out.line()
    rows: list[tuple[str, ...]] = [("tier", "students", "share")]
    for t in ruleset.tiers:
        n = sample.tiers[t.id]
        rows.append((f"{t.id} ({t.label or t.id})", f"{n:,}", f"{n / max(total, 1):.1%}"))
    _table(rows, out)
    out.line()
    rows = [("intervention", "owner", "students")]
    # Every kind, not the top ten: a reader adds the rows up against the headline (issue 13).
    for iv_id, n in sample.interventions.most_common():
        rows.append((iv_id, ruleset.interventions[iv_id].owner, f"{n:,}"))
    _table(rows, out)
    if sample.legal:
        out.line()
        rows = [("legal step", "due", "blocked", "exempt")]
        for step in ruleset.legal_steps:
            counts = (f"{sample.legal[(step.id, s)]:,}" for s in ("due", "blocked", "exempt"))
            rows.append((step.label or step.id, *counts))
        _table(rows, out)
    rejects = sample.report.rejects
    if rejects:
        out.line()
        out.line(f"{len(rejects)} records rejected")
        for r in rejects[:5]:
            out.line(f"  {r}")
    status = _demo_records(sample, args.db, out, err)
    if sample.example is not None:
        out.line()
        out.line(f"One student, explained ({sample.example.source}):")
        out.lines(ruleset.explain(sample.example.facts, as_of=sample.as_of))
    return status


def _demo_records(sample: SampleRun, db: str, out: _Out, err: _Out) -> int:
    """Run the workflow over the sample's students into ``db`` and print what it did."""
    try:
        day = run_sample_day(sample, db)
    except StoreError as exc:
        err.line(f"tierflow demo: {exc}")
        return 2
    memory = day.location == ":memory:"
    where = "in memory (gone when the demo ends)" if memory else f"in {day.location}"
    plan, after, students = day.plan, day.events_after, day.students_stored
    out.line()
    out.line(f"Workflow records {where} (SQLite, tierflow.store):")
    if day.events_added == 0:
        out.line(
            f"nothing changed: {sample.as_of} was already run ({len(plan.opened)} opened, 0 "
            f"events added); the store holds {after:,} events for {students:,} students"
        )
        return 0
    full = len(plan.unassigned)
    out.line(
        f"this run opened {len(plan.opened):,} interventions"
        + (f" ({full:,} without an owner: every eligible caseload was full)" if full else "")
        + f", reported {len(plan.legal_due):,} legal steps due and added {day.events_added:,} "
        f"events; the store holds {after:,} events for {students:,} students"
    )
    out.line()
    rows: list[tuple[str, ...]] = [("opened", "owner role", "interventions")]
    opened = Counter(iv.intervention for iv in plan.opened)
    # Every kind opened, so the rows sum to the "opened" count above.
    for iv_id, n in opened.most_common():
        rows.append((iv_id, sample.ruleset.interventions[iv_id].owner, f"{n:,}"))
    _table(rows, out)
    return 0
