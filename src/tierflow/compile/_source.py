"""Loading rule set files and following ``extends``: the documents of a chain, base first.

:mod:`tierflow.compile._merge` merges them; a :class:`SourceMap` remembers where each merged value
came from, so a problem found after the merge is still reported where its author wrote it.

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
from tierflow.spec._yaml import LoadedYaml, load_yaml
from tierflow.spec._yaml_limits import DEFAULT_LIMITS, YamlLimits

__all__ = [
    "BUILTIN_DIR",
    "Document",
    "SourceMap",
    "builtin_names",
    "document_from_text",
    "load_documents",
    "read_document",
    "resolve_path",
]

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
