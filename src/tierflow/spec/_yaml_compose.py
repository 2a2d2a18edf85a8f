"""Reading YAML text into nodes safely: alias positions, a nesting pre-scan, syntax problems.

PyYAML composes the node tree recursively, so nesting (and the count of nodes) is bounded from
the event stream first (:func:`check_nesting`); the composer used then keeps the position of
every alias use (:func:`compose_all`). :mod:`tierflow.spec._yaml` builds the data from the nodes.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tierflow.errors import Problem, RulesetError
from tierflow.source import SourceSpan
from tierflow.spec._yaml_hints import syntax_hint
from tierflow.spec._yaml_limits import YamlLimits, too_deep, too_many_nodes

__all__ = ["check_nesting", "compose_all", "syntax_problem"]


class _AliasPositions(Composer):
    """Compose in Python so that each alias use keeps its own position.

    PyYAML's composer returns the anchored node itself for an alias, which leaves no trace of
    where the alias was written. Here an alias gives a shallow copy of that node, marked at the
    alias, whose children are the anchored node's own (so expansion is still bounded by
    counting revisited nodes). ``alias_uses`` holds the ids of those copies.
    """

    alias_uses: set[int]

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if not self.check_event(AliasEvent):  # type: ignore[attr-defined]
            return Composer.compose_node(self, parent, index)
        event = self.get_event()  # type: ignore[attr-defined]
        if event.anchor not in self.anchors:
            raise ComposerError(
                None, None, f"found undefined alias {event.anchor!r}", event.start_mark
            )
        target = self.anchors[event.anchor]
        copy: Node
        if isinstance(target, ScalarNode):
            copy = ScalarNode(
                target.tag, target.value, event.start_mark, event.end_mark, target.style
            )
        elif isinstance(target, SequenceNode):
            copy = SequenceNode(
                target.tag, target.value, event.start_mark, event.end_mark, target.flow_style
            )
        else:
            assert isinstance(target, MappingNode)
            copy = MappingNode(
                target.tag, target.value, event.start_mark, event.end_mark, target.flow_style
            )
        self.alias_uses.add(id(copy))
        return copy


class _PyLoader(_AliasPositions, yaml.SafeLoader):
    """PyYAML's pure-Python safe loader (no depth limit of its own), composing as above."""

    def __init__(self, stream: str) -> None:
        yaml.SafeLoader.__init__(self, stream)
        self.alias_uses = set()


_CSafeLoader: Any = getattr(yaml, "CSafeLoader", None)


class _CLoader(_AliasPositions, _CSafeLoader or yaml.SafeLoader):  # type: ignore[misc]
    """libyaml's safe loader when PyYAML was built with it (about 10x faster), composing as above.

    libyaml refuses nesting deeper than its own limit (1,000 levels in the libyaml bundled with
    PyYAML 6.0.4, none in older ones); tierflow's limit is checked before it can matter (see
    :func:`check_nesting`).
    """

    def __init__(self, stream: str) -> None:
        (_CSafeLoader or yaml.SafeLoader).__init__(self, stream)
        Composer.__init__(self)
        self.alias_uses = set()


_LOADER: type[_PyLoader] | type[_CLoader] = _CLoader if _CSafeLoader else _PyLoader
"""The loader used: libyaml's when present, else the pure-Python one (tests switch it)."""


def compose_all(text: str) -> tuple[list[Node], set[int]]:
    """Compose every document of ``text``; return the roots and the ids of alias uses."""
    loader = _LOADER(text)
    try:
        nodes: list[Node] = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                nodes.append(node)
        return nodes, loader.alias_uses
    finally:
        loader.dispose()


_LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"
"""The problem libyaml (0.2.5 on) reports for nesting beyond its own limit."""


def check_nesting(text: str, file: str, limits: YamlLimits) -> None:
    """Refuse nesting deeper than ``limits.max_depth`` from the event stream, before composing.

    The composer recurses once per level (libyaml's in C: ``[`` repeated 30,000 times, 60 kB,
    crashed the interpreter with a segmentation fault; PyYAML's in Python: a RecursionError), so
    the limit must hold before it runs. Events stream without recursion, and the scan stops at
    the first value or collection key too deep. A syntax error is left for the composer to
    report.

    libyaml's scanner reads ahead (up to 1,024 characters on a line, for a possible simple key)
    and refuses nesting beyond its own limit there, which can come before the event at
    tierflow's depth; the limit and where it is reported must not depend on the libyaml
    version, so the stream is then read again by PyYAML's pure-Python parser, which has no limit
    of its own and reads ahead as little. Its syntax errors are reported from here, as the
    composer would only repeat libyaml's refusal.
    """
    try:
        _scan_nesting(text, file, limits, _LOADER)
        return
    except yaml.YAMLError as exc:
        if _LOADER is _PyLoader or getattr(exc, "problem", None) != _LIBYAML_TOO_DEEP:
            return
    try:
        _scan_nesting(text, file, limits, _PyLoader)
    except yaml.YAMLError as exc:
        raise RulesetError([syntax_problem(exc, file, text)]) from exc


def _scan_nesting(text: str, file: str, limits: YamlLimits, loader: type[Any]) -> None:
    """Raise at the first node deeper than the depth limit or past the node limit (see above).

    A mapping key that is text or an alias is not built into the data as a value (and does not
    make the composer recurse), so only keys that are collections count: ``? ? ? ...``
    nests as deep as ``[[[...``. Nodes are counted as the builder counts them, but each alias
    once: the builder, counting what aliases expand to, still bounds that; counting here stops a
    flat two-megabyte list before a million nodes are composed (10 s with libyaml).
    """
    # One frame per open collection: [is a mapping, nodes in it so far, last key, its path part].
    stack: list[list[Any]] = []
    nodes = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionEndEvent):
            stack.pop()
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        part: Any = None
        is_key = False
        if stack:
            frame = stack[-1]
            is_key = frame[0] and frame[1] % 2 == 0
            if is_key:
                frame[2] = event.value if isinstance(event, yaml.ScalarEvent) else "?"
                part = "?"
            else:
                part = frame[2] if frame[0] else frame[1]
            frame[1] += 1
        is_collection = isinstance(event, yaml.CollectionStartEvent)
        if is_collection or not is_key:
            nodes += 1
            if len(stack) > limits.max_depth or nodes > limits.max_nodes:
                mark = event.start_mark
                span = (
                    SourceSpan(file, mark.line + 1, mark.column + 1) if mark else SourceSpan(file)
                )
                path = (*(f[3] for f in stack[1:]), part)
                deep = len(stack) > limits.max_depth
                limit = too_deep if deep else too_many_nodes
                raise RulesetError([limit(span, path, limits)])
        if is_collection:
            stack.append([isinstance(event, yaml.MappingStartEvent), 0, None, part])


def syntax_problem(exc: yaml.YAMLError, file: str, text: str = "") -> Problem:
    """Return the ``yaml.syntax`` problem of a scanner, parser or composer error.

    With the ``text`` that failed, the problem carries a hint at the likely cause.
    """
    if not isinstance(exc, yaml.MarkedYAMLError):
        return Problem(SourceSpan(file, 1, 1), "yaml.syntax", str(exc))
    mark = exc.problem_mark or exc.context_mark
    span = SourceSpan(file, mark.line + 1, mark.column + 1) if mark else SourceSpan(file, 1, 1)
    message = exc.problem or "invalid YAML"
    if exc.context:
        message = f"{exc.context}: {message}"
    return Problem(span, "yaml.syntax", message, hint=syntax_hint(exc, text))
