"""``/v1/evaluate/raw``: raw attendance files in, facts, decisions and rejects out.

The district here is counted by hand: a calendar of the 20 weekdays of 1-26 September 2025,
every student enrolled all year (``assume_full_year``), as of 30 September. s1 missed 5 days
(25%: Tier 3 under mtss, from 20%), s2 missed 2 (10%: Tier 2, from 5%, and the chronic-plan
rule from 10% once 10 days are enrolled), s3 none (Tier 1). One event row has an impossible
date: it is rejected with its file and line, and the rest is decided.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from server.served import Served, auth
from tierflow.ingest import facts_from_files

DAYS = [
    dt.date(2025, 9, 1) + dt.timedelta(days=n)
    for n in range(26)
    if (dt.date(2025, 9, 1) + dt.timedelta(days=n)).weekday() < 5
]
CALENDAR = "calendar_id,date\n" + "".join(f"lincoln,{d}\n" for d in DAYS)
MISSED = {"s1": DAYS[2:7], "s2": DAYS[10:12]}
EVENTS = (
    "student_id,school_id,date,category\n"
    + "".join(f"{s},lincoln,{d},unexcused_absence\n" for s, days in MISSED.items() for d in days)
    + "s3,lincoln,2025-09-31,tardy\n"  # line 9: no 31 September
    + "s3,lincoln,2025-09-15,present\n"
)
BODY = {
    "as_of": "2025-09-30",
    "ruleset": "mtss",
    "calendars": [{"format": "csv", "content": CALENDAR}],
    "events": [{"format": "csv", "content": EVENTS}],
    "assume_full_year": True,
    "include_facts": True,
}


def test_raw_files_are_folded_and_decided_as_counted_by_hand(open_server: Served) -> None:
    with open_server.client() as c:
        r = c.post("/v1/evaluate/raw", json=BODY)
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(DAYS) == 20
    got = {s["decision"]["student_id"]: s for s in body["students"]}
    assert {sid: s["decision"]["tier"] for sid, s in got.items()} == {
        "s1": "tier3",
        "s2": "tier2",
        "s3": "tier1",
    }
    assert got["s2"]["decision"]["rules"] == ["chronic-plan"]
    assert [(got[s]["facts"]["days_enrolled"], got[s]["facts"]["days_absent"]) for s in got] == [
        (20, 5.0),
        (20, 2.0),
        (20, 0.0),
    ]
    (reject,) = body["rejects"]
    assert reject["source"] == "events-0.csv:9"
    assert reject["error"]["code"] == "ingest.invalid_date"
    assert reject["error"]["student_id"] == "s3"
    assert body["ruleset"]["id"] == "mtss" and body["summary"]["students"] == 3
    assert "tierflow-raw" not in r.text and "/tmp" not in r.text  # the server's folder


def test_the_answer_is_the_library_s_on_the_same_files(open_server: Served, tmp_path: Path) -> None:
    import tierflow
    from tierflow.errors import DataReport
    from tierflow.pipeline import evaluate_built_facts

    (tmp_path / "cal.csv").write_text(CALENDAR)
    (tmp_path / "ev.csv").write_text(EVENTS)
    ruleset = tierflow.load_ruleset("mtss")
    builder = facts_from_files(
        [tmp_path / "cal.csv"],
        [tmp_path / "ev.csv"],
        policy=ruleset.attendance_policy,
        school_years=ruleset.school_years,
        assume_full_year=True,
    )
    as_of = dt.date(2025, 9, 30)
    mine = [
        d.to_dict()
        for _, d in evaluate_built_facts(ruleset, builder, as_of=as_of, report=DataReport())
    ]
    with open_server.client() as c:
        served = c.post("/v1/evaluate/raw", json=BODY).json()
    assert [s["decision"] for s in served["students"]] == mine


def test_without_the_personal_scope_ids_are_masked_and_facts_left_out(secured: Served) -> None:
    with secured.client(**auth("evaluator")) as c:
        r = c.post("/v1/evaluate/raw", json=BODY)
    assert r.status_code == 200, r.text
    students = r.json()["students"]
    assert len(students) == 3
    assert all(s["decision"]["student_id"].startswith("anon-") for s in students)
    assert all("facts" not in s for s in students)
    assert '"s1"' not in r.text and '"s3"' not in r.text


def test_a_casework_token_cannot_evaluate(secured: Served) -> None:
    with secured.client(**auth("ms-lee")) as c:
        assert c.post("/v1/evaluate/raw", json=BODY).status_code == 403


def test_names_and_formulas_sent_are_data_never_paths(open_server: Served, tmp_path: Path) -> None:
    target = tmp_path / "planted.csv"
    hostile = {
        **BODY,
        "events": [
            {
                "format": "csv",
                "content": "student_id,school_id,date,category\n"
                "=cmd|' /C calc'!A0,lincoln,2025-09-03,unexcused_absence\n",
                "name": str(target),  # not a field: ignored, never a path
            }
        ],
    }
    with open_server.client() as c:
        r = c.post("/v1/evaluate/raw", json=hostile)
        bad = c.post(
            "/v1/evaluate/raw", json={**BODY, "events": [{"format": "exe", "content": ""}]}
        )
    assert r.status_code == 200, r.text
    assert [s["decision"]["student_id"] for s in r.json()["students"]] == ["=cmd|' /C calc'!A0"]
    assert not target.exists()
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "serve.bad_request")


def test_the_body_may_be_as_large_as_a_batch(open_server: Served) -> None:
    # The open server takes bodies of 64 KiB, and batches (and raw files) of 256 MiB.
    padding = "".join(f"p{n},lincoln,2025-09-15,present\n" for n in range(4000))
    big = {**BODY, "events": [{"format": "csv", "content": EVENTS + padding}]}
    assert len(json.dumps(big)) > 64 * 1024
    with open_server.client() as c:
        r = c.post("/v1/evaluate/raw", json=big)
    assert r.status_code == 200, r.text[:300]
    assert r.json()["summary"]["students"] == 4003
