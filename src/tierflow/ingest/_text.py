"""The lines of an input file as text, checked one line at a time and bounded in length.

A file is opened in binary and decoded line by line, so a byte that is not UTF-8 spoils only
the record on its line (``ingest.invalid_encoding``), and a line longer than :data:`MAX_LINE_BYTES`
is cut there and reported (``ingest.too_long``) instead of being held in memory whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

__all__ = ["MAX_LINE_BYTES", "TextLines"]

MAX_LINE_BYTES = 1 << 20
"""The longest line (record) a reader holds: 1 MiB. The rest of a longer line is skipped."""

_BOM = b"\xef\xbb\xbf"
_LONE_CR = re.compile(r"(?<=\r)(?!\n)")
"""Where a carriage return not followed by a newline ends a line, as ``newline=''`` reads it."""


class TextLines:
    r"""Iterate over the lines of a binary stream as text, never failing on a bad byte.

    Lines end at ``\n``, ``\r\n`` or a lone ``\r`` (as Python's ``newline=''`` text mode and the
    ``csv`` module see them) and keep their ends. A UTF-8 byte order mark at the start is
    dropped. A line that is not UTF-8 is decoded with U+FFFD in place of the bad bytes, and a
    line longer than ``max_bytes`` is cut to its first ``max_bytes`` bytes; both are recorded in
    :attr:`problems` under their line number, for the reader to reject the record they hold.

    Attributes:
        problems: Line number (1-based) to ``(code, message)`` for each line that was spoilt.

    >>> import io
    >>> lines = TextLines(io.BytesIO(b"\xef\xbb\xbfa,b\n\xff1,2\r\n3,4"))
    >>> list(lines)
    ['a,b\n', '\ufffd1,2\r\n', '3,4']
    >>> lines.problems
    {2: ('ingest.invalid_encoding', 'the line is not UTF-8 text: byte 0xff at byte 1 of the line')}
    """

    def __init__(
        self, raw: IO[bytes], *, max_bytes: int = MAX_LINE_BYTES, start: bool = True
    ) -> None:
        """Wrap ``raw`` (read from its current position).

        Args:
            raw: A binary stream.
            max_bytes: The longest line kept whole.
            start: ``raw`` starts where the file does (a byte order mark there is dropped);
                False for a piece from the middle of one.
        """
        self._raw = raw
        self._max = max_bytes
        self._start = start
        self.problems: dict[int, tuple[str, str]] = {}

    def __iter__(self) -> Iterator[str]:
        """Yield each line as text, with its line end."""
        raw, limit = self._raw, self._max
        number = 0
        first = self._start
        while True:
            data = raw.readline(limit + 1)
            if not data:
                return
            problem: tuple[str, str] | None = None
            if len(data) > limit and not data.endswith(b"\n"):
                data = data[:limit]
                problem = (
                    "ingest.too_long",
                    f"the line is longer than {limit:,} bytes; the rest of it was skipped",
                )
                while (more := raw.readline(limit)) and not more.endswith(b"\n"):
                    pass
            if first:
                data = data.removeprefix(_BOM)
                first = False
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                text = data.decode("utf-8", errors="replace")
                if problem is None:
                    problem = (
                        "ingest.invalid_encoding",
                        f"the line is not UTF-8 text: byte {data[exc.start]:#04x} at byte "
                        f"{exc.start + 1} of the line",
                    )
            pieces = _LONE_CR.split(text) if "\r" in text else (text,)
            for piece in pieces:
                if not piece:
                    continue
                number += 1
                if problem is not None:
                    self.problems[number] = problem
                yield piece
