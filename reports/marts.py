"""What the nightly report reads from the published marts, and nothing else.

Every query names its table in the `marts` schema and runs inside one read-only, repeatable-read
transaction, so the report shows a single consistent state of the warehouse and works under the
BI tools' read-only role. A panel whose tables are absent or empty raises `NoData`, which the
report turns into a message in that panel; one failing query rolls back to its own savepoint and
leaves the other panels alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

MART_SCHEMA = "marts"

Row = dict[str, Any]


class NoData(Exception):
    """A panel cannot be drawn: its tables are missing or hold no rows; the message says which."""


class MartsSnapshot:
    """One read-only, consistent view of the `marts` schema."""

    def __init__(self, connection: psycopg.Connection[Row]) -> None:
        self.connection = connection
        self._columns: dict[str, set[str]] | None = None

    @classmethod
    @contextmanager
    def open(cls, warehouse_url: str) -> Iterator[MartsSnapshot]:
        with psycopg.connect(warehouse_url, row_factory=dict_row, connect_timeout=30) as connection:
            connection.read_only = True
            connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with connection.transaction(force_rollback=True):
                yield cls(connection)

    def columns_of(self, table: str) -> set[str]:
        """The columns of `marts.<table>`, empty when the table does not exist."""
        if self._columns is None:
            found: dict[str, set[str]] = {}
            for row in self.rows(
                "select table_name, column_name from information_schema.columns where table_schema = %(schema)s",
                {"schema": MART_SCHEMA},
            ):
                found.setdefault(row["table_name"], set()).add(row["column_name"])
            self._columns = found
        return self._columns.get(table, set())

    def has_table(self, table: str) -> bool:
        return bool(self.columns_of(table))

    def require(self, *tables: str) -> None:
        missing = [f"{MART_SCHEMA}.{table}" for table in tables if not self.has_table(table)]
        if missing:
            raise NoData(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing from the warehouse")

    def optional_join(self, table: str, alias: str, condition: str, columns: tuple[str, ...]) -> str:
        """A left join to `marts.<table>`, or to nulls when it is missing, so a name lookup falls back to the key."""
        if self.has_table(table):
            return f"left join {MART_SCHEMA}.{table} as {alias} on {condition}"
        nulls = ", ".join(f"null::text as {column}" for column in columns)
        return f"left join (select {nulls}) as {alias} on false"

    def rows(self, query: str, params: dict[str, Any] | None = None) -> list[Row]:
        with self.connection.transaction():
            return self.connection.execute(query, params or {}).fetchall()


# Health bands of the contract: the same thresholds for spi and cpi.
HEALTH_ORDER = ("red", "amber", "green")


def health_band(ratio: Decimal | float | None) -> str:
    if ratio is None:
        return "grey"
    if ratio >= Decimal("0.95"):
        return "green"
    if ratio >= Decimal("0.85"):
        return "amber"
    return "red"


def worse_health(schedule_health: str, cost_health: str) -> str:
    """The worse of two bands; grey only when both are grey."""
    graded = [band for band in (schedule_health, cost_health) if band in HEALTH_ORDER]
    if not graded:
        return "grey"
    return min(graded, key=HEALTH_ORDER.index)


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return None if not denominator else numerator / denominator


def latest_date_on_or_before(snapshot: MartsSnapshot, table: str, run_date: date) -> date:
    """The status date a daily fact table holds for the run: the run date, or its last day before it."""
    snapshot.require(table)
    found = snapshot.rows(
        f"select max(date_day) as status_date from {MART_SCHEMA}.{table} where date_day <= %(run_date)s",
        {"run_date": run_date},
    )[0]["status_date"]
    if found is None:
        raise NoData(f"{MART_SCHEMA}.{table} has no rows on or before {run_date.isoformat()}")
    return found


@dataclass(frozen=True)
class Headline:
    """The portfolio figures of the page header: sums over the portfolios, ratios from the sums."""

    status_date: date
    label: str
    bac: Decimal
    pv: Decimal
    ev: Decimal
    ac: Decimal
    spi: Decimal | None
    cpi: Decimal | None
    overall_health: str
    portfolios: list[Row]


def portfolio_headline(snapshot: MartsSnapshot, run_date: date) -> Headline:
    status_date = latest_date_on_or_before(snapshot, "fct_portfolio_daily", run_date)
    portfolio_names = snapshot.optional_join(
        "dim_portfolio",
        "portfolio",
        "portfolio.portfolio_key = daily.portfolio_key",
        ("portfolio_key", "portfolio_code", "portfolio_name"),
    )
    portfolios = snapshot.rows(
        f"""
        select
            coalesce(portfolio.portfolio_code, daily.portfolio_key) as portfolio_code,
            coalesce(portfolio.portfolio_name, portfolio.portfolio_code, daily.portfolio_key) as portfolio_name,
            daily.bac, daily.pv, daily.ev, daily.ac, daily.spi, daily.cpi, daily.overall_health,
            daily.projects_total
        from {MART_SCHEMA}.fct_portfolio_daily as daily
        {portfolio_names}
        where daily.date_day = %(status_date)s
        order by daily.bac desc nulls last, portfolio_code
        """,
        {"status_date": status_date},
    )
    totals = {
        measure: sum((row[measure] or Decimal(0) for row in portfolios), Decimal(0))
        for measure in ("bac", "pv", "ev", "ac")
    }
    spi = ratio(totals["ev"], totals["pv"])
    cpi = ratio(totals["ev"], totals["ac"])
    label = portfolios[0]["portfolio_name"] if len(portfolios) == 1 else f"All {len(portfolios)} portfolios"
    return Headline(
        status_date=status_date,
        label=label,
        spi=spi,
        cpi=cpi,
        overall_health=worse_health(health_band(spi), health_band(cpi)),
        portfolios=portfolios,
        **totals,
    )


def report_currency(snapshot: MartsSnapshot) -> str | None:
    """The register's currency when every budgeted project shares one."""
    if "currency" not in snapshot.columns_of("dim_project"):
        return None
    currencies = snapshot.rows(
        f"select distinct currency from {MART_SCHEMA}.dim_project where currency is not null and currency <> ''"
    )
    return currencies[0]["currency"] if len(currencies) == 1 else None


def project_health(snapshot: MartsSnapshot, run_date: date) -> tuple[date, list[Row]]:
    """Each project's health on the status date, with its program."""
    snapshot.require("fct_project_daily", "dim_project", "dim_program")
    status_date = latest_date_on_or_before(snapshot, "fct_project_daily", run_date)
    projects = snapshot.rows(
        f"""
        select
            coalesce(program.program_code, 'UNASSIGNED') as program_code,
            coalesce(program.program_name, program.program_code, 'Unassigned') as program_name,
            project.project_code,
            project.project_name,
            project.stage,
            daily.overall_health,
            daily.schedule_health,
            daily.cost_health,
            daily.spi,
            daily.cpi,
            daily.bac,
            daily.ev,
            daily.ac
        from {MART_SCHEMA}.fct_project_daily as daily
        inner join {MART_SCHEMA}.dim_project as project on project.project_key = daily.project_key
        left join {MART_SCHEMA}.dim_program as program on program.program_key = project.program_key
        where daily.date_day = %(status_date)s
        order by program_code, project.project_code
        """,
        {"status_date": status_date},
    )
    if not projects:
        raise NoData(f"no project has a row in {MART_SCHEMA}.fct_project_daily on {status_date.isoformat()}")
    return status_date, projects


def program_health(snapshot: MartsSnapshot, status_date: date) -> dict[str, str]:
    """Each program's rolled-up overall health on the status date, by program code; empty when unavailable."""
    if not (snapshot.has_table("fct_program_daily") and snapshot.has_table("dim_program")):
        return {}
    return {
        row["program_code"]: row["overall_health"]
        for row in snapshot.rows(
            f"""
            select program.program_code, daily.overall_health
            from {MART_SCHEMA}.fct_program_daily as daily
            inner join {MART_SCHEMA}.dim_program as program on program.program_key = daily.program_key
            where daily.date_day = %(status_date)s
            """,
            {"status_date": status_date},
        )
    }


@dataclass(frozen=True)
class EarnedValueSeries:
    level: str
    code: str
    name: str
    days: list[date]
    bac: list[Decimal]
    pv: list[Decimal]
    ev: list[Decimal]
    ac: list[Decimal]


def earned_value_series(snapshot: MartsSnapshot, run_date: date) -> list[EarnedValueSeries]:
    """Daily bac, pv, ev and ac up to the run date: the portfolios first, then each program."""
    levels = (
        ("portfolio", "fct_portfolio_daily", "dim_portfolio", "portfolio_key", "portfolio_code", "portfolio_name"),
        ("program", "fct_program_daily", "dim_program", "program_key", "program_code", "program_name"),
    )
    series: list[EarnedValueSeries] = []
    missing: list[str] = []
    for level, fact, dimension, key, code, name in levels:
        if not (snapshot.has_table(fact) and snapshot.has_table(dimension)):
            missing.append(f"{MART_SCHEMA}.{fact}" if not snapshot.has_table(fact) else f"{MART_SCHEMA}.{dimension}")
            continue
        rows = snapshot.rows(
            f"""
            select
                coalesce(dimension.{code}, daily.{key}) as code,
                coalesce(dimension.{name}, dimension.{code}, daily.{key}) as name,
                daily.date_day, daily.bac, daily.pv, daily.ev, daily.ac
            from {MART_SCHEMA}.{fact} as daily
            left join {MART_SCHEMA}.{dimension} as dimension on dimension.{key} = daily.{key}
            where daily.date_day <= %(run_date)s
            order by code, daily.date_day
            """,
            {"run_date": run_date},
        )
        by_code: dict[str, EarnedValueSeries] = {}
        for row in rows:
            entry = by_code.setdefault(
                row["code"], EarnedValueSeries(level, row["code"], row["name"], [], [], [], [], [])
            )
            entry.days.append(row["date_day"])
            for measure in ("bac", "pv", "ev", "ac"):
                getattr(entry, measure).append(row[measure])
        series.extend(by_code.values())
    if not series:
        reason = " and ".join(missing) + " missing" if missing else "no daily portfolio or program rows"
        raise NoData(f"{reason} up to {run_date.isoformat()}")
    return series


def milestones(snapshot: MartsSnapshot) -> list[Row]:
    """Every milestone with its project, the most slipped first."""
    snapshot.require("fct_milestones", "dim_project")
    rows = snapshot.rows(
        f"""
        select
            project.project_code,
            project.project_name,
            milestone.name,
            milestone.baseline_date,
            milestone.due_date,
            milestone.completed_at,
            milestone.slip_days,
            milestone.milestone_status
        from {MART_SCHEMA}.fct_milestones as milestone
        left join {MART_SCHEMA}.dim_project as project on project.project_key = milestone.project_key
        order by milestone.slip_days desc nulls last, milestone.due_date, project.project_code, milestone.name
        """
    )
    if not rows:
        raise NoData(f"{MART_SCHEMA}.fct_milestones holds no milestone")
    return rows


def investment_mix(snapshot: MartsSnapshot) -> list[Row]:
    """Budget, cost and alignment per strategic theme and stage, summed over the portfolios."""
    snapshot.require("fct_portfolio_investment")
    rows = snapshot.rows(
        f"""
        select
            coalesce(nullif(strategic_theme, ''), '(no theme)') as strategic_theme,
            coalesce(nullif(stage, ''), '(no stage)') as stage,
            sum(projects_total) as projects_total,
            sum(approved_budget) as approved_budget,
            sum(actual_cost) as actual_cost,
            sum(eac) as eac,
            sum(expected_benefit) as expected_benefit,
            sum(avg_alignment_score * projects_total) as alignment_points,
            sum(case when avg_alignment_score is not null then projects_total end) as aligned_projects
        from {MART_SCHEMA}.fct_portfolio_investment
        group by 1, 2
        order by 1, 2
        """
    )
    if not rows:
        raise NoData(f"{MART_SCHEMA}.fct_portfolio_investment holds no row")
    return rows


def capacity_by_week(snapshot: MartsSnapshot, run_date: date, weeks: int) -> list[Row]:
    """Capacity, logged hours and open estimates summed over people, for the last `weeks` ISO weeks."""
    snapshot.require("fct_capacity_weekly")
    rows = snapshot.rows(
        f"""
        select
            week_start,
            sum(capacity_hours) as capacity_hours,
            sum(logged_hours) as logged_hours,
            sum(open_estimate_hours) as open_estimate_hours,
            count(distinct person_key) as people
        from {MART_SCHEMA}.fct_capacity_weekly
        where week_start <= %(run_date)s and week_start > %(earliest)s
        group by week_start
        order by week_start
        """,
        {"run_date": run_date, "earliest": run_date - timedelta(weeks=weeks)},
    )
    if not rows:
        raise NoData(f"{MART_SCHEMA}.fct_capacity_weekly has no week in the {weeks} weeks up to {run_date.isoformat()}")
    return rows


def people_in_week(snapshot: MartsSnapshot, week_start: date, limit: int) -> list[Row]:
    """The people with the highest utilization in one week, named from `dim_person` where it exists."""
    person = snapshot.optional_join(
        "dim_person",
        "person",
        "person.person_key = capacity.person_key",
        ("person_key", "display_name", "email", "role"),
    )
    return snapshot.rows(
        f"""
        select
            coalesce(person.display_name, person.email, capacity.person_key) as person,
            person.role,
            capacity.capacity_hours,
            capacity.logged_hours,
            capacity.open_estimate_hours,
            capacity.utilization
        from {MART_SCHEMA}.fct_capacity_weekly as capacity
        {person}
        where capacity.week_start = %(week_start)s
        order by capacity.utilization desc nulls last, capacity.logged_hours desc nulls last, 1
        limit %(limit)s
        """,
        {"week_start": week_start, "limit": limit},
    )


@dataclass(frozen=True)
class DataQuality:
    """The data-quality tables; a table that is missing is None, an empty one an empty list."""

    freshness: list[Row] | None
    unmapped_projects: list[Row] | None
    rejected_by_reason: list[Row] | None
    recent_rejections: list[Row] | None

    @property
    def stale_streams(self) -> list[Row]:
        return [row for row in self.freshness or [] if row["is_stale"]]

    @property
    def rejected_total(self) -> int:
        return sum(row["records"] for row in self.rejected_by_reason or [])


def data_quality(snapshot: MartsSnapshot, recent_limit: int) -> DataQuality:
    freshness = unmapped = by_reason = recent = None
    if snapshot.has_table("dq_source_freshness"):
        instance = (
            "source_instance" if "source_instance" in snapshot.columns_of("dq_source_freshness") else "null::text"
        )
        freshness = snapshot.rows(
            f"""
            select source_system, {instance} as source_instance, stream, last_success_at, rows_last_run, is_stale
            from {MART_SCHEMA}.dq_source_freshness
            order by is_stale desc, source_system, source_instance, stream
            """
        )
    if snapshot.has_table("dq_unmapped_projects"):
        unmapped = snapshot.rows(
            f"""
            select source_system, source_project_key, source_project_name, work_items
            from {MART_SCHEMA}.dq_unmapped_projects
            order by work_items desc nulls last, source_system, source_project_key
            """
        )
    if snapshot.has_table("dq_rejected_records"):
        by_reason = snapshot.rows(
            f"""
            select source_system, stream, reason, count(*) as records, max(rejected_at) as last_rejected_at
            from {MART_SCHEMA}.dq_rejected_records
            group by source_system, stream, reason
            order by records desc, source_system, stream, reason
            """
        )
        recent = snapshot.rows(
            f"""
            select source_system, stream, record_id, reason, rejected_at
            from {MART_SCHEMA}.dq_rejected_records
            order by rejected_at desc nulls last, source_system, stream, record_id
            limit %(limit)s
            """,
            {"limit": recent_limit},
        )
    if freshness is None and unmapped is None and by_reason is None:
        raise NoData(
            f"{MART_SCHEMA}.dq_source_freshness, {MART_SCHEMA}.dq_unmapped_projects and "
            f"{MART_SCHEMA}.dq_rejected_records are missing from the warehouse"
        )
    return DataQuality(freshness, unmapped, by_reason, recent)
