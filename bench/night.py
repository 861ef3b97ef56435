"""A night of changes for the incremental measure: 1% of the work items and of the time entries of each tool.

`simulators.changes.apply_night_changes` makes a night's ordinary edits (about 1% of Jira issues
and Asana tasks, a few Smartsheet rows, deletes, new items and a few new time entries); this tops
the edits up to 1% of every tool's work items (Smartsheet plan rows included) and edits 1% of the
time entries (Jira worklogs, Asana time entries; Smartsheet has none). The same night number
always makes the same changes.

The edits are stamped across the day before the night (`edit_window`), as people make them: the
connectors read their tools from a watermark set back by an overlap of minutes, and edits stamped
all at one instant would all lie in the next night's overlap, which would read them again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.landing import Sites
from simulators.changes import LAST_EDIT_BEFORE_NOW, apply_night_changes, spread_instants

SHARE = 0.01
# The edits of a working day, before the night that reads them.
WORKING_DAY = timedelta(hours=12)
# The edits stay this far after the world's history, so that the night reads every one of them.
AFTER_HISTORY = timedelta(minutes=5)


@dataclass
class NightOfChanges:
    """How many records of each kind a night changed, and over how long before it they were edited."""

    counts: dict[str, int]
    window: timedelta


def edit_window(history_end: datetime, now: datetime) -> timedelta:
    """How long before the last edit the night's edits start: a working day, or less when the
    world's history (which ends at `history_end`, its anchor date's midnight) ended more recently."""
    room = now - LAST_EDIT_BEFORE_NOW - AFTER_HISTORY - history_end
    return max(timedelta(0), min(WORKING_DAY, room))


def describe_window(window: timedelta) -> str:
    """`window` for the bench's table: hours, minutes, or one instant."""
    if window >= timedelta(hours=1):
        return f"{window / timedelta(hours=1):.1f} h"
    if window >= timedelta(minutes=1):
        return f"{window // timedelta(minutes=1)} min"
    return "one instant"


def change_one_percent(sites: Sites, night: int = 1, now: datetime | None = None) -> NightOfChanges:
    """Apply night `night` to the running simulators, its edits stamped over `edit_window` before
    now."""
    now = now or datetime.now(UTC)
    spread = edit_window(sites.world.anchor_instant, now)
    changes = apply_night_changes(
        night, jira=sites.jira, asana=sites.asana, smartsheet=sites.smartsheet, now=now, spread=spread
    )
    at = now - LAST_EDIT_BEFORE_NOW
    rng = random.Random(f"bench-night-{night}")
    counts = {
        "jira issues": len(changes.edited.get("jira", [])),
        "asana tasks": len(changes.edited.get("asana", [])),
        "smartsheet rows": len(changes.edited.get("smartsheet", [])),
    }
    if sites.jira is not None:
        worklogs = sorted(sites.jira.store.worklogs, key=int)
        chosen = rng.sample(worklogs, max(1, round(len(worklogs) * SHARE)))
        # at least a millisecond apart, as people make them: the worklog feed pages by instant
        for offset, (worklog_id, instant) in enumerate(
            zip(chosen, reversed(spread_instants(at, spread, len(chosen))), strict=True)
        ):
            seconds = sites.jira.store.worklogs[worklog_id].payload["timeSpentSeconds"]
            edited_at = instant - timedelta(milliseconds=offset)
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
        chosen_rows = rng.sample(rows, max(0, wanted))
        for (sheet_id, row_id), edited_at in zip(
            chosen_rows, spread_instants(at, spread, len(chosen_rows)), strict=True
        ):
            sites.smartsheet.update_cells(sheet_id, row_id, {"% Complete": round(rng.random(), 2)}, at=edited_at)
            counts["smartsheet rows"] += 1
    return NightOfChanges(counts, spread)
