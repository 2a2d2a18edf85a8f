"""The dashboard's operations sections and its per-student progress pages.

Operations (given a roster): each school's open cases, overdue follow-ups, unassigned cases
and legal steps waiting, and each owner's caseload against their limit. Progress (for the
students asked for): a page a student, their weekly attendance rate and year-to-date rate on
one chart with the weeks their tier changed marked, and the weeks in a table with what the
store recorded in each. Both are built from :func:`~tierflow.report.operations` and
:func:`~tierflow.report.progress`, whose figures the tables show as they are.
"""

from __future__ import annotations

from tierflow.report._charts import bar_chart, week_chart
from tierflow.report._dashboard_parts import pct, row, section
from tierflow.report._export import Markup, html, join
from tierflow.report._operations import Operations
from tierflow.report._progress import Progress

__all__ = ["operations_sections", "progress_index", "progress_section"]

_NO_SCHOOL = "(no school)"
_OWNERS_CHARTED = 40


def _school(key: str | None) -> str:
    return _NO_SCHOOL if key is None else key


def operations_sections(report: Operations) -> list[Markup]:
    """The operations sections: the schools' waiting work, and the owners' caseloads."""
    schools = report.schools
    keys = [_school(s.school_id) for s in schools]
    pairs = list(zip(keys, schools, strict=True))
    series = [
        ("open cases", [(k, s.open_cases, {"school": k}) for k, s in pairs]),
        ("overdue follow-ups", [(k, s.overdue, {"school": k}) for k, s in pairs]),
        ("unassigned", [(k, s.unassigned, {"school": k}) for k, s in pairs]),
        ("legal steps waiting", [(k, len(s.legal), {"school": k}) for k, s in pairs]),
    ]
    chart = bar_chart(
        "operations-school",
        "Open cases, overdue follow-ups, unassigned cases and legal steps waiting, by school",
        series,
        unit="cases",
        scale=1.0,
        xmax=None,
    )
    rows = [
        row(
            k,
            [
                s.open_cases,
                s.overdue,
                "-" if s.oldest_overdue_school_days is None else s.oldest_overdue_school_days,
                s.unassigned,
                len(s.legal),
                s.legal_overdue,
            ],
            attrs={"school": k},
        )
        for k, s in zip(keys, schools, strict=True)
    ]
    work = section(
        "operations-school",
        "Waiting work by school",
        chart,
        "Open interventions, those with a follow-up past due, those nobody owns, and legal "
        "steps due and not yet issued.",
        f"Operations by school, as of {report.as_of}",
        (
            "School",
            "Open cases",
            "Overdue follow-ups",
            "Oldest overdue (school days)",
            "Unassigned",
            "Legal steps waiting",
            "Past their deadline",
        ),
        rows,
    )
    owners = [(_school(s.school_id), o) for s in schools for o in s.owners]
    loaded = sorted(
        ((k, o) for k, o in owners if o.limit),
        key=lambda ko: (-ko[1].open_cases / (ko[1].limit or 1), ko[1].owner),
    )[:_OWNERS_CHARTED]
    shares = [(o.open_cases / o.limit if o.limit else None) for _, o in loaded]
    bars = [(o.owner, v, {"school": k}) for (k, o), v in zip(loaded, shares, strict=True)]
    chart = bar_chart(
        "operations-owner",
        "Each owner's open cases as a share of their caseload limit",
        [("caseload", bars)],
        reference=[("limit", 1.0)],
        flagged=[o.over_limit for _, o in loaded],
        unit="% of the caseload limit",
        xmax=max([100.0, *(100 * v for v in shares if v is not None)]) * 1.05,
    )  # fmt: skip
    table = [
        row(
            o.owner,
            [
                k,
                o.open_cases,
                "-" if o.limit is None else o.limit,
                o.overdue,
                "over" if o.over_limit else "",
            ],
            attrs={"school": k},
            cls="flagged" if o.over_limit else "",
        )
        for k, o in owners
    ]
    loads = section(
        "operations-owner",
        "Caseloads against limits",
        chart,
        f"Open cases over each owner's limit (the {_OWNERS_CHARTED} most loaded owners with a "
        "limit are charted; the table lists everyone). Owners over their limit are in red.",
        f"Caseload by owner, as of {report.as_of}",
        ("Owner", "School", "Open cases", "Limit", "Overdue follow-ups", "Over the limit"),
        table,
    )
    return [work, loads]


def progress_section(report: Progress, index: int) -> Markup:
    """One student's progress page (a section of its own, printed on its own sheet)."""
    weeks = [w.week.isoformat() for w in report.weeks]
    changes: list[tuple[int, str]] = []
    for i, w in enumerate(report.weeks):
        if i and w.tier != report.weeks[i - 1].tier and w.tier is not None:
            changes.append((i, w.tier))
    chart = week_chart(
        f"progress-{index}",
        f"Weekly attendance rate of student {report.student_id}",
        weeks,
        [
            ("week", [w.rate for w in report.weeks]),
            ("year to date", [w.cumulative_rate for w in report.weeks]),
        ],
        changes,
    )
    rows = [
        row(
            w.week.isoformat(),
            [
                w.school_days,
                f"{w.days_absent:g}",
                pct(w.rate),
                pct(w.cumulative_rate),
                w.tier or "",
                "; ".join(e.describe() for e in report.events_of(w.week)),
            ],
            attrs={},
        )
        for w in report.weeks
    ]
    goals = "; ".join(f"{g.intervention_id} ({g.intervention}): {g.text}" for g in report.goals)
    body = section(
        f"student-{index}",
        f"Progress of student {report.student_id}, {report.school_year}",
        chart,
        "Attendance rate each week (school days attended of the school days enrolled) and "
        "the year to date; dotted lines mark the weeks the tier changed.",
        f"Progress of {report.student_id} by week, through {report.through}",
        ("Week of", "School days", "Days absent", "Rate", "Year to date", "Tier", "Recorded"),
        rows,
        f"Goals: {goals}." if goals else " ".join(report.notes),
    )
    return html('<div class="student">{body}</div>', body=body)


def progress_index(reports: list[Progress]) -> Markup:
    """The list of progress pages, each a link within the page."""
    items = join(
        "",
        (
            html('<li><a href="#student-{i}">{sid}</a></li>', i=i, sid=r.student_id)
            for i, r in enumerate(reports)
        ),
    )
    return html('<nav class="students"><h2>Student progress</h2><ul>{items}</ul></nav>',
                items=items)  # fmt: skip
