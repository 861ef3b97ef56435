"""A night of changes for the incremental measure: 1% of the work items and of the time entries of each tool.

`simulators.changes.apply_night_changes` makes a night's ordinary edits (about 1% of Jira issues
and Asana tasks, a few Smartsheet rows, deletes, new items and a few new time entries); this tops
the edits up to 1% of every tool's work items (Smartsheet plan rows included) and edits 1% of the
time entries (Jira worklogs, Asana time entries; Smartsheet has none). The same night number
always makes the same changes.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from bench.landing import Sites
from simulators.changes import apply_night_changes

SHARE = 0.01


def change_one_percent(sites: Sites, night: int = 1) -> dict[str, int]:
    """Apply night `night` to the running simulators; returns how many records of each kind it changed."""
    now = datetime.now(UTC)
    changes = apply_night_changes(night, jira=sites.jira, asana=sites.asana, smartsheet=sites.smartsheet, now=now)
    at = now - timedelta(minutes=2)
    rng = random.Random(f"bench-night-{night}")
    counts = {
        "jira issues": len(changes.edited.get("jira", [])),
        "asana tasks": len(changes.edited.get("asana", [])),
        "smartsheet rows": len(changes.edited.get("smartsheet", [])),
    }
    if sites.jira is not None:
        worklogs = sorted(sites.jira.store.worklogs, key=int)
        # edits a millisecond apart, as people make them: the worklog feed pages by instant
        for offset, worklog_id in enumerate(rng.sample(worklogs, max(1, round(len(worklogs) * SHARE)))):
            seconds = sites.jira.store.worklogs[worklog_id].payload["timeSpentSeconds"]
            edited_at = at - timedelta(milliseconds=offset)
            sites.jira.update_worklog(worklog_id, at=edited_at, time_spent_seconds=seconds + 900)
            counts["jira worklogs"] = counts.get("jira worklogs", 0) + 1
    if sites.asana is not None:
        entries = sorted(sites.asana.store.time_entries, key=int)
        for gid in rng.sample(entries, max(1, round(len(entries) * SHARE))):
            minutes = sites.asana.store.time_entries[gid]["duration_minutes"]
            sites.asana.update_time_entry(gid, duration_minutes=minutes + 15)
            counts["asana time entries"] = counts.get("asana time entries", 0) + 1
    if sites.smartsheet is not None:
        rows = [
            (sheet.id, row["id"])
            for sheet in sorted(sites.smartsheet.account.plan_sheets, key=lambda sheet: sheet.id)
            for row in sheet.rows
        ]
        wanted = max(1, round(len(rows) * SHARE)) - counts["smartsheet rows"]
        for sheet_id, row_id in rng.sample(rows, max(0, wanted)):
            sites.smartsheet.update_cells(sheet_id, row_id, {"% Complete": round(rng.random(), 2)}, at=at)
            counts["smartsheet rows"] += 1
    return counts
