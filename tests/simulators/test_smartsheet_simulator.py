"""The Smartsheet simulator over real HTTP: auth, paging, row filters, errors, faults and changes between runs."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from simulators.faults import Fault, FaultPlan
from simulators.smartsheet import SmartsheetSimulator
from simulators.smartsheet_world import SmartsheetAccount, build_smartsheet_data, parse_smartsheet_timestamp
from simulators.world import World

TOKEN = "smartsheet-sim-token"


@pytest.fixture(scope="module")
def account(world: World) -> SmartsheetAccount:
    return build_smartsheet_data(world)


@pytest.fixture(scope="module")
def smartsheet(world: World, account: SmartsheetAccount) -> Iterator[SmartsheetSimulator]:
    """A simulator that tests only read from."""
    with SmartsheetSimulator(world, account=account) as simulator:
        yield simulator


@pytest.fixture
def fresh_smartsheet(world: World, account: SmartsheetAccount) -> Iterator[SmartsheetSimulator]:
    """A simulator of its own, for tests that change its data or its faults."""
    with SmartsheetSimulator(world, account=account) as simulator:
        yield simulator


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {TOKEN}"
        yield session


def _largest_plan(account: SmartsheetAccount):
    return max(account.plan_sheets, key=lambda sheet: len(sheet.rows))


def test_requests_without_a_valid_token_get_smartsheets_401(smartsheet: SmartsheetSimulator) -> None:
    missing = requests.get(f"{smartsheet.base_url}/sheets", timeout=5)
    wrong = requests.get(f"{smartsheet.base_url}/sheets", headers={"Authorization": "Bearer nope"}, timeout=5)

    assert missing.status_code == wrong.status_code == 401
    assert missing.json()["errorCode"] == 1001
    assert wrong.json()["errorCode"] == 1002
    assert wrong.json()["message"] == "Your Access Token is invalid."
    assert wrong.json()["refId"]


def test_the_sheet_list_pages_to_the_last_page_and_past_it_repeats_the_last(
    smartsheet: SmartsheetSimulator, account: SmartsheetAccount, http: requests.Session
) -> None:
    total = len(account.sheets)
    pages = math.ceil(total / 3)
    names = []
    for page in range(1, pages + 1):
        body = http.get(f"{smartsheet.base_url}/sheets", params={"page": page, "pageSize": 3}).json()
        assert (body["pageNumber"], body["pageSize"], body["totalPages"], body["totalCount"]) == (page, 3, pages, total)
        names += [item["name"] for item in body["data"]]
    past = http.get(f"{smartsheet.base_url}/sheets", params={"page": pages + 5, "pageSize": 3}).json()
    everything = http.get(f"{smartsheet.base_url}/sheets", params={"includeAll": "true"}).json()

    assert names == sorted((sheet.name for sheet in account.sheets), key=str.lower)
    assert past["pageNumber"] == pages and [item["name"] for item in past["data"]] == names[(pages - 1) * 3 :]
    assert everything["totalPages"] == 1 and len(everything["data"]) == total
    assert set(everything["data"][0]) >= {"id", "name", "accessLevel", "permalink", "createdAt", "modifiedAt"}


def test_a_sheet_comes_whole_or_with_its_rows_paged(
    smartsheet: SmartsheetSimulator, account: SmartsheetAccount, http: requests.Session
) -> None:
    sheet = _largest_plan(account)
    url = f"{smartsheet.base_url}/sheets/{sheet.id}"
    whole = http.get(url).json()
    paged = []
    for page in range(1, math.ceil(len(sheet.rows) / 20) + 1):
        body = http.get(url, params={"page": page, "pageSize": 20}).json()
        assert body["totalRowCount"] == len(sheet.rows)
        paged += body["rows"]
    past = http.get(url, params={"page": 99, "pageSize": 20}).json()

    assert set(whole) >= {"id", "name", "columns", "rows", "totalRowCount", "modifiedAt", "version"}
    assert whole["id"] == sheet.id and whole["rows"] == sheet.rows and whole["columns"] == sheet.columns
    assert paged == sheet.rows
    assert past["rows"] == sheet.rows[(math.ceil(len(sheet.rows) / 20) - 1) * 20 :]


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "America/Los_Angeles", "Asia/Kolkata"])
def test_rows_modified_since_keeps_rows_at_or_after_the_instant_in_any_offset(
    smartsheet: SmartsheetSimulator, account: SmartsheetAccount, http: requests.Session, zone: str
) -> None:
    sheet = _largest_plan(account)
    instants = sorted(parse_smartsheet_timestamp(row["modifiedAt"]) for row in sheet.rows)
    cut = instants[len(instants) // 2]
    expected = [row["id"] for row in sheet.rows if parse_smartsheet_timestamp(row["modifiedAt"]) >= cut]

    body = http.get(
        f"{smartsheet.base_url}/sheets/{sheet.id}",
        params={"rowsModifiedSince": cut.astimezone(ZoneInfo(zone)).isoformat()},
    ).json()

    assert [row["id"] for row in body["rows"]] == expected
    assert body["totalRowCount"] == len(sheet.rows), "totalRowCount counts the sheet, not the filtered rows"


def test_row_ids_and_column_ids_narrow_the_answer(
    smartsheet: SmartsheetSimulator, account: SmartsheetAccount, http: requests.Session
) -> None:
    sheet = _largest_plan(account)
    wanted = [sheet.rows[3]["id"], sheet.rows[10]["id"]]
    primary = sheet.column("Task Name")["id"]

    body = http.get(
        f"{smartsheet.base_url}/sheets/{sheet.id}",
        params={"rowIds": ",".join(map(str, wanted)), "columnIds": str(primary)},
    ).json()

    assert [row["id"] for row in body["rows"]] == wanted
    assert [column["id"] for column in body["columns"]] == [primary]
    assert all([cell["columnId"] for cell in row["cells"]] == [primary] for row in body["rows"])


def test_columns_are_listed_with_paging(
    smartsheet: SmartsheetSimulator, account: SmartsheetAccount, http: requests.Session
) -> None:
    sheet = account.register_sheet
    first = http.get(f"{smartsheet.base_url}/sheets/{sheet.id}/columns", params={"pageSize": 10}).json()
    everything = http.get(f"{smartsheet.base_url}/sheets/{sheet.id}/columns", params={"includeAll": "true"}).json()

    assert first["totalCount"] == len(sheet.columns) and first["totalPages"] == math.ceil(len(sheet.columns) / 10)
    assert everything["data"] == sheet.columns


def test_errors_use_smartsheets_bodies(fresh_smartsheet: SmartsheetSimulator, http: requests.Session) -> None:
    unknown = http.get(f"{fresh_smartsheet.base_url}/sheets/1234567890123456")
    bad_page = http.get(f"{fresh_smartsheet.base_url}/sheets", params={"page": "first"})
    bad_since = http.get(
        f"{fresh_smartsheet.base_url}/sheets/{fresh_smartsheet.account.register_sheet_id}",
        params={"rowsModifiedSince": "yesterday"},
    )
    fresh_smartsheet.revoke_access(fresh_smartsheet.account.rate_card_sheet_id)
    revoked = http.get(f"{fresh_smartsheet.base_url}/sheets/{fresh_smartsheet.account.rate_card_sheet_id}")
    listed = http.get(f"{fresh_smartsheet.base_url}/sheets", params={"includeAll": "true"}).json()

    assert (unknown.status_code, unknown.json()["errorCode"], unknown.json()["message"]) == (404, 1006, "Not Found")
    assert (bad_page.status_code, bad_page.json()["errorCode"]) == (400, 1018)
    assert (bad_since.status_code, bad_since.json()["errorCode"]) == (400, 1018)
    assert (revoked.status_code, revoked.json()["errorCode"]) == (403, 1004)
    assert fresh_smartsheet.account.rate_card_sheet_id not in [item["id"] for item in listed["data"]]


def test_a_429_is_smartsheets_body_without_headers_unless_a_fault_asks_for_one(
    fresh_smartsheet: SmartsheetSimulator, http: requests.Session
) -> None:
    fresh_smartsheet.faults.add("rate_limit_bare", path=r"/sheets$")
    bare = http.get(f"{fresh_smartsheet.base_url}/sheets")
    fresh_smartsheet.faults.add("rate_limit", path=r"/sheets$", retry_after=2)
    told = http.get(f"{fresh_smartsheet.base_url}/sheets")

    assert bare.status_code == 429
    assert bare.json()["errorCode"] == 4003 and bare.json()["message"] == "Rate limit exceeded."
    assert not {"Retry-After", "X-RateLimit-Reset", "X-RateLimit-Limit"} & set(bare.headers)
    assert told.status_code == 429 and told.headers["Retry-After"] == "2"


def test_server_errors_carry_smartsheets_retryable_error_codes(
    fresh_smartsheet: SmartsheetSimulator, http: requests.Session
) -> None:
    fresh_smartsheet.faults.add("unavailable", path=r"/sheets$")
    unavailable = http.get(f"{fresh_smartsheet.base_url}/sheets")
    fresh_smartsheet.faults.add("server_error", path=r"/sheets$")
    failed = http.get(f"{fresh_smartsheet.base_url}/sheets")

    assert (unavailable.status_code, unavailable.json()["errorCode"]) == (503, 4001)
    assert (failed.status_code, failed.json()["errorCode"]) == (500, 4004)
    assert http.get(f"{fresh_smartsheet.base_url}/sheets").status_code == 200


def test_the_simulator_can_enforce_smartsheets_per_minute_limit(world: World, account: SmartsheetAccount) -> None:
    with (
        SmartsheetSimulator(world, account=account, requests_per_minute=5) as simulator,
        requests.Session() as session,
    ):
        session.headers["Authorization"] = f"Bearer {TOKEN}"
        statuses = [session.get(f"{simulator.base_url}/sheets").status_code for _ in range(7)]

    assert statuses == [200] * 5 + [429] * 2


def test_malformed_records_land_in_a_pages_rows(
    world: World, account: SmartsheetAccount, http: requests.Session
) -> None:
    sheet = account.rate_card_sheet
    plan = FaultPlan([Fault("malformed", path=rf"/sheets/{sheet.id}$")])
    with SmartsheetSimulator(world, account=account, faults=plan) as simulator:
        body = http.get(f"{simulator.base_url}/sheets/{sheet.id}").json()

    assert body["rows"][: len(sheet.rows)] == sheet.rows
    assert body["rows"][len(sheet.rows) :] == ["not an object", {"rowNumber": 9999, "cells": []}]


def test_update_cells_writes_typed_values_and_moves_modified_at_to_the_second(
    fresh_smartsheet: SmartsheetSimulator, account: SmartsheetAccount, http: requests.Session
) -> None:
    sheet = _largest_plan(fresh_smartsheet.account)
    row = sheet.rows[-1]
    at = datetime(2026, 12, 1, 9, 30, 15, 987654, tzinfo=ZoneInfo("Australia/Sydney"))

    fresh_smartsheet.update_cells(
        sheet.id, row["id"], {"% Complete": 0.5, "Estimate Hours": 0, "Milestone": False, "Comments": None}, at=at
    )
    served = next(
        r for r in http.get(f"{fresh_smartsheet.base_url}/sheets/{sheet.id}").json()["rows"] if r["id"] == row["id"]
    )
    cells = {cell["columnId"]: cell for cell in served["cells"]}

    assert served["modifiedAt"] == "2026-11-30T22:30:15Z"
    assert cells[sheet.column("% Complete")["id"]] == {
        "columnId": sheet.column("% Complete")["id"],
        "value": 0.5,
        "displayValue": "50%",
    }
    assert cells[sheet.column("Estimate Hours")["id"]]["value"] == 0
    assert cells[sheet.column("Milestone")["id"]] == {"columnId": sheet.column("Milestone")["id"], "value": False}
    assert cells[sheet.column("Comments")["id"]] == {"columnId": sheet.column("Comments")["id"]}
    assert parse_smartsheet_timestamp(served["modifiedAt"]) <= sheet.modified_at
    assert account.sheet(sheet.id).row(row["id"]) != served, "the simulator changes its own copy only"


def test_a_sheet_read_before_a_change_shows_it_when_read_again(
    fresh_smartsheet: SmartsheetSimulator, http: requests.Session
) -> None:
    sheet = _largest_plan(fresh_smartsheet.account)
    row = sheet.rows[0]
    primary = next(column["id"] for column in sheet.columns if column.get("primary"))
    url = f"{fresh_smartsheet.base_url}/sheets/{sheet.id}"
    narrow = {"columnIds": str(primary)}
    before, before_narrow = http.get(url).json(), http.get(url, params=narrow).json()

    fresh_smartsheet.update_cells(sheet.id, row["id"], {"Task Name": "Renamed in Smartsheet"}, at=datetime.now(UTC))
    added = fresh_smartsheet.add_row(sheet.id, {"Task Name": "A new row"}, at=datetime.now(UTC))
    after, after_narrow = http.get(url).json(), http.get(url, params=narrow).json()

    def names(body: dict) -> dict[int, object]:
        return {
            r["id"]: next((c.get("value") for c in r["cells"] if c["columnId"] == primary), None) for r in body["rows"]
        }

    assert names(before)[row["id"]] != "Renamed in Smartsheet"
    assert names(after)[row["id"]] == names(after_narrow)[row["id"]] == "Renamed in Smartsheet"
    assert names(after)[added] == names(after_narrow)[added] == "A new row"
    assert len(after["rows"]) == len(before["rows"]) + 1
    assert all(len(r["cells"]) == 1 for r in before_narrow["rows"] + after_narrow["rows"])


def test_add_and_delete_rows(fresh_smartsheet: SmartsheetSimulator, http: requests.Session) -> None:
    sheet = _largest_plan(fresh_smartsheet.account)
    before = len(sheet.rows)
    phase = sheet.rows[0]
    children = sheet.children(phase["id"])
    at = datetime(2026, 12, 2, tzinfo=UTC)

    added = fresh_smartsheet.add_row(
        sheet.id,
        {"Task Name": "Extra review", "Start": date(2026, 12, 3), "Estimate Hours": 4},
        at=at,
        parent_id=phase["id"],
    )
    deleted = fresh_smartsheet.delete_row(sheet.id, phase["id"], at=at + timedelta(hours=1))
    rows = http.get(f"{fresh_smartsheet.base_url}/sheets/{sheet.id}").json()["rows"]

    assert added in deleted, "deleting a parent deletes its children"
    assert set(deleted) == {phase["id"], added} | {child["id"] for child in children}
    assert len(rows) == before + 1 - len(deleted)
    assert not {row["id"] for row in rows} & set(deleted)
    assert [row["rowNumber"] for row in rows] == list(range(1, len(rows) + 1))


def test_update_register_and_rename_column(fresh_smartsheet: SmartsheetSimulator, http: requests.Session) -> None:
    account = fresh_smartsheet.account
    project_code = account.register_sheet.value(account.register_sheet.rows[2], "project_code")
    row_id = fresh_smartsheet.update_register(
        project_code, {"baseline_finish": date(2028, 1, 31)}, at=datetime(2026, 12, 1, tzinfo=UTC)
    )
    plan = account.plan_sheets[0]
    before = [row["modifiedAt"] for row in plan.rows]
    fresh_smartsheet.rename_column(plan.id, "% Complete", "Percent Complete")
    body = http.get(f"{fresh_smartsheet.base_url}/sheets/{plan.id}").json()

    register = account.register_sheet
    assert register.value(register.row(row_id), "baseline_finish") == "2028-01-31"
    assert register.row(row_id)["modifiedAt"] == "2026-12-01T00:00:00Z"
    assert "Percent Complete" in [column["title"] for column in body["columns"]]
    assert [row["modifiedAt"] for row in body["rows"]] == before, "a column rename does not touch rows"
