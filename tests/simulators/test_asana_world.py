"""The Asana workspace of the demo world: deterministic, quick, and consistent with the world."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from simulators.asana_world import (
    ESTIMATE_FIELD_NAME,
    AsanaWorkspace,
    build_asana_data,
    parse_asana_timestamp,
)
from simulators.world import World, build_world

ASANA_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture(scope="module")
def asana_data(world: World) -> AsanaWorkspace:
    return build_asana_data(world)


def _estimate(task: dict) -> tuple[bool, float | None]:
    """Whether the task carries the estimate field, and its value."""
    for custom_field in task["custom_fields"]:
        if custom_field["name"] == ESTIMATE_FIELD_NAME:
            return True, custom_field["number_value"]
    return False, None


def test_the_same_world_gives_the_same_workspace(world: World, asana_data: AsanaWorkspace) -> None:
    again = build_asana_data(world)

    assert again.tasks == asana_data.tasks
    assert again.time_entries == asana_data.time_entries
    assert again.portfolios == asana_data.portfolios


def test_a_world_built_a_day_later_changes_its_time_entries_instead_of_replacing_them(
    world: World, asana_data: AsanaWorkspace
) -> None:
    """The demo's world is anchored on the day it is served: a warehouse loaded yesterday meets today's."""
    later = build_asana_data(
        build_world(dataclasses.replace(world.config, anchor_date=world.config.anchor_date + timedelta(days=1)))
    )
    entries = {entry["gid"]: entry for entry in asana_data.time_entries}
    entries_later = {entry["gid"]: entry for entry in later.time_entries}

    assert set(entries_later) == set(entries)
    moved = [gid for gid in entries if entries[gid]["entered_on"] != entries_later[gid]["entered_on"]]
    assert len(moved) > len(entries) / 2, "the entries' days move with the anchor"
    assert all(entries[gid]["task"]["gid"] == entries_later[gid]["task"]["gid"] for gid in entries)
    assert [portfolio["gid"] for portfolio in later.portfolios] == [p["gid"] for p in asana_data.portfolios]


def test_another_seed_gives_another_workspace(world: World, asana_data: AsanaWorkspace) -> None:
    other = build_asana_data(dataclasses.replace(world, config=dataclasses.replace(world.config, seed=7)))

    assert [task["name"] for task in other.tasks[:40]] != [task["name"] for task in asana_data.tasks[:40]]


def test_users_are_the_people_with_an_asana_account_and_always_show_their_email(
    world: World, asana_data: AsanaWorkspace
) -> None:
    people = {person.asana_gid: person for person in world.people if person.asana_gid}

    assert {user["gid"] for user in asana_data.users} == set(people)
    assert all(user["email"] == people[user["gid"]].email for user in asana_data.users)


def test_projects_are_the_worlds_asana_projects_plus_one_outside_the_register(
    world: World, asana_data: AsanaWorkspace
) -> None:
    registered = {project.source_project_key for project in world.projects if project.tool == "asana"}
    gids = {project["gid"] for project in asana_data.projects}

    assert registered < gids
    assert gids - registered == {asana_data.unregistered_project_gid}
    closed = {p.source_project_key for p in world.projects if p.tool == "asana" and p.stage == "closed"}
    assert {project["gid"] for project in asana_data.projects if project["archived"]} == closed


def test_portfolios_nest_like_the_pmo(world: World, asana_data: AsanaWorkspace) -> None:
    by_gid = {portfolio["gid"]: portfolio for portfolio in asana_data.portfolios}
    top_level = [p for p in asana_data.portfolios if p["name"] in {pf.name for pf in world.portfolios}]
    programs_by_portfolio = Counter(program.portfolio_code for program in world.programs)

    assert len(top_level) == len(world.portfolios)
    for pmo_portfolio, portfolio in zip(world.portfolios, top_level, strict=True):
        nested = asana_data.portfolio_items[portfolio["gid"]]
        assert len(nested) == programs_by_portfolio[pmo_portfolio.code]
        assert all(by_gid[gid]["resource_type"] == "portfolio" for gid in nested)
    program_of = {program.name: program.code for program in world.programs}
    for portfolio in asana_data.portfolios:
        if portfolio["name"] not in program_of:
            continue
        expected = {
            p.source_project_key
            for p in world.projects
            if p.tool == "asana" and p.in_register and p.program_code == program_of[portfolio["name"]]
        }
        assert set(asana_data.portfolio_items[portfolio["gid"]]) == expected
    in_portfolios = {gid for items in asana_data.portfolio_items.values() for gid in items}
    assert asana_data.unregistered_project_gid not in in_portfolios


def test_tasks_have_demo_scale_counts_milestones_and_nested_subtasks(asana_data: AsanaWorkspace) -> None:
    counts = asana_data.counts()
    per_project = {gid: len(gids) for gid, gids in asana_data.project_task_gids.items()}
    tasks = {task["gid"]: task for task in asana_data.tasks}
    depth_two = [t for t in asana_data.tasks if t["parent"] and tasks[t["parent"]["gid"]]["parent"]]

    assert 1000 <= counts["tasks"] <= 2200
    assert counts["subtasks"] > 100 and counts["parent_tasks"] > 40 and counts["milestones"] >= 20
    assert sum(1 for count in per_project.values() if count >= 80) >= 6
    assert depth_two
    for task in asana_data.tasks:
        assert task["resource_subtype"] in ("default_task", "milestone")
        if task["parent"]:
            assert task["memberships"] == [] and task["projects"] == []
        else:
            assert len(task["memberships"]) == 1 and task["memberships"][0]["section"]["gid"]
    subtask_counts = Counter(t["parent"]["gid"] for t in asana_data.tasks if t["parent"])
    assert all(task["num_subtasks"] == subtask_counts[task["gid"]] for task in asana_data.tasks)


def test_timestamps_are_utc_milliseconds_and_nothing_happens_at_or_after_the_anchor(
    world: World, asana_data: AsanaWorkspace
) -> None:
    anchor = world.anchor_instant
    for task in asana_data.tasks:
        for name in ("created_at", "modified_at", "completed_at"):
            if task[name] is not None:
                assert ASANA_TIMESTAMP.fullmatch(task[name]), task[name]
                assert parse_asana_timestamp(task[name]) < anchor
        created, modified = parse_asana_timestamp(task["created_at"]), parse_asana_timestamp(task["modified_at"])
        assert created <= modified
        assert task["completed"] == (task["completed_at"] is not None)
        if task["completed_at"]:
            assert created <= parse_asana_timestamp(task["completed_at"]) <= modified
    for entry in asana_data.time_entries:
        assert entry["entered_on"] < anchor.date().isoformat()
        assert parse_asana_timestamp(entry["created_at"]) < anchor


def test_parents_are_done_only_when_their_subtasks_are(asana_data: AsanaWorkspace) -> None:
    children: dict[str, list[dict]] = {}
    for task in asana_data.tasks:
        if task["parent"]:
            children.setdefault(task["parent"]["gid"], []).append(task)
    for parent_gid, kids in children.items():
        if asana_data.task(parent_gid)["completed"]:
            assert all(kid["completed"] for kid in kids)


def test_estimates_are_sometimes_empty_a_few_exactly_zero_and_one_project_has_none(
    asana_data: AsanaWorkspace,
) -> None:
    values = Counter()
    for task in asana_data.tasks:
        has_field, value = _estimate(task)
        values["missing field" if not has_field else "empty" if value is None else "zero" if value == 0 else "set"] += 1

    assert values["set"] > values["empty"] > values["zero"] > 5
    assert asana_data.project_without_estimates_gid is not None
    no_estimates = set(asana_data.project_task_gids[asana_data.project_without_estimates_gid])
    assert all(not _estimate(asana_data.task(gid))[0] for gid in no_estimates)
    settings = asana_data.custom_field_settings[asana_data.project_without_estimates_gid]
    assert [setting["custom_field"]["name"] for setting in settings] == ["Priority"]
    assert any(_estimate(task)[1] for task in asana_data.tasks if task["num_subtasks"])


def test_time_entries_sit_on_leaf_tasks_of_their_project_and_are_dated_in_the_loggers_zone(
    world: World, asana_data: AsanaWorkspace
) -> None:
    tasks = {task["gid"]: task for task in asana_data.tasks}
    users = {user["gid"] for user in asana_data.users}

    assert len(asana_data.time_entries) > 1000
    for entry in asana_data.time_entries:
        task = tasks[entry["task"]["gid"]]
        assert task["num_subtasks"] == 0 and task["resource_subtype"] == "default_task"
        assert entry["created_by"]["gid"] in users
        assert entry["duration_minutes"] > 0 and entry["duration_minutes"] % 15 == 0
        root = task
        while root["parent"]:
            root = tasks[root["parent"]["gid"]]
        assert entry["attributable_to"]["gid"] == root["memberships"][0]["project"]["gid"]
        person = next(p for p in world.people if p.asana_gid == entry["created_by"]["gid"])
        created_locally = parse_asana_timestamp(task["created_at"]).astimezone(ZoneInfo(person.time_zone))
        assert entry["entered_on"] >= created_locally.date().isoformat()


def test_status_updates_belong_to_projects_and_the_latest_is_the_projects_current(
    asana_data: AsanaWorkspace,
) -> None:
    by_project: dict[str, list[dict]] = {}
    for update in asana_data.status_updates:
        by_project.setdefault(update["parent"]["gid"], []).append(update)

    assert len(asana_data.status_updates) > 30
    for project in asana_data.projects:
        updates = by_project.get(project["gid"], [])
        if updates:
            latest = max(updates, key=lambda update: update["created_at"])
            assert project["current_status_update"]["gid"] == latest["gid"]
            if project["archived"]:
                assert latest["status_type"] == "complete"


def test_gids_are_unique_across_everything(asana_data: AsanaWorkspace) -> None:
    gids = (
        [asana_data.workspace["gid"], asana_data.integration_user["gid"]]
        + [record["gid"] for record in asana_data.users + asana_data.teams + asana_data.custom_fields]
        + [record["gid"] for record in asana_data.portfolios + asana_data.projects + asana_data.tasks]
        + [record["gid"] for record in asana_data.time_entries + asana_data.status_updates]
        + [s["gid"] for sections in asana_data.sections.values() for s in sections]
        + [s["gid"] for settings in asana_data.custom_field_settings.values() for s in settings]
    )

    assert len(gids) == len(set(gids))
    assert all(gid.isdigit() for gid in gids)
