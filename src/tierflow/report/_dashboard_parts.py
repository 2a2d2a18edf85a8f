"""The pieces every section of the dashboard is built from: a chart beside its data table.

Each section is a heading, a figure (the chart and its caption) and a ``<table>`` with a
caption, ``th scope="col"`` headers and one ``th scope="row"`` a row, every value escaped by
:func:`~tierflow.report._export.html`; a row of a school or a group carries ``data-school`` or
``data-group`` for the page's filters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from tierflow.report._export import Markup, html, join

__all__ = ["pct", "pp", "pp_pair", "row", "section"]


_SECTION = """<section class="chart" id="{id}">
<h2>{heading}</h2>
<div class="pair">
<figure>
{chart}
<figcaption>{caption}</figcaption>
</figure>
<div class="data">
<table>
<caption>{table_caption}</caption>
<thead><tr>{head}</tr></thead>
<tbody>
{rows}
</tbody>
</table>
</div>
</div>
{note}
</section>"""


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def pp(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:+.1f} pp"


def pp_pair(pair: tuple[float, float] | None) -> str:
    return "-" if pair is None else f"{100 * pair[0]:+.1f} to {100 * pair[1]:+.1f} pp"


def _head(names: Sequence[str]) -> Markup:
    return join("", (html('<th scope="col">{n}</th>', n=n) for n in names))


def row(label: str, cells: Sequence[object], *, attrs: Mapping[str, str], cls: str = "") -> Markup:
    data = join("", (html(' data-{k}="{v}"', k=k, v=v) for k, v in attrs.items()))
    tds = join("", (html('<td class="n">{v}</td>', v=v) for v in cells))
    klass = html(' class="{c}"', c=cls) if cls else Markup("")
    return html(
        '<tr{klass}{data}><th scope="row">{label}</th>{tds}</tr>',
        klass=klass,
        data=data,
        label=label,
        tds=tds,
    )


def section(
    ident: str,
    heading: str,
    chart: Markup,
    caption: str,
    table_caption: str,
    head: Sequence[str],
    rows: Iterable[Markup],
    note: str = "",
) -> Markup:
    return html(
        _SECTION,
        id=ident,
        heading=heading,
        chart=chart,
        caption=caption,
        table_caption=table_caption,
        head=_head(head),
        rows=join("\n", rows),
        note=html('<p class="note">{n}</p>', n=note) if note else Markup(""),
    )
