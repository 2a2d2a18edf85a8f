"""The district dashboard: its tables against hand-worked figures, its safety, and Chromium.

The hand-worked district is the one of ``test_equity`` (as of Friday 2025-10-31; lincoln has
interventions, roosevelt none; "homeless" has no support):

=======  =========  ===================  ===========================================  ==========
student  school     groups               records                                      days
=======  =========  ===================  ===========================================  ==========
a        lincoln    english_learner      tier2 10-01; support started 10-06, open     5 / 40
b        lincoln    english_learner,     tier1 09-15, tier3 10-10; legal step 10-15;  8 / 40
                    homeless             support started 10-20, closed 10-27
c        lincoln    -                    tier2 09-20; support started 09-25, open;    2 / 40
                                         legal step 10-01
d        roosevelt  english_learner      tier2 10-01; legal step 10-20; no support    4 / 40
e        roosevelt  foster               tier1 09-15                                  1 / 9
f        roosevelt  homeless             tier2 10-05, tier1 10-25; no support         0 / 40
=======  =========  ===================  ===========================================  ==========

By hand: chronic (10%+ of 10+ days): a 12.5%, b 20%, d exactly 10%; c 5% and f 0% are not; e
(9 days) is left out. lincoln 2 of 3 (66.7%), roosevelt 1 of 2 (50.0%), district 3 of 5
(60.0%); english_learner 3 of 3, homeless 1 of 2, foster none enrolled 10+ days (-).
Tier 2/3 by the latest decision: lincoln a, b, c (a and c supported: 66.7%), roosevelt d (0
of 1); district 2 of 4 (50.0%). Legal steps: b, c, d; support first: c only (district 1 of 3,
33.3%; lincoln 1 of 2; roosevelt 0 of 1). english_learner (b, d: 0 of 2) and homeless (b: 0
of 1) are flagged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import tierflow
from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.cli import main
from tierflow.report import (
    DailyAttendance,
    chronic_absence,
    dashboard,
    effectiveness,
    equity_report,
)
from tierflow.store import SqlRepository
from tierflow.workflow import (
    InMemoryRepository,
    Intervention,
    Roster,
    StaffMember,
    WorkflowEvent,
)

pytest.importorskip("matplotlib", reason="the reports extra (matplotlib) is not installed")

D = dt.date
AS_OF = D(2025, 10, 31)
CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = (
    "<script>document.body.setAttribute('data-pwned','1')</script><img src=x onerror=alert(1)>"
)


def _decision(repo: Any, sid: str, on: dt.date, tier: str) -> None:
    repo.append(WorkflowEvent(0, on, sid, "decision", detail={"tier": tier}))


def _support(
    repo: Any,
    sid: str,
    school: str,
    opened: dt.date,
    started: dt.date,
    ended: dt.date | None = None,
) -> None:
    iid = f"iv-{sid}"
    state = "closed" if ended else "active"
    repo.add(
        Intervention(iid, sid, school, "weekly-checkin", 2, "mentor", "ms-lee", state, opened,
                     None, None, None, ended_on=ended)
    )  # fmt: skip
    repo.append(WorkflowEvent(0, opened, sid, "opened", iid, to_state="assigned"))
    repo.append(WorkflowEvent(0, started, sid, "transition", iid, "start", "assigned", "active"))
    if ended is not None:
        repo.append(WorkflowEvent(0, ended, sid, "transition", iid, "close", "active", "closed"))


def _legal(repo: Any, sid: str, on: dt.date) -> None:
    repo.append(WorkflowEvent(0, on, sid, "legal_issued", detail={"step": "not1"}))
    repo.record_issued(sid, "not1", on)


def _facts(sid: str, school: str, groups: list[str], absent: float, enrolled: int = 40) -> dict:  # type: ignore[type-arg]
    return {"student_id": sid, "school_id": school, "groups": groups,
            "days_enrolled": enrolled, "days_absent": absent}  # fmt: skip


def _district(repo: Any) -> list[dict]:  # type: ignore[type-arg]
    _decision(repo, "a", D(2025, 10, 1), "tier2")
    _support(repo, "a", "lincoln", D(2025, 10, 2), D(2025, 10, 6))
    _decision(repo, "b", D(2025, 9, 15), "tier1")
    _decision(repo, "b", D(2025, 10, 10), "tier3")
    _legal(repo, "b", D(2025, 10, 15))
    _support(repo, "b", "lincoln", D(2025, 10, 10), D(2025, 10, 20), D(2025, 10, 27))
    _decision(repo, "c", D(2025, 9, 20), "tier2")
    _support(repo, "c", "lincoln", D(2025, 9, 22), D(2025, 9, 25))
    _legal(repo, "c", D(2025, 10, 1))
    _decision(repo, "d", D(2025, 10, 1), "tier2")
    _legal(repo, "d", D(2025, 10, 20))
    _decision(repo, "e", D(2025, 9, 15), "tier1")
    _decision(repo, "f", D(2025, 10, 5), "tier2")
    _decision(repo, "f", D(2025, 10, 25), "tier1")
    return [
        _facts("a", "lincoln", ["english_learner"], 5),
        _facts("b", "lincoln", ["english_learner", "homeless"], 8),
        _facts("c", "lincoln", [], 2),
        _facts("d", "roosevelt", ["english_learner"], 4),
        _facts("e", "roosevelt", ["foster"], 1, enrolled=9),
        _facts("f", "roosevelt", ["homeless"], 0),
    ]


class _Tables(HTMLParser):
    """Each table's caption and rows (cell texts), and each row's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[tuple[dict[str, str | None], list[str]]]] = {}
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._caption: str | None = None
        self._text: list[str] | None = None
        self._row: tuple[dict[str, str | None], list[str]] | None = None
        self._rows: list[tuple[dict[str, str | None], list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("caption", "th", "td"):
            self._text = []
        elif tag == "tr":
            self._row = (dict(attrs), [])
        elif tag == "table":
            self._rows = []

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self._text is not None:
            self._caption = "".join(self._text)
        elif tag in ("th", "td") and self._row is not None and self._text is not None:
            self._row[1].append("".join(self._text))
        elif tag == "tr" and self._row is not None:
            self._rows.append(self._row)
        elif tag == "table" and self._caption is not None:
            self.tables[self._caption] = self._rows
        if tag in ("caption", "th", "td"):
            self._text = None


def _parse(page: str) -> _Tables:
    parser = _Tables()
    parser.feed(page)
    return parser


def _cells(parser: _Tables, caption: str) -> dict[str, list[str]]:
    """The table whose caption starts with ``caption``: the first cell to the row's cells."""
    (rows,) = [rows for cap, rows in parser.tables.items() if cap.startswith(caption)]
    return {cells[0]: cells[1:] for _, cells in rows}


@pytest.fixture(scope="module")
def page() -> str:
    repo = InMemoryRepository()
    facts = _district(repo)
    return dashboard(repo, facts, as_of=AS_OF, ruleset=tierflow.load_ruleset("mtss"))


def test_chronic_tables_hold_the_hand_figures(page: str) -> None:
    tables = _parse(page)
    schools = _cells(tables, "Chronic absence by school")
    # absent, enrolled 10+, rate, under 10 days
    assert schools["District"] == ["3", "5", "60.0%", "1"]
    assert schools["lincoln"] == ["2", "3", "66.7%", "0"]
    assert schools["roosevelt"] == ["1", "2", "50.0%", "1"]
    groups = _cells(tables, "Chronic absence by student group")
    assert groups["english_learner"] == ["3", "3", "100.0%", "0"]
    assert groups["homeless"] == ["1", "2", "50.0%", "0"]
    assert groups["foster"] == ["0", "0", "-", "1"]


def test_equity_tables_hold_the_hand_figures(page: str) -> None:
    tables = _parse(page)
    # Tier 2/3, supported, coverage, with a legal step, support first, share, flagged
    schools = _cells(tables, "Equity and coverage by school")
    assert schools["District"] == ["4", "2", "50.0%", "3", "1", "33.3%", ""]
    assert schools["lincoln"] == ["3", "2", "66.7%", "2", "1", "50.0%", ""]
    assert schools["roosevelt"] == ["1", "0", "0.0%", "1", "0", "0.0%", ""]
    groups = _cells(tables, "Equity and coverage by student group")
    assert groups["english_learner"] == ["3", "1", "33.3%", "2", "0", "0.0%", "flagged"]
    assert groups["homeless"] == ["1", "0", "0.0%", "1", "0", "0.0%", "flagged"]
    assert groups["foster"] == ["0", "0", "-", "0", "0", "-", ""]
    flagged = [a.get("data-group") for a, _ in tables.tables[next(
        c for c in tables.tables if c.startswith("Equity and coverage by student group"))]
        if a.get("class") == "flagged"]  # fmt: skip
    assert flagged == ["english_learner", "homeless"]


def test_tables_agree_with_the_report_functions(page: str) -> None:
    repo = InMemoryRepository()
    facts = _district(repo)
    chronic = chronic_absence(facts, as_of=AS_OF)
    equity = equity_report(repo, facts, as_of=AS_OF, ruleset=tierflow.load_ruleset("mtss"))
    tables = _parse(page)
    by_group = _cells(tables, "Chronic absence by student group")
    assert len(by_group) == len(chronic.groups) + 2  # and the header and district rows
    for r in chronic.groups:
        assert by_group[r.key][:2] == [str(r.chronic), str(r.enrolled)], r.key
        assert by_group[r.key][2] == ("-" if r.rate is None else f"{r.percent()}%"), r.key
    eq_groups = _cells(tables, "Equity and coverage by student group")
    for g in equity.groups:
        assert eq_groups[g.key][0::3][:2] == [str(g.tier23), str(g.legal)], g.key


def test_every_table_is_labelled_for_screen_readers(page: str) -> None:
    tables = _parse(page)
    assert len(tables.tables) == 4  # no attendance: no effectiveness table
    heads = [a for tag, a in tables.tags if tag == "th"]
    assert heads and all(a.get("scope") in ("col", "row") for a in heads)
    assert sum(1 for tag, _ in tables.tags if tag == "svg") == 4
    assert "effectiveness: not shown (no attendance was given)" in page


def test_the_page_is_self_contained(page: str) -> None:
    assert not re.search(r"https?:", page, re.I)
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    tags = _parse(page).tags
    assert [t for t, _ in tags if t in ("link", "img", "iframe", "object", "embed")] == []
    assert [t for t, a in tags if t == "script" and a] == []  # inline, no src
    (csp,) = [a["content"] for t, a in tags if t == "meta" and a.get("http-equiv")]
    assert csp is not None and csp.startswith("default-src 'none';")
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1]
    assert not any(k.startswith("on") for _, a in tags for k in a)


def _hostile_page() -> str:
    repo = InMemoryRepository()
    facts = _district(repo)
    facts.append(_facts("h", HOSTILE, [HOSTILE], 9))
    _decision(repo, "h", D(2025, 10, 1), "tier2")
    _legal(repo, "h", D(2025, 10, 2))
    # the same text as a student, a school, an owner: in operations and a progress page too
    _decision(repo, HOSTILE, D(2025, 10, 1), "tier2")
    repo.add(Intervention("iv-x", HOSTILE, HOSTILE, "weekly-checkin", 2, "mentor", HOSTILE,
                          "active", D(2025, 10, 1), None, None, None))  # fmt: skip
    cal = SchoolCalendar.from_pattern("lincoln", D(2025, 9, 1), D(2026, 6, 12))
    builder = FactsBuilder({"lincoln": cal})
    builder.add_enrollment(Enrollment(HOSTILE, "lincoln", D(2025, 9, 1)))
    builder.add_event(AttendanceEvent(HOSTILE, "lincoln", D(2025, 10, 6), "unexcused_absence"))
    return dashboard(
        repo,
        facts,
        as_of=AS_OF,
        ruleset=tierflow.load_ruleset("mtss"),
        attendance=builder,
        roster=Roster([StaffMember(HOSTILE, HOSTILE, ("mentor",), caseload_limit=1)]),
        students=[HOSTILE],
    )


def test_a_hostile_school_and_group_stay_text() -> None:
    page = _hostile_page()
    tags = _parse(page).tags
    assert [t for t, _ in tags if t == "img"] == []
    assert [t for t, _ in tags if t == "script"] == ["script"]  # the page's own
    assert not any(k.startswith("on") for _, a in tags for k in a)
    # in table cells, menus, chart labels and the marks' data attributes: escaped each time
    assert page.count("&lt;script&gt;document.body") >= 10
    assert all((a["href"] or "").startswith("#") for _, a in tags if "href" in a)  # in-page
    assert '<a href="#student-0">&lt;script&gt;' in page  # the progress page's link
    marks = [a for t, a in tags if a.get("class") == "mark" and a.get("data-school") == HOSTILE]
    assert marks  # the filter attribute holds the id as it is, once parsed


def test_without_matplotlib_it_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'tierflow\[reports\]'"):
        _hostile_page()


def _planted() -> tuple[InMemoryRepository, dict[str, DailyAttendance], list[dict]]:  # type: ignore[type-arg]
    """docs/reports.md's district: s0-s3 served from 10-01, s4-s7 met the trigger, not served."""
    cal = SchoolCalendar.from_pattern("lincoln", D(2025, 9, 1), D(2025, 10, 31))
    days = cal.days_between(D(2025, 9, 1), D(2025, 10, 31))
    start = days.index(D(2025, 10, 1))
    repo, attendance, facts = InMemoryRepository(), {}, []
    for n, missed_after in enumerate([0, 1, 0, 2, 3, 3, 2, 4]):
        sid = f"s{n}"
        absent = [0.0] * len(days)
        for i in [*range(start - 20, start - 16), *range(start, start + missed_after)]:
            absent[i] = 1.0
        attendance[sid] = DailyAttendance(sid, tuple(days), tuple(absent), grade="6")
        repo.append(WorkflowEvent(0, D(2025, 9, 29), sid, "decision", detail={
            "tier": "tier2", "interventions": ["weekly-checkin"], "legal": []}))  # fmt: skip
        if n < 4:
            repo.add(Intervention(f"iv-{n}", sid, "lincoln", "weekly-checkin", 2, "mentor",
                                  "ms-lee", "active", D(2025, 9, 30), None, None, None)
                     )  # fmt: skip
            repo.append(WorkflowEvent(0, D(2025, 10, 1), sid, "transition", f"iv-{n}", "start",
                                      "assigned", "active"))  # fmt: skip
        facts.append(_facts(sid, "lincoln", [], 4))
    return repo, attendance, facts


def _percent(cell: str) -> float:
    return float(cell.rstrip("%p ").replace("+", ""))


def test_the_effectiveness_table_recovers_the_planted_effect() -> None:
    repo, attendance, facts = _planted()
    page = dashboard(repo, facts, as_of=AS_OF, attendance=attendance, min_n=3)
    row = _cells(_parse(page), "Effectiveness as of 2025-10-31")["weekly-checkin"]
    served, analysed, before, after, change, _, matched, comparison, did, _, goal = row
    assert (served, analysed, matched, goal) == ("4", "4", "4", "0 of 0")
    # By hand: 16 of 20 days before (80%); after, 20, 19, 20 and 18 of 20 (96.25%), so
    # +16.25 points; the unserved went from 80% to 85%, 85%, 90% and 80% (+5 points).
    assert _percent(before) == 80.0 and abs(_percent(after) - 96.25) <= 0.051
    assert abs(_percent(change) - 16.25) <= 0.051 and _percent(comparison) == 5.0
    assert abs(_percent(did) - 11.25) <= 0.051
    report = effectiveness(repo, attendance, as_of=AS_OF, min_n=3)
    (r,) = report.rows
    assert row[5] == f"{100 * r.change_ci[0]:+.1f} to {100 * r.change_ci[1]:+.1f} pp"  # type: ignore[index]
    assert sum(1 for t, _ in _parse(page).tags if t == "svg") == 5


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(argv, io.StringIO())
    return status, err.getvalue()


def _store(tmp: Path) -> tuple[str, str]:
    db = tmp / "district.db"
    with SqlRepository(db) as repo:
        facts = _district(repo)
    path = tmp / "facts.jsonl"
    path.write_text("".join(json.dumps(f) + "\n" for f in facts), encoding="utf-8")
    return str(db), str(path)


def test_the_command_writes_the_page(tmp_path: Path) -> None:
    db, facts = _store(tmp_path)
    out = tmp_path / "district.html"
    status, err = _run(["report", "dashboard", "--db", db, "-r", "mtss", "--facts", facts,
                        "--as-of", "2025-10-31", "-o", str(out)])  # fmt: skip
    assert status == 0, err
    assert "wrote the dashboard" in err
    schools = _cells(_parse(out.read_text(encoding="utf-8")), "Equity and coverage by school")
    assert schools["District"] == ["4", "2", "50.0%", "3", "1", "33.3%", ""]


def test_the_command_without_matplotlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "matplotlib" else real(n, *a)
    )
    db, facts = _store(tmp_path)
    status, err = _run(["report", "dashboard", "--db", db, "-r", "mtss", "--facts", facts,
                        "--as-of", "2025-10-31", "-o", str(tmp_path / "x.html")])  # fmt: skip
    assert status == 2 and "pip install 'tierflow[reports]'" in err
    assert not (tmp_path / "x.html").exists()


# --- Chromium: the page renders, offline, with no console message --------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    if CHROMIUM.exists():
        return str(CHROMIUM)
    why = "chromium is not installed (CI installs Debian's chromium)"
    if os.environ.get("TIERFLOW_REQUIRE_BROWSER"):
        pytest.fail(f"TIERFLOW_REQUIRE_BROWSER is set but {why}")
    pytest.skip(why)


def _browser(chromium: str, tmp: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    profile.mkdir()
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: no name resolves
           "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}", *args,
           page.as_uri()]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, timeout=120, check=False, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _console(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stderr.splitlines() if ":CONSOLE" in line]


def _ink(chromium: str, tmp: Path, page: Path) -> tuple[int, int]:
    """Non-white and coloured (bar) pixels where the charts are drawn: the left half."""
    from PIL import Image

    shot = tmp / f"{page.stem}.png"
    _browser(chromium, tmp, page, f"--screenshot={shot}", "--window-size=1200,900")
    with Image.open(shot) as image:
        region = image.convert("RGB").crop((0, 160, 540, 900))
        pixels = region.tobytes()
    rgb = [tuple(pixels[i : i + 3]) for i in range(0, len(pixels), 3)]
    dark = sum(1 for r, g, b in rgb if min(r, g, b) < 200)
    coloured = sum(1 for r, g, b in rgb if max(r, g, b) - min(r, g, b) > 60)
    return dark, coloured


def test_chromium_renders_the_charts(chromium: str, tmp_path: Path, page: str) -> None:
    drawn = tmp_path / "district.html"
    drawn.write_text(page, encoding="utf-8")
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r"<svg .*?</svg>", "", page, flags=re.S), encoding="utf-8")
    (ink, bars), (text, none) = _ink(chromium, tmp_path, drawn), _ink(chromium, tmp_path, bare)
    # The bars are blue and orange; without the charts the half holds grey text only.
    assert bars > 20_000 and none < 100, (bars, none)
    assert ink > 2 * text, (ink, text)


def test_no_console_message_and_the_filters_work(chromium: str, tmp_path: Path) -> None:
    page = _hostile_page()
    target = tmp_path / "district.html"
    target.write_text(page, encoding="utf-8")
    done = _browser(chromium, tmp_path, target, "--dump-dom")
    assert _console(done) == []
    assert 'id="filters" hidden' not in done.stdout and 'id="filters"' in done.stdout
    assert 'data-pwned="' not in done.stdout and "<img" not in done.stdout
    # A school picked in the menu (as a browser restores it) hides the other schools' rows
    # and bars, and no group's.
    picked = tmp_path / "picked.html"
    picked.write_text(
        page.replace('<option value="roosevelt">', '<option value="roosevelt" selected>'),
        encoding="utf-8",
    )
    dom = _browser(chromium, tmp_path, picked, "--dump-dom").stdout
    rows = re.findall(r"<tr[^>]*>", dom)
    lincoln = [r for r in rows if 'data-school="lincoln"' in r]
    roosevelt = [r for r in rows if 'data-school="roosevelt"' in r]
    assert len(lincoln) >= 2 and all('class="off"' in r for r in lincoln)  # absence, equity...
    assert len(roosevelt) == 2 and not any("off" in r for r in roosevelt)
    assert 'class="mark off" data-school="lincoln"' in dom
    assert 'class="mark off" data-school="roosevelt"' not in dom
    assert not [r for r in rows if "data-group" in r and "data-set" not in r and "off" in r]
    # Effectiveness rows are the district's, a school's or a group's: with a school picked,
    # only that school's are shown; with nothing picked, only the district's.
    effect = [r for r in rows if "data-set" in r]
    assert len(effect) >= 3
    assert all('class="off"' in r for r in effect if 'data-school="roosevelt"' not in r)
    first = [r for r in re.findall(r"<tr[^>]*>", done.stdout) if "data-set" in r]
    shown = [r for r in first if "off" not in r]
    assert shown and all('data-school="" data-group=""' in r for r in shown)
    assert len(shown) < len(first)
    # The check can fail: a script the policy does not allow is a console message.
    tampered = tmp_path / "tampered.html"
    tampered.write_text(page.replace("apply();\n  box", "apply(); \n  box"), encoding="utf-8")
    assert _console(_browser(chromium, tmp_path, tampered, "--dump-dom")) != []


# --- Operations and progress pages ----------------------------------------------------------


def _with_work() -> str:
    """The hand district with a roster (ms-lee, limit 1) and attendance events for a.

    By hand: ms-lee owns a's and c's open interventions (b's closed): 2 open cases against a
    limit of 1 (200%, over). a is enrolled at lincoln from Monday 2025-09-01 and missed
    2025-10-06 and 2025-10-07 (a holiday-free Monday-Friday calendar): the week of 10-06 has 5
    school days, 2 absent, 60.0%; through Friday 10-31, 45 school days and 2 absent, 95.6%.
    The tier went from none to tier2 on 10-01 (the week of 09-29).
    """
    repo = InMemoryRepository()
    facts = _district(repo)
    cal = SchoolCalendar.from_pattern("lincoln", D(2025, 9, 1), D(2026, 6, 12))
    builder = FactsBuilder({"lincoln": cal})
    builder.add_enrollment(Enrollment("a", "lincoln", D(2025, 9, 1)))
    for day in (D(2025, 10, 6), D(2025, 10, 7)):
        builder.add_event(AttendanceEvent("a", "lincoln", day, "unexcused_absence"))
    roster = Roster([StaffMember("ms-lee", "lincoln", ("mentor",), caseload_limit=1)])
    return dashboard(
        repo,
        facts,
        as_of=AS_OF,
        ruleset=tierflow.load_ruleset("mtss"),
        attendance=builder,
        roster=roster,
        students=["a"],
    )


def test_operations_and_a_progress_page() -> None:
    page = _with_work()
    tables = _parse(page)
    schools = _cells(tables, "Operations by school")
    # open cases, overdue follow-ups, oldest overdue, unassigned, legal waiting, past deadline
    assert schools["lincoln"][0] == "2" and schools["lincoln"][3] == "0"
    owners = _cells(tables, "Caseload by owner")
    assert owners["ms-lee"] == ["lincoln", "2", "1", owners["ms-lee"][3], "over"]
    weeks = _cells(tables, "Progress of a by week")
    assert weeks["2025-10-06"][:3] == ["5", "2", "60.0%"]
    assert weeks["2025-10-27"][3] == "95.6%"
    assert weeks["2025-09-29"][4] == "tier2" and weeks["2025-09-22"][4] == ""
    assert '<a href="#student-0">a</a>' in page and 'id="student-0"' in page
    # chronic and equity 4, operations 2, a's progress 1; no effectiveness chart (nobody has
    # the 10 students an estimate needs)
    assert page.count("<svg ") == 7


def test_the_command_with_attendance_staff_and_a_student(tmp_path: Path) -> None:
    db, facts = _store(tmp_path)
    days = [D(2025, 9, 1) + dt.timedelta(days=i) for i in range(61)]
    cal = tmp_path / "cal.csv"
    cal.write_text("calendar_id,date\n" + "".join(f"lincoln,{d}\n" for d in days
                                                  if d.weekday() < 5))  # fmt: skip
    events = tmp_path / "events.csv"
    events.write_text("student_id,school_id,date,category\n"
                      "a,lincoln,2025-10-06,unexcused_absence\n"
                      "a,lincoln,2025-10-07,unexcused_absence\n")  # fmt: skip
    enrollments = tmp_path / "enrollments.csv"
    enrollments.write_text("student_id,school_id,entry_date\na,lincoln,2025-09-01\n")
    staff = tmp_path / "staff.csv"
    staff.write_text("staff_id,school_id,roles,caseload_limit\nms-lee,lincoln,mentor,1\n")
    out = tmp_path / "district.html"
    argv = ["report", "dashboard", "--db", db, "-r", "mtss", "--facts", facts,
            "--as-of", "2025-10-31", "--calendar", str(cal), "--events", str(events),
            "--enrollments", str(enrollments), "--staff", str(staff), "--student", "a",
            "--window", "5", "--min-n", "1", "--title", "Lincoln <district>",
            "-o", str(out)]  # fmt: skip
    status, err = _run(argv)
    assert status == 0, err
    page = out.read_text(encoding="utf-8")
    tables = _parse(page)
    assert _cells(tables, "Caseload by owner")["ms-lee"][:3] == ["lincoln", "2", "1"]
    assert _cells(tables, "Progress of a by week")["2025-10-06"][:3] == ["5", "2", "60.0%"]
    assert any(c.startswith("Effectiveness as of 2025-10-31, 5 school days") for c in tables.tables)
    assert "<title>Lincoln &lt;district&gt;</title>" in page
    with pytest.raises(SystemExit, match="--student needs --events"):
        _run([*argv[:10], "--student", "a", "-o", str(out)])


def test_the_svg_is_rebuilt_from_an_allowlist() -> None:
    """Whatever an SVG holds, only drawing elements, drawing attributes and in-chart links stay."""
    from tierflow.report._charts import _clean

    svg = (
        '<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'onload="alert(1)" viewBox="0 0 10 10"><!-- a comment --><style>*{}</style>'
        "<metadata><title>t</title></metadata><script>alert(2)</script>"
        '<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>'
        '<g id="mark:0"><path d="M 0 0" clip-path="url(#p1)" style="fill: url(http://e/x)"/></g>'
        '<defs><clipPath id="p1"><rect width="1" height="1"/></clipPath></defs>'
        '<use xlink:href="#m1"/><use xlink:href="http://e/#x"/><a href="http://e">a</a>'
        '<text x="1" onclick="alert(3)">&lt;b&gt; &amp; text</text></svg>'
    )
    out = _clean(svg, "c9", [{"school": '"><script>'}], "label <x>")
    assert not re.search(r"https?:|<script|onload|onclick|<style|<!--|metadata|foreign|<a ", out)
    assert '<path d="M 0 0" clip-path="url(#c9-p1)" />' in out  # the outside fill is dropped
    assert '<clipPath id="c9-p1">' in out and '<use href="#c9-m1" />' in out
    assert 'class="mark" data-school="&quot;&gt;&lt;script&gt;"' in out
    assert '<text x="1">&lt;b&gt; &amp; text</text>' in out
    assert 'aria-label="label &lt;x&gt;"' in out


def _coloured(chromium: str, tmp: Path, svg: str, name: str) -> int:
    """Coloured pixels of a page holding one chart (the legend's swatch counts in each)."""
    from PIL import Image

    page = tmp / f"{name}.html"
    page.write_text(f"<!DOCTYPE html><html><body>{svg}</body></html>", encoding="utf-8")
    shot = tmp / f"{name}.png"
    _browser(chromium, tmp, page, f"--screenshot={shot}", "--window-size=800,600")
    with Image.open(shot) as image:
        pixels = image.convert("RGB").tobytes()
    rgb = [tuple(pixels[i : i + 3]) for i in range(0, len(pixels), 3)]
    return sum(1 for r, g, b in rgb if max(r, g, b) - min(r, g, b) > 60)


def test_a_zero_bar_can_be_seen_and_differs_from_no_value(chromium: str, tmp_path: Path) -> None:
    from tierflow.report._charts import bar_chart

    def chart(value: float | None) -> str:
        return str(bar_chart("c", "rates", [("rate", [("lincoln", value, {})])]))

    zero, none = (_coloured(chromium, tmp_path, chart(v), n) for v, n in ((0.0, "z"), (None, "n")))
    assert zero > none + 50, (zero, none)  # a mark at 0; no value draws nothing
    assert 'class="mark"' in chart(0.0) and 'class="mark"' not in chart(None)


def _texts(svg: str) -> str:
    return " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))


def test_a_long_label_is_wrapped_whole_and_a_very_long_one_cut() -> None:
    from tierflow.report._charts import bar_chart

    long = "attendance-mentor-program-for-ninth-graders"  # 43 characters: two lines
    longer = "a " * 40 + "end"  # three lines' worth: cut after two
    svg = str(bar_chart("c", "rates", [("rate", [(long, 0.5, {}), (longer, 0.4, {})])]))
    text = _texts(svg)
    assert "attendance-mentor-program-" in text and "for-ninth-graders" in text
    assert "\u2026" in text and "end" not in text.split()


def test_each_series_of_a_chart_has_its_own_colour() -> None:
    from tierflow.report._charts import bar_chart

    names = ["open cases", "overdue", "unassigned", "legal steps waiting"]
    series = [(name, [("lincoln", 0.1 * (i + 1), {})]) for i, name in enumerate(names)]
    svg = str(bar_chart("c", "work", series, xmax=None))
    fills = set(re.findall(r"fill: ?(#[0-9a-f]{6})", svg))
    assert len(fills & {"#1f5fa8", "#d9822b", "#6b6b6b", "#2a8c55"}) == 4, fills
