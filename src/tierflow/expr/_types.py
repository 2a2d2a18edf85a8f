"""Static types of the condition language."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ANY",
    "BOOL",
    "DATE",
    "DURATION",
    "NUMBER",
    "STRING",
    "Duration",
    "Type",
    "enum_of",
    "list_of",
]


@dataclass(frozen=True)
class Duration:
    """A span of time written in a rule, such as ``28d``, ``4w`` or ``6mo``.

    Months are kept apart from days because a month has no fixed length: ``as_of - 6mo`` is
    computed on the calendar (python-dateutil's ``relativedelta``).
    """

    months: int = 0
    days: int = 0

    def __str__(self) -> str:
        """Render the way a rule would write it.

        >>> str(Duration(days=28)), str(Duration(months=6)), str(Duration(1, 3))
        ('28d', '6mo', '1mo3d')
        """
        parts = []
        if self.months:
            parts.append(f"{self.months}mo")
        if self.days or not parts:
            parts.append(f"{self.days}d")
        return "".join(parts)


@dataclass(frozen=True)
class Type:
    """A type in the condition language.

    Attributes:
        kind: One of ``number``, ``string``, ``bool``, ``date``, ``duration``, ``list``, ``any``.
        elem: The element type of a list.
        values: For a string drawn from a closed vocabulary (tier ids, causes, student groups),
            the allowed values; a string literal compared with it must be one of them.
        vocabulary: What the closed vocabulary is called, for messages (``"cause"``).
    """

    kind: str
    elem: Type | None = None
    values: frozenset[str] | None = None
    vocabulary: str = ""

    def __str__(self) -> str:
        """Render for messages: ``number``, ``list of string``."""
        if self.kind == "list":
            return f"list of {self.elem}" if self.elem is not None else "list"
        if self.values is not None and self.vocabulary:
            return f"{self.vocabulary} (string)"
        return self.kind

    def accepts(self, other: Type) -> bool:
        """Return whether a value of type ``other`` may be used where ``self`` is expected."""
        if self.kind == "any" or other.kind == "any":
            return True
        if self.kind != other.kind:
            return False
        if self.kind == "list":
            if self.elem is None or other.elem is None:
                return True
            return self.elem.accepts(other.elem)
        return True


NUMBER = Type("number")
"""Numbers: counts, rates (``5%`` is 0.05) and the results of arithmetic."""
STRING = Type("string")
"""Text: ids, codes and names (a vocabulary such as causes narrows it with ``enum_of``)."""
BOOL = Type("bool")
"""True or false: what a ``when`` condition must be."""
DATE = Type("date")
"""Calendar dates; ``date - date`` is a number of days, ``date + duration`` a date."""
DURATION = Type("duration")
"""Lengths of time (``10d``, ``4w``, ``6mo``, ``1y``): what window functions look back over."""
ANY = Type("any")
"""Any type, accepted everywhere: what a check gives after an error, so it is reported once."""


def list_of(elem: Type) -> Type:
    """Return the type of a list whose items are ``elem``."""
    return Type("list", elem=elem)


def enum_of(vocabulary: str, values: frozenset[str] | set[str]) -> Type:
    """Return a string type restricted to ``values`` (a closed vocabulary)."""
    return Type("string", values=frozenset(values), vocabulary=vocabulary)
