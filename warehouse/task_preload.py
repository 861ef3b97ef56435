"""An Airflow plugin that imports dbt and Cosmos once, in the process Airflow forks its tasks from.

Under a scheduler every task runs in a process of its own, forked from a long-lived one: a worker of
the scheduler's LocalExecutor (itself forked from the scheduler), or a Celery worker's pool. Each
dbt task of the nightly DAG then imported dbt and Cosmos before building its model, about 1.5 s of
CPU a task, 67 times a night in the default layout. Imported once in the scheduler or the Celery
worker before they fork, the modules are inherited by every task's process instead.

Only those processes import anything: the API server, the DAG processor, the triggerer, a scheduler
whose executor runs no task itself, and every other `airflow` command are left as they are.
`PMO_PRELOAD_DBT=false` turns it off.

The plugin is registered through the `airflow.plugins` entry point (see `pyproject.toml`), so any
environment the project is installed in has it. The scheduler loads plugins when it starts, before
its executor forks workers; a Celery worker loads them at start with
`AIRFLOW__CORE__LAZY_LOAD_PLUGINS=False`.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import time
from collections.abc import Sequence

from airflow.plugins_manager import AirflowPlugin

log = logging.getLogger(__name__)

# What a dbt task of the nightly DAG imports: dbt's runner and its Postgres adapter, Cosmos's operators.
PRELOADED_MODULES = ("dbt.cli.main", "dbt.adapters.postgres", "cosmos.operators.local")
FALSE_WORDS = {"0", "false", "no", "off"}
TRUE_WORDS = {"1", "true", "yes", "on"}


def preload_enabled() -> bool:
    """`PMO_PRELOAD_DBT`: true unless set to false (or 0, no, off)."""
    value = os.environ.get("PMO_PRELOAD_DBT", "").strip().lower()
    if not value or value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ValueError(f"PMO_PRELOAD_DBT={value!r} is neither true nor false")


def forks_task_runners(argv: Sequence[str], executor: str) -> bool:
    """Whether the `airflow` command in `argv` forks the processes that run tasks: a scheduler whose
    executor is (or includes) the LocalExecutor, or a Celery worker."""
    words = [arg for arg in argv[1:] if not arg.startswith("-")]
    if words[:1] == ["scheduler"]:
        return any(name.strip().split(".")[-1] == "LocalExecutor" for name in executor.split(","))
    return words[:2] == ["celery", "worker"]


def preload(modules: Sequence[str] = PRELOADED_MODULES) -> float:
    """Import `modules`; returns the seconds it took."""
    started = time.monotonic()
    for module in modules:
        importlib.import_module(module)
    return time.monotonic() - started


class DbtTaskPreload(AirflowPlugin):
    """Imports dbt and Cosmos when loaded in a process that forks task runners."""

    name = "pmo_dbt_task_preload"

    @classmethod
    def on_load(cls, *args, **kwargs) -> None:
        # A task's process, forked from a preloading one, loads its plugins again: it has the modules.
        if not preload_enabled() or all(module in sys.modules for module in PRELOADED_MODULES):
            return
        from airflow.configuration import conf

        executor = conf.get("core", "executor", fallback="") or ""
        if not forks_task_runners(sys.argv, executor):
            return
        seconds = preload()
        log.info(
            "Imported %s in %.2f s: the tasks forked from this process inherit them",
            ", ".join(PRELOADED_MODULES),
            seconds,
        )
