"""dbt commands run side by side on a new warehouse, as the nightly DAG's tasks run: what each creates
where missing (its schemas, the raw tables no connector wrote, the BI role) it creates under one
transaction lock, so that two of them creating the same object never fail on a duplicate key.

Each test builds a model once, takes away one object the build makes, and lets another session play
the other command: it takes the lock as the project's DDL does, creates that object and holds its
transaction open. The build run again must wait for that lock, not on the half-made object, and
succeed once the other session commits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from connectors.raw_store import CATALOG_LOCK, ensure_control_tables
from tests.conftest import wait_event_while_held
from tests.dbt.conftest import DbtInvocation, run_dbt

MODEL = ["run", "--select", "stg_loader__load_batches"]


def under_the_lock(statement: str) -> Callable[[psycopg.Connection], object]:
    return lambda connection: connection.execute(f"{CATALOG_LOCK}; {statement}")


def build_while_another_session_creates(
    url: str, work_dir: Path, create: Callable[[psycopg.Connection], object], **variables: str
) -> DbtInvocation:
    """Build MODEL while another session has run `create` (which takes the catalog lock) in a
    transaction it has not committed yet."""
    outcome: list[DbtInvocation] = []
    with psycopg.connect(url) as other:
        other.execute("select 1")  # the transaction open first: a `transaction()` block in `create` nests in it
        create(other)
        waited_on = wait_event_while_held(
            url,
            other,
            lambda: outcome.append(run_dbt(MODEL, url, work_dir, variables=variables)),
            timeout=120,
            finish=300,
        )
    assert waited_on == "advisory", "dbt did not wait for the catalog lock"
    return outcome[0]


@pytest.fixture
def built_once(warehouse_url: str, tmp_path: Path) -> str:
    run_dbt(MODEL, warehouse_url, tmp_path / "first").check()
    return warehouse_url


def test_a_schema_another_command_is_creating_is_waited_for(built_once: str, tmp_path: Path) -> None:
    with psycopg.connect(built_once, autocommit=True) as connection:
        connection.execute("drop schema staging cascade")

    build_while_another_session_creates(built_once, tmp_path, under_the_lock("create schema staging")).check()


def test_a_raw_table_another_command_is_creating_is_waited_for(built_once: str, tmp_path: Path) -> None:
    with psycopg.connect(built_once, autocommit=True) as connection:
        connection.execute("drop table raw._load_batches cascade")

    # as a connector makes it, the transaction left open
    build_while_another_session_creates(built_once, tmp_path, ensure_control_tables).check()

    with psycopg.connect(built_once) as connection:
        assert connection.execute("select count(*) from staging.stg_loader__load_batches").fetchone() == (0,)


def test_the_bi_role_another_command_is_creating_is_waited_for(built_once: str, tmp_path: Path) -> None:
    role = f"pmo_side_by_side_{time.time_ns() % 10**9}"
    try:
        build_while_another_session_creates(
            built_once, tmp_path, under_the_lock(f"create role {role} nologin"), bi_reader_role=role
        ).check()
    finally:
        with psycopg.connect(built_once, autocommit=True) as connection:
            connection.execute(f"drop owned by {role}")
            connection.execute(f"drop role if exists {role}")
