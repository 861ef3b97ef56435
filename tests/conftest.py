"""Shared fixtures: a real PostgreSQL for the whole session, and a fresh database per test that asks for one;
helpers for tests that run a small dbt project through the project's dbt command line."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from warehouse import dbt_cli, settings
from warehouse.embedded import create_database as create_warehouse_database
from warehouse.embedded import throwaway_warehouse

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Airflow and Cosmos read their configuration when first imported: point them at a private home
# before any test imports them, so the suite never touches a developer's Airflow.
_airflow_home = Path(tempfile.mkdtemp(prefix="pmo-test-airflow-"))
atexit.register(shutil.rmtree, _airflow_home, ignore_errors=True)
os.environ.update(
    {
        "AIRFLOW_HOME": str(_airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__COSMOS__CACHE_DIR": str(_airflow_home / "cosmos"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
)


@pytest.fixture(scope="session")
def warehouse_server() -> Iterator[str]:
    """A PostgreSQL server for the test session: `TEST_WAREHOUSE_URL`, else a private embedded one."""
    external = os.environ.get("TEST_WAREHOUSE_URL")
    if external:
        yield external
        return
    with throwaway_warehouse(prefix="pmo-test-warehouse-") as server:
        yield server.url


def create_database(server_url: str) -> str:
    """A new, empty database on the server; returns its URL."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_url(server_url), autocommit=True) as connection:
        create_warehouse_database(connection, name)
    parts = settings.parse_url(server_url)
    return settings.ConnectionParts(parts.host, parts.port, parts.user, parts.password, name, parts.sslmode).url()


def drop_database(database_url: str) -> None:
    name = settings.parse_url(database_url).dbname
    with psycopg.connect(_admin_url(database_url), autocommit=True) as connection:
        connection.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def _admin_url(url: str) -> str:
    parts = settings.parse_url(url)
    return settings.ConnectionParts(parts.host, parts.port, parts.user, parts.password, "postgres", parts.sslmode).url()


def wait_event_while_held(
    url: str, holder: psycopg.Connection, action: Callable[[], object], timeout: float = 30.0, finish: float = 30.0
) -> str:
    """Run `action` on a thread while `holder` keeps its transaction open: the wait event the action's
    session blocks on (see `wait_event_of_a_blocked_session`); then `holder` commits and the action
    is given `finish` seconds to end."""
    acting = threading.Thread(target=action)
    acting.start()
    try:
        return wait_event_of_a_blocked_session(url, timeout=timeout)
    finally:
        holder.commit()
        acting.join(timeout=finish)


def wait_event_of_a_blocked_session(url: str, timeout: float = 120.0) -> str:
    """The wait event (`advisory`, `transactionid`...) of the first other session of the database found
    waiting on a lock; fails when none waits within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                "select wait_event from pg_stat_activity"
                " where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()"
            ).fetchone()
            if waiting:
                return waiting[0]
            time.sleep(0.02)
    raise AssertionError("no session waited on a lock")


@pytest.fixture
def warehouse_url(warehouse_server: str) -> Iterator[str]:
    """A new, empty database on the session's server, dropped after the test."""
    url = create_database(warehouse_server)
    yield url
    drop_database(url)


def write_dbt_profile(directory: Path, database_url: str, profile: str) -> None:
    """A `profiles.yml` in `directory` whose profile `profile` reaches `database_url` with one thread."""
    parts = settings.parse_url(database_url)
    output = {
        "type": "postgres",
        "host": parts.host,
        "port": parts.port,
        "user": parts.user,
        "password": parts.password,
        "dbname": parts.dbname,
        "schema": "public",
        "threads": 1,
    }
    (directory / "profiles.yml").write_text(json.dumps({profile: {"target": "test", "outputs": {"test": output}}}))


def write_macro_project(directory: Path, database_url: str, name: str, macros: dict[str, str]) -> None:
    """A dbt project `name` in `directory` with the macro files `macros` (file name: text), reaching
    `database_url`."""
    (directory / "macros").mkdir(parents=True, exist_ok=True)
    (directory / "dbt_project.yml").write_text(f"name: {name}\nversion: '1.0'\nconfig-version: 2\nprofile: {name}\n")
    write_dbt_profile(directory, database_url, name)
    for file_name, body in macros.items():
        (directory / "macros" / f"{file_name}.sql").write_text(body)


def run_operation(directory: Path, macro: str, arguments: dict, env: dict[str, str]) -> str:
    """`dbt run-operation macro` on the project in `directory` through `python -m warehouse.dbt_cli`,
    with `env` added to the environment; its output (the command must succeed)."""
    completed = subprocess.run(
        [
            *dbt_cli.command(),
            "run-operation",
            macro,
            "--args",
            json.dumps(arguments),
            *("--project-dir", str(directory), "--profiles-dir", str(directory)),
            *("--log-level-file", "none"),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:]
    return completed.stdout
