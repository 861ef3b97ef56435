"""Fixtures for the dbt project's tests: a small hand-written Jira world landed in `raw` the way
the connectors land it, in a database of its own on the test run's PostgreSQL server, and one
`dbt build` over it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from connectors.asana.settings import AsanaSettings
from connectors.asana.streams import extract_asana
from connectors.jira.settings import JiraSettings
from connectors.jira.streams import extract_jira
from connectors.raw_store import StreamWriter
from connectors.smartsheet.settings import SmartsheetSettings
from connectors.smartsheet.streams import extract_smartsheet
from tests.conftest import create_database, drop_database
from warehouse import dbt_cli, settings
from warehouse.embedded import environment_with_dbt

FIXTURES_DIR = Path(__file__).parent / "fixtures"
DBT_PROJECT_DIR = settings.project_root() / "dbt_project"
FIXTURE_RUN_DATE = "2026-03-10"

JIRA_RECORD_IDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "projects": lambda record: record["id"],
    "fields": lambda record: record["id"],
    "users": lambda record: record["accountId"],
    "issues": lambda record: record["id"],
    "worklogs": lambda record: record["id"],
    "issue_changelogs": lambda record: record["issueId"],
}
JIRA_CURSORS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "issues": lambda record: record["fields"]["updated"],
    "worklogs": lambda record: record["updated"],
}


def land_jira_stream(
    connection: psycopg.Connection,
    stream: str,
    records: list[Any],
    deleted_ids: list[str] | tuple[str, ...] = (),
    source_instance: str = "default",
) -> None:
    """Land one Jira stream in raw as the connector does: its records, then its tombstones."""
    writer = StreamWriter(
        connection,
        source_system="jira",
        source_instance=source_instance,
        stream=stream,
        record_id=JIRA_RECORD_IDS[stream],
        cursor_value=JIRA_CURSORS.get(stream),
    )
    writer.begin()
    writer.write_page(records)
    if deleted_ids:
        writer.mark_deleted(deleted_ids)
    writer.finish(state={})


def load_jira_fixture(connection: psycopg.Connection, source_instance: str = "default") -> None:
    """Land every `fixtures/jira_<stream>.json` (`{"records": [...], "deleted": [ids]}`) in raw."""
    for stream in JIRA_RECORD_IDS:
        document = json.loads((FIXTURES_DIR / f"jira_{stream}.json").read_text())
        land_jira_stream(connection, stream, document["records"], document["deleted"], source_instance)


@dataclass
class DbtInvocation:
    returncode: int
    output: str
    run_results: dict[str, Any]

    def failures(self) -> list[str]:
        return [
            f"{result['unique_id']}: {result['status']} {result.get('message') or ''}"
            for result in self.run_results.get("results", [])
            # Exposures are listed in a build's results as no-ops: they have nothing to run.
            if result["status"] not in {"success", "pass"} and not result["unique_id"].startswith("exposure.")
        ]

    def check(self) -> DbtInvocation:
        assert self.returncode == 0, "\n".join(self.failures()) or self.output[-5000:]
        return self


def run_dbt(
    command: list[str],
    url: str,
    work_dir: Path,
    run_date: str = FIXTURE_RUN_DATE,
    variables: dict[str, object] | None = None,
    project_dir: Path = DBT_PROJECT_DIR,
) -> DbtInvocation:
    """Run a dbt command on the project (or a copy of it in `project_dir`) against `url`, writing its
    artifacts under `work_dir`, with `run_date` and any other `variables` given to dbt."""
    target_path = work_dir / "target"
    environment = {
        **environment_with_dbt(url),
        "DBT_TARGET_PATH": str(target_path),
        "DBT_LOG_PATH": str(work_dir / "logs"),
    }
    completed = subprocess.run(
        [
            *dbt_cli.command(),
            *command,
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
            "--vars",
            json.dumps({"run_date": run_date, **(variables or {})}),
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    results_file = target_path / "run_results.json"
    run_results = json.loads(results_file.read_text()) if results_file.exists() else {}
    return DbtInvocation(completed.returncode, completed.stdout + completed.stderr, run_results)


# When a run wrote the row, not what it says: an incremental run, a full refresh and a rebuild write
# the same rows at different times (`hours_since_success` counts from the build's start).
WRITTEN_AT_COLUMNS = {"built_at", "placed_at", "hours_since_success"}


def records(connection: psycopg.Connection, relation: str) -> list[dict]:
    """A relation's rows as dicts, without the columns saying when a run wrote them."""
    cursor = connection.execute(f"select * from {relation}")
    names = [column.name for column in cursor.description]
    return [
        {name: value for name, value in zip(names, row, strict=True) if name not in WRITTEN_AT_COLUMNS}
        for row in cursor
    ]


def sorted_rows(connection: psycopg.Connection, relation: str) -> list[tuple]:
    """A relation's rows as sorted tuples, without the columns saying when a run wrote them."""
    return sorted((tuple(row.values()) for row in records(connection, relation)), key=repr)


@pytest.fixture(scope="session")
def jira_fixture_warehouse(warehouse_server: str) -> Iterator[str]:
    """A database of its own on the test run's server, holding the hand-written Jira fixture in `raw`."""
    url = create_database(warehouse_server)
    with psycopg.connect(url) as connection:
        load_jira_fixture(connection)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def dbt_build(jira_fixture_warehouse: str, tmp_path_factory: pytest.TempPathFactory) -> DbtInvocation:
    return run_dbt(["build"], jira_fixture_warehouse, tmp_path_factory.mktemp("dbt"))


@pytest.fixture(scope="session")
def marts(dbt_build: DbtInvocation, jira_fixture_warehouse: str) -> Iterator[psycopg.Connection]:
    """A connection to the warehouse once `dbt build` has run over the fixture."""
    assert dbt_build.returncode == 0, "\n".join(dbt_build.failures()) or dbt_build.output[-5000:]
    with psycopg.connect(jira_fixture_warehouse, autocommit=True) as connection:
        yield connection


def land_from_simulators(url: str, jira: Any, asana: Any, sheets: Any) -> dict[str, list[dict]]:
    """Everything the three running simulators serve, extracted into `url` by the real connectors."""
    return {
        "jira": extract_jira(
            JiraSettings.from_mapping(
                {"base_url": jira.url, "email": jira.email, "api_token": "sim-token", "requests_per_minute": 0}
            ),
            url,
        ),
        "asana": extract_asana(
            AsanaSettings(base_url=asana.api_url, token="asana-sim-token", requests_per_minute=None), url
        ),
        "smartsheet": extract_smartsheet(
            SmartsheetSettings(
                base_url=sheets.base_url,
                token="smartsheet-sim-token",
                register_sheet_id=sheets.account.register_sheet_id,
                rate_card_sheet_id=sheets.account.rate_card_sheet_id,
                requests_per_minute=None,
            ),
            url,
        ),
    }
