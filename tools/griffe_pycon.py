"""A griffe extension for the API reference: show doctests as ``pycon`` code.

tierflow's docstrings hold their examples as bare doctests (pytest runs them through
``--doctest-modules``), not under an ``Examples:`` section. Read as Markdown, a ``>>>`` line is a
nested block quote and ``[a for a in b]`` a reference link, which ``mkdocs build --strict`` then
rejects. This extension fences each doctest run (its ``>>>``/``...`` lines and the output up to a
blank line) as a ```` ```pycon ```` block before the docstring is parsed, so the reference shows
exactly the examples the test suite executes, and adds none. Loaded by mkdocs.yml only.
"""

from __future__ import annotations

from typing import Any

import griffe

__all__ = ["PyconFences", "fence_doctests"]


def fence_doctests(text: str) -> str:
    r"""Wrap every doctest run of a docstring in a ``pycon`` fence, keeping its indentation.

    >>> fence_doctests("Use it:\n\n>>> 1 + 1\n2\n\nDone.").splitlines()
    ['Use it:', '', '```pycon', '>>> 1 + 1', '2', '```', '', 'Done.']
    """
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if not stripped.startswith(">>>"):
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(stripped)]
        out.append(f"{indent}```pycon")
        while i < len(lines) and lines[i].strip() and lines[i].startswith(indent):
            out.append(lines[i])
            i += 1
        out.append(f"{indent}```")
    return "\n".join(out)


class PyconFences(griffe.Extension):
    """Fence the doctests of every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite the object's docstring before mkdocstrings parses it."""
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
