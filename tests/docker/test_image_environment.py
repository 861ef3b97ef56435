"""The image's Python environment, rebuilt without Docker, parses the DAG folder with no import errors.

The files are laid out as docker/Dockerfile's COPY instructions lay them out (under a temporary root instead
of /), a fresh virtualenv gets the Dockerfile's install (same requirements, same constraints, through uv),
`dbt parse` writes the manifest with the Dockerfile's placeholder settings, and a DagBag runs in that
virtualenv with the image's ENV values. uv's cache makes the install take seconds once `make install` has
run; packages missing from the cache come from the package index.

Set PMO_SKIP_IMAGE_ENVIRONMENT_TEST=1 to skip it (on a machine without the index, say).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path, PurePosixPath

import pytest

from tests.docker.deployment_files import (
    DOCKERFILE,
    IMAGE_DAGS_FOLDER,
    PROJECT_ROOT,
    copied_paths,
    dockerfile_instructions,
    env_instruction_values,
    first_run_with,
    install_files,
    working_directory_at,
)

pytestmark = pytest.mark.skipif(
    os.environ.get("PMO_SKIP_IMAGE_ENVIRONMENT_TEST") == "1", reason="PMO_SKIP_IMAGE_ENVIRONMENT_TEST=1"
)

UV = Path(sys.executable).parent / "uv"
DAGBAG_REPORT = """
import json, sys
from airflow.utils.db import upgradedb
upgradedb()
from airflow.dag_processing.dagbag import DagBag
import connectors
bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({
    "import_errors": {str(path): str(error) for path, error in bag.import_errors.items()},
    "tasks": {dag_id: sorted(dag.task_ids) for dag_id, dag in bag.dags.items()},
    "connectors_module": connectors.__file__,
    "prefix": sys.prefix,
}))
"""
IGNORED_WHEN_STAGING = shutil.ignore_patterns("__pycache__", "*.pyc", "target", "logs", "dbt_packages", ".user.yml")


def in_root(root: Path, image_path: str | PurePosixPath) -> Path:
    return root / str(image_path).lstrip("/")


def stage_copies(instructions, root: Path) -> None:
    """Copy the repository's files to where the Dockerfile's COPY instructions put them, under `root`."""
    for copied in copied_paths(instructions):
        source, target = PROJECT_ROOT / copied.source, in_root(root, copied.target)
        if source.is_dir():
            shutil.copytree(source, target, ignore=IGNORED_WHEN_STAGING, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def dbt_parse_command(arguments: str) -> tuple[dict[str, str], list[str]]:
    """The `KEY=value ... dbt parse ...` step of the Dockerfile's RUN, as an environment and an argv."""
    step = next(part for part in arguments.split("&&") if "dbt parse" in part)
    words = shlex.split(step)
    environment = {}
    while re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        key, value = words.pop(0).split("=", 1)
        environment[key] = value
    return environment, words


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def base_environment(venv: Path) -> dict[str, str]:
    """This process's environment (proxies, certificates, uv's cache) less what would leak the test session's
    Airflow, warehouse or checkout into the image's environment."""
    leaking = (
        "AIRFLOW",
        "PMO_",
        "DBT_",
        "WAREHOUSE_",
        "EMBEDDED_WAREHOUSE_",
        "PYTHONPATH",
        "PYTHONHOME",
        "VIRTUAL_ENV",
    )
    environment = {key: value for key, value in os.environ.items() if not key.startswith(leaking)}
    environment["PATH"] = f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    return environment


@pytest.fixture(scope="module")
def image_environment(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if not UV.exists():
        pytest.skip(f"uv is not installed at {UV} (run `make install`)")
    instructions = dockerfile_instructions(DOCKERFILE.read_text())
    started = time.monotonic()
    work = tmp_path_factory.mktemp("image")
    root, venv, airflow_home = work / "root", work / "venv", work / "airflow-home"
    stage_copies(instructions, root)
    staged_at = time.monotonic()

    install_index, install = first_run_with(instructions, "pip install")
    constraint, requirement = install_files(install)
    run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], env=base_environment(venv))
    run(
        [
            str(UV),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            "--constraint",
            constraint,
            "--requirement",
            requirement,
        ],
        cwd=in_root(root, working_directory_at(instructions, install_index)),
        env=base_environment(venv),
    )
    installed_at = time.monotonic()

    parse_index, parse = first_run_with(instructions, "dbt parse")
    parse_environment, parse_argv = dbt_parse_command(parse.arguments)
    assert parse_argv[0] == "dbt"
    run(
        [str(venv / "bin" / "dbt"), *parse_argv[1:]],
        cwd=in_root(root, working_directory_at(instructions, parse_index)),
        env={**base_environment(venv), **parse_environment},
    )
    parsed_at = time.monotonic()

    image_env = {
        key: str(in_root(root, value)) if value.startswith("/") else value
        for key, value in env_instruction_values(instructions).items()
    }
    dags_folder = in_root(root, IMAGE_DAGS_FOLDER)
    dagbag_environment = {
        **base_environment(venv),
        **image_env,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
    }
    result = run(
        [str(venv / "bin" / "python"), "-c", DAGBAG_REPORT, str(dags_folder)], cwd=work, env=dagbag_environment
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report.update(
        manifest=Path(image_env["PMO_DBT_PROJECT_DIR"]) / "target" / "manifest.json",
        seconds={
            "stage": staged_at - started,
            "install": installed_at - staged_at,
            "dbt parse": parsed_at - installed_at,
            "dagbag": time.monotonic() - parsed_at,
        },
    )
    return report


def test_the_image_environment_parses_the_dag_folder_without_import_errors(image_environment):
    print("image environment built in " + ", ".join(f"{k} {v:.1f} s" for k, v in image_environment["seconds"].items()))
    assert image_environment["import_errors"] == {}
    assert "pmo_nightly_refresh" in image_environment["tasks"]


def test_the_dag_renders_its_dbt_tasks_from_the_baked_manifest(image_environment):
    assert image_environment["manifest"].is_file()
    task_ids = image_environment["tasks"]["pmo_nightly_refresh"]
    assert any(task_id.startswith("dbt_build.") for task_id in task_ids)
    assert "summarize_marts" in task_ids


def test_the_dags_import_the_installed_project_not_the_checkout(image_environment):
    connectors_module = Path(image_environment["connectors_module"]).resolve()
    assert connectors_module.is_relative_to(Path(image_environment["prefix"]).resolve())
    assert not connectors_module.is_relative_to(PROJECT_ROOT)
