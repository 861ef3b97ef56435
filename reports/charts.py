"""The report's plotly figures, one builder per panel, from the rows that `reports.marts` reads."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from html import escape
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports.formats import MISSING, day, money, ratio
from reports.marts import DataQuality, EarnedValueSeries, Row

FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
HEALTH_COLORS = {"green": "#2e9d5b", "amber": "#e8a317", "red": "#d64545", "grey": "#a3abb5"}
HEALTH_SCORES = {"grey": 0, "red": 1, "amber": 2, "green": 3}
MEASURE_STYLES = {
    "bac": {"name": "BAC (budget)", "color": "#9aa3ad", "dash": "dot", "width": 1.5},
    "pv": {"name": "PV (planned value)", "color": "#6a51a3", "dash": "dash", "width": 2},
    "ev": {"name": "EV (earned value)", "color": "#2c7fb8", "dash": "solid", "width": 2.5},
    "ac": {"name": "AC (actual cost)", "color": "#e6550d", "dash": "solid", "width": 2},
}
MILESTONE_STATUS_COLORS = {"missed": "#d64545", "overdue": "#e8a317", "hit": "#2e9d5b", "upcoming": "#6a7f99"}
STAGE_COLORS = {
    "idea": "#c6dbef",
    "approved": "#6baed6",
    "active": "#2171b5",
    "on_hold": "#fdae6b",
    "closed": "#74c476",
    "cancelled": "#bdbdbd",
}
ALIGNMENT_COLOR = "#7b3294"
CAPACITY_COLOR = "#c9d6e3"
LOGGED_COLOR = "#2c7fb8"


def as_float(value: Decimal | float | int | None) -> float | None:
    return None if value is None else float(value)


def plain(text: object) -> str:
    """Text from the warehouse, safe in plotly's labels (which read a little HTML)."""
    return escape("" if text is None else str(text), quote=False)


def base_layout(height: int, **overrides: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "template": "plotly_white",
        "height": height,
        "margin": {"l": 60, "r": 24, "t": 40, "b": 40},
        "font": {"family": FONT_FAMILY, "size": 12, "color": "#1f2933"},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        "hoverlabel": {"font": {"family": FONT_FAMILY}},
    }
    layout.update(overrides)
    return layout


def health_heatmap(projects: list[Row], program_rollup: dict[str, str]) -> go.Figure:
    """Rows are programs; the first column is the program's own roll-up (when known), then one cell per project."""
    programs: dict[str, str] = {}
    projects_by_program: dict[str, list[Row]] = defaultdict(list)
    for project in projects:
        programs.setdefault(project["program_code"], project["program_name"])
        projects_by_program[project["program_code"]].append(project)
    widest = max(len(members) for members in projects_by_program.values())
    show_rollup = bool(program_rollup)
    columns = (["program"] if show_rollup else []) + [f"project {position + 1}" for position in range(widest)]

    scores: list[list[int | None]] = []
    labels: list[list[str]] = []
    hovers: list[list[str]] = []
    for program_code, program_name in programs.items():
        row_scores: list[int | None] = []
        row_labels: list[str] = []
        row_hovers: list[str] = []
        if show_rollup:
            rollup = program_rollup.get(program_code) or "grey"
            row_scores.append(HEALTH_SCORES.get(rollup, 0))
            row_labels.append(f"<b>{plain(program_code)}</b>")
            row_hovers.append(f"<b>{plain(program_name)}</b> (program roll-up)<br>overall health: {rollup}")
        for project in projects_by_program[program_code]:
            overall = project["overall_health"] or "grey"
            row_scores.append(HEALTH_SCORES.get(overall, 0))
            row_labels.append(plain(project["project_code"]))
            row_hovers.append(
                f"<b>{plain(project['project_code'])}</b> {plain(project['project_name'])}<br>"
                f"program: {plain(program_name)}<br>stage: {plain(project['stage'] or MISSING)}<br>"
                f"overall health: <b>{overall}</b><br>"
                f"schedule: {project['schedule_health']} (SPI {ratio(project['spi'])})<br>"
                f"cost: {project['cost_health']} (CPI {ratio(project['cpi'])})<br>"
                f"BAC {money(project['bac'])} · EV {money(project['ev'])} · AC {money(project['ac'])}"
            )
        padding = len(columns) - len(row_scores)
        scores.append(row_scores + [None] * padding)
        labels.append(row_labels + [""] * padding)
        hovers.append(row_hovers + [""] * padding)

    # Discrete bands: each health score (0-3) gets a quarter of the scale.
    colorscale = []
    for score, health in enumerate(("grey", "red", "amber", "green")):
        colorscale += [[score / 4, HEALTH_COLORS[health]], [(score + 1) / 4, HEALTH_COLORS[health]]]
    program_labels = [plain(f"{name} ({code})" if name != code else code) for code, name in programs.items()]
    figure = go.Figure(
        go.Heatmap(
            z=scores,
            x=columns,
            y=program_labels,
            text=labels,
            texttemplate="%{text}",
            textfont={"color": "white", "size": 13},
            customdata=hovers,
            hovertemplate="%{customdata}<extra></extra>",
            colorscale=colorscale,
            zmin=-0.5,
            zmax=3.5,
            showscale=False,
            xgap=4,
            ygap=4,
            hoverongaps=False,
        )
    )
    figure.update_layout(
        base_layout(max(200, 80 + 64 * len(programs)), margin={"l": 20, "r": 20, "t": 30, "b": 20}),
        xaxis={"side": "top", "showgrid": False, "zeroline": False, "fixedrange": True},
        yaxis={"autorange": "reversed", "showgrid": False, "zeroline": False, "fixedrange": True, "automargin": True},
        plot_bgcolor="white",
    )
    return figure


def earned_value_trends(series: list[EarnedValueSeries]) -> go.Figure:
    """Small multiples: one panel per portfolio, then per program, each with bac, pv, ev and ac over time."""
    columns = min(3, len(series))
    rows = math.ceil(len(series) / columns)
    figure = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[f"{entry.level.capitalize()} · {plain(entry.name)}" for entry in series],
        shared_xaxes=False,
        vertical_spacing=min(0.12, 0.35 / rows) if rows > 1 else 0.1,
        horizontal_spacing=0.07,
    )
    for index, entry in enumerate(series):
        row, column = divmod(index, columns)
        for measure, style in MEASURE_STYLES.items():
            figure.add_trace(
                go.Scatter(
                    x=entry.days,
                    y=[as_float(value) for value in getattr(entry, measure)],
                    name=style["name"],
                    legendgroup=measure,
                    showlegend=index == 0,
                    mode="lines",
                    line={"color": style["color"], "dash": style["dash"], "width": style["width"]},
                    hovertemplate=f"{measure.upper()} %{{y:,.0f}}<extra>{plain(entry.code)}</extra>",
                ),
                row=row + 1,
                col=column + 1,
            )
    figure.update_layout(
        base_layout(
            90 + 260 * rows,
            hovermode="x unified",
            margin={"l": 60, "r": 24, "t": 90, "b": 40},
            legend={"orientation": "h", "yref": "container", "y": 1, "yanchor": "top", "x": 0, "xanchor": "left"},
        )
    )
    figure.update_yaxes(tickformat="~s", rangemode="tozero")
    figure.update_annotations(font={"size": 13})
    return figure


def milestone_label(milestone: Row) -> str:
    return f"{plain(milestone['project_code'] or '?')} · {plain(milestone['name'])}"


def unique_labels(labels: Iterable[str]) -> list[str]:
    seen: dict[str, int] = defaultdict(int)
    unique: list[str] = []
    for label in labels:
        seen[label] += 1
        unique.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return unique


def milestone_slippage(milestones: list[Row]) -> go.Figure:
    """A lollipop per milestone: days of slip against its baseline, coloured by status.

    Open milestones not yet due have no slip and sit at zero.
    """
    labels = unique_labels(milestone_label(milestone) for milestone in milestones)
    figure = go.Figure()
    for status, color in MILESTONE_STATUS_COLORS.items():
        members = [
            (label, milestone)
            for label, milestone in zip(labels, milestones, strict=True)
            if milestone["milestone_status"] == status
        ]
        if not members:
            continue
        slips = [milestone["slip_days"] or 0 for _, milestone in members]
        names = [label for label, _ in members]
        details = [
            f"baseline {day(milestone['baseline_date'])} · due {day(milestone['due_date'])}"
            f"<br>completed {day(milestone['completed_at'])}"
            f"<br>slip {MISSING if milestone['slip_days'] is None else milestone['slip_days']} days"
            for _, milestone in members
        ]
        figure.add_trace(
            go.Bar(
                x=slips,
                y=names,
                orientation="h",
                marker={"color": color, "opacity": 0.35},
                width=0.25,
                legendgroup=status,
                showlegend=False,
                hoverinfo="skip",
            )
        )
        figure.add_trace(
            go.Scatter(
                x=slips,
                y=names,
                mode="markers",
                name=status,
                legendgroup=status,
                marker={
                    "color": color,
                    "size": 11,
                    "symbol": "circle-open" if status == "upcoming" else "circle",
                    "line": {"width": 2, "color": color},
                },
                customdata=details,
                hovertemplate=f"<b>%{{y}}</b><br>{status}<br>%{{customdata}}<extra></extra>",
            )
        )
    figure.update_layout(
        base_layout(max(220, 110 + 24 * len(labels)), margin={"l": 20, "r": 24, "t": 40, "b": 40}),
        barmode="overlay",
        xaxis={"title": {"text": "days of slip against the baseline date"}, "zeroline": True, "zerolinewidth": 2},
        yaxis={"categoryorder": "array", "categoryarray": labels, "autorange": "reversed", "automargin": True},
    )
    return figure


def theme_alignment(rows: list[Row]) -> dict[str, float | None]:
    """Each theme's average alignment, weighted by its projects across stages."""
    points: dict[str, Decimal] = defaultdict(Decimal)
    counted: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row["alignment_points"] is not None and row["aligned_projects"]:
            points[row["strategic_theme"]] += Decimal(row["alignment_points"])
            counted[row["strategic_theme"]] += Decimal(row["aligned_projects"])
    return {
        theme: (float(points[theme] / counted[theme]) if counted.get(theme) else None)
        for theme in {row["strategic_theme"] for row in rows}
    }


def themes_by_budget(rows: list[Row]) -> list[str]:
    budgets: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        budgets[row["strategic_theme"]] += row["approved_budget"] or Decimal(0)
    return sorted(budgets, key=lambda theme: (-budgets[theme], theme))


def stage_order(stage: str) -> tuple[int, str]:
    """The register's stages in their lifecycle order, any other after them."""
    known = list(STAGE_COLORS)
    return (known.index(stage) if stage in known else len(known), stage)


def investment_mix(rows: list[Row]) -> go.Figure:
    """Approved budget per strategic theme stacked by stage, with the theme's average alignment on a 1-5 axis."""
    themes = themes_by_budget(rows)
    theme_labels = [plain(theme) for theme in themes]
    stages = sorted({row["stage"] for row in rows}, key=stage_order)
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    for stage in stages:
        by_theme = {row["strategic_theme"]: row for row in rows if row["stage"] == stage}
        figure.add_trace(
            go.Bar(
                x=theme_labels,
                y=[as_float(by_theme[theme]["approved_budget"]) if theme in by_theme else None for theme in themes],
                name=plain(stage.replace("_", " ")),
                marker={"color": STAGE_COLORS.get(stage, "#8c96a0")},
                customdata=[
                    [
                        by_theme[theme]["projects_total"],
                        money(by_theme[theme]["actual_cost"]),
                        money(by_theme[theme]["eac"]),
                        money(by_theme[theme]["expected_benefit"]),
                    ]
                    if theme in by_theme
                    else [0, MISSING, MISSING, MISSING]
                    for theme in themes
                ],
                hovertemplate=(
                    f"<b>%{{x}}</b> · {plain(stage)}<br>approved budget %{{y:,.0f}}<br>projects %{{customdata[0]}}"
                    "<br>actual cost %{customdata[1]} · EAC %{customdata[2]}"
                    "<br>expected benefit %{customdata[3]}<extra></extra>"
                ),
            ),
            secondary_y=False,
        )
    alignment = theme_alignment(rows)
    figure.add_trace(
        go.Scatter(
            x=theme_labels,
            y=[alignment[theme] for theme in themes],
            name="average alignment (1-5)",
            mode="markers",
            marker={"symbol": "diamond", "size": 16, "color": ALIGNMENT_COLOR, "line": {"color": "white", "width": 2}},
            hovertemplate="<b>%{x}</b><br>average alignment %{y:.2f} of 5<extra></extra>",
        ),
        secondary_y=True,
    )
    figure.update_layout(base_layout(380), barmode="stack")
    figure.update_xaxes(
        tickmode="array",
        tickvals=theme_labels,
        ticktext=[
            f"{label}<br>alignment {alignment[theme]:.1f}" if alignment[theme] is not None else label
            for theme, label in zip(themes, theme_labels, strict=True)
        ],
    )
    figure.update_yaxes(title_text="approved budget", tickformat="~s", secondary_y=False)
    figure.update_yaxes(title_text="alignment", range=[0, 5.4], dtick=1, showgrid=False, secondary_y=True)
    return figure


def iso_week_label(week_start: date) -> str:
    year, week, _ = week_start.isocalendar()
    return f"{year}-W{week:02d}"


def capacity_against_logged(weeks: list[Row]) -> go.Figure:
    """Per ISO week: the team's capacity beside the hours it logged."""
    labels = [iso_week_label(week["week_start"]) for week in weeks]
    details = [
        [
            week["week_start"].isoformat(),
            week["people"],
            f"{week['logged_hours'] / week['capacity_hours']:.0%}" if week["capacity_hours"] else MISSING,
            f"{as_float(week['open_estimate_hours']) or 0:,.0f}",
        ]
        for week in weeks
    ]
    figure = go.Figure()
    for measure, name, color in (
        ("capacity_hours", "capacity", CAPACITY_COLOR),
        ("logged_hours", "logged hours", LOGGED_COLOR),
    ):
        figure.add_trace(
            go.Bar(
                x=labels,
                y=[as_float(week[measure]) for week in weeks],
                name=name,
                marker={"color": color},
                customdata=details,
                hovertemplate=(
                    f"<b>%{{x}}</b> (from %{{customdata[0]}})<br>{name} %{{y:,.0f}} h<br>people %{{customdata[1]}}"
                    "<br>utilization %{customdata[2]}<br>open estimates %{customdata[3]} h<extra></extra>"
                ),
            )
        )
    figure.update_layout(
        base_layout(340),
        barmode="group",
        bargap=0.25,
        yaxis={"title": {"text": "hours"}, "tickformat": "~s"},
        xaxis={"type": "category"},
    )
    return figure


def data_quality_overview(quality: DataQuality) -> go.Figure:
    """Three small bar charts per source system: stale streams, unmapped projects, rejected records."""
    counts: dict[str, dict[str, int]] = {"stale": {}, "unmapped": {}, "rejected": {}}
    for row in quality.stale_streams:
        counts["stale"][row["source_system"]] = counts["stale"].get(row["source_system"], 0) + 1
    for row in quality.unmapped_projects or []:
        counts["unmapped"][row["source_system"]] = counts["unmapped"].get(row["source_system"], 0) + 1
    for row in quality.rejected_by_reason or []:
        counts["rejected"][row["source_system"]] = counts["rejected"].get(row["source_system"], 0) + row["records"]
    systems = sorted(
        {row["source_system"] for row in quality.freshness or []}
        | {system for by_system in counts.values() for system in by_system}
    )
    panels = (
        ("stale", "stale streams", quality.freshness, "#e8a317"),
        ("unmapped", "unmapped projects", quality.unmapped_projects, "#6a51a3"),
        ("rejected", "rejected records", quality.rejected_by_reason, "#d64545"),
    )
    figure = make_subplots(rows=1, cols=3, subplot_titles=[title for _, title, _, _ in panels], horizontal_spacing=0.08)
    for position, (kind, title, table, color) in enumerate(panels, start=1):
        if table is None:
            # plotly.js drops the axes of a subplot without traces, so place the note on the page itself.
            left, right = figure.get_subplot(1, position).xaxis.domain
            figure.add_annotation(
                text="table missing",
                showarrow=False,
                xref="paper",
                yref="paper",
                x=(left + right) / 2,
                y=0.5,
                font={"color": "#6b7785"},
            )
            continue
        figure.add_trace(
            go.Bar(
                x=[plain(system) for system in systems],
                y=[counts[kind].get(system, 0) for system in systems],
                name=title,
                marker={"color": color},
                showlegend=False,
                text=[counts[kind].get(system, 0) for system in systems],
                textposition="outside",
                hovertemplate=f"%{{x}}: %{{y}} {title}<extra></extra>",
            ),
            row=1,
            col=position,
        )
        highest = max(counts[kind].values(), default=0)
        figure.update_yaxes(range=[0, max(1, highest) * 1.2], dtick=max(1, math.ceil(highest / 4)), row=1, col=position)
    figure.update_layout(base_layout(260, margin={"l": 40, "r": 20, "t": 40, "b": 40}))
    figure.update_yaxes(tickformat="d", automargin=True)
    figure.update_annotations(font={"size": 13})
    return figure
