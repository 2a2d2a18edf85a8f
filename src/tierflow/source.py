"""Source locations of YAML nodes, so every problem can name ``file:line:col``."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

__all__ = ["SourceSpan", "format_path", "position_in_scalar"]


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


_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
"""What YAML counts as a line break."""


@functools.lru_cache(maxsize=8)
def _lines(text: str) -> tuple[str, ...]:
    """Return the lines of ``text``, split once per file however many positions are asked.

    A file with a problem in each of 16,000 conditions was split 16,000 times (419 s). The
    cache looks a text up by its hash, which a string computes once and keeps, so asking again
    about the same file costs no pass over it.
    """
    return tuple(_BREAK.split(text))


_ESCAPE_LENGTH = {"x": 4, "u": 6, "U": 10}
"""Length of a double-quoted escape by its letter (``\\x41``); every other escape is two."""


def _stream(lines: Sequence[str], row: int, col: int, head: str) -> Iterator[tuple[str, int, int]]:
    """Yield the source characters from where a scalar's value starts, with 0-based row and col.

    Line breaks are yielded as a newline at the column just past the line's end. A ``|`` or
    ``>`` block starts on the line after its indicator, indentation included: the alignment
    skips indentation as it skips any other whitespace the value does not keep, so the block's
    indentation (which an indicator such as ``>2`` counts from the parent's) need not be known.
    """
    if head in ("|", ">"):
        row, col = row + 1, 0
    elif head in ("'", '"'):
        col += 1
    for r in range(row, len(lines)):
        line = lines[r]
        for c in range(col if r == row else 0, len(line)):
            yield line[c], r, c
        yield "\n", r, len(line)


def position_in_scalar(text: str, start: SourceSpan, value: str, pos: int) -> SourceSpan:
    r"""Return where character ``pos`` of a YAML scalar's ``value`` is written in ``text``.

    ``start`` is where the scalar starts (its quote, its ``|``/``>`` indicator or its first
    character, as the YAML parser reports it). The value is aligned with the source text: quotes
    doubled in single quotes (``''``) and escapes in double quotes (``\"``, ``\x41``) are one
    character of the value each, an escaped line break is none, and line breaks that folding
    turned into a space or dropped, indentation and leading spaces are skipped. Only
    whitespace is ever skipped, so every other character of the value maps to exactly the
    character it was read from (a space may map to an indentation space before it). If the
    value and the text cannot be aligned (an alias, or a value given with a tag) the scalar's
    start is returned rather than a wrong place.

    Args:
        text: The whole file.
        start: Where the scalar starts.
        value: The scalar's value as loaded.
        pos: 0-based offset into ``value`` (``len(value)`` is just past its end).

    Returns:
        The 1-based line and column of that character.

    >>> text = 'when: "a and \\"b\\" and\n   c > 1"\n'
    >>> str(position_in_scalar(text, SourceSpan("f.yaml", 1, 7), 'a and "b" and c > 1', 14))
    'f.yaml:2:4'
    >>> text = "when: >\n  a\n\n  b\n"
    >>> str(position_in_scalar(text, SourceSpan("f.yaml", 1, 7), "a\nb\n", 2))
    'f.yaml:4:3'
    """
    lines = _lines(text)
    if not 1 <= start.line <= len(lines) or start.col < 1 or pos < 0:
        return start
    row, col = start.line - 1, start.col - 1
    head = lines[row][col : col + 1]
    source = list(_take(_stream(lines, row, col, head), len(value)))
    chars = [ch for ch, _, _ in source]
    p = 0
    last: tuple[int, int] | None = None
    for i in range(min(pos, len(value)) + 1):
        if i == len(value):  # just past the end: the column after the last character
            return start if last is None else SourceSpan(start.file, last[0] + 1, last[1] + 2)
        v = value[i]
        while True:
            if p >= len(chars):
                return start
            s = chars[p]
            found = p
            if head == '"' and s == "\\":
                nxt = chars[p + 1] if p + 1 < len(chars) else ""
                if nxt == "\n":  # an escaped line break, and the next line's indentation
                    p += 2
                    while p < len(chars) and chars[p] in " \t":
                        p += 1
                    continue
                p += _ESCAPE_LENGTH.get(nxt, 2)
                break
            if head == "'" and s == "'" and chars[p + 1 : p + 2] == ["'"]:
                p += 2
                break
            if s == v or (s == "\n" and v in " \t" and head != "|"):  # a folded line break
                p += 1
                break
            if s in " \t\n":  # whitespace the value does not keep
                p += 1
                continue
            return start
        _, r, c = source[found]
        last = (r, c)
        if i == pos:
            return SourceSpan(start.file, r + 1, c + 1)
    return start  # pragma: no cover - the loop returns at i == min(pos, len(value))


def _take(stream: Iterator[tuple[str, int, int]], length: int) -> Iterator[tuple[str, int, int]]:
    """Read enough of ``stream`` to align a value of ``length`` characters.

    Each value character takes at most one escape (ten characters) of source plus the
    whitespace skipped before it, so reading stops after ``10 * (length + 1)`` non-blank
    characters rather than at the end of a large file.
    """
    budget = 10 * (length + 1)
    for item in stream:
        yield item
        if item[0] not in " \t\n":
            budget -= 1
            if budget < 0:
                return
