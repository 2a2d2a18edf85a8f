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

Path = tuple[str | int, ...]


def relocate(findings: Iterable[Finding], program: Program) -> list[Finding]:
    """Move each finding about an inherited entry into the file that causes it (see above)."""
    out = list(findings)
    if len(program.files) < 2:
        return out
    return [_relocated(f, program) for f in out]


def _relocated(finding: Finding, program: Program) -> Finding:
    smap = program.smap
    root: Document = smap.origins[()][0]
    if finding.span.file == root.name:
        return finding
    entry = _merged_entry(finding, program)
    if entry is None:
        return finding
    section, k = entry
    rank = {name: i for i, name in enumerate(program.files)}
    own_rank = rank.get(finding.span.file, -1)
    cause = _cause(_depends_on(section, k, program), program, rank, own_rank)
    entry_id = getattr(program.spec, section)[k].id
    kind = _KIND.get(section, "entry")
    remove = f"drop the inherited {kind}: '- {{id: {entry_id}, remove: true}}' under '{section}:'"
    where = f"{finding.span} ({finding.path})"
    if cause is not None:
        doc, orig = cause
        return dataclasses.replace(
            finding,
            message=f"{finding.message}; it is inherited from {where}, and this value makes it so",
            span=doc.yaml.span_of(orig),
            path=format_path(orig),
            hint=_joined(finding.hint, f"change this value, or {remove}"),
        )
    return dataclasses.replace(
        finding,
        message=f"{finding.message}; it is inherited from {where}",
        span=root.yaml.span_of(("extends",)),
        path="extends",
        hint=_joined(finding.hint, f"fix it in the parent, or in this playbook {remove}"),
    )


def _joined(*hints: str) -> str:
    return "; ".join(h for h in hints if h)


def _merged_entry(finding: Finding, program: Program) -> tuple[str, int] | None:
    """The merged section and index of the entry the finding's path names in its own file."""
    m = _ENTRY.match(finding.path)
    if m is None:
        return None
    section, index = m["section"], int(m["index"])
    smap = program.smap
    for k in range(len(getattr(program.spec, section, ()))):
        doc, orig = smap.locate((section, k))
        if doc.name == finding.span.file and orig == (section, index):
            return section, k
    return None


def _depends_on(section: str, k: int, program: Program) -> list[Path]:
    """The merged entries a finding about ``section[k]`` depends on, metrics included."""
    deps: list[Path] = [(section, k)]
    exprs = [e for e in (*program.tier_exprs, *program.stay_exprs) if e is not None]
    deps += [("tiers", i) for i in range(len(program.spec.tiers))]
    if section == "rules":
        exprs.append(program.rule_exprs[k])
    elif section == "legal":  # the ladder: each step is read against the others
        exprs += [*program.legal_exprs, *(e for e in program.exempt_exprs if e is not None)]
        deps += [("legal", i) for i in range(len(program.spec.legal))]
    names = {n for e in exprs for n in e.names}
    metric_at = {m.id: i for i, m in enumerate(program.spec.metrics)}
    todo = [n for n in names if n in metric_at]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        deps.append(("metrics", metric_at[name]))
        todo += [n for n in program.metric_exprs[name].names if n in metric_at]
    return deps


def _cause(
    deps: list[Path], program: Program, rank: dict[str, int], own_rank: int
) -> tuple[Document, Path] | None:
    """The first value among ``deps`` written by the most derived file after the entry's own."""
    best: tuple[int, int, int, Document, Path] | None = None
    for path, (doc, orig) in program.smap.origins.items():
        if len(path) < 2 or not any(path[: len(d)] == d for d in deps):
            continue
        if path[-1] in ("id", "remove", "before", "after") and len(path) == 3:
            continue  # naming an inherited entry changes nothing of it
        r = rank.get(doc.name, -1)
        if r <= own_rank:
            continue
        span = doc.yaml.span_of(orig)
        key = (-r, span.line, span.col)
        if best is None or key < best[:3]:
            best = (*key, doc, orig)
    return None if best is None else (best[3], best[4])
