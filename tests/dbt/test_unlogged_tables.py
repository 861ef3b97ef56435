"""Staging and intermediate tables are unlogged: a server crash empties them, leaves the marts (and
`int_milestone_baselines`, which remembers what raw no longer says) as they were, and the next
build rebuilds them from raw into the same marts. A warehouse built before they were unlogged has
its tables altered by the next run that builds them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.conftest import create_database
from tests.dbt.conftest import load_jira_fixture, run_dbt, sorted_rows
from warehouse.embedded import EmbeddedWarehouse, throwaway_warehouse

# Logged: the baselines remember what raw no longer says; the lookups the post-hooks of
# int_time_entries and int_work_items_unioned keep are plain tables (dropping them is safe: the next
# run compares every stored row).
LOGGED_INTERMEDIATE_TABLES = {
    "intermediate.int_milestone_baselines",
    "intermediate.int_time_entries__account_lookups",
    "intermediate.int_time_entries__project_rates",
    "intermediate.int_work_items_unioned__project_keys",
    "intermediate.int_work_items_unioned__assignee_people",
    "intermediate.int_work_items_unioned__site_configurations",
    "intermediate.int_work_items_unioned__asana_project_keys",
    "intermediate.int_work_items_unioned__asana_assignee_people",
    "intermediate.int_work_items_unioned__asana_settings",
    "intermediate.int_project_daily_events__noted_days",
    "intermediate.int_project_daily_events__followed_tables",
}


@dataclass
class BuiltWarehouse:
    server: EmbeddedWarehouse
    url: str
    work_dir: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltWarehouse]:
    """A server of this module's own (the crash below stops it), the Jira fixture landed and built."""
    with throwaway_warehouse(prefix="pmo-test-warehouse-") as server:
        url = create_database(server.url)
        with psycopg.connect(url) as connection:
            load_jira_fixture(connection)
        work_dir = tmp_path_factory.mktemp("dbt-unlogged")
        run_dbt(["build"], url, work_dir).check()
        yield BuiltWarehouse(server, url, work_dir)


def tables_by_persistence(connection: psycopg.Connection) -> dict[str, str]:
    """`schema.table` of every table of the layers dbt builds, and `logged` or `unlogged`."""
    rows = connection.execute(
        """
        select format('%s.%s', namespaces.nspname, tables.relname),
            case tables.relpersistence when 'u' then 'unlogged' else 'logged' end
        from pg_class as tables
        inner join pg_namespace as namespaces on tables.relnamespace = namespaces.oid
        where tables.relkind = 'r' and namespaces.nspname in ('raw', 'staging', 'intermediate', 'marts')
        """
    ).fetchall()
    return dict(rows)


def mart_rows(connection: psycopg.Connection) -> dict[str, list[tuple]]:
    """Each mart table's rows, sorted, without the columns saying when a run wrote them."""
    tables = connection.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' and table_type = 'BASE TABLE'"
    ).fetchall()
    return {table: sorted_rows(connection, f"marts.{table}") for (table,) in tables}


def test_staging_and_intermediate_tables_are_unlogged_the_rest_logged(built: BuiltWarehouse) -> None:
    with psycopg.connect(built.url) as connection:
        persistence = tables_by_persistence(connection)
    unlogged = {name for name, kind in persistence.items() if kind == "unlogged"}
    assert {"staging.stg_jira__issues", "intermediate.int_time_entries", "intermediate.int_status_changes"} <= unlogged
    assert unlogged == {
        name
        for name in persistence
        if name.split(".")[0] in {"staging", "intermediate"} and name not in LOGGED_INTERMEDIATE_TABLES
    }
    assert persistence["intermediate.int_milestone_baselines"] == "logged"
    assert all(kind == "logged" for name, kind in persistence.items() if name.split(".")[0] in {"raw", "marts"})


def test_a_run_alters_the_tables_of_the_models_it_selects_to_their_configured_persistence(
    built: BuiltWarehouse,
) -> None:
    with psycopg.connect(built.url, autocommit=True) as connection:
        connection.execute("alter table staging.stg_jira__issues set logged")
        connection.execute("alter table intermediate.int_milestone_baselines set unlogged")
        connection.execute("alter table intermediate.int_status_changes set logged")

    invocation = run_dbt(
        ["run", "--select", "stg_jira__issues", "int_milestone_baselines"], built.url, built.work_dir
    ).check()

    with psycopg.connect(built.url) as connection:
        persistence = tables_by_persistence(connection)
        assert persistence["staging.stg_jira__issues"] == "unlogged"
        assert persistence["intermediate.int_milestone_baselines"] == "logged"
        # Not selected: left as it is until a run builds it.
        assert persistence["intermediate.int_status_changes"] == "logged"
        connection.execute("alter table intermediate.int_status_changes set unlogged")
        connection.commit()
    assert "alter table staging.stg_jira__issues set unlogged" in invocation.output
    assert "alter table intermediate.int_milestone_baselines set logged" in invocation.output


def test_a_crash_empties_the_unlogged_tables_keeps_the_marts_and_the_next_build_restores_them(
    built: BuiltWarehouse,
) -> None:
    baselines_query = "select * from intermediate.int_milestone_baselines order by 1"
    with psycopg.connect(built.url) as connection:
        before = mart_rows(connection)
        baselines = connection.execute(baselines_query).fetchall()
        assert connection.execute("select count(*) from intermediate.int_time_entries").fetchone()[0] > 0

    # An immediate stop skips the shutdown checkpoint: the next start runs crash recovery, which
    # resets every unlogged table to empty.
    stopped = built.server._pg_ctl("stop", "-w", "-m", "immediate", "-D", str(built.server.pgdata))
    assert stopped.returncode == 0, stopped.stderr
    built.server.start()

    with psycopg.connect(built.url) as connection:
        unlogged = [name for name, kind in tables_by_persistence(connection).items() if kind == "unlogged"]
        assert len(unlogged) > 10
        emptied = {name: connection.execute(f"select count(*) from {name}").fetchone()[0] for name in unlogged}
        assert set(emptied.values()) == {0}
        assert mart_rows(connection) == before, "the marts stay readable, as they were"
        assert connection.execute(baselines_query).fetchall() == baselines

    run_dbt(["build"], built.url, built.work_dir).check()

    with psycopg.connect(built.url) as connection:
        assert connection.execute("select count(*) from intermediate.int_time_entries").fetchone()[0] > 0
        assert mart_rows(connection) == before
