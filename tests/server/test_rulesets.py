"""``/v1/rulesets``: list, check with locations, inline tests, and the atomic swap under load."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from importlib.resources import files

import httpx
import pytest

from server.served import Served, serving
from tierflow.server import ServerConfig

MTSS = files("tierflow").joinpath("rulesets/mtss.yaml").read_text(encoding="utf-8")
DAY = "2025-11-03"
STUDENT = {"student_id": "s1", "days_enrolled": 60, "days_absent": 7}
YAML = {"content-type": "application/yaml"}


def _version(text: str, version: str) -> str:
    assert 'version: "2025.1"' in text
    return text.replace('version: "2025.1"', f'version: "{version}"', 1)


@pytest.fixture
def fresh() -> Iterator[Served]:
    """A server of its own: these tests replace its rule sets."""
    with serving(ServerConfig(rulesets=("mtss",))) as served:
        yield served


def test_list_and_inline_tests(open_server: Served) -> None:
    with open_server.client() as c:
        listed = c.get("/v1/rulesets").json()["rulesets"]
        tests = c.get("/v1/rulesets/mtss/tests").json()
    assert [r["id"] for r in listed] == ["ca", "mtss"]
    mtss = listed[1]
    assert (mtss["version"], mtss["tiers"]) == ("2025.1", ["tier3", "tier2", "tier1"])
    assert tests["ok"] is True
    names = [t["name"] for t in tests["tests"]]
    assert "exactly 5% reaches tier 2" in names
    assert all(
        re.fullmatch(r"mtss\.yaml \(built-in\):\d+:\d+", t["location"]) for t in tests["tests"]
    )


def test_check_reports_every_problem_with_its_place(open_server: Served) -> None:
    text = "id: x\nname: X\nversion: '1'\ntiers: []\n"
    with open_server.client() as c:
        r = c.post("/v1/rulesets/check", content=text, headers=YAML)
        good = c.post("/v1/rulesets/check", content=_version(MTSS, "2025.9"), headers=YAML)
    report = r.json()
    assert r.status_code == 200 and report["ok"] is False
    # the same problem docs/errors.md shows for this text: line 4, column 8, tier.none
    first = report["problems"][0]
    assert (first["file"], first["line"], first["col"], first["code"], first["path"]) == (
        "posted.yaml",
        4,
        8,
        "tier.none",
        "tiers",
    )
    assert good.json()["ok"] is True
    assert good.json()["ruleset"]["version"] == "2025.9"


def test_a_new_version_is_loaded_and_a_failing_one_refused(fresh: Served) -> None:
    with fresh.client() as c:
        before = c.get("/v1/rulesets/mtss").json()
        loaded = c.put("/v1/rulesets/mtss", content=_version(MTSS, "2025.2"), headers=YAML)
        after = c.get("/v1/rulesets/mtss").json()
        broken = c.put("/v1/rulesets/mtss", content="id: mtss\ntiers: [", headers=YAML)
        failing = c.put(
            "/v1/rulesets/mtss",
            content=_version(MTSS, "2025.3").replace(
                "expect: {tier: tier1, interventions: []}", "expect: {tier: tier3}", 1
            ),
            headers=YAML,
        )
        other_id = c.put(
            "/v1/rulesets/mtss", content=MTSS.replace("id: mtss", "id: other", 1), headers=YAML
        )
        unknown = c.put("/v1/rulesets/zzz", content=MTSS, headers=YAML)
        still = c.get("/v1/rulesets/mtss").json()
    assert loaded.status_code == 200
    assert loaded.json()["previous"]["version"] == "2025.1"
    assert after["version"] == "2025.2" and after["content_hash"] != before["content_hash"]
    assert broken.status_code == 422 and broken.json()["error"]["code"].startswith("yaml.")
    assert broken.json()["error"]["problems"][0]["line"] >= 1
    assert failing.status_code == 422
    assert failing.json()["error"]["code"] == "serve.tests_failed"
    assert any(not t["passed"] for t in failing.json()["error"]["tests"])
    assert other_id.status_code == 422 and other_id.json()["error"]["code"] == "serve.bad_request"
    assert unknown.status_code == 404
    assert still["version"] == "2025.2"  # every refused version left the loaded one in place


def test_a_swap_under_load_fails_no_request(fresh: Served) -> None:
    failures: list[str] = []
    versions: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with fresh.client() as c:
            while not stop.is_set():
                r = c.post("/v1/evaluate", json={"facts": STUDENT, "as_of": DAY})
                if r.status_code != 200 or r.json()["decision"]["tier"] != "tier2":
                    failures.append(r.text)
                else:
                    versions.append(r.json()["ruleset"]["version"])

    clients = [threading.Thread(target=load) for _ in range(6)]
    for t in clients:
        t.start()
    try:
        with fresh.client() as c:
            for n in range(2, 6):
                time.sleep(0.15)
                r = c.put("/v1/rulesets/mtss", content=_version(MTSS, f"2025.{n}"), headers=YAML)
                assert r.status_code == 200, r.text
                refused = c.put("/v1/rulesets/mtss", content="id: mtss\n", headers=YAML)
                assert refused.status_code == 422
            time.sleep(0.15)
    finally:
        stop.set()
        for t in clients:
            t.join()
    assert failures == []
    assert len(versions) > 50
    assert set(versions) <= {"2025.1", "2025.2", "2025.3", "2025.4", "2025.5"}
    assert versions.count("2025.5") > 0


def test_a_batch_in_flight_finishes_on_the_version_it_started_with(fresh: Served) -> None:
    swapped = threading.Event()

    def chunks() -> Iterator[bytes]:
        for i in range(200):
            if i == 100:
                swapped.wait(10)  # the new version is loaded half way through the batch
            yield (json.dumps({**STUDENT, "student_id": f"s{i}"}) + "\n").encode()

    result: list[httpx.Response] = []

    def send() -> None:
        with fresh.client() as c:
            result.append(
                c.post(
                    f"/v1/evaluate/batch?as_of={DAY}",
                    content=chunks(),
                    headers={"content-type": "application/x-ndjson"},
                )
            )

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(0.3)
    with fresh.client() as c:
        assert (
            c.put("/v1/rulesets/mtss", content=_version(MTSS, "2025.7"), headers=YAML).status_code
            == 200
        )
        swapped.set()
        sender.join()
        after = c.post("/v1/evaluate", json={"facts": STUDENT, "as_of": DAY}).json()
    lines = [json.loads(x) for x in result[0].text.splitlines()]
    assert {x["decision"]["ruleset"]["version"] for x in lines[:-1]} == {"2025.1"}
    assert len(lines) == 201
    assert after["ruleset"]["version"] == "2025.7"
