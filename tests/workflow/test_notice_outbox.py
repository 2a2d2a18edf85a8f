"""The outbox in the event log: notices rendered, their deliveries, on every repository."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tierflow
from tierflow.errors import WorkflowError
from tierflow.store import SqlRepository
from tierflow.workflow import (
    DELIVERY_STATUSES,
    Engine,
    InMemoryRepository,
    NoticeDelivery,
    Repository,
    WorkflowEvent,
)

D = dt.date(2025, 10, 6)
MTSS = tierflow.load_ruleset("mtss")
C = "c" * 64
T = "7" * 64


@pytest.fixture(params=["memory", "sql"])
def repo(request: pytest.FixtureRequest) -> Iterator[Repository]:
    if request.param == "memory":
        yield InMemoryRepository()
    else:
        with SqlRepository(":memory:") as sql:
            yield sql


def render(engine: Engine, student: str = "s1", **changes: Any) -> WorkflowEvent:
    args: dict[str, Any] = {
        "on": D,
        "by": "clerk",
        "notice": "ca-first-truancy-notice",
        "for_": "not1",
        "source_seq": 4,
        "channel": "letter",
        "language": "es",
        "content_sha256": C,
        "template_sha256": T,
    }
    return engine.record_notice(student, **{**args, **changes})


def test_the_statuses_are_the_issues_five() -> None:
    assert DELIVERY_STATUSES == ("sent", "delivered", "returned", "bounced", "read")


def test_a_rendered_notice_is_one_event_with_its_hashes(repo: Repository) -> None:
    engine = Engine(MTSS, repository=repo)
    ev = render(engine, detail={"path": "out/s1.html", "recipient_sha256": "a" * 64})
    assert (ev.kind, ev.at, ev.who, ev.student_id) == ("notice_rendered", D, "clerk", "s1")
    assert ev.ruleset is not None and ev.ruleset.id == "mtss"
    assert ev.detail == {
        "notice": "ca-first-truancy-notice",
        "for": "not1",
        "source_seq": 4,
        "channel": "letter",
        "language": "es",
        "content_sha256": C,
        "template_sha256": T,
        "path": "out/s1.html",
        "recipient_sha256": "a" * 64,
    }
    assert engine.timeline("s1") == [ev]
    (rec,) = engine.notices_of("s1")
    assert (rec.seq, rec.on, rec.notice, rec.for_, rec.channel, rec.language) == (
        ev.seq,
        D,
        "ca-first-truancy-notice",
        "not1",
        "letter",
        "es",
    )
    assert (rec.content_sha256, rec.template_sha256, rec.source_seq) == (C, T, 4)
    assert (rec.status, rec.deliveries, rec.student_id) == ("rendered", (), "s1")
    assert engine.notices_of("nobody") == []


def test_the_same_notice_for_the_same_source_is_refused_naming_the_first(
    repo: Repository,
) -> None:
    engine = Engine(MTSS, repository=repo)
    first = render(engine)
    with pytest.raises(WorkflowError, match=rf"already rendered .* \(event {first.seq}\)"):
        render(engine, on=D + dt.timedelta(days=1), language="en")
    assert len(engine.timeline("s1")) == 1
    # Another source event (the step issued again next year), or another student: recorded.
    render(engine, source_seq=9)
    render(engine, "s2")
    assert [n.source_seq for n in engine.notices_of("s1")] == [4, 9]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"channel": "fax"}, "unknown notice channel 'fax'"),
        ({"channel": "emial"}, "did you mean 'email'"),
        ({"content_sha256": "ABC"}, "content_sha256 is 64 lowercase hex digits"),
        ({"template_sha256": C.upper()}, "template_sha256 is 64"),
        ({"by": " "}, "needs by"),
        ({"for_": ""}, "needs for_"),
        ({"detail": {"for": "not2"}}, "may not replace the notice's own for"),
        ({"on": dt.datetime(2025, 10, 6, 9)}, "not a datetime"),
        ({"source_seq": "4"}, "source_seq is an event number"),
    ],
)
def test_a_malformed_notice_is_refused_and_nothing_recorded(
    changes: dict[str, Any], message: str
) -> None:
    engine = Engine(MTSS)
    with pytest.raises(WorkflowError, match=message):
        render(engine, **changes)
    assert engine.timeline("s1") == []


def test_deliveries_follow_the_notice_and_give_its_status(repo: Repository) -> None:
    engine = Engine(MTSS, repository=repo)
    seq = render(engine).seq
    sent = engine.record_delivery("s1", seq, "sent", on=D, by="mailer")
    assert sent.kind == "notice_delivery"
    assert sent.detail == {
        "notice_seq": seq,
        "notice": "ca-first-truancy-notice",
        "for": "not1",
        "status": "sent",
        "note": "",
    }
    engine.record_delivery(
        "s1", seq, "returned", on=D + dt.timedelta(days=8), by="clerk", note="moved"
    )
    (rec,) = engine.notices_of("s1")
    assert rec.status == "returned" and rec.failed and not rec.reached
    assert rec.deliveries == (
        NoticeDelivery(D, "sent", "mailer", "", sent.seq),
        NoticeDelivery(D + dt.timedelta(days=8), "returned", "clerk", "moved", sent.seq + 1),
    )
    # A new attempt after a return: handed over at a home visit, then read.
    engine.record_delivery("s1", seq, "delivered", on=D + dt.timedelta(days=9), by="ms-lee")
    engine.record_delivery("s1", seq, "read", on=D + dt.timedelta(days=9), by="ms-lee")
    (rec,) = engine.notices_of("s1")
    assert [d.status for d in rec.deliveries] == ["sent", "returned", "delivered", "read"]
    assert rec.status == "read" and rec.reached


@pytest.mark.parametrize(
    ("before", "status", "message"),
    [
        ([], "deliverd", "unknown delivery status 'deliverd'; did you mean 'delivered'"),
        ([], "lost", "use one of sent, delivered, returned, bounced, read"),
        (["sent"], "sent", "is sent; sent cannot follow"),
        (["read"], "delivered", "is read; delivered cannot follow .*nothing: it was read"),
        (["returned"], "read", "is returned; read cannot follow .*sent, delivered"),
        (["bounced"], "bounced", "is bounced; bounced cannot follow"),
        (["delivered"], "sent", "is delivered; sent cannot follow"),
    ],
)
def test_a_delivery_that_cannot_follow_is_refused(
    before: list[str], status: str, message: str
) -> None:
    engine = Engine(MTSS)
    seq = render(engine).seq
    for s in before:
        engine.record_delivery("s1", seq, s, on=D, by="mailer")
    with pytest.raises(WorkflowError, match=message):
        engine.record_delivery("s1", seq, status, on=D, by="mailer")
    assert len(engine.timeline("s1")) == 1 + len(before)


def test_a_delivery_for_no_notice_or_out_of_date_is_refused() -> None:
    engine = Engine(MTSS)
    seq = render(engine).seq
    with pytest.raises(WorkflowError, match="student s1 has no notice 99"):
        engine.record_delivery("s1", 99, "sent", on=D, by="mailer")
    with pytest.raises(WorkflowError, match="student s2 has no notice"):
        engine.record_delivery("s2", seq, "sent", on=D, by="mailer")  # s1's notice
    with pytest.raises(WorkflowError, match="2025-10-05 predates the notice on 2025-10-06"):
        engine.record_delivery("s1", seq, "sent", on=D - dt.timedelta(days=1), by="mailer")
    engine.record_delivery("s1", seq, "sent", on=D + dt.timedelta(days=2), by="mailer")
    with pytest.raises(WorkflowError, match=r"predates its last delivery \(sent\) on 2025-10-08"):
        engine.record_delivery("s1", seq, "delivered", on=D + dt.timedelta(days=1), by="x")
    with pytest.raises(WorkflowError, match="names who reported it"):
        engine.record_delivery("s1", seq, "delivered", on=D + dt.timedelta(days=3), by="")
    assert len(engine.timeline("s1")) == 2


def test_hooks_see_the_outbox_events() -> None:
    engine = Engine(MTSS)
    seen: list[str] = []
    engine.subscribe(lambda ev: seen.append(ev.kind), kinds={"notice_delivery"})
    seq = render(engine).seq
    engine.record_delivery("s1", seq, "bounced", on=D, by="mailer")
    assert seen == ["notice_delivery"]


def test_notice_events_are_the_outbox_events_of_each_student_in_order(repo: Repository) -> None:
    engine = Engine(MTSS, repository=repo)
    render(engine, "s2")
    repo.append(WorkflowEvent(0, D, "s1", "note", why='"kind":"notice_rendered"', detail={}))
    a = render(engine, "s1")
    repo.append(WorkflowEvent(0, D, "s3", "legal_due", detail={"step": "not1"}))
    engine.record_delivery("s1", a.seq, "sent", on=D, by="mailer")
    got = repo.notice_events(["s1", "s3", "nobody", "s2", "s1"])
    assert list(got) == ["s1", "s2"]
    assert [e.kind for e in got["s1"]] == ["notice_rendered", "notice_delivery"]
    assert list(repo.notice_events()) == ["s1", "s2"]
    assert [e.kind for e in repo.notice_events()["s2"]] == ["notice_rendered"]
    assert repo.notice_events([]) == {}


def test_a_notice_that_came_back_may_be_rendered_again() -> None:
    engine = Engine(MTSS)
    first = render(engine).seq
    engine.record_delivery("s1", first, "returned", on=D, by="clerk")
    again = render(engine, content_sha256="d" * 64)  # the corrected address block
    with pytest.raises(WorkflowError, match=rf"\(event {again.seq}\)"):
        render(engine)  # the second one did not come back
    assert [n.status for n in engine.notices_of("s1")] == ["returned", "rendered"]


# --- a second implementation of the delivery rules, checking the engine's ---------------------

# Written from the table in docs/outbox.md, not from the code: what may follow each status.
MAY_FOLLOW = {
    "rendered": {"sent", "delivered", "returned", "bounced", "read"},
    "sent": {"delivered", "returned", "bounced", "read"},
    "delivered": {"read", "returned", "bounced"},
    "returned": {"sent", "delivered"},
    "bounced": {"sent", "delivered"},
    "read": set(),
}


@given(
    st.lists(
        st.tuples(st.sampled_from(DELIVERY_STATUSES), st.integers(min_value=-2, max_value=3)),
        max_size=8,
    )
)
@settings(max_examples=150, deadline=None)
def test_deliveries_are_accepted_exactly_as_the_table_says(
    reports: list[tuple[str, int]],
) -> None:
    engine = Engine(MTSS)
    seq = render(engine).seq
    status, last = "rendered", D
    for wanted, step in reports:
        on = last + dt.timedelta(days=step)
        ok = wanted in MAY_FOLLOW[status] and on >= last
        try:
            engine.record_delivery("s1", seq, wanted, on=on, by="mailer")
        except WorkflowError:
            assert not ok, (status, wanted, on, last)
        else:
            assert ok, (status, wanted, on, last)
            status, last = wanted, on
        (rec,) = engine.notices_of("s1")
        assert rec.status == status and rec.status_on == last


def test_notice_events_of_many_students_are_read_in_chunks() -> None:
    with SqlRepository(":memory:") as repo:
        engine = Engine(MTSS, repository=repo)
        students = [f"s{n:04d}" for n in range(1203)]
        with repo.batch():
            for sid in students:
                render(engine, sid)
        got = repo.notice_events(reversed(students))
        assert list(got) == students[::-1]
        assert all(len(evs) == 1 for evs in got.values())
        assert len(repo.notice_events()) == 1203
