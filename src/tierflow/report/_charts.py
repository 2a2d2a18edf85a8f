"""Static SVG charts for the dashboard, drawn by matplotlib and made safe to inline in a page.

matplotlib (the ``reports`` extra) draws each chart with its SVG backend: no display, no
JavaScript, the same picture in every browser and on paper. It is imported inside
:func:`bar_chart` and :func:`interval_chart` only, so ``import tierflow`` stays light and a
district that never draws a chart never needs it.

A chart's labels are data (a school id, a group name), and the SVG goes into an HTML page, so
the SVG text is never inlined as matplotlib writes it. :func:`_clean` parses it and writes a
new tree with only the drawing elements an SVG chart needs (``svg``, ``g``, ``path``,
``text``...) and only their drawing attributes; comments, ``<style>``, ``<metadata>``, the XML
prolog and the DOCTYPE (with its ``http`` address) are left out, a link may point only inside
the chart (``#id``), and every id is prefixed with the chart's own so two charts on a page
never share one. ElementTree then escapes every text and attribute it writes. Text stays text
(``svg.fonttype: none``): the page's font draws it and a reader can select it.

A mark (a bar, a point) that the page's filters may hide is drawn with a ``gid`` of
``mark:N``; :func:`_clean` gives it the class ``mark`` and the ``data-*`` attributes the
caller passed for mark ``N`` (``data-school``, ``data-group``).

A bar of 0 is a tick at 0 (a bar of no width cannot be seen), and no bar is drawn for no value;
a label longer than 28 characters is wrapped onto a second line and cut after it (the table
beside the chart has it whole).
"""

from __future__ import annotations

import contextlib
import io
import re
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from tierflow.report._export import Markup

__all__ = ["INSTALL_HINT", "Bar", "Interval", "bar_chart", "interval_chart", "week_chart"]

INSTALL_HINT = "the dashboard's charts need matplotlib: pip install 'tierflow[reports]'"
"""What to tell someone whose Python has no matplotlib."""

Bar = tuple[str, float | None, Mapping[str, str]]
"""One bar: its label, its value (None: no bar, the label alone) and its filter attributes."""

Interval = tuple[str, float, tuple[float, float] | None, Mapping[str, str]]
"""One point: its label, its value, its interval if any, and its filter attributes."""

_TAGS = frozenset(
    ("svg", "g", "defs", "clipPath", "path", "use", "text", "tspan", "rect", "circle", "line")
)
_ATTRIBUTES = frozenset(
    (
        "d",
        "x",
        "y",
        "x1",
        "x2",
        "y1",
        "y2",
        "cx",
        "cy",
        "r",
        "width",
        "height",
        "viewBox",
        "transform",
        "style",
        "clip-path",
        "id",
        "href",
    )
)
_SVG = "{http://www.w3.org/2000/svg}"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_LOCAL_URL = re.compile(r"url\(#([A-Za-z0-9_.:-]+)\)")
_PALETTE = ("#1f5fa8", "#d9822b", "#6b6b6b", "#2a8c55")
"""Series colours, in order: every series of a chart has its own (the operations chart has 4)."""
_FLAG = "#b00020"


def _require() -> Any:
    """The Figure class of matplotlib, or an ImportError that says how to install it."""
    # A bare Figure (not pyplot) draws with no display and leaves the host's backend alone:
    # savefig(format="svg") picks the SVG canvas for this one file.
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - the dev extra installs it
        raise ImportError(INSTALL_HINT) from exc
    return Figure


_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


def _svg(fig: Any, prefix: str, marks: Sequence[Mapping[str, str]], label: str) -> Markup:
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata=_METADATA)
    return _clean(out.getvalue(), prefix, marks, label)


def _local(value: str, prefix: str) -> str | None:
    """``value`` with every ``url(#id)`` pointed at the prefixed id; None if it links outside."""
    if "url(" in value.replace(" ", "").lower() and not _LOCAL_URL.search(value):
        return None
    rest = _LOCAL_URL.sub("", value)
    if "url(" in rest.lower() or "\\" in rest:
        return None
    return _LOCAL_URL.sub(lambda m: f"url(#{prefix}-{m[1]})", value)


def _copy(node: ET.Element, prefix: str, marks: Sequence[Mapping[str, str]]) -> ET.Element | None:
    tag = node.tag.removeprefix(_SVG)
    if tag not in _TAGS:
        return None
    out = ET.Element(tag)
    for name, value in node.attrib.items():
        if name == _XLINK_HREF:
            name = "href"
        if name not in _ATTRIBUTES:
            continue
        if name == "href":
            if not value.startswith("#"):
                continue
            value = f"#{prefix}-{value[1:]}"
        elif name == "id":
            mark = re.fullmatch(r"mark:(\d+)", value)
            if mark is not None:
                out.set("class", "mark")
                for key, data in marks[int(mark[1])].items():
                    out.set(f"data-{key}", data)
                continue
            value = f"{prefix}-{value}"
        else:
            local = _local(value, prefix)
            if local is None:
                continue
            value = local
        out.set(name, value)
    out.text = node.text if tag in ("text", "tspan") else None
    for child in node:
        copied = _copy(child, prefix, marks)
        if copied is not None:
            copied.tail = child.tail if tag in ("text", "tspan") else None
            out.append(copied)
    return out


def _clean(svg: str, prefix: str, marks: Sequence[Mapping[str, str]], label: str) -> Markup:
    """The SVG matplotlib wrote, rebuilt with drawing elements and attributes only."""
    root = _copy(ET.fromstring(svg), prefix, marks)
    if root is None:  # pragma: no cover - matplotlib always writes an <svg>
        raise ValueError("not an SVG document")
    root.set("role", "img")
    root.set("aria-label", label)
    root.set("class", "chart")
    return Markup(ET.tostring(root, encoding="unicode", method="xml"))


_LABEL = 28
"""Longest line of a label; a longer label is wrapped onto a second line."""

_LINES = 2
"""Most lines of a label: what is left after them is cut (the table beside has it whole)."""


def _short(text: str) -> str:
    """``text`` wrapped at word (or hyphen) breaks onto two lines of 28, cut after them."""
    if len(text) <= _LABEL:
        return text
    lines = textwrap.wrap(text, _LABEL, break_on_hyphens=True) or [text[:_LABEL]]
    if len(lines) > _LINES:
        lines = lines[:_LINES]
        lines[-1] = lines[-1][: _LABEL - 1] + "\u2026"
    return "\n".join(lines)


def _figure(rows: int) -> Any:
    figure = _require()
    fig = figure(figsize=(6.0, max(2.2, 1.4 + 0.3 * rows)), layout="constrained")
    return fig, fig.add_subplot()


def _legend(fig: Any, handles: Sequence[Any]) -> None:
    """The legend under the plot, where it hides no bar."""
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=8, frameon=False)


@contextlib.contextmanager
def _drawing() -> Iterator[None]:
    """The settings every chart is drawn and saved with; the host's are back on leaving."""
    _require()
    import matplotlib as mpl

    with mpl.rc_context():
        mpl.rc("svg", fonttype="none", hashsalt="tierflow")  # text as <text>; stable ids
        mpl.rc("font", family="DejaVu Sans", size=9)
        yield


def bar_chart(
    prefix: str,
    label: str,
    series: Sequence[tuple[str, Sequence[Bar]]],
    *,
    reference: Sequence[tuple[str, float | None]] = (),
    flagged: Sequence[bool] = (),
    unit: str = "%",
    scale: float = 100.0,
    xmax: float | None = 100.0,
) -> Markup:
    """Horizontal bars, one row a label and one bar a series, with reference lines.

    Args:
        prefix: The chart's id on the page (prefixes every id in the SVG).
        label: What the chart shows (its ``aria-label``).
        series: Each series' name and bars; every series has the same labels in order.
        reference: Vertical lines (name, value), e.g. the district rate; None draws none.
        flagged: For each row, whether to mark its label (a flagged group).
        unit: The axis' label.
        scale: What a value is multiplied by to be drawn (100: shares drawn in percent;
            1: counts).
        xmax: The axis' end (None: as far as the longest bar).
    """
    with _drawing():
        return _bars(prefix, label, series, reference, flagged, unit, scale, xmax)


def _bars(
    prefix: str,
    label: str,
    series: Sequence[tuple[str, Sequence[Bar]]],
    reference: Sequence[tuple[str, float | None]],
    flagged: Sequence[bool],
    unit: str,
    scale: float,
    xmax: float | None,
) -> Markup:
    labels = [b[0] for b in series[0][1]] if series else []
    fig, ax = _figure(len(labels))
    from matplotlib.patches import Patch

    height = 0.8 / max(1, len(series))
    marks: list[Mapping[str, str]] = []
    handles: list[Any] = []
    for s, (name, bars) in enumerate(series):
        for i, (_, value, attrs) in enumerate(bars):
            if value is None:
                continue
            y = i + (s - (len(series) - 1) / 2) * height
            if value == 0:  # a bar of no width cannot be seen: a tick at 0 says "0", not "-"
                (bar,) = ax.plot(
                    [0], [y], marker="|", markersize=28 * height, markeredgewidth=2.5,
                    color=_PALETTE[s % len(_PALETTE)], clip_on=False,
                )  # fmt: skip
            else:
                (bar,) = ax.barh(
                    [y], [scale * value], height=height * 0.92, color=_PALETTE[s % len(_PALETTE)]
                )
            bar.set_gid(f"mark:{len(marks)}")
            marks.append(attrs)
        handles.append(Patch(color=_PALETTE[s % len(_PALETTE)], label=name))
    for r, (name, value) in enumerate(reference):
        if value is not None:
            style = ("--", ":")[r % 2]
            handles.append(
                ax.axvline(scale * value, color="#111", linestyle=style, linewidth=1, label=name)
            )
    ax.set_yticks(range(len(labels)), [_short(t) for t in labels])
    ax.invert_yaxis()
    for tick, flag in zip(ax.get_yticklabels(), flagged, strict=False):
        if flag:
            tick.set_color(_FLAG)
            tick.set_fontweight("bold")
    ax.set_xlim(0, xmax)
    ax.set_xlabel(unit)
    _legend(fig, handles)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, prefix, marks, label)


def interval_chart(
    prefix: str, label: str, series: Sequence[tuple[str, Sequence[Interval]]]
) -> Markup:
    """Points with their intervals (changes in percentage points), a row a label, around 0.

    Args:
        prefix: The chart's id on the page.
        label: What the chart shows (its ``aria-label``).
        series: Each series' name and points; every series has the same labels in order
            (a series without a point for a label leaves it out of the series).
    """
    with _drawing():
        return _intervals(prefix, label, series)


def _intervals(prefix: str, label: str, series: Sequence[tuple[str, Sequence[Interval]]]) -> Markup:
    labels: list[str] = []
    for _, points in series:
        for p in points:
            if p[0] not in labels:
                labels.append(p[0])
    from matplotlib.lines import Line2D

    fig, ax = _figure(len(labels))
    marks: list[Mapping[str, str]] = []
    handles: list[Any] = []
    for s, (name, points) in enumerate(series):
        offset = (s - (len(series) - 1) / 2) * 0.3
        for text, value, ci, attrs in points:
            y = labels.index(text) + offset
            err = None if ci is None else [[100 * (value - ci[0])], [100 * (ci[1] - value)]]
            drawn = ax.errorbar(
                [100 * value], [y], xerr=err, fmt="o", color=_PALETTE[s % len(_PALETTE)], capsize=3
            )
            drawn[0].set_gid(f"mark:{len(marks)}")
            marks.append(attrs)
        handles.append(Line2D([], [], marker="o", color=_PALETTE[s % len(_PALETTE)], label=name))
    ax.axvline(0, color="#111", linewidth=0.8)
    ax.set_yticks(range(len(labels)), [_short(t) for t in labels])
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlabel("change in attendance rate (percentage points)")
    _legend(fig, handles)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, prefix, marks, label)


def week_chart(
    prefix: str,
    label: str,
    weeks: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    marks: Sequence[tuple[int, str]] = (),
) -> Markup:
    """Lines over the weeks of a year (shares 0-1 drawn in percent), with marked weeks.

    Args:
        prefix: The chart's id on the page.
        label: What the chart shows (its ``aria-label``).
        weeks: Each week's label (its Monday), in order.
        series: Each line's name and its value a week (None: no point that week).
        marks: Weeks to mark with a vertical line (index, what happened), e.g. a tier change.
    """
    with _drawing():
        from matplotlib.lines import Line2D

        fig, ax = _figure(6)
        handles: list[Any] = []
        xs = range(len(weeks))
        for s, (name, values) in enumerate(series):
            points = [(x, 100 * v) for x, v in zip(xs, values, strict=True) if v is not None]
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", markersize=3,
                        color=_PALETTE[s % len(_PALETTE)])  # fmt: skip
            handles.append(
                Line2D([], [], marker="o", color=_PALETTE[s % len(_PALETTE)], label=name)
            )
        for index, _ in marks:
            ax.axvline(index, color="#999", linestyle=":", linewidth=1)
        if marks:
            handles.append(Line2D([], [], color="#999", linestyle=":", label="tier change"))
        step = max(1, len(weeks) // 8)
        ax.set_xticks(list(xs)[::step], [_short(w) for w in weeks][::step], rotation=30)
        ax.set_ylim(0, 100)
        ax.set_ylabel("attendance rate (%)")
        _legend(fig, handles)
        ax.spines[["top", "right"]].set_visible(False)
        return _svg(fig, prefix, [], label)
