"""The report's single HTML page: inline CSS, plotly.js embedded once, a header with the headline
figures, and one panel per view, each with a caption saying how to read it.

Nothing on the page loads from the network, so the file opens the same from a laptop, a file share
or an e-mail attachment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from html import escape
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from reports.charts import HEALTH_COLORS
from reports.formats import MISSING

PLOT_CONFIG = {"responsive": True, "displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}

CSS_COLORS = (
    ":root { --ink: #1f2933; --muted: #5b6774; --line: #e2e7ed; --paper: #ffffff; --canvas: #f3f5f8; "
    + " ".join(f"--{band}: {color};" for band, color in HEALTH_COLORS.items())
    + " }"
)
CSS_RULES = """
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--canvas); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
header.report-header { background: #17324d; color: #fff; padding: 20px 32px 24px; }
header.report-header h1 { margin: 0 0 4px; font-size: 22px; font-weight: 600; }
header.report-header .subtitle { color: #c9d6e3; margin: 0 0 16px; }
header.report-header .subtitle strong { color: #fff; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; margin: 0; padding: 0; }
.tile {
  background: rgba(255, 255, 255, 0.08); border: 1px solid rgba(255, 255, 255, 0.16); border-radius: 8px;
  padding: 10px 14px; min-width: 132px; margin: 0;
}
.tile dt { font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; color: #c9d6e3; }
.tile dd { margin: 2px 0 0; font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile dd small { display: block; font-size: 12px; font-weight: 400; color: #c9d6e3; }
.tile.health-green { border-left: 6px solid var(--green); }
.tile.health-amber { border-left: 6px solid var(--amber); }
.tile.health-red { border-left: 6px solid var(--red); }
.tile.health-grey { border-left: 6px solid var(--grey); }
.notice { margin: 14px 0 0; padding: 8px 12px; border-radius: 6px; background: #fff4d6; color: #5c4300; }
main { max-width: 1440px; margin: 0 auto; padding: 20px 24px 40px;
  display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 20px; }
.panel { background: var(--paper); border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px;
  min-width: 0; break-inside: avoid; }
.panel.wide { grid-column: 1 / -1; }
.panel h2 { margin: 0 0 4px; font-size: 17px; font-weight: 600; }
.panel .caption { margin: 0 0 10px; color: var(--muted); max-width: 110ch; }
.chart { min-height: 120px; }
.no-data, .all-clear, .panel-error {
  display: flex; align-items: center; justify-content: center; min-height: 120px; border-radius: 8px;
  border: 1px dashed var(--line); color: var(--muted); background: #fafbfc; padding: 16px; text-align: center;
}
.all-clear { color: #1d6b3e; background: #eef8f1; border-color: #bfe3cc; }
.panel-error { color: #8a1f1f; background: #fdf0f0; border-color: #f1c4c4; }
.legend { display: inline-flex; flex-wrap: wrap; gap: 10px; margin-left: 4px; vertical-align: middle; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 4px;
  vertical-align: -1px; }
.health { display: inline-block; padding: 0 7px; border-radius: 9px; color: #fff; font-size: 12px; }
.health-green .swatch, span.health.health-green { background: var(--green); }
.health-amber .swatch, span.health.health-amber { background: var(--amber); }
.health-red .swatch, span.health.health-red { background: var(--red); }
.health-grey .swatch, span.health.health-grey { background: var(--grey); }
.counts { display: flex; flex-wrap: wrap; gap: 12px; margin: 0 0 12px; }
.counts div { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 150px; }
.counts dt { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; }
.counts dd { margin: 0; font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.counts .flagged dd { color: #b42318; }
details { margin-top: 10px; }
details summary { cursor: pointer; color: var(--muted); }
h3 { font-size: 14px; margin: 16px 0 6px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--muted); font-weight: 600; background: #f7f9fb; }
td.number, th.number { text-align: right; }
.empty-table { color: var(--muted); margin: 4px 0; }
footer { max-width: 1440px; margin: 0 auto; padding: 0 24px 32px; color: var(--muted); font-size: 12px; }
@media print { body { background: #fff; } main { display: block; } .panel { margin-bottom: 16px; } }
"""
CSS = CSS_COLORS + CSS_RULES


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[dict[str, Any]], Any]
    format: Callable[[Any], str] = lambda value: MISSING if value is None else escape(str(value))
    numeric: bool = False


@dataclass
class PanelContent:
    """What a panel shows: a figure, or a message in its place, and the tables that go with it."""

    figure: go.Figure | None = None
    message: str | None = None
    message_kind: str = "no-data"
    details: str = ""
    tables_open: bool = False
    before_chart: str = ""
    caption_note: str = ""
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Panel:
    """One view of the report, with a caption saying how to read it."""

    key: str
    title: str
    caption: str
    content: PanelContent
    wide: bool = False

    @property
    def chart_id(self) -> str:
        return f"chart-{self.key}"

    @property
    def plot_id(self) -> str:
        return f"plot-{self.key}"


def health_badge(band: str | None) -> str:
    band = band or "grey"
    return f'<span class="health health-{escape(band)}">{escape(band)}</span>'


def health_legend() -> str:
    return (
        '<span class="legend">'
        + "".join(
            f'<span class="health-{band}"><span class="swatch"></span>{band}</span>'
            for band in ("green", "amber", "red", "grey")
        )
        + "</span>"
    )


def html_table(table_id: str, columns: Sequence[Column], rows: Iterable[dict[str, Any]], empty: str) -> str:
    rows = list(rows)
    if not rows:
        return f'<p class="empty-table" id="{escape(table_id)}">{escape(empty)}</p>'
    head = "".join(f"<th{' class=number' if column.numeric else ''}>{escape(column.header)}</th>" for column in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=number' if column.numeric else ''}>{column.format(column.value(row))}</td>"
            for column in columns
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table-wrap"><table id="{escape(table_id)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def figure_html(figure: go.Figure, plot_id: str) -> str:
    return pio.to_html(
        figure,
        include_plotlyjs=False,
        full_html=False,
        div_id=plot_id,
        config=PLOT_CONFIG,
        default_height=f"{figure.layout.height or 400}px",
    )


def panel_html(panel: Panel) -> str:
    content = panel.content
    if content.figure is not None:
        chart = figure_html(content.figure, panel.plot_id)
        state = "drawn"
    else:
        message = escape(content.message or "No data.")
        chart = f'<div class="{escape(content.message_kind)}" role="status">{message}</div>'
        state = content.message_kind
    attributes = "".join(f' {escape(name)}="{escape(value)}"' for name, value in content.attributes.items())
    details = content.details
    if details and not content.tables_open:
        details = f"<details><summary>Show the figures as a table</summary>{details}</details>"
    caption = panel.caption + (f" {escape(content.caption_note)}" if content.caption_note else "")
    return f"""
<section class="panel{" wide" if panel.wide else ""}" id="panel-{escape(panel.key)}"{attributes}>
  <h2>{escape(panel.title)}</h2>
  <p class="caption">{caption}</p>
  {content.before_chart}
  <div class="chart" id="{escape(panel.chart_id)}" data-state="{escape(state)}">{chart}</div>
  {details}
</section>"""


def headline_tile(
    metric: str, label: str, value: str, raw_value: str, hint: str = "", health: str | None = None
) -> str:
    health_class = f" health-{escape(health)}" if health else ""
    hint_html = f"<small>{escape(hint)}</small>" if hint else ""
    return (
        f'<div class="tile{health_class}" data-metric="{escape(metric)}" data-value="{escape(raw_value)}">'
        f"<dt>{escape(label)}</dt><dd>{escape(value)}{hint_html}</dd></div>"
    )


def render_page(
    *,
    title: str,
    run_date: date,
    subtitle: str,
    tiles: Sequence[str],
    notices: Sequence[str],
    panels: Sequence[Panel],
    generated_at: datetime,
) -> str:
    tiles_html = f'<dl class="tiles" id="headline">{"".join(tiles)}</dl>' if tiles else ""
    notices_html = "".join(f'<p class="notice" role="note">{escape(notice)}</p>' for notice in notices)
    panels_html = "".join(panel_html(panel) for panel in panels)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="pmo-warehouse reports.nightly">
<meta name="run-date" content="{run_date.isoformat()}">
<title>{escape(title)} · {run_date.isoformat()}</title>
<link rel="icon" href="data:,">
<style>{CSS}</style>
<script>window.PlotlyConfig = {{MathJaxConfig: 'local'}};</script>
<script>{get_plotlyjs()}</script>
</head>
<body>
<header class="report-header">
  <h1>{escape(title)}</h1>
  <p class="subtitle">{subtitle}</p>
  {tiles_html}
  {notices_html}
</header>
<main>
{panels_html}
</main>
<footer>Generated {generated_at.strftime("%Y-%m-%d %H:%M UTC")} from the warehouse's <code>marts</code> schema.
Figures follow the marts contract: roll-ups sum bac, pv, ev and ac, then compute the ratios from the sums.</footer>
</body>
</html>
"""
