"""The nightly PMO report: one self-contained HTML page rendered from the `marts` schema alone.

It shows the portfolio's headline earned-value figures, a health heatmap of programs and their
projects, earned-value trends, milestone slippage, the investment mix against strategic
alignment, capacity against logged hours, and the data-quality panel. Each night's page is kept
as `pmo-report-YYYY-MM-DD.html` and the newest one is copied to `latest.html`, a stable path to
link to. A panel whose tables are missing or empty says so instead of drawing.

    python -m reports.nightly --run-date 2026-03-31 --out .local/reports
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path

from reports import charts, marts
from reports.formats import day, hours, instant, money, percent, ratio
from reports.marts import Headline, MartsSnapshot, NoData
from reports.page import (
    Column,
    Panel,
    PanelContent,
    headline_tile,
    health_badge,
    health_legend,
    html_table,
    render_page,
)

log = logging.getLogger(__name__)

REPORT_TITLE = "PMO portfolio report"
ARCHIVE_PREFIX = "pmo-report-"
LATEST_NAME = "latest.html"
CAPACITY_WEEKS = 12
MILESTONES_SHOWN = 60
RECENT_REJECTIONS_SHOWN = 20
DATA_QUALITY_ROWS_SHOWN = 50
PEOPLE_SHOWN = 10


def default_output_dir() -> Path:
    """`PMO_REPORT_DIR`, else `reports/` under the local state folder."""
    from warehouse import settings

    return Path(os.environ.get("PMO_REPORT_DIR") or settings.local_dir() / "reports")


def report_path(out_dir: Path, run_date: date) -> Path:
    return out_dir / f"{ARCHIVE_PREFIX}{run_date.isoformat()}.html"


def render_report(warehouse_url: str, run_date: date, out_dir: Path) -> Path:
    """Render the report for `run_date` into `out_dir`; returns the dated file (`latest.html` is beside it)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with MartsSnapshot.open(warehouse_url) as snapshot:
        page = build_page(snapshot, run_date, generated_at=datetime.now(UTC))
    archived = report_path(out_dir, run_date)
    write_atomically(archived, page)
    newest = max(out_dir.glob(f"{ARCHIVE_PREFIX}????-??-??.html"))
    copy_atomically(newest, out_dir / LATEST_NAME)
    log.info("PMO report for %s written to %s (latest: %s)", run_date, archived, out_dir / LATEST_NAME)
    return archived


def write_atomically(path: Path, text: str) -> None:
    """Write through a temporary file beside `path`, so a reader never sees half a report."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def copy_atomically(source: Path, target: Path) -> None:
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)


def build_page(snapshot: MartsSnapshot, run_date: date, generated_at: datetime) -> str:
    headline = guarded_headline(snapshot, run_date)
    currency = guarded_currency(snapshot)
    money_unit = f" ({currency})" if currency else ""
    panels = [guarded_panel(view, snapshot, run_date, money_unit) for view in VIEWS]

    subtitle = f"Run date <strong>{run_date.isoformat()}</strong>"
    notices: list[str] = []
    tiles: list[str] = []
    if isinstance(headline, Headline):
        subtitle += f" · {escape(headline.label)}{escape(money_unit)}"
        tiles = headline_tiles(headline)
        if headline.status_date != run_date:
            notices.append(
                f"The marts hold figures up to {headline.status_date.isoformat()}, not {run_date.isoformat()}: "
                "the report shows that day. Check the nightly refresh."
            )
    else:
        notices.append(f"No headline figures: {headline}")
    return render_page(
        title=REPORT_TITLE,
        run_date=run_date,
        subtitle=subtitle,
        tiles=tiles,
        notices=notices,
        panels=panels,
        generated_at=generated_at,
    )


def guarded_currency(snapshot: MartsSnapshot) -> str | None:
    try:
        return marts.report_currency(snapshot)
    except Exception:
        log.exception("report: the register's currency could not be read")
        return None


def guarded_headline(snapshot: MartsSnapshot, run_date: date) -> Headline | str:
    try:
        return marts.portfolio_headline(snapshot, run_date)
    except NoData as reason:
        return str(reason)
    except Exception as error:
        log.exception("report: the headline figures could not be read")
        return f"{type(error).__name__}: {first_line(error)}"


def guarded_panel(view: View, snapshot: MartsSnapshot, run_date: date, money_unit: str) -> Panel:
    """The view drawn, or a message in place of its chart when it cannot be drawn."""
    try:
        content = view.draw(snapshot, run_date)
    except NoData as reason:
        content = PanelContent(message=f"No data: {reason}.")
    except Exception as error:
        log.exception("report: the %s panel could not be drawn", view.key)
        content = PanelContent(
            message=f"This panel could not be drawn ({type(error).__name__}: {first_line(error)}).",
            message_kind="panel-error",
        )
    title = view.title + (money_unit if view.in_money else "")
    return Panel(key=view.key, title=title, caption=view.caption, content=content, wide=view.wide)


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0]


def headline_tiles(headline: Headline) -> list[str]:
    spi_health = marts.health_band(headline.spi)
    cpi_health = marts.health_band(headline.cpi)
    return [
        headline_tile("bac", "BAC", money(headline.bac), f"{headline.bac:.2f}", "budget at completion"),
        headline_tile("pv", "PV", money(headline.pv), f"{headline.pv:.2f}", "planned value"),
        headline_tile("ev", "EV", money(headline.ev), f"{headline.ev:.2f}", "earned value"),
        headline_tile("ac", "AC", money(headline.ac), f"{headline.ac:.2f}", "actual cost"),
        headline_tile("spi", "SPI", ratio(headline.spi), raw_ratio(headline.spi), f"schedule {spi_health}", spi_health),
        headline_tile("cpi", "CPI", ratio(headline.cpi), raw_ratio(headline.cpi), f"cost {cpi_health}", cpi_health),
        headline_tile(
            "overall_health",
            "Health",
            headline.overall_health,
            headline.overall_health,
            f"as of {headline.status_date.isoformat()}",
            headline.overall_health,
        ),
    ]


def raw_ratio(value: object) -> str:
    return "" if value is None else f"{value:.4f}"


HEALTH_CAPTION = (
    "Each row is a program: its first cell is the program's own roll-up, then one cell per project, labelled "
    "with the project's code. The colour is overall health on the status date, the worse of schedule (SPI) and "
    "cost (CPI): green at 0.95 or more, amber at 0.85 or more, red below, grey while neither can be measured yet. "
    f"Hover a cell for its SPI, CPI and budget. {health_legend()}"
)
EARNED_VALUE_CAPTION = (
    "Cumulative planned value (PV), earned value (EV) and actual cost (AC) per day, against the budget at "
    "completion (BAC, dotted), for each portfolio and then each program. EV below PV means behind schedule "
    "(SPI under 1); AC above EV means over cost (CPI under 1)."
)
MILESTONE_CAPTION = (
    "One row per milestone, most slipped at the top. The dot sits at the slip in days against the baseline date "
    "(completion date, or the run date while overdue, minus the baseline): right of zero is late. Colour is the "
    "status: hit, missed, overdue, and upcoming (open rings, not yet due, shown at zero)."
)
INVESTMENT_CAPTION = (
    "Bars: approved budget per strategic theme, stacked by stage. Diamonds: the theme's average alignment to "
    "strategy (1 to 5, right axis), weighted by its projects. A tall bar under a low diamond is money spent away "
    "from strategy."
)
CAPACITY_CAPTION = (
    f"Per ISO week, the last {CAPACITY_WEEKS} weeks up to the run date: the capacity of everyone on the rate card "
    "(light) beside the hours they logged (dark). Logged well under capacity means idle or unlogged time; above "
    "it, overtime; the run date's own week is still filling up. Hover a week for utilization and the open "
    "estimates assigned."
)
DATA_QUALITY_CAPTION = (
    "Per source system: streams whose last successful load is older than the freshness limit, source projects "
    "that no register row maps (their work counts in no program's figures), and records the loader refused. "
    "The tables below list them."
)


def draw_health(snapshot: MartsSnapshot, run_date: date) -> PanelContent:
    status_date, projects = marts.project_health(snapshot, run_date)
    rollup = marts.program_health(snapshot, status_date)
    table = html_table(
        "table-project-health",
        [
            Column("Program", lambda row: row["program_code"]),
            Column("Project", lambda row: row["project_code"]),
            Column("Name", lambda row: row["project_name"]),
            Column("Stage", lambda row: row["stage"]),
            Column("Overall", lambda row: row["overall_health"], health_badge),
            Column("Schedule", lambda row: row["schedule_health"], health_badge),
            Column("Cost", lambda row: row["cost_health"], health_badge),
            Column("SPI", lambda row: row["spi"], ratio, numeric=True),
            Column("CPI", lambda row: row["cpi"], ratio, numeric=True),
            Column("BAC", lambda row: row["bac"], money, numeric=True),
            Column("EV", lambda row: row["ev"], money, numeric=True),
            Column("AC", lambda row: row["ac"], money, numeric=True),
        ],
        projects,
        empty="No project.",
    )
    return PanelContent(
        figure=charts.health_heatmap(projects, rollup),
        details=table,
        caption_note=f"Status date: {status_date.isoformat()}.",
        attributes={"data-status-date": status_date.isoformat()},
    )


def draw_earned_value(snapshot: MartsSnapshot, run_date: date) -> PanelContent:
    series = marts.earned_value_series(snapshot, run_date)
    latest = [
        {
            "level": entry.level,
            "code": entry.code,
            "name": entry.name,
            "date_day": entry.days[-1],
            "bac": entry.bac[-1],
            "pv": entry.pv[-1],
            "ev": entry.ev[-1],
            "ac": entry.ac[-1],
            "spi": marts.ratio(entry.ev[-1] or 0, entry.pv[-1] or 0),
            "cpi": marts.ratio(entry.ev[-1] or 0, entry.ac[-1] or 0),
        }
        for entry in series
    ]
    table = html_table(
        "table-earned-value",
        [
            Column("Level", lambda row: row["level"]),
            Column("Code", lambda row: row["code"]),
            Column("Name", lambda row: row["name"]),
            Column("As of", lambda row: row["date_day"], day),
            Column("BAC", lambda row: row["bac"], money, numeric=True),
            Column("PV", lambda row: row["pv"], money, numeric=True),
            Column("EV", lambda row: row["ev"], money, numeric=True),
            Column("AC", lambda row: row["ac"], money, numeric=True),
            Column("SPI", lambda row: row["spi"], ratio, numeric=True),
            Column("CPI", lambda row: row["cpi"], ratio, numeric=True),
        ],
        latest,
        empty="No series.",
    )
    return PanelContent(figure=charts.earned_value_trends(series), details=table)


def draw_milestones(snapshot: MartsSnapshot, run_date: date) -> PanelContent:
    rows = marts.milestones(snapshot)
    shown = rows[:MILESTONES_SHOWN]
    note = ""
    if len(rows) > len(shown):
        note = f"Showing the {len(shown)} most slipped of {len(rows)} milestones; the table lists them all."
    table = html_table(
        "table-milestones",
        [
            Column("Project", lambda row: row["project_code"]),
            Column("Milestone", lambda row: row["name"]),
            Column("Status", lambda row: row["milestone_status"]),
            Column("Baseline", lambda row: row["baseline_date"], day),
            Column("Due", lambda row: row["due_date"], day),
            Column("Completed", lambda row: row["completed_at"], day),
            Column("Slip (days)", lambda row: row["slip_days"], numeric=True),
        ],
        rows,
        empty="No milestone.",
    )
    return PanelContent(figure=charts.milestone_slippage(shown), details=table, caption_note=note)


def draw_investment(snapshot: MartsSnapshot, run_date: date) -> PanelContent:
    rows = marts.investment_mix(snapshot)
    alignment = charts.theme_alignment(rows)
    table = html_table(
        "table-investment-mix",
        [
            Column("Theme", lambda row: row["strategic_theme"]),
            Column("Stage", lambda row: row["stage"]),
            Column("Projects", lambda row: row["projects_total"], numeric=True),
            Column("Approved budget", lambda row: row["approved_budget"], money, numeric=True),
            Column("Actual cost", lambda row: row["actual_cost"], money, numeric=True),
            Column("EAC", lambda row: row["eac"], money, numeric=True),
            Column("Expected benefit", lambda row: row["expected_benefit"], money, numeric=True),
            Column("Theme alignment", lambda row: alignment.get(row["strategic_theme"]), ratio, numeric=True),
        ],
        rows,
        empty="No investment.",
    )
    return PanelContent(figure=charts.investment_mix(rows), details=table)


def draw_capacity(snapshot: MartsSnapshot, run_date: date) -> PanelContent:
    weeks = marts.capacity_by_week(snapshot, run_date, CAPACITY_WEEKS)
    latest_week = weeks[-1]["week_start"]
    people = marts.people_in_week(snapshot, latest_week, PEOPLE_SHOWN)
    table = f"<h3>Highest utilization in {charts.iso_week_label(latest_week)}</h3>" + html_table(
        "table-capacity-people",
        [
            Column("Person", lambda row: row["person"]),
            Column("Role", lambda row: row["role"]),
            Column("Capacity (h)", lambda row: row["capacity_hours"], hours, numeric=True),
            Column("Logged (h)", lambda row: row["logged_hours"], hours, numeric=True),
            Column("Open estimates (h)", lambda row: row["open_estimate_hours"], hours, numeric=True),
            Column("Utilization", lambda row: row["utilization"], percent, numeric=True),
        ],
        people,
        empty="No one on the rate card that week.",
    )
    return PanelContent(figure=charts.capacity_against_logged(weeks), details=table)


def draw_data_quality(snapshot: MartsSnapshot, run_date: date) -> PanelContent:
    quality = marts.data_quality(snapshot, RECENT_REJECTIONS_SHOWN)
    stale = quality.stale_streams
    counts = [
        (
            "stale_streams",
            "Stale streams",
            quality.freshness,
            len(stale),
            f"{len(stale)} of {len(quality.freshness or [])}",
        ),
        (
            "unmapped_projects",
            "Unmapped projects",
            quality.unmapped_projects,
            len(quality.unmapped_projects or []),
            None,
        ),
        ("rejected_records", "Rejected records", quality.rejected_by_reason, quality.rejected_total, None),
    ]
    counts_html = (
        '<dl class="counts" id="data-quality-counts">'
        + "".join(
            data_quality_count(metric, label, table is not None, value, shown)
            for metric, label, table, value, shown in counts
        )
        + "</dl>"
    )
    tables = "".join(
        [
            data_quality_table(
                "Stale streams",
                "table-stale-streams",
                "dq_source_freshness",
                None if quality.freshness is None else stale[:DATA_QUALITY_ROWS_SHOWN],
                [
                    Column("Source", lambda row: row["source_system"]),
                    Column("Instance", lambda row: row["source_instance"]),
                    Column("Stream", lambda row: row["stream"]),
                    Column("Last success", lambda row: row["last_success_at"], instant),
                    Column("Rows last run", lambda row: row["rows_last_run"], numeric=True),
                ],
                "No stream is stale.",
            ),
            data_quality_table(
                "Unmapped projects",
                "table-unmapped-projects",
                "dq_unmapped_projects",
                None if quality.unmapped_projects is None else quality.unmapped_projects[:DATA_QUALITY_ROWS_SHOWN],
                [
                    Column("Source", lambda row: row["source_system"]),
                    Column("Source project", lambda row: row["source_project_key"]),
                    Column("Name", lambda row: row["source_project_name"]),
                    Column("Work items", lambda row: row["work_items"], numeric=True),
                ],
                "Every source project is mapped to the register.",
            ),
            data_quality_table(
                "Rejected records by reason",
                "table-rejected-by-reason",
                "dq_rejected_records",
                None if quality.rejected_by_reason is None else quality.rejected_by_reason[:DATA_QUALITY_ROWS_SHOWN],
                [
                    Column("Source", lambda row: row["source_system"]),
                    Column("Stream", lambda row: row["stream"]),
                    Column("Reason", lambda row: row["reason"]),
                    Column("Records", lambda row: row["records"], numeric=True),
                    Column("Last rejected", lambda row: row["last_rejected_at"], instant),
                ],
                "The loader refused no record.",
            ),
            data_quality_table(
                f"Latest {RECENT_REJECTIONS_SHOWN} rejected records",
                "table-recent-rejections",
                "dq_rejected_records",
                quality.recent_rejections,
                [
                    Column("Source", lambda row: row["source_system"]),
                    Column("Stream", lambda row: row["stream"]),
                    Column("Record", lambda row: row["record_id"]),
                    Column("Reason", lambda row: row["reason"]),
                    Column("Rejected at", lambda row: row["rejected_at"], instant),
                ],
                "The loader refused no record.",
            ),
        ]
    )
    if not stale and not quality.unmapped_projects and not quality.rejected_total:
        if not quality.freshness:
            raise NoData("no stream has been loaded yet: marts.dq_source_freshness holds no row")
        return PanelContent(
            message="All clear: no stale stream, no unmapped project, no rejected record.",
            message_kind="all-clear",
            before_chart=counts_html,
            details=tables,
            tables_open=True,
        )
    return PanelContent(
        figure=charts.data_quality_overview(quality), before_chart=counts_html, details=tables, tables_open=True
    )


def data_quality_count(metric: str, label: str, table_exists: bool, value: int, shown: str | None) -> str:
    if not table_exists:
        return f'<div data-metric="{metric}" data-value=""><dt>{escape(label)}</dt><dd>table missing</dd></div>'
    flagged = ' class="flagged"' if value else ""
    return (
        f'<div{flagged} data-metric="{metric}" data-value="{value}"><dt>{escape(label)}</dt>'
        f"<dd>{escape(shown or f'{value:,}')}</dd></div>"
    )


def data_quality_table(
    heading: str, table_id: str, source_table: str, rows: list[dict] | None, columns: list[Column], empty: str
) -> str:
    if rows is None:
        return f'<h3>{escape(heading)}</h3><p class="empty-table">No data: marts.{source_table} is missing.</p>'
    return f"<h3>{escape(heading)}</h3>" + html_table(table_id, columns, rows, empty)


@dataclass(frozen=True)
class View:
    key: str
    title: str
    caption: str
    draw: Callable[[MartsSnapshot, date], PanelContent]
    wide: bool = False
    in_money: bool = False


VIEWS = (
    View("health-heatmap", "Portfolio health", HEALTH_CAPTION, draw_health, wide=True),
    View("earned-value", "Earned value trends", EARNED_VALUE_CAPTION, draw_earned_value, wide=True, in_money=True),
    View("milestone-slippage", "Milestone slippage", MILESTONE_CAPTION, draw_milestones, wide=True),
    View("investment-mix", "Investment mix by strategic theme", INVESTMENT_CAPTION, draw_investment, in_money=True),
    View("capacity", "Capacity against logged hours", CAPACITY_CAPTION, draw_capacity),
    View("data-quality", "Data quality", DATA_QUALITY_CAPTION, draw_data_quality, wide=True),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m reports.nightly", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--run-date",
        type=date.fromisoformat,
        default=datetime.now(UTC).date(),
        help="the night the report is for, YYYY-MM-DD (default: today in UTC)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="folder for the report (default: PMO_REPORT_DIR or .local/reports)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from warehouse import settings

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    archived = render_report(settings.warehouse_url(), args.run_date, args.out or default_output_dir())
    print(archived)
    print(archived.parent / LATEST_NAME)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
