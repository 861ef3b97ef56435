"""The plugin that imports dbt and Cosmos in the processes Airflow forks its tasks from."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

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
from warehouse.task_preload import TASK_IMPORTS
print(json.dumps({
    "plugins": names,
    "dbt": "dbt.cli.main" in sys.modules,
    "task_imports": sorted(module for module in TASK_IMPORTS if module in sys.modules),
}))
"""


def _run_fresh(script: str, *arguments: str, **environment: str) -> object:
    """Runs `script` in a fresh interpreter with the LocalExecutor configured; returns its last line's JSON."""
    env = {**os.environ, "AIRFLOW__CORE__EXECUTOR": "LocalExecutor", **environment}
    result = subprocess.run(
        [sys.executable, "-c", script, *arguments], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _load_plugins_as(argv: list[str], **environment: str) -> dict:
    return _run_fresh(LOAD_PLUGINS, json.dumps(argv), **environment)


def test_a_scheduler_that_runs_tasks_imports_dbt_when_airflow_loads_its_plugins() -> None:
    loaded = _load_plugins_as(["airflow", "scheduler"], PMO_PRELOAD_DBT="true")
    assert "pmo_dbt_task_preload" in loaded["plugins"]
    assert loaded["dbt"]
    from warehouse.task_preload import TASK_IMPORTS

    assert loaded["task_imports"] == sorted(TASK_IMPORTS)


# The nightly DAG file's imports from installed packages, run after a scheduler's plugins have loaded, as
# each task's process runs them when it parses the file: prints the installed packages' modules they import.
DAG_IMPORTS_AFTER_PLUGINS = """
import ast, json, sys
dag_file = sys.argv[1]
sys.argv = ["airflow", "scheduler"]
from airflow import plugins_manager
plugins_manager.ensure_plugins_loaded()
project = {"connectors", "dags", "simulators", "warehouse"}
imports = [
    node
    for node in ast.parse(open(dag_file).read()).body
    if isinstance(node, ast.ImportFrom) and node.module.split(".")[0] not in project
    or isinstance(node, ast.Import) and all(alias.name.split(".")[0] not in project for alias in node.names)
]
before = set(sys.modules)
exec(compile(ast.Module(body=imports, type_ignores=[]), dag_file, "exec"), {})
installed = [name for name in set(sys.modules) - before if name.split(".")[0] not in sys.stdlib_module_names]
print(json.dumps(sorted(installed)))
"""


def test_a_task_parsing_the_nightly_dag_finds_its_installed_imports_preloaded() -> None:
    from tests.conftest import PROJECT_ROOT

    dag_file = PROJECT_ROOT / "dags" / "pmo_nightly_refresh.py"
    assert any(
        isinstance(node, ast.ImportFrom) and node.module == "cosmos" for node in ast.parse(dag_file.read_text()).body
    )
    assert _run_fresh(DAG_IMPORTS_AFTER_PLUGINS, str(dag_file), PMO_PRELOAD_DBT="true") == []


def test_other_processes_and_a_switched_off_scheduler_leave_dbt_unimported() -> None:
    api_server = _load_plugins_as(["airflow", "api-server"], PMO_PRELOAD_DBT="true")
    assert "pmo_dbt_task_preload" in api_server["plugins"]
    assert not api_server["dbt"]
    assert "openlineage.common.provider.dbt.local" not in api_server["task_imports"]
    switched_off = _load_plugins_as(["airflow", "scheduler"], PMO_PRELOAD_DBT="false")
    assert not switched_off["dbt"]


# Reads the parsed manifest in a fresh process, warmed up first or not, counting the readers mashumaro
# generates while it reads and the JSON schemas dbt holds.
READ_MANIFEST = """
import json, sys
from pathlib import Path
from mashumaro.core.meta.code import builder
generated = []
generate = builder.CodeBuilder.add_unpack_method
def counted(self, *args, **kwargs):
    generated.append(1)
    return generate(self, *args, **kwargs)
builder.CodeBuilder.add_unpack_method = counted
from dbt.contracts.graph.manifest import Manifest
from dbt.contracts.project import Project
from dbt.parser.manifest import extended_mashumuro_decoder
from warehouse.task_preload import warm_dbt
project = Path(sys.argv[1])
missed = warm_dbt(project) if sys.argv[2] == "warm" else []
before = len(generated)
Manifest.from_msgpack((project / "target" / "partial_parse.msgpack").read_bytes(), decoder=extended_mashumuro_decoder)
schemas = Project.json_schema.cache_info().currsize
print(json.dumps({"missed": missed, "generated": len(generated) - before, "schemas": schemas}))
"""


@pytest.fixture(scope="module")
def parsed_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose `target/` holds the dbt project's parsed manifest, as `dbt parse` leaves it."""
    from bench.parse import parse_dbt_project
    from tests.conftest import PROJECT_ROOT

    folder = tmp_path_factory.mktemp("parsed")
    parse_dbt_project(PROJECT_ROOT / "dbt_project", "--target-path", str(folder / "target"))
    return folder


def _read_manifest(project: Path, warm: bool) -> dict:
    return _run_fresh(READ_MANIFEST, str(project), "warm" if warm else "cold")


def test_warming_dbt_up_builds_its_schemas_and_the_readers_of_the_parsed_manifest(parsed_project: Path) -> None:
    cold = _read_manifest(parsed_project, warm=False)
    assert cold["generated"] > 0 and cold["schemas"] == 0
    warm = _read_manifest(parsed_project, warm=True)
    assert warm["missed"] == []
    assert warm["generated"] == 0, "reading the manifest again generated readers the warm-up should have"
    assert warm["schemas"] >= 9


# Looks up every macro of the parsed manifest the way a dbt command calls it, in a fresh process warmed
# up first or not, counting the Jinja templates dbt compiles while warming up and during the lookups.
LOOK_UP_MACROS = """
import json, sys
from pathlib import Path
from dbt_common.clients import jinja
compiled = []
compile_template = jinja.get_template
def counted(*args, **kwargs):
    compiled.append(1)
    return compile_template(*args, **kwargs)
jinja.get_template = counted
from dbt.contracts.graph.manifest import Manifest
from dbt.parser.manifest import extended_mashumuro_decoder
from warehouse.task_preload import warm_dbt
project = Path(sys.argv[1])
missed = warm_dbt(project) if sys.argv[2] == "warm" else []
while_warming = len(compiled)
parsed = (project / "target" / "partial_parse.msgpack").read_bytes()
manifest = Manifest.from_msgpack(parsed, decoder=extended_mashumuro_decoder)
for macro in manifest.macros.values():
    jinja.CallableMacroGenerator(macro, {}).get_template()
print(json.dumps({
    "missed": missed,
    "while_warming": while_warming,
    "on_lookup": len(compiled) - while_warming,
    "macro_texts": len({macro.macro_sql for macro in manifest.macros.values()}),
}))
"""


def test_warming_dbt_up_compiles_every_macro_a_command_may_call(parsed_project: Path) -> None:
    cold = _run_fresh(LOOK_UP_MACROS, str(parsed_project), "cold")
    assert cold["while_warming"] == 0
    assert cold["on_lookup"] == cold["macro_texts"] > 300  # dbt's, the adapter's and the project's
    warm = _run_fresh(LOOK_UP_MACROS, str(parsed_project), "warm")
    assert warm["missed"] == []
    assert warm["while_warming"] == warm["macro_texts"]
    assert warm["on_lookup"] == 0, "a macro was compiled again after the warm-up"


# Starts a behavior flag as dbt's adapter does when it starts, in a fresh process after the preload (with
# the loaded modules' files mapped or not), counting the paths `inspect` resolves meanwhile.
START_A_BEHAVIOR_FLAG = """
import json, os, sys
import warehouse.task_preload as task_preload
if sys.argv[1] == "unmapped":
    task_preload.map_module_files = lambda: None
task_preload.preload()
resolved = []
resolve = os.path.realpath
def counted(path, *args, **kwargs):
    resolved.append(path)
    return resolve(path, *args, **kwargs)
os.path.realpath = counted
from dbt_common.behavior_flags import Behavior
Behavior([{"name": "pmo_probe", "default": False, "description": "a probe"}], {})
print(json.dumps({"resolved": len(resolved)}))
"""


def test_a_preloaded_process_has_its_modules_mapped_for_the_adapter_s_behavior_flags() -> None:
    unmapped = _run_fresh(START_A_BEHAVIOR_FLAG, "unmapped")
    mapped = _run_fresh(START_A_BEHAVIOR_FLAG, "mapped")
    assert unmapped["resolved"] > 1000  # two paths for each of the modules dbt, Cosmos and Airflow loaded
    assert mapped["resolved"] < 50


def test_warming_up_without_a_parsed_manifest_says_so_and_still_builds_the_schemas(tmp_path: Path) -> None:
    from warehouse.task_preload import VALIDATED_CLASSES, warm_dbt

    missed = warm_dbt(tmp_path)
    assert len(missed) == 1 and "partial_parse.msgpack" in missed[0]
    from dbt.contracts.project import Project

    assert Project.json_schema.cache_info().currsize >= len(VALIDATED_CLASSES)
