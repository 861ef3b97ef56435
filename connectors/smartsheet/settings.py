"""Settings of the Smartsheet connector: one account's token, which sheets to read, and how their columns are titled.

Three kinds of sheet are read. `column_map` maps, for each kind, the contract's field names to the
column titles used in the PMO's sheets; the defaults are the register's and rate card's own column
names, and Smartsheet's project-plan template titles for plans. Only the titles that differ need
to be given: they are merged over the defaults.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from connectors.http import Secret

SOURCE_SYSTEM = "smartsheet"
DEFAULT_BASE_URL = "https://api.smartsheet.com/2.0"
# Sheets read at once; the request budget paces them all the same.
MAX_CONCURRENT_REQUESTS = 16

REGISTER_FIELDS = (
    "project_code",
    "project_name",
    "program_code",
    "program_name",
    "portfolio_code",
    "portfolio_name",
    "source_system",
    "source_project_key",
    "project_manager",
    "sponsor",
    "strategic_theme",
    "stage",
    "priority",
    "approved_budget",
    "currency",
    "baseline_start",
    "baseline_finish",
    "forecast_finish",
    "expected_benefit",
    "alignment_score",
    "default_hourly_rate",
)
RATE_CARD_FIELDS = ("email", "role", "hourly_rate", "weekly_capacity_hours", "effective_from")
PLAN_TITLES = {
    "task_name": "Task Name",
    "start": "Start",
    "finish": "Finish",
    "percent_complete": "% Complete",
    "status": "Status",
    "assigned_to": "Assigned To",
    "estimate_hours": "Estimate Hours",
    "milestone": "Milestone",
}
DEFAULT_COLUMN_MAP: dict[str, dict[str, str]] = {
    "register": {name: name for name in REGISTER_FIELDS},
    "rate_card": {name: name for name in RATE_CARD_FIELDS},
    "plan": dict(PLAN_TITLES),
}
SHEET_KINDS = tuple(DEFAULT_COLUMN_MAP)


def merged_column_map(overrides: Mapping[str, Mapping[str, str]] | None) -> dict[str, dict[str, str]]:
    """The default column map with `overrides` laid over it; unknown kinds or fields are refused."""
    merged = {kind: dict(titles) for kind, titles in DEFAULT_COLUMN_MAP.items()}
    for kind, titles in (overrides or {}).items():
        if kind not in merged:
            raise ValueError(f"column_map: unknown sheet kind {kind!r}; known: {', '.join(SHEET_KINDS)}")
        unknown = set(titles) - set(merged[kind])
        if unknown:
            raise ValueError(
                f"column_map[{kind!r}]: unknown fields {sorted(unknown)}; known: {', '.join(merged[kind])}"
            )
        for name, title in titles.items():
            if not isinstance(title, str) or not title.strip():
                raise ValueError(f"column_map[{kind!r}][{name!r}] must be a column title, not {title!r}")
            merged[kind][name] = title
    return merged


def _sheet_id(name: str, value: Any) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} must be a Smartsheet sheet id (an integer), not {value!r}") from None


def _sheet_ids(value: Any) -> tuple[int, ...] | None:
    if value is None or value == "":
        return None
    parts = value.split(",") if isinstance(value, str) else list(value)
    return tuple(_sheet_id("plan_sheet_ids", part) for part in parts if str(part).strip())


def _rate(value: Any) -> float | None:
    if value is None or str(value).strip() in ("", "0"):
        return None
    return float(value)


@dataclass(frozen=True, kw_only=True)
class SmartsheetSettings:
    """One Smartsheet account. `plan_sheet_ids` None reads the plans the register names (its rows whose
    source_system is smartsheet); `requests_per_minute` None turns the client's own budget off, else no
    more than that many requests go in any minute.
    `concurrent_requests` sheets are read at once (their rows loaded in the order of the sheets), all
    within the same request budget (Smartsheet allows 300 requests a minute per token), from the first
    sheet that takes 20 ms or more to read; sheets answered faster are read one at a time."""

    base_url: str
    token: Secret
    instance: str = "default"
    register_sheet_id: int
    rate_card_sheet_id: int
    plan_sheet_ids: tuple[int, ...] | None = None
    column_map: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: merged_column_map(None))
    requests_per_minute: float | None = 300
    page_size: int = 500
    census_page_size: int = 5000
    overlap_minutes: int = 15
    concurrent_requests: int = 4

    def __post_init__(self) -> None:
        if not isinstance(self.token, Secret):
            object.__setattr__(self, "token", Secret(self.token))
        object.__setattr__(self, "column_map", merged_column_map(self.column_map))
        if self.plan_sheet_ids is not None:
            object.__setattr__(self, "plan_sheet_ids", tuple(int(sheet_id) for sheet_id in self.plan_sheet_ids))
        if self.page_size < 1 or self.census_page_size < 1:
            raise ValueError("page sizes must be positive")
        if not 1 <= self.concurrent_requests <= MAX_CONCURRENT_REQUESTS:
            raise ValueError(
                f"concurrent_requests must be between 1 and {MAX_CONCURRENT_REQUESTS}, not {self.concurrent_requests}"
            )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SmartsheetSettings:
        """Settings from plain values (an Airflow Variable, a parsed config file): numbers and lists may
        be strings, `column_map` may be JSON text, and `requests_per_minute` 0 turns the budget off."""
        known = {item.name for item in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown Smartsheet settings {sorted(unknown)}; known: {', '.join(sorted(known))}")
        missing = [
            name for name in ("base_url", "token", "register_sheet_id", "rate_card_sheet_id") if not values.get(name)
        ]
        if missing:
            raise ValueError(f"Smartsheet connector is not configured: missing {', '.join(missing)}")
        column_map = values.get("column_map")
        if isinstance(column_map, str):
            column_map = json.loads(column_map) if column_map.strip() else None
        options: dict[str, Any] = {
            "base_url": str(values["base_url"]),
            "token": Secret(str(values["token"])),
            "register_sheet_id": _sheet_id("register_sheet_id", values["register_sheet_id"]),
            "rate_card_sheet_id": _sheet_id("rate_card_sheet_id", values["rate_card_sheet_id"]),
            "plan_sheet_ids": _sheet_ids(values.get("plan_sheet_ids")),
            "column_map": column_map,
        }
        if values.get("instance"):
            options["instance"] = str(values["instance"])
        if "requests_per_minute" in values:
            options["requests_per_minute"] = _rate(values["requests_per_minute"])
        for name in ("page_size", "census_page_size", "overlap_minutes", "concurrent_requests"):
            if values.get(name) not in (None, ""):
                options[name] = int(values[name])
        return cls(**options)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmartsheetSettings:
        """Read `SMARTSHEET_TOKEN`, `SMARTSHEET_REGISTER_SHEET_ID`, `SMARTSHEET_RATE_CARD_SHEET_ID` and the
        optional `SMARTSHEET_<SETTING>` variables (`SMARTSHEET_BASE_URL` defaults to the US region)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {"base_url": env.get("SMARTSHEET_BASE_URL") or DEFAULT_BASE_URL}
        for item in fields(cls):
            variable = f"SMARTSHEET_{item.name.upper()}"
            if item.name != "base_url" and env.get(variable) not in (None, ""):
                values[item.name] = env[variable]
        return cls.from_mapping(values)

    def __repr__(self) -> str:
        return (
            f"SmartsheetSettings(base_url={self.base_url!r}, instance={self.instance!r}, "
            f"register_sheet_id={self.register_sheet_id}, rate_card_sheet_id={self.rate_card_sheet_id}, "
            f"plan_sheet_ids={self.plan_sheet_ids!r})"
        )
