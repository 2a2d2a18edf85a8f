"""Benchmark: the SQL store (SQLite, PostgreSQL) against hand-written inserts and queries.

A day's run: 100,000 generated students (``tierflow._sample.generate_facts``, spread over 60
schools with a staff roster) go through ``Engine.run`` under the built-in ``ca`` rule set in one
batch on a fresh store: decisions, interventions opened, legal steps reported due, each record
hash-chained per student, committed. Timed to the commit; the same run on ``InMemoryRepository``
times the engine alone. The baseline writes the same records by hand: from the events the engine
reported (a hook) and the interventions it opened, it builds the rows itself (JSON text, a
sha256 chain per student) and inserts them with one ``executemany`` per table in one
transaction, with plain ``sqlite3`` (``psycopg`` for PostgreSQL) into tables equal to the
store's. Its row counts, and each student's chain length, must equal the store's before any
figure is printed. The ratio reported is tierflow's committed run over the baseline's inserts
alone (the same rows into the same tables); the time the baseline takes to build its rows (JSON
bodies from shallow dicts, the sha256 chain) is printed apart, with the ratio including it.

A year: a 50,000-student district is run every 20 school days of a 180-day year (absences
accumulate at rates that drift over the year); between runs staff start the interventions
they are given, check in once a run on the date a follow-up came (some are missed and
flagged overdue) and issue most legal steps reported due, holding a parent conference now and then;
the runs review, escalate and report what follows. Then the student timeline query
(``build_packet``: the student's events and interventions read from the store and described)
and the reads under it (``repo.events`` and ``repo.for_student``) are timed on random
students, against a hand-written ``sqlite3`` (``psycopg``) query of the same rows, which must
come back the same. On PostgreSQL the year is the SQLite store's rows copied into a fresh store.

Run::

    python benchmarks/bench_store.py                         # 100,000 a day; a 50,000 year
    python benchmarks/bench_store.py --students 20000 --year-students 5000
    python benchmarks/bench_store.py --postgres postgresql+psycopg://me@127.0.0.1/db
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

import tierflow
from tierflow._sample import SAMPLE_AS_OF, generate_facts
from tierflow.errors import WorkflowError
from tierflow.evaluate import CompiledRuleset
from tierflow.report import build_packet
from tierflow.store import SqlRepository
from tierflow.workflow import (
    OPEN_STATES,
    Engine,
    InMemoryRepository,
    Intervention,
    Roster,
    StaffMember,
    WorkflowEvent,
)

TABLES = ("events", "chain_heads", "interventions", "check_ins", "issued")
COLUMNS = {
    "events": (
        "row",
        "student_id",
        "seq",
        "record",
        "intervention_id",
        "body",
        "prev_hash",
        "hash",
    ),
    "chain_heads": ("student_id", "seq", "hash"),
    "interventions": (
        "pos",
        "id",
        "student_id",
        "is_open",
        "version",
        "body",
        "catalog_id",
        "owner",
        "owner_role",
        "school_id",
        "next_follow_up",
    ),
    "check_ins": ("pos", "intervention_id", "body"),
    "issued": ("student_id", "step", "on"),
}
SCHOOLS_PER_LEVEL = 20  # 60 schools: each of the generator's three levels, 20 times
YEAR_START = dt.date(2025, 8, 25)  # a Monday
YEAR_DAYS = 180

# --- the district ------------------------------------------------------------------------------


def district(students: int, seed: int = 2025) -> list[dict[str, Any]]:
    """Generated facts for ``students``, over 60 schools (the generator names three)."""
    out = []
    for i, f in enumerate(generate_facts(students, seed)):
        f["school_id"] = f"{f['school_id']}-{(i // 3) % SCHOOLS_PER_LEVEL:02d}"
        out.append(f)
    return out


def roster(ruleset: CompiledRuleset, facts: list[dict[str, Any]]) -> Roster:
    """Staff for every owner role at every school: one per 200 students, 75 cases each."""
    per_school = Counter(str(f["school_id"]) for f in facts)
    roles = sorted({iv.owner for iv in ruleset.interventions.values()})
    return Roster(
        StaffMember(f"{school}-{role}-{k}", school, (role,), caseload_limit=75)
        for school, n in sorted(per_school.items())
        for role in roles
        for k in range(max(2, n // 200))
    )


# --- databases ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Db:
    """A database a store or a baseline writes: a SQLite file, or a PostgreSQL schema."""

    kind: str  # "sqlite" or "postgresql"
    target: str  # a file path, or the server's URL
    schema: str | None = None

    def store(self) -> SqlRepository:
        """Open (and migrate) tierflow's store here."""
        return SqlRepository(self.target, schema=self.schema)

    def dbapi(self) -> Any:
        """A plain driver connection (sqlite3 or psycopg), outside tierflow."""
        if self.kind == "sqlite":
            return sqlite3.connect(self.target)
        import psycopg

        url = sa.make_url(self.target).set(drivername="postgresql")
        return psycopg.connect(
            url.render_as_string(hide_password=False), options=f"-c search_path={self.schema}"
        )

    @property
    def mark(self) -> str:
        """The driver's parameter marker."""
        return "?" if self.kind == "sqlite" else "%s"

    def drop(self) -> None:
        """Remove it (the file, or the schema)."""
        if self.kind == "sqlite":
            Path(self.target).unlink(missing_ok=True)
            return
        engine = sa.create_engine(self.target)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        engine.dispose()


def counts(db: Db) -> dict[str, int]:
    """Rows per table, read with the plain driver."""
    conn = db.dbapi()
    try:
        cur = conn.cursor()
        out = {}
        for table in TABLES:
            cur.execute(f"SELECT count(*) FROM {table}")
            out[table] = cur.fetchone()[0]
        return out
    finally:
        conn.close()


def chain_lengths(db: Db) -> dict[str, int]:
    """Each student's chain length as the events table holds it."""
    conn = db.dbapi()
    try:
        cur = conn.cursor()
        cur.execute("SELECT student_id, max(seq) FROM events GROUP BY student_id")
        return dict(cur.fetchall())
    finally:
        conn.close()


@contextmanager
def places(kind: str, directory: Path, url: str | None, *names: str) -> Iterator[list[Db]]:
    """Fresh databases of a kind, removed afterwards."""
    tag = uuid.uuid4().hex[:8]
    if kind == "sqlite":
        dbs = [Db("sqlite", str(directory / f"{name}-{tag}.db")) for name in names]
    else:
        assert url is not None
        dbs = [Db("postgresql", url, f"bench_{name}_{tag}") for name in names]
    try:
        yield dbs
    finally:
        for db in dbs:
            db.drop()


# --- a day's run -------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """What ``json.dumps`` cannot write itself, as a developer would write it.

    A dataclass becomes a shallow dict of its fields (``json.dumps`` walks into them itself):
    ``dataclasses.asdict`` deep-copies every value first, work the rows do not need.
    """
    if isinstance(value, Mapping):
        return dict(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def baseline_rows(
    events: list[WorkflowEvent], opened: list[Intervention]
) -> dict[str, list[tuple[Any, ...]]]:
    """The rows a hand-written store would write for these events and openings.

    Each opening is an ``intervention`` row of the student's chain just before its ``opened``
    event (as the store writes it); bodies are plain JSON; each row's hash is the sha256 of the
    previous hash and its body.
    """
    by_id = {iv.id: iv for iv in opened}
    heads: dict[str, tuple[int, str]] = {}
    ev_rows: list[tuple[Any, ...]] = []
    iv_rows: list[tuple[Any, ...]] = []

    def link(sid: str, record: str, iid: str | None, body: str) -> None:
        seq, prev = heads.get(sid, (0, "0" * 64))
        digest = hashlib.sha256((prev + body).encode()).hexdigest()
        ev_rows.append((sid, seq + 1, record, iid, body, prev, digest))
        heads[sid] = (seq + 1, digest)

    for e in events:
        if e.kind == "opened" and e.intervention_id in by_id:
            iv = by_id[e.intervention_id]
            body = json.dumps(_plain(iv), default=_plain, sort_keys=True)
            iv_rows.append(
                (iv.id, iv.student_id, iv.intervention, iv.state in OPEN_STATES, iv.version, body)
            )
            link(iv.student_id, "intervention", iv.id, f'{{"op": "add", "state": {body}}}')
        body = json.dumps(e._asdict(), default=_plain, sort_keys=True)
        link(e.student_id, "event", e.intervention_id, body)
    return {
        "events": ev_rows,
        "chain_heads": [(sid, seq, h) for sid, (seq, h) in heads.items()],
        "interventions": iv_rows,
        "check_ins": [],
        "issued": [],
    }


INSERTS = {
    "events": ("student_id", "seq", "record", "intervention_id", "body", "prev_hash", "hash"),
    "chain_heads": ("student_id", "seq", "hash"),
    "interventions": ("id", "student_id", "catalog_id", "is_open", "version", "body"),
    "check_ins": ("intervention_id", "body"),
    "issued": ("student_id", "step", "on"),
}


def insert_by_hand(db: Db, rows: dict[str, list[tuple[Any, ...]]]) -> tuple[float, float]:
    """One executemany per table, one transaction, with the plain driver.

    Returns:
        Seconds taken, and this process's CPU seconds.
    """
    conn = db.dbapi()
    try:
        cur = conn.cursor()
        started, started_cpu = time.perf_counter(), time.process_time()
        for table, cols in INSERTS.items():
            if rows[table]:
                names = ", ".join(f'"{c}"' for c in cols)
                marks = ", ".join(db.mark for _ in cols)
                cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows[table])
        conn.commit()
        return time.perf_counter() - started, time.process_time() - started_cpu
    finally:
        conn.close()


def day(
    kind: str,
    students: int,
    ruleset_name: str,
    directory: Path,
    url: str | None,
) -> dict[str, Any] | None:
    """The day's run on one kind of database; None (after saying why) on a mismatch."""
    ruleset = tierflow.load_ruleset(ruleset_name)
    facts = district(students)
    staff = roster(ruleset, facts)
    with places(kind, directory, url, "day", "base") as (store_db, base_db):
        repo = store_db.store()
        engine = Engine(ruleset, repository=repo, roster=staff)
        seen: list[WorkflowEvent] = []
        engine.subscribe(seen.append)
        started, started_cpu = time.perf_counter(), time.process_time()
        with repo.batch():
            plan = engine.run(SAMPLE_AS_OF, facts)
        seconds, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        repo.close()
        stored = counts(store_db)
        lengths = chain_lengths(store_db)

        base_db.store().close()  # the same tables, created by the store's migrations
        started = time.process_time()
        rows = baseline_rows(seen, plan.opened)
        build = time.process_time() - started  # CPU alone: no I/O
        insert, insert_cpu = insert_by_hand(base_db, rows)
        by_hand = counts(base_db)
        base_lengths = chain_lengths(base_db)
    if stored != by_hand or lengths != base_lengths:
        differ = sorted(
            s for s in lengths.keys() | base_lengths.keys() if lengths.get(s) != base_lengths.get(s)
        )
        print(
            f"MISMATCH ({kind}): the store holds {stored}, the hand-written rows {by_hand}; "
            f"{len(differ)} students' chains differ (first: {differ[:3]})"
        )
        return None

    memory = Engine(ruleset, repository=InMemoryRepository(), roster=roster(ruleset, facts))
    started = time.process_time()
    memory.run(SAMPLE_AS_OF, facts)
    engine_alone = time.process_time() - started  # CPU-bound: no I/O
    return {
        "students": students,
        "seconds": seconds,
        "cpu": cpu,
        "rows": sum(stored.values()),
        "counts": stored,
        "opened": len(plan.opened),
        "unassigned": len(plan.unassigned),
        "events": len(seen),
        "build": build,
        "insert": insert,
        "insert_cpu": insert_cpu,
        "engine": engine_alone,
    }


def print_day(kind: str, d: dict[str, Any]) -> None:
    n, s, rows = d["students"], d["seconds"], d["rows"]
    c = d["counts"]
    print(
        f"day ({kind}): {n:,} students; store rows equal the hand-written rows: "
        f"{c['events']:,} events rows ({d['events']:,} workflow events), "
        f"{c['interventions']:,} interventions ({d['unassigned']:,} without an owner), "
        f"{c['chain_heads']:,} chain heads"
    )
    print(
        f"  tierflow: engine.run in one batch, committed  {s:8.2f} s  {n / s:10,.0f} students/s"
        f"  {rows / s:10,.0f} rows/s  (process CPU {d['cpu']:.2f} s)"
    )
    print(
        f"  the engine alone (InMemoryRepository), CPU     {d['engine']:8.2f} s  "
        f"{n / d['engine']:10,.0f} students/s  (the store adds {d['cpu'] - d['engine']:.2f} s CPU)"
    )
    print(
        f"  hand-written inserts: executemany + commit     {d['insert']:8.2f} s  "
        f"{rows / d['insert']:10,.0f} rows/s  (process CPU {d['insert_cpu']:.2f} s)"
    )
    print(
        f"  ratio tierflow / hand-written inserts: {s / d['insert']:.1f}x "
        f"(process CPU: {d['cpu'] / d['insert_cpu']:.1f}x)"
    )
    base = d["build"] + d["insert_cpu"]
    print(
        f"  (hand-written rows built first: JSON bodies and sha256 chain, CPU {d['build']:.2f} s; "
        f"in CPU, tierflow / built + inserted {d['cpu'] / base:.1f}x, the store's part alone "
        f"/ built + inserted {(d['cpu'] - d['engine']) / base:.1f}x)"
    )


# --- a year ------------------------------------------------------------------------------------


def school_days() -> list[dt.date]:
    """The year's school days (weekdays from YEAR_START; the engine's default calendar)."""
    out: list[dt.date] = []
    d = YEAR_START
    while len(out) < YEAR_DAYS:
        if d.weekday() < 5:
            out.append(d)
        d += dt.timedelta(days=1)
    return out


class Year:
    """Facts that change over the year: absences accumulate at a rate drifting per student."""

    def __init__(self, students: int, seed: int = 2025) -> None:
        self.base = district(students, seed)
        rng = random.Random(seed + 1)
        self.rates = []
        for f in self.base:
            r0 = f["days_absent"] / f["days_enrolled"]
            self.rates.append((r0, min(0.9, r0 * rng.choice((0.4, 0.7, 1.0, 1.0, 1.3, 1.8)))))
        self.absent = [0.0] * students

    def facts(self, enrolled: int) -> list[dict[str, Any]]:
        """Every student's facts after ``enrolled`` school days."""
        out = []
        t = enrolled / YEAR_DAYS
        for i, f in enumerate(self.base):
            r0, r1 = self.rates[i]
            absent = min(
                enrolled, max(self.absent[i], round((r0 + (r1 - r0) * t) * enrolled * 2) / 2)
            )
            self.absent[i] = absent
            share = f["days_unexcused"] / f["days_absent"] if f["days_absent"] else 0.5
            unexcused = round(absent * share * 2) / 2
            tardies = round(f["tardies"] * enrolled / 100)
            out.append(
                {
                    "student_id": f["student_id"],
                    "school_id": f["school_id"],
                    "grade": f["grade"],
                    "days_enrolled": enrolled,
                    "days_absent": absent,
                    "days_excused": absent - unexcused,
                    "days_unexcused": unexcused,
                    "days_suspended": 0.0,
                    "tardies": tardies,
                    "tardies_over_30": min(tardies, round(f["tardies_over_30"] * enrolled / 100)),
                    "causes": f["causes"],
                    "groups": f["groups"],
                }
            )
        return out


def fill_year(db: Db, students: int, ruleset_name: str, cadence: int) -> dict[str, Any]:
    """Run a year on a fresh store; what it did."""
    ruleset = tierflow.load_ruleset(ruleset_name)
    year = Year(students)
    days = school_days()
    rng = random.Random(7)
    repo = db.store()
    engine = Engine(ruleset, repository=repo, roster=roster(ruleset, year.base))
    did: Counter[str] = Counter()
    due: list[tuple[str, str]] = []
    facts: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    for k in range(cadence, YEAR_DAYS + 1, cadence):
        today = days[k - 1]
        with repo.batch():  # staff work since the last run
            for iv in repo.open_interventions():
                owner = iv.owner
                if owner is None:
                    continue
                if iv.state == "assigned":
                    iv = engine.start(iv.id, on=iv.opened_on, by=owner)
                    did["started"] += 1
                # One logged contact a run (every two or four weeks) for a follow-up that came, on
                # its date; some are missed (the run flags them overdue).
                if iv.next_follow_up is not None and iv.next_follow_up <= today:
                    if rng.random() < 0.15:
                        did["follow-ups missed"] += 1
                        continue
                    engine.check_in(
                        iv.id,
                        on=iv.next_follow_up,
                        by=owner,
                        goal_met=rng.random() < 0.5,
                        contact_type=rng.choice(("call", "meeting", "message", "in_person")),
                        outcome=rng.choice((None, None, "positive", "mixed", "no_discernible")),
                    )
                    did["check-ins"] += 1
            for sid, step in due:
                if rng.random() < 0.8:
                    try:
                        engine.issue_legal(sid, step, on=today, by="office", facts=facts[sid])
                        did["legal steps issued"] += 1
                    except WorkflowError:
                        did["legal steps no longer due"] += 1
                    if rng.random() < 0.5:
                        kind = "sart" if step in ("not3", "sarb-referral") else "parent_conference"
                        engine.record_conference(sid, kind, on=today, by="office")
                        did["conferences"] += 1
        now = year.facts(k)
        facts = {f["student_id"]: f for f in now}
        with repo.batch():
            plan = engine.run(today, now)
        did["runs"] += 1
        did["opened"] += len(plan.opened)
        did["escalated"] += len(plan.escalated)
        did["met goal"] += len(plan.met_goal)
        due = [(sid, a.step) for sid, a in plan.legal_due]
    seconds = time.perf_counter() - started
    repo.close()
    return {"did": did, "seconds": seconds, "end": days[-1], "counts": counts(db)}


def copy_rows(source: Db, target: Db) -> float:
    """Copy a store's rows into a fresh one (migrated first); seconds taken."""
    target.store().close()
    src = source.dbapi()
    dst = target.dbapi()
    started = time.perf_counter()
    try:
        for table in TABLES:
            cols = COLUMNS[table]
            names = ", ".join(f'"{c}"' for c in cols)
            rows = src.execute(f"SELECT {names} FROM {table}")
            with dst.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for r in rows:
                    if table == "interventions":
                        r = (*r[:3], bool(r[3]), *r[4:])
                    elif table == "issued":
                        r = (*r[:2], dt.date.fromisoformat(r[2]))
                    copy.write_row(r)
        for table in TABLES:  # what autovacuum would do after a year of writes
            dst.execute(f"ANALYZE {table}")
        dst.commit()
    finally:
        src.close()
        dst.close()
    return time.perf_counter() - started


def timeline_by_hand(cur: Any, mark: str, sid: str) -> tuple[list[int], list[str]]:
    """A student's timeline written by hand: event rows in order, interventions oldest first."""
    cur.execute(
        f"SELECT \"row\", body FROM events WHERE student_id = {mark} AND record = 'event' "
        "ORDER BY seq",
        (sid,),
    )
    events = [(row, json.loads(body)) for row, body in cur.fetchall()]
    cur.execute(f"SELECT body FROM interventions WHERE student_id = {mark} ORDER BY pos", (sid,))
    ivs = [json.loads(body) for (body,) in cur.fetchall()]
    return [row for row, _ in events], [iv["id"] for iv in ivs]


def _ms(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"median {statistics.median(ms):6.2f} ms  p95 {p95:6.2f} ms  max {ms[-1]:6.2f} ms"


def timeline(
    db: Db, ruleset_name: str, as_of: dt.date, sample: int, packets: int
) -> dict[str, Any] | None:
    """Time the timeline query on random students; None (after saying why) on a mismatch."""
    ruleset = tierflow.load_ruleset(ruleset_name)
    repo = db.store()
    conn = db.dbapi()
    cur = conn.cursor()
    try:
        everyone = repo.students()
        cur.execute("SELECT DISTINCT student_id FROM interventions")
        with_ivs = sorted(s for (s,) in cur.fetchall())
        if db.kind == "postgresql":
            conn.rollback()
        rng = random.Random(11)
        groups = {
            "random students": rng.sample(everyone, min(sample, len(everyone))),
            "students with interventions": rng.sample(with_ivs, min(sample, len(with_ivs))),
        }
        out: dict[str, Any] = {}
        for name, sids in groups.items():
            packet_s, reads_s, hand_s, entries = [], [], [], []
            for i, sid in enumerate(sids):
                started = time.perf_counter()
                packet = build_packet(repo, sid, ruleset, as_of=as_of) if i < packets else None
                if packet is not None:
                    packet_s.append(time.perf_counter() - started)
                started = time.perf_counter()
                evs = repo.events(sid)
                ivs = repo.for_student(sid)
                reads_s.append(time.perf_counter() - started)
                started = time.perf_counter()
                rows, ids = timeline_by_hand(cur, db.mark, sid)
                hand_s.append(time.perf_counter() - started)
                if db.kind == "postgresql":
                    conn.rollback()  # each query its own transaction, as the store's reads
                if (
                    rows != [e.seq for e in evs]
                    or ids != [iv.id for iv in ivs]
                    or (
                        packet is not None
                        and (
                            len(packet.timeline) != len(rows)
                            or ids != [iv.id for iv in packet.interventions]
                        )
                    )
                ):
                    print(
                        f"MISMATCH ({db.kind}): student {sid}: the store gives events "
                        f"{[e.seq for e in evs]} and interventions {[iv.id for iv in ivs]}, "
                        f"the hand-written query {rows} and {ids}"
                    )
                    return None
                entries.append(len(rows))
            out[name] = {"packet": packet_s, "reads": reads_s, "hand": hand_s, "entries": entries}
        return out
    finally:
        conn.close()
        repo.close()


def print_timeline(kind: str, t: dict[str, Any]) -> None:
    for name, g in t.items():
        e = g["entries"]
        print(
            f"  timeline ({kind}), {len(e)} {name} ({statistics.mean(e):.1f} events each, "
            f"up to {max(e)}): same rows as the hand-written query"
        )
        print(f"    build_packet ({len(g['packet'])} of them)     {_ms(g['packet'])}")
        print(f"    repo.events + repo.for_student    {_ms(g['reads'])}")
        print(
            f"    hand-written sqlite3/psycopg      {_ms(g['hand'])}  (reads / hand: "
            f"{statistics.median(g['reads']) / statistics.median(g['hand']):.1f}x median)"
        )


def year(
    students: int,
    ruleset_name: str,
    cadence: int,
    sample: int,
    packets: int,
    directory: Path,
    url: str | None,
) -> int:
    with places("sqlite", directory, None, "year") as (db,):
        filled = fill_year(db, students, ruleset_name, cadence)
        c = filled["counts"]
        did = ", ".join(f"{n:,} {what}" for what, n in filled["did"].items())
        print(
            f"year: {students:,} students under {ruleset_name}, filled in "
            f"{filled['seconds']:.0f} s ({did})"
        )
        print(
            f"  the store holds {c['events']:,} event rows ({c['events'] / students:.1f} per "
            f"student), {c['interventions']:,} interventions, {c['check_ins']:,} check-ins, "
            f"{c['issued']:,} legal steps issued; {os.path.getsize(db.target) / 2**20:,.0f} MiB"
        )
        t = timeline(db, ruleset_name, filled["end"], sample, packets)
        if t is None:
            return 1
        print_timeline("sqlite", t)
        if url is not None:
            with places("postgresql", directory, url, "year") as (pg,):
                seconds = copy_rows(db, pg)
                print(f"  the same rows copied to PostgreSQL ({seconds:.0f} s)")
                t = timeline(pg, ruleset_name, filled["end"], sample, packets)
                if t is None:
                    return 1
                print_timeline("postgresql", t)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100_000, help="the day's run")
    parser.add_argument("--ruleset", default="ca", choices=("ca", "mtss"))
    parser.add_argument("--year-students", type=int, default=50_000, help="0: no year")
    parser.add_argument("--cadence", type=int, default=20, help="school days between runs")
    parser.add_argument("--sample", type=int, default=200, help="students timed per query")
    parser.add_argument("--packets", type=int, default=20, help="of them, timed build_packet")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TIERFLOW_TEST_POSTGRES_URL"),
        help="a PostgreSQL URL to measure too (default: $TIERFLOW_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--dir", type=Path, help="where the SQLite files go (default: a temp dir)")
    args = parser.parse_args(argv)
    url = None if args.no_postgres else args.postgres
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        directory = Path(tmp)
        if args.students:
            for kind in ("sqlite", "postgresql") if url else ("sqlite",):
                d = day(kind, args.students, args.ruleset, directory, url)
                if d is None:
                    return 1
                print_day(kind, d)
        if args.year_students:
            status = year(
                args.year_students,
                args.ruleset,
                args.cadence,
                args.sample,
                args.packets,
                directory,
                url,
            )
            if status:
                return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
