"""Benchmark: tierflow's compiled rule sets against hand-written Python of identical meaning.

Generates student fact records with a fixed seed (:func:`tierflow._sample.generate_facts`),
evaluates them with the built-in ``mtss`` and ``ca`` rule sets and with the functions below
(written by hand the way a district developer would code the same playbook), checks that every
decision agrees, and prints the CPU time a record and the ratio tierflow / hand-written, three
ways: streamed (``evaluate`` one record at a time, each result dropped), kept (``evaluate_many``
into a list) and converted to plain dicts (each decision turned into a dict; the hand-written
side returns the same dict). Each figure is the median of ``--repeat`` alternating samples of
process CPU time (``_sampling.py``), with the garbage collector on, frozen after loading
(``gc.freeze()``) and off; a ratio is given with its spread over the rounds.

The hand-written functions are the fastest straightforward code giving the same answers: a
student with nothing assigned costs no catalogue scan, and the conferences held are read once a
student, when a legal step needs them.

Also measures loading plus compiling each built-in rule set (target: under 50 ms) and the
memory a streamed evaluation holds.

Run::

    python benchmarks/bench_evaluate.py            # 200,000 records, 5 rounds
    python benchmarks/bench_evaluate.py --records 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import tierflow
from tierflow._sample import SAMPLE_AS_OF, generate_facts

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sampling import GC_SETTINGS, alternate  # beside this script; benchmarks/ is not a package

# A decision reduced to what both sides must agree on: tier, interventions (catalogue order),
# legal steps as (step, status, number of missing pieces of evidence).
Outcome = tuple[str, tuple[str, ...], tuple[tuple[str, str, int], ...]]

# --- hand-written mtss ------------------------------------------------------------------------

_MTSS_CATALOGUE = (
    "weekly-checkin",
    "family-call",
    "attendance-plan",
    "transport-support",
    "nurse-consult",
    "counseling-referral",
    "basic-needs-referral",
    "mentor",
    "safety-plan",
    "family-meeting",
    "foster-liaison",
    "el-family-outreach",
    "iep-team-notice",
    "home-visit",
    "wraparound-plan",
)
_CA_CATALOGUE = (*_MTSS_CATALOGUE, "root-cause-meeting", "sart-meeting")
_MTSS_ORDER = {iv: i for i, iv in enumerate(_MTSS_CATALOGUE)}
_CA_ORDER = {iv: i for i, iv in enumerate(_CA_CATALOGUE)}
_CAUSE_SUPPORT = (
    ("transportation", "transport-support"),
    ("health", "nurse-consult"),
    ("mental_health", "counseling-referral"),
    ("housing", "basic-needs-referral"),
    ("food", "basic-needs-referral"),
    ("engagement", "mentor"),
    ("bullying", "safety-plan"),
    ("family", "family-meeting"),
)
_GROUP_SUPPORT = (
    ("homeless", "basic-needs-referral"),
    ("foster", "foster-liaison"),
    ("english_learner", "el-family-outreach"),
    ("iep", "iep-team-notice"),
    ("section_504", "iep-team-notice"),
)


# A student stays in their previous tier a little below its entry (hysteresis): Tier 3 down to
# 18%, Tier 2 down to 4%, once 10 days are enrolled.
_STAY_TIER3 = 0.18
_STAY_TIER2 = 0.04


def _mtss_core(f: Mapping[str, Any]) -> tuple[str, set[str]]:
    enrolled = f["days_enrolled"]
    absent = f["days_absent"]
    rate = absent / enrolled if enrolled else 0.0
    counts = enrolled >= 10
    previous = f.get("previous_tier")
    if counts and (rate >= 0.20 or (previous == "tier3" and rate >= _STAY_TIER3)):
        tier, assigned = "tier3", {"home-visit", "wraparound-plan"}
    elif (
        (counts and rate >= 0.05)
        or (not counts and absent >= 2)
        or (counts and previous == "tier2" and rate >= _STAY_TIER2)
    ):
        tier, assigned = "tier2", {"weekly-checkin", "family-call"}
    else:
        return "tier1", set()
    if tier == "tier2" and counts and rate >= 0.10:
        assigned.add("attendance-plan")
    causes = f.get("causes") or ()
    for cause, support in _CAUSE_SUPPORT:
        if cause in causes:
            assigned.add(support)
    groups = f.get("groups") or ()
    for group, support in _GROUP_SUPPORT:
        if group in groups:
            assigned.add(support)
    return tier, assigned


def _in_order(assigned: set[str], order: Mapping[str, int]) -> tuple[str, ...]:
    """The assigned interventions in catalogue order (nothing to sort for most students)."""
    if not assigned:
        return ()
    if len(assigned) == 1:
        return tuple(assigned)
    return tuple(sorted(assigned, key=order.__getitem__))


def mtss_by_hand(f: Mapping[str, Any], as_of: dt.date) -> Outcome:
    """The mtss playbook, written by hand."""
    tier, assigned = _mtss_core(f)
    return tier, _in_order(assigned, _MTSS_ORDER), ()


# --- hand-written ca ----------------------------------------------------------------------------

_CA_STEPS = (
    # step, from truancies, previous step, min days after it, conferences held or attempted
    # (EC 48262: a conscientious effort, so a documented attempt counts), supportive, outcome
    ("not1", 3, None, 0, (), 0, False),
    ("not2", 6, "not1", 10, (), 1, False),
    ("not3", 9, "not2", 10, ("parent_conference",), 2, False),
    ("sarb-referral", 9, "not3", 0, (), 0, False),
)


def _sarb_checklist_unmet(history: Mapping[str, Any], as_of: dt.date) -> int:
    """How many items of ca's SARB readiness checklist (practice, EC 48263) are not documented.

    Letters NOT1-NOT3; 3+ parent contacts (check-ins plus conferences held or attempted); a
    parent conference held or attempted; a home visit tried, attempted or waived with a reason;
    a SART meeting held (not only attempted); a tier 2+ intervention with an outcome; the
    attendance-plan (contract) tried.
    """
    on = dt.date.fromisoformat
    steps = {s["step"] for s in history.get("legal_steps", ()) if on(s["issued_on"]) <= as_of}
    conferences = [c for c in history.get("conferences", ()) if on(c["held_on"]) <= as_of]
    held = {c["kind"] for c in conferences if c.get("outcome", "held") == "held"}
    attempted = {c["kind"] for c in conferences}
    tried = [i for i in history.get("interventions", ()) if on(i["started_on"]) <= as_of]
    names = {i["intervention"] for i in tried}
    contacts = sum(i.get("check_ins") or 0 for i in tried) + len(conferences)
    items = (
        {"not1", "not2", "not3"} <= steps,
        contacts >= 3,
        "parent_conference" in attempted,
        "home-visit" in names or "home_visit" in attempted or "home_visit_waived" in held,
        "sart" in held,
        any(i["tier_level"] >= 2 and i.get("outcome") for i in tried),
        "attendance-plan" in names,
    )
    return sum(1 for ok in items if not ok)


def ca_by_hand(f: Mapping[str, Any], as_of: dt.date) -> Outcome:
    """The ca playbook (mtss plus California truancy law), written by hand."""
    tier, assigned = _mtss_core(f)
    unexcused = f["days_unexcused"]
    truancies = unexcused + (f.get("tardies_over_30") or 0)
    if truancies >= 3:
        assigned.add("root-cause-meeting")
    enrolled = f["days_enrolled"]
    # EC 48263.6: 10% unexcused "from the date of enrollment to the current date", so from the
    # first enrolled day (not mtss's 10-day minimum for rates).
    if enrolled >= 1 and unexcused / enrolled >= 0.10:
        assigned.add("sart-meeting")
    interventions = _in_order(assigned, _CA_ORDER)
    if truancies < 3:
        return tier, interventions, ()
    history = f.get("history") or {}
    on = dt.date.fromisoformat
    issued = {}
    for s in history.get("legal_steps", ()):
        when = on(s["issued_on"])
        if when <= as_of:
            issued[s["step"]] = when
    held: set[str] | None = None  # conferences held or attempted, read once if a step needs them
    legal = []
    for step, start, previous, min_days, conferences, supportive, outcome in _CA_STEPS:
        if truancies < start or step in issued:
            continue
        missing = 0
        if previous is not None:
            when = issued.get(previous)
            if when is None or (min_days and (as_of - when).days < min_days):
                missing += 1
        if conferences:
            if held is None:
                held = {
                    c["kind"] for c in history.get("conferences", ()) if on(c["held_on"]) <= as_of
                }
            missing += sum(1 for c in conferences if c not in held)
        if step == "sarb-referral":
            missing += _sarb_checklist_unmet(history, as_of)
        if supportive:
            tried = sum(
                1
                for i in history.get("interventions", ())
                if i["tier_level"] >= 2
                and on(i["started_on"]) <= as_of
                and (not outcome or i.get("outcome") is not None)
            )
            missing += tried < supportive
        legal.append((step, "blocked" if missing else "due", missing))
    return tier, interventions, tuple(legal)


# --- measuring ----------------------------------------------------------------------------------


_PREVIOUS = ("tier3", "tier2", "tier1", None)


def _with_previous_tier(index: int, facts: dict[str, Any]) -> dict[str, Any]:
    """Give three records of four a previous tier (as a workflow passes its last decision's)."""
    previous = _PREVIOUS[index % len(_PREVIOUS)]
    return facts if previous is None else {**facts, "previous_tier": previous}


def _outcome(d: tierflow.Decision) -> Outcome:
    return (
        d.tier,
        tuple(iv.id for iv in d.interventions),
        tuple((a.step, a.status, len(a.missing)) for a in d.legal_actions),
    )


def as_row(d: tierflow.Decision) -> dict[str, Any]:
    """A decision as a plain dict, as a host writing rows or JSON would convert it."""
    return {
        "student_id": d.student_id,
        "tier": d.tier,
        "interventions": [iv.id for iv in d.interventions],
        "legal": [(a.step, a.status, len(a.missing)) for a in d.legal_actions],
    }


def row_by_hand(
    by_hand: Callable[[Mapping[str, Any], dt.date], Outcome],
) -> Callable[[Mapping[str, Any], dt.date], dict[str, Any]]:
    """The hand-written function returning the same plain dict directly."""

    def row(f: Mapping[str, Any], as_of: dt.date) -> dict[str, Any]:
        tier, interventions, legal = by_hand(f, as_of)
        return {
            "student_id": f["student_id"],
            "tier": tier,
            "interventions": list(interventions),
            "legal": list(legal),
        }

    return row


def _drain(results: Iterable[object]) -> None:
    for _ in results:
        pass


def _load_ms(name: str, repeat: int) -> tuple[float, float]:
    """Best and median wall time, in ms, of loading and compiling built-in ``name`` afresh."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        tierflow.load_ruleset(name)
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def _peak_streaming_kib(ruleset: tierflow.CompiledRuleset, records: Iterable[Any]) -> float:
    tracemalloc.start()
    for decision in ruleset.evaluate_many(records, as_of=SAMPLE_AS_OF):
        decision.tier  # noqa: B018 - consume the decision as a host would
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)

    print(f"Python {sys.version.split()[0]}, tierflow {tierflow.__version__}")
    print(f"generating {args.records:,} records (seed {args.seed}) ...")
    records = [
        _with_previous_tier(i, f)
        for i, f in enumerate(generate_facts(args.records, seed=args.seed))
    ]
    as_of = SAMPLE_AS_OF

    print("\nload + compile (fresh each time)       best ms   median ms   target")
    for name in ("mtss", "ca", "tx"):
        best, median = _load_ms(name, max(args.repeat * 4, 10))
        verdict = "ok" if best < 50 else "OVER"
        print(f"  {name:<36} {best:8.1f}   {median:9.1f}   < 50 ms {verdict}")

    baselines: dict[str, Callable[[Mapping[str, Any], dt.date], Outcome]] = {
        "mtss": mtss_by_hand,
        "ca": ca_by_hand,
    }
    failures = 0
    n = len(records)
    for name, by_hand in baselines.items():
        ruleset = tierflow.load_ruleset(name)
        evaluate, evaluate_many = ruleset.evaluate, ruleset.evaluate_many
        mismatches = [
            (f["student_id"], got, want)
            for f in records
            if (got := _outcome(evaluate(f, as_of=as_of))) != (want := by_hand(f, as_of))
        ]
        batch = [_outcome(d) for d in evaluate_many(records, as_of=as_of)]
        mismatches += [
            (f["student_id"], got, want)
            for f, got in zip(records, batch, strict=True)
            if got != (want := by_hand(f, as_of))
        ]
        by_hand_row = row_by_hand(by_hand)
        if [as_row(d) for d in evaluate_many(records, as_of=as_of)] != [
            by_hand_row(f, as_of) for f in records
        ]:
            mismatches.append(("(rows)", "the plain dicts differ", ""))
        if mismatches:
            failures += 1
            print(f"  {name}: {len(mismatches)} decisions differ from the hand-written function")
            for sid, got, want in mismatches[:5]:
                print(f"    {sid}: tierflow {got}\n    {' ' * len(sid)}  by hand  {want}")
            continue
        print(f"\n{name}: {n:,} decisions equal (one at a time, in a batch, as plain dicts)")
        fn = ruleset._fn  # the generated function alone, for the breakdown
        # stream: each result dropped as the next is made; kept: a list of every result.
        modes: dict[str, dict[str, Callable[[], object]]] = {
            "stream": {
                "hand-written": lambda: _drain(by_hand(f, as_of) for f in records),  # noqa: B023
                "evaluate": lambda: _drain(evaluate(f, as_of=as_of) for f in records),  # noqa: B023
                "generated fn only": lambda: _drain(fn(f, as_of) for f in records),  # noqa: B023
            },
            "kept": {
                "hand-written": lambda: [by_hand(f, as_of) for f in records],  # noqa: B023
                "evaluate_many": lambda: list(evaluate_many(records, as_of=as_of)),  # noqa: B023
            },
            "dicts": {
                "hand-written": lambda: [by_hand_row(f, as_of) for f in records],  # noqa: B023
                "evaluate_many": lambda: [
                    as_row(d)
                    for d in evaluate_many(records, as_of=as_of)  # noqa: B023
                ],
            },
        }
        head = "".join(f"{'GC ' + c + ': us':>14} {'ratio (min-max)':>20}" for c in GC_SETTINGS)
        print(f"  {'':<30}{head}")
        for mode, runs in modes.items():
            by_setting = [alternate(runs, args.repeat, collector=c) for c in GC_SETTINGS]
            for label in runs:
                cells = []
                for samples in by_setting:
                    us = samples.median(label) / n * 1e6
                    ratio = "" if label == "hand-written" else samples.ratio(label, "hand-written")
                    cells.append(f"{us:14.2f} {ratio:>20}")
                print(f"  {mode + ', ' + label:<30}{''.join(cells)}")

    ruleset = tierflow.load_ruleset("ca")
    peak = _peak_streaming_kib(ruleset, generate_facts(min(args.records, 50_000), seed=args.seed))
    print(f"\nstreaming ca over generated records: peak traced memory {peak:,.0f} KiB")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
