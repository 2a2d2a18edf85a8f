"""``tierflow serve`` against the library in-process: latency and batch throughput (issue 18).

Starts ``tierflow serve --ruleset ca`` as its own process on a free loopback port (no tokens:
the open server, every scope) and measures, on the same generated students
(:func:`tierflow._sample.generate_facts`, seeded):

* **single-student latency**: ``POST /v1/evaluate`` one student at a time (p50, p99), then
  from a bounded local load generator (``--clients`` threads, each with its own connection,
  each sending its share of the requests back to back): p50, p99 and requests per second;
* **batch throughput**: ``POST /v1/evaluate/batch`` with the students as JSON Lines, the
  answer read whole, against ``evaluate_many`` in this process writing the same lines
  (:class:`tierflow.server._serialize.DecisionLines`) from the facts as dicts; against the
  same from the JSON Lines text (``read_facts``, what the server itself must do: the fair
  floor for a host that has the records as text); and against ``evaluate_many`` alone.
  The batch rounds alternate server / in-process (``--rounds``), wall time (the server is
  another process: its CPU is not this one's); the ratio is per student, median of the
  rounds with their spread. Issue 18's target: the batch within 2x of in-process.

Before anything is timed, the server's decisions must equal the in-process ones, student by
student (tier, interventions, legal steps): a benchmark of wrong answers measures nothing.

Usage::

    python benchmarks/bench_serve.py                 # 20,000 students, 2,000 single requests
    python benchmarks/bench_serve.py --quick         # small sizes (what the test runs)
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx

import tierflow
from tierflow._sample import generate_facts
from tierflow.errors import DataReport
from tierflow.ingest import read_facts
from tierflow.pipeline import evaluate_records
from tierflow.server._serialize import DecisionLines

AS_OF = dt.date(2025, 11, 3)
RULESET = "ca"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def served(ruleset: str) -> Iterator[str]:
    """``tierflow serve`` in its own process; its base URL until the block ends."""
    port = _free_port()
    exe = shutil.which("tierflow") or os.path.join(os.path.dirname(sys.executable), "tierflow")
    with tempfile.TemporaryFile() as log:  # not a pipe: a full pipe would stall the server
        proc = subprocess.Popen(
            [exe, "serve", "--ruleset", ruleset, "--port", str(port), "--max-batch", str(2**30)],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    err = log.read().decode(errors="replace")
                    raise RuntimeError(f"tierflow serve did not start: {err[-2000:]}")
                time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def students(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` generated students' facts, JSON-ready (dates as ISO text)."""
    out = []
    for facts in generate_facts(n, seed=seed):
        out.append(json.loads(json.dumps(facts, default=str)))
    return out


def _outcome(decision: dict[str, Any]) -> tuple[Any, ...]:
    return (
        decision["student_id"],
        decision["tier"],
        tuple(i["id"] for i in decision["interventions"]),
        tuple((a["step"], a["status"]) for a in decision["legal_actions"]),
    )


def batch_by_server(client: httpx.Client, body: bytes) -> str:
    """The batch's answer as text (its decision lines, then the summary line).

    Timed as it is: the text, not its lines parsed. The in-process side writes the same text
    and parses nothing, and reading 20,000 lines back into dictionaries costs the client
    about 35 µs a student, more than the server takes to decide and write them.
    """
    r = client.post(
        "/v1/evaluate/batch",
        params={"as_of": AS_OF.isoformat(), "ruleset": RULESET},
        content=body,
        headers={"Content-Type": "application/x-ndjson"},
    )
    r.raise_for_status()
    return r.text


def decision_lines(text: str) -> list[dict[str, Any]]:
    """A batch answer's decision lines, parsed (the summary line left out)."""
    return [json.loads(line) for line in text.splitlines() if '"summary"' not in line[:12]]


def batch_in_process(
    ruleset: tierflow.CompiledRuleset,
    records: Sequence[dict[str, Any]],
    lines: DecisionLines | None = None,
) -> str:
    """The same lines, written in this process (what a Python host would do).

    ``lines`` is the writer, kept from round to round as the server keeps its own.
    """
    lines = lines or DecisionLines(None)
    return "".join(
        lines.line(f"request.jsonl:{i}", d)
        for i, d in enumerate(ruleset.evaluate_many(records, as_of=AS_OF), 1)
    )


def parsed_in_process(
    ruleset: tierflow.CompiledRuleset, body: bytes, lines: DecisionLines | None = None
) -> str:
    """The lines from the JSON Lines text, as the server reads it, in this process."""
    kinds = {n: decl.type for n, decl in ruleset.spec.facts.extra.items()}
    report = DataReport()
    stream = io.TextIOWrapper(io.BytesIO(body))  # read as bytes, as the server reads it
    records = read_facts("request.jsonl", stream=stream, extra_kinds=kinds, report=report)
    lines = lines or DecisionLines(None)
    return "".join(
        lines.line(r.source, d)
        for r, d in evaluate_records(ruleset, records, as_of=AS_OF, report=report)
    )


def agree(ruleset: tierflow.CompiledRuleset, url: str, records: Sequence[dict[str, Any]]) -> str:
    """Text naming the first disagreement between server and library, or ""."""
    body = "".join(json.dumps(r) + "\n" for r in records).encode()
    with httpx.Client(base_url=url, timeout=600) as client:
        served_lines = decision_lines(batch_by_server(client, body))
        one = client.post(
            "/v1/evaluate", json={"facts": records[0], "as_of": AS_OF.isoformat()}
        ).json()
    mine = [json.loads(line) for line in batch_in_process(ruleset, records).splitlines()]
    if len(served_lines) != len(mine):
        return f"the server answered {len(served_lines)} lines, the library {len(mine)}"
    for got, want in zip(served_lines, mine, strict=True):
        if _outcome(got["decision"]) != _outcome(want["decision"]):
            return f"student {want['decision']['student_id']}: {got} != {want}"
    if _outcome(one["decision"]) != _outcome(mine[0]["decision"]):
        return f"/v1/evaluate disagrees on {records[0]['student_id']}"
    return ""


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def single(url: str, records: Sequence[dict[str, Any]], clients: int) -> dict[str, Any]:
    """Latency one at a time, then under ``clients`` concurrent connections."""
    with httpx.Client(base_url=url, timeout=60) as client:
        alone = []
        for facts in records:
            started = time.perf_counter()
            client.post("/v1/evaluate", json={"facts": facts, "as_of": AS_OF.isoformat()})
            alone.append(time.perf_counter() - started)
    loaded: list[float] = []
    lock = threading.Lock()

    def worker(share: Sequence[dict[str, Any]]) -> None:
        mine = []
        with httpx.Client(base_url=url, timeout=60) as c:
            for facts in share:
                started = time.perf_counter()
                r = c.post("/v1/evaluate", json={"facts": facts, "as_of": AS_OF.isoformat()})
                r.raise_for_status()
                mine.append(time.perf_counter() - started)
        with lock:
            loaded.extend(mine)

    threads = [threading.Thread(target=worker, args=(records[i::clients],)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {
        "alone": _percentiles(alone),
        "loaded": _percentiles(loaded),
        "per_second": len(loaded) / wall,
    }


def batches(
    ruleset: tierflow.CompiledRuleset, url: str, records: Sequence[dict[str, Any]], rounds: int
) -> dict[str, list[float]]:
    """Wall seconds of each side, rounds alternating server / in-process / evaluate alone.

    A round is run untimed first, so that every round times writers that have seen the
    batch's outcomes (the server's and the two in-process ones alike).
    """
    body = "".join(json.dumps(r) + "\n" for r in records).encode()
    times: dict[str, list[float]] = {
        "server": [],
        "in-process": [],
        "parsed here": [],
        "evaluate alone": [],
    }
    # One writer a side, kept across rounds, as the server keeps one across requests (its
    # cached outcomes are what a long-running host would have too).
    lines, parsed_lines = DecisionLines(None), DecisionLines(None)
    with httpx.Client(base_url=url, timeout=600) as client:
        batch_by_server(client, body)  # a round untimed: every side has seen these outcomes
        batch_in_process(ruleset, records, lines)
        parsed_in_process(ruleset, body, parsed_lines)
        for _ in range(rounds):
            started = time.perf_counter()
            batch_by_server(client, body)
            times["server"].append(time.perf_counter() - started)
            started = time.perf_counter()
            batch_in_process(ruleset, records, lines)
            times["in-process"].append(time.perf_counter() - started)
            started = time.perf_counter()
            parsed_in_process(ruleset, body, parsed_lines)
            times["parsed here"].append(time.perf_counter() - started)
            started = time.perf_counter()
            for _ in ruleset.evaluate_many(records, as_of=AS_OF):
                pass
            times["evaluate alone"].append(time.perf_counter() - started)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=20_000, help="students in the batch")
    parser.add_argument("--singles", type=int, default=2_000, help="single-student requests")
    parser.add_argument("--clients", type=int, default=4, help="concurrent connections")
    parser.add_argument("--rounds", type=int, default=5, help="alternating batch rounds")
    parser.add_argument("--quick", action="store_true", help="small sizes (for the test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.students, args.singles, args.clients, args.rounds = 300, 40, 2, 1
    ruleset = tierflow.load_ruleset(RULESET)
    records = students(args.students)
    with served(RULESET) as url:
        wrong = agree(ruleset, url, records[: min(len(records), 2_000)])
        if wrong:
            print(f"MISMATCH: {wrong}")
            return 1
        print(
            f"tierflow serve --ruleset {RULESET} on {url}: "
            "the server's decisions equal the library's"
        )
        s = single(url, records[: args.singles], args.clients)
        b = batches(ruleset, url, records, args.rounds)
    n = len(records)
    print(
        f"single student, {args.singles:,} requests one at a time: "
        f"p50 {s['alone'][0] * 1e3:.2f} ms, p99 {s['alone'][1] * 1e3:.2f} ms"
    )
    print(
        f"  {args.clients} concurrent connections: p50 {s['loaded'][0] * 1e3:.2f} ms, "
        f"p99 {s['loaded'][1] * 1e3:.2f} ms, {s['per_second']:,.0f} requests/s"
    )
    print(f"batch of {n:,} students as JSON Lines, {args.rounds} alternating rounds (wall):")
    for side, seconds in b.items():
        med = statistics.median(seconds)
        print(
            f"  {side:<16} {med:8.3f} s  {med / n * 1e6:8.1f} us a student  "
            f"{n / med:10,.0f} students/s"
        )
    ratios = [a / c for a, c in zip(b["server"], b["in-process"], strict=True)]
    parsed = [a / c for a, c in zip(b["server"], b["parsed here"], strict=True)]
    alone = [a / c for a, c in zip(b["server"], b["evaluate alone"], strict=True)]
    print(
        f"  server / in-process (same lines): {statistics.median(ratios):.2f}x "
        f"({min(ratios):.2f}-{max(ratios):.2f}x); target <= 2x"
    )
    print(
        f"  server / in-process from the same JSON Lines: {statistics.median(parsed):.2f}x "
        f"({min(parsed):.2f}-{max(parsed):.2f}x)"
    )
    print(
        f"  server / evaluate_many alone:     {statistics.median(alone):.2f}x "
        f"({min(alone):.2f}-{max(alone):.2f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
