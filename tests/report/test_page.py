"""Every HTML report is printed on the one page of report/_page.py, with one stylesheet."""

from __future__ import annotations

import datetime as dt
import re

import tierflow
from tierflow.report import build_packet, compliance_report
from tierflow.report._export import Markup
from tierflow.report._page import css_string, document
from tierflow.workflow import InMemoryRepository


def _style(page: str) -> str:
    (style,) = re.findall(r"<style>\n(.*?)</style>", page, flags=re.S)
    return style


def _without_page_rules(style: str) -> list[str]:
    return [line for line in style.splitlines() if "size:" not in line and "@top-left" not in line]


def test_the_packet_and_the_compliance_report_share_one_stylesheet() -> None:
    repo = InMemoryRepository()
    ca = tierflow.load_ruleset("ca")
    packet = build_packet(repo, "s1", ca, as_of=dt.date(2025, 10, 6)).to_html()
    report = compliance_report(repo, ca, students=["s1"]).to_html()
    packet_style, report_style = _style(packet), _style(report)
    assert _without_page_rules(packet_style) == _without_page_rules(report_style)
    # What differs is said by each report: the paper and the running header.
    assert "size: auto;" in packet_style and "size: landscape;" in report_style
    assert 'content: "Student s1 - prepared as of 2025-10-06";' in packet_style
    assert 'content: "Legal steps and the interventions before them";' in report_style
    # The print rules the browser tests rely on, once each.
    for rule in ("tr, li { break-inside: avoid; }", "thead { display: table-header-group; }"):
        assert packet_style.count(rule) == report_style.count(rule) == 1


def test_the_running_header_cannot_end_the_stylesheet() -> None:
    page = document(title="t", running='x"; } </style><script>1</script>', body=Markup(""))
    style = _style(page)
    assert "</" not in style and "<script" not in page
    # Written by hand from the CSS escape rule: hex code point and a space (``/`` is kept).
    assert css_string('"</') == '"\\22 \\3c /"'
