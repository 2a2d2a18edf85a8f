"""Source locations of YAML nodes, so every problem can name ``file:line:col``."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SourceSpan", "format_path"]


@dataclass(frozen=True, order=True)
class SourceSpan:
    """A 1-based position in a source file.

    Attributes:
        file: The file name as given by the user (or ``"<string>"``).
        line: 1-based line number (0 when unknown).
        col: 1-based column number (0 when unknown).
    """

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        """Render as ``file:line:col`` (omitting unknown parts).

        >>> str(SourceSpan("ca.yaml", 8, 11))
        'ca.yaml:8:11'
        >>> str(SourceSpan("ca.yaml"))
        'ca.yaml'
        """
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"

    def shifted(self, cols: int) -> SourceSpan:
        """Return the span moved ``cols`` columns to the right on the same line.

        >>> SourceSpan("a.yaml", 3, 7).shifted(4)
        SourceSpan(file='a.yaml', line=3, col=11)
        """
        if self.line <= 0:
            return self
        return SourceSpan(self.file, self.line, self.col + cols)


def format_path(path: tuple[str | int, ...]) -> str:
    """Render a data path the way users read it: ``tiers[2].when``.

    >>> format_path(("tiers", 2, "when"))
    'tiers[2].when'
    >>> format_path(())
    '<root>'
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<root>"
