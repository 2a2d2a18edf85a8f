"""``tierflow serve`` from the shell: it listens, and refuses what does not fit together."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from server.served import free_port
from tierflow.cli import main


def test_serve_listens_until_stopped(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "decisions.jsonl"
    command = [sys.executable, "-m", "tierflow.cli", "serve", "-r", "mtss", "--port", str(port)]
    command += ["--decision-log", str(log), "--db", str(tmp_path / "store.db")]
    students = tmp_path / "students.csv"
    students.write_text("student_id,name,birth_date\ns1,Ana Ruiz,2012-03-04\ns2,Ben,03/04/12\n")
    command += ["--students", str(students)]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        assert health.json() == {"status": "ok"}
        facts = {"student_id": "s1", "days_enrolled": 60, "days_absent": 13}  # 21.7%: tier3
        r = httpx.post(
            f"http://127.0.0.1:{port}/v1/evaluate", json={"facts": facts, "as_of": "2025-11-03"}
        )
        assert r.json()["decision"]["tier"] == "tier3"
        assert httpx.get(f"http://127.0.0.1:{port}/ready").status_code == 200
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/v1" in err
    # a record of the names file that cannot be read is told, by file, line and student
    (rejected,) = [line for line in err.splitlines() if line.startswith("rejected:")]
    assert f"{students}:3" in rejected and "s2" in rejected
    assert '"tier":"tier3"' in log.read_text()


def test_another_address_needs_tokens() -> None:
    assert main(["serve", "-r", "mtss", "--host", "0.0.0.0"]) == 2


def test_a_malformed_tokens_file_stops_it(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text("{}")
    assert main(["serve", "-r", "mtss", "--tokens", str(tokens)]) == 2
    assert main(["serve", "-r", "mtss", "--tokens", str(tmp_path / "missing.json")]) == 2


def test_a_rule_set_with_problems_stops_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nname: X\nversion: '1'\ntiers: []\n")
    assert main(["serve", "-r", str(bad)]) == 1
    assert main(["serve", "-r", "mtss", "--max-body", "0"]) == 2
