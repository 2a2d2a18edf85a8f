"""``tierflow demo``: the bundled sample district through a built-in rule set."""

from __future__ import annotations

import argparse
import collections
import datetime as dt
from importlib import resources
from typing import Any

from tierflow.cli._evaluate import _evaluate_stream
from tierflow.cli._shell import (
    _Out,
    _table,
)
from tierflow.errors import (
    DataError,
    StoreError,
)
from tierflow.evaluate import CompiledRuleset, load_ruleset

__all__ = []


def _cmd_demo(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow._sample import SAMPLE_AS_OF

    ruleset = load_ruleset(args.ruleset)
    sample = resources.files("tierflow") / "data" / "sample_district.jsonl"
    tiers: collections.Counter[str] = collections.Counter()
    ivs: collections.Counter[str] = collections.Counter()
    legal: collections.Counter[tuple[str, str]] = collections.Counter()
    rejects: list[DataError] = []
    first_legal = None
    total = 0
    students: list[dict[str, Any]] = []
    with resources.as_file(sample) as path:
        for item, decision in _evaluate_stream(ruleset, str(path), SAMPLE_AS_OF, rejects, None):
            total += 1
            students.append(dict(item.facts))
            tiers[decision.tier] += 1
            ivs.update(i.id for i in decision.interventions)
            legal.update((a.step, a.status) for a in decision.legal_actions)
            if first_legal is None and decision.legal_blocked and decision.tier_level >= 2:
                first_legal = item
    out.line(
        f"tierflow demo: {total:,} students of the bundled sample district through the built-in "
        f"'{ruleset.id}' rule set ({ruleset.ref}), as of {SAMPLE_AS_OF.isoformat()}"
    )
    out.line()
    rows: list[tuple[str, ...]] = [("tier", "students", "share")]
    for t in ruleset.tiers:
        rows.append(
            (
                f"{t.id} ({t.label or t.id})",
                f"{tiers[t.id]:,}",
                f"{tiers[t.id] / max(total, 1):.1%}",
            )
        )
    _table(rows, out)
    out.line()
    rows = [("intervention", "owner", "students")]
    for iv_id, n in ivs.most_common(10):
        rows.append((iv_id, ruleset.interventions[iv_id].owner, f"{n:,}"))
    _table(rows, out)
    if legal:
        out.line()
        rows = [("legal step", "due", "blocked", "exempt")]
        for step in ruleset.legal_steps:
            rows.append(
                (
                    step.label or step.id,
                    *(f"{legal[(step.id, s)]:,}" for s in ("due", "blocked", "exempt")),
                )
            )
        _table(rows, out)
    if rejects:
        out.line()
        out.line(f"{len(rejects)} records rejected")
        for r in rejects[:5]:
            out.line(f"  {r}")
    status = _demo_records(ruleset, students, args.db, SAMPLE_AS_OF, out, err)
    if first_legal is not None:
        out.line()
        out.line(f"One student, explained ({first_legal.source}):")
        out.lines(ruleset.explain(first_legal.facts, as_of=SAMPLE_AS_OF))
    return status


def _demo_records(
    ruleset: CompiledRuleset,
    facts: list[dict[str, Any]],
    db: str,
    day: dt.date,
    out: _Out,
    err: _Out,
) -> int:
    """Run the workflow engine over the demo's students, keeping its records in ``db``.

    A generated staff (four people per owner role at each school, 75 cases each) owns the
    interventions. Running the same day again opens nothing and adds no event.
    """
    from tierflow.store import SqlRepository
    from tierflow.workflow import Engine, Roster, StaffMember

    roles = sorted({iv.owner for iv in ruleset.interventions.values()})
    schools = sorted({str(f["school_id"]) for f in facts if f.get("school_id") is not None})
    staff = [
        StaffMember(f"{school}-{role}-{n}", school, (role,), caseload_limit=75)
        for school in schools
        for role in roles
        for n in range(1, 5)
    ]
    where = "in memory (gone when the demo ends)" if db == ":memory:" else f"in {db}"
    try:
        with SqlRepository(db) as repo:
            before = sum(seq for seq, _ in repo.chain_heads().values())
            engine = Engine(ruleset, repository=repo, roster=Roster(staff))
            with repo.batch():
                plan = engine.run(day, facts)
            heads = repo.chain_heads()
            after = sum(seq for seq, _ in heads.values())
            where = "in memory (gone when the demo ends)" if db == ":memory:" else f"in {repo.path}"
    except StoreError as exc:
        err.line(f"tierflow demo: {exc}")
        return 2
    out.line()
    out.line(f"Workflow records {where} (SQLite, tierflow.store):")
    if after == before:
        out.line(
            f"nothing changed: {day} was already run ({len(plan.opened)} opened, 0 events "
            f"added); the store holds {after:,} events for {len(heads):,} students"
        )
        return 0
    opened = collections.Counter(iv.intervention for iv in plan.opened)
    full = len(plan.unassigned)
    out.line(
        f"this run opened {len(plan.opened):,} interventions"
        + (f" ({full:,} without an owner: every eligible caseload was full)" if full else "")
        + f", reported {len(plan.legal_due):,} legal steps due and added {after - before:,} "
        f"events; the store holds {after:,} events for {len(heads):,} students"
    )
    out.line()
    rows: list[tuple[str, ...]] = [("opened", "owner role", "interventions")]
    for iv_id, n in opened.most_common(10):
        rows.append((iv_id, ruleset.interventions[iv_id].owner, f"{n:,}"))
    _table(rows, out)
    return 0
