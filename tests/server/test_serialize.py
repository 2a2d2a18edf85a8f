"""The batch's cached decision lines against ``json.dumps`` of ``Decision.to_dict()``.

:class:`tierflow.server._serialize.DecisionLines` writes each line from the outcome's cached
JSON; the reference here is the plain way (the dictionary, masked as every other answer is,
then ``json.dumps``). They must be the same text for generated students of every built-in
rule set, with and without masking, for student ids and sources that JSON must escape.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierflow
from tierflow._sample import generate_facts
from tierflow.server._privacy import Masker
from tierflow.server._serialize import DecisionLines
from tierflow.testing import AS_OF, student_facts

RULESETS = {name: tierflow.load_ruleset(name) for name in ("mtss", "ca", "tx")}
MASKER = Masker(b"test key")
AWKWARD = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from('"\\\n\t\u2028'),
    min_size=1,
    max_size=12,
)


@pytest.mark.parametrize("name", sorted(RULESETS))
@pytest.mark.parametrize("masked", [False, True], ids=["personal", "masked"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_line_is_json_dumps_of_the_decision(name: str, masked: bool, data: Any) -> None:
    ruleset = RULESETS[name]
    masker = MASKER if masked else None
    lines = DecisionLines(masker)
    for _ in range(3):  # the second and third may reuse a cached outcome
        facts = data.draw(student_facts(as_of=AS_OF))
        facts["student_id"] = data.draw(AWKWARD)
        source = data.draw(AWKWARD)
        decision = ruleset.evaluate(facts, as_of=AS_OF)
        item = {"source": source, "decision": decision.to_dict()}
        expected = json.dumps(item if masker is None else masker.mask(item)) + "\n"
        assert lines.line(source, decision) == expected


def test_two_students_with_one_outcome_share_its_json_but_not_their_ids() -> None:
    ruleset = RULESETS["mtss"]
    base = {"school_id": "lincoln", "days_enrolled": 40, "days_absent": 0}
    one = ruleset.evaluate({**base, "student_id": "s1"}, as_of=AS_OF)
    two = ruleset.evaluate({**base, "student_id": 's"2'}, as_of=AS_OF)
    lines = DecisionLines(None)
    first, second = json.loads(lines.line("a", one)), json.loads(lines.line("b", two))
    assert first["decision"]["student_id"] == "s1" and second["decision"]["student_id"] == 's"2'
    assert {k: v for k, v in first["decision"].items() if k != "student_id"} == {
        k: v for k, v in second["decision"].items() if k != "student_id"
    }
    masked = json.loads(DecisionLines(MASKER).line("a", one))
    assert masked["decision"]["student_id"] == MASKER.pseudonym("s1")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_one_writer_for_many_rule_sets_and_dates(data: Any) -> None:
    """The per-outcome and per-date pieces never leak from one rule set or date to the next
    (a server's writer outlives a rule set swap; a host may pass decisions of several dates)."""
    lines = DecisionLines(None)
    reloaded = tierflow.load_ruleset("ca")  # the same outcomes, other objects
    choices = [*RULESETS.values(), reloaded]
    for _ in range(6):
        ruleset = data.draw(st.sampled_from(choices))
        as_of = AS_OF + dt.timedelta(days=data.draw(st.integers(-3, 3)))
        facts = data.draw(student_facts(as_of=as_of))
        decision = ruleset.evaluate(facts, as_of=as_of)
        expected = json.dumps({"source": "s", "decision": decision.to_dict()}) + "\n"
        assert lines.line("s", decision) == expected


def test_one_writer_shared_by_batches_in_threads() -> None:
    """A server's batches share one writer: four threads, each its own date and rule set,
    switching as often as the interpreter can, each line still json.dumps of its decision
    (a writer that kept "the batch's date" in one field wrote one thread's date into
    another's lines)."""
    work = []
    for i, name in enumerate(["mtss", "ca", "mtss", "ca"]):
        as_of = AS_OF + dt.timedelta(days=i)
        facts = list(generate_facts(300, seed=i))
        work.append(list(RULESETS[name].evaluate_many(facts, as_of=as_of)))
    lines = DecisionLines(None)
    wrong: list[str] = []

    def write(decisions: list[Any]) -> None:
        for _ in range(5):
            for d in decisions:
                got = lines.line("s", d)
                if got != json.dumps({"source": "s", "decision": d.to_dict()}) + "\n":
                    wrong.append(got)

    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=write, args=(d,)) for d in work]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(switching)
    assert wrong == []
