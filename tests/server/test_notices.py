"""The outbox, deliveries and the audit anchor over HTTP, against the CLI's functions.

A store with three ca notices (s1's letter sent then returned, s2's delivered, s3's only
rendered) is served with tokens; the answers are checked against what was recorded by hand,
and against ``tierflow.report.outbox`` and ``tierflow.store.anchor`` on the same store.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import tierflow
from server.served import Served, auth, serving, tokens_file
from tierflow.report import outbox
from tierflow.server import ServerConfig
from tierflow.store import SqlRepository, anchor
from tierflow.workflow import Engine

MON = dt.date(2025, 10, 6)


def _notice(engine: Engine, student: str) -> int:
    return engine.record_notice(
        student, on=MON, by="clerk", notice="ca-first-truancy-notice", for_="not1",
        source_seq=None, channel="letter", language="es", content_sha256="c" * 64,
        template_sha256="7" * 64, detail={"school_id": "oak"},
    ).seq  # fmt: skip


@pytest.fixture(scope="module")
def noticed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path, int]]:
    folder = tmp_path_factory.mktemp("notices")
    db = folder / "store.db"
    with SqlRepository(db) as repo:
        engine = Engine(tierflow.load_ruleset("ca"), repository=repo)
        first = _notice(engine, "s1")
        engine.record_delivery("s1", first, "sent", on=MON, by="mailer")
        engine.record_delivery("s1", first, "returned", on=dt.date(2025, 10, 14), by="clerk")
        engine.record_delivery("s2", _notice(engine, "s2"), "delivered", on=MON, by="mailer")
        third = _notice(engine, "s3")
    config = ServerConfig(rulesets=("ca",), db=str(db), tokens=tokens_file(folder))
    with serving(config) as served:
        yield served, db, third


def test_the_outbox_lists_each_notice_s_last_status(noticed: tuple[Served, Path, int]) -> None:
    served, db, _ = noticed
    with served.client(**auth("ms-lee-personal")) as c:
        every = c.get("/v1/casework/outbox").json()
        returned = c.get("/v1/casework/outbox", params={"status": "returned"}).json()
        wrong = c.get("/v1/casework/outbox", params={"status": "retruned"})
    statuses = {(n["student_id"], n["status"]) for n in every["items"]}
    assert {("s1", "returned"), ("s2", "delivered"), ("s3", "rendered")} <= statuses
    assert [n["student_id"] for n in returned["items"]] == ["s1"]
    with SqlRepository(db) as repo:
        assert every == json.loads(outbox(repo).to_json())  # what tierflow outbox prints
    assert wrong.status_code == 400 and "returned" in wrong.json()["error"]["message"]


def test_without_the_personal_scope_the_outbox_is_masked(noticed: tuple[Served, Path, int]) -> None:
    served, _, _ = noticed
    with served.client(**auth("ms-lee")) as c:
        r = c.get("/v1/casework/outbox")
    assert r.status_code == 200
    assert all(n["student_id"].startswith("anon-") for n in r.json()["items"])


def test_a_delivery_is_recorded_as_the_token_s_subject(noticed: tuple[Served, Path, int]) -> None:
    served, db, third = noticed
    path = f"/v1/casework/students/s3/notices/{third}/delivery"
    with served.client(**auth("ms-lee-personal")) as c:
        r = c.post(path, json={"status": "sent", "on": "2025-10-07", "note": "by post"})
        again = c.post(path, json={"status": "sent", "on": "2025-10-06"})  # before the last
        unknown = c.post("/v1/casework/students/s3/notices/999/delivery", json={"status": "sent"})
    assert r.status_code == 200, r.text
    (event,) = r.json()["events"]
    assert (event["kind"], event["who"], event["student_id"]) == (
        "notice_delivery",
        "ms-lee-personal",
        "s3",
    )
    assert again.status_code == 409 and unknown.status_code == 409
    with SqlRepository(db) as repo:
        (item,) = [n for n in outbox(repo, students=["s3"]).items]
    assert item.status == "sent"
    with served.client(**auth("evaluator")) as c:
        assert c.post(path, json={"status": "read"}).status_code == 403


def test_the_anchor_is_the_store_s_and_names_students_only_with_personal(
    noticed: tuple[Served, Path, int],
) -> None:
    served, db, _ = noticed
    with served.client(**auth("root")) as c:
        full = c.post("/v1/casework/audit/anchor").json()
    with served.client(**auth("ms-lee")) as c:
        assert c.post("/v1/casework/audit/anchor").status_code == 403
    with SqlRepository(db) as repo:
        mine = json.loads(anchor(repo).to_json())
    assert full == mine and set(full["heads"]) == {"s1", "s2", "s3"}
