"""The outbox report, and notices as evidence in the packet, readiness and the work queue."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator

import pytest

import tierflow
from tierflow.report import build_packet, outbox, work_queue
from tierflow.store import SqlRepository
from tierflow.workflow import Engine, InMemoryRepository, Intervention, Repository

CA = tierflow.load_ruleset("ca")
MON = dt.date(2025, 10, 6)  # a Monday
C, T = "c" * 64, "7" * 64
NOT1 = "NOT1 - first truancy notification"


@pytest.fixture(params=["memory", "sql"])
def repo(request: pytest.FixtureRequest) -> Iterator[Repository]:
    if request.param == "memory":
        yield InMemoryRepository()
    else:
        with SqlRepository(":memory:") as sql:
            yield sql


def notice(
    engine: Engine, student: str, for_: str = "not1", on: dt.date = MON, **more: object
) -> int:
    ids = {"not1": "ca-first-truancy-notice", "not2": "ca-second-truancy-notice"}
    return engine.record_notice(
        student,
        on=on,
        by="clerk",
        notice=ids[for_],
        for_=for_,
        source_seq=None,
        channel="letter",
        language="es",
        content_sha256=C,
        template_sha256=T,
        detail={"school_id": "oak", **more},
    ).seq


def filled(repo: Repository) -> Engine:
    """s1's letter returned on Oct 14; s2's delivered Oct 9; s3's only rendered."""
    engine = Engine(CA, repository=repo)
    a = notice(engine, "s1")
    engine.record_delivery("s1", a, "sent", on=MON, by="mailer")
    engine.record_delivery("s1", a, "returned", on=dt.date(2025, 10, 14), by="clerk", note="moved")
    b = notice(engine, "s2")
    engine.record_delivery("s2", b, "delivered", on=dt.date(2025, 10, 9), by="mailer")
    notice(engine, "s3", on=dt.date(2025, 10, 7))
    return engine


def test_the_outbox_lists_each_notice_with_its_last_status(repo: Repository) -> None:
    filled(repo)
    box = outbox(repo)
    assert [(i.student_id, i.status, i.status_on, i.reports) for i in box.items] == [
        ("s1", "returned", dt.date(2025, 10, 14), 2),
        ("s2", "delivered", dt.date(2025, 10, 9), 1),
        ("s3", "rendered", dt.date(2025, 10, 7), 0),
    ]
    assert box.counts() == {
        "rendered": 1,
        "sent": 0,
        "delivered": 1,
        "returned": 1,
        "bounced": 0,
        "read": 0,
    }
    assert [i.student_id for i in outbox(repo, status="returned").items] == ["s1"]
    assert [i.student_id for i in outbox(repo, status=["rendered", "delivered"]).items] == [
        "s2",
        "s3",
    ]
    assert [i.student_id for i in outbox(repo, students=["s3", "s2"]).items] == ["s2", "s3"]
    assert outbox(repo, school="elm").items == ()
    assert len(outbox(repo, school="oak").items) == 3
    with pytest.raises(
        ValueError, match="unknown notice status 'retruned'; did you mean 'returned'"
    ):
        outbox(repo, status="retruned")


def test_the_outbox_exports_text_json_and_csv() -> None:
    repo = InMemoryRepository()
    filled(repo)
    box = outbox(repo, status="returned")
    assert box.to_text().splitlines() == [
        "outbox (status returned): 1 notice: rendered 0, sent 0, delivered 0, returned 1, "
        "bounced 0, read 0",
        "  2025-10-06  s1  ca-first-truancy-notice for not1 (letter, es; notice 1)  returned "
        "2025-10-14: moved",
    ]
    data = json.loads(box.to_json())
    assert data["status"] == "returned" and data["counts"]["returned"] == 1
    assert data["items"] == [
        {
            "student_id": "s1",
            "notice_seq": 1,
            "on": "2025-10-06",
            "notice": "ca-first-truancy-notice",
            "for_": "not1",
            "channel": "letter",
            "language": "es",
            "status": "returned",
            "status_on": "2025-10-14",
            "reports": 2,
            "note": "moved",
            "school_id": "oak",
        }
    ]
    rows = list(csv.reader(io.StringIO(outbox(repo).to_csv())))
    assert rows[0][:3] == ["student_id", "notice_seq", "on"]
    assert [r[0] for r in rows[1:]] == ["s1", "s2", "s3"]


def test_a_formula_in_a_note_stays_text_in_csv() -> None:
    engine = Engine(CA)
    seq = notice(engine, "s1")
    engine.record_delivery("s1", seq, "bounced", on=MON, by="mailer", note="=HYPERLINK(1)")
    assert '"\'=HYPERLINK(1)"' in outbox(engine.repository).to_csv()


def test_the_packet_lists_each_notice_under_its_step_with_deliveries() -> None:
    repo = InMemoryRepository()
    filled(repo)
    packet = build_packet(repo, "s1", CA, as_of=dt.date(2025, 10, 20))
    (n,) = packet.notices
    assert (n.for_, n.status) == ("not1", "returned")
    assert [e.what for e in packet.timeline] == [
        f"Notice rendered: ca-first-truancy-notice for {NOT1} (letter, es)",
        f"Notice sent: ca-first-truancy-notice for {NOT1}",
        f"Notice returned: ca-first-truancy-notice for {NOT1}",
    ]
    assert json.loads(packet.to_json())["notices"][0]["deliveries"] == [
        {"on": "2025-10-06", "status": "sent", "by": "mailer", "note": ""},
        {"on": "2025-10-14", "status": "returned", "by": "clerk", "note": "moved"},
    ]
    page = packet.to_html()
    assert "Notices to the family" in page
    assert "returned: update the address or make a home visit" in page
    # As of a day before the return, the packet shows it sent only.
    early = build_packet(repo, "s1", CA, as_of=dt.date(2025, 10, 10))
    assert early.notices[0].status == "sent"
    # A packet without notices has no such section.
    assert "Notices to the family" not in build_packet(repo, "s9", CA, as_of=MON).to_html()


def test_readiness_says_whether_the_previous_steps_notice_reached_the_family() -> None:
    repo = InMemoryRepository()
    engine = filled(repo)
    for sid in ("s1", "s2", "s3"):
        repo.record_issued(sid, "not1", MON)
    day = dt.date(2025, 10, 20)
    returned = build_packet(repo, "s1", CA, as_of=day, step="not2").readiness
    delivered = build_packet(repo, "s2", CA, as_of=day, step="not2").readiness
    rendered = build_packet(repo, "s3", CA, as_of=day, step="not2").readiness
    assert returned is not None and delivered is not None and rendered is not None
    assert returned.notices_missing == (
        f"{NOT1}: notice ca-first-truancy-notice (letter, es) of 2025-10-06 returned on "
        "2025-10-14 (moved), not delivered since: update the address or make a home visit",
    )
    assert (
        f"{NOT1}: notice ca-first-truancy-notice (letter, es) of 2025-10-06 delivered on "
        "2025-10-09" in delivered.present
    )
    assert delivered.notices_missing == ()
    assert rendered.notices_missing == (
        f"{NOT1}: notice ca-first-truancy-notice (letter, es) of 2025-10-07 rendered, "
        "no delivery confirmed",
    )
    # The notice evidence is for the panel: it does not change the rule set's verdict.
    assert returned.ready == delivered.ready and returned.missing == delivered.missing
    # Handed over at a home visit: the return is resolved.
    engine.record_delivery("s1", 1, "delivered", on=dt.date(2025, 10, 16), by="ms-lee")
    again = build_packet(repo, "s1", CA, as_of=day, step="not2").readiness
    assert again is not None and again.notices_missing == ()
    # A student with notices but none for an issued step that has one: said missing.
    repo.record_issued("s4", "not1", MON)
    notice(engine, "s4", for_="not2")
    lacking = build_packet(repo, "s4", CA, as_of=day, step="not3").readiness
    assert lacking is not None
    assert f"{NOT1}: no notice to the family recorded" in lacking.notices_missing
    # A student without any notice: nothing said (the host keeps no outbox).
    repo.record_issued("s5", "not1", MON)
    plain = build_packet(repo, "s5", CA, as_of=day, step="not2").readiness
    assert plain is not None and plain.notices_missing == ()


def case(n: int, student: str) -> Intervention:
    return Intervention(
        f"iv-{n}", student, "oak", "weekly-checkin", 2, "mentor", "ms-lee", "active",
        MON, dt.date(2025, 10, 30), None, None,
    )  # fmt: skip


def test_a_returned_notice_is_a_task_in_the_queue_until_one_is_delivered(
    repo: Repository,
) -> None:
    engine = filled(repo)
    for n, sid in enumerate(("s1", "s2", "s3"), 1):
        repo.add(case(n, sid))
    day = dt.date(2025, 10, 16)  # a Thursday: two school days after the return
    queue = work_queue(repo, day, owner="ms-lee")
    (item,) = queue.bucket("returned_notice")
    assert (item.student_id, item.school_id, item.item, item.state) == (
        "s1",
        "oak",
        "ca-first-truancy-notice",
        "returned",
    )
    assert (item.due_on, item.age_school_days) == (dt.date(2025, 10, 14), 2)
    assert item.label == (
        "ca-first-truancy-notice for not1: update the address or make a home visit"
    )
    assert queue.counts()["returned_notice"] == 1
    assert "returned notice (1)" in queue.to_text()
    assert (
        "returned notice" not in work_queue(repo, dt.date(2025, 10, 13), owner="ms-lee").to_text()
    )
    # Sent again to a corrected address: still a task until it is delivered.
    engine.record_delivery("s1", 1, "sent", on=day, by="clerk")
    assert len(work_queue(repo, day, owner="ms-lee").bucket("returned_notice")) == 1
    # A later notice for the same step delivered: resolved.
    later = notice(engine, "s1", on=day, source="resend")
    engine.record_delivery("s1", later, "delivered", on=day, by="ms-lee")
    after = work_queue(repo, day, owner="ms-lee")
    assert after.bucket("returned_notice") == ()
    assert "returned_notice" not in after.counts()  # shown only when it holds an item


def test_a_queue_without_notices_counts_the_buckets_it_always_did() -> None:
    repo = InMemoryRepository()
    repo.add(case(1, "s1"))
    assert list(work_queue(repo, MON).counts()) == [
        "overdue",
        "due_today",
        "upcoming",
        "unassigned",
        "legal_awaiting_evidence",
    ]


def test_a_hostile_note_stays_text_in_the_packet_page() -> None:
    engine = Engine(CA)
    seq = notice(engine, "s1")
    engine.record_delivery("s1", seq, "returned", on=MON, by="clerk", note="<script>x</script>")
    page = build_packet(engine.repository, "s1", CA, as_of=MON).to_html()
    assert "<script>x" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
