"""Every exception class tierflow defines is a TierflowError drawn in the errors.py tree.

The classes are found by importing every module of the package and collecting the exception
classes each defines, so a new one cannot be missed; the tree is read from the docstring of
``tierflow.errors`` as text, so it cannot drift from the code.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import xml.parsers.expat
from types import ModuleType

import pytest

import tierflow
import tierflow.errors
from tierflow.errors import TierflowError

PRIVATE = {
    "_Failed": "the CLI's own signal to stop with a status; caught in its main()",
    "_Irregular": "the facts fast path gives up; pydantic validation decides and explains",
    "_Limit": "the YAML reader's size limit hit; becomes a RulesetError problem",
    "_UsageError": "the CLI's bad-arguments signal; caught in its main()",
}
"""Private control-flow exceptions, each caught inside tierflow, with where they go."""

_ENTRY = re.compile(r"^\s*(?:[│ ]*[├└]── )?([A-Z][A-Za-z]*)(?:\(([^)]*)\))?(?:\s|$)")


def _modules() -> list[ModuleType]:
    names = [m.name for m in pkgutil.walk_packages(tierflow.__path__, "tierflow.")]
    return [importlib.import_module(name) for name in sorted(["tierflow", *names])]


def _defined_exceptions() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for module in _modules():
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
            ):
                other = found.setdefault(value.__name__, value)
                assert other is value, f"two exception classes named {value.__name__}"
    return found


def _tree() -> dict[str, tuple[str, ...]]:
    """The classes drawn in the errors.py docstring, each with the bases it is drawn with."""
    doc = tierflow.errors.__doc__ or ""
    lines = doc.split("TierflowError\n", 1)[1].split("\n\n", 1)[0].splitlines()
    drawn: dict[str, tuple[str, ...]] = {"TierflowError": ("Exception",)}
    for line in lines:
        match = _ENTRY.match(line)
        if match is None or "──" not in line:
            continue  # a continuation line of a description
        name, bases = match.groups()
        assert name not in drawn, f"{name} is drawn twice"
        drawn[name] = tuple(b.strip() for b in (bases or "").split(","))
    return drawn


EXCEPTIONS = _defined_exceptions()
TREE = _tree()


def test_the_walk_finds_the_known_classes() -> None:
    # A sanity check of the walk itself: classes in errors.py and in four subpackages.
    for name in ("TierflowError", "DataError", "ExprSyntaxError", "ExprEvalError", "Unreadable"):
        assert name in EXCEPTIONS


@pytest.mark.parametrize("name", sorted(n for n in EXCEPTIONS if not n.startswith("_")))
def test_every_public_exception_is_a_tierflow_error_in_the_tree(name: str) -> None:
    cls = EXCEPTIONS[name]
    assert issubclass(cls, TierflowError)
    assert name in TREE, f"{name} ({cls.__module__}) is not drawn in the errors.py docstring"
    assert TREE[name] == tuple(b.__name__ for b in cls.__bases__), name


def test_every_class_in_the_tree_exists() -> None:
    assert sorted(TREE) == sorted(n for n in EXCEPTIONS if not n.startswith("_"))


def test_private_exceptions_are_the_known_control_flow_ones() -> None:
    # A new private exception must say here where it is caught, or join the hierarchy.
    assert sorted(n for n in EXCEPTIONS if n.startswith("_")) == sorted(PRIVATE)


@pytest.mark.parametrize(
    ("name", "builtin"),
    [
        ("RulesetError", ValueError),
        ("ExprSyntaxError", ValueError),
        ("DataError", ValueError),
        ("ExprEvalError", ValueError),
        ("JsonProblem", ValueError),
        ("PropertyFailure", AssertionError),
        ("UnknownInterventionError", KeyError),
        ("XmlRefused", xml.parsers.expat.ExpatError),
    ],
)
def test_user_input_errors_keep_their_builtin(name: str, builtin: type[BaseException]) -> None:
    # An existing ``except ValueError`` (or a test runner's AssertionError) still catches them.
    assert issubclass(EXCEPTIONS[name], builtin)
