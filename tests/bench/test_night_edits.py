"""The bench's night of changes: its edits stamped across the working day before the night, so that
the night after it, with nothing changed, reads again only those inside the connectors' overlap."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta

import pytest

from bench.landing import tool_sites
from bench.night import WORKING_DAY, change_one_percent, describe_window, edit_window
from connectors.jira.settings import JiraSettings

MIDNIGHT = datetime(2026, 11, 30, tzinfo=UTC)


def fields_of(settings_class: type) -> dict:
    return {field.name: field for field in fields(settings_class)}


@pytest.mark.parametrize(
    ("now", "window"),
    [
        (MIDNIGHT + timedelta(hours=20), WORKING_DAY),
        (MIDNIGHT + timedelta(hours=3), timedelta(hours=3) - timedelta(minutes=7)),
        (MIDNIGHT + timedelta(minutes=4), timedelta(0)),
    ],
)
def test_the_edits_span_a_working_day_and_never_reach_back_into_the_worlds_history(now, window):
    assert edit_window(MIDNIGHT, now) == window


def test_the_window_reads_in_hours_minutes_or_as_one_instant():
    assert describe_window(timedelta(hours=12)) == "12.0 h"
    assert describe_window(timedelta(minutes=53, seconds=20)) == "53 min"
    assert describe_window(timedelta(0)) == "one instant"


def test_a_night_of_changes_spreads_its_edits_so_the_next_nights_overlap_holds_few_of_them():
    with tool_sites("demo", ("jira", "smartsheet")) as sites:
        now = sites.world.anchor_instant + timedelta(hours=14)
        before = {issue_id: issue.updated_at for issue_id, issue in sites.jira.store.issues.items()}
        applied = change_one_percent(sites, now=now)
        edited = sorted(
            issue.updated_at
            for issue_id, issue in sites.jira.store.issues.items()
            if issue.updated_at != before.get(issue_id)
        )

    assert applied.window == WORKING_DAY
    assert applied.counts["jira worklogs"] > 0
    last_edit = now - timedelta(minutes=2)
    assert edited[-1] == last_edit.replace(microsecond=last_edit.microsecond // 1000 * 1000)
    assert edited[0] >= sites.world.anchor_instant
    assert edited[-1] - edited[0] > WORKING_DAY - timedelta(hours=1)
    # The next night reads again what lies within its overlap of the newest edit: the edits spread
    # over the day, and the worklogs the night adds, all stamped last.
    overlap = timedelta(minutes=fields_of(JiraSettings)["overlap_minutes"].default)
    in_overlap = [instant for instant in edited if instant >= edited[-1] - overlap]
    assert len(in_overlap) < len(edited) / 5
