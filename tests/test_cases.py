"""Every load and data error code, with the exact place it names, from data-only case files.

Each case in ``tests/cases/`` is a file (or a folder) that declares, in header comments, exactly
the problems loading it must report, all at once::

    # expect: ref.unknown_tier at 12:14 path rules[0].tiers[0] says did you mean 'tier2'?

- Rule set cases: ``<code>[--<variant>].yaml``, or a folder with ``main.yaml`` (and the files it
  ``extends``). ``at`` is ``line:col`` in the case file, or ``file.yaml:line:col`` for a problem in
  another file of the folder. ``path`` is the data path (``-`` for none). ``says`` is text the
  printed problem (message, hint and path) must contain. ``# limits: max_depth=3`` loads the case
  with those :class:`YamlLimits`. Each case is loaded with ``load_ruleset`` (a path) and again
  with ``parse_ruleset`` (text), which must agree.
- Data cases: a folder with ``case.yaml`` naming the rule set, the facts ``input`` (or ``events``,
  ``calendar`` and optionally ``enrollments``), the date, how many students must still be
  evaluated, and the exit ``status`` (default 1). They run through ``tierflow evaluate --rejects
  --strict``; ``at`` is the record's source (``facts.csv:3``, ``facts.json[1]``, ``-`` for none),
  then ``student ID`` and ``field NAME`` (``-`` for none). Calendar problems are warnings, read
  from standard error.
- ``# known-bug: ...`` marks a case whose location is wrong today. Its codes are still checked,
  its ``# expect:`` lines (the right answer) run as a strict xfail, and ``# today:`` lines (or
  ``# today-raises: KeyError``) pin what happens now, so the xfail cannot hide another failure
  and fixing the bug makes the suite say so.

Lines and columns are 1-based and were worked out by hand from the case text, not copied from the
loader's output. A meta-test fails when the source gains an error code that no case covers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

import tierflow
from ingest.reading import read_all
from tierflow.attendance import SchoolCalendar
from tierflow.cli import main
from tierflow.errors import DataError, DataReport, Problem, RulesetError
from tierflow.ingest import read_facts
from tierflow.spec import DEFAULT_LIMITS, YamlLimits, load_yaml

HERE = Path(__file__).parent
CASES = HERE / "cases"
SRC = HERE.parent / "src" / "tierflow"
AS_OF = dt.date(2025, 11, 3)

EXPECT = re.compile(
    r"^# (?P<kind>expect|today): (?P<code>[a-z_]+\.[a-z_]+) at (?P<at>\S+)"
    r"(?: path (?P<path>\S+))?(?: student (?P<student>\S+))?(?: field (?P<field>\S+))?"
    r"(?: says (?P<text>.+))?$"
)
AT = re.compile(r"^(?:(?P<file>[\w.-]+\.ya?ml):)?(?P<line>\d+):(?P<col>\d+)$")
KNOWN_BUG = re.compile(r"^# known-bug: (?P<reason>.+)$")
TODAY_RAISES = re.compile(r"^# today-raises: (?P<name>\w+)$")
LIMITS = re.compile(r"^# limits: (?P<limits>.+)$")
CODE = re.compile(
    r"""["'](?P<code>(?:yaml|schema|expr|extends|ref|rule|tier|legal|facts|ingest|load|event"""
    r"""|enrollment|calendar)\.[a-z_]+)["']"""
)


@dataclasses.dataclass(frozen=True)
class Expected:
    """One problem a case must report."""

    code: str
    at: str
    path: str | None = None
    student: str | None = None
    field: str | None = None
    text: str | None = None


@dataclasses.dataclass(frozen=True)
class Case:
    """A case file (or folder) and what its header comments declare."""

    name: str
    file: Path
    expected: tuple[Expected, ...]
    known_bug: str | None
    today: tuple[Expected, ...]
    today_raises: str | None
    limits: YamlLimits

    @property
    def is_data(self) -> bool:
        return self.file.name == "case.yaml"


def _header(file: Path) -> list[str]:
    return file.read_bytes().decode("utf-8", errors="replace").splitlines()


def _none_if_dash(value: str | None) -> str | None:
    return None if value == "-" else value


def _read_case(file: Path) -> Case:
    found: dict[str, list[Expected]] = {"expect": [], "today": []}
    known_bug = None
    today_raises = None
    limits = YamlLimits()
    for raw in _header(file):
        if m := EXPECT.match(raw):
            found[m["kind"]].append(
                Expected(
                    m["code"],
                    m["at"],
                    "" if m["path"] == "-" else m["path"],
                    _none_if_dash(m["student"]),
                    _none_if_dash(m["field"]),
                    m["text"],
                )
            )
        elif m := KNOWN_BUG.match(raw):
            known_bug = m["reason"]
        elif m := TODAY_RAISES.match(raw):
            today_raises = m["name"]
        elif m := LIMITS.match(raw):
            pairs = (item.split("=") for item in m["limits"].split())
            limits = YamlLimits(**{k: int(v) for k, v in pairs})
        elif raw.startswith(("# expect", "# today", "# known", "# limits")):
            raise AssertionError(f"{file}: cannot read {raw!r}")
    name = file.parent.name if file.name in ("main.yaml", "case.yaml") else file.stem
    expected, today = tuple(found["expect"]), tuple(found["today"])
    return Case(name, file, expected, known_bug, today, today_raises, limits)


def _all_cases() -> list[Case]:
    files = sorted(CASES.glob("*.yaml"))
    for folder in sorted(p for p in CASES.iterdir() if p.is_dir()):
        main_file = folder / "main.yaml"
        files.append(main_file if main_file.exists() else folder / "case.yaml")
    return [_read_case(f) for f in files]


ALL = _all_cases()
RULESET_CASES = [c for c in ALL if not c.is_data]
DATA_CASES = [c for c in ALL if c.is_data]


def _params(cases: list[Case], *, strict_bugs: bool) -> list[Any]:
    out = []
    for case in cases:
        marks = []
        if strict_bugs and case.known_bug:
            marks.append(pytest.mark.xfail(reason=case.known_bug, strict=True))
        out.append(pytest.param(case, id=case.name, marks=marks))
    return out


# --- rule set cases --------------------------------------------------------------------------


def _load(case: Case) -> tuple[Problem, ...]:
    with pytest.raises(RulesetError) as info:
        tierflow.load_ruleset(case.file, limits=case.limits)
    assert not info.value.omitted
    return info.value.problems


def _where(case: Case, e: Expected) -> tuple[str, int, int]:
    m = AT.match(e.at)
    assert m, f"{case.file}: 'at {e.at}' is not [file:]line:col"
    return m["file"] or case.file.name, int(m["line"]), int(m["col"])


@pytest.mark.parametrize("case", _params(RULESET_CASES, strict_bugs=False))
def test_case_reports_its_codes(case: Case) -> None:
    assert case.expected, f"{case.file} declares no '# expect:' line"
    problems = _load(case)
    assert Counter(p.code for p in problems) == Counter(e.code for e in case.expected), "\n".join(
        map(str, problems)
    )
    for p in problems:
        assert Path(p.span.file).resolve().parent == case.file.parent.resolve(), p


@pytest.mark.parametrize("case", _params(RULESET_CASES, strict_bugs=True))
def test_case_reports_each_problem_where_it_is(case: Case) -> None:
    problems = _load(case)
    got = Counter((Path(p.span.file).name, p.span.line, p.span.col, p.code) for p in problems)
    want = Counter((*_where(case, e), e.code) for e in case.expected)
    assert got == want, "\n".join(map(str, problems))
    for e in case.expected:
        file, line, col = _where(case, e)
        here = [
            p
            for p in problems
            if (Path(p.span.file).name, p.span.line, p.span.col, p.code)
            == (file, line, col, e.code)
        ]
        # Several problems may share a place and code (two keys missing from one mapping):
        # each expectation must be met by one of them, told apart by path and text.
        fits = [
            str(p)
            for p in here
            if (e.path is None or p.path == e.path) and (e.text is None or e.text in str(p))
        ]
        assert fits, f"no problem at {file}:{line}:{col} fits {e}:\n" + "\n".join(map(str, here))
        for rendered in fits:
            assert rendered.startswith(f"{here[0].span.file}:{line}:{col}: {e.code}: ")


def _exactly(case: Case, problems: tuple[Problem, ...], expected: tuple[Expected, ...]) -> None:
    got = Counter(
        (Path(p.span.file).name, p.span.line, p.span.col, p.code, p.path) for p in problems
    )
    want = Counter((*_where(case, e), e.code, e.path) for e in expected)
    assert got == want, "\n".join(map(str, problems))


def test_known_bugs_are_declared_with_what_happens_today() -> None:
    for case in ALL:
        today = bool(case.today or case.today_raises)
        assert bool(case.known_bug) == today, f"{case.file}: known-bug needs today"
        if not case.is_data:
            assert all(e.path is not None for e in case.today), f"{case.file}: today needs a path"


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in RULESET_CASES if c.known_bug])
def test_known_bug_fails_only_as_described(case: Case) -> None:
    """Pin what a known-bug case reports today, so its xfail cannot hide another failure."""
    _exactly(case, _load(case), case.today)


def _text_cases() -> list[Any]:
    """Cases whose text is UTF-8 and which are loaded with the default limits."""
    return [
        pytest.param(c, id=c.name)
        for c in RULESET_CASES
        if c.limits == YamlLimits() and _is_utf8(c.file)
    ]


def _is_utf8(file: Path) -> bool:
    try:
        file.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.parametrize("case", _text_cases())
def test_parse_ruleset_reports_the_same_problems(case: Case) -> None:
    with pytest.raises(RulesetError) as info:
        tierflow.parse_ruleset(
            case.file.read_text(encoding="utf-8"), name=case.file.name, base_dir=case.file.parent
        )
    got = sorted((p.code, p.span.line, p.span.col, p.path) for p in info.value.problems)
    want = sorted((p.code, p.span.line, p.span.col, p.path) for p in _load(case))
    assert got == want


# --- data cases ------------------------------------------------------------------------------


WARNING = re.compile(
    r"^warning: (?:(?P<source>[^,]+?)(?:, student (?P<student>\S+))?: )?"
    r"(?P<code>[a-z_]+\.[a-z_]+): (?P<message>.*)$"
)


def _evaluate(
    case: Case,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> _Run:
    """Run ``tierflow evaluate --rejects --strict`` on the case's input, from its folder."""
    spec = yaml.safe_load(case.file.read_text(encoding="utf-8"))
    monkeypatch.chdir(case.file.parent)
    rejects = tmp_path / "rejects.jsonl"
    argv = ["evaluate", "-r", spec["ruleset"], "--as-of", str(spec["as_of"])]
    if "events" in spec:
        argv += ["--events", spec["events"], "--calendar", spec["calendar"]]
        if "enrollments" in spec:
            argv += ["--enrollments", spec["enrollments"]]
        else:
            argv.append("--assume-full-year")
    else:
        argv.append(spec["input"])
    capsys.readouterr()
    out = io.StringIO()
    status = main([*argv, "--rejects", str(rejects), "--strict"], out=out)
    err = capsys.readouterr().err.splitlines()
    found = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    # Calendar problems are warnings (the calendar's other dates are still used), printed only.
    for line in err:
        if m := WARNING.match(line):
            found.append({"code": m["code"], "source": m["source"], "student_id": m["student"]})
            found[-1] |= {"field": None, "warning": True}
    return _Run(
        status,
        found,
        len(out.getvalue().splitlines()),
        int(spec["evaluated"]),
        int(spec.get("status", 1)),
        err,
    )


@dataclasses.dataclass(frozen=True)
class _Run:
    status: int
    rejects: list[dict[str, Any]]
    evaluated: int
    want_evaluated: int
    want_status: int
    err: list[str]

    def rejected(self) -> Counter[tuple[str, str | None, str | None, str | None]]:
        return Counter((r["code"], r["source"], r["student_id"], r["field"]) for r in self.rejects)


def _want(
    expected: tuple[Expected, ...],
) -> Counter[tuple[str, str | None, str | None, str | None]]:
    return Counter((e.code, _none_if_dash(e.at), e.student, e.field) for e in expected)


@pytest.mark.parametrize("case", _params(DATA_CASES, strict_bugs=True))
def test_data_case_rejects_each_record_by_source_and_student(
    case: Case,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert case.expected, f"{case.file} declares no '# expect:' line"
    run = _evaluate(case, tmp_path, monkeypatch, capsys)
    assert run.rejected() == _want(case.expected), run.rejects
    assert run.status == run.want_status  # --strict: a rejected record fails the run
    assert run.evaluated == run.want_evaluated, "the rest of the batch must go on"
    for r in run.rejects:
        who = f", student {r['student_id']}" if r["student_id"] is not None else ""
        kind = "warning: " if r.get("warning") else "rejected: "
        (line,) = [x for x in run.err if x.startswith(f"{kind}{r['source']}{who}: {r['code']}: ")]
        texts = [e.text for e in case.expected if e.code == r["code"] and e.text]
        assert all(text in line for text in texts), line


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in DATA_CASES if c.known_bug])
def test_known_data_bug_fails_only_as_described(
    case: Case,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if case.today_raises:
        with pytest.raises(Exception) as info:
            _evaluate(case, tmp_path, monkeypatch, capsys)
        assert type(info.value).__name__ == case.today_raises
        return
    run = _evaluate(case, tmp_path, monkeypatch, capsys)
    assert run.rejected() == _want(case.today), run.rejects
    assert run.evaluated == run.want_evaluated


def test_evaluate_many_names_the_record_number_and_student() -> None:
    ruleset = tierflow.load_ruleset("mtss")
    records = [
        {"student_id": "s1", "days_enrolled": 40, "days_absent": 1},
        {"student_id": "s2", "days_enrolled": 40},
        {"student_id": "s3", "days_enrolled": 40, "days_absent": "many"},
    ]
    report = DataReport()
    decisions = list(ruleset.evaluate_many(records, as_of=AS_OF, report=report))
    assert [d.student_id for d in decisions] == ["s1"]
    got = [(r.code, r.source, r.student_id, r.field) for r in report.rejects]
    assert got == [
        ("facts.missing", "record 2", "s2", "days_absent"),
        ("facts.invalid", "record 3", "s3", "days_absent"),
    ]
    assert str(report.rejects[0]).startswith("record 2, student s2: facts.missing: ")


def test_read_facts_yields_the_same_rejects_as_the_command_line() -> None:
    for case in DATA_CASES:
        spec = yaml.safe_load(case.file.read_text(encoding="utf-8"))
        codes = {e.code for e in case.expected}
        if "input" not in spec or not all(c.startswith("ingest.") for c in codes):
            continue
        kinds = {"has_plan": "bool"}
        items = read_all(read_facts, case.file.parent / spec["input"], extra_kinds=kinds)
        errors = [i for i in items if isinstance(i, DataError)]
        want = case.today or case.expected
        got = Counter((e.code, Path(e.source or "").name, e.student_id, e.field) for e in errors)
        assert got == _want(want), case.name
        assert len(items) - len(errors) == spec["evaluated"], case.name


# --- YAML limits with their defaults, on generated inputs (nothing huge is committed) ---------


def test_billion_laughs_fails_fast_with_alias_expansion() -> None:
    # Ten levels of nine aliases each: 9**10 strings if expanded. The default limits stop it
    # after 1,000 alias uses, so the test finishing at all is the point.
    lines = ["lol: &a0 [" + ", ".join(['"lol"'] * 9) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    text = "\n".join(lines) + "\n"
    with pytest.raises(RulesetError) as info:
        load_yaml(text, "laughs.yaml")
    (problem,) = info.value.problems
    assert problem.code == "yaml.alias_expansion"
    assert problem.span.file == "laughs.yaml"
    assert 1 <= problem.span.line <= len(lines)
    assert f"more than {DEFAULT_LIMITS.max_aliases} aliases" in problem.message


def test_deep_nesting_stops_at_the_first_value_too_deep() -> None:
    depth = DEFAULT_LIMITS.max_depth + 10
    text = "".join(f"{'  ' * i}k{i}:\n" for i in range(depth)) + f"{'  ' * depth}leaf\n"
    with pytest.raises(RulesetError) as info:
        load_yaml(text, "deep.yaml")
    (problem,) = info.value.problems
    # The root is depth 0 and k{i}'s value depth i + 1, so the first value too deep is that of
    # k{max_depth}: the mapping that starts on the next line with key k{max_depth + 1}.
    limit = DEFAULT_LIMITS.max_depth
    assert problem.code == "yaml.too_deep"
    assert (problem.span.line, problem.span.col) == (limit + 2, 2 * (limit + 1) + 1)
    assert problem.path == ".".join(f"k{i}" for i in range(limit + 1))


def test_oversized_file_is_refused_before_it_is_read_whole(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("id: big\nnotes: " + "x" * DEFAULT_LIMITS.max_bytes + "\n", encoding="utf-8")
    with pytest.raises(RulesetError) as info:
        tierflow.load_ruleset(big)
    (problem,) = info.value.problems
    assert (problem.code, problem.span.line, problem.span.col) == ("yaml.too_large", 1, 1)
    assert Path(problem.span.file).name == "big.yaml"


def test_limits_reach_files_that_are_extended(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("id: base\nnotes: " + "x" * 300 + "\n", encoding="utf-8")
    child = tmp_path / "child.yaml"
    text = 'id: child\nname: C\nversion: "1"\nextends: base.yaml\n'
    child.write_text(text, encoding="utf-8")
    with pytest.raises(RulesetError) as info:
        tierflow.load_ruleset(child, limits=YamlLimits(max_bytes=200))
    assert [(Path(p.span.file).name, p.code) for p in info.value.problems] == [
        ("base.yaml", "yaml.too_large")
    ]
    with pytest.raises(RulesetError) as info:
        tierflow.parse_ruleset(
            text, name="child.yaml", base_dir=tmp_path, limits=YamlLimits(max_bytes=200)
        )
    assert [(Path(p.span.file).name, p.code) for p in info.value.problems] == [
        ("base.yaml", "yaml.too_large")
    ]


# --- files that cannot be read ------------------------------------------------------------------


def test_missing_file_is_load_not_found(tmp_path: Path) -> None:
    with pytest.raises(RulesetError) as info:
        tierflow.load_ruleset(tmp_path / "nowhere.yaml")
    (problem,) = info.value.problems
    assert problem.code == "load.not_found"
    assert Path(problem.span.file).name == "nowhere.yaml"
    assert str(problem).endswith(
        "nowhere.yaml: load.not_found: no rule set at " + problem.span.file
    )


def test_missing_builtin_is_load_not_found_with_a_suggestion() -> None:
    with pytest.raises(RulesetError) as info:
        tierflow.load_ruleset("mtsss")
    (problem,) = info.value.problems
    assert (problem.code, problem.hint) == ("load.not_found", "did you mean 'mtss'?")


def test_a_folder_is_load_unreadable(tmp_path: Path) -> None:
    folder = tmp_path / "district.yaml"
    folder.mkdir()
    with pytest.raises(RulesetError) as info:
        tierflow.load_ruleset(folder)
    (problem,) = info.value.problems
    assert problem.code == "load.unreadable"
    assert Path(problem.span.file).name == "district.yaml"


# --- the command line prints file:line:col: code: message and fails ------------------------------


def test_check_prints_every_problem_as_file_line_col_code_message() -> None:
    case = CASES / "expr.type_mismatch.yaml"
    out = io.StringIO()
    status = main(["check", str(case)], out=out)
    assert status == 1
    lines = out.getvalue().splitlines()
    expected = _read_case(case).expected
    assert lines[-1] == f"{len(expected)} problem(s)"
    pattern = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): (?P<code>[a-z_]+\.[a-z_]+): ")
    printed = [pattern.match(line) for line in lines[:-1]]
    assert all(printed), lines
    got = [(Path(m["file"]).name, int(m["line"]), int(m["col"]), m["code"]) for m in printed if m]
    want = sorted((*_where(_read_case(case), e), e.code) for e in expected)
    assert got == want  # sorted by location, as compilers print


def test_check_reports_every_file_and_keeps_going() -> None:
    cases = [CASES / "tier.none.yaml", CASES / "extends.cycle", CASES / "yaml.empty.yaml"]
    out = io.StringIO()
    status = main(["check", *map(str, cases)], out=out)
    assert status == 1
    text = out.getvalue()
    assert re.search(
        r"tier\.none\.yaml:6:8: tier\.none: a rule set needs tiers \(tiers\)$", text, re.M
    )
    assert re.search(r"extends\.cycle/b\.yaml:4:10: extends\.cycle: ", text, re.M)
    assert re.search(r"yaml\.empty\.yaml:1:1: yaml\.empty: ", text, re.M)


def test_check_json_gives_line_and_column_fields() -> None:
    out = io.StringIO()
    status = main(["check", "--format", "json", str(CASES / "ref.unknown_tier.yaml")], out=out)
    data = json.loads(out.getvalue())
    assert status == 1 and data["ok"] is False
    assert [(p["code"], p["line"], p["col"], p["path"]) for p in data["problems"]] == [
        ("ref.unknown_tier", 11, 20, "rules[0].tiers[1]")
    ]


def test_a_calendar_without_days_is_calendar_empty() -> None:
    # Unreachable from files: the readers skip a calendar that lists no instructional day.
    with pytest.raises(DataError) as info:
        SchoolCalendar("lincoln", [])
    assert (info.value.code, info.value.source) == ("calendar.empty", None)
    assert str(info.value) == "calendar.empty: calendar 'lincoln' has no instructional days"


# --- every code has a case ----------------------------------------------------------------------

TESTED_ABOVE = {"load.not_found", "load.unreadable", "calendar.empty"}
"""Codes checked by the generated tests above rather than by a case file."""

TESTED_WITH_THEIR_READER = {
    # The family contacts file is read by `tierflow notices`, not `tierflow evaluate`, which is
    # what case folders run: tests/ingest/test_contacts.py pins each with file, line and id.
    "ingest.invalid_value",
    "ingest.missing_language",
    "ingest.unknown_contact",
    "ingest.unknown_language",
}


def _codes_in_source() -> set[str]:
    codes: set[str] = set()
    for path in SRC.rglob("*.py"):
        codes |= {m["code"] for m in CODE.finditer(path.read_text(encoding="utf-8"))}
    return codes


def test_every_error_code_in_the_source_has_a_case() -> None:
    covered = {e.code for case in ALL for e in case.expected} | TESTED_ABOVE
    covered |= TESTED_WITH_THEIR_READER
    missing = _codes_in_source() - covered
    assert not missing, f"error codes without a case in tests/cases: {sorted(missing)}"


def test_every_case_expects_the_code_it_is_named_for() -> None:
    for case in ALL:
        code = case.name.split("--")[0]
        assert code in {e.code for e in case.expected}, f"{case.file} is named for {code}"
    assert len(_codes_in_source()) >= 60  # the pattern still finds the codes
