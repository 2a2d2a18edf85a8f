"""The store keeps each event's rule set identity, and only that: never a path (issue 13)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import tierflow
from stores import one_student_store
from tierflow.store import SqlRepository

PLAYBOOK = 'id: riverside-usd\nname: Riverside USD\nversion: "1"\nextends: ca\n'


def test_events_keep_the_rule_set_id_version_and_content_hash(tmp_path: Path) -> None:
    playbook = tmp_path / "riverside-usd.yaml"
    playbook.write_text(PLAYBOOK)
    ruleset = tierflow.load_ruleset(str(playbook))
    db = tmp_path / "records.db"
    one_student_store(db, ruleset)
    with SqlRepository(db) as repo:
        refs = {e.ruleset for e in repo.events("c1") if e.ruleset is not None}
    assert refs == {ruleset.ref}
    (ref,) = refs
    # What the playbook file says, read here from the file itself.
    assert (ref.id, ref.version) == ("riverside-usd", "1")
    assert len(ref.content_hash) == len(hashlib.sha256().hexdigest())
    # The file's name and folder are in no row: a row cannot make tierflow open a file.
    raw = b"".join(f.read_bytes() for f in tmp_path.glob("records.db*"))  # with any WAL
    assert b"riverside-usd" in raw  # the id is there, so the search below does look
    assert str(tmp_path).encode() not in raw and b"riverside-usd.yaml" not in raw
