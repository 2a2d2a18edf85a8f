"""Fuzz targets shared by ``tests/fuzz`` (Hypothesis) and ``benchmarks/fuzz.py`` (a timed loop).

A :class:`Target` makes an input from a :class:`random.Random` (seed files mutated, token
soups) and checks it. :func:`run` checks one input under a deadline and sorts the outcome:

- a :class:`tierflow.TierflowError` (raised, or a reader's reject) is an expected outcome;
- any other exception is a ``"exception"`` finding (the bug the issue calls a traceback);
- running past the deadline (CPU time) is a ``"hang"`` finding (``SIGPROF``: Python code is
  stopped at its next bytecode, so a C call that never returns is not interrupted);
- the compiled evaluator and the reference interpreter deciding differently (or one raising
  where the other does not), or a reader's ``read != accepted + rejected``, is a
  ``"disagreement"`` finding.

Inputs are bytes, so a reproducer is a file: a rule set (``.yaml``) or a data file with the
suffix its reader reads. Hypothesis drives the ``Random`` in the tests (so it shrinks); the
benchmark drives it from a seed.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import signal
import tempfile
import traceback
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import yaml

import tierflow
from tierflow.attendance import AttendanceEvent, Enrollment, FactsBuilder, SchoolCalendar
from tierflow.facts import DEFAULT_FUNCTIONS
from tierflow.ingest import (
    FactsRecord,
    read_calendars,
    read_enrollments,
    read_events,
    read_facts,
    read_groups,
)

__all__ = [
    "DEADLINE",
    "TARGETS",
    "Disagreement",
    "Finding",
    "Hang",
    "Sample",
    "Target",
    "check_ruleset_file",
    "check_ruleset_text",
    "deadline",
    "ruleset_around",
    "run",
    "seed_conditions",
    "seeds",
]

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases"
EDFI = Path("/work/shared/data/edfi-grand-bend")
SRC = ROOT / "src" / "tierflow"
AS_OF = dt.date(2025, 11, 3)
DEADLINE = 3.0
"""Seconds one input may take (a couple of seconds: a few ms is normal)."""


# --- outcomes ---------------------------------------------------------------------------------


class Hang(BaseException):
    """The input ran past its deadline.

    A ``BaseException``, so that no ``except Exception`` in the code under test swallows it.
    """


class Disagreement(Exception):
    """Two things that must agree did not (compiled vs reference, read vs accepted+rejected)."""


@dataclass(frozen=True)
class Sample:
    """One input: which target, the seed it came from, and its bytes."""

    target: str
    seed: str
    data: bytes

    @property
    def suffix(self) -> str:
        """The suffix a reproducer file gets (the seed's, or ``.yaml`` for rule sets)."""
        return Path(self.seed).suffix or ".yaml"


@dataclass(frozen=True)
class Finding:
    """A failure: what kind, the last line of its traceback and where in ``src/`` it was raised."""

    kind: str
    detail: str
    where: str
    sample: Sample

    def describe(self) -> str:
        """A paragraph for an assertion message or a report."""
        shown = self.sample.data[:600].decode("utf-8", "backslashreplace")
        more = "" if len(self.sample.data) <= 600 else f"... ({len(self.sample.data):,} bytes)"
        return (
            f"{self.sample.target}: {self.kind}: {self.detail}\n  at {self.where}\n"
            f"  seed {self.sample.seed}; input:\n{shown}{more}"
        )

    @property
    def signature(self) -> tuple[str, str, str]:
        """What makes two findings the same class: kind, exception type and place."""
        return (self.kind, self.detail.split(":", 1)[0], self.where)


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in the block if it uses more than ``seconds`` of CPU (main thread only).

    CPU time, not wall time: an endless loop burns CPU all the same, and an input is not called
    a hang because test workers and other jobs share the cores (a 2 s wall-clock deadline fired
    on a cheap input with the suite on two xdist workers and the machine loaded 4 times over).
    """
    previous = signal.signal(signal.SIGPROF, _alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def _where(tb: TracebackType | None) -> str:
    """The innermost frame of the traceback in tierflow's sources (or the innermost at all)."""
    frames = traceback.extract_tb(tb)
    for frame in reversed(frames):
        if frame.filename.startswith(str(SRC)):
            return f"{Path(frame.filename).relative_to(ROOT)}:{frame.lineno} in {frame.name}"
    if frames:
        return f"{frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}"
    return "?"


def run(target: Target, sample: Sample, seconds: float = DEADLINE) -> Finding | None:
    """Check one input under a deadline; ``None`` when tierflow behaved."""
    try:
        with deadline(seconds):
            target.check(sample)
    except Hang as exc:
        return Finding("hang", f"Hang: over {seconds:g} s", _where(exc.__traceback__), sample)
    except tierflow.TierflowError:
        return None
    except Disagreement as exc:
        return Finding("disagreement", f"Disagreement: {exc}", _where(exc.__traceback__), sample)
    except (Exception, RecursionError, MemoryError) as exc:
        line = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return Finding("exception", line[:300], _where(exc.__traceback__), sample)
    return None


@dataclass(frozen=True)
class Target:
    """A named fuzz target: how to make an input, and how to check one."""

    name: str
    generate: Callable[[random.Random], Sample]
    check: Callable[[Sample], None]
    about: str


# --- mutation ---------------------------------------------------------------------------------

_BILLION_LAUGHS = (
    b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
    + b"".join(
        b'<!ENTITY %s "%s">' % (bytes([c]), (b"&%s;" % bytes([c - 1])) * 10) for c in b"bcdefgh"
    )
    + b"]>"
)
_ENTITY_REFS = [b"&a;", b"&c;", b"&e;", b"&h;"]
_EXTERNAL_ENTITY = b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'

HOSTILE: list[bytes] = [
    b"\xff\xfe",
    b"\xc3(",
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\x00",
    b"\r",
    b"\xe2\x80\xa8",  # U+2028, a line separator to str.splitlines
    b"NaN",
    b"nan",
    b"Infinity",
    b"-Infinity",
    b"inf",
    b"1e309",
    b"-1e309",
    b"1e999999999999999999999",
    b"9" * 5000,
    b"1" + b"0" * 400,
    b"99999999999",
    b"4.9e-324",
    b"-0",
    b"1_000",
    b"0x10",
    b"[" * 3000,
    b'{"a":' * 2000,
    b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    b"x" * 70000,
    b"9999-12-31",
    b"0001-01-01",
    b"2025-02-30",
    b'=HYPERLINK("x")',
    b"true",
    b"null",
    b"[]",
    b"{}",
    b'"',
    b"'",
    b"\\",
    b",",
    b";",
    b"\t",
    b"\n",
    b"#",
    b"<",
    b"&",
    b"]]>",
]

_VALUE = re.compile(rb"-?\d[\d.eE+_%-]*|\w+|\"[^\"\n]*\"|'[^'\n]*'")


def _mutate(data: bytes, rng: random.Random, extra: list[bytes], *, xml: bool = False) -> bytes:
    """Apply one to four random edits: bytes, lines, values, hostile splices, tokens."""
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(12)
        n = len(data)
        pos = rng.randint(0, n)
        if op == 0 and n:  # delete a span
            data = data[:pos] + data[pos + rng.randint(1, 8) :]
        elif op == 1:  # insert a random byte
            data = data[:pos] + bytes([rng.randrange(256)]) + data[pos:]
        elif op == 2 and n:  # replace a byte
            p = min(pos, n - 1)
            data = data[:p] + bytes([rng.randrange(256)]) + data[p + 1 :]
        elif op in (3, 4):  # replace a value (number, word, quoted) by a hostile one
            spots = list(_VALUE.finditer(data))
            if spots:
                m = rng.choice(spots)
                data = data[: m.start()] + rng.choice(HOSTILE + extra) + data[m.end() :]
        elif op == 5:  # splice a hostile value in
            data = data[:pos] + rng.choice(HOSTILE) + data[pos:]
        elif op == 6 and extra:  # splice a token of the format in
            data = data[:pos] + rng.choice(extra) + data[pos:]
        elif op in (7, 8):  # line edits: delete, duplicate, swap
            lines = data.split(b"\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            how = rng.randrange(3)
            if how == 0 and len(lines) > 1:
                del lines[i]
            elif how == 1:
                lines.insert(j, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
        elif op == 9 and n:  # duplicate a span
            end = min(n, pos + rng.randint(1, 200))
            data = data[:end] + data[pos:end] + data[end:]
        elif op == 10:  # cut the file short
            data = data[:pos]
        elif op == 11 and xml:  # entity declarations, then a reference in a text node
            decl = _EXTERNAL_ENTITY if rng.random() < 0.2 else _BILLION_LAUGHS
            ref = b"&x;" if decl is _EXTERNAL_ENTITY else rng.choice(_ENTITY_REFS)
            head = data.find(b"?>") + 2 if data.startswith(b"<?xml") else 0
            body = data[head:]
            texts = [m.start() for m in re.finditer(rb">[^<\s]", body)]
            if texts:
                at = rng.choice(texts) + 1
                body = body[:at] + ref * rng.randint(1, 3) + body[at:]
            data = data[:head] + decl + body
    return data


# --- student facts ----------------------------------------------------------------------------

_CAUSES = ["health", "transportation", "housing", "engagement", "bullying", "family", "unknown"]
_GROUPS = ["iep", "section_504", "english_learner", "foster", "homeless", "migrant"]
_KINDS = ["excused", "unexcused", "suspension", "tardy", "tardy_over_30"]
_STEPS = [
    "not1",
    "not2",
    "not3",
    "sarb-referral",
    "parent-notice",
    "prevention-measures",
    "court-referral",
]
_EDGE_NUMBERS: list[Any] = [0, 1, 0.5, 10**15, 1e15, 2.5e-7, 180, 3, 7.2]


def _day(rng: random.Random) -> str:
    return (AS_OF - dt.timedelta(days=rng.randint(-20, 90))).isoformat()


def _students(seed: bytes, count: int = 6) -> list[dict[str, Any]]:
    """Facts for ``count`` students, chosen from the input's hash (so a reproducer is one file).

    Most are consistent school-year facts; some have edge values (0 days, 10**15).
    """
    rng = random.Random(zlib.crc32(seed))
    out = []
    for i in range(count):
        enrolled = rng.choice([0, 0, 5, 40, 60, 180]) if i else 60
        absent = rng.randint(0, 2 * enrolled) / 2
        unexcused = rng.randint(0, int(absent * 2)) / 2
        tardies = rng.randint(0, 20)
        facts: dict[str, Any] = {
            "student_id": f"s{i}",
            "grade": rng.randint(-1, 12),
            "days_enrolled": enrolled,
            "days_absent": absent,
            "days_excused": absent - unexcused,
            "days_unexcused": unexcused,
            "days_suspended": 0.0,
            "tardies": tardies,
            "tardies_over_30": rng.randint(0, tardies),
            "causes": rng.sample(_CAUSES, rng.randint(0, 2)),
            "groups": rng.sample(_GROUPS, rng.randint(0, 2)),
            "attendance_log": [
                {"date": _day(rng), "kind": rng.choice(_KINDS), "days": rng.choice([1.0, 0.5])}
                for _ in range(rng.randint(0, 12))
            ],
            "history": {
                "legal_steps": [
                    {"step": s, "issued_on": _day(rng)}
                    for s in rng.sample(_STEPS, rng.randint(0, 3))
                ],
                "interventions": [
                    {
                        "intervention": "weekly-checkin",
                        "tier_level": rng.randint(1, 3),
                        "started_on": _day(rng),
                    }
                    for _ in range(rng.randint(0, 2))
                ],
                "conferences": [
                    {"kind": rng.choice(["parent_conference", "sart"]), "held_on": _day(rng)}
                    for _ in range(rng.randint(0, 2))
                ],
            },
        }
        if rng.random() < 0.3:  # an edge value
            facts[rng.choice(["days_absent", "days_unexcused", "tardies", "days_enrolled"])] = (
                rng.choice(_EDGE_NUMBERS)
            )
        if rng.random() < 0.1:
            facts.pop(rng.choice(["days_absent", "grade", "causes", "history"]))
        out.append(facts)
    return out


def _outcome(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except tierflow.DataError as exc:
        return ("error", exc.code)


def agree(rs: tierflow.CompiledRuleset, facts: Mapping[str, Any], as_of: dt.date) -> Any:
    """Evaluate one student both ways; raise :class:`Disagreement` if they differ.

    Returns the compiled decision (or ``None`` when both rejected the student with one code).
    """
    fast = _outcome(lambda: rs.evaluate(facts, as_of=as_of))
    slow = _outcome(lambda: rs.reference_evaluate(facts, as_of=as_of))
    fast_view = fast if isinstance(fast, tuple) else fast.to_dict()
    slow_view = slow if isinstance(slow, tuple) else slow.to_dict()
    if fast_view != slow_view:
        raise Disagreement(
            f"student {facts.get('student_id')!r}: compiled {_short(fast_view)} != "
            f"reference {_short(slow_view)}"
        )
    return None if isinstance(fast, tuple) else fast


def _short(view: Any) -> str:
    if isinstance(view, dict):
        return repr({k: view.get(k) for k in ("tier", "interventions", "legal") if k in view})[:200]
    return repr(view)[:200]


@cache
def _scratch_root() -> Path:
    return Path(tempfile.mkdtemp(prefix="tierflow-fuzz-"))


@contextmanager
def _scratch() -> Iterator[Path]:
    """An empty folder for one input's files (one per process, emptied after each input)."""
    folder = _scratch_root()
    try:
        yield folder
    finally:
        for path in folder.iterdir():
            path.unlink()


def check_ruleset_file(sample: Sample) -> None:
    """Load a mutated rule set file, beside copies of the files of its folder it may extend."""
    seed = Path(sample.seed)
    with _scratch() as folder:
        for sibling in seed.parent.glob("*.yaml"):
            if sibling.name != seed.name and sibling.name != "case.yaml":
                (folder / sibling.name).write_bytes(sibling.read_bytes())
        path = folder / seed.name
        path.write_bytes(sample.data)
        rs = tierflow.load_ruleset(str(path))
        for i, facts in enumerate(_students(sample.data)):
            decision = agree(rs, facts, AS_OF)
            if decision is not None and i == 0:
                str(decision.explain())


def check_ruleset_text(sample: Sample) -> None:
    """Load a rule set from text; if it loads, every student gets one decision both ways.

    The first decision is also explained (its words built), as ``tierflow explain`` would.
    """
    name = sample.seed if sample.seed.endswith((".yaml", ".yml")) else "fuzz.yaml"
    text = sample.data.decode("utf-8", "surrogateescape")
    rs = tierflow.parse_ruleset(text, name=name)
    for i, facts in enumerate(_students(sample.data)):
        decision = agree(rs, facts, AS_OF)
        if decision is not None and i == 0:
            str(decision.explain())


# --- the expression language ------------------------------------------------------------------

_RULESET_FILES = sorted((ROOT / "rulesets").rglob("*.yaml"))  # src/tierflow/rulesets links here
_CONDITION_KEYS = {"when": "rule", "expr": "metric", "exempt_when": "rule"}


@cache
def seed_conditions() -> list[tuple[str, str, str]]:
    """``(built-in base, placement, condition)`` for every condition of the built-in rule sets."""
    found: list[tuple[str, str, str]] = []

    def walk(node: Any, base: str, section: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _CONDITION_KEYS and isinstance(value, str):
                    place = {"tiers": "tier", "metrics": "metric", "legal": "legal"}.get(
                        section, "rule"
                    )
                    found.append((base, place, value))
                else:
                    walk(value, base, key if section == "" else section)
        elif isinstance(node, list):
            for item in node:
                walk(item, base, section)

    for path in _RULESET_FILES:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if data["id"] in ("mtss", "ca", "tx"):  # examples read metrics of their own
            data.pop("tests", None)
            walk(data, data["id"], "")
    return sorted(set(found))


def _q(cond: str) -> str:
    """The condition as a YAML double-quoted scalar (JSON's escapes are YAML's)."""
    return json.dumps(cond)


def ruleset_around(cond: str, place: str, base: str | None) -> str:
    """A small rule set that reads ``cond`` as a tier, rule, legal step or metric condition.

    With ``base`` it extends that built-in (so the built-in's metrics are defined); without, it
    is standalone and has one of each thing a condition may name.
    """
    head = 'id: fuzz\nname: Fuzz\nversion: "1"\n'
    if base is not None:
        head += f"extends: {base}\n"
        body = {
            "tier": f"tiers:\n  - {{id: fuzz-tier, level: 2, before: tier2, when: {_q(cond)}}}\n",
            "rule": f"rules:\n  - {{id: fuzz-rule, assign: [weekly-checkin], when: {_q(cond)}}}\n",
            "legal": "legal:\n  - {id: fuzz-step, label: Fuzz step, when: " + _q(cond) + "}\n",
            "metric": f"metrics:\n  - {{id: fuzz_metric, expr: {_q(cond)}}}\n"
            "rules:\n  - {id: fuzz-rule, assign: [weekly-checkin], "
            "when: fuzz_metric == fuzz_metric}\n",
        }[place]
        return head + body
    when = {
        p: _q(cond) if p == place else default
        for p, default in (
            ("tier", "days_absent >= 3"),
            ("rule", "tier == 'tier2'"),
            ("legal", "m >= 5"),
        )
    }
    metric = _q(cond) if place == "metric" else '"days_unexcused + tardies_over_30"'
    return (
        head
        + f"metrics:\n  - {{id: m, expr: {metric}}}\n"
        + '  - {id: m2, expr: "m == m"}\n'
        + f"tiers:\n  - {{id: tier2, level: 2, when: {when['tier']}, assign: [iv]}}\n"
        + "  - {id: tier1, level: 1, default: true}\n"
        + f"rules:\n  - {{id: r, when: {when['rule']}, assign: [iv]}}\n"
        + "interventions:\n  - {id: iv, tier: tier2, owner: social_worker}\n"
        + f"legal:\n  - {{id: not1, label: N1, when: {when['legal']}}}\n"
    )


_NAMES = [
    "days_absent",
    "days_enrolled",
    "days_unexcused",
    "days_excused",
    "days_suspended",
    "tardies",
    "tardies_over_30",
    "grade",
    "causes",
    "groups",
    "absence_rate",
    "unexcused_rate",
    "days_present",
    "as_of",
    "tier",
    "tier_level",
    "m",
    "current_absence_streak",
    "recent_absence_rate",
    "minutes_per_day",
    "student_id",
    "school_id",
    "nope",
    "_x",
]
_NUMBERS = [
    "0",
    "1",
    "2",
    "3",
    "2.5",
    "1_000",
    "1e3",
    "10%",
    "2.5%",
    "0.1",
    "1e309",
    "1e-309",
    "9" * 400,
    "1" + "0" * 30,
    "1e999999999999999999999%",
    "99999999999",
    "-1",
    "0.0",
]
_DURATIONS = ["10d", "4w", "6mo", "1y", "0d", "99999999999d", "999999999mo", "3y"]
_STRINGS = [
    "'transportation'",
    "'health'",
    "'foster'",
    "'tier2'",
    "'tier3'",
    "'absence'",
    "'truancy'",
    "'unexcused'",
    "'not1'",
    "'parent_conference'",
    "'2025-09-02'",
    "'9999-12-31'",
    "'x'",
    '"tier2"',
    "'a\\'b'",
    "''",
]
# Every function of the language, with its arity, from the registry itself: a function added
# later is fuzzed without anyone remembering to list it here.
_FUNCS = {f.name: len(f.params) for f in DEFAULT_FUNCTIONS}
_OPS = ["or", "and", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "+", "-", "*", "/"]
_SOUP = [
    *_OPS,
    "not",
    "(",
    ")",
    "[",
    "]",
    ",",
    "true",
    "false",
    "True",
    "=",
    "**",
    "&&",
    "%",
    ".",
    "'",
    '"',
    "=>",
    "||",
    "!",
]


def _expr(rng: random.Random, depth: int = 0) -> str:
    """A random expression from the grammar of docs/conditions.md (types not respected)."""
    roll = rng.random()
    if depth > 3 or roll < 0.35:
        pool = rng.choice([_NAMES, _NAMES, _NUMBERS, _DURATIONS, _STRINGS, ["true", "false"]])
        return rng.choice(pool)
    if roll < 0.65:
        return f"{_expr(rng, depth + 1)} {rng.choice(_OPS)} {_expr(rng, depth + 1)}"
    if roll < 0.72:
        return f"not {_expr(rng, depth + 1)}"
    if roll < 0.77:
        return f"-{_expr(rng, depth + 1)}"
    if roll < 0.82:
        return f"({_expr(rng, depth + 1)})"
    if roll < 0.87:
        items = ", ".join(_expr(rng, depth + 2) for _ in range(rng.randint(0, 3)))
        return f"[{items}]"
    name = rng.choice(list(_FUNCS))
    args = ", ".join(_expr(rng, depth + 1) for _ in range(_FUNCS[name] + rng.choice([0, 0, 0, 1])))
    return f"{name}({args})"


def _soup(rng: random.Random) -> str:
    """Tokens of the language in random order, or a grammatical expression with noise."""
    if rng.random() < 0.6:
        text = _expr(rng)
    else:
        pool = _NAMES + _NUMBERS + _DURATIONS + _STRINGS + list(_FUNCS) + _SOUP * 2
        text = " ".join(rng.choice(pool) for _ in range(rng.randint(1, 12)))
    if rng.random() < 0.2:
        tokens = text.split(" ")
        i = rng.randrange(len(tokens))
        tokens.insert(i, rng.choice(_SOUP + _NUMBERS))
        text = (" " if rng.random() < 0.8 else "").join(tokens)
    return text


def _gen_soup(rng: random.Random) -> Sample:
    place = rng.choice(["tier", "rule", "metric", "legal"])
    text = ruleset_around(_soup(rng), place, None)
    return Sample("expr_soup", f"soup-{place}.yaml", text.encode())


_TOKEN = re.compile(r"\w+|\d[\d._%]*\w*|'[^']*'|\"[^\"]*\"|[<>=!]=|\S")


def _mutate_condition(cond: str, rng: random.Random) -> str:
    """Insert, delete or replace characters and tokens of a condition."""
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(6)
        tokens = _TOKEN.findall(cond) or [""]
        i = rng.randrange(len(tokens))
        if op == 0:
            pos = rng.randint(0, len(cond))
            cond = cond[:pos] + rng.choice("()[],'\"%.-+*/<>=!_ 0123456789ade\\") + cond[pos:]
        elif op == 1 and cond:
            pos = rng.randrange(len(cond))
            cond = cond[:pos] + cond[pos + rng.randint(1, 3) :]
        elif op == 2:
            tokens[i] = rng.choice(_NAMES + _NUMBERS + _DURATIONS + _STRINGS + _SOUP)
            cond = " ".join(tokens)
        elif op == 3:
            del tokens[i]
            cond = " ".join(tokens)
        elif op == 4:
            tokens.insert(i, rng.choice(_SOUP + _NUMBERS + _DURATIONS))
            cond = " ".join(tokens)
        else:
            cond = f"{cond} {rng.choice(_OPS)} {_expr(rng, 2)}"
    return cond


def _gen_mutation(rng: random.Random) -> Sample:
    base, place, cond = rng.choice(seed_conditions())
    text = ruleset_around(_mutate_condition(cond, rng), place, base)
    return Sample("expr_mutation", f"{base}-{place}.yaml", text.encode())


# --- the YAML loader --------------------------------------------------------------------------

_YAML_TOKENS = [
    b": ",
    b"- ",
    b"{",
    b"}",
    b"[",
    b"]",
    b"&a ",
    b"*a",
    b"<<: *a",
    b"? ",
    b"!!str ",
    b"!!python/object/apply:os.system ['true']",
    b"|",
    b">-",
    b"'",
    b'"',
    b"---\n",
    b"...\n",
    b"\t",
    b"  ",
    b"%YAML 1.1\n",
    b"extends: mtss\n",
    b"extends: ca\n",
    b"remove: true",
    b"before: tier2",
    b"id: tier2",
    b"- {id: x}",
    b"rrule: FREQ=SECONDLY;BYHOUR=25",
    b'expr: "1e309"',
    b'expr: "m * m * m * m"',
    b"~",
]


@cache
def _yaml_seeds() -> list[tuple[str, bytes]]:
    files = _RULESET_FILES + sorted(CASES.glob("*.yaml")) + sorted(CASES.glob("*/*.yaml"))
    return [(str(p), p.read_bytes()) for p in files if p.name != "case.yaml"]


def _gen_yaml(rng: random.Random) -> Sample:
    seed, data = rng.choice(_yaml_seeds())
    return Sample("yaml", seed, _mutate(data, rng, _YAML_TOKENS))


# --- readers ----------------------------------------------------------------------------------

_EDFI_SLICES = {
    "events": [
        "edfi-ds-5.2.0_2021-2022/StudentSchoolAttendance.xml",
        "edfi-ds-3.2.0_2010-2011/StudentSchoolAttendance.xml",
        "edfi-ds-5.2.0_2021-2022/StudentSectionAttendance-Tardy.xml",
    ],
    "calendars": [
        "edfi-ds-5.2.0_2021-2022/EducationOrgCalendar.xml",
        "edfi-ds-2.2.0_2010-2011/EducationOrgCalendar.xml",
    ],
}


def _slice(path: Path, records: int = 6) -> bytes:
    """The XML declaration, the root's start tag, its first ``records`` children, the end tag."""
    data = path.read_bytes()[:400_000]
    starts = [m.start() for m in re.finditer(rb"\n\t<[A-Za-z]", data)]
    root_end = re.search(rb"\n</[A-Za-z]+>", path.read_bytes()[-200:])
    closing = root_end.group(0) if root_end else b""
    if len(starts) <= records:
        return data
    return data[: starts[records]] + closing + b"\n"


_API_EVENTS = b"""[
 {"studentReference": {"studentUniqueId": "604822"}, "schoolReference": {"schoolId": 255901001},
  "eventDate": "2021-08-31", "attendanceEventCategoryDescriptor":
  "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Excused Absence", "eventDuration": 1},
 {"studentReference": {"studentUniqueId": "604823"}, "schoolReference": {"schoolId": 255901001},
  "eventDate": "2021-09-01", "attendanceEventCategoryDescriptor":
  "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Tardy", "eventDuration": 0.5}
]
"""
_API_ENROLLMENTS = b"""{"studentReference": {"studentUniqueId": "604822"}, \
"schoolReference": {"schoolId": 255901001}, "entryDate": "2021-08-23", \
"exitWithdrawDate": "2022-05-27", "entryGradeLevelDescriptor": \
"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"}
{"studentReference": {"studentUniqueId": "604823"}, "schoolReference": {"schoolId": 255901001}, \
"entryDate": "2021-08-23"}
"""
_API_CALENDAR = b"""[
 {"calendarReference": {"calendarCode": "c1", "schoolId": 255901001}, "date": "2021-08-23",
  "calendarEvents": [{"calendarEventDescriptor":
  "uri://ed-fi.org/CalendarEventDescriptor#Instructional day"}]},
 {"calendarReference": {"calendarCode": "c1", "schoolId": 255901001}, "date": "2021-08-24",
  "calendarEvents": [{"calendarEventDescriptor":
  "uri://ed-fi.org/CalendarEventDescriptor#Holiday"}]}
]
"""
_XML_ENROLLMENTS = b"""<?xml version="1.0" encoding="UTF-8"?>
<InterchangeStudentEnrollment xmlns="http://ed-fi.org/5.2.0">
\t<StudentSchoolAssociation>
\t\t<StudentReference><StudentIdentity><StudentUniqueId>604822</StudentUniqueId>\
</StudentIdentity></StudentReference>
\t\t<SchoolReference><SchoolIdentity><SchoolId>255901001</SchoolId></SchoolIdentity>\
</SchoolReference>
\t\t<EntryDate>2021-08-23</EntryDate>
\t\t<EntryGradeLevel>uri://ed-fi.org/GradeLevelDescriptor#Ninth grade</EntryGradeLevel>
\t\t<ExitWithdrawDate>2022-05-27</ExitWithdrawDate>
\t</StudentSchoolAssociation>
</InterchangeStudentEnrollment>
"""
_XML_GROUPS = b"""<?xml version="1.0" encoding="UTF-8"?>
<InterchangeStudentEnrollment xmlns="http://ed-fi.org/5.2.0">
\t<StudentEducationOrganizationAssociation>
\t\t<StudentReference><StudentIdentity><StudentUniqueId>604822</StudentUniqueId>\
</StudentIdentity></StudentReference>
\t\t<StudentCharacteristic><StudentCharacteristicDescriptor>\
uri://ed-fi.org/StudentCharacteristicDescriptor#Homeless</StudentCharacteristicDescriptor>\
</StudentCharacteristic>
\t</StudentEducationOrganizationAssociation>
</InterchangeStudentEnrollment>
"""
_GENERATED: dict[str, list[tuple[str, bytes]]] = {
    "events": [("api-events.json", _API_EVENTS)],
    "enrollments": [
        ("api-enrollments.jsonl", _API_ENROLLMENTS),
        ("enrollments.xml", _XML_ENROLLMENTS),
    ],
    "calendars": [("api-calendar.json", _API_CALENDAR)],
    "groups": [
        ("groups.xml", _XML_GROUPS),
        ("groups.csv", b"student_id,groups\ns1,homeless;foster\ns2,iep\n"),
    ],
}
_CASE_FILES = {
    "facts": "facts",
    "events": "events",
    "calendars": "calendar",
    "enrollments": "enrollments",
    "groups": "groups",
}


@cache
def seeds(kind: str) -> list[tuple[str, bytes]]:
    """Seed files of a target: for a reader, tests/cases files of its kind, Ed-Fi slices and
    Ed-Fi API samples; for ``yaml``, the rule sets of rulesets/ and tests/cases."""
    if kind == "yaml":
        return _yaml_seeds()
    seeds = [
        (str(p), p.read_bytes())
        for p in sorted(CASES.glob(f"*/{_CASE_FILES[kind]}.*"))
        if p.suffix in (".csv", ".json", ".jsonl", ".xml")
    ]
    for rel in _EDFI_SLICES.get(kind, ()):
        if (EDFI / rel).is_file():
            seeds.append((str(EDFI / rel), _slice(EDFI / rel)))
    seeds += _GENERATED.get(kind, [])
    if kind == "facts":
        sample = SRC / "data" / "sample_district.jsonl"
        lines = sample.read_bytes().splitlines(keepends=True)[:8]
        seeds.append((str(sample), b"".join(lines)))
    return seeds


_READER_TOKENS = [
    b",",
    b";",
    b"\n",
    b'"',
    b"[",
    b"{",
    b"}",
    b"]",
    b":",
    b"<",
    b">",
    b"</a>",
    b"<a>",
    b'"days_absent": ',
    b'"history": ',
    b'"attendance_log": 5',
    b'"history": {"legal_steps": 5}',
    b"NaN",
    b"1e309",
]


@cache
def _calendar() -> dict[str, SchoolCalendar]:
    """Weekday calendars for the schools the seeds name, from the 2021-22 year to 2025-26."""
    schools = ("lincoln", "lincoln-es", "255901001", "255901044", "255901107", "c1")
    return {
        school: SchoolCalendar.from_pattern(school, dt.date(2021, 8, 23), dt.date(2026, 6, 5))
        for school in schools
    }


@cache
def _rulesets() -> list[tierflow.CompiledRuleset]:
    return [tierflow.load_ruleset(name) for name in ("mtss", "ca")]


def _evaluate_all(facts: Mapping[str, Any]) -> None:
    """Evaluate one student's facts with mtss and ca both ways (a reject is fine)."""
    for rs in _rulesets():
        agree(rs, facts, AS_OF)


def _nonblank_lines(data: bytes) -> int:
    text = data.removeprefix(b"\xef\xbb\xbf")
    return sum(
        1 for line in re.split(rb"\r\n|\n|\r", text) if line.decode("utf-8", "replace").strip()
    )


def _count(items: Iterator[Any], accepted_type: type | tuple[type, ...]) -> list[Any]:
    """The records a reader yields; anything else is a bug (a reject goes to its report)."""
    kept: list[Any] = []
    for item in items:
        if not isinstance(item, accepted_type):
            raise Disagreement(f"a reader yielded {type(item).__name__}, not a record")
        kept.append(item)
    return kept


def _check_reader(sample: Sample) -> None:
    kind = sample.target
    with _scratch() as folder:
        path = folder / f"input{sample.suffix}"
        path.write_bytes(sample.data)
        builder = FactsBuilder(_calendar(), assume_full_year=True)
        if kind == "facts":
            report = tierflow.DataReport()
            records = _count(read_facts(path, report=report), FactsRecord)
            rejected = report.rejected
            if sample.suffix == ".jsonl":
                lines = _nonblank_lines(sample.data)
                if len(records) + rejected != lines:
                    raise Disagreement(
                        f"{lines} non-blank lines read as {len(records)} accepted + "
                        f"{rejected} rejected"
                    )
            for record in records:
                _evaluate_all(record.facts)
            return
        if kind == "calendars":
            found = read_calendars(path)
            builder = FactsBuilder(_calendar() | dict(found.calendars), assume_full_year=True)
            for cid, cal in found.calendars.items():
                if len(cal):
                    school = found.schools.get(cid, cid)
                    builder.add_enrollment(Enrollment("s1", school, cal.first_day, None, cid))
                    builder.add_event(
                        AttendanceEvent("s1", school, cal.first_day, "unexcused_absence")
                    )
        elif kind == "events":
            for event in read_events(path, report=builder.report):
                if not isinstance(event, AttendanceEvent):
                    raise Disagreement(f"read_events yielded {type(event).__name__}")
                builder.add_event(event)
        elif kind == "enrollments":
            for span in read_enrollments(path, report=builder.report):
                if not isinstance(span, Enrollment):
                    raise Disagreement(f"read_enrollments yielded {type(span).__name__}")
                builder.add_enrollment(span)
        else:
            for group in read_groups(path, report=builder.report):
                builder.add_groups(group)
        report = builder.report
        if report.read != report.accepted + report.rejected:
            raise Disagreement(f"facts builder: {report.summary()}")
        for as_of in (AS_OF, dt.date(2022, 3, 1)):
            for facts in builder.facts(as_of):
                _evaluate_all(facts)


def _reader_target(kind: str, about: str) -> Target:
    def generate(rng: random.Random) -> Sample:
        seed, data = rng.choice(seeds(kind))
        mutated = _mutate(data, rng, _READER_TOKENS, xml=seed.endswith(".xml"))
        return Sample(kind, seed, mutated)

    return Target(kind, generate, _check_reader, about)


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            "expr_soup",
            _gen_soup,
            check_ruleset_text,
            "token soups and random expressions in a small rule set",
        ),
        Target(
            "expr_mutation",
            _gen_mutation,
            check_ruleset_text,
            "mutated conditions of the built-in rule sets, in a rule set extending one",
        ),
        Target(
            "yaml",
            _gen_yaml,
            check_ruleset_file,
            "byte/line mutations of rulesets/ and tests/cases rule sets",
        ),
        _reader_target("facts", "facts files (CSV, JSON Lines, JSON), evaluated with mtss and ca"),
        _reader_target("events", "attendance events (CSV, JSON, Ed-Fi XML/JSON) through facts"),
        _reader_target("calendars", "calendars (CSV, Ed-Fi XML/JSON) through facts"),
        _reader_target("enrollments", "enrollments (CSV, Ed-Fi XML/JSON) through facts"),
        _reader_target("groups", "student groups (CSV, Ed-Fi XML) through facts"),
    )
}
"""Every target, by name, in the order the benchmark runs them."""
