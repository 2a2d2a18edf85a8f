"""Benchmark: a day's letters home from a store, against rendering the same templates by hand.

A district of ``--students`` generated Tier 2 students (mtss: two absences in 30 days), 1,000 a
school, 30% of the families reading Spanish, is run through the engine for one day into a SQLite
store: each student's weekly check-in and family call call for two letters (the check-in
invitation and the days-missed letter). Then:

- **tierflow**: ``produce_notices`` finds what is due in the store, builds each letter's
  context, renders it, writes one page a letter and one a school, the mail-house CSV, and
  records every notice in the outbox (one transaction);
- **by hand**: the fastest straightforward code that writes the same letters: it already knows
  who gets which letter (no store), renders the same compiled templates (the same sandboxed
  environment) with the same context, and writes one HTML file a letter. No outbox, no school
  page, no CSV, no checks.

Both must produce the same letter (every rendered template of the hand-written side is found,
byte for byte, in tierflow's page of that letter) before any figure is printed. Times are
process CPU time; the two sides alternate, each on a fresh copy of the store, ``--repeat``
samples each; the ratio is given with its spread.

Run::

    python benchmarks/bench_notices.py                    # 5,000 students, 10,000 letters
    python benchmarks/bench_notices.py --students 500 --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import tierflow
from tierflow.ingest import Person
from tierflow.notices import (
    AttendanceFigures,
    DecisionSummary,
    DistrictInfo,
    FamilyContact,
    NoticeContext,
    SchoolInfo,
    StaffContact,
    StepInfo,
    StudentInfo,
)
from tierflow.notices._env import STATE, RenderState, environment
from tierflow.report import produce_notices
from tierflow.store import SqlRepository
from tierflow.workflow import Engine, Roster, StaffMember

ON = dt.date(2025, 10, 6)
DISTRICT = DistrictInfo("Benchmark USD", "(707) 555-0100")
NOTICES = {"weekly-checkin": "mtss-checkin-invitation", "family-call": "mtss-days-missed-nudge"}


def district(n: int) -> dict[str, Any]:
    """The students' facts, families, names, schools and staff."""
    facts = [
        {
            "student_id": f"S{i:06d}",
            "school_id": f"school-{i // 1000:03d}",
            "grade": 3 + i % 6,
            "days_enrolled": 30,
            "days_absent": 2 + (i % 3) / 2,
        }
        for i in range(n)
    ]
    families = {
        f["student_id"]: FamilyContact(
            f"Parent {i}",
            "es" if i % 10 < 3 else "en",
            (f"{100 + i} Oak St", f"Sampleton, CA {95500 + i % 7}"),
        )
        for i, f in enumerate(facts)
    }
    students = {
        f["student_id"]: Person(f["student_id"], f"Kid{i} Doe", None, f"Kid{i}", "Doe")
        for i, f in enumerate(facts)
    }
    schools = {
        f["school_id"]: SchoolInfo(f"School {f['school_id']}", ("1 Main St",), "(707) 555-0110")
        for f in facts
    }
    staff = [
        StaffMember(f"{school}-{k}", school, ("mentor", "counselor"), 10_000, f"Staff {k}")
        for school in schools
        for k in range(2)
    ]
    return {
        "facts": facts,
        "families": families,
        "students": students,
        "schools": schools,
        "staff": staff,
    }


def fill(path: Path, data: dict[str, Any]) -> Engine:
    """Run the day into the store at ``path``; return an engine over it (store open)."""
    engine = Engine(
        tierflow.load_ruleset("mtss"),
        repository=SqlRepository(path),
        roster=Roster(data["staff"]),
    )
    with engine.repository.unit():
        engine.run(ON, data["facts"])
    return engine


def by_tierflow(engine: Engine, data: dict[str, Any], out: Path) -> int:
    mailing = produce_notices(
        engine,
        on=ON,
        directory=out,
        facts=data["facts"],
        families=data["families"],
        students=data["students"],
        schools=data["schools"],
        district=DISTRICT,
    )
    assert not mailing.problems, mailing.problems[:3]
    return len(mailing.notices)


def by_hand(
    engine: Engine, data: dict[str, Any], out: Path, owners: dict[tuple[str, str], str]
) -> dict[tuple[str, str], str]:
    """Render every letter with the compiled templates and write it: who gets what is known."""
    book = engine.ruleset.program.notices
    compiled: dict[tuple[str, str], Any] = {}
    letters: dict[tuple[str, str], str] = {}
    out.mkdir(parents=True, exist_ok=True)
    staff = {m.id: m for m in data["staff"]}
    groups: dict[tuple[str, int], list[float]] = {}
    for facts in data["facts"]:
        groups.setdefault((facts["school_id"], facts["grade"]), []).append(facts["days_absent"])
    # The median days absent of a school's grade, for groups of 10 or more (as documented).
    medians = {k: statistics.median(v) for k, v in groups.items() if len(v) >= 10}
    for facts in data["facts"]:
        sid = facts["student_id"]
        family = data["families"][sid]
        person = data["students"][sid]
        school = data["schools"][facts["school_id"]]
        for target, notice in NOTICES.items():
            lang = family.language
            key = (notice, lang)
            template = compiled.get(key)
            if template is None:
                template = environment(lang, True).from_string(book.sources[key].text)
                compiled[key] = template
            member = staff[owners[(sid, target)]]
            context = NoticeContext(
                student=StudentInfo(sid, person.first_name, person.last_name, str(facts["grade"])),
                family=family,
                school=school,
                district=DISTRICT,
                attendance=AttendanceFigures(
                    ON,
                    facts["days_enrolled"],
                    facts["days_absent"],
                    0.0,
                    0,
                    (),
                    medians.get((facts["school_id"], facts["grade"])),
                ),
                staff=StaffContact(member.name, phone=school.phone),
                decision=DecisionSummary(
                    "tier2", "Tier 2 - targeted support", ("weekly-checkin", "family-call")
                ),
                letter_date=ON,
                step=StepInfo(target, book.notices[notice].label or ""),
            )
            state = RenderState(ON, frozenset(book.notices[notice].elements))
            text = template.render({**context.as_mapping(), STATE: state})
            (out / f"{sid}-{notice}.html").write_text(text, "utf-8")
            letters[(sid, notice)] = text
    return letters


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5, help="samples of each side")
    args = parser.parse_args(argv)
    data = district(args.students)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        filled = work / "day.db"
        started = time.perf_counter()
        engine = fill(filled, data)
        owners = {
            (iv.student_id, iv.intervention): iv.owner or ""
            for iv in engine.repository.open_interventions()
        }
        engine.repository.close()  # type: ignore[attr-defined]
        print(f"store: {args.students:,} students run in {time.perf_counter() - started:.1f} s")

        def fresh(n: int) -> Engine:
            copy = work / f"copy-{n}.db"
            shutil.copy(filled, copy)
            return Engine(
                tierflow.load_ruleset("mtss"),
                repository=SqlRepository(copy),
                roster=Roster(data["staff"]),
            )

        # The same letters, or no figures.
        check = fresh(0)
        count = by_tierflow(check, data, work / "check-tierflow")
        hand = by_hand(check, data, work / "check-hand", owners)
        assert count == len(hand) == 2 * args.students, (count, len(hand))
        pages = {p.name: p for p in (work / "check-tierflow" / ON.isoformat()).rglob("S*.html")}
        for (sid, notice), text in hand.items():
            [page] = [p for name, p in pages.items() if name.startswith(f"{sid}-{notice}-")]
            assert text in page.read_text("utf-8"), (sid, notice)
        check.repository.close()  # type: ignore[attr-defined]
        print(f"agreement: {len(hand):,} letters, each the same on both sides")

        ours: list[float] = []
        theirs: list[float] = []
        for n in range(1, args.repeat + 1):
            engine = fresh(n)
            t = time.process_time()
            by_tierflow(engine, data, work / f"t{n}")
            ours.append(time.process_time() - t)
            engine.repository.close()  # type: ignore[attr-defined]
            t = time.process_time()
            by_hand(engine, data, work / f"h{n}", owners)
            theirs.append(time.process_time() - t)
            shutil.rmtree(work / f"t{n}")
            shutil.rmtree(work / f"h{n}")
    letters = 2 * args.students
    ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
    t_med, h_med = statistics.median(ours), statistics.median(theirs)
    print(f"letters: {letters:,} ({args.repeat} alternating samples, process CPU time)")
    print(
        f"  tierflow produce_notices: {t_med:7.2f} s  ({letters / t_med:,.0f} letters/s, "
        f"{1000 * t_med / letters:.2f} ms a letter)"
    )
    print(
        f"  by hand (render + write): {h_med:7.2f} s  ({letters / h_med:,.0f} letters/s, "
        f"{1000 * h_med / letters:.2f} ms a letter)"
    )
    print(
        f"  ratio: {statistics.median(ratios):.2f}x (min {min(ratios):.2f}x, "
        f"max {max(ratios):.2f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
