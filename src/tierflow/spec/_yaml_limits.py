"""What a rule set file may make the YAML loader do, and the problems past those bounds."""

from __future__ import annotations

from dataclasses import dataclass

from tierflow.errors import Problem
from tierflow.source import SourceSpan, format_path

__all__ = [
    "DEFAULT_LIMITS",
    "MAX_DEPTH_LIMIT",
    "Path_",
    "YamlLimits",
    "too_deep",
    "too_many_nodes",
]

Path_ = tuple[str | int, ...]
"""A path inside a document: mapping keys and list indexes."""


@dataclass(frozen=True)
class YamlLimits:
    """Bounds on what a rule set file may make the loader do.

    ``max_depth`` is at most :data:`MAX_DEPTH_LIMIT`: building a document recurses once per
    level, and every YAML parser tierflow may run on (libyaml refuses 1,000 levels) must reach
    the limit before any limit of its own.

    Raises:
        ValueError: If a bound is not positive or ``max_depth`` is over its ceiling.
    """

    max_bytes: int = 2_000_000
    max_depth: int = 50
    max_nodes: int = 200_000
    max_aliases: int = 1_000

    def __post_init__(self) -> None:
        if min(self.max_bytes, self.max_depth, self.max_nodes, self.max_aliases) < 1:
            raise ValueError(f"YAML limits must be positive: {self}")
        if self.max_depth > MAX_DEPTH_LIMIT:
            raise ValueError(f"max_depth may be at most {MAX_DEPTH_LIMIT}, not {self.max_depth}")


MAX_DEPTH_LIMIT = 200
"""The ceiling of :attr:`YamlLimits.max_depth`."""


DEFAULT_LIMITS = YamlLimits()
"""The limits a rule set file is loaded with unless the host passes its own."""


def too_deep(span: SourceSpan, path: Path_, limits: YamlLimits) -> Problem:
    """The ``yaml.too_deep`` problem at ``span``."""
    return Problem(
        span, "yaml.too_deep", f"nesting deeper than {limits.max_depth} levels", format_path(path)
    )


def too_many_nodes(span: SourceSpan, path: Path_, limits: YamlLimits) -> Problem:
    """The ``yaml.alias_expansion`` problem at ``span`` (too many nodes or aliases)."""
    return Problem(
        span,
        "yaml.alias_expansion",
        f"the document expands to more than {limits.max_nodes} nodes or uses "
        f"more than {limits.max_aliases} aliases",
        format_path(path),
        "this looks like an alias bomb; write the values out",
    )
