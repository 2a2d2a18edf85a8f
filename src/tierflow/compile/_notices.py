"""The ``check_notices`` stage: read every notice template safely and check what it names.

Each notice's ``for`` must name legal steps or interventions, its ``elements`` declared
``notice_elements``; each template (inline, or a file inside the folder of the rule set that
names it) is parsed by :func:`tierflow.notices.check_template`, and each name, filter or
element it gets wrong is a problem at the template's own file:line:col. A template that omits
an element its notice lists is a warning (``notice.missing_element``), kept on the
:class:`~tierflow.notices.NoticeBook` for ``tierflow check`` (the analysis reports it).
"""

from __future__ import annotations

import os
import stat
from types import MappingProxyType

from tierflow.compile._compilation import Compilation
from tierflow.compile._references import _report_unknown
from tierflow.errors import Problem
from tierflow.notices import NoticeBook, NoticeError, TemplateSource, check_template
from tierflow.notices._check import TemplateCheck
from tierflow.source import SourceSpan

__all__ = ["MAX_TEMPLATE_BYTES", "check_notices"]

MAX_TEMPLATE_BYTES = 200_000
"""The largest template file a rule set may name."""

_Path = tuple[str | int, ...]


def _read_file(c: Compilation, path: _Path, name: str) -> tuple[str, str] | None:
    """The text and display name of template file ``name``; None (reported) if refused."""
    doc = c.smap.document(path)
    if doc.path is None:
        c.problem(
            path,
            "notice.file_outside",
            f"template file {name!r} has no folder to be read from",
            "a rule set given as text names template files only with a base_dir",
        )
        return None
    base = doc.path.parent.resolve()
    target = (base / name).resolve()
    if not target.is_relative_to(base):
        c.problem(
            path,
            "notice.file_outside",
            f"template file {name!r} lies outside the rule set's folder",
            "keep templates in the rule set's folder or below it",
        )
        return None
    display = os.path.join(os.path.dirname(doc.name), name)
    try:
        info = target.stat()
        if not stat.S_ISREG(info.st_mode):
            raise OSError("not a regular file")
        if info.st_size > MAX_TEMPLATE_BYTES:
            raise OSError(f"larger than {MAX_TEMPLATE_BYTES} bytes")
        return target.read_text(encoding="utf-8"), display
    except (OSError, UnicodeDecodeError) as exc:
        c.problem(path, "notice.file_unreadable", f"cannot read template {name!r}: {exc}")
        return None


def _offset(text: str, line: int, col: int) -> int:
    lines = text.splitlines(keepends=True)
    return sum(len(x) for x in lines[: line - 1]) + col - 1


def _check(
    c: Compilation,
    text: str,
    elements: tuple[str, ...],
    where: _Path | None,
    origin: str,
    tpath: _Path,
) -> TemplateCheck:
    """Check one template; report each issue in ``origin`` (a file) or at ``where`` (YAML)."""
    try:
        checked = check_template(text, elements)
    except NoticeError:  # pragma: no cover - without the notices extra: checked at render
        return TemplateCheck((), frozenset())
    for issue in checked.issues:
        if where is None:
            span = SourceSpan(origin, issue.line, issue.col)
        else:
            doc = c.smap.document(where)
            pos = _offset(text, issue.line, issue.col)
            span = doc.expression_span(c.smap.span(where), pos, text)
        c.problems.append(
            Problem(
                span,
                issue.code,
                issue.message,
                c.smap.path_in_source(tpath),
                issue.hint,
                issue.severity,
            )
        )
    return checked


def check_notices(c: Compilation) -> None:
    """Notices name known steps and elements; their templates load and name known fields."""
    s = c.the_spec
    targets = [x.id for x in s.legal] + [x.id for x in s.interventions]
    element_ids = [e.id for e in s.notice_elements]
    sources: dict[tuple[str, str], TemplateSource] = {}
    warnings: list[Problem] = []
    for i, notice in enumerate(s.notices):
        at: _Path = ("notices", i)
        _report_unknown(c, (*at, "for"), notice.for_, targets, "notice.unknown_target", "step")
        _report_unknown(
            c, (*at, "elements"), notice.elements, element_ids, "notice.unknown_element", "element"
        )
        for lang, template in notice.templates.items():
            tpath: _Path = (*at, "templates", lang)
            raw = c.smap.raw_value(tpath)
            if template.file is not None:
                read = _read_file(c, (*tpath, "file"), template.file)
                if read is None:
                    continue
                text, origin = read
                where = None
            else:
                where = tpath if isinstance(raw, str) else (*tpath, "text")
                found = c.smap.raw_value(where)
                text = found if isinstance(found, str) else template.text or ""
                origin = str(c.smap.span(where))
            checked = _check(c, text, notice.elements, where, origin, tpath)
            subject = template.subject
            if subject is not None:  # a template too: checked where it is written
                raw_subject = c.smap.raw_value((*tpath, "subject"))
                as_written = raw_subject if isinstance(raw_subject, str) else subject
                _check(c, as_written, (), (*tpath, "subject"), "", tpath)
            missing = [e for e in notice.elements if e not in checked.elements]
            if missing:
                warnings.append(
                    Problem(
                        c.smap.span(tpath),
                        "notice.missing_element",
                        f"the {lang!r} template of notice {notice.id!r} omits "
                        f"{', '.join(repr(m) for m in missing)}",
                        c.smap.path_in_source(tpath),
                        "mark each element the law requires with "
                        '{% element "id" %}...{% endelement %} (docs/notices.md)',
                        "warning",
                    )
                )
            sources[(notice.id, lang)] = TemplateSource(text, subject, origin, checked.elements)
    warnings.extend(_missing_translations(c))
    c.notices = NoticeBook(
        notices=MappingProxyType({n.id: n for n in s.notices}),
        elements=MappingProxyType({e.id: e for e in s.notice_elements}),
        sources=MappingProxyType(sources),
        warnings=tuple(warnings),
        translations=s.translations,
    )


def _missing_translations(c: Compilation) -> list[Problem]:
    """A language ``translations.schools`` requires that a notice has no template in.

    A warning at load (the run refuses to send such a notice English only, EC 48985): which
    families are affected depends on the data, so it is not an error here.
    """
    t = c.the_spec.translations
    if t is None:
        return []
    found: list[Problem] = []
    for school, languages in t.schools.items():
        for lang in languages:
            base = lang.split("-")[0]
            if base == "en":
                continue
            for notice in c.the_spec.notices:
                if any(k.split("-")[0] == base for k in notice.templates):
                    continue
                path: _Path = ("translations", "schools", school)
                found.append(
                    Problem(
                        c.smap.span(path),
                        "notice.missing_translation",
                        f"school {school!r} requires {base!r} (translations.schools), and "
                        f"notice {notice.id!r} has no {base!r} template",
                        c.smap.path_in_source(path),
                        f"add a {base!r} template to the notice: its letters to families "
                        f"speaking {base!r} at that school will be refused without one",
                        "warning",
                    )
                )
    return found
