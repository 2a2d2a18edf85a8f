"""Hostile values in every field an export writes stay inert text (issue 10, item 8).

A district's data and a store's rows reach the packet and the compliance report: student ids,
staff ids, notes, names, reasons, step ids, conference kinds, rule set labels and citations,
and, from a repository that returns the wrong types, dates and tier levels. Each field here
holds a value starting with a spreadsheet formula trigger and carrying HTML tags. The CSV is
read back with the ``csv`` module and every cell checked the way a spreadsheet decides what is
a formula (OWASP, "CSV Injection"); the HTML is read back with ``html.parser`` and every tag
and attribute checked against the ones the page template itself uses.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import unicodedata
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import tierflow
from tierflow.evaluate import CompiledRuleset, RulesetRef
from tierflow.ingest import Person, read_people
from tierflow.report import ComplianceReport, Packet, build_packet, compliance_report
from tierflow.store import SqlRepository
from tierflow.workflow import (
    CheckIn,
    Engine,
    InMemoryRepository,
    Intervention,
    Roster,
    StaffMember,
    WorkflowEvent,
)

D = dt.date(2025, 10, 15)
ROLES = ("mentor", "counselor", "social_worker", "attendance_team")
TAGS = '</style></title><script>alert(1)</script><img src=x onerror="alert(2)">'
"""Markup that would add elements, attributes or script if it reached a page unescaped."""

# One trigger a field, so that every trigger OWASP lists (and its variants) is exercised.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", " =", ' "@', "'\u200b+", "\uff1d", "\n-", "\0=")


def _hostile(field: str, n: int) -> str:
    return f"{TRIGGERS[n % len(TRIGGERS)]}{field}(A1)|calc {TAGS}"


STUDENT = _hostile("student", 0)
WHO = _hostile("who", 1)
NOTE = _hostile("note", 2)
CONFERENCE = _hostile("conference", 6)
STEP = _hostile("step", 4)
WHY = _hostile("why", 5)
NAME = _hostile("name", 3)
LABEL = _hostile("label", 8)
TITLE = _hostile("title", 9)
KIND = _hostile("kind", 9)
IV_ID = _hostile("ivid", 10)
DATE = _hostile("date", 11)
TIER = _hostile("tier", 0)
RULESET_ID = _hostile("ruleset", 1)


# --- the independent readers -------------------------------------------------------------------

_FORMULA = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
_SHIFTS = frozenset("\t\r\n\0")


def _is_formula(cell: str) -> bool:
    """Whether a spreadsheet could take the cell for a formula (OWASP's list, and its variants).

    A cell starting with ``'`` is text. Otherwise a formula character first, or a tab,
    carriage return, line feed or NUL first, or a formula character after leading whitespace,
    quotes or invisible characters (which some spreadsheets trim) makes it one.
    """
    if not cell or cell[0] == "'":
        return False
    if cell[0] in _FORMULA or cell[0] in _SHIFTS:
        return True
    rest = cell.lstrip()
    while rest and (rest[0] in "\"'" or unicodedata.category(rest[0]) in ("Cc", "Cf")):
        rest = rest[1:].lstrip()
    return rest[:1] in _FORMULA


def _check_csv(text: str, *values: str) -> None:
    rows = list(csv.reader(io.StringIO(text)))
    formulas = [cell for row in rows for cell in row if _is_formula(cell)]
    assert formulas == []
    flat = "\n".join(cell for row in rows for cell in row)
    for value in values:  # each hostile value is there, whole, after the neutralising quote
        assert value in flat, value
    # Every text cell is quoted (OWASP: a separator inside it cannot start a new cell): read
    # as QUOTE_NONNUMERIC, a bare cell would have to be a number.
    numeric = list(csv.reader(io.StringIO(text), quoting=csv.QUOTE_NONNUMERIC))
    assert [len(r) for r in numeric] == [len(r) for r in rows]


class _Page(HTMLParser):
    """Every element and attribute of a page, its text, and what its ``<style>`` holds."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attrs: set[tuple[str, str | None]] = set()
        self.text: list[str] = []
        self.style: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs.update(attrs)
        self._in.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs.update(attrs)

    def handle_endtag(self, tag: str) -> None:
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        (self.style if self._in[-1:] == ["style"] else self.text).append(data)


ELEMENTS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "h1",
    "h2",
    "p",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "section",
    "ul",
    "ol",
    "li",
    "br",
}
ATTRIBUTES = {("lang", "en"), ("charset", "utf-8"), ("colspan", "6"), ("colspan", "7")} | {
    ("class", c)
    for c in (
        "meta",
        "date",
        "id",
        "cites",
        "ok",
        "missing",
        "readiness",
        "interventions",
        "timeline",
        "sources",
        "flagged",
    )
}


def _running_header(page: str) -> str:
    """The text of the packet's page margins, read back from its CSS string (escapes decoded)."""
    found = re.search(r'@top-left \{ content: "((?:[^"\\\n]|\\[0-9a-f]{1,6} )*)";', page)
    assert found is not None, "the margin text is not one CSS string"
    return re.sub(r"\\([0-9a-f]{1,6}) ", lambda m: chr(int(m[1], 16)), found[1])


def _check_html(page: str, *values: str) -> None:
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert parser.tags <= ELEMENTS, parser.tags - ELEMENTS
    assert parser.attrs <= ATTRIBUTES, parser.attrs - ATTRIBUTES
    assert len(parser.style) == 1 and "<" not in parser.style[0] and "&" not in parser.style[0]
    text = "".join(parser.text)
    for value in values:  # printed as text, whole (the browser shows what the record says)
        assert value.strip() in text, value


# --- a store written through the engine -------------------------------------------------------


def _hostile_ruleset() -> CompiledRuleset:
    """The CA rule set with a hostile NOT1 label and statute title (a district's YAML)."""
    text = (Path(tierflow.__file__).parent / "rulesets" / "ca.yaml").read_text(encoding="utf-8")
    old_title = next(line for line in text.splitlines() if line.startswith('    title: "Cal. Educ'))
    text = text.replace(old_title, f"    title: {json.dumps(TITLE)}", 1)
    assert "label: NOT1 - first truancy notification" in text
    text = text.replace("label: NOT1 - first truancy notification", f"label: {json.dumps(LABEL)}")
    return tierflow.parse_ruleset(text, name="hostile-ca.yaml")


@pytest.fixture(scope="module")
def hostile_ca() -> CompiledRuleset:
    return _hostile_ruleset()


@pytest.fixture
def db(tmp_path: Path, hostile_ca: CompiledRuleset) -> Path:
    """A student with a hostile id: staff with a hostile id, notes, a conference and a step."""
    facts = {
        "student_id": STUDENT,
        "school_id": "lincoln",
        "days_enrolled": 40,
        "days_absent": 4,
        "days_unexcused": 4,
    }
    path = tmp_path / "records.db"
    with SqlRepository(path) as repo:
        engine = Engine(
            hostile_ca, repository=repo, roster=Roster([StaffMember(WHO, "lincoln", ROLES)])
        )
        plan = engine.run(D, [facts])
        tier2 = next(iv for iv in plan.opened if iv.tier_level >= 2)
        engine.start(tier2.id, on=D, by=WHO)
        engine.check_in(
            tier2.id,
            on=D + dt.timedelta(days=7),
            by=WHO,
            goal_met=False,
            outcome="mixed",
            note=NOTE,
        )
        # Not through record_conference, which takes only ids: a row imported from elsewhere.
        repo.append(
            WorkflowEvent(
                0,
                D + dt.timedelta(days=7),
                STUDENT,
                "conference",
                who=WHO,
                why=f"{CONFERENCE} held",
                detail={"kind": CONFERENCE},
            )
        )
        engine.issue_legal(STUDENT, "not1", on=D + dt.timedelta(days=8), by=WHO, facts=facts)
        repo.record_issued(STUDENT, STEP, D + dt.timedelta(days=9))
        repo.append(
            WorkflowEvent(
                0,
                D + dt.timedelta(days=9),
                STUDENT,
                "legal_issued",
                who=WHO,
                why=WHY,
                detail={"step": STEP},
            )
        )
    return path


@pytest.fixture
def people(tmp_path: Path) -> dict[str, Person]:
    roster = tmp_path / "students.csv"
    with roster.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["student_id", "name", "birth_date"], [STUDENT, NAME, ""]])
    found = read_people(roster)
    assert found.report.rejects == [] and found.people[STUDENT].name == NAME
    return found.people


STORED = (STUDENT, WHO, NOTE, CONFERENCE, STEP, WHY, LABEL, TITLE)
"""What the store and rule set hold (every one reaches both exports)."""


def test_packet_csv_neutralises_every_hostile_cell(
    db: Path, people: dict[str, Person], hostile_ca: CompiledRuleset
) -> None:
    with SqlRepository(db) as repo:
        packet = build_packet(
            repo,
            STUDENT,
            hostile_ca,
            as_of=D + dt.timedelta(days=10),
            people=people,
            include_personal=True,
        )
    _check_csv(packet.to_csv(), *(v for v in STORED if v != STEP), NAME)


def test_packet_html_escapes_every_hostile_value(
    db: Path, people: dict[str, Person], hostile_ca: CompiledRuleset
) -> None:
    with SqlRepository(db) as repo:
        packet = build_packet(
            repo,
            STUDENT,
            hostile_ca,
            as_of=D + dt.timedelta(days=10),
            step="sarb-referral",
            people=people,
            include_personal=True,
        )
    # The readiness section lists the recorded conference and the rule set's labels too.
    assert packet.readiness is not None
    assert any(LABEL in p for p in packet.readiness.present)
    assert any(CONFERENCE in p for p in packet.readiness.present)
    page = packet.to_html()
    _check_html(page, *(v for v in STORED if v != STEP), NAME)
    assert _running_header(page) == f"Student {STUDENT} - {NAME} - prepared as of 2025-10-25"


def test_compliance_csv_and_html_neutralise_every_hostile_value(
    db: Path, people: dict[str, Person], hostile_ca: CompiledRuleset
) -> None:
    with SqlRepository(db) as repo:
        report = compliance_report(repo, hostile_ca, people=people, include_personal=True)
    assert {s.step for s in report.steps} == {"not1", STEP}
    values = (STUDENT, WHO, STEP, LABEL, TITLE, NAME)
    _check_csv(report.to_csv(), *values)
    _check_html(report.to_html(), *values, CONFERENCE)


# --- a repository that returns the wrong types ----------------------------------------------


def _wrong_types() -> Iterator[Any]:
    """Records as a host's own repository might return them: text where dates and levels go."""
    ref = RulesetRef(RULESET_ID, "x", "1", "abc")
    iv = Intervention(
        IV_ID,
        STUDENT,
        "lincoln",
        KIND,
        TIER,
        "mentor",
        WHO,
        "active",  # type: ignore[arg-type]
        DATE,
        None,
        None,
        None,
        reason=WHY,
        ended_on=DATE,
    )
    yield iv
    yield CheckIn(IV_ID, DATE, WHO, outcome=NOTE)  # type: ignore[arg-type]
    # Started, so the report counts it as support tried (7c20446) and prints its fields.
    yield WorkflowEvent(
        0,
        DATE,
        STUDENT,
        "transition",
        IV_ID,
        "start",
        "assigned",
        "active",  # type: ignore[arg-type]
        WHO,
        WHY,
    )
    for kind in ("opened", KIND, "conference", "legal_issued"):
        yield WorkflowEvent(
            0,
            DATE,
            STUDENT,
            kind,
            intervention_id=IV_ID,
            who=WHO,
            why=WHY,  # type: ignore[arg-type]
            ruleset=ref,
            detail={"kind": CONFERENCE, "step": STEP},
        )


@pytest.fixture
def odd_repo() -> InMemoryRepository:
    repo = InMemoryRepository()
    for record in _wrong_types():
        if isinstance(record, Intervention):
            repo.add(record)
        elif isinstance(record, CheckIn):
            repo.add_check_in(record)
        else:
            repo.append(record)
    repo.record_issued(STUDENT, STEP, "9" + DATE)  # type: ignore[arg-type]
    return repo


ODD = (STUDENT, IV_ID, KIND, TIER, WHO, WHY, DATE, RULESET_ID)
"""What the odd repository holds in the fields a packet prints (its CSV: the timeline)."""


@pytest.fixture
def odd_packet(odd_repo: InMemoryRepository) -> Packet:
    named = {STUDENT: Person(STUDENT, NAME)}
    return build_packet(
        odd_repo, STUDENT, tierflow.load_ruleset("ca"), as_of=D, people=named, include_personal=True
    )


def test_packet_html_escapes_dates_and_tier_levels_of_any_type(odd_packet: Packet) -> None:
    _check_html(odd_packet.to_html(), *(v for v in ODD if v != RULESET_ID), NAME)  # not printed


def test_packet_csv_and_json_take_dates_of_any_type(odd_packet: Packet) -> None:
    _check_csv(odd_packet.to_csv(), *(v for v in ODD if v != TIER), NAME)
    data = json.loads(odd_packet.to_json())
    assert data["interventions"][0]["tier_level"] == TIER and data["timeline"][0]["date"] == DATE


@pytest.fixture
def odd_report(odd_repo: InMemoryRepository) -> ComplianceReport:
    report = compliance_report(odd_repo, tierflow.load_ruleset("ca"), students=[STUDENT])
    (check,) = report.steps
    assert check.flags == ("unknown_step",) and check.conferences == ((CONFERENCE, DATE),)
    return report


ODD_STEP = (STUDENT, IV_ID, KIND, TIER, WHO, STEP, "9" + DATE)
"""What the odd repository holds in the fields a compliance report prints."""


def test_compliance_html_escapes_dates_and_tier_levels_of_any_type(
    odd_report: ComplianceReport,
) -> None:
    _check_html(odd_report.to_html(), *ODD_STEP, CONFERENCE, DATE)


def test_compliance_csv_takes_dates_of_any_type(odd_report: ComplianceReport) -> None:
    _check_csv(odd_report.to_csv(), *ODD_STEP)
