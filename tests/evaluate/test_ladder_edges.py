"""Known answers at the ladder's edges: the school year's first day, and checklist conditions
run as generated code and, when that code is not available, interpreted.

Written from docs/legal.md: "only entries of the as-of date's school year, dated on or before
it, count" (the default year starts 07-01, so a step issued 1 July 2025 counts on 3 November
2025 and one issued 30 June does not); a checklist item whose condition does not hold "is
listed in missing by its label". ``as_of - 2w`` on 3 November 2025 is 20 October (14 days
back: 3 to 1 November is 2 days, then 31 to 20 October is 12 more); ``as_of + 1w`` on 3
November is 10 November, before the 11th, and on 4 November it is the 11th, not before.

Mutation score of ``tierflow/evaluate/_ladder.py`` against ``tests/evaluate`` (an AST mutation
run, mutmut's operators: comparisons, and/or, not, +/-, shifts, constants, strings): 124 of 136
mutants killed. The 12 that survive are equivalent (line numbers as of this commit):

- ``min_check_ins: int = 0``, ``reads_history: bool = False``, ``unconditional: bool = False``
  changed (3): build always passes the first; __post_init__ sets the other two.
- ``zip(..., strict=True)`` as ``strict=False`` (2): the lengths are equal by construction.
- ``index > 0`` as ``>= 0`` in build (2): a first step that asks for a previous one is refused
  at load (``legal.no_previous``), and each test guards the other.
- ``"unconditional"`` misspelt in __post_init__: every step then goes through ``missing``,
  which finds nothing missing for a step without requirements; only slower.
- ``checklist and functions is not None`` as ``or``: a plan without a checklist generates an
  empty tuple either way.
- ``reads_history and history is EMPTY`` as ``or`` in ``actions``: the history is read when not
  needed; the answer differs only for a malformed history, raised earlier (still facts.invalid).
- ``"_same_items"`` misspelt: list equality, which no history function's value reaches.
- ``"<tierflow checklist>"`` changed: the file name tracebacks show.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

import tierflow
from tierflow.expr import EvalContext
from tierflow.facts import History
from tierflow.facts._read import ConferenceView, HistoryView

LETTERS = tierflow.parse_ruleset(
    """
id: letters
name: Two letters
version: "1"
tiers: [{id: tier1, level: 1, default: true}]
legal:
  - {id: letter1, label: First letter, when: "days_unexcused >= 3"}
  - {id: letter2, label: Second letter, when: "days_unexcused >= 3"}
""",
    name="letters.yaml",
)

CHECKED = tierflow.parse_ruleset(
    """
id: checked
name: A checklist
version: "1"
tiers: [{id: tier1, level: 1, default: true}]
legal:
  - id: referral
    label: Referral
    when: "days_unexcused >= 3"
    requires:
      checklist:
        - {id: waited, label: two weeks after 20 October, when: "as_of - 2w >= date('2025-10-20')"}
        - {id: sart, label: a SART held, when: "conferences_held('sart') >= 1"}
        - {id: soon, label: a week before 11 November, when: "as_of + 1w < date('2025-11-11')"}
  - id: board
    label: Board
    when: "days_unexcused >= 3"
    requires:
      previous: false
      conferences: [sart]
      checklist:
        - {id: letter, label: the referral issued, when: "legal_issued('referral')"}
        - {id: met, label: a SART held, when: "conferences_held('sart') >= 1"}
""",
    name="checked.yaml",
)
NOV_2, NOV_3, NOV_4 = dt.date(2025, 11, 2), dt.date(2025, 11, 3), dt.date(2025, 11, 4)
YEAR_START = dt.date(2025, 7, 1)  # the default school_year.starts, 07-01
SART = HistoryView((), (), (ConferenceView("sart", dt.date(2025, 10, 15)),))
LAST_YEARS_SART = HistoryView((), (), (ConferenceView("sart", dt.date(2025, 6, 30)),))


def test_readiness_counts_a_step_issued_on_the_first_day_of_the_school_year() -> None:
    assert LETTERS.ladder.missing(1, History(), {"letter1": dt.date(2025, 7, 1)}, NOV_3) == ()


def test_readiness_does_not_count_a_step_issued_the_day_before_the_school_year() -> None:
    got = LETTERS.ladder.missing(1, History(), {"letter1": dt.date(2025, 6, 30)}, NOV_3)
    assert got == ("First letter has not been issued",)


CASES = [
    (SART, NOV_3, ()),
    (SART, NOV_2, ("two weeks after 20 October",)),
    (SART, NOV_4, ("a week before 11 November",)),
    (LAST_YEARS_SART, NOV_3, ("a SART held",)),
    (HistoryView((), (), ()), NOV_2, ("two weeks after 20 October", "a SART held")),
]


@pytest.mark.parametrize(("history", "as_of", "missing"), CASES)
@pytest.mark.parametrize("run", ["generated", "interpreted"])
def test_checklist_items_missing(
    history: HistoryView, as_of: dt.date, missing: tuple[str, ...], run: str
) -> None:
    plan = CHECKED.ladder.plans[0]
    if run == "interpreted":  # no generated code: the interpreter decides each item
        plan = dataclasses.replace(plan, fast=(None, None, None))
    assert plan.missing(history, {}, as_of, frozenset(), YEAR_START) == missing


@pytest.mark.parametrize(("history", "as_of", "missing"), CASES[:3])
def test_the_generated_checklist_code_itself_gives_the_answers(
    history: HistoryView, as_of: dt.date, missing: tuple[str, ...]
) -> None:
    """The generated code alone (a fault in it would otherwise hide behind the interpreter,
    which takes over when the code raises)."""
    plan = CHECKED.ladder.plans[0]
    ctx = EvalContext({}, as_of, frozenset(), history)
    held = [
        label
        for (label, _), f in zip(plan.checklist, plan.fast, strict=True)
        if f and f(ctx, as_of)
    ]
    assert tuple(label for label, _ in plan.checklist if label not in held) == missing


def _student(steps: list[tuple[str, dt.date]], sarts: list[dt.date]) -> dict[str, object]:
    return {
        "student_id": "e",
        "days_enrolled": 60,
        "days_absent": 4,
        "days_unexcused": 4,
        "history": {
            "legal_steps": [{"step": s, "issued_on": d.isoformat()} for s, d in steps],
            "conferences": [{"kind": "sart", "held_on": d.isoformat()} for d in sarts],
        },
    }


EDGES = [  # (referral issued on, SART held on, what the board step still needs)
    (YEAR_START, YEAR_START, ()),  # the year's first day counts
    (NOV_3, NOV_3, ()),  # so does the as-of date itself
    (
        YEAR_START - dt.timedelta(days=1),
        YEAR_START - dt.timedelta(days=1),
        ("no sart has been held", "the referral issued", "a SART held"),
    ),
]


@pytest.mark.parametrize(("issued", "held", "missing"), EDGES)
@pytest.mark.parametrize("path", ["evaluate", "reference_evaluate"])
def test_records_on_the_first_and_the_last_day_count(
    issued: dt.date, held: dt.date, missing: tuple[str, ...], path: str
) -> None:
    facts = _student([("referral", issued)], [held])
    actions = {a.step: a for a in getattr(CHECKED, path)(facts, as_of=NOV_3).legal_actions}
    assert actions["board"].missing == missing
    assert actions["board"].status == ("blocked" if missing else "due")


def test_a_plan_is_frozen() -> None:
    """Plans are shared by every evaluation of the rule set, across threads."""
    plan = CHECKED.ladder.plans[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.id = "other"  # type: ignore[misc]


DIVIDES = """
id: dz
name: Division
version: "1"
tiers: [{id: tier1, level: 1, default: true}]
legal:
  - id: ratio
    when: "days_unexcused >= 3"
    requires:
      checklist:
        - {id: per, label: contacts per letter, when: "contacts() / legal_count() >= 1"}
"""


@pytest.mark.parametrize("path", ["evaluate", "reference_evaluate"])
def test_a_checklist_that_fails_names_its_step_and_place(path: str) -> None:
    """No step issued: ``legal_count()`` is 0. The text starts with a line break, so the item
    is on line 11, and ``/`` in column 56."""
    rs = tierflow.parse_ruleset(DIVIDES, name="dz.yaml")
    facts = {"student_id": "z", "days_enrolled": 60, "days_absent": 4, "days_unexcused": 4}
    with pytest.raises(tierflow.DataError) as caught:
        getattr(rs, path)(facts, as_of=NOV_3)
    assert caught.value.code == "expr.division_by_zero"
    assert caught.value.reason.startswith(
        "dz.yaml:11:56 (legal[0].requires.checklist[0].when) (checklist of ratio): "
    )
