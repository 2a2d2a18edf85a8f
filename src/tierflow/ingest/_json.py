r"""Decode JSON from a data file without letting one record crash, hang or mislead a run.

Every reader of JSON (facts, Ed-Fi API resources, a JSON cell of a CSV file) decodes through
:class:`SafeJson`, which refuses what Python's ``json`` module would let through or fail on:

- nesting deeper than :data:`MAX_DEPTH` (the C decoder recurses and would raise
  ``RecursionError``): ``ingest.too_deep``;
- ``NaN``, ``Infinity`` and ``-Infinity`` (not JSON, though Python writes them), a number too
  large for a float (``1e309``, which Python reads as infinity) and a number written with more
  than :data:`MAX_NUMBER_CHARS` characters (Python refuses integers over 4,300 digits with a
  ``ValueError``, and converting long ones is slow): ``ingest.invalid_number``, naming the
  key that holds it;
- a ``\ud800``-style escape that is half of a character (a lone surrogate: text that cannot be
  written back out as UTF-8), or a byte that is not UTF-8 inside a string of a ``.json`` file
  (read with ``errors="surrogateescape"``): ``ingest.invalid_encoding``, naming the key.

With the ``fast`` extra installed (orjson, also in the ``server`` extra), a text that cannot
hold anything refused is decoded by orjson instead, about twice as fast with the screen that
decides it (orjson alone is four times as fast): one whose numbers all lack an exponent and
have fewer than 16 digits in a row, nesting no deeper than the bracket count allows, and that
is UTF-8. Anything else, and anything orjson refuses, goes the exact
way above, so the values, flags and problems are the same with or without it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from itertools import accumulate, repeat
from typing import Any

from tierflow.errors import TierflowError
from tierflow.facts._model import MAX_NUMBER

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - the `fast` extra is not installed
    _orjson = None  # type: ignore[assignment]

__all__ = ["MAX_DEPTH", "MAX_NUMBER_CHARS", "MISS", "JsonProblem", "SafeJson"]

MAX_DEPTH = 64
"""The deepest nesting of arrays and objects a JSON value may have."""

MAX_NUMBER_CHARS = 100
"""The most characters a JSON number may be written with (sign, digits, point and exponent)."""

_MAX_DIGITS = len(str(MAX_NUMBER))
_SPACE = " \t\n\r"

_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_DELTA = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _screen_table() -> bytes:
    table = bytearray(range(256))
    for digit in b"0123456789":
        table[digit] = ord("0")
    table[ord("E")] = ord("e")
    table[ord("{")] = ord("[")
    return bytes(table)


# What the screen of a text is made with: every digit reads 0, E reads e and { reads [. A text
# whose screen has no 16 zeros in a row (no number of 10**15 or more, none written with more
# than MAX_NUMBER_CHARS characters: those need a long run of digits), no "0e" (no exponent: a
# JSON exponent always follows a digit) and at most MAX_DEPTH "[" holds no number the exact
# decoder would refuse or flag, and is not too deep. NaN and infinities orjson refuses itself.
_SCREEN = _screen_table()
_DIGIT_RUN = b"0" * len(str(MAX_NUMBER))
# A \u escape is inside a string, never part of a number, yet "\u00e9" (é, as json.dumps
# writes it by default) screens as "\u00e0": its "0e" is not an exponent. Escapes are taken
# out of a screen that shows a "0e" or a run, and it is looked at again (taking out what lies
# inside strings hides no number; a backslash outside one is not JSON, refused by orjson).
_ESCAPE = re.compile(rb"\\u[0-9a-fA-F]{4}")


def _numbers_risky(screen: bytes) -> bool:
    r"""Whether a screen may hold an exponent or a run of 16 digits (outside \u escapes)."""
    if _DIGIT_RUN not in screen and b"0e" not in screen:
        return False
    if b"\\u" not in screen:
        return True
    screen = screen.replace(b"\\u00", b"\\uXX")  # Latin-1 letters, the most written: quick
    if _DIGIT_RUN not in screen and b"0e" not in screen:
        return False
    screen = _ESCAPE.sub(b"", screen)
    return _DIGIT_RUN in screen or b"0e" in screen


def _refused_by_screen(screen: bytes) -> bool:
    """Whether a text with this screen must go the exact way (too deep, or risky numbers)."""
    return screen.count(b"[") > MAX_DEPTH or _numbers_risky(screen)


_MISS: Any = object()
MISS: Any = _MISS
"""What :meth:`SafeJson.decode_lines` gives for a line the exact way must decode."""


def _screened(text: str) -> Any:
    """The value orjson decodes from ``text`` when the exact way would give it too, else _MISS.

    About 2 us for a typical facts record where the exact way takes 7 us (measured with
    ``benchmarks/bench_serve.py``'s records).
    """
    try:
        data = text.encode()
    except UnicodeEncodeError:  # a lone surrogate: the exact way names where
        return _MISS
    screen = data.translate(_SCREEN)
    if _refused_by_screen(screen):
        return _MISS
    try:
        return _orjson.loads(data)
    except _orjson.JSONDecodeError:  # not JSON, or NaN: the exact way says what and where
        return _MISS


class JsonProblem(TierflowError, ValueError):
    """A JSON text that was refused, with what is wrong and where.

    Attributes:
        code: ``ingest.invalid_json``, ``ingest.too_deep``, ``ingest.invalid_number`` or
            ``ingest.invalid_encoding``.
        message: What is wrong, in plain words (with the place inside the value).
        line: The 1-based line in the text where the problem is, when known.
        column: The 1-based column in that line, when known.
        value: The decoded value when the text was well-formed JSON (so a reader can still name
            the student), else None. Refused numbers are ``None`` inside it.
        key: The top-level key holding the refused value, when there is one.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        value: Any = None,
        key: str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.line = line
        self.column = column
        self.value = value
        self.key = key
        super().__init__(message)


class _Refused:
    """Stands in a decoded value for a number that was refused (found again by identity)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _depth_problem(text: str) -> JsonProblem | None:
    """``ingest.too_deep`` if ``text`` nests deeper than :data:`MAX_DEPTH`, else None.

    Linear in the text: counting brackets is enough for almost every record; otherwise strings
    are taken out and the running depth of what is left is computed in C.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    skeleton = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if max(accumulate(map(_DELTA.__getitem__, skeleton)), default=0) <= MAX_DEPTH:
        return None
    # Bad input only: walk it once more to say where the limit is passed.
    depth, line, start = 0, 1, 0
    in_string = escaped = False
    for pos, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return JsonProblem(
                    "ingest.too_deep",
                    f"arrays and objects are nested more than {MAX_DEPTH} deep",
                    line=line,
                    column=pos - start + 1,
                )
        elif char in "]}":
            depth -= 1
        if char == "\n":
            line, start = line + 1, pos + 1
    return None  # pragma: no cover - the skeleton said it is too deep


class SafeJson:
    """A JSON decoder for untrusted records (see the module docstring for what it refuses).

    One instance is reused for a file; it is not thread-safe.

    Args:
        fast: Decode the texts that cannot hold anything refused with orjson, when it is
            installed (the same values; False is the exact way for every text).

    >>> SafeJson().decode('{"student_id": "s1", "days_absent": 4}')
    {'student_id': 's1', 'days_absent': 4}
    >>> try:
    ...     SafeJson().decode('{"student_id": "s1", "days_absent": NaN}')
    ... except JsonProblem as exc:
    ...     print(exc.code, exc.key, exc.value, "-", exc.message)
    ingest.invalid_number days_absent {'student_id': 's1', 'days_absent': None} - \
days_absent: NaN is not a number JSON allows
    """

    def __init__(self, *, fast: bool = True) -> None:
        """Build the decoder."""
        self._fast = fast and _orjson is not None
        self.large = False
        """Set when a number larger than :data:`~tierflow.facts.MAX_NUMBER` in size was decoded
        (the caller checks the record's number facts, then clears it)."""
        self._refused: list[_Refused] = []
        # The number hooks cost about 0.1 us a number (a fifth of decoding a typical record);
        # screening texts with a regular expression first costs more than that.
        decoder = json.JSONDecoder(
            parse_int=self._int, parse_float=self._float, parse_constant=self._constant
        )
        # JSONDecoder sets scan_once in __init__; typeshed does not declare it.
        self._scan: Callable[[str, int], tuple[Any, int]] = decoder.scan_once  # type: ignore[attr-defined]

    def _refuse(self, reason: str) -> _Refused:
        marker = _Refused(reason)
        self._refused.append(marker)
        return marker

    def _int(self, text: str) -> int | _Refused:
        if len(text) > _MAX_DIGITS:  # 10**15 has 16 digits
            if len(text) > MAX_NUMBER_CHARS:
                return self._refuse(
                    f"a number written with {len(text):,} characters (at most {MAX_NUMBER_CHARS})"
                )
            self.large = True
        return int(text)

    def _float(self, text: str) -> float | _Refused:
        if len(text) > MAX_NUMBER_CHARS:
            return self._refuse(
                f"a number written with {len(text):,} characters (at most {MAX_NUMBER_CHARS})"
            )
        value = float(text)
        if not -MAX_NUMBER <= value <= MAX_NUMBER:
            if math.isinf(value):
                return self._refuse(f"{text} is too large for a number")
            self.large = True
        return value

    def _constant(self, text: str) -> _Refused:
        return self._refuse(f"{text} is not a number JSON allows")

    def _raw(self, text: str) -> tuple[Any, bool, bool]:
        """Decode, leaving refused numbers in place; say if any were, or surrogates may be."""
        if self._fast:
            value = _screened(text)
            if value is not _MISS:
                return value, False, False
        too_deep = _depth_problem(text)
        if too_deep is not None:
            raise too_deep
        # json's decode() and raw_decode() around the C scanner, without their Python frames.
        start = 0 if text[:1] not in _SPACE else len(text) - len(text.lstrip(_SPACE))
        try:
            try:
                value, end = self._scan(text, start)
            except StopIteration as exc:
                raise json.JSONDecodeError("Expecting value", text, exc.value) from None
            if end != len(text) and text[end:].strip(_SPACE):
                end += len(text[end:]) - len(text[end:].lstrip(_SPACE))
                raise json.JSONDecodeError("Extra data", text, end)
        except json.JSONDecodeError as exc:
            self._refused.clear()
            raise JsonProblem(
                "ingest.invalid_json", exc.msg, line=exc.lineno, column=exc.colno
            ) from exc
        refused = bool(self._refused)
        self._refused.clear()
        return value, refused, "\\u" in text and _SURROGATE_ESCAPE.search(text) is not None

    def decode_lines(self, block: bytes) -> Iterator[tuple[bytes, Any]]:
        """Yield each line of ``block`` (UTF-8 lines) with its value decoded the fast way.

        Each line is screened as :meth:`decode` screens a text, the block's screen made at
        once, and decoded by orjson when it passes. A line that does not pass, or that orjson
        refuses (a blank line, a line that is not JSON), comes with :data:`MISS`: its text is
        for :meth:`decode`, which decodes it the exact way or names what is wrong and where.
        Without orjson (or with ``fast=False``) every line comes with :data:`MISS`. A line is
        decoded only when it is taken, so a block's records are not all held at once.

        Args:
            block: Whole lines, valid UTF-8 (a last line without its newline is a line).

        Yields:
            Each line, without its newline, and its value (or :data:`MISS`).
        """
        lines = block.split(b"\n")
        if block.endswith(b"\n"):
            lines.pop()
        if not self._fast:
            yield from zip(lines, repeat(_MISS))
            return
        loads = _orjson.loads
        screen = block.translate(_SCREEN)
        screens = screen.split(b"\n")  # line by line, as the lines are
        refused: Iterator[bool]
        if (
            not _numbers_risky(screen)
            and max(map(bytes.count, screens, repeat(b"[")), default=0) <= MAX_DEPTH
        ):
            refused = repeat(False)  # the whole block passes: no line is looked at again
        else:
            refused = map(_refused_by_screen, screens)
        for line, exact in zip(lines, refused, strict=False):  # screens: one more if "\n"-ended
            if exact:
                yield line, _MISS
                continue
            try:
                yield line, loads(line)
            except _orjson.JSONDecodeError:  # not JSON (or blank): the exact way's
                yield line, _MISS

    def decode(self, text: str) -> Any:
        """Decode one JSON text.

        Raises:
            JsonProblem: The text is not JSON, is too deep, or holds a refused number or a
                lone surrogate.
        """
        value, refused, surrogates = self._raw(text)
        if refused or surrogates:
            problem = _problem(value)
            if problem is not None:
                raise problem
        return value

    def items(self, text: str) -> Iterator[tuple[int, Any]]:
        """Decode a JSON array, yielding ``(index, item)``, or ``(index, JsonProblem)``.

        An item holding a refused number or a lone surrogate is its own problem; the others
        are yielded decoded. A document that is not JSON or too deep is one problem, yielded
        with index -1. A document that is not an array is yielded whole with index -1.
        """
        try:
            value, refused, surrogates = self._raw(text)
        except JsonProblem as exc:
            yield -1, exc
            return
        # A file decoded with errors="surrogateescape" carries its bad bytes as lone surrogates.
        surrogates = surrogates or _has_surrogate(text)
        if not isinstance(value, list):
            problem = _problem(value) if refused or surrogates else None
            yield -1, value if problem is None else problem
            return
        for index, item in enumerate(value):
            problem = _problem(item) if refused or surrogates else None
            yield index, item if problem is None else problem


def _problem(value: Any) -> JsonProblem | None:
    """The problem of the first refused number or lone surrogate in ``value``, or None."""
    for path, item in _walk(value):
        where = path or "the value"
        if isinstance(item, _Refused):
            return JsonProblem(
                "ingest.invalid_number",
                f"{where}: {item.reason}",
                value=_cleaned(value),
                key=_top_key(path),
            )
        if isinstance(item, str) and _has_surrogate(item):
            return JsonProblem(
                "ingest.invalid_encoding",
                f"{where}: text that is not UTF-8 (a bad byte, or a \\u escape of half a "
                "character: a lone surrogate)",
                value=_cleaned(value),
                key=_top_key(path),
            )
        if isinstance(item, dict):
            for key in item:
                if _has_surrogate(key):
                    return JsonProblem(
                        "ingest.invalid_encoding",
                        f"{where}: a key holds half of a character (a lone surrogate)",
                        value=None,
                        key=_top_key(path),
                    )
    return None


def _top_key(path: str) -> str | None:
    head = path.split(".", 1)[0].split("[", 1)[0]
    return head or None


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(path, value)`` for ``value`` and everything inside it (depth is bounded)."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def _cleaned(value: Any) -> Any:
    """``value`` with None in place of each refused number."""
    if isinstance(value, _Refused):
        return None
    if isinstance(value, dict):
        return {k: _cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    return value


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
