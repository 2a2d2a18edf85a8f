"""The district dashboard: one self-contained HTML file of charts, each beside its data table.

:func:`dashboard` runs the insight reports (chronic absence, equity and coverage, and
effectiveness where attendance is given) and lays them out on one page that needs nothing
but itself: the charts are static SVG drawn by matplotlib (:mod:`tierflow.report._charts`)
and inlined, the style sheet and the one small script are inline, and a
Content-Security-Policy lets the page load nothing at all (no network, no frames, no other
script: the script is allowed by its SHA-256 hash, so a script that a value managed to add
would not run either).

Every chart has its data beside it as a ``<table>`` with a caption and header cells
(``th scope``), for screen readers and for anyone who wants the numbers; the tables are the
reports' own figures, built with :func:`~tierflow.report._export.html`, which escapes every
value. The filters (by school and by student group) are the one thing the script does: it
shows the two menus and hides the table rows and chart marks of the other schools or groups.
Without scripts the menus stay hidden and the page shows everything, but for the
effectiveness chart, which then shows the district's marks only (a school's and a group's are
drawn at the same places, for the filters to swap; its table lists every row).

Given a roster, the page has the operations sections; given students (and the attendance
events), a progress page for each, after the district's charts (each printed on its own
sheet), linked from a list.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tierflow.attendance import FactsBuilder
from tierflow.report._charts import Bar, Interval, bar_chart, interval_chart
from tierflow.report._chronic import WATCHED_GROUPS, ChronicAbsence, ChronicRate, chronic_absence
from tierflow.report._daily import AttendanceSource
from tierflow.report._dashboard_parts import pct, pp, pp_pair, row, section
from tierflow.report._dashboard_work import (
    operations_sections,
    progress_index,
    progress_section,
)
from tierflow.report._effect import CAVEAT, Effectiveness, EffectRow, effectiveness
from tierflow.report._equity import EquityReport, EquityRow, equity_report
from tierflow.report._export import Markup, html, join
from tierflow.report._operations import Operations
from tierflow.report._operations import operations as operations_report
from tierflow.report._page import STYLE, css_string
from tierflow.report._progress import Progress
from tierflow.report._progress import progress as progress_report

__all__ = ["dashboard", "render_dashboard"]

if TYPE_CHECKING:
    from tierflow.attendance import SchoolCalendar
    from tierflow.evaluate import CompiledRuleset
    from tierflow.workflow import Repository, Roster

_SCRIPT = """
(function () {
  var box = document.getElementById("filters");
  var menus = box.querySelectorAll("select");
  function apply() {
    var picked = {};
    menus.forEach(function (m) { picked[m.name] = m.value; });
    document.querySelectorAll("[data-school],[data-group]").forEach(function (el) {
      var off = false, exact = el.hasAttribute("data-set");
      for (var key in picked) {
        var value = el.getAttribute("data-" + key);
        if (exact) {
          if (value !== picked[key]) { off = true; }
        } else if (value !== null && picked[key] !== "" && value !== picked[key]) {
          off = true;
        }
      }
      el.classList.toggle("off", off);
    });
  }
  menus.forEach(function (m) { m.addEventListener("change", apply); });
  document.body.classList.add("js");
  apply();
  box.hidden = false;
})();
"""
"""The filters: shows the menus and hides the rows and marks of other schools or groups.

A row or mark with ``data-set`` (effectiveness, grouped separately) is shown only when both
menus say exactly its school and group ("" is all); the others when they are of the picked
school or group, or of none.

It applies the menus once on load too: a browser that restores a form's choices (back, reload)
shows what they say.
"""

SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
"""The script's SHA-256 (base64), the only script the page's policy lets run."""

_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    f"script-src 'sha256-{SCRIPT_HASH}'; base-uri 'none'; form-action 'none'"
)

_STYLE = """\
  header.dash p { margin: .2em 0; }
  div.filters { margin: 1em 0; display: flex; gap: 1.5em; }
  div.pair { display: grid; grid-template-columns: minmax(0, 5fr) minmax(0, 6fr); gap: 1.2em;
             align-items: start; }
  div.data { overflow-x: auto; font-size: 9pt; }
  figure { margin: 0; }
  figcaption { font-size: 9pt; color: #333; }
  svg.chart { width: 100%; height: auto; }
  caption { text-align: left; font-weight: bold; padding-bottom: .3em; }
  td.n { text-align: right; white-space: nowrap; }
  tr.district th, tr.district td { font-weight: bold; }
  tr.flagged td:nth-child(6) { color: inherit; font-weight: normal; }
  tr.flagged td:nth-child(7), tr.flagged td:nth-child(8) { color: #a00; font-weight: bold; }
  div.student td:last-child { text-align: left; white-space: normal; }
  .off { display: none; }
  body:not(.js) .mark[data-set]:not([data-school=""][data-group=""]) { display: none; }
  p.note { font-size: 9pt; color: #333; max-width: 60em; }
  @media (max-width: 900px) { div.pair { grid-template-columns: 1fr; } }
  @media print { div.filters { display: none; } section.chart { break-inside: avoid; }
                 div.student { break-before: page; } }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{style}</style>
</head>
<body>
<h1>{title}</h1>
{body}
<script>{script}</script>
</body>
</html>
"""

_CHRONIC_HEAD = ("", "Chronically absent", "Enrolled 10+ days", "Rate", "Under 10 days")


def _chronic_cells(r: ChronicRate) -> list[object]:
    return [r.chronic, r.enrolled, pct(r.rate), r.short_enrollment]


def _chronic(report: ChronicAbsence, scope: str) -> Markup:
    rates = report.schools if scope == "school" else report.groups
    noun = "school" if scope == "school" else "student group"
    district = report.district
    bars: list[Bar] = [(r.key, r.rate, {scope: r.key}) for r in rates]
    chart = bar_chart(
        f"chronic-{scope}",
        f"Chronic absence rate by {noun}, with the district rate",
        [("chronic absence rate", bars)],
        reference=[(f"district {pct(district.rate)}", district.rate)],
    )
    rows = [row("District", _chronic_cells(district), attrs={}, cls="district")]
    rows += [row(r.key, _chronic_cells(r), attrs={scope: r.key}) for r in rates]
    return section(
        f"chronic-{scope}",
        f"Chronic absence by {noun}",
        chart,
        f"Share of students enrolled 10+ days who missed 10% or more of them (EDFacts FS195); "
        f"the dashed line is the district's {pct(district.rate)}.",
        f"Chronic absence by {noun}, as of {report.as_of or '-'}",
        (noun.capitalize(), *_CHRONIC_HEAD[1:]),
        rows,
        "A group with nobody enrolled 10+ days has no rate (-) and no bar."
        if scope == "group"
        else "",
    )


_EQUITY_HEAD = (
    "Tier 2/3 students",
    "With active support",
    "Coverage",
    "With a legal step",
    "Support first",
    "Support-first share",
    "Flagged",
)


def _equity_cells(r: EquityRow) -> list[object]:
    return [
        r.tier23,
        r.tier23_supported,
        pct(r.coverage),
        r.legal,
        r.legal_support_first,
        pct(r.support_first),
        "flagged" if r.flagged else "",
    ]


def _equity(report: EquityReport, scope: str) -> Markup:
    rows_of = report.schools if scope == "school" else report.groups
    noun = "school" if scope == "school" else "student group"
    district = report.district
    chart = bar_chart(
        f"equity-{scope}",
        f"Coverage and support-first share by {noun}, with the district's",
        [
            ("coverage", [(r.key, r.coverage, {scope: r.key}) for r in rows_of]),
            ("support first", [(r.key, r.support_first, {scope: r.key}) for r in rows_of]),
        ],
        reference=[
            (f"district coverage {pct(district.coverage)}", district.coverage),
            (f"district support first {pct(district.support_first)}", district.support_first),
        ],
        flagged=[r.flagged for r in rows_of],
    )
    rows = [row("District", _equity_cells(district), attrs={}, cls="district")]
    rows += [
        row(r.key, _equity_cells(r), attrs={scope: r.key}, cls="flagged" if r.flagged else "")
        for r in rows_of
    ]
    flagged = ", ".join(r.key for r in report.flagged) or "none"
    return section(
        f"equity-{scope}",
        f"Coverage and support first by {noun}",
        chart,
        "Coverage: share of Tier 2/3 students with an active supportive intervention. "
        "Support first: share of students with a legal step who had support started on or "
        f"before their first step. Flagged groups (labels in red, bold): {flagged}.",
        f"Equity and coverage by {noun}, as of {report.as_of}",
        (noun.capitalize(), *_EQUITY_HEAD),
        rows,
        f"A group is flagged when its support-first share is {round(report.margin * 100)} "
        f"points or more below the district's, with at least {report.min_legal} student(s) "
        "with a legal step. The figures describe the records, not their causes.",
    )


_EFFECT_HEAD = (
    "Intervention",
    "Served",
    "Analysed",
    "Before",
    "After",
    "Change",
    "Change interval",
    "Matched",
    "Comparison change",
    "Difference",
    "Difference interval",
    "Goal met",
)


def _effect_cells(r: EffectRow) -> list[object]:
    goal = f"{r.goal_met} of {r.ended}"
    return [
        r.served,
        r.analysed,
        pct(r.before_rate),
        pct(r.after_rate),
        pp(r.change),
        pp_pair(r.change_ci),
        r.matched,
        pp(r.comparison_change),
        pp(r.did),
        pp_pair(r.did_ci),
        goal,
    ]


def _effect_attrs(r: EffectRow) -> dict[str, str] | None:
    """A row's filter attributes: ``data-set`` (an exact match) and its school and group.

    The rows are grouped separately (the district's, a school's, a group's), so a row is
    shown when the menus say exactly its school and group, "" (all) included. A row of no
    school or no group cannot be picked in a menu and is not shown (the report has it).
    """
    attrs = {"set": "", "school": "", "group": ""}
    for key, value in r.group:
        if key not in ("school", "group") or value is None:
            return None
        attrs[key] = value
    return attrs


def _effect_label(r: EffectRow) -> str:
    return r.intervention + "".join(f", {key} {value}" for key, value in r.group)


def _effect(report: Effectiveness) -> Markup:
    shown = [(r, a) for r in report.rows if (a := _effect_attrs(r)) is not None]
    changes: list[Interval] = [
        (r.intervention, r.change, r.change_ci, a) for r, a in shown if r.change is not None
    ]
    dids: list[Interval] = [
        (r.intervention, r.did, r.did_ci, a) for r, a in shown if r.did is not None
    ]
    level = round(report.level * 100)
    if changes:
        chart = interval_chart(
            "effect",
            "Change in attendance after support started, by intervention kind",
            [
                ("change (served)", changes),
                *([("difference vs comparison", dids)] if dids else []),
            ],
        )
        caption = (
            f"Mean change in attendance rate, {report.window} school days before against "
            f"after the start, with its {level}% interval; and, where matched students who "
            "were not served exist, the difference between the two changes. For the district, "
            "one school or one student group: with both menus set, nothing is shown."
        )
    else:
        chart = Markup("")
        caption = f"No intervention kind has {report.min_n} students for an estimate."
    rows = [row(_effect_label(r), _effect_cells(r), attrs=a) for r, a in shown]
    return section(
        "effect",
        "Effectiveness by intervention kind",
        chart,
        caption,
        f"Effectiveness as of {report.as_of}, {report.window} school days each side "
        f"({level}% intervals)",
        _EFFECT_HEAD,
        rows,
        CAVEAT,
    )


def render_dashboard(
    chronic: ChronicAbsence,
    equity: EquityReport,
    effect: Effectiveness | None = None,
    *,
    operations: Operations | None = None,
    progress: Sequence[Progress] = (),
    title: str = "District attendance dashboard",
) -> str:
    """The dashboard page of reports already run (see :func:`dashboard`).

    Args:
        chronic: Chronic absence.
        equity: Equity and coverage.
        effect: Effectiveness (None: no section).
        operations: Operations (None: no sections).
        progress: The students whose progress pages follow the district's charts.
        title: The page's title.

    Raises:
        ImportError: matplotlib is not installed (the message says how to install it).
    """
    schools = sorted({r.key for r in chronic.schools} | {r.key for r in equity.schools})
    groups = [r.key for r in chronic.groups]
    sections = [
        _chronic(chronic, "school"),
        _chronic(chronic, "group"),
        _equity(equity, "school"),
        _equity(equity, "group"),
    ]
    if effect is not None:
        sections.append(_effect(effect))
    if operations is not None:
        sections.extend(operations_sections(operations))
    if progress:
        sections.append(progress_index(list(progress)))
        sections.extend(progress_section(p, i) for i, p in enumerate(progress))
    summaries = [chronic.summary(), equity.summary()]
    if effect is not None:
        summaries.append(effect.summary())
    else:
        summaries.append("effectiveness: not shown (no attendance was given)")
    if operations is not None:
        summaries.append(operations.summary())
    body = html(
        _BODY,
        lines=join("\n", (html("<p>{s}</p>", s=s) for s in summaries)),
        schools=_options(schools),
        groups=_options(groups),
        sections=join("\n", sections),
    )
    style = string.Template(STYLE).substitute(size="landscape", running=css_string(title))
    return str(
        html(
            _PAGE,
            csp=_CSP,
            title=title,
            style=Markup(style + _STYLE),
            body=body,
            script=Markup(_SCRIPT),
        )
    )


_BODY = """<header class="dash">
{lines}
</header>
<div class="filters" id="filters" hidden>
<label>School <select name="school"><option value="">all schools</option>{schools}</select></label>
<label>Student group <select name="group"><option value="">all groups</option>{groups}</select>\
</label>
</div>
{sections}"""


def _options(values: Iterable[str]) -> Markup:
    return join("", (html('<option value="{v}">{v}</option>', v=v) for v in values))


def dashboard(
    repository: Repository,
    facts: Iterable[Mapping[str, Any]],
    *,
    as_of: dt.date,
    ruleset: CompiledRuleset | None = None,
    calendars: Mapping[str, SchoolCalendar] | None = None,
    attendance: AttendanceSource | None = None,
    roster: Roster | None = None,
    students: Sequence[str] = (),
    window: int = 20,
    min_n: int = 10,
    groups: Sequence[str] = WATCHED_GROUPS,
    title: str = "District attendance dashboard",
) -> str:
    """The district dashboard as one self-contained HTML page.

    Args:
        repository: The store (decisions, interventions, legal steps).
        facts: The day's facts (schools, groups, days enrolled and absent).
        as_of: Read the records as they stood that day.
        ruleset: The rule set, for each tier's level (see ``equity_report``).
        calendars: School calendars: time to support in school days.
        attendance: The students' school days (a ``FactsBuilder`` or ``DailyAttendance``
            by student): with it, the effectiveness section; without it, none.
        roster: The staff (their caseload limits): with it, the operations sections.
        students: Students whose progress pages to add (needs ``attendance`` to be a
            ``FactsBuilder``: the weeks are counted from the raw events).
        window: School days each side for effectiveness.
        min_n: Fewest students for an effectiveness estimate.
        groups: Groups listed even when empty.
        title: The page's title.

    Raises:
        ImportError: matplotlib is not installed (the message says how to install it).
        ValueError: What the reports reject (a bad facts record), or ``students`` without
            a ``FactsBuilder``.
    """
    if students and not isinstance(attendance, FactsBuilder):
        raise ValueError("progress pages need the attendance as a FactsBuilder of the events")
    records = list(facts)
    chronic = chronic_absence(records, as_of=as_of, groups=groups)
    equity = equity_report(
        repository, records, as_of=as_of, ruleset=ruleset, calendars=calendars, groups=groups
    )
    effect = None
    if attendance is not None:
        effect = effectiveness(
            repository,
            attendance,
            as_of=as_of,
            window=window,
            min_n=min_n,
            by=("school", "group"),
            separately=True,
        )
    ops = None
    if roster is not None:
        ops = operations_report(repository, roster, as_of=as_of, calendars=calendars)
    pages = []
    if isinstance(attendance, FactsBuilder):
        pages = [
            progress_report(repository, attendance, sid, through=as_of, ruleset=ruleset)
            for sid in students
        ]
    return render_dashboard(chronic, equity, effect, operations=ops, progress=pages, title=title)
