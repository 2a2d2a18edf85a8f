"""``export`` and a district's rule set: never loaded from the store, checked by hash (issue 13)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import tierflow
from stores import one_student_store
from tierflow.cli import main

PLAYBOOK = 'id: riverside-usd\nname: Riverside USD\nversion: "1"\nextends: ca\n'


def _records(tmp_path: Path) -> tuple[Path, Path]:
    """A store of one student run through a district playbook kept in a file."""
    playbook = tmp_path / "riverside-usd.yaml"
    playbook.write_text(PLAYBOOK)
    db = tmp_path / "records.db"
    one_student_store(db, tierflow.load_ruleset(str(playbook)))
    return playbook, db


def _export(command: str, db: Path, *extra: str) -> tuple[int, str]:
    out = io.StringIO()
    argv = ["export", command, *(["c1"] if command == "packet" else []), "--db", str(db)]
    return main([*argv, "--format", "json", *extra], out), out.getvalue()


@pytest.mark.parametrize("command", ["packet", "compliance"])
def test_a_district_rule_set_is_not_found_in_the_store_exit_2_says_pass_r(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    playbook, db = _records(tmp_path)
    status, out = _export(command, db)
    err = capsys.readouterr().err
    assert (status, out) == (2, "")
    assert "'riverside-usd', which is not built in" in err and "pass -r FILE" in err
    # No attempt to open a file named after the id (the store is untrusted).
    assert "load.not_found" not in err
    status, out = _export(command, db, "-r", str(playbook))
    assert status == 0 and json.loads(out)
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize("command", ["packet", "compliance"])
def test_a_rule_set_whose_content_differs_from_the_records_is_said(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    playbook, db = _records(tmp_path)
    recorded = tierflow.load_ruleset(str(playbook)).ref
    playbook.write_text(PLAYBOOK.replace('version: "1"', 'version: "2"'))
    edited = tierflow.load_ruleset(str(playbook)).ref
    status, _ = _export(command, db, "-r", str(playbook))
    err = capsys.readouterr().err
    assert status == 0
    assert f"the records were made with rule set {recorded}; citing {edited}" in err
    assert recorded.content_hash[:12] in err and edited.content_hash[:12] in err
