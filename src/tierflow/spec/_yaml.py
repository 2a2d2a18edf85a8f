"""Safe YAML loading with source locations and limits.

Rule sets are read with ``yaml.compose`` on PyYAML's ``SafeLoader`` and the Python data is built
by walking the node tree here, so that every value's position is known (``spans``), duplicate
keys are rejected, and the size, nesting depth and alias expansion of a document are bounded
(a "billion laughs" file fails fast). Positions are 1-based; for block scalars (``|``, ``>``) the
span is the position of the indicator, and a value given by an alias (``*name``) is located
where the alias is written, not at its anchor.

Three modules share the job: :mod:`tierflow.spec._yaml_limits` (the bounds),
:mod:`tierflow.spec._yaml_compose` (text to nodes, nesting checked first) and this one (nodes to
data with spans, and the entry points).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tierflow.errors import Problem, RulesetError
from tierflow.source import SourceSpan, format_path
from tierflow.spec._yaml_compose import check_nesting, compose_all, syntax_problem
from tierflow.spec._yaml_limits import DEFAULT_LIMITS, Path_, YamlLimits, too_deep, too_many_nodes

__all__ = ["LoadedYaml", "load_yaml", "load_yaml_file"]

_STANDARD_TAGS = frozenset(
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq", "merge", "binary")
)


@dataclass(frozen=True)
class LoadedYaml:
    """A loaded document: the data and where each value (and mapping key) starts."""

    file: str
    data: Any
    spans: Mapping[Path_, SourceSpan] = field(default_factory=dict)
    key_spans: Mapping[Path_, SourceSpan] = field(default_factory=dict)

    def span_of(self, path: Sequence[str | int]) -> SourceSpan:
        """Return the span of the value at ``path``, or of its nearest known ancestor."""
        p = tuple(path)
        for cut in range(len(p), -1, -1):
            span = self.spans.get(p[:cut])
            if span is not None:
                return span
        return SourceSpan(self.file, 1, 1)

    def key_span_of(self, path: Sequence[str | int]) -> SourceSpan:
        """Return the span of the key of the mapping entry at ``path`` (else :meth:`span_of`)."""
        return self.key_spans.get(tuple(path)) or self.span_of(path)


class _Limit(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


class _Builder:
    def __init__(self, file: str, limits: YamlLimits, alias_uses: set[int]) -> None:
        self.file = file
        self.alias_uses = alias_uses
        self.limits = limits
        self.nodes = 0
        self.aliases = 0
        self.spans: dict[Path_, SourceSpan] = {}
        self.key_spans: dict[Path_, SourceSpan] = {}
        self.problems: list[Problem] = []
        self.scalars = SafeConstructor()
        self.seen: set[int] = set()
        self.open_mappings: set[int] = set()

    def span(self, node: Node) -> SourceSpan:
        return SourceSpan(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def enter(self, node: Node, path: Path_, depth: int) -> None:
        """Count ``node`` (again, if it is reached through an alias) and check the limits."""
        self.nodes += 1
        if id(node) in self.seen or id(node) in self.alias_uses:
            self.aliases += 1
        else:
            self.seen.add(id(node))
        if self.nodes > self.limits.max_nodes or self.aliases > self.limits.max_aliases:
            raise _Limit(too_many_nodes(self.span(node), path, self.limits))
        if depth > self.limits.max_depth:
            raise _Limit(too_deep(self.span(node), path, self.limits))

    def build(self, node: Node, path: Path_, depth: int) -> Any:
        self.enter(node, path, depth)
        self.spans[path] = self.span(node)
        if node.tag not in _STANDARD_TAGS:
            self.problems.append(
                Problem(
                    self.span(node),
                    "yaml.unsupported_tag",
                    f"tag {node.tag!r} is not allowed",
                    format_path(path),
                    "rule sets use plain YAML values only",
                )
            )
            return None
        if isinstance(node, ScalarNode):
            try:
                return self.scalars.construct_object(node, deep=True)
            except (ConstructorError, ValueError) as exc:
                message = str(exc).splitlines()[0]
            # PyYAML's constructors fail in their own ways on text their tag does not fit:
            # `!!bool abc` raises a KeyError, `!!timestamp abc` an AttributeError.
            except (LookupError, AttributeError, TypeError):
                message = f"{node.value!r} is not a valid {node.tag.rsplit(':', 1)[-1]}"
            self.problems.append(
                Problem(self.span(node), "yaml.invalid_value", message, format_path(path))
            )
            return None
        kind = "seq" if isinstance(node, SequenceNode) else "map"
        if node.tag != "tag:yaml.org,2002:" + kind:  # `!!str [1]` is no string
            self.problems.append(
                Problem(
                    self.span(node),
                    "yaml.invalid_value",
                    f"tag {node.tag!r} does not fit a {'list' if kind == 'seq' else 'mapping'}",
                    format_path(path),
                )
            )
            return None
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self.mapping(node, path, depth)
        return None  # pragma: no cover - PyYAML has no other node kinds

    def mapping(self, node: MappingNode, path: Path_, depth: int) -> dict[str, Any]:
        # An alias gives a copy of its anchor's node holding the same list of pairs.
        self.open_mappings.add(id(node.value))
        try:
            return self.mapping_items(node, path, depth)
        finally:
            self.open_mappings.discard(id(node.value))

    def mapping_items(self, node: MappingNode, path: Path_, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        merged: list[tuple[str, Any, Node]] = []
        merge_line = 0
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                if merge_line:
                    self.problems.append(
                        Problem(
                            self.span(key_node),
                            "yaml.duplicate_key",
                            f"duplicate key '<<' (first at line {merge_line})",
                            format_path(path),
                            "merge several mappings with one key: '<<: [*a, *b]'",
                        )
                    )
                    continue
                merge_line = key_node.start_mark.line + 1
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for src in sources:
                    if not isinstance(src, MappingNode):
                        self.problems.append(
                            Problem(
                                self.span(src),
                                "yaml.invalid_merge",
                                "'<<' merges mappings only",
                                format_path(path),
                            )
                        )
                        continue
                    self.enter(src, path, depth + 1)
                    if id(src.value) in self.open_mappings:
                        self.problems.append(
                            Problem(
                                self.span(src),
                                "yaml.invalid_merge",
                                "'<<' merges a mapping into itself",
                                format_path(path),
                            )
                        )
                        continue
                    for k, v in self.mapping(src, path, depth + 1).items():
                        merged.append((k, v, src))
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                shown = key_node.value if isinstance(key_node, ScalarNode) else "a collection"
                self.problems.append(
                    Problem(
                        self.span(key_node),
                        "yaml.invalid_key",
                        f"mapping keys must be text, got {shown!r}",
                        format_path(path),
                        f"quote it: '{shown}'" if isinstance(key_node, ScalarNode) else "",
                    )
                )
                continue
            key = key_node.value
            if key in first_line:
                self.problems.append(
                    Problem(
                        self.span(key_node),
                        "yaml.duplicate_key",
                        f"duplicate key {key!r} (first at line {first_line[key]})",
                        format_path((*path, key)),
                        "remove one of them",
                    )
                )
                continue
            first_line[key] = key_node.start_mark.line + 1
            self.key_spans[(*path, key)] = self.span(key_node)
            out[key] = self.build(value_node, (*path, key), depth + 1)
        for key, value, src in merged:
            if key not in out:
                out[key] = value
                self.spans.setdefault((*path, key), self.span(src))
        return out


def _document_start(text: str, line: int, default: int = 1) -> int:
    """Return the 1-based line of the last ``---`` at or before 0-based ``line``, or ``default``."""
    lines = text.splitlines()
    for i in range(min(line, len(lines) - 1), -1, -1):
        if lines[i].startswith("---"):
            return i + 1
    return default


def load_yaml(
    text: str | bytes, file: str = "<string>", *, limits: YamlLimits = DEFAULT_LIMITS
) -> LoadedYaml:
    r"""Load one YAML document safely, with the location of every value.

    Raises:
        RulesetError: With every problem found (``yaml.*`` codes), or the first limit exceeded.

    >>> doc = load_yaml("tiers:\n  - id: tier3\n    when: absence_rate >= 0.2\n", "x.yaml")
    >>> str(doc.span_of(("tiers", 0, "when")))
    'x.yaml:3:11'
    """
    if isinstance(text, str):
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError as exc:
            # A lone surrogate (text decoded with 'surrogateescape', say) is no character.
            prefix = text[: exc.start]
            line = prefix.count("\n") + 1
            col = exc.start - (prefix.rfind("\n") + 1) + 1
            raise RulesetError(
                [
                    Problem(
                        SourceSpan(file, line, col),
                        "yaml.encoding",
                        f"not Unicode text: a lone surrogate U+{ord(text[exc.start]):04X}",
                        hint="decode the file as UTF-8 without 'surrogateescape'",
                    )
                ]
            ) from None
    else:
        size = len(text)
    if size > limits.max_bytes:
        raise RulesetError(
            [
                Problem(
                    SourceSpan(file, 1, 1),
                    "yaml.too_large",
                    f"file is larger than {limits.max_bytes:,} bytes",
                )
            ]
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            before = bytes(exc.object[: exc.start])
            line = before.count(b"\n") + 1
            # Columns count characters, as everywhere else; the line so far is valid UTF-8.
            col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8")) + 1
            raise RulesetError(
                [
                    Problem(
                        SourceSpan(file, line, col),
                        "yaml.encoding",
                        f"not UTF-8 text: {exc.reason} at byte {exc.start}",
                        hint="save the file as UTF-8",
                    )
                ]
            ) from exc
    check_nesting(text, file, limits)
    try:
        nodes, alias_uses = compose_all(text)
    except yaml.YAMLError as exc:
        raise RulesetError([syntax_problem(exc, file, text)]) from exc
    nodes = [n for n in nodes if n is not None]
    if len(nodes) > 1:
        second = nodes[1]
        line, col = second.start_mark.line + 1, second.start_mark.column + 1
        if (start := _document_start(text, second.start_mark.line, 0)) > 0:
            line, col = start, 1  # point at the separator that starts document 2
        raise RulesetError(
            [
                Problem(
                    SourceSpan(file, line, col),
                    "yaml.multiple_documents",
                    "a rule set file holds one YAML document",
                    hint="remove the '---' separator or split the file",
                )
            ]
        )
    if not nodes:
        raise RulesetError(
            [Problem(SourceSpan(file, 1, 1), "yaml.empty", "the file holds no YAML document")]
        )
    root = nodes[0]
    if isinstance(root, ScalarNode) and root.tag == "tag:yaml.org,2002:null" and not root.value:
        # '---' (and perhaps '...') with nothing between: a document with no value at all.
        line = _document_start(text, root.start_mark.line)
        raise RulesetError(
            [
                Problem(
                    SourceSpan(file, line, 1),
                    "yaml.empty",
                    "the YAML document is empty",
                    hint="write the rule set's keys (id, name, version, tiers...) after '---'",
                )
            ]
        )
    builder = _Builder(file, limits, alias_uses)
    try:
        data = builder.build(nodes[0], (), 0)
    except _Limit as exc:
        raise RulesetError([exc.problem]) from None
    if builder.problems:
        raise RulesetError(builder.problems)
    return LoadedYaml(file, data, builder.spans, builder.key_spans)


def load_yaml_file(
    path: str | os.PathLike[str],
    *,
    limits: YamlLimits = DEFAULT_LIMITS,
    display_name: str | None = None,
) -> LoadedYaml:
    """Load a YAML file (reading at most ``limits.max_bytes + 1`` bytes)."""
    name = display_name or os.fspath(path)
    with open(path, "rb") as fh:
        raw = fh.read(limits.max_bytes + 1)
    return load_yaml(raw, name, limits=limits)
