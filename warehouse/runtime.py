"""What the DAG's tasks need at run time: the warehouse URL, the sources selected, the run's summary,
and the hook that readies a dbt task's process."""

from __future__ import annotations

import gc
import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from warehouse import settings
from warehouse.night_summary import NightSummary
from warehouse.publish import build_failures, ensure_audit_tables, last_publication

log = logging.getLogger(__name__)

WAREHOUSE_CONN_ID = "pmo_warehouse"


def task_warehouse_url(conn_id: str = WAREHOUSE_CONN_ID) -> str:
    """The Airflow connection `pmo_warehouse` when it is defined, else `WAREHOUSE_URL` / the embedded default."""
    try:
        from airflow.sdk import BaseHook

        return BaseHook.get_connection(conn_id).get_uri()
    except Exception as error:  # the connection is optional: any lookup failure falls back to the environment
        log.info(
            "Airflow connection %r not available (%s); using WAREHOUSE_URL or the embedded warehouse", conn_id, error
        )
        return settings.warehouse_url()


def freeze_loaded_objects(context: Any = None) -> None:
    """A dbt task's `pre_execute`: dbt imported, then every object the process holds so far frozen
    out of the garbage collector's reach (`gc.freeze`).

    Cosmos runs a full `gc.collect()` after each dbt command, which walks every object of the
    process: Airflow's, the parsed DAG's and dbt's modules, about 0.6 s a task; Python collects once
    more when the task's process exits. Frozen, those long-lived objects are skipped, and each
    collection walks only what was made after the freeze.
    """
    import dbt.cli.main  # noqa: F401  (the task imports it next; its modules live as long as the process)

    gc.freeze()


def ready_dbt_task(context: Any = None) -> None:
    """A dbt task's `pre_execute`: dbt's connections kept from one node to the next
    (`warehouse.dbt_connections`: a task builds its model, then runs the model's tests), two of
    its costs for every statement taken off (`warehouse.dbt_overheads`) and its templates compiled
    once for every task (`warehouse.dbt_templates`), then what the process loaded frozen
    (`freeze_loaded_objects`); the first three as `python -m warehouse.dbt_cli` has them
    (`ready_dbt_runtime`)."""
    from warehouse.dbt_cli import ready_dbt_runtime

    ready_dbt_runtime()
    freeze_loaded_objects(context)


def mart_row_counts(url: str, schemas: tuple[str, ...] = ("marts",)) -> dict[str, int]:
    """Exact row counts of every table in the given schemas, as `schema.table`."""
    counts: dict[str, int] = {}
    with psycopg.connect(url) as connection:
        tables = connection.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema = any(%s) and table_type in ('BASE TABLE', 'VIEW')"
            " order by table_schema, table_name",
            (list(schemas),),
        ).fetchall()
        for schema, table in tables:
            query = psycopg.sql.SQL("select count(*) from {}").format(psycopg.sql.Identifier(schema, table))
            counts[f"{schema}.{table}"] = connection.execute(query).fetchone()[0]
    return counts


def format_counts(counts: dict[str, Any]) -> str:
    width = max((len(name) for name in counts), default=10)
    return "\n".join(f"  {name:<{width}}  {count:>9,}" for name, count in counts.items())


def selected_sources(params: dict | None, known: list[str]) -> list[str]:
    """The sources a run extracts: its `sources` param, or every known source when that is empty."""
    requested = list((params or {}).get("sources") or [])
    unknown = sorted(set(requested) - set(known))
    if unknown:
        raise ValueError(f"unknown source(s) {', '.join(unknown)} in the sources param; configured: {', '.join(known)}")
    return requested or list(known)


def night_run_date(context: Mapping[str, Any]) -> date:
    """The day a run is for: the end of its data interval, or, for a run triggered without a logical
    date (as `airflow dags trigger` and the UI trigger one unless told otherwise), the time it was
    triggered to run after. Such a run's context has no `data_interval_end` at all."""
    interval_end = context.get("data_interval_end")
    return (interval_end or context["dag_run"].run_after).date()


def validate_backfill_from(backfill_from: str | None, run_date: date) -> date | None:
    """The backfill's first day, refused when it is not a date or lies after the run's date."""
    if not backfill_from:
        return None
    try:
        first_day = date.fromisoformat(str(backfill_from))
    except ValueError:
        raise ValueError(f"backfill_from must be a date as YYYY-MM-DD, got {backfill_from!r}") from None
    if first_day > run_date:
        raise ValueError(f"backfill_from {first_day} lies after the run's date {run_date}")
    return first_day


def stale_sources(url: str) -> list[str]:
    """`tool/instance` of every source with a stale stream in the published dq_source_freshness."""
    with psycopg.connect(url) as connection:
        if connection.execute("select to_regclass('marts.dq_source_freshness')").fetchone()[0] is None:
            return []
        rows = connection.execute(
            "select distinct source_system || '/' || source_instance from marts.dq_source_freshness"
            " where is_stale order by 1"
        ).fetchall()
    return [name for (name,) in rows]


def failed_build_tasks(dag_id: str, run_id: str) -> list[str]:
    """Task ids of the dbt_build group that failed (or never ran because an upstream model failed)."""
    try:
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

        states = RuntimeTaskInstance.get_task_states(dag_id=dag_id, task_group_id="dbt_build", run_ids=[run_id])
    except Exception as error:  # the summary is still worth logging without this detail
        log.warning("could not read the dbt_build task states: %s", error)
        return []
    return sorted(task_id for task_id, state in states.get(run_id, {}).items() if state == "failed")


def night_summary(
    url: str, *, ti: Any, run_id: str, run_date: date, source_names: list[str], params: dict
) -> NightSummary:
    """The run's summary, from its tasks' XComs and what the warehouse recorded."""
    selected = selected_sources(params, source_names)
    summary = NightSummary(
        run_id=run_id,
        run_date=run_date.isoformat(),
        sources={name: ti.xcom_pull(task_ids=f"extract_{name}") for name in selected},
        skipped_sources=[name for name in source_names if name not in selected],
        publication=ti.xcom_pull(task_ids="publish_marts"),
    )
    summary.build_failures = build_failures(url, run_id)
    summary.last_publication = last_publication(url)
    summary.failed_build_tasks = failed_build_tasks(ti.dag_id, run_id)
    summary.stale_sources = stale_sources(url)
    return summary


def record_night_summary(url: str, summary: NightSummary) -> None:
    """Keep the run's summary in audit.night_summaries, next to the publications it explains."""
    with psycopg.connect(url) as connection:
        ensure_audit_tables(connection)
        connection.execute(
            "insert into audit.night_summaries (run_id, run_date, ok, summary, summary_text)"
            " values (%s, %s, %s, %s, %s) on conflict (run_id) do update set ok = excluded.ok,"
            " summary = excluded.summary, summary_text = excluded.summary_text, recorded_at = now()",
            (summary.run_id, summary.run_date, not summary.problems, Jsonb(summary.as_dict()), summary.as_text()),
        )


def latest_night_summary(url: str) -> str | None:
    with psycopg.connect(url) as connection:
        if connection.execute("select to_regclass('audit.night_summaries')").fetchone()[0] is None:
            return None
        row = connection.execute(
            "select summary_text from audit.night_summaries order by recorded_at desc limit 1"
        ).fetchone()
    return row[0] if row else None
