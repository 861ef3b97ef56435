"""Fixtures for DAG tests: a migrated Airflow metadata DB and a parsed dbt manifest."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.parse import PLACEHOLDER_WAREHOUSE_ENV, copy_dbt_project
from tests.conftest import PROJECT_ROOT


@pytest.fixture(scope="session")
def airflow_db() -> None:
    from airflow.utils.db import upgradedb

    upgradedb()


@pytest.fixture(scope="session")
def dbt_manifest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`dbt parse` writes the manifest the DAG renders its dbt tasks from (as `make demo` does), into a
    copy of the dbt project that this test process's DAGs use (`PMO_DBT_PROJECT_DIR`): `make test`
    runs several test processes at once, and none may rewrite a manifest another is reading."""
    project = copy_dbt_project(tmp_path_factory.mktemp("nightly-dag") / "dbt_project")
    dbt = Path(sys.executable).parent / "dbt"
    subprocess.run(
        [str(dbt), "parse", "--project-dir", str(project), "--profiles-dir", str(project), "--quiet"],
        env={**PLACEHOLDER_WAREHOUSE_ENV, **os.environ},
        check=True,
    )
    before = os.environ.get("PMO_DBT_PROJECT_DIR")
    os.environ["PMO_DBT_PROJECT_DIR"] = str(project)
    yield project / "target" / "manifest.json"
    if before is None:
        os.environ.pop("PMO_DBT_PROJECT_DIR", None)
    else:
        os.environ["PMO_DBT_PROJECT_DIR"] = before


@pytest.fixture(scope="session")
def dagbag(airflow_db, dbt_manifest):
    from airflow.dag_processing.dagbag import DagBag

    started = time.monotonic()
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    bag.parse_seconds = time.monotonic() - started
    return bag
