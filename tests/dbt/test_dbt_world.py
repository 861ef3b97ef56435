"""`dbt build` over the simulators' demo world, landed in raw as the Jira connector lands it:
the marts agree with the figures the world itself computes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from simulators.world import (
    World,
    WorldConfig,
    build_world,
    summarize,
    worklog_hours_by_local_date,
    worklog_hours_by_project,
)
from tests.dbt.conftest import create_database, drop_database, land_jira_stream, run_dbt

ANCHOR_DATE = date(2026, 3, 10)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(WorldConfig(anchor_date=ANCHOR_DATE))


@pytest.fixture(scope="module")
def world_marts(
    world: World, warehouse_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[psycopg.Connection]:
    url = create_database(warehouse_server)
    site = world.jira
    with psycopg.connect(url) as connection:
        land_jira_stream(connection, "projects", site.projects)
        land_jira_stream(connection, "fields", site.fields)
        land_jira_stream(connection, "users", site.users)
        land_jira_stream(connection, "issues", [issue.payload for issue in site.issues])
        land_jira_stream(connection, "worklogs", [worklog.payload for worklog in site.worklogs])
    invocation = run_dbt(["build"], url, tmp_path_factory.mktemp("dbt_world"), run_date=ANCHOR_DATE.isoformat())
    assert invocation.returncode == 0, "\n".join(invocation.failures()) or invocation.output[-5000:]
    with psycopg.connect(url, autocommit=True) as connection:
        yield connection
    drop_database(url)


def test_every_issue_is_a_work_item(world: World, world_marts: psycopg.Connection) -> None:
    item_types = Counter(
        dict(world_marts.execute("select item_type, count(*) from marts.fct_work_items group by item_type").fetchall())
    )
    assert item_types == Counter(summarize(world).issues_by_type)
    milestones = world_marts.execute("select count(*) from marts.fct_work_items where is_milestone").fetchone()[0]
    assert milestones == summarize(world).issues_by_type["Milestone"]


def test_logged_hours_match_the_world_by_local_date_and_project(world: World, world_marts: psycopg.Connection) -> None:
    by_date = world_marts.execute(
        "select entry_date, sum(hours) from marts.fct_time_entries group by entry_date order by entry_date"
    ).fetchall()
    assert dict(by_date) == worklog_hours_by_local_date(world.jira)
    by_project = world_marts.execute(
        "select project.source_project_key, sum(entry.hours)"
        " from marts.fct_time_entries as entry"
        " inner join marts.dim_project as project on entry.project_key = project.project_key"
        " group by project.source_project_key"
    ).fetchall()
    assert dict(by_project) == worklog_hours_by_project(world.jira)
    logged = world_marts.execute("select sum(logged_hours) from marts.fct_work_items").fetchone()[0]
    assert logged == summarize(world).jira_worklog_hours


def test_people_with_hidden_emails_stay_tool_scoped(world: World, world_marts: psycopg.Connection) -> None:
    hidden = {
        person.jira_account_id for person in world.people if person.jira_account_id and not person.jira_email_visible
    }
    scoped = {
        row[0]
        for row in world_marts.execute(
            "select account_id from intermediate.int_tool_accounts_resolved where email is null"
        ).fetchall()
    }
    assert hidden <= scoped
    visible = {person.email for person in world.people if person.jira_account_id and person.jira_email_visible}
    emails = {row[0] for row in world_marts.execute("select email from marts.dim_person").fetchall()}
    assert visible <= emails


def test_done_items_have_a_completion_time_and_weights_are_never_negative(world_marts: psycopg.Connection) -> None:
    done_without_completion, negative_weights, weighted_parents = world_marts.execute(
        "select"
        " count(*) filter (where status_category = 'done' and completed_at is null),"
        " count(*) filter (where weight < 0),"
        " count(*) filter (where weight > 0 and (is_milestone or item_type = 'Epic'))"
        " from marts.fct_work_items"
    ).fetchone()
    assert (done_without_completion, negative_weights, weighted_parents) == (0, 0, 0)


def test_every_jira_project_is_reported_unmapped_until_a_register_is_loaded(
    world: World, world_marts: psycopg.Connection
) -> None:
    unmapped = {row[0] for row in world_marts.execute("select source_project_key from marts.dq_unmapped_projects")}
    assert unmapped == {project["key"] for project in world.jira.projects}
    total = world_marts.execute("select sum(work_items) from marts.dq_unmapped_projects").fetchone()[0]
    assert total == len(world.jira.issues)
    assert (
        Decimal(0)
        == world_marts.execute("select coalesce(sum(hours), 0) from marts.dq_orphaned_time_entries").fetchone()[0]
    )
