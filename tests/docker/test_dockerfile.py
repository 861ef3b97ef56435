"""docker/Dockerfile, docker/requirements.txt and .dockerignore: what the production image must be."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import pytest

from tests.docker.deployment_files import (
    DOCKER_DIR,
    DOCKERFILE,
    IMAGE_DAGS_FOLDER,
    IMAGE_REQUIREMENTS,
    PROJECT_ROOT,
    copied_paths,
    copy_instructions,
    dockerfile_instructions,
    env_instruction_values,
    first_run_with,
    install_files,
    pinned_airflow_version,
    pinned_python_minor,
    working_directory_at,
)

INSTALL_COMMAND = re.compile(r"\b(uv pip|pip) install\b")
PROJECT_FOLDERS = ("connectors", "simulators", "warehouse", "reports", "dags", "dbt_project", "config")


@pytest.fixture(scope="module")
def instructions():
    return dockerfile_instructions(DOCKERFILE.read_text())


def landing_places(instructions) -> dict[str, PurePosixPath]:
    """Each repository path the image copies, mapped to where it lands in the image."""
    return {copied.source: copied.target for copied in copied_paths(instructions)}


def install_runs(instructions):
    return [
        (index, instruction)
        for index, instruction in enumerate(instructions)
        if instruction.keyword == "RUN" and INSTALL_COMMAND.search(instruction.arguments)
    ]


def test_the_base_image_is_the_pinned_airflow_on_the_pinned_python(instructions):
    froms = [instruction.arguments for instruction in instructions if instruction.keyword == "FROM"]
    assert froms == [f"apache/airflow:{pinned_airflow_version()}-python{pinned_python_minor()}"]


def test_the_image_runs_as_the_non_root_airflow_user(instructions):
    users = [instruction.arguments.strip() for instruction in instructions if instruction.keyword == "USER"]
    assert users and users[-1] == "airflow", f"the last USER is {users[-1] if users else 'unset'}"
    assert instructions[-1].keyword == "USER", "USER airflow must be the image's last instruction"


def test_nothing_is_installed_when_a_container_starts():
    deployment_files = [path for path in DOCKER_DIR.rglob("*") if path.is_file()] + [PROJECT_ROOT / ".dockerignore"]
    for path in deployment_files:
        assert "_PIP_ADDITIONAL_REQUIREMENTS" not in path.read_text(errors="replace"), path


def test_python_packages_are_installed_once_with_the_constraints_file(instructions):
    runs = install_runs(instructions)
    assert len(runs) == 1, "install the Python packages in one RUN, so they resolve together"
    index, run = runs[0]
    constraint, requirement = install_files(run)
    assert not {"-U", "--upgrade", "--pre"} & set(run.words()), "the image installs the pinned versions only"
    workdir = working_directory_at(instructions, index)
    copies_before = landing_places(instructions[:index])
    assert copies_before["constraints.txt"] == PurePosixPath(workdir) / constraint
    assert copies_before["docker/requirements.txt"] == PurePosixPath(workdir) / requirement
    for needed in ("pyproject.toml", "README.md", "connectors", "simulators", "warehouse"):
        assert needed in copies_before, f"{needed} must be copied before the install"


def test_the_image_requirements_are_the_project_and_the_pinned_airflow():
    lines = [line.strip() for line in IMAGE_REQUIREMENTS.read_text().splitlines()]
    requirements = [line for line in lines if line and not line.startswith("#")]
    assert requirements == [f"apache-airflow=={pinned_airflow_version()}", "."]
    constraints = (PROJECT_ROOT / "constraints.txt").read_text().splitlines()
    assert f"apache-airflow=={pinned_airflow_version()}" in constraints


def test_the_project_dags_and_dbt_project_are_baked_in(instructions):
    copies = landing_places(instructions)
    for folder in PROJECT_FOLDERS:
        assert folder in copies, f"the image does not copy {folder}/"
    assert copies["dags"] == IMAGE_DAGS_FOLDER, "DAGs go to the base image's dags folder"
    for copy in copy_instructions(instructions):
        assert copy.chown == "airflow:0", f"COPY {' '.join(copy.sources)} must be --chown=airflow:0"


def test_the_dbt_manifest_is_parsed_at_build_time(instructions):
    copies = landing_places(instructions)
    parse_index, parse_run = first_run_with(instructions, "dbt parse")
    assert "dbt_project" in landing_places(instructions[:parse_index]), "dbt parse runs before dbt_project/ is copied"
    parse = parse_run.arguments
    project_dir = PurePosixPath(working_directory_at(instructions, parse_index)) / re.search(
        r"--project-dir\s+(\S+)", parse
    ).group(1)
    assert project_dir == copies["dbt_project"]
    for variable in ("WAREHOUSE_HOST", "WAREHOUSE_PORT", "WAREHOUSE_USER", "WAREHOUSE_PASSWORD", "WAREHOUSE_DBNAME"):
        assert re.search(rf"\b{variable}=", parse), f"dbt parse needs a build-time {variable} for profiles.yml"
    assert "manifest.json" in parse, "the build must fail when no manifest was written"


def test_the_image_environment_points_at_the_baked_in_project(instructions):
    copies = landing_places(instructions)
    environment = env_instruction_values(instructions)
    assert environment["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert environment["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False"
    assert environment["AIRFLOW__COSMOS__CACHE_DIR"].startswith("/")
    assert PurePosixPath(environment["PMO_DBT_PROJECT_DIR"]) == copies["dbt_project"]
    sources_config = PurePosixPath(environment["PMO_SOURCES_CONFIG"])
    assert sources_config.parent == copies["config"]
    assert (PROJECT_ROOT / "config" / sources_config.name).is_file()


def test_the_build_context_holds_what_the_image_copies_and_no_secrets(instructions):
    ignore_lines = [
        line.strip()
        for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ignore_lines[0] == "*", ".dockerignore should exclude everything, then list what the image needs"
    included = {line[1:].rstrip("/") for line in ignore_lines if line.startswith("!")}
    for source in landing_places(instructions):
        assert source in included, f".dockerignore leaves out {source}, which the Dockerfile copies"
    assert not {".env", "docker/.env", ".venv", ".local", ".git"} & included
    assert "dbt_project/target" in ignore_lines, "a stale local manifest must not reach the image"
