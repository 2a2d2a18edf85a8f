"""``extends`` reaches only the built-ins and the folders the caller allows (issue 10, item 2).

A playbook handed over by someone else must not make tierflow read any file its author likes: a
file outside the loaded rule set's folder tree is refused before it is opened (so nothing of it
is echoed in the error), and a FIFO or device is refused without blocking on it.
"""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import pytest

import tierflow
from tierflow.cli import main

HEAD = 'id: {id}\nname: N\nversion: "1"\n'
TIERS = (
    "tiers:\n  - {id: t2, level: 2, when: absence_rate >= 10%}\n"
    "  - {id: t1, level: 1, default: true}\n"
)
SECRET = "password: SECRET-hunter2\n"
"""What a file outside the tree holds: an error about it must not show it."""


def child(extends: str, ruleset_id: str = "child") -> str:
    return HEAD.format(id=ruleset_id) + f"extends: {extends!r}\n"


def codes(exc: pytest.ExceptionInfo[tierflow.RulesetError]) -> list[str]:
    assert "SECRET" not in str(exc.value)
    return exc.value.codes


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """``tmp/playbooks`` (the tree) beside ``tmp/outside.yaml``, a valid rule set plus a secret."""
    (tmp_path / "outside.yaml").write_text(HEAD.format(id="outside") + TIERS + SECRET)
    root = tmp_path / "playbooks"
    (root / "schools").mkdir(parents=True)
    (root / "district.yaml").write_text(HEAD.format(id="district") + TIERS)
    return root


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink", "symlinked-folder"])
def test_a_parent_outside_the_tree_is_refused_unread(how: str, tree: Path) -> None:
    outside = tree.parent / "outside.yaml"
    if how == "dotdot":
        target = "../outside.yaml"
    elif how == "absolute":
        target = str(outside)
    elif how == "symlink":
        (tree / "inside.yaml").symlink_to(outside)
        target = "inside.yaml"
    else:
        (tree / "linked").symlink_to(tree.parent, target_is_directory=True)
        target = "linked/outside.yaml"
    (tree / "main.yaml").write_text(child(target))
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.load_ruleset(tree / "main.yaml")
    assert codes(info) == ["extends.outside"]
    assert info.value.problems[0].span.line == 4


def test_the_tree_and_the_built_ins_are_allowed(tree: Path) -> None:
    # A chain may go down and back up inside the tree, and end on a built-in.
    (tree / "schools" / "mid.yaml").write_text(child("../district.yaml", "mid"))
    (tree / "district.yaml").write_text(child("mtss", "district"))
    (tree / "main.yaml").write_text(child("schools/mid.yaml"))
    rs = tierflow.load_ruleset(tree / "main.yaml")
    assert [Path(f).name for f in rs.files] == [
        "mtss.yaml (built-in)",
        "district.yaml",
        "mid.yaml",
        "main.yaml",
    ]


def test_extends_roots_allow_another_folder(tree: Path) -> None:
    school = tree / "schools" / "lincoln.yaml"
    school.write_text(child("../district.yaml", "lincoln"))
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.load_ruleset(school)  # its own tree is schools/
    assert codes(info) == ["extends.outside"]
    assert tierflow.load_ruleset(school, extends_roots=[tree]).id == "lincoln"
    text = school.read_text()
    assert tierflow.parse_ruleset(text, base_dir=tree / "schools", extends_roots=[tree]).id
    # ... and only that folder: the file beside it is still out of reach.
    school.write_text(child("../../outside.yaml", "lincoln"))
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.load_ruleset(school, extends_roots=[tree])
    assert codes(info) == ["extends.outside"]


def test_text_without_base_dir_may_extend_only_built_ins(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before, a relative path resolved from the working directory.
    monkeypatch.chdir(tree)
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.parse_ruleset(child("district.yaml"))
    assert codes(info) == ["extends.outside"]
    assert tierflow.parse_ruleset(child("ca")).id == "child"


def test_a_fifo_is_refused_without_blocking(tree: Path) -> None:
    fifo = tree / "pipe.yaml"
    os.mkfifo(fifo)
    # Should the loader open the FIFO, this writer feeds it (so the test fails, never hangs).
    feed = HEAD.format(id="fed") + TIERS + SECRET

    def writer() -> None:
        with fifo.open("w") as fh:
            fh.write(feed)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    (tree / "main.yaml").write_text(child("pipe.yaml"))
    try:
        for load in (
            lambda: tierflow.load_ruleset(tree / "main.yaml"),
            lambda: tierflow.load_ruleset(fifo),
        ):
            with pytest.raises(tierflow.RulesetError) as info:
                load()
            assert codes(info) == ["load.unreadable"]
            assert "a FIFO (named pipe), not a regular file" in str(info.value)
    finally:
        # Let the writer's open return: a reader that does not block, then drain it.
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        thread.join()
        os.close(fd)


@pytest.mark.parametrize("target", ["schools/", "./schools"])
def test_a_folder_is_refused(target: str, tree: Path) -> None:
    (tree / "main.yaml").write_text(child(target))
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.load_ruleset(tree / "main.yaml")
    assert codes(info) == ["load.unreadable"]
    assert "it is a folder, not a regular file" in str(info.value)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_device_named_directly_is_refused_unread() -> None:
    # Before, /dev/zero was read up to the size limit and reported as YAML.
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.load_ruleset("/dev/zero")
    assert codes(info) == ["load.unreadable"]
    assert "a character device, not a regular file" in str(info.value)


def test_a_nul_character_is_a_load_error_not_a_crash(tree: Path) -> None:
    (tree / "main.yaml").write_text(HEAD.format(id="main") + 'extends: "a\\0.yaml"\n')
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.load_ruleset(tree / "main.yaml")
    assert codes(info) == ["extends.invalid"]
    with pytest.raises(tierflow.RulesetError) as info:
        tierflow.load_ruleset(str(tree / "a\0.yaml"))
    assert codes(info) == ["load.unreadable"]
    text = HEAD.format(id="nul") + TIERS
    assert tierflow.parse_ruleset(text, name="x\0.yaml", base_dir=tree).id == "nul"


def test_the_command_line_allows_a_folder_with_extends_root(tree: Path) -> None:
    school = tree / "schools" / "lincoln.yaml"
    school.write_text(child("../district.yaml", "lincoln"))
    out = io.StringIO()
    assert main(["check", str(school)], out) == 1
    assert ":4:10: extends.outside: '../district.yaml' is outside" in out.getvalue()
    out = io.StringIO()
    assert main(["check", "--extends-root", str(tree), str(school)], out) == 0
    # Checking a folder allows the folder's whole tree to the files found in it.
    out = io.StringIO()
    assert main(["check", str(tree)], out) == 0, out.getvalue()
