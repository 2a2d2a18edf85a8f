"""The ``resolve_extends`` stage: merge an ``extends`` chain into one rule set, by entry id.

A child rule set overrides, removes or places (``before``/``after``) the entries of its parents
by id; every merged value is mapped in a :class:`~tierflow.compile._source.SourceMap` to the file
and path that wrote it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from tierflow.compile._compilation import Compilation
from tierflow.compile._source import Document, SourceMap, load_documents
from tierflow.errors import Problem, suggest
from tierflow.source import format_path
from tierflow.spec._models import ENTRY_SECTIONS, RulesetSpec

__all__ = ["MERGED_SECTIONS", "merge_documents", "resolve_extends"]

MERGED_SECTIONS = ENTRY_SECTIONS
"""Sections whose entries a child rule set overrides, removes or adds by id."""

_POSITION_KEYS = ("remove", "before", "after")


def _clearable(section: str) -> frozenset[str]:
    """The keys of a section's entries a child may clear with ``null``: those it may leave out."""
    (model,) = get_args(RulesetSpec.model_fields[section].annotation)[:1]
    return frozenset(
        name
        for name, f in model.model_fields.items()
        if not f.is_required() and name not in _POSITION_KEYS
    )


CLEARABLE = {section: _clearable(section) for section in MERGED_SECTIONS}
"""Per section, the entry keys a child clears with ``key: null`` (back to "not written")."""

NON_EMPTY = {"rules": ("tiers", "causes", "groups")}
"""Restrictions an empty list would turn into "never": written ``[]``, they are a load error."""


def resolve_extends(c: Compilation) -> None:
    """Read the ``extends`` chain of the root document and merge it into one rule set."""
    chain, problems = load_documents(c.root)
    c.documents = chain
    c.problems.extend(problems)
    if problems:
        return
    merged, smap, merge_problems = merge_documents(chain)
    c.merged, c.smap = merged, smap
    c.problems.extend(merge_problems)


def merge_documents(chain: list[Document]) -> tuple[dict[str, Any], SourceMap, list[Problem]]:
    """Merge an ``extends`` chain (base first) into one mapping, remembering origins."""
    problems: list[Problem] = []
    smap = SourceMap()
    merged: dict[str, Any] = {}
    for depth, doc in enumerate(chain):
        data = doc.yaml.data
        if not isinstance(data, Mapping):
            problems.append(
                Problem(
                    doc.yaml.span_of(()),
                    "schema.invalid_type",
                    f"a rule set must be a mapping of keys, not {_kind_of(data)}",
                )
            )
            return {}, smap, problems
        smap.origins[()] = (doc, ())
        has_parent = depth > 0
        if has_parent:
            _check_own_identity(doc, data, chain[depth - 1], problems)
        for key, value in data.items():
            path: tuple[str | int, ...] = (key,)
            if key in MERGED_SECTIONS and isinstance(value, list):
                base = merged.get(key) if has_parent else None
                merged[key] = _merge_section(
                    key,
                    base if isinstance(base, list) else [],
                    value,
                    doc,
                    smap,
                    problems,
                    has_parent,
                )
            elif (
                key in ("facts", "attendance", "lifecycle", "translations")
                and isinstance(value, Mapping)
                and isinstance(merged.get(key), Mapping)
            ):
                merged[key] = _merge_mapping(key, merged[key], value, doc, smap)
            else:
                merged[key] = value
                _remap(smap, path, doc, path, value)
        if has_parent and "tests" not in data:
            merged.pop("tests", None)  # a parent's tests check the parent, not the child
    merged.pop("extends", None)
    if len(chain) > 1:
        merged["extends"] = chain[-1].yaml.data.get("extends")
        smap.origins[("extends",)] = (chain[-1], ("extends",))
    return merged, smap, problems


OWN_KEYS = ("id", "name", "version")
"""Top-level keys every rule set file states itself: a child never inherits its parent's."""


def _check_own_identity(
    doc: Document, data: Mapping[str, Any], parent: Document, problems: list[Problem]
) -> None:
    """Report an identity key a child leaves out (it would silently be the parent's).

    Every decision records the rule set's id and version; a district auditing which playbook
    decided what must not find a school's playbook reported as its district's.
    """
    theirs = parent.yaml.data if isinstance(parent.yaml.data, Mapping) else {}
    for key in OWN_KEYS:
        if key in data:
            continue
        inherited = f" (it would be {theirs[key]!r}, the parent's)" if key in theirs else ""
        problems.append(
            Problem(
                doc.yaml.span_of(()),
                "schema.missing_field",
                f"required key {key!r} is missing{inherited}",
                format_path(()),
                "a rule set that extends another states its own id, name and version: they "
                "identify every decision it makes, so they are not inherited",
            )
        )


def _placement(
    item: Mapping[str, Any],
    orig: tuple[str | int, ...],
    doc: Document,
    problems: list[Problem],
) -> dict[str, Any]:
    """The entry's ``remove``/``before``/``after``; one of the wrong type is reported, unused."""
    placement = {}
    for key in _POSITION_KEYS:
        if key not in item:
            continue
        value = item[key]
        expected = bool if key == "remove" else str
        if isinstance(value, expected):
            placement[key] = value
            continue
        problems.append(
            Problem(
                doc.yaml.span_of((*orig, key)),
                "schema.invalid_type",
                f"expected {'true or false' if key == 'remove' else 'an entry id'}, "
                f"got {_kind_of(value)}",
                format_path((*orig, key)),
            )
        )
    return placement


def _without_empty_restrictions(
    section: str,
    body: dict[str, Any],
    orig: tuple[str | int, ...],
    doc: Document,
    problems: list[Problem],
) -> dict[str, Any]:
    """Report a restriction written as an empty list (``tiers: []``), and leave it out.

    A rule restricted to no tier, cause or group can never fire, yet nothing else says so: an
    author who wrote ``tiers: []`` to lift an inherited restriction silently disabled the rule.
    Lifting one is written ``tiers: null`` (docs/extends.md), so ``[]`` is refused, with both
    ways out in the hint.
    """
    empty = [key for key in NON_EMPTY.get(section, ()) if body.get(key) == []]
    for key in empty:
        what = {"tiers": "tier", "causes": "cause", "groups": "student group"}[key]
        problems.append(
            Problem(
                doc.yaml.span_of((*orig, key)),
                "schema.invalid_value",
                f"an empty {key!r} list matches no {what}, so the rule could never fire",
                format_path((*orig, key)),
                hint=f"to apply the rule whatever the {what}, leave {key!r} out (to lift an "
                f"inherited one, write '{key}: null'); to drop the rule, delete it (an "
                "inherited one: 'remove: true')",
            )
        )
    return {k: v for k, v in body.items() if k not in empty}


def _kind_of(value: Any) -> str:
    """Name the kind of a YAML value as a rule set author writes it: ``a list``, ``null``."""
    if value is None:
        return "null (an empty value)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _remap(
    smap: SourceMap,
    path: tuple[str | int, ...],
    doc: Document,
    orig: tuple[str | int, ...],
    value: Any,
) -> None:
    # Drop stale origins below this path (they described the parent's value) and map it anew.
    for known in [p for p in smap.origins if p[: len(path)] == path and len(p) > len(path)]:
        del smap.origins[known]
    smap.origins[path] = (doc, orig)


def _merge_mapping(
    section: str,
    base: Mapping[str, Any],
    child: Mapping[str, Any],
    doc: Document,
    smap: SourceMap,
) -> dict[str, Any]:
    """Merge a mapping section key by key: the child's keys override, lists are unioned."""
    out = dict(base)
    for key, value in child.items():
        path: tuple[str | int, ...] = (section, key)
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = {**out[key], **value}
            for sub in value:
                smap.origins[(*path, sub)] = (doc, (*path, sub))
        elif isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = list(dict.fromkeys([*out[key], *value]))
            smap.origins[path] = (doc, path)
        else:
            out[key] = value
            _remap(smap, path, doc, path, value)
    return out


_Entry = tuple[Any, dict[tuple[str | int, ...], tuple[Document, tuple[str | int, ...]]]]


class _IdIndex:
    """The ids of a section's entries in order, with the position of each found by a dict.

    A list scan per child entry made merging quadratic (16,000 rules: ~5 s of a check). The
    dict is rebuilt only after an insertion or deletion in the middle, which moves positions;
    the first position of an id wins, as ``list.index`` did.
    """

    def __init__(self, ids: list[Any]) -> None:
        self.ids = ids
        self._at: dict[Any, int] | None = None

    def _index(self) -> dict[Any, int]:
        if self._at is None:
            self._at = {}
            for k, i in enumerate(self.ids):
                if i is not None and _hashable(i):
                    self._at.setdefault(i, k)
        return self._at

    def find(self, entry_id: Any) -> int | None:
        """The first position of ``entry_id`` (None for a missing, None or unhashable id)."""
        if entry_id is None or not _hashable(entry_id):
            return None
        return self._index().get(entry_id)

    def append(self, entry_id: Any) -> None:
        """Add an id at the end."""
        if self._at is not None and entry_id is not None and _hashable(entry_id):
            self._at.setdefault(entry_id, len(self.ids))
        self.ids.append(entry_id)

    def insert(self, k: int, entry_id: Any) -> None:
        """Add an id at position ``k``."""
        self.ids.insert(k, entry_id)
        self._at = None

    def delete(self, k: int) -> None:
        """Remove the id at position ``k``."""
        del self.ids[k]
        self._at = None


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _merge_section(
    section: str,
    base: list[Any],
    child: list[Any],
    doc: Document,
    smap: SourceMap,
    problems: list[Problem],
    has_parent: bool,
) -> list[Any]:
    # Entries carry their origins along while the list is rearranged, then get re-indexed.
    # One pass over the origins, bucketed by entry (a scan per entry was quadratic).
    by_entry: dict[int, dict[tuple[str | int, ...], tuple[Document, tuple[str | int, ...]]]] = {}
    for p, o in smap.origins.items():
        if len(p) >= 2 and p[0] == section and isinstance(p[1], int):
            by_entry.setdefault(p[1], {})[p[2:]] = o
    entries: list[_Entry] = [(item, by_entry.get(i, {})) for i, item in enumerate(base)]
    ids = [e[0].get("id") if isinstance(e[0], Mapping) else None for e in entries]
    where_is = _IdIndex(ids)
    own_ids: dict[str, tuple[str | int, ...]] = {}  # ids this document defined, for duplicates

    for j, item in enumerate(child):
        orig: tuple[str | int, ...] = (section, j)
        if not isinstance(item, Mapping):
            entries.append((item, {(): (doc, orig)}))
            ids.append(None)
            continue
        placement = _placement(item, orig, doc, problems)
        body = {k: v for k, v in item.items() if k not in _POSITION_KEYS}
        if placement.get("remove") is True and has_parent:
            for key in sorted(body.keys() - {"id"}):
                problems.append(
                    Problem(
                        doc.yaml.key_span_of((*orig, key)),
                        "schema.invalid_value",
                        f"{key!r} belongs to an entry removed with 'remove: true'",
                        format_path((*orig, key)),
                        hint="a removed entry says only its id: drop the other keys, or drop "
                        "'remove: true' to change the inherited entry instead",
                    )
                )
        entry_id = body.get("id")
        body = _without_empty_restrictions(section, body, orig, doc, problems)
        cleared = set()
        if has_parent:  # `key: null` clears an inherited key: the entry is as if never given it
            cleared = {k for k, v in body.items() if v is None and k in CLEARABLE[section]}
            body = {k: v for k, v in body.items() if k not in cleared}
        if placement and not has_parent:
            key = next(iter(placement))
            problems.append(
                Problem(
                    doc.yaml.key_span_of((*orig, key)),
                    "extends.no_parent",
                    f"{key!r} only applies in a rule set that extends another",
                    format_path((*orig, key)),
                )
            )
        if isinstance(entry_id, str) and entry_id in own_ids:
            first = doc.yaml.span_of((*own_ids[entry_id], "id"))
            problems.append(
                Problem(
                    doc.yaml.span_of((*orig, "id")),
                    "ref.duplicate_id",
                    f"{section} id {entry_id!r} is already used at line {first.line}",
                    format_path((*orig, "id")),
                    hint="give each entry its own id (to change an inherited entry, write it once)",
                )
            )
            continue
        if isinstance(entry_id, str):
            own_ids[entry_id] = orig
        k_found = where_is.find(entry_id)
        if k_found is not None:
            k = k_found
            if placement.get("remove") is True:
                del entries[k]
                where_is.delete(k)
                continue
            old_item, old_orig = entries[k]
            new_orig = dict(old_orig)
            for key in [*body, *cleared]:
                for p in [p for p in new_orig if p[:1] == (key,)]:
                    del new_orig[p]
                if key in body:
                    new_orig[(key,)] = (doc, (*orig, key))
            kept = {key: v for key, v in old_item.items() if key not in cleared}
            entries[k] = ({**kept, **body}, new_orig)
            continue
        if placement.get("remove") is True and has_parent:
            problems.append(
                Problem(
                    doc.yaml.span_of((*orig, "id")),
                    "extends.unknown_id",
                    f"cannot remove {entry_id!r}: the parent has no such {section} entry",
                    format_path((*orig, "id")),
                    hint=suggest(str(entry_id), [i for i in where_is.ids if isinstance(i, str)]),
                )
            )
            continue
        new_entry: _Entry = (body, {(): (doc, orig)})
        anchor = placement.get("before") or placement.get("after")
        if anchor is not None and has_parent:
            k_anchor = where_is.find(anchor)
            if k_anchor is None:
                where = "before" if "before" in placement else "after"
                problems.append(
                    Problem(
                        doc.yaml.span_of((*orig, where)),
                        "extends.unknown_id",
                        f"no {section} entry {anchor!r} to place {entry_id!r} {where}",
                        format_path((*orig, where)),
                        hint=suggest(str(anchor), [i for i in where_is.ids if isinstance(i, str)]),
                    )
                )
                entries.append(new_entry)
                where_is.append(entry_id)
                continue
            k = k_anchor + (0 if "before" in placement else 1)
            entries.insert(k, new_entry)
            where_is.insert(k, entry_id)
        else:
            entries.append(new_entry)
            where_is.append(entry_id)

    for p in [p for p in smap.origins if p[:1] == (section,)]:
        del smap.origins[p]
    smap.origins[(section,)] = (doc, (section,))
    out = []
    for i, (item, own) in enumerate(entries):
        out.append(item)
        for sub, origin in own.items():
            smap.origins[(section, i, *sub)] = origin
    return out
