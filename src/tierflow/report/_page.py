r"""The one page every HTML report is printed on: its skeleton and its single stylesheet.

A packet, a compliance report (and the notices and dashboards to come) are all tables of
records printed to PDF from a browser, so they share one look and one set of print rules:
table headers repeat on every page, rows and list items are never split, each section that
asks for it (``section.timeline``, ``section.sources``) starts on a new page, and every page
carries a running header and ``page N of M`` in its margins. A report only says what differs:
its title, the running header text and whether it is printed landscape.

>>> page = document(title="Notices", running="Lincoln <High>", body=html("<p>{x}</p>", x="1"))
>>> print(page.splitlines()[4])
<title>Notices</title>
>>> print(next(line for line in page.splitlines() if "@top-left" in line).strip())
@top-left { content: "Lincoln \3c High\3e "; font: 8.5pt sans-serif; color: #444; }
"""

from __future__ import annotations

import string
from collections.abc import Iterable

from tierflow.report._export import Markup, html, join

__all__ = ["STYLE", "css_string", "document", "sources"]

STYLE = """\
  body { font: 10.5pt/1.4 "DejaVu Sans", system-ui, sans-serif; color: #111; margin: 2em; }
  h1 { font-size: 16pt; margin: 0 0 .4em; }
  h2 { font-size: 13pt; margin: 1.2em 0 .4em; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border: 1px solid #999; padding: .25em .4em; text-align: left; vertical-align: top; }
  th { background: #eee; }
  table.meta { width: auto; margin-bottom: 1em; }
  table.meta th { background: none; border: none; padding-left: 0; }
  table.meta td { border: none; }
  td.date, td.cites { white-space: nowrap; }
  td.id { white-space: nowrap; font-family: "DejaVu Sans Mono", monospace; font-size: 90%; }
  td ul { margin: 0; padding-left: 1.1em; }
  li.missing, td.missing { color: #a00; font-weight: bold; }
  ol.sources li { margin-bottom: .3em; }
  tr.flagged td { background: #fde8e8; }
  tr.flagged td:nth-child(6) { color: #a00; font-weight: bold; }
  @page {
    size: $size;
    margin: 20mm 14mm 16mm;
    @top-left { content: $running; font: 8.5pt sans-serif; color: #444; }
    @bottom-right { content: "page " counter(page) " of " counter(pages);
                    font: 8.5pt sans-serif; color: #444; }
  }
  @media print {
    body { margin: 0; font-size: 9pt; }
    thead { display: table-header-group; }
    tr, li { break-inside: avoid; }
    h2 { break-after: avoid; }
    section.timeline, section.sources { break-before: page; }
    th { background: none; }
    tr.flagged td { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  }
"""
"""The stylesheet of every report (``$size`` and ``$running`` are filled in per page)."""

_SKELETON = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
{style}</style>
</head>
<body>
<h1>{title}</h1>
{body}
</body>
</html>
"""


def css_string(text: str) -> Markup:
    r"""``text`` as a quoted CSS string that is also safe inside an HTML ``<style>`` element.

    A ``<style>`` element's text is not HTML-escaped by a browser, so escaping ``<`` as
    ``&lt;`` would not help there: every character but letters, digits and a few punctuation
    marks is written as a CSS escape (``<`` as ``\3c ``), so nothing in ``text`` can end the
    string, the rule or the element.

    >>> print(css_string('a</style>"b'))
    "a\3c /style\3e \22 b"
    """
    out = []
    for ch in text:
        if ch.isalnum() or ch in " -.,:;()/_":
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):x} ")
    return Markup('"' + "".join(out) + '"')


def document(*, title: str, running: str, body: Markup, landscape: bool = False) -> Markup:
    """A whole printable page: ``title`` as its title and heading, then ``body``.

    Args:
        title: The page title and its first heading (escaped).
        running: The text printed at the top of every page (written as a CSS string).
        body: The page's content, built with :func:`~tierflow.report._export.html`.
        landscape: Print landscape (wide tables); otherwise the printer's paper as it is.
    """
    size = "landscape" if landscape else "auto"
    style = string.Template(STYLE).substitute(size=size, running=css_string(running))
    return html(_SKELETON, title=title, style=Markup(style), body=body)


def sources(titles: Iterable[str]) -> Markup:
    """The closing section: the rules and statutes a page cites, numbered as its ``[n]`` marks.

    >>> print(sources(["Cal. Educ. Code 48260"]).splitlines()[3])
    <li>Cal. Educ. Code 48260</li>
    """
    items = join("\n", (html("<li>{c}</li>", c=c) for c in titles))
    return html(_SOURCES, items=items or Markup("<li>None cited.</li>"))


_SOURCES = """<section class="sources">
<h2>Rules and statutes cited</h2>
<ol class="sources">
{items}
</ol>
</section>"""
