"""`dbt build` over the hand-written Jira fixture: every model, data test and unit test passes,
and the marts hold what the contract says for the fixture's cases."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.dbt.conftest import (
    DBT_PROJECT_DIR,
    FIXTURES_DIR,
    DbtInvocation,
    land_jira_stream,
    load_jira_fixture,
    run_dbt,
)


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def rows(connection: psycopg.Connection, query: str) -> list[tuple]:
    return connection.execute(query).fetchall()


def work_items_by_key(connection: psycopg.Connection, column: str) -> dict[str, object]:
    return dict(rows(connection, f"select source_key, {column} from marts.fct_work_items"))


def test_dbt_build_passes_every_model_and_test(dbt_build: DbtInvocation) -> None:
    assert dbt_build.returncode == 0, "\n".join(dbt_build.failures()) or dbt_build.output[-5000:]
    assert dbt_build.failures() == []
    kinds = {result["unique_id"].split(".")[0] for result in dbt_build.run_results["results"]}
    assert {"model", "test", "unit_test"} <= kinds


def test_weights_follow_the_contract_rule(marts: psycopg.Connection) -> None:
    weights = work_items_by_key(marts, "weight")
    # ALP's current estimated leaves are ALP-2 (8), ALP-3 (0), ALP-7 (4) and ALP-10 (12): mean 6.
    assert weights == {
        "ALP-1": Decimal("0.00"),  # epic with children in its project
        "ALP-2": Decimal("8.00"),
        "ALP-3": Decimal("0.00"),  # estimated at 0
        "ALP-4": Decimal("6.00"),  # unestimated leaf
        "ALP-6": Decimal("0.00"),  # story with a sub-task
        "ALP-7": Decimal("4.00"),
        "ALP-8": Decimal("0.00"),  # milestone
        "ALP-9": Decimal("0.00"),  # deleted, and its 100 h count in no mean
        "ALP-10": Decimal("12.00"),  # its only sub-task is deleted: a leaf again
        "ALP-11": Decimal("0.00"),  # deleted
        "ALP-12": Decimal("6.00"),  # unestimated, its parent in another project
        "BET-1": Decimal("20.00"),  # its only child lives in ALP: a leaf of BET
        "BET-2": Decimal("2.50"),
        "GAM-1": Decimal("1.00"),  # GAM has no estimated leaf
        "GAM-2": Decimal("1.00"),
        "GAM-3": Decimal("0.00"),
        "GAM-4": Decimal("0.00"),
        "OPS-1": Decimal("0.50"),
    }


def test_an_estimate_of_zero_is_an_estimate_and_a_missing_one_is_null(marts: psycopg.Connection) -> None:
    estimates = work_items_by_key(marts, "estimate_hours")
    assert estimates["ALP-3"] == Decimal("0.00")
    assert estimates["ALP-4"] is None


def test_time_entries_are_dated_in_their_own_offset(marts: psycopg.Connection) -> None:
    entries = {
        source_id: (entry_date, hours, started_at)
        for source_id, entry_date, hours, started_at in rows(
            marts, "select source_id, entry_date, hours, started_at from marts.fct_time_entries"
        )
    }
    # 23:30 at UTC-8 is already the 5th in UTC; 06:15 at UTC+10 is still the 4th in UTC.
    assert entries["20001"] == (date(2026, 3, 4), Decimal("3.00"), datetime(2026, 3, 5, 7, 30, tzinfo=UTC))
    assert entries["20002"] == (date(2026, 3, 5), Decimal("1.50"), datetime(2026, 3, 4, 20, 15, tzinfo=UTC))
    # Deleted worklog, worklog on a deleted issue, and worklog on an issue that is not loaded.
    assert set(entries) == {"20001", "20002", "20003", "20004", "20008"}


def test_deleted_and_orphaned_time_counts_nowhere_but_is_reported(marts: psycopg.Connection) -> None:
    logged = work_items_by_key(marts, "logged_hours")
    assert logged["ALP-2"] == Decimal("4.50")
    assert logged["ALP-3"] == Decimal("2.00")
    assert logged["ALP-9"] == Decimal("0.00")
    assert rows(marts, "select source_id, source_work_item_id from marts.dq_orphaned_time_entries") == [
        ("20007", "99999")
    ]


def test_unmapped_projects_stand_for_themselves(marts: psycopg.Connection) -> None:
    projects = rows(
        marts,
        "select project.project_code, project.project_key, program.program_code, portfolio.portfolio_code,"
        " project.approved_budget, project.is_mapped"
        " from marts.dim_project as project"
        " inner join marts.dim_program as program on project.program_key = program.program_key"
        " inner join marts.dim_portfolio as portfolio on project.portfolio_key = portfolio.portfolio_key",
    )
    assert {row[0] for row in projects} == {"jira:ALP", "jira:BET", "jira:GAM", "jira:OPS", "jira:OLD"}
    for code, key, program, portfolio, budget, is_mapped in projects:
        assert (key, program, portfolio, budget, is_mapped) == (md5(code), "UNASSIGNED", "UNASSIGNED", None, False)
    # OPS is known only from its issues; OLD is deleted in Jira, so it is not reported.
    assert sorted(rows(marts, "select source_project_key, work_items from marts.dq_unmapped_projects")) == [
        ("ALP", 9),
        ("BET", 2),
        ("GAM", 4),
        ("OPS", 1),
    ]


def test_people_resolve_by_email_and_hidden_emails_stay_tool_scoped(marts: psycopg.Connection) -> None:
    people = {
        person_key: (email, display_name, is_tool_scoped)
        for person_key, email, display_name, is_tool_scoped in rows(
            marts, "select person_key, email, display_name, is_tool_scoped from marts.dim_person"
        )
    }
    assert people[md5("jira:acc-ben")] == (None, "Ben Okafor", True)
    assert people[md5("jira:acc-eve")] == (None, "Eve Moreau", True)
    assert people[md5("cai.chen@example.com")] == ("cai.chen@example.com", "Cai Chen", False)
    # Dev is not in the users stream and hides his email on worklogs; his assignments show it.
    assert people[md5("dev.patel@example.com")] == ("dev.patel@example.com", "Dev Patel", False)
    assert rows(marts, "select person_key from marts.fct_time_entries where source_id = '20008'") == [
        (md5("dev.patel@example.com"),)
    ]
    assert len(people) == 6


def test_story_points_come_from_the_field_named_story_points(marts: psycopg.Connection) -> None:
    story_points = work_items_by_key(marts, "story_points")
    # ALP-2 holds 5 in the field named "Story Points", 3 in "Story point estimate" and 8 in a second
    # field named "story points": of the fields so named, the lowest id that has a value wins.
    assert story_points["ALP-2"] == Decimal("5.00")
    # ALP-3 has no value in the first field so named, 2 in the second.
    assert story_points["ALP-3"] == Decimal("2.00")
    assert story_points["ALP-4"] is None


def test_completion_overdue_and_lead_time(marts: psycopg.Connection) -> None:
    completed = work_items_by_key(marts, "completed_at")
    assert completed["ALP-2"] == datetime(2026, 2, 10, 7, 0, tzinfo=UTC)  # resolutiondate
    # Done without a resolution: the changelog's last move into done (it was reopened once).
    assert completed["BET-2"] == datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
    assert completed["ALP-1"] is None
    assert work_items_by_key(marts, "lead_time_days")["BET-2"] == Decimal("30.17")
    overdue = {key for key, is_overdue in work_items_by_key(marts, "is_overdue").items() if is_overdue}
    assert overdue == {"ALP-8"}  # OPS-1 is due on the run date itself


def test_rejected_records_are_published(marts: psycopg.Connection) -> None:
    assert rows(marts, "select source_system, stream, record_id, reason from marts.dq_rejected_records") == [
        ("jira", "worklogs", None, "record has no id")
    ]


def test_models_build_on_a_warehouse_no_connector_has_loaded(warehouse_url: str, tmp_path: Path) -> None:
    invocation = run_dbt(
        ["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"], warehouse_url, tmp_path
    )
    assert invocation.returncode == 0, "\n".join(invocation.failures()) or invocation.output[-5000:]
    with psycopg.connect(warehouse_url) as connection:
        for table in (
            "fct_work_items",
            "fct_time_entries",
            "fct_status_changes",
            "fct_milestones",
            "dq_source_freshness",
        ):
            assert rows(connection, f"select count(*) from marts.{table}") == [(0,)], table
        # With no register, the hierarchy still has the place unmapped projects go.
        assert rows(connection, "select portfolio_code from marts.dim_portfolio") == [("UNASSIGNED",)]
        assert rows(connection, "select program_code from marts.dim_program") == [("UNASSIGNED",)]


def test_started_at_and_cycle_time_come_from_the_changelog(marts: psycopg.Connection) -> None:
    started = work_items_by_key(marts, "started_at")
    assert started["BET-2"] == datetime(2026, 2, 2, 8, 0, tzinfo=UTC)  # first move into progress
    assert started["ALP-2"] == datetime(2026, 1, 7, 9, 0, tzinfo=UTC)
    # No changelog loaded for ALP-3, in progress now: since its status last changed category.
    assert started["ALP-3"] == datetime(2026, 1, 7, 0, 0, tzinfo=UTC)
    assert started["ALP-4"] is None  # its changelog is empty: never started
    cycle = work_items_by_key(marts, "cycle_time_days")
    assert cycle["BET-2"] == Decimal("29.17")  # 2 Feb 08:00 to 3 Mar 12:00
    assert cycle["ALP-3"] is None  # not done


def test_status_changes_carry_categories_and_time_in_the_status_left(marts: psycopg.Connection) -> None:
    changes = rows(
        marts,
        "select item.source_key, change.from_status, change.to_status, change.from_category, change.to_category,"
        " change.hours_in_from_status"
        " from marts.fct_status_changes as change"
        " inner join marts.fct_work_items as item on change.work_item_key = item.work_item_key"
        " order by item.source_key, change.change_sequence",
    )
    assert changes == [
        # Created 6 Jan 18:00 UTC; In Review is held by no issue now, so its category is unknown.
        ("ALP-2", "To Do", "In Progress", "todo", "in_progress", Decimal("15.00")),
        ("ALP-2", "In Progress", "In Review", "in_progress", None, Decimal("792.00")),
        ("ALP-2", "In Review", "Done", None, "done", Decimal("22.00")),
        ("BET-2", "To Do", "In Progress", "todo", "in_progress", Decimal("24.00")),
        ("BET-2", "In Progress", "Done", "in_progress", "done", Decimal("436.00")),
        ("BET-2", "Done", "In Progress", "done", "in_progress", Decimal("120.00")),
        ("BET-2", "In Progress", "Done", "in_progress", "done", Decimal("144.00")),
    ]  # ALP-9's change is left out: the issue is deleted


def test_milestones_are_banded_against_the_run_date(marts: psycopg.Connection) -> None:
    milestones = rows(
        marts,
        "select item.source_key, milestone.name, milestone.baseline_date, milestone.due_date, milestone.slip_days,"
        " milestone.milestone_status"
        " from marts.fct_milestones as milestone"
        " inner join marts.fct_work_items as item on milestone.work_item_key = item.work_item_key"
        " order by item.source_key",
    )
    assert [(key, baseline, due, slip, status) for key, _, baseline, due, slip, status in milestones] == [
        ("ALP-8", date(2026, 3, 1), date(2026, 3, 1), 9, "overdue"),
        ("GAM-4", date(2026, 4, 15), date(2026, 4, 15), None, "upcoming"),
    ]


def test_without_a_register_or_rate_card_time_has_no_rate(marts: psycopg.Connection) -> None:
    assert rows(marts, "select count(*), count(hourly_rate), count(cost) from marts.fct_time_entries") == [(5, 0, 0)]
    assert rows(marts, "select count(role), count(hourly_rate) from marts.dim_person") == [(0, 0)]


def test_source_freshness_reports_each_stream_landed(marts: psycopg.Connection) -> None:
    freshness = {
        stream: (rows_last_run, deletes, rejects, status, is_stale)
        for stream, rows_last_run, deletes, rejects, status, is_stale in rows(
            marts,
            "select stream, rows_last_run, deletes_last_run, rejects_last_run, last_run_status, is_stale"
            " from marts.dq_source_freshness where source_system = 'jira'",
        )
    }
    assert freshness == {
        "projects": (4, 1, 0, "succeeded", False),
        "fields": (5, 0, 0, "succeeded", False),
        "users": (4, 0, 0, "succeeded", False),
        "issues": (18, 2, 0, "succeeded", False),
        "worklogs": (8, 1, 1, "succeeded", False),
        "issue_changelogs": (4, 0, 0, "succeeded", False),
    }


def mart_constraints(connection: psycopg.Connection, kind: str) -> list[tuple[str, str]]:
    """(table, constraint name) of the marts' constraints of one kind (`pg_constraint.contype`: c, u...)."""
    return rows(
        connection,
        "select class.relname, constraint_.conname from pg_constraint as constraint_"
        " join pg_class as class on class.oid = constraint_.conrelid"
        " join pg_namespace as namespace on namespace.oid = class.relnamespace"
        f" where namespace.nspname = 'marts' and constraint_.contype = '{kind}'",
    )


def test_the_marts_refuse_values_outside_their_accepted_ones(marts: psycopg.Connection) -> None:
    """Each check constraint the marts' YAML names is on its table, and a value outside the accepted
    ones is refused as it is written, naming the constraint."""
    configured = set()
    for path in (DBT_PROJECT_DIR / "models" / "marts").rglob("*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            for column in model.get("columns", []):
                for constraint in column.get("constraints", []):
                    if constraint["type"] == "check":
                        configured.add((model["name"], constraint["name"]))
    assert len(configured) >= 20
    present = set(mart_constraints(marts, "c"))
    assert configured <= present, configured - present
    with pytest.raises(psycopg.errors.CheckViolation, match="status_category_accepted"):
        marts.execute("update marts.fct_work_items set status_category = 'blocked'")
    assert rows(marts, "select count(*) from marts.fct_work_items where status_category = 'blocked'") == [(0,)]


def test_the_marts_refuse_a_second_row_of_a_unique_combination(marts: psycopg.Connection) -> None:
    """The marts' unique columns and combinations are their tables' own constraints: a duplicate is
    refused as it is written, a null counting as a value where the combination says so."""
    constraints = Counter(table for table, _ in mart_constraints(marts, "u"))
    assert constraints == {
        "dim_portfolio": 1,
        "dim_program": 1,
        "dim_project": 1,
        "dim_project_history": 1,
        "dq_source_freshness": 1,
        "dq_unmapped_projects": 1,
        "fct_portfolio_investment": 1,
        "fct_schedule_changes": 1,
    }
    marts.execute("create temporary table second_project as select * from marts.dim_project limit 1")
    marts.execute("update second_project set project_key = 'another project key'")
    with pytest.raises(psycopg.errors.UniqueViolation) as second_code:
        marts.execute("insert into marts.dim_project select * from second_project")
    assert second_code.value.diag.message_detail.startswith("Key (project_code)=")
    marts.execute("drop table second_project")
    # unmapped projects have no strategic theme: their rows are one group, null or not
    with pytest.raises(psycopg.errors.UniqueViolation) as second_group:
        marts.execute(
            "insert into marts.fct_portfolio_investment"
            " select * from marts.fct_portfolio_investment where strategic_theme is null limit 1"
        )
    assert second_group.value.diag.message_detail.startswith("Key (portfolio_key, strategic_theme, stage)=")


def test_keys_their_parents_lack_fail_the_models_relationships_test_naming_column_and_value(
    marts: psycopg.Connection, jira_fixture_warehouse: str, tmp_path: Path
) -> None:
    """`relationships_columns` checks every foreign key of fct_time_entries in one test: a value its
    parent lacks fails it, one row per column and value with its count; a null passes. The project,
    person and day are read by walking their indexes (`by_index`), the item by an anti join."""

    def run_the_time_entries_keys_test() -> tuple[DbtInvocation, list[dict]]:
        invocation = run_dbt(
            ["test", "--select", "test_name:relationships_columns,fct_time_entries"], jira_fixture_warehouse, tmp_path
        )
        return invocation, [r for r in invocation.run_results["results"] if r["unique_id"].startswith("test.")]

    first = rows(marts, "select time_entry_key from marts.fct_time_entries order by time_entry_key limit 1")[0][0]
    passed, results = run_the_time_entries_keys_test()
    assert passed.returncode == 0, passed.output[-3000:]
    assert [result["unique_id"].split(".")[2] for result in results] == ["relationships_columns_fct_time_entries"]
    marts.execute("create temporary table orphans as select * from marts.fct_time_entries where false")
    try:
        for key, entry_date in (("orphan-1", None), ("orphan-2", "1900-01-01")):
            marts.execute(
                "insert into orphans select * from marts.fct_time_entries where time_entry_key = %s", (first,)
            )
            marts.execute(
                "update orphans set time_entry_key = %s, work_item_key = 'no-such-item', person_key = null,"
                " entry_date = coalesce(%s::date, entry_date),"
                " project_key = case when %s::date is null then project_key else 'no-such-project' end"
                " where time_entry_key = %s",
                (key, entry_date, entry_date, first),
            )
        marts.execute("insert into marts.fct_time_entries select * from orphans")

        failed, [result] = run_the_time_entries_keys_test()

        assert failed.returncode != 0
        assert result["status"] == "fail" and result["failures"] == 3
        assert set(rows(marts, result["compiled_code"])) == {
            ("work_item_key", "no-such-item", 2),
            ("project_key", "no-such-project", 1),
            ("entry_date", "1900-01-01", 1),
        }
    finally:
        marts.execute("delete from marts.fct_time_entries where time_entry_key in ('orphan-1', 'orphan-2')")
        marts.execute("drop table orphans")


def run_row_checks(model: str, warehouse: str, work_dir: Path) -> tuple[DbtInvocation, dict]:
    """`dbt test` of a model's `row_checks` test: the invocation and the test's result."""
    invocation = run_dbt(["test", "--select", f"test_name:row_checks,{model}"], warehouse, work_dir)
    [result] = [r for r in invocation.run_results["results"] if r["unique_id"].startswith("test.")]
    assert result["unique_id"].split(".")[2] == f"row_checks_{model}"
    return invocation, result


def test_row_checks_name_each_null_duplicate_and_value_outside_its_list(
    marts: psycopg.Connection, jira_fixture_warehouse: str, tmp_path: Path
) -> None:
    """One `row_checks` test per model checks its rows every way its YAML asks: a row per failure,
    naming the check, the column or columns, the value at fault and how many rows hold it."""
    passed, _ = run_row_checks("int_projects_mapped", jira_fixture_warehouse, tmp_path)
    assert passed.returncode == 0, passed.output[-3000:]
    [(project_key, project_code)] = rows(
        marts, "select project_key, project_code from intermediate.int_projects_mapped order by project_key limit 1"
    )
    marts.execute(
        "create temporary table faulty as select * from intermediate.int_projects_mapped where project_key = %s",
        (project_key,),
    )
    marts.execute("insert into faulty select * from faulty")
    marts.execute("update faulty set program_code = null, source_system = 'bogus'")
    marts.execute("insert into intermediate.int_projects_mapped select * from faulty")
    try:
        failed, result = run_row_checks("int_projects_mapped", jira_fixture_warehouse, tmp_path)
        found = sorted(rows(marts, result["compiled_code"]))
    finally:
        marts.execute(
            "delete from intermediate.int_projects_mapped where project_key = %s and source_system = 'bogus'",
            (project_key,),
        )
        marts.execute("drop table faulty")

    assert failed.returncode != 0
    assert result["status"] == "fail" and result["failures"] == 4
    assert found == [
        ("accepted_values", "source_system", "bogus", 2),
        ("not_null", "program_code", None, 2),
        ("unique", "project_code", project_code, 3),
        ("unique", "project_key", project_key, 3),
    ]


def test_row_checks_name_values_out_of_range_and_fields_left_unparsed(
    marts: psycopg.Connection, jira_fixture_warehouse: str, tmp_path: Path
) -> None:
    """The register's checks: a stage outside the contract's list, an alignment score outside 1 to 5
    and a number that does not read as one (kept in `unparsed_fields`) each fail, with their value."""
    passed, _ = run_row_checks("stg_csv__register_rows", jira_fixture_warehouse, tmp_path)
    assert passed.returncode == 0, passed.output[-3000:]
    marts.execute(
        "insert into seeds.portfolio_register (project_code, project_name, stage, alignment_score, approved_budget)"
        " values ('FAULTY', 'A faulty row', 'parked', '9', 'a lot')"
    )
    try:
        failed, result = run_row_checks("stg_csv__register_rows", jira_fixture_warehouse, tmp_path)
        found = sorted(rows(marts, result["compiled_code"]))
    finally:
        marts.execute("delete from seeds.portfolio_register where project_code = 'FAULTY'")

    assert failed.returncode != 0 and result["failures"] == 3
    assert found == [
        ("accepted_range", "alignment_score", "9", 1),
        ("accepted_values", "stage", "parked", 1),
        ("empty_array", "unparsed_fields", "{approved_budget}", 1),
    ]


def test_a_key_read_by_index_on_a_model_without_that_index_is_read_by_anti_join_with_a_warning(
    marts: psycopg.Connection, jira_fixture_warehouse: str, tmp_path: Path
) -> None:
    """`by_index` walks the model's index on the column. Without one (a table built by hand, an index
    dropped) a walk would scan the model once per value: the column is read by the anti join instead,
    still finding the values its parent lacks, and dbt warns, naming the column."""
    [(index_name, definition)] = rows(
        marts,
        "select indexname, indexdef from pg_indexes where schemaname = 'marts' and tablename = 'fct_time_entries'"
        " and indexdef like '%(person_key)'",
    )
    first = rows(marts, "select time_entry_key from marts.fct_time_entries order by time_entry_key limit 1")[0][0]
    marts.execute(f'drop index marts."{index_name}"')
    try:
        marts.execute(
            "create temporary table orphan as select * from marts.fct_time_entries where time_entry_key = %s", (first,)
        )
        marts.execute("update orphan set time_entry_key = 'orphan-person', person_key = 'no-such-person'")
        marts.execute("insert into marts.fct_time_entries select * from orphan")
        invocation = run_dbt(
            ["test", "--select", "test_name:relationships_columns,fct_time_entries"], jira_fixture_warehouse, tmp_path
        )
    finally:
        marts.execute("delete from marts.fct_time_entries where time_entry_key = 'orphan-person'")
        marts.execute("drop table if exists orphan")
        marts.execute(definition)

    [result] = [r for r in invocation.run_results["results"] if r["unique_id"].startswith("test.")]
    assert result["status"] == "fail" and result["failures"] == 1
    assert "group by child.person_key" in result["compiled_code"]
    assert "has no index that starts with person_key" in invocation.output
    # the project and the day are still read by walking their indexes
    assert result["compiled_code"].count("with recursive distinct_values") == 2


def test_a_worklog_without_its_issue_fails_the_staging_build_naming_the_column(
    warehouse_url: str, tmp_path: Path
) -> None:
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        load_jira_fixture(connection)
    run_dbt(["run", "--select", "stg_jira__worklogs"], warehouse_url, tmp_path).check()
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        not_null = rows(
            connection,
            "select attname from pg_attribute where attrelid = 'staging.stg_jira__worklogs'::regclass"
            " and attnum > 0 and attnotnull order by attname",
        )
        assert not_null == [("issue_id",), ("source_instance",), ("worklog_id",)]
        worklog = json.loads((FIXTURES_DIR / "jira_worklogs.json").read_text())["records"][0]
        orphan = {key: value for key, value in worklog.items() if key != "issueId"} | {"id": "29999"}
        land_jira_stream(connection, "worklogs", [orphan])

    night = run_dbt(["run", "--select", "stg_jira__worklogs"], warehouse_url, tmp_path)

    assert night.returncode != 0
    assert 'null value in column "issue_id" of relation "stg_jira__worklogs"' in night.output
    with psycopg.connect(warehouse_url) as connection:
        assert rows(connection, "select count(*) from staging.stg_jira__worklogs where worklog_id = '29999'") == [(0,)]
