"""An Airflow plugin that readies dbt once, in the process Airflow forks its tasks from.

Under a scheduler every task runs in a process of its own, forked from a long-lived one: a worker of
the scheduler's LocalExecutor (itself forked from the scheduler), or a Celery worker's pool. Each
dbt task of the nightly DAG then imported dbt and Cosmos before building its model, about 1.5 s of
CPU a task, 67 times a night in the default layout, and its dbt command began with work dbt does
once a process: the JSON schemas of the project, profile and selector files it validates, and the
readers (generated on first use) of the parsed manifest it loads, about 0.45 s more. It compiled the
Jinja template of every macro it called (its materializations, the adapter's macros, the project's),
about 0.17 s more, and when its adapter started `inspect` mapped the file of every loaded module
(dbt's behavior flags look up the module that defined them), about 0.1 s more. Parsing the DAG file
and Cosmos's lineage reader after each dbt command imported about 0.2 s more. Done once in the
scheduler or the Celery worker before they fork, every task's process inherits them instead.

Only those processes import anything: the API server, the DAG processor, the triggerer, a scheduler
whose executor runs no task itself, and every other `airflow` command are left as they are.
`PMO_PRELOAD_DBT=false` turns it off. Only installed packages are preloaded, never the project's own
modules: a task always runs the connectors and DAG code on disk, while an upgrade of dbt or Cosmos
reaches the tasks once the forking process restarts.

The plugin is registered through the `airflow.plugins` entry point (see `pyproject.toml`), so any
environment the project is installed in has it. The scheduler loads plugins when it starts, before
its executor forks workers; a Celery worker loads them at start with
`AIRFLOW__CORE__LAZY_LOAD_PLUGINS=False`.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from airflow.plugins_manager import AirflowPlugin

from warehouse.settings import project_root

log = logging.getLogger(__name__)

# What a dbt task of the nightly DAG imports: dbt's runner and its Postgres adapter, Cosmos's operators.
PRELOADED_MODULES = ("dbt.cli.main", "dbt.adapters.postgres", "cosmos.operators.local")
# What else a dbt task's process imports, by module and the names taken from it (packages that load their
# names lazily import them on first use): the nightly DAG file's imports of Airflow and Cosmos, dbt's build
# task and its table helpers, and the lineage reader Cosmos runs after each dbt command. About 0.2 s a task.
TASK_IMPORTS = {
    "airflow.sdk": ("Asset", "Param", "TaskGroup", "TriggerRule", "dag", "task"),
    "airflow.providers.standard.operators.empty": (),
    "cosmos": ("DbtTaskGroup", "ExecutionConfig", "ProfileConfig", "ProjectConfig", "RenderConfig"),
    "cosmos.profiles": ("PostgresUserPasswordProfileMapping",),
    "dbt.task.build": (),
    "dbt_common.clients.agate_helper": (),
    "openlineage.common.provider.dbt.local": ("DbtLocalArtifactProcessor",),
}
# The classes whose JSON schema a dbt command builds (and then keeps) before it runs a node: the project
# file, its flags, packages and selectors, the profile and the Postgres credentials, hooks, tests' results.
VALIDATED_CLASSES = (
    ("dbt.contracts.project", "Project"),
    ("dbt.contracts.project", "ProjectFlags"),
    ("dbt.contracts.project", "PackageConfig"),
    ("dbt.contracts.project", "ProfileConfig"),
    ("dbt.contracts.project", "Configuration"),
    ("dbt.contracts.selection", "SelectorFile"),
    ("dbt.adapters.postgres.connections", "PostgresCredentials"),
    ("dbt.artifacts.resources.v1.config", "Hook"),
    ("dbt.task.test", "TestResultData"),
)
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


def dbt_project_dir() -> Path:
    """The dbt project the nightly DAG builds: `PMO_DBT_PROJECT_DIR`, else the repository's `dbt_project`."""
    return Path(os.environ.get("PMO_DBT_PROJECT_DIR") or project_root() / "dbt_project")


def warm_dbt(project_dir: Path) -> list[str]:
    """Does once what each dbt command does first and keeps for the rest of its process: builds the
    JSON schemas it validates with, reads the project's parsed manifest
    (`target/partial_parse.msgpack`, when there is one) so that its generated readers exist, and
    compiles the templates of the manifest's macros (`compile_macro_templates`); the manifest itself
    is dropped. Returns what it could not do (dbt then does it in each task)."""
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import extended_mashumuro_decoder

    missed = []
    for module, name in VALIDATED_CLASSES:
        try:
            getattr(importlib.import_module(module), name).json_schema()
        except Exception as error:  # another dbt version may have moved a class: dbt builds it later
            missed.append(f"the schema of {module}.{name} ({error})")
    parsed = project_dir / "target" / "partial_parse.msgpack"
    try:
        manifest = Manifest.from_msgpack(parsed.read_bytes(), decoder=extended_mashumuro_decoder)
        manifest.build_flat_graph()
    except Exception as error:  # none parsed yet, or by another dbt version: each task reads it anyway
        missed.append(f"the parsed manifest {parsed} ({error})")
        return missed
    return missed + compile_macro_templates(manifest.macros.values())


def compile_macro_templates(macros: Iterable) -> list[str]:
    """Compiles the Jinja template of each of `macros` into dbt's template cache, which a dbt command
    otherwise fills as it first calls each macro. The cache lives as long as the process and is keyed
    by the macro's text, so a macro changed since is compiled again when called, as before. Returns
    what it could not compile."""
    try:
        from dbt_common.clients.jinja import template_cache
    except ImportError as error:  # another dbt version may have moved it: each task compiles its macros
        return [f"dbt's template cache ({error})"]
    missed = []
    for macro in macros:
        try:
            template_cache.get_node_template(macro)
        except Exception as error:  # dbt reports it when the macro is called
            missed.append(f"the template of {macro.unique_id} ({error})")
    return missed


def import_task_modules() -> list[str]:
    """Imports `TASK_IMPORTS` and takes their names; returns what it could not import (the tasks then do)."""
    missed = []
    for module, names in TASK_IMPORTS.items():
        try:
            imported = importlib.import_module(module)
            for name in names:
                getattr(imported, name)
        except Exception as error:  # another version may have moved it: each task imports it as before
            missed.append(f"{module} ({error})")
    return missed


def map_module_files() -> None:
    """Walks this process's stack once with `inspect`, which maps the file of every loaded module the
    first time it looks a frame's module up, and keeps the map. A dbt command does that lookup when its
    adapter starts (`dbt_common.behavior_flags` finds the module that defined each behavior flag), so
    a task forked after this finds the preloaded modules mapped."""
    inspect.stack(context=0)


def preload() -> float:
    """Import `PRELOADED_MODULES` and `TASK_IMPORTS`, warm dbt up and map the loaded modules' files;
    returns the seconds it took."""
    started = time.monotonic()
    for module in PRELOADED_MODULES:
        importlib.import_module(module)
    for missed in import_task_modules():
        log.warning("not preloaded: %s", missed)
    for missed in warm_dbt(dbt_project_dir()):
        log.warning("dbt not warmed up: %s", missed)
    map_module_files()
    return time.monotonic() - started


class DbtTaskPreload(AirflowPlugin):
    """Imports dbt and Cosmos, and warms dbt up, when loaded in a process that forks task runners."""

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
            "Imported %s and %d more modules a dbt task imports, and warmed dbt up, in %.2f s: the tasks forked"
            " from this process inherit them",
            ", ".join(PRELOADED_MODULES),
            len(TASK_IMPORTS),
            seconds,
        )
