"""The Jira site of a streamed scale: generated project by project on disk, served by the Jira simulator.

A small streamed scale (the demo's people and projects, 900 issues) stands in for the enterprise one,
whose generation takes minutes; the code is the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import fields, replace
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import psycopg
import pytest
import requests

from connectors.jira.settings import JiraSettings
from connectors.jira.streams import extract_jira
from simulators import jira_stored, world
from simulators.changes import apply_night_changes
from simulators.jira import JiraSimulator
from simulators.jira_stored import StoredJiraSite, generate_store, plan_projects
from simulators.world import SCALES, WorldConfig, build_world

SCALE = "streamed-test"
ANCHOR = date(2026, 3, 10)


@pytest.fixture(scope="module")
def streamed_scale() -> None:
    SCALES[SCALE] = replace(
        SCALES["demo"],
        jira_issues=900,
        jira_worklogs=2400,
        deleted_jira_worklogs=20,
        long_changelog_issues=1,
        review_loops=(1, 5),
        streamed_jira=True,
    )
    yield
    del SCALES[SCALE]


@pytest.fixture(scope="module")
def stored_world(streamed_scale: None, tmp_path_factory: pytest.TempPathFactory) -> world.World:
    return build_world(WorldConfig(scale=SCALE, anchor_date=ANCHOR), store_root=tmp_path_factory.mktemp("store"))


def _dump(directory: Path) -> str:
    """A digest of every row of every shard, in id order."""
    digest = hashlib.sha256()
    site = StoredJiraSite(directory, [])
    for connection in site.shards.each():
        for table in ("issues", "worklogs", "deleted_worklogs", "projects"):
            order = "position" if table == "projects" else "id"
            for row in connection.execute(f"select * from {table} order by {order}"):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def test_the_plan_shares_out_exactly_the_scale_and_gives_each_project_its_own_ids(stored_world: world.World) -> None:
    profile = SCALES[SCALE]
    plans = plan_projects(
        stored_world.config, profile, stored_world.anchor_instant, stored_world.people, stored_world.projects
    )
    assert len(plans) == profile.jira_projects
    assert sum(plan.issues for plan in plans) == profile.jira_issues
    assert sum(plan.worklogs for plan in plans) == profile.jira_worklogs
    assert sum(plan.long_changelog_issues for plan in plans) == profile.long_changelog_issues
    issue_ranges = sorted((plan.id_bases().issue, plan.id_bases().issue + plan.issues) for plan in plans)
    assert all(end <= next_start for (_, end), (next_start, _) in pairwise(issue_ranges))


def test_the_store_holds_what_the_scale_asks_for(stored_world: world.World) -> None:
    site = stored_world.jira
    profile = SCALES[SCALE]
    assert isinstance(site, StoredJiraSite)
    assert len(site.issues) == profile.jira_issues
    # a project whose issues saw no work yet gets no worklogs, whatever its share
    assert 0.97 * profile.jira_worklogs <= len(site.worklogs) <= profile.jira_worklogs
    assert 0 < len(site.deleted_worklogs) <= profile.deleted_jira_worklogs
    assert len(site.projects) == profile.jira_projects
    keys = site.issues.ids_by_key()
    assert len(keys) == profile.jira_issues
    issue = site.issue(next(iter(keys)))
    assert issue.payload["key"] == issue.key
    # review loops on every reviewed issue: far more status changes than the demo's ~1.5 an issue
    assert site.changelog_histories > 4 * profile.jira_issues
    some_worklog = next(iter(site.worklogs.values()))
    assert some_worklog.payload["issueId"] == some_worklog.issue_id
    assert some_worklog.issue_id in site.issues


def test_opening_the_store_reads_its_files_through(stored_world: world.World, caplog: pytest.LogCaptureFixture) -> None:
    site = stored_world.jira
    assert isinstance(site, StoredJiraSite)
    size = sum(path.stat().st_size for path in site.shards.paths)
    assert site.shards.warm() == size > 0
    with caplog.at_level(logging.INFO, logger="simulators.jira_stored"):
        StoredJiraSite(site.directory, [])
    assert f"read the Jira store ({size // 2**20} MiB)" in caplog.text


def test_the_store_does_not_depend_on_the_number_of_processes(stored_world: world.World, tmp_path: Path) -> None:
    profile = SCALES[SCALE]
    arguments = (stored_world.config, profile, stored_world.anchor_instant, stored_world.people, stored_world.projects)
    generate_store(tmp_path / "one", *arguments, workers=1)
    assert _dump(tmp_path / "one") == _dump(stored_world.jira.directory)


def test_a_store_is_reused_once_complete_and_rebuilt_when_not(streamed_scale: None, tmp_path: Path) -> None:
    config = WorldConfig(scale=SCALE, anchor_date=ANCHOR)
    first = build_world(config, store_root=tmp_path)
    marker = first.jira.directory / "complete"
    stamp = marker.stat().st_mtime_ns
    build_world(config, store_root=tmp_path)
    assert marker.stat().st_mtime_ns == stamp
    marker.unlink()
    build_world(config, store_root=tmp_path)
    assert marker.exists()


def test_the_connector_lands_the_stored_site_through_the_simulator(
    stored_world: world.World, warehouse_url: str
) -> None:
    with JiraSimulator(stored_world) as jira:
        results = extract_jira(
            JiraSettings.from_mapping(
                {"base_url": jira.url, "email": jira.email, "api_token": "sim-token", "requests_per_minute": 0}
            ),
            warehouse_url,
        )
    landed = {result["stream"]: result["records"] for result in results}
    site = stored_world.jira
    assert landed["issues"] == len(site.issues)
    with psycopg.connect(warehouse_url) as connection:
        issues = connection.execute("select count(*) from raw.jira_issues where not is_deleted").fetchone()[0]
        worklogs = connection.execute("select count(*) from raw.jira_worklogs where not is_deleted").fetchone()[0]
        status_changes = connection.execute(
            "select count(*) from raw.jira_issue_changelogs,"
            " jsonb_array_elements(payload -> 'histories') history, jsonb_array_elements(history -> 'items') item"
            " where item ->> 'fieldId' = 'status'"
        ).fetchone()[0]
        status = connection.execute(
            "select payload #>> '{fields,status,name}' from raw.jira_issues where record_id = %s",
            (next(iter(site.issues)),),
        ).fetchone()[0]
    assert issues == len(site.issues)
    assert worklogs == len(site.worklogs)
    served_status_changes = sum(
        1
        for issue in site.issues.values()
        for history in issue.changelog
        for item in history["items"]
        if item.get("fieldId") == "status"
    )
    assert status_changes == served_status_changes > 4 * len(site.issues)
    assert status == site.issues[next(iter(site.issues))].payload["fields"]["status"]["name"]


def test_a_night_of_changes_on_a_stored_site_reaches_the_connector_and_leaves_the_files_alone(
    stored_world: world.World, warehouse_url: str
) -> None:
    site = stored_world.jira
    settings = {"email": "pmo-bot@pmo.example", "api_token": "sim-token", "requests_per_minute": 0}
    with JiraSimulator(stored_world) as jira:
        extract_jira(JiraSettings.from_mapping({"base_url": jira.url, **settings}), warehouse_url)
        changes = apply_night_changes(1, jira=jira, now=stored_world.anchor_instant + timedelta(days=1))
        results = extract_jira(JiraSettings.from_mapping({"base_url": jira.url, **settings}), warehouse_url)
        live_after = len(jira.store.issues)
    by_stream = {result["stream"]: result for result in results}
    edited, deleted = changes.edited["jira"], changes.deleted["jira"]
    assert by_stream["issues"]["deleted"] >= len(deleted) == 2
    assert live_after == len(site.issues) - by_stream["issues"]["deleted"]
    with psycopg.connect(warehouse_url) as connection:
        summaries = dict(
            connection.execute(
                "select record_id, payload #>> '{fields,summary}' from raw.jira_issues where record_id = any(%s)",
                (edited,),
            ).fetchall()
        )
        gone = connection.execute(
            "select count(*) from raw.jira_issues where record_id = any(%s) and is_deleted", (deleted,)
        ).fetchone()[0]
        added = connection.execute(
            "select count(*) from raw.jira_worklogs where record_id = any(%s) and not is_deleted",
            (changes.added["jira_worklogs"],),
        ).fetchone()[0]
    assert sum(summary.endswith("(revised)") for summary in summaries.values()) > 0
    assert gone == 2
    assert added == len(changes.added["jira_worklogs"]) == 10
    # the site on disk is as it was: another simulator serves it unchanged
    assert all(issue_id in site.issues for issue_id in deleted)
    assert not site.issues[edited[1]].payload["fields"]["summary"].endswith("(revised)")


def test_the_store_directory_names_its_world(tmp_path: Path) -> None:
    config = WorldConfig(scale="enterprise", anchor_date=ANCHOR)
    directory = jira_stored.store_directory(config, tmp_path)
    assert directory.parent == tmp_path
    assert directory.name == f"enterprise-{config.seed}-2026-03-10-v{jira_stored.STORE_VERSION}"


def test_worklogs_listed_from_disk_read_as_rendered_from_memory(stored_world: world.World) -> None:
    site = stored_world.jira
    wanted = [int(worklog_id) for worklog_id in list(site.worklogs)[::97]] + [1]
    with JiraSimulator(stored_world) as jira:
        response = requests.post(
            f"{jira.url}/rest/api/3/worklog/list", json={"ids": wanted}, auth=(jira.email, "sim-token"), timeout=10
        )
        expected = [jira._render_worklog(site.worklogs[str(worklog_id)]) for worklog_id in sorted(wanted[:-1])]
    assert response.status_code == 200
    assert response.json() == expected


def _in_memory_copy(site: StoredJiraSite) -> world.JiraSite:
    """The stored site read whole into memory, as the simulator serves the smaller scales."""
    issues = [
        world.JiraIssue(issue.id, issue.key, issue.project_key, issue.created_at, issue.updated_at, None, None)
        for issue in site.issues.values()
    ]
    for issue in issues:
        stored = site.issues[issue.id]
        issue.payload, issue.changelog = stored.payload, stored.changelog
    worklogs = [
        world.JiraWorklog(worklog.id, worklog.issue_id, worklog.updated_at, worklog.payload)
        for worklog in site.worklogs.values()
    ]
    kept = {field.name: getattr(site, field.name) for field in fields(world.JiraSite)}
    return world.JiraSite(**{**kept, "issues": issues, "worklogs": worklogs})


def _all_pages(http: requests.Session, url: str, jql: str, fields: list[str], page_size: int) -> list[dict]:
    issues, token = [], None
    while True:
        body = {"jql": jql, "fields": fields, "maxResults": page_size, **({"nextPageToken": token} if token else {})}
        page = http.post(f"{url}/rest/api/3/search/jql", json=body, timeout=30).json()
        issues += page["issues"]
        token = page.get("nextPageToken")
        if not token:
            return issues


def _feed(http: requests.Session, url: str, since: int) -> list[tuple[int, int, bool]]:
    entries = []
    while True:
        page = http.get(f"{url}/rest/api/3/worklog/updated", params={"since": since}, timeout=30).json()
        entries += [(value["updatedTime"], value["worklogId"], page["lastPage"]) for value in page["values"]]
        if page["lastPage"]:
            return entries
        since = page["until"]


def test_searches_and_the_worklog_feed_of_a_stored_site_answer_as_in_memory(stored_world: world.World) -> None:
    """The stored site answers JQL from its shards' indexes and the worklog feed from an index read once: the
    answers, before and after a night's changes (edits, deletes, new worklogs), are those of the same site in
    memory."""
    memory_world = replace(stored_world, jira=_in_memory_copy(stored_world.jira))
    night = stored_world.anchor_instant + timedelta(days=1)
    watermark = (stored_world.anchor_instant - timedelta(days=20)).strftime("%Y-%m-%d %H:%M")
    projects = ", ".join(project["key"] for project in stored_world.jira.projects[:2])
    queries = [
        (f'updated >= "{watermark}" ORDER BY updated ASC', ["summary", "updated", "status"]),
        ('created >= "1970-01-01 00:00" ORDER BY created ASC', ["id"]),
        (f'updated < "{watermark}" ORDER BY updated DESC', ["id", "key"]),
        (f"project in ({projects}) ORDER BY key", ["summary"]),
        (f'updated > "{watermark}" AND id not in (10001, 10002) ORDER BY created DESC, updated', ["id"]),
    ]
    updated = sorted(world.epoch_millis(worklog.updated_at) for worklog in stored_world.jira.worklogs.values())
    feed_boundaries = updated[-1002:-997]
    answers = []
    with JiraSimulator(stored_world) as stored, JiraSimulator(memory_world) as memory:
        for simulator in (stored, memory):
            http = requests.Session()
            http.auth = (simulator.email, "sim-token")
            simulator.clock = lambda: night + timedelta(minutes=10)
            answers.append([])
            for changes_applied in (False, True):
                if changes_applied:
                    apply_night_changes(1, jira=simulator, now=night)
                for jql, fields in queries:
                    found = _all_pages(http, simulator.url, jql, fields, 37 if fields != ["id"] else 211)
                    answers[-1].append(
                        [json.dumps(issue, sort_keys=True).replace(simulator.url, "") for issue in found]
                    )
                answers[-1].append(_feed(http, simulator.url, 0))
                # pages that hold exactly the last 1000 entries, one more, or one fewer
                for since in feed_boundaries:
                    feed_url = f"{simulator.url}/rest/api/3/worklog/updated"
                    page = http.get(feed_url, params={"since": since}, timeout=30).json()
                    answers[-1].append([len(page["values"]), page["lastPage"], page["until"]])
    stored_answers, memory_answers = answers
    assert [len(answer) for answer in stored_answers] == [len(answer) for answer in memory_answers]
    assert all(len(answer) > 0 for answer in stored_answers)
    assert stored_answers == memory_answers
