"""The comparison matching against a second implementation: greedy over every pair at once.

:func:`tierflow.report._effect_calc.match` reads each served student's candidates lazily,
nearest first, through a heap. Written plainly, the rule it documents is: list every (served,
comparison) pair within the caliper, sort by (gap, served index, comparison id), and take each
pair whose two sides are both still free. The two must pair everyone the same way, ties
included: rates are counted in whole school days, so a window of 20 days gives only 21 rates
and equal gaps are the rule, not the exception.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tierflow.report._effect_calc import match

CALIPER = 0.05


def _plainly(
    befores: list[float], pool: list[tuple[float, str, float]], caliper: float
) -> list[float | None]:
    pairs = sorted(
        (abs(b - before), i, cid, change)
        for i, b in enumerate(befores)
        for before, cid, change in pool
        if abs(b - before) <= caliper + 1e-12
    )
    out: list[float | None] = [None] * len(befores)
    used: set[str] = set()
    for _, i, cid, change in pairs:
        if out[i] is None and cid not in used:
            out[i] = change
            used.add(cid)
    return out


rate = st.integers(0, 20).map(lambda k: 1.0 - k / 20)  # a 20-day window's rates


@settings(max_examples=300, deadline=None)
@given(
    befores=st.lists(rate, max_size=12),
    pool=st.dictionaries(st.text("abcdefgh", min_size=1, max_size=2), rate, max_size=12),
)
def test_the_lazy_match_pairs_as_the_plain_greedy_does(
    befores: list[float], pool: dict[str, float]
) -> None:
    entries = sorted((before, cid, float(n)) for n, (cid, before) in enumerate(pool.items()))
    lazy = match([(entries, b) for b in befores], CALIPER)
    assert lazy == _plainly(befores, entries, CALIPER)


def test_a_tie_goes_to_the_smaller_comparison_id_on_either_side() -> None:
    # 'b' and 'c' are 0.25 below, 'a' and 'd' 0.25 above (quarters: exact in binary): the
    # four are taken in the order of their ids, whichever side they are on.
    entries = [(0.25, "b", 2.0), (0.25, "c", 3.0), (0.75, "a", 1.0), (0.75, "d", 4.0)]
    assert match([(entries, 0.5)] * 5, 0.25) == [1.0, 2.0, 3.0, 4.0, None]
