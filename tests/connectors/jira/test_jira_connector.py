"""The Jira connector against the Jira simulator over real HTTP, landing in a real PostgreSQL."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import psycopg
import pytest
import requests
from requests.adapters import HTTPAdapter

from connectors.http import ApiError, RetryPolicy, Secret
from connectors.jira import streams as jira_streams
from connectors.jira.client import JiraClient
from connectors.jira.settings import JiraSettings
from connectors.jira.streams import (
    SPRINT_BOARDS_AT_ONCE,
    STREAMS,
    JiraExtractor,
    extract_jira,
    issues_jql,
    jql_literal,
)
from simulators.faults import Fault, FaultPlan
from simulators.jira import JiraSimulator, SimResponse
from simulators.world import World, WorldConfig, build_world

TOKEN = "tok-jira-9f8e7d-secret"


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(WorldConfig(anchor_date=date(2026, 11, 1)))


@pytest.fixture
def simulator(world: World) -> Iterator[JiraSimulator]:
    with JiraSimulator(world, api_token=TOKEN, user_time_zone="Australia/Sydney") as running:
        yield running


def settings_for(simulator: JiraSimulator, **overrides) -> JiraSettings:
    return JiraSettings(
        base_url=simulator.url,
        email=simulator.email,
        api_token=Secret(TOKEN),
        requests_per_minute=None,
        **overrides,
    )


def raw_rows(url: str, table: str) -> dict[str, tuple]:
    with psycopg.connect(url) as connection:
        return {
            row[0]: row[1:]
            for row in connection.execute(f"select record_id, is_deleted, payload from raw.{table}").fetchall()
        }


def by_stream(results: list[dict]) -> dict[str, dict]:
    return {result["stream"]: result for result in results}


def test_a_full_run_pages_to_the_end_and_lands_every_record(simulator, world, warehouse_url):
    results = by_stream(extract_jira(settings_for(simulator, issue_page_size=100), warehouse_url))
    issues = raw_rows(warehouse_url, "jira_issues")
    assert set(issues) == {issue.id for issue in world.jira.issues}
    assert results["issues"]["pages"] == len(world.jira.issues) // 100
    worklogs = raw_rows(warehouse_url, "jira_worklogs")
    assert set(worklogs) == {worklog.id for worklog in world.jira.worklogs}
    assert len(raw_rows(warehouse_url, "jira_projects")) == len(world.jira.projects)
    assert len(raw_rows(warehouse_url, "jira_users")) == len(world.jira.users)
    story_points = {field["name"]: field["id"] for field in world.jira.fields}["Story Points"]
    sample = world.jira.issues[0]
    landed = issues[sample.id][1]
    assert landed["key"] == sample.key
    assert landed["fields"]["updated"] == sample.payload["fields"]["updated"]
    assert story_points in landed["fields"]


def test_rerunning_the_same_night_duplicates_nothing(simulator, warehouse_url):
    settings = settings_for(simulator)
    extract_jira(settings, warehouse_url)
    first = {table: raw_rows(warehouse_url, table) for table in ("jira_issues", "jira_worklogs")}
    second_run = by_stream(extract_jira(settings, warehouse_url))
    for table, rows in first.items():
        assert raw_rows(warehouse_url, table) == rows
    assert second_run["issues"]["records"] < 200  # only the overlap window is read again


@pytest.mark.parametrize("user_time_zone", ["America/Los_Angeles", "Australia/Sydney"])
def test_an_incremental_run_picks_up_edits_including_one_just_before_the_watermark(
    world, warehouse_url, user_time_zone
):
    simulator = JiraSimulator(world, api_token=TOKEN, user_time_zone=user_time_zone).start()
    settings = settings_for(simulator)
    results = by_stream(extract_jira(settings, warehouse_url))
    watermark = datetime.fromisoformat(results["issues"]["watermark"])
    # An edit that becomes visible only after the run, stamped one second before the watermark
    # (Jira's search is eventually consistent), and one edited now.
    late, fresh = world.jira.issues[10].key, world.jira.issues[20].key
    simulator.update_issue(late, at=watermark - timedelta(seconds=1), fields={"summary": "late edit"})
    simulator.update_issue(fresh, at=datetime.now(UTC) - timedelta(minutes=5), status="Done")
    extract_jira(settings, warehouse_url)
    issues = {row[1]["key"]: row[1] for row in raw_rows(warehouse_url, "jira_issues").values()}
    simulator.stop()
    assert issues[late]["fields"]["summary"] == "late edit"
    assert issues[fresh]["fields"]["status"]["name"] == "Done"


def test_a_worklog_of_the_last_minute_lands_with_the_next_extract(world, warehouse_url):
    # Jira's worklog feeds leave out the last minute: a worklog logged just before an extract is not
    # served to it, and the next extract, whose cursor is the last worklog served, lands it (with no
    # overlap window to read it again otherwise).
    now = [datetime.now(UTC)]
    simulator = JiraSimulator(world, api_token=TOKEN, clock=lambda: now[0]).start()
    settings = settings_for(simulator, overlap_minutes=0)
    try:
        extract_jira(settings, warehouse_url, streams=["worklogs"])
        author = next(user["accountId"] for user in world.jira.users if user.get("active", True))
        logged = simulator.add_worklog(
            world.jira.issues[0].id,
            author_account_id=author,
            started=now[0] - timedelta(hours=1),
            time_spent_seconds=1800,
            at=now[0] - timedelta(seconds=20),
        )
        extract_jira(settings, warehouse_url, streams=["worklogs"])
        assert logged not in raw_rows(warehouse_url, "jira_worklogs")
        now[0] += timedelta(minutes=2)
        extract_jira(settings, warehouse_url, streams=["worklogs"])
        assert raw_rows(warehouse_url, "jira_worklogs")[logged][1]["timeSpentSeconds"] == 1800
    finally:
        simulator.stop()


def test_jql_watermarks_are_written_in_the_token_users_time_zone():
    instant = datetime(2026, 3, 1, 0, 0, 30, tzinfo=UTC)
    assert jql_literal(instant, "Australia/Sydney") == "2026-03-01 11:00"
    assert jql_literal(instant, "America/Los_Angeles") == "2026-02-28 16:00"
    jql = issues_jql(instant, timedelta(minutes=15), "Australia/Sydney")
    assert jql == 'updated >= "2026-03-01 10:45" ORDER BY updated ASC'
    assert issues_jql(None, timedelta(minutes=15), "UTC").startswith('updated >= "1970-01-01 00:00"')


def test_deleted_issues_and_worklogs_become_tombstones(simulator, world, warehouse_url):
    settings = settings_for(simulator)
    extract_jira(settings, warehouse_url)
    now = datetime.now(UTC) - timedelta(minutes=2)
    leaf = next(issue for issue in world.jira.issues if issue.payload["fields"]["issuetype"]["name"] == "Bug")
    worklog = world.jira.worklogs[5]
    simulator.delete_issue(leaf.id, at=now)
    simulator.delete_worklog(worklog.id, at=now)
    results = by_stream(extract_jira(settings, warehouse_url))
    issues = raw_rows(warehouse_url, "jira_issues")
    worklogs = raw_rows(warehouse_url, "jira_worklogs")
    assert issues[leaf.id][0] is True
    assert worklogs[worklog.id][0] is True
    assert results["issues"]["deleted"] >= 1
    assert sum(1 for deleted, _ in issues.values() if deleted) == results["issues"]["deleted"]


def test_a_first_load_lists_no_census_and_a_full_refresh_over_stored_issues_does(
    simulator, world, warehouse_url, monkeypatch
):
    censuses: list[str] = []
    list_ids = JiraClient.search_issue_ids

    def counted(client: JiraClient, jql: str, page_size: int):
        censuses.append(jql)
        return list_ids(client, jql, page_size)

    monkeypatch.setattr(JiraClient, "search_issue_ids", counted)
    settings = settings_for(simulator, streams_in_parallel=False)
    first = by_stream(extract_jira(settings, warehouse_url, streams=["issues"]))
    assert censuses == []
    assert first["issues"]["deleted"] == 0
    assert set(raw_rows(warehouse_url, "jira_issues")) == {issue.id for issue in world.jira.issues}

    gone = next(issue for issue in world.jira.issues if issue.payload["fields"]["issuetype"]["name"] == "Bug")
    simulator.delete_issue(gone.id, at=datetime.now(UTC) - timedelta(minutes=2))
    again = by_stream(extract_jira(settings, warehouse_url, streams=["issues"], full_refresh=True))
    assert len(censuses) == 1
    assert again["issues"]["deleted"] == 1
    issues = raw_rows(warehouse_url, "jira_issues")
    assert {issue_id for issue_id, (is_deleted, _) in issues.items() if is_deleted} == {gone.id}


def test_a_worklog_feed_that_cannot_advance_fails_instead_of_looping(simulator, world, warehouse_url):
    settings = settings_for(simulator)
    extract_jira(settings, warehouse_url, streams=["worklogs"])
    at = datetime.now(UTC) - timedelta(minutes=2)
    for worklog in world.jira.worklogs[:1001]:
        simulator.update_worklog(worklog.id, at=at, time_spent_seconds=worklog.payload["timeSpentSeconds"] + 60)
    with pytest.raises(RuntimeError, match=r"worklog/updated feed does not advance past since=\d+"):
        extract_jira(settings, warehouse_url, streams=["worklogs"])


def test_a_403_fails_the_stream_loudly_naming_the_endpoint(simulator, warehouse_url):
    def forbid_search(request):
        if request.path.endswith("/search/jql"):
            return SimResponse(403, {"errorMessages": ["You do not have permission to browse issues."]})
        return None

    simulator.faults = forbid_search
    with pytest.raises(ApiError, match=r"POST /rest/api/3/search/jql answered HTTP 403"):
        extract_jira(settings_for(simulator), warehouse_url, streams=["issues"])
    with psycopg.connect(warehouse_url) as connection:
        status, error = connection.execute(
            "select status, error from raw._load_batches where stream = 'issues'"
        ).fetchone()
    assert status == "failed"
    assert "403" in error


def test_recovers_from_rate_limits_and_server_errors_without_losing_or_duplicating(simulator, world, warehouse_url):
    calls = {"n": 0}

    def flaky(request):
        calls["n"] += 1
        if calls["n"] % 7 == 3:
            return SimResponse(429, {"errorMessages": ["Rate limit exceeded"]}, {"Retry-After": "0.05"})
        if calls["n"] % 11 == 5:
            return SimResponse(503, {"errorMessages": ["unavailable"]})
        return None

    simulator.faults = flaky
    connection = psycopg.connect(warehouse_url, autocommit=True)
    client = JiraClient(settings_for(simulator), retry=RetryPolicy(backoff_base_seconds=0.01))
    results = {r.stream: r for r in JiraExtractor(settings_for(simulator), connection, client).run()}
    connection.close()
    assert results["issues"].http["retries"] > 0
    assert set(raw_rows(warehouse_url, "jira_issues")) == {issue.id for issue in world.jira.issues}
    assert set(raw_rows(warehouse_url, "jira_worklogs")) == {worklog.id for worklog in world.jira.worklogs}


def test_the_api_token_never_reaches_the_logs(simulator, warehouse_url, caplog):
    with caplog.at_level(logging.DEBUG):
        extract_jira(settings_for(simulator), warehouse_url, streams=["projects", "issues"])
    assert "issues: 3000 records" in caplog.text
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(settings_for(simulator))


def test_settings_come_from_the_environment_and_say_what_is_missing():
    with pytest.raises(ValueError, match="JIRA_API_TOKEN"):
        JiraSettings.from_env({"JIRA_BASE_URL": "https://x.atlassian.net", "JIRA_EMAIL": "a@b.c"})
    settings = JiraSettings.from_env(
        {"JIRA_BASE_URL": "https://x.atlassian.net", "JIRA_EMAIL": "a@b.c", "JIRA_API_TOKEN": "t0k"}
    )
    assert settings.api_token.reveal() == "t0k"
    assert "t0k" not in repr(settings)


def test_streams_in_parallel_reads_a_yes_or_no_and_refuses_anything_else():
    base = {"base_url": "https://x.atlassian.net", "email": "a@b.c", "api_token": "t0k"}
    assert JiraSettings.from_mapping(base).streams_in_parallel is True
    assert JiraSettings.from_mapping({**base, "streams_in_parallel": "off"}).streams_in_parallel is False
    assert JiraSettings.from_mapping({**base, "streams_in_parallel": False}).streams_in_parallel is False
    with pytest.raises(ValueError, match="streams_in_parallel must be true or false, got 'sometimes'"):
        JiraSettings.from_mapping({**base, "streams_in_parallel": "sometimes"})


def test_changelogs_arrive_whole_and_only_for_issues_that_changed(simulator, world, warehouse_url):
    settings = settings_for(simulator)
    first = by_stream(extract_jira(settings, warehouse_url))
    assert first["issue_changelogs"]["records"] == len(world.jira.issues)
    longest = max(world.jira.issues, key=lambda issue: len(issue.changelog))
    status_histories = [h for h in longest.changelog if any(i["field"] == "status" for i in h["items"])]
    assert len(status_histories) > 100  # beyond the 100-entry cut that truncating connectors hit
    landed = raw_rows(warehouse_url, "jira_issue_changelogs")[longest.id][1]
    assert [h["id"] for h in landed["histories"]] == [h["id"] for h in status_histories]

    simulator.update_issue(longest.key, at=datetime.now(UTC) - timedelta(minutes=3), status="Done")
    second = by_stream(extract_jira(settings, warehouse_url))
    # the overlap window re-reads a few issues; only the one that changed was rewritten, so only its changelog is read
    assert 1 <= second["issues"]["records"] < 300
    assert second["issue_changelogs"]["records"] == 1
    landed = raw_rows(warehouse_url, "jira_issue_changelogs")[longest.id][1]
    assert landed["histories"][-1]["items"][0]["toString"] == "Done"
    assert second["issue_changelogs"]["watermark"] == newest_issue_load(warehouse_url)

    # a tombstoned issue is the newest row written: its changelog is not read, and the watermark passes it
    tombstoned = world.jira.issues[0]
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        connection.execute(
            "update raw.jira_issues set is_deleted = true, deleted_at = now(), loaded_at = now() where record_id = %s",
            (tombstoned.id,),
        )
    third = by_stream(extract_jira(settings, warehouse_url, streams=["issue_changelogs"]))
    assert third["issue_changelogs"]["records"] == 0
    assert (
        third["issue_changelogs"]["watermark"]
        == newest_issue_load(warehouse_url)
        > second["issue_changelogs"]["watermark"]
    )


def newest_issue_load(warehouse_url: str) -> str:
    with psycopg.connect(warehouse_url) as connection:
        return connection.execute("select max(loaded_at) from raw.jira_issues").fetchone()[0].isoformat()


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "rate_limit", "times": 2},
        {"kind": "rate_limit_reset", "times": 2},
        {"kind": "rate_limit_bare", "times": 2},
        {"kind": "server_error", "times": 3},
        {"kind": "unavailable", "times": 3},
        {"kind": "drop", "times": 2},
        {"kind": "slow", "times": 1, "delay": 0.5},
    ],
    ids=lambda fault: fault["kind"],
)
def test_each_fault_kind_is_recovered_with_nothing_lost_or_duplicated(world, warehouse_url, fault):
    plan = FaultPlan()
    plan.add(path=r"/search/jql|/worklog/list", skip=3, **fault)
    with JiraSimulator(world, api_token=TOKEN, faults=plan) as simulator:
        settings = settings_for(simulator)
        connection = psycopg.connect(warehouse_url, autocommit=True)
        client = JiraClient(settings, retry=RetryPolicy(backoff_base_seconds=0.01, backoff_cap_seconds=0.05))
        results = {r.stream: r for r in JiraExtractor(settings, connection, client).run(["issues", "worklogs"])}
        connection.close()
    assert plan.fired(fault["kind"]) == fault["times"]
    if fault["kind"] != "slow":
        assert results["issues"].http["retries"] + results["worklogs"].http["retries"] == fault["times"]
    with psycopg.connect(warehouse_url) as connection:
        counts = connection.execute(
            "select (select count(*) from raw.jira_issues), (select count(distinct record_id) from raw.jira_issues),"
            " (select count(*) from raw.jira_worklogs), (select count(*) from raw._rejected_records)"
        ).fetchone()
    assert counts == (len(world.jira.issues), len(world.jira.issues), len(world.jira.worklogs), 0)


def test_a_malformed_record_is_rejected_with_its_reason_while_the_page_loads(world, warehouse_url):
    plan = FaultPlan()
    plan.add("malformed", path=r"/search/jql", skip=2)
    with JiraSimulator(world, api_token=TOKEN, faults=plan) as simulator:
        # one stream after another, so that the third search is the issues' and not the census's
        settings = settings_for(simulator, streams_in_parallel=False)
        results = by_stream(extract_jira(settings, warehouse_url, streams=["issues"]))
    assert results["issues"]["rejected"] == 2
    assert set(raw_rows(warehouse_url, "jira_issues")) == {issue.id for issue in world.jira.issues}
    with psycopg.connect(warehouse_url) as connection:
        rejected = connection.execute(
            "select stream, reason, payload from raw._rejected_records order by rejected_id"
        ).fetchall()
    assert [(stream, reason) for stream, reason, _ in rejected] == [
        ("issues", "record is a JSON str, not an object"),
        ("issues", "record has no id"),
    ]
    assert "a record without its id" in rejected[1][2]


def test_boards_and_sprints_of_every_scrum_board_land(simulator, world, warehouse_url):
    results = by_stream(extract_jira(settings_for(simulator), warehouse_url, streams=["boards", "sprints"]))
    boards = raw_rows(warehouse_url, "jira_boards")
    sprints = raw_rows(warehouse_url, "jira_sprints")
    assert set(boards) == {str(board["id"]) for board in world.jira.boards}
    assert set(sprints) == {str(sprint["id"]) for sprint in world.jira.sprints}
    assert {payload["state"] for _, payload in sprints.values()} >= {"closed", "active"}
    assert results["sprints"]["records"] == len(world.jira.sprints)


def test_sprints_of_several_boards_are_read_at_once_land_in_board_order_and_are_counted(
    simulator, world, warehouse_url, monkeypatch
):
    scrum_boards = [board["id"] for board in world.jira.boards if board["type"] == "scrum"]
    assert len(scrum_boards) > SPRINT_BOARDS_AT_ONCE  # more boards than are read at once
    # every request answers late, so that requests sent at once are in flight together
    simulator.faults.faults.append(Fault("slow", path=r"/sprint", times=100_000, delay=0.02))
    times = RequestTimes()
    monkeypatch.setattr(HTTPAdapter, "send", times.wrap(HTTPAdapter.send))
    results = by_stream(extract_jira(settings_for(simulator), warehouse_url, streams=["sprints"]))

    assert times.overlap(r"/board/\d+/sprint", r"/board/\d+/sprint")
    sprint_requests = [path for path, _, _ in times.spans if re.search(r"/board/\d+/sprint", path)]
    assert results["sprints"]["requests"] == len(sprint_requests) + 1  # and the boards' one page
    assert set(raw_rows(warehouse_url, "jira_sprints")) == {str(sprint["id"]) for sprint in world.jira.sprints}

    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        pages = list(JiraExtractor(settings_for(simulator), connection)._sprint_pages(reversed(scrum_boards)))
    boards_read = [page[0]["originBoardId"] for page in pages if page]
    assert boards_read == [board for board in reversed(scrum_boards) if board in boards_read]
    assert len(boards_read) > SPRINT_BOARDS_AT_ONCE


def test_the_census_lists_every_issue_id_when_a_page_holds_malformed_records(world):
    plan = FaultPlan()
    plan.add("malformed", path=r"/search/jql", times=100)
    with JiraSimulator(world, api_token=TOKEN, faults=plan) as simulator:
        pages = list(JiraClient(settings_for(simulator)).search_issue_ids('created >= "1970-01-01 00:00"', 100))
    assert plan.fired("malformed") == len(pages) > 1
    assert sorted(issue_id for page in pages for issue_id in page) == sorted(issue.id for issue in world.jira.issues)


class RequestTimes:
    """When each HTTP request of every session was in flight, by path."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spans: list[tuple[str, float, float]] = []

    def wrap(self, send: Callable[..., Any]) -> Callable[..., Any]:
        def timed(adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any) -> Any:
            began = time.monotonic()
            try:
                return send(adapter, request, **kwargs)
            finally:
                with self.lock:
                    self.spans.append((urlparse(request.url).path, began, time.monotonic()))

        return timed

    def overlap(self, paths: str, other_paths: str) -> bool:
        """Whether a request to a path matching `paths` was in flight with another matching `other_paths`."""
        ones = [span for span in self.spans if re.search(paths, span[0])]
        others = [span for span in self.spans if re.search(other_paths, span[0])]
        return any(one is not other and one[1] < other[2] and other[1] < one[2] for one in ones for other in others)


@pytest.mark.parametrize("in_parallel", [False, True])
def test_stream_lanes_and_the_census_run_at_once_and_land_what_one_after_another_lands(
    simulator, world, warehouse_url, monkeypatch, in_parallel
):
    settings = settings_for(simulator, streams_in_parallel=in_parallel)
    extract_jira(settings, warehouse_url)
    gone = next(issue for issue in world.jira.issues if issue.payload["fields"]["issuetype"]["name"] == "Bug")
    simulator.delete_issue(gone.id, at=datetime.now(UTC) - timedelta(minutes=2))
    # every request answers late, so that requests sent at once are in flight together
    simulator.faults.faults.append(Fault("slow", path=r".", times=100_000, delay=0.02))
    times = RequestTimes()
    send_unwrapped = HTTPAdapter.send
    monkeypatch.setattr(HTTPAdapter, "send", times.wrap(send_unwrapped))
    results = extract_jira(settings, warehouse_url)

    assert [result["stream"] for result in results] == list(STREAMS)
    # the issues' lane against the other streams', and the issue search against its census
    assert times.overlap(r"/search/jql|/changelog/", r"/board|/user|/project|/worklog") is in_parallel
    assert times.overlap(r"/search/jql", r"/search/jql") is in_parallel
    # the worklogs' lane against the re-read streams'
    assert times.overlap(r"/worklog", r"/board|/user|/project") is in_parallel
    issues = raw_rows(warehouse_url, "jira_issues")
    assert {issue_id for issue_id, (is_deleted, _) in issues.items() if is_deleted} == {gone.id}
    assert by_stream(results)["issues"]["deleted"] == 1
    assert set(raw_rows(warehouse_url, "jira_worklogs")) == {worklog.id for worklog in world.jira.worklogs}

    # a full refresh reads one stream at a time whatever the setting
    full_read = RequestTimes()
    monkeypatch.setattr(HTTPAdapter, "send", full_read.wrap(send_unwrapped))
    extract_jira(settings, warehouse_url, full_refresh=True)
    assert not full_read.overlap(r"/search/jql|/changelog/", r"/board|/user|/project|/worklog")
    assert not full_read.overlap(r"/search/jql", r"/search/jql")
    assert not full_read.overlap(r"/worklog", r"/board|/user|/project")


def test_changelogs_follow_the_issues_as_they_land_and_land_what_one_after_another_lands(
    simulator, world, warehouse_url, monkeypatch
):
    settings = settings_for(simulator, issue_page_size=3)
    extract_jira(settings, warehouse_url)
    changed = world.jira.issues[:10]
    for minutes, issue in enumerate(changed):
        simulator.update_issue(issue.key, at=datetime.now(UTC) - timedelta(minutes=10 - minutes), status="Done")
    monkeypatch.setattr(jira_streams, "CHANGELOG_BULK_LIMIT", 4)
    monkeypatch.setattr(jira_streams, "CHANGELOG_POLL_SECONDS", 0.01)
    # every request answers late, so that the issue search takes several round trips
    simulator.faults.faults.append(Fault("slow", path=r".", times=100_000, delay=0.05))
    times = RequestTimes()
    monkeypatch.setattr(HTTPAdapter, "send", times.wrap(HTTPAdapter.send))
    results = by_stream(extract_jira(settings, warehouse_url))

    search_ends = [end for path, _, end in times.spans if path.endswith("/search/jql")]
    changelog_starts = sorted(start for path, start, _ in times.spans if "/changelog/" in path)
    assert len(changelog_starts) >= 3  # ten issues, four a request
    assert changelog_starts[0] < max(search_ends), "no changelog was fetched while the issues were still landing"
    assert results["issue_changelogs"]["records"] == len(changed)
    landed = raw_rows(warehouse_url, "jira_issue_changelogs")
    for issue in changed:
        assert landed[issue.id][1]["histories"][-1]["items"][0]["toString"] == "Done"
    assert results["issue_changelogs"]["watermark"] == newest_issue_load(warehouse_url)


def test_landed_issues_followed_are_found_again_when_they_land_again(warehouse_url, monkeypatch):
    monkeypatch.setattr(jira_streams, "CHANGELOG_BULK_LIMIT", 2)
    monkeypatch.setattr(jira_streams, "CHANGELOG_POLL_SECONDS", 0.01)
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        connection.execute("create schema raw")
        connection.execute(
            "create table raw.jira_issues (source_instance text, record_id text, loaded_at timestamptz,"
            " is_deleted boolean, deleted_at timestamptz)"
        )

        def land(*issue_ids: int, deleted: bool = False) -> None:
            for issue_id in issue_ids:
                connection.execute("delete from raw.jira_issues where record_id = %s", (str(issue_id),))
                connection.execute(
                    "insert into raw.jira_issues values ('site', %s, clock_timestamp(), %s, null)",
                    (str(issue_id), deleted),
                )

        land(1)
        since = connection.execute("select max(loaded_at) from raw.jira_issues").fetchone()[0].isoformat()
        landing = threading.Event()
        follower = jira_streams._LandedIssues(psycopg.connect(warehouse_url, autocommit=True), "site", since, landing)
        chunks = follower.chunks()
        land(11, 12, 13)
        assert next(chunks) == ["11", "12"]
        land(11, 14)  # 11 lands again after its changelog was asked for; 14 is new
        land(15, deleted=True)
        landing.set()
        rest = [issue_id for chunk in chunks for issue_id in chunk]
        follower.connection.close()
        newest = connection.execute("select max(loaded_at) from raw.jira_issues").fetchone()[0]
    # 13 waited for a full request's worth, then for the issues to be done; 15 was landed tombstoned
    assert rest == ["13", "11", "14"]
    assert follower.newest == newest
