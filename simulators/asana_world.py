"""The Asana workspace of a generated PMO world, in the JSON shapes Asana's REST API 1.0 returns.

`build_asana_data(world)` turns the world's Asana projects into one workspace: its users (the
people holding an Asana account; Asana always shows their email), one team per PMO portfolio,
portfolios nested like the PMO (a portfolio per PMO portfolio holding a portfolio per program,
which holds that program's projects), the projects themselves plus one project that no register
row points at, and in each project its sections, custom field settings ("Estimated hours", a
number, and "Priority", an enum), tasks with subtasks and milestones, time tracking entries on
leaf tasks, and status updates.

Payloads hold every field a simulator may be asked for; the simulator trims them to `opt_fields`.
Everything is drawn from `random.Random`s seeded from the world's seed (one for the workspace,
one for each task's time entries), so the same world always gives the same workspace, and nothing
is created or modified at or after the anchor date's 00:00 UTC. Asana gids are numeric strings;
the ones made here are allocated in one increasing sequence above the range the world uses for
people and projects, so they never collide. Time entries are the exception: an entry's gid is its
task's times `ENTRIES_PER_TASK` plus its place among the task's entries, above that sequence. A
world built a day later (the demo's anchor is today) moves its dates by a day, and so its entries'
days; each task draws the same entries, under the same gids, so the day's run changes them
instead of deleting them and adding new ones.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from simulators.world import Person, Project, World

GID_START = 1_211_000_000_000_000
# Time entries' gids are their task's times this, plus their place among the task's entries.
ENTRIES_PER_TASK = 8
ESTIMATE_FIELD_NAME = "Estimated hours"
PRIORITY_FIELD_NAME = "Priority"
PRIORITY_OPTIONS = (("High", "red"), ("Medium", "yellow-orange"), ("Low", "blue"))
SECTION_NAMES = ("Backlog", "To do", "In progress", "Done")
MILESTONE_SECTION_NAME = "Milestones"
WORKSPACE_NAME = "PMO Example"
INTEGRATION_USER_NAME = "PMO Warehouse Integration"
INTEGRATION_USER_EMAIL = "pmo-integration@pmo.example"
UNREGISTERED_PROJECT_NAME = "Team Offsite Planning"
PERMALINK_BASE = "https://app.asana.com/0"

TASK_VERBS = (
    "Draft",
    "Review",
    "Prepare",
    "Update",
    "Build",
    "Test",
    "Publish",
    "Plan",
    "Migrate",
    "Configure",
    "Train",
    "Document",
    "Validate",
    "Schedule",
)
TASK_OBJECTS = (
    "requirements",
    "vendor shortlist",
    "rollout plan",
    "training material",
    "test cases",
    "budget forecast",
    "risk register",
    "stakeholder map",
    "data mapping",
    "cut-over checklist",
    "release notes",
    "user guide",
    "integration tests",
    "access requests",
    "communication plan",
    "acceptance criteria",
    "process map",
    "change request",
)
MILESTONE_NAMES = ("Kick-off complete", "Design approved", "Pilot live", "Go-live", "Project closure")
OFFSITE_OBJECTS = ("venue", "agenda", "catering", "travel bookings", "workshop materials", "budget", "invitations")
PROJECT_COLORS = ("dark-blue", "dark-green", "dark-orange", "dark-purple", "dark-teal", "light-red", "dark-brown")
STATUS_TEXTS = {
    "on_track": "Work is progressing to plan.",
    "at_risk": "Some deliverables are slipping; mitigation in progress.",
    "off_track": "Key milestones will be missed without intervention.",
    "on_hold": "Work is paused pending a decision.",
    "complete": "All deliverables handed over; the project is closed.",
    "dropped": "The project has been stopped.",
}


def asana_timestamp(instant: datetime) -> str:
    """An aware instant as Asana writes it: UTC, milliseconds, `Z` (`2012-02-22T02:06:58.147Z`)."""
    utc = instant.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def parse_asana_timestamp(text: str) -> datetime:
    """An ISO 8601 instant (Asana's `...Z` form or any offset) as an aware UTC datetime."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _millis(instant: datetime) -> datetime:
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


@dataclass(eq=False)
class AsanaWorkspace:
    """One Asana workspace's data in REST 1.0 JSON shapes (full records; callers trim to `opt_fields`).

    `project_task_gids` lists, per project, the tasks that are members of it (what `/tasks?project=`
    returns: never subtasks); subtasks are reached through their `parent`. `portfolio_items` lists
    the gids of each portfolio's items (projects or nested portfolios) in order.
    """

    workspace: dict
    integration_user: dict
    users: list[dict]
    teams: list[dict]
    custom_fields: list[dict]
    portfolios: list[dict]
    portfolio_items: dict[str, list[str]]
    projects: list[dict]
    sections: dict[str, list[dict]]
    custom_field_settings: dict[str, list[dict]]
    tasks: list[dict]
    project_task_gids: dict[str, list[str]]
    time_entries: list[dict]
    status_updates: list[dict]
    unregistered_project_gid: str
    project_without_estimates_gid: str | None

    def task(self, gid: str) -> dict:
        for task in self.tasks:
            if task["gid"] == gid:
                return task
        raise KeyError(gid)

    def subtasks_of(self, gid: str) -> list[dict]:
        return [task for task in self.tasks if (task.get("parent") or {}).get("gid") == gid]

    def counts(self) -> dict[str, int]:
        """Headline counts, for tests and for what a demo prints."""
        subtypes = Counter(task["resource_subtype"] for task in self.tasks)
        return {
            "users": len(self.users),
            "teams": len(self.teams),
            "portfolios": len(self.portfolios),
            "portfolio_items": sum(len(items) for items in self.portfolio_items.values()),
            "projects": len(self.projects),
            "sections": sum(len(sections) for sections in self.sections.values()),
            "custom_field_settings": sum(len(settings) for settings in self.custom_field_settings.values()),
            "tasks": len(self.tasks),
            "top_level_tasks": sum(1 for task in self.tasks if task["parent"] is None),
            "subtasks": sum(1 for task in self.tasks if task["parent"] is not None),
            "parent_tasks": sum(1 for task in self.tasks if task["num_subtasks"] > 0),
            "milestones": subtypes["milestone"],
            "completed_tasks": sum(1 for task in self.tasks if task["completed"]),
            "time_entries": len(self.time_entries),
            "time_entry_minutes": sum(entry["duration_minutes"] for entry in self.time_entries),
            "status_updates": len(self.status_updates),
        }


def build_asana_data(world: World) -> AsanaWorkspace:
    """The Asana workspace of `world`; the same world always gives an identical workspace."""
    return _AsanaBuilder(world).build()


@dataclass(eq=False)
class _ProjectSpec:
    """An Asana project while it is being generated."""

    gid: str
    name: str
    stage: str
    team: list[Person]
    owner: Person
    portfolio_code: str | None
    program_code: str | None
    start: datetime
    end: datetime
    task_count: int
    baseline_start: date | None
    baseline_finish: date | None
    has_estimates: bool = True
    payload: dict = field(default_factory=dict)
    sections: dict[str, dict] = field(default_factory=dict)


@dataclass(eq=False)
class _TaskDraft:
    """A task before gids and payloads exist."""

    spec: _ProjectSpec
    created: datetime
    name: str
    subtype: str = "default_task"
    parent: _TaskDraft | None = None
    assignee: Person | None = None
    completed_at: datetime | None = None
    due_on: date | None = None
    start_on: date | None = None
    estimate: float | None = None
    priority: int | None = None
    touched: datetime | None = None
    section: str = "To do"
    children: list[_TaskDraft] = field(default_factory=list)
    gid: str = ""

    @property
    def modified(self) -> datetime:
        return max(moment for moment in (self.created, self.completed_at, self.touched) if moment is not None)


class _AsanaBuilder:
    def __init__(self, world: World) -> None:
        self.world = world
        self.rng = random.Random(f"{world.config.seed}:asana")
        self.anchor = world.anchor_instant
        self.latest = self.anchor - timedelta(minutes=1)
        self.last_gid = GID_START
        self.people_by_email = {person.email: person for person in world.people}
        self.asana_people = [person for person in world.people if person.asana_gid]
        self.zones: dict[str, ZoneInfo] = {}
        self.project_created: dict[str, datetime] = {}
        self.team_by_portfolio: dict[str, dict] = {}

    # -- helpers -----------------------------------------------------------------------------------

    def gid(self) -> str:
        self.last_gid += self.rng.randint(1, 4096)
        return str(self.last_gid)

    def zone(self, name: str) -> ZoneInfo:
        if name not in self.zones:
            self.zones[name] = ZoneInfo(name)
        return self.zones[name]

    def instant_between(self, start: datetime, end: datetime, rng: random.Random | None = None) -> datetime:
        span = (end - start) // timedelta(milliseconds=1)
        if span <= 0:
            return _millis(start)
        return _millis(start + timedelta(milliseconds=(rng or self.rng).randrange(span)))

    def compact(self, record: dict) -> dict:
        return {"gid": record["gid"], "resource_type": record["resource_type"], "name": record["name"]}

    def user_ref(self, person: Person) -> dict:
        return {"gid": person.asana_gid, "resource_type": "user", "name": person.display_name}

    def permalink(self, *parts: str) -> str:
        return "/".join((PERMALINK_BASE, *parts))

    # -- build ---------------------------------------------------------------------------------------

    def build(self) -> AsanaWorkspace:
        workspace = {
            "gid": self.gid(),
            "resource_type": "workspace",
            "name": WORKSPACE_NAME,
            "is_organization": True,
            "email_domains": ["pmo.example"],
        }
        self.workspace_ref = {"gid": workspace["gid"], "resource_type": "workspace", "name": workspace["name"]}
        integration_user = {
            "gid": self.gid(),
            "resource_type": "user",
            "name": INTEGRATION_USER_NAME,
            "email": INTEGRATION_USER_EMAIL,
            "photo": None,
            "workspaces": [dict(self.workspace_ref)],
        }
        self.integration_ref = self.compact(integration_user)
        users = sorted(
            (
                {
                    "gid": person.asana_gid,
                    "resource_type": "user",
                    "name": person.display_name,
                    "email": person.email,
                    "photo": None,
                    "workspaces": [dict(self.workspace_ref)],
                }
                for person in self.asana_people
            ),
            key=lambda user: int(user["gid"]),
        )
        teams = self.build_teams()
        estimate_field, priority_field = self.build_custom_fields()
        specs = self.project_specs()
        drafts_by_project = {spec.gid: self.project_tasks(spec) for spec in specs}
        all_drafts = sorted(
            (draft for drafts in drafts_by_project.values() for draft in drafts),
            key=lambda draft: (draft.created, draft.spec.gid, draft.name),
        )
        status_updates = self.build_status_updates(specs)
        for spec in specs:
            self.build_project(spec, teams, [u for u in status_updates if u["parent"]["gid"] == spec.gid])
        sections = {spec.gid: self.build_sections(spec) for spec in specs}
        settings = {spec.gid: self.build_field_settings(spec, estimate_field, priority_field) for spec in specs}
        for draft in all_drafts:
            draft.gid = self.gid()
        tasks = [self.task_payload(draft, estimate_field, priority_field) for draft in all_drafts]
        # portfolios before time entries: the entries' count moves with the anchor date, and the gids
        # allocated after them would move with it
        portfolios, portfolio_items = self.build_portfolios(specs)
        time_entries = self.build_time_entries(all_drafts)
        project_task_gids = {
            spec.gid: [draft.gid for draft in all_drafts if draft.spec is spec and draft.parent is None]
            for spec in specs
        }
        without_estimates = [spec.gid for spec in specs if not spec.has_estimates]
        return AsanaWorkspace(
            workspace=workspace,
            integration_user=integration_user,
            users=users,
            teams=teams,
            custom_fields=[estimate_field, priority_field],
            portfolios=portfolios,
            portfolio_items=portfolio_items,
            projects=sorted((spec.payload for spec in specs), key=lambda project: int(project["gid"])),
            sections=sections,
            custom_field_settings=settings,
            tasks=tasks,
            project_task_gids=project_task_gids,
            time_entries=time_entries,
            status_updates=status_updates,
            unregistered_project_gid=specs[-1].gid,
            project_without_estimates_gid=without_estimates[0] if without_estimates else None,
        )

    def build_teams(self) -> list[dict]:
        teams = []
        for portfolio in self.world.portfolios:
            team = {
                "gid": self.gid(),
                "resource_type": "team",
                "name": portfolio.name,
                "description": f"Delivery team of the {portfolio.name} portfolio.",
                "organization": dict(self.workspace_ref),
                "permalink_url": "",
                "visibility": "request_to_join",
            }
            team["permalink_url"] = self.permalink("teams", team["gid"])
            self.team_by_portfolio[portfolio.code] = team
            teams.append(team)
        return teams

    def build_custom_fields(self) -> tuple[dict, dict]:
        estimate = {
            "gid": self.gid(),
            "resource_type": "custom_field",
            "name": ESTIMATE_FIELD_NAME,
            "resource_subtype": "number",
            "type": "number",
            "precision": 1,
            "description": "Effort estimate of the task in hours.",
            "enabled": True,
            "is_global_to_workspace": False,
            "has_notifications_enabled": False,
            "created_by": dict(self.integration_ref),
        }
        priority = {
            "gid": self.gid(),
            "resource_type": "custom_field",
            "name": PRIORITY_FIELD_NAME,
            "resource_subtype": "enum",
            "type": "enum",
            "description": "Delivery priority.",
            "enabled": True,
            "is_global_to_workspace": False,
            "has_notifications_enabled": False,
            "created_by": dict(self.integration_ref),
            "enum_options": [
                {"gid": self.gid(), "resource_type": "enum_option", "name": name, "color": color, "enabled": True}
                for name, color in PRIORITY_OPTIONS
            ],
        }
        return estimate, priority

    # -- projects --------------------------------------------------------------------------------

    def window(self, project: Project) -> tuple[datetime, datetime]:
        start = datetime.combine(project.activity_start, time(8), tzinfo=UTC)
        end = min(datetime.combine(project.activity_end, time(0), tzinfo=UTC), self.latest)
        if end - start < timedelta(days=3):
            start = end - timedelta(days=self.rng.randint(5, 12), hours=self.rng.randint(0, 8))
        return start, end

    def task_count(self, stage: str) -> int:
        if stage == "idea":
            return self.rng.randint(12, 24)
        if stage == "approved":
            return self.rng.randint(35, 60)
        return self.rng.randint(100, 200)

    def project_specs(self) -> list[_ProjectSpec]:
        programs = {program.code: program for program in self.world.programs}
        specs = []
        for project in self.world.projects:
            if project.tool != "asana":
                continue
            team = [self.people_by_email[email] for email in project.team_emails]
            team = [person for person in team if person.asana_gid]
            manager = self.people_by_email[project.project_manager]
            start, end = self.window(project)
            program = programs[project.program_code]
            specs.append(
                _ProjectSpec(
                    gid=project.source_project_key,
                    name=project.name,
                    stage=project.stage if project.in_register else "active",
                    team=team,
                    owner=manager if manager.asana_gid else team[0],
                    portfolio_code=program.portfolio_code if project.in_register else None,
                    program_code=program.code if project.in_register else None,
                    start=start,
                    end=end,
                    task_count=self.task_count(project.stage),
                    baseline_start=project.baseline_start,
                    baseline_finish=project.baseline_finish,
                )
            )
        candidates = [spec for spec in specs if spec.stage == "active"]
        if candidates:
            self.rng.choice(candidates).has_estimates = False

        delivery = [person for person in self.asana_people if person.role not in ("Executive Sponsor",)]
        team = self.rng.sample(delivery, min(len(delivery), 5))
        end = self.latest - timedelta(days=self.rng.randint(1, 5))
        specs.append(
            _ProjectSpec(
                gid=self.gid(),
                name=UNREGISTERED_PROJECT_NAME,
                stage="active",
                team=team,
                owner=team[0],
                portfolio_code=None,
                program_code=None,
                start=end - timedelta(days=self.rng.randint(60, 120)),
                end=end,
                task_count=self.rng.randint(40, 70),
                baseline_start=None,
                baseline_finish=None,
            )
        )
        return specs

    def build_project(self, spec: _ProjectSpec, teams: list[dict], updates: list[dict]) -> None:
        created = self.instant_between(spec.start - timedelta(days=10), spec.start - timedelta(hours=1))
        modified = max([created] + [parse_asana_timestamp(update["modified_at"]) for update in updates])
        team = self.team_by_portfolio[spec.portfolio_code] if spec.portfolio_code else teams[0]
        closed = spec.stage == "closed"
        latest_update = updates[-1] if updates else None
        spec.payload = {
            "gid": spec.gid,
            "resource_type": "project",
            "name": spec.name,
            "archived": closed,
            "color": self.rng.choice(PROJECT_COLORS),
            "completed": closed,
            "completed_at": asana_timestamp(spec.end) if closed else None,
            "created_at": asana_timestamp(created),
            "modified_at": asana_timestamp(modified),
            "current_status_update": (
                {
                    "gid": latest_update["gid"],
                    "resource_type": "status_update",
                    "title": latest_update["title"],
                    "resource_subtype": "project_status_update",
                }
                if latest_update
                else None
            ),
            "default_view": "list",
            "start_on": spec.baseline_start.isoformat() if spec.baseline_start else None,
            "due_on": spec.baseline_finish.isoformat() if spec.baseline_finish else None,
            "notes": "" if spec.program_code is None else f"{spec.name}: delivery plan and tracking.",
            "owner": self.user_ref(spec.owner),
            "team": self.compact(team),
            "workspace": dict(self.workspace_ref),
            "members": [self.user_ref(person) for person in [spec.owner, *spec.team] if person.asana_gid],
            "permalink_url": self.permalink(spec.gid),
            "privacy_setting": "public_to_workspace",
            "public": True,
        }
        self.project_created[spec.gid] = created

    def build_sections(self, spec: _ProjectSpec) -> list[dict]:
        created = self.project_created[spec.gid]
        sections = []
        for offset, name in enumerate((*SECTION_NAMES, MILESTONE_SECTION_NAME)):
            section = {
                "gid": self.gid(),
                "resource_type": "section",
                "name": name,
                "created_at": asana_timestamp(created + timedelta(seconds=offset + 1)),
                "project": self.compact(spec.payload),
                "projects": [self.compact(spec.payload)],
            }
            spec.sections[name] = section
            sections.append(section)
        return sections

    def build_field_settings(self, spec: _ProjectSpec, estimate: dict, priority: dict) -> list[dict]:
        fields = [estimate, priority] if spec.has_estimates else [priority]
        return [
            {
                "gid": self.gid(),
                "resource_type": "custom_field_setting",
                "is_important": custom_field is estimate,
                "project": self.compact(spec.payload),
                "parent": self.compact(spec.payload),
                "custom_field": custom_field,
            }
            for custom_field in fields
        ]

    def build_status_updates(self, specs: list[_ProjectSpec]) -> list[dict]:
        rng = self.rng
        drafts = []
        for spec in specs:
            if spec.stage == "idea":
                continue
            moments = []
            moment = spec.start + timedelta(days=rng.randint(5, 12))
            while moment < spec.end:
                moments.append(moment)
                moment += timedelta(days=rng.choice((7, 14, 14, 14, 21)))
            for index, moment in enumerate(moments[-8:]):
                last = index == len(moments[-8:]) - 1
                if last and spec.stage == "closed":
                    status = "complete"
                elif last and spec.stage == "on_hold":
                    status = "on_hold"
                else:
                    status = rng.choices(("on_track", "at_risk", "off_track"), weights=(6, 3, 1))[0]
                created = self.instant_between(moment.replace(hour=14), moment.replace(hour=18))
                created = min(created, self.latest)
                modified = min(created + timedelta(minutes=rng.choice((0, 0, 0, 5, 40))), self.latest)
                drafts.append((created, spec, status, modified))
        drafts.sort(key=lambda entry: (entry[0], entry[1].gid))
        updates = []
        for created, spec, status, modified in drafts:
            author = self.user_ref(spec.owner)
            updates.append(
                {
                    "gid": self.gid(),
                    "resource_type": "status_update",
                    "resource_subtype": "project_status_update",
                    "title": f"Status update - {created:%b %d}",
                    "text": STATUS_TEXTS[status],
                    "status_type": status,
                    "author": author,
                    "created_by": dict(author),
                    "created_at": asana_timestamp(created),
                    "modified_at": asana_timestamp(modified),
                    "parent": {"gid": spec.gid, "resource_type": "project", "name": spec.name},
                }
            )
        return updates

    def build_portfolios(self, specs: list[_ProjectSpec]) -> tuple[list[dict], dict[str, list[str]]]:
        owner = dict(self.integration_ref)
        created = self.instant_between(self.latest - timedelta(days=700), self.latest - timedelta(days=600))
        portfolios: list[dict] = []
        items: dict[str, list[str]] = {}

        def portfolio(name: str) -> dict:
            record = {
                "gid": self.gid(),
                "resource_type": "portfolio",
                "name": name,
                "color": self.rng.choice(PROJECT_COLORS),
                "created_at": asana_timestamp(created + timedelta(minutes=len(portfolios))),
                "created_by": dict(owner),
                "owner": dict(owner),
                "workspace": dict(self.workspace_ref),
                "members": [dict(owner)],
                "start_on": None,
                "due_on": None,
                "current_status_update": None,
                "permalink_url": "",
                "public": True,
            }
            record["permalink_url"] = self.permalink("portfolio", record["gid"], "list")
            portfolios.append(record)
            return record

        for pmo_portfolio in self.world.portfolios:
            top = portfolio(pmo_portfolio.name)
            items[top["gid"]] = []
            for program in self.world.programs:
                if program.portfolio_code != pmo_portfolio.code:
                    continue
                nested = portfolio(program.name)
                items[top["gid"]].append(nested["gid"])
                items[nested["gid"]] = [spec.gid for spec in specs if spec.program_code == program.code]
        return portfolios, items

    # -- tasks -------------------------------------------------------------------------------------

    def task_name(self, spec: _ProjectSpec) -> str:
        if spec.program_code is None:
            return f"{self.rng.choice(TASK_VERBS)} {self.rng.choice(OFFSITE_OBJECTS)}"
        return f"{self.rng.choice(TASK_VERBS)} {self.rng.choice(TASK_OBJECTS)}"

    def completion_chance(self, spec: _ProjectSpec, created: datetime) -> float:
        age_days = (spec.end - created).total_seconds() / 86400
        if spec.stage == "closed":
            return 0.95
        if spec.stage == "idea":
            return 0.05
        chance = min(0.88, max(0.05, age_days / 80))
        return chance * (0.7 if spec.stage == "on_hold" else 1.0)

    def plan_leaf(self, draft: _TaskDraft) -> None:
        rng = self.rng
        spec = draft.spec
        if rng.random() < 0.85:
            draft.assignee = rng.choice(spec.team)
        if rng.random() < self.completion_chance(spec, draft.created):
            earliest = draft.created + timedelta(hours=2)
            if earliest < spec.end:
                latest = min(spec.end, draft.created + timedelta(days=rng.choice((3, 10, 25, 45))))
                draft.completed_at = self.instant_between(earliest, latest)
        if rng.random() < 0.7:
            draft.due_on = (draft.created + timedelta(days=rng.randint(3, 40))).date()
            if rng.random() < 0.35:
                draft.start_on = max(draft.created.date(), draft.due_on - timedelta(days=rng.randint(1, 10)))
        if spec.has_estimates:
            roll = rng.random()
            if roll < 0.04:
                draft.estimate = 0
            elif roll < 0.74:
                draft.estimate = rng.choice((0.5, 1, 2, 2, 3, 4, 4, 6, 8, 8, 12, 16, 24, 1.5, 2.5, 40))
        draft.priority = rng.choice((0, 1, 1, 2, 2)) if rng.random() < 0.6 else None
        last_event = draft.completed_at or draft.created
        if rng.random() < 0.3 and last_event < spec.end:
            draft.touched = self.instant_between(last_event, spec.end)
        if draft.completed_at:
            draft.section = "Done" if rng.random() < 0.85 else rng.choice(("In progress", "To do"))
        else:
            draft.section = rng.choice(("Backlog", "To do", "To do", "In progress"))

    def project_tasks(self, spec: _ProjectSpec) -> list[_TaskDraft]:
        rng = self.rng
        last_created = max(spec.start, spec.end - timedelta(hours=3))
        milestone_count = 0 if spec.stage == "idea" else rng.randint(2, 4)
        remaining = spec.task_count - milestone_count
        subtask_count = round(remaining * 0.2)
        top_count = remaining - subtask_count

        milestones = self.milestones(spec, milestone_count)
        top = []
        for _ in range(top_count):
            draft = _TaskDraft(spec, self.instant_between(spec.start, last_created), self.task_name(spec))
            self.plan_leaf(draft)
            top.append(draft)
        top.sort(key=lambda draft: draft.created)
        eligible = [draft for draft in top if draft.created < last_created - timedelta(days=1)] or top
        parents = rng.sample(eligible, min(len(eligible), max(1, subtask_count // 3)))
        subtasks: list[_TaskDraft] = []
        for index in range(subtask_count):
            parent = parents[index % len(parents)]
            family = [draft for draft in subtasks if draft.parent is parent]
            if family and rng.random() < 0.15:
                parent = rng.choice(family)
            created = min(parent.created + timedelta(hours=rng.uniform(1, 120)), last_created)
            created = _millis(max(created, parent.created + timedelta(seconds=1)))
            draft = _TaskDraft(spec, created, f"{rng.choice(TASK_VERBS)} part of {parent.name.lower()}", parent=parent)
            self.plan_leaf(draft)
            if parent.due_on and draft.due_on and draft.due_on > parent.due_on:
                draft.due_on = parent.due_on
                draft.start_on = None
            parent.children.append(draft)
            subtasks.append(draft)
        for parent in sorted({id(d.parent): d.parent for d in subtasks if d.parent}.values(), key=_depth, reverse=True):
            self.settle_parent(parent)
        return milestones + top + subtasks

    def settle_parent(self, parent: _TaskDraft) -> None:
        """A parent is done only once all its subtasks are; some parents carry an estimate of their own."""
        rng = self.rng
        child_done = [child.completed_at for child in parent.children]
        if all(child_done) and rng.random() < 0.85:
            finished = max(done for done in child_done if done is not None)
            parent.completed_at = min(self.instant_between(finished, finished + timedelta(days=2)), parent.spec.end)
            parent.section = "Done"
        else:
            parent.completed_at = None
            if parent.section == "Done":
                parent.section = "In progress"
        if parent.spec.has_estimates and rng.random() < 0.4:
            parent.estimate = rng.choice((8, 16, 24, 40))
        elif parent.estimate is not None and rng.random() < 0.6:
            parent.estimate = None

    def milestones(self, spec: _ProjectSpec, count: int) -> list[_TaskDraft]:
        rng = self.rng
        drafts = []
        first = spec.baseline_start or spec.start.date()
        last = spec.baseline_finish or (spec.end + timedelta(days=60)).date()
        span = max((last - first).days, 1)
        for index in range(count):
            created = self.instant_between(spec.start, min(spec.start + timedelta(days=3), spec.end))
            name = MILESTONE_NAMES[index] if index < count - 1 else "Go-live"
            draft = _TaskDraft(spec, created, name, subtype="milestone", section=MILESTONE_SECTION_NAME)
            draft.due_on = first + timedelta(days=round(span * (index + 1) / count))
            draft.assignee = spec.owner
            due_instant = datetime.combine(draft.due_on, time(17), tzinfo=UTC)
            if (due_instant < spec.end and rng.random() < 0.75) or spec.stage == "closed":
                target = due_instant + timedelta(days=rng.randint(-6, 12), hours=rng.uniform(-8, 0))
                if not created + timedelta(hours=1) <= target <= spec.end:
                    target = self.instant_between(created + timedelta(hours=1), spec.end)
                draft.completed_at = _millis(min(max(target, created), spec.end))
            if spec.has_estimates and rng.random() < 0.3:
                draft.estimate = 0
            if rng.random() < 0.2 and (draft.completed_at or created) < spec.end:
                draft.touched = self.instant_between(draft.completed_at or created, spec.end)
            drafts.append(draft)
        return drafts

    def task_payload(self, draft: _TaskDraft, estimate_field: dict, priority_field: dict) -> dict:
        spec = draft.spec
        custom_fields = []
        if spec.has_estimates:
            value = draft.estimate
            custom_fields.append(
                {
                    "gid": estimate_field["gid"],
                    "resource_type": "custom_field",
                    "name": estimate_field["name"],
                    "resource_subtype": "number",
                    "type": "number",
                    "enabled": True,
                    "precision": estimate_field["precision"],
                    "number_value": value,
                    "display_value": None if value is None else f"{value:.1f}",
                }
            )
        option = None if draft.priority is None else priority_field["enum_options"][draft.priority]
        custom_fields.append(
            {
                "gid": priority_field["gid"],
                "resource_type": "custom_field",
                "name": priority_field["name"],
                "resource_subtype": "enum",
                "type": "enum",
                "enabled": True,
                "enum_value": dict(option) if option else None,
                "display_value": option["name"] if option else None,
            }
        )
        top_level = draft.parent is None
        project = self.compact(spec.payload)
        section = spec.sections[draft.section]
        return {
            "gid": draft.gid,
            "resource_type": "task",
            "resource_subtype": draft.subtype,
            "name": draft.name,
            "notes": "",
            "completed": draft.completed_at is not None,
            "completed_at": asana_timestamp(draft.completed_at) if draft.completed_at else None,
            "created_at": asana_timestamp(draft.created),
            "modified_at": asana_timestamp(draft.modified),
            "due_on": draft.due_on.isoformat() if draft.due_on else None,
            "due_at": None,
            "start_on": draft.start_on.isoformat() if draft.start_on else None,
            "assignee": self.user_ref(draft.assignee) if draft.assignee else None,
            "parent": (
                {
                    "gid": draft.parent.gid,
                    "resource_type": "task",
                    "name": draft.parent.name,
                    "resource_subtype": draft.parent.subtype,
                }
                if draft.parent
                else None
            ),
            "memberships": (
                [
                    {
                        "project": project,
                        "section": {"gid": section["gid"], "resource_type": "section", "name": section["name"]},
                    }
                ]
                if top_level
                else []
            ),
            "projects": [dict(project)] if top_level else [],
            "custom_fields": custom_fields,
            "num_subtasks": len(draft.children),
            "workspace": dict(self.workspace_ref),
            "permalink_url": self.permalink(spec.gid, draft.gid),
            "tags": [],
        }

    # -- time tracking -------------------------------------------------------------------------------

    def build_time_entries(self, drafts: list[_TaskDraft]) -> list[dict]:
        last_day = self.anchor.date() - timedelta(days=1)
        planned = []
        for draft in drafts:
            if draft.subtype == "milestone" or draft.children or draft.spec.stage == "idea":
                continue
            # each task's entries drawn apart, so that a world built a day later draws the same ones
            rng = random.Random(f"{self.world.config.seed}:asana:time-entries:{draft.gid}")
            work_end = draft.completed_at or draft.spec.end
            if work_end <= draft.created:
                continue
            if draft.estimate:
                count = max(1, min(6, round(draft.estimate / rng.choice((2, 3, 4)))))
            else:
                count = rng.choice((0, 0, 1, 1, 2, 3))
            if draft.completed_at is None and rng.random() < 0.4:
                count = 0
            for ordinal in range(count):
                person = draft.assignee or rng.choice(draft.spec.team)
                if rng.random() < 0.15:
                    person = rng.choice(draft.spec.team)
                zone = self.zone(person.time_zone)
                local = self.instant_between(draft.created, work_end, rng).astimezone(zone)
                day = local.date()
                if day.weekday() >= 5 and rng.random() < 0.85:
                    day -= timedelta(days=day.weekday() - 4)
                day = max(min(day, last_day), draft.created.astimezone(zone).date())
                if day > last_day:
                    continue
                minutes = 15 * rng.choices((1, 2, 4, 6, 8, 12, 16, 24, 32), weights=(4, 8, 14, 12, 14, 10, 8, 4, 2))[0]
                logged = datetime.combine(day, time(17), tzinfo=zone) + timedelta(minutes=rng.randint(0, 180))
                logged = logged.astimezone(UTC) + timedelta(days=rng.choice((0, 0, 0, 0, 1, 3)))
                created = min(max(logged, draft.created + timedelta(minutes=1)), self.latest)
                planned.append((_millis(created), draft, ordinal, person, day, minutes))
        planned.sort(key=lambda entry: (entry[0], entry[1].gid, entry[2]))
        entries = []
        for created, draft, ordinal, person, day, minutes in planned:
            entries.append(
                {
                    "gid": time_entry_gid(draft.gid, ordinal),
                    "resource_type": "time_tracking_entry",
                    "duration_minutes": minutes,
                    "entered_on": day.isoformat(),
                    "created_at": asana_timestamp(created),
                    "created_by": self.user_ref(person),
                    "attributable_to": self.compact(draft.spec.payload),
                    "task": {
                        "gid": draft.gid,
                        "resource_type": "task",
                        "name": draft.name,
                        "resource_subtype": draft.subtype,
                    },
                    "approval_status": "DRAFT",
                    "billable_status": "notApplicable",
                    "description": "",
                }
            )
        return entries


def time_entry_gid(task_gid: str, ordinal: int) -> str:
    """A time entry's gid from its task's and its place among the task's entries (at most
    `ENTRIES_PER_TASK`), so that an entry keeps its gid when the anchor date moves; above every gid
    of the increasing sequence."""
    if not 0 <= ordinal < ENTRIES_PER_TASK:
        raise ValueError(f"a task has at most {ENTRIES_PER_TASK} time entries here, not {ordinal + 1}")
    return str(int(task_gid) * ENTRIES_PER_TASK + ordinal)


def _depth(draft: _TaskDraft) -> int:
    depth = 0
    while draft.parent is not None:
        depth += 1
        draft = draft.parent
    return depth
