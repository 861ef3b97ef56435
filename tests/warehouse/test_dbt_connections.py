"""dbt's connections kept from node to node: real `dbt build`s of a small project on a real server."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.conftest import PROJECT_ROOT, write_dbt_profile
from warehouse import dbt_cli, settings
from warehouse.dbt_connections import keep_connections_wanted

# A chain, so that one thread builds the models one after another in this order. `ends_with_commit`
# has a hook outside the transaction, for which dbt runs a `commit;` statement that psycopg2 does not
# see; `reads_its_hook_s_temporary_table` needs its pre-hook and its body in one transaction;
# `leaves_session_state` sets a setting and keeps a temporary table past its commit, which
# `sees_a_new_session` must not find.
MODELS = {
    "ends_with_commit": """
        {{ config(post_hook={"sql": "select 1", "transaction": false}) }}
        select pg_backend_pid() as backend_pid
    """,
    "reads_its_hook_s_temporary_table": """
        {{ config(pre_hook="create temporary table hook_rows on commit drop as select 1 as hook_row") }}
        select pg_backend_pid() as backend_pid, (select count(*) from pg_temp.hook_rows) as hook_rows
        from {{ ref('ends_with_commit') }}
    """,
    "leaves_session_state": """
        {{ config(post_hook=[
            "set work_mem = '7MB'",
            "create temporary table left_behind as select 1 as left_row",
        ]) }}
        select pg_backend_pid() as backend_pid from {{ ref('reads_its_hook_s_temporary_table') }}
    """,
    "sees_a_new_session": """
        select
            pg_backend_pid() as backend_pid,
            current_setting('work_mem') as work_mem,
            to_regclass('pg_temp.left_behind') is not null as finds_left_behind
        from {{ ref('leaves_session_state') }}
    """,
}


# Two roots: with one thread dbt starts them in the order of their names, so the second runs on the
# connection the first left after failing inside its transaction. The first's hook outside the
# transaction commits what it does: the failure's rollback leaves its setting and its table.
MODELS_AFTER_A_FAILURE = {
    "a_fails_inside_its_transaction": """
        {{ config(pre_hook={"transaction": false, "sql": "
            create table public.failed_node_backend as select pg_backend_pid() as backend_pid;
            set work_mem = '7MB';
            create temporary table left_by_the_failure as select 1 as left_row
        "}) }}
        select 1 / 0 as never
    """,
    "b_runs_after_the_failure": """
        select
            pg_backend_pid() as backend_pid,
            current_setting('work_mem') as work_mem,
            to_regclass('pg_temp.left_by_the_failure') is not null as finds_left_behind
    """,
}


def write_project(directory: Path, database_url: str, models: dict[str, str] = MODELS) -> None:
    (directory / "models").mkdir(parents=True)
    (directory / "dbt_project.yml").write_text(
        "name: kept_connections\nversion: '1.0'\nconfig-version: 2\nprofile: kept_connections\n"
        "models:\n  kept_connections:\n    +materialized: table\n"
    )
    write_dbt_profile(directory, database_url, "kept_connections")
    for name, body in models.items():
        (directory / "models" / f"{name}.sql").write_text(body)


def build(directory: Path, *, keep: bool) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "PMO_DBT_KEEP_CONNECTIONS": "1" if keep else "0",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    return subprocess.run(
        [
            *dbt_cli.command(),
            "build",
            *("--project-dir", str(directory), "--profiles-dir", str(directory)),
            *("--log-level-file", "none"),
        ],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def built_rows(url: str) -> dict[str, dict]:
    with psycopg.connect(url) as connection:
        rows = {}
        for name in MODELS:
            cursor = connection.execute(f"select * from public.{name}")
            columns = [column.name for column in cursor.description]
            rows[name] = dict(zip(columns, cursor.fetchone(), strict=True))
        default_work_mem = connection.execute("show work_mem").fetchone()[0]
    return rows | {"default": {"work_mem": default_work_mem}}


def test_the_nodes_of_a_build_share_one_connection_left_as_a_new_one_would_be(
    warehouse_url: str, tmp_path: Path
) -> None:
    write_project(tmp_path, warehouse_url)

    completed = build(tmp_path, keep=True)

    assert completed.returncode == 0, completed.stdout[-4000:]
    rows = built_rows(warehouse_url)
    assert len({rows[name]["backend_pid"] for name in MODELS}) == 1
    assert rows["reads_its_hook_s_temporary_table"]["hook_rows"] == 1
    assert rows["sees_a_new_session"]["work_mem"] == rows["default"]["work_mem"] != "7MB"
    assert rows["sees_a_new_session"]["finds_left_behind"] is False


def test_with_connections_not_kept_each_node_opens_its_own(warehouse_url: str, tmp_path: Path) -> None:
    write_project(tmp_path, warehouse_url)

    completed = build(tmp_path, keep=False)

    assert completed.returncode == 0, completed.stdout[-4000:]
    rows = built_rows(warehouse_url)
    assert len({rows[name]["backend_pid"] for name in MODELS}) == len(MODELS)


def test_a_node_after_one_that_failed_inside_its_transaction_runs_in_a_clean_session(
    warehouse_url: str, tmp_path: Path
) -> None:
    write_project(tmp_path, warehouse_url, MODELS_AFTER_A_FAILURE)

    completed = build(tmp_path, keep=True)

    results = {
        result["unique_id"].rsplit(".", 1)[-1]: result
        for result in json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    }
    failed, after = results["a_fails_inside_its_transaction"], results["b_runs_after_the_failure"]
    assert completed.returncode == 1
    assert (failed["status"], after["status"]) == ("error", "success")
    assert failed["timing"][-1]["completed_at"] <= after["timing"][0]["started_at"]
    with psycopg.connect(warehouse_url) as connection:
        failed_node_backend = connection.execute("select backend_pid from public.failed_node_backend").fetchone()[0]
        backend, work_mem, finds_left_behind = connection.execute(
            "select * from public.b_runs_after_the_failure"
        ).fetchone()
        assert work_mem == connection.execute("show work_mem").fetchone()[0] != "7MB"
    assert backend == failed_node_backend
    assert finds_left_behind is False


@pytest.mark.parametrize(
    ("value", "kept"), [(None, True), ("1", True), ("0", False), ("false", False), ("off", False), ("yes", True)]
)
def test_the_setting_that_leaves_dbt_as_it_is(value: str | None, kept: bool) -> None:
    environ = {} if value is None else {"PMO_DBT_KEEP_CONNECTIONS": value}
    assert keep_connections_wanted(environ) is kept


def test_a_transaction_a_commit_statement_ended_is_closed_in_psycopg2_without_a_warning(warehouse_url: str) -> None:
    import psycopg2
    from psycopg2.extensions import STATUS_READY, TRANSACTION_STATUS_IDLE

    from warehouse.dbt_connections import end_transaction

    parts = settings.parse_url(warehouse_url)
    handle = psycopg2.connect(
        host=parts.host, port=parts.port, user=parts.user, password=parts.password, dbname=parts.dbname
    )
    try:
        with handle.cursor() as cursor:
            cursor.execute("select 1")
            cursor.execute("commit")  # as dbt's `commit;` statements do: the server's transaction ends
        assert handle.status != STATUS_READY
        assert handle.info.transaction_status == TRANSACTION_STATUS_IDLE

        end_transaction(handle)

        assert handle.status == STATUS_READY
        assert handle.info.transaction_status == TRANSACTION_STATUS_IDLE
        assert handle.notices == []
        with handle.cursor() as cursor:
            cursor.execute("create temporary table kept_till_commit on commit drop as select 1 as kept")
            cursor.execute("select count(*) from kept_till_commit")  # in the transaction psycopg2 began
            assert cursor.fetchone() == (1,)
    finally:
        handle.close()
