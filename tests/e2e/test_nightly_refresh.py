"""The nightly DAG end to end under `dag.test()`: the simulators → raw → dbt → marts, checked against the world."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from simulators.asana import AsanaSimulator
from simulators.jira import JiraSimulator
from simulators.smartsheet import SmartsheetSimulator
from simulators.smartsheet_world import build_smartsheet_data
from simulators.world import WorldConfig, build_world, summarize
from tests.conftest import create_database, drop_database
from warehouse import settings

pytestmark = pytest.mark.e2e

ANCHOR = date(2026, 11, 1)


@pytest.fixture(scope="module")
def warehouse_url(warehouse_server):
    """One warehouse for the module, as a deployment has: the DAG's dbt profile keeps its connection."""
    url = create_database(warehouse_server)
    yield url
    drop_database(url)


@pytest.fixture(scope="module")
def world():
    return build_world(WorldConfig(anchor_date=ANCHOR))


@pytest.fixture
def simulators(world, monkeypatch):
    """The three simulators on free ports, and the environment `config/sources.yml` reads to reach them."""
    with ExitStack() as stack:
        jira = stack.enter_context(JiraSimulator(world))
        asana = stack.enter_context(AsanaSimulator(world))
        smartsheet = stack.enter_context(SmartsheetSimulator(world))
        sheets = build_smartsheet_data(world)
        for name, value in {
            "JIRA_BASE_URL": jira.url,
            "JIRA_EMAIL": jira.email,
            "JIRA_API_TOKEN": "sim-token",
            "ASANA_BASE_URL": asana.api_url,
            "ASANA_TOKEN": "asana-sim-token",
            "SMARTSHEET_BASE_URL": smartsheet.base_url,
            "SMARTSHEET_TOKEN": "smartsheet-sim-token",
            "SMARTSHEET_REGISTER_SHEET_ID": str(sheets.register_sheet_id),
            "SMARTSHEET_RATE_CARD_SHEET_ID": str(sheets.rate_card_sheet_id),
        }.items():
            monkeypatch.setenv(name, value)
        yield {"jira": jira, "asana": asana, "smartsheet": smartsheet}


def run_nightly_dag(dagbag, monkeypatch, warehouse_url: str, **conf):
    monkeypatch.setenv("AIRFLOW_CONN_PMO_WAREHOUSE", settings.airflow_connection_uri(warehouse_url))
    dag = dagbag.dags["pmo_nightly_refresh"]
    for task in dag.tasks:
        task.retries = 0  # fail fast: dag.test() would otherwise wait out the retry delay
    return dag.test(run_conf=conf or None)


def scalar(url: str, query: str):
    with psycopg.connect(url) as connection:
        return connection.execute(query).fetchone()[0]


def test_the_nightly_refresh_builds_marts_that_match_what_the_tools_served(
    dagbag, world, simulators, warehouse_url, monkeypatch
):
    summary = summarize(world)
    run = run_nightly_dag(dagbag, monkeypatch, warehouse_url)
    assert run.state == "success"
    first_counts = {
        table: scalar(warehouse_url, f"select count(*) from marts.{table}")
        for table in ("dim_date", "dim_project", "dim_person", "fct_work_items", "fct_time_entries")
    }
    # A second run of the same night duplicates nothing.
    assert run_nightly_dag(dagbag, monkeypatch, warehouse_url).state == "success"

    jira_items = scalar(warehouse_url, "select count(*) from marts.fct_work_items where source_system = 'jira'")
    assert jira_items == summary.jira_issues
    jira_entries = scalar(warehouse_url, "select count(*) from marts.fct_time_entries where source_system = 'jira'")
    assert jira_entries == summary.jira_worklogs
    assert first_counts["dim_date"] > 365
    assert first_counts["dim_person"] >= summary.jira_users - 5
    hours = scalar(warehouse_url, "select sum(hours) from marts.fct_time_entries where source_system = 'jira'")
    assert Decimal(hours) == summary.jira_worklog_hours
    unmapped = scalar(
        warehouse_url,
        "select array_agg(source_project_key order by source_project_key) from marts.dq_unmapped_projects",
    )
    assert set(summary.unregistered_jira_projects) <= set(unmapped)
    done = scalar(
        warehouse_url,
        "select count(*) from marts.fct_work_items where source_system = 'jira' and status_category = 'done'",
    )
    assert done == summary.issues_by_status["Done"] + summary.issues_by_status["Won't Do"]
    for table, count in first_counts.items():
        assert scalar(warehouse_url, f"select count(*) from marts.{table}") == count, table


def test_a_source_down_does_not_stop_the_others_and_the_run_ends_failed(
    dagbag, world, simulators, warehouse_url, monkeypatch
):
    monkeypatch.setenv("ASANA_TOKEN", "revoked-token")  # Asana answers 401 to every request
    run = run_nightly_dag(dagbag, monkeypatch, warehouse_url)
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert str(run.state) == "failed"
    assert states["extract_asana_demo"] == "failed"
    assert states["extract_jira_demo"] == "success"
    assert states["extract_smartsheet_demo"] == "success"
    assert states["summarize_marts"] == "success"
    assert states["night_outcome"] == "failed"
    jira_items = scalar(warehouse_url, "select count(*) from marts.fct_work_items where source_system = 'jira'")
    assert jira_items == len(world.jira.issues)
