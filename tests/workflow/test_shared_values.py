"""Values repeated across a district's records are held once, not once per student.

A million open interventions fit in memory because what students have in common (the words of
a decision, the school's id) is one object shared by their records. The texts are spelled out
here: sharing must not change what a record says.
"""

from __future__ import annotations

import datetime as dt

import tierflow
from tierflow.workflow import Engine, Roster, StaffMember

D = dt.date(2025, 10, 6)
MTSS = tierflow.load_ruleset("mtss")


def fresh(text: str) -> str:
    """``text`` as a new string object (literals are shared by the compiler)."""
    return "".join(list(text))


def run_two_students() -> Engine:
    roster = Roster([StaffMember("ms-lee", "lincoln", ("mentor", "counselor"), 99)])
    engine = Engine(MTSS, roster=roster)
    engine.run(
        D,
        [
            {"student_id": sid, "school_id": fresh("lincoln"), "days_enrolled": 40}
            | {"days_absent": 3}
            for sid in ("s1", "s2")
        ],
    )
    return engine


def test_equal_decisions_share_one_text() -> None:
    engine = run_two_students()
    first, second = (
        [e for e in engine.timeline(sid) if e.kind == "decision"] for sid in ("s1", "s2")
    )
    assert [e.why for e in first] == [e.why for e in second] == ["tier2; rules fired: none"]
    assert first[0].why is second[0].why


def test_interventions_of_one_school_share_its_id() -> None:
    engine = run_two_students()
    ivs = engine.interventions("s1") + engine.interventions("s2")
    assert len(ivs) == 4 and {iv.school_id for iv in ivs} == {"lincoln"}
    assert all(iv.school_id is ivs[0].school_id for iv in ivs)
