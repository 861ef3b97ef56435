"""The nightly DAG end to end under `dag.test()`: Jira simulator → raw → dbt → marts, checked against the world."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import psycopg
import pytest

from simulators.jira import JiraSimulator
from simulators.world import WorldConfig, build_world, summarize
from warehouse import settings

pytestmark = pytest.mark.e2e

ANCHOR = date(2026, 11, 1)


@pytest.fixture(scope="module")
def world():
    return build_world(WorldConfig(anchor_date=ANCHOR))


def run_nightly_dag(dagbag, monkeypatch, warehouse_url: str, jira: JiraSimulator, **conf):
    monkeypatch.setenv("AIRFLOW_CONN_PMO_WAREHOUSE", settings.airflow_connection_uri(warehouse_url))
    monkeypatch.setenv("JIRA_BASE_URL", jira.url)
    monkeypatch.setenv("JIRA_EMAIL", jira.email)
    monkeypatch.setenv("JIRA_API_TOKEN", "sim-token")
    monkeypatch.setenv("JIRA_REQUESTS_PER_MINUTE", "0")
    dag = dagbag.dags["pmo_nightly_refresh"]
    for task in dag.tasks:
        task.retries = 0  # fail fast: dag.test() would otherwise wait out the retry delay
    return dag.test(run_conf=conf or None)


def scalar(url: str, query: str):
    with psycopg.connect(url) as connection:
        return connection.execute(query).fetchone()[0]


def test_the_nightly_refresh_builds_marts_that_match_what_jira_served(dagbag, world, warehouse_url, monkeypatch):
    summary = summarize(world)
    with JiraSimulator(world) as jira:
        run = run_nightly_dag(dagbag, monkeypatch, warehouse_url, jira)
        assert run.state == "success"
        first_counts = {
            table: scalar(warehouse_url, f"select count(*) from marts.{table}")
            for table in ("dim_date", "dim_project", "dim_person", "fct_work_items", "fct_time_entries")
        }
        # A second run of the same night duplicates nothing.
        assert run_nightly_dag(dagbag, monkeypatch, warehouse_url, jira).state == "success"

    assert first_counts["fct_work_items"] == summary.jira_issues
    assert first_counts["fct_time_entries"] == summary.jira_worklogs
    assert first_counts["dim_project"] == summary.jira_projects
    assert first_counts["dim_date"] > 365
    assert first_counts["dim_person"] >= summary.jira_users - 5
    hours = scalar(warehouse_url, "select sum(hours) from marts.fct_time_entries")
    assert Decimal(hours) == summary.jira_worklog_hours
    unmapped = scalar(
        warehouse_url, "select array_agg(source_project_key order by source_project_key) from marts.dq_unmapped_projects"
    )
    assert set(summary.unregistered_jira_projects) <= set(unmapped)
    done = scalar(warehouse_url, "select count(*) from marts.fct_work_items where status_category = 'done'")
    assert done == summary.issues_by_status["Done"] + summary.issues_by_status["Won't Do"]
    for table, count in first_counts.items():
        assert scalar(warehouse_url, f"select count(*) from marts.{table}") == count, table
