"""The Jira simulator over real HTTP: auth, search paging and JQL rules, worklog feeds, changelogs."""

from __future__ import annotations

import base64
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import requests

from simulators.faults import FaultPlan
from simulators.jira import JiraSimulator, SimRequest, SimResponse
from simulators.world import World, epoch_millis

SEARCH = "/rest/api/3/search/jql"


def _search_all(http: requests.Session, base_url: str, **params: object) -> tuple[list[dict], int]:
    """Every issue a search returns, following page tokens; and the number of pages."""
    issues: list[dict] = []
    pages = 0
    token = None
    while True:
        query = dict(params)
        if token:
            query["nextPageToken"] = token
        response = http.get(base_url + SEARCH, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        assert "total" not in page
        issues += page["issues"]
        if page["isLast"]:
            assert "nextPageToken" not in page
            return issues, pages
        token = page["nextPageToken"]


def _feed(http: requests.Session, url: str) -> list[dict]:
    values = []
    while True:
        page = http.get(url).json()
        values += page["values"]
        if page["lastPage"]:
            assert "nextPage" not in page
            return values
        url = page["nextPage"]


# -- auth and reference data ---------------------------------------------------------------------


def test_every_endpoint_needs_the_api_token(jira: JiraSimulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="simulators")
    anonymous = requests.get(jira.url + "/rest/api/3/myself")
    wrong = requests.get(jira.url + "/rest/api/3/myself", auth=("pmo-bot@pmo.example", "nope"))
    wrong_search = requests.post(jira.url + SEARCH, json={"jql": "project = ORION"}, auth=("x@y.z", "sim-token"))
    right = requests.get(jira.url + "/rest/api/3/myself", auth=("pmo-bot@pmo.example", "sim-token"))

    assert (anonymous.status_code, wrong.status_code, wrong_search.status_code, right.status_code) == (
        401,
        401,
        401,
        200,
    )
    assert anonymous.json()["errorMessages"]
    secret = base64.b64encode(b"pmo-bot@pmo.example:sim-token").decode()
    assert caplog.records, "requests are logged at DEBUG"
    assert not [r for r in caplog.records if "sim-token" in r.getMessage() or secret in r.getMessage()]


def test_myself_reports_the_token_users_time_zone(jira: JiraSimulator, http: requests.Session) -> None:
    myself = http.get(jira.url + "/rest/api/3/myself").json()

    assert myself["emailAddress"] == "pmo-bot@pmo.example"
    assert myself["timeZone"] == "Australia/Sydney"
    assert myself["accountId"] and myself["displayName"]


def test_responses_are_json_with_rate_limit_headers(jira: JiraSimulator, http: requests.Session) -> None:
    found = http.get(jira.url + "/rest/api/3/field")
    missing = http.get(jira.url + "/rest/api/3/nothing/here")

    for response in (found, missing):
        assert response.headers["Content-Type"].startswith("application/json")
        assert int(response.headers["X-RateLimit-Limit"]) > 0
        assert "X-RateLimit-Remaining" in response.headers
    assert missing.status_code == 404 and missing.json()["errorMessages"]
    by_name = {field["name"]: field for field in found.json()}
    assert by_name["Story Points"]["id"] == "customfield_10016" and by_name["Story Points"]["custom"] is True
    assert by_name["Sprint"]["id"] == "customfield_10020"
    assert {"id", "key", "name", "custom", "schema"} <= set(by_name["Summary"])


def test_projects_page_with_offsets(jira: JiraSimulator, http: requests.Session, world: World) -> None:
    projects, url = [], jira.url + "/rest/api/3/project/search?maxResults=10&expand=lead"
    while url:
        page = http.get(url).json()
        assert page["total"] == 24 and page["maxResults"] == 10
        projects += page["values"]
        url = page.get("nextPage")
        assert page["isLast"] is (url is None)

    assert sorted(p["key"] for p in projects) == sorted(p["key"] for p in world.jira.projects)
    assert all({"id", "key", "name", "projectTypeKey", "lead"} <= set(p) for p in projects)
    plain = http.get(jira.url + "/rest/api/3/project/search").json()["values"][0]
    assert "lead" not in plain, "Jira returns the lead only with expand=lead"


def test_users_search_is_a_plain_array_that_hides_private_emails(
    jira: JiraSimulator, http: requests.Session, world: World
) -> None:
    users = []
    start_at = 0
    while True:
        page = http.get(jira.url + "/rest/api/3/users/search", params={"startAt": start_at, "maxResults": 20}).json()
        assert isinstance(page, list)
        if not page:
            break
        users += page
        start_at += len(page)

    by_account = {user["accountId"]: user for user in users}
    for person in world.people:
        if person.jira_account_id is None:
            continue
        user = by_account[person.jira_account_id]
        assert user["accountType"] == "atlassian" and user["timeZone"] == person.time_zone
        assert user.get("emailAddress") == (person.email if person.jira_email_visible else None)


# -- search ----------------------------------------------------------------------------------------


def test_search_pages_through_every_issue_once(jira: JiraSimulator, http: requests.Session, world: World) -> None:
    keys = ", ".join(project["key"] for project in world.jira.projects)
    issues, pages = _search_all(
        http, jira.url, jql=f"project in ({keys}) ORDER BY key", maxResults=100, fields="summary"
    )

    assert pages == 30
    ids = [issue["id"] for issue in issues]
    assert len(ids) == len(set(ids)) == 3000
    assert set(ids) == {issue.id for issue in world.jira.issues}
    assert all(issue["self"].endswith(f"/rest/api/3/issue/{issue['id']}") and issue["key"] for issue in issues)


def test_post_search_pages_with_json_fields(jira: JiraSimulator, http: requests.Session, world: World) -> None:
    project_key = world.jira.projects[0]["key"]
    expected = {issue.id for issue in world.jira.issues if issue.project_key == project_key}
    seen: list[str] = []
    body: dict[str, object] = {"jql": f"project = {project_key}", "fields": ["status", "updated"], "maxResults": 7}
    while True:
        page = http.post(jira.url + SEARCH, json=body).json()
        seen += [issue["id"] for issue in page["issues"]]
        assert all(set(issue["fields"]) == {"status", "updated"} for issue in page["issues"])
        if page["isLast"]:
            break
        body["nextPageToken"] = page["nextPageToken"]

    assert sorted(seen) == sorted(expected) and len(seen) == len(expected)


def test_identifier_only_searches_take_big_pages(jira: JiraSimulator, http: requests.Session) -> None:
    census = http.get(jira.url + SEARCH, params={"jql": "created >= 2000-01-01", "maxResults": 5000, "fields": "id"})
    capped = http.get(
        jira.url + SEARCH, params={"jql": "created >= 2000-01-01", "maxResults": 5000, "fields": "summary"}
    )

    assert len(census.json()["issues"]) == 3000 and census.json()["isLast"] is True
    assert len(capped.json()["issues"]) == 100 and capped.json()["isLast"] is False


def test_fields_select_what_comes_back(jira: JiraSimulator, http: requests.Session, world: World) -> None:
    key = world.jira.issues[0].key

    def fields_of(**params: str) -> dict:
        return http.get(jira.url + SEARCH, params={"jql": f"key = {key}", **params}).json()["issues"][0]["fields"]

    assert fields_of() == {}
    assert set(fields_of(fields="summary,status")) == {"summary", "status"}
    everything = fields_of(fields="*all")
    assert {"summary", "customfield_10016", "customfield_10020", "timetracking", "worklog"} <= set(everything)
    assert everything["worklog"]["maxResults"] == 20
    assert "description" not in fields_of(fields="*all,-description")
    named = http.get(
        jira.url + SEARCH, params={"jql": f"key = {key}", "fields": "customfield_10016", "expand": "names"}
    )
    assert named.json()["names"] == {"customfield_10016": "Story Points"}


def test_embedded_changelog_is_truncated_to_the_latest_twenty(
    jira: JiraSimulator, http: requests.Session, world: World
) -> None:
    longest = max(world.jira.issues, key=lambda issue: len(issue.changelog))
    page = http.get(jira.url + SEARCH, params={"jql": f"id = {longest.id}", "expand": "changelog"}).json()
    changelog = page["issues"][0]["changelog"]

    assert changelog["total"] == len(longest.changelog) > 100
    assert changelog["histories"] == list(reversed(longest.changelog[-20:]))


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("", "Unbounded JQL queries are not allowed here"),
        ("ORDER BY updated DESC", "Unbounded JQL queries are not allowed here"),
        ("project ORION", "Expecting operator"),
        ("project = ORION AND", "reached the end of the query"),
        ('updated >= "2026-11-30 10:00:00"', "Date value"),
        ('updated >= "30/11/2026"', "Date value"),
        ("project = NOSUCH", "The value 'NOSUCH' does not exist for the field 'project'."),
        ("colour = red", "Field 'colour' does not exist"),
        ("key in (NOSUCH-1)", "An issue with key 'NOSUCH-1' does not exist"),
    ],
)
def test_bad_jql_is_refused_with_a_jira_message(
    jira: JiraSimulator, http: requests.Session, jql: str, message: str
) -> None:
    response = http.get(jira.url + SEARCH, params={"jql": jql})

    assert response.status_code == 400
    assert response.json()["errors"] == {}
    assert message in response.json()["errorMessages"][0]


def test_a_page_token_only_continues_its_own_query(jira: JiraSimulator, http: requests.Session) -> None:
    first = http.get(jira.url + SEARCH, params={"jql": "project = ORION", "maxResults": 5}).json()
    reused = http.get(
        jira.url + SEARCH, params={"jql": "project = ATLAS", "maxResults": 5, "nextPageToken": first["nextPageToken"]}
    )

    assert reused.status_code == 400


def test_order_by_and_key_and_id_clauses(jira: JiraSimulator, http: requests.Session, world: World) -> None:
    project_issues = [issue for issue in world.jira.issues if issue.project_key == "ORION"]
    newest_first = sorted(project_issues, key=lambda issue: issue.updated_at, reverse=True)
    issues, _ = _search_all(http, jira.url, jql="project = ORION ORDER BY updated DESC", maxResults=100)
    picked = project_issues[:3]
    by_key = http.get(
        jira.url + SEARCH, params={"jql": f"key in ({', '.join(i.key for i in picked)}) ORDER BY key ASC"}
    ).json()
    by_id = http.get(jira.url + SEARCH, params={"jql": f"id in ({picked[0].id}, {picked[1].id})"}).json()

    assert [issue["id"] for issue in issues] == [issue.id for issue in newest_first]
    assert [issue["key"] for issue in by_key["issues"]] == sorted(
        (i.key for i in picked), key=lambda k: int(k.split("-")[1])
    )
    assert {issue["id"] for issue in by_id["issues"]} == {picked[0].id, picked[1].id}


def test_approximate_count(jira: JiraSimulator, http: requests.Session, world: World) -> None:
    response = http.post(jira.url + "/rest/api/3/search/approximate-count", json={"jql": "project in (ORION, ATLAS)"})
    unbounded = http.post(jira.url + "/rest/api/3/search/approximate-count", json={"jql": ""})

    expected = sum(issue.project_key in ("ORION", "ATLAS") for issue in world.jira.issues)
    assert response.json() == {"count": expected}
    assert unbounded.status_code == 400


def test_the_removed_search_endpoint_answers_410(jira: JiraSimulator, http: requests.Session) -> None:
    get = http.get(jira.url + "/rest/api/3/search", params={"jql": "project = ORION", "startAt": 0})
    post = http.post(jira.url + "/rest/api/3/search", json={"jql": "project = ORION"})

    assert get.status_code == post.status_code == 410
    assert "/rest/api/3/search/jql" in get.json()["errorMessages"][0]


@pytest.mark.parametrize(
    ("user_time_zone", "literal", "included"),
    [
        # the edit lands at 2026-11-29T13:00:30.250Z, which is 2026-11-30 00:00:30 in Sydney (UTC+11)
        ("Australia/Sydney", '>= "2026-11-30 00:00"', True),
        ("Australia/Sydney", '>= "2026/11/30 00:00"', True),
        ("Australia/Sydney", '>= "2026-11-30"', True),
        ("Australia/Sydney", '> "2026-11-29 23:59"', True),
        ("Australia/Sydney", '>= "2026-11-30 00:01"', False),
        ("Australia/Sydney", '<= "2026-11-30 00:00"', False),
        ("Australia/Sydney", '< "2026-11-30 00:01"', True),
        ("UTC", '>= "2026-11-30 00:00"', False),
        ("UTC", '>= "2026-11-29 13:00"', True),
        ("America/Los_Angeles", '>= "2026-11-29 05:00"', True),
        ("America/Los_Angeles", '>= "2026-11-29 05:01"', False),
    ],
)
def test_jql_dates_are_read_in_the_token_users_time_zone(
    world: World, http: requests.Session, user_time_zone: str, literal: str, included: bool
) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with JiraSimulator(world, user_time_zone=user_time_zone, clock=lambda: now) as jira:
        issue = next(issue for issue in world.jira.issues if issue.project_key == "ORION")
        jira.update_issue(
            issue.key, at=datetime(2026, 11, 29, 13, 0, 30, 250000, tzinfo=UTC), fields={"summary": "Edge"}
        )
        jql = f"project = ORION AND updated {literal} ORDER BY updated DESC"
        response = http.get(jira.url + SEARCH, params={"jql": jql, "fields": "updated"})

    assert response.status_code == 200, response.text
    found = response.json()["issues"]
    if included:
        assert found[0]["key"] == issue.key
        assert found[0]["fields"]["updated"] == "2026-11-29T13:00:30.250+0000"
    else:
        assert issue.key not in {found_issue["key"] for found_issue in found}
    if literal.startswith(">"):
        assert len(found) == int(included), "nothing else in the world changed after the anchor"


def test_relative_dates_count_back_from_now(jira: JiraSimulator, http: requests.Session, world: World) -> None:
    since = jira.now() - timedelta(days=30)
    expected = sum(issue.updated_at >= since for issue in world.jira.issues)
    response = http.post(jira.url + "/rest/api/3/search/approximate-count", json={"jql": "updated >= -30d"})

    assert response.json()["count"] == expected > 0


# -- worklogs --------------------------------------------------------------------------------------


def test_worklog_feeds_and_list(jira: JiraSimulator, http: requests.Session, world: World) -> None:
    updated = _feed(http, jira.url + "/rest/api/3/worklog/updated?since=0")
    deleted = _feed(http, jira.url + "/rest/api/3/worklog/deleted?since=0")

    times = [value["updatedTime"] for value in updated]
    assert times == sorted(times)
    assert {value["worklogId"] for value in updated} == {int(worklog.id) for worklog in world.jira.worklogs}
    assert len(updated) >= 8000, "since is inclusive, so a page boundary repeats its last worklog"
    assert {value["worklogId"] for value in deleted} == {int(entry.worklog_id) for entry in world.jira.deleted_worklogs}

    ids = sorted({value["worklogId"] for value in updated})
    fetched = []
    for start in range(0, len(ids), 1000):
        response = http.post(jira.url + "/rest/api/3/worklog/list", json={"ids": ids[start : start + 1000]})
        assert response.status_code == 200
        fetched += response.json()
    expected = {worklog.id: worklog.payload for worklog in world.jira.worklogs}
    assert len(fetched) == 8000
    for worklog in fetched:
        assert worklog["self"].endswith(f"/issue/{worklog['issueId']}/worklog/{worklog['id']}")
        assert {k: v for k, v in worklog.items() if k != "self"} == expected[worklog["id"]]
    too_many = http.post(jira.url + "/rest/api/3/worklog/list", json={"ids": list(range(1, 1002))})
    assert too_many.status_code == 400


def test_worklog_feed_pages_follow_since_and_until(jira: JiraSimulator, http: requests.Session, world: World) -> None:
    page = http.get(jira.url + "/rest/api/3/worklog/updated", params={"since": 0}).json()

    assert len(page["values"]) == 1000 and page["lastPage"] is False
    assert page["since"] == 0 and page["until"] == page["values"][-1]["updatedTime"]
    assert page["nextPage"].endswith(f"/rest/api/3/worklog/updated?since={page['until']}")
    latest = max(epoch_millis(worklog.updated_at) for worklog in world.jira.worklogs)
    tail = http.get(jira.url + "/rest/api/3/worklog/updated", params={"since": latest}).json()
    assert [value["updatedTime"] for value in tail["values"]] == [latest]
    assert tail["lastPage"] is True


def test_worklog_changes_reach_the_feeds(fresh_jira: JiraSimulator, http: requests.Session, world: World) -> None:
    now = fresh_jira.now()
    issue = next(i for i in world.jira.issues if i.payload["fields"]["issuetype"]["name"] == "Task")
    author = next(u for u in world.jira.users if u["accountType"] == "atlassian" and u["timeZone"] == "Asia/Kolkata")
    settled = fresh_jira.add_worklog(
        issue.key,
        author_account_id=author["accountId"],
        started=datetime(2026, 11, 30, 18, 45, tzinfo=UTC),
        time_spent_seconds=5400,
        at=now - timedelta(minutes=2),
    )
    too_recent = fresh_jira.add_worklog(
        issue.key,
        author_account_id=author["accountId"],
        started=now,
        time_spent_seconds=900,
        at=now - timedelta(seconds=20),
    )
    removed = next(worklog.id for worklog in world.jira.worklogs if worklog.issue_id != issue.id)
    fresh_jira.delete_worklog(removed, at=now - timedelta(minutes=5))
    since = epoch_millis(now - timedelta(hours=1))

    updated = http.get(fresh_jira.url + "/rest/api/3/worklog/updated", params={"since": since}).json()["values"]
    deleted = http.get(fresh_jira.url + "/rest/api/3/worklog/deleted", params={"since": since}).json()["values"]
    listed = http.post(fresh_jira.url + "/rest/api/3/worklog/list", json={"ids": [int(settled), int(removed)]}).json()
    after = http.get(
        fresh_jira.url + SEARCH, params={"jql": f"key = {issue.key}", "fields": "timespent,updated"}
    ).json()

    assert [value["worklogId"] for value in updated] == [int(settled)], "the last minute is not served yet"
    assert [value["worklogId"] for value in deleted] == [int(removed)]
    assert [worklog["id"] for worklog in listed] == [settled]
    assert listed[0]["started"] == "2026-12-01T00:15:00.000+0530"
    assert listed[0]["timeSpent"] == "1h 30m"
    assert after["issues"][0]["fields"]["timespent"] == (issue.payload["fields"]["timespent"] or 0) + 5400 + 900
    assert too_recent


# -- changelogs ------------------------------------------------------------------------------------


def test_issue_changelog_pages_without_truncation(jira: JiraSimulator, http: requests.Session, world: World) -> None:
    longest = max(world.jira.issues, key=lambda issue: len(issue.changelog))
    histories, url, pages = [], f"{jira.url}/rest/api/3/issue/{longest.key}/changelog?maxResults=500", 0
    while url:
        page = http.get(url).json()
        pages += 1
        assert page["maxResults"] == 100 and page["total"] == len(longest.changelog)
        histories += page["values"]
        url = page.get("nextPage")
        assert page["isLast"] is (url is None)

    assert pages == 2
    assert histories == longest.changelog
    missing = http.get(jira.url + "/rest/api/3/issue/NOSUCH-1/changelog")
    assert missing.status_code == 404


def test_bulk_changelog_pages_across_issues(jira: JiraSimulator, http: requests.Session, world: World) -> None:
    longest = sorted(world.jira.issues, key=lambda issue: len(issue.changelog))[-3:]
    chosen = longest + world.jira.issues[100:110]
    body: dict[str, object] = {
        "issueIdsOrKeys": [issue.key for issue in chosen],
        "fieldIds": ["status"],
        "maxResults": 40,
    }
    merged: dict[str, list[dict]] = {}
    pages = 0
    while True:
        response = http.post(jira.url + "/rest/api/3/changelog/bulkfetch", json=body)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        for entry in page["issueChangeLogs"]:
            merged.setdefault(entry["issueId"], []).extend(entry["changeHistories"])
        if not page.get("nextPageToken"):
            break
        body["nextPageToken"] = page["nextPageToken"]

    assert pages > 3
    for issue in chosen:
        expected = [
            {**history, "items": [item for item in history["items"] if item["fieldId"] == "status"]}
            for history in issue.changelog
            if any(item["fieldId"] == "status" for item in history["items"])
        ]
        assert merged.get(issue.id, []) == expected
    too_many = http.post(jira.url + "/rest/api/3/changelog/bulkfetch", json={"issueIdsOrKeys": ["1"] * 1001})
    assert too_many.status_code == 400


# -- changes between runs, and the fault hook ------------------------------------------------------


def test_issue_changes_between_runs(fresh_jira: JiraSimulator, http: requests.Session, world: World) -> None:
    now = fresh_jira.now()
    open_story = next(
        i
        for i in world.jira.issues
        if i.payload["fields"]["status"]["name"] == "In Progress" and not i.payload["fields"]["issuetype"]["subtask"]
    )
    fresh_jira.update_issue(
        open_story.key, at=now - timedelta(hours=1), status="Done", fields={"customfield_10016": 8.0}
    )
    parent_with_subtasks = next(
        i
        for i in world.jira.issues
        if i.id != open_story.id
        and any(
            c.payload["fields"].get("parent", {}).get("id") == i.id and c.payload["fields"]["issuetype"]["subtask"]
            for c in world.jira.issues
        )
    )
    deleted_keys = fresh_jira.delete_issue(parent_with_subtasks.key, at=now - timedelta(minutes=30))

    changed = http.get(
        fresh_jira.url + SEARCH,
        params={
            "jql": 'updated >= "2026-12-01 09:00" ORDER BY updated',
            "fields": "status,resolutiondate,customfield_10016",
        },
    ).json()["issues"]
    census = http.get(fresh_jira.url + SEARCH, params={"jql": "created >= 2000-01-01", "maxResults": 5000}).json()
    history = http.get(f"{fresh_jira.url}/rest/api/3/issue/{open_story.key}/changelog?startAt=0").json()

    assert changed[0]["key"] == open_story.key
    assert changed[0]["fields"]["status"]["statusCategory"]["key"] == "done"
    assert changed[0]["fields"]["resolutiondate"] == (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    assert changed[0]["fields"]["customfield_10016"] == 8.0
    last_items = {item["fieldId"]: item for item in history["values"][-1]["items"]}
    assert last_items["status"]["toString"] == "Done" and "customfield_10016" in last_items
    assert len(deleted_keys) > 1 and parent_with_subtasks.key == deleted_keys[0]
    assert len(census["issues"]) == 3000 - len(deleted_keys)
    assert not {issue["key"] for issue in census["issues"]} & set(deleted_keys)
    gone = http.get(f"{fresh_jira.url}/rest/api/3/issue/{deleted_keys[0]}")
    assert gone.status_code == 404
    assert open_story.payload["fields"]["status"]["name"] == "In Progress", "the world itself is left as it was"
    assert world.jira.issue(deleted_keys[0]) is parent_with_subtasks


def test_the_fault_hook_answers_first(fresh_jira: JiraSimulator, http: requests.Session) -> None:
    calls: Counter[str] = Counter()

    def throttle_searches(request: SimRequest) -> SimResponse | None:
        if request.path == SEARCH and calls["throttled"] == 0:
            calls["throttled"] += 1
            return SimResponse(429, {"errorMessages": ["Rate limit exceeded."]}, {"Retry-After": "1"})
        return None

    fresh_jira.faults = throttle_searches
    first = http.get(fresh_jira.url + SEARCH, params={"jql": "project = ORION"})
    second = http.get(fresh_jira.url + SEARCH, params={"jql": "project = ORION"})

    assert (first.status_code, first.headers["Retry-After"]) == (429, "1")
    assert "X-RateLimit-Remaining" in first.headers
    assert second.status_code == 200
    assert [record.status for record in fresh_jira.requests if record.path == SEARCH] == [429, 200]


def test_a_fault_plan_speaks_jira(fresh_jira: JiraSimulator, http: requests.Session) -> None:
    fresh_jira.faults = FaultPlan.parse("rate_limit:1@/search/jql,malformed:1@/search/jql")
    throttled = http.get(fresh_jira.url + SEARCH, params={"jql": "project = ORION", "fields": "summary"})
    tainted = http.get(fresh_jira.url + SEARCH, params={"jql": "project = ORION", "fields": "summary"})
    clean = http.get(fresh_jira.url + SEARCH, params={"jql": "project = ORION", "fields": "summary"})

    assert throttled.status_code == 429
    assert throttled.json()["errorMessages"] and throttled.headers["Retry-After"]
    assert throttled.headers["X-RateLimit-Remaining"] == "0"
    issues = tainted.json()["issues"]
    assert len(issues) == len(clean.json()["issues"]) + 2
    assert not isinstance(issues[-2], dict) and "id" not in issues[-1]
    assert fresh_jira.faults.fired() == 2


def test_unknown_paths_and_methods(jira: JiraSimulator, http: requests.Session) -> None:
    assert http.get(jira.url + "/rest/api/3/nothing").status_code == 404
    assert http.delete(jira.url + "/rest/api/3/myself").status_code == 405
    assert http.get(jira.url + "/rest/api/3/issue/NOSUCH-1").json() == {
        "errorMessages": ["Issue does not exist or you do not have permission to see it."],
        "errors": {},
    }
