"""The rooms of src/tierflow/ import one way, as docs/architecture.md draws them.

Every import is read from the source (``ast``), including imports inside functions and under
``TYPE_CHECKING``: a cycle hidden in a function body is still a cycle a reader has to untangle.
The layers are read from the table in docs/architecture.md, so the drawing and the code cannot
drift apart: an import that goes up a layer, or a room missing from the drawing, fails here.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "tierflow"
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def room_of(module: str) -> str:
    """The room (top-level subpackage or module) of a dotted module name under tierflow."""
    parts = module.split(".")
    assert parts[0] == "tierflow", module
    return parts[1] if len(parts) > 1 else "tierflow"


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> Iterable[str]:
    """Every tierflow module a file imports, wherever the import statement stands."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(source: str, package: str) -> Iterable[str]:
    """Every tierflow module a source text imports; ``package`` resolves relative imports."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] == "tierflow")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "tierflow":
                continue
            if target == "tierflow":
                # ``from tierflow import store`` names a room; any other name imported from
                # the top level comes from the package's __init__.
                for alias in node.names:
                    sub = PACKAGE / alias.name
                    is_room = sub.is_dir() or sub.with_suffix(".py").exists()
                    yield f"tierflow.{alias.name}" if is_room else "tierflow"
            else:
                yield target


def room_graph() -> dict[str, set[str]]:
    """Room -> rooms it imports (self-imports left out)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        room = room_of(module_name(path))
        edges = graph.setdefault(room, set())
        edges.update(r for r in map(room_of, imported_modules(path)) if r != room)
    return graph


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One cycle of the graph as a path ``[a, b, ..., a]``, or None when it has none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def drawn_layers() -> dict[str, int]:
    """Room -> layer number, from the rooms table of docs/architecture.md."""
    layers: dict[str, int] = {}
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*(\d+)\s*\|([^|]*)\|", line)
        if match:
            for room in re.findall(r"`([a-z_]+)`", match.group(2)):
                layers[room] = int(match.group(1))
    return layers


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_imports_inside_functions_and_relative_imports_are_seen() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from tierflow.store import Anchor\n"
        "def f():\n    from tierflow.expr import parse\n    import tierflow.facts\n"
        "from ..spec import RulesetSpec\nfrom . import _core\nfrom tierflow import cli, Decision\n"
    )
    found = sorted(map(room_of, imports_in(source, "tierflow.workflow")))
    assert found == ["cli", "expr", "facts", "spec", "store", "tierflow", "workflow"]


def test_no_import_cycle_between_rooms() -> None:
    cycle = find_cycle(room_graph())
    assert cycle is None, "import cycle between rooms: " + " -> ".join(cycle or [])


def test_every_room_is_drawn_in_the_architecture_page() -> None:
    missing = set(room_graph()) - set(drawn_layers())
    assert not missing, f"rooms missing from docs/architecture.md: {sorted(missing)}"


@pytest.mark.parametrize("room", sorted(room_graph()))
def test_a_room_imports_only_rooms_below_it(room: str) -> None:
    layers = drawn_layers()
    upward = sorted(dep for dep in room_graph()[room] if layers[dep] >= layers[room])
    assert not upward, f"{room} (layer {layers[room]}) imports {upward} at or above its layer"
