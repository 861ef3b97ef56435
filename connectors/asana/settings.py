"""Settings of the Asana connector: one workspace, its token, and how to page and pace it.

`opt_fields` lists live here too: Asana returns only a compact record (`gid`, `resource_type`,
`name`) unless every wanted field is named, so each stream names all the fields the warehouse reads.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from connectors.http import Secret

SOURCE_SYSTEM = "asana"
DEFAULT_BASE_URL = "https://app.asana.com/api/1.0"
MAX_PAGE_SIZE = 100
MAX_CONCURRENT_REQUESTS = 50
TIME_ENTRY_SOURCES = ("workspace", "task")

WORKSPACE_FIELDS = ("name", "is_organization", "email_domains")
USER_FIELDS = ("name", "email", "workspaces", "workspaces.name")
PORTFOLIO_FIELDS = (
    "name",
    "color",
    "created_at",
    "created_by",
    "created_by.name",
    "owner",
    "owner.name",
    "workspace",
    "workspace.name",
    "start_on",
    "due_on",
    "public",
    "permalink_url",
)
PORTFOLIO_ITEM_FIELDS = ("name", "resource_type")
PROJECT_FIELDS = (
    "name",
    "archived",
    "color",
    "completed",
    "completed_at",
    "created_at",
    "modified_at",
    "start_on",
    "due_on",
    "default_view",
    "notes",
    "owner",
    "owner.name",
    "team",
    "team.name",
    "workspace",
    "workspace.name",
    "current_status_update",
    "current_status_update.title",
    "privacy_setting",
    "public",
    "permalink_url",
)
SECTION_FIELDS = ("name", "created_at", "project", "project.name")
CUSTOM_FIELD_SETTING_FIELDS = (
    "is_important",
    "project",
    "project.name",
    "parent",
    "parent.name",
    "custom_field",
    "custom_field.name",
    "custom_field.type",
    "custom_field.resource_subtype",
    "custom_field.precision",
    "custom_field.enum_options",
    "custom_field.enum_options.name",
    "custom_field.enum_options.color",
    "custom_field.enum_options.enabled",
)
TASK_FIELDS = (
    "name",
    "resource_subtype",
    "completed",
    "completed_at",
    "created_at",
    "modified_at",
    "due_on",
    "due_at",
    "start_on",
    "assignee",
    "assignee.name",
    "parent",
    "parent.name",
    "parent.resource_subtype",
    "memberships.project",
    "memberships.project.name",
    "memberships.section",
    "memberships.section.name",
    "custom_fields",
    "custom_fields.name",
    "custom_fields.type",
    "custom_fields.resource_subtype",
    "custom_fields.precision",
    "custom_fields.number_value",
    "custom_fields.enum_value",
    "custom_fields.enum_value.name",
    "custom_fields.display_value",
    "num_subtasks",
    "workspace",
    "permalink_url",
)
# What the id census of a project's tasks asks for: ids, and which tasks have subtasks to walk.
TASK_CENSUS_FIELDS = ("num_subtasks",)
TIME_ENTRY_FIELDS = (
    "duration_minutes",
    "entered_on",
    "created_at",
    "created_by",
    "created_by.name",
    "attributable_to",
    "attributable_to.name",
    "task",
    "task.name",
    "task.resource_subtype",
    "approval_status",
    "billable_status",
)
STATUS_UPDATE_FIELDS = (
    "title",
    "text",
    "status_type",
    "resource_subtype",
    "created_at",
    "modified_at",
    "author",
    "author.name",
    "created_by",
    "created_by.name",
    "parent",
    "parent.name",
)


@dataclass(frozen=True)
class AsanaSettings:
    """One Asana workspace to extract. `workspace_gid` None means "the only workspace the token sees".

    `requests_per_minute` None turns client-side pacing off (Asana allows 150/min on free plans and
    1,500/min on paid ones); otherwise no more than that many go in any minute, a batch counting
    as its actions. Time entries are read across the workspace by date range
    (`time_entries_from="workspace"`, a date range per recent month) or per task (`"task"`, one list
    per task) for plans where the workspace-wide endpoint is unavailable. Lists that do not depend on
    each other (each parent's subtasks, each project's sections) are read `concurrent_requests` at a
    time, through Asana's batch API: batches of up to 10 lists, `concurrent_requests // 10` of them in
    flight (Asana serves at most 50 reads in flight per token, a batch's actions included); 1 reads
    one list a request, without batches.
    """

    base_url: str
    token: Secret
    workspace_gid: str | None = None
    instance: str = "default"
    estimate_field_name: str = "Estimated hours"
    requests_per_minute: float | None = 1500
    page_size: int = 100
    overlap_minutes: int = 15
    concurrent_requests: int = 20
    portfolio_owner: str = "me"
    time_entries_from: str = "workspace"
    time_entries_start_date: date = date(2000, 1, 1)

    def __post_init__(self) -> None:
        if not self.token:
            raise ValueError("Asana connector is not configured: the token is empty")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {self.page_size}")
        if self.time_entries_from not in TIME_ENTRY_SOURCES:
            raise ValueError(f"time_entries_from must be one of {TIME_ENTRY_SOURCES}, not {self.time_entries_from!r}")
        if self.overlap_minutes < 0:
            raise ValueError("overlap_minutes must not be negative")
        if not 1 <= self.concurrent_requests <= MAX_CONCURRENT_REQUESTS:
            raise ValueError(
                f"concurrent_requests must be between 1 and {MAX_CONCURRENT_REQUESTS}, not {self.concurrent_requests}"
            )
        if not isinstance(self.token, Secret):
            object.__setattr__(self, "token", Secret(self.token))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> AsanaSettings:
        """Settings from a dict of field names (an Airflow connection's extras, a config file section)."""
        known = {item.name for item in fields(cls)}
        unknown = set(mapping) - known
        if unknown:
            raise ValueError(f"unknown Asana settings {sorted(unknown)}; known: {sorted(known)}")
        if not mapping.get("token"):
            raise ValueError("Asana connector is not configured: set token")
        values: dict[str, Any] = {key: value for key, value in mapping.items() if value is not None and value != ""}
        values.setdefault("base_url", DEFAULT_BASE_URL)
        values["token"] = Secret(str(values["token"]))
        if "workspace_gid" in values:
            values["workspace_gid"] = str(values["workspace_gid"])
        rate = mapping.get("requests_per_minute", 1500)
        values["requests_per_minute"] = None if rate in (None, 0, "0", "", "off") else float(rate)
        for name in ("page_size", "overlap_minutes", "concurrent_requests"):
            if name in values:
                values[name] = int(values[name])
        if isinstance(values.get("time_entries_start_date"), str):
            values["time_entries_start_date"] = date.fromisoformat(values["time_entries_start_date"])
        return cls(**values)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AsanaSettings:
        """Read `ASANA_TOKEN` (and `ASANA_BASE_URL`, `ASANA_WORKSPACE_GID`, `ASANA_<SETTING>` for the rest)."""
        env = os.environ if environ is None else environ
        names = [item.name for item in fields(cls)]
        mapping = {name: env[f"ASANA_{name.upper()}"] for name in names if env.get(f"ASANA_{name.upper()}")}
        if not mapping.get("token"):
            raise ValueError("Asana connector is not configured: set ASANA_TOKEN")
        return cls.from_mapping(mapping)

    def __repr__(self) -> str:
        return (
            f"AsanaSettings(base_url={self.base_url!r}, workspace_gid={self.workspace_gid!r}, "
            f"instance={self.instance!r}, estimate_field_name={self.estimate_field_name!r}, "
            f"requests_per_minute={self.requests_per_minute!r}, page_size={self.page_size!r})"
        )
