"""The Smartsheet account of a generated world, in the JSON shapes Smartsheet API 2.0 returns.

`build_smartsheet_data(world)` lays out the sheets a PMO keeps in Smartsheet:

- the **portfolio register**: one row per register row, columns titled as the register's column
  names but in another order, money as plain numbers, numeric-looking source keys (sheet ids,
  Asana gids) stored as numbers, and forecast_finish left empty where there is no forecast;
- the **rate card** (email, role, hourly_rate, weekly_capacity_hours, effective_from);
- one **project plan** per Smartsheet project, whose sheet id is the project's
  `source_project_key`: phases as summary (parent) rows, tasks and milestones as their children,
  `% Complete` stored as a fraction (0..1) the way Smartsheet stores percent-formatted numbers,
  estimates that include 0 and empty cells, and some rows done and some overdue;
- a couple of sheets no connector setting points at, as every real account has.

Cells are typed as Smartsheet types them: numbers stay numbers (0 stays 0), checkboxes are
True/False, dates are `YYYY-MM-DD`, contacts are email strings. An empty cell carries only its
`columnId`. Everything is drawn from one `random.Random` seeded from the world's seed, and every
instant lies before the world's anchor date.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from simulators.world import Person, Project, World

COLUMN_TYPES = ("TEXT_NUMBER", "DATE", "CHECKBOX", "PICKLIST", "CONTACT_LIST")

REGISTER_SHEET_NAME = "PMO Portfolio Register"
RATE_CARD_SHEET_NAME = "PMO Rate Card"

# (title, type, display format, picklist options); the order is the sheet's, not the contract's.
REGISTER_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("project_name", "TEXT_NUMBER", None),
    ("project_code", "TEXT_NUMBER", None),
    ("stage", "PICKLIST", None),
    ("priority", "PICKLIST", None),
    ("project_manager", "CONTACT_LIST", None),
    ("sponsor", "CONTACT_LIST", None),
    ("portfolio_name", "TEXT_NUMBER", None),
    ("portfolio_code", "TEXT_NUMBER", None),
    ("program_name", "TEXT_NUMBER", None),
    ("program_code", "TEXT_NUMBER", None),
    ("source_system", "PICKLIST", None),
    ("source_project_key", "TEXT_NUMBER", None),
    ("strategic_theme", "PICKLIST", None),
    ("baseline_start", "DATE", None),
    ("baseline_finish", "DATE", None),
    ("forecast_finish", "DATE", None),
    ("approved_budget", "TEXT_NUMBER", "currency"),
    ("currency", "PICKLIST", None),
    ("expected_benefit", "TEXT_NUMBER", "currency"),
    ("alignment_score", "TEXT_NUMBER", None),
    ("default_hourly_rate", "TEXT_NUMBER", "currency"),
)
RATE_CARD_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("email", "TEXT_NUMBER", None),
    ("role", "PICKLIST", None),
    ("effective_from", "DATE", None),
    ("hourly_rate", "TEXT_NUMBER", "currency"),
    ("weekly_capacity_hours", "TEXT_NUMBER", None),
)
PLAN_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("Task Name", "TEXT_NUMBER", None),
    ("Start", "DATE", None),
    ("Finish", "DATE", None),
    ("Assigned To", "CONTACT_LIST", None),
    ("% Complete", "TEXT_NUMBER", "percent"),
    ("Status", "PICKLIST", None),
    ("Estimate Hours", "TEXT_NUMBER", None),
    ("Milestone", "CHECKBOX", None),
    ("Comments", "TEXT_NUMBER", None),
)
PICKLIST_OPTIONS: dict[str, tuple[str, ...]] = {
    "stage": ("idea", "approved", "active", "on_hold", "closed", "cancelled"),
    "priority": ("critical", "high", "medium", "low"),
    "source_system": ("jira", "asana", "smartsheet"),
    "strategic_theme": (
        "Customer Experience",
        "Operational Efficiency",
        "Regulatory Compliance",
        "Revenue Growth",
        "Platform Modernisation",
    ),
    "currency": ("EUR", "USD", "GBP"),
    "Status": ("Not Started", "In Progress", "Complete"),
}
PLAN_STATUSES = PICKLIST_OPTIONS["Status"]

PHASES = ("Initiation", "Planning", "Design", "Build", "Testing", "Deployment", "Hypercare", "Closure")
TASK_NAMES = (
    "Kick-off workshop",
    "Stakeholder interviews",
    "Requirements sign-off",
    "Vendor shortlist",
    "Solution design",
    "Data mapping",
    "Environment setup",
    "Configure workflows",
    "Build integrations",
    "Migrate reference data",
    "Unit testing",
    "System integration testing",
    "User acceptance testing",
    "Performance testing",
    "Training materials",
    "Train super users",
    "Cutover plan",
    "Go-live readiness review",
    "Hypercare support",
    "Lessons learned",
    "Budget review",
    "Risk assessment",
    "Security review",
    "Update runbooks",
    "Decommission legacy system",
    "Change communications",
    "Procure licences",
    "Draft test strategy",
    "Fix defects",
    "Write release notes",
    "Access provisioning",
    "Data quality checks",
    "Report design",
    "Process walkthroughs",
    "Privacy impact assessment",
)
SUBGROUP_NAMES = ("Workstream A", "Workstream B", "Integration track", "Data track", "Vendor deliverables")
COMMENTS = ("Waiting on vendor", "See risk log", "Re-baselined", "Needs sponsor approval", "Blocked by access")

RISK_LOG_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("Risk", "TEXT_NUMBER", None),
    ("Owner", "CONTACT_LIST", None),
    ("Severity", "PICKLIST", None),
    ("Raised", "DATE", None),
    ("Closed", "CHECKBOX", None),
)
RISKS = (
    "Key vendor late on delivery",
    "Budget overrun on licences",
    "Scope creep from business units",
    "Data migration quality",
    "Loss of key developer",
    "Regulatory deadline moves",
    "Integration partner API change",
    "Test environment availability",
    "Change fatigue in operations",
    "Security findings before go-live",
)
HOLIDAY_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("Leave", "TEXT_NUMBER", None),
    ("Person", "CONTACT_LIST", None),
    ("From", "DATE", None),
    ("To", "DATE", None),
    ("Approved", "CHECKBOX", None),
)


# --------------------------------------------------------------------------------------------------
# Formats
# --------------------------------------------------------------------------------------------------


def smartsheet_timestamp(instant: datetime) -> str:
    """An aware instant as Smartsheet writes it: UTC to the second, `2018-04-21T18:06:45Z`."""
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_smartsheet_timestamp(text: str) -> datetime:
    """An ISO 8601 instant (`Z` or any offset; a naive one is read as UTC) as an aware datetime."""
    instant = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def truncate_to_second(instant: datetime) -> datetime:
    """Smartsheet keeps instants to the second."""
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(UTC).replace(microsecond=0)


def json_number(value: Decimal | int | float) -> int | float:
    """A number as Smartsheet's JSON carries it: integral values as integers, others as floats."""
    if isinstance(value, bool):
        raise TypeError("a checkbox value is not a number")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _plain_number(value: int | float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def display_value(column: dict, value: Any, display_format: str | None, names_by_email: dict[str, str]) -> str | None:
    """What the Smartsheet UI shows for a typed value (None where Smartsheet sends no displayValue)."""
    column_type = column["type"]
    if column_type == "CHECKBOX":
        return None
    if column_type == "DATE":
        return date.fromisoformat(value).strftime("%m/%d/%y")
    if column_type == "CONTACT_LIST":
        return names_by_email.get(value, value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if display_format == "percent":
            return f"{value * 100:g}%"
        if display_format == "currency":
            return f"€{value:,.2f}"
        return _plain_number(value)
    return str(value)


def typed_cell_value(column: dict, value: Any) -> Any:
    """A Python value as the typed JSON value a cell of `column` holds (None for an empty cell)."""
    if value is None or value == "":
        return None
    column_type = column["type"]
    if column_type == "CHECKBOX":
        if not isinstance(value, bool):
            raise TypeError(f"column {column['title']!r} is a checkbox: give True or False, not {value!r}")
        return value
    if column_type == "DATE":
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return date.fromisoformat(str(value)).isoformat()
    if isinstance(value, (Decimal, int, float)) and not isinstance(value, bool):
        return json_number(value)
    return str(value)


# --------------------------------------------------------------------------------------------------
# Account
# --------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class SmartsheetSheet:
    """One sheet: its metadata, its columns and its rows, as the API returns them.

    `kind` is `register`, `rate_card`, `plan` or `other`; `display_formats` maps a column id to
    `percent` or `currency` (how its numbers are shown), which the API does not expose as such.
    """

    id: int
    name: str
    kind: str
    project_code: str | None
    created_at: datetime
    modified_at: datetime
    permalink: str
    columns: list[dict]
    rows: list[dict]
    display_formats: dict[int, str] = field(default_factory=dict)
    version: int = 1

    def column(self, title: str) -> dict:
        for column in self.columns:
            if column["title"] == title:
                return column
        raise KeyError(f"sheet {self.id} ({self.name!r}) has no column titled {title!r}")

    def row(self, row_id: int) -> dict:
        for row in self.rows:
            if row["id"] == row_id:
                return row
        raise KeyError(f"sheet {self.id} ({self.name!r}) has no row {row_id}")

    def value(self, row: dict, title: str) -> Any:
        """A row's typed value in the column titled `title` (None when the cell is empty)."""
        column_id = self.column(title)["id"]
        for cell in row["cells"]:
            if cell["columnId"] == column_id:
                return cell.get("value")
        return None

    def values(self, row: dict) -> dict[str, Any]:
        """A row's typed values keyed by column title (None for empty cells)."""
        titles = {column["id"]: column["title"] for column in self.columns}
        values: dict[str, Any] = dict.fromkeys(titles.values())
        for cell in row["cells"]:
            values[titles[cell["columnId"]]] = cell.get("value")
        return values

    def children(self, row_id: int) -> list[dict]:
        return [row for row in self.rows if row.get("parentId") == row_id]


@dataclass(eq=False)
class SmartsheetAccount:
    """Every sheet the PMO's Smartsheet token can see."""

    sheets: list[SmartsheetSheet]
    register_sheet_id: int
    rate_card_sheet_id: int
    plan_sheet_ids: dict[str, int]
    names_by_email: dict[str, str]

    def sheet(self, sheet_id: int) -> SmartsheetSheet:
        for sheet in self.sheets:
            if sheet.id == int(sheet_id):
                return sheet
        raise KeyError(f"no sheet {sheet_id}")

    @property
    def register_sheet(self) -> SmartsheetSheet:
        return self.sheet(self.register_sheet_id)

    @property
    def rate_card_sheet(self) -> SmartsheetSheet:
        return self.sheet(self.rate_card_sheet_id)

    @property
    def plan_sheets(self) -> list[SmartsheetSheet]:
        return [self.sheet(sheet_id) for sheet_id in self.plan_sheet_ids.values()]

    def register_row(self, project_code: str) -> dict:
        sheet = self.register_sheet
        for row in sheet.rows:
            if sheet.value(row, "project_code") == project_code:
                return row
        raise KeyError(f"no register row for project {project_code}")


@dataclass(frozen=True)
class SmartsheetSummary:
    """Headline counts of an account, for tests and for the report a demo prints."""

    sheets: int
    register_rows: int
    rate_card_rows: int
    plan_sheets: int
    plan_rows: int
    plan_summary_rows: int
    plan_milestones: int
    plan_done_rows: int


def summarize_account(account: SmartsheetAccount) -> SmartsheetSummary:
    plans = account.plan_sheets
    done = summary = milestones = 0
    for sheet in plans:
        parents = {row.get("parentId") for row in sheet.rows}
        for row in sheet.rows:
            values = sheet.values(row)
            summary += row["id"] in parents
            milestones += values["Milestone"] is True
            done += values["% Complete"] == 1 or values["Status"] == "Complete"
    return SmartsheetSummary(
        sheets=len(account.sheets),
        register_rows=len(account.register_sheet.rows),
        rate_card_rows=len(account.rate_card_sheet.rows),
        plan_sheets=len(plans),
        plan_rows=sum(len(sheet.rows) for sheet in plans),
        plan_summary_rows=summary,
        plan_milestones=milestones,
        plan_done_rows=done,
    )


# --------------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------------


class _IdMint:
    """Unique 16-digit ids, as Smartsheet gives sheets, columns and rows."""

    def __init__(self, rng: random.Random, taken: set[int]) -> None:
        self.rng = rng
        self.taken = set(taken)

    def __call__(self) -> int:
        while True:
            candidate = self.rng.randrange(1_000_000_000_000_000, 9_000_000_000_000_000)
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate


@dataclass
class _PlanTask:
    name: str
    start: date
    finish: date
    is_summary: bool = False
    is_milestone: bool = False
    assignee: str | None = None
    estimate: int | float | None = None
    percent: int | float = 0
    status: str = "Not Started"
    milestone_flag: bool | None = False
    comment: str | None = None
    children: list[_PlanTask] = field(default_factory=list)
    estimate_formula: bool = False


class _AccountBuilder:
    def __init__(self, world: World) -> None:
        self.world = world
        self.rng = random.Random(f"{world.config.seed}:smartsheet")
        taken = {int(p.source_project_key) for p in world.projects if p.tool == "smartsheet"}
        self.new_id = _IdMint(self.rng, taken)
        self.today = world.config.anchor_date
        self.latest = world.anchor_instant - timedelta(minutes=1)
        self.people_by_email: dict[str, Person] = {person.email: person for person in world.people}
        self.names_by_email = {person.email: person.display_name for person in world.people}

    # -- helpers -------------------------------------------------------------------------------
    def instant_between(self, start: datetime, end: datetime) -> datetime:
        seconds = int((end - start).total_seconds())
        if seconds <= 0:
            return truncate_to_second(start)
        return truncate_to_second(start + timedelta(seconds=self.rng.randrange(seconds)))

    def permalink(self) -> str:
        token = "".join(self.rng.choices(string.ascii_letters + string.digits, k=22))
        return f"https://app.smartsheet.com/sheets/{token}"

    def columns(self, spec: tuple[tuple[str, str, str | None], ...]) -> tuple[list[dict], dict[int, str]]:
        columns, formats = [], {}
        for index, (title, column_type, display_format) in enumerate(spec):
            column: dict[str, Any] = {
                "id": self.new_id(),
                "version": 0,
                "index": index,
                "title": title,
                "type": column_type,
                "primary": index == 0,
                "validation": False,
                "width": 150,
            }
            if column_type == "PICKLIST" and title in PICKLIST_OPTIONS:
                column["options"] = list(PICKLIST_OPTIONS[title])
            if display_format:
                formats[column["id"]] = display_format
            columns.append(column)
        return columns, formats

    def cells(self, columns: list[dict], formats: dict[int, str], values: dict[str, Any]) -> list[dict]:
        cells = []
        for column in columns:
            value = typed_cell_value(column, values.get(column["title"]))
            cell: dict[str, Any] = {"columnId": column["id"]}
            if value is not None:
                cell["value"] = value
                shown = display_value(column, value, formats.get(column["id"]), self.names_by_email)
                if shown is not None:
                    cell["displayValue"] = shown
            cells.append(cell)
        return cells

    def sheet(
        self,
        name: str,
        kind: str,
        spec: tuple[tuple[str, str, str | None], ...],
        records: list[tuple[dict[str, Any], int | None, datetime, datetime]],
        *,
        sheet_id: int | None = None,
        project_code: str | None = None,
    ) -> SmartsheetSheet:
        """A sheet from (values by title, parent index, createdAt, modifiedAt) records in row order."""
        columns, formats = self.columns(spec)
        row_ids = [self.new_id() for _ in records]
        rows = []
        for number, (values, parent_index, created, modified) in enumerate(records, start=1):
            row: dict[str, Any] = {"id": row_ids[number - 1], "rowNumber": number}
            if parent_index is not None:
                row["parentId"] = row_ids[parent_index]
            row["expanded"] = True
            row["createdAt"] = smartsheet_timestamp(created)
            row["modifiedAt"] = smartsheet_timestamp(modified)
            row["cells"] = self.cells(columns, formats, values)
            rows.append(row)
        created_at = min((created for _, _, created, _ in records), default=self.latest) - timedelta(minutes=7)
        modified_at = max((modified for _, _, _, modified in records), default=created_at)
        return SmartsheetSheet(
            id=sheet_id if sheet_id is not None else self.new_id(),
            name=name,
            kind=kind,
            project_code=project_code,
            created_at=truncate_to_second(created_at),
            modified_at=modified_at,
            permalink=self.permalink(),
            columns=columns,
            rows=rows,
            display_formats=formats,
            version=self.rng.randint(5, 400),
        )

    def created_and_modified(self, earliest: datetime) -> tuple[datetime, datetime]:
        earliest = min(earliest, self.latest - timedelta(days=30))
        created = self.instant_between(earliest, earliest + timedelta(days=2))
        modified = created if self.rng.random() < 0.3 else self.instant_between(created, self.latest)
        return created, modified

    # -- sheets --------------------------------------------------------------------------------
    def build(self) -> SmartsheetAccount:
        world = self.world
        register = self.register_sheet()
        rate_card = self.rate_card_sheet()
        plans = {
            project.project_code: self.plan_sheet(project) for project in world.projects if project.tool == "smartsheet"
        }
        others = [self.risk_log_sheet(), self.holiday_sheet()]
        sheets = [register, rate_card, *plans.values(), *others]
        return SmartsheetAccount(
            sheets=sheets,
            register_sheet_id=register.id,
            rate_card_sheet_id=rate_card.id,
            plan_sheet_ids={code: sheet.id for code, sheet in plans.items()},
            names_by_email=dict(self.names_by_email),
        )

    def register_sheet(self) -> SmartsheetSheet:
        records = []
        for row, project in zip(self.world.register_rows(), self.world.register_projects(), strict=True):
            values = dict(row)
            key = str(values["source_project_key"])
            # Smartsheet stores whatever looks like a number in a text/number column as a number.
            values["source_project_key"] = int(key) if key.isdigit() else key
            first_day = min(project.baseline_start, self.today) - timedelta(days=self.rng.randint(10, 45))
            created, modified = self.created_and_modified(datetime.combine(first_day, time(9), tzinfo=UTC))
            records.append((values, None, created, modified))
        return self.sheet(REGISTER_SHEET_NAME, "register", REGISTER_COLUMNS, records)

    def rate_card_sheet(self) -> SmartsheetSheet:
        records = []
        for card_row in self.world.rate_card:
            values = {
                "email": card_row.email,
                "role": card_row.role,
                "hourly_rate": card_row.hourly_rate,
                "weekly_capacity_hours": card_row.weekly_capacity_hours,
                "effective_from": card_row.effective_from,
            }
            first_day = min(card_row.effective_from, self.today) - timedelta(days=self.rng.randint(1, 20))
            created, modified = self.created_and_modified(datetime.combine(first_day, time(9), tzinfo=UTC))
            records.append((values, None, created, modified))
        options = sorted({row.role for row in self.world.rate_card})
        sheet = self.sheet(RATE_CARD_SHEET_NAME, "rate_card", RATE_CARD_COLUMNS, records)
        sheet.column("role")["options"] = options
        return sheet

    def risk_log_sheet(self) -> SmartsheetSheet:
        owners = [person.email for person in self.world.people if person.role == "Project Manager"]
        records = []
        for risk in self.rng.sample(RISKS, self.rng.randint(6, len(RISKS))):
            created, modified = self.created_and_modified(self.latest - timedelta(days=self.rng.randint(30, 300)))
            values = {
                "Risk": risk,
                "Owner": self.rng.choice(owners),
                "Severity": self.rng.choice(("Low", "Medium", "High")),
                "Raised": created.date(),
                "Closed": self.rng.random() < 0.4,
            }
            records.append((values, None, created, modified))
        sheet = self.sheet("PMO Risk Log", "other", RISK_LOG_COLUMNS, records)
        sheet.column("Severity")["options"] = ["Low", "Medium", "High"]
        return sheet

    def holiday_sheet(self) -> SmartsheetSheet:
        records = []
        for person in self.rng.sample(self.world.people, min(12, len(self.world.people))):
            created, modified = self.created_and_modified(self.latest - timedelta(days=self.rng.randint(20, 200)))
            first = self.today + timedelta(days=self.rng.randint(-60, 90))
            values = {
                "Leave": self.rng.choice(("Annual leave", "Public holiday", "Training", "Parental leave")),
                "Person": person.email,
                "From": first,
                "To": first + timedelta(days=self.rng.randint(1, 14)),
                "Approved": True if self.rng.random() < 0.7 else None,
            }
            records.append((values, None, created, modified))
        return self.sheet("Team Holiday Calendar", "other", HOLIDAY_COLUMNS, records)

    # -- project plans -------------------------------------------------------------------------
    def plan_sheet(self, project: Project) -> SmartsheetSheet:
        rng = self.rng
        phases = self.plan_tree(project)
        first_edit = datetime.combine(project.activity_start, time(8), tzinfo=UTC)
        last_edit = min(datetime.combine(project.activity_end, time(18), tzinfo=UTC), self.latest)
        if first_edit > last_edit - timedelta(days=2):
            first_edit = last_edit - timedelta(days=rng.randint(5, 30))
        plan_created = self.instant_between(first_edit, first_edit + timedelta(hours=6))

        ordered: list[tuple[_PlanTask, int | None]] = []

        def walk(task: _PlanTask, parent_index: int | None) -> None:
            ordered.append((task, parent_index))
            own_index = len(ordered) - 1
            for child in task.children:
                walk(child, own_index)

        for phase in phases:
            walk(phase, None)

        records = []
        for number, (task, parent_index) in enumerate(ordered):
            created = plan_created + timedelta(seconds=number)
            if not task.is_summary and rng.random() < 0.1:
                added_by = min(datetime.combine(task.start, time(17), tzinfo=UTC), last_edit)
                if added_by > plan_created + timedelta(hours=1):
                    created = self.instant_between(plan_created + timedelta(hours=1), added_by)
            started = task.status != "Not Started" or task.percent > 0
            if started and not task.is_summary:
                low = max(created, datetime.combine(task.start, time(8), tzinfo=UTC))
                high = min(datetime.combine(task.finish + timedelta(days=3), time(18), tzinfo=UTC), last_edit)
                modified = self.instant_between(low, high) if low < high else max(created, min(high, last_edit))
            elif rng.random() < 0.3:
                modified = self.instant_between(created, last_edit)
            else:
                modified = created
            modified = max(modified, created)
            values: dict[str, Any] = {
                "Task Name": task.name,
                "Start": task.start,
                "Finish": task.finish,
                "Assigned To": task.assignee,
                "% Complete": task.percent,
                "Status": task.status,
                "Estimate Hours": task.estimate,
                "Milestone": task.milestone_flag,
                "Comments": task.comment,
            }
            records.append((values, parent_index, created, modified))
        sheet = self.sheet(
            f"{project.name} Project Plan",
            "plan",
            PLAN_COLUMNS,
            records,
            sheet_id=int(project.source_project_key),
            project_code=project.project_code,
        )
        estimate_column = sheet.column("Estimate Hours")["id"]
        for row, (task, _) in zip(sheet.rows, ordered, strict=True):
            if task.estimate_formula:
                for cell in row["cells"]:
                    if cell["columnId"] == estimate_column and "value" in cell:
                        cell["formula"] = "=SUM(CHILDREN())"
        return sheet

    def plan_tree(self, project: Project) -> list[_PlanTask]:
        rng = self.rng
        phase_count = rng.randint(4, 6)
        phase_names = sorted(rng.sample(range(len(PHASES)), phase_count))
        target_rows = rng.randint(40, 80)
        with_subgroup = [rng.random() < 0.45 for _ in range(phase_count)]
        leaves_total = max(target_rows - 2 * phase_count - sum(with_subgroup), 3 * phase_count)
        leaf_counts = [3] * phase_count
        for _ in range(leaves_total - 3 * phase_count):
            leaf_counts[rng.randrange(phase_count)] += 1

        span = max((project.baseline_finish - project.baseline_start).days, phase_count * 7)
        weights = [rng.uniform(0.7, 1.3) for _ in range(phase_count)]
        boundaries = [project.baseline_start]
        for index in range(phase_count):
            share = sum(weights[: index + 1]) / sum(weights)
            boundaries.append(project.baseline_start + timedelta(days=round(span * share)))
        team = [email for email in project.team_emails[1:]] or list(project.team_emails)
        summaries_sum_estimates = rng.random() < 0.6

        phases = []
        for index in range(phase_count):
            phase_start, phase_end = (
                boundaries[index],
                max(boundaries[index + 1], boundaries[index] + timedelta(days=3)),
            )
            phase = _PlanTask(PHASES[phase_names[index]], phase_start, phase_end, is_summary=True)
            leaves = [self.plan_leaf(project, phase_start, phase_end, team) for _ in range(leaf_counts[index])]
            leaves.sort(key=lambda task: (task.start, task.finish))
            if with_subgroup[index] and len(leaves) >= 5:
                size = rng.randint(3, min(6, len(leaves) - 1))
                grouped, leaves = leaves[-size:], leaves[:-size]
                subgroup = _PlanTask(rng.choice(SUBGROUP_NAMES), phase_start, phase_end, is_summary=True)
                subgroup.children = grouped
                phase.children = [*leaves, subgroup]
            else:
                phase.children = leaves
            phase.children.append(self.plan_milestone(project, phase.name, phase_end))
            phases.append(phase)
        self.add_quirks(project, phases)
        for phase in phases:
            self.roll_up(phase, summaries_sum_estimates)
        return phases

    def plan_leaf(self, project: Project, phase_start: date, phase_end: date, team: list[str]) -> _PlanTask:
        rng = self.rng
        length = max((phase_end - phase_start).days, 1)
        start = phase_start + timedelta(days=rng.randint(0, max(0, int(length * 0.7))))
        finish = min(start + timedelta(days=rng.randint(1, max(2, length // 3))), phase_end)
        roll = rng.random()
        if roll < 0.08:
            estimate: int | float | None = 0
        elif roll < 0.2:
            estimate = None
        else:
            estimate = json_number(Decimal(rng.randint(4, 160)) / 2)
        task = _PlanTask(
            name=rng.choice(TASK_NAMES),
            start=start,
            finish=finish,
            assignee=rng.choice(team) if rng.random() < 0.85 else None,
            estimate=estimate,
            milestone_flag=False if rng.random() < 0.8 else None,
            comment=rng.choice(COMMENTS) if rng.random() < 0.1 else None,
        )
        self.progress(project, task)
        return task

    def plan_milestone(self, project: Project, phase_name: str, due: date) -> _PlanTask:
        rng = self.rng
        task = _PlanTask(
            name=f"{phase_name} complete",
            start=due,
            finish=due,
            is_milestone=True,
            milestone_flag=True,
            assignee=project.project_manager if rng.random() < 0.5 else None,
            estimate=0 if rng.random() < 0.4 else None,
        )
        self.progress(project, task)
        return task

    def done_probability(self, project: Project) -> float:
        return {"closed": 0.97, "active": 0.85, "on_hold": 0.6, "cancelled": 0.4}.get(project.stage, 0.9)

    def progress(self, project: Project, task: _PlanTask) -> None:
        rng = self.rng
        if project.stage == "idea" or task.start > self.today:
            task.percent, task.status = 0, "Not Started"
            if project.stage != "idea" and not task.is_milestone and rng.random() < 0.05:
                task.percent, task.status = 0.1, "In Progress"
            return
        if task.finish < self.today and rng.random() < self.done_probability(project):
            task.percent, task.status = 1, "Complete"
            return
        if task.is_milestone:
            task.percent, task.status = 0, "Not Started"
            return
        if rng.random() < 0.2:
            task.percent, task.status = 0, "Not Started"
            return
        task.percent = rng.choice((0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9))
        task.status = "In Progress"

    def roll_up(self, summary: _PlanTask, sum_estimates: bool) -> None:
        """Summary rows show their children's span and duration-weighted % Complete, as Smartsheet computes them."""
        for child in summary.children:
            if child.is_summary:
                self.roll_up(child, sum_estimates)
        children = summary.children
        summary.start = min(child.start for child in children)
        summary.finish = max(child.finish for child in children)
        durations = [max((child.finish - child.start).days, 1) for child in children if not child.is_milestone]
        percents = [child.percent for child in children if not child.is_milestone]
        weighted = sum(d * p for d, p in zip(durations, percents, strict=True)) / max(sum(durations), 1)
        if any(child.percent < 1 for child in children):
            # a pending milestone (no duration, so no weight) still keeps its phase open
            weighted = min(weighted, 0.99)
        summary.percent = json_number(round(weighted, 2))
        summary.status = (
            "Complete" if summary.percent == 1 else "Not Started" if summary.percent == 0 else "In Progress"
        )
        summary.milestone_flag = None
        if sum_estimates:
            summary.estimate = json_number(sum(Decimal(str(child.estimate or 0)) for child in children))
            summary.estimate_formula = True

    def add_quirks(self, project: Project, phases: list[_PlanTask]) -> None:
        """What people do to real plans: a task marked Complete at 90%, one at 100% still In Progress."""
        leaves = [
            task
            for phase in phases
            for task in _descendants(phase)
            if not task.is_summary and not task.is_milestone and task.finish < self.today
        ]
        if project.stage == "idea" or len(leaves) < 4:
            return
        complete_at_ninety, full_in_progress = self.rng.sample(leaves, 2)
        complete_at_ninety.percent, complete_at_ninety.status = 0.9, "Complete"
        full_in_progress.percent, full_in_progress.status = 1, "In Progress"


def _descendants(task: _PlanTask) -> list[_PlanTask]:
    found = []
    for child in task.children:
        found.append(child)
        found += _descendants(child)
    return found


def build_smartsheet_data(world: World) -> SmartsheetAccount:
    """The Smartsheet account of `world`; the same world always gives an identical account."""
    return _AccountBuilder(world).build()
