"""The lines of an input file as text, checked one line at a time and bounded in length.

A file is opened in binary and decoded line by line, so a byte that is not UTF-8 spoils only
the record on its line (``ingest.invalid_encoding``), and a line longer than :data:`MAX_LINE_BYTES`
is cut there and reported (``ingest.too_long``) instead of being held in memory whole.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from typing import IO

__all__ = ["MAX_LINE_BYTES", "LineBlocks", "TextLines"]

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


class LineBlocks:
    r"""The lines of a binary body that arrives in chunks, a chunk's whole lines at a time.

    The lines are :class:`TextLines`' lines of the whole body (the same numbers, the same
    spoilt lines in :attr:`problems`), so a body read from a socket or a file in chunks is
    read as a file is. Each of :meth:`blocks` is either

    - the chunk's whole lines as UTF-8 bytes, when none is spoilt or too long, none ends in a
      lone carriage return, and the body does not start with a byte order mark there (about
      every block of a good body: lines the caller may split and decode at once); or
    - the lines :class:`TextLines` reads from them, as text, their problems in
      :attr:`problems`.

    The body's last line so far is held in the pieces it came in, joined once its end comes,
    and never more than ``max_bytes`` and a chunk of it (the rest of a longer line is
    skipped, as :class:`TextLines` skips it, and the line is rejected as too long).

    Attributes:
        problems: Line number (1-based) to ``(code, message)`` for each spoilt line.
        chunks: Chunks read so far.

    >>> body = LineBlocks([b'{"a": 1}\n{"a"', b': 2}\n\xff\n'])
    >>> list(body.blocks())
    [b'{"a": 1}\n', ['{"a": 2}\n', '\ufffd\n']]
    >>> body.problems
    {3: ('ingest.invalid_encoding', 'the line is not UTF-8 text: byte 0xff at byte 1 of the line')}
    """

    def __init__(self, chunks: Iterable[bytes], *, max_bytes: int = MAX_LINE_BYTES) -> None:
        """Read the body from ``chunks`` (taken one at a time, as lines are wanted)."""
        self._chunks = chunks
        self._max = max_bytes
        self._pending: list[bytes] = []
        self._held = 0
        self._number = 0  # lines handed over
        self.problems: dict[int, tuple[str, str]] = {}
        self.chunks = 0

    @classmethod
    def of_stream(cls, raw: IO[bytes], chunk: int = 1 << 16) -> LineBlocks:
        """The blocks of a binary stream, read ``chunk`` bytes at most at a time.

        A stream that can (a buffered file, standard input) gives what it has without waiting
        for a whole chunk, so records piped in slowly are read as they come.
        """
        read = getattr(raw, "read1", raw.read)
        return cls(iter(lambda: read(chunk), b""))

    def __iter__(self) -> Iterator[str]:
        """Yield each line as text (a bytes block's lines without their newlines)."""
        for block in self.blocks():
            if isinstance(block, bytes):
                lines = block.decode("utf-8").split("\n")
                if block.endswith(b"\n"):
                    lines.pop()
                yield from lines
            else:
                yield from block

    def blocks(self) -> Iterator[bytes | list[str]]:
        """Yield the body's lines, a block for each chunk that ends one or more of them."""
        for chunk in self._chunks:
            self.chunks += 1
            cut = chunk.rfind(b"\n") + 1
            if not cut:
                self._hold(chunk)
                continue
            yield self._block(self._take(chunk[:cut]))
            self._hold(chunk[cut:])
        self.chunks += 1  # the end, as a chunk: what waits for the next one is flushed
        if self._pending:
            yield self._block(self._take(b""))

    def _hold(self, piece: bytes) -> None:
        """Keep ``piece`` of the last line, unless that line is already too long to keep."""
        if piece and self._held <= self._max:
            self._pending.append(piece)
            self._held += len(piece)

    def _take(self, rest: bytes) -> bytes:
        """The last line held, then ``rest`` (whole lines); nothing is held after."""
        if not self._pending:
            return rest
        self._pending.append(rest)
        block = b"".join(self._pending)
        self._pending, self._held = [], 0
        return block

    def _block(self, block: bytes) -> bytes | list[str]:
        """``block`` (whole lines, or the body's last) as it is handed over."""
        start = self._number == 0
        if (
            len(block) <= self._max
            and (b"\r" not in block or block.count(b"\r") == block.count(b"\r\n"))
            and not (start and block.startswith(_BOM))
            and _utf8(block)
        ):
            self._number += block.count(b"\n") + (not block.endswith(b"\n"))
            return block
        reader = TextLines(io.BytesIO(block), max_bytes=self._max, start=start)
        lines = list(reader)
        for number, problem in reader.problems.items():
            self.problems[self._number + number] = problem
        self._number += len(lines)
        return lines


def _utf8(data: bytes) -> bool:
    """Whether ``data`` is UTF-8 text."""
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
