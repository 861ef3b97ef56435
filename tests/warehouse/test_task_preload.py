"""The plugin that imports dbt and Cosmos in the processes Airflow forks its tasks from."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from warehouse.task_preload import forks_task_runners, preload_enabled


@pytest.mark.parametrize(
    ("argv", "executor", "expected"),
    [
        (["airflow", "scheduler"], "LocalExecutor", True),
        (["/venv/bin/airflow", "scheduler", "--num-runs", "5"], "LocalExecutor", True),
        (["airflow", "scheduler"], "airflow.executors.local_executor.LocalExecutor", True),
        (["airflow", "scheduler"], "CeleryExecutor,LocalExecutor", True),
        (["airflow", "scheduler"], "CeleryExecutor", False),
        (["airflow", "scheduler"], "KubernetesExecutor", False),
        (["airflow", "celery", "worker"], "CeleryExecutor", True),
        (["airflow", "celery", "flower"], "CeleryExecutor", False),
        (["airflow", "api-server"], "LocalExecutor", False),
        (["airflow", "dag-processor"], "LocalExecutor", False),
        (["airflow", "triggerer"], "LocalExecutor", False),
        (["airflow", "dags", "test", "pmo_nightly_refresh"], "LocalExecutor", False),
        (["pytest"], "LocalExecutor", False),
    ],
)
def test_only_the_processes_that_fork_task_runners_preload(argv: list[str], executor: str, expected: bool) -> None:
    assert forks_task_runners(argv, executor) is expected


def test_the_switch_reads_true_and_false_and_refuses_anything_else(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PMO_PRELOAD_DBT", raising=False)
    assert preload_enabled() is True
    for value, expected in [("true", True), ("1", True), ("False", False), ("off", False), (" no ", False)]:
        monkeypatch.setenv("PMO_PRELOAD_DBT", value)
        assert preload_enabled() is expected
    monkeypatch.setenv("PMO_PRELOAD_DBT", "sometimes")
    with pytest.raises(ValueError, match="PMO_PRELOAD_DBT"):
        preload_enabled()


# Airflow's own plugin loading, in a fresh process that plays the given command.
LOAD_PLUGINS = """
import json, sys
sys.argv = json.loads(sys.argv[1])
from airflow import plugins_manager
plugins_manager.ensure_plugins_loaded()
names = [plugin.name for plugin in plugins_manager._get_plugins()[0]]
print(json.dumps({"plugins": names, "dbt": "dbt.cli.main" in sys.modules}))
"""


def _load_plugins_as(argv: list[str], **environment: str) -> dict:
    env = {**os.environ, "AIRFLOW__CORE__EXECUTOR": "LocalExecutor", **environment}
    result = subprocess.run(
        [sys.executable, "-c", LOAD_PLUGINS, json.dumps(argv)], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_scheduler_that_runs_tasks_imports_dbt_when_airflow_loads_its_plugins() -> None:
    loaded = _load_plugins_as(["airflow", "scheduler"])
    assert "pmo_dbt_task_preload" in loaded["plugins"]
    assert loaded["dbt"]


def test_other_processes_and_a_switched_off_scheduler_leave_dbt_unimported() -> None:
    api_server = _load_plugins_as(["airflow", "api-server"])
    assert "pmo_dbt_task_preload" in api_server["plugins"]
    assert not api_server["dbt"]
    switched_off = _load_plugins_as(["airflow", "scheduler"], PMO_PRELOAD_DBT="false")
    assert not switched_off["dbt"]
