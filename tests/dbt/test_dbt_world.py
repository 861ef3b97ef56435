"""`dbt build` over the simulators' demo world, landed in raw by the real connectors (Jira, Asana,
Smartsheet) talking to the in-process simulators: the marts agree with the figures the world
itself holds, down to the earned value of its projects, a program and a portfolio on a status date
computed here from the tools' data and the register."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import psycopg
import pytest

from simulators.asana import AsanaSimulator
from simulators.asana_world import ESTIMATE_FIELD_NAME, AsanaWorkspace, parse_asana_timestamp
from simulators.jira import JiraSimulator
from simulators.smartsheet import SmartsheetSimulator
from simulators.smartsheet_world import SmartsheetAccount, parse_smartsheet_timestamp, summarize_account
from simulators.world import (
    Project,
    World,
    WorldConfig,
    build_world,
    parse_jira_timestamp,
    summarize,
    worklog_hours_by_local_date,
    worklog_hours_by_project,
)
from tests.conftest import create_database, drop_database
from tests.dbt.conftest import land_from_simulators, run_dbt

ANCHOR_DATE = date(2026, 3, 10)
CENT = Decimal("0.01")


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def cents(value: Decimal) -> Decimal:
    """Rounded to the cent as PostgreSQL's round() does (half away from zero)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Served:
    """What the simulators served, and the raw-loading summaries the connectors returned."""

    asana: AsanaWorkspace
    smartsheet: SmartsheetAccount
    extracts: dict[str, list[dict]]


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(WorldConfig(anchor_date=ANCHOR_DATE))


@pytest.fixture(scope="module")
def loaded(world: World, warehouse_server: str) -> Iterator[tuple[str, Served]]:
    """A database of its own, into which the three connectors extract everything the simulators serve."""
    url = create_database(warehouse_server)
    with ExitStack() as stack:
        # The simulated Jira's clock stands just after the world's last moment, so its feeds hide nothing.
        jira = stack.enter_context(
            JiraSimulator(world, clock=lambda: world.anchor_instant + timedelta(hours=1), rate_limit_per_second=100_000)
        )
        asana = stack.enter_context(AsanaSimulator(world))
        sheets = stack.enter_context(SmartsheetSimulator(world))
        extracts = land_from_simulators(url, jira, asana, sheets)
        served = Served(asana=asana.data, smartsheet=sheets.account, extracts=extracts)
    yield url, served
    drop_database(url)


@pytest.fixture(scope="module")
def served(loaded: tuple[str, Served]) -> Served:
    return loaded[1]


@pytest.fixture(scope="module")
def world_marts(loaded: tuple[str, Served], tmp_path_factory: pytest.TempPathFactory) -> Iterator[psycopg.Connection]:
    url = loaded[0]
    # Unit tests do not read the warehouse's data: the fixture build in test_dbt_build.py runs them.
    invocation = run_dbt(
        ["build", "--exclude-resource-type", "unit_test"],
        url,
        tmp_path_factory.mktemp("dbt_world"),
        run_date=ANCHOR_DATE.isoformat(),
    )
    assert invocation.returncode == 0, "\n".join(invocation.failures()) or invocation.output[-5000:]
    with psycopg.connect(url, autocommit=True) as connection:
        yield connection


def scalar(connection: psycopg.Connection, query: str, *params: object) -> object:
    return connection.execute(query, params).fetchone()[0]


def by_tool(connection: psycopg.Connection, query: str) -> dict[str, object]:
    return dict(connection.execute(query).fetchall())


# -- work items ------------------------------------------------------------------------------------


def test_every_item_each_tool_served_is_a_work_item(
    world: World, served: Served, world_marts: psycopg.Connection
) -> None:
    sheets = summarize_account(served.smartsheet)
    assert by_tool(world_marts, "select source_system, count(*) from marts.fct_work_items group by 1") == {
        "jira": len(world.jira.issues),
        "asana": len(served.asana.tasks),
        "smartsheet": sheets.plan_rows,
    }
    jira_types = Counter(
        dict(
            world_marts.execute(
                "select item_type, count(*) from marts.fct_work_items where source_system = 'jira' group by 1"
            ).fetchall()
        )
    )
    assert jira_types == Counter(summarize(world).issues_by_type)


def test_done_follows_each_tool(world: World, served: Served, world_marts: psycopg.Connection) -> None:
    statuses = summarize(world).issues_by_status
    done = by_tool(
        world_marts,
        "select source_system, count(*) from marts.fct_work_items where status_category = 'done' group by 1",
    )
    assert done == {
        "jira": statuses["Done"] + statuses["Won't Do"],  # a Won't Do is done
        "asana": served.asana.counts()["completed_tasks"],
        "smartsheet": summarize_account(served.smartsheet).plan_done_rows,  # 100% or Complete
    }
    done_without_completion = scalar(
        world_marts, "select count(*) from marts.fct_work_items where status_category = 'done' and completed_at is null"
    )
    assert done_without_completion == 0


def test_parents_summaries_and_milestones_weigh_nothing(served: Served, world_marts: psycopg.Connection) -> None:
    summary_rows = scalar(world_marts, "select count(*) from marts.fct_work_items where item_type = 'Summary row'")
    assert summary_rows == summarize_account(served.smartsheet).plan_summary_rows
    heavy = scalar(
        world_marts,
        "select count(*) from marts.fct_work_items as item"
        " where item.weight > 0 and (item.is_milestone or item.item_type = 'Summary row' or exists ("
        " select 1 from marts.fct_work_items as child where child.parent_work_item_key = item.work_item_key"
        " and child.project_key = item.project_key and not child.is_deleted))",
    )
    assert heavy == 0
    asana_parents_weighed = scalar(
        world_marts,
        "select count(*) from marts.fct_work_items as item"
        " inner join staging.stg_asana__tasks as task"
        " on item.source_system = 'asana' and item.source_id = task.task_gid"
        " where task.subtask_count > 0 and item.weight > 0",
    )
    assert asana_parents_weighed == 0
    assert scalar(world_marts, "select min(weight) from marts.fct_work_items") == 0


def test_asana_subtasks_land_in_their_top_level_tasks_project(served: Served, world_marts: psycopg.Connection) -> None:
    project_of = {}
    tasks = {task["gid"]: task for task in served.asana.tasks}
    for gid, task in tasks.items():
        ancestor = task
        while not ancestor["memberships"]:
            ancestor = tasks[ancestor["parent"]["gid"]]
        project_of[gid] = ancestor["memberships"][0]["project"]["gid"]
    in_marts = dict(
        world_marts.execute(
            "select source_id, source_project_id from intermediate.int_work_items_unioned where source_system = 'asana'"
        ).fetchall()
    )
    assert in_marts == project_of
    assert sum(1 for task in served.asana.tasks if not task["memberships"]) == served.asana.counts()["subtasks"]


def test_jira_items_start_at_their_first_move_into_progress(world: World, world_marts: psycopg.Connection) -> None:
    in_progress = {"In Progress", "In Review"}
    expected = {
        issue.key
        for issue in world.jira.issues
        if any(
            item["field"] == "status" and item["toString"] in in_progress
            for history in issue.changelog
            for item in history["items"]
        )
    }
    started = {
        key
        for (key,) in world_marts.execute(
            "select source_key from marts.fct_work_items where source_system = 'jira' and started_at is not null"
        ).fetchall()
    }
    assert started == expected
    negative_cycles = scalar(world_marts, "select count(*) from marts.fct_work_items where cycle_time_days < 0")
    assert negative_cycles == 0


def test_every_jira_status_change_is_recorded(world: World, world_marts: psycopg.Connection) -> None:
    changes = sum(
        1
        for issue in world.jira.issues
        for history in issue.changelog
        for item in history["items"]
        if item["field"] == "status"
    )
    assert scalar(world_marts, "select count(*) from marts.fct_status_changes") == changes
    uncategorised = scalar(
        world_marts, "select count(*) from marts.fct_status_changes where from_category is null or to_category is null"
    )
    assert uncategorised == 0
    assert scalar(world_marts, "select min(hours_in_from_status) from marts.fct_status_changes") >= 0


# -- time and cost ---------------------------------------------------------------------------------


def test_logged_hours_match_what_each_tool_served(
    world: World, served: Served, world_marts: psycopg.Connection
) -> None:
    asana_hours = sum(
        (cents(Decimal(entry["duration_minutes"]) / 60) for entry in served.asana.time_entries), Decimal(0)
    )
    assert by_tool(world_marts, "select source_system, sum(hours) from marts.fct_time_entries group by 1") == {
        "jira": summarize(world).jira_worklog_hours,
        "asana": asana_hours,
    }
    assert by_tool(world_marts, "select source_system, count(*) from marts.fct_time_entries group by 1") == {
        "jira": len(world.jira.worklogs),
        "asana": len(served.asana.time_entries),
    }
    by_date = world_marts.execute(
        "select entry_date, sum(hours) from marts.fct_time_entries where source_system = 'jira'"
        " group by entry_date order by entry_date"
    ).fetchall()
    assert dict(by_date) == worklog_hours_by_local_date(world.jira)
    by_project = world_marts.execute(
        "select project.source_project_key, sum(entry.hours)"
        " from marts.fct_time_entries as entry"
        " inner join marts.dim_project as project on entry.project_key = project.project_key"
        " where entry.source_system = 'jira'"
        " group by project.source_project_key"
    ).fetchall()
    assert dict(by_project) == worklog_hours_by_project(world.jira)
    logged = scalar(world_marts, "select sum(logged_hours) from marts.fct_work_items where source_system = 'jira'")
    assert logged == summarize(world).jira_worklog_hours
    orphaned = scalar(world_marts, "select coalesce(sum(hours), 0) from marts.dq_orphaned_time_entries")
    assert orphaned == 0


def expected_costs(world: World, served: Served) -> dict[tuple[str, str], Decimal | None]:
    """Each time entry's cost computed from the world: hours at the rate card row in force on its date,
    else the project's default rate from the register (none for a project the register lacks).
    Keyed by (tool, entry id)."""
    card: dict[str, list] = defaultdict(list)
    for row in world.rate_card:
        card[row.email].append(row)
    projects = {(project.tool, project.source_project_key): project for project in world.projects}

    def rate(email: str | None, day: date, tool: str, project_key: str) -> Decimal | None:
        rows = sorted(
            (row for row in card.get(email or "", []) if row.effective_from <= day), key=lambda r: r.effective_from
        )
        if rows:
            return rows[-1].hourly_rate
        project = projects.get((tool, project_key))
        return project.default_hourly_rate if project and project.in_register else None

    costs: dict[tuple[str, str], Decimal | None] = {}
    project_of_issue = {issue.id: issue.project_key for issue in world.jira.issues}
    for worklog in world.jira.worklogs:
        author = world.person_by_jira_account(worklog.payload["author"]["accountId"])
        email = author.email if author and author.jira_email_visible else None
        day = date.fromisoformat(worklog.payload["started"][:10])
        hours = cents(Decimal(worklog.payload["timeSpentSeconds"]) / 3600)
        hourly = rate(email, day, "jira", project_of_issue[worklog.issue_id])
        costs[("jira", worklog.id)] = None if hourly is None else cents(hours * hourly)
    emails = {user["gid"]: user["email"] for user in served.asana.users}
    for entry in served.asana.time_entries:
        day = date.fromisoformat(entry["entered_on"])
        hours = cents(Decimal(entry["duration_minutes"]) / 60)
        hourly = rate(emails.get(entry["created_by"]["gid"]), day, "asana", entry["attributable_to"]["gid"])
        costs[("asana", entry["gid"])] = None if hourly is None else cents(hours * hourly)
    return costs


def test_time_is_costed_at_the_rate_in_force_else_the_projects_default(
    world: World, served: Served, world_marts: psycopg.Connection
) -> None:
    expected = expected_costs(world, served)
    actual = {
        (tool, source_id): cost
        for tool, source_id, cost in world_marts.execute(
            "select source_system, source_id, cost from marts.fct_time_entries"
        ).fetchall()
    }
    assert actual == expected
    totals = by_tool(world_marts, "select source_system, sum(cost) from marts.fct_time_entries group by 1")
    for tool in ("jira", "asana"):
        assert totals[tool] == sum(cost for (entry_tool, _), cost in expected.items() if entry_tool == tool and cost)


def test_costs_of_a_few_people(world: World, served: Served, world_marts: psycopg.Connection) -> None:
    """Three people by hand: one whose rate changed mid-year, one not on the rate card, and one whose
    Jira email is hidden (tool-scoped, so costed at the project's default rate even if on the card)."""
    worklogs_by_author: dict[str, list] = defaultdict(list)
    for worklog in world.jira.worklogs:
        worklogs_by_author[worklog.payload["author"]["accountId"]].append(worklog)
    card_emails = Counter(row.email for row in world.rate_card)
    loggers = [person for person in world.people if worklogs_by_author.get(person.jira_account_id or "")]
    rate_changed = next(p for p in loggers if card_emails[p.email] == 2 and p.jira_email_visible)
    off_card = next(p for p in loggers if not p.on_rate_card and p.jira_email_visible)
    hidden = next(p for p in loggers if not p.jira_email_visible)
    expected = expected_costs(world, served)
    for person, person_key in (
        (rate_changed, md5(rate_changed.email)),
        (off_card, md5(off_card.email)),
        (hidden, md5(f"jira:{hidden.jira_account_id}")),
    ):
        ids = [worklog.id for worklog in worklogs_by_author[person.jira_account_id]]
        want = sum((expected[("jira", worklog_id)] or Decimal(0)) for worklog_id in ids)
        got = scalar(
            world_marts,
            "select sum(cost) from marts.fct_time_entries where source_system = 'jira' and person_key = %s",
            person_key,
        )
        assert got == want, person.display_name
    rates = sorted(row.hourly_rate for row in world.rate_card if row.email == rate_changed.email)
    used = {
        row[0]
        for row in world_marts.execute(
            "select distinct hourly_rate from marts.fct_time_entries"
            " where person_key = %s and rate_source = 'rate_card'",
            (md5(rate_changed.email),),
        ).fetchall()
    }
    assert used <= set(rates) and used


# -- projects and people ---------------------------------------------------------------------------


def test_dim_project_is_the_register_and_the_unmapped_source_projects(
    world: World, served: Served, world_marts: psycopg.Connection
) -> None:
    register = {row["project_code"]: row for row in world.register_rows()}
    unmapped = {f"jira:{key}" for key in summarize(world).unregistered_jira_projects} | {
        f"asana:{served.asana.unregistered_project_gid}"
    }
    projects = {
        code: (is_mapped, program, portfolio, budget, stage, start, finish, forecast, rate)
        for code, is_mapped, program, portfolio, budget, stage, start, finish, forecast, rate in world_marts.execute(
            "select project.project_code, project.is_mapped, program.program_code, portfolio.portfolio_code,"
            " project.approved_budget, project.stage, project.baseline_start, project.baseline_finish,"
            " project.forecast_finish, project.default_hourly_rate"
            " from marts.dim_project as project"
            " inner join marts.dim_program as program on project.program_key = program.program_key"
            " inner join marts.dim_portfolio as portfolio on project.portfolio_key = portfolio.portfolio_key"
        ).fetchall()
    }
    assert set(projects) == set(register) | unmapped
    for code, row in register.items():
        assert projects[code] == (
            True,
            row["program_code"],
            row["portfolio_code"],
            row["approved_budget"],
            row["stage"],
            row["baseline_start"],
            row["baseline_finish"],
            row["forecast_finish"],
            row["default_hourly_rate"],
        ), code
    for code in unmapped:
        assert projects[code][:4] == (False, "UNASSIGNED", "UNASSIGNED", None)
    reported = {
        f"{tool}:{key}"
        for tool, key in world_marts.execute(
            "select source_system, source_project_key from marts.dq_unmapped_projects"
        ).fetchall()
    }
    assert reported == unmapped
    assert scalar(world_marts, "select count(*) from marts.dim_portfolio") == len(world.portfolios) + 1
    assert scalar(world_marts, "select count(*) from marts.dim_program") == len(world.programs) + 1


def test_work_lands_in_its_register_project(world: World, world_marts: psycopg.Connection) -> None:
    by_project = dict(
        world_marts.execute(
            "select project.project_code, count(*) from marts.fct_work_items as item"
            " inner join marts.dim_project as project on item.project_key = project.project_key"
            " where item.source_system = 'jira' group by 1"
        ).fetchall()
    )
    codes = {p.source_project_key: p.project_code for p in world.projects if p.tool == "jira" and p.in_register}
    expected = Counter(codes.get(issue.project_key, f"jira:{issue.project_key}") for issue in world.jira.issues)
    assert by_project == dict(expected)


def test_a_person_in_jira_and_asana_is_one_person(world: World, world_marts: psycopg.Connection) -> None:
    both = [p for p in world.people if p.jira_account_id and p.jira_email_visible and p.asana_gid]
    assert both
    for person in both:
        keys = world_marts.execute(
            "select distinct person_key from intermediate.int_tool_accounts_resolved"
            " where (source_system = 'jira' and account_id = %s) or (source_system = 'asana' and account_id = %s)",
            (person.jira_account_id, person.asana_gid),
        ).fetchall()
        assert keys == [(md5(person.email),)], person.display_name
        assert scalar(world_marts, "select count(*) from marts.dim_person where email = %s", person.email) == 1


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


def test_dim_person_carries_the_rate_card_in_force(world: World, world_marts: psycopg.Connection) -> None:
    in_force = {}
    for row in sorted(world.rate_card, key=lambda r: r.effective_from):
        if row.effective_from <= ANCHOR_DATE:
            in_force[row.email] = (row.role, row.hourly_rate, row.weekly_capacity_hours)
    people = {
        email: (role, rate, capacity)
        for email, role, rate, capacity in world_marts.execute(
            "select email, role, hourly_rate, weekly_capacity_hours from marts.dim_person where role is not null"
        ).fetchall()
    }
    assert people == in_force
    # Sponsors use no tool but the register names them: they are people too.
    sponsors = {row["sponsor"] for row in world.register_rows()}
    emails = {row[0] for row in world_marts.execute("select email from marts.dim_person").fetchall()}
    assert sponsors <= emails


# -- milestones ------------------------------------------------------------------------------------


def test_milestones_of_every_tool_start_on_their_baseline(
    world: World, served: Served, world_marts: psycopg.Connection
) -> None:
    assert by_tool(world_marts, "select source_system, count(*) from marts.fct_milestones group by 1") == {
        "jira": summarize(world).issues_by_type["Milestone"],
        "asana": served.asana.counts()["milestones"],
        "smartsheet": summarize_account(served.smartsheet).plan_milestones,
    }
    moved = scalar(
        world_marts, "select count(*) from marts.fct_milestones where baseline_date is distinct from due_date"
    )
    assert moved == 0  # the first run: baselines are today's due dates
    inconsistent = scalar(
        world_marts,
        "select count(*) from marts.fct_milestones where"
        f" (milestone_status = 'overdue' and (completed_at is not null or due_date >= '{ANCHOR_DATE}'))"
        f" or (milestone_status = 'upcoming' and (completed_at is not null or due_date < '{ANCHOR_DATE}'))"
        " or (milestone_status = 'hit' and (completed_at at time zone 'UTC')::date > due_date)"
        " or (milestone_status = 'missed' and (completed_at at time zone 'UTC')::date <= due_date)"
        " or (milestone_status = 'upcoming') != (slip_days is null)",
    )
    assert inconsistent == 0


# -- earned value ----------------------------------------------------------------------------------
# Computed from what the tools hold and the register, by the contract's definitions; the marts must agree.

STATUS_DATE = ANCHOR_DATE - timedelta(days=5)
EV_PROGRAM = "PGM-04"
EV_PORTFOLIO = "PF-01"
RATIO_PLACES = Decimal("0.000001")
EARNED_VALUE_COLUMNS = ("bac", "pv", "ev", "ac", "spi", "cpi")


@dataclass(frozen=True)
class PlannedItem:
    """A work item as earned value sees it: the days it appeared and was done, and its estimate."""

    created_on: date
    done_on: date | None
    estimate_hours: Decimal | None
    is_weightless: bool  # a parent of items in its project, a summary row or a milestone


@dataclass(frozen=True)
class EarnedValue:
    bac: Decimal
    pv: Decimal
    ev: Decimal
    ac: Decimal

    @property
    def spi(self) -> Decimal | None:
        return ratio(self.ev, self.pv)

    @property
    def cpi(self) -> Decimal | None:
        return ratio(self.ev, self.ac)

    def published(self) -> dict[str, Decimal | None]:
        """The figures as the marts publish them: money in cents, indices to six decimals."""
        return dict(zip(EARNED_VALUE_COLUMNS, (self.bac, self.pv, self.ev, self.ac, self.spi, self.cpi), strict=True))


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return None if denominator == 0 else (numerator / denominator).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def summed(figures: list[EarnedValue]) -> EarnedValue:
    """A roll-up: the sums of bac, pv, ev and ac, from which its indices follow."""
    return EarnedValue(
        bac=sum((figure.bac for figure in figures), Decimal(0)),
        pv=sum((figure.pv for figure in figures), Decimal(0)),
        ev=sum((figure.ev for figure in figures), Decimal(0)),
        ac=sum((figure.ac for figure in figures), Decimal(0)),
    )


def utc_day(text: str, parse: Callable[[str], datetime]) -> date:
    return parse(text).astimezone(UTC).date()


def jira_items(world: World, project_key: str) -> list[PlannedItem]:
    done_statuses = {status["id"] for status in world.jira.statuses if status["statusCategory"]["key"] == "done"}
    issues = [issue for issue in world.jira.issues if issue.project_key == project_key]
    parents = {issue.payload["fields"]["parent"]["id"] for issue in issues if issue.payload["fields"].get("parent")}
    items = []
    for issue in issues:
        fields = issue.payload["fields"]
        done_on = None
        if fields["status"]["statusCategory"]["key"] == "done":
            moves_into_done = [
                history["created"]
                for history in issue.changelog
                for change in history["items"]
                if change["field"] == "status" and change["to"] in done_statuses and change["from"] not in done_statuses
            ]
            done_on = utc_day(fields["resolutiondate"] or moves_into_done[-1], parse_jira_timestamp)
        seconds = fields["timeoriginalestimate"]
        items.append(
            PlannedItem(
                created_on=utc_day(fields["created"], parse_jira_timestamp),
                done_on=done_on,
                estimate_hours=None if seconds is None else cents(Decimal(seconds) / 3600),
                is_weightless=issue.id in parents or fields["issuetype"]["name"] == "Milestone",
            )
        )
    return items


def asana_project_of_tasks(workspace: AsanaWorkspace) -> dict[str, str]:
    """Task gid -> the gid of the project of its top-level ancestor (subtasks have no memberships)."""
    tasks = {task["gid"]: task for task in workspace.tasks}
    project_of = {}
    for gid, task in tasks.items():
        ancestor = task
        while not ancestor["memberships"]:
            ancestor = tasks[ancestor["parent"]["gid"]]
        project_of[gid] = ancestor["memberships"][0]["project"]["gid"]
    return project_of


def asana_items(workspace: AsanaWorkspace, project_gid: str) -> list[PlannedItem]:
    project_of = asana_project_of_tasks(workspace)
    tasks = [task for task in workspace.tasks if project_of[task["gid"]] == project_gid]
    parents = {task["parent"]["gid"] for task in tasks if task["parent"]}
    items = []
    for task in tasks:
        estimate = next(
            (field["number_value"] for field in task["custom_fields"] if field["name"] == ESTIMATE_FIELD_NAME), None
        )
        items.append(
            PlannedItem(
                created_on=utc_day(task["created_at"], parse_asana_timestamp),
                done_on=utc_day(task["completed_at"], parse_asana_timestamp) if task["completed"] else None,
                estimate_hours=None if estimate is None else cents(Decimal(str(estimate))),
                is_weightless=task["gid"] in parents or task["resource_subtype"] == "milestone",
            )
        )
    return items


def smartsheet_items(account: SmartsheetAccount, sheet_id: str) -> list[PlannedItem]:
    sheet = account.sheet(int(sheet_id))
    parents = {row.get("parentId") for row in sheet.rows}
    items = []
    for row in sheet.rows:
        values = sheet.values(row)
        is_done = values["% Complete"] == 1 or values["Status"] == "Complete"
        estimate = values["Estimate Hours"]
        items.append(
            PlannedItem(
                created_on=utc_day(row["createdAt"], parse_smartsheet_timestamp),
                done_on=date.fromisoformat(values["Finish"]) if is_done else None,
                estimate_hours=None if estimate is None else cents(Decimal(str(estimate))),
                is_weightless=row["id"] in parents or values["Milestone"] is True,
            )
        )
    return items


def weights(items: list[PlannedItem]) -> list[Decimal]:
    """Leaves weigh their estimate, else the mean of the project's estimated leaves, else 1."""
    estimates = [item.estimate_hours for item in items if not item.is_weightless and item.estimate_hours is not None]
    unestimated = cents(sum(estimates, Decimal(0)) / len(estimates)) if estimates else Decimal(1)
    return [
        Decimal(0) if item.is_weightless else unestimated if item.estimate_hours is None else item.estimate_hours
        for item in items
    ]


def pct_complete(items: list[PlannedItem], day: date) -> Decimal:
    created = done = Decimal(0)
    for item, weight in zip(items, weights(items), strict=True):
        if item.created_on <= day:
            created += weight
            if item.done_on is not None and item.done_on <= day:
                done += weight
    return done / created if created else Decimal(0)


def pct_planned(project: Project, day: date) -> Decimal:
    elapsed = Decimal((day - project.baseline_start).days) / (project.baseline_finish - project.baseline_start).days
    return min(max(elapsed, Decimal(0)), Decimal(1))


def time_entry_costs(world: World, workspace: AsanaWorkspace) -> dict[tuple[str, str], list[tuple[date, Decimal]]]:
    """(tool, source project key) -> (entry date, cost) of each time entry in a register project: its hours
    at the rate card row in force on its date, else at the project's default rate."""
    rate_card: dict[str, list] = defaultdict(list)
    for row in sorted(world.rate_card, key=lambda row: row.effective_from):
        rate_card[row.email].append(row)
    default_rates = {
        (project.tool, project.source_project_key): project.default_hourly_rate for project in world.register_projects()
    }

    def rate(email: str | None, day: date, project: tuple[str, str]) -> Decimal:
        in_force = [row for row in rate_card.get(email or "", []) if row.effective_from <= day]
        return in_force[-1].hourly_rate if in_force else default_rates[project]

    entries: dict[tuple[str, str], list[tuple[date, Decimal]]] = defaultdict(list)
    project_of_issue = {issue.id: issue.project_key for issue in world.jira.issues}
    for worklog in world.jira.worklogs:
        project = ("jira", project_of_issue[worklog.issue_id])
        if project in default_rates:
            day = date.fromisoformat(worklog.payload["started"][:10])  # the local date, in the offset written
            hours = cents(Decimal(worklog.payload["timeSpentSeconds"]) / 3600)
            email = worklog.payload["author"].get("emailAddress")
            entries[project].append((day, cents(hours * rate(email, day, project))))
    emails = {user["gid"]: user["email"] for user in workspace.users}
    project_of_task = asana_project_of_tasks(workspace)
    for entry in workspace.time_entries:
        project = ("asana", project_of_task[entry["task"]["gid"]])
        if project in default_rates:
            day = date.fromisoformat(entry["entered_on"])
            hours = cents(Decimal(entry["duration_minutes"]) / 60)
            email = emails.get(entry["created_by"]["gid"])
            entries[project].append((day, cents(hours * rate(email, day, project))))
    return entries


def earned_value_by_project(world: World, served: Served, day: date) -> dict[str, EarnedValue]:
    """Each register project's figures on `day`, keyed by project code."""
    costs = time_entry_costs(world, served.asana)
    figures = {}
    for project in world.register_projects():
        key = project.source_project_key
        if project.tool == "jira":
            items = jira_items(world, key)
        elif project.tool == "asana":
            items = asana_items(served.asana, key)
        else:
            items = smartsheet_items(served.smartsheet, key)
        bac = project.approved_budget
        figures[project.project_code] = EarnedValue(
            bac=bac,
            pv=cents(bac * pct_planned(project, day)),
            ev=cents(bac * pct_complete(items, day)),
            ac=sum((cost for entry_day, cost in costs[(project.tool, key)] if entry_day <= day), Decimal(0)),
        )
    return figures


@pytest.fixture(scope="module")
def earned_value(world: World, served: Served) -> dict[str, EarnedValue]:
    return earned_value_by_project(world, served, STATUS_DATE)


def published_earned_value(
    connection: psycopg.Connection, table: str, code_column: str, dimension: str, key: str
) -> dict[str, dict[str, Decimal | None]]:
    """The status date's rows of a daily mart, keyed by the code in its dimension."""
    figures = ", ".join(f"daily.{column}" for column in EARNED_VALUE_COLUMNS)
    rows = connection.execute(
        f"select dimension.{code_column}, {figures}"
        f" from marts.{table} as daily inner join marts.{dimension} as dimension on daily.{key} = dimension.{key}"
        " where daily.date_day = %s",
        (STATUS_DATE,),
    ).fetchall()
    return {code: dict(zip(EARNED_VALUE_COLUMNS, values, strict=True)) for code, *values in rows}


def test_earned_value_of_every_register_project_on_a_status_date(
    earned_value: dict[str, EarnedValue], world_marts: psycopg.Connection
) -> None:
    published = published_earned_value(world_marts, "fct_project_daily", "project_code", "dim_project", "project_key")
    for code, figures in earned_value.items():
        assert published.get(code) == figures.published(), code


def test_a_programs_earned_value_sums_its_projects_then_divides(
    world: World, served: Served, earned_value: dict[str, EarnedValue], world_marts: psycopg.Connection
) -> None:
    projects = [project for project in world.register_projects() if project.program_code == EV_PROGRAM]
    # The program has work in each tool, and work after the status date changes its figures.
    assert {project.tool for project in projects} == {"jira", "asana", "smartsheet"}
    expected = summed([earned_value[project.project_code] for project in projects])
    on_anchor_date = earned_value_by_project(world, served, ANCHOR_DATE)
    later = summed([on_anchor_date[project.project_code] for project in projects])
    assert expected.ev != later.ev and expected.ac < later.ac
    published = published_earned_value(world_marts, "fct_program_daily", "program_code", "dim_program", "program_key")
    assert published[EV_PROGRAM] == expected.published()


def test_a_portfolios_earned_value_sums_its_projects_then_divides(
    world: World, earned_value: dict[str, EarnedValue], world_marts: psycopg.Connection
) -> None:
    portfolio_of_program = {program.code: program.portfolio_code for program in world.programs}
    expected = summed(
        [
            earned_value[project.project_code]
            for project in world.register_projects()
            if portfolio_of_program[project.program_code] == EV_PORTFOLIO
        ]
    )
    published = published_earned_value(
        world_marts, "fct_portfolio_daily", "portfolio_code", "dim_portfolio", "portfolio_key"
    )
    assert published[EV_PORTFOLIO] == expected.published()


# -- data quality ----------------------------------------------------------------------------------


def test_source_freshness_has_a_fresh_row_per_stream_extracted(served: Served, world_marts: psycopg.Connection) -> None:
    freshness = {
        (tool, stream): (rows_last_run, is_stale)
        for tool, stream, rows_last_run, is_stale in world_marts.execute(
            "select source_system, stream, rows_last_run, is_stale from marts.dq_source_freshness"
        ).fetchall()
    }
    expected = {
        (tool, result["stream"]): (result["records"], False)
        for tool, results in served.extracts.items()
        for result in results
    }
    assert freshness == expected
