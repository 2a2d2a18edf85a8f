"""The student packet: the timeline with its rules and statutes, in JSON, CSV and HTML."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

import tierflow
from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.cli import main
from tierflow.report import build_packet
from tierflow.store import SqlRepository
from tierflow.workflow import Engine, Roster, StaffMember, WorkflowEvent

CA = tierflow.load_ruleset("ca")
D = dt.date(2025, 10, 15)
TRUANT = {
    "student_id": "c1",
    "school_id": "lincoln",
    "days_enrolled": 40,
    "days_absent": 4,
    "days_unexcused": 4,
}
ROLES = ("mentor", "counselor", "social_worker", "attendance_team")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "records.db"
    with SqlRepository(path) as repo:
        engine = Engine(
            CA, repository=repo, roster=Roster([StaffMember("ms-lee", "lincoln", ROLES)])
        )
        plan = engine.run(D, [TRUANT])
        assert plan.legal_due and plan.opened
        engine.issue_legal("c1", "not1", on=D, by="clerk", facts=TRUANT)
        tier2 = next(iv for iv in plan.opened if iv.tier_level >= 2)
        engine.start(tier2.id, on=D, by="ms-lee")
        engine.check_in(
            tier2.id,
            on=D + dt.timedelta(days=7),
            by="ms-lee",
            goal_met=False,
            outcome="mixed",
            note="bus pass <arranged> & family called",
        )
    return path


def test_the_packet_holds_every_event_with_its_citations(db: Path) -> None:
    with SqlRepository(db) as repo:
        packet = build_packet(repo, "c1", CA, as_of=D + dt.timedelta(days=8))
        events = repo.events("c1")
    assert [e.on for e in packet.timeline] == [e.at for e in events]
    assert [e.kind for e in packet.timeline] == [e.kind for e in events]
    issued = next(e for e in packet.timeline if e.kind == "legal_issued")
    refs = {r.id: r.title for r in CA.spec.references}
    assert issued.cites == tuple(refs[c] for c in CA.legal_steps[0].cites)
    assert issued.what == f"Legal step issued: {CA.legal_steps[0].label}"
    assert {e.ruleset for e in packet.timeline} <= {str(CA.ref), ""}
    check_in = next(e for e in packet.timeline if "check_in" in e.what)
    assert "outcome mixed" in check_in.what and "note: bus pass" in check_in.what
    decision = packet.timeline[0]
    assert decision.kind == "decision" and decision.cites


def test_sarb_readiness_names_what_is_missing_then_what_is_present(db: Path) -> None:
    with SqlRepository(db) as repo:
        before = build_packet(repo, "c1", CA, as_of=D + dt.timedelta(days=8), step="sarb-referral")
        assert before.readiness is not None and not before.readiness.ready
        missing = " | ".join(before.readiness.missing)
        assert "NOT2" in missing and "NOT3" in missing and "a SART meeting held" in missing
        assert any("NOT1" in p for p in before.readiness.present)
        assert any("outcome mixed" in p for p in before.readiness.present)
        repo.record_issued("c1", "not2", D + dt.timedelta(days=20))
        repo.record_issued("c1", "not3", D + dt.timedelta(days=40))
        engine = Engine(CA, repository=repo)
        engine.record_conference("c1", "sart", on=D + dt.timedelta(days=41), by="ms-lee")
        # The rest of ca's SARB checklist: a parent conference attempted, a home visit waived
        # with a reason, the attendance contract started (4 contacts with the check-in).
        engine.record_conference(
            "c1",
            "parent_conference",
            on=D + dt.timedelta(days=30),
            by="ms-lee",
            outcome="attempted",
            method="call",
        )
        engine.record_conference(
            "c1",
            "home_visit_waived",
            on=D + dt.timedelta(days=31),
            by="ms-lee",
            note="unsafe address",
        )
        contract = next(iv for iv in repo.for_student("c1") if iv.intervention == "attendance-plan")
        engine.start(contract.id, on=D + dt.timedelta(days=1), by="ms-lee")
        # Nine truancies: SARB is warranted (ca's 9th truancy).
        nine = TRUANT | {"days_enrolled": 70, "days_absent": 9, "days_unexcused": 9}
        day = D + dt.timedelta(days=45)
        after = build_packet(repo, "c1", CA, as_of=day, step="sarb-referral", facts=nine)
        # Without facts, the ones the engine recorded last (4 truancies) say it is not warranted.
        recorded = build_packet(repo, "c1", CA, as_of=day, step="sarb-referral").readiness
    assert after.readiness is not None and after.readiness.ready, after.readiness
    assert after.readiness.missing == () and after.readiness.verdict == "ready"
    assert "parent conference attempted on 2025-11-14 by call" in after.readiness.present
    assert recorded is not None and not recorded.ready and recorded.missing == ()
    assert recorded.verdict == "not warranted: truancies = 4 >= not3_from = 9 is false"
    assert recorded.facts_on == D


def test_readiness_prints_records_that_are_not_ids(db: Path) -> None:
    # A conference kind and a step imported from another system are not ids: the readiness
    # check lists what was recorded instead of failing on it (it raised a pydantic
    # ValidationError, as the engine's history model refuses such kinds).
    with SqlRepository(db) as repo:
        # The engine refuses such a kind (record_conference takes ids): the row is imported.
        kind = "Parent meeting (imported)"
        repo.append(
            WorkflowEvent(
                0,
                D + dt.timedelta(days=5),
                "c1",
                "conference",
                who="ms-lee",
                why=f"{kind} held",
                detail={"kind": kind},
            )
        )
        repo.record_issued("c1", "Letter 1 (paper)", D + dt.timedelta(days=6))
        packet = build_packet(repo, "c1", CA, as_of=D + dt.timedelta(days=8), step="sarb-referral")
    assert packet.readiness is not None and not packet.readiness.ready
    assert "Parent meeting (imported) held on 2025-10-20" in packet.readiness.present
    assert "a SART meeting held" in packet.readiness.missing


def test_an_unknown_step_is_refused(db: Path) -> None:
    with SqlRepository(db) as repo, pytest.raises(KeyError, match="no legal step 'sarb'"):
        build_packet(repo, "c1", CA, as_of=D, step="sarb")


def test_json_and_csv_hold_the_same_timeline(db: Path) -> None:
    out = io.StringIO()
    assert (
        main(
            [
                "export",
                "packet",
                "c1",
                "--db",
                str(db),
                "--format",
                "json",
                "--as-of",
                "2025-11-01",
                "--readiness",
                "sarb-referral",
            ],
            out,
        )
        == 0
    )
    data = json.loads(out.getvalue())
    assert data["student_id"] == "c1" and data["readiness"]["ready"] is False
    out = io.StringIO()
    assert main(["export", "packet", "c1", "--db", str(db), "--format", "csv"], out) == 0
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["kind"] for r in rows] == [e["kind"] for e in data["timeline"]]
    assert [r["cites"] for r in rows] == ["; ".join(e["cites"]) for e in data["timeline"]]


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []
        self.cells = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("meta", "br"):
            self.stack.append(tag)
        self.cells += tag == "td"

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_html_page_is_well_formed_escaped_and_printable(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "c1.html"
    args = ["--as-of", "2025-11-01", "--readiness", "sarb-referral", "-o", str(target)]
    assert main(["export", "packet", "c1", "--db", str(db), *args], io.StringIO()) == 0
    page = target.read_text(encoding="utf-8")
    parser = _Page()
    parser.feed(page)
    assert parser.stack == [] and parser.cells > 10
    assert "<arranged>" not in page and "bus pass &lt;arranged&gt; &amp; family" in page
    assert "@media print" in page and "table-header-group" in page
    text = "".join(parser.text)
    assert "SARB referral: not warranted: truancies = 4" in text and "student c1" in text


def test_export_without_records_or_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "packet", "c1", "--db", str(tmp_path / "no.db")], io.StringIO()) == 2
    db = tmp_path / "empty.db"
    SqlRepository(db).close()
    assert main(["export", "packet", "nobody", "--db", str(db)], io.StringIO()) == 2
    assert "give --ruleset" in capsys.readouterr().err


def test_an_intervention_opened_but_never_started_is_not_support(tmp_path: Path) -> None:
    # Seven unexcused days (2025-09-08..16), no roster: the run of 09-22 opens four
    # interventions nobody owns or starts, and NOT1 is issued. On 10-06 NOT2 needs one tier 2+
    # intervention tried (EC 48261/48262, ca.yaml): none was, so the engine blocks it, and the
    # packet must not call it ready (it did: every opened intervention counted as tried).
    year = (dt.date(2025, 8, 18), dt.date(2026, 5, 29))
    builder = FactsBuilder({"s": SchoolCalendar.from_pattern("s", *year)})
    builder.add_enrollment(Enrollment("x", "s", year[0], grade=7))
    for day in (8, 9, 10, 11, 12, 15, 16):
        builder.add_event(AttendanceEvent("x", "s", dt.date(2025, 9, day), "unexcused_absence"))
    first, second = dt.date(2025, 9, 22), dt.date(2025, 10, 6)
    with SqlRepository(tmp_path / "r.db") as repo:
        engine = Engine(CA, repository=repo)
        facts = builder.facts_for("x", first)
        assert engine.run(first, [facts]).opened
        engine.issue_legal("x", "not1", on=first, by="clerk", facts=facts)
        plan = engine.run(second, [builder.facts_for("x", second)])
        assert [a.step for _, a in plan.legal_blocked] == ["not2"] and not plan.legal_due
    with SqlRepository(tmp_path / "r.db") as repo:  # reopened: read from the store alone
        readiness = build_packet(repo, "x", CA, as_of=second, step="not2").readiness
        assert readiness is not None and not readiness.ready
        assert readiness.missing == (
            "1 supportive tier 2+ intervention(s) must have been tried; found 0",
        )
        assert not any("(tier" in p for p in readiness.present)
        # Started on 10-08: it counts, from that day, not from the day it was opened.
        tier2 = next(iv for iv in repo.for_student("x") if iv.tier_level >= 2)
        Engine(CA, repository=repo).start(tier2.id, on=dt.date(2025, 10, 8), by="ms-lee")
        started = build_packet(repo, "x", CA, as_of=dt.date(2025, 10, 8), step="not2").readiness
    assert started is not None and started.ready, started
    assert (
        f"{tier2.intervention} (tier {tier2.tier_level}) from 2025-10-08, no outcome recorded"
        in (started.present)
    )
