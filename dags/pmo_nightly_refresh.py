"""
### Nightly PMO refresh

Pulls the night's changes from the tools teams work in into the warehouse's `raw` schema,
builds the dbt models (staging, intermediate, marts) with a task per model and its tests into a
build schema, and publishes the marts only when every model and test passed.

- **extract_<tool>_<instance>**: one task per instance listed in the sources config
  (`PMO_SOURCES_CONFIG`, default `config/sources.yml`): Jira sites, Asana workspaces and
  Smartsheet accounts, each landing its streams in `raw` incrementally.
- **prepare_marts_build**: the build schema `marts_build`: the marts the last publish retired,
  emptied but for their incremental marts (or, without them, a copy of the published ones), so a
  normal night rebuilds only what changed in those.
- **dbt_build**: the dbt project in `dbt_project/`, through Cosmos, against the Airflow
  connection `pmo_warehouse`; the marts go to `marts_build` and each model's tests run there,
  then `cross_model_tests` runs the relationship and singular tests once every model is built.
  With `PMO_DBT_TASKS=single_build` the group holds one task instead, `build`: the whole project
  as one `dbt build` (one dbt start-up a night instead of one per model; a retry re-runs it all).
- **publish_marts**: write, audit, publish: swaps `marts_build` into `marts` in one transaction
  and grants the BI role (`PMO_BI_READER_ROLE`, default `bi_reader`) read access. It runs only
  when the whole build passed: otherwise BI keeps reading last night's marts.
- **summarize_marts**: row counts per published mart table.
- **render_pmo_report**: the nightly PMO report, a self-contained HTML page drawn from the
  marts alone, archived per night under `PMO_REPORT_DIR` with the latest at `latest.html`.
- **night_outcome**: logs the run summary (records per source, published or not, the failing
  dbt tests, stale sources), keeps it in `audit.night_summaries`, and fails the run when a
  source did not land or the marts were not published, so alerts fire while everything that
  could be refreshed was.

One source failing (its API down, its credentials wrong) does not stop the others or the
build. Schedule and time zone: `PMO_NIGHTLY_SCHEDULE` (default `0 2 * * *`) and
`PMO_TIMEZONE` (default `UTC`). The run's outcome goes to `warehouse.notifications.notify_run`
(logged; `PMO_ALERT_WEBHOOK_URL` posts it too).

Params (trigger with config):
- `full_refresh`: re-read every stream from the start (rows are upserted, so nothing is
  duplicated) and build every incremental model from scratch (dbt's `--full-refresh`; the
  build schema starts without the published incremental marts).
- `backfill_from` (YYYY-MM-DD): also rebuild every day of the daily facts from that date through
  the run's date (the daily facts are running totals, so the days after it follow).
- `sources`: the source names to extract (e.g. `["asana_demo"]`); the others are skipped and
  their last good data is used. Empty means all.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import Asset, Param, TaskGroup, TriggerRule, dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior, TestIndirectSelection
from cosmos.operators.local import DbtBuildLocalOperator, DbtTestLocalOperator
from cosmos.profiles import PostgresUserPasswordProfileMapping

from connectors.config import load_sources
from warehouse.notifications import notify_run
from warehouse.publish import BUILD_SCHEMA
from warehouse.runtime import night_run_date, ready_dbt_task
from warehouse.settings import dbt_threads, nightly_dbt_log_file_flags, nightly_dbt_task_layout

DBT_PROJECT_DIR = Path(os.environ.get("PMO_DBT_PROJECT_DIR", Path(__file__).resolve().parents[1] / "dbt_project"))
DBT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
WAREHOUSE_CONN_ID = "pmo_warehouse"

MARTS = Asset("pmo-warehouse://marts")
SOURCES = load_sources()
SCHEDULE = os.environ.get("PMO_NIGHTLY_SCHEDULE", "0 2 * * *")
TIMEZONE = os.environ.get("PMO_TIMEZONE", "UTC")
BI_READER_ROLE = os.environ.get("PMO_BI_READER_ROLE", "bi_reader")
DBT_TASK_LAYOUT = nightly_dbt_task_layout()
# Unit tests check the models' SQL on fixed inputs, not the night's data: CI runs them.
NIGHTLY_EXCLUDE = ["resource_type:unit_test"]
# A run triggered without a logical date has no data interval: the day it was triggered for, then.
RUN_DATE = (
    "{{ (data_interval_end if data_interval_end is defined and data_interval_end else dag_run.run_after)"
    ".strftime('%Y-%m-%d') }}"
)


def cosmos_cache_dir(dag_id: str, group_id: str) -> Path | None:
    """Where Cosmos keeps what the tasks of a DbtTaskGroup share (dbt's partial parse); None with its cache off."""
    from cosmos import cache
    from cosmos import settings as cosmos_settings

    if not cosmos_settings.enable_cache:
        return None
    return cache._obtain_cache_dir_path(cache_identifier=f"{dag_id}__{group_id}")


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
    params={
        "full_refresh": Param(
            False, type="boolean", description="Re-read every stream from the start and rebuild the incremental marts"
        ),
        "backfill_from": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Also rebuild the daily facts from this date (YYYY-MM-DD) through the run's date",
        ),
        "sources": Param(
            [],
            type="array",
            items={"type": "string"},
            description=f"Sources to extract ({', '.join(source.name for source in SOURCES)}); empty means all",
        ),
    },
    doc_md=__doc__,
    on_success_callback=notify_run,
    on_failure_callback=notify_run,
)
def pmo_nightly_refresh():
    @task
    def extract(tool: str, instance: str, params: dict | None = None) -> list[dict]:
        from airflow.sdk.exceptions import AirflowSkipException

        from connectors.config import load_sources, run_source
        from warehouse.runtime import selected_sources, task_warehouse_url

        sources = load_sources()
        source = next(s for s in sources if (s.tool, s.instance) == (tool, instance))
        if source.name not in selected_sources(params, [s.name for s in sources]):
            raise AirflowSkipException(f"{source.name} is not among this run's sources; its last good data stands")
        full_refresh = bool((params or {}).get("full_refresh", False))
        return run_source(source, task_warehouse_url(WAREHOUSE_CONN_ID), full_refresh=full_refresh)

    extracts = [
        extract.override(
            task_id=f"extract_{source.name}", outlets=[Asset(f"pmo-warehouse://raw/{source.tool}/{source.instance}")]
        )(source.tool, source.instance)
        for source in SOURCES
    ]

    profile_config = ProfileConfig(
        profile_name="pmo_warehouse",
        target_name="airflow",
        # Threads matter to a build of many models (single_build); a task per model builds one.
        profile_mapping=PostgresUserPasswordProfileMapping(
            conn_id=WAREHOUSE_CONN_ID, profile_args={"schema": "public", "threads": dbt_threads()}
        ),
    )
    dbt_operator_args = {
        "install_deps": False,
        # dbt's connections kept from node to node; Cosmos collects garbage after each dbt command:
        # the objects loaded before it are left out.
        "pre_execute": ready_dbt_task,
        # Each task runs dbt in a temporary copy of the project, deleted when the task ends: writing the
        # manifest, run results and debug log there would cost CPU on every task for nothing. A build's
        # failures are recorded by dbt's on-run-end hook instead, and dbt's output reaches the task log.
        "dbt_cmd_global_flags": ["--no-write-json", *nightly_dbt_log_file_flags()],
        # A full refresh also rebuilds dbt's incremental staging and intermediate models from scratch.
        "full_refresh": "{{ params.full_refresh }}",
        "vars": {
            "marts_schema": BUILD_SCHEMA,
            "rebuild_from": "{{ params.backfill_from or '' }}",
            "bi_reader_role": BI_READER_ROLE,
        },
        # What changes every night reaches dbt through its environment: vars that change make dbt parse
        # the whole project again (the project's macros read these two only while dbt executes).
        "env": {
            # One status date for every model of the night: the day the run is for.
            "PMO_RUN_DATE": RUN_DATE,
            "PMO_BUILD_ID": "{{ run_id }}",
        },
    }
    # The dbt tasks made outside a DbtTaskGroup start from, and keep up to date, the same partial parse as its tasks.
    standalone_dbt_args = {
        "project_dir": DBT_PROJECT_DIR,
        "profile_config": profile_config,
        "dbt_executable_path": DBT_EXECUTABLE,
        "invocation_mode": InvocationMode.DBT_RUNNER,
        "cache_dir": cosmos_cache_dir("pmo_nightly_refresh", "dbt_build"),
    }
    if DBT_TASK_LAYOUT == "single_build":
        with TaskGroup(group_id="dbt_build") as dbt_build:
            DbtBuildLocalOperator(task_id="build", exclude=NIGHTLY_EXCLUDE, **standalone_dbt_args, **dbt_operator_args)
    else:
        dbt_build = DbtTaskGroup(
            group_id="dbt_build",
            project_config=ProjectConfig(
                dbt_project_path=DBT_PROJECT_DIR,
                manifest_path=DBT_MANIFEST if DBT_MANIFEST.exists() else None,
                install_dbt_deps=False,
            ),
            profile_config=profile_config,
            execution_config=ExecutionConfig(
                execution_mode=ExecutionMode.LOCAL,
                invocation_mode=InvocationMode.DBT_RUNNER,
                dbt_executable_path=DBT_EXECUTABLE,
                # A model's task runs only the tests of that model alone: tests across models wait for the last task.
                test_indirect_selection=TestIndirectSelection.CAUTIOUS,
            ),
            render_config=RenderConfig(
                load_method=LoadMode.DBT_MANIFEST if DBT_MANIFEST.exists() else LoadMode.DBT_LS,
                test_behavior=TestBehavior.BUILD,
                exclude=NIGHTLY_EXCLUDE,
                should_detach_multiple_parents_tests=False,
                emit_datasets=False,
            ),
            operator_args=dbt_operator_args,
        )
        models_built = list(dbt_build.get_leaves())
        # Relationship and singular tests span models: one task runs them all once every model is built.
        cross_model_tests = DbtTestLocalOperator(
            task_id="cross_model_tests",
            task_group=dbt_build,
            select=["test_name:relationships", "test_name:relationships_columns", "test_type:singular"],
            **standalone_dbt_args,
            **{name: value for name, value in dbt_operator_args.items() if name != "full_refresh"},
        )
        models_built >> cross_model_tests

    @task
    def prepare_marts_build(params: dict | None = None, **context) -> dict[str, int]:
        from warehouse.publish import mart_columns, prepare_build_schema
        from warehouse.runtime import task_warehouse_url, validate_backfill_from

        params = params or {}
        validate_backfill_from(params.get("backfill_from"), night_run_date(context))
        return prepare_build_schema(
            task_warehouse_url(WAREHOUSE_CONN_ID),
            carry_over=mart_columns(DBT_MANIFEST, materialized="incremental"),
            full_refresh=bool(params.get("full_refresh", False)),
        )

    @task(outlets=[MARTS])
    def publish_marts(**context) -> dict:
        from warehouse.publish import mart_models, publish_build
        from warehouse.runtime import task_warehouse_url

        publication = publish_build(
            task_warehouse_url(WAREHOUSE_CONN_ID),
            build_id=context["run_id"],
            run_date=night_run_date(context),
            expected_tables=mart_models(DBT_MANIFEST),
            reader_role=BI_READER_ROLE,
        )
        return {"tables": publication.tables, "total_rows": publication.total_rows}

    @task
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
        return str(render_report(task_warehouse_url(WAREHOUSE_CONN_ID), night_run_date(context), default_output_dir()))

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def night_outcome(params: dict | None = None, **context) -> dict:
        import logging

        from warehouse.runtime import night_summary, record_night_summary, task_warehouse_url

        url = task_warehouse_url(WAREHOUSE_CONN_ID)
        summary = night_summary(
            url,
            ti=context["ti"],
            run_id=context["run_id"],
            run_date=night_run_date(context),
            source_names=[source.name for source in SOURCES],
            params=params or {},
        )
        logging.getLogger(__name__).info("night summary:\n%s", summary.as_text())
        record_night_summary(url, summary)
        if summary.problems:
            raise RuntimeError("; ".join(summary.problems))
        return summary.as_dict()

    sources_landed = EmptyOperator(task_id="sources_landed", trigger_rule=TriggerRule.ALL_DONE)
    (
        extracts
        >> sources_landed
        >> prepare_marts_build()
        >> dbt_build
        >> publish_marts()
        >> summarize_marts()
        >> render_pmo_report()
        >> night_outcome()
    )


pmo_nightly_refresh()
