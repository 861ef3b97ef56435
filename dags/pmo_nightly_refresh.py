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
- **render_pmo_report**: the nightly PMO report, a self-contained HTML page drawn from the
  marts alone, archived per night under `PMO_REPORT_DIR` with the latest at `latest.html`.
- **night_outcome**: fails the run when any source could not be extracted (after the marts
  were built from what did arrive and the last good data of the others) or the build failed,
  so alerts fire while everything that could be refreshed was.

One source failing (its API down, its credentials wrong) does not stop the others or the
build. Schedule and time zone: `PMO_NIGHTLY_SCHEDULE` (default `0 2 * * *`) and
`PMO_TIMEZONE` (default `UTC`). The run's outcome goes to `warehouse.notifications.notify_run`
(logged; `PMO_ALERT_WEBHOOK_URL` posts it too).

Params: `full_refresh` re-reads every stream from the start (rows are upserted, so nothing
is duplicated).
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import Asset, Param, TriggerRule, dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior
from cosmos.profiles import PostgresUserPasswordProfileMapping

from connectors.config import load_sources
from warehouse.notifications import notify_run

DBT_PROJECT_DIR = Path(os.environ.get("PMO_DBT_PROJECT_DIR", Path(__file__).resolve().parents[1] / "dbt_project"))
DBT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
WAREHOUSE_CONN_ID = "pmo_warehouse"

MARTS = Asset("pmo-warehouse://marts")
SOURCES = load_sources()
SCHEDULE = os.environ.get("PMO_NIGHTLY_SCHEDULE", "0 2 * * *")
TIMEZONE = os.environ.get("PMO_TIMEZONE", "UTC")


@dag(
    schedule=SCHEDULE,
    start_date=pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
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
    on_success_callback=notify_run,
    on_failure_callback=notify_run,
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

    @task
    def render_pmo_report(**context) -> str:
        from reports.nightly import default_output_dir, render_report
        from warehouse.runtime import task_warehouse_url

        # The same status date dbt was given for this run.
        run_date = (context["data_interval_end"] or context["dag_run"].run_after).date()
        return str(render_report(task_warehouse_url(WAREHOUSE_CONN_ID), run_date, default_output_dir()))

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def night_outcome(**context) -> None:
        ti = context["ti"]
        failed = [source.name for source in SOURCES if ti.xcom_pull(task_ids=f"extract_{source.name}") is None]
        problems = []
        if failed:
            problems.append(f"sources not extracted (shown as stale in dq_source_freshness): {', '.join(failed)}")
        if ti.xcom_pull(task_ids="summarize_marts") is None:
            problems.append("the dbt build did not finish: see the failed dbt_build tasks")
        if problems:
            raise RuntimeError("; ".join(problems))

    sources_landed = EmptyOperator(task_id="sources_landed", trigger_rule=TriggerRule.ALL_DONE)
    extracts >> sources_landed >> dbt_build >> summarize_marts() >> render_pmo_report() >> night_outcome()


pmo_nightly_refresh()
