"""The documentation is tested like code.

Python examples (```pycon blocks) run as doctests through pytest's ``--doctest-glob``. This module
checks the rest: every YAML rule set shown compiles and its inline tests pass (a block marked
``<!-- fragment -->`` is a part of one and is only parsed; ``<!-- error: CODE -->`` must fail with
that code), every error code has its section in ``errors.md``, every key of the format is
documented, and every relative link points at a file that exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import tierflow
from tierflow import spec
from tierflow.attendance import AttendancePolicy

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
BLOCK = re.compile(r"(?:<!-- (?P<mark>[^>]*) -->\n)?```yaml\n(?P<body>.*?)```", re.DOTALL)
CODE = re.compile(
    r"""["'](?P<code>(?:yaml|schema|expr|extends|ref|rule|tier|legal|facts|ingest|load|event|"""
    r"""enrollment|calendar)\.[a-z_]+)["']"""
)
LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)#\s]+)(?:#[^)]*)?\)")


def _blocks() -> list[tuple[str, int, str, str]]:
    out = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for m in BLOCK.finditer(text):
            line = text.count("\n", 0, m.start("body")) + 1
            out.append((page.name, line, m["mark"] or "", m["body"]))
    return out


BLOCKS = _blocks()


@pytest.mark.parametrize(
    ("page", "line", "mark", "body"), BLOCKS, ids=[f"{b[0]}:{b[1]}" for b in BLOCKS]
)
def test_yaml_block(page: str, line: int, mark: str, body: str) -> None:
    data = yaml.safe_load(body)
    if mark == "fragment":
        return
    assert isinstance(data, dict) and "id" in data, (
        f"{page}:{line}: a YAML block is a whole rule set, or is marked <!-- fragment -->"
    )
    name = f"{page}:{line}.yaml"
    if mark.startswith("error:"):
        code = mark.split(":", 1)[1].strip()
        with pytest.raises(tierflow.RulesetError) as info:
            tierflow.parse_ruleset(body, name=name, base_dir=ROOT / "rulesets")
        assert code in info.value.codes
        return
    assert mark == "", f"{page}:{line}: unknown marker {mark!r}"
    ruleset = tierflow.parse_ruleset(body, name=name, base_dir=ROOT / "rulesets")
    failures = [r for r in ruleset.run_tests() if not r.passed]
    assert not failures, failures


def test_every_error_code_has_a_section_in_errors_md() -> None:
    codes: set[str] = set()
    for path in (ROOT / "src" / "tierflow").rglob("*.py"):
        codes |= {m["code"] for m in CODE.finditer(path.read_text(encoding="utf-8"))}
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^### `([a-z_]+\.[a-z_]+)`", text, re.MULTILINE))
    assert codes - documented == set(), f"undocumented codes: {sorted(codes - documented)}"
    assert documented - codes == set(), (
        f"documented codes that no longer exist: {documented - codes}"
    )


def _fields(model: type) -> set[str]:
    names = set(getattr(model, "model_fields", {}))
    return names


def test_every_key_of_the_format_is_documented() -> None:
    text = "\n".join(
        (DOCS / name).read_text(encoding="utf-8")
        for name in ("ruleset-format.md", "legal.md", "attendance.md")
    )
    missing = []
    for name in spec.__all__:
        model = getattr(spec, name)
        if not name.endswith("Spec"):
            continue
        for field in _fields(model):
            if f"`{field}`" not in text:
                missing.append(f"{name}.{field}")
    for field in _fields(AttendancePolicy):
        if f"`{field}`" not in text:
            missing.append(f"AttendancePolicy.{field}")
    assert not missing, f"keys not documented: {missing}"


@pytest.mark.parametrize("page", [*PAGES, ROOT / "README.md"], ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    broken = [
        m["target"]
        for m in LINK.finditer(text)
        if "://" not in m["target"] and not (page.parent / m["target"]).exists()
    ]
    assert not broken, f"{page.name}: broken links {broken}"


def test_every_page_is_linked_from_the_index() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    unlinked = [p.name for p in PAGES if p.name != "index.md" and f"({p.name})" not in index]
    assert not unlinked, f"pages missing from docs/index.md: {unlinked}"
