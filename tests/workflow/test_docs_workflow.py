"""docs/workflow.md shows the lifecycle generated from the machine definition, and all of it."""

from __future__ import annotations

import re
from pathlib import Path

from tierflow.workflow import LIFECYCLE

DOC = Path(__file__).resolve().parents[2] / "docs" / "workflow.md"


def test_the_diagram_in_the_docs_is_the_generated_one() -> None:
    text = DOC.read_text(encoding="utf-8")
    (diagram,) = re.findall(r"```mermaid\n(.*?)\n```", text, flags=re.DOTALL)
    assert diagram == LIFECYCLE.mermaid(), (
        "docs/workflow.md is stale: paste tierflow.workflow.LIFECYCLE.mermaid() into it"
    )


def test_every_trigger_and_state_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = {m[1] for m in re.finditer(r"^\| `(\w+)` \|", text, flags=re.MULTILINE)}
    assert table == set(LIFECYCLE.triggers)
    for state in LIFECYCLE.states:
        assert f"`{state}`" in text


def test_the_generated_diagram_has_every_declared_edge_once() -> None:
    lines = LIFECYCLE.mermaid().splitlines()
    edges = [line.strip() for line in lines if ": " in line]
    declared = [f"{s} --> {t.dest}: {t.trigger}" for t in LIFECYCLE.transitions for s in t.sources]
    assert edges == declared and len(set(edges)) == len(edges)
    ends = {line.strip().split()[0] for line in lines if line.endswith("--> [*]")}
    assert ends == set(LIFECYCLE.terminal)
