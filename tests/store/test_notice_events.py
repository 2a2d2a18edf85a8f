"""The outbox's events on every store (PostgreSQL too): ``Repository.notice_events``."""

from __future__ import annotations

import datetime as dt

from tierflow.workflow import Repository, WorkflowEvent, read_notices

D = dt.date(2025, 10, 6)


def test_notice_events_select_the_outbox_of_the_students_asked(repo: Repository) -> None:
    def event(student: str, kind: str, **detail: object) -> WorkflowEvent:
        return repo.append(WorkflowEvent(0, D, student, kind, who="clerk", detail=detail))

    first = event("s2", "notice_rendered", notice="nudge", **{"for": "family-call"})
    event("s1", "note", note='"kind":"notice_delivery"')  # matches the SQL prefilter only
    event("s1", "legal_issued", step="not1")
    mine = event("s1", "notice_rendered", notice="ca-first-truancy-notice", **{"for": "not1"})
    event("s1", "notice_delivery", notice_seq=mine.seq, status="returned", note="moved")
    event("s2", "notice_delivery", notice_seq=first.seq, status="sent", note="")
    got = repo.notice_events(["s1", "nobody", "s2"])
    assert list(got) == ["s1", "s2"]
    assert [(e.kind, e.seq) for e in got["s1"]] == [
        ("notice_rendered", mine.seq),
        ("notice_delivery", mine.seq + 1),
    ]
    assert list(repo.notice_events()) == ["s1", "s2"]
    assert repo.notice_events(["s1"]) == {"s1": got["s1"]}
    (rec,) = read_notices(got["s1"])
    assert (rec.notice, rec.for_, rec.status, rec.deliveries[0].note) == (
        "ca-first-truancy-notice",
        "not1",
        "returned",
        "moved",
    )
