"""The demo's "opened" table lists every kind, so its rows add up to the headline (issue 13)."""

from __future__ import annotations

import io
import re

from tierflow.cli import main


def test_the_opened_table_sums_to_the_headline() -> None:
    out = io.StringIO()
    assert main(["demo", "--db", ":memory:"], out=out) == 0
    text = out.getvalue()
    headline = re.search(r"this run opened ([\d,]+) interventions", text)
    assert headline is not None
    opened = int(headline.group(1).replace(",", ""))
    table = text.split("this run opened")[1].split("One student, explained")[0]
    rows = re.findall(r"^(\S+)\s+\S+\s+([\d,]+)\s*$", table, flags=re.MULTILINE)
    kinds = {kind: int(n.replace(",", "")) for kind, n in rows}
    # Summed here by hand from the printed rows, not from the engine's plan.
    assert sum(kinds.values()) == opened
    # The reader missed the explained student's kind in the old top-ten table.
    assert "counseling-referral" in kinds
