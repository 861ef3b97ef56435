"""Fixtures for DAG tests: a migrated Airflow metadata DB and a parsed dbt manifest."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.parse import copy_dbt_project, parse_dbt_project
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
    parse_dbt_project(project)
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("PMO_DBT_PROJECT_DIR", str(project))
        yield project / "target" / "manifest.json"


@pytest.fixture(scope="session")
def dagbag(airflow_db, dbt_manifest):
    from airflow.dag_processing.dagbag import DagBag

    started = time.monotonic()
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    bag.parse_seconds = time.monotonic() - started
    return bag
