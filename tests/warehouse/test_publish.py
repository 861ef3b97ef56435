"""Write, audit, publish on a real PostgreSQL: the swap, the carry-over of incremental marts, and the refusals."""

from __future__ import annotations

import json
from datetime import date, datetime

import psycopg
import pytest

from connectors.raw_store import CATALOG_LOCK
from tests.conftest import wait_event_while_held
from warehouse.night_summary import NightSummary
from warehouse.publish import (
    AUDIT_TABLES_DDL,
    BuildFailure,
    PublishError,
    build_failures,
    last_publication,
    mart_columns,
    mart_models,
    prepare_build_schema,
    publish_build,
)
from warehouse.runtime import (
    latest_night_summary,
    night_run_date,
    record_night_summary,
    selected_sources,
    validate_backfill_from,
)

READER = "publish_test_reader"


def execute(url: str, statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statements)


def rows(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as connection:
        return connection.execute(query).fetchall()


@pytest.fixture
def warehouse(warehouse_url: str) -> str:
    """Last night's published marts: a daily fact (incremental) and a dimension."""
    execute(
        warehouse_url,
        f"""
        do $$ begin
            if not exists (select from pg_roles where rolname = '{READER}') then
                create role {READER} login password 'reader';
            end if;
        end $$;
        create schema marts;
        create table marts.fct_daily (day date primary key, value integer not null check (value >= 0));
        insert into marts.fct_daily values ('2026-11-01', 1), ('2026-11-02', 2);
        create table marts.dim_thing (thing text primary key);
        insert into marts.dim_thing values ('old');
        """,
    )
    return warehouse_url


def record_failure(url: str, build_id: str) -> None:
    execute(
        url,
        f"""
        create schema if not exists audit;
        create table if not exists audit.build_failures (
            build_id text not null, unique_id text not null, resource_type text not null, status text not null,
            failures bigint, message text, recorded_at timestamptz not null default now()
        );
        insert into audit.build_failures (build_id, unique_id, resource_type, status, failures, message)
        values ('{build_id}', 'test.pmo.accepted_values_dim_thing_thing', 'test', 'fail', 3, 'Got 3 results')
        """,
    )


def test_prepare_carries_the_incremental_marts_over_with_their_constraints(warehouse):
    carried = prepare_build_schema(warehouse, carry_over=dict.fromkeys(["fct_daily", "fct_not_built_yet"], ()))
    assert carried == {"fct_daily": 2}
    assert rows(warehouse, "select day::text, value from marts_build.fct_daily order by day") == [
        ("2026-11-01", 1),
        ("2026-11-02", 2),
    ]
    # The copy keeps the table's constraints, as the contract enforced them.
    with pytest.raises(psycopg.errors.CheckViolation):
        execute(warehouse, "insert into marts_build.fct_daily values ('2026-11-03', -1)")
    assert rows(warehouse, "select count(*) from information_schema.tables where table_schema = 'marts_build'") == [
        (1,)
    ]


def test_prepare_for_a_full_refresh_starts_empty_and_drops_a_stale_build(warehouse):
    execute(warehouse, "create schema marts_build; create table marts_build.leftover (x int)")
    assert prepare_build_schema(warehouse, carry_over=dict.fromkeys(["fct_daily"], ()), full_refresh=True) == {}
    assert rows(warehouse, "select count(*) from information_schema.tables where table_schema = 'marts_build'") == [
        (0,)
    ]


def test_publish_swaps_the_build_into_marts_and_grants_the_reader(warehouse):
    execute(warehouse, f"grant select on all tables in schema marts to {READER}")  # as the last publish left them
    prepare_build_schema(warehouse, carry_over=dict.fromkeys(["fct_daily"], ()))
    execute(
        warehouse,
        "insert into marts_build.fct_daily values ('2026-11-03', 3);"
        " create table marts_build.dim_thing (thing text primary key);"
        " insert into marts_build.dim_thing values ('new')",
    )
    publication = publish_build(
        warehouse,
        build_id="night-2",
        run_date=date(2026, 11, 3),
        expected_tables=["fct_daily", "dim_thing"],
        reader_role=READER,
    )
    assert (publication.tables, publication.total_rows) == (2, 4)
    assert rows(warehouse, "select thing from marts.dim_thing") == [("new",)]
    assert rows(warehouse, "select nspname from pg_namespace where nspname like 'marts%' order by 1") == [
        ("marts",),
        ("marts_retired",),
    ]
    assert rows(warehouse, "select thing from marts_retired.dim_thing") == [("old",)]
    assert last_publication(warehouse).build_id == "night-2"
    reader_url = psycopg.conninfo.make_conninfo(warehouse, user=READER, password="reader")
    assert rows(reader_url, "select count(*) from marts.fct_daily") == [(3,)]
    # Readers read the published marts only, never the ones kept for the next build.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        rows(reader_url, "select count(*) from marts_retired.fct_daily")
    # Nor do the retired tables keep what they were granted in marts: the next night builds in them, and
    # dbt's grant hook would take it back there while other dbt tasks alter them.
    retired_grants = rows(
        warehouse,
        "select count(*) from pg_class as tables"
        " join pg_namespace as schemas on schemas.oid = tables.relnamespace"
        " cross join lateral aclexplode(tables.relacl) as privileges"
        f" where schemas.nspname = 'marts_retired' and privileges.grantee = '{READER}'::regrole",
    )
    assert retired_grants == [(0,)]
    marts_grants = rows(
        warehouse,
        "select count(*) from pg_class as tables"
        " join pg_namespace as schemas on schemas.oid = tables.relnamespace"
        " cross join lateral aclexplode(tables.relacl) as privileges"
        f" where schemas.nspname = 'marts' and privileges.grantee = '{READER}'::regrole",
    )
    assert marts_grants == [(2,)]


def publish_night(url: str, build_id: str, day: str, thing: str) -> None:
    """One night: prepare, add a day to the incremental mart, rebuild the dimension, publish."""
    prepare_build_schema(url, carry_over=dict.fromkeys(["fct_daily"], ()))
    execute(
        url,
        f"insert into marts_build.fct_daily values ('{day}', 9);"
        " create table marts_build.dim_thing (thing text primary key);"
        f" insert into marts_build.dim_thing values ('{thing}')",
    )
    publish_build(url, build_id=build_id, run_date=date.fromisoformat(day), expected_tables=["fct_daily", "dim_thing"])


def test_the_next_night_builds_in_the_retired_marts_instead_of_copying_the_published_ones(warehouse):
    publish_night(warehouse, "night-2", "2026-11-03", "second")
    publish_night(warehouse, "night-3", "2026-11-04", "third")
    # marts: nights 1-3; marts_retired: the marts night 3 replaced (nights 1-2)
    execute(
        warehouse, "create table marts_retired.model_since_removed (x int); create view marts_retired.v as select 1"
    )
    carried = prepare_build_schema(warehouse, carry_over=dict.fromkeys(["fct_daily", "fct_only_published"], ()))
    assert carried == {"fct_daily": 3}
    # the incremental mart as the retired marts hold it, two nights behind: its own watermark catches up
    assert rows(warehouse, "select max(day)::text from marts_build.fct_daily") == [("2026-11-03",)]
    # everything else in the retired marts is gone: dbt rebuilds it, and a removed model is not published again
    assert rows(warehouse, "select table_name from information_schema.tables where table_schema = 'marts_build'") == [
        ("fct_daily",)
    ]
    assert rows(warehouse, "select nspname from pg_namespace where nspname like 'marts%' order by 1") == [
        ("marts",),
        ("marts_build",),
    ]
    assert rows(warehouse, "select thing from marts.dim_thing") == [("third",)]


def test_an_incremental_mart_the_retired_marts_lack_is_copied_from_the_published_ones(warehouse):
    publish_night(warehouse, "night-2", "2026-11-03", "second")
    execute(warehouse, "create table marts.fct_new (x int); insert into marts.fct_new values (1), (2)")
    carried = prepare_build_schema(warehouse, carry_over=dict.fromkeys(["fct_daily", "fct_new"], ()))
    assert carried == {"fct_daily": 2, "fct_new": 2}
    assert rows(warehouse, "select max(day)::text from marts_build.fct_daily") == [("2026-11-02",)]


def test_an_incremental_mart_whose_columns_changed_is_built_from_scratch(warehouse):
    declared = {"fct_daily": ["day", "value", "built_at"]}
    assert prepare_build_schema(warehouse, carry_over=declared) == {}
    assert rows(warehouse, "select count(*) from information_schema.tables where table_schema = 'marts_build'") == [
        (0,)
    ]
    publish_night(warehouse, "night-2", "2026-11-03", "second")
    assert prepare_build_schema(warehouse, carry_over=declared) == {}
    assert rows(warehouse, "select count(*) from information_schema.tables where table_schema = 'marts_build'") == [
        (0,)
    ]
    assert prepare_build_schema(warehouse, carry_over={"fct_daily": ["day", "value"]}) == {"fct_daily": 3}


def test_after_a_failed_night_the_incremental_marts_are_copied_from_the_published_ones(warehouse):
    publish_night(warehouse, "night-2", "2026-11-03", "second")
    # the failed night used the retired marts up
    prepare_build_schema(warehouse, carry_over=dict.fromkeys(["fct_daily"], ()))
    assert prepare_build_schema(warehouse, carry_over=dict.fromkeys(["fct_daily"], ())) == {"fct_daily": 3}
    assert rows(warehouse, "select max(day)::text from marts_build.fct_daily") == [("2026-11-03",)]


def test_a_build_with_a_failed_test_is_not_published(warehouse):
    prepare_build_schema(warehouse, carry_over=dict.fromkeys(["fct_daily"], ()))
    execute(
        warehouse, "create table marts_build.dim_thing (thing text); insert into marts_build.dim_thing values ('x')"
    )
    record_failure(warehouse, "night-3")
    with pytest.raises(PublishError, match=r"(?s)1 failure.*accepted_values_dim_thing_thing: fail \(3 failing rows\)"):
        publish_build(
            warehouse, build_id="night-3", run_date=date(2026, 11, 3), expected_tables=["fct_daily", "dim_thing"]
        )
    assert rows(warehouse, "select thing from marts.dim_thing") == [("old",)]
    assert build_failures(warehouse, "night-3") == [
        BuildFailure("test.pmo.accepted_values_dim_thing_thing", "test", "fail", 3, "Got 3 results")
    ]
    assert build_failures(warehouse, "another-night") == []


def test_an_incomplete_build_is_not_published(warehouse):
    prepare_build_schema(warehouse, carry_over=dict.fromkeys(["fct_daily"], ()))
    with pytest.raises(PublishError, match="lacks dim_thing"):
        publish_build(
            warehouse, build_id="night-4", run_date=date(2026, 11, 4), expected_tables=["fct_daily", "dim_thing"]
        )
    assert rows(warehouse, "select thing from marts.dim_thing") == [("old",)]
    assert last_publication(warehouse) is None


def test_the_audit_tables_are_made_once_while_another_session_makes_them(warehouse_url):
    """On a new warehouse, another session (a dbt command's hook making `audit.build_failures`) holds the
    catalog lock and has made the audit schema and tables, not yet committed."""
    found: list[object] = []
    with psycopg.connect(warehouse_url) as other:
        other.execute(CATALOG_LOCK)
        other.execute(AUDIT_TABLES_DDL)
        waited_on = wait_event_while_held(warehouse_url, other, lambda: found.append(last_publication(warehouse_url)))

    assert waited_on == "advisory", "the audit tables were made without waiting for the catalog lock"
    assert found == [None]


def test_mart_models_reads_the_marts_of_the_manifest(tmp_path):
    def node(name, schema, materialized):
        return {"name": name, "resource_type": "model", "config": {"schema": schema, "materialized": materialized}}

    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "nodes": {
                    "model.p.fct_daily": {
                        **node("fct_daily", "marts", "incremental"),
                        "config": {"schema": "marts", "materialized": "incremental", "contract": {"enforced": True}},
                        "columns": {"day": {"name": "day"}, "value": {"name": "value"}},
                    },
                    "model.p.dim_thing": node("dim_thing", "marts", "table"),
                    "model.p.stg_thing": node("stg_thing", "staging", "view"),
                    "test.p.unique_x": {"name": "unique_x", "resource_type": "test", "config": {"schema": "marts"}},
                }
            }
        )
    )
    assert mart_models(manifest) == ["dim_thing", "fct_daily"]
    assert mart_columns(manifest, materialized="incremental") == {"fct_daily": ["day", "value"]}
    assert mart_columns(manifest)["dim_thing"] == [], "no contract: its columns are not checked"
    assert mart_models(manifest, materialized="incremental") == ["fct_daily"]
    with pytest.raises(PublishError, match="dbt parse"):
        mart_models(tmp_path / "missing.json")


def test_selected_sources_and_backfill_dates_are_checked():
    known = ["jira_demo", "asana_demo"]
    assert selected_sources({}, known) == known
    assert selected_sources({"sources": ["asana_demo"]}, known) == ["asana_demo"]
    with pytest.raises(ValueError, match=r"unknown source.*asana_prod"):
        selected_sources({"sources": ["asana_prod"]}, known)
    run_date = date(2026, 11, 29)
    assert validate_backfill_from(None, run_date) is None
    assert validate_backfill_from("2026-10-01", run_date) == date(2026, 10, 1)
    assert validate_backfill_from("2026-11-29", run_date) == run_date
    with pytest.raises(ValueError, match="after the run's date 2026-11-29"):
        validate_backfill_from("2026-11-30", run_date)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        validate_backfill_from("1 Oct", run_date)


def test_a_run_without_a_logical_date_is_for_the_day_it_was_triggered():
    class DagRun:
        run_after = datetime(2026, 11, 29, 21, 40)

    scheduled = {"data_interval_end": datetime(2026, 11, 28, 2), "dag_run": DagRun()}
    assert night_run_date(scheduled) == date(2026, 11, 28)
    assert night_run_date({"dag_run": DagRun()}) == date(2026, 11, 29)
    assert night_run_date({"data_interval_end": None, "dag_run": DagRun()}) == date(2026, 11, 29)


def test_the_night_summary_names_what_failed_and_what_bi_still_reads():
    summary = NightSummary(
        run_id="scheduled__2026-11-29",
        run_date="2026-11-29",
        sources={
            "jira_demo": [
                {"records": 10, "rejected": 1, "deleted": 2, "requests": 1200, "retries": 1, "wait_seconds": 2.25},
                {"records": 5, "rejected": 0, "deleted": 0, "requests": 34, "retries": 2, "wait_seconds": 60.0},
            ],
            "asana_demo": None,
        },
        skipped_sources=["smartsheet_demo"],
        build_failures=[BuildFailure("test.p.not_null_dim_project_stage", "test", "fail", 2, None)],
        stale_sources=["asana/demo"],
    )
    text = summary.as_text()
    assert summary.failed_sources == ["asana_demo"]
    assert len(summary.problems) == 2
    assert "asana_demo               FAILED" in text
    assert (
        "jira_demo                2 streams, 15 records, 1 rejected, 2 deleted;"
        " 1,234 requests, 3 retried, 62.2 s waited on rate limits"
    ) in text
    assert "smartsheet_demo          not selected" in text
    assert "marts: NOT published; nothing has been published yet" in text
    assert "test not_null_dim_project_stage: fail (2 failing rows)" in text
    assert summary.as_dict()["ok"] is False


def test_the_night_summary_is_kept_in_the_warehouse(warehouse_url):
    assert latest_night_summary(warehouse_url) is None
    summary = NightSummary(run_id="manual__1", run_date="2026-11-29", sources={"jira_demo": []})
    summary.publication = {"tables": 24, "total_rows": 1000}
    record_night_summary(warehouse_url, summary)
    summary.sources["jira_demo"] = None  # the same run id recorded again replaces its row
    record_night_summary(warehouse_url, summary)
    assert latest_night_summary(warehouse_url).startswith("night 2026-11-29 (manual__1): FAILED")
    assert rows(warehouse_url, "select ok, summary->'failed_sources' from audit.night_summaries") == [
        (False, ["jira_demo"])
    ]
