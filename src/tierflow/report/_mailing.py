"""A day's family notices, from the store to paper and messages, each recorded in the outbox.

:func:`produce_notices` finds every notice due (a legal step issued, an intervention opened,
that a rule set's ``notices:`` are ``for``), renders each in the family's language and writes:

- one HTML page per letter (print CSS, the address in the envelope window), and per school one
  page of all its letters in mail order (``school-letters.html``) and, asked for, its PDF printed by
  Chromium (``school-letters.pdf``: each letter starts on a new sheet);
- ``mail-house.csv``: one row per letter, in mail order, for a mail house;
- ``email-sms.jsonl``: one JSON object per email or text message (subject, plain text, HTML, the
  number of SMS segments).

Every notice rendered is recorded in the student's timeline (``notice_rendered``: the template
and content hashes, the language, the file), so a second run the same day renders nothing twice,
and a host records each delivery against it (:meth:`Engine.record_delivery`).

A school that must send a language (California EC 48985: 15% of its pupils) and a notice with
no template in it stop the whole run before anything is written or recorded, naming the school,
the language and the notice: a family is never sent English only. Other problems (no contact
for the student, no postal address for a letter, a text message over its length) skip that one
notice, are listed in :attr:`Mailing.problems`, and leave it due for the next run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierflow.errors import DataError
from tierflow.ingest import Person
from tierflow.notices import (
    DecisionSummary,
    DistrictInfo,
    FamilyContact,
    NoticeContext,
    NoticeError,
    RenderedNotice,
    SchoolInfo,
    StaffContact,
    StudentInfo,
    attendance_figures,
    base_language,
    classmates_group,
    classmates_medians,
    language_shares,
    render_notice,
)
from tierflow.notices import required_languages as languages_required
from tierflow.report._export import csv_text, json_line
from tierflow.report._letters import letter_section, letters_page
from tierflow.report._pdf import print_pdf
from tierflow.workflow import Engine, Intervention, NoticeRecord, WorkflowEvent, read_notices

__all__ = ["MailedNotice", "Mailing", "MailingProblem", "produce_notices", "sms_segments"]

_SAFE = re.compile(r"[^A-Za-z0-9_-]+")
_POSTAL = re.compile(r"\b(\d{5})(?:-\d{4})?\b")

# GSM 03.38: the basic character set (one septet) and its extension table (two septets).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


def sms_segments(text: str) -> tuple[str, int]:
    """The encoding a phone network sends ``text`` in, and how many messages it takes.

    GSM-7 when every character is in the GSM 03.38 alphabet (160 characters in one message,
    153 a part when split; an extension character such as ``€`` counts twice), else UCS-2 (70,
    and 67 a part, counted in UTF-16 units). Spanish's á, í, ó and ú are not in GSM-7, so a
    Spanish text often goes as UCS-2.

    >>> sms_segments("Hello")
    ('gsm-7', 1)
    >>> sms_segments("a" * 161)
    ('gsm-7', 2)
    >>> sms_segments("día")
    ('ucs-2', 1)
    >>> sms_segments("í" * 71)
    ('ucs-2', 2)
    """
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text):
        septets = sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)
        return "gsm-7", 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return "ucs-2", 1 if units <= 70 else math.ceil(units / 67)


@dataclass(frozen=True)
class MailedNotice:
    """One notice rendered by a run and recorded in the outbox.

    Attributes:
        student_id: The student.
        school_id: The student's school ("" when the records name none).
        notice: The notice id.
        for_: The legal step or intervention that called for it.
        channel: ``letter``, ``email`` or ``sms``.
        language: The template's language.
        fell_back: No template in the family's own language (and none was required).
        path: The notice's own HTML file, relative to the run's folder.
        seq: The ``notice_rendered`` event's number in the store.
        content_sha256: The hash of the notice as rendered (its HTML).
        postal_code: The family's ZIP code, as read from the address ("" if none).
    """

    student_id: str
    school_id: str
    notice: str
    for_: str
    channel: str
    language: str
    fell_back: bool
    path: str
    seq: int
    content_sha256: str
    postal_code: str = ""


@dataclass(frozen=True)
class MailingProblem:
    """A notice due that was not produced, and why (it stays due for the next run).

    Attributes:
        student_id: The student.
        notice: The notice id.
        code: ``notice.no_contact``, ``notice.no_student``, ``notice.no_address``,
            ``notice.no_email``, ``notice.no_phone``, ``notice.sms_too_long``,
            ``notice.render_failed``, ``notice.returned_unchanged`` (the same notice came
            back and the contact is the same), or a ``facts.*`` code (no figures).
        message: What is wrong, in words (no personal data).
    """

    student_id: str
    notice: str
    code: str
    message: str

    def __str__(self) -> str:
        """``student S1, notice n: code: message``."""
        return f"student {self.student_id}, notice {self.notice}: {self.code}: {self.message}"


@dataclass(frozen=True)
class Mailing:
    """What one notice run produced.

    Attributes:
        on: The letters' date.
        folder: The run's folder (``<directory>/<on>``).
        notices: The notices rendered and recorded, in mail order (school, ZIP code, family).
        already: Notices due that an earlier run had rendered (not rendered again).
        problems: Notices due and not produced, with why.
        pages: Each school's page of letters (``school-letters.html``), by school id.
        pdfs: Each school's PDF of letters, by school id (only when asked for).
        mail_house: The CSV of letters for a mail house, or None when there are none.
        messages: The JSON Lines file of emails and text messages, or None when there are none.
        required_languages: The languages each school had to send (EC 48985), by school id.
    """

    on: dt.date
    folder: Path
    notices: tuple[MailedNotice, ...] = ()
    already: int = 0
    problems: tuple[MailingProblem, ...] = ()
    pages: Mapping[str, Path] = field(default_factory=dict)
    pdfs: Mapping[str, Path] = field(default_factory=dict)
    mail_house: Path | None = None
    messages: Path | None = None
    required_languages: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: how many notices by channel, how many were already done, problems."""
        by: dict[str, int] = {}
        for n in self.notices:
            by[n.channel] = by.get(n.channel, 0) + 1
        counts = ", ".join(f"{k} {v}" for k, v in sorted(by.items())) or "none"
        return (
            f"notices on {self.on}: {len(self.notices)} rendered ({counts}), "
            f"{self.already} already rendered, {len(self.problems)} not produced"
        )


@dataclass(frozen=True)
class _Due:
    student_id: str
    school_id: str
    notice: str
    for_: str
    source: WorkflowEvent
    owner: str | None
    decision: DecisionSummary
    """The student's decision in force on the source event's day (the last one recorded)."""
    returned: NoticeRecord | None = None
    """The same notice rendered before, returned or bounced and not delivered since."""


@dataclass
class _Made:
    due: _Due
    rendered: RenderedNotice
    family: FamilyContact
    template_sha256: str
    postal_code: str
    path: str = ""


def _safe(text: str) -> str:
    """A file-name part from an id that came from the data: nothing but letters, digits, - and _.

    An id that had to change (``../x``) gets a hash of the original, so two ids never share a
    file.
    """
    cleaned = _SAFE.sub("-", text).strip("-")[:40] or "x"
    if cleaned != text:
        cleaned += "-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return cleaned


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _recipient_sha256(family: FamilyContact) -> str:
    """A hash of whom and where a notice goes: the store keeps it, never the address."""
    return _sha256("\n".join([family.name, *family.address_lines, family.email, family.phone]))


def _postal_code(family: FamilyContact) -> str:
    for line in reversed(family.address_lines):
        found = _POSTAL.findall(line)
        if found:
            return str(found[-1])
    return ""


def _due(
    engine: Engine, on: dt.date, since: dt.date, facts: Mapping[str, Mapping[str, Any]]
) -> tuple[list[_Due], int]:
    """The notices due from ``since`` to ``on`` and not yet rendered; and how many were.

    A student's school is the day's facts' ``school_id``, else that of the intervention that
    called for the notice, else of their latest intervention opened by then.
    """
    book = engine.ruleset.program.notices
    wanted: dict[str, list[str]] = {}
    for notice in book.notices.values():
        for target in notice.for_:
            wanted.setdefault(target, []).append(notice.id)
    if not wanted:
        return [], 0
    repo = engine.repository
    labels = {t.id: t.label or t.id for t in engine.ruleset.tiers}
    candidates: set[str] = set()
    for sid, events in repo.legal_events(repo.students()).items():
        if any(
            e.kind == "legal_issued"
            and since <= e.at <= on
            and e.detail is not None
            and str(e.detail.get("step")) in wanted
            for e in events
        ):
            candidates.add(sid)
    for iv in repo.open_interventions():
        if iv.intervention in wanted and since <= iv.opened_on <= on:
            candidates.add(iv.student_id)
    out: list[_Due] = []
    already = 0
    ordered = sorted(candidates)
    outbox = repo.notice_events(ordered)  # one read for all, not one a student
    for sid in ordered:
        earlier = {(r.notice, r.for_, r.source_seq): r for r in read_notices(outbox.get(sid, ()))}
        ivs = {iv.id: iv for iv in repo.for_student(sid)}
        given = facts.get(sid, {}).get("school_id")
        school: str | None = None if given is None else str(given)
        latest: Intervention | None = None
        source: Intervention | None
        decision = DecisionSummary()
        for ev in repo.events(sid):  # one read a student: cases, decisions and sources
            if ev.kind == "decision" and ev.detail is not None:
                tier = str(ev.detail.get("tier") or "")
                decision = DecisionSummary(
                    tier=tier,
                    tier_label=labels.get(tier, tier),
                    interventions=tuple(str(i) for i in ev.detail.get("interventions") or ()),
                )
            called = ivs.get(ev.intervention_id or "")
            if ev.kind == "opened" and called is not None and called.owner is not None:
                latest = called  # a legal step's contact: the last case someone owns
            if ev.kind == "legal_issued" and ev.detail is not None:
                target = str(ev.detail.get("step"))
                source = latest
            elif ev.kind == "opened" and ev.detail is not None:
                target = str(ev.detail.get("intervention"))
                source = called
            else:
                continue
            if target not in wanted or not since <= ev.at <= on:
                continue
            where = school or (source.school_id if source is not None else None) or ""
            for notice_id in wanted[target]:
                before = earlier.get((notice_id, target, ev.seq))
                if before is not None and before.open_failure is None:
                    already += 1
                    continue
                owner = None if source is None else source.owner
                out.append(_Due(sid, where, notice_id, target, ev, owner, decision, before))
    return out, already


def _student(person: Person, student_id: str, grade: object) -> StudentInfo:
    grade_text = "" if grade is None else str(grade)
    first, last = person.first_name, person.last_name
    if not (first or last):
        first, _, last = person.name.partition(" ")
    return StudentInfo(student_id, first, last, grade_text)


def _staff(
    engine: Engine,
    due: _Due,
    school: SchoolInfo,
    district: DistrictInfo,
    staff: Mapping[str, StaffContact],
) -> StaffContact:
    """Whom the family can call about a notice.

    The owner (by the host's directory, else the roster's name), else the school's contact in
    the directory, else the school; the phone defaults to the school's, else the district's.
    """
    phone = school.phone or district.phone
    if due.owner is not None:
        if due.owner in staff:
            return staff[due.owner]
        member = engine.roster.staff.get(due.owner)
        if member is not None:
            return StaffContact(member.name or member.id, phone=phone)
    if due.school_id in staff:
        return staff[due.school_id]
    return StaffContact(school.name, phone=phone)


def _check_channel(due: _Due, channel: str, family: FamilyContact) -> MailingProblem | None:
    if channel == "letter" and not family.address_lines:
        return MailingProblem(
            due.student_id, due.notice, "notice.no_address", "the family has no postal address"
        )
    if channel == "email" and not family.email:
        return MailingProblem(
            due.student_id, due.notice, "notice.no_email", "the family has no email address"
        )
    if channel == "sms" and not family.phone:
        return MailingProblem(
            due.student_id, due.notice, "notice.no_phone", "the family has no phone number"
        )
    return None


def _required_missing(
    engine: Engine, dues: Iterable[_Due], required: Mapping[str, Collection[str]]
) -> list[str]:
    """Each (school, language, notice) a school must send and has no template for."""
    book = engine.ruleset.program.notices
    missing = set()
    for due in dues:
        available = book.notices[due.notice].templates
        bases = {base_language(lang) for lang in available} | {lang.lower() for lang in available}
        for lang in required.get(due.school_id, ()):
            if lang.lower() not in bases and base_language(lang) not in bases:
                missing.add((due.school_id, lang, due.notice))
    return [
        f"school {school} must send {lang!r} (EC 48985) and notice {notice!r} has no "
        f"{lang!r} template"
        for school, lang, notice in sorted(missing)
    ]


def _required(
    engine: Engine,
    families: Mapping[str, FamilyContact],
    facts: Mapping[str, Mapping[str, Any]],
    given: Mapping[str, Collection[str]] | None,
) -> dict[str, frozenset[str]]:
    """Each school's required languages (EC 48985), as the rule set and the host say.

    Without ``translations:`` in the rule set, only what the host gives. With it, each
    school's pupils (the day's facts) by their family's language, against its
    ``required_share``; a school the rule set or the host names takes that list instead.

    Raises:
        NoticeError: The rule set requires translations and neither the day's facts nor the
            host's list say which (a run never guesses English only); or a given language is
            not a language code.
    """
    translations = engine.ruleset.program.notices.translations
    own = {school: list(langs) for school, langs in (given or {}).items()}
    try:
        if translations is None:
            return languages_required({}, given=own) if own else {}
        configured = {**{k: list(v) for k, v in translations.schools.items()}, **own}
        if not facts:
            if given is None:
                raise NoticeError(
                    f"rule set {engine.ruleset.ref.id} requires notices in each language "
                    f"{translations.required_share:.0%} or more of a school's pupils speak "
                    "(EC 48985): give the day's facts (each student's school) to count them, "
                    "or the languages each school must send"
                )
            return languages_required({}, given=configured)
        school_of = {
            sid: str(f["school_id"]) for sid, f in facts.items() if f.get("school_id") is not None
        }
        shares = language_shares({sid: c.language for sid, c in families.items()}, school_of)
        return languages_required(
            shares, float(translations.required_share), given=configured or None
        )
    except ValueError as exc:
        raise NoticeError(f"required languages: {exc}") from None


def produce_notices(
    engine: Engine,
    *,
    on: dt.date,
    directory: str | Path,
    families: Mapping[str, FamilyContact],
    district: DistrictInfo,
    students: Mapping[str, Person] | None = None,
    schools: Mapping[str, SchoolInfo] | None = None,
    staff: Mapping[str, StaffContact] | None = None,
    facts: Iterable[Mapping[str, Any]] = (),
    required_languages: Mapping[str, Collection[str]] | None = None,
    since: dt.date | None = None,
    pdf: bool = False,
    chromium: str | None = None,
    by: str = "tierflow",
    max_sms_segments: int = 3,
) -> Mailing:
    """Render every notice due from ``since`` to ``on``, write them, and record them.

    Args:
        engine: The engine over the store (its rule set's ``notices:`` say what is due).
        on: The letters' date.
        directory: Where to write; the run writes into ``<directory>/<on>/``.
        families: Each student's family contact (name, language, address, email, phone).
        district: The district sending the notices.
        students: Students' names by id (:func:`~tierflow.ingest.read_people`).
        schools: Schools by id (name, address, phone); a school not listed prints its id.
        staff: Whom a family can call, by staff id (an intervention's owner) or by school id
            (a legal step's contact); default: the owner's name and the school's phone.
        facts: The day's facts of the district's students (as evaluated): a letter's
            attendance figures, school and grade come from them (else from the facts the store
            recorded with the step or intervention), and the median days absent of each
            school's grade for the letters that compare (:func:`~tierflow.notices.
            classmates_medians`: every student given counts).
        required_languages: Languages each school must send (EC 48985), by school id, as the
            district determined them: they replace the share computed for those schools (when
            the rule set has ``translations:``; without it, they are the only ones).
        since: The first day whose notices are still produced (default: ``on``).
        pdf: Also print each school's letters to one PDF with Chromium.
        chromium: The browser to print with (default: found on ``PATH``).
        by: Who produced them (recorded in the outbox).
        max_sms_segments: Longest text message, in parts; a longer one is a problem.

    Raises:
        NoticeError: A school must send a language a notice due there has no template in
            (nothing is written or recorded), or the PDF could not be printed.
    """
    day = on
    first = since or on
    folder = Path(directory) / day.isoformat()
    by_student = {str(f.get("student_id")): f for f in facts}
    dues, already = _due(engine, day, first, by_student)
    required = _required(engine, families, by_student, required_languages)
    missing = _required_missing(engine, dues, required)
    if missing:
        raise NoticeError("; ".join(missing))
    schools = schools or {}
    students = students or {}
    staff = staff or {}
    classmates = classmates_medians(by_student.values()) if by_student else {}
    book = engine.ruleset.program.notices
    made: list[_Made] = []
    problems: list[MailingProblem] = []
    for due in dues:
        family = families.get(due.student_id)
        if family is None:
            problems.append(
                MailingProblem(
                    due.student_id, due.notice, "notice.no_contact", "no family contact given"
                )
            )
            continue
        person = students.get(due.student_id)
        if person is None:
            problems.append(
                MailingProblem(
                    due.student_id, due.notice, "notice.no_student", "no name given for the student"
                )
            )
            continue
        spec = book.notices[due.notice]
        problem = _check_channel(due, spec.channel, family)
        if problem is None and due.returned is not None:
            before = (due.returned.detail or {}).get("recipient_sha256")
            if before == _recipient_sha256(family):
                problem = MailingProblem(
                    due.student_id,
                    due.notice,
                    "notice.returned_unchanged",
                    f"it came back ({due.returned.status} on {due.returned.status_on}) and the "
                    "family's contact has not changed since",
                )
        if problem is not None:
            problems.append(problem)
            continue
        known = {**(due.source.facts or {}), **by_student.get(due.student_id, {})}
        school = schools.get(due.school_id) or SchoolInfo(due.school_id or district.name)
        group = classmates_group(known)
        try:
            context = NoticeContext(
                student=_student(person, due.student_id, known.get("grade")),
                family=family,
                school=school,
                district=district,
                attendance=attendance_figures(
                    known,
                    as_of=due.source.at,
                    classmates=None if group is None else classmates.get(group),
                ),
                staff=_staff(engine, due, school, district, staff),
                decision=due.decision,
            )
        except DataError as exc:
            problems.append(MailingProblem(due.student_id, due.notice, exc.code, str(exc)))
            continue
        try:
            rendered = render_notice(
                engine.ruleset,
                due.notice,
                context,
                language=family.language,
                on=day,
                required_languages=required.get(due.school_id, ()),
            )
        except (NoticeError, KeyError, TypeError, ValueError) as exc:
            problems.append(
                MailingProblem(due.student_id, due.notice, "notice.render_failed", str(exc))
            )
            continue
        if spec.channel == "sms":
            encoding, parts = sms_segments(rendered.text)
            if parts > max_sms_segments:
                problems.append(
                    MailingProblem(
                        due.student_id,
                        due.notice,
                        "notice.sms_too_long",
                        f"the text takes {parts} {encoding} messages (at most {max_sms_segments})",
                    )
                )
                continue
        source = book.sources[(due.notice, rendered.language)]
        made.append(
            _Made(
                due,
                rendered,
                family,
                _sha256((source.subject or "") + "\0" + source.text),
                _postal_code(family),
            )
        )
    made.sort(
        key=lambda m: (
            m.due.school_id,
            m.postal_code,
            m.family.name,
            m.due.student_id,
            m.due.notice,
        )
    )
    pages, pdfs = _write_letters(
        folder, [m for m in made if m.rendered.channel == "letter"], schools
    )
    if pdf:
        pdfs = {
            school: print_pdf(page, page.with_suffix(".pdf"), chromium=chromium)
            for school, page in pages.items()
        }
    mail_house = _write_mail_house(folder, [m for m in made if m.rendered.channel == "letter"])
    messages = _write_messages(folder, [m for m in made if m.rendered.channel != "letter"])
    recorded = []
    # One unit: the outbox holds every notice written above or none (a failure midway
    # leaves them all due for the next run), and one commit instead of one a notice.
    with engine.repository.unit():
        for m in made:
            event = engine.record_notice(
                m.due.student_id,
                on=day,
                by=by,
                notice=m.due.notice,
                for_=m.due.for_,
                source_seq=m.due.source.seq,
                channel=m.rendered.channel,
                language=m.rendered.language,
                content_sha256=_sha256(m.rendered.html),
                template_sha256=m.template_sha256,
                detail={
                    "path": m.path,
                    "fell_back": m.rendered.fell_back,
                    "elements": list(m.rendered.elements),
                    "recipient_sha256": _recipient_sha256(m.family),
                    "school_id": m.due.school_id,
                    "ruleset_sha256": engine.ruleset.ref.content_hash,
                },
            )
            recorded.append(
                MailedNotice(
                    m.due.student_id,
                    m.due.school_id,
                    m.due.notice,
                    m.due.for_,
                    m.rendered.channel,
                    m.rendered.language,
                    m.rendered.fell_back,
                    m.path,
                    event.seq,
                    _sha256(m.rendered.html),
                    m.postal_code,
                )
            )
    return Mailing(
        on=day,
        folder=folder,
        notices=tuple(recorded),
        already=already,
        problems=tuple(problems),
        pages=pages,
        pdfs=pdfs,
        mail_house=mail_house,
        messages=messages,
        required_languages=required,
    )


def _write_letters(
    folder: Path, letters: list[_Made], schools: Mapping[str, SchoolInfo]
) -> tuple[dict[str, Path], dict[str, Path]]:
    """Each letter's own page, and each school's page of its letters in mail order."""
    by_school: dict[str, list[Any]] = {}
    for m in letters:
        school_dir = _safe(m.due.school_id or "no-school")
        name = f"{_safe(m.due.student_id)}-{_safe(m.due.notice)}-{m.due.source.seq}.html"
        m.path = f"{school_dir}/{name}"
        school = schools.get(m.due.school_id) or SchoolInfo(m.due.school_id)
        section = letter_section(m.rendered, school=school, student_id=m.due.student_id)
        target = folder / school_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        title = f"{m.due.notice} {m.due.student_id}"
        target.write_text(letters_page(title, [section], lang=m.rendered.language), "utf-8")
        by_school.setdefault(m.due.school_id, []).append(section)
    pages = {}
    for school_id, sections in by_school.items():
        page = folder / _safe(school_id or "no-school") / "school-letters.html"
        page.write_text(letters_page(f"Letters, {school_id}", sections), "utf-8")
        pages[school_id] = page
    return pages, {}


def _write_mail_house(folder: Path, letters: list[_Made]) -> Path | None:
    if not letters:
        return None
    width = max(4, *(len(m.family.address_lines) for m in letters))
    head = ["mail_order", "school_id", "student_id", "recipient"]
    head += [f"address_{i}" for i in range(1, width + 1)]
    head += ["postal_code", "language", "notice", "for", "file"]
    rows: list[list[Any]] = [head]
    for n, m in enumerate(letters, start=1):
        lines = list(m.family.address_lines) + [""] * (width - len(m.family.address_lines))
        rows.append(
            [
                n,
                m.due.school_id,
                m.due.student_id,
                m.family.name,
                *lines,
                m.postal_code,
                m.rendered.language,
                m.due.notice,
                m.due.for_,
                m.path,
            ]
        )
    target = folder / "mail-house.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(csv_text(rows), "utf-8")
    return target


def _write_messages(folder: Path, messages: list[_Made]) -> Path | None:
    if not messages:
        return None
    lines = []
    for m in messages:
        item: dict[str, Any] = {
            "student_id": m.due.student_id,
            "school_id": m.due.school_id,
            "notice": m.due.notice,
            "for": m.due.for_,
            "channel": m.rendered.channel,
            "language": m.rendered.language,
            "to": m.family.email if m.rendered.channel == "email" else m.family.phone,
            "text": m.rendered.text,
        }
        if m.rendered.channel == "email":
            item |= {"subject": m.rendered.subject, "html": m.rendered.html}
        else:
            encoding, parts = sms_segments(m.rendered.text)
            item |= {"encoding": encoding, "segments": parts}
        lines.append(json_line(item))
    target = folder / "email-sms.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(lines), "utf-8")
    return target
