"""The Asana connector against the Asana simulator over real HTTP, landing in a real PostgreSQL.

Full and incremental runs, subtasks, deletes as tombstones, faults recovered without loss or
duplicates, loud failures, rejected records, resumable state, and a token that never reaches the logs.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import psycopg
import pytest

from connectors.asana.settings import AsanaSettings
from connectors.asana.streams import FUTURE_ENTRY_DAYS, MONTHS_READ_APART, STREAMS, time_entry_windows
from connectors.http import ApiError, Secret
from connectors.raw_store import StreamWriter
from simulators.asana import API_PREFIX, AsanaSimulator
from simulators.asana_world import AsanaWorkspace, parse_asana_timestamp
from tests.connectors.asana.conftest import TOKEN, Runner

Query = Callable[..., list[tuple]]
AFTER_ANCHOR = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def live_ids(raw: Query, stream: str) -> set[str]:
    return {row[0] for row in raw(f"select record_id from raw.asana_{stream} where not is_deleted")}


def deleted_ids(raw: Query, stream: str) -> set[str]:
    return {row[0] for row in raw(f"select record_id from raw.asana_{stream} where is_deleted")}


def payload(raw: Query, stream: str, record_id: str) -> dict:
    return raw(f"select payload from raw.asana_{stream} where record_id = %s", (record_id,))[0][0]


def last_batch_ids(raw: Query, stream: str) -> set[str]:
    """The records written by the stream's latest load batch."""
    rows = raw(
        f"select record_id from raw.asana_{stream} where batch_id = (select batch_id from raw._load_batches"
        " where source_system = 'asana' and stream = %s order by started_at desc limit 1)",
        (stream,),
    )
    return {row[0] for row in rows}


def task_state(raw: Query) -> dict:
    rows = raw("select state from raw._stream_state where source_system = 'asana' and stream = 'tasks'")
    return rows[0][0] if rows else {}


def root_project(tasks: dict[str, dict], gid: str) -> str:
    task = tasks[gid]
    while task["parent"]:
        task = tasks[task["parent"]["gid"]]
    return task["memberships"][0]["project"]["gid"]


def estimated_project(data: AsanaWorkspace) -> str:
    estimated = [gid for gid in data.project_task_gids if gid != data.project_without_estimates_gid]
    return max(estimated, key=lambda gid: len(data.project_task_gids[gid]))


# -- full runs ---------------------------------------------------------------------------------------


def test_a_full_run_lands_every_record_the_workspace_holds(
    run_asana: Runner, raw: Query, asana: AsanaSimulator, asana_data: AsanaWorkspace
) -> None:
    results = run_asana()

    assert all(request.status == 200 for request in asana.requests)
    reads = [request for request in asana.requests if request.method == "GET"]  # alone, or as a batch's actions
    for request in reads:  # every read pages and names its fields
        assert request.query.get("limit") == ["100"] and request.query.get("opt_fields"), request.path
    batches = [request for request in asana.requests if request.method == "POST"]
    assert batches and all(request.path == f"{API_PREFIX}/batch" for request in batches)
    assert any(request.path.endswith("/subtasks") for request in reads)

    assert list(results) == list(STREAMS)
    assert live_ids(raw, "tasks") == {task["gid"] for task in asana_data.tasks}
    assert live_ids(raw, "time_entries") == {entry["gid"] for entry in asana_data.time_entries}
    assert live_ids(raw, "users") == {user["gid"] for user in asana_data.users}
    assert live_ids(raw, "projects") == {project["gid"] for project in asana_data.projects}
    assert live_ids(raw, "portfolios") == {portfolio["gid"] for portfolio in asana_data.portfolios}
    assert live_ids(raw, "portfolio_items") == {
        f"{portfolio}:{item}" for portfolio, items in asana_data.portfolio_items.items() for item in items
    }
    assert len(live_ids(raw, "sections")) == sum(len(s) for s in asana_data.sections.values())
    assert len(live_ids(raw, "custom_field_settings")) == sum(len(s) for s in asana_data.custom_field_settings.values())
    assert live_ids(raw, "status_updates") == {update["gid"] for update in asana_data.status_updates}
    assert results["tasks"].records == len(asana_data.tasks)
    assert results["time_entries"].records == len(asana_data.time_entries)
    assert all(result.rejected == 0 and result.deleted == 0 for result in results.values())

    subtask = next(task for task in asana_data.tasks if task["parent"] and task["custom_fields"])
    landed = payload(raw, "tasks", subtask["gid"])
    assert landed["parent"]["gid"] == subtask["parent"]["gid"]
    assert landed["modified_at"] == subtask["modified_at"] and landed["completed"] == subtask["completed"]
    assert {field["name"] for field in landed["custom_fields"]} == {f["name"] for f in subtask["custom_fields"]}
    entry = payload(raw, "time_entries", asana_data.time_entries[0]["gid"])
    assert set(entry) >= {"gid", "duration_minutes", "entered_on", "task", "created_by", "attributable_to"}
    assert entry["created_by"]["name"] and entry["attributable_to"]["name"]


def test_a_second_run_reloads_only_the_overlap_window_and_a_full_refresh_everything(
    run_asana: Runner, raw: Query, asana: AsanaSimulator, asana_data: AsanaWorkspace
) -> None:
    run_asana(["projects", "tasks"])
    marks = task_state(raw)["project_watermarks"]

    second = run_asana(["projects", "tasks"])

    tasks = asana.store.tasks
    overlap = timedelta(minutes=15)
    expected = {
        gid
        for gid, task in tasks.items()
        if parse_asana_timestamp(task["modified_at"])
        >= datetime.fromisoformat(marks[root_project(tasks, gid)]) - overlap
    }
    assert second["tasks"].records == len(expected) < 40
    assert last_batch_ids(raw, "tasks") == set(), "read again unchanged, they keep their rows as they were"
    assert second["tasks"].deleted == 0

    refreshed = run_asana(["projects", "tasks"], full_refresh={"tasks"})
    assert refreshed["tasks"].records == len(asana_data.tasks)
    assert refreshed["projects"].records == len(asana_data.projects)
    with pytest.raises(ValueError, match="unknown Asana streams"):
        run_asana(["tasks"], full_refresh={"taks"})


# -- incremental runs ----------------------------------------------------------------------------------


def test_an_incremental_run_picks_up_exactly_the_edits_including_subtask_changes(
    run_asana: Runner, raw: Query, asana: AsanaSimulator, asana_data: AsanaWorkspace
) -> None:
    run_asana(["projects", "tasks"])
    marks = task_state(raw)["project_watermarks"]
    project = estimated_project(asana_data)
    top_level = next(gid for gid in asana_data.project_task_gids[project] if not asana.store.tasks[gid]["num_subtasks"])
    subtask = next(task for task in asana_data.tasks if task["parent"] and not task["completed"])
    leaf_parent = next(
        gid
        for gid in asana_data.project_task_gids[project]
        if gid != top_level and not asana.store.tasks[gid]["num_subtasks"]
    )
    leaf_parent_modified = asana.store.tasks[leaf_parent]["modified_at"]

    asana.update_task(top_level, at=AFTER_ANCHOR, name="Renamed in Asana", custom_fields={"Estimated hours": 0})
    asana.complete_task(subtask["gid"], at=AFTER_ANCHOR)
    new_subtask = asana.add_task(at=AFTER_ANCHOR, name="A new part", parent=leaf_parent)
    second = run_asana(["projects", "tasks"])

    tasks = asana.store.tasks
    overlap = timedelta(minutes=15)
    in_overlap = {
        gid
        for gid, task in tasks.items()
        if datetime.fromisoformat(marks[root_project(tasks, gid)]) - overlap
        <= parse_asana_timestamp(task["modified_at"])
        < AFTER_ANCHOR
    }
    # the overlap is read again but only the changed tasks are rewritten
    assert last_batch_ids(raw, "tasks") == {top_level, subtask["gid"], new_subtask}
    assert second["tasks"].records == 3 + len(in_overlap)
    renamed = payload(raw, "tasks", top_level)
    assert renamed["name"] == "Renamed in Asana"
    assert next(f for f in renamed["custom_fields"] if f["name"] == "Estimated hours")["number_value"] == 0
    assert payload(raw, "tasks", subtask["gid"])["completed"] is True
    assert payload(raw, "tasks", new_subtask)["parent"]["gid"] == leaf_parent
    assert payload(raw, "tasks", leaf_parent)["modified_at"] == leaf_parent_modified
    assert task_state(raw)["project_watermarks"][root_project(tasks, subtask["gid"])] == "2026-11-30T09:00:00.000Z"


@pytest.mark.parametrize("concurrent_requests", [1, 3, 20])
def test_a_nested_subtask_changed_alone_lands_on_the_next_run(
    run_asana: Runner,
    raw: Query,
    asana: AsanaSimulator,
    asana_data: AsanaWorkspace,
    settings: AsanaSettings,
    concurrent_requests: int,
) -> None:
    chosen = dataclasses.replace(settings, concurrent_requests=concurrent_requests)
    tasks = asana.store.tasks
    nested = next(task["gid"] for task in asana_data.tasks if task["parent"] and tasks[task["parent"]["gid"]]["parent"])
    run_asana(["projects", "tasks"], with_settings=chosen)

    asana.update_task(nested, at=AFTER_ANCHOR, name="Renamed deep down")
    second = run_asana(["projects", "tasks"], with_settings=chosen)

    assert nested in last_batch_ids(raw, "tasks")
    assert payload(raw, "tasks", nested)["name"] == "Renamed deep down"
    assert second["tasks"].deleted == 0
    assert live_ids(raw, "tasks") == set(tasks)
    assert task_state(raw)["project_watermarks"][root_project(tasks, nested)] == "2026-11-30T09:00:00.000Z"


def test_a_task_edited_one_second_before_the_watermark_is_not_missed(
    run_asana: Runner, raw: Query, asana: AsanaSimulator, asana_data: AsanaWorkspace
) -> None:
    run_asana(["tasks"])
    project = estimated_project(asana_data)
    watermark = datetime.fromisoformat(task_state(raw)["project_watermarks"][project])
    just_before = watermark - timedelta(seconds=1)
    quiet = next(
        gid
        for gid in asana_data.project_task_gids[project]
        if parse_asana_timestamp(asana.store.tasks[gid]["modified_at"]) < just_before
    )

    asana.update_task(quiet, at=just_before, name="Edited just before the watermark")
    run_asana(["tasks"])

    assert payload(raw, "tasks", quiet)["name"] == "Edited just before the watermark"


# -- deletes -----------------------------------------------------------------------------------------


def test_deleted_tasks_and_time_entries_become_tombstones(
    run_asana: Runner, raw: Query, asana: AsanaSimulator, asana_data: AsanaWorkspace
) -> None:
    run_asana(["projects", "tasks", "time_entries"])
    parent = next(task for task in asana_data.tasks if task["num_subtasks"] >= 2 and task["parent"] is None)
    lone_subtask = next(task for task in asana_data.tasks if task["parent"] and task["parent"]["gid"] != parent["gid"])
    entry = next(e for e in asana_data.time_entries if e["task"]["gid"] not in (parent["gid"], lone_subtask["gid"]))

    removed = asana.delete_task(parent["gid"]) + asana.delete_task(lone_subtask["gid"])
    entries_of_removed = {e["gid"] for e in asana_data.time_entries if e["task"]["gid"] in removed}
    asana.delete_time_entry(entry["gid"])
    second = run_asana(["projects", "tasks", "time_entries"])

    assert deleted_ids(raw, "tasks") == set(removed)
    assert second["tasks"].deleted == len(removed)
    assert deleted_ids(raw, "time_entries") == entries_of_removed | {entry["gid"]}
    assert live_ids(raw, "tasks") == {task["gid"] for task in asana_data.tasks} - set(removed)
    assert raw("select count(*) from raw.asana_tasks where is_deleted and deleted_at is null") == [(0,)]


# -- faults ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("rate_limit", {"times": 2, "retry_after": 0.1}),
        ("rate_limit_bare", {"times": 2}),
        ("unavailable", {"times": 3}),
        ("server_error", {"times": 1, "skip": 5}),
        ("drop", {"times": 2, "skip": 1}),
        ("slow", {"times": 1, "delay": 0.3}),
    ],
)
def test_faults_are_recovered_with_nothing_lost_or_duplicated(
    run_asana: Runner, raw: Query, asana: AsanaSimulator, asana_data: AsanaWorkspace, kind: str, options: dict
) -> None:
    asana.faults.add(kind, path=r"/tasks$|/subtasks$|/time_tracking_entries$", **options)

    results = run_asana(["projects", "tasks", "time_entries"])

    assert asana.faults.fired(kind) == options["times"]
    assert results["tasks"].records == len(asana_data.tasks)
    assert results["time_entries"].records == len(asana_data.time_entries)
    assert live_ids(raw, "tasks") == {task["gid"] for task in asana_data.tasks}
    assert live_ids(raw, "time_entries") == {entry["gid"] for entry in asana_data.time_entries}
    retries = results["tasks"].http["retries"] + results["time_entries"].http["retries"]
    if kind == "slow":
        assert retries == 0
    else:  # faults on actions of the same batch are retried together
        assert 1 <= retries <= options["times"]


def test_a_rate_limited_run_waits_what_retry_after_asks(run_asana: Runner, asana: AsanaSimulator) -> None:
    asana.faults.add("rate_limit", path=r"/workspaces$", times=1, retry_after=0.4)

    results = run_asana(["workspaces"])

    assert results["workspaces"].http["rate_limited"] == 1
    assert results["workspaces"].http["wait_seconds"] >= 0.4


def test_a_full_run_within_asanas_per_minute_limit_neither_waits_nor_meets_a_429(
    asana_world, asana_data: AsanaWorkspace, run_asana: Runner, raw: Query
) -> None:
    limit = 1500
    with AsanaSimulator(asana_world, token=TOKEN, data=asana_data, requests_per_minute=limit) as limited:
        settings = AsanaSettings(base_url=limited.api_url, token=Secret(TOKEN), requests_per_minute=limit)
        results = run_asana(with_settings=settings)
        counted = limited.requests_counted  # a batch counts as its actions

    assert 100 < counted < limit  # far past any burst a token bucket paced to 25 a second would allow
    assert sum(result.http["wait_seconds"] for result in results.values()) == 0
    assert sum(result.http["rate_limited"] for result in results.values()) == 0
    assert results["tasks"].records == len(live_ids(raw, "tasks")) > 0


def test_a_403_fails_loudly_naming_the_endpoint(run_asana: Runner, raw: Query, asana: AsanaSimulator) -> None:
    asana.deny_access(r"/time_tracking_entries$", "Forbidden: missing scope time_tracking_entries:read")

    with pytest.raises(ApiError) as failure:
        run_asana(["time_entries"])

    assert failure.value.status == 403
    assert f"GET {API_PREFIX}/time_tracking_entries" in str(failure.value)
    assert "time_tracking_entries:read" in str(failure.value)
    assert raw("select status from raw._load_batches where stream = 'time_entries'") == [("failed",)]


def test_a_malformed_record_is_rejected_and_the_rest_loads(
    run_asana: Runner, raw: Query, asana: AsanaSimulator, asana_data: AsanaWorkspace
) -> None:
    asana.faults.add("malformed", path=r"/tasks$", times=1)
    asana.faults.add("malformed", path=r"/subtasks$", times=1)

    results = run_asana(["projects", "tasks"])

    assert results["tasks"].rejected == 4
    assert live_ids(raw, "tasks") == {task["gid"] for task in asana_data.tasks}
    reasons = raw("select reason from raw._rejected_records where source_system = 'asana' and stream = 'tasks'")
    assert sorted(reason for (reason,) in reasons) == sorted(
        ["record is a JSON str, not an object", "record has no id"] * 2
    )


def test_a_run_stopped_midway_keeps_finished_projects_and_resumes(
    run_asana: Runner, raw: Query, asana: AsanaSimulator, asana_data: AsanaWorkspace, settings: AsanaSettings
) -> None:
    """Projects are read in groups of `concurrent_requests`: with 2, the first group holds the first two."""
    in_pairs = dataclasses.replace(settings, concurrent_requests=2)
    projects = sorted(asana_data.project_task_gids, key=int)
    blocked_project = projects[2]
    parent = next(
        gid for gid in asana_data.project_task_gids[blocked_project] if asana.store.tasks[gid]["num_subtasks"]
    )
    asana.deny_access(rf"/tasks/{parent}/subtasks$")

    with pytest.raises(ApiError, match=f"/tasks/{parent}/subtasks"):
        run_asana(["projects", "tasks"], with_settings=in_pairs)

    assert set(task_state(raw)["project_watermarks"]) == set(projects[:2])
    asana.restore_access()
    run_asana(["projects", "tasks"], with_settings=in_pairs)
    assert live_ids(raw, "tasks") == {task["gid"] for task in asana_data.tasks}
    assert set(task_state(raw)["project_watermarks"]) == set(projects)


def test_reading_one_list_at_a_time_lands_the_same_tasks(
    run_asana: Runner, raw: Query, settings: AsanaSettings, asana_data: AsanaWorkspace
) -> None:
    run_asana(["projects", "tasks"], with_settings=dataclasses.replace(settings, concurrent_requests=1))

    assert live_ids(raw, "tasks") == {task["gid"] for task in asana_data.tasks}


# -- other paths ---------------------------------------------------------------------------------------


def test_time_entries_can_be_read_per_task(
    run_asana: Runner,
    raw: Query,
    settings: AsanaSettings,
    asana: AsanaSimulator,
    asana_data: AsanaWorkspace,
    warehouse_url: str,
) -> None:
    """Per-task reading asks each task the tasks stream landed; a few landed tasks keep the test quick."""
    tracked = sorted({entry["task"]["gid"] for entry in asana_data.time_entries})[:25]
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        writer = StreamWriter(
            connection, source_system="asana", source_instance="default", stream="tasks", record_id=lambda r: r["gid"]
        )
        writer.begin()
        writer.write_page([{"gid": gid} for gid in [*tracked, asana_data.tasks[0]["gid"]]])
        writer.finish()
    asana.delete_task(tracked[-1])

    run_asana(["time_entries"], with_settings=dataclasses.replace(settings, time_entries_from="task"))

    expected = {entry["gid"] for entry in asana_data.time_entries if entry["task"]["gid"] in tracked[:-1]}
    assert live_ids(raw, "time_entries") == expected
    assert not any(request.path.endswith(f"{API_PREFIX}/time_tracking_entries") for request in asana.requests)


@pytest.mark.parametrize(
    ("start", "today"),
    [
        (date(2000, 1, 1), date(2026, 11, 29)),
        (date(2026, 3, 31), date(2026, 3, 31)),
        (date(2026, 12, 1), date(2026, 3, 1)),
    ],
)
def test_time_entry_windows_cover_every_day_once_newest_first(start: date, today: date) -> None:
    windows = time_entry_windows(start, today)

    assert all(first <= last for first, last in windows)
    assert windows[0][1] == today + timedelta(days=FUTURE_ENTRY_DAYS)
    assert windows[-1][0] == start
    for (first, _), (_, last) in pairwise(windows):
        assert last + timedelta(days=1) == first  # contiguous, newest first
    assert len(windows) <= MONTHS_READ_APART + 2


def test_projects_without_the_estimate_field_are_named_in_a_warning(
    run_asana: Runner, asana_data: AsanaWorkspace, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="connectors.asana.streams")

    run_asana(["projects", "custom_field_settings"])

    project = next(p for p in asana_data.projects if p["gid"] == asana_data.project_without_estimates_gid)
    assert "have no 'Estimated hours' custom field" in caplog.text and project["name"] in caplog.text


def test_the_token_never_reaches_the_logs(
    run_asana: Runner, asana: AsanaSimulator, caplog: pytest.LogCaptureFixture, settings: AsanaSettings
) -> None:
    caplog.set_level(logging.DEBUG)
    asana.faults.add("rate_limit", path=r"/users$", times=1, retry_after=0.05)
    asana.faults.add("unavailable", path=r"/tasks$", times=1)
    asana.deny_access(r"/status_updates$")

    with pytest.raises(ApiError) as failure:
        run_asana()
    logging.getLogger("test").info("settings in use: %r / %s", settings, settings)

    assert "retrying" in caplog.text and "status_updates" in str(failure.value)
    assert TOKEN not in caplog.text
    assert TOKEN not in str(failure.value)
