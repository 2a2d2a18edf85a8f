"""The facts model: StudentFacts, the cheap history reader, the attendance log."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tierflow
from ingest.reading import read_all
from tierflow import DataError, History, StudentFacts
from tierflow.facts._read import attendance_log_of, history_of, history_view, issued_steps
from tierflow.ingest import FactsRecord, read_facts

_ids = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True), st.sampled_from(["NOT1", "", "x y"])
)
_dates = st.one_of(
    st.dates(dt.date(2024, 1, 1), dt.date(2027, 1, 1)).map(dt.date.isoformat),
    st.dates(dt.date(2024, 1, 1), dt.date(2027, 1, 1)),
    st.sampled_from(["2025-13-01", "yesterday", "", "2025-1-1"]),
    st.integers(),
)
_history = st.fixed_dictionaries(
    {},
    optional={
        "legal_steps": st.lists(
            st.fixed_dictionaries({"step": _ids, "issued_on": _dates}), max_size=3
        ),
        "interventions": st.lists(
            st.fixed_dictionaries(
                {
                    "intervention": _ids,
                    "tier_level": st.one_of(st.integers(0, 10), st.just("2")),
                    "started_on": _dates,
                },
                optional={
                    "outcome": st.sampled_from([None, "positive", "mixed", "great"]),
                    "ended_on": _dates,
                },
            ),
            max_size=3,
        ),
        "conferences": st.lists(
            st.fixed_dictionaries({"kind": _ids, "held_on": _dates}), max_size=2
        ),
        "notes": st.just("free text"),
    },
)


def _read(fn: Any, facts: dict[str, Any]) -> Any:
    try:
        h = fn(facts)
    except DataError as exc:
        return ("error", exc.code)
    return (
        [(s.step, s.issued_on) for s in h.legal_steps],
        [
            (i.intervention, i.tier_level, i.started_on, i.ended_on, i.outcome)
            for i in h.interventions
        ],
        [(c.kind, c.held_on) for c in h.conferences],
    )


@settings(max_examples=300, deadline=None)
@given(history=_history)
def test_cheap_history_reader_accepts_exactly_what_validation_accepts(
    history: dict[str, Any],
) -> None:
    facts = {"student_id": "s", "history": history}
    assert _read(history_view, facts) == _read(history_of, facts)
    full = _read(history_of, facts)
    steps = issued_steps(facts) if full[0] != "error" else None
    if steps is not None:
        assert [(s.step, s.issued_on) for s in steps] == full[0]


def test_malformed_history_names_student_and_place() -> None:
    facts = {
        "student_id": "S7",
        "history": {"legal_steps": [{"step": "not1", "issued_on": "soon"}]},
    }
    with pytest.raises(DataError) as info:
        history_view(facts)
    assert info.value.code == "facts.invalid"
    assert info.value.student_id == "S7"
    assert "history.legal_steps.0.issued_on" in str(info.value)


def test_history_model_passes_through() -> None:
    h = History.model_validate({"conferences": [{"kind": "sart", "held_on": "2025-10-01"}]})
    assert history_view({"student_id": "s", "history": h}) is h


def test_student_facts_reads_like_a_mapping() -> None:
    f = StudentFacts(student_id="s", days_enrolled=10, days_absent=1, gpa=3.5, grade="PK")
    assert f["days_absent"] == 1 and f.get("gpa") == 3.5 and f.grade == -1
    assert "tardies" not in f and "days_enrolled" in f
    with pytest.raises(KeyError):
        f["tardies"]
    assert set(f.keys()) >= {"student_id", "days_enrolled", "days_absent", "gpa"}


def test_student_facts_rejects_inconsistent_counts() -> None:
    with pytest.raises(ValueError, match="exceeds days_enrolled"):
        StudentFacts(student_id="s", days_enrolled=5, days_absent=6)
    with pytest.raises(ValueError):
        StudentFacts(student_id="s", days_absent=-1)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("days_absent", float("nan")),
        ("days_enrolled", float("inf")),
        ("tardies", 10**15 + 1),
        ("days_absent", 10**400),
    ],
)
def test_student_facts_refuses_numbers_no_count_can_be(field: str, value: float) -> None:
    # A count of days is finite and far below 10**15; a 400-digit one overflowed the evaluator.
    with pytest.raises(ValueError, match=field):
        StudentFacts(student_id="s1", **{field: value})
    assert StudentFacts(student_id="s1", **{field: 10**15}).get(field) == 10**15


@pytest.mark.parametrize(
    ("history", "where"),
    [
        ({"legal_steps": 5}, "history.legal_steps"),
        ({"interventions": "x"}, "history.interventions"),
        ({"conferences": {"kind": "sart"}}, "history.conferences"),
    ],
)
def test_a_history_list_that_is_not_a_list_is_facts_invalid(
    history: dict[str, Any], where: str
) -> None:
    facts = {"student_id": "s1", "history": history}
    for read in (history_view, history_of):
        with pytest.raises(DataError, match=where) as info:
            read(facts)
        assert (info.value.code, info.value.student_id) == ("facts.invalid", "s1")


@pytest.mark.parametrize("log", [5, "2025-10-01", {"date": "2025-10-01", "kind": "excused"}])
def test_an_attendance_log_that_is_not_a_list_is_facts_invalid(log: Any) -> None:
    with pytest.raises(DataError, match="must be a list of records") as info:
        attendance_log_of({"student_id": "s1", "attendance_log": log})
    assert (info.value.code, info.value.field) == ("facts.invalid", "attendance_log")


def test_attendance_log_is_sorted_and_validated() -> None:
    facts = {
        "student_id": "s",
        "attendance_log": [
            {"date": "2025-10-02", "kind": "unexcused"},
            {"date": "2025-10-01", "kind": "tardy_over_30", "days": 0.25},
        ],
    }
    assert attendance_log_of(facts) == (
        (dt.date(2025, 10, 1), "tardy_over_30", 0.25),
        (dt.date(2025, 10, 2), "unexcused", 1.0),
    )
    with pytest.raises(DataError) as info:
        attendance_log_of(
            {"student_id": "s", "attendance_log": [{"date": "2025-10-01", "kind": "absent"}]}
        )
    assert info.value.code == "facts.invalid" and "attendance_log[0]" in str(info.value)
    with pytest.raises(DataError) as info:
        attendance_log_of({"student_id": "s9"})
    assert (info.value.code, info.value.student_id) == ("facts.missing", "s9")


# --- CSV cells become typed facts ---------------------------------------------------------------


def _csv(tmp_path: Path, text: str, *, bom: bool = False, **kinds: str) -> list[Any]:
    path = tmp_path / "facts.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return read_all(read_facts, path, extra_kinds=kinds)


def _rejects(items: list[Any]) -> list[tuple[str, str | None, str | None, str | None]]:
    return [
        (e.code, Path(e.source or "").name, e.student_id, e.field)
        for e in items
        if isinstance(e, DataError)
    ]


def test_a_csv_with_a_byte_order_mark_reads_its_first_column(tmp_path: Path) -> None:
    items = _csv(tmp_path, "student_id,days_enrolled,days_absent\ns1,40,4\n", bom=True)
    assert [i.facts for i in items] == [{"student_id": "s1", "days_enrolled": 40, "days_absent": 4}]
    decision = tierflow.load_ruleset("mtss").evaluate(items[0].facts, as_of=dt.date(2025, 11, 3))
    assert decision.student_id == "s1"


def test_csv_grades_become_grade_levels(tmp_path: Path) -> None:
    items = _csv(
        tmp_path,
        "student_id,grade\ns1,3\ns2,K\ns3,PK\ns4,3rd\n"
        "s5,uri://ed-fi.org/GradeLevelDescriptor#Ninth grade\ns6,12\ns7,x\ns8,14\ns9,2.5\n",
    )
    assert [i.facts["grade"] for i in items if isinstance(i, FactsRecord)] == [3, 0, -1, 3, 9, 12]
    assert _rejects(items) == [
        ("ingest.invalid_number", "facts.csv:8", "s7", "grade"),
        ("ingest.invalid_number", "facts.csv:9", "s8", "grade"),
        ("ingest.invalid_number", "facts.csv:10", "s9", "grade"),
    ]
    assert "'x' is not a grade level (a whole number from -1 to 13, K or PK)" in str(items[6])


def test_a_csv_grade_reaches_a_rule_as_a_number(tmp_path: Path) -> None:
    # It used to stay text, so every student was rejected: fact 'grade' must be a number.
    (tmp_path / "r.yaml").write_text(
        'id: g\nname: G\nversion: "1"\nextends: mtss\n'
        "tiers:\n  - {id: tier1, default: true}\n  - {id: tier2, when: grade >= 9}\n",
        encoding="utf-8",
    )
    ruleset = tierflow.load_ruleset(tmp_path / "r.yaml")
    items = _csv(tmp_path, "student_id,days_enrolled,days_absent,grade\ns1,40,0,9th\ns2,40,0,K\n")
    tiers = [ruleset.evaluate(i.facts, as_of=dt.date(2025, 11, 3)).tier for i in items]
    assert tiers == ["tier2", "tier1"]


def test_csv_cells_of_every_fact_type(tmp_path: Path) -> None:
    items = _csv(
        tmp_path,
        "student_id,days_absent,causes,on_plan,plan_date,note\n"
        "s1,2.5,health|transportation,yes,2025-10-01,[draft]\n"
        "s2,nan,,,,\n"
        "s3,1,,maybe,,\n"
        "s4,1,,,10/01/2025,\n"
        "s5,inf,,,,\n",
        on_plan="bool",
        plan_date="date",
        note="string",
    )
    assert items[0].facts == {
        "student_id": "s1",
        "days_absent": 2.5,
        "causes": ["health", "transportation"],
        "on_plan": True,
        "plan_date": dt.date(2025, 10, 1),
        "note": "[draft]",  # a string fact is text, even when it looks like JSON
    }
    assert _rejects(items) == [
        ("ingest.invalid_number", "facts.csv:3", "s2", "days_absent"),
        ("ingest.invalid_bool", "facts.csv:4", "s3", "on_plan"),
        ("ingest.invalid_date", "facts.csv:5", "s4", "plan_date"),
        ("ingest.invalid_number", "facts.csv:6", "s5", "days_absent"),
    ]


def test_a_multi_line_csv_record_is_reported_where_it_starts(tmp_path: Path) -> None:
    items = _csv(
        tmp_path,
        'student_id,history\ns1,"{""legal_steps"":\n  [}"\ns2,\n',
    )
    assert _rejects(items) == [("ingest.invalid_json", "facts.csv:2", "s1", "history")]
    assert "at line 2 column 4 of the cell" in str(items[0])
    assert [i.source for i in items[1:]] == [f"{tmp_path / 'facts.csv'}:4"]


def test_a_cut_short_json_lines_record_says_so(tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_text('{"student_id": "s1"}\n{"student_id": "s2", "days_absent": 3\n[1,\n')
    errors = [e for e in read_all(read_facts, path) if isinstance(e, DataError)]
    assert [str(e) for e in errors] == [
        f"{path}:2: ingest.invalid_json: the line ends before its JSON object does (Expecting "
        "',' delimiter at column 38); each line must hold one whole object",
        f"{path}:3: ingest.invalid_json: the line ends before its JSON object does (Expecting "
        "value at column 4); each line must hold one whole object",
    ]


def test_two_log_rows_of_one_kind_on_one_date_are_one_day() -> None:
    # TEC 25.0951 counts "days or parts of days": a date recorded twice (a morning and an
    # afternoon row) is one day, in every window function, and its parts add up to a day at most.
    rows = [
        {"date": "2025-10-01", "kind": "unexcused", "days": 0.5},
        {"date": "2025-10-01", "kind": "unexcused", "days": 0.75},
        {"date": "2025-10-02", "kind": "unexcused", "days": 0.5},
    ]
    assert attendance_log_of({"student_id": "s", "attendance_log": rows}) == (
        (dt.date(2025, 10, 1), "unexcused", 1.0),
        (dt.date(2025, 10, 2), "unexcused", 0.5),
    )
    rs = tierflow.parse_ruleset(
        """
id: dates-demo
name: Dates not rows
version: "1"
extends: mtss
rules:
  - id: three-days
    when: count_within('unexcused', 4w) >= 3 or peak_count('unexcused', 6mo) >= 3
    assign: [family-call]
  - id: two-days
    when: count_within('unexcused', 4w) == 2 and days_within('unexcused', 4w) == 1.5
    assign: [family-call]
""",
        name="dates-demo.yaml",
    )
    facts = {"student_id": "s", "days_enrolled": 20, "days_absent": 1.5, "attendance_log": rows}
    assert rs.evaluate(facts, as_of=dt.date(2025, 10, 3)).rules == ("two-days",)
