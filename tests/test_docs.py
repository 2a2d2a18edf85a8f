"""The documentation is tested like code.

Python examples (```pycon blocks) run as doctests through pytest's ``--doctest-glob``. This module
checks the rest:

- every ```yaml block in ``docs/*.md`` is a whole rule set that compiles and whose inline tests
  pass, unless it is marked: ``<!-- fragment -->`` (a part of one: only read as YAML) or
  ``<!-- error: CODE -->`` (it must fail with that code) or ``<!-- warning: CODE -->`` (it loads
  and the analysis reports that code); a ```text block right after either is the exact report,
  the rule set being named ``district.yaml``;
- every error code in the source (a string constant such as ``"ref.unknown_tier"``) has its
  ``### `code` `` section in ``errors.md``, with a fix, and no section documents a code that no
  longer exists;
- every key of the format, every standard fact, every function of the condition language (with
  its exact signature) and every command and option of the CLI is documented;
- every relative link in ``docs/*.md`` and ``README.md`` points at a file that exists, and every
  ``#anchor`` at a heading of that file.
"""

from __future__ import annotations

import argparse
import ast
import doctest
import importlib
import importlib.util
import pkgutil
import re
import textwrap
from pathlib import Path

import pytest
import yaml

import tierflow
from tierflow import spec
from tierflow.analysis import analyze
from tierflow.cli._main import _parser
from tierflow.facts import FACTS
from tierflow.spec import AttendancePolicy

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
BLOCK = re.compile(
    r"(?:<!-- (?P<mark>[^>]*) -->\n)?```yaml\n(?P<body>.*?)```\n"
    r"(?:\n?```text\n(?P<output>.*?)```\n)?",
    re.DOTALL,
)
CODE_CONSTANT = re.compile(r"^[a-z]+\.[a-z_]+$")
SECTION = re.compile(r"^### `(?P<code>[a-z]+\.[a-z_]+)`\n(?P<body>.*?)(?=^#{1,3} |\Z)", re.M | re.S)
LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)#\s]*)(?:#(?P<anchor>[^)\s]*))?\)")
ERROR_NAME = "district.yaml"


def _blocks() -> list[tuple[str, int, str, str, str | None]]:
    out = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for m in BLOCK.finditer(text):
            line = text.count("\n", 0, m.start("body")) + 1
            out.append((page.name, line, (m["mark"] or "").strip(), m["body"], m["output"]))
    return out


BLOCKS = _blocks()


def test_the_docs_hold_yaml_examples() -> None:
    # Guards the pattern above: a change that silently found no blocks would test nothing.
    marks = [b[2] for b in BLOCKS]
    assert marks.count("") >= 5
    assert sum(m.startswith("error:") for m in marks) >= 20
    assert sum(b[4] is not None for b in BLOCKS) >= 20


@pytest.mark.parametrize(
    ("page", "line", "mark", "body", "output"), BLOCKS, ids=[f"{b[0]}:{b[1]}" for b in BLOCKS]
)
def test_yaml_block(page: str, line: int, mark: str, body: str, output: str | None) -> None:
    where = f"{page}:{line}"
    if mark == "fragment":
        yaml.safe_load(body)  # a fragment is still valid YAML
        assert output is None, f"{where}: a fragment has no output"
        return
    if mark.startswith("error:"):
        code = mark.split(":", 1)[1].strip()
        with pytest.raises(tierflow.RulesetError) as info:
            tierflow.parse_ruleset(body, name=ERROR_NAME, base_dir=ROOT / "rulesets")
        assert code in info.value.codes, f"{where}: expected {code}, got {info.value}"
        if output is not None:
            assert str(info.value) == output.strip(), f"{where}: the shown report differs"
        return
    if mark.startswith("warning:"):
        code = mark.split(":", 1)[1].strip()
        ruleset = tierflow.parse_ruleset(body, name=ERROR_NAME, base_dir=ROOT / "rulesets")
        shown = [str(f.as_problem()) for f in analyze(ruleset)]
        assert any(f" {code}: " in line for line in shown), f"{where}: expected {code}: {shown}"
        if output is not None:
            assert "\n".join(shown) == output.strip(), f"{where}: the shown report differs"
        return
    assert mark == "", f"{where}: unknown marker {mark!r}"
    assert output is None, f"{where}: only an error block is followed by its report"
    data = yaml.safe_load(body)
    assert isinstance(data, dict) and "id" in data, (
        f"{where}: a YAML block is a whole rule set, or is marked <!-- fragment -->"
    )
    ruleset = tierflow.parse_ruleset(body, name=f"{where}.yaml", base_dir=ROOT / "rulesets")
    failures = [r for r in ruleset.run_tests() if not r.passed]
    assert not failures, failures


def _source_codes() -> set[str]:
    """Every string constant of the source that looks like an error code."""
    codes: set[str] = set()
    for path in (ROOT / "src" / "tierflow").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and CODE_CONSTANT.match(node.value)
            ):
                codes.add(node.value)
    return codes


def _sections() -> dict[str, str]:
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    return {m["code"]: m["body"] for m in SECTION.finditer(text)}


def test_the_source_scan_finds_codes() -> None:
    codes = _source_codes()
    assert {"yaml.syntax", "expr.unknown_name", "facts.missing", "ingest.invalid_json"} <= codes
    assert len(codes) >= 70


def test_every_error_code_has_a_section_in_errors_md() -> None:
    codes, documented = _source_codes(), set(_sections())
    assert sorted(codes - documented) == [], "codes without a section in docs/errors.md"
    assert sorted(documented - codes) == [], "sections in docs/errors.md for codes no longer used"


@pytest.mark.parametrize("code", sorted(_sections()))
def test_every_error_section_shows_an_example_and_the_fix(code: str) -> None:
    body = _sections()[code]
    assert "**Fix:**" in body, f"{code}: no **Fix:**"
    assert code in body.split("**Fix:**")[0], f"{code}: no example naming the code before the fix"


def test_every_key_of_the_format_is_documented() -> None:
    text = (DOCS / "ruleset-format.md").read_text(encoding="utf-8")
    missing = [
        f"{name}.{field}"
        for name in spec.__all__
        if name.endswith("Spec")
        for field in getattr(spec, name).model_fields
        if f"`{field}`" not in text
    ]
    attendance = (DOCS / "attendance.md").read_text(encoding="utf-8")
    missing += [
        f"AttendancePolicy.{field}"
        for field in AttendancePolicy.model_fields
        if f"`{field}`" not in attendance
    ]
    assert not missing, f"keys not documented: {missing}"


def test_every_standard_fact_is_in_the_facts_table() -> None:
    text = (DOCS / "facts.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([a-z_0-9]+)` \|", text, re.M))
    assert sorted(set(FACTS) - rows) == [], "standard facts missing from the table in facts.md"


def test_every_function_is_documented_with_its_signature() -> None:
    text = (DOCS / "conditions.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^### `([a-z_]+)\(", text, re.M))
    functions = list(tierflow.DEFAULT_FUNCTIONS)
    assert sorted({f.name for f in functions} - headings) == [], "functions without a section"
    assert sorted(headings - {f.name for f in functions}) == [], "sections of unknown functions"
    wrong = [f.signature for f in functions if f"`{f.signature}`" not in text]
    assert wrong == [], "signatures not shown exactly as the registry has them"


def _commands() -> list[tuple[str, argparse.ArgumentParser]]:
    out = []

    def walk(prefix: str, parser: argparse.ArgumentParser) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            out.append((prefix, parser))
        for action in subs:
            for name, child in action.choices.items():
                walk(f"{prefix} {name}".strip(), child)

    walk("", _parser())
    return out


@pytest.mark.parametrize(("command", "parser"), _commands(), ids=[c for c, _ in _commands()])
def test_every_command_and_option_is_in_cli_md(
    command: str, parser: argparse.ArgumentParser
) -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    m = re.search(rf"^## `tierflow {command}`\n(?P<body>.*?)(?=^## |\Z)", text, re.M | re.S)
    assert m, f"no '## `tierflow {command}`' section in cli.md"
    options = {o for a in parser._actions for o in a.option_strings if o not in ("-h", "--help")}
    missing = sorted(o for o in options if f"`{o}" not in m["body"])
    assert missing == [], f"tierflow {command}: options not documented"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # '#' lines in code are no headings
    return {_slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}


@pytest.mark.parametrize("page", [*PAGES, ROOT / "README.md"], ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    broken = []
    for m in LINK.finditer(text):
        target, anchor = m["target"], m["anchor"]
        if "://" in target or target.startswith("mailto:"):
            continue
        path = (page.parent / target) if target else page
        if not path.exists() or (anchor and path.suffix == ".md" and anchor not in _anchors(path)):
            broken.append(m.group(0))
    assert not broken, f"{page.name}: broken links {broken}"


def test_the_slug_matches_github() -> None:
    assert _slug("Policy: the choices jurisdictions make differently") == (
        "policy-the-choices-jurisdictions-make-differently"
    )
    assert _slug("Impact of a change: `tierflow diff`") == "impact-of-a-change-tierflow-diff"


def test_every_page_is_linked_from_the_index() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    unlinked = [p.name for p in PAGES if p.name != "index.md" and f"({p.name})" not in index]
    assert not unlinked, f"pages missing from docs/index.md: {unlinked}"


def test_readme_links_every_page_it_names() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\]\(docs/([a-z-]+\.md)", readme))
    assert named, "the README links no docs pages"
    assert sorted(named - {p.name for p in PAGES}) == []


# The API reference (docs/reference/, built by mkdocs.yml with --strict in CI): `::: module`
# renders the module's `__all__`, or only the names given in `members:` under it.
REFERENCE = DOCS / "reference"
DIRECTIVE = re.compile(r"^::: (?P<target>[\w.]+)\n(?P<options>(?:(?: {4}.*)?\n)*)", re.M)


def _referenced() -> list[tuple[str, object]]:
    """(qualified name, object) of everything a reference page renders."""
    out = []
    for page in sorted(REFERENCE.glob("*.md")):
        for m in DIRECTIVE.finditer(page.read_text(encoding="utf-8")):
            module = importlib.import_module(m["target"])
            options = (yaml.safe_load(textwrap.dedent(m["options"])) or {}).get("options", {})
            names = options.get("members", module.__all__)
            out += [(f"{m['target']}.{name}", getattr(module, name)) for name in names]
    return out


def _public() -> list[tuple[str, object]]:
    modules = [tierflow, *(importlib.import_module(f"tierflow.{n}") for n in SUBPACKAGES)]
    return [(f"{m.__name__}.{n}", getattr(m, n)) for m in modules for n in m.__all__]


SUBPACKAGES = sorted(m.name for m in pkgutil.iter_modules(tierflow.__path__) if m.ispkg)


def test_every_public_name_has_a_reference_page() -> None:
    # A re-export (tierflow.Decision) is covered by its home page (tierflow.evaluate.Decision).
    shown, ids = {name for name, _ in _referenced()}, {id(obj) for _, obj in _referenced()}
    assert {"tierflow.evaluate.Decision", "tierflow.__version__"} <= shown  # guards the parsing
    missing = [name for name, obj in _public() if name not in shown and id(obj) not in ids]
    assert missing == [], "public names on no page of docs/reference/"


def test_the_reference_pages_are_in_the_site_and_add_no_examples() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = [*PAGES, *REFERENCE.glob("*.md")]
    absent = [name for p in pages if (name := p.relative_to(DOCS).as_posix()) not in nav]
    assert absent == [], "pages missing from the nav of mkdocs.yml"
    # examples belong in docstrings, where pytest's --doctest-modules runs them
    fenced = [p.name for p in REFERENCE.glob("*.md") if "```" in p.read_text(encoding="utf-8")]
    assert fenced == []


def test_the_reference_shows_doctests_and_roles_as_code() -> None:
    pytest.importorskip("griffe")  # the `docs` extra (in `dev`), which builds the site
    path = ROOT / "tools" / "griffe_docstrings.py"
    spec = importlib.util.spec_from_file_location("griffe_docstrings", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert doctest.testmod(module).failed == 0
    assert module.plain_roles(":meth:`~a.B.c` and :mod:`x.y`") == "`c` and `x.y`"
    text = "Args:\n    x: a value.\n\n        >>> f(\n        ...   1)\n        2\n    Then."
    assert module.fence_doctests(text).splitlines() == [
        "Args:",
        "    x: a value.",
        "",
        "        ```pycon",
        "        >>> f(",
        "        ...   1)",
        "        2",
        "        ```",
        "    Then.",
    ]


def test_the_tutorial_shows_its_playbook_file_as_it_is() -> None:
    # the ```yaml block is compiled and its tests run above; the doctests use the file
    text = (DOCS / "tutorial.md").read_text(encoding="utf-8")
    playbook = (DOCS / "tutorial" / "riverside-usd.yaml").read_text(encoding="utf-8")
    assert f"```yaml\n{playbook}```\n" in text


def test_every_public_name_has_a_docstring_for_its_page() -> None:
    griffe = pytest.importorskip("griffe")  # reads the source: a constant's docstring too
    package = griffe.load("tierflow", search_paths=[str(ROOT / "src")])
    bare = []
    for module in SUBPACKAGES:
        for name in importlib.import_module(f"tierflow.{module}").__all__:
            obj = package[module][name]
            if not (obj.final_target if obj.is_alias else obj).docstring:
                bare.append(f"{module}.{name}")
    assert bare == [], "public names whose reference entry would be empty"
