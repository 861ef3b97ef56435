"""The Smartsheet connector against the Smartsheet simulator over real HTTP, landing in a real PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from connectors.http import ApiError, RetryPolicy, Secret
from connectors.runs import StreamResult
from connectors.smartsheet.client import SmartsheetClient
from connectors.smartsheet.settings import SmartsheetSettings
from connectors.smartsheet.streams import (
    SheetColumnsError,
    SmartsheetExtractor,
    extract_smartsheet,
    parse_instant,
)
from simulators.faults import Fault
from simulators.smartsheet import SmartsheetSimulator
from simulators.smartsheet_world import SmartsheetAccount, SmartsheetSheet
from tests.connectors.smartsheet.conftest import TOKEN

# quick retries, and a read timeout short enough that a slow answer is given up on and asked again
FAST_RETRY = RetryPolicy(backoff_base_seconds=0.01, backoff_cap_seconds=0.05, timeout=(2.0, 0.4))
AFTER_ANCHOR = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
ROW_STREAMS = ("register_rows", "rate_card_rows", "plan_rows")


def run(settings: SmartsheetSettings, warehouse_url: str, **options: Any) -> dict[str, dict[str, Any]]:
    results = extract_smartsheet(settings, warehouse_url, retry=FAST_RETRY, **options)
    return {result["stream"]: result for result in results}


def raw_rows(url: str, stream: str) -> dict[str, dict[str, Any]]:
    """A raw table's rows by record id: is_deleted, deleted_at and payload."""
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            f"select record_id, is_deleted, deleted_at, payload from raw.smartsheet_{stream}"
        ).fetchall()
    return {
        record_id: {"is_deleted": is_deleted, "deleted_at": deleted_at, "payload": payload}
        for record_id, is_deleted, deleted_at, payload in rows
    }


def stream_state(url: str, stream: str) -> dict[str, Any]:
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "select state from raw._stream_state where source_system = 'smartsheet' and stream = %s", (stream,)
        ).fetchone()
    return row[0]


def last_batch(url: str, stream: str) -> tuple[str, str | None]:
    with psycopg.connect(url) as connection:
        return connection.execute(
            "select status, error from raw._load_batches where source_system = 'smartsheet' and stream = %s"
            " order by started_at desc limit 1",
            (stream,),
        ).fetchone()


def row_ids(*sheets: SmartsheetSheet) -> set[str]:
    return {str(row["id"]) for sheet in sheets for row in sheet.rows}


def leaf_rows(sheet: SmartsheetSheet) -> list[dict]:
    parents = {row.get("parentId") for row in sheet.rows}
    return [row for row in sheet.rows if row["id"] not in parents and sheet.value(row, "Milestone") is not True]


def by_id_requests(simulator: SmartsheetSimulator) -> list[str]:
    return [record.path for record in simulator.requests if "rowIds" in record.query]


def as_json(value: Any) -> str:
    """JSON text, where 0 and false (equal in Python) differ."""
    return json.dumps(value, sort_keys=True)


def test_a_full_run_lands_every_sheet_and_row_paging_each_sheet_to_its_last_page(
    simulator, settings_for, warehouse_url, account: SmartsheetAccount
):
    results = run(settings_for(simulator, page_size=7), warehouse_url)

    assert set(raw_rows(warehouse_url, "plan_rows")) == row_ids(*account.plan_sheets)
    assert set(raw_rows(warehouse_url, "register_rows")) == row_ids(account.register_sheet)
    assert set(raw_rows(warehouse_url, "rate_card_rows")) == row_ids(account.rate_card_sheet)
    expected_pages = 0
    for sheet in account.plan_sheets:
        pages = [int(r.query["page"][0]) for r in simulator.requests if r.path == f"/2.0/sheets/{sheet.id}"]
        assert pages == list(range(1, math.ceil(len(sheet.rows) / 7) + 1)), "every page once, none past the last"
        expected_pages += len(pages)
    assert results["plan_rows"]["pages"] == expected_pages
    assert results["plan_rows"]["records"] == len(row_ids(*account.plan_sheets))
    assert all(results[stream]["rejected"] == 0 and results[stream]["deleted"] == 0 for stream in ROW_STREAMS)

    sheets = raw_rows(warehouse_url, "sheets")
    assert set(sheets) == {str(sheet.id) for sheet in account.sheets}
    register = sheets[str(account.register_sheet_id)]["payload"]
    assert register["sheet_kind"] == "register" and register["columns"] == account.register_sheet.columns
    assert {sheets[str(sheet.id)]["payload"]["sheet_kind"] for sheet in account.plan_sheets} == {"plan"}
    other = next(sheet for sheet in account.sheets if sheet.kind == "other")
    assert sheets[str(other.id)]["payload"]["sheet_kind"] is None
    assert all(sheets[str(sheet.id)]["payload"]["columns"] == sheet.columns for sheet in account.plan_sheets)
    assert sheets_read(simulator, account.sheets, "/columns") == set(), "the columns came with the rows read"


def test_a_full_run_within_smartsheets_per_minute_limit_neither_waits_nor_meets_a_429(
    smartsheet_world, settings_for, warehouse_url, account: SmartsheetAccount
):
    limit = 300
    with SmartsheetSimulator(smartsheet_world, account=account, token=TOKEN, requests_per_minute=limit) as limited:
        results = run(settings_for(limited, page_size=7, requests_per_minute=limit), warehouse_url)

    assert 30 < len(limited.requests) < limit  # past the 10 at once a token bucket paced to 5 a second allowed
    assert sum(result["wait_seconds"] for result in results.values()) == 0
    assert sum(result["rate_limited"] for result in results.values()) == 0
    assert set(raw_rows(warehouse_url, "plan_rows")) == row_ids(*account.plan_sheets)


def test_the_sheet_list_is_paged_to_its_last_page(simulator, settings_for, account: SmartsheetAccount):
    client = SmartsheetClient(settings_for(simulator), retry=FAST_RETRY)

    pages = list(client.list_sheets(page_size=3))

    assert sorted(item["id"] for page in pages for item in page) == sorted(sheet.id for sheet in account.sheets)
    assert len(pages) == math.ceil(len(account.sheets) / 3) == len(simulator.requests)


def test_plan_sheets_default_to_the_smartsheet_projects_named_in_the_register(
    simulator, settings_for, warehouse_url, account: SmartsheetAccount
):
    run(settings_for(simulator), warehouse_url, streams=["plan_rows"])

    landed = {payload["payload"]["sheet_id"] for payload in raw_rows(warehouse_url, "plan_rows").values()}
    assert landed == set(account.plan_sheet_ids.values())


def register_reads(simulator: SmartsheetSimulator, account: SmartsheetAccount) -> list[dict[str, list[str]]]:
    """The queries of the requests for the register's rows, census requests left out."""
    path = f"/2.0/sheets/{account.register_sheet_id}"
    return [record.query for record in simulator.requests if record.path == path and "columnIds" not in record.query]


def test_plan_sheets_come_from_the_register_landed_in_the_same_run(
    simulator, settings_for, warehouse_url, account: SmartsheetAccount
):
    settings = settings_for(simulator)
    run(settings, warehouse_url)
    assert len(register_reads(simulator, account)) == 1, "the register is read once, by its own stream"

    code, moved = next(iter(account.plan_sheet_ids.items()))
    simulator.update_register(code, {"source_system": "jira"}, at=AFTER_ANCHOR)
    edited = next(sheet for sheet in account.plan_sheets if sheet.id == moved)
    simulator.update_cells(moved, leaf_rows(edited)[0]["id"], {"Comments": "edited tonight"}, at=AFTER_ANCHOR)
    simulator.requests.clear()
    results = run(settings, warehouse_url)

    assert len(register_reads(simulator, account)) == 1, "the register is read once, by its own stream"
    assert moved not in sheets_read(simulator, account.plan_sheets), "the register no longer names it for Smartsheet"
    assert results["register_rows"]["records"] >= 1
    sheets = raw_rows(warehouse_url, "sheets")
    assert sheets[str(moved)]["payload"]["sheet_kind"] is None
    assert {sheets[str(sheet_id)]["payload"]["sheet_kind"] for sheet_id in account.plan_sheet_ids.values()} == {
        "plan",
        None,
    }


def test_typed_values_round_trip_into_raw_json(simulator, settings_for, warehouse_url, account: SmartsheetAccount):
    run(settings_for(simulator), warehouse_url, streams=list(ROW_STREAMS))

    for stream, sheets in (
        ("register_rows", [account.register_sheet]),
        ("rate_card_rows", [account.rate_card_sheet]),
        ("plan_rows", account.plan_sheets),
    ):
        landed = raw_rows(warehouse_url, stream)
        for sheet in sheets:
            for row in sheet.rows:
                payload = landed[str(row["id"])]["payload"]
                assert as_json({key: payload[key] for key in row}) == as_json(row), "the row as the API returned it"
                assert as_json(payload["cells_by_title"]) == as_json(sheet.values(row))
                assert (payload["sheet_id"], payload["sheet_name"]) == (sheet.id, sheet.name)

    leaves = [(sheet, row) for sheet in account.plan_sheets for row in leaf_rows(sheet)]
    zero = sum(sheet.value(row, "Estimate Hours") == 0 for sheet, row in leaves)
    empty = sum(sheet.value(row, "Estimate Hours") is None for sheet, row in leaves)
    unchecked = sum(sheet.value(row, "Milestone") is False for sheet, row in leaves)
    assert zero and empty and unchecked
    plan_leaf_ids = [str(row["id"]) for _, row in leaves]
    with psycopg.connect(warehouse_url) as connection:

        def count(path: str, value: str) -> int:
            return connection.execute(
                "select count(*) from raw.smartsheet_plan_rows where record_id = any(%s)"
                " and payload->'cells_by_title'->%s = %s::jsonb",
                (plan_leaf_ids, path, value),
            ).fetchone()[0]

        assert count("Estimate Hours", "0") == zero, "0 stays the number 0"
        assert count("Estimate Hours", "null") == empty, "an empty cell is null, not 0 or an empty string"
        assert count("Milestone", "false") == unchecked
        assert count("% Complete", "1") == sum(sheet.value(row, "% Complete") == 1 for sheet, row in leaves)

    plan = account.plan_sheets[0]
    payload = raw_rows(warehouse_url, "plan_rows")[str(plan.rows[1]["id"])]["payload"]
    assert payload["contract_fields"] == {
        "task_name": plan.value(plan.rows[1], "Task Name"),
        "start": plan.value(plan.rows[1], "Start"),
        "finish": plan.value(plan.rows[1], "Finish"),
        "percent_complete": plan.value(plan.rows[1], "% Complete"),
        "status": plan.value(plan.rows[1], "Status"),
        "assigned_to": plan.value(plan.rows[1], "Assigned To"),
        "estimate_hours": plan.value(plan.rows[1], "Estimate Hours"),
        "milestone": plan.value(plan.rows[1], "Milestone"),
    }
    register = raw_rows(warehouse_url, "register_rows")
    for row in account.register_sheet.rows:
        payload = register[str(row["id"])]["payload"]
        assert as_json(payload["contract_fields"]) == as_json(payload["cells_by_title"])


def test_an_incremental_run_after_update_cells_picks_up_exactly_that_row(
    simulator, settings_for, warehouse_url, account: SmartsheetAccount
):
    settings = settings_for(simulator)
    run(settings, warehouse_url)
    before = raw_rows(warehouse_url, "plan_rows")
    sheet = account.plan_sheets[2]
    row = next(row for row in leaf_rows(sheet) if sheet.value(row, "% Complete") != 1)

    simulator.update_cells(sheet.id, row["id"], {"% Complete": 1, "Status": "Complete"}, at=AFTER_ANCHOR)
    results = run(settings, warehouse_url)
    after = raw_rows(warehouse_url, "plan_rows")

    changed = {record_id for record_id in after if after[record_id]["payload"] != before[record_id]["payload"]}
    assert changed == {str(row["id"])}
    landed = after[str(row["id"])]["payload"]
    assert landed["modifiedAt"] == "2026-11-30T10:00:00Z"
    assert landed["cells_by_title"]["% Complete"] == 1 and landed["cells_by_title"]["Status"] == "Complete"
    assert results["plan_rows"]["records"] < 20, "only the changed row and the overlap window are read again"
    assert not by_id_requests(simulator), "the incremental pages found it"
    assert stream_state(warehouse_url, "plan_rows")["sheets"][str(sheet.id)]["watermark"] == "2026-11-30T10:00:00Z"


def test_a_row_modified_a_second_before_the_watermark_is_not_missed_in_any_time_zone(
    simulator, settings_for, warehouse_url, account: SmartsheetAccount
):
    settings = settings_for(simulator)
    run(settings, warehouse_url)
    watermarks = stream_state(warehouse_url, "plan_rows")["sheets"]
    zones = (
        "Pacific/Kiritimati",
        "Pacific/Pago_Pago",
        "Asia/Kolkata",
        "America/St_Johns",
        "Australia/Lord_Howe",
        "UTC",
    )
    edited = {}
    for sheet, zone in zip(account.plan_sheets, zones, strict=False):
        watermark = parse_instant(watermarks[str(sheet.id)]["watermark"])
        row = min(sheet.rows, key=lambda row: row["modifiedAt"])
        at = (watermark - timedelta(seconds=1)).astimezone(ZoneInfo(zone))
        simulator.update_cells(sheet.id, row["id"], {"Comments": f"edited in {zone}"}, at=at)
        edited[str(row["id"])] = zone

    run(settings, warehouse_url)

    landed = raw_rows(warehouse_url, "plan_rows")
    assert {row_id: landed[row_id]["payload"]["cells_by_title"]["Comments"] for row_id in edited} == {
        row_id: f"edited in {zone}" for row_id, zone in edited.items()
    }
    assert not by_id_requests(simulator), "the incremental pages found them"


def test_a_change_older_than_the_overlap_window_is_caught_by_the_row_census(
    simulator, settings_for, warehouse_url, account: SmartsheetAccount
):
    # pages smaller than the sheet: it is read by its rows modified since and its census, not whole
    settings = settings_for(simulator, page_size=7)
    run(settings, warehouse_url)
    sheet = account.plan_sheets[1]
    watermark = parse_instant(stream_state(warehouse_url, "plan_rows")["sheets"][str(sheet.id)]["watermark"])
    row = min(sheet.rows, key=lambda row: row["modifiedAt"])

    # a clock-skewed write, stamped before the incremental filter's window but after the warehouse's copy
    simulator.update_cells(sheet.id, row["id"], {"Comments": "late write"}, at=watermark - timedelta(hours=1))
    run(settings, warehouse_url)

    assert raw_rows(warehouse_url, "plan_rows")[str(row["id"])]["payload"]["cells_by_title"]["Comments"] == "late write"
    assert by_id_requests(simulator) == [f"/2.0/sheets/{sheet.id}"]


def row_stamps(url: str) -> dict[str, tuple]:
    """Each plan row's (loaded_at, batch_id): what a rewrite of the row would change."""
    with psycopg.connect(url) as connection:
        rows = connection.execute("select record_id, loaded_at, batch_id from raw.smartsheet_plan_rows").fetchall()
    return {record_id: (loaded_at, batch_id) for record_id, loaded_at, batch_id in rows}


def test_a_sheet_of_at_most_a_page_is_read_whole_on_a_night_in_one_request(
    simulator, settings_for, warehouse_url, account: SmartsheetAccount
):
    settings = settings_for(simulator)
    run(settings, warehouse_url)
    before = row_stamps(warehouse_url)
    sheet = account.plan_sheets[1]
    assert len(sheet.rows) <= settings.page_size
    watermark = parse_instant(stream_state(warehouse_url, "plan_rows")["sheets"][str(sheet.id)]["watermark"])
    edited, late, gone = leaf_rows(sheet)[:3]
    simulator.update_cells(sheet.id, edited["id"], {"Comments": "edited tonight"}, at=AFTER_ANCHOR)
    # a clock-skewed write, stamped before the overlap window but after the warehouse's copy
    simulator.update_cells(sheet.id, late["id"], {"Comments": "late write"}, at=watermark - timedelta(hours=1))
    simulator.delete_row(sheet.id, gone["id"], at=AFTER_ANCHOR)
    simulator.requests.clear()

    results = run(settings, warehouse_url)

    asked = [record.query for record in simulator.requests if record.path == f"/2.0/sheets/{sheet.id}"]
    assert asked == [{"page": ["1"], "pageSize": [str(settings.page_size)]}], "one request: no census, no filter"
    landed = raw_rows(warehouse_url, "plan_rows")
    assert landed[str(edited["id"])]["payload"]["cells_by_title"]["Comments"] == "edited tonight"
    assert landed[str(late["id"])]["payload"]["cells_by_title"]["Comments"] == "late write"
    assert landed[str(gone["id"])]["is_deleted"] and results["plan_rows"]["deleted"] == 1
    # what the rows modified since and the census would have passed on: the rows modified since the
    # overlap window began (rows renumbered by the delete among them) and the late write
    since = watermark - timedelta(minutes=settings.overlap_minutes)
    now = simulator.account.sheet(sheet.id)
    in_window = {str(row["id"]) for row in now.rows if parse_instant(row["modifiedAt"]) >= since}
    assert results["plan_rows"]["records"] == len(in_window | {str(late["id"])})
    after = row_stamps(warehouse_url)
    rewritten = {row_id for row_id in before if after[row_id] != before[row_id]}
    changed = {str(edited["id"]), str(late["id"]), str(gone["id"])}
    assert changed <= rewritten <= changed | in_window, "rows outside the window, renumbered or not, stay as stored"
    assert len(now.rows) - len(in_window) > 3


def test_deleted_rows_become_tombstones(simulator, settings_for, warehouse_url, account: SmartsheetAccount):
    settings = settings_for(simulator)
    run(settings, warehouse_url)
    sheet = account.plan_sheets[0]
    leaf = leaf_rows(sheet)[0]
    phase = next(row for row in reversed(sheet.rows) if "parentId" not in row)

    simulator.delete_row(sheet.id, leaf["id"], at=AFTER_ANCHOR)
    deleted = {str(leaf["id"])} | {
        str(row_id) for row_id in simulator.delete_row(sheet.id, phase["id"], at=AFTER_ANCHOR)
    }
    results = run(settings, warehouse_url)
    landed = raw_rows(warehouse_url, "plan_rows")

    assert results["plan_rows"]["deleted"] == len(deleted) > 2, "a deleted summary row takes its children with it"
    assert {row_id for row_id, row in landed.items() if row["is_deleted"]} == deleted
    assert all(landed[row_id]["deleted_at"] is not None and landed[row_id]["payload"]["id"] for row_id in deleted)
    assert set(landed) == row_ids(*account.plan_sheets), "tombstones keep their last known values"
    assert run(settings, warehouse_url)["plan_rows"]["deleted"] == 0


def sheets_read(simulator: SmartsheetSimulator, sheets: list[SmartsheetSheet], what: str = "") -> set[int]:
    """Which of `sheets` had their rows (or census) asked for; with `what="/columns"`, their columns."""
    paths = {f"/2.0/sheets/{sheet.id}{what}": sheet.id for sheet in sheets}
    return {paths[record.path] for record in simulator.requests if record.path in paths}


def test_an_incremental_run_reads_only_the_sheets_whose_version_moved(
    simulator, settings_for, warehouse_url, account: SmartsheetAccount
):
    settings = settings_for(simulator)
    run(settings, warehouse_url)
    edited, pruned = account.plan_sheets[2], account.plan_sheets[0]
    row = leaf_rows(edited)[0]
    gone = leaf_rows(pruned)[-1]
    simulator.update_cells(edited.id, row["id"], {"Comments": "edited tonight"}, at=AFTER_ANCHOR)
    simulator.delete_row(pruned.id, gone["id"], at=AFTER_ANCHOR)
    simulator.requests.clear()

    results = run(settings, warehouse_url)

    assert sheets_read(simulator, account.plan_sheets) == {edited.id, pruned.id}
    assert sheets_read(simulator, account.sheets, "/columns") == set(), "the columns came with the rows read"
    landed = raw_rows(warehouse_url, "plan_rows")
    assert landed[str(row["id"])]["payload"]["cells_by_title"]["Comments"] == "edited tonight"
    assert landed[str(gone["id"])]["is_deleted"] and results["plan_rows"]["deleted"] == 1
    states = stream_state(warehouse_url, "plan_rows")["sheets"]
    assert {sheet.id: states[str(sheet.id)]["version"] for sheet in account.plan_sheets} == {
        sheet.id: simulator.account.sheet(sheet.id).version for sheet in account.plan_sheets
    }

    simulator.requests.clear()
    quiet = run(settings, warehouse_url)
    assert sheets_read(simulator, [*account.plan_sheets, account.rate_card_sheet]) == set()
    assert sheets_read(simulator, account.sheets, "/columns") == set()
    kept = raw_rows(warehouse_url, "sheets")[str(edited.id)]["payload"]["columns"]
    assert [column["title"] for column in kept] == [column["title"] for column in edited.columns]
    assert quiet["plan_rows"]["records"] == quiet["rate_card_rows"]["records"] == 0
    assert raw_rows(warehouse_url, "plan_rows") == landed, "a skipped sheet keeps its rows and tombstones"


def test_a_renamed_column_is_stored_from_the_rows_read_without_asking_for_the_columns(
    simulator, settings_for, warehouse_url, account: SmartsheetAccount
):
    settings = settings_for(simulator)
    run(settings, warehouse_url)
    sheet = account.plan_sheets[1]
    simulator.rename_column(sheet.id, "Comments", "Remarks")
    simulator.requests.clear()

    results = run(settings, warehouse_url)

    assert sheets_read(simulator, account.plan_sheets) == {sheet.id}, "its version moved: its rows were read"
    assert sheets_read(simulator, account.sheets, "/columns") == set()
    stored = raw_rows(warehouse_url, "sheets")[str(sheet.id)]["payload"]
    assert "Remarks" in [column["title"] for column in stored["columns"]]
    assert stored["version"] == simulator.account.sheet(sheet.id).version
    assert results["sheets"]["records"] == len(account.sheets)


def test_the_columns_are_asked_for_when_no_rows_were_read_at_the_listed_version(
    simulator, settings_for, warehouse_url, account: SmartsheetAccount
):
    settings = settings_for(simulator)
    moved = account.plan_sheets[0]
    row = leaf_rows(moved)[0]

    class ListThenEdit(SmartsheetClient):
        """Edits a sheet right after the sheet list is read: its rows are then read at a later version."""

        def list_sheets(self, page_size: int = 100):
            yield from super().list_sheets(page_size)
            simulator.rename_column(moved.id, "Comments", "Notes")
            simulator.update_cells(moved.id, row["id"], {"Notes": "edited after the list"}, at=AFTER_ANCHOR)

    run(settings, warehouse_url)
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        simulator.update_cells(moved.id, row["id"], {"Comments": "edited before the list"}, at=AFTER_ANCHOR)
        simulator.requests.clear()
        SmartsheetExtractor(settings, connection, ListThenEdit(settings, retry=FAST_RETRY)).run()

    assert sheets_read(simulator, account.sheets, "/columns") == {moved.id}
    stored = raw_rows(warehouse_url, "sheets")[str(moved.id)]["payload"]
    assert "Notes" in [column["title"] for column in stored["columns"]], "the columns as asked, not as listed"

    simulator.requests.clear()
    run(settings, warehouse_url, streams=["sheets"])
    assert sheets_read(simulator, account.sheets, "/columns") == {moved.id}, "the stored version is not the listed one"
    assert sheets_read(simulator, account.plan_sheets) == set()


def test_an_extractor_run_again_lists_the_versions_again(
    simulator, settings_for, warehouse_url, account: SmartsheetAccount
):
    sheet = account.plan_sheets[1]
    row = leaf_rows(sheet)[0]
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        extractor = SmartsheetExtractor(settings_for(simulator), connection, SmartsheetClient(settings_for(simulator)))
        extractor.run(streams=["plan_rows"])
        extractor.run(streams=["plan_rows"])
        simulator.update_cells(sheet.id, row["id"], {"Comments": "third run"}, at=AFTER_ANCHOR)
        extractor.run(streams=["plan_rows"])

    assert raw_rows(warehouse_url, "plan_rows")[str(row["id"])]["payload"]["cells_by_title"]["Comments"] == "third run"


def test_a_register_schedule_change_lands(simulator, settings_for, warehouse_url, account: SmartsheetAccount):
    settings = settings_for(simulator)
    run(settings, warehouse_url, streams=["register_rows"])
    before = raw_rows(warehouse_url, "register_rows")
    project_code = next(iter(account.plan_sheet_ids))

    row_id = simulator.update_register(project_code, {"baseline_finish": "2027-12-31"}, at=AFTER_ANCHOR)
    run(settings, warehouse_url, streams=["register_rows"])
    after = raw_rows(warehouse_url, "register_rows")

    assert {key for key in after if after[key]["payload"] != before[key]["payload"]} == {str(row_id)}
    fields = after[str(row_id)]["payload"]["contract_fields"]
    assert fields["project_code"] == project_code and fields["baseline_finish"] == "2027-12-31"
    without_forecast = [row for row in after.values() if row["payload"]["contract_fields"]["forecast_finish"] is None]
    assert len(without_forecast) == sum(
        account.register_sheet.value(row, "forecast_finish") is None for row in account.register_sheet.rows
    )


SHEET_PATH = r"/sheets/\d+$"
FAULTS = {
    "429 without headers": Fault("rate_limit_bare", path=SHEET_PATH, skip=2, times=3),
    "429 with Retry-After": Fault("rate_limit", path=SHEET_PATH, skip=1, times=2, retry_after=0.05),
    "503 burst": Fault("unavailable", path=SHEET_PATH, skip=3, times=4),
    "dropped connection mid-page": Fault("drop", path=SHEET_PATH, skip=4, times=2),
    "slow answer": Fault("slow", path=SHEET_PATH, skip=5, times=1, delay=1.0),
}


@pytest.mark.parametrize("fault", list(FAULTS.values()), ids=list(FAULTS))
def test_each_fault_is_recovered_with_nothing_lost_or_duplicated(
    simulator, settings_for, warehouse_url, account: SmartsheetAccount, fault: Fault
):
    fault = dataclasses.replace(fault)  # a fresh copy: a fault counts what it has fired
    simulator.faults.faults.append(fault)

    results = run(settings_for(simulator, page_size=20), warehouse_url)

    assert fault.fired == fault.times
    assert sum(results[stream]["retries"] for stream in results) >= fault.times
    for stream, sheets in (
        ("register_rows", [account.register_sheet]),
        ("rate_card_rows", [account.rate_card_sheet]),
        ("plan_rows", account.plan_sheets),
    ):
        assert set(raw_rows(warehouse_url, stream)) == row_ids(*sheets)
        assert results[stream]["records"] == len(row_ids(*sheets)), "no page was loaded twice"
        assert results[stream]["rejected"] == 0


class InFlight:
    """Counts the requests a client has in flight at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def wrap(self, request: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
            try:
                return request(*args, **kwargs)
            finally:
                with self.lock:
                    self.now -= 1

        return counted


@pytest.mark.parametrize("concurrent_requests", [1, 3])
def test_plan_sheets_are_read_several_at_once_and_land_as_read_one_by_one(
    simulator, settings_for, warehouse_url, account: SmartsheetAccount, concurrent_requests: int
):
    settings = settings_for(simulator, concurrent_requests=concurrent_requests, page_size=20)
    # every plan sheet answers late, so that sheets read at once are in flight together
    simulator.faults.faults.append(Fault("slow", path=SHEET_PATH, times=10_000, delay=0.05))
    in_flight = InFlight()
    client = SmartsheetClient(settings, retry=FAST_RETRY)
    client.api.request = in_flight.wrap(client.api.request)

    def plan_rows_run() -> StreamResult:
        with psycopg.connect(warehouse_url, autocommit=True) as connection:
            return SmartsheetExtractor(settings, connection, client).run(streams=["plan_rows"])[0]

    plan_rows_run()
    assert in_flight.most == concurrent_requests
    assert set(raw_rows(warehouse_url, "plan_rows")) == row_ids(*account.plan_sheets)
    first = stream_state(warehouse_url, "plan_rows")["sheets"]
    assert set(first) == {str(sheet.id) for sheet in account.plan_sheets}

    sheet = account.plan_sheets[-1]
    row = leaf_rows(sheet)[0]
    gone = leaf_rows(account.plan_sheets[0])[0]
    simulator.update_cells(sheet.id, row["id"], {"Comments": "read at once"}, at=AFTER_ANCHOR)
    simulator.delete_row(account.plan_sheets[0].id, gone["id"], at=AFTER_ANCHOR)
    second = plan_rows_run()

    landed = raw_rows(warehouse_url, "plan_rows")
    assert landed[str(row["id"])]["payload"]["cells_by_title"]["Comments"] == "read at once"
    assert landed[str(gone["id"])]["is_deleted"] and second.deleted == 1
    sheets = stream_state(warehouse_url, "plan_rows")["sheets"]
    assert sheets[str(sheet.id)]["watermark"] == "2026-11-30T10:00:00Z"
    untouched = {sheet_id: state for sheet_id, state in first.items() if sheet_id != str(sheet.id)}
    # the sheet that lost a row keeps its watermark; its version moved with the delete
    untouched[str(account.plan_sheets[0].id)]["version"] = simulator.account.sheet(account.plan_sheets[0].id).version
    assert {sheet_id: state for sheet_id, state in sheets.items() if sheet_id != str(sheet.id)} == untouched
    assert last_batch(warehouse_url, "plan_rows") == ("succeeded", None)


def test_a_revoked_sheet_fails_loudly_naming_the_endpoint(
    simulator, settings_for, warehouse_url, account: SmartsheetAccount
):
    sheet = account.plan_sheets[3]
    simulator.revoke_access(sheet.id)

    with pytest.raises(ApiError, match=rf"GET /2.0/sheets/{sheet.id} answered HTTP 403: .*not authorized") as raised:
        run(settings_for(simulator), warehouse_url, streams=["plan_rows"])

    assert raised.value.status == 403
    status, error = last_batch(warehouse_url, "plan_rows")
    assert status == "failed" and "403" in error


def test_an_unknown_plan_sheet_fails_loudly_naming_the_endpoint(
    simulator, settings_for, warehouse_url, account: SmartsheetAccount
):
    settings = settings_for(simulator, plan_sheet_ids=(account.plan_sheets[0].id, 1234567890123456))

    with pytest.raises(ApiError, match=r"GET /2.0/sheets/1234567890123456 answered HTTP 404: .*Not Found"):
        run(settings, warehouse_url, streams=["plan_rows"])

    assert last_batch(warehouse_url, "plan_rows")[0] == "failed"


def test_malformed_rows_are_rejected_while_the_rest_loads(
    simulator, settings_for, warehouse_url, account: SmartsheetAccount
):
    sheet = account.plan_sheets[4]
    simulator.faults.add("malformed", path=rf"/sheets/{sheet.id}$")

    results = run(settings_for(simulator), warehouse_url, streams=["plan_rows"])

    assert results["plan_rows"]["rejected"] == 2
    assert set(raw_rows(warehouse_url, "plan_rows")) == row_ids(*account.plan_sheets)
    with psycopg.connect(warehouse_url) as connection:
        rejected = connection.execute(
            "select source_system, stream, record_id, reason from raw._rejected_records order by rejected_id"
        ).fetchall()
    assert rejected == [
        ("smartsheet", "plan_rows", None, "record is a JSON str, not an object"),
        ("smartsheet", "plan_rows", None, "record has no id"),
    ]


def test_a_renamed_column_fails_the_stream_naming_the_sheet_and_the_title(
    simulator, settings_for, warehouse_url, account: SmartsheetAccount
):
    settings = settings_for(simulator)
    run(settings, warehouse_url)
    sheet = account.plan_sheets[2]
    simulator.rename_column(sheet.id, "% Complete", "Pct Complete")

    with pytest.raises(SheetColumnsError) as raised:
        run(settings, warehouse_url, streams=["plan_rows"])

    message = str(raised.value)
    assert str(sheet.id) in message and sheet.name in message
    assert "'% Complete'" in message and "Pct Complete" in message
    assert last_batch(warehouse_url, "plan_rows")[0] == "failed"

    for other in account.plan_sheets:
        if other.id != sheet.id:
            simulator.rename_column(other.id, "% Complete", "Pct Complete")
    remapped = settings_for(simulator, column_map={"plan": {"percent_complete": "Pct Complete"}})
    run(remapped, warehouse_url, streams=["plan_rows"], full_refresh=True)
    landed = raw_rows(warehouse_url, "plan_rows")[str(sheet.rows[0]["id"])]["payload"]
    assert landed["contract_fields"]["percent_complete"] == sheet.value(sheet.rows[0], "% Complete")


def test_the_token_never_appears_in_logs_errors_or_reprs(simulator, settings_for, warehouse_url, caplog):
    caplog.set_level(logging.DEBUG)
    simulator.faults.add("rate_limit_bare", path=SHEET_PATH, times=1)
    settings = settings_for(simulator)
    token = settings.token.reveal()
    run(settings, warehouse_url)
    wrong = settings_for(simulator, token=Secret(f"{token}-revoked"))

    with pytest.raises(ApiError, match="HTTP 401") as raised:
        run(wrong, warehouse_url, streams=["register_rows"])

    assert "retrying" in caplog.text and "HTTP 429" in caplog.text
    for text in (caplog.text, str(raised.value), repr(settings), repr(wrong), repr(settings.token)):
        assert token not in text
