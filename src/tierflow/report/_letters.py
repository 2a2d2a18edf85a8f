"""The printed page of a family notice: US Letter paper, a letterhead, the address in the window.

Each letter is one ``<section class="letter">``; a page of several (a school's mailing, in mail
order) starts each on a new sheet, so no sheet ever carries two families' letters. The first
``<address>`` of a letter (the built-in templates put the family's there) is placed where a
standard #10 window envelope shows it when the sheet is folded in three: 2.1 inches from the
top of the sheet and 1 inch from its left edge, 3.5 by 0.95 inches (the window is 4.5 by 1.125
inches, 7/8 inch from the envelope's left and 1/2 inch from its bottom). The school's name and
address print top left as the return address, the letter's date top right.

The template's HTML comes from the district's sandboxed template (values autoescaped); the page
adds a Content-Security-Policy that allows no script, no network and no frames, so whatever
markup a template writes, the browser that prints it only lays it out.
"""

from __future__ import annotations

from collections.abc import Iterable

from tierflow.notices import RenderedNotice, SchoolInfo
from tierflow.report._export import Markup, html, join

__all__ = ["LETTER_STYLE", "letter_section", "letters_page"]

LETTER_STYLE = """\
  @page { size: letter; margin: 0.5in 0.75in 0.6in 1in; }
  body { font: 11pt/1.45 "DejaVu Sans", system-ui, sans-serif; color: #111; margin: 0; }
  section.letter { position: relative; min-height: 9.6in; padding-top: 2.95in;
                   box-sizing: border-box; }
  section.letter + section.letter { break-before: page; }
  section.letter header.school { position: absolute; top: 0; left: 0; width: 3.6in;
                                 font-size: 9.5pt; line-height: 1.3; }
  section.letter header.school strong { font-size: 11pt; }
  section.letter p.date:first-of-type { position: absolute; top: 0.95in; right: 0; margin: 0; }
  section.letter address:first-of-type { position: absolute; top: 1.6in; left: 0;
                                         width: 3.5in; height: 0.95in; overflow: hidden;
                                         font-style: normal; font-size: 10pt;
                                         line-height: 1.25; }
  section.letter p { margin: 0 0 0.7em; }
  @media screen { section.letter { border-bottom: 1px dashed #999; margin: 1em auto;
                                   max-width: 6.75in; } }
"""
"""The print CSS of every letter page."""

_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{title}</title>
<style>
{style}</style>
</head>
<body>
{body}
</body>
</html>
"""

_SECTION = """<section class="letter" lang="{lang}" data-student="{student}" data-notice="{notice}">
<header class="school"><strong>{name}</strong><br>{lines}</header>
{letter}
</section>"""


def letter_section(rendered: RenderedNotice, *, school: SchoolInfo, student_id: str) -> Markup:
    """One letter: the school's return address, then the rendered template.

    Args:
        rendered: The notice as rendered (its HTML is the sandboxed template's output).
        school: The school whose name and address head the letter.
        student_id: The student (kept as a ``data-student`` attribute, escaped).
    """
    lines = [*school.address_lines, *([school.phone] if school.phone else [])]
    return html(
        _SECTION,
        lang=rendered.language,
        student=student_id,
        notice=rendered.notice_id,
        name=school.name,
        lines=join(Markup("<br>"), lines),
        letter=Markup(rendered.html),
    )


def letters_page(title: str, sections: Iterable[Markup], *, lang: str = "en") -> Markup:
    """A whole printable page of letters, each on its own sheet."""
    return html(
        _PAGE,
        lang=lang,
        title=title,
        style=Markup(LETTER_STYLE),
        body=join(Markup("\n"), sections),
    )
