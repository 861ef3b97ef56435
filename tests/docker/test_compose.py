"""docker/docker-compose.yml: valid Compose, and the production invariants the stack relies on.

The schema is the Compose Specification's own (`compose-spec.json` beside this file, Apache-2.0, see
`compose-spec.LICENSE`), vendored from the copy that check-jsonschema 0.39.0 ships on PyPI
(`check_jsonschema/builtin_schemas/vendor/compose-spec.json`, sha256 d549057e…ed10e64).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.docker.deployment_files import (
    COMPOSE_FILE,
    COMPOSE_VARIABLE,
    DOCKERFILE,
    ENV_EXAMPLE,
    PROJECT_ROOT,
    WAREHOUSE_INIT_DIR,
    compose_variables,
    dockerfile_instructions,
    env_file_entries,
    pinned_airflow_version,
)

COMPOSE_SCHEMA = Path(__file__).with_name("compose-spec.json")
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|FERNET|_KEY$|AUTH$", re.IGNORECASE)
URL_PASSWORD = re.compile(r"://[^/\s:@]*:(?P<password>[^@\s]*)@")
REQUIREPASS = re.compile(r"--requirepass\s+(?P<value>\S+)")
ONE_SHOT_SERVICES = {"airflow-init"}
CORE_SERVICES = {
    "postgres",
    "redis",
    "warehouse",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
}


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text()


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict[str, Any]:
    return yaml.safe_load(compose_text)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def airflow_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in services.items() if name.startswith("airflow-")}


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(entry.split("=", 1) if "=" in entry else (entry, "") for entry in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def strings_in(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings_in(value)
    elif isinstance(node, list):
        if all(isinstance(item, str) for item in node):
            yield " ".join(node)
        for item in node:
            yield from strings_in(item)


def only_references(value: str) -> bool:
    """The value is made of `${VAR}` references alone, none of which defaults to a non-empty literal."""
    references = list(COMPOSE_VARIABLE.finditer(value))
    if not references or COMPOSE_VARIABLE.sub("", value).strip():
        return False
    return all(not (match.group("operator") or "").endswith("-") or not match.group("rest") for match in references)


def test_the_compose_file_follows_the_compose_specification(compose):
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema checks the compose file against its schema")
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)

    misspelled = copy.deepcopy(compose)
    misspelled["services"]["redis"]["healthchek"] = misspelled["services"]["redis"].pop("healthcheck")
    assert list(validator.iter_errors(misspelled)), "the vendored schema accepts an unknown service key"


def test_the_stack_has_the_official_airflow_3_services(services):
    assert set(services) >= CORE_SERVICES
    for name in CORE_SERVICES:
        assert "profiles" not in services[name], f"{name} must start without a profile"


def test_every_service_has_a_healthcheck(services):
    for name, service in services.items():
        healthcheck = service.get("healthcheck")
        assert healthcheck and healthcheck.get("test"), f"{name} has no healthcheck"
        assert not healthcheck.get("disable"), f"{name} disables its healthcheck"
        assert healthcheck["test"] != ["NONE"], f"{name} disables its healthcheck"


def test_dependents_wait_until_what_they_need_is_healthy(services):
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on must name a condition for each service"
        for dependency, rule in depends_on.items():
            expected = "service_completed_successfully" if dependency in ONE_SHOT_SERVICES else "service_healthy"
            assert rule.get("condition") == expected, f"{name} -> {dependency}: condition must be {expected}"
            assert dependency in services, f"{name} depends on unknown service {dependency}"


def test_long_running_airflow_services_start_after_airflow_init(airflow_services):
    for name, service in airflow_services.items():
        if name in ONE_SHOT_SERVICES:
            continue
        assert "airflow-init" in service.get("depends_on", {}), f"{name} does not wait for airflow-init"
    assert airflow_services["airflow-worker"]["depends_on"]["warehouse"]["condition"] == "service_healthy"


def test_airflow_services_run_the_image_built_for_the_pinned_airflow_version(airflow_services, services):
    version = pinned_airflow_version()
    (base_image,) = [i.arguments for i in dockerfile_instructions(DOCKERFILE.read_text()) if i.keyword == "FROM"]
    assert base_image.startswith(f"apache/airflow:{version}-"), base_image
    for name, service in airflow_services.items():
        build = service.get("build")
        assert build, f"{name} must be built from docker/Dockerfile"
        context = (COMPOSE_FILE.parent / build["context"]).resolve()
        assert context == PROJECT_ROOT, f"{name}: build context {context} is not the repository root"
        assert (context / build["dockerfile"]).resolve() == DOCKERFILE
        image = service["image"]
        assert image.rsplit(":", 1)[-1] == version, f"{name}: image {image} is not tagged {version}"
    for name, service in services.items():
        image = service.get("image", "")
        if "apache/airflow" in image:
            assert f":{version}" in image, f"{name} runs {image}, not Airflow {version}"


def test_airflow_services_load_no_examples_and_execute_with_celery(airflow_services):
    for name, service in airflow_services.items():
        environment = environment_of(service)
        assert environment.get("AIRFLOW__CORE__LOAD_EXAMPLES", "").lower() == "false", name
        assert environment.get("AIRFLOW__CORE__EXECUTOR") == "CeleryExecutor", name


def test_airflow_services_reach_the_warehouse_and_the_tools(airflow_services):
    sources_config = yaml.safe_load((PROJECT_ROOT / "config" / "sources.yml").read_text())
    variables_of_sources = {
        match.group(1)
        for text in strings_in(sources_config)
        for match in re.finditer(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text)
    }
    assert variables_of_sources, "config/sources.yml names no ${ENV_VAR}"
    for name, service in airflow_services.items():
        environment = environment_of(service)
        connection = environment.get("AIRFLOW_CONN_PMO_WAREHOUSE", "")
        assert re.match(r"postgres(ql)?://pmo_loader:\$\{[^}]+\}@warehouse:5432/pmo_warehouse$", connection), (
            f"{name}: AIRFLOW_CONN_PMO_WAREHOUSE={connection!r}"
        )
        missing = variables_of_sources - set(environment)
        assert not missing, f"{name} lacks the variables config/sources.yml reads: {sorted(missing)}"


def test_no_password_token_or_key_is_written_in_the_compose_file(services, compose):
    for name, service in services.items():
        for key, value in environment_of(service).items():
            if SECRET_NAME.search(key) and value:
                assert only_references(value), f"{name}: {key} must be a ${{VAR}} reference, got {value!r}"
    for text in strings_in(compose):
        for match in URL_PASSWORD.finditer(text):
            assert only_references(match.group("password")), f"a URL carries a literal password: {text!r}"
        for match in REQUIREPASS.finditer(text):
            assert match.group("value").strip("\"'").startswith("$"), f"a literal password: {text!r}"


def test_secrets_have_no_default_and_infrastructure_secrets_are_required(compose_text):
    for match in COMPOSE_VARIABLE.finditer(compose_text):
        if SECRET_NAME.search(match.group("name")) and (match.group("operator") or "").endswith("-"):
            assert not match.group("rest"), f"{match.group(0)} defaults to a literal"
    required = {name for name, operators in compose_variables(compose_text).items() if operators & {":?", "?"}}
    for name in (
        "AIRFLOW_DB_PASSWORD",
        "REDIS_PASSWORD",
        "AIRFLOW_FERNET_KEY",
        "AIRFLOW_API_SECRET_KEY",
        "AIRFLOW_JWT_SECRET",
        "AIRFLOW_ADMIN_PASSWORD",
        "WAREHOUSE_ADMIN_PASSWORD",
        "WAREHOUSE_LOADER_PASSWORD",
        "WAREHOUSE_BI_READER_PASSWORD",
    ):
        assert name in required, (
            f"${{{name}}} must be required (${{{name}:?...}}) so Compose refuses to start without it"
        )


def test_every_variable_is_documented_in_env_example_without_a_secret_value(compose_text):
    documented = env_file_entries(ENV_EXAMPLE.read_text())
    undocumented = set(compose_variables(compose_text)) - set(documented)
    assert not undocumented, f"docker/.env.example does not list {sorted(undocumented)}"
    for name, value in documented.items():
        if SECRET_NAME.search(name):
            assert value == "", f"docker/.env.example gives {name} a value: leave secrets empty"


def test_the_env_file_with_real_secrets_is_never_committed():
    ignored = (PROJECT_ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in ignored, ".gitignore must ignore .env files (docker/.env included)"


def test_the_warehouse_runs_its_init_scripts_with_the_passwords_they_read(services):
    warehouse = services["warehouse"]
    mounts = [volume for volume in warehouse["volumes"] if isinstance(volume, str)]
    init_mount = next(volume for volume in mounts if "/docker-entrypoint-initdb.d" in volume)
    source = (COMPOSE_FILE.parent / init_mount.split(":", 1)[0]).resolve()
    assert source == WAREHOUSE_INIT_DIR
    assert init_mount.endswith(":ro"), "mount the init scripts read-only"
    scripts = "\n".join(path.read_text() for path in sorted(WAREHOUSE_INIT_DIR.glob("*.sql")))
    wanted = set(re.findall(r"\\getenv\s+\w+\s+(\w+)", scripts))
    assert wanted, "the init scripts read no password from the environment"
    assert wanted <= set(environment_of(warehouse)), f"the warehouse service lacks {wanted}"


def test_metabase_is_optional_behind_the_bi_profile(services):
    assert services["metabase"].get("profiles") == ["bi"]
    assert services["metabase"]["depends_on"]["warehouse"]["condition"] == "service_healthy"
