"""Settings of the Jira connector: one Jira Cloud site, its credentials and how to page it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

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
    "timeestimate",
    "timespent",
    "statuscategorychangedate",
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
    streams_in_parallel: bool = True
    custom_field_names: tuple[str, ...] = field(default=CUSTOM_FIELD_NAMES)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> JiraSettings:
        """Settings from a dict of field names (a section of the sources config)."""
        known = {item.name for item in fields(cls)}
        unknown = set(mapping) - known
        if unknown:
            raise ValueError(f"unknown Jira settings {sorted(unknown)}; known: {sorted(known)}")
        missing = [name for name in ("base_url", "email", "api_token") if not mapping.get(name)]
        if missing:
            raise ValueError(f"Jira connector is not configured: set {', '.join(missing)}")
        values: dict[str, Any] = {key: value for key, value in mapping.items() if value is not None}
        values["api_token"] = Secret(str(values["api_token"]))
        rate = mapping.get("requests_per_minute", 6000)
        values["requests_per_minute"] = None if rate in (None, 0, "0", "", "off") else float(rate)
        for name in ("issue_page_size", "census_page_size", "overlap_minutes", "burst"):
            if name in values:
                values[name] = int(values[name])
        if "streams_in_parallel" in values:
            values["streams_in_parallel"] = _flag(values["streams_in_parallel"], "streams_in_parallel")
        if "custom_field_names" in values:
            values["custom_field_names"] = tuple(values["custom_field_names"])
        return cls(**values)

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


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise ValueError(f"Jira setting {name} must be true or false, got {value!r}")
