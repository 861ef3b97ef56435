"""A night of changes: deterministic, and picked up by the connectors' next incremental run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg

from connectors.asana.settings import AsanaSettings
from connectors.asana.streams import asana_instant, extract_asana
from connectors.http import Secret
from connectors.jira.settings import JiraSettings
from connectors.jira.streams import extract_jira
from connectors.smartsheet.settings import SmartsheetSettings
from connectors.smartsheet.streams import extract_smartsheet
from simulators.asana import AsanaSimulator
from simulators.changes import apply_night_changes
from simulators.jira import JiraSimulator
from simulators.smartsheet import SmartsheetSimulator
from simulators.world import WorldConfig, build_world


def live_and_deleted(url: str, table: str) -> tuple[set[str], set[str]]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(f"select record_id, is_deleted from raw.{table}").fetchall()
    return {r for r, deleted in rows if not deleted}, {r for r, deleted in rows if deleted}


def test_a_night_of_changes_lands_as_edits_tombstones_and_new_rows(warehouse_url):
    world = build_world(WorldConfig(anchor_date=date(2026, 11, 1)))
    with JiraSimulator(world) as jira, AsanaSimulator(world) as asana, SmartsheetSimulator(world) as smartsheet:
        from simulators.smartsheet_world import build_smartsheet_data

        sheets = build_smartsheet_data(world)
        jira_settings = JiraSettings(
            base_url=jira.url, email=jira.email, api_token=Secret("sim-token"), requests_per_minute=None
        )
        asana_settings = AsanaSettings.from_mapping(
            {"base_url": asana.api_url, "token": "asana-sim-token", "requests_per_minute": 0}
        )
        sheet_settings = SmartsheetSettings.from_mapping(
            {
                "base_url": smartsheet.base_url,
                "token": "smartsheet-sim-token",
                "register_sheet_id": sheets.register_sheet_id,
                "rate_card_sheet_id": sheets.rate_card_sheet_id,
                "requests_per_minute": 0,
            }
        )

        def run_all():
            extract_jira(jira_settings, warehouse_url)
            extract_asana(asana_settings, warehouse_url)
            extract_smartsheet(sheet_settings, warehouse_url)

        run_all()
        changes = apply_night_changes(1, jira=jira, asana=asana, smartsheet=smartsheet)
        again = apply_night_changes(1, jira=None, asana=None, smartsheet=None)
        assert again.edited == {}  # nothing given, nothing changed
        run_all()

    _, jira_deleted = live_and_deleted(warehouse_url, "jira_issues")
    assert set(changes.deleted["jira"]) <= jira_deleted
    asana_live, asana_deleted = live_and_deleted(warehouse_url, "asana_tasks")
    assert set(changes.deleted["asana"]) <= asana_deleted
    assert set(changes.added["asana"]) <= asana_live
    rows_live, rows_deleted = live_and_deleted(warehouse_url, "smartsheet_plan_rows")
    assert set(changes.deleted["smartsheet"]) <= rows_deleted
    assert set(changes.added["smartsheet"]) <= rows_live
    worklogs_live, _ = live_and_deleted(warehouse_url, "jira_worklogs")
    assert set(changes.added["jira_worklogs"]) <= worklogs_live
    with psycopg.connect(warehouse_url) as connection:
        revised = connection.execute(
            "select count(*) from raw.jira_issues where record_id = any(%s)"
            " and (payload->'fields'->>'summary' like '%%(revised)' or payload->'fields'->'status'->>'name' = 'Done')",
            (changes.edited["jira"],),
        ).fetchone()[0]
    assert revised == len(changes.edited["jira"])


def test_a_nights_edits_are_stamped_across_the_spread_before_the_last_and_at_one_instant_without_it():
    world = build_world(WorldConfig(anchor_date=date(2026, 11, 1)))
    now = datetime(2026, 11, 1, 18, tzinfo=UTC)
    last = now - timedelta(minutes=2)
    with AsanaSimulator(world) as asana, SmartsheetSimulator(world) as smartsheet:
        changes = apply_night_changes(2, asana=asana, smartsheet=smartsheet, now=now, spread=timedelta(hours=6))
        tasks = sorted(parse_instant(asana.store.tasks[gid]["modified_at"]) for gid in changes.edited["asana"])
        rows = {str(row["id"]): row for sheet in smartsheet.account.plan_sheets for row in sheet.rows}
        stamps = sorted(parse_instant(rows[row_id]["modifiedAt"]) for row_id in changes.edited["smartsheet"])
    for edited in (tasks, stamps):
        assert abs(edited[-1] - last) < timedelta(seconds=1)  # Smartsheet keeps whole seconds
        assert last - timedelta(hours=6) <= edited[0] < last - timedelta(hours=5)
        assert len(set(edited)) == len(edited)

    world = build_world(WorldConfig(anchor_date=date(2026, 11, 1)))
    with AsanaSimulator(world) as asana:
        changes = apply_night_changes(2, asana=asana, now=now)
        assert {asana.store.tasks[gid]["modified_at"] for gid in changes.edited["asana"]} == {asana_instant(last)}


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
