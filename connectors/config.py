"""The sources config: which tool instances the nightly refresh pulls, and how to reach each one.

One YAML file (`PMO_SOURCES_CONFIG`, default `config/sources.yml`) lists instances per tool:

    jira:
      - instance: acme                      # names the rows in raw (source_instance) and the DAG's tasks
        base_url: https://acme.atlassian.net
        email: pmo-bot@acme.example
        api_token: ${JIRA_ACME_API_TOKEN}   # a secret: ${ENV_VAR}, or airflow:<conn_id> (its password)
    asana:
      - instance: main
        token: ${ASANA_TOKEN}
        workspace_gid: "1200000000000"
    smartsheet:
      - instance: pmo
        base_url: https://api.eu.smartsheet.com/2.0
        token: airflow:smartsheet_pmo
        register_sheet_id: 1234567890123456
        rate_card_sheet_id: 2345678901234567

Reading and validating the file touches neither network nor database, so the DAG can build its
task per instance at parse time; secrets are resolved only when a task runs, and never logged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TOOLS = ("jira", "asana", "smartsheet")
SECRET_KEYS = {"api_token", "token", "password"}
ENV_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
INSTANCE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class ConfigError(ValueError):
    """The sources config is missing, malformed, or names a secret that is not set."""


@dataclass(frozen=True)
class SourceInstance:
    """One instance of one tool, with its options as written (secrets still unresolved)."""

    tool: str
    instance: str
    options: Mapping[str, Any]

    @property
    def name(self) -> str:
        return f"{self.tool}_{self.instance}"

    def resolved_options(self, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The options with every `${ENV_VAR}` and `airflow:<conn_id>` replaced by its value."""
        env = os.environ if environ is None else environ
        return {key: _resolve(self, key, value, env) for key, value in self.options.items()}

    def __repr__(self) -> str:
        return f"SourceInstance(tool={self.tool!r}, instance={self.instance!r})"


def _resolve(source: SourceInstance, key: str, value: Any, env: Mapping[str, str]) -> Any:
    if not isinstance(value, str):
        return value
    reference = ENV_REFERENCE.match(value.strip())
    if reference:
        name = reference.group(1)
        if not env.get(name):
            raise ConfigError(f"{source.name}: {key} names the environment variable {name}, which is not set")
        return env[name]
    if value.startswith("airflow:"):
        conn_id = value.removeprefix("airflow:").strip()
        from airflow.sdk import BaseHook

        connection = BaseHook.get_connection(conn_id)
        if not connection.password:
            raise ConfigError(f"{source.name}: the Airflow connection {conn_id!r} has no password for {key}")
        return connection.password
    if key in SECRET_KEYS:
        raise ConfigError(
            f"{source.name}: {key} is written in the config file; give it as ${{ENV_VAR}} or airflow:<conn_id>"
        )
    return value


def default_config_path() -> Path:
    from warehouse.settings import project_root

    return Path(os.environ.get("PMO_SOURCES_CONFIG") or project_root() / "config" / "sources.yml")


def load_sources(path: Path | str | None = None) -> list[SourceInstance]:
    """Read and validate the sources config; errors name the file and the offending entry."""
    config_path = Path(path) if path else default_config_path()
    if not config_path.exists():
        raise ConfigError(f"sources config {config_path} does not exist (set PMO_SOURCES_CONFIG)")
    try:
        document = yaml.safe_load(config_path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{config_path} is not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise ConfigError(f"{config_path}: expected a mapping of tool names to lists of instances")
    unknown = set(document) - set(TOOLS)
    if unknown:
        raise ConfigError(f"{config_path}: unknown tools {sorted(unknown)}; known: {', '.join(TOOLS)}")
    sources: list[SourceInstance] = []
    for tool in TOOLS:
        entries = document.get(tool) or []
        if not isinstance(entries, list):
            raise ConfigError(f"{config_path}: {tool} must be a list of instances")
        seen: set[str] = set()
        for position, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict) or not entry.get("instance"):
                raise ConfigError(f"{config_path}: {tool} entry {position} needs an `instance` name")
            instance = str(entry["instance"])
            if not INSTANCE_NAME.match(instance):
                raise ConfigError(
                    f"{config_path}: {tool} instance {instance!r} must be lowercase letters, digits and _"
                )
            if instance in seen:
                raise ConfigError(f"{config_path}: {tool} instance {instance!r} is listed twice")
            seen.add(instance)
            sources.append(SourceInstance(tool, instance, dict(entry)))
    return sources


def _extractor(tool: str) -> Callable[..., list[dict[str, Any]]]:
    if tool == "jira":
        from connectors.jira.settings import JiraSettings
        from connectors.jira.streams import extract_jira

        return lambda options, url, full_refresh: extract_jira(
            JiraSettings.from_mapping(options), url, full_refresh=full_refresh
        )
    if tool == "asana":
        from connectors.asana.settings import AsanaSettings
        from connectors.asana.streams import extract_asana

        return lambda options, url, full_refresh: extract_asana(
            AsanaSettings.from_mapping(options), url, full_refresh=full_refresh
        )
    if tool == "smartsheet":
        from connectors.smartsheet.settings import SmartsheetSettings
        from connectors.smartsheet.streams import extract_smartsheet

        return lambda options, url, full_refresh: extract_smartsheet(
            SmartsheetSettings.from_mapping(options), url, full_refresh=full_refresh
        )
    raise ConfigError(f"unknown tool {tool!r}")


def run_source(source: SourceInstance, warehouse_url: str, full_refresh: bool = False) -> list[dict[str, Any]]:
    """Run every stream of one configured instance into the warehouse."""
    return _extractor(source.tool)(source.resolved_options(), warehouse_url, full_refresh)
