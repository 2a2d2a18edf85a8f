"""``/v1/evaluate``: one student and batches, with explanations, rejects and masking.

Expected tiers are computed by hand from mtss.yaml's bands (Tier 2 from a 5% absence rate,
Tier 3 from 20%, the chronic-plan rule from 10%, once 10 days are enrolled).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest

import tierflow
from server.served import Served, auth, serving, tokens_file
from tierflow.ingest import read_facts
from tierflow.ingest._text import MAX_LINE_BYTES, LineBlocks, TextLines
from tierflow.pipeline import evaluate_records
from tierflow.server import ServerConfig
from tierflow.server._evaluate import _arriving, _Stream

DAY = "2025-11-03"
TIER2 = {"student_id": "s1", "days_enrolled": 60, "days_absent": 7}  # 7/60 = 11.7%
TIER3 = {"student_id": "s2", "days_enrolled": 60, "days_absent": 13}  # 13/60 = 21.7%
TIER1 = {"student_id": "s3", "days_enrolled": 60, "days_absent": 1}  # 1/60 = 1.7%
NDJSON = {"content-type": "application/x-ndjson"}


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_one_student_with_the_rule_set_identity(open_server: Served) -> None:
    with open_server.client() as c:
        r = c.post("/v1/evaluate", json={"facts": TIER2, "as_of": DAY, "ruleset": "mtss"})
        listed = c.get("/v1/rulesets/mtss").json()
    assert r.status_code == 200
    body = r.json()
    assert body["decision"]["tier"] == "tier2"
    assert body["decision"]["rules"] == ["chronic-plan"]
    assert body["ruleset"]["id"] == "mtss"
    assert body["ruleset"]["version"] == listed["version"]
    assert len(body["ruleset"]["content_hash"]) == 64
    assert body["ruleset"]["content_hash"] == listed["content_hash"]
    assert "explanation" not in body


def test_explain_says_why_and_how_far_the_next_tier_is(open_server: Served) -> None:
    with open_server.client() as c:
        body = c.post("/v1/evaluate", json={"facts": TIER2, "as_of": DAY, "explain": True}).json()
    explanation = body["explanation"]
    assert explanation["tier"]["subject"].startswith("tier tier2")
    assert any("absence_rate" in b for b in explanation["tier"]["because"])
    # the counterfactual, by hand: (7 + x) / (60 + x) >= 20% from x = 6.25, so 7 more absences
    assert explanation["next_tier"].startswith("7 more unexcused absences")


def test_a_student_missing_a_fact_gets_the_cli_code(open_server: Served) -> None:
    with open_server.client() as c:
        r = c.post("/v1/evaluate", json={"facts": {"student_id": "s9"}, "as_of": DAY})
    assert r.status_code == 422
    error = r.json()["error"]
    assert (error["code"], error["field"], error["student_id"]) == (
        "facts.missing",
        "days_enrolled",
        "s9",
    )


def test_unknown_rule_set_and_bad_date(open_server: Served) -> None:
    with open_server.client() as c:
        unknown = c.post("/v1/evaluate", json={"facts": TIER2, "as_of": DAY, "ruleset": "zz"})
        bad_day = c.post("/v1/evaluate", json={"facts": TIER2, "as_of": "2025-13-01"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "serve.not_found"
    assert "'ca', 'mtss'" in unknown.json()["error"]["message"]
    assert bad_day.status_code == 400
    assert bad_day.json()["error"]["code"] == "serve.bad_request"


def test_a_batch_as_json_lines_keeps_order_and_reports_rejects(open_server: Served) -> None:
    body = "\n".join([json.dumps(TIER2), "not json", json.dumps({"student_id": "x"}), "", ""])
    body += json.dumps(TIER3) + "\n" + json.dumps(TIER1)  # no newline at the end
    with open_server.client() as c:
        r = c.post(f"/v1/evaluate/batch?as_of={DAY}", content=body, headers=NDJSON)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lines = _lines(r.text)
    assert [(x.get("source"), x.get("decision", {}).get("tier")) for x in lines[:-1]] == [  # type: ignore[union-attr]
        ("request.jsonl:1", "tier2"),
        ("request.jsonl:2", None),
        ("request.jsonl:3", None),
        ("request.jsonl:5", "tier3"),
        ("request.jsonl:6", "tier1"),
    ]
    assert lines[1]["error"]["code"] == "ingest.invalid_json"  # type: ignore[index]
    assert lines[2]["error"]["code"] == "facts.missing"  # type: ignore[index]
    summary = lines[-1]["summary"]
    assert (summary["read"], summary["accepted"], summary["rejected"]) == (5, 3, 2)  # type: ignore[index]
    assert summary["ruleset"]["id"] == "mtss"  # type: ignore[index]


def test_a_batch_as_a_json_array_with_explanations(open_server: Served) -> None:
    with open_server.client() as c:
        r = c.post(f"/v1/evaluate/batch?as_of={DAY}&ruleset=mtss&explain=true", json=[TIER1, TIER3])
    lines = _lines(r.text)
    assert [x["decision"]["tier"] for x in lines[:-1]] == ["tier1", "tier3"]  # type: ignore[index]
    assert [x["source"] for x in lines[:-1]] == ["request.json[0]", "request.json[1]"]
    assert all("explanation" in x for x in lines[:-1])


def test_a_batch_is_read_as_it_arrives_in_small_chunks(open_server: Served) -> None:
    count = 3000

    def chunks() -> Iterator[bytes]:
        for i in range(count):
            facts = {"student_id": f"s{i}", "days_enrolled": 60, "days_absent": i % 20}
            yield (json.dumps(facts) + "\n").encode()

    with (
        open_server.client() as c,
        c.stream("POST", f"/v1/evaluate/batch?as_of={DAY}", content=chunks(), headers=NDJSON) as r,
    ):
        lines = [json.loads(line) for line in r.iter_lines() if line]
    tiers = [x["decision"]["tier"] for x in lines[:-1]]
    # by hand: absences 0-2 of 60 are under 5%, 3-11 under 20%, 12-19 at 20% or more
    expected = [
        "tier1" if i % 20 < 3 else "tier2" if i % 20 < 12 else "tier3" for i in range(count)
    ]
    assert tiers == expected
    assert lines[-1]["summary"]["accepted"] == count


def test_a_client_that_sends_everything_before_reading_is_answered(
    open_server: Served,
) -> None:
    # Most clients do this. 20,000 records of a kilobyte are more than the loopback's socket
    # buffers hold, so a server that reads on only while its answer is taken would wait for
    # the client and the client for it (as it did, at 20,000 students of ca).
    count = 20_000
    pad = "x" * 1000
    body = "".join(
        json.dumps({"student_id": f"s{i}{pad}", "days_enrolled": 60, "days_absent": i % 20}) + "\n"
        for i in range(count)
    )
    with open_server.client() as c:
        r = c.post(f"/v1/evaluate/batch?as_of={DAY}", content=body.encode(), headers=NDJSON)
    lines = r.text.splitlines()
    assert len(lines) == count + 1
    assert json.loads(lines[-1])["summary"]["accepted"] == count
    assert json.loads(lines[12])["decision"]["tier"] == "tier3"  # 12 of 60: 20%, by hand


def test_a_batch_of_another_media_type_is_refused(open_server: Served) -> None:
    with open_server.client() as c:
        r = c.post(
            f"/v1/evaluate/batch?as_of={DAY}",
            content=b"a,b\n",
            headers={"content-type": "text/csv"},
        )
    assert r.status_code == 415
    assert r.json()["error"]["code"] == "serve.unsupported_media"


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path]]:
    folder = tmp_path_factory.mktemp("logged")
    log = folder / "decisions.jsonl"
    config = ServerConfig(rulesets=("mtss",), tokens=tokens_file(folder), decision_log=str(log))
    with serving(config) as served:
        yield served, log


def test_without_the_personal_scope_student_ids_are_masked(logged: tuple[Served, Path]) -> None:
    served, _ = logged
    with served.client(**auth("evaluator")) as c:
        one = c.post("/v1/evaluate", json={"facts": TIER2, "as_of": DAY, "explain": True}).json()
        again = c.post("/v1/evaluate", json={"facts": TIER2, "as_of": DAY}).json()
        batch = _lines(
            c.post(f"/v1/evaluate/batch?as_of={DAY}", json=[TIER2, {"student_id": "s1"}]).text
        )
    with served.client(**auth("root")) as c:
        shown = c.post("/v1/evaluate", json={"facts": TIER2, "as_of": DAY}).json()
    masked = one["decision"]["student_id"]
    assert masked.startswith("anon-") and "s1" not in json.dumps(one)
    assert again["decision"]["student_id"] == masked  # stable: records can be told apart
    assert batch[0]["decision"]["student_id"] == masked
    assert batch[1]["error"]["student_id"] == masked
    assert shown["decision"]["student_id"] == "s1"


def test_the_decision_log_has_hash_digest_outcome_and_masked_ids(
    logged: tuple[Served, Path],
) -> None:
    served, log = logged
    with served.client(**auth("evaluator")) as c:
        r = c.post(
            "/v1/evaluate",
            json={"facts": TIER3, "as_of": DAY},
            headers={"X-Request-ID": "req-77"},
        )
    assert r.status_code == 200
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    entry = next(e for e in entries if e["request_id"] == "req-77")
    assert entry["ruleset"]["content_hash"] == r.json()["ruleset"]["content_hash"]
    assert entry["outcome"]["tier"] == "tier3"
    assert entry["student_id"].startswith("anon-")
    assert entry["facts_digest"].startswith("sha256:") and len(entry["facts_digest"]) == 71
    assert entry["latency_ms"] >= 0
    assert "s2" not in log.read_text()


def test_a_batch_split_anywhere_reads_as_the_file_would(
    open_server: Served, tmp_path: Path
) -> None:
    """Chunks cut inside a line and inside a character, CRLF ends, a blank line, a byte that
    is not UTF-8: the server's records, sources and reject codes are the file reader's."""
    body = (
        b"\xef\xbb\xbf"  # a byte order mark: dropped at the start
        b'{"student_id": "\xc3\xa9l\xc3\xa8ve", "days_enrolled": 60, "days_absent": 7}\r\n'
        b'{"student_id": "s4", "days_enrolled": 60, "days_absent": 2}\r'  # a lone CR ends it
        b"\r\n"
        b'{"student_id": "s\xff", "days_enrolled": 60, "days_absent": 13}\n'
        b'{"student_id": "s3", "days_enrolled": 60, "days_absent": 1}'
    )
    path = tmp_path / "request.jsonl"
    path.write_bytes(body)
    report = tierflow.DataReport()
    ruleset = tierflow.load_ruleset("mtss")
    as_of = dt.date.fromisoformat(DAY)
    expected = [
        (r.source, d.student_id, d.tier)
        for r, d in evaluate_records(
            ruleset, read_facts(path, report=report), as_of=as_of, report=report
        )
    ]
    expected_rejects = [(x.source, x.code) for x in report.rejects]
    assert expected_rejects and len(expected) == 3  # the bad byte's line, and three decided
    inside = (body.index(b"\xa9"), body.index(b"\r\n") + 1, body.index(b"\r\r") + 1)
    for cut in sorted({*range(1, len(body), 5), *inside}):  # inside "é", CRLF, the lone CR
        chunks = [body[:cut], body[cut:]]
        with open_server.client() as c:
            r = c.post(f"/v1/evaluate/batch?as_of={DAY}", content=iter(chunks), headers=NDJSON)
        lines = _lines(r.text)
        got = [
            (x["source"], x["decision"]["student_id"], x["decision"]["tier"])
            for x in lines
            if "decision" in x
        ]
        rejects = [(x["source"], x["error"]["code"]) for x in lines if "error" in x]
        assert (got, rejects) == (
            [(f"request.jsonl:{s.split(':')[1]}", sid, tier) for s, sid, tier in expected],
            [(f"request.jsonl:{s.split(':')[1]}", code) for s, code in expected_rejects],
        ), cut


SPOILT_BODY = (
    b"\xef\xbb\xbf"  # a byte order mark: dropped at the start
    b'{"student_id": "\xc3\xa9l\xc3\xa8ve", "days_enrolled": 60, "days_absent": 7}\r\n'
    b'{"id": "s4"}\r'  # a lone CR ends a line
    b"\r\n\n"
    b'{"student_id": "s\xff"}\n'  # not UTF-8
    b"\xef\xbb\xbf{}\n"  # a byte order mark inside: kept
    b'{"id": "s5"}\r{"id": "s6"}\n'  # a lone CR after the first chunk's lines
    b'{"student_id": "s3"}'
)


def _lines_of(chunks: list[bytes]) -> tuple[list[str], dict[int, tuple[str, str]]]:
    """The server's lines of a body arriving in ``chunks``, and the problems it found."""

    class Arriving:
        def stream(self) -> AsyncIterator[bytes]:
            async def pieces() -> AsyncIterator[bytes]:
                for chunk in chunks:
                    yield chunk

            return pieces()

    async def read() -> tuple[list[str], dict[int, tuple[str, str]]]:
        lines = _arriving(Arriving())  # type: ignore[arg-type]
        return await anyio.to_thread.run_sync(lambda: (list(lines), lines.problems))

    return anyio.run(read)


@pytest.mark.parametrize("cut", range(1, len(SPOILT_BODY)))
def test_a_body_cut_anywhere_has_the_file_readers_lines(cut: int) -> None:
    """Cut anywhere (in a character, between CR and LF), in two or three chunks: the same
    lines and the same spoilt line numbers as TextLines reading the whole body as a file."""
    reader = TextLines(io.BytesIO(SPOILT_BODY))
    want = [line.rstrip("\r\n") for line in reader]
    assert len(want) == 9 and set(reader.problems) == {5}
    body = SPOILT_BODY
    for chunks in ([body[:cut], body[cut:]], [body[: cut // 2], body[cut // 2 : cut], body[cut:]]):
        got, problems = _lines_of([c for c in chunks if c])
        assert [line.rstrip("\r\n") for line in got] == want, chunks
        assert problems == reader.problems, chunks


def test_a_line_too_long_is_cut_as_a_file_reader_cuts_it_and_never_held_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 3 MiB line in 64 KiB chunks: the file reader's lines and its ingest.too_long, while
    at most the line limit and a chunk of it are held (joining every chunk to the held text,
    as before, copied a long line once a chunk: a line of 200 MiB took 110 s to answer)."""
    long_line = b'{"student_id": "long", "pad": "' + b"x" * (3 * MAX_LINE_BYTES) + b'"}\n'
    body = b'{"student_id": "a"}\n' + long_line + b'{"student_id": "b"}\n'
    reader = TextLines(io.BytesIO(body))
    want = [line.rstrip("\r\n") for line in reader]
    assert [code for code, _ in reader.problems.values()] == ["ingest.too_long"]
    held: list[int] = []
    hold = LineBlocks._hold

    def watched(self: LineBlocks, piece: bytes) -> None:
        hold(self, piece)
        held.append(self._held)

    monkeypatch.setattr(LineBlocks, "_hold", watched)
    step = 64 * 1024
    got, problems = _lines_of([body[i : i + step] for i in range(0, len(body), step)])
    assert [line.rstrip("\r\n") for line in got] == want
    assert problems == reader.problems
    assert held and max(held) <= MAX_LINE_BYTES + step


def test_the_answer_is_no_longer_made_once_the_client_has_gone() -> None:
    """The answer is made in one worker thread; when sending to the client fails (it went
    away), the maker stops at its next block and closes the reader, instead of deciding the
    rest of the batch for nobody (10,000 blocks of 1 ms each here: 10 s if it went on)."""
    made: list[int] = []
    closed = threading.Event()

    def blocks() -> Iterator[bytes]:
        try:
            for i in range(10_000):
                made.append(i)
                time.sleep(0.001)
                yield b'{"n": %d}\n' % i
        finally:
            closed.set()

    async def serve() -> None:
        sent: list[bytes] = []

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.body":
                sent.append(message["body"])  # type: ignore[arg-type]
                if len(sent) == 3:
                    raise OSError("the client closed the connection")

        async def receive() -> dict[str, object]:
            raise AssertionError("the body is the reader's, not the response's")

        response = _Stream(blocks(), media_type="application/x-ndjson")
        with pytest.raises(OSError):
            await response({"type": "http"}, receive, send)  # type: ignore[arg-type]
        assert sent == [b'{"n": 0}\n', b'{"n": 1}\n', b'{"n": 2}\n']
        for _ in range(500):  # the server (its event loop) lives on: wait up to 5 s
            if closed.is_set():
                break
            await anyio.sleep(0.01)

    anyio.run(serve)
    assert closed.is_set(), "the maker went on deciding after the client went away"
    assert len(made) < 1_000
