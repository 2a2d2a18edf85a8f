"""Fuzz every target for a few seconds: only tierflow's errors, no hang, both evaluators agree.

Hypothesis drives the ``random.Random`` each target draws its input from, so a failure shrinks
to a small edit of a seed file and is printed as a reproducer (the bytes, the seed file, the
last line of the traceback and the place in ``src/``). ``benchmarks/fuzz.py`` runs the same
targets for longer.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fuzz.targets import TARGETS, run

EXAMPLES = {
    "expr_soup": 400,
    "expr_mutation": 100,
    "yaml": 150,
    "facts": 300,
    "events": 300,
    "calendars": 150,
    "enrollments": 300,
    "groups": 300,
}
"""Inputs per target: a few seconds each on the CI machine (the whole folder well under 60 s)."""


def _fuzz(name: str) -> Callable[[], None]:
    target = TARGETS[name]

    @settings(
        max_examples=EXAMPLES[name],
        deadline=None,  # targets.run sets its own per-input deadline and reports a hang
        # No shrinking: an input is one seed file with one to four edits, shown whole, and
        # shrinking a hang would cost a deadline per attempt (the folder must stay under 60 s).
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(rng=st.randoms(use_true_random=False))
    def fuzz(rng: random.Random) -> None:
        finding = run(target, target.generate(rng), seconds=2.0)
        if finding is not None:
            pytest.fail(finding.describe(), pytrace=False)

    fuzz.__doc__ = f"Fuzz {target.about}."
    return fuzz


test_expr_soup = _fuzz("expr_soup")
test_expr_mutation = _fuzz("expr_mutation")
test_yaml = _fuzz("yaml")
test_facts = _fuzz("facts")
test_events = _fuzz("events")
test_calendars = _fuzz("calendars")
test_enrollments = _fuzz("enrollments")
test_groups = _fuzz("groups")


def test_every_target_is_fuzzed() -> None:
    assert set(EXAMPLES) == set(TARGETS)
