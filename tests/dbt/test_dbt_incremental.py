"""Incremental models after a night of changes equal a full refresh of the same raw data.

The demo world is landed by the real connectors and built; then a night of changes (edits, status
moves, deletes, new items and worklogs) is applied in the simulators and landed incrementally, each
incremental model is built incrementally, its rows are read, and it is rebuilt with `--full-refresh`
to be read again: both must hold the very same rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from simulators.asana import AsanaSimulator
from simulators.changes import NightChanges, apply_night_changes
from simulators.jira import JiraSimulator
from simulators.smartsheet import SmartsheetSimulator
from simulators.world import WorldConfig, build_world
from tests.conftest import create_database, drop_database
from tests.dbt.conftest import land_from_simulators, run_dbt

ANCHOR_DATE = date(2026, 3, 10)
INCREMENTAL_MODELS = {
    "stg_jira__issues": "staging.stg_jira__issues",
    "stg_jira__worklogs": "staging.stg_jira__worklogs",
    "int_status_changes": "intermediate.int_status_changes",
}
SELECTION = " ".join(f"+{model}" for model in INCREMENTAL_MODELS)


@dataclass
class Night:
    """Each incremental model's rows before the night, after it incrementally, and after a full refresh."""

    before: dict[str, list[tuple]]
    incremental: dict[str, list[tuple]]
    full_refresh: dict[str, list[tuple]]
    changes: NightChanges
    connection: psycopg.Connection


def rows_of(connection: psycopg.Connection) -> dict[str, list[tuple]]:
    return {
        model: sorted(connection.execute(f"select * from {relation}").fetchall(), key=repr)
        for model, relation in INCREMENTAL_MODELS.items()
    }


def build(url: str, work_dir: Path, *options: str) -> None:
    invocation = run_dbt(["run", "--select", SELECTION, *options], url, work_dir, run_date=ANCHOR_DATE.isoformat())
    assert invocation.returncode == 0, invocation.output[-5000:]


@pytest.fixture(scope="module")
def night(warehouse_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Night]:
    world = build_world(WorldConfig(anchor_date=ANCHOR_DATE))
    url = create_database(warehouse_server)
    work_dir = tmp_path_factory.mktemp("dbt_incremental")
    with ExitStack() as stack:
        # The simulated Jira's clock stands an hour after the world's last moment; the night's changes
        # are stamped half an hour after it, so the incremental feeds show them.
        jira = stack.enter_context(
            JiraSimulator(world, clock=lambda: world.anchor_instant + timedelta(hours=1), rate_limit_per_second=100_000)
        )
        asana = stack.enter_context(AsanaSimulator(world))
        sheets = stack.enter_context(SmartsheetSimulator(world))
        land_from_simulators(url, jira, asana, sheets)
        build(url, work_dir)
        with psycopg.connect(url, autocommit=True) as connection:
            before = rows_of(connection)
            changes = apply_night_changes(
                1, jira=jira, asana=asana, smartsheet=sheets, now=world.anchor_instant + timedelta(minutes=32)
            )
            land_from_simulators(url, jira, asana, sheets)
            build(url, work_dir)
            incremental = rows_of(connection)
            build(url, work_dir, "--full-refresh")
            yield Night(before, incremental, rows_of(connection), changes, connection)
    drop_database(url)


@pytest.mark.parametrize("model", sorted(INCREMENTAL_MODELS))
def test_an_incremental_run_after_a_night_of_changes_equals_a_full_refresh(night: Night, model: str) -> None:
    assert night.full_refresh[model], "the full refresh built rows"
    assert night.before[model] != night.full_refresh[model], "the night changed the model's rows"
    assert night.incremental[model] == night.full_refresh[model]


def test_the_night_moved_statuses_and_deleted_issues(night: Night) -> None:
    deleted = night.changes.deleted["jira"]
    flags = dict(
        night.connection.execute(
            "select source_work_item_id, bool_and(is_deleted) from intermediate.int_status_changes"
            " where source_work_item_id = any(%s) group by 1",
            (deleted,),
        ).fetchall()
    )
    assert flags and all(flags.values()), "a deleted issue's changes are flagged deleted"
    moved_to_done = night.connection.execute(
        "select count(*) from intermediate.int_status_changes where source_work_item_id = any(%s)"
        " and to_status = 'Done' and changed_at > %s",
        (night.changes.edited["jira"], ANCHOR_DATE),
    ).fetchone()[0]
    assert moved_to_done > 0, "the night's status moves are among the changes"
