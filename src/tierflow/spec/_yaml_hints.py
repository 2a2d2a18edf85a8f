"""Hints for YAML syntax errors: what PyYAML's message most likely means in a rule set.

PyYAML names the place it gave up and what it expected ("mapping values are not allowed in this
context"), which is right but says nothing about the usual causes in a hand-written playbook: a
tab, a missing space after a key's colon, a value holding ``': '`` or a line indented out of
step with its neighbours. :func:`syntax_hint` looks at the lines around the error and names the
likeliest one, with its line.
"""

from __future__ import annotations

import re

import yaml

__all__ = ["syntax_hint"]

_KEY_WITHOUT_SPACE = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w-]*):([^\s:/][^\s]*)")
"""``level:1``: a key and its value run together, which YAML reads as one plain word."""

_INDENT_HINT = (
    "check the indentation of line {line}: the keys of one mapping, and the '- ' items of one "
    "list, start in the same column (indent with spaces, two per level)"
)


def syntax_hint(exc: yaml.YAMLError, text: str) -> str:
    """Return a hint for the syntax error ``exc`` of ``text``, or an empty string.

    >>> text = "id: d" + chr(10) + "name: Tier 2: targeted" + chr(10)
    >>> try:
    ...     yaml.safe_load(text)
    ... except yaml.YAMLError as exc:
    ...     print(syntax_hint(exc, text))
    quote the value of line 2: a ': ' inside a plain value starts a key (write "Tier 2: targeted")
    """
    if not isinstance(exc, yaml.MarkedYAMLError) or exc.problem_mark is None:
        return ""
    lines = text.splitlines()
    at = exc.problem_mark.line
    start = exc.context_mark.line if exc.context_mark is not None else at
    problem = exc.problem or ""
    for n in range(max(0, min(start, at) - 1), min(at, len(lines) - 1) + 1):
        indent = lines[n][: len(lines[n]) - len(lines[n].lstrip())]
        if "\t" in indent:
            return f"YAML indents with spaces, never tabs: replace the tab on line {n + 1}"
    for n in range(min(start, at), min(at, len(lines) - 1) + 1):
        found = _KEY_WITHOUT_SPACE.match(lines[n])
        if found:
            key, value = found.groups()
            return (
                f"put a space after the colon on line {n + 1} ('{key}: {value}'): without it "
                f"YAML reads '{key}:{value}' as one word, not a key and its value"
            )
    if "mapping values are not allowed" in problem and at < len(lines):
        before = lines[at][: exc.problem_mark.column]
        if ": " in before:
            value = lines[at].split(": ", 1)[1].strip()
            return (
                f"quote the value of line {at + 1}: a ': ' inside a plain value starts a key "
                f'(write "{value}")'
            )
        return _INDENT_HINT.format(line=at + 1)
    if any(
        words in problem
        for words in ("expected <block end>", "did not find expected key", "expected '-'")
    ):
        return _INDENT_HINT.format(line=at + 1)
    if "could not find expected ':'" in problem:
        return (
            f"a key on line {start + 1} needs ': ' (a colon and a space) after it, or a quote "
            "there is not closed"
        )
    return ""
