"""Write, audit, publish: BI readers only ever see marts whose every model and test passed.

The nightly build writes the marts into a build schema (`marts_build`), dbt runs each model's
tests there, and only then `publish_build` swaps the build schema into `marts` in one
transaction: readers see last night's marts up to the commit and tonight's after it, never a
half-built or failing table. A build that failed is never published, so the previous marts stay
readable; what failed is in `audit.build_failures` (written by dbt's on-run-end hook) and every
publish is recorded in `audit.publications`.

Incremental marts (`fct_project_daily`, `fct_time_entries`, `fct_status_changes`, `fct_work_items`) start the night
from what an earlier build left, so a normal night rebuilds only what changed; a full refresh starts them empty. The
swap keeps the marts it retires (`marts_retired`, the publication before the current one), and the
next night builds in that schema: its incremental tables catch up two nights of changes in place
instead of being copied from `marts`, and everything else in it is dropped first. When there is no
retired schema (the first night, or after a night that failed), the incremental marts are copied
from `marts`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from connectors.raw_store import CATALOG_LOCK

log = logging.getLogger(__name__)

PUBLISHED_SCHEMA = "marts"
BUILD_SCHEMA = "marts_build"
RETIRED_SCHEMA = "marts_retired"
AUDIT_SCHEMA = "audit"
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

AUDIT_TABLES_DDL = """
create schema if not exists audit;
create table if not exists audit.publications (
    build_id text primary key,
    run_date date not null,
    published_at timestamptz not null default now(),
    tables integer not null,
    total_rows bigint not null
);
create table if not exists audit.night_summaries (
    run_id text primary key,
    run_date date not null,
    ok boolean not null,
    summary jsonb not null,
    summary_text text not null,
    recorded_at timestamptz not null default now()
);
"""


class PublishError(RuntimeError):
    """The build schema cannot be published: the marts stay as they were."""


@dataclass(frozen=True)
class BuildFailure:
    unique_id: str
    resource_type: str
    status: str
    failures: int | None
    message: str | None

    def describe(self) -> str:
        what = f"{self.resource_type} {self.unique_id.split('.', 2)[-1]}: {self.status}"
        if self.failures:
            what += f" ({self.failures:,} failing row{'' if self.failures == 1 else 's'})"
        return f"{what}: {self.message}" if self.message else what


@dataclass(frozen=True)
class Publication:
    build_id: str
    run_date: date
    published_at: datetime
    tables: int
    total_rows: int


def mart_models(manifest_path: Path, *, materialized: str | None = None) -> list[str]:
    """Names of the dbt models the manifest puts in the marts (all, or those of one materialization)."""
    return sorted(mart_columns(manifest_path, materialized=materialized))


def mart_columns(manifest_path: Path, *, materialized: str | None = None) -> dict[str, list[str]]:
    """The columns each mart model of the manifest declares in its enforced contract, in order, by
    model name (none for a model without one)."""
    try:
        manifest = json.loads(Path(manifest_path).read_text())
    except FileNotFoundError:
        raise PublishError(f"dbt manifest not found at {manifest_path}: run `dbt parse` in the dbt project") from None
    models: dict[str, list[str]] = {}
    for node in manifest["nodes"].values():
        config = node.get("config", {})
        if node["resource_type"] != "model" or config.get("schema") != PUBLISHED_SCHEMA:
            continue
        if config.get("enabled", True) and (materialized is None or config.get("materialized") == materialized):
            # without an enforced contract, the documented columns need not be all of them
            enforced = (config.get("contract") or {}).get("enforced", False)
            models[node["name"]] = [column["name"] for column in node.get("columns", {}).values()] if enforced else []
    return models


def ensure_audit_tables(connection: psycopg.Connection) -> None:
    """Create the audit tables where missing, under the catalog lock that dbt's `audit.build_failures`
    and the connectors' tables take too; commits, so that the lock is not held by the caller's work."""
    present = connection.execute(
        "select to_regclass('audit.publications') is not null and to_regclass('audit.night_summaries') is not null"
    ).fetchone()[0]
    if not present:
        connection.execute(CATALOG_LOCK)
        connection.execute(AUDIT_TABLES_DDL)
    connection.commit()


def prepare_build_schema(
    url: str, *, carry_over: Mapping[str, Sequence[str]], full_refresh: bool = False
) -> dict[str, int]:
    """The build schema, holding each incremental mart of `carry_over` as an earlier build left it,
    unless `full_refresh` (then it starts empty).

    The retired marts become the build schema when the published ones exist, with every relation
    but the incremental marts dropped; an incremental mart they lack is copied from `marts`. When
    the columns `carry_over` gives a mart (those its model declares; none: not checked) differ
    from the table's (a release changed them), the mart is left out, so that dbt builds it from
    scratch.
    Returns the rows each incremental mart starts the build with.
    """
    carried: dict[str, int] = {}
    build = sql.Identifier(BUILD_SCHEMA)
    with psycopg.connect(url) as connection:
        ensure_audit_tables(connection)
        connection.execute(sql.SQL("drop schema if exists {} cascade").format(build))
        if full_refresh:
            connection.execute(sql.SQL("create schema {}").format(build))
            log.info("full refresh: the build schema %s starts empty", BUILD_SCHEMA)
            return carried
        published = _tables(connection, PUBLISHED_SCHEMA)
        reused: set[str] = set()
        if published and _schema_exists(connection, RETIRED_SCHEMA):
            connection.execute(sql.SQL("alter schema {} rename to {}").format(sql.Identifier(RETIRED_SCHEMA), build))
            for name, kind in _relations(connection, BUILD_SCHEMA):
                if name in carry_over and kind == "table":
                    reused.add(name)
                    continue
                drop = sql.SQL(
                    "drop view if exists {} cascade" if kind == "view" else "drop table if exists {} cascade"
                )
                connection.execute(drop.format(sql.Identifier(BUILD_SCHEMA, name)))
        else:
            connection.execute(sql.SQL("create schema {}").format(build))
        for table, declared in carry_over.items():
            target = sql.Identifier(BUILD_SCHEMA, table)
            schema = BUILD_SCHEMA if table in reused else PUBLISHED_SCHEMA
            if schema == PUBLISHED_SCHEMA and table not in published:
                log.info("%s.%s does not exist yet: it is built from scratch", PUBLISHED_SCHEMA, table)
                continue
            if declared and _columns(connection, schema, table) != list(declared):
                log.info("%s.%s has other columns than its model: it is built from scratch", schema, table)
                if table in reused:
                    connection.execute(sql.SQL("drop table {} cascade").format(target))
                continue
            if table in reused:
                carried[table] = connection.execute(sql.SQL("select count(*) from {}").format(target)).fetchone()[0]
                log.info(
                    "%s.%s starts from the marts retired at the last publish (%s rows)",
                    BUILD_SCHEMA,
                    table,
                    f"{carried[table]:,}",
                )
                continue
            source = sql.Identifier(PUBLISHED_SCHEMA, table)
            connection.execute(sql.SQL("create table {} (like {} including all)").format(target, source))
            cursor = connection.execute(sql.SQL("insert into {} select * from {}").format(target, source))
            carried[table] = cursor.rowcount
            log.info("carried %s rows of %s.%s into %s", f"{cursor.rowcount:,}", PUBLISHED_SCHEMA, table, BUILD_SCHEMA)
    return carried


def build_failures(url: str, build_id: str) -> list[BuildFailure]:
    """What dbt recorded as failed or errored for this build, in the order it happened."""
    with psycopg.connect(url) as connection:
        # dbt's on-run-end hook (record_build_failures) creates the table with the first failure it records.
        if connection.execute("select to_regclass('audit.build_failures')").fetchone()[0] is None:
            return []
        rows = connection.execute(
            "select unique_id, resource_type, status, failures, message from audit.build_failures"
            " where build_id = %s order by recorded_at, unique_id",
            (build_id,),
        ).fetchall()
    return [BuildFailure(*row) for row in rows]


def publish_build(
    url: str, *, build_id: str, run_date: date, expected_tables: list[str], reader_role: str = "bi_reader"
) -> Publication:
    """Swap the audited build schema into `marts` in one transaction and grant `reader_role` read access.

    Refuses (and changes nothing) when dbt recorded a failure for this build, or when a mart the
    project defines is missing from the build schema.
    """
    if not ROLE_NAME.match(reader_role):
        raise PublishError(f"reader role must be a lowercase role name, got {reader_role!r}")
    failures = build_failures(url, build_id)
    if failures:
        listed = "\n  ".join(failure.describe() for failure in failures)
        raise PublishError(f"build {build_id} recorded {len(failures)} failure(s); marts not published:\n  {listed}")
    with psycopg.connect(url) as connection:
        ensure_audit_tables(connection)
        built = _tables(connection, BUILD_SCHEMA)
        missing = sorted(set(expected_tables) - built)
        if missing:
            raise PublishError(
                f"the build schema {BUILD_SCHEMA} lacks {', '.join(missing)}; marts not published"
                " (did every model build?)"
            )
        total_rows = 0
        for table in sorted(built):
            query = sql.SQL("select count(*) from {}").format(sql.Identifier(BUILD_SCHEMA, table))
            total_rows += connection.execute(query).fetchone()[0]
        # Readers' open queries finish on the old marts; the swap waits for them, and new queries wait for the swap.
        connection.execute("set local lock_timeout = '10min'")
        published_exists = _schema_exists(connection, PUBLISHED_SCHEMA)
        # The marts retired here are kept: the next night builds in them (see `prepare_build_schema`).
        connection.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(RETIRED_SCHEMA)))
        if published_exists:
            connection.execute(
                sql.SQL("alter schema {} rename to {}").format(
                    sql.Identifier(PUBLISHED_SCHEMA), sql.Identifier(RETIRED_SCHEMA)
                )
            )
        connection.execute(
            sql.SQL("alter schema {} rename to {}").format(
                sql.Identifier(BUILD_SCHEMA), sql.Identifier(PUBLISHED_SCHEMA)
            )
        )
        _grant_read(connection, reader_role)
        published_at = connection.execute(
            "insert into audit.publications (build_id, run_date, tables, total_rows) values (%s, %s, %s, %s)"
            " on conflict (build_id) do update set run_date = excluded.run_date, published_at = now(),"
            " tables = excluded.tables, total_rows = excluded.total_rows returning published_at",
            (build_id, run_date, len(built), total_rows),
        ).fetchone()[0]
    log.info("published %d mart tables (%s rows) for %s, build %s", len(built), f"{total_rows:,}", run_date, build_id)
    return Publication(build_id, run_date, published_at, len(built), total_rows)


def last_publication(url: str) -> Publication | None:
    with psycopg.connect(url) as connection:
        ensure_audit_tables(connection)
        row = connection.execute(
            "select build_id, run_date, published_at, tables, total_rows from audit.publications"
            " order by published_at desc limit 1"
        ).fetchone()
    return Publication(*row) if row else None


def _schema_exists(connection: psycopg.Connection, schema: str) -> bool:
    return connection.execute("select exists (select from pg_namespace where nspname = %s)", (schema,)).fetchone()[0]


def _columns(connection: psycopg.Connection, schema: str, table: str) -> list[str]:
    rows = connection.execute(
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
        " order by ordinal_position",
        (schema, table),
    ).fetchall()
    return [name for (name,) in rows]


def _relations(connection: psycopg.Connection, schema: str) -> list[tuple[str, str]]:
    """The tables and views of a schema, as (name, 'table' or 'view')."""
    rows = connection.execute(
        "select c.relname, case when c.relkind in ('v', 'm') then 'view' else 'table' end"
        " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm')",
        (schema,),
    ).fetchall()
    return [(name, kind) for name, kind in rows]


def _tables(connection: psycopg.Connection, schema: str) -> set[str]:
    rows = connection.execute(
        "select table_name from information_schema.tables where table_schema = %s", (schema,)
    ).fetchall()
    return {name for (name,) in rows}


def _grant_read(connection: psycopg.Connection, role: str) -> None:
    exists = connection.execute("select exists (select from pg_roles where rolname = %s)", (role,)).fetchone()[0]
    if not exists:
        log.warning("role %s does not exist: nobody was granted read access to %s", role, PUBLISHED_SCHEMA)
        return
    schema, grantee = sql.Identifier(PUBLISHED_SCHEMA), sql.Identifier(role)
    connection.execute(sql.SQL("grant usage on schema {} to {}").format(schema, grantee))
    connection.execute(sql.SQL("grant select on all tables in schema {} to {}").format(schema, grantee))
    if _schema_exists(connection, RETIRED_SCHEMA):
        # Its tables too: the next night builds in them, and dbt's grant hook, in tasks running side by
        # side, would otherwise revoke them there while other tasks alter them.
        retired = sql.Identifier(RETIRED_SCHEMA)
        connection.execute(sql.SQL("revoke usage on schema {} from {}").format(retired, grantee))
        connection.execute(sql.SQL("revoke all on all tables in schema {} from {}").format(retired, grantee))
