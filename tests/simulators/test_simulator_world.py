"""The generated PMO world: deterministic, the right size, and consistent across entities and tools."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from simulators.world import (
    DONE_STATUSES,
    World,
    WorldConfig,
    build_world,
    issue_counts_by_project,
    parse_jira_timestamp,
    served_counts,
    summarize,
    worklog_hours_by_local_date,
    worklog_hours_by_project,
    worklog_hours_total,
)


def _snapshot(world: World) -> tuple:
    site = world.jira
    return (
        world.people,
        world.portfolios,
        world.programs,
        world.projects,
        world.rate_card,
        site.projects,
        site.users,
        site.sprints,
        [(issue.payload, issue.changelog, issue.updated_at) for issue in site.issues],
        [(worklog.payload, worklog.updated_at) for worklog in site.worklogs],
        site.deleted_worklogs,
    )


def test_the_same_seed_builds_the_same_world(world: World) -> None:
    again = build_world(WorldConfig(anchor_date=world.config.anchor_date))

    assert _snapshot(again) == _snapshot(world)


def test_another_seed_builds_another_world(world: World) -> None:
    other = build_world(WorldConfig(seed=7, anchor_date=world.config.anchor_date))

    assert [p.email for p in other.people] != [p.email for p in world.people]
    assert [i.payload for i in other.jira.issues[:50]] != [i.payload for i in world.jira.issues[:50]]
    assert len(other.jira.issues) == len(world.jira.issues)


def test_an_unknown_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scale"):
        build_world(WorldConfig(anchor_date=date(2026, 11, 29), scale="galactic"))


def test_demo_scale_counts(world: World) -> None:
    summary = summarize(world)
    tools = Counter(project.tool for project in world.projects)

    assert (summary.people, summary.portfolios, summary.programs, summary.projects) == (60, 3, 8, 40)
    assert tools == {"jira": 24, "asana": 10, "smartsheet": 6}
    assert summary.register_rows == 38
    assert len(summary.unregistered_jira_projects) == 2
    assert summary.jira_projects == 24
    assert summary.jira_issues == 3000
    assert summary.jira_worklogs == 8000
    assert summary.jira_deleted_worklogs > 0
    assert set(summary.issues_by_type) == {"Epic", "Story", "Task", "Bug", "Sub-task", "Milestone"}
    assert set(summary.issues_by_status) == {"To Do", "In Progress", "In Review", "Done", "Won't Do"}
    assert served_counts(world)["jira issues"] == 3000


def test_the_hierarchy_and_register_hold_together(world: World) -> None:
    anchor_date = world.config.anchor_date
    portfolio_codes = {portfolio.code for portfolio in world.portfolios}
    programs = {program.code: program for program in world.programs}
    emails = {person.email for person in world.people}

    assert all(program.portfolio_code in portfolio_codes for program in world.programs)
    assert len({project.project_code for project in world.projects}) == 40
    for project in world.projects:
        assert project.program_code in programs
        assert project.project_manager in emails and project.sponsor in emails
        assert project.stage in {"idea", "approved", "active", "on_hold", "closed", "cancelled"}
        assert project.approved_budget == project.approved_budget.quantize(Decimal("0.01"))
        assert project.currency == "EUR"
        assert 1 <= project.alignment_score <= 5
        assert project.baseline_start < project.baseline_finish
    finished = [p for p in world.projects if p.baseline_finish < anchor_date]
    running = [p for p in world.projects if p.baseline_start <= anchor_date <= p.baseline_finish]
    assert finished and len(running) > len(world.projects) / 2
    assert {row["source_system"] for row in world.register_rows()} == {"jira", "asana", "smartsheet"}
    assert all(
        not p.in_register for p in world.projects if p.source_project_key in summarize(world).unregistered_jira_projects
    )


def test_people_differ_across_tools_and_the_rate_card(world: World) -> None:
    jira_only = [p for p in world.people if p.jira_account_id and not p.asana_gid]
    asana_only = [p for p in world.people if p.asana_gid and not p.jira_account_id]
    jira_people = [p for p in world.people if p.jira_account_id]
    hidden = [p for p in jira_people if not p.jira_email_visible]
    rows_per_email = Counter(row.email for row in world.rate_card)
    card_emails = set(rows_per_email)

    assert jira_only and asana_only
    assert 0.08 <= len(hidden) / len(jira_people) <= 0.25
    assert len({p.email for p in world.people}) == len(world.people)
    assert all(p.email == p.email.lower() and p.email.endswith("@pmo.example") for p in world.people)
    assert {"Australia/Sydney", "America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "UTC"} <= {
        p.time_zone for p in world.people
    }
    assert any(count == 2 for count in rows_per_email.values())
    assert {p.email for p in world.people if not p.on_rate_card} == {p.email for p in world.people} - card_emails
    assert any(not p.on_rate_card for p in hidden), "a hidden-email Jira user nobody can price"
    for email in card_emails:
        rows = sorted((r for r in world.rate_card if r.email == email), key=lambda r: r.effective_from)
        assert rows[-1].hourly_rate == world.person_by_email(email).hourly_rate


def test_every_reference_resolves(world: World) -> None:
    site = world.jira
    issues = {issue.id: issue for issue in site.issues}
    account_ids = {user["accountId"] for user in site.users}

    assert len(issues) == len(site.issues)
    assert len({issue.key for issue in site.issues}) == len(site.issues)
    for issue in site.issues:
        fields = issue.payload["fields"]
        assert fields["project"]["key"] == issue.project_key == issue.key.split("-")[0]
        assert fields["reporter"]["accountId"] in account_ids
        if fields["assignee"]:
            assert fields["assignee"]["accountId"] in account_ids
        if "parent" in fields:
            parent = issues[fields["parent"]["id"]]
            assert parent.key == fields["parent"]["key"]
            assert parent.project_key == issue.project_key
            assert parent.created_at <= issue.created_at
            expected_parent_types = {"Epic"} if not fields["issuetype"]["subtask"] else {"Story", "Task", "Bug"}
            assert parent.payload["fields"]["issuetype"]["name"] in expected_parent_types
        for history in issue.changelog:
            assert history["author"]["accountId"] in account_ids
    for worklog in site.worklogs:
        assert worklog.payload["issueId"] == worklog.issue_id
        issue_type = issues[worklog.issue_id].payload["fields"]["issuetype"]["name"]
        assert issue_type not in ("Epic", "Milestone")
        assert worklog.payload["author"]["accountId"] in account_ids


def test_statuses_resolutions_and_changelogs_agree(world: World) -> None:
    done_without_resolution_date = 0
    for issue in world.jira.issues:
        fields = issue.payload["fields"]
        category = fields["status"]["statusCategory"]["key"]
        status_moves = [item for h in issue.changelog for item in h["items"] if item["field"] == "status"]
        if status_moves:
            assert status_moves[0]["fromString"] == "To Do"
            assert status_moves[-1]["toString"] == fields["status"]["name"]
            for before, after in itertools.pairwise(status_moves):
                assert before["toString"] == after["fromString"]
        else:
            assert fields["status"]["name"] == "To Do"
        created_times = [h["created"] for h in issue.changelog]
        assert created_times == sorted(created_times)
        assert all(fields["created"] <= moment <= fields["updated"] for moment in created_times)
        assert issue.created_at == parse_jira_timestamp(fields["created"])
        assert issue.updated_at == parse_jira_timestamp(fields["updated"])
        if category == "done":
            assert fields["status"]["name"] in DONE_STATUSES
            if fields["resolutiondate"] is None:
                done_without_resolution_date += 1
                assert any(m["toString"] in DONE_STATUSES for m in status_moves)
            else:
                assert fields["resolution"]["name"] == fields["status"]["name"]
                last_move_into_done = [
                    h["created"]
                    for h in issue.changelog
                    for m in h["items"]
                    if m["field"] == "status"
                    and m["toString"] in DONE_STATUSES
                    and m["fromString"] not in DONE_STATUSES
                ]
                assert fields["resolutiondate"] == (last_move_into_done or [fields["created"]])[-1]
        else:
            assert fields["resolutiondate"] is None and fields["resolution"] is None
    assert 0 < done_without_resolution_date < 50


def test_nothing_happens_at_or_after_the_anchor(world: World) -> None:
    anchor = world.anchor_instant
    for issue in world.jira.issues:
        assert issue.created_at < anchor and issue.updated_at < anchor
        assert all(parse_jira_timestamp(h["created"]) < anchor for h in issue.changelog)
    for worklog in world.jira.worklogs:
        for name in ("created", "updated", "started"):
            assert parse_jira_timestamp(worklog.payload[name]) < anchor
    assert all(entry.deleted_at < anchor for entry in world.jira.deleted_worklogs)


def test_the_jira_data_has_the_awkward_cases(world: World) -> None:
    leaves = [
        i for i in world.jira.issues if i.payload["fields"]["issuetype"]["name"] in ("Story", "Task", "Bug", "Sub-task")
    ]
    estimates = [issue.payload["fields"]["timeoriginalestimate"] for issue in leaves]
    open_issues = [i for i in world.jira.issues if i.payload["fields"]["status"]["statusCategory"]["key"] != "done"]
    today = world.config.anchor_date.isoformat()
    overdue = [i for i in open_issues if (i.payload["fields"]["duedate"] or "9999") < today]
    estimated_projects = {i.project_key for i in leaves if i.payload["fields"]["timeoriginalestimate"] is not None}
    hidden_users = [u for u in world.jira.users if u["accountType"] == "atlassian" and "emailAddress" not in u]

    assert estimates.count(None) > 100
    assert 3 <= estimates.count(0) < 100
    assert all(e is None or e % 1800 == 0 for e in estimates)
    assert {i.project_key for i in leaves} - estimated_projects, "a project without any estimate"
    assert overdue
    assert any(i.payload["fields"]["assignee"] is None for i in open_issues)
    assert sum(len(issue.changelog) > 100 for issue in world.jira.issues) >= 3
    assert any(i.payload["fields"]["customfield_10016"] is not None for i in world.jira.issues)
    assert any(i.payload["fields"]["customfield_10020"] for i in world.jira.issues)
    assert hidden_users
    milestones = [i for i in world.jira.issues if i.payload["fields"]["issuetype"]["name"] == "Milestone"]
    assert milestones and all(m.payload["fields"]["duedate"] for m in milestones)
    names = {field["id"]: field["name"] for field in world.jira.fields}
    assert names["customfield_10016"] == "Story Points" and names["customfield_10020"] == "Sprint"


def test_worklogs_are_dated_in_their_authors_offsets(world: World) -> None:
    zones = {user["accountId"]: ZoneInfo(user["timeZone"]) for user in world.jira.users}
    spent_per_issue: Counter[str] = Counter()
    for worklog in world.jira.worklogs:
        payload = worklog.payload
        started = parse_jira_timestamp(payload["started"])
        assert started.utcoffset() == started.astimezone(zones[payload["author"]["accountId"]]).utcoffset()
        assert payload["timeSpentSeconds"] % 900 == 0 and payload["timeSpentSeconds"] > 0
        created = parse_jira_timestamp(payload["created"])
        assert created >= started + timedelta(seconds=payload["timeSpentSeconds"])
        assert parse_jira_timestamp(payload["updated"]) == worklog.updated_at >= created
        spent_per_issue[worklog.issue_id] += payload["timeSpentSeconds"]
    for issue in world.jira.issues:
        assert issue.payload["fields"]["timespent"] == (spent_per_issue.get(issue.id) or None)
    deleted_ids = {entry.worklog_id for entry in world.jira.deleted_worklogs}
    assert not deleted_ids & {worklog.id for worklog in world.jira.worklogs}


def test_summary_helpers_agree_with_each_other(world: World) -> None:
    by_date = worklog_hours_by_local_date(world.jira)
    total = worklog_hours_total(world.jira.worklogs)

    assert sum(issue_counts_by_project(world.jira.issues).values()) == 3000
    assert sum(by_date.values()) == total == summarize(world).jira_worklog_hours
    assert sum(worklog_hours_by_project(world.jira).values()) == total
    assert all(isinstance(day, date) and day <= world.config.anchor_date for day in by_date)
    key = world.jira.projects[0]["key"]
    assert sum(worklog_hours_by_local_date(world.jira, project_key=key).values()) == worklog_hours_by_project(
        world.jira
    ).get(key, Decimal("0.00"))
