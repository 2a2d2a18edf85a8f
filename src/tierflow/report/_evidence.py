"""A legal step's notices as evidence: what the packet, readiness and the work queue say of them.

A legal step is documented by the notice that went out for it and by what became of that
notice. A notice is for a step when its ``for`` is the step's id. The step's notice evidence is
*present* once a notice for it was reported ``delivered`` or ``read``; a notice ``returned`` or
``bounced`` leaves it *missing* until that notice, or a later notice for the same step, is
delivered (a home visit or a corrected address); a notice only rendered or sent is missing its
delivery.

>>> import datetime as dt
>>> from tierflow.workflow import NoticeDelivery, NoticeRecord
>>> back = NoticeRecord("s1", 3, dt.date(2025, 10, 6), "not1-letter", "not1", "letter", "es",
...     "c" * 64, (NoticeDelivery(dt.date(2025, 10, 6), "sent", "mailer"),
...                NoticeDelivery(dt.date(2025, 10, 14), "returned", "clerk", "moved")))
>>> present, missing = step_evidence([back], "not1", "NOT1")
>>> present, len(missing)
((), 1)
>>> for part in missing[0].split(", not "):
...     print(part)
NOT1: notice not1-letter (letter, es) of 2025-10-06 returned on 2025-10-14 (moved)
delivered since: update the address or make a home visit
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from tierflow.report._aging import LegalAging
from tierflow.report._export import Markup, html, join
from tierflow.workflow import NoticeDelivery, NoticeRecord

__all__ = [
    "ACT_ON_RETURN",
    "failed_notices",
    "notice_json",
    "notices_as_of",
    "notices_section",
    "step_evidence",
]

ACT_ON_RETURN = "update the address or make a home visit"
"""What a returned or bounced notice asks of staff."""


def _describe(n: NoticeRecord) -> str:
    return f"notice {n.notice} ({n.channel}, {n.language}) of {n.on}"


def _when(d: NoticeDelivery) -> str:
    return f"{d.status} on {d.on}" + (f" ({d.note})" if d.note else "")


def notices_as_of(notices: Iterable[NoticeRecord], as_of: dt.date) -> list[NoticeRecord]:
    """The notices of ``as_of`` or before, each with the deliveries reported by then."""
    return [
        dataclasses.replace(n, deliveries=tuple(d for d in n.deliveries if d.on <= as_of))
        for n in notices
        if n.on <= as_of
    ]


def notice_json(n: NoticeRecord) -> dict[str, Any]:
    """A notice and its deliveries as JSON data (dates as ``YYYY-MM-DD``)."""
    return {
        "seq": n.seq,
        "on": n.on.isoformat(),
        "notice": n.notice,
        "for": n.for_,
        "channel": n.channel,
        "language": n.language,
        "content_sha256": n.content_sha256,
        "template_sha256": n.template_sha256,
        "status": n.status,
        "deliveries": [
            {"on": d.on.isoformat(), "status": d.status, "by": d.by, "note": d.note}
            for d in n.deliveries
        ],
    }


def failed_notices(notices: Sequence[NoticeRecord]) -> list[tuple[NoticeRecord, NoticeDelivery]]:
    """The notices returned or bounced with nothing delivered since, each with that report.

    A failed notice stops counting once it is delivered, or once a later notice for the same
    step or intervention (``for``) is.
    """
    out = []
    for n in notices:
        failure = n.open_failure
        if failure is None:
            continue
        if any(m.for_ == n.for_ and m.seq > n.seq and m.reached for m in notices):
            continue
        out.append((n, failure))
    return out


def step_evidence(
    notices: Iterable[NoticeRecord], step: str, label: str, *, expected: bool = False
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What the notices recorded for ``step`` show, in words: ``(present, missing)``.

    Args:
        notices: A student's notices (:meth:`tierflow.workflow.Engine.notices_of`).
        step: The legal step (or intervention) id.
        label: How to name it.
        expected: The rule set has a notice for the step: say so when none was recorded.
    """
    mine = [n for n in notices if n.for_ == step]
    if not mine:
        return (), ((f"{label}: no notice to the family recorded",) if expected else ())
    present: list[str] = []
    missing: list[str] = []
    reached = any(n.reached for n in mine)
    failed = {n.seq for n, _ in failed_notices(mine)}
    for n in mine:
        last = n.deliveries[-1] if n.deliveries else None
        if n.reached and last is not None:
            present.append(f"{label}: {_describe(n)} {_when(last)}")
        elif n.seq in failed and n.open_failure is not None:
            missing.append(
                f"{label}: {_describe(n)} {_when(n.open_failure)}, not delivered since: "
                f"{ACT_ON_RETURN}"
            )
        elif n.open_failure is not None:  # a later notice for the step was delivered
            present.append(f"{label}: {_describe(n)} {_when(n.open_failure)}; a later one reached")
        elif not reached:
            what = "rendered" if last is None else _when(last)
            missing.append(f"{label}: {_describe(n)} {what}, no delivery confirmed")
    return tuple(present), tuple(missing)


def notices_section(notices: Sequence[NoticeRecord], aging: Sequence[LegalAging]) -> Markup:
    """The packet's notices: one row a notice, under the step it was for, with its deliveries."""
    if not notices:
        return Markup()
    labels = {a.step: a.label for a in aging}
    failed = {n.seq for n, _ in failed_notices(notices)}
    rows = join(
        "\n",
        (
            html(
                '<tr><td>{step}</td><td>{notice}</td><td>{how}</td><td class="date">{on}</td>'
                '<td>{deliveries}</td><td class="{cls}">{status}</td></tr>',
                step=labels.get(n.for_, n.for_),
                notice=n.notice,
                how=f"{n.channel}, {n.language}",
                on=n.on,
                deliveries="; ".join(_when(d) for d in n.deliveries) or "none reported",
                cls="missing" if n.seq in failed else "ok" if n.reached else "",
                status=f"{n.status}: {ACT_ON_RETURN}" if n.seq in failed else n.status,
            )
            for n in notices
        ),
    )
    return html(
        "<section>\n<h2>Notices to the family</h2>\n<table>\n<thead><tr><th>For</th>"
        "<th>Notice</th><th>Channel</th><th>Date</th><th>Deliveries</th><th>Status</th></tr>"
        "</thead>\n<tbody>\n{rows}\n</tbody>\n</table>\n</section>",
        rows=rows,
    )
