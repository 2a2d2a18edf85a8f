"""``tierflow lifecycle``: a rule set's lifecycle as Mermaid or JSON; a bad one is reported."""

from __future__ import annotations

import io
import json
from pathlib import Path

from tierflow.cli import main

DISTRICT = """id: district
name: District
version: "1"
extends: mtss
lifecycle:
  states:
    on_hold: {description: paused}
  transitions:
    hold: {from: [active], to: on_hold, guard: reason_given}
    resume: {from: [on_hold], to: active}
    close: {from: [assigned, active, follow_up_due, on_hold], to: closed}
"""


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def test_the_built_in_lifecycle_as_mermaid() -> None:
    status, out = _run("lifecycle", "mtss")
    assert status == 0
    lines = out.splitlines()
    assert lines[:2] == ["stateDiagram-v2", "    [*] --> assigned"]
    # The built-in table (docs/workflow.md) by hand: start 1, follow_up_due 1, check_in 3,
    # meet_goal 2, escalate 2, close 3 = 12 arrows; 3 terminal ends.
    assert sum("-->" in line and "[*]" not in line for line in lines) == 12
    assert sorted(line.split()[0] for line in lines if line.endswith("--> [*]")) == [
        "closed",
        "escalated",
        "met_goal",
    ]


def test_a_district_lifecycle_as_json(tmp_path: Path) -> None:
    path = tmp_path / "district.yaml"
    path.write_text(DISTRICT)
    status, out = _run("lifecycle", str(path), "--format", "json")
    assert status == 0
    data = json.loads(out)
    assert data["initial"] == "assigned"
    states = {s["name"]: s for s in data["states"]}
    assert states["on_hold"] == {"name": "on_hold", "description": "paused", "terminal": False}
    assert states["closed"]["terminal"] is True
    hold = next(t for t in data["transitions"] if t["trigger"] == "hold")
    assert hold == {"trigger": "hold", "from": ["active"], "to": "on_hold", "guard": "reason_given"}
    assert data["closed"] == ["closed"]


def test_an_unsound_lifecycle_is_reported_like_check(tmp_path: Path) -> None:
    path = tmp_path / "district.yaml"
    path.write_text(DISTRICT.replace("to: active}", "to: actve}"))
    status, _ = _run("lifecycle", str(path))
    assert status == 1
