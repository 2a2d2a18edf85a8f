"""Load-time checks of a notice template: every name, attribute, filter and element it uses.

The compiler calls :func:`check_template` for each template (see
:mod:`tierflow.compile._notices`); each issue comes back with its line and column in the
template, which the compiler turns into a file location. A template is parsed, never run here.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from tierflow.errors import suggest
from tierflow.notices._context import NoticeContext, context_fields
from tierflow.notices._env import ELEMENT_TAG, environment

__all__ = ["TemplateCheck", "TemplateIssue", "check_template"]


@dataclass(frozen=True)
class TemplateIssue:
    """One problem in a template, at a 1-based line and column of its text."""

    line: int
    col: int
    code: str
    message: str
    hint: str = ""
    severity: str = "error"


@dataclass(frozen=True)
class TemplateCheck:
    """What checking one template found: its issues and the elements it marks."""

    issues: tuple[TemplateIssue, ...]
    elements: frozenset[str]


def _col(source: str, line: int, pattern: str) -> int:
    """The 1-based column of the first match of ``pattern`` on ``line`` (1 when none)."""
    lines = source.splitlines()
    if not 1 <= line <= len(lines):
        return 1
    found = re.search(pattern, lines[line - 1])
    return found.start() + 1 if found else 1


def check_template(source: str, declared_elements: Collection[str]) -> TemplateCheck:
    """Parse ``source`` and check it against the notice context and ``declared_elements``.

    >>> [i.message for i in check_template("Dear {{ student.nmae }}", ()).issues]
    ["the notice context has no field 'student.nmae'"]
    """
    return _check(source, frozenset(declared_elements))


@functools.lru_cache(maxsize=256)
def _check(source: str, declared_elements: frozenset[str]) -> TemplateCheck:
    # Cached: every load of a built-in rule set checks the same templates (half its load time).
    env = environment("en", html=True)  # first: without Jinja2 it raises NoticeError
    from jinja2 import TemplateSyntaxError, nodes

    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        line = exc.lineno or 1
        issue = TemplateIssue(line, 1, "notice.template_syntax", exc.message or str(exc))
        return TemplateCheck((issue,), frozenset())
    issues: list[TemplateIssue] = []
    top = context_fields(NoticeContext)
    local = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    local |= {m.name for m in tree.find_all(nodes.Macro)}
    local |= {"loop", "caller", "varargs", "kwargs"}  # what Jinja2 itself defines in blocks
    known_globals = set(env.globals)

    def add(line: int, pattern: str, code: str, message: str, hint: str = "") -> None:
        issues.append(TemplateIssue(line, _col(source, line, pattern), code, message, hint))

    for node in tree.find_all(nodes.Name):
        if node.ctx != "load":
            continue
        name = node.name
        if name.startswith("_"):
            add(node.lineno, re.escape(name), "notice.unsafe_name", f"{name!r} may not be named")
        elif name not in top and name not in local and name not in known_globals:
            add(
                node.lineno,
                rf"\b{re.escape(name)}\b",
                "notice.unknown_field",
                f"the notice context has no field {name!r}",
                suggest(name, [*top, *known_globals]),
            )
    for attr_node in tree.find_all(nodes.Getattr):
        if attr_node.attr.startswith("_"):
            add(
                attr_node.lineno,
                re.escape("." + attr_node.attr),
                "notice.unsafe_name",
                f"attribute {attr_node.attr!r} may not be read in a template",
                "templates read the documented context fields only",
            )
            continue
        dotted, owner = _resolve(attr_node, top)
        if owner is not None:
            fields = context_fields(owner)
            if attr_node.attr not in fields:
                add(
                    attr_node.lineno,
                    re.escape("." + attr_node.attr),
                    "notice.unknown_field",
                    f"the notice context has no field {dotted!r}",
                    suggest(attr_node.attr, fields),
                )
    for item in tree.find_all(nodes.Getitem):
        arg = item.arg
        if (
            isinstance(arg, nodes.Const)
            and isinstance(arg.value, str)
            and arg.value.startswith("_")
        ):
            add(item.lineno, re.escape(arg.value), "notice.unsafe_name", "private item")
    for node in _filters_and_tests(tree):
        table = env.filters if isinstance(node, nodes.Filter) else env.tests
        kind = "filter" if isinstance(node, nodes.Filter) else "test"
        if node.name not in table:
            add(
                node.lineno,
                rf"\b{re.escape(node.name)}\b",
                "notice.unknown_filter",
                f"unknown {kind} {node.name!r}",
                suggest(node.name, table),
            )
    for other in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
        tag = type(other).__name__.lower().replace("fromimport", "from")
        add(
            other.lineno,
            rf"\b{tag}\b",
            "notice.template_syntax",
            f"'{{% {tag} %}}' is not available in a notice",
            "a notice's template is one text: it reads no other template or file",
        )
    marked: set[str] = set()
    for call in tree.find_all(nodes.CallBlock):
        target = call.call
        if not (
            isinstance(target, nodes.Call) and isinstance(target.node, nodes.ExtensionAttribute)
        ):
            continue
        first = target.args[0] if target.args else None
        if not (isinstance(first, nodes.Const) and isinstance(first.value, str)):
            add(
                call.lineno, ELEMENT_TAG, "notice.template_syntax", "an element's id is quoted text"
            )
            continue
        element = first.value
        marked.add(element)
        if element not in declared_elements:
            add(
                call.lineno,
                re.escape(element),
                "notice.unknown_element",
                f"the notice lists no element {element!r}",
                suggest(element, sorted(declared_elements))
                or "list it under the notice's 'elements' (declared in 'notice_elements')",
            )
    issues.sort(key=lambda i: (i.line, i.col))
    return TemplateCheck(tuple(issues), frozenset(marked))


def _filters_and_tests(tree: Any) -> Iterator[Any]:
    from jinja2 import nodes

    yield from tree.find_all((nodes.Filter, nodes.Test))


def _resolve(node: Any, top: dict[str, Any]) -> tuple[str, type | None]:
    """The dotted name of a ``Getattr`` and the context class its base is (None: not known).

    ``student.nmae`` gives ``('student.nmae', StudentInfo)``; an attribute of a loop variable
    or of a plain value (a date's ``year``) gives no class, and is not checked.
    """
    from jinja2 import nodes

    parts: list[str] = [node.attr]
    base = node.node
    while isinstance(base, nodes.Getattr):
        parts.append(base.attr)
        base = base.node
    if not isinstance(base, nodes.Name) or base.name not in top:
        return "", None
    parts.append(base.name)
    parts.reverse()
    owner: Any = top[base.name]
    for attr in parts[1:-1]:
        if not (isinstance(owner, type) and dataclasses.is_dataclass(owner)):
            return "", None
        owner = context_fields(owner).get(attr)
    if not (isinstance(owner, type) and dataclasses.is_dataclass(owner)):
        return "", None
    return ".".join(parts), owner
