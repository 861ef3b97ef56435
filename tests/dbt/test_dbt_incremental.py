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
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from connectors.jira.settings import ISSUE_FIELDS
from simulators.asana import AsanaSimulator
from simulators.changes import NightChanges, apply_night_changes
from simulators.jira import JiraSimulator
from simulators.smartsheet import SmartsheetSimulator
from simulators.world import WorldConfig, build_world
from tests.conftest import create_database, drop_database
from tests.dbt.conftest import land_from_simulators, records, run_dbt, sorted_rows

ANCHOR_DATE = date(2026, 3, 10)
INCREMENTAL_MODELS = {
    "stg_jira__issues": "staging.stg_jira__issues",
    "stg_jira__worklogs": "staging.stg_jira__worklogs",
    "stg_jira__status_changes": "staging.stg_jira__status_changes",
    "int_status_changes": "intermediate.int_status_changes",
    "int_work_items_unioned": "intermediate.int_work_items_unioned",
    "int_time_entries": "intermediate.int_time_entries",
    "fct_time_entries": "marts.fct_time_entries",
    "fct_status_changes": "marts.fct_status_changes",
    "fct_work_items": "marts.fct_work_items",
    "int_project_daily_events": "intermediate.int_project_daily_events",
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
    rerated: RateChange
    remapped: Remap
    url: str
    work_dir: Path
    status_changes_rebuilt: set[str]
    issues_rewritten: set[str]
    jira_items_rebuilt: set[str]
    items_written: dict[str, set[str]]
    night_build_output: str


@dataclass
class RateChange:
    """A person's rate card row given a new hourly rate, and a Jira project given a new default rate."""

    email: str
    hourly_rate: Decimal
    project_code: str
    default_hourly_rate: Decimal


@dataclass
class Remap:
    """A register row pointed at a Jira project no row named: the issues of both move project."""

    project_code: str
    jira_project_key: str
    previous_jira_project_key: str


def rows_of(connection: psycopg.Connection) -> dict[str, list[tuple]]:
    return {model: sorted_rows(connection, relation) for model, relation in INCREMENTAL_MODELS.items()}


def build(url: str, work_dir: Path, *options: str) -> str:
    """A build of the incremental models and what they read; returns dbt's output."""
    # `build` without tests, so the seeds the time entries' lookups read are loaded too
    command = ["build", "--select", SELECTION, "--exclude-resource-type", "test", "unit_test", *options]
    invocation = run_dbt(command, url, work_dir, run_date=ANCHOR_DATE.isoformat())
    assert invocation.returncode == 0, invocation.output[-5000:]
    return invocation.output


def run_model(
    night: Night, *models: str, run_date: date = ANCHOR_DATE, variables: dict[str, object] | None = None
) -> None:
    """An incremental run of `models` alone, on the night's warehouse."""
    invocation = run_dbt(
        ["run", "--select", *models], night.url, night.work_dir, run_date=run_date.isoformat(), variables=variables
    )
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
            rerated = change_rates(world, sheets, at=world.anchor_instant + timedelta(minutes=33))
            remapped = remap_project(world, sheets, rerated, at=world.anchor_instant + timedelta(minutes=34))
            landed_before = connection.execute("select max(loaded_at) from raw.jira_issues").fetchone()[0]
            land_from_simulators(url, jira, asana, sheets)
            night_build_output = build(url, work_dir)
            incremental = rows_of(connection)
            rebuilt = issue_ids(
                connection,
                "select source_work_item_id from intermediate.int_status_changes"
                " where built_at = (select max(built_at) from intermediate.int_status_changes)",
            )
            rewritten = issue_ids(
                connection, "select record_id from raw.jira_issues where loaded_at > %s", landed_before
            )
            items_rebuilt = issue_ids(
                connection,
                "select source_id from intermediate.int_work_items_unioned where source_system = 'jira'"
                " and built_at = (select max(built_at) from intermediate.int_work_items_unioned)",
            )
            items_written = {
                tool: issue_ids(
                    connection,
                    "select source_id from intermediate.int_work_items_unioned where source_system = %s"
                    " and built_at = (select max(built_at) from intermediate.int_work_items_unioned)",
                    tool,
                )
                for tool in ("asana", "smartsheet")
            }
            build(url, work_dir, "--full-refresh")
            yield Night(
                before,
                incremental,
                rows_of(connection),
                changes,
                connection,
                rerated,
                remapped,
                url,
                work_dir,
                rebuilt,
                rewritten,
                items_rebuilt,
                items_written,
                night_build_output,
            )
    drop_database(url)


def issue_ids(connection: psycopg.Connection, query: str, *params: object) -> set[str]:
    return {row[0] for row in connection.execute(query, params)}


def most_common(connection: psycopg.Connection, column: str, rows: str, *params: object) -> str:
    """The value of `column` that most of `rows` (a relation and its `where`) hold; the least such on a tie."""
    return connection.execute(
        f"select {column} from {rows} group by 1 order by count(*) desc, 1 limit 1", params
    ).fetchone()[0]


def change_rates(world, sheets: SmartsheetSimulator, *, at: datetime) -> RateChange:
    """Raise a Jira project's default rate and the latest rate card row of one of its people: lookups
    that change the cost of time entries the night did not touch. The project is one where someone
    without a rate card logs time, so its default rate is in use."""
    carded = {row.email for row in world.rate_card}
    project = next(
        project
        for project in world.register_projects()
        if project.tool == "jira" and any(email not in carded for email in project.team_emails)
    )
    default_hourly_rate = project.default_hourly_rate + 11
    sheets.update_register(project.project_code, {"default_hourly_rate": float(default_hourly_rate)}, at=at)
    rate_card = sheets.account.rate_card_sheet
    rows = [row for row in rate_card.rows if rate_card.value(row, "email") in project.team_emails]
    row = max(rows, key=lambda row: str(rate_card.value(row, "effective_from")))
    hourly_rate = Decimal(str(rate_card.value(row, "hourly_rate"))) + 7
    sheets.update_cells(rate_card.id, row["id"], {"hourly_rate": float(hourly_rate)}, at=at)
    return RateChange(rate_card.value(row, "email"), hourly_rate, project.project_code, default_hourly_rate)


def remap_project(world, sheets: SmartsheetSimulator, rerated: RateChange, *, at: datetime) -> Remap:
    """Point a Jira project's register row (not the re-rated one's) at a Jira project no row names:
    no issue changes, but the issues of both projects now belong to other projects."""
    unregistered = next(project for project in world.projects if project.tool == "jira" and not project.in_register)
    registered = next(
        project
        for project in reversed(world.register_projects())
        if project.tool == "jira" and project.project_code != rerated.project_code
    )
    sheets.update_register(registered.project_code, {"source_project_key": unregistered.source_project_key}, at=at)
    return Remap(registered.project_code, unregistered.source_project_key, registered.source_project_key)


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


def test_status_changes_are_rebuilt_for_moved_and_deleted_issues_not_for_every_issue_written(night: Night) -> None:
    """A worklog rewrites its issue's row (time spent, update time) but not its changelog: such an
    issue's status changes are kept as they were."""
    worklog_issues = issue_ids(
        night.connection,
        "select issue_id from staging.stg_jira__worklogs where worklog_id = any(%s)",
        night.changes.added["jira_worklogs"],
    )
    with_changes = issue_ids(night.connection, "select source_work_item_id from intermediate.int_status_changes")
    only_logged = (worklog_issues & night.issues_rewritten & with_changes) - set(night.changes.edited["jira"])
    assert only_logged, "some issues were rewritten by a new worklog alone"
    assert not only_logged & night.status_changes_rebuilt
    assert set(night.changes.deleted["jira"]) & with_changes <= night.status_changes_rebuilt
    assert set(night.changes.edited["jira"]) & night.status_changes_rebuilt, "edited issues were rebuilt"


def test_jira_items_are_rebuilt_for_issues_written_changed_or_remapped_not_every_issue(night: Night) -> None:
    """The issues the loader wrote, those whose status changes were rebuilt and those of the remapped
    projects (their rows unchanged) are rebuilt; the other issues are kept as they were."""
    remapped = issue_ids(
        night.connection,
        "select issue_id from staging.stg_jira__issues where project_key = %s",
        night.remapped.jira_project_key,
    )
    remapped_away = issue_ids(
        night.connection,
        "select issue_id from staging.stg_jira__issues where project_key = %s",
        night.remapped.previous_jira_project_key,
    )
    every_issue = issue_ids(night.connection, "select issue_id from staging.stg_jira__issues")
    assert remapped - night.issues_rewritten, "some issues of the newly registered project were not written"
    assert remapped_away - night.issues_rewritten, "some issues of the project no longer registered were not written"
    assert remapped <= night.jira_items_rebuilt
    assert remapped_away <= night.jira_items_rebuilt
    assert night.issues_rewritten <= night.jira_items_rebuilt
    assert night.status_changes_rebuilt <= night.jira_items_rebuilt
    assert len(night.jira_items_rebuilt) < len(every_issue) / 2, "most issues were kept as they were"


@pytest.mark.parametrize("tool", ["asana", "smartsheet"])
def test_asana_and_smartsheet_items_are_written_again_only_when_their_row_changed(night: Night, tool: str) -> None:
    """Only the Asana tasks and plan rows whose row changed (edited, deleted or new) are written again,
    the others keep the row and `built_at` they had."""
    changed = set(night.changes.edited[tool]) | set(night.changes.deleted[tool]) | set(night.changes.added[tool])
    every_item = issue_ids(
        night.connection, "select source_id from intermediate.int_work_items_unioned where source_system = %s", tool
    )
    assert changed & every_item, "the night changed some of the tool's items"
    assert changed & every_item <= night.items_written[tool]
    assert len(night.items_written[tool]) < len(every_item) / 2, "most items kept the row they had"


def test_a_new_milestone_issue_type_rebuilds_every_jira_item(night: Night) -> None:
    """The Jira items keep a fingerprint of the vars and fields they were read with: an incremental
    run after the milestone issue type changed rebuilds every one of them, with no raw row written."""
    table = "intermediate.int_work_items_unioned"

    def build_items(**variables: str) -> None:
        run_model(night, "int_work_items_unioned", variables=variables)

    def milestones() -> tuple[int, int, int]:
        return night.connection.execute(
            f"select count(*) filter (where items.is_milestone), count(*) filter (where items.built_at ="
            f" (select max(built_at) from {table})), count(*) from {table} as items where items.source_system = 'jira'"
        ).fetchone()

    tasks = night.connection.execute(
        "select count(*) from staging.stg_jira__issues where lower(issue_type_name) = 'task'"
    ).fetchone()[0]
    try:
        build_items(jira_milestone_issue_type="Task")
        milestone_items, rebuilt, jira_items = milestones()
        assert tasks > 0
        assert milestone_items == tasks, "every Jira task is a milestone now"
        assert rebuilt == jira_items, "every Jira item was rebuilt"
    finally:
        build_items()  # the project's own milestone issue type
    milestone_items, rebuilt, jira_items = milestones()
    assert milestone_items < tasks
    assert rebuilt == jira_items


def indexes_of(connection: psycopg.Connection, table: str) -> dict[str, str]:
    """A table's indexes (`schema.table`): each one's name and definition."""
    schema, name = table.split(".")
    return dict(
        connection.execute(
            "select indexname, indexdef from pg_indexes where schemaname = %s and tablename = %s", (schema, name)
        ).fetchall()
    )


def test_changes_whose_stored_category_no_longer_holds_are_rebuilt_found_through_their_indexes(
    night: Night,
) -> None:
    """A stored change whose status's category is not the one the issues holding that status say now
    (a status moved category in Jira) is rebuilt. The statuses the stored changes name are read
    through an index on each side's status; a table without those indexes gets them before the run
    reads it (`create_missing_indexes`)."""
    table = "intermediate.int_status_changes"

    def fingerprint_indexes() -> dict[str, list[str]]:
        definitions = indexes_of(night.connection, table)
        return {
            side: [name for name, definition in definitions.items() if f"{side}_status_id" in definition]
            for side in ("from", "to")
        }

    indexes = fingerprint_indexes()
    assert [len(names) for names in indexes.values()] == [1, 1], "the full refresh built one index per side"
    for names in indexes.values():
        night.connection.execute(sql.SQL("drop index {}").format(sql.Identifier("intermediate", names[0])))
    done_issue = night.connection.execute(
        f"select work_item_key from {table} where to_category = 'done' order by work_item_key limit 1"
    ).fetchone()[0]
    night.connection.execute(
        f"update {table} set to_category = 'todo' where work_item_key = %s and to_category = 'done'", (done_issue,)
    )
    run_model(night, "int_status_changes")
    indexes = fingerprint_indexes()
    assert [len(names) for names in indexes.values()] == [1, 1]
    scans = night.connection.execute(
        "select indexrelname, idx_scan from pg_stat_user_indexes where indexrelname = any(%s)",
        ([names[0] for names in indexes.values()],),
    ).fetchall()
    assert len(scans) == 2 and all(count > 0 for _, count in scans), f"the run read through the new indexes: {scans}"
    assert sorted_rows(night.connection, table) == night.full_refresh["int_status_changes"]


def test_an_incremental_table_gets_the_configured_indexes_it_lacks_once(night: Night) -> None:
    """dbt creates configured indexes only with the table: a run of an incremental model creates
    those its table lacks, a column index and an expression index alike, and a second run none."""
    lacking = {
        "staging.stg_jira__issues": "greatest(loaded_at, deleted_at)",
        "intermediate.int_work_items_unioned": "(built_at)",
    }

    def run_models() -> None:
        run_model(night, "stg_jira__issues", "int_work_items_unioned")

    built = {table: indexes_of(night.connection, table) for table in lacking}
    for table, wanted in lacking.items():
        (dropped,) = [name for name, definition in built[table].items() if wanted in definition.lower()]
        night.connection.execute(sql.SQL("drop index {}").format(sql.Identifier(table.split(".")[0], dropped)))
        assert len(indexes_of(night.connection, table)) == len(built[table]) - 1
    run_models()
    for table, wanted in lacking.items():
        assert len(indexes_of(night.connection, table)) == len(built[table])
        assert [
            definition for definition in indexes_of(night.connection, table).values() if wanted in definition.lower()
        ]
    run_models()
    assert {table: len(indexes_of(night.connection, table)) for table in lacking} == {
        table: len(built[table]) for table in lacking
    }


def check_constraints_of(connection: psycopg.Connection, table: str) -> set[str]:
    """The names of a table's (`schema.table`) check constraints."""
    return {
        name
        for (name,) in connection.execute(
            "select conname from pg_constraint where contype = 'c' and conrelid = %s::regclass", (table,)
        ).fetchall()
    }


def test_an_incremental_mart_gets_the_check_constraints_it_lacks_and_keeps_them(night: Night) -> None:
    """dbt sets a contract's check constraints only with the table: a run of an incremental mart adds
    those its table lacks (PostgreSQL checking the rows already there), and a second run adds none."""
    lacking = {"marts.fct_work_items": "status_category_accepted", "marts.fct_time_entries": "rate_source_accepted"}
    built = {table: check_constraints_of(night.connection, table) for table in lacking}
    for table, name in lacking.items():
        assert name in built[table]
        night.connection.execute(
            sql.SQL("alter table {} drop constraint {}").format(sql.Identifier(*table.split(".")), sql.Identifier(name))
        )
        assert check_constraints_of(night.connection, table) == built[table] - {name}
    run_model(night, "fct_work_items", "fct_time_entries")
    assert {table: check_constraints_of(night.connection, table) for table in lacking} == built
    run_model(night, "fct_work_items", "fct_time_entries")
    assert {table: check_constraints_of(night.connection, table) for table in lacking} == built


def test_a_test_of_an_incremental_model_reads_the_rows_its_latest_run_wrote(night: Night) -> None:
    """`where: __built_last__`: a bad value fails the test in a row the latest run wrote, and is not
    read again in a row an earlier run wrote."""
    table = "intermediate.int_status_changes"
    key = night.connection.execute(
        f"select status_change_key from {table} where built_at = (select max(built_at) from {table}) limit 1"
    ).fetchone()[0]

    def source_system_test_passes() -> bool:
        test = "row_checks_int_status_changes"
        invocation = run_dbt(["test", "--select", test], night.url, night.work_dir, run_date=ANCHOR_DATE.isoformat())
        assert "Nothing to do" not in invocation.output
        return invocation.returncode == 0

    try:
        assert source_system_test_passes()
        night.connection.execute(f"update {table} set source_system = 'bogus' where status_change_key = %s", (key,))
        assert not source_system_test_passes(), "a bad value in a row the latest run wrote fails"
        night.connection.execute(
            f"update {table} set built_at = built_at - interval '1 day' where status_change_key = %s", (key,)
        )
        assert source_system_test_passes(), "an earlier run's row is not read again"
    finally:
        night.connection.execute(
            f"update {table} set source_system = 'jira', built_at = (select max(built_at) from {table})"
            " where status_change_key = %s",
            (key,),
        )


def test_new_rates_reach_time_entries_the_night_did_not_touch(night: Night) -> None:
    rerated = night.connection.execute(
        "select count(*) from intermediate.int_time_entries"
        " where person_email = %s and rate_source = 'rate_card' and hourly_rate = %s",
        (night.rerated.email, night.rerated.hourly_rate),
    ).fetchone()[0]
    assert rerated > 0, "entries of the re-rated person cost the new rate"
    defaulted = night.connection.execute(
        "select count(*) from intermediate.int_time_entries as entries"
        " inner join intermediate.int_projects_mapped as projects on entries.project_key = projects.project_key"
        " where projects.project_code = %s and entries.rate_source = 'project_default'",
        (night.rerated.project_code,),
    ).fetchone()[0]
    costed_at_new_default = night.connection.execute(
        "select count(*) from intermediate.int_time_entries as entries"
        " inner join intermediate.int_projects_mapped as projects on entries.project_key = projects.project_key"
        " where projects.project_code = %s and entries.rate_source = 'project_default' and entries.hourly_rate = %s",
        (night.rerated.project_code, night.rerated.default_hourly_rate),
    ).fetchone()[0]
    assert defaulted > 0, "the project has entries at its default rate"
    assert costed_at_new_default == defaulted


TIME_ENTRIES = "intermediate.int_time_entries"
KEPT_ACCOUNT_LOOKUPS = "intermediate.int_time_entries__account_lookups"
KEPT_PROJECT_RATES = "intermediate.int_time_entries__project_rates"


def index_scans(night: Night, column: str) -> int:
    """How many scans PostgreSQL counted on the time entries' index of `column` alone."""
    names = [
        name
        for name, definition in indexes_of(night.connection, TIME_ENTRIES).items()
        if definition.endswith(f"({column})")
    ]
    assert len(names) == 1, f"one index on {column}: {names}"
    return night.connection.execute(
        "select idx_scan from pg_stat_user_indexes where schemaname = 'intermediate' and indexrelname = %s", names
    ).fetchone()[0]


def test_entries_are_rebuilt_for_the_accounts_and_projects_whose_kept_lookups_changed(night: Night) -> None:
    """Each run keeps the lookups it costed entries with; the next one rebuilds the entries of the
    accounts and projects whose lookups differ from those kept, read through the account and project
    indexes, and compares no other entry with the lookups."""
    connection = night.connection
    account_id = most_common(connection, "account_id", f"{TIME_ENTRIES} where person_email is not null")
    project_key = most_common(
        connection,
        "project_key",
        f"{TIME_ENTRIES} where rate_source = 'project_default' and account_id <> %s",
        account_id,
    )
    control_key, control_rate = connection.execute(
        f"select time_entry_key, project_default_rate from {TIME_ENTRIES}"
        " where account_id <> %s and project_key <> %s and project_default_rate is not null"
        " order by time_entry_key limit 1",
        (account_id, project_key),
    ).fetchone()
    # The last run kept other lookups for the account and the project, and costed their entries so.
    connection.execute(
        f"update {KEPT_ACCOUNT_LOOKUPS} set person_email = 'someone.else@example.com' where account_id = %s",
        (account_id,),
    )
    connection.execute(
        f"update {KEPT_PROJECT_RATES} set default_hourly_rate = default_hourly_rate + 1 where project_key = %s",
        (project_key,),
    )
    rewritten = connection.execute(
        f"update {TIME_ENTRIES} set hourly_rate = -1, cost = -1 where account_id = %s or project_key = %s",
        (account_id, project_key),
    ).rowcount
    assert rewritten > 0
    # An entry whose own copy of a lookup disagrees with the lookups now: only a comparison of every
    # stored entry would find it.
    connection.execute(f"update {TIME_ENTRIES} set project_default_rate = -1 where time_entry_key = %s", (control_key,))
    scans_before = {column: index_scans(night, column) for column in ("account_id", "project_key")}
    try:
        run_model(night, "int_time_entries")
        stale = connection.execute(f"select count(*) from {TIME_ENTRIES} where hourly_rate = -1").fetchone()[0]
        assert stale == 0, "the entries of the account and the project were rebuilt"
        control = connection.execute(
            f"select project_default_rate from {TIME_ENTRIES} where time_entry_key = %s", (control_key,)
        ).fetchone()[0]
        assert control == -1, "no entry was compared with the lookups one by one"
        scans = {column: index_scans(night, column) for column in ("account_id", "project_key")}
        assert all(scans[column] > scans_before[column] for column in scans), (scans_before, scans)
        kept_email = connection.execute(
            f"select person_email from {KEPT_ACCOUNT_LOOKUPS} where account_id = %s", (account_id,)
        ).fetchone()[0]
        assert kept_email != "someone.else@example.com", "the run kept the lookups it costed with"
    finally:
        connection.execute(
            f"update {TIME_ENTRIES} set project_default_rate = %s where time_entry_key = %s",
            (control_rate, control_key),
        )
    assert sorted_rows(night.connection, TIME_ENTRIES) == night.full_refresh["int_time_entries"]


def test_without_kept_lookups_a_run_compares_every_entry_and_keeps_them(night: Night) -> None:
    """A table built before its lookups were kept: the run compares every stored entry with the
    lookups, then keeps them for the next run."""
    connection = night.connection
    control_key, control_rate = connection.execute(
        f"select time_entry_key, project_default_rate from {TIME_ENTRIES}"
        " where project_default_rate is not null order by time_entry_key limit 1"
    ).fetchone()
    connection.execute(f"drop table {KEPT_ACCOUNT_LOOKUPS}")
    connection.execute(f"drop table {KEPT_PROJECT_RATES}")
    connection.execute(f"update {TIME_ENTRIES} set project_default_rate = -1 where time_entry_key = %s", (control_key,))
    run_model(night, "int_time_entries")
    rebuilt = connection.execute(
        f"select project_default_rate from {TIME_ENTRIES} where time_entry_key = %s", (control_key,)
    ).fetchone()[0]
    assert rebuilt == control_rate
    kept = connection.execute(
        f"select (select count(*) from {KEPT_ACCOUNT_LOOKUPS}), (select count(*) from {KEPT_PROJECT_RATES})"
    ).fetchone()
    lookups = connection.execute(
        "select (select count(*) from intermediate.int_tool_accounts_resolved),"
        " (select count(*) from intermediate.int_projects_mapped)"
    ).fetchone()
    assert kept == lookups
    assert sorted_rows(night.connection, TIME_ENTRIES) == night.full_refresh["int_time_entries"]


def records_by(connection: psycopg.Connection, relation: str, key: str) -> list[dict]:
    """A relation's rows as dicts (without when a run wrote them), in the order of `key`."""
    return sorted(records(connection, relation), key=lambda row: row[key])


def assert_rebuilt_whole(night: Night, relation: str, key: str, earlier_shape: str) -> None:
    """`relation` put back in an earlier shape by the statements `earlier_shape` is rebuilt whole by
    the next build: it holds the very rows it held before."""
    before = records_by(night.connection, relation, key)
    night.connection.execute(earlier_shape)
    build(night.url, night.work_dir)
    assert records_by(night.connection, relation, key) == before


def test_a_time_entries_table_built_before_it_kept_its_lookups_is_rebuilt_whole(night: Night) -> None:
    assert_rebuilt_whole(
        night,
        "intermediate.int_time_entries",
        "time_entry_key",
        "alter table intermediate.int_time_entries drop column account_id, drop column project_default_rate,"
        " drop column rate_card_fingerprint, drop column source_changed_at, drop column work_item_is_live,"
        " drop column built_at",
    )


UNIONED_ITEMS = "intermediate.int_work_items_unioned"
KEPT_PROJECT_KEYS = "intermediate.int_work_items_unioned__project_keys"
KEPT_ASSIGNEE_PEOPLE = "intermediate.int_work_items_unioned__assignee_people"
KEPT_SITE_CONFIGURATIONS = "intermediate.int_work_items_unioned__site_configurations"


def entries_projects(connection: psycopg.Connection, source_id: str) -> set[str]:
    """The projects the stored entries of Jira issue `source_id` hold."""
    return {
        row[0]
        for row in connection.execute(
            f"select project_key from {TIME_ENTRIES} where source_system = 'jira' and source_work_item_id = %s",
            (source_id,),
        )
    }


def logged_jira_project(connection: psycopg.Connection) -> tuple[str, list[tuple[str, str]]]:
    """The Jira project whose live issues hold the most time entries, and its two issues holding most
    (source id, project key)."""
    issues = connection.execute(
        f"select items.source_project_id, items.source_id, items.project_key from {UNIONED_ITEMS} as items"
        f" inner join {TIME_ENTRIES} as entries on entries.work_item_key = items.work_item_key"
        " where items.source_system = 'jira' and not items.is_deleted"
        " group by 1, 2, 3 order by count(*) over (partition by items.source_project_id) desc, 1, count(*) desc, 2"
    ).fetchall()
    project_id = issues[0][0]
    return project_id, [
        (source_id, project_key) for project, source_id, project_key in issues if project == project_id
    ][:2]


def rebuild_project_issues(night: Night, project_id: str, *models: str) -> None:
    """A run of `models` that works out again every stored issue of Jira project `project_id`, as
    when the project's key has changed since the lookups the last run kept."""
    night.connection.execute(
        f"update {KEPT_PROJECT_KEYS} set project_key = 'another project' where source_project_id = %s", (project_id,)
    )
    run_model(night, *models)


def placed_at(connection: psycopg.Connection, *source_ids: str) -> dict[str, datetime | None]:
    return dict(
        connection.execute(
            f"select source_id, placed_at from {UNIONED_ITEMS} where source_system = 'jira' and source_id = any(%s)",
            (list(source_ids),),
        ).fetchall()
    )


def set_entries_project(connection: psycopg.Connection, source_id: str, project_key: str) -> None:
    """Give the stored entries of Jira issue `source_id` the project `project_key`."""
    connection.execute(
        f"update {TIME_ENTRIES} set project_key = %s where source_system = 'jira' and source_work_item_id = %s",
        (project_key, source_id),
    )


def built_elsewhere(connection: psycopg.Connection, source_id: str) -> None:
    """As if Jira issue `source_id` and its entries had been built in another project."""
    connection.execute(
        f"update {UNIONED_ITEMS} set project_key = 'elsewhere' where source_system = 'jira' and source_id = %s",
        (source_id,),
    )
    set_entries_project(connection, source_id, "elsewhere")


def test_time_entries_compare_only_the_items_placed_since_their_last_run(night: Night) -> None:
    """An item written with another project than it held is placed anew, and its stored entries take
    its project; an item written for another change keeps its `placed_at`, and its entries are not
    compared with it (their project, made stale here by hand, stays as it was)."""
    connection = night.connection
    project_id, [(moved, moved_project), (edited, _)] = logged_jira_project(connection)
    [edited_project] = entries_projects(connection, edited)
    placed_before = placed_at(connection, moved, edited)
    built_elsewhere(connection, moved)
    connection.execute(
        f"update {UNIONED_ITEMS} set title = 'an older title' where source_system = 'jira' and source_id = %s",
        (edited,),
    )
    set_entries_project(connection, edited, "stale")
    try:
        rebuild_project_issues(night, project_id, "int_work_items_unioned", "int_time_entries")
        placed_after = placed_at(connection, moved, edited)
        assert placed_after[moved] > placed_before[moved]
        assert placed_after[edited] == placed_before[edited]
        assert entries_projects(connection, moved) == {moved_project}
        assert entries_projects(connection, edited) == {"stale"}
    finally:
        set_entries_project(connection, edited, edited_project)
    assert sorted_rows(connection, UNIONED_ITEMS) == night.full_refresh["int_work_items_unioned"]
    assert sorted_rows(connection, TIME_ENTRIES) == night.full_refresh["int_time_entries"]


def test_work_items_stored_before_they_kept_placed_at_are_still_followed_by_their_entries(night: Night) -> None:
    """A work items table without `placed_at` gets the column from its next run: null on the rows the
    run does not write, the run's start on those it writes, whose entries follow them."""
    connection = night.connection
    project_id, [(moved, moved_project), _] = logged_jira_project(connection)
    connection.execute(f"alter table {UNIONED_ITEMS} drop column placed_at")
    built_elsewhere(connection, moved)
    rebuild_project_issues(night, project_id, "int_work_items_unioned", "int_time_entries")
    placed = connection.execute(f"select source_id from {UNIONED_ITEMS} where placed_at is not null").fetchall()
    assert placed == [(moved,)]
    assert entries_projects(connection, moved) == {moved_project}
    assert sorted_rows(connection, UNIONED_ITEMS) == night.full_refresh["int_work_items_unioned"]
    assert sorted_rows(connection, TIME_ENTRIES) == night.full_refresh["int_time_entries"]


def test_an_issues_table_built_before_it_kept_the_custom_fields_apart_is_rebuilt_whole(night: Night) -> None:
    """An issues staging table of the earlier shape (each issue's whole `fields` object in
    `issue_fields`) is rebuilt from every raw row: its issues keep their custom fields, story points
    among them, though no raw row was written since."""
    issues = records(night.connection, "staging.stg_jira__issues")
    items = sorted_rows(night.connection, UNIONED_ITEMS)
    assert any(issue["custom_fields"] for issue in issues)
    # the model's list of the standard fields is the connector's
    assert not any(set(ISSUE_FIELDS) & set(issue["custom_fields"] or {}) for issue in issues)
    assert_rebuilt_whole(
        night,
        "staging.stg_jira__issues",
        "issue_id",
        "alter table staging.stg_jira__issues rename column custom_fields to issue_fields;"
        " update staging.stg_jira__issues as issue set issue_fields = raw_issue.payload -> 'fields'"
        " from raw.jira_issues as raw_issue where raw_issue.record_id = issue.issue_id",
    )
    assert sorted_rows(night.connection, UNIONED_ITEMS) == items


def keep_other_lookups(connection: psycopg.Connection, kept: tuple[str, str], account_id: str, project_id: str) -> None:
    """As if the last run had kept another person for `account_id` and another key for `project_id`
    (`kept`: the tables of the kept people and project keys)."""
    people, project_keys = kept
    connection.execute(f"update {people} set person_key = 'someone else' where account_id = %s", (account_id,))
    connection.execute(
        f"update {project_keys} set project_key = 'another project' where source_project_id = %s", (project_id,)
    )


def kept_lookups_are_current(
    connection: psycopg.Connection, kept: tuple[str, str], account_id: str, project_id: str
) -> bool:
    """Whether the run kept the person of `account_id` and the key of `project_id` it used, not those
    `keep_other_lookups` left."""
    people, project_keys = kept
    person, project_key = connection.execute(
        f"select (select person_key from {people} where account_id = %s),"
        f" (select project_key from {project_keys} where source_project_id = %s)",
        (account_id, project_id),
    ).fetchone()
    return person != "someone else" and project_key != "another project"


def test_issues_are_rebuilt_for_the_projects_and_accounts_whose_kept_lookups_changed(night: Night) -> None:
    """Each run keeps the lookups it built issues with; the next one rebuilds the stored issues of the
    Jira projects and accounts whose lookups differ from those kept, and compares no other stored
    issue with the lookups."""
    connection = night.connection
    jira_items = f"{UNIONED_ITEMS} where source_system = 'jira'"
    account_id = most_common(connection, "assignee_account_id", f"{jira_items} and assignee_person_key is not null")
    project_id = most_common(connection, "source_project_id", f"{jira_items} and assignee_account_id <> %s", account_id)
    control_key, control_person = connection.execute(
        f"select work_item_key, assignee_person_key from {jira_items} and assignee_account_id <> %s"
        " and source_project_id <> %s and assignee_person_key is not null order by work_item_key limit 1",
        (account_id, project_id),
    ).fetchone()
    # The last run kept other lookups for the account and the project, and built their issues so.
    keep_other_lookups(connection, (KEPT_ASSIGNEE_PEOPLE, KEPT_PROJECT_KEYS), account_id, project_id)
    stale = connection.execute(
        f"update {UNIONED_ITEMS} set title = 'stale' where source_system = 'jira'"
        " and (assignee_account_id = %s or source_project_id = %s)",
        (account_id, project_id),
    ).rowcount
    assert stale > 0
    # An issue whose own copy of a lookup disagrees with the lookups now: only a comparison of every
    # stored issue would find it.
    connection.execute(
        f"update {UNIONED_ITEMS} set assignee_person_key = 'nobody' where work_item_key = %s", (control_key,)
    )
    try:
        run_model(night, "int_work_items_unioned")
        left = connection.execute(f"select count(*) from {UNIONED_ITEMS} where title = 'stale'").fetchone()[0]
        assert left == 0, "the issues of the account and the project were rebuilt"
        control = connection.execute(
            f"select assignee_person_key from {UNIONED_ITEMS} where work_item_key = %s", (control_key,)
        ).fetchone()[0]
        assert control == "nobody", "no issue was compared with the lookups one by one"
        assert kept_lookups_are_current(
            connection, (KEPT_ASSIGNEE_PEOPLE, KEPT_PROJECT_KEYS), account_id, project_id
        ), "the run kept the lookups it used"
    finally:
        connection.execute(
            f"update {UNIONED_ITEMS} set assignee_person_key = %s where work_item_key = %s",
            (control_person, control_key),
        )
    assert sorted_rows(connection, UNIONED_ITEMS) == night.full_refresh["int_work_items_unioned"]


def test_without_kept_lookups_a_run_compares_every_stored_issue_and_keeps_them(night: Night) -> None:
    """A table built before its lookups were kept: the run compares every stored issue with the
    lookups, then keeps them for the next run."""
    connection = night.connection
    control_key, control_person = connection.execute(
        f"select work_item_key, assignee_person_key from {UNIONED_ITEMS} where source_system = 'jira'"
        " and assignee_person_key is not null order by work_item_key limit 1"
    ).fetchone()
    for kept in (KEPT_PROJECT_KEYS, KEPT_ASSIGNEE_PEOPLE, KEPT_SITE_CONFIGURATIONS):
        connection.execute(f"drop table {kept}")
    connection.execute(
        f"update {UNIONED_ITEMS} set assignee_person_key = 'nobody' where work_item_key = %s", (control_key,)
    )
    run_model(night, "int_work_items_unioned")
    rebuilt = connection.execute(
        f"select assignee_person_key from {UNIONED_ITEMS} where work_item_key = %s", (control_key,)
    ).fetchone()[0]
    assert rebuilt == control_person
    kept_counts = connection.execute(
        f"select (select count(*) from {KEPT_PROJECT_KEYS}), (select count(*) from {KEPT_ASSIGNEE_PEOPLE}),"
        f" (select count(*) from {KEPT_SITE_CONFIGURATIONS})"
    ).fetchone()
    lookups = connection.execute(
        "select (select count(*) from intermediate.int_source_projects where source_system = 'jira'),"
        " (select count(*) from intermediate.int_tool_accounts_resolved where source_system = 'jira'),"
        " (select count(distinct source_instance) from staging.stg_jira__fields)"
    ).fetchone()
    assert kept_counts == lookups
    assert sorted_rows(connection, UNIONED_ITEMS) == night.full_refresh["int_work_items_unioned"]


KEPT_ASANA_PROJECT_KEYS = "intermediate.int_work_items_unioned__asana_project_keys"
KEPT_ASANA_ASSIGNEE_PEOPLE = "intermediate.int_work_items_unioned__asana_assignee_people"
KEPT_ASANA_SETTINGS = "intermediate.int_work_items_unioned__asana_settings"
KEPT_ASANA_LOOKUPS = (KEPT_ASANA_ASSIGNEE_PEOPLE, KEPT_ASANA_PROJECT_KEYS)
ASANA_ITEMS = f"{UNIONED_ITEMS} where source_system = 'asana'"


def asana_items_written_last(connection: psycopg.Connection) -> set[str]:
    return issue_ids(
        connection, f"select source_id from {ASANA_ITEMS} and built_at = (select max(built_at) from {UNIONED_ITEMS})"
    )


def asana_titles(connection: psycopg.Connection, source_ids: list[str]) -> dict[str, str]:
    return dict(
        connection.execute(f"select source_id, title from {ASANA_ITEMS} and source_id = any(%s)", (source_ids,))
    )


def set_asana_titles(connection: psycopg.Connection, titles: dict[str, str]) -> None:
    """Give stored Asana items other titles: as if built from older data, they are written again by a
    run that works them out, and left so by one that does not."""
    for source_id, title in titles.items():
        connection.execute(
            f"update {UNIONED_ITEMS} set title = %s where source_system = 'asana' and source_id = %s",
            (title, source_id),
        )


def asana_descendants(connection: psycopg.Connection, task: str) -> set[str]:
    """The stored subtasks of Asana task `task`, at every depth."""
    return issue_ids(
        connection,
        f"with recursive descendants as (select source_id from {ASANA_ITEMS} and parent_source_id = %s"
        f" union select items.source_id from {UNIONED_ITEMS} as items inner join descendants"
        " on items.source_system = 'asana' and items.parent_source_id = descendants.source_id)"
        " select source_id from descendants",
        task,
    )


def test_an_asana_task_moved_to_another_project_takes_its_subtasks_with_it(night: Night) -> None:
    """A task the loader writes is rebuilt with every stored descendant, though Asana changed none of
    them: each subtask belongs to its nearest ancestor's project. A subtask written alone takes the
    project stored for its parent, and a task nothing reached is not worked out again."""
    connection = night.connection
    parents = connection.execute(
        f"select parents.source_id, parents.source_project_id from {UNIONED_ITEMS} as parents"
        f" inner join {UNIONED_ITEMS} as children on children.source_system = 'asana'"
        " and children.parent_source_id = parents.source_id"
        " where parents.source_system = 'asana' and parents.parent_source_id is null and not parents.is_deleted"
        " group by 1, 2 order by count(*) desc, 1"
    ).fetchall()
    (moved, project), (other_parent, _) = parents[0], parents[1]
    descendants = sorted(asana_descendants(connection, moved))
    edited_subtask = min(asana_descendants(connection, other_parent))
    other_project, other_project_key = connection.execute(
        "select source_project_id, project_key from intermediate.int_source_projects"
        " where source_system = 'asana' and source_project_id <> %s and project_key is not null order by 1 limit 1",
        (project,),
    ).fetchone()
    untouched = connection.execute(
        f"select source_id from {ASANA_ITEMS} and source_project_id <> all(%s) and source_id <> all(%s)"
        " order by source_id limit 1",
        ([project, other_project], [moved, *descendants, other_parent, edited_subtask]),
    ).fetchone()[0]
    stored = {
        row[0]: row[1:]
        for row in connection.execute(
            f"select source_id, source_project_id, project_key, source_changed_at from {ASANA_ITEMS}"
            " and source_id = any(%s)",
            ([moved, *descendants, edited_subtask],),
        )
    }
    raw = connection.execute(
        "select record_id, payload, loaded_at from raw.asana_tasks where record_id = any(%s)",
        ([moved, edited_subtask],),
    ).fetchall()
    untouched_title = asana_titles(connection, [untouched])
    assert descendants, "the moved task has subtasks"

    def write_raw(task: str, payload: str, *params: object) -> None:
        connection.execute(
            f"update raw.asana_tasks set payload = {payload}, loaded_at = clock_timestamp() where record_id = %s",
            (*params, task),
        )

    try:
        write_raw(moved, "jsonb_set(payload, '{memberships,0,project,gid}', to_jsonb(%s::text))", other_project)
        write_raw(edited_subtask, "jsonb_set(payload, '{name}', to_jsonb('renamed'::text))")
        set_asana_titles(connection, {untouched: "stale"})
        run_model(night, "int_work_items_unioned")
        projects = dict(
            connection.execute(
                f"select source_id, project_key from {ASANA_ITEMS} and source_id = any(%s)", ([moved, *descendants],)
            )
        )
        assert projects == dict.fromkeys([moved, *descendants], other_project_key)
        assert asana_items_written_last(connection) == {moved, *descendants, edited_subtask}
        subtask = connection.execute(
            f"select title, source_project_id, project_key from {ASANA_ITEMS} and source_id = %s", (edited_subtask,)
        ).fetchone()
        assert subtask == ("renamed", *stored[edited_subtask][:2]), "the subtask keeps its parent's project"
        assert asana_titles(connection, [untouched]) == {untouched: "stale"}, "a task nothing reached was kept"
    finally:
        for record_id, payload, _ in raw:
            write_raw(record_id, "%s", Jsonb(payload))
        run_model(night, "int_work_items_unioned")
        set_asana_titles(connection, untouched_title)
        # The rows as the loader and the night's run left them: when they were written, too.
        for record_id, _, loaded_at in raw:
            connection.execute("update raw.asana_tasks set loaded_at = %s where record_id = %s", (loaded_at, record_id))
        for source_id, (*_, source_changed_at) in stored.items():
            connection.execute(
                f"update {UNIONED_ITEMS} set source_changed_at = %s where source_system = 'asana' and source_id = %s",
                (source_changed_at, source_id),
            )
    assert sorted_rows(connection, UNIONED_ITEMS) == night.full_refresh["int_work_items_unioned"]


def test_asana_tasks_are_rebuilt_for_the_projects_and_accounts_whose_kept_lookups_changed(night: Night) -> None:
    """The stored tasks of the Asana projects and accounts whose lookups differ from those the last
    run kept are worked out again; no other stored task is."""
    connection = night.connection
    account_id = most_common(connection, "assignee_account_id", f"{ASANA_ITEMS} and assignee_person_key is not null")
    project_id = most_common(
        connection, "source_project_id", f"{ASANA_ITEMS} and assignee_account_id is distinct from %s", account_id
    )
    reached = sorted(
        issue_ids(
            connection,
            f"select source_id from {ASANA_ITEMS} and (assignee_account_id = %s or source_project_id = %s)",
            account_id,
            project_id,
        )
    )
    control = connection.execute(
        f"select source_id from {ASANA_ITEMS} and source_id <> all(%s) order by source_id limit 1", (reached,)
    ).fetchone()[0]
    titles = asana_titles(connection, [*reached, control])
    keep_other_lookups(connection, KEPT_ASANA_LOOKUPS, account_id, project_id)
    set_asana_titles(connection, dict.fromkeys([*reached, control], "stale"))
    try:
        run_model(night, "int_work_items_unioned")
        after = asana_titles(connection, [*reached, control])
        assert {source_id: after[source_id] for source_id in reached} == {
            source_id: titles[source_id] for source_id in reached
        }, "the tasks of the account and the project were rebuilt"
        assert after[control] == "stale", "no other task was worked out"
        assert kept_lookups_are_current(connection, KEPT_ASANA_LOOKUPS, account_id, project_id), (
            "the run kept the lookups it used"
        )
    finally:
        set_asana_titles(connection, {control: titles[control]})
    assert sorted_rows(connection, UNIONED_ITEMS) == night.full_refresh["int_work_items_unioned"]


@pytest.mark.parametrize("cause", ["another estimate field", "no kept lookups"])
def test_every_asana_task_is_worked_out_when_the_run_cannot_tell_which_changed(night: Night, cause: str) -> None:
    """Read with another estimate field than the last run, or without the lookups it kept, every
    Asana task is worked out (a stale stored row anywhere is written again); the run keeps the
    lookups and the field it used."""
    connection = night.connection
    every_task = sorted(issue_ids(connection, f"select source_id from {ASANA_ITEMS}"))
    control = every_task[len(every_task) // 2]
    title = asana_titles(connection, [control])
    estimated = f"select count(*) from {ASANA_ITEMS} and estimate_hours is not null"
    assert connection.execute(estimated).fetchone()[0] > 0
    set_asana_titles(connection, {control: "stale"})
    if cause == "no kept lookups":
        for kept in (KEPT_ASANA_PROJECT_KEYS, KEPT_ASANA_ASSIGNEE_PEOPLE, KEPT_ASANA_SETTINGS):
            connection.execute(f"drop table {kept}")
        try:
            run_model(night, "int_work_items_unioned")
            assert asana_titles(connection, [control]) == title
        finally:
            set_asana_titles(connection, title)
        kept_counts = connection.execute(
            f"select (select count(*) from {KEPT_ASANA_PROJECT_KEYS}),"
            f" (select count(*) from {KEPT_ASANA_ASSIGNEE_PEOPLE}), (select estimate_field from {KEPT_ASANA_SETTINGS})"
        ).fetchone()
        lookups = connection.execute(
            "select (select count(*) from intermediate.int_source_projects where source_system = 'asana'),"
            " (select count(*) from intermediate.int_tool_accounts_resolved where source_system = 'asana'),"
            " 'Estimated hours'"
        ).fetchone()
        assert kept_counts == lookups
    else:
        try:
            run_model(
                night, "stg_asana__tasks", "int_work_items_unioned", variables={"asana_estimate_field": "No such field"}
            )
            assert asana_titles(connection, [control]) == title
            assert connection.execute(estimated).fetchone()[0] == 0, "no task has an estimate in that field"
            assert connection.execute(f"select estimate_field from {KEPT_ASANA_SETTINGS}").fetchone() == (
                "No such field",
            )
        finally:
            run_model(night, "stg_asana__tasks", "int_work_items_unioned")
            set_asana_titles(connection, title)
    assert sorted_rows(connection, UNIONED_ITEMS) == night.full_refresh["int_work_items_unioned"]


def test_the_night_remapped_a_project_whose_issues_did_not_change(night: Night) -> None:
    """The remap the incremental marts must follow (compared with a full refresh above) took effect."""
    moved, changes = night.connection.execute(
        "select count(*) filter (where projects.project_code = %s), count(*) from marts.fct_status_changes as changes"
        " inner join intermediate.int_projects_mapped as projects on changes.project_key = projects.project_key"
        " inner join staging.stg_jira__issues as issues"
        " on changes.work_item_key = md5(concat_ws('|', 'jira', issues.source_instance, issues.issue_id))"
        " where issues.project_key = %s",
        (night.remapped.project_code, night.remapped.jira_project_key),
    ).fetchone()
    assert changes > 0, "the newly registered project's issues have status changes"
    assert moved == changes, "every one of them now belongs to the register row naming the project"


WORK_ITEMS = "marts.fct_work_items"


def work_items(connection: psycopg.Connection) -> dict[str, dict]:
    """fct_work_items' rows by key, without `built_at`."""
    return {row["work_item_key"]: row for row in records(connection, WORK_ITEMS)}


def build_work_items(night: Night, run_date: date = ANCHOR_DATE) -> set[str]:
    """An incremental run of fct_work_items alone; returns the keys of the rows it wrote."""
    run_model(night, "fct_work_items", run_date=run_date)
    newest = f"(select max(built_at) from {WORK_ITEMS})"
    return issue_ids(night.connection, f"select work_item_key from {WORK_ITEMS} where built_at = {newest}")


def work_items_caught_up(night: Night) -> dict[str, dict]:
    """The work items after a run of fct_work_items: whatever tests before left newer upstream (time
    entries written again, say) is then in them, and the next run writes only what the test changes."""
    build_work_items(night)
    return work_items(night.connection)


def test_work_items_are_rewritten_only_when_the_run_date_makes_them_overdue(night: Night) -> None:
    """A later run date rewrites exactly the items it makes overdue; back at the night's date, the
    table is as it was."""
    before = work_items_caught_up(night)
    later = ANCHOR_DATE + timedelta(days=30)
    now_overdue = {
        key
        for key, row in before.items()
        if not row["is_deleted"] and row["status_category"] != "done" and row["due_date"] is not None
        if ANCHOR_DATE <= row["due_date"] < later
    }
    assert now_overdue, "the month after the night makes some items overdue"
    assert build_work_items(night, later) == now_overdue
    assert {key for key, row in work_items(night.connection).items() if row["is_overdue"]} == {
        key for key, row in before.items() if row["is_overdue"]
    } | now_overdue
    assert build_work_items(night) == now_overdue
    assert work_items(night.connection) == before


def test_a_work_item_whose_time_entries_were_rebuilt_gets_its_new_logged_hours_alone(night: Night) -> None:
    before = work_items_caught_up(night)
    work_item_key, time_entry_key = night.connection.execute(
        "select work_item_key, time_entry_key from intermediate.int_time_entries"
        " where not is_deleted and work_item_is_live order by time_entry_key limit 1"
    ).fetchone()

    def add_hours(hours: int) -> None:
        night.connection.execute(
            "update intermediate.int_time_entries set hours = hours + %s, built_at = clock_timestamp()"
            " where time_entry_key = %s",
            (hours, time_entry_key),
        )

    add_hours(2)
    try:
        assert build_work_items(night) == {work_item_key}
        logged = work_items(night.connection)[work_item_key]["logged_hours"]
        assert logged == before[work_item_key]["logged_hours"] + 2
    finally:
        add_hours(-2)
    assert build_work_items(night) == {work_item_key}
    assert work_items(night.connection) == before


def test_a_work_item_gone_from_the_weighted_items_is_deleted(night: Night) -> None:
    before = work_items(night.connection)
    night.connection.execute(
        f"insert into {WORK_ITEMS} select 'gone-' || work_item_key, project_key, source_system, source_instance,"
        " source_id, source_key, title, item_type, status, status_category, assignee_person_key,"
        " parent_work_item_key, created_at, started_at, completed_at, due_date, estimate_hours, weight,"
        " logged_hours, story_points, is_milestone, is_overdue, is_deleted, lead_time_days, cycle_time_days, built_at"
        f" from {WORK_ITEMS} limit 3"
    )
    assert len(work_items(night.connection)) == len(before) + 3
    build_work_items(night)
    assert work_items(night.connection) == before


def test_a_work_items_table_built_before_it_had_built_at_is_refused_until_a_full_refresh(night: Night) -> None:
    before = work_items(night.connection)
    night.connection.execute(f"alter table {WORK_ITEMS} drop column built_at")
    command = ["run", "--select", "fct_work_items"]
    refused = run_dbt(command, night.url, night.work_dir, run_date=ANCHOR_DATE.isoformat())
    assert refused.returncode != 0
    assert "out of sync" in refused.output
    rebuilt = run_dbt([*command, "--full-refresh"], night.url, night.work_dir, run_date=ANCHOR_DATE.isoformat())
    assert rebuilt.returncode == 0, rebuilt.output[-5000:]
    assert work_items(night.connection) == before


DAILY_EVENTS = "intermediate.int_project_daily_events"
TIME_ENTRY_FACTS = "marts.fct_time_entries"


def daily_events(connection: psycopg.Connection) -> dict[tuple[str, date], dict]:
    return {(row["project_key"], row["date_day"]): row for row in records(connection, DAILY_EVENTS)}


def daily_events_caught_up(night: Night) -> dict[tuple[str, date], dict]:
    """The daily events after a run of their model: the days tests before changed are folded again."""
    run_model(night, "int_project_daily_events")
    return daily_events(night.connection)


def entry_on_a_shared_day(connection: psycopg.Connection) -> tuple[str, str, date]:
    """A time entry whose project logged other entries on its day, with that project and day."""
    return connection.execute(
        f"select entries.time_entry_key, entries.project_key, entries.entry_date from {TIME_ENTRY_FACTS} as entries"
        f" where (select count(*) from {TIME_ENTRY_FACTS} as others where others.project_key = entries.project_key"
        " and others.entry_date = entries.entry_date) > 1 order by entries.time_entry_key limit 1"
    ).fetchone()


def move_entry(connection: psycopg.Connection, time_entry_key: str, days: int) -> None:
    connection.execute(
        f"update {TIME_ENTRY_FACTS} set entry_date = entry_date + %s where time_entry_key = %s", (days, time_entry_key)
    )


def add_to_day_cost(connection: psycopg.Connection, day: tuple[str, date], amount: int) -> None:
    connection.execute(
        f"update {DAILY_EVENTS} set cost = cost + %s where project_key = %s and date_day = %s", (amount, *day)
    )


def entries_counted(events: dict[tuple[str, date], dict], project_key: str, day: date) -> int:
    row = events.get((project_key, day))
    return row["time_entries"] if row else 0


def test_the_first_night_after_a_fresh_build_folds_only_the_noted_days(night: Night) -> None:
    """The fresh build made the facts' triggers, and its daily events read the notes they made."""
    assert "int_project_daily_events: the days of " in night.night_build_output
    assert "every day folded again" not in night.night_build_output


def test_daily_events_fold_again_only_the_days_noted_since_their_last_run(night: Night) -> None:
    """An entry moved a day later moves in the daily events; a day nothing changed on keeps even a
    wrong figure, so it was not folded again."""
    connection = night.connection
    before = daily_events_caught_up(night)
    time_entry_key, project_key, day = entry_on_a_shared_day(connection)
    untouched = next(key for key in sorted(before) if key[0] != project_key)
    add_to_day_cost(connection, untouched, 1000)
    move_entry(connection, time_entry_key, 1)
    try:
        run_model(night, "int_project_daily_events")
        after = daily_events(connection)
        assert after[untouched]["cost"] == before[untouched]["cost"] + 1000
        assert entries_counted(after, project_key, day) == entries_counted(before, project_key, day) - 1
        next_day = day + timedelta(days=1)
        assert entries_counted(after, project_key, next_day) == entries_counted(before, project_key, next_day) + 1
    finally:
        move_entry(connection, time_entry_key, -1)
        add_to_day_cost(connection, untouched, -1000)
    run_model(night, "int_project_daily_events")
    assert daily_events(connection) == before


@pytest.mark.parametrize("cause", ["triggers dropped", "notes dropped", "triggers missing"])
def test_every_day_is_folded_again_after_the_facts_went_unnoted(night: Night, cause: str) -> None:
    """Triggers made anew (a fact copied, say) or a notes' table made anew mean changes may have gone
    unnoted, and so does a fact without the triggers: the next run folds every day, and puts right
    even a day nothing changed on. Each model runs in a dbt command of its own, as the nightly DAG's
    tasks run them (a command that made the notes' table would not find it in dbt's cache of
    relations, and fold every day anyway)."""
    connection = night.connection
    before = daily_events_caught_up(night)
    if cause == "notes dropped":
        connection.execute("drop table intermediate.int_project_daily_events__noted_days")
    else:
        for event in ("deleted", "inserted", "updated", "truncated"):
            connection.execute(f"drop trigger note_project_days_{event} on {TIME_ENTRY_FACTS}")
    wrong = sorted(before)[0]
    add_to_day_cost(connection, wrong, 1000)
    if cause != "triggers missing":
        run_model(night, "fct_time_entries")
    run_model(night, "int_project_daily_events")
    assert daily_events(connection) == before
    if cause == "triggers missing":
        run_model(night, "fct_time_entries")
    triggers = connection.execute(
        "select count(*) from pg_trigger where tgrelid = %s::regclass and tgname like 'note_project_days_%%'",
        (TIME_ENTRY_FACTS,),
    ).fetchone()[0]
    assert triggers == 4


def copy_noted_table(connection: psycopg.Connection, table: str, copy: str) -> None:
    """A copy of `table` as it stands, then with the same triggers, as the nightly publish keeps one."""
    connection.execute(f"create table {copy} (like {table} including all)")
    connection.execute(f"insert into {copy} select * from {table}")
    definitions = connection.execute(
        "select pg_get_triggerdef(oid) from pg_trigger where tgrelid = %s::regclass and not tgisinternal", (table,)
    ).fetchall()
    assert len(definitions) == 4
    for (definition,) in definitions:
        connection.execute(definition.replace(f" ON {table} ", f" ON {copy} "))


def swap_tables(connection: psycopg.Connection, table: str, other: str) -> None:
    schema, name = table.split(".")
    other_name = other.split(".")[1]
    connection.execute(f"alter table {table} rename to {name}__swapping")
    connection.execute(f"alter table {other} rename to {name}")
    connection.execute(f"alter table {schema}.{name}__swapping rename to {other_name}")


def test_daily_events_follow_facts_swapped_for_a_table_a_night_behind(night: Night) -> None:
    """The publish alternates between two tables of each fact, each catching up two nights. An entry
    moved a day later in one table, then two days later in the other (which still had it on its
    first day): the day of the first move is folded again from the notes the last run read."""
    connection = night.connection
    before = daily_events_caught_up(night)
    other = f"{TIME_ENTRY_FACTS}_other"
    time_entry_key, project_key, day = entry_on_a_shared_day(connection)
    copy_noted_table(connection, TIME_ENTRY_FACTS, other)
    moved = swapped = False
    try:
        move_entry(connection, time_entry_key, 1)
        moved = True
        run_model(night, "int_project_daily_events")
        swap_tables(connection, TIME_ENTRY_FACTS, other)
        swapped = True
        move_entry(connection, time_entry_key, 2)
        run_model(night, "int_project_daily_events")
        after = daily_events(connection)
        for offset, change in ((0, -1), (1, 0), (2, 1)):
            moved_day = day + timedelta(days=offset)
            assert (
                entries_counted(after, project_key, moved_day)
                == entries_counted(before, project_key, moved_day) + change
            ), f"the entries of the day {offset} after the entry's"
    finally:
        if swapped:
            swap_tables(connection, TIME_ENTRY_FACTS, other)
        connection.execute(f"drop table {other}")
        if moved:
            move_entry(connection, time_entry_key, -1)
    run_model(night, "int_project_daily_events")
    assert daily_events(connection) == before


NOTES = "intermediate.int_project_daily_events__noted_days"


def notes_options(connection: psycopg.Connection) -> list[str] | None:
    return connection.execute("select reloptions from pg_class where oid = %s::regclass", (NOTES,)).fetchone()[0]


def test_the_notes_leave_room_on_their_pages_for_being_marked_read(night: Night) -> None:
    """Every run marks the notes read: with half of each page free, PostgreSQL writes a note's new
    version on its own page, without a new entry in the key's index. A notes' table made before it
    had the fillfactor gets it at the next run."""
    connection = night.connection
    assert notes_options(connection) == ["fillfactor=50"]
    connection.execute(f"alter table {NOTES} reset (fillfactor)")
    assert notes_options(connection) is None
    run_model(night, "int_project_daily_events")
    assert notes_options(connection) == ["fillfactor=50"]
