"""Settings of the Jira connector: one Jira Cloud site, its credentials and how to page it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from connectors.http import Secret

SOURCE_SYSTEM = "jira"

# Fields asked for on every issue (the search endpoint returns only `id` unless told).
ISSUE_FIELDS = (
    "summary",
    "created",
    "updated",
    "duedate",
    "issuetype",
    "parent",
    "project",
    "assignee",
    "reporter",
    "status",
    "resolution",
    "resolutiondate",
    "priority",
    "timetracking",
    "timeoriginalestimate",
    "labels",
)

# Custom fields wanted by name; their ids differ per site and are looked up through /rest/api/3/field.
CUSTOM_FIELD_NAMES = ("Story Points", "Sprint")


@dataclass(frozen=True)
class JiraSettings:
    base_url: str
    email: str
    api_token: Secret
    instance: str = "default"
    issue_page_size: int = 100
    census_page_size: int = 5000
    overlap_minutes: int = 15
    requests_per_minute: float | None = 6000
    burst: int = 100
    custom_field_names: tuple[str, ...] = field(default=CUSTOM_FIELD_NAMES)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> JiraSettings:
        """Read `JIRA_BASE_URL`, `JIRA_EMAIL`, `JIRA_API_TOKEN` (and optional tuning variables)."""
        env = os.environ if environ is None else environ
        missing = [name for name in ("JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN") if not env.get(name)]
        if missing:
            raise ValueError(f"Jira connector is not configured: set {', '.join(missing)}")
        rate = env.get("JIRA_REQUESTS_PER_MINUTE")
        return cls(
            base_url=env["JIRA_BASE_URL"],
            email=env["JIRA_EMAIL"],
            api_token=Secret(env["JIRA_API_TOKEN"]),
            instance=env.get("JIRA_INSTANCE", "default"),
            overlap_minutes=int(env.get("JIRA_OVERLAP_MINUTES", "15")),
            requests_per_minute=None if rate == "0" else float(rate or 6000),
        )

    def __repr__(self) -> str:
        return f"JiraSettings(base_url={self.base_url!r}, email={self.email!r}, instance={self.instance!r})"
