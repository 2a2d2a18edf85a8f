"""The fuzz harness reports a foreign exception, a hang, a disagreement and a lost record.

Each check is given a planted fault whose outcome is known without tierflow (an endless loop,
a ``KeyError``, a reference interpreter patched to answer differently), so a harness that
stopped noticing would fail here rather than report a clean run.
"""

from __future__ import annotations

import random

import pytest

import tierflow
from fuzz import targets
from fuzz.targets import TARGETS, Sample, Target, run
from tierflow.ingest import read_facts


def _target(check: object) -> Target:
    return Target("planted", lambda rng: Sample("planted", "x.yaml", b""), check, "a test")  # type: ignore[arg-type]


def test_a_foreign_exception_is_a_finding_and_a_tierflow_error_is_not() -> None:
    def key_error(sample: Sample) -> None:
        return {"present": 1}["missing"]  # type: ignore[return-value]

    def data_error(sample: Sample) -> None:
        raise tierflow.DataError("facts.invalid", "planted")

    sample = Sample("planted", "x.yaml", b"")
    finding = run(_target(key_error), sample)
    assert finding is not None
    assert (finding.kind, finding.detail) == ("exception", "KeyError: 'missing'")
    assert run(_target(data_error), sample) is None


def test_an_endless_loop_is_reported_as_a_hang() -> None:
    def forever(sample: Sample) -> None:
        while True:
            pass

    finding = run(_target(forever), Sample("planted", "x.yaml", b""), seconds=0.2)
    assert finding is not None and finding.kind == "hang"


def test_a_reference_interpreter_that_answers_otherwise_is_a_disagreement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = targets.ruleset_around("days_absent >= 3", "tier", None).encode()
    sample = Sample("expr_soup", "soup-tier.yaml", text)
    assert run(TARGETS["expr_soup"], sample) is None

    real = tierflow.CompiledRuleset.reference_evaluate

    def wrong(self: tierflow.CompiledRuleset, facts: object, *, as_of: object) -> object:
        if facts["days_absent"] >= 3:  # type: ignore[index]
            raise tierflow.DataError("facts.invalid", "planted")
        return real(self, facts, as_of=as_of)  # type: ignore[arg-type]

    monkeypatch.setattr(tierflow.CompiledRuleset, "reference_evaluate", wrong)
    finding = run(TARGETS["expr_soup"], sample)
    assert finding is not None and finding.kind == "disagreement"


def test_a_dropped_json_line_is_a_disagreement(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b'{"student_id": "s1", "days_enrolled": 10, "days_absent": 1}\n' * 3
    sample = Sample("facts", "facts.jsonl", data)
    assert run(TARGETS["facts"], sample) is None
    real = read_facts

    def drop_last(path: object, **kwargs: object) -> object:
        return list(real(path, **kwargs))[:-1]  # type: ignore[arg-type]

    monkeypatch.setattr(targets, "read_facts", drop_last)
    finding = run(TARGETS["facts"], sample)
    assert finding is not None and finding.kind == "disagreement"
    assert "3 non-blank lines read as 2 accepted + 0 rejected" in finding.detail


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_targets_make_inputs_from_their_seeds(name: str) -> None:
    rng = random.Random(7)
    samples = [TARGETS[name].generate(rng) for _ in range(20)]
    assert all(s.target == name and s.data for s in samples[:1])
    assert len({s.data for s in samples}) > 10  # mutations differ


@pytest.mark.parametrize(
    ("base", "place", "cond"),
    targets.seed_conditions(),
    ids=[f"{b}-{p}-{i}" for i, (b, p, _) in enumerate(targets.seed_conditions())],
)
def test_every_builtin_condition_loads_unmutated(base: str, place: str, cond: str) -> None:
    """Mutations start from conditions that load and agree, so the target reaches evaluation."""
    text = targets.ruleset_around(cond, place, base)
    assert run(TARGETS["expr_mutation"], Sample("expr_mutation", "x.yaml", text.encode())) is None
    targets.check_ruleset_text(Sample("expr_mutation", "x.yaml", text.encode()))


SEEDS = [
    (kind, seed, data)
    for kind in TARGETS
    if not kind.startswith("expr")
    for seed, data in targets.seeds(kind)
]


@pytest.mark.parametrize(("kind", "seed", "data"), SEEDS, ids=[f"{k}:{s}" for k, s, _ in SEEDS])
def test_every_seed_file_passes_unmutated(kind: str, seed: str, data: bytes) -> None:
    """The seed files themselves read (or are rejected) cleanly: findings come from mutations."""
    finding = run(TARGETS[kind], Sample(kind, seed, data))
    assert finding is None, finding.describe()
