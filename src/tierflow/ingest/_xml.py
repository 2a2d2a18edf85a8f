"""Ed-Fi XML, streamed with expat: one record at a time as a small tree or a flat dict.

A DOCTYPE is refused (so no entity can expand), elements are at most :data:`MAX_DEPTH` deep
inside a record and a record holds at most :data:`MAX_LINE_BYTES` characters of text; a record
over either bound is yielded as its :class:`~tierflow.DataError` and the file is read on.
Elements are matched by local name, so every Ed-Fi Data Standard namespace works.
"""

from __future__ import annotations

import xml.parsers.expat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tierflow.errors import DataError, TierflowError
from tierflow.ingest._json import MAX_DEPTH
from tierflow.ingest._text import MAX_LINE_BYTES

__all__ = [
    "Node",
    "XmlRefused",
    "expat_parser",
    "xml_error",
    "xml_flat_records",
    "xml_items",
]


class Node:
    """A small element tree of one record: local tag, attributes, text, children."""

    __slots__ = ("attrs", "children", "parts", "tag", "text")

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[Node] = []
        self.parts: list[str] = []
        self.text = ""

    def find(self, tag: str) -> Node | None:
        """The first descendant with this local tag, depth first in document order."""
        stack = self.children[::-1]
        while stack:
            node = stack.pop()
            if node.tag == tag:
                return node
            stack.extend(reversed(node.children))
        return None

    def value(self, tag: str) -> str | None:
        """The text of the first descendant ``tag`` (a descriptor's ``CodeValue`` if nested)."""
        node = self.find(tag)
        if node is None:
            return None
        if node.children:
            code = node.find("CodeValue")
            return code.text.strip() if code is not None else None
        return node.text.strip() or None

    def values(self, tag: str) -> list[str]:
        """The texts of every descendant ``tag``, in document order."""
        out: list[str] = []
        stack = self.children[::-1]
        while stack:
            child = stack.pop()
            if child.tag == tag and not child.children:
                if child.text.strip():
                    out.append(child.text.strip())
                continue
            if child.tag == tag:
                code = child.find("CodeValue")
                if code is not None:
                    out.append(code.text.strip())
                    continue
            stack.extend(reversed(child.children))
        return out


class XmlRefused(TierflowError, xml.parsers.expat.ExpatError):
    """A document tierflow does not read on (a DOCTYPE), raised from an expat handler.

    An ``ExpatError``, so a reader that stops at a malformed file stops at this one too.
    """

    def __init__(self, message: str, lineno: int) -> None:
        super().__init__(message)
        self.lineno = lineno


def xml_error(exc: Exception, name: str) -> DataError:
    """The ``ingest.invalid_xml`` reject of a file expat or tierflow stopped reading."""
    line = getattr(exc, "lineno", None)
    return DataError("ingest.invalid_xml", str(exc), source=f"{name}:{line}" if line else name)


def expat_parser(namespace_separator: str | None = None) -> Any:
    """An expat parser that refuses DTDs and hands text over in large pieces.

    A DOCTYPE is refused outright: its internal subset can declare entities that expand to
    gigabytes ("billion laughs"), and Ed-Fi interchange files never have one. Without it, an
    entity reference other than the five predefined ones is an expat error.
    """
    parser = xml.parsers.expat.ParserCreate(namespace_separator=namespace_separator)

    def doctype(*_: Any) -> None:
        raise XmlRefused(
            "a DOCTYPE is not allowed in an Ed-Fi file (its entities could expand without "
            "bound); the file was not read",
            parser.CurrentLineNumber,
        )

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    return parser


def record_problem(code: str, path: Path, line: int) -> DataError:
    if code == "ingest.too_deep":
        message = f"elements inside the record are nested more than {MAX_DEPTH} deep"
    else:
        message = f"the record holds more than {MAX_LINE_BYTES:,} characters of text"
    return DataError(code, message, source=f"{path}:{line}")


def feed(parser: Any, path: Path, ready: list[Any]) -> Iterator[Any]:
    """Feed ``path`` to an expat parser in chunks, yielding what its handlers made ready."""
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 16)
            try:
                parser.Parse(chunk, not chunk)
            except (LookupError, ValueError) as exc:
                if isinstance(exc, DataError):
                    raise
                # The XML declaration names an encoding Python does not know (LookupError) or
                # expat cannot use (ValueError: 'multi-byte encodings are not supported'): the
                # file is refused at its line, like a DOCTYPE.
                raise XmlRefused(
                    f"cannot read the encoding the XML declaration names: {exc}",
                    parser.CurrentLineNumber or 1,
                ) from None
            yield from ready
            ready.clear()
            if not chunk:
                break


def xml_items(path: Path, tags: frozenset[str]) -> Iterator[tuple[int, Node | DataError]]:
    """Stream the records (children of the root) whose local tag is in ``tags``.

    Yields ``(line where the record starts, its tree)``; only one record is held at a time. A
    record nested more than :data:`MAX_DEPTH` deep or holding more than :data:`MAX_LINE_BYTES`
    characters of text is yielded as its :class:`DataError` (``ingest.too_deep``,
    ``ingest.too_long``) and the file is read on.

    Raises:
        xml.parsers.expat.ExpatError: The file is not well-formed.
        XmlRefused: The file has a DOCTYPE.
    """
    parser = expat_parser(" ")
    stack: list[Node] = []
    ready: list[tuple[int, Node | DataError]] = []
    depth = 0
    start_line = 0
    record: Node | None = None
    problem: str | None = None
    size = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth, start_line, record, problem, size
        depth += 1
        tag = name.rsplit(" ", 1)[-1]
        if depth == 2 and tag in tags:
            start_line = parser.CurrentLineNumber
            record = Node(tag, attrs)
            stack.append(record)
            problem, size = None, 0
        elif record is not None and problem is None:
            if len(stack) >= MAX_DEPTH:
                problem = "ingest.too_deep"
                return
            node = Node(tag, attrs)
            stack[-1].children.append(node)
            stack.append(node)

    def end(_: str) -> None:
        nonlocal depth, record
        depth -= 1
        if record is None:
            return
        if depth == 1:
            if problem is None:
                record.text = "".join(record.parts)
                ready.append((start_line, record))
            else:
                ready.append((start_line, record_problem(problem, path, start_line)))
            record = None
            stack.clear()
        elif problem is None:
            node = stack.pop()
            node.text = "".join(node.parts)
            node.parts = []

    def chars(data: str) -> None:
        nonlocal size, problem
        if record is not None and problem is None:
            size += len(data)
            if size > MAX_LINE_BYTES:
                problem = "ingest.too_long"
                return
            stack[-1].parts.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    yield from feed(parser, path, ready)


def xml_flat_records(
    path: Path, record: str, wanted: Mapping[str, str]
) -> Iterator[tuple[int, dict[str, str] | DataError]]:
    """Stream records named ``record``, keeping only the first text of each ``wanted`` tag.

    ``wanted`` maps local tag names to the keys of the yielded dicts. A descriptor written as a
    nested ``CodeValue`` (Data Standard 2.x) counts as the text of its parent. Faster than
    building a tree, for the large attendance files. A record nested too deep or holding too
    much text is yielded as its :class:`DataError`, as by :func:`xml_items`.

    Raises:
        xml.parsers.expat.ExpatError: The file is not well-formed.
        XmlRefused: The file has a DOCTYPE.
    """
    parser = expat_parser()
    depth = 0
    start_line = 0
    current: dict[str, str] | None = None
    tags: list[str] = []
    texts: list[str] = []
    ready: list[tuple[int, dict[str, str] | DataError]] = []
    problem: str | None = None
    skipped = 0  # elements below the depth limit, not followed
    size = 0

    def local(name: str) -> str:
        return name.rsplit(":", 1)[-1]

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth, start_line, current, problem, skipped, size
        depth += 1
        if depth == 2:
            if local(name) == record:
                start_line = parser.CurrentLineNumber
                current = {}
                problem, skipped, size = None, 0, 0
            return
        if current is not None:
            if skipped or len(tags) >= MAX_DEPTH:
                problem = problem or "ingest.too_deep"
                skipped += 1
                return
            tags.append(local(name))
            texts.clear()

    def end(_: str) -> None:
        nonlocal depth, current, skipped
        depth -= 1
        if current is None:
            return
        if depth == 1:
            if problem is None:
                ready.append((start_line, current))
            else:
                ready.append((start_line, record_problem(problem, path, start_line)))
            current = None
            tags.clear()
            return
        if skipped:
            skipped -= 1
            return
        tag = tags.pop()
        key = wanted.get(tag)
        if key is None and tag == "CodeValue" and tags:
            key = wanted.get(tags[-1])
        if key is not None and key not in current:
            text = "".join(texts).strip()
            if text:
                current[key] = text
        texts.clear()

    def chars(data: str) -> None:
        nonlocal size, problem
        if current is not None and tags and not skipped:
            size += len(data)
            if size > MAX_LINE_BYTES:
                problem = problem or "ingest.too_long"
                texts.clear()
                return
            texts.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    yield from feed(parser, path, ready)
