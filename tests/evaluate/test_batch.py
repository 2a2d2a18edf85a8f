"""``evaluate_many`` (its generated batch loop and its reporting loop) against the reference.

The batch loop shares outcomes and legal actions between students and runs the evaluator's
lines for each record in one frame; the slow reference interpreter decides each record on its
own, so a decision leaking from one student into the next, or a failure reported at the wrong
record, shows as a difference.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierflow
from tierflow.ingest import FactsRecord
from tierflow.pipeline import evaluate_records
from tierflow.testing import AS_OF, rule_sets
from tierflow.testing import student_facts as _student_facts

RULESETS = Path(__file__).resolve().parents[2] / "rulesets"
LOADED = {p.stem: tierflow.load_ruleset(str(p)) for p in sorted(RULESETS.rglob("*.yaml"))}
LEGAL_IDS = ("not1", "not2", "not3", "sarb-referral", "parent-notice", "prevention-measures")
BROKEN: list[Any] = [
    {"student_id": "no-facts"},
    {"student_id": "text", "days_enrolled": "forty", "days_absent": 1, "days_unexcused": 0},
    7,
    {"student_id": "odd-cause", "days_enrolled": 40, "days_absent": 9, "causes": ["weather"]},
    {
        "student_id": "bad-history",
        "days_enrolled": 40,
        "days_absent": 9,
        "days_unexcused": 9,
        "history": {"legal_steps": [{"step": "not1", "issued_on": "soon"}]},
    },
]


def _records() -> st.SearchStrategy[list[Any]]:
    """Generated students, now and then one of the broken records among them."""
    student = _student_facts(legal_steps=LEGAL_IDS, future_days=30)
    return st.lists(st.one_of(student, student, student, st.sampled_from(BROKEN)), max_size=12)


def _reference(rs: tierflow.CompiledRuleset, facts: Any, as_of: dt.date) -> Any:
    """The reference decision as a dict, or the code of the DataError it raises."""
    if not isinstance(facts, Mapping):  # refused before any fact is read (docs/errors.md)
        return ("error", "facts.invalid")
    try:
        return rs.reference_evaluate(facts, as_of=as_of).to_dict()
    except tierflow.DataError as exc:
        return ("error", exc.code)


def _check(rs: tierflow.CompiledRuleset, records: list[Any], as_of: dt.date) -> None:
    want = [_reference(rs, f, as_of) for f in records]
    # With a report: every good record decided, every bad one rejected, in order.
    report = tierflow.DataReport()
    got = [d.to_dict() for d in rs.evaluate_many(records, as_of=as_of, report=report)]
    assert got == [w for w in want if not isinstance(w, tuple)]
    rejected = [(r.code, r.source) for r in report.rejects]
    failing = [(i + 1, w[1]) for i, w in enumerate(want) if isinstance(w, tuple)]
    assert [code for code, _ in rejected] == [code for _, code in failing]
    # Each reject names its record (no error here names a source of its own).
    assert [source for _, source in rejected] == [f"record {i}" for i, _ in failing]
    assert report.accepted == len(got)
    # Without one: the decisions before the first failure, then that failure raised.
    first = next((i for i, w in enumerate(want) if isinstance(w, tuple)), None)
    decided = []
    with pytest.raises(tierflow.DataError) if first is not None else _no_error() as raised:
        for d in rs.evaluate_many(records, as_of=as_of):
            decided.append(d.to_dict())
    assert decided == want[: len(records) if first is None else first]
    if first is not None:
        assert raised.value.code == want[first][1]


class _no_error:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


@pytest.mark.parametrize("name", sorted(LOADED))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=_records(), days=st.integers(min_value=-60, max_value=30))
def test_evaluate_many_equals_the_reference_record_by_record(
    name: str, records: list[Any], days: int
) -> None:
    _check(LOADED[name], records, AS_OF + dt.timedelta(days=days))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=rule_sets(), records=_records())
def test_generated_rule_sets_batch_as_the_reference_decides(text: str, records: list[Any]) -> None:
    _check(tierflow.parse_ruleset(text, name="generated.yaml"), records, AS_OF)


def test_students_without_history_share_their_legal_actions() -> None:
    rs = LOADED["ca"]
    a, b = (
        {"student_id": s, "days_enrolled": 40, "days_absent": 8, "days_unexcused": 7}
        for s in ("a", "b")
    )
    first, second = rs.evaluate_many([a, b], as_of=AS_OF)
    # Seven truancies: NOT1 due and NOT2 blocked (NOT1 not issued) for both, by hand.
    assert [(x.step, x.status) for x in first.legal_actions] == [
        ("not1", "due"),
        ("not2", "blocked"),
    ]
    assert first.legal_actions is second.legal_actions
    assert (first.student_id, second.student_id) == ("a", "b")


def test_students_with_a_history_and_the_same_legal_outcome_share_one_tuple() -> None:
    rs = LOADED["ca"]

    def student(sid: str, not1_on: str) -> dict[str, Any]:
        return {
            "student_id": sid,
            "days_enrolled": 40,
            "days_absent": 8,
            "days_unexcused": 7,
            "history": {"legal_steps": [{"step": "not1", "issued_on": not1_on}]},
        }

    a, b, c = student("a", "2025-09-29"), student("b", "2025-09-30"), student("c", "2026-01-30")
    first, second, third = rs.evaluate_many([a, b, c], as_of=AS_OF)
    # NOT1 issued, seven truancies: NOT2 is next, and ca.yaml requires a supportive tier 2
    # intervention tried first (none here: blocked); c's NOT1 went out three days before
    # AS_OF, so c also waits for the 10 days after it.
    assert dt.date(2026, 2, 2) == AS_OF
    assert [(x.step, x.status, len(x.missing)) for x in first.legal_actions] == [
        ("not2", "blocked", 1)
    ]
    assert [(x.step, x.status, len(x.missing)) for x in third.legal_actions] == [
        ("not2", "blocked", 2)
    ]
    assert first.legal_actions is second.legal_actions
    for decision, facts in zip((first, second, third), (a, b, c), strict=True):
        assert decision.to_dict() == rs.reference_evaluate(facts, as_of=AS_OF).to_dict()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=_records())
def test_the_loop_in_python_decides_as_the_generated_one(records: list[Any]) -> None:
    """A program without a generated batch loop falls back to one in Python: the same books."""
    rs = copy.copy(LOADED["ca"])
    rs._batch = None
    _check(rs, records, AS_OF)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=_records())
def test_evaluate_records_pairs_each_decision_with_its_record(records: list[Any]) -> None:
    """The pipeline's loop hands over one record at a time: a decision never meets the wrong
    source, and a reject names its own file line and student."""
    rs = LOADED["ca"]
    located = [FactsRecord(f"roster.jsonl:{i + 3}", f) for i, f in enumerate(records)]
    want = [_reference(rs, f, AS_OF) for f in records]
    report = tierflow.DataReport()
    got = [
        (r.source, d.to_dict())
        for r, d in evaluate_records(rs, iter(located), as_of=AS_OF, report=report)
    ]
    assert got == [
        (r.source, w) for r, w in zip(located, want, strict=True) if not isinstance(w, tuple)
    ]
    failing = [(r, w[1]) for r, w in zip(located, want, strict=True) if isinstance(w, tuple)]
    assert [(x.source, x.code) for x in report.rejects] == [(r.source, c) for r, c in failing]
    assert [x.student_id for x in report.rejects] == [
        str(r.facts["student_id"]) if isinstance(r.facts, Mapping) else None for r, _ in failing
    ]
    assert (report.read, report.accepted) == (len(records), len(got))
