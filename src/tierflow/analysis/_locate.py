"""Report a finding about an inherited entry in the file where its cause is written.

Analysis runs on the merged rule set, so a finding is first placed at the entry it is about:
for a playbook that ``extends`` another, often in the parent (``mtss.yaml (built-in)``), a file
its author did not write and cannot edit. :func:`relocate` moves such a finding into the
playbook being checked (or the nearest file of its chain that is not the entry's own):

- to the change that causes it: the first value that file writes among what the finding
  depends on (the entry itself, every tier's conditions, and the metrics they read,
  transitively), say the override of ``chronic_from`` that leaves a Tier 2 rule no student;
- else, when the parent has the problem on its own, to the ``extends`` line of the playbook
  checked.

The message keeps the inherited entry's own place, and the hint names the fix in the child:
change the override, or drop the inherited entry with ``remove: true``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from tierflow.compile import Program
from tierflow.source import format_path

if TYPE_CHECKING:  # the analysis imports this module: the names are for the types only
    from tierflow.analysis._analyze import Finding
    from tierflow.compile._source import Document

__all__ = ["relocate"]

_ENTRY = re.compile(r"^(?P<section>[a-z_]+)\[(?P<index>\d+)\]")
_KIND = {
    "tiers": "tier",
    "rules": "rule",
    "legal": "legal step",
    "interventions": "intervention",
    "metrics": "metric",
    "references": "reference",
}

_Where = tuple[str | int, ...]


def relocate(findings: Iterable[Finding], program: Program) -> list[Finding]:
    """Move each finding about an inherited entry into the file that causes it (see above)."""
    out = list(findings)
    root: Document = program.smap.origins[()][0]
    if len(program.files) < 2 or all(f.span.file == root.name for f in out):
        return out
    locator = _Locator(program)
    return [f if f.span.file == root.name else locator.relocated(f, root) for f in out]


_Origin = tuple[_Where, "Document", _Where]


class _Locator:
    """The source map indexed once by entry (a scan per finding was quadratic)."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.rank = {name: i for i, name in enumerate(program.files)}  # base first
        self.entry_of: dict[tuple[str, _Where], tuple[str, int]] = {}
        self.by_entry: dict[_Where, list[_Origin]] = {}
        for path, (doc, orig) in program.smap.origins.items():
            if len(path) < 2 or not isinstance(path[1], int):
                continue
            section, k = path[0], path[1]
            assert isinstance(section, str)
            if len(path) == 2:
                self.entry_of[(doc.name, orig)] = (section, k)
            self.by_entry.setdefault((section, k), []).append((path, doc, orig))

    def relocated(self, finding: Finding, root: Document) -> Finding:
        """``finding`` in the child (unchanged when it is not about an inherited entry)."""
        m = _ENTRY.match(finding.path)
        entry = m and self.entry_of.get((finding.span.file, (m["section"], int(m["index"]))))
        if not entry:
            return finding
        section, k = entry
        cause = self._cause(self._depends_on(section, k), self.rank.get(finding.span.file, -1))
        entry_id = getattr(self.program.spec, section)[k].id
        kind = _KIND.get(section, "entry")
        remove = (
            f"drop the inherited {kind}: '- {{id: {entry_id}, remove: true}}' under '{section}:'"
        )
        where = f"{finding.span} ({finding.path})"
        if cause is not None:
            doc, orig = cause
            this = "this entry" if len(orig) == 2 else "this value"  # a new entry, or a key
            return dataclasses.replace(
                finding,
                message=f"{finding.message}; it is inherited from {where}, and {this} makes it so",
                span=doc.yaml.span_of(orig),
                path=format_path(orig),
                hint=_joined(finding.hint, f"change {this}, or {remove}"),
            )
        return dataclasses.replace(
            finding,
            message=f"{finding.message}; it is inherited from {where}",
            span=root.yaml.span_of(("extends",)),
            path="extends",
            hint=_joined(finding.hint, f"fix it in the parent, or in this playbook {remove}"),
        )

    def _depends_on(self, section: str, k: int) -> list[_Where]:
        """The merged entries a finding about ``section[k]`` depends on, metrics included."""
        program = self.program
        spec = program.spec
        deps: list[_Where] = [(section, k), *(("tiers", i) for i in range(len(spec.tiers)))]
        exprs = [e for e in (*program.tier_exprs, *program.stay_exprs) if e is not None]
        if section == "rules":
            exprs.append(program.rule_exprs[k])
        elif section == "legal":  # the ladder: each step is read against the others
            exprs += [*program.legal_exprs, *(e for e in program.exempt_exprs if e is not None)]
            deps += [("legal", i) for i in range(len(spec.legal))]
        elif section == "interventions":  # escalation: the target's tier counts too
            deps += [("interventions", i) for i in range(len(spec.interventions))]
        metric_at = {m.id: i for i, m in enumerate(spec.metrics)}
        todo = [n for e in exprs for n in e.names if n in metric_at]
        seen: set[str] = set()
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            deps.append(("metrics", metric_at[name]))
            todo += [n for n in program.metric_exprs[name].names if n in metric_at]
        return deps

    def _cause(self, deps: list[_Where], own_rank: int) -> tuple[Document, _Where] | None:
        """The first value among ``deps`` written by the most derived file after the entry's."""
        best: tuple[int, int, int, Document, _Where] | None = None
        for dep in deps:
            for path, doc, orig in self.by_entry.get(dep, ()):
                if len(path) == 3 and path[-1] in ("id", "remove", "before", "after"):
                    continue  # naming an inherited entry changes nothing of it
                r = self.rank.get(doc.name, -1)
                if r <= own_rank:
                    continue
                span = doc.yaml.span_of(orig)
                key = (-r, span.line, span.col)
                if best is None or key < best[:3]:
                    best = (*key, doc, orig)
        return None if best is None else (best[3], best[4])


def _joined(*hints: str) -> str:
    return "; ".join(h for h in hints if h)
