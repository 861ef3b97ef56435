"""A deterministic PMO world shared by every tool simulator.

`build_world` turns a seed, an anchor date ("today" in the world) and a scale into one consistent
organisation: people, the portfolio > program > project hierarchy, the PMO's portfolio register and
rate card, and the Jira site those projects live in. The Jira entities are stored in the JSON shape
Jira Cloud's REST API v3 returns, so a simulator can serve them as they are; beside each payload the
generator keeps the UTC instants a simulator needs for filtering.

Everything is drawn from `random.Random` instances seeded from the config (one per section, so that
adding a section later leaves the others unchanged). Nothing reads the wall clock except the default
anchor date, and nothing in the world is created or updated at or after the anchor date's 00:00 UTC.
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CENT = Decimal("0.01")
SECONDS_PER_HOUR = 3600


def _today_utc() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class WorldConfig:
    """What a world is built from: the same config always gives the same world."""

    seed: int = 20261129
    anchor_date: date = field(default_factory=_today_utc)
    scale: str = "demo"


@dataclass(frozen=True)
class ScaleProfile:
    """How many of each entity a scale holds."""

    people: int
    portfolios: int
    programs: int
    jira_projects: int
    unregistered_jira_projects: int
    asana_projects: int
    smartsheet_projects: int
    jira_issues: int
    jira_worklogs: int
    deleted_jira_worklogs: int
    long_changelog_issues: int
    # (low, high) review loops of every issue that goes through review; None: one loop for a fifth of them
    review_loops: tuple[int, int] | None = None
    # the Jira site is generated project by project into an on-disk store instead of memory
    streamed_jira: bool = False


SCALES: dict[str, ScaleProfile] = {
    "demo": ScaleProfile(
        people=60,
        portfolios=3,
        programs=8,
        jira_projects=24,
        unregistered_jira_projects=2,
        asana_projects=10,
        smartsheet_projects=6,
        jira_issues=3000,
        jira_worklogs=8000,
        deleted_jira_worklogs=40,
        long_changelog_issues=6,
    ),
    # Ten times the demo's Jira site, for benchmarks; it builds in seconds and is held in memory.
    "large": ScaleProfile(
        people=400,
        portfolios=6,
        programs=30,
        jira_projects=200,
        unregistered_jira_projects=8,
        asana_projects=40,
        smartsheet_projects=24,
        jira_issues=30000,
        jira_worklogs=80000,
        deleted_jira_worklogs=400,
        long_changelog_issues=30,
    ),
    # An enterprise: 2,050 projects, about 500,000 work items, 2,000,000 time entries and 3,000,000
    # status changes. The Jira site is written project by project to a store on disk
    # (`simulators.jira_stored`) and served from there; see that module.
    "enterprise": ScaleProfile(
        people=3000,
        portfolios=12,
        programs=160,
        jira_projects=1600,
        unregistered_jira_projects=40,
        asana_projects=300,
        smartsheet_projects=150,
        jira_issues=460_000,
        jira_worklogs=1_960_000,
        deleted_jira_worklogs=9_800,
        long_changelog_issues=40,
        review_loops=(2, 7),
        streamed_jira=True,
    ),
}


@dataclass(frozen=True)
class JiraIdBases:
    """Where a Jira builder starts numbering each kind of id (a site built in parts gives each part its own)."""

    project: int = 10000
    board: int = 1
    sprint: int = 1
    issue: int = 10000
    worklog: int = 20000
    history: int = 100000


# --------------------------------------------------------------------------------------------------
# World entities
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Someone in the organisation, with the accounts they hold in each tool."""

    person_id: str
    email: str
    display_name: str
    time_zone: str
    role: str
    hourly_rate: Decimal
    weekly_capacity_hours: Decimal
    jira_account_id: str | None
    jira_email_visible: bool
    jira_active: bool
    asana_gid: str | None
    on_rate_card: bool


@dataclass(frozen=True)
class Portfolio:
    code: str
    name: str


@dataclass(frozen=True)
class Program:
    code: str
    name: str
    portfolio_code: str


@dataclass(frozen=True)
class Project:
    """A project with its register columns and where its work lives.

    `activity_start`/`activity_end` bound the days on which the tool holding the project sees work
    (`activity_end` is the anchor date for projects still running). `team_emails` are the people
    who work in it.
    """

    project_code: str
    name: str
    program_code: str
    tool: str
    source_project_key: str
    project_manager: str
    sponsor: str
    strategic_theme: str
    stage: str
    priority: str
    approved_budget: Decimal
    currency: str
    baseline_start: date
    baseline_finish: date
    forecast_finish: date | None
    expected_benefit: Decimal
    alignment_score: int
    default_hourly_rate: Decimal
    in_register: bool
    activity_start: date
    activity_end: date
    team_emails: tuple[str, ...]


@dataclass(frozen=True)
class RateCardRow:
    email: str
    role: str
    hourly_rate: Decimal
    weekly_capacity_hours: Decimal
    effective_from: date


@dataclass(slots=True, eq=False)
class JiraIssue:
    """One Jira issue: its REST payload (`id`, `key`, `fields`; no `self`) and its full changelog.

    `changelog` holds the issue's histories oldest first, as `GET /issue/{key}/changelog` returns them.
    """

    id: str
    key: str
    project_key: str
    created_at: datetime
    updated_at: datetime
    payload: dict
    changelog: list[dict]


@dataclass(slots=True, eq=False)
class JiraWorklog:
    """One live worklog: its REST payload (no `self`) and the UTC instant of its `updated`."""

    id: str
    issue_id: str
    updated_at: datetime
    payload: dict


@dataclass(slots=True, frozen=True)
class JiraDeletedWorklog:
    worklog_id: str
    deleted_at: datetime


@dataclass(eq=False)
class JiraSite:
    """A Jira Cloud site's data, in REST v3 JSON shapes."""

    projects: list[dict]
    issue_types: list[dict]
    statuses: list[dict]
    status_categories: list[dict]
    priorities: list[dict]
    resolutions: list[dict]
    fields: list[dict]
    users: list[dict]
    boards: list[dict]
    sprints: list[dict]
    issues: list[JiraIssue]
    worklogs: list[JiraWorklog]
    deleted_worklogs: list[JiraDeletedWorklog]

    def issue(self, id_or_key: str) -> JiraIssue:
        for issue in self.issues:
            if id_or_key in (issue.id, issue.key):
                return issue
        raise KeyError(id_or_key)


@dataclass(eq=False)
class World:
    """The whole organisation at the anchor date."""

    config: WorldConfig
    profile: ScaleProfile
    anchor_instant: datetime
    people: list[Person]
    portfolios: list[Portfolio]
    programs: list[Program]
    projects: list[Project]
    rate_card: list[RateCardRow]
    jira: JiraSite

    def person_by_email(self, email: str) -> Person:
        for person in self.people:
            if person.email == email:
                return person
        raise KeyError(email)

    def person_by_jira_account(self, account_id: str) -> Person | None:
        for person in self.people:
            if person.jira_account_id == account_id:
                return person
        return None

    def register_projects(self) -> list[Project]:
        return [project for project in self.projects if project.in_register]

    def register_rows(self) -> list[dict[str, object]]:
        """The portfolio register, one dict per row keyed by the register's column names."""
        programs = {program.code: program for program in self.programs}
        portfolios = {portfolio.code: portfolio for portfolio in self.portfolios}
        rows = []
        for project in self.register_projects():
            program = programs[project.program_code]
            portfolio = portfolios[program.portfolio_code]
            rows.append(
                {
                    "project_code": project.project_code,
                    "project_name": project.name,
                    "program_code": program.code,
                    "program_name": program.name,
                    "portfolio_code": portfolio.code,
                    "portfolio_name": portfolio.name,
                    "source_system": project.tool,
                    "source_project_key": project.source_project_key,
                    "project_manager": project.project_manager,
                    "sponsor": project.sponsor,
                    "strategic_theme": project.strategic_theme,
                    "stage": project.stage,
                    "priority": project.priority,
                    "approved_budget": project.approved_budget,
                    "currency": project.currency,
                    "baseline_start": project.baseline_start,
                    "baseline_finish": project.baseline_finish,
                    "forecast_finish": project.forecast_finish,
                    "expected_benefit": project.expected_benefit,
                    "alignment_score": project.alignment_score,
                    "default_hourly_rate": project.default_hourly_rate,
                }
            )
        return rows


# --------------------------------------------------------------------------------------------------
# Jira formats
# --------------------------------------------------------------------------------------------------


def jira_timestamp(instant: datetime, zone: tzinfo = UTC) -> str:
    """Format an aware instant as Jira does: `2021-01-18T23:45:00.000+0000` (in `zone`'s offset)."""
    local = instant.astimezone(zone)
    offset_minutes = int(local.utcoffset().total_seconds()) // 60  # type: ignore[union-attr]
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d}T{local.hour:02d}:{local.minute:02d}:{local.second:02d}"
        f".{local.microsecond // 1000:03d}{sign}{hours:02d}{minutes:02d}"
    )


def parse_jira_timestamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def truncate_to_millis(instant: datetime) -> datetime:
    """Jira keeps instants to the millisecond."""
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


def epoch_millis(instant: datetime) -> int:
    return (instant - EPOCH) // timedelta(milliseconds=1)


def format_jira_duration(seconds: int) -> str:
    """Jira's duration text with its default 8-hour day and 5-day week: `1w 2d 3h 15m`."""
    if seconds <= 0:
        return "0m"
    minutes_total = seconds // 60
    parts = []
    for unit, size in (("w", 5 * 8 * 60), ("d", 8 * 60), ("h", 60), ("m", 1)):
        count, minutes_total = divmod(minutes_total, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0m"


def adf_text(text: str) -> dict:
    """A one-paragraph Atlassian Document Format document."""
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


# --------------------------------------------------------------------------------------------------
# Static catalogues
# --------------------------------------------------------------------------------------------------

# fmt: off
FIRST_NAMES = (
    "Mia", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Zoë", "Mateo", "Priya", "Arjun", "Hannah", "Jonas",
    "Chloe", "Ethan", "Sofia", "Leon", "Aiko", "Kenji", "Amara", "Diego", "Isla", "Oscar", "Freya", "Rahul",
    "Ananya", "Felix", "Grace", "Hugo", "Ines", "Jack", "Keira", "Luca", "Maya", "Nikhil", "Ruby", "Samuel",
    "Tara", "Umar", "Vera", "William", "Xin", "Yara", "Zane", "José", "Renée", "Søren", "Émilie", "Mei",
)
LAST_NAMES = (
    "Krystof", "Nguyen", "Schmidt", "Patel", "Garcia", "Müller", "Smith", "Kowalski", "Okafor", "Tanaka",
    "Rossi", "Fischer", "Sharma", "Brown", "Lefèvre", "Johansson", "Iyer", "Wilson", "Novak", "Costa",
    "Becker", "Reddy", "Taylor", "Dubois", "Hansen", "Kim", "Martin", "Weber", "Singh", "O'Brien", "Larsen",
    "Moreau", "Chen", "Walker", "Hoffmann", "Menon", "Clarke", "Nakamura", "Silva", "Young",
)
TIME_ZONES = (
    ("Australia/Sydney", 20),
    ("America/Los_Angeles", 14),
    ("Europe/Berlin", 20),
    ("Asia/Kolkata", 16),
    ("UTC", 10),
    ("Europe/London", 10),
    ("America/New_York", 10),
)
DELIVERY_ROLES = (
    ("Developer", Decimal("95"), 30),
    ("Senior Developer", Decimal("115"), 14),
    ("QA Engineer", Decimal("80"), 10),
    ("Business Analyst", Decimal("90"), 8),
    ("Designer", Decimal("85"), 6),
    ("Architect", Decimal("140"), 4),
    ("Scrum Master", Decimal("100"), 4),
    ("Data Engineer", Decimal("105"), 8),
)
MANAGER_RATE = Decimal("120")
EXECUTIVE_RATE = Decimal("180")
CAPACITIES = ((Decimal("40"), 55), (Decimal("37.5"), 20), (Decimal("32"), 15), (Decimal("20"), 10))

PORTFOLIO_NAMES = (
    "Digital Customer Experience", "Operational Excellence", "Enterprise Platforms", "Growth & Markets",
    "Risk & Compliance",
)
PROGRAM_NAMES = (
    "Online Channels", "Customer Data", "Mobile First", "Supply Chain Automation", "Finance Transformation",
    "Cloud Migration", "Security Uplift", "Workplace Modernisation", "Partner Ecosystem", "Regulatory Change",
    "Analytics Foundations", "Service Excellence",
)
INITIATIVES = (
    "Customer Portal Rebuild", "Billing Modernisation", "Data Lake Migration", "CRM Consolidation",
    "Mobile App Redesign", "Identity Platform", "Payments Gateway", "Warehouse Automation",
    "Route Optimisation", "Demand Forecasting", "ERP Upgrade", "Expense Automation", "Cloud Landing Zone",
    "Kubernetes Platform", "Zero Trust Network", "SIEM Rollout", "Intranet Refresh", "Collaboration Suite",
    "Partner API", "Marketplace Launch", "GDPR Remediation", "Audit Trail", "Loyalty Programme",
    "Search Relaunch", "Checkout Optimisation", "Customer Chatbot", "Inventory Visibility",
    "Supplier Portal", "Treasury Dashboard", "Procurement Hub", "Observability Stack", "Disaster Recovery",
    "Endpoint Management", "Onboarding Journey", "Pricing Engine", "Field Service App", "Contract Lifecycle",
    "Data Quality Programme", "Analytics Workbench", "E-invoicing", "Customer Feedback Hub",
    "Fleet Telematics", "Digital Signatures", "Knowledge Base",
)
JIRA_KEYS = (
    "ORION", "APOLLO", "ATLAS", "HELIX", "NOVA", "PHOENIX", "TITAN", "VEGA", "LYRA", "ZEPHYR", "KESTREL",
    "MERIDIAN", "SEQUOIA", "BOREAL", "CASCADE", "DELTA", "EMBER", "FALCON", "GLACIER", "HARBOR", "IRIS",
    "JUNO", "KODIAK", "LUMEN", "MISTRAL", "NEBULA", "OPAL", "PULSAR", "QUASAR", "RAVEN",
)
THEMES = (
    "Customer Experience", "Operational Efficiency", "Regulatory Compliance", "Revenue Growth",
    "Platform Modernisation",
)
PRIORITIES = ("critical", "high", "medium", "low")
# fmt: on
STAGE_PLANS = {
    # fractions of a tool's projects in each stage; "active" takes the rest
    "jira": (("closed", 0.13), ("on_hold", 0.09), ("cancelled", 0.05), ("approved", 0.05)),
    "asana": (("closed", 0.2), ("on_hold", 0.1), ("idea", 0.1), ("approved", 0.1)),
    "smartsheet": (("closed", 0.17), ("idea", 0.17)),
}

STATUS_CATEGORIES = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}
STATUSES = {
    "To Do": ("10000", "new"),
    "In Progress": ("3", "indeterminate"),
    "In Review": ("10001", "indeterminate"),
    "Done": ("10002", "done"),
    "Won't Do": ("10003", "done"),
}
DONE_STATUSES = frozenset(name for name, (_, category) in STATUSES.items() if category == "done")
RESOLUTIONS = {
    "Done": {"id": "10000", "name": "Done", "description": "Work has been completed on this issue."},
    "Won't Do": {"id": "10001", "name": "Won't Do", "description": "This issue won't be actioned."},
}
ISSUE_TYPES = {
    "Epic": {"id": "10000", "subtask": False, "hierarchyLevel": 1, "description": "A big user story."},
    "Story": {"id": "10001", "subtask": False, "hierarchyLevel": 0, "description": "A user story."},
    "Task": {"id": "10002", "subtask": False, "hierarchyLevel": 0, "description": "A small piece of work."},
    "Bug": {"id": "10003", "subtask": False, "hierarchyLevel": 0, "description": "A problem."},
    "Sub-task": {"id": "10004", "subtask": True, "hierarchyLevel": -1, "description": "Part of a task."},
    "Milestone": {"id": "10005", "subtask": False, "hierarchyLevel": 0, "description": "A checkpoint."},
}
LEAF_TYPES = ("Story", "Task", "Bug", "Sub-task")
JIRA_PRIORITIES = (("1", "Highest", 3), ("2", "High", 17), ("3", "Medium", 55), ("4", "Low", 20), ("5", "Lowest", 5))
STORY_POINTS_FIELD = "customfield_10016"
SPRINT_FIELD = "customfield_10020"
RANK_FIELD = "customfield_10019"
STORY_POINT_ESTIMATE_FIELD = "customfield_10026"
CUSTOMER_IMPACT_FIELD = "customfield_10041"
CUSTOMER_IMPACT_OPTIONS = (("10050", "None"), ("10051", "Minor"), ("10052", "Major"))
AUTOMATION_USER = {
    "accountId": "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077",
    "accountType": "app",
    "displayName": "Automation for Jira",
    "active": True,
    "timeZone": "UTC",
}

# fmt: off
SUMMARY_VERBS = (
    "Implement", "Fix", "Refactor", "Design", "Migrate", "Document", "Test", "Review", "Automate", "Upgrade",
    "Configure", "Validate",
)
SUMMARY_OBJECTS = (
    "login flow", "invoice export", "search API", "data pipeline", "user settings page", "audit logging",
    "notification service", "report builder", "payment retries", "SSO integration", "backup job",
    "dashboard filters", "address validation", "pricing rules", "mobile navigation", "access reviews",
    "release checklist", "load tests", "error handling", "CSV import",
)
BUG_SYMPTOMS = (
    "Timeout when", "Wrong totals in", "Crash on", "Duplicate rows in", "Broken layout in",
    "Slow response from",
)
EPIC_THEMES = (
    "Foundations", "Customer onboarding", "Reporting", "Integrations", "Performance", "Security hardening",
    "Go-live readiness", "Data migration", "Self-service", "Compliance",
)
MILESTONE_NAMES = ("Design sign-off", "Beta release", "User acceptance complete", "Go-live", "Hypercare exit")
LABELS = ("backend", "frontend", "infra", "customer", "tech-debt", "security", "data")
WORKLOG_COMMENTS = (
    "Implementation", "Code review", "Pairing session", "Testing", "Investigation", "Stand-up follow-up",
    "Documentation", "Deployment",
)
# fmt: on


# --------------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------------


def build_world(config: WorldConfig, *, store_root: Path | None = None) -> World:
    """Build the world a config describes; the same config always gives an identical world.

    A streamed scale's Jira site is generated into (or reused from) a store under `store_root`
    (by default `simulators.jira_stored.default_store_root()`).
    """
    try:
        profile = SCALES[config.scale]
    except KeyError:
        raise ValueError(f"unknown scale {config.scale!r}; known scales: {', '.join(SCALES)}") from None
    anchor_instant = datetime.combine(config.anchor_date, time(0), tzinfo=UTC)

    def section_rng(section: str) -> random.Random:
        return random.Random(f"{config.seed}:{section}")

    people = _build_people(section_rng("people"), profile)
    portfolios, programs = _build_hierarchy(section_rng("hierarchy"), profile)
    projects = _build_projects(section_rng("projects"), profile, programs, people, config.anchor_date)
    rate_card = _build_rate_card(section_rng("rate-card"), people, config.anchor_date)
    if profile.streamed_jira:
        from simulators.jira_stored import open_jira_store

        jira: JiraSite = open_jira_store(config, profile, anchor_instant, people, projects, root=store_root)
    else:
        jira = _JiraBuilder(section_rng("jira"), profile, anchor_instant, people, projects).build()
    return World(
        config=config,
        profile=profile,
        anchor_instant=anchor_instant,
        people=people,
        portfolios=portfolios,
        programs=programs,
        projects=projects,
        rate_card=rate_card,
        jira=jira,
    )


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O"))
    return "".join(char for char in folded if char.isascii() and char.isalpha()).lower()


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _weighted(rng: random.Random, options: Sequence[tuple[object, int]]) -> object:
    return rng.choices([option for option, _ in options], weights=[weight for _, weight in options])[0]


def _build_people(rng: random.Random, profile: ScaleProfile) -> list[Person]:
    count = profile.people
    executives = max(2, round(count * 0.07))
    managers = max(3, round(count * 0.17))
    roles: list[tuple[str, Decimal]] = [("Executive Sponsor", EXECUTIVE_RATE)] * executives
    roles += [("Project Manager", MANAGER_RATE)] * managers
    delivery = rng.choices(
        [(role, rate) for role, rate, _ in DELIVERY_ROLES],
        weights=[weight for _, _, weight in DELIVERY_ROLES],
        k=count - len(roles),
    )
    roles += delivery

    # (first, last, email suffix): names are unique while the scale leaves enough of them, then
    # namesakes are told apart by a number in their email
    names: list[tuple[str, str, str]] = [("Mia", "Krystof", "")]
    email_slugs = {("mia", "krystof")}
    unique_names = count <= len(FIRST_NAMES) * len(LAST_NAMES) // 2
    namesakes: Counter[tuple[str, str]] = Counter()
    while len(names) < count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        slug = (_ascii_slug(first), _ascii_slug(last))
        if slug not in email_slugs:
            email_slugs.add(slug)
            names.append((first, last, ""))
        elif not unique_names:
            namesakes[slug] += 1
            names.append((first, last, str(namesakes[slug] + 1)))
    rng.shuffle(names)

    # Tool presence: most people use Jira, a share also Asana; some use only one of them;
    # executives mostly use neither and appear only by email (sponsors in the register).
    indices = list(range(count))
    non_executives = indices[executives:]
    asana_only = set(rng.sample(non_executives, max(2, round(count * 0.1))))
    remaining = [i for i in non_executives if i not in asana_only]
    with_asana = asana_only | set(rng.sample(remaining, round(len(remaining) * 0.45)))
    with_jira = set(remaining) | {0}
    jira_people = sorted(with_jira)
    hidden_email = set(rng.sample(jira_people, max(2, round(len(jira_people) * 0.15))))
    inactive = set(rng.sample([i for i in jira_people if i >= executives + managers], 2))
    off_card = set(rng.sample(sorted(hidden_email - inactive), 1))
    off_card |= set(rng.sample([i for i in indices if i not in off_card and i >= executives], 3))

    people = []
    for index, ((first, last, suffix), (role, base_rate)) in enumerate(zip(names, roles, strict=True)):
        rate = (base_rate * Decimal(str(round(rng.uniform(0.9, 1.1), 3)))).quantize(Decimal("0.5")).quantize(CENT)
        time_zone = str(_weighted(rng, TIME_ZONES))
        capacity = Decimal("40") if role == "Executive Sponsor" else _weighted(rng, CAPACITIES)
        people.append(
            Person(
                person_id=f"P{index + 1:03d}",
                email=f"{_ascii_slug(first)}.{_ascii_slug(last)}{suffix}@pmo.example",
                display_name=f"{first} {last}",
                time_zone=time_zone,
                role=role,
                hourly_rate=rate,
                weekly_capacity_hours=Decimal(capacity).quantize(CENT),
                jira_account_id=f"5{rng.getrandbits(92):023x}" if index in with_jira else None,
                jira_email_visible=index not in hidden_email,
                jira_active=index not in inactive,
                asana_gid=str(rng.randrange(1_200_000_000_000_000, 1_210_000_000_000_000))
                if index in with_asana
                else None,
                on_rate_card=index not in off_card,
            )
        )
    return people


def _build_hierarchy(rng: random.Random, profile: ScaleProfile) -> tuple[list[Portfolio], list[Program]]:
    portfolios = [
        Portfolio(code=f"PF-{index + 1:02d}", name=PORTFOLIO_NAMES[index % len(PORTFOLIO_NAMES)])
        for index in range(profile.portfolios)
    ]
    program_names = list(PROGRAM_NAMES)
    rng.shuffle(program_names)
    programs = []
    for index in range(profile.programs):
        name = program_names[index % len(program_names)]
        if index >= len(program_names):
            name = f"{name} {index // len(program_names) + 1}"
        programs.append(
            Program(code=f"PGM-{index + 1:02d}", name=name, portfolio_code=portfolios[index % len(portfolios)].code)
        )
    return portfolios, programs


def _stage_list(rng: random.Random, tool: str, count: int) -> list[str]:
    stages: list[str] = []
    for stage, share in STAGE_PLANS[tool]:
        stages += [stage] * max(1 if count >= 5 else 0, round(count * share))
    stages = stages[:count]
    stages += ["active"] * (count - len(stages))
    rng.shuffle(stages)
    return stages


def _project_dates(rng: random.Random, stage: str, anchor: date) -> tuple[date, date, date | None, date, date]:
    """Baseline start/finish, forecast finish and the activity window of a project in `stage`."""

    def days(low: int, high: int) -> timedelta:
        return timedelta(days=rng.randint(low, high))

    if stage == "closed":
        start = anchor - days(330, 560)
        finish = anchor - days(20, 150)
        actual_finish = finish + days(-10, 40)
        actual_finish = min(actual_finish, anchor - timedelta(days=5))
        return start, finish, actual_finish, start - days(0, 14), actual_finish
    if stage == "cancelled":
        start = anchor - days(200, 320)
        finish = anchor + days(60, 180)
        return start, finish, None, start - days(0, 10), anchor - days(25, 70)
    if stage == "on_hold":
        start = anchor - days(150, 320)
        finish = anchor + days(40, 220)
        forecast = finish + days(30, 120) if rng.random() < 0.7 else None
        return start, finish, forecast, start - days(0, 14), anchor - days(15, 45)
    if stage == "approved":
        start = anchor + days(-10, 30)
        finish = start + days(180, 360)
        return start, finish, None, anchor - days(20, 35), anchor
    if stage == "idea":
        start = anchor + days(60, 150)
        finish = start + days(200, 400)
        return start, finish, None, anchor, anchor
    start = anchor - days(60, 420)
    finish = anchor + days(20, 320)
    forecast = finish + days(-15, 90) if rng.random() < 0.75 else None
    return start, finish, forecast, start - days(0, 14), anchor


def _build_projects(
    rng: random.Random, profile: ScaleProfile, programs: list[Program], people: list[Person], anchor: date
) -> list[Project]:
    managers = [person for person in people if person.role == "Project Manager"]
    sponsors = [person for person in people if person.role == "Executive Sponsor"]
    jira_team_pool = [p for p in people if p.jira_account_id and p.role not in ("Executive Sponsor", "Project Manager")]
    asana_team_pool = [p for p in people if p.asana_gid and p.role not in ("Executive Sponsor", "Project Manager")]
    sheet_team_pool = [p for p in people if p.role not in ("Executive Sponsor", "Project Manager")]

    tools = (
        ["jira"] * profile.jira_projects
        + ["asana"] * profile.asana_projects
        + ["smartsheet"] * profile.smartsheet_projects
    )
    rng.shuffle(tools)
    stage_queues = {
        "jira": _stage_list(rng, "jira", profile.jira_projects - profile.unregistered_jira_projects),
        "asana": _stage_list(rng, "asana", profile.asana_projects),
        "smartsheet": _stage_list(rng, "smartsheet", profile.smartsheet_projects),
    }
    jira_indices = [index for index, tool in enumerate(tools) if tool == "jira"]
    unregistered = set(rng.sample(jira_indices, profile.unregistered_jira_projects))
    jira_keys = list(JIRA_KEYS)
    rng.shuffle(jira_keys)
    initiatives = list(INITIATIVES)
    rng.shuffle(initiatives)
    program_cycle = [programs[index % len(programs)] for index in range(len(tools))]
    rng.shuffle(program_cycle)

    projects = []
    jira_count = 0
    for index, tool in enumerate(tools):
        name = initiatives[index % len(initiatives)]
        if index >= len(initiatives):
            name = f"{name} {index // len(initiatives) + 1}"
        in_register = index not in unregistered
        stage = stage_queues[tool].pop() if in_register else "active"
        baseline_start, baseline_finish, forecast, activity_start, activity_end = _project_dates(rng, stage, anchor)
        if tool == "jira":
            key = jira_keys[jira_count % len(jira_keys)]
            if jira_count >= len(jira_keys):
                key = f"{key}{jira_count // len(jira_keys) + 1}"
            jira_count += 1
            source_key = key
            pool = jira_team_pool
        elif tool == "asana":
            source_key = str(rng.randrange(1_200_000_000_000_000, 1_210_000_000_000_000))
            pool = asana_team_pool
        else:
            source_key = str(rng.randrange(1_000_000_000_000_000, 9_000_000_000_000_000))
            pool = sheet_team_pool
        manager_pool = [m for m in managers if m.jira_account_id] if tool == "jira" else managers
        manager = rng.choice(manager_pool or managers)
        team = rng.sample(pool, min(len(pool), rng.randint(4, 9)))
        team_emails = tuple([manager.email] + [member.email for member in team])
        budget = Decimal(rng.randrange(80, 2400) * 1000) + Decimal(rng.choice((0, 0, 0, 250, 500, 750)))
        projects.append(
            Project(
                project_code=f"PRJ-{index + 1:03d}",
                name=name,
                program_code=program_cycle[index].code,
                tool=tool,
                source_project_key=source_key,
                project_manager=manager.email,
                sponsor=rng.choice(sponsors).email,
                strategic_theme=rng.choice(THEMES),
                stage=stage,
                priority=str(_weighted(rng, (("critical", 1), ("high", 3), ("medium", 4), ("low", 2)))),
                approved_budget=budget.quantize(CENT),
                currency="EUR",
                baseline_start=baseline_start,
                baseline_finish=baseline_finish,
                forecast_finish=forecast,
                expected_benefit=(budget * Decimal(str(round(rng.uniform(0.6, 3.5), 2)))).quantize(CENT),
                alignment_score=rng.randint(1, 5),
                default_hourly_rate=Decimal(rng.choice((85, 90, 95, 100, 110))).quantize(CENT),
                in_register=in_register,
                activity_start=activity_start,
                activity_end=activity_end,
                team_emails=team_emails,
            )
        )
    return projects


def _build_rate_card(rng: random.Random, people: list[Person], anchor: date) -> list[RateCardRow]:
    card_people = [person for person in people if person.on_rate_card]
    first_effective = date(anchor.year - 3, 1, 1)
    rate_changes = set(rng.sample(range(len(card_people)), min(5, len(card_people))))
    rows = []
    for index, person in enumerate(card_people):
        if index in rate_changes:
            change_on = anchor - timedelta(days=rng.randint(40, 300))
            earlier_rate = (person.hourly_rate / Decimal(str(round(rng.uniform(1.03, 1.08), 3)))).quantize(CENT)
            rows.append(
                RateCardRow(person.email, person.role, earlier_rate, person.weekly_capacity_hours, first_effective)
            )
            rows.append(
                RateCardRow(person.email, person.role, person.hourly_rate, person.weekly_capacity_hours, change_on)
            )
        else:
            rows.append(
                RateCardRow(
                    person.email, person.role, person.hourly_rate, person.weekly_capacity_hours, first_effective
                )
            )
    return rows


# --------------------------------------------------------------------------------------------------
# Jira
# --------------------------------------------------------------------------------------------------


def jira_user_ref(person: Person) -> dict:
    """A user as Jira embeds it in issues, worklogs and histories (email only when visible)."""
    user = {"accountId": person.jira_account_id}
    if person.jira_email_visible:
        user["emailAddress"] = person.email
    user.update(
        {
            "displayName": person.display_name,
            "active": person.jira_active,
            "timeZone": person.time_zone,
            "accountType": "atlassian",
        }
    )
    return user


def jira_reference_data() -> dict[str, list[dict]]:
    """A site's issue types, statuses, status categories, priorities, resolutions and fields."""
    return {
        "issue_types": [
            {
                "id": spec["id"],
                "name": name,
                "description": spec["description"],
                "subtask": spec["subtask"],
                "hierarchyLevel": spec["hierarchyLevel"],
            }
            for name, spec in ISSUE_TYPES.items()
        ],
        "statuses": [
            {**_status_payload(name), "description": "", "statusCategory": dict(STATUS_CATEGORIES[category])}
            for name, (_, category) in STATUSES.items()
        ],
        "status_categories": [dict(category) for category in STATUS_CATEGORIES.values()],
        "priorities": [{"id": priority_id, "name": name} for priority_id, name, _ in JIRA_PRIORITIES],
        "resolutions": [dict(resolution) for resolution in RESOLUTIONS.values()],
        "fields": _jira_fields(),
    }


def jira_users(people: Iterable[Person]) -> list[dict]:
    """The site's users: the people with a Jira account, then the automation user."""
    users = [jira_user_ref(person) for person in people if person.jira_account_id] + [dict(AUTOMATION_USER)]
    for user in users:
        user.setdefault("locale", "en_US")
    return users


def _status_payload(name: str) -> dict:
    status_id, category = STATUSES[name]
    return {"id": status_id, "name": name, "statusCategory": dict(STATUS_CATEGORIES[category])}


def _issue_type_payload(name: str) -> dict:
    spec = ISSUE_TYPES[name]
    return {"id": spec["id"], "name": name, "subtask": spec["subtask"], "hierarchyLevel": spec["hierarchyLevel"]}


def _field(field_id: str, name: str, schema: dict, *, custom: bool = False, clause: str | None = None) -> dict:
    clause_names = [clause or field_id]
    if custom:
        clause_names = [f"cf[{field_id.removeprefix('customfield_')}]", name]
    return {
        "id": field_id,
        "key": field_id,
        "name": name,
        "custom": custom,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": clause_names,
        "schema": schema,
    }


def _jira_fields() -> list[dict]:
    def system(type_: str, name: str, items: str | None = None) -> dict:
        schema = {"type": type_, "system": name}
        if items:
            schema["items"] = items
        return schema

    def custom(type_: str, plugin: str, custom_id: int, items: str | None = None) -> dict:
        schema = {"type": type_, "custom": plugin, "customId": custom_id}
        if items:
            schema["items"] = items
        return schema

    return [
        _field("summary", "Summary", system("string", "summary")),
        _field("description", "Description", system("string", "description")),
        _field("issuetype", "Issue Type", system("issuetype", "issuetype"), clause="type"),
        _field("parent", "Parent", {"type": "issuelink", "system": "parent"}),
        _field("project", "Project", system("project", "project")),
        _field("status", "Status", system("status", "status")),
        _field("statuscategorychangedate", "Status Category Changed", system("datetime", "statuscategorychangedate")),
        _field("resolution", "Resolution", system("resolution", "resolution")),
        _field("resolutiondate", "Resolved", system("datetime", "resolutiondate"), clause="resolved"),
        _field("priority", "Priority", system("priority", "priority")),
        _field("assignee", "Assignee", system("user", "assignee")),
        _field("reporter", "Reporter", system("user", "reporter")),
        _field("creator", "Creator", system("user", "creator")),
        _field("created", "Created", system("datetime", "created")),
        _field("updated", "Updated", system("datetime", "updated")),
        _field("duedate", "Due date", system("date", "duedate"), clause="due"),
        _field("labels", "Labels", system("array", "labels", "string")),
        _field(
            "timeoriginalestimate",
            "Original estimate",
            system("number", "timeoriginalestimate"),
            clause="originalEstimate",
        ),
        _field("timeestimate", "Remaining Estimate", system("number", "timeestimate"), clause="remainingEstimate"),
        _field("timespent", "Time Spent", system("number", "timespent"), clause="timespent"),
        _field("timetracking", "Time tracking", system("timetracking", "timetracking")),
        _field("worklog", "Log Work", system("array", "worklog", "worklog")),
        _field(
            STORY_POINTS_FIELD,
            "Story Points",
            custom("number", "com.atlassian.jira.plugin.system.customfieldtypes:float", 10016),
            custom=True,
        ),
        _field(RANK_FIELD, "Rank", custom("any", "com.pyxis.greenhopper.jira:gh-lexo-rank", 10019), custom=True),
        _field(
            SPRINT_FIELD,
            "Sprint",
            custom("array", "com.pyxis.greenhopper.jira:gh-sprint", 10020, "json"),
            custom=True,
        ),
        _field(
            STORY_POINT_ESTIMATE_FIELD,
            "Story point estimate",
            custom("number", "com.pyxis.greenhopper.jira:jsw-story-points", 10026),
            custom=True,
        ),
        _field(
            CUSTOMER_IMPACT_FIELD,
            "Customer Impact",
            custom("option", "com.atlassian.jira.plugin.system.customfieldtypes:select", 10041),
            custom=True,
        ),
    ]


@dataclass(slots=True, eq=False)
class _Draft:
    """An issue while it is being generated, before ids and payloads exist."""

    project: Project
    issue_type: str
    created: datetime
    summary: str
    assignee: Person | None
    reporter: Person
    priority: tuple[str, str]
    labels: list[str]
    estimate: int | None = None
    story_points: float | None = None
    due: date | None = None
    parent: _Draft | None = None
    transitions: list[tuple[datetime, str, str, Person | None]] = field(default_factory=list)
    resolution_recorded: bool = True
    extra_histories: list[tuple[datetime, list[dict], Person | None]] = field(default_factory=list)
    sprint_ids: list[int] = field(default_factory=list)
    touched_at: datetime | None = None
    issue_id: str = ""
    key: str = ""

    @property
    def status(self) -> str:
        return self.transitions[-1][2] if self.transitions else "To Do"

    @property
    def is_done(self) -> bool:
        return self.status in DONE_STATUSES

    @property
    def resolved_at(self) -> datetime | None:
        if not self.is_done:
            return None
        resolved = None
        for at, from_status, to_status, _ in self.transitions:
            if to_status in DONE_STATUSES and from_status not in DONE_STATUSES:
                resolved = at
        return resolved or self.created

    @property
    def work_started(self) -> datetime | None:
        for at, _, to_status, _ in self.transitions:
            if to_status == "In Progress":
                return at
        return None


class _JiraBuilder:
    """Generates the Jira site for the world's Jira projects."""

    def __init__(
        self,
        rng: random.Random,
        profile: ScaleProfile,
        anchor: datetime,
        people: list[Person],
        projects: list[Project],
        ids: JiraIdBases = JiraIdBases(),
    ) -> None:
        self.rng = rng
        self.profile = profile
        self.ids = ids
        self.anchor = anchor
        self.latest = anchor - timedelta(minutes=1)
        self.people_by_email = {person.email: person for person in people}
        self.jira_people = [person for person in people if person.jira_account_id]
        self.projects = [project for project in projects if project.tool == "jira"]
        self.teams = {
            project.source_project_key: [
                self.people_by_email[email]
                for email in project.team_emails
                if self.people_by_email[email].jira_account_id
            ]
            for project in self.projects
        }
        self.zones: dict[str, ZoneInfo] = {}

    def zone(self, name: str) -> ZoneInfo:
        if name not in self.zones:
            self.zones[name] = ZoneInfo(name)
        return self.zones[name]

    # -- helpers -----------------------------------------------------------------------------------

    def instant_between(self, start: datetime, end: datetime) -> datetime:
        span = (end - start) // timedelta(milliseconds=1)
        if span <= 0:
            return start
        return start + timedelta(milliseconds=self.rng.randrange(span))

    def sorted_instants(self, start: datetime, end: datetime, count: int) -> list[datetime]:
        """`count` strictly increasing instants in (start, end]."""
        span = max((end - start) // timedelta(milliseconds=1), count + 1)
        offsets = (
            sorted(self.rng.sample(range(1, span + 1), count))
            if count <= span // 2
            else list(range(span - count + 1, span + 1))
        )
        return [start + timedelta(milliseconds=offset) for offset in offsets]

    def window(self, project: Project) -> tuple[datetime, datetime]:
        start = datetime.combine(project.activity_start, time(8), tzinfo=UTC)
        end = min(datetime.combine(project.activity_end, time(0), tzinfo=UTC), self.latest)
        return start, max(end, start + timedelta(hours=6))

    # -- build ---------------------------------------------------------------------------------------

    def build(self) -> JiraSite:
        jira_projects = self.project_payloads()
        boards, sprints = self.boards_and_sprints()
        counts = self.issue_counts()
        no_estimate_project = self.pick_no_estimate_project(counts)
        drafts: list[_Draft] = []
        for project in self.projects:
            drafts += self.project_drafts(project, counts[project.source_project_key], project is no_estimate_project)
        self.stretch_changelogs(drafts)
        self.assign_sprints(drafts, sprints)
        for draft in drafts:
            draft.created = truncate_to_millis(draft.created)
            draft.transitions = [(truncate_to_millis(at), *rest) for at, *rest in draft.transitions]
            draft.extra_histories = [(truncate_to_millis(at), *rest) for at, *rest in draft.extra_histories]
            if draft.touched_at:
                draft.touched_at = truncate_to_millis(draft.touched_at)
        drafts.sort(key=lambda draft: draft.created)
        keys_used: Counter[str] = Counter()
        for number, draft in enumerate(drafts):
            draft.issue_id = str(self.ids.issue + number)
            keys_used[draft.project.source_project_key] += 1
            draft.key = f"{draft.project.source_project_key}-{keys_used[draft.project.source_project_key]}"
        worklogs, deleted, spent_by_issue, worklog_times = self.worklogs(drafts)
        issues = self.issues(drafts, jira_projects, sprints, spent_by_issue, worklog_times)
        users = jira_users(self.jira_people)
        return JiraSite(
            projects=jira_projects,
            **jira_reference_data(),
            users=users,
            boards=boards,
            sprints=sprints,
            issues=issues,
            worklogs=worklogs,
            deleted_worklogs=deleted,
        )

    def project_payloads(self) -> list[dict]:
        payloads = []
        for index, project in enumerate(self.projects):
            lead = self.people_by_email[project.project_manager]
            if not lead.jira_account_id:
                lead = self.teams[project.source_project_key][0]
            payloads.append(
                {
                    "id": str(self.ids.project + index),
                    "key": project.source_project_key,
                    "name": project.name,
                    "projectTypeKey": "software",
                    "simplified": False,
                    "style": "classic",
                    "isPrivate": False,
                    "description": f"{project.name} ({project.project_code})" if project.in_register else "",
                    "lead": jira_user_ref(lead),
                }
            )
        return payloads

    def boards_and_sprints(self) -> tuple[list[dict], list[dict]]:
        boards, sprints = [], []
        for index, project in enumerate(self.projects):
            board_id = self.ids.board + index
            scrum = self.rng.random() < 0.65
            boards.append(
                {
                    "id": board_id,
                    "name": f"{project.source_project_key} board",
                    "type": "scrum" if scrum else "kanban",
                    "location": {"projectKey": project.source_project_key, "projectId": str(self.ids.project + index)},
                }
            )
            if not scrum:
                continue
            start, end = self.window(project)
            sprint_start = start.replace(hour=9, minute=0, second=0, microsecond=0)
            number = 1
            while sprint_start < end + timedelta(days=14):
                sprint_end = sprint_start + timedelta(days=14)
                if sprint_end <= self.anchor:
                    state = "closed"
                elif sprint_start <= self.anchor:
                    state = "active"
                else:
                    state = "future"
                sprint = {
                    "id": self.ids.sprint + len(sprints),
                    "name": f"{project.source_project_key} Sprint {number}",
                    "state": state,
                    "boardId": board_id,
                    "goal": "",
                    "startDate": f"{sprint_start:%Y-%m-%dT%H:%M:%S}.000Z",
                    "endDate": f"{sprint_end:%Y-%m-%dT%H:%M:%S}.000Z",
                }
                if state == "closed":
                    sprint["completeDate"] = f"{sprint_end:%Y-%m-%dT%H:%M:%S}.000Z"
                sprints.append(sprint)
                if state == "future" or (
                    state == "closed" and sprint_end >= end and project.activity_end < self.anchor.date()
                ):
                    break
                sprint_start = sprint_end
                number += 1
        return boards, sprints

    def issue_counts(self) -> dict[str, int]:
        weights = {}
        for project in self.projects:
            start, end = self.window(project)
            active_days = max((end - start).days, 0)
            team = len(self.teams[project.source_project_key])
            scale = 0.35 if not project.in_register else self.rng.uniform(0.6, 1.4)
            weights[project.source_project_key] = (max(active_days, 3) ** 0.8) * team * scale
        total_weight = sum(weights.values())
        target = self.profile.jira_issues
        raw = {key: target * weight / total_weight for key, weight in weights.items()}
        counts = {key: int(value) for key, value in raw.items()}
        shortfall = target - sum(counts.values())
        for key in sorted(raw, key=lambda k: (raw[k] - counts[k], k), reverse=True)[:shortfall]:
            counts[key] += 1
        return counts

    def pick_no_estimate_project(self, counts: dict[str, int]) -> Project | None:
        candidates = [
            project
            for project in self.projects
            if project.in_register and project.stage == "active" and 30 <= counts[project.source_project_key] <= 160
        ]
        return self.rng.choice(candidates) if candidates else None

    def team_member(self, project: Project, exclude: Person | None = None) -> Person:
        team = self.teams[project.source_project_key]
        choices = [person for person in team if person is not exclude] or team
        return self.rng.choice(choices)

    def summary(self, issue_type: str) -> str:
        rng = self.rng
        if issue_type == "Bug":
            return f"{rng.choice(BUG_SYMPTOMS)} {rng.choice(SUMMARY_OBJECTS)}"
        return f"{rng.choice(SUMMARY_VERBS)} {rng.choice(SUMMARY_OBJECTS)}"

    def new_draft(self, project: Project, issue_type: str, created: datetime, summary: str) -> _Draft:
        rng = self.rng
        manager = self.people_by_email[project.project_manager]
        reporter = manager if rng.random() < 0.5 and manager.jira_account_id else self.team_member(project)
        assignee = None if issue_type == "Epic" and rng.random() < 0.5 else self.team_member(project)
        priority = _weighted(rng, [((pid, name), weight) for pid, name, weight in JIRA_PRIORITIES])
        labels = sorted(rng.sample(LABELS, rng.choice((0, 0, 1, 1, 2))))
        return _Draft(
            project=project,
            issue_type=issue_type,
            created=created,
            summary=summary,
            assignee=assignee,
            reporter=reporter,
            priority=priority,  # type: ignore[arg-type]
            labels=labels,
        )

    def project_drafts(self, project: Project, count: int, without_estimates: bool) -> list[_Draft]:
        if count == 0:
            return []
        rng = self.rng
        start, end = self.window(project)
        last_created = max(start, end - timedelta(hours=2))
        epics_count = max(1, count // 25)
        milestone_count = min(3, count // 15)
        subtask_count = round((count - epics_count - milestone_count) * 0.15)
        standard_count = count - epics_count - milestone_count - subtask_count

        early_end = start + (last_created - start) * 0.2
        epics = [
            self.new_draft(project, "Epic", self.instant_between(start, early_end), f"{theme}")
            for theme in rng.sample(EPIC_THEMES * max(3, -(-epics_count // len(EPIC_THEMES))), epics_count)
        ]
        milestones = self.milestone_drafts(project, milestone_count, start, end)
        standard = []
        for _ in range(standard_count):
            issue_type = str(_weighted(rng, (("Story", 45), ("Task", 35), ("Bug", 20))))
            created = self.instant_between(start, last_created)
            draft = self.new_draft(project, issue_type, created, self.summary(issue_type))
            earlier_epics = [epic for epic in epics if epic.created < created]
            if earlier_epics and rng.random() < 0.7:
                draft.parent = rng.choice(earlier_epics)
            standard.append(draft)
        subtasks = []
        for _ in range(subtask_count):
            parent = rng.choice(standard) if standard else None
            if parent is None:
                break
            created = parent.created + timedelta(hours=rng.uniform(0.5, 240))
            if created > last_created:
                created = self.instant_between(parent.created, max(last_created, parent.created)) + timedelta(seconds=1)
            draft = self.new_draft(
                project, "Sub-task", created, f"{rng.choice(SUMMARY_VERBS)} part of {parent.summary.lower()}"
            )
            draft.parent = parent
            subtasks.append(draft)

        for draft in standard + subtasks:
            self.plan_leaf(draft, start, end, without_estimates)
        for epic in epics:
            self.plan_epic(epic, [d for d in standard if d.parent is epic], end)
        self.add_side_histories(standard + subtasks + epics)
        for draft in standard + subtasks + epics + milestones:
            if rng.random() < 0.15:
                last_event = max([draft.created] + [at for at, *_ in draft.transitions])
                if last_event < end:
                    draft.touched_at = self.instant_between(last_event, end)
        return epics + milestones + standard + subtasks

    def milestone_drafts(self, project: Project, count: int, start: datetime, end: datetime) -> list[_Draft]:
        rng = self.rng
        milestones = []
        span_days = max((project.baseline_finish - project.baseline_start).days, 1)
        for index in range(count):
            created = self.instant_between(start, start + timedelta(days=3))
            draft = self.new_draft(project, "Milestone", created, MILESTONE_NAMES[index % len(MILESTONE_NAMES)])
            draft.estimate = 0 if rng.random() < 0.3 else None
            draft.due = project.baseline_start + timedelta(days=round(span_days * (index + 1) / count))
            due_instant = datetime.combine(draft.due, time(17), tzinfo=UTC)
            done = (due_instant < end and rng.random() < 0.75) or (due_instant >= end and rng.random() < 0.05)
            if done:
                target = due_instant + timedelta(days=rng.randint(-6, 12), hours=rng.uniform(-8, 0))
                if not created + timedelta(hours=1) <= target <= end:
                    target = self.instant_between(created, end)
                if rng.random() < 0.5:
                    middle = self.instant_between(created, target)
                    draft.transitions = [
                        (middle, "To Do", "In Progress", draft.assignee),
                        (target, "In Progress", "Done", draft.assignee),
                    ]
                else:
                    draft.transitions = [(target, "To Do", "Done", draft.assignee)]
            elif rng.random() < 0.5 and created < end:
                draft.transitions = [(self.instant_between(created, end), "To Do", "In Progress", draft.assignee)]
            milestones.append(draft)
        return milestones

    def done_probability(self, project: Project, elapsed_share: float) -> float:
        if project.stage == "closed":
            return 0.96
        if project.stage == "cancelled":
            return 0.3 + 0.3 * elapsed_share
        if project.stage == "on_hold":
            return 0.1 + 0.6 * elapsed_share
        if project.stage == "approved":
            return 0.05
        return 0.08 + 0.82 * elapsed_share**1.3

    def plan_leaf(self, draft: _Draft, start: datetime, end: datetime, without_estimates: bool) -> None:
        rng = self.rng
        project = draft.project
        hours_range = {"Story": (2, 24), "Task": (1, 16), "Bug": (1, 8), "Sub-task": (0.5, 6)}[draft.issue_type]
        if not without_estimates:
            roll = rng.random()
            if roll < 0.02:
                draft.estimate = 0
            elif roll < 0.85:
                half_hours = rng.randint(int(hours_range[0] * 2), int(hours_range[1] * 2))
                draft.estimate = half_hours * 1800
        points_share = {"Story": 0.8, "Task": 0.2}.get(draft.issue_type, 0.0)
        if points_share and rng.random() < points_share:
            draft.story_points = float(rng.choice((1, 2, 3, 5, 8, 13)))
        if draft.issue_type != "Sub-task" and rng.random() < 0.35:
            draft.due = (draft.created + timedelta(days=rng.randint(7, 60))).date()

        elapsed_share = (end - draft.created) / max(end - start, timedelta(hours=1))
        roll = rng.random()
        if roll < self.done_probability(project, elapsed_share):
            final = "Won't Do" if rng.random() < 0.08 else "Done"
        elif rng.random() < (0.4 if project.stage in ("active", "approved") else 0.15):
            final = "In Review" if rng.random() < 0.3 else "In Progress"
        else:
            final = "To Do"
        if final == "To Do" and draft.assignee is not None and rng.random() < 0.25:
            draft.assignee = None
        self.plan_path(draft, final, end)

    def plan_path(self, draft: _Draft, final: str, end: datetime, *, review_loops: int | None = None) -> None:
        rng = self.rng
        if final == "To Do":
            path = ["To Do"] if rng.random() > 0.05 else ["To Do", "In Progress", "To Do"]
        elif final == "Won't Do" and rng.random() < 0.6:
            path = ["To Do", "Won't Do"]
        else:
            if review_loops is not None:
                loops = review_loops
            elif self.profile.review_loops is not None:
                loops = rng.randint(*self.profile.review_loops)
            else:
                loops = 1 if rng.random() < 0.2 else 0
            path = ["To Do", "In Progress"]
            if final in ("In Review", "Done") or loops:
                path.append("In Review")
            for _ in range(loops):
                path += ["In Progress", "In Review"]
            if final == "In Progress" and path[-1] != "In Progress":
                path.append("In Progress")
            if final in DONE_STATUSES:
                path.append(final)
                if rng.random() < 0.05:
                    path += ["In Progress", "Done"]
        steps = len(path) - 1
        if steps == 0:
            draft.transitions = []
            return
        if final in DONE_STATUSES:
            lead = timedelta(hours=2) + timedelta(days=rng.expovariate(1 / 10))
            finish = draft.created + lead
            if finish > end:
                finish = self.instant_between(draft.created + (end - draft.created) / 2, end)
            times = [*self.sorted_instants(draft.created, finish, steps - 1), finish]
            if len(times) > 1 and times[-2] >= times[-1]:
                times = self.sorted_instants(draft.created, finish, steps)
        else:
            times = self.sorted_instants(draft.created, end, steps)
        draft.transitions = []
        for index in range(steps):
            to_status = path[index + 1]
            author: Person | None = draft.assignee or draft.reporter
            if to_status in DONE_STATUSES and rng.random() < 0.1:
                author = None
            draft.transitions.append((times[index], path[index], to_status, author))
        if final in DONE_STATUSES and rng.random() < 0.012:
            draft.resolution_recorded = False

    def plan_epic(self, epic: _Draft, children: list[_Draft], end: datetime) -> None:
        rng = self.rng
        if rng.random() < 0.2:
            epic.estimate = rng.randint(20, 120) * 3600
        started = [child.work_started for child in children if child.work_started]
        first_start = min(started) if started else None
        if children and all(child.is_done for child in children):
            finish = max(child.resolved_at for child in children) + timedelta(hours=rng.uniform(1, 72))  # type: ignore[type-var]
            if not epic.created + timedelta(hours=1) <= finish <= end:
                finish = self.instant_between(max(epic.created, finish - timedelta(days=3)), end)
            middle = (
                first_start
                if first_start and epic.created < first_start < finish
                else self.instant_between(epic.created, finish)
            )
            epic.transitions = [
                (middle, "To Do", "In Progress", epic.assignee or epic.reporter),
                (finish, "In Progress", "Done", epic.assignee or epic.reporter),
            ]
        elif first_start and first_start > epic.created:
            moved_at = min(first_start + timedelta(minutes=5), end)
            epic.transitions = [(moved_at, "To Do", "In Progress", epic.reporter)]
        elif not children:
            self.plan_path(epic, "To Do" if rng.random() < 0.6 else "In Progress", end)

    def stretch_changelogs(self, drafts: list[_Draft]) -> None:
        """Give a few long-running issues more than 100 histories (the truncation trap)."""
        candidates = [
            draft
            for draft in drafts
            if draft.issue_type in ("Bug", "Story")
            and draft.project.stage == "active"
            and draft.project.in_register
            and draft.assignee is not None
            and draft.parent is None
        ]
        candidates.sort(key=lambda draft: draft.created)
        chosen = self.rng.sample(
            candidates[: max(len(candidates) // 3, 1)], min(self.profile.long_changelog_issues, len(candidates))
        )
        for index, draft in enumerate(chosen):
            _, end = self.window(draft.project)
            final = "Done" if index % 2 == 0 else "In Progress"
            draft.due = None
            self.plan_path(draft, final, end, review_loops=self.rng.randint(52, 75))
            draft.resolution_recorded = True

    def add_side_histories(self, drafts: list[_Draft]) -> None:
        rng = self.rng
        for draft in drafts:
            _, end = self.window(draft.project)
            first_event = draft.transitions[0][0] if draft.transitions else min(draft.created + timedelta(days=3), end)
            if draft.assignee is not None and rng.random() < 0.18:
                previous = self.team_member(draft.project, exclude=draft.assignee)
                at = self.instant_between(draft.created, first_event)
                item = {
                    "field": "assignee",
                    "fieldtype": "jira",
                    "fieldId": "assignee",
                    "from": previous.jira_account_id,
                    "fromString": previous.display_name,
                    "to": draft.assignee.jira_account_id,
                    "toString": draft.assignee.display_name,
                }
                draft.extra_histories.append((at, [item], draft.reporter))
            if draft.estimate and rng.random() < 0.1:
                old = max(draft.estimate + rng.choice((-2, -1, 1, 2, 4)) * 3600, 1800)
                at = self.instant_between(draft.created, first_event)
                item = {
                    "field": "timeoriginalestimate",
                    "fieldtype": "jira",
                    "fieldId": "timeoriginalestimate",
                    "from": str(old),
                    "fromString": str(old),
                    "to": str(draft.estimate),
                    "toString": str(draft.estimate),
                }
                draft.extra_histories.append((at, [item], draft.assignee or draft.reporter))
            if draft.story_points is not None and rng.random() < 0.08:
                old_points = rng.choice([p for p in (1, 2, 3, 5, 8, 13) if p != draft.story_points])
                at = self.instant_between(draft.created, first_event)
                item = {
                    "field": "Story Points",
                    "fieldtype": "custom",
                    "fieldId": STORY_POINTS_FIELD,
                    "from": None,
                    "fromString": str(old_points),
                    "to": None,
                    "toString": f"{draft.story_points:g}",
                }
                draft.extra_histories.append((at, [item], draft.reporter))

    def assign_sprints(self, drafts: list[_Draft], sprints: list[dict]) -> None:
        by_board_key: dict[str, list[tuple[datetime, datetime, int]]] = defaultdict(list)
        for sprint in sprints:
            project_key = sprint["name"].rsplit(" Sprint ", 1)[0]
            start = datetime.fromisoformat(sprint["startDate"])
            end = datetime.fromisoformat(sprint["endDate"])
            by_board_key[project_key].append((start, end, sprint["id"]))
        for draft in drafts:
            windows = by_board_key.get(draft.project.source_project_key)
            if not windows or draft.issue_type in ("Epic", "Milestone", "Sub-task"):
                continue
            if draft.status == "To Do" and self.rng.random() < 0.5:
                continue
            moment = draft.resolved_at or draft.work_started or draft.created
            for index, (start, end, sprint_id) in enumerate(windows):
                if start <= moment < end or (index == len(windows) - 1 and moment >= end):
                    if index > 0 and self.rng.random() < 0.25:
                        draft.sprint_ids.append(windows[index - 1][2])
                    draft.sprint_ids.append(sprint_id)
                    break
            else:
                draft.sprint_ids.append(windows[0][2])

    # -- worklogs ----------------------------------------------------------------------------------

    def worklogs(
        self, drafts: list[_Draft]
    ) -> tuple[list[JiraWorklog], list[JiraDeletedWorklog], dict[str, int], dict[str, datetime]]:
        rng = self.rng
        eligible = []
        for draft in drafts:
            if draft.issue_type in ("Epic", "Milestone"):
                continue
            work_start = draft.work_started
            if work_start is None:
                continue
            _, project_end = self.window(draft.project)
            if draft.status in DONE_STATUSES or draft.status == "To Do":
                work_end = draft.transitions[-1][0]
            else:
                work_end = project_end
            if work_end - work_start >= timedelta(hours=1):
                eligible.append((draft, work_start, work_end))
        if not eligible:
            return [], [], {}, {}
        weights = [(draft.estimate or 6 * 3600) / 3600 + 1 for draft, _, _ in eligible]
        wanted = self.profile.jira_worklogs + self.profile.deleted_jira_worklogs
        durations = (0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8)
        duration_weights = (6, 12, 6, 16, 10, 16, 12, 10, 6, 6)

        drafts_out: list[tuple[datetime, _Draft, Person, datetime, int, datetime, Person, str | None]] = []
        while len(drafts_out) < wanted:
            for draft, work_start, work_end in rng.choices(eligible, weights=weights, k=wanted - len(drafts_out)):
                author = draft.assignee if draft.assignee and rng.random() < 0.8 else self.team_member(draft.project)
                seconds = int(rng.choices(durations, weights=duration_weights)[0] * 3600)
                started = self.local_work_start(author, work_start, work_end - timedelta(seconds=seconds))
                if started is None:
                    continue
                work_done = started + timedelta(seconds=seconds)
                created_at = self.instant_between(work_done, min(work_done + timedelta(hours=18), self.latest))
                updated_at = created_at
                update_author = author
                if rng.random() < 0.12:
                    updated_at = self.instant_between(created_at, min(created_at + timedelta(days=7), self.latest))
                    if rng.random() < 0.2:
                        update_author = self.team_member(draft.project)
                comment = rng.choice(WORKLOG_COMMENTS) if rng.random() < 0.55 else None
                created_at, updated_at = truncate_to_millis(created_at), truncate_to_millis(updated_at)
                drafts_out.append((created_at, draft, author, started, seconds, updated_at, update_author, comment))
        drafts_out.sort(key=lambda entry: (entry[0], entry[1].created))
        deleted_indices = set(rng.sample(range(len(drafts_out)), self.profile.deleted_jira_worklogs))

        worklogs, deleted = [], []
        spent: dict[str, int] = defaultdict(int)
        last_touch: dict[str, datetime] = {}
        for number, (created_at, draft, author, started, seconds, updated_at, update_author, comment) in enumerate(
            drafts_out
        ):
            worklog_id = str(self.ids.worklog + number)
            if number in deleted_indices:
                deleted_at = truncate_to_millis(
                    self.instant_between(updated_at, min(updated_at + timedelta(days=5), self.latest))
                )
                deleted.append(JiraDeletedWorklog(worklog_id=worklog_id, deleted_at=deleted_at))
                touched = deleted_at
            else:
                payload = {
                    "author": jira_user_ref(author),
                    "updateAuthor": jira_user_ref(update_author),
                    "created": jira_timestamp(created_at),
                    "updated": jira_timestamp(updated_at),
                    "started": jira_timestamp(started, self.zone(author.time_zone)),
                    "timeSpent": format_jira_duration(seconds),
                    "timeSpentSeconds": seconds,
                    "id": worklog_id,
                    "issueId": draft.issue_id,
                }
                if comment:
                    payload["comment"] = adf_text(comment)
                worklogs.append(
                    JiraWorklog(id=worklog_id, issue_id=draft.issue_id, updated_at=updated_at, payload=payload)
                )
                spent[draft.issue_id] += seconds
                touched = updated_at
            if touched > last_touch.get(draft.issue_id, EPOCH):
                last_touch[draft.issue_id] = touched
        deleted.sort(key=lambda entry: (entry.deleted_at, int(entry.worklog_id)))
        return worklogs, deleted, dict(spent), last_touch

    def local_work_start(self, author: Person, earliest: datetime, latest: datetime) -> datetime | None:
        """A start on a 15-minute grid in the author's office hours, within [earliest, latest]."""
        if latest <= earliest:
            return None
        zone = self.zone(author.time_zone)
        for _ in range(6):
            moment = self.instant_between(earliest, latest).astimezone(zone)
            day = moment.date()
            if day.weekday() >= 5 and self.rng.random() < 0.85:
                day -= timedelta(days=day.weekday() - 4)
            local = datetime.combine(day, time(8), tzinfo=zone) + timedelta(minutes=15 * self.rng.randint(0, 38))
            started = local.astimezone(UTC)
            if earliest <= started <= latest:
                return started
        quarter = timedelta(minutes=15)
        local_earliest = earliest.astimezone(zone)
        midnight = datetime.combine(local_earliest.date(), time(0), tzinfo=zone)
        rounded = midnight + -(-(local_earliest - midnight) // quarter) * quarter
        started = rounded.astimezone(UTC)
        return started if started <= latest else None

    # -- payloads ----------------------------------------------------------------------------------

    def issues(
        self,
        drafts: list[_Draft],
        jira_projects: list[dict],
        sprints: list[dict],
        spent_by_issue: dict[str, int],
        worklog_touch: dict[str, datetime],
    ) -> list[JiraIssue]:
        rng = self.rng
        project_refs = {
            payload["key"]: {
                "id": payload["id"],
                "key": payload["key"],
                "name": payload["name"],
                "projectTypeKey": "software",
                "simplified": False,
            }
            for payload in jira_projects
        }
        sprint_by_id = {sprint["id"]: sprint for sprint in sprints}
        history_entries: list[tuple[datetime, _Draft, dict]] = []
        issues = []
        for rank, draft in enumerate(drafts, start=1):
            histories = []
            for at, from_status, to_status, author in draft.transitions:
                items = []
                from_done = from_status in DONE_STATUSES
                to_done = to_status in DONE_STATUSES
                if draft.resolution_recorded and to_done and not from_done:
                    resolution = RESOLUTIONS[to_status]
                    items.append(
                        {
                            "field": "resolution",
                            "fieldtype": "jira",
                            "fieldId": "resolution",
                            "from": None,
                            "fromString": None,
                            "to": resolution["id"],
                            "toString": resolution["name"],
                        }
                    )
                elif draft.resolution_recorded and from_done and not to_done:
                    resolution = RESOLUTIONS[from_status]
                    items.append(
                        {
                            "field": "resolution",
                            "fieldtype": "jira",
                            "fieldId": "resolution",
                            "from": resolution["id"],
                            "fromString": resolution["name"],
                            "to": None,
                            "toString": None,
                        }
                    )
                items.append(
                    {
                        "field": "status",
                        "fieldtype": "jira",
                        "fieldId": "status",
                        "from": STATUSES[from_status][0],
                        "fromString": from_status,
                        "to": STATUSES[to_status][0],
                        "toString": to_status,
                    }
                )
                histories.append((at, items, author))
            histories += draft.extra_histories
            histories.sort(key=lambda entry: entry[0])
            changelog = []
            for at, items, author in histories:
                history = {
                    "id": "",
                    "author": jira_user_ref(author) if author else dict(AUTOMATION_USER),
                    "created": jira_timestamp(at),
                    "items": items,
                }
                changelog.append(history)
                history_entries.append((at, draft, history))

            events = [draft.created] + [at for at, *_ in histories]
            if draft.touched_at:
                events.append(draft.touched_at)
            if draft.issue_id in worklog_touch:
                events.append(worklog_touch[draft.issue_id])
            updated_at = max(events)

            resolved_at = draft.resolved_at if draft.resolution_recorded else None
            status_category_changed = draft.created
            for at, from_status, to_status, _ in draft.transitions:
                if STATUSES[from_status][1] != STATUSES[to_status][1]:
                    status_category_changed = at
            spent = spent_by_issue.get(draft.issue_id)
            remaining = None
            if draft.estimate is not None:
                remaining = 0 if draft.is_done else max(draft.estimate - (spent or 0), 0)
            timetracking: dict[str, object] = {}
            if draft.estimate is not None:
                timetracking["originalEstimate"] = format_jira_duration(draft.estimate)
                timetracking["remainingEstimate"] = format_jira_duration(remaining or 0)
            if spent:
                timetracking["timeSpent"] = format_jira_duration(spent)
            if draft.estimate is not None:
                timetracking["originalEstimateSeconds"] = draft.estimate
                timetracking["remainingEstimateSeconds"] = remaining
            if spent:
                timetracking["timeSpentSeconds"] = spent

            fields: dict[str, object] = {
                "summary": draft.summary,
                "description": adf_text(f"{draft.summary} for {draft.project.name}.") if rng.random() < 0.3 else None,
                "issuetype": _issue_type_payload(draft.issue_type),
                "project": dict(project_refs[draft.project.source_project_key]),
                "status": _status_payload(draft.status),
                "statuscategorychangedate": jira_timestamp(status_category_changed),
                "resolution": dict(RESOLUTIONS[draft.status]) if resolved_at else None,
                "resolutiondate": jira_timestamp(resolved_at) if resolved_at else None,
                "priority": {"id": draft.priority[0], "name": draft.priority[1]},
                "assignee": jira_user_ref(draft.assignee) if draft.assignee else None,
                "reporter": jira_user_ref(draft.reporter),
                "creator": jira_user_ref(draft.reporter),
                "created": jira_timestamp(draft.created),
                "updated": jira_timestamp(updated_at),
                "duedate": draft.due.isoformat() if draft.due else None,
                "labels": draft.labels,
                "timeoriginalestimate": draft.estimate,
                "timeestimate": remaining,
                "timespent": spent,
                "timetracking": timetracking,
                STORY_POINTS_FIELD: draft.story_points,
                RANK_FIELD: f"0|i{rank:05x}:",
                SPRINT_FIELD: [dict(sprint_by_id[sprint_id]) for sprint_id in draft.sprint_ids] or None,
                STORY_POINT_ESTIMATE_FIELD: None,
                CUSTOMER_IMPACT_FIELD: None,
            }
            if draft.issue_type == "Bug" and rng.random() < 0.6:
                option_id, option_value = rng.choice(CUSTOMER_IMPACT_OPTIONS)
                fields[CUSTOMER_IMPACT_FIELD] = {"id": option_id, "value": option_value}
            if draft.parent is not None:
                fields["parent"] = {
                    "id": draft.parent.issue_id,
                    "key": draft.parent.key,
                    "fields": {
                        "summary": draft.parent.summary,
                        "issuetype": _issue_type_payload(draft.parent.issue_type),
                    },
                }
            issues.append(
                JiraIssue(
                    id=draft.issue_id,
                    key=draft.key,
                    project_key=draft.project.source_project_key,
                    created_at=draft.created,
                    updated_at=updated_at,
                    payload={"id": draft.issue_id, "key": draft.key, "fields": fields},
                    changelog=changelog,
                )
            )
        history_entries.sort(key=lambda entry: (entry[0], int(entry[1].issue_id)))
        for number, (_, _, history) in enumerate(history_entries):
            history["id"] = str(self.ids.history + number)
        return issues


# --------------------------------------------------------------------------------------------------
# Expected figures for tests
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorldSummary:
    """Headline counts of a world, for tests and for the report a demo prints."""

    people: int
    portfolios: int
    programs: int
    projects: int
    register_rows: int
    rate_card_rows: int
    jira_projects: int
    jira_users: int
    jira_issues: int
    jira_worklogs: int
    jira_deleted_worklogs: int
    jira_changelog_histories: int
    jira_worklog_hours: Decimal
    issues_by_type: dict[str, int]
    issues_by_status: dict[str, int]
    unregistered_jira_projects: tuple[str, ...]
    longest_changelog: int


def summarize(world: World) -> WorldSummary:
    site = world.jira
    registered_keys = {p.source_project_key for p in world.projects if p.tool == "jira" and p.in_register}
    return WorldSummary(
        people=len(world.people),
        portfolios=len(world.portfolios),
        programs=len(world.programs),
        projects=len(world.projects),
        register_rows=len(world.register_projects()),
        rate_card_rows=len(world.rate_card),
        jira_projects=len(site.projects),
        jira_users=len(site.users),
        jira_issues=len(site.issues),
        jira_worklogs=len(site.worklogs),
        jira_deleted_worklogs=len(site.deleted_worklogs),
        jira_changelog_histories=sum(len(issue.changelog) for issue in site.issues),
        jira_worklog_hours=worklog_hours_total(site.worklogs),
        issues_by_type=dict(Counter(i.payload["fields"]["issuetype"]["name"] for i in site.issues)),
        issues_by_status=dict(Counter(i.payload["fields"]["status"]["name"] for i in site.issues)),
        unregistered_jira_projects=tuple(p["key"] for p in site.projects if p["key"] not in registered_keys),
        longest_changelog=max((len(issue.changelog) for issue in site.issues), default=0),
    )


def served_counts(world: World | None = None) -> dict[str, int]:
    """What the simulators serve for `world` (by default today's demo world), per entity."""
    summary = summarize(world or build_world(WorldConfig()))
    return {
        "register projects": summary.register_rows,
        "jira projects": summary.jira_projects,
        "jira users": summary.jira_users,
        "jira issues": summary.jira_issues,
        "jira changelog entries": summary.jira_changelog_histories,
        "jira worklogs": summary.jira_worklogs,
        "jira deleted worklogs": summary.jira_deleted_worklogs,
    }


def issue_counts_by_project(issues: Iterable[JiraIssue]) -> dict[str, int]:
    return dict(Counter(issue.project_key for issue in issues))


def worklog_hours_total(worklogs: Iterable[JiraWorklog]) -> Decimal:
    seconds = sum(worklog.payload["timeSpentSeconds"] for worklog in worklogs)
    return (Decimal(seconds) / SECONDS_PER_HOUR).quantize(CENT)


def worklog_hours_by_local_date(site: JiraSite, *, project_key: str | None = None) -> dict[date, Decimal]:
    """Logged hours per calendar date of `started` in the author's own offset (a time entry's date)."""
    project_of_issue = {issue.id: issue.project_key for issue in site.issues}
    seconds: dict[date, int] = defaultdict(int)
    for worklog in site.worklogs:
        if project_key is not None and project_of_issue.get(worklog.issue_id) != project_key:
            continue
        local_day = date.fromisoformat(worklog.payload["started"][:10])
        seconds[local_day] += worklog.payload["timeSpentSeconds"]
    return {day: (Decimal(total) / SECONDS_PER_HOUR).quantize(CENT) for day, total in sorted(seconds.items())}


def worklog_hours_by_project(site: JiraSite) -> dict[str, Decimal]:
    project_of_issue = {issue.id: issue.project_key for issue in site.issues}
    seconds: dict[str, int] = defaultdict(int)
    for worklog in site.worklogs:
        seconds[project_of_issue[worklog.issue_id]] += worklog.payload["timeSpentSeconds"]
    return {key: (Decimal(total) / SECONDS_PER_HOUR).quantize(CENT) for key, total in sorted(seconds.items())}
