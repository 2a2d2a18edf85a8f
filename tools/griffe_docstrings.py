"""A griffe extension for the API reference: tierflow's docstrings read as Markdown.

The docstrings are written for ``help()`` and pytest, not for Markdown, in two ways that the
reference would show badly:

- examples are bare doctests (pytest runs them through ``--doctest-modules``), not under an
  ``Examples:`` section. Read as Markdown, a ``>>>`` line is a nested block quote and
  ``[a for a in b]`` a reference link, which ``mkdocs build --strict`` rejects. Each doctest run
  (its ``>>>``/``...`` lines and the output up to a blank line) is fenced as a ```` ```pycon ````
  block, so the reference shows exactly the examples the test suite executes, and adds none;
- cross-references are Sphinx roles (``:class:`~tierflow.errors.DataError```), shown as
  code: the name alone with ``~``, else the whole path.

Loaded by mkdocs.yml only (the ``docs`` extra); the docstrings themselves are not changed.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

__all__ = ["MarkdownDocstrings", "fence_doctests", "plain_roles"]

_ROLE = re.compile(
    r":(?:class|func|meth|mod|attr|exc|data|obj|const):`(?P<tilde>~?)(?P<target>[^`]+)`"
)


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


def plain_roles(text: str) -> str:
    """Show Sphinx cross-reference roles as code spans.

    >>> plain_roles("Raises :class:`~tierflow.errors.DataError` (see :func:`tierflow.cli.main`).")
    'Raises `DataError` (see `tierflow.cli.main`).'
    """
    return _ROLE.sub(
        lambda m: f"`{m['target'].rsplit('.', 1)[-1] if m['tilde'] else m['target']}`", text
    )


class MarkdownDocstrings(griffe.Extension):
    """Rewrite every docstring griffe loads before mkdocstrings parses it."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Fence the doctests and plain the roles of the object's docstring."""
        if obj.docstring is not None:
            obj.docstring.value = plain_roles(fence_doctests(obj.docstring.value))
