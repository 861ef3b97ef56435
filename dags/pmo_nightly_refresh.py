"""
### Nightly PMO refresh

Pulls the night's changes from the tools teams work in into the warehouse's `raw` schema,
then builds the dbt models (staging, intermediate, marts) with a task per model and its
tests, and logs the row counts of the published marts.

- **extract_<tool>_<instance>**: one task per instance listed in the sources config
  (`PMO_SOURCES_CONFIG`, default `config/sources.yml`): Jira sites, Asana workspaces and
  Smartsheet accounts, each landing its streams in `raw` incrementally.
- **dbt_build**: the dbt project in `dbt_project/`, through Cosmos, against the Airflow
  connection `pmo_warehouse`.
- **summarize_marts**: row counts per mart table.

Params: `full_refresh` re-reads every stream from the start (rows are upserted, so nothing
is duplicated).
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import Asset, Param, dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior
from cosmos.profiles import PostgresUserPasswordProfileMapping

from connectors.config import load_sources

DBT_PROJECT_DIR = Path(os.environ.get("PMO_DBT_PROJECT_DIR", Path(__file__).resolve().parents[1] / "dbt_project"))
DBT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
WAREHOUSE_CONN_ID = "pmo_warehouse"

MARTS = Asset("pmo-warehouse://marts")
SOURCES = load_sources()


@dag(
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["pmo", "nightly", "dbt", *sorted({source.tool for source in SOURCES})],
    default_args={
        "owner": "pmo-data",
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(hours=2),
    },
    params={"full_refresh": Param(False, type="boolean", description="Re-read every stream from the start")},
    doc_md=__doc__,
)
def pmo_nightly_refresh():
    @task
    def extract(tool: str, instance: str, params: dict | None = None) -> list[dict]:
        from connectors.config import load_sources, run_source
        from warehouse.runtime import task_warehouse_url

        source = next(s for s in load_sources() if (s.tool, s.instance) == (tool, instance))
        full_refresh = bool((params or {}).get("full_refresh", False))
        return run_source(source, task_warehouse_url(WAREHOUSE_CONN_ID), full_refresh=full_refresh)

    extracts = [
        extract.override(
            task_id=f"extract_{source.name}", outlets=[Asset(f"pmo-warehouse://raw/{source.tool}/{source.instance}")]
        )(source.tool, source.instance)
        for source in SOURCES
    ]

    dbt_build = DbtTaskGroup(
        group_id="dbt_build",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=DBT_MANIFEST if DBT_MANIFEST.exists() else None,
            install_dbt_deps=False,
        ),
        profile_config=ProfileConfig(
            profile_name="pmo_warehouse",
            target_name="airflow",
            profile_mapping=PostgresUserPasswordProfileMapping(
                conn_id=WAREHOUSE_CONN_ID, profile_args={"schema": "public"}
            ),
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
            dbt_executable_path=DBT_EXECUTABLE,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST if DBT_MANIFEST.exists() else LoadMode.DBT_LS,
            test_behavior=TestBehavior.BUILD,
            # Relationship tests span two models: run them once both are built.
            should_detach_multiple_parents_tests=True,
            emit_datasets=False,
        ),
        operator_args={
            "install_deps": False,
            # One status date for every model of the night: the day the run is for.
            "vars": {"run_date": "{{ (data_interval_end or dag_run.run_after).strftime('%Y-%m-%d') }}"},
        },
    )

    @task(outlets=[MARTS])
    def summarize_marts() -> dict[str, int]:
        import logging

        from warehouse.runtime import format_counts, mart_row_counts, task_warehouse_url

        counts = mart_row_counts(task_warehouse_url(WAREHOUSE_CONN_ID))
        logging.getLogger(__name__).info("published marts:\n%s", format_counts(counts))
        return counts

    extracts >> dbt_build >> summarize_marts()


pmo_nightly_refresh()
