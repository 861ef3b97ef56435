"""Fixtures for DAG tests: a migrated Airflow metadata DB and a parsed dbt manifest."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

DBT_PROJECT = PROJECT_ROOT / "dbt_project"


@pytest.fixture(scope="session")
def airflow_db() -> None:
    from airflow.utils.db import upgradedb

    upgradedb()


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """`dbt parse` writes the manifest the DAG renders its dbt tasks from (as `make demo` does)."""
    env_defaults = {
        "WAREHOUSE_HOST": "127.0.0.1",
        "WAREHOUSE_PORT": "5432",
        "WAREHOUSE_USER": "parse",
        "WAREHOUSE_PASSWORD": "",
        "WAREHOUSE_DBNAME": "parse",
    }
    import os

    env = {**env_defaults, **os.environ}
    dbt = Path(sys.executable).parent / "dbt"
    subprocess.run(
        [str(dbt), "parse", "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT), "--quiet"],
        env=env,
        check=True,
    )
    return DBT_PROJECT / "target" / "manifest.json"


@pytest.fixture(scope="session")
def dagbag(airflow_db, dbt_manifest):
    from airflow.dag_processing.dagbag import DagBag

    started = time.monotonic()
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    bag.parse_seconds = time.monotonic() - started
    return bag
