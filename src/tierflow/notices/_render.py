"""Rendering a notice: the template in the family's language, dated, with its elements in force.

:class:`NoticeBook` is what the compiler keeps of a rule set's notices (their specs, elements
and the text of every template, read and checked at load); :func:`render_notice` renders one.

Language: the family's language (``es-MX``), else its base language (``es``), else the notice's
first template's language, reported in :attr:`RenderedNotice.fell_back`. A language listed in
``required_languages`` (EC 48985: 15% of a school's families) never falls back: a missing
template there is a :class:`NoticeError`, never a letter silently sent in English.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from tierflow.errors import Problem
from tierflow.notices._context import NoticeContext, StepInfo
from tierflow.notices._env import STATE, NoticeError, RenderState, bounded_output, environment
from tierflow.spec._notices import NoticeElementSpec, NoticeSpec, TranslationsSpec

__all__ = [
    "NoticeBook",
    "RenderedNotice",
    "TemplateSource",
    "pick_language",
    "render_notice",
]


@dataclass(frozen=True)
class TemplateSource:
    """One language's template as read at load: its text, subject and where it came from."""

    text: str
    subject: str | None
    origin: str
    """The file (or ``rule set:line``) the template was read from."""
    elements: frozenset[str] = frozenset()
    """The elements the template marks."""


@dataclass(frozen=True)
class NoticeBook:
    """A compiled rule set's notices: specs, elements, and every template's checked text."""

    notices: Mapping[str, NoticeSpec] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )
    elements: Mapping[str, NoticeElementSpec] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )
    sources: Mapping[tuple[str, str], TemplateSource] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )
    warnings: tuple[Problem, ...] = ()
    """What ``tierflow check`` warns of (a template omitting an element its notice lists)."""
    translations: TranslationsSpec | None = None
    """The rule set's ``translations:`` (California EC 48985), or None when it states none."""

    def for_step(self, step_id: str) -> tuple[NoticeSpec, ...]:
        """The notices a legal step or intervention calls for, in rule set order."""
        return tuple(n for n in self.notices.values() if step_id in n.for_)

    def required_elements(self, notice_id: str, on: dt.date) -> tuple[str, ...]:
        """The elements notice ``notice_id`` must carry on a letter dated ``on``."""
        notice = self.notices[notice_id]
        return tuple(e for e in notice.elements if self.elements[e].in_force(on))


class _HasBook(Protocol):
    @property
    def notices(self) -> NoticeBook: ...


class _Compiled(Protocol):
    @property
    def program(self) -> _HasBook: ...


@dataclass(frozen=True)
class RenderedNotice:
    """A rendered notice.

    Attributes:
        notice_id: The notice.
        language: The language of the template used.
        fell_back: Whether that is not the family's language (none was written for it).
        channel: ``letter``, ``email`` or ``sms``.
        html: The notice as HTML (autoescaped).
        text: The notice as plain text (email and text messages; empty for a letter).
        subject: An email's subject, rendered ("" when none).
        elements: The elements the notice carries, in the order they appear.
        missing_elements: Elements in force on the letter's date that the template left out.
    """

    notice_id: str
    language: str
    fell_back: bool
    channel: str
    html: str
    text: str
    subject: str
    elements: tuple[str, ...]
    missing_elements: tuple[str, ...]


def pick_language(
    available: Collection[str],
    wanted: str,
    first: str,
    required_languages: Collection[str] = (),
) -> str:
    """The template language for a family whose language is ``wanted``.

    >>> pick_language(["en", "es"], "es-MX", "en")
    'es'
    >>> pick_language(["en", "es"], "vi", "en")
    'en'

    Raises:
        NoticeError: ``wanted`` (or its base language) is required and has no template.
    """
    base = wanted.split("-")[0]
    for candidate in (wanted, base):
        if candidate in available:
            return candidate
    if wanted in required_languages or base in required_languages:
        raise NoticeError(
            f"no {wanted!r} template, and {wanted!r} is required: refusing to send only "
            f"{first!r} (templates: {', '.join(sorted(available))})"
        )
    return first


@functools.lru_cache(maxsize=256)
def _compiled(language: str, html: bool, text: str) -> Any:
    """A template compiled once for a language and form, and rendered as often as needed.

    Compiling is nearly all of a render's cost (about 12 ms of 13 for a built-in letter); a
    compiled template keeps no state between renders (a render's bounds and elements live in
    its own :class:`RenderState`), so a mailing of a thousand letters compiles each template
    once.
    """
    return environment(language, html).from_string(text)


def render_notice(
    ruleset: _Compiled,
    notice_id: str,
    context: NoticeContext,
    *,
    language: str,
    on: dt.date,
    required_languages: Collection[str] = (),
) -> RenderedNotice:
    """Render notice ``notice_id`` for ``context`` in ``language``, dated ``on``.

    Elements are rendered only while in force on ``on`` (a CA first notice dated 2025-06-30
    carries the pre-SB 691 warnings, one dated 2025-07-01 the new content).

    Raises:
        NoticeError: No such notice; no template in a required language; a template that went
            over its bounds or failed (an undefined value).
    """
    environment()  # first: without Jinja2 it raises NoticeError, saying how to install it
    from jinja2 import TemplateError

    book = ruleset.program.notices
    notice = book.notices.get(notice_id)
    if notice is None:
        known = ", ".join(book.notices) or "none"
        raise NoticeError(f"no notice {notice_id!r} (notices: {known})")
    languages = list(notice.templates)
    chosen = pick_language(languages, language, languages[0], required_languages)
    source = book.sources[(notice_id, chosen)]
    step = context.step or StepInfo(notice.for_[0], notice.label or "")
    filled = dataclasses.replace(context, letter_date=on, step=step)
    required = book.required_elements(notice_id, on)

    def run(html: bool, text: str) -> tuple[str, tuple[str, ...]]:
        state = RenderState(on, frozenset(required))
        try:
            template = _compiled(chosen, html, text)
            out = bounded_output(template.generate({**filled.as_mapping(), STATE: state}))
        except (TemplateError, RecursionError, ArithmeticError, TypeError) as exc:
            raise NoticeError(f"notice {notice_id!r} ({chosen}) failed: {exc}") from exc
        return out, tuple(state.rendered)

    html, marked = run(True, source.text)
    plain = run(False, source.text)[0] if notice.channel != "letter" else ""
    subject = run(False, source.subject)[0].strip() if source.subject else ""
    return RenderedNotice(
        notice_id=notice_id,
        language=chosen,
        fell_back=chosen != language and chosen != language.split("-")[0],
        channel=notice.channel,
        html=html,
        text=plain,
        subject=subject,
        elements=marked,
        missing_elements=tuple(e for e in required if e not in marked),
    )
