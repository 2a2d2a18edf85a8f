"""Loading rule set files, following ``extends``, and merging entries by id.

Every merged value remembers where it came from (file and path), so a problem found after the
merge is still reported at the line and column its author wrote.

``extends`` only reaches the built-in rule sets and the folder tree of the rule set the caller
named (its file's folder, or ``base_dir`` for text), plus folders the caller lists in
``extends_roots``: a path is resolved (``..``, symbolic links) and then must lie inside one of
them, or it is refused before anything is opened. Only regular files are read: a FIFO, device or
folder is refused from its status, without opening it (and a file swapped for one between the
check and the open is caught on the open descriptor, opened non-blocking).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from tierflow.errors import Problem, RulesetError, suggest
from tierflow.source import SourceSpan, format_path, position_in_scalar
from tierflow.spec._yaml import DEFAULT_LIMITS, LoadedYaml, YamlLimits, load_yaml

__all__ = [
    "BUILTIN_DIR",
    "MERGED_SECTIONS",
    "Document",
    "SourceMap",
    "builtin_names",
    "document_from_text",
    "load_documents",
    "merge_documents",
    "read_document",
    "resolve_path",
]

MERGED_SECTIONS = ("references", "metrics", "tiers", "rules", "interventions", "legal")
"""Sections whose entries a child rule set overrides, removes or adds by id."""

_POSITION_KEYS = ("remove", "before", "after")

BUILTIN_DIR = Path(str(resources.files("tierflow") / "rulesets"))
"""Where the built-in rule sets live."""


def builtin_names() -> list[str]:
    """Return the names of the built-in rule sets, sorted."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


@dataclass(frozen=True)
class Document:
    """One loaded file of an ``extends`` chain: its text and located YAML.

    ``limits`` are the YAML limits it was read with; the files it extends are read with them too.
    ``extends_roots`` are the folders (besides the built-ins) whose files the chain that starts
    here may extend: for a file, its own folder, then any the caller allowed.
    """

    name: str
    path: Path | None
    text: str
    yaml: LoadedYaml
    limits: YamlLimits = DEFAULT_LIMITS
    extends_roots: tuple[Path, ...] = ()

    def expression_span(self, span: SourceSpan, pos: int, value: str) -> SourceSpan:
        """Map offset ``pos`` of expression ``value`` (a YAML scalar starting at ``span``).

        Every scalar style maps exactly (see :func:`tierflow.source.position_in_scalar`):
        escapes, doubled quotes, folded and continued lines, blank lines and block indentation.
        """
        return position_in_scalar(self.text, span, value, pos)


@dataclass
class SourceMap:
    """Where each part of a merged rule set came from."""

    origins: dict[tuple[str | int, ...], tuple[Document, tuple[str | int, ...]]] = field(
        default_factory=dict
    )

    def locate(self, path: tuple[str | int, ...]) -> tuple[Document, tuple[str | int, ...]]:
        """Return the document and original path of the longest known prefix of ``path``."""
        for cut in range(len(path), -1, -1):
            hit = self.origins.get(path[:cut])
            if hit is not None:
                doc, orig = hit
                return doc, orig + path[cut:]
        raise KeyError(path)  # pragma: no cover - the root is always mapped

    def path_in_source(self, path: tuple[str | int, ...]) -> str:
        """Return merged ``path`` as written in the file it came from (``rules[0].when``)."""
        return format_path(self.locate(path)[1])

    def span(self, path: tuple[str | int, ...]) -> SourceSpan:
        """Return the span of the value at merged ``path``."""
        doc, orig = self.locate(path)
        return doc.yaml.span_of(orig)

    def key_span(self, path: tuple[str | int, ...]) -> SourceSpan:
        """Return the span of the key of the entry at merged ``path``."""
        doc, orig = self.locate(path)
        return doc.yaml.key_span_of(orig)

    def raw_value(self, path: tuple[str | int, ...]) -> Any:
        """Return the value at merged ``path`` as its file wrote it (before any stripping)."""
        doc, orig = self.locate(path)
        value: Any = doc.yaml.data
        for part in orig:
            in_mapping = isinstance(part, str) and isinstance(value, Mapping) and part in value
            in_list = isinstance(part, int) and isinstance(value, list) and 0 <= part < len(value)
            if not (in_mapping or in_list):
                return None
            value = value[part]
        return value

    def document(self, path: tuple[str | int, ...]) -> Document:
        """Return the document the value at ``path`` came from."""
        return self.locate(path)[0]


def resolve_path(source: str | os.PathLike[str], base: Path | None = None) -> tuple[str, Path]:
    """Turn a rule set reference (a built-in name or a path) into ``(display name, path)``.

    A bare name without a slash or ``.yaml``/``.yml`` suffix names a built-in rule set.
    """
    text = os.fspath(source)
    is_path = "/" in text or os.sep in text or text.endswith((".yaml", ".yml"))
    if not is_path:
        path = BUILTIN_DIR / f"{text}.yaml"
        return f"{text}.yaml (built-in)", path
    path = Path(text)
    if base is not None and not path.is_absolute():
        path = base / path
    try:
        display = os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        display = str(path)
    if display.startswith(".." + os.sep):  # outside the working directory: say where
        display = str(_resolved(path)) if not path.is_absolute() else str(path)
    return display, path


_KIND_OF_FILE = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def _not_regular(mode: int) -> str | None:
    """Say what a file is when it is not a regular file (None when it is)."""
    if stat.S_ISREG(mode):
        return None
    return _KIND_OF_FILE.get(stat.S_IFMT(mode), "not a regular file")


def _read(
    display: str,
    path: Path,
    limits: YamlLimits,
    at: SourceSpan | None,
    extends_roots: tuple[Path, ...] = (),
) -> Document:
    """Read one rule set file: a regular file only, never blocking on a FIFO or device."""
    where = at or SourceSpan(display)
    try:
        # stat, not open: opening a FIFO for reading blocks until someone writes to it.
        kind = _not_regular(os.stat(path).st_mode)
        if kind is None:
            flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
            with os.fdopen(os.open(path, flags), "rb") as fh:
                # The path may have been swapped for a FIFO since the stat: check what was opened.
                kind = _not_regular(os.fstat(fh.fileno()).st_mode)
                raw = fh.read(limits.max_bytes + 1) if kind is None else b""
    except FileNotFoundError as exc:
        known = builtin_names()
        hint = suggest(path.stem, known) if display.endswith("(built-in)") else ""
        if not hint and display.endswith("(built-in)"):
            hint = f"built-in rule sets: {', '.join(known)}"
        code = "extends.not_found" if at is not None else "load.not_found"
        raise RulesetError([Problem(where, code, f"no rule set at {display}", hint=hint)]) from exc
    except (OSError, ValueError) as exc:  # ValueError: a NUL character in the path
        raise RulesetError(
            [Problem(where, "load.unreadable", f"cannot read {display}: {exc}")]
        ) from exc
    if kind is not None:
        raise RulesetError(
            [
                Problem(
                    where,
                    "load.unreadable",
                    f"cannot read {display}: it is {kind}, not a regular file",
                    hint="a rule set is a YAML file",
                )
            ]
        )
    loaded = load_yaml(raw, display, limits=limits)
    text = raw.decode("utf-8", errors="replace")
    return Document(display, path, text, loaded, limits, extends_roots)


def document_from_text(
    text: str,
    name: str,
    limits: YamlLimits = DEFAULT_LIMITS,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    extends_roots: Sequence[str | os.PathLike[str]] = (),
) -> Document:
    """Load a rule set given as text (for tests and hosts that store playbooks elsewhere).

    A relative ``extends`` path resolves from ``base_dir``; the chain may extend files inside
    ``base_dir`` and ``extends_roots`` (and the built-ins). Without either, only the built-ins.
    """
    loaded = load_yaml(text, name, limits=limits)
    roots = tuple(Path(r) for r in ([base_dir] if base_dir is not None else []))
    roots += tuple(Path(r) for r in extends_roots)
    path = None if base_dir is None else Path(base_dir) / name
    return Document(name, path, text, loaded, limits, roots)


def _resolved(path: Path) -> Path:
    """``path`` made absolute, ``..`` and symbolic links followed, as far as they can be."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):  # a symbolic link loop; a NUL character
        return Path(os.path.abspath(path))


def _allowed(path: Path, roots: Sequence[Path]) -> bool:
    """Whether ``path``, resolved (``..`` and symbolic links), lies inside one of ``roots``."""
    resolved = _resolved(path)
    return any(resolved.is_relative_to(root) for root in roots)


def load_documents(
    root: Document, limits: YamlLimits | None = None
) -> tuple[list[Document], list[Problem]]:
    """Follow ``extends`` from ``root``: return the chain, base first, and any problems.

    Each file is read with ``limits`` (by default, those ``root`` was read with). A parent
    outside the built-ins and ``root.extends_roots`` is refused (``extends.outside``) before it
    is opened, so nothing of it is read or reported.
    """
    if limits is None:
        limits = root.limits
    roots = [BUILTIN_DIR.resolve(), *(_resolved(r) for r in root.extends_roots)]
    chain = [root]
    seen = {str(_resolved(root.path)) if root.path else root.name}
    problems: list[Problem] = []
    doc = root
    while True:
        data = doc.yaml.data
        parent = data.get("extends") if isinstance(data, Mapping) else None
        if parent is None:
            break
        at = doc.yaml.span_of(("extends",))
        if not isinstance(parent, str) or not parent.strip():
            problems.append(
                Problem(
                    at,
                    "extends.invalid",
                    "extends must name a built-in rule set or a file",
                    "extends",
                )
            )
            break
        base = doc.path.parent if doc.path is not None else None
        written = parent.strip()
        if "\0" in written:
            problems.append(
                Problem(at, "extends.invalid", "extends holds a NUL character", "extends")
            )
            break
        display, path = resolve_path(written, base)
        if not _allowed(path, roots):
            problems.append(
                Problem(
                    at,
                    "extends.outside",
                    f"{written!r} is outside the folders this rule set may extend from",
                    "extends",
                    hint="extend a built-in, or a file in the folder of the rule set you "
                    "loaded or below it; to allow another folder, pass extends_roots=[...] to "
                    "load_ruleset (on the command line, --extends-root DIR)",
                )
            )
            break
        key = str(_resolved(path))
        if key in seen:
            names = " -> ".join([d.name for d in chain] + [display])
            problems.append(
                Problem(
                    at,
                    "extends.cycle",
                    f"rule sets extend each other in a cycle: {names}",
                    "extends",
                )
            )
            break
        seen.add(key)
        doc = _read(display, _resolved(path), limits, at, root.extends_roots)
        doc = Document(doc.name, path, doc.text, doc.yaml, doc.limits, doc.extends_roots)
        chain.append(doc)
    chain.reverse()
    return chain, problems


def read_document(
    source: str | os.PathLike[str],
    limits: YamlLimits = DEFAULT_LIMITS,
    extends_roots: Sequence[str | os.PathLike[str]] = (),
) -> Document:
    """Read the rule set a user named: a built-in name or a path.

    Its chain may extend files in its own folder tree and in ``extends_roots`` (and built-ins).
    """
    display, path = resolve_path(source)
    roots = (path.parent, *(Path(r) for r in extends_roots))
    return _read(display, path, limits, None, roots)


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
                key in ("facts", "attendance")
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
        placement = {k: item[k] for k in _POSITION_KEYS if k in item}
        body = {k: v for k, v in item.items() if k not in _POSITION_KEYS}
        entry_id = body.get("id")
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
            for key in body:
                for p in [p for p in new_orig if p[:1] == (key,)]:
                    del new_orig[p]
                new_orig[(key,)] = (doc, (*orig, key))
            entries[k] = ({**old_item, **body}, new_orig)
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
