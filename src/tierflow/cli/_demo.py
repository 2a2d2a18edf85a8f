"""``tierflow demo``: the bundled sample district through a built-in rule set.

The work is :mod:`tierflow.demo`'s; this module prints it.
"""

from __future__ import annotations

import argparse
import importlib.util
from collections import Counter
from pathlib import Path

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
    if status == 0:
        status = _demo_letters(sample, args, out, err)
    if status == 0:
        status = _demo_dashboard(sample, args, out, err)
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


def _demo_letters(sample: SampleRun, args: argparse.Namespace, out: _Out, err: _Out) -> int:
    """Write the day's letters home from the store the run kept, and say where."""
    from tierflow.demo import SAMPLE_DISTRICT, sample_families, sample_staff
    from tierflow.notices import NoticeError
    from tierflow.report import produce_notices
    from tierflow.store import SqlRepository
    from tierflow.workflow import Engine

    out.line()
    if not all(importlib.util.find_spec(m) for m in ("jinja2", "babel")):
        out.line(
            "Letters home: none written; install the notices extra: pip install 'tierflow[notices]'"
        )
        return 0
    if args.db == ":memory:":
        out.line("Letters home: none written, the records were kept in memory (use --db FILE)")
        return 0
    found = sample_families()
    try:
        with SqlRepository(args.db) as repo:
            engine = Engine(
                sample.ruleset,
                repository=repo,
                roster=sample_staff(sample.ruleset, sample.students),
            )
            mailing = produce_notices(
                engine,
                on=sample.as_of,
                directory=args.letters or _beside(args.db, "-letters"),
                facts=sample.students,
                families=found.families,
                students=found.students,
                schools=found.schools,
                district=SAMPLE_DISTRICT,
                pdf=args.pdf,
                by="tierflow-demo",
            )
    except NoticeError as exc:
        err.line(f"tierflow demo: letters: {exc}")
        return 1
    except StoreError as exc:
        err.line(f"tierflow demo: {exc}")
        return 2
    out.line(
        f"Letters home (the notices the day's steps and interventions call for), {mailing.folder}:"
    )
    if not mailing.notices:
        out.line(f"nothing new: the {mailing.already:,} notices due were written by an earlier run")
        return 0
    languages = Counter(n.language for n in mailing.notices)
    kinds = Counter(n.notice for n in mailing.notices)
    out.line(
        f"wrote {len(mailing.notices):,} notices ("
        + ", ".join(f"{k} {v:,}" for k, v in kinds.most_common())
        + "), by language "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(languages.items()))
    )
    for school, page in sorted(mailing.pages.items()):
        name = found.schools[school].name if school in found.schools else school
        pdf = mailing.pdfs.get(school)
        out.line(f"  {name}: {page}" + (f" and {pdf}" if pdf else ""))
    if mailing.mail_house is not None:
        out.line(f"  for the mail house: {mailing.mail_house}")
    for school, langs in sorted(mailing.required_languages.items()):
        if langs:
            out.line(
                f"  {school} must also write to families in: {', '.join(sorted(langs))} (EC 48985)"
            )
    for problem in mailing.problems[:5]:
        out.line(f"  not produced: {problem}")
    return 0


def _demo_dashboard(sample: SampleRun, args: argparse.Namespace, out: _Out, err: _Out) -> int:
    """Write the district dashboard of the day's records, and say where."""
    from tierflow.demo import sample_staff
    from tierflow.report import dashboard
    from tierflow.store import SqlRepository

    out.line()
    if importlib.util.find_spec("matplotlib") is None:
        out.line(
            "Dashboard: none written; install the reports extra: pip install 'tierflow[reports]'"
        )
        return 0
    if args.db == ":memory:":
        out.line("Dashboard: none written, the records were kept in memory (use --db FILE)")
        return 0
    try:
        with SqlRepository(args.db) as repo:
            page = dashboard(
                repo,
                sample.students,
                as_of=sample.as_of,
                ruleset=sample.ruleset,
                roster=sample_staff(sample.ruleset, sample.students),
                title="Sample district attendance dashboard",
            )
    except StoreError as exc:
        err.line(f"tierflow demo: {exc}")
        return 2
    target = Path(args.dashboard or _beside(args.db, "-dashboard.html"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, "utf-8")
    out.line(
        f"Dashboard (chronic absence, coverage by group, operations; one offline page): {target}"
    )
    return 0


def _beside(db: str, suffix: str) -> str:
    """A path beside the SQLite file ``db``, named after it (``demo.db`` -> ``demo-letters``).

    A database URL has no folder: the current directory, named ``tierflow-demo``.
    """
    if "://" in db:
        return f"tierflow-demo{suffix}"
    path = Path(db)
    return str(path.with_name(path.stem + suffix))
