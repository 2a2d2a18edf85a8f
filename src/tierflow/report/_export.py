"""The one way exports write CSV and HTML, so a hostile value in a record stays inert text.

A student id, a staff id, a note or a name comes from a district's data or a store row, and an
export prints it for someone to open in a spreadsheet or a browser. Every CSV export writes
through :func:`csv_text` and every HTML export builds its page with :func:`html`, so no call
site can forget to neutralise a value:

- **CSV** (formula injection, as the OWASP "CSV Injection" page recommends): every text cell is
  quoted, and a text cell that a spreadsheet could read as a formula gets a single quote (``'``)
  in front, which spreadsheets take to mean "this cell is text". That is a cell starting with
  ``=``, ``+``, ``-``, ``@``, a tab, a carriage return, a line feed or a NUL character, or with
  their full-width forms (U+FF1D, U+FF0B, U+FF0D, U+FF20), also when whitespace, quotes (``"``,
  ``'``) or invisible characters (controls, zero-width and direction marks) come first. Numbers
  the export computes itself are written as numbers, unquoted and unchanged (``-3`` stays a
  number); dates as ``YYYY-MM-DD``; nothing else may be a cell.
- **JSON**: :func:`json_text` writes the document with every character that could act on a
  terminal or reorder what a reader sees (DEL, the C1 controls, the bidirectional embeddings,
  overrides and isolates) as a JSON escape (backslash, ``u``, four hex digits): the same data
  once parsed, inert as bytes.
  C0 controls are escaped by JSON itself; other non-ASCII text (names, accents) stays as it is.
- **HTML**: :func:`html` fills a template with values, escaping each (``&``, ``<``, ``>``,
  ``"`` and ``'``) unless it is :class:`Markup` that :func:`html` or :func:`join` built.
  A date or a number is escaped like any text, so a repository returning a string where a
  date belongs cannot add a tag either.

>>> print(csv_text([["id", "note", "change"], ["c1", "=1+2", -3], ["c2", ' "@SUM(A1)', 4]]))
"id","note","change"
"c1","'=1+2",-3
"c2","' ""@SUM(A1)",4
<BLANKLINE>
>>> print(html("<td>{who}</td>", who="<b>ms-lee</b>"))
<td>&lt;b&gt;ms-lee&lt;/b&gt;</td>
"""

from __future__ import annotations

import csv
import datetime as dt
import html as _html
import io
import json
import re
import unicodedata
from collections.abc import Iterable

__all__ = [
    "FORMULA_STARTS",
    "Cell",
    "Markup",
    "csv_cell",
    "csv_text",
    "html",
    "join",
    "json_line",
    "json_text",
]

_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def json_text(data: object) -> str:
    r"""A JSON document (indented, ending with a newline) with no character that acts on a terminal.

    >>> json_text({"id": "x\x1b[2J\u202egnp.exe", "name": "Ana Peña"})
    '{\n  "id": "x\\u001b[2J\\u202egnp.exe",\n  "name": "Ana Peña"\n}\n'
    """
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", text) + "\n"


def json_line(data: object) -> str:
    r"""One JSON Lines record: compact, on one line, ending with a newline, escaped as above.

    >>> json_line({"text": "a\nb\u202e", "n": 1})
    '{"text":"a\\nb\\u202e","n":1}\n'
    """
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", text) + "\n"


Cell = str | int | dt.date | None
"""What a CSV cell may be: text, a number the export computed, a date, or nothing (empty)."""

FORMULA_STARTS = frozenset("=+-@\t\r\n\0\uff1d\uff0b\uff0d\uff20")
"""Characters that make a spreadsheet read a cell as a formula (or shift what follows)."""

_QUOTES = frozenset("\"'")


def _ignorable(ch: str) -> bool:
    """Whitespace, a quote or an invisible character a spreadsheet may skip before a formula."""
    return ch.isspace() or ch in _QUOTES or unicodedata.category(ch) in ("Cc", "Cf")


def csv_cell(value: Cell) -> str | int:
    r"""``value`` as the cell an export writes: text a spreadsheet cannot run as a formula.

    >>> csv_cell("=HYPERLINK(A1)"), csv_cell("\t@x"), csv_cell("iv-0000001"), csv_cell(-3)
    ("'=HYPERLINK(A1)", "'\t@x", 'iv-0000001', -3)
    >>> csv_cell(dt.date(2025, 10, 15)), csv_cell(None), csv_cell("\uff1d1+1") == "'\uff1d1+1"
    ('2025-10-15', '', True)

    Raises:
        TypeError: A value that is not text, a whole number, a date or None (a float or a
            bool would be written as whatever ``str`` makes of it: say what is meant).
    """
    if value is None:
        return ""
    if type(value) is int:
        return value
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if not isinstance(value, str):
        raise TypeError(f"a CSV cell cannot be a {type(value).__name__}: {value!r}")
    for ch in value:
        if ch in FORMULA_STARTS:
            return "'" + value
        if not _ignorable(ch):
            break
    return value


def csv_text(rows: Iterable[Iterable[Cell]]) -> str:
    r"""Rows as CSV text: every text cell quoted and passed through :func:`csv_cell`.

    Numbers (whole, computed by the export) are written unquoted; a spreadsheet reads them as
    numbers. Rows end with ``\n``.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


class Markup(str):
    """HTML that is safe to put in a page as it is: only :func:`html` and :func:`join` make it.

    Adding text to Markup gives a plain ``str`` (escaped again when used), never Markup.
    """

    __slots__ = ()


def _escaped(value: object) -> str:
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    return _html.escape(str(value), quote=True)


def html(template: str, /, **values: object) -> Markup:
    """Fill ``template`` (``str.format`` fields by name) with ``values``, each escaped.

    ``template`` is code, never data; a value is escaped unless it is :class:`Markup`, and
    None is empty.
    """
    return Markup(template.format_map({k: _escaped(v) for k, v in values.items()}))


def join(separator: str, parts: Iterable[object]) -> Markup:
    """``parts`` joined by ``separator`` (code, never data), each part escaped unless Markup."""
    return Markup(separator.join(_escaped(p) for p in parts))
