"""The Asana simulator over real HTTP: auth, envelopes, paging, opt_fields, filters, changes and faults."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import pytest
import requests

from simulators.asana import BATCH_PATH, AsanaSimulator
from simulators.asana_world import AsanaWorkspace, build_asana_data, parse_asana_timestamp
from simulators.base import SimRequest
from simulators.faults import FaultPlan
from simulators.world import World

TOKEN = "asana-sim-token"


@pytest.fixture(scope="module")
def asana_data(world: World) -> AsanaWorkspace:
    return build_asana_data(world)


@pytest.fixture(scope="module")
def asana(world: World, asana_data: AsanaWorkspace) -> Iterator[AsanaSimulator]:
    """A simulator that tests only read from."""
    with AsanaSimulator(world, data=asana_data) as simulator:
        yield simulator


@pytest.fixture
def fresh_asana(world: World, asana_data: AsanaWorkspace) -> Iterator[AsanaSimulator]:
    """A simulator of its own, for tests that change its data or its faults."""
    with AsanaSimulator(world, data=asana_data) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {TOKEN}"
        yield session


def get(http: requests.Session, simulator: AsanaSimulator, path: str, **params: Any) -> requests.Response:
    return http.get(simulator.api_url + path, params=params, timeout=10)


def walk(http: requests.Session, simulator: AsanaSimulator, path: str, **params: Any) -> tuple[list[dict], int]:
    """Every record of a list endpoint, following next_page; also the number of pages."""
    records, pages = [], 0
    while True:
        response = get(http, simulator, path, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        records += body["data"]
        pages += 1
        if body["next_page"] is None:
            return records, pages
        params["offset"] = body["next_page"]["offset"]


def workspace_gid(asana: AsanaSimulator) -> str:
    return asana.data.workspace["gid"]


def busiest_project(data: AsanaWorkspace) -> str:
    """The project with the most tasks among those that carry the estimate field."""
    estimated = [gid for gid in data.project_task_gids if gid != data.project_without_estimates_gid]
    return max(estimated, key=lambda gid: len(data.project_task_gids[gid]))


# -- auth and envelopes ------------------------------------------------------------------------------


def test_a_missing_or_wrong_token_gets_401_in_asanas_error_shape(asana: AsanaSimulator) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        response = requests.get(asana.api_url + "/workspaces", headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.json()["errors"][0]["message"] == "Not Authorized"


def test_every_answer_is_wrapped_in_data(http: requests.Session, asana: AsanaSimulator) -> None:
    workspaces = get(http, asana, "/workspaces", limit=10).json()
    me = get(http, asana, "/users/me").json()
    project = get(http, asana, f"/projects/{asana.data.projects[0]['gid']}").json()

    assert workspaces == {
        "data": [{"gid": workspace_gid(asana), "resource_type": "workspace", "name": "PMO Example"}],
        "next_page": None,
    }
    assert me["data"]["email"] == "pmo-integration@pmo.example"
    assert project["data"]["gid"] == asana.data.projects[0]["gid"] and "team" in project["data"]


def test_unknown_ids_and_routes_answer_404_with_errors(http: requests.Session, asana: AsanaSimulator) -> None:
    assert get(http, asana, "/tasks/123").status_code == 404
    response = get(http, asana, "/no/such/route")
    assert response.status_code == 404 and response.json()["errors"][0]["message"]


# -- paging ------------------------------------------------------------------------------------------


def test_paging_reaches_the_last_page_and_returns_every_task_once(
    http: requests.Session, asana: AsanaSimulator, asana_data: AsanaWorkspace
) -> None:
    project = busiest_project(asana_data)
    expected = asana_data.project_task_gids[project]

    records, pages = walk(http, asana, "/tasks", project=project, limit=7)

    gids = [record["gid"] for record in records]
    assert sorted(gids) == sorted(expected) and len(gids) == len(set(gids))
    assert pages == -(-len(expected) // 7)


def test_next_page_carries_offset_path_and_uri_and_is_null_at_the_end(
    http: requests.Session, asana: AsanaSimulator
) -> None:
    first = get(http, asana, "/users", workspace=workspace_gid(asana), limit=10).json()
    next_page = first["next_page"]

    assert set(next_page) == {"offset", "path", "uri"}
    assert next_page["path"].startswith("/users?") and f"offset={next_page['offset']}" in next_page["path"]
    assert next_page["uri"] == asana.api_url + next_page["path"]
    followed = http.get(next_page["uri"], timeout=10).json()
    assert {u["gid"] for u in followed["data"]}.isdisjoint({u["gid"] for u in first["data"]})
    last = get(http, asana, "/users", workspace=workspace_gid(asana), limit=100).json()
    assert last["next_page"] is None and len(last["data"]) == len(asana.data.users)


@pytest.mark.parametrize("limit", ["101", "0", "-5", "many"])
def test_a_limit_outside_1_to_100_is_refused_with_400(
    http: requests.Session, asana: AsanaSimulator, limit: str
) -> None:
    response = get(http, asana, "/tasks", project=busiest_project(asana.data), limit=limit)

    assert response.status_code == 400
    assert "limit" in response.json()["errors"][0]["message"]


def test_without_a_limit_the_whole_list_comes_unpaged(http: requests.Session, asana: AsanaSimulator) -> None:
    project = busiest_project(asana.data)
    body = get(http, asana, "/tasks", project=project).json()

    assert len(body["data"]) == len(asana.data.project_task_gids[project]) > 100
    assert "next_page" not in body


def test_an_offset_from_another_query_or_garbage_is_refused(http: requests.Session, asana: AsanaSimulator) -> None:
    offset = get(http, asana, "/users", workspace=workspace_gid(asana), limit=5).json()["next_page"]["offset"]

    assert get(http, asana, "/tasks", project=busiest_project(asana.data), limit=5, offset=offset).status_code == 400
    assert get(http, asana, "/users", workspace=workspace_gid(asana), limit=5, offset="garbage").status_code == 400


# -- opt_fields ----------------------------------------------------------------------------------------


def test_records_are_compact_unless_opt_fields_names_fields(http: requests.Session, asana: AsanaSimulator) -> None:
    project = busiest_project(asana.data)
    compact = get(http, asana, "/tasks", project=project, limit=3).json()["data"]
    chosen = get(
        http,
        asana,
        "/tasks",
        project=project,
        limit=3,
        opt_fields="completed,modified_at,assignee,memberships.section.name,custom_fields.name,custom_fields.number_value",
    ).json()["data"]

    assert all(set(record) == {"gid", "resource_type", "name", "resource_subtype"} for record in compact)
    for record in chosen:
        assert set(record) == {
            "gid",
            "resource_type",
            "completed",
            "modified_at",
            "assignee",
            "memberships",
            "custom_fields",
        }
        assert record["assignee"] is None or set(record["assignee"]) == {"gid", "resource_type"}
        assert set(record["memberships"][0]) == {"section"}
        assert set(record["memberships"][0]["section"]) == {"gid", "resource_type", "name"}
        assert all(
            set(field) == {"gid", "resource_type", "name", "number_value"} or "number_value" not in field
            for field in record["custom_fields"]
        )


def test_projects_default_to_gid_type_and_name(http: requests.Session, asana: AsanaSimulator) -> None:
    records = get(http, asana, "/projects", workspace=workspace_gid(asana), limit=100).json()["data"]

    assert len(records) == len(asana.data.projects)
    assert all(set(record) == {"gid", "resource_type", "name"} for record in records)


# -- filters and structure -----------------------------------------------------------------------------


def test_project_tasks_exclude_subtasks_which_come_through_their_parent(
    http: requests.Session, asana: AsanaSimulator, asana_data: AsanaWorkspace
) -> None:
    listed = set()
    for project in asana_data.project_task_gids:
        listed |= {r["gid"] for r in walk(http, asana, "/tasks", project=project, limit=100)[0]}
    parent = next(task for task in asana_data.tasks if task["num_subtasks"] and task["parent"] is None)
    subtasks, _ = walk(http, asana, f"/tasks/{parent['gid']}/subtasks", limit=100, opt_fields="parent")

    assert listed == {task["gid"] for task in asana_data.tasks if task["parent"] is None}
    assert len(subtasks) == parent["num_subtasks"]
    assert all(record["parent"]["gid"] == parent["gid"] for record in subtasks)


def test_modified_since_filters_on_modified_at(
    http: requests.Session, asana: AsanaSimulator, asana_data: AsanaWorkspace
) -> None:
    project = busiest_project(asana_data)
    members = [asana_data.task(gid) for gid in asana_data.project_task_gids[project]]
    cut = sorted(parse_asana_timestamp(task["modified_at"]) for task in members)[len(members) // 2]
    since = cut.astimezone(datetime.now().astimezone().tzinfo).isoformat()  # any offset is accepted

    records, _ = walk(http, asana, "/tasks", project=project, limit=50, modified_since=since, opt_fields="modified_at")

    assert {r["gid"] for r in records} == {t["gid"] for t in members if parse_asana_timestamp(t["modified_at"]) >= cut}
    assert get(http, asana, "/tasks", project=project, modified_since="yesterday").status_code == 400


def test_tasks_need_a_project_and_portfolios_need_an_owner(http: requests.Session, asana: AsanaSimulator) -> None:
    assert get(http, asana, "/tasks", limit=10).status_code == 400
    assert get(http, asana, "/portfolios", workspace=workspace_gid(asana), limit=10).status_code == 400
    mine = get(http, asana, "/portfolios", workspace=workspace_gid(asana), owner="me", limit=100).json()["data"]
    assert len(mine) == len(asana.data.portfolios)


def test_portfolio_items_are_nested_portfolios_or_projects(http: requests.Session, asana: AsanaSimulator) -> None:
    top = asana.data.portfolios[0]
    nested, _ = walk(http, asana, f"/portfolios/{top['gid']}/items", limit=100)
    assert nested and all(item["resource_type"] == "portfolio" for item in nested)
    projects = [
        item for child in nested for item in walk(http, asana, f"/portfolios/{child['gid']}/items", limit=100)[0]
    ]
    assert all(item["resource_type"] == "project" for item in projects)


def test_sections_custom_field_settings_and_status_updates_per_project(
    http: requests.Session, asana: AsanaSimulator, asana_data: AsanaWorkspace
) -> None:
    project = busiest_project(asana_data)
    sections, _ = walk(http, asana, f"/projects/{project}/sections", limit=100)
    settings, _ = walk(
        http,
        asana,
        f"/projects/{project}/custom_field_settings",
        limit=100,
        opt_fields="custom_field.name,custom_field.type",
    )
    updates, _ = walk(http, asana, "/status_updates", parent=project, limit=100, opt_fields="status_type,parent")

    assert [s["name"] for s in sections] == ["Backlog", "To do", "In progress", "Done", "Milestones"]
    assert {s["custom_field"]["name"] for s in settings} <= {"Estimated hours", "Priority"}
    assert updates and all(u["parent"]["gid"] == project for u in updates)
    assert get(http, asana, "/status_updates", limit=10).status_code == 400


def test_workspace_time_entries_need_a_date_and_filter_on_entered_on(
    http: requests.Session, asana: AsanaSimulator, asana_data: AsanaWorkspace
) -> None:
    workspace = workspace_gid(asana)
    assert get(http, asana, "/time_tracking_entries", workspace=workspace, limit=10).status_code == 400

    everything, _ = walk(
        http,
        asana,
        "/time_tracking_entries",
        workspace=workspace,
        limit=100,
        entered_on_start_date="2000-01-01",
        opt_fields="entered_on,task",
    )
    november, _ = walk(
        http,
        asana,
        "/time_tracking_entries",
        workspace=workspace,
        limit=100,
        entered_on_start_date="2026-11-01",
        entered_on_end_date="2026-11-30",
        opt_fields="entered_on",
    )

    dates = sorted({entry["entered_on"] for entry in asana_data.time_entries})
    first, last = dates[len(dates) // 3], dates[2 * len(dates) // 3]
    between, _ = walk(
        http,
        asana,
        "/time_tracking_entries",
        workspace=workspace,
        limit=100,
        entered_on_start_date=first,
        entered_on_end_date=last,
    )

    assert len(everything) == len(asana_data.time_entries)
    assert all("task" in entry for entry in everything)
    assert {e["gid"] for e in november} == {
        e["gid"] for e in asana_data.time_entries if "2026-11-01" <= e["entered_on"] <= "2026-11-30"
    }
    assert {e["gid"] for e in between} == {
        e["gid"] for e in asana_data.time_entries if first <= e["entered_on"] <= last
    }, "both ends of the dates inside the entries' range"


def test_task_time_entries(http: requests.Session, asana: AsanaSimulator, asana_data: AsanaWorkspace) -> None:
    entry = asana_data.time_entries[0]
    records, _ = walk(http, asana, f"/tasks/{entry['task']['gid']}/time_tracking_entries", limit=100)

    assert entry["gid"] in {record["gid"] for record in records}
    assert set(records[0]) == {"gid", "resource_type", "duration_minutes", "entered_on", "created_by"}


# -- changes between runs ------------------------------------------------------------------------------


def test_a_subtask_edit_moves_its_modified_at_but_not_its_parents(
    http: requests.Session, fresh_asana: AsanaSimulator
) -> None:
    subtask = next(task for task in fresh_asana.data.tasks if task["parent"])
    parent_before = get(http, fresh_asana, f"/tasks/{subtask['parent']['gid']}").json()["data"]["modified_at"]
    at = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)

    fresh_asana.update_task(subtask["gid"], at=at, name="Renamed", custom_fields={"Estimated hours": 0})

    edited = get(http, fresh_asana, f"/tasks/{subtask['gid']}").json()["data"]
    assert edited["name"] == "Renamed" and edited["modified_at"] == "2026-11-30T09:30:00.000Z"
    estimate = next(f for f in edited["custom_fields"] if f["name"] == "Estimated hours")
    assert estimate["number_value"] == 0 and estimate["display_value"] == "0.0"
    assert get(http, fresh_asana, f"/tasks/{subtask['parent']['gid']}").json()["data"]["modified_at"] == parent_before


def test_completing_adding_and_deleting_tasks(http: requests.Session, fresh_asana: AsanaSimulator) -> None:
    data = fresh_asana.data
    project = busiest_project(data)
    open_task = next(data.task(gid) for gid in data.project_task_gids[project] if not data.task(gid)["completed"])
    at = datetime(2026, 11, 30, 10, tzinfo=UTC)

    fresh_asana.complete_task(open_task["gid"], at=at)
    new_gid = fresh_asana.add_task(project, at=at, name="New work", estimated_hours=4)
    child_gid = fresh_asana.add_task(at=at, name="New part", parent=new_gid)
    entry_gid = fresh_asana.add_time_entry(
        child_gid, user_gid=data.users[0]["gid"], duration_minutes=90, entered_on=date(2026, 11, 30), at=at
    )

    done = get(http, fresh_asana, f"/tasks/{open_task['gid']}").json()["data"]
    assert done["completed"] and done["completed_at"] == "2026-11-30T10:00:00.000Z"
    assert get(http, fresh_asana, f"/tasks/{new_gid}").json()["data"]["num_subtasks"] == 1
    entry = get(http, fresh_asana, f"/time_tracking_entries/{entry_gid}").json()["data"]
    assert entry["attributable_to"]["gid"] == project and entry["task"]["gid"] == child_gid

    assert fresh_asana.delete_task(new_gid) == [new_gid, child_gid]
    for gid in (new_gid, child_gid):
        assert get(http, fresh_asana, f"/tasks/{gid}").status_code == 404
    assert get(http, fresh_asana, f"/time_tracking_entries/{entry_gid}").status_code == 404
    listed, _ = walk(http, fresh_asana, "/tasks", project=project, limit=100)
    assert new_gid not in {record["gid"] for record in listed}


def test_deleting_a_time_entry_removes_it_from_lists(http: requests.Session, fresh_asana: AsanaSimulator) -> None:
    entry = fresh_asana.data.time_entries[3]
    fresh_asana.delete_time_entry(entry["gid"])

    records, _ = walk(http, fresh_asana, f"/tasks/{entry['task']['gid']}/time_tracking_entries", limit=100)
    assert entry["gid"] not in {record["gid"] for record in records}


def test_lists_read_before_a_change_show_it_when_read_again(
    http: requests.Session, fresh_asana: AsanaSimulator
) -> None:
    data = fresh_asana.data
    project = busiest_project(data)
    fields = "name,modified_at,num_subtasks"
    workspace = data.workspace["gid"]
    entries_query = {"workspace": workspace, "entered_on_start_date": "2000-01-01", "limit": 100}
    tasks_before, _ = walk(http, fresh_asana, "/tasks", project=project, opt_fields=fields, limit=100)
    entries_before, _ = walk(http, fresh_asana, "/time_tracking_entries", **entries_query)
    edited, deleted = tasks_before[0]["gid"], tasks_before[-1]["gid"]
    entry = entries_before[0]
    at = datetime(2026, 11, 30, 11, tzinfo=UTC)

    fresh_asana.update_task(edited, at=at, name="Renamed since")
    fresh_asana.delete_task(deleted)
    added = fresh_asana.add_task(project, at=at, name="Added since")
    fresh_asana.update_time_entry(entry["gid"], duration_minutes=entry["duration_minutes"] + 15)

    tasks_after, _ = walk(http, fresh_asana, "/tasks", project=project, opt_fields=fields, limit=100)
    by_gid = {record["gid"]: record for record in tasks_after}
    assert by_gid[edited]["name"] == "Renamed since" and by_gid[edited]["modified_at"] == "2026-11-30T11:00:00.000Z"
    assert deleted not in by_gid and by_gid[added]["name"] == "Added since"
    entries_after, _ = walk(http, fresh_asana, "/time_tracking_entries", **entries_query)
    changed = next(record for record in entries_after if record["gid"] == entry["gid"])
    assert changed["duration_minutes"] == entry["duration_minutes"] + 15


def test_a_parent_read_before_its_subtasks_change_shows_their_new_count(
    http: requests.Session, fresh_asana: AsanaSimulator
) -> None:
    data = fresh_asana.data
    parent = next(task for task in data.tasks if task["num_subtasks"] >= 2)
    project = next(gid for gid, tasks in data.project_task_gids.items() if parent["gid"] in tasks)
    fields = "name,num_subtasks,modified_at"
    listed, _ = walk(http, fresh_asana, "/tasks", project=project, opt_fields=fields, limit=100)
    assert {task["gid"]: task for task in listed}[parent["gid"]]["num_subtasks"] == parent["num_subtasks"]
    subtasks, _ = walk(http, fresh_asana, f"/tasks/{parent['gid']}/subtasks", opt_fields=fields, limit=100)
    at = datetime(2026, 11, 30, 12, tzinfo=UTC)

    def parent_as_listed() -> dict:
        listed, _ = walk(http, fresh_asana, "/tasks", project=project, opt_fields=fields, limit=100)
        return {task["gid"]: task for task in listed}[parent["gid"]]

    added = fresh_asana.add_task(at=at, name="One more part", parent=parent["gid"])
    assert parent_as_listed()["num_subtasks"] == parent["num_subtasks"] + 1
    fresh_asana.delete_task(subtasks[0]["gid"])
    assert parent_as_listed()["num_subtasks"] == parent["num_subtasks"]
    fresh_asana.delete_task(subtasks[1]["gid"])
    assert parent_as_listed()["num_subtasks"] == parent["num_subtasks"] - 1
    subtasks_after, _ = walk(http, fresh_asana, f"/tasks/{parent['gid']}/subtasks", opt_fields=fields, limit=100)
    assert {task["gid"] for task in subtasks_after} == {task["gid"] for task in subtasks[2:]} | {added}


def test_a_change_forgets_the_encodings_of_the_records_it_names_and_keeps_the_others(
    http: requests.Session, fresh_asana: AsanaSimulator
) -> None:
    entries = fresh_asana.data.time_entries
    edited, untouched = entries[0], entries[1]
    query = {"workspace": fresh_asana.data.workspace["gid"], "entered_on_start_date": "2000-01-01", "limit": 100}
    read_before, _ = walk(http, fresh_asana, "/time_tracking_entries", **query)
    assert {edited["gid"], untouched["gid"]} <= {entry["gid"] for entry in read_before}
    key = ("time_tracking_entry", ())

    def not_again() -> None:
        raise AssertionError("encoded again")

    kept = fresh_asana.store.encoded(untouched["gid"], key, not_again)
    fresh_asana.update_time_entry(edited["gid"], duration_minutes=edited["duration_minutes"] + 30)

    assert fresh_asana.store.encoded(untouched["gid"], key, not_again) is kept
    with pytest.raises(AssertionError, match="encoded again"):
        fresh_asana.store.encoded(edited["gid"], key, not_again)
    read_after, _ = walk(http, fresh_asana, "/time_tracking_entries", **query)
    assert {entry["gid"]: entry for entry in read_after}[edited["gid"]]["duration_minutes"] == (
        edited["duration_minutes"] + 30
    )
    fresh_asana.store.changed()
    with pytest.raises(AssertionError, match="encoded again"):
        fresh_asana.store.encoded(untouched["gid"], key, not_again)


# -- faults, access and rate limits --------------------------------------------------------------------


def test_faults_answer_in_asanas_shapes(http: requests.Session, fresh_asana: AsanaSimulator) -> None:
    fresh_asana.faults.add("rate_limit", path="/users$", retry_after=2)
    # one fault answers one request: the 503 comes second
    fresh_asana.faults.add("unavailable", path="/users$")
    fresh_asana.faults.add("malformed", path="/users$")

    limited = get(http, fresh_asana, "/users", workspace=workspace_gid(fresh_asana), limit=5)
    unavailable = get(http, fresh_asana, "/users", workspace=workspace_gid(fresh_asana), limit=5)
    malformed = get(http, fresh_asana, "/users", workspace=workspace_gid(fresh_asana), limit=5)

    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert "too many requests" in limited.json()["errors"][0]["message"]
    assert unavailable.status_code == 503 and unavailable.json()["errors"]
    assert malformed.json()["data"][-2:] == ["not an object", {"name": "a record without its id"}]


def test_denied_paths_answer_403(http: requests.Session, fresh_asana: AsanaSimulator) -> None:
    fresh_asana.deny_access(r"/time_tracking_entries$", "Forbidden: missing scope time_tracking_entries:read")

    response = get(
        http,
        fresh_asana,
        "/time_tracking_entries",
        workspace=workspace_gid(fresh_asana),
        entered_on_start_date="2026-01-01",
        limit=5,
    )
    assert response.status_code == 403 and "time_tracking_entries:read" in response.json()["errors"][0]["message"]
    assert get(http, fresh_asana, "/workspaces", limit=5).status_code == 200


def test_the_optional_per_token_rate_limit(world: World, asana_data: AsanaWorkspace, http: requests.Session) -> None:
    with AsanaSimulator(world, data=asana_data, requests_per_minute=3) as simulator:
        statuses = [get(http, simulator, "/workspaces", limit=1) for _ in range(4)]

    assert [response.status_code for response in statuses] == [200, 200, 200, 429]
    assert int(statuses[-1].headers["Retry-After"]) >= 1


def batch(http: requests.Session, simulator: AsanaSimulator, *actions: dict) -> requests.Response:
    return http.post(simulator.api_url + "/batch", json={"data": {"actions": list(actions)}}, timeout=10)


def list_action(path: str, offset: str | None = None, **data: Any) -> dict:
    options: dict[str, Any] = {"limit": 2, "fields": ["name", "modified_at"]}
    if offset:
        options["offset"] = offset
    return {"method": "get", "relative_path": path, "data": data, "options": options}


def test_a_batch_answers_each_action_as_if_requested_alone_in_order(
    http: requests.Session, asana: AsanaSimulator, asana_data: AsanaWorkspace
) -> None:
    project = busiest_project(asana_data)
    parent = next(task["parent"]["gid"] for task in asana_data.tasks if task["parent"])
    actions = [
        list_action(f"/tasks/{parent}/subtasks"),
        list_action("/tasks", project=project),
        list_action("/status_updates", parent=project),
        list_action("/tasks/0/subtasks"),
    ]

    response = batch(http, asana, *actions)

    assert response.status_code == 200
    results = response.json()["data"]
    assert [result["status_code"] for result in results] == [200, 200, 200, 404]
    alone = [
        get(http, asana, f"/tasks/{parent}/subtasks", limit=2, opt_fields="name,modified_at").json(),
        get(http, asana, "/tasks", project=project, limit=2, opt_fields="name,modified_at").json(),
        get(http, asana, "/status_updates", parent=project, limit=2, opt_fields="name,modified_at").json(),
    ]
    assert [result["body"] for result in results[:3]] == alone
    assert results[3]["body"]["errors"]

    offset = results[1]["body"]["next_page"]["offset"]
    second = batch(http, asana, list_action("/tasks", offset, project=project)).json()["data"][0]["body"]
    expected = get(http, asana, "/tasks", project=project, limit=2, opt_fields="name,modified_at", offset=offset)
    assert second == expected.json()


def test_a_batch_needs_one_to_ten_well_formed_actions(http: requests.Session, asana: AsanaSimulator) -> None:
    workspaces = list_action("/workspaces")

    assert batch(http, asana).status_code == 400
    assert batch(http, asana, *[workspaces] * 11).status_code == 400
    assert batch(http, asana, *[workspaces] * 10).status_code == 200
    results = batch(
        http,
        asana,
        {**workspaces, "relative_path": "/workspaces?limit=2"},
        {**workspaces, "data": {"limit": 2}},
        {**workspaces, "relative_path": "/batch"},
    ).json()["data"]
    assert [result["status_code"] for result in results] == [400, 400, 400]


def test_each_action_of_a_batch_counts_against_the_rate_limit(
    world: World, asana_data: AsanaWorkspace, http: requests.Session
) -> None:
    workspaces = list_action("/workspaces")
    with AsanaSimulator(world, data=asana_data, requests_per_minute=5) as simulator:
        first = batch(http, simulator, *[workspaces] * 3)
        refused = batch(http, simulator, *[workspaces] * 3)  # 6 would exceed 5: the whole batch fails
        last = batch(http, simulator, *[workspaces] * 2)

    assert first.status_code == 200
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert last.status_code == 200


def test_faults_hit_a_batch_per_action(http: requests.Session, fresh_asana: AsanaSimulator) -> None:
    workspaces, users = list_action("/workspaces"), list_action("/users", workspace=workspace_gid(fresh_asana))
    fresh_asana.faults.add("unavailable", path="/users$")
    fresh_asana.faults.add("malformed", path="/workspaces$")

    results = batch(http, fresh_asana, workspaces, users).json()["data"]

    assert results[0]["status_code"] == 200
    assert results[0]["body"]["data"][-2:] == ["not an object", {"name": "a record without its id"}]
    assert results[1]["status_code"] == 503 and results[1]["body"]["errors"]
    fresh_asana.faults.add("rate_limit", path="/users$", retry_after=2)
    limited = batch(http, fresh_asana, workspaces, users)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"


def test_a_batch_is_as_late_as_its_slowest_action(fresh_asana: AsanaSimulator) -> None:
    workspaces, users = list_action("/workspaces"), list_action("/users", workspace=workspace_gid(fresh_asana))
    fresh_asana.faults.add("slow", path="/workspaces$", times=3, delay=0.5)
    fresh_asana.faults.add("slow", path="/users$", delay=0.2)
    body = msgspec.json.encode({"data": {"actions": [workspaces, workspaces, users, workspaces]}})
    request = SimRequest("POST", BATCH_PATH, {}, {"Authorization": f"Bearer {TOKEN}"}, body)

    response = fresh_asana.handle(request)

    assert response.status == 200
    assert [result["status_code"] for result in msgspec.json.decode(response.body)["data"]] == [200] * 4
    assert fresh_asana.faults.fired("slow") == 4
    # Asana runs a batch's actions at once: the batch waits for its slowest, not for them one by one
    assert response.delay_seconds == 0.5


def test_a_fresh_simulator_serves_prebuilt_data(
    world: World, asana_data: AsanaWorkspace, http: requests.Session
) -> None:
    with AsanaSimulator(world, data=asana_data, faults=FaultPlan()) as simulator:
        workspaces = get(http, simulator, "/workspaces", limit=10).json()["data"]
    assert [workspace["gid"] for workspace in workspaces] == [asana_data.workspace["gid"]]
