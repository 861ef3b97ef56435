"""A night of changes in the tools, so a second run exercises the incremental, delete and new-item paths.

`apply_night_changes(night, ...)` edits, deletes and adds a deterministic handful of records
in each running simulator, stamped a few minutes before now (the edits spread over `spread`
before that, when given, as a day's work is): in Jira about 1% of issues get a
new summary and some move to Done, two leaf issues are deleted and worklogs are logged; in
Asana tasks are renamed and completed, two leaf tasks deleted and new ones added with time;
in Smartsheet plan rows move their % Complete, one row is deleted and one added. The same
night number always makes the same changes. `python -m simulators serve --changes-night N`
applies nights 1..N at start-up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

# Two minutes back: Jira's worklog feed hides the last minute, and every edit must be visible.
LAST_EDIT_BEFORE_NOW = timedelta(minutes=2)


@dataclass
class NightChanges:
    """What one night changed, per tool (ids, so tests and the demo can check them)."""

    edited: dict[str, list[str]] = field(default_factory=dict)
    deleted: dict[str, list[str]] = field(default_factory=dict)
    added: dict[str, list[str]] = field(default_factory=dict)


def apply_night_changes(
    night: int,
    *,
    jira: Any = None,
    asana: Any = None,
    smartsheet: Any = None,
    now: datetime | None = None,
    spread: timedelta = timedelta(0),
) -> NightChanges:
    """Apply night `night`'s changes to whichever simulators are given; the edits are stamped evenly
    over the `spread` before the last of them, the deletes and additions with the last."""
    rng = random.Random(f"night-{night}")
    at = (now or datetime.now(UTC)) - LAST_EDIT_BEFORE_NOW
    changes = NightChanges()
    if jira is not None:
        _jira_night(jira, rng, at, spread, changes)
    if asana is not None:
        _asana_night(asana, rng, at, spread, changes)
    if smartsheet is not None:
        _smartsheet_night(smartsheet, rng, at, spread, changes)
    return changes


def spread_instants(last: datetime, spread: timedelta, count: int) -> list[datetime]:
    """`count` instants in time order, evenly over the `spread` that ends at `last`."""
    if count < 2:
        return [last] * count
    return [last - spread * (count - 1 - position) / (count - 1) for position in range(count)]


def _jira_night(jira: Any, rng: random.Random, at: datetime, spread: timedelta, changes: NightChanges) -> None:
    issues = sorted(jira.store.issues.values(), key=lambda issue: int(issue.id))
    parents = {issue.payload["fields"].get("parent", {}).get("id") for issue in issues}
    leaves = [issue for issue in issues if issue.id not in parents]
    edited = rng.sample(issues, max(1, len(issues) // 100))
    for position, (issue, edited_at) in enumerate(zip(edited, spread_instants(at, spread, len(edited)), strict=True)):
        if position % 3 == 0 and issue.payload["fields"]["status"]["statusCategory"]["key"] != "done":
            jira.update_issue(issue.id, at=edited_at, status="Done")
        else:
            summary = f"{issue.payload['fields']['summary']} (revised)"
            jira.update_issue(issue.id, at=edited_at, fields={"summary": summary})
    edited_ids = {issue.id for issue in edited}
    deleted = rng.sample([issue for issue in leaves if issue.id not in edited_ids], 2)
    for issue in deleted:
        jira.delete_issue(issue.id, at=at)
    authors = [user["accountId"] for user in jira.store.users if user.get("active", True)]
    added = []
    deleted_ids = {issue.id for issue in deleted}
    for issue in rng.sample([issue for issue in leaves if issue.id not in deleted_ids], 10):
        added.append(
            jira.add_worklog(
                issue.id,
                author_account_id=rng.choice(authors),
                started=at - timedelta(hours=rng.randint(2, 30)),
                time_spent_seconds=rng.choice((1800, 3600, 5400, 7200)),
                at=at,
            )
        )
    changes.edited["jira"] = [issue.id for issue in edited]
    changes.deleted["jira"] = [issue.id for issue in deleted]
    changes.added["jira_worklogs"] = added


def _asana_night(asana: Any, rng: random.Random, at: datetime, spread: timedelta, changes: NightChanges) -> None:
    tasks = sorted(asana.store.tasks.values(), key=lambda task: task["gid"])
    leaves = [task for task in tasks if not asana.store.subtasks.get(task["gid"])]
    edited = rng.sample(leaves, max(1, len(tasks) // 100))
    for position, (task, edited_at) in enumerate(zip(edited, spread_instants(at, spread, len(edited)), strict=True)):
        if position % 2 == 0 and not task.get("completed"):
            asana.complete_task(task["gid"], at=edited_at)
        else:
            asana.update_task(task["gid"], at=edited_at, name=f"{task['name']} (revised)")
    deleted = rng.sample([task for task in leaves if task not in edited and task.get("parent") is None], 2)
    for task in deleted:
        asana.delete_task(task["gid"])
    projects = sorted(asana.store.project_tasks)
    users = [user["gid"] for user in asana.store.users.values()] if isinstance(asana.store.users, dict) else []
    added = []
    for number in range(3):
        gid = asana.add_task(rng.choice(projects), at=at, name=f"Follow-up {number + 1}")
        added.append(gid)
        if users:
            asana.add_time_entry(gid, user_gid=rng.choice(users), duration_minutes=90, entered_on=at.date(), at=at)
    changes.edited["asana"] = [task["gid"] for task in edited]
    changes.deleted["asana"] = [task["gid"] for task in deleted]
    changes.added["asana"] = added


def _smartsheet_night(
    smartsheet: Any, rng: random.Random, at: datetime, spread: timedelta, changes: NightChanges
) -> None:
    plans = sorted(smartsheet.account.plan_sheets, key=lambda sheet: sheet.id)
    sheet = rng.choice(plans)
    parents = {row.get("parentId") for row in sheet.rows}
    leaves = [row for row in sheet.rows if row["id"] not in parents]
    edited = rng.sample(leaves, 3)
    for row, edited_at in zip(edited, spread_instants(at, spread, len(edited)), strict=True):
        smartsheet.update_cells(sheet.id, row["id"], {"% Complete": 1.0, "Status": "Complete"}, at=edited_at)
    deleted = rng.choice([row for row in leaves if row not in edited])
    smartsheet.delete_row(sheet.id, deleted["id"], at=at)
    added = smartsheet.add_row(
        sheet.id,
        {"Task Name": "Follow-up review", "Estimate Hours": 6, "% Complete": 0, "Status": "Not Started"},
        at=at,
    )
    changes.edited["smartsheet"] = [str(row["id"]) for row in edited]
    changes.deleted["smartsheet"] = [str(deleted["id"])]
    changes.added["smartsheet"] = [str(added)]
