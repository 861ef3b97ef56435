"""What the DAG's tasks need at run time: the warehouse URL, and a summary of the published marts."""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from warehouse import settings

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
