"""A rule set's ``lifecycle:`` section: built on the built-in one, merged through ``extends``,
checked where it is written. Expected tables are written here by hand from the YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

import tierflow
from tierflow.workflow import LIFECYCLE

HEAD = 'id: district\nname: District\nversion: "1"\nextends: mtss\n'
HOLD = """lifecycle:
  states:
    on_hold: {description: paused}
  transitions:
    hold: {from: [active, follow_up_due], to: on_hold, guard: reason_given}
    resume: {from: [on_hold], to: active}
    close: {from: [assigned, active, follow_up_due, on_hold], to: closed}
"""


def _problems(text: str) -> list[tuple[int, int, str]]:
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.parse_ruleset(text, name="district.yaml")
    return [(p.span.line, p.span.col, p.code) for p in info.value.problems]


def test_a_rule_set_without_the_section_has_the_built_in_lifecycle() -> None:
    assert tierflow.load_ruleset("mtss").lifecycle is LIFECYCLE
    assert tierflow.load_ruleset("ca").lifecycle is LIFECYCLE


def test_the_section_keeps_the_built_in_hash_when_absent() -> None:
    # The built-in lifecycle is left out of the hash; writing one changes it.
    plain = tierflow.parse_ruleset(HEAD, name="district.yaml")
    held = tierflow.parse_ruleset(HEAD + HOLD, name="district.yaml")
    assert plain.content_hash != held.content_hash


def test_a_district_adds_states_and_triggers_to_the_built_in_ones() -> None:
    lc = tierflow.parse_ruleset(HEAD + HOLD, name="district.yaml").lifecycle
    assert lc.states == (
        "assigned",
        "active",
        "follow_up_due",
        "met_goal",
        "escalated",
        "closed",
        "on_hold",
    )
    assert lc.target("hold", "active") == "on_hold"
    assert lc.target("hold", "follow_up_due") == "on_hold"
    assert lc.target("hold", "assigned") is None
    assert lc.target("resume", "on_hold") == "active"
    assert lc.target("close", "on_hold") == "closed"
    assert lc.target("start", "assigned") == "active"  # the built-in ones stay
    assert lc.guards == {"hold": "reason_given"}
    assert lc.terminal == {"met_goal", "escalated", "closed"}
    assert lc.started == {"active", "follow_up_due"}


def test_a_child_of_a_child_adds_to_its_parents_lifecycle(tmp_path: Path) -> None:
    (tmp_path / "district.yaml").write_text(HEAD + HOLD)
    (tmp_path / "school.yaml").write_text(
        'id: school\nname: School\nversion: "1"\nextends: district.yaml\n'
        "lifecycle:\n  states:\n    transferred: {}\n"
        "  transitions:\n    transfer: {from: [active, on_hold], to: transferred}\n"
        "  closed: [transferred]\n"
    )
    lc = tierflow.load_ruleset(tmp_path / "school.yaml").lifecycle
    assert lc.target("hold", "active") == "on_hold"  # the parent's
    assert lc.target("transfer", "on_hold") == "transferred"  # its own
    assert lc.terminal == {"met_goal", "escalated", "closed", "transferred"}


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        # resume names 'on_hld' at line 7, column 21 (the list item).
        (
            "lifecycle:\n  transitions:\n    resume: {from: [on_hld], to: active}\n",
            [(7, 21, "lifecycle.unknown_state")],
        ),
        # 'transferred' (line 7, col 5) is reached by nothing.
        (
            "lifecycle:\n  states:\n    transferred: {}\n  closed: [transferred]\n",
            [(7, 5, "lifecycle.unreachable_state")],
        ),
        # on_hold is entered but never left, and is not terminal: a dead end, and one the
        # engine could not close either (both at the state's key, line 7, column 5).
        (
            "lifecycle:\n  states:\n    on_hold: {}\n"
            "  transitions:\n    hold: {from: [active], to: on_hold}\n",
            [(7, 5, "lifecycle.dead_end"), (7, 5, "lifecycle.unclosable_state")],
        ),
        # on_hold can be left (resume), but 'close', written again, leaves it out: reported at
        # close's 'from' (line 10: "    close: {from: " is 18 wide).
        (
            "lifecycle:\n  states:\n    on_hold: {}\n"
            "  transitions:\n    hold: {from: [active], to: on_hold}\n"
            "    resume: {from: [on_hold], to: active}\n"
            "    close: {from: [assigned, active, follow_up_due], to: closed}\n",
            [(11, 19, "lifecycle.unclosable_state")],
        ),
        (
            "lifecycle:\n  transitions:\n    reopen: {from: [closed], to: active}\n",
            [(7, 21, "lifecycle.terminal_exit")],
        ),
        # 'transferred' in two ending roles: at its place in the last list that names it
        # (line 9, "  closed: [" is 11 wide).
        (
            "lifecycle:\n  states:\n    transferred: {}\n"
            "  transitions:\n    transfer: {from: [active], to: transferred}\n"
            "  met: [transferred]\n  closed: [transferred]\n",
            [(11, 12, "lifecycle.role_conflict")],
        ),
        # A built-in state made terminal: both conflicts and every built-in trigger leaving
        # it (check_in, close, escalate, follow_up_due, meet_goal: five, by hand from the
        # built-in table), all at 'active' in the list (line 6, column 12).
        (
            "lifecycle:\n  closed: [active]\n",
            [(6, 12, "lifecycle.role_conflict")] + [(6, 12, "lifecycle.terminal_exit")] * 5,
        ),
        # 'reason_givn' at line 7: "    go: {from: [active], to: closed, guard: " is 44 wide.
        (
            "lifecycle:\n  transitions:\n"
            "    go: {from: [active], to: closed, guard: reason_givn}\n",
            [(7, 45, "lifecycle.unknown_guard")],
        ),
        (
            "lifecycle:\n  transitions:\n"
            "    close: {from: [assigned, active, follow_up_due], to: closed, guard: has_owner}\n",
            [(7, 73, "lifecycle.guarded_engine_trigger")],
        ),
    ],
)
def test_each_unsound_lifecycle_is_reported_where_it_is_written(
    section: str, expected: list[tuple[int, int, str]]
) -> None:
    assert _problems(HEAD + section) == expected


def test_an_unknown_guard_gets_a_did_you_mean() -> None:
    with pytest.raises(tierflow.RulesetError, match="did you mean 'reason_given'"):
        tierflow.parse_ruleset(
            HEAD + "lifecycle:\n  transitions:\n"
            "    go: {from: [active], to: closed, guard: reason_givn}\n",
            name="district.yaml",
        )


def test_a_whole_lifecycle_must_define_the_engine_triggers() -> None:
    section = (
        "lifecycle:\n  builtin: false\n  initial: open\n  states:\n    open: {}\n    done: {}\n"
        "  transitions:\n    start: {from: [open], to: done}\n    close: {from: [open], to: done}\n"
        "  closed: [done]\n"
    )
    # Four are missing; each is reported at the 'transitions' key (line 11, column 3).
    assert _problems(HEAD + section) == [(11, 3, "lifecycle.missing_trigger")] * 4


def test_the_built_in_lifecycle_is_sound() -> None:
    # Built unchecked at import (checking would import transitions on `import tierflow`).
    assert LIFECYCLE.problems() == []
    assert LIFECYCLE.engine_problems() == []
