"""Progress on standard error for long work, through library hooks; ``--version`` (issue 13)."""

from __future__ import annotations

import io
import json
from importlib.metadata import version
from pathlib import Path

import pytest

from tierflow.cli import main
from tierflow.store import SqlRepository, verify


def _facts(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "facts.jsonl"
    path.write_text(
        "".join(
            json.dumps({"student_id": f"s{i}", "days_enrolled": 50, "days_absent": i % 9}) + "\n"
            for i in range(n)
        )
    )
    return path


def test_version_is_the_package_metadata_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"tierflow {version('tierflow')}\n"


def test_evaluate_is_quiet_when_stderr_is_not_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _facts(tmp_path, 30)
    assert main(["evaluate", "-r", "mtss", "--as-of", "2025-11-03", str(path)], io.StringIO()) == 0
    assert capsys.readouterr().err == "read 30 records: 30 evaluated, 0 rejected\n"


def test_progress_forced_on_shows_the_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _facts(tmp_path, 30)
    argv = ["evaluate", "-r", "mtss", "--as-of", "2025-11-03", str(path), "--progress"]
    assert main(argv, io.StringIO()) == 0
    err = capsys.readouterr().err
    # rich draws a bar that removes itself; without rich, a counting line. Either way the
    # 30 lines of the file are the total, and the summary ends the output.
    assert err.endswith("read 30 records: 30 evaluated, 0 rejected\n")
    assert "30" in err.split("read 30 records")[0]


def test_quiet_wins_over_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _facts(tmp_path, 30)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Terminal()
    monkeypatch.setattr("sys.stderr", err)
    argv = ["evaluate", "-r", "mtss", "--as-of", "2025-11-03", str(path), "--quiet"]
    assert main(argv, io.StringIO()) == 0
    assert err.getvalue() == "read 30 records: 30 evaluated, 0 rejected\n"


@pytest.mark.slow
def test_verify_reports_progress_to_a_host_callback(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    assert main(["demo", "--db", str(db), "--letters", str(tmp_path / "l")], io.StringIO()) == 0
    seen: list[tuple[int, int]] = []
    with SqlRepository(db) as repo:
        assert verify(repo, progress=lambda done, total: seen.append((done, total))) == []
    # The demo stores 1,200 students (tests/cli/test_demo.py): each is checked, then replayed.
    assert seen[-1] == (2_400, 2_400)
    assert [done for done, _ in seen] == list(range(1, 2_401))


@pytest.mark.slow
def test_audit_verify_with_progress_still_prints_its_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.db"
    assert main(["demo", "--db", str(db), "--letters", str(tmp_path / "l")], io.StringIO()) == 0
    out = io.StringIO()
    assert main(["audit", "verify", str(db), "--progress"], out) == 0
    assert "1,200 student chains verified" in out.getvalue()
    assert main(["audit", "verify", str(db), "--quiet"], io.StringIO()) == 0


def test_without_rich_a_counting_line_shows_the_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "rich.progress", None)  # as if rich were not installed
    path = _facts(tmp_path, 30)
    argv = ["evaluate", "-r", "mtss", "--as-of", "2025-11-03", str(path), "--progress"]
    assert main(argv, io.StringIO()) == 0
    # Redrawn at every record of so small a file, in place; the line ends before the summary.
    drawn = "".join(f"\rrecords evaluated: {i} of 30" for i in range(1, 31))
    assert capsys.readouterr().err == drawn + "\nread 30 records: 30 evaluated, 0 rejected\n"
