"""The outbox: each family notice rendered, and each report of its delivery, as events.

A notice rendered for a student (a letter, an email, a text message) is one
``notice_rendered`` event: which notice, for which legal step or intervention (``for``), the
event that called for it (``source_seq``), the channel, the language and the SHA-256 of the
template and of the content. The host reports what became of it, one ``notice_delivery``
event each: ``sent``, ``delivered``, ``returned`` (a letter back from the post), ``bounced``
(an email or text refused) or ``read``. Nothing personal is kept: a host that wants to prove
whom a notice went to records the hash of the recipient (``recipient_sha256``).

A delivery follows the notice's life, checked before anything is recorded:

============================  ==============================================================
after                         may come
============================  ==============================================================
``rendered`` (no delivery)    any status
``sent``                      ``delivered``, ``returned``, ``bounced``, ``read``
``delivered``                 ``read``, or a late ``returned`` / ``bounced``
``returned``, ``bounced``     a new attempt only: ``sent`` (to a corrected address) or
                              ``delivered`` (handed over, at a home visit)
``read``                      nothing (the family has read it)
============================  ==============================================================

A status never follows itself, and no delivery is dated before the notice or before the
delivery reported last.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from tierflow.errors import WorkflowError, suggest
from tierflow.spec._notices import NOTICE_CHANNELS
from tierflow.workflow._core import Core, as_date
from tierflow.workflow._records import WorkflowEvent

__all__ = [
    "DELIVERY_STATUSES",
    "FAILED_STATUSES",
    "NOTICE_KINDS",
    "NoticeDelivery",
    "NoticeRecord",
    "Notices",
    "delivery_event",
    "notice_event",
    "read_notices",
]

DELIVERY_STATUSES = ("sent", "delivered", "returned", "bounced", "read")
"""What a host reports of a notice: each one ``notice_delivery`` event."""

FAILED_STATUSES = ("returned", "bounced")
"""The statuses of a notice that did not reach the family (a letter returned, an email refused)."""

NOTICE_KINDS = ("notice_rendered", "notice_delivery")
"""The kinds of the outbox's events."""

_NEXT: dict[str, tuple[str, ...]] = {
    "rendered": DELIVERY_STATUSES,
    "sent": ("delivered", "returned", "bounced", "read"),
    "delivered": ("read", "returned", "bounced"),
    "returned": ("sent", "delivered"),
    "bounced": ("sent", "delivered"),
    "read": (),
}
"""The statuses that may follow each (see the module's table)."""

_SHA256 = re.compile(r"[0-9a-f]{64}")
_OWN_KEYS = frozenset(
    {"notice", "for", "source_seq", "channel", "language", "content_sha256", "template_sha256"}
)


class NoticeDelivery(NamedTuple):
    """One report of what became of a notice.

    Attributes:
        on: The date it happened.
        status: One of :data:`DELIVERY_STATUSES`.
        by: Who reported it (a staff id, or the host's mailer).
        note: Free text (a carrier's reason, ``moved, left no address``).
        seq: The ``notice_delivery`` event.
    """

    on: dt.date
    status: str
    by: str
    note: str = ""
    seq: int = 0


@dataclass(frozen=True)
class NoticeRecord:
    """A notice rendered for a student, and what became of it.

    Attributes:
        student_id: The student.
        seq: The ``notice_rendered`` event (the notice's id in the outbox).
        on: The notice's date.
        notice: The notice's id in the rule set (``ca-first-truancy-notice``).
        for_: The legal step or intervention that called for it (``not1``).
        channel: ``letter``, ``email`` or ``sms``.
        language: The language it was rendered in (``es``).
        content_sha256: The hash of what was rendered.
        deliveries: Each report of its delivery, oldest first.
        template_sha256: The hash of the template it was rendered from.
        source_seq: The event that called for it (a ``legal_issued`` event), if any.
        by: Who rendered it.
        detail: The ``notice_rendered`` event's detail as recorded (a host's own keys:
            ``path``, ``recipient_sha256``, ``ruleset_sha256``...).
    """

    student_id: str
    seq: int
    on: dt.date
    notice: str
    for_: str
    channel: str
    language: str
    content_sha256: str
    deliveries: tuple[NoticeDelivery, ...] = ()
    template_sha256: str = ""
    source_seq: int | None = None
    by: str = ""
    detail: Mapping[str, Any] | None = None

    @property
    def status(self) -> str:
        """The last delivery status reported, or ``rendered`` before any."""
        return self.deliveries[-1].status if self.deliveries else "rendered"

    @property
    def status_on(self) -> dt.date:
        """The date of the last delivery reported (the notice's date before any)."""
        return self.deliveries[-1].on if self.deliveries else self.on

    @property
    def failed(self) -> bool:
        """Whether its last report says it did not reach the family (returned or bounced)."""
        return self.status in FAILED_STATUSES

    @property
    def reached(self) -> bool:
        """Whether its last report says it reached the family (delivered or read)."""
        return self.status in ("delivered", "read")

    @property
    def open_failure(self) -> NoticeDelivery | None:
        """Its last return or bounce with no delivery reported after it (None: there is none).

        A notice returned and sent again stays failed until a delivery is reported: the
        family has not had it yet.
        """
        for d in reversed(self.deliveries):
            if d.status in ("delivered", "read"):
                return None
            if d.status in FAILED_STATUSES:
                return d
        return None


def read_notices(events: Iterable[WorkflowEvent]) -> list[NoticeRecord]:
    """The notices a student's events record, oldest first, each with its deliveries.

    Events of other kinds are skipped, so a whole timeline or the outbox's events alone
    (``Repository.notice_events``) give the same answer.

    >>> rendered = WorkflowEvent(3, dt.date(2025, 10, 6), "s1", "notice_rendered", who="clerk",
    ...     detail={"notice": "ca-first-truancy-notice", "for": "not1", "source_seq": 2,
    ...             "channel": "letter", "language": "es", "content_sha256": "c" * 64,
    ...             "template_sha256": "t" * 64})
    >>> back = WorkflowEvent(5, dt.date(2025, 10, 14), "s1", "notice_delivery", who="clerk",
    ...     detail={"notice_seq": 3, "notice": "ca-first-truancy-notice", "for": "not1",
    ...             "status": "returned", "note": "moved"})
    >>> [(n.seq, n.for_, n.status, n.deliveries[0].on) for n in read_notices([rendered, back])]
    [(3, 'not1', 'returned', datetime.date(2025, 10, 14))]
    """
    found: dict[int, NoticeRecord] = {}
    deliveries: dict[int, list[NoticeDelivery]] = {}
    for ev in events:
        d = ev.detail
        if d is None:
            continue
        if ev.kind == "notice_rendered":
            source = d.get("source_seq")
            found[ev.seq] = NoticeRecord(
                student_id=ev.student_id,
                seq=ev.seq,
                on=ev.at,
                notice=str(d.get("notice", "")),
                for_=str(d.get("for", "")),
                channel=str(d.get("channel", "")),
                language=str(d.get("language", "")),
                content_sha256=str(d.get("content_sha256", "")),
                template_sha256=str(d.get("template_sha256", "")),
                source_seq=source if isinstance(source, int) else None,
                by=ev.who,
                detail=d,
            )
            deliveries[ev.seq] = []
        elif ev.kind == "notice_delivery":
            key = d.get("notice_seq")
            mine = deliveries.get(key) if isinstance(key, int) else None
            if mine is not None:
                mine.append(
                    NoticeDelivery(
                        ev.at, str(d.get("status", "")), ev.who, str(d.get("note", "")), ev.seq
                    )
                )
    return [
        NoticeRecord(**{**_fields(rec), "deliveries": tuple(deliveries[seq])})
        for seq, rec in found.items()
    ]


def _fields(rec: NoticeRecord) -> dict[str, Any]:
    return {name: getattr(rec, name) for name in NoticeRecord.__dataclass_fields__}


def notice_event(
    events: Iterable[WorkflowEvent],
    student_id: str,
    *,
    on: dt.date,
    by: str,
    notice: str,
    for_: str,
    source_seq: int | None,
    channel: str,
    language: str,
    content_sha256: str,
    template_sha256: str,
    detail: Mapping[str, Any] | None = None,
) -> WorkflowEvent:
    """The ``notice_rendered`` event to record, checked against the student's ``events``.

    Raises:
        WorkflowError: A value of the wrong shape (an empty id, a channel that is not
            ``letter``, ``email`` or ``sms``, a hash that is not 64 lowercase hex digits, an
            extra detail key that would replace one of the notice's own), or a notice already
            rendered for the same step and source event that did not come back (the message
            names that event).
    """
    as_date(on, "on")
    for name, value in (("by", by), ("notice", notice), ("for_", for_), ("language", language)):
        if not isinstance(value, str) or not value.strip():
            raise WorkflowError(f"a rendered notice needs {name} (text), not {value!r}")
    if channel not in NOTICE_CHANNELS:
        hint = suggest(str(channel), NOTICE_CHANNELS) or f"use one of {', '.join(NOTICE_CHANNELS)}"
        raise WorkflowError(f"unknown notice channel {channel!r}; {hint}")
    for name, value in (("content_sha256", content_sha256), ("template_sha256", template_sha256)):
        if not isinstance(value, str) or not _SHA256.fullmatch(value):
            raise WorkflowError(f"a notice's {name} is 64 lowercase hex digits, not {value!r}")
    if source_seq is not None and (isinstance(source_seq, bool) or not isinstance(source_seq, int)):
        raise WorkflowError(f"source_seq is an event number or None, not {source_seq!r}")
    extra = dict(detail or {})
    clash = sorted(_OWN_KEYS & extra.keys())
    if clash:
        raise WorkflowError(f"detail may not replace the notice's own {', '.join(clash)}")
    for rec in read_notices(events):
        if (rec.notice, rec.for_, rec.source_seq) == (notice, for_, source_seq) and (
            rec.open_failure is None
        ):
            raise WorkflowError(
                f"{notice} for {for_} (source event {source_seq}) was already rendered for "
                f"student {student_id} on {rec.on} (event {rec.seq})"
            )
    return WorkflowEvent(
        0,
        on,
        student_id,
        "notice_rendered",
        who=by,
        why=f"{notice} rendered for {for_} ({channel}, {language})",
        detail={
            "notice": notice,
            "for": for_,
            "source_seq": source_seq,
            "channel": channel,
            "language": language,
            "content_sha256": content_sha256,
            "template_sha256": template_sha256,
            **extra,
        },
    )


def delivery_event(
    events: Iterable[WorkflowEvent],
    student_id: str,
    notice_seq: int,
    status: str,
    *,
    on: dt.date,
    by: str,
    note: str = "",
) -> WorkflowEvent:
    """The ``notice_delivery`` event to record, checked against the student's ``events``.

    Raises:
        WorkflowError: An unknown status (with a did-you-mean), no notice ``notice_seq`` for
            the student, a date before the notice or its last delivery, or a status that
            cannot follow the last one (see the module's table).
    """
    as_date(on, "on")
    if status not in DELIVERY_STATUSES:
        hint = suggest(str(status), DELIVERY_STATUSES)
        raise WorkflowError(
            f"unknown delivery status {status!r}; "
            f"{hint or 'use one of ' + ', '.join(DELIVERY_STATUSES)}"
        )
    if not isinstance(by, str) or not by.strip():
        raise WorkflowError("a delivery names who reported it (by)")
    if not isinstance(note, str):
        raise WorkflowError(f"a delivery's note is text, not {type(note).__name__}")
    rec = next((r for r in read_notices(events) if r.seq == notice_seq), None)
    if rec is None:
        raise WorkflowError(f"student {student_id} has no notice {notice_seq!r} (event number)")
    if on < rec.status_on:
        what = "the notice" if not rec.deliveries else f"its last delivery ({rec.status})"
        raise WorkflowError(
            f"a delivery on {on} predates {what} on {rec.status_on} "
            f"({rec.notice}, event {notice_seq})"
        )
    allowed = _NEXT.get(rec.status, DELIVERY_STATUSES)
    if status not in allowed:
        then = ", ".join(allowed) if allowed else "nothing: it was read"
        raise WorkflowError(
            f"notice {notice_seq} of student {student_id} is {rec.status}; {status} cannot "
            f"follow (may follow: {then})"
        )
    why = f"{rec.notice} for {rec.for_}: {status}"
    return WorkflowEvent(
        0,
        on,
        student_id,
        "notice_delivery",
        who=by,
        why=f"{why}; {note}" if note else why,
        detail={
            "notice_seq": notice_seq,
            "notice": rec.notice,
            "for": rec.for_,
            "status": status,
            "note": note,
        },
    )


class Notices(Core):
    """The engine's outbox: notices rendered and their deliveries, each one event."""

    def record_notice(
        self,
        student_id: str,
        *,
        on: dt.date,
        by: str,
        notice: str,
        for_: str,
        source_seq: int | None,
        channel: str,
        language: str,
        content_sha256: str,
        template_sha256: str,
        detail: Mapping[str, Any] | None = None,
    ) -> WorkflowEvent:
        """Record a notice rendered for a student: one ``notice_rendered`` event.

        At most one notice of an id is recorded for the same step (``for_``) and source
        event: a second is refused, so a producer run again renders nothing twice (it asks
        :meth:`notices_of` first and skips what is there; the refusal is the guard). Only
        once every earlier one came back (returned or bounced, nothing delivered since) may
        it be rendered again, for a corrected address.

        Args:
            student_id: The student.
            on: The notice's date.
            by: Who rendered it (a staff id, or ``tierflow``).
            notice: The notice's id in the rule set.
            for_: The legal step or intervention that called for it.
            source_seq: The event that called for it (its ``legal_issued`` or ``opened``
                event), or None.
            channel: ``letter``, ``email`` or ``sms``.
            language: The language rendered (``es``).
            content_sha256: SHA-256 of the rendered content (64 lowercase hex digits).
            template_sha256: SHA-256 of the template.
            detail: More to keep (``path``, ``recipient_sha256``, the rule set's hash): never
                a name or an address.

        Raises:
            WorkflowError: See :func:`notice_event`; nothing is recorded.
        """
        with self._unit():  # the check and the record in one unit of the store
            event = notice_event(
                self.repository.notice_events([student_id]).get(student_id, ()),
                student_id,
                on=on,
                by=by,
                notice=notice,
                for_=for_,
                source_seq=source_seq,
                channel=channel,
                language=language,
                content_sha256=content_sha256,
                template_sha256=template_sha256,
                detail=detail,
            )._replace(ruleset=self.ruleset.ref)  # the rule set whose template was rendered
            return self._record(event)

    def record_delivery(
        self,
        student_id: str,
        notice_seq: int,
        status: str,
        *,
        on: dt.date,
        by: str,
        note: str = "",
    ) -> WorkflowEvent:
        """Record what became of a notice: one ``notice_delivery`` event.

        Args:
            student_id: The student.
            notice_seq: The notice's ``notice_rendered`` event (:attr:`NoticeRecord.seq`).
            status: One of :data:`DELIVERY_STATUSES`, allowed after the last one reported
                (see :mod:`tierflow.workflow._notices`).
            on: When it happened.
            by: Who reported it.
            note: Free text.

        Raises:
            WorkflowError: See :func:`delivery_event`; nothing is recorded.
        """
        with self._unit():  # the check and the record in one unit of the store
            event = delivery_event(
                self.repository.notice_events([student_id]).get(student_id, ()),
                student_id,
                notice_seq,
                status,
                on=on,
                by=by,
                note=note,
            )
            return self._record(event)

    def notices_of(self, student_id: str) -> list[NoticeRecord]:
        """The notices rendered for a student, oldest first, each with its deliveries."""
        return read_notices(self.repository.notice_events([student_id]).get(student_id, ()))
