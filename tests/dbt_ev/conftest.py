"""Fixtures for the earned value marts: a small hand-built portfolio written straight into the mart
tables they read (dim_project, dim_program, dim_portfolio, dim_person, fct_work_items,
fct_time_entries), and dbt runs of the earned value models over it."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import create_database, drop_database
from tests.dbt.conftest import DbtInvocation
from warehouse import dbt_cli, settings
from warehouse.embedded import environment_with_dbt

DBT_PROJECT_DIR = settings.project_root() / "dbt_project"
RUN_DATE = date(2026, 3, 10)
# Everything the earned value marts are built from, and the marts themselves.
EARNED_VALUE_SELECTION = (
    "dim_date int_project_daily_events+ fct_capacity_weekly register_snapshot+ assert_earned_value_macros"
)


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass
class Project:
    code: str
    program: str
    portfolio: str
    approved_budget: Decimal | None = None
    baseline_start: date | None = None
    baseline_finish: date | None = None
    forecast_finish: date | None = None
    strategic_theme: str | None = None
    stage: str | None = None
    expected_benefit: Decimal | None = None
    alignment_score: Decimal | None = None
    is_mapped: bool = True

    @property
    def key(self) -> str:
        return md5(self.code)


@dataclass
class WorkItem:
    item_id: str
    project: str
    weight: Decimal
    created_at: datetime
    completed_at: datetime | None = None
    due_date: date | None = None
    assignee: str | None = None
    estimate_hours: Decimal | None = None
    is_deleted: bool = False

    @property
    def is_done(self) -> bool:
        return self.completed_at is not None


@dataclass
class TimeEntry:
    entry_id: str
    item_id: str
    project: str
    person: str
    entry_date: date
    hours: Decimal
    hourly_rate: Decimal | None

    @property
    def cost(self) -> Decimal | None:
        return None if self.hourly_rate is None else self.hours * self.hourly_rate


@dataclass
class Person:
    email: str
    weekly_capacity_hours: Decimal | None

    @property
    def key(self) -> str:
        return md5(self.email)


@dataclass
class Portfolio:
    """The hand-built portfolio: PF1 holds programs PG1 (A, B) and PG2 (C, D, F, H); E is unmapped."""

    projects: list[Project] = field(default_factory=list)
    items: list[WorkItem] = field(default_factory=list)
    entries: list[TimeEntry] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)

    def project(self, code: str) -> Project:
        return next(project for project in self.projects if project.code == code)

    def item(self, item_id: str) -> WorkItem:
        return next(item for item in self.items if item.item_id == item_id)


def build_portfolio() -> Portfolio:
    d = date.fromisoformat
    money = Decimal
    return Portfolio(
        projects=[
            # Behind schedule and over cost; its first activity comes before its baseline.
            Project(
                "A",
                "PG1",
                "PF1",
                approved_budget=money("10000"),
                baseline_start=d("2026-03-01"),
                baseline_finish=d("2026-03-21"),
                strategic_theme="growth",
                stage="active",
                expected_benefit=money("30000"),
                alignment_score=money("4"),
            ),
            # Past its baseline with all its work done, under cost.
            Project(
                "B",
                "PG1",
                "PF1",
                approved_budget=money("1000"),
                baseline_start=d("2026-02-01"),
                baseline_finish=d("2026-03-03"),
                forecast_finish=d("2026-03-03"),
                strategic_theme="growth",
                stage="active",
                expected_benefit=money("2000"),
                alignment_score=money("3"),
            ),
            # Working before its baseline starts: no planned value yet.
            Project(
                "C",
                "PG2",
                "PF1",
                approved_budget=money("5000"),
                baseline_start=d("2026-03-20"),
                baseline_finish=d("2026-04-30"),
                strategic_theme="efficiency",
                stage="approved",
                expected_benefit=money("6000"),
                alignment_score=money("5"),
            ),
            # In the register, but without budget or baseline.
            Project("D", "PG2", "PF1", strategic_theme="efficiency", stage="idea"),
            # A one-day baseline and no activity at all.
            Project(
                "F",
                "PG2",
                "PF1",
                approved_budget=money("2000"),
                baseline_start=d("2026-03-05"),
                baseline_finish=d("2026-03-05"),
                strategic_theme="efficiency",
                stage="approved",
                expected_benefit=money("1000"),
                alignment_score=money("2"),
            ),
            # A source project no register row maps.
            Project("jira:E", "UNASSIGNED", "UNASSIGNED", is_mapped=False),
            # Under way since February, with an open item and time in both months.
            Project(
                "H",
                "PG2",
                "PF1",
                approved_budget=money("3000"),
                baseline_start=d("2026-02-16"),
                baseline_finish=d("2026-03-31"),
                strategic_theme="efficiency",
                stage="active",
                expected_benefit=money("4000"),
                alignment_score=money("3"),
            ),
        ],
        items=[
            WorkItem(
                "a1",
                "A",
                money("8"),
                utc("2026-02-20T09:00:00+00:00"),
                utc("2026-03-05T16:00:00+00:00"),
                assignee="alice@example.com",
                estimate_hours=money("8"),
            ),
            WorkItem(
                "a2",
                "A",
                money("12"),
                utc("2026-02-22T09:00:00+00:00"),
                due_date=d("2026-03-08"),
                assignee="alice@example.com",
                estimate_hours=money("12"),
            ),
            WorkItem("a3", "A", money("0"), utc("2026-02-20T09:00:00+00:00"), due_date=d("2026-03-21")),
            WorkItem(
                "a4", "A", money("0"), utc("2026-02-20T09:00:00+00:00"), is_deleted=True, estimate_hours=money("5")
            ),
            WorkItem(
                "b1",
                "B",
                money("4"),
                utc("2026-01-25T09:00:00+00:00"),
                utc("2026-02-20T09:00:00+00:00"),
                assignee="bob@example.com",
                estimate_hours=money("4"),
            ),
            WorkItem(
                "b2",
                "B",
                money("6"),
                utc("2026-01-28T09:00:00+00:00"),
                utc("2026-03-02T09:00:00+00:00"),
                due_date=d("2026-02-27"),
                assignee="bob@example.com",
                estimate_hours=money("6"),
            ),
            WorkItem(
                "c1",
                "C",
                money("1"),
                utc("2026-03-02T09:00:00+00:00"),
                utc("2026-03-05T09:00:00+00:00"),
                assignee="bob@example.com",
            ),
            WorkItem(
                "c2",
                "C",
                money("3"),
                utc("2026-03-02T23:30:00-05:00"),
                assignee="bob@example.com",
                estimate_hours=money("3"),
            ),
            WorkItem("d1", "D", money("2"), utc("2026-03-01T09:00:00+00:00"), estimate_hours=money("2")),
            WorkItem("e1", "jira:E", money("1"), utc("2026-03-04T09:00:00+00:00"), utc("2026-03-06T09:00:00+00:00")),
            WorkItem("h1", "H", money("5"), utc("2026-02-16T09:00:00+00:00"), due_date=d("2026-03-06")),
            WorkItem("h2", "H", money("3"), utc("2026-02-17T09:00:00+00:00"), utc("2026-02-25T09:00:00+00:00")),
        ],
        entries=[
            TimeEntry("t1", "a1", "A", "alice@example.com", d("2026-02-21"), money("20"), money("100")),
            TimeEntry("t2", "a2", "A", "alice@example.com", d("2026-03-09"), money("30"), money("100")),
            TimeEntry("t3", "a2", "A", "alice@example.com", d("2026-03-11"), money("5"), money("100")),
            TimeEntry("t4", "b1", "B", "bob@example.com", d("2026-02-10"), money("5"), money("100")),
            TimeEntry("t5", "c1", "C", "bob@example.com", d("2026-03-06"), money("10"), money("100")),
            TimeEntry("t6", "d1", "D", "carol@example.com", d("2026-03-03"), money("4"), money("50")),
            TimeEntry("t7", "e1", "jira:E", "carol@example.com", d("2026-03-05"), money("2"), None),
            TimeEntry("t9", "h1", "H", "carol@example.com", d("2026-02-18"), money("6"), money("50")),
            TimeEntry("t10", "h1", "H", "carol@example.com", d("2026-03-02"), money("2"), money("50")),
        ],
        people=[
            Person("alice@example.com", Decimal("40")),
            Person("bob@example.com", Decimal("32")),
            Person("carol@example.com", None),
        ],
    )


MART_TABLES = {
    "dim_portfolio": "portfolio_key text primary key, portfolio_code text, portfolio_name text",
    "dim_program": "program_key text primary key, program_code text, program_name text, portfolio_key text",
    "dim_project": """
        project_key text primary key, project_code text, project_name text, program_key text, portfolio_key text,
        source_system text, source_instance text, source_project_key text, project_manager text, sponsor text,
        strategic_theme text, stage text, priority text, approved_budget numeric(18, 2), currency text,
        baseline_start date, baseline_finish date, forecast_finish date, expected_benefit numeric(18, 2),
        alignment_score numeric(3, 1), default_hourly_rate numeric(18, 2), is_mapped boolean
    """,
    "dim_person": """
        person_key text primary key, email text, display_name text, role text, hourly_rate numeric(18, 2),
        weekly_capacity_hours numeric(12, 2), is_tool_scoped boolean
    """,
    "fct_work_items": """
        work_item_key text primary key, project_key text, source_system text, source_id text, status_category text,
        assignee_person_key text, created_at timestamptz, completed_at timestamptz, due_date date,
        estimate_hours numeric(12, 2), weight numeric(12, 2), is_milestone boolean, is_deleted boolean
    """,
    "fct_time_entries": """
        time_entry_key text primary key, work_item_key text, project_key text, person_key text, entry_date date,
        hours numeric(12, 2), hourly_rate numeric(18, 2), cost numeric(18, 2), source_system text
    """,
}


def write_portfolio(connection: psycopg.Connection, portfolio: Portfolio) -> None:
    """(Re)write the upstream mart tables with the portfolio's current state."""
    cursor = connection.cursor()
    connection.execute("create schema if not exists marts")
    for table, columns in MART_TABLES.items():
        connection.execute(f"create table if not exists marts.{table} ({columns})")
        connection.execute(f"truncate marts.{table}")
    portfolios = {(project.portfolio, project.portfolio.title()) for project in portfolio.projects}
    cursor.executemany(
        "insert into marts.dim_portfolio values (%s, %s, %s)", [(md5(code), code, name) for code, name in portfolios]
    )
    programs = {(project.program, project.portfolio) for project in portfolio.projects}
    cursor.executemany(
        "insert into marts.dim_program values (%s, %s, %s, %s)",
        [(md5(code), code, code.title(), md5(portfolio_code)) for code, portfolio_code in programs],
    )
    cursor.executemany(
        """insert into marts.dim_project (
            project_key, project_code, project_name, program_key, portfolio_key, source_system, source_instance,
            source_project_key, strategic_theme, stage, approved_budget, currency, baseline_start, baseline_finish,
            forecast_finish, expected_benefit, alignment_score, is_mapped
        ) values (%s, %s, %s, %s, %s, 'jira', 'default', %s, %s, %s, %s, 'EUR', %s, %s, %s, %s, %s, %s)""",
        [
            (
                project.key,
                project.code,
                f"Project {project.code}",
                md5(project.program),
                md5(project.portfolio),
                project.code.removeprefix("jira:"),
                project.strategic_theme,
                project.stage,
                project.approved_budget,
                project.baseline_start,
                project.baseline_finish,
                project.forecast_finish,
                project.expected_benefit,
                project.alignment_score,
                project.is_mapped,
            )
            for project in portfolio.projects
        ],
    )
    cursor.executemany(
        "insert into marts.dim_person values (%s, %s, %s, null, null, %s, false)",
        [(person.key, person.email, person.email, person.weekly_capacity_hours) for person in portfolio.people],
    )
    cursor.executemany(
        "insert into marts.fct_work_items values (%s, %s, 'jira', %s, %s, %s, %s, %s, %s, %s, %s, false, %s)",
        [
            (
                md5(item.item_id),
                md5(item.project),
                item.item_id,
                "done" if item.is_done else "todo",
                md5(item.assignee) if item.assignee else None,
                item.created_at,
                item.completed_at,
                item.due_date,
                item.estimate_hours,
                Decimal(0) if item.is_deleted else item.weight,
                item.is_deleted,
            )
            for item in portfolio.items
        ],
    )
    cursor.executemany(
        "insert into marts.fct_time_entries values (%s, %s, %s, %s, %s, %s, %s, %s, 'jira')",
        [
            (
                md5(entry.entry_id),
                md5(entry.item_id),
                md5(entry.project),
                md5(entry.person),
                entry.entry_date,
                entry.hours,
                entry.hourly_rate,
                entry.cost,
            )
            for entry in portfolio.entries
        ],
    )


def run_dbt(command: list[str], url: str, work_dir: Path, **variables: Any) -> DbtInvocation:
    """Run a dbt command on the project against `url`, writing its artifacts under `work_dir`."""
    target_path = work_dir / "target"
    completed = subprocess.run(
        [
            *dbt_cli.command(),
            *command,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target_path),
            "--log-path",
            str(work_dir / "logs"),
            "--vars",
            # Milestones come from fct_milestones, not seeded here: the roll-ups' milestone counts are unit tested.
            json.dumps({"run_date": RUN_DATE.isoformat(), "milestones_model_available": False, **variables}),
        ],
        env=environment_with_dbt(url),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    results_file = target_path / "run_results.json"
    run_results = json.loads(results_file.read_text()) if results_file.exists() else {}
    return DbtInvocation(completed.returncode, completed.stdout + completed.stderr, run_results)


@pytest.fixture(scope="module")
def portfolio() -> Portfolio:
    return build_portfolio()


@pytest.fixture(scope="module")
def portfolio_database(warehouse_server: str, portfolio: Portfolio) -> Iterator[str]:
    """A database of its own holding the portfolio in its upstream mart tables."""
    url = create_database(warehouse_server)
    with psycopg.connect(url) as connection:
        write_portfolio(connection, portfolio)
    yield url
    drop_database(url)
