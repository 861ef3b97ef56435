"""The generated Smartsheet account: deterministic, shaped like Smartsheet's API, and true to the world."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from decimal import Decimal

import pytest

from simulators.smartsheet_world import (
    COLUMN_TYPES,
    SmartsheetAccount,
    build_smartsheet_data,
    parse_smartsheet_timestamp,
    summarize_account,
)
from simulators.world import World, WorldConfig, build_world

PLAN_TITLES = ("Task Name", "Start", "Finish", "% Complete", "Status", "Assigned To", "Estimate Hours", "Milestone")


@pytest.fixture(scope="module")
def account(world: World) -> SmartsheetAccount:
    return build_smartsheet_data(world)


def _expected_cell_value(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def test_the_same_world_gives_the_same_account(world: World, account: SmartsheetAccount) -> None:
    again = build_smartsheet_data(world)

    assert [(s.id, s.name, s.columns, s.rows) for s in again.sheets] == [
        (s.id, s.name, s.columns, s.rows) for s in account.sheets
    ]


def test_another_seed_gives_another_account(world: World, account: SmartsheetAccount) -> None:
    other = build_smartsheet_data(build_world(WorldConfig(seed=7, anchor_date=world.config.anchor_date)))

    assert other.register_sheet_id != account.register_sheet_id
    assert [len(sheet.rows) for sheet in other.plan_sheets] != [len(sheet.rows) for sheet in account.plan_sheets]


def test_ids_are_unique_sixteen_digit_integers(account: SmartsheetAccount) -> None:
    ids = [sheet.id for sheet in account.sheets]
    ids += [column["id"] for sheet in account.sheets for column in sheet.columns]
    ids += [row["id"] for sheet in account.sheets for row in sheet.rows]

    assert all(isinstance(value, int) and len(str(value)) == 16 for value in ids)
    assert len(ids) == len(set(ids))


def test_columns_and_cells_are_shaped_like_the_api(account: SmartsheetAccount) -> None:
    for sheet in account.sheets:
        assert [column["index"] for column in sheet.columns] == list(range(len(sheet.columns)))
        assert [column["primary"] for column in sheet.columns].count(True) == 1
        assert sheet.columns[0]["primary"] and sheet.columns[0]["type"] == "TEXT_NUMBER"
        assert {column["type"] for column in sheet.columns} <= set(COLUMN_TYPES)
        types = {column["id"]: column["type"] for column in sheet.columns}
        for number, row in enumerate(sheet.rows, start=1):
            assert row["rowNumber"] == number
            assert [cell["columnId"] for cell in row["cells"]] == [column["id"] for column in sheet.columns]
            for cell in row["cells"]:
                if "value" not in cell:
                    assert cell == {"columnId": cell["columnId"]}, "an empty cell carries only its columnId"
                    continue
                value = cell["value"]
                column_type = types[cell["columnId"]]
                if column_type == "CHECKBOX":
                    assert isinstance(value, bool)
                elif column_type == "DATE":
                    assert date.fromisoformat(value).isoformat() == value
                elif column_type == "CONTACT_LIST":
                    assert "@" in value
                else:
                    assert isinstance(value, (str, int, float)) and not isinstance(value, bool)


def test_every_instant_is_before_the_anchor_and_rows_are_modified_after_creation(
    world: World, account: SmartsheetAccount
) -> None:
    for sheet in account.sheets:
        assert sheet.created_at <= sheet.modified_at < world.anchor_instant
        for row in sheet.rows:
            assert row["createdAt"].endswith("Z") and row["modifiedAt"].endswith("Z")
            created, modified = (
                parse_smartsheet_timestamp(row["createdAt"]),
                parse_smartsheet_timestamp(row["modifiedAt"]),
            )
            assert created <= modified < world.anchor_instant
            assert modified <= sheet.modified_at


def test_the_register_sheet_holds_the_world_register_with_its_quirks(world: World, account: SmartsheetAccount) -> None:
    sheet = account.register_sheet
    register = world.register_rows()
    titles = [column["title"] for column in sheet.columns]

    assert len(sheet.rows) == len(register)
    assert set(titles) == set(register[0])
    assert titles != list(register[0]), "the sheet's column order is not the contract's"
    for expected, row in zip(register, sheet.rows, strict=True):
        values = sheet.values(row)
        for name, value in expected.items():
            if name == "source_project_key" and str(value).isdigit():
                assert values[name] == int(str(value)), "digits in a text/number column come back as a number"
            else:
                assert values[name] == _expected_cell_value(value), name
    assert isinstance(sheet.value(sheet.rows[0], "approved_budget"), (int, float))
    empty_forecasts = [row for row in sheet.rows if sheet.value(row, "forecast_finish") is None]
    assert empty_forecasts, "some projects have no forecast"
    forecast_column = sheet.column("forecast_finish")["id"]
    for row in empty_forecasts:
        assert {"columnId": forecast_column} in row["cells"]


def test_the_rate_card_sheet_holds_the_world_rate_card(world: World, account: SmartsheetAccount) -> None:
    sheet = account.rate_card_sheet

    assert [sheet.values(row) for row in sheet.rows] == [
        {
            "email": card.email,
            "role": card.role,
            "hourly_rate": _expected_cell_value(card.hourly_rate),
            "weekly_capacity_hours": _expected_cell_value(card.weekly_capacity_hours),
            "effective_from": card.effective_from.isoformat(),
        }
        for card in world.rate_card
    ]


def test_one_plan_sheet_per_smartsheet_project_keyed_by_its_source_project_key(
    world: World, account: SmartsheetAccount
) -> None:
    projects = [project for project in world.projects if project.tool == "smartsheet"]

    assert projects
    assert account.plan_sheet_ids == {project.project_code: int(project.source_project_key) for project in projects}
    for sheet in account.plan_sheets:
        assert sheet.kind == "plan"
        assert 40 <= len(sheet.rows) <= 80
        assert set(PLAN_TITLES) <= {column["title"] for column in sheet.columns}
        assert sheet.column("Task Name")["primary"]


def test_plans_have_summaries_milestones_done_overdue_rows_and_awkward_estimates(
    world: World, account: SmartsheetAccount
) -> None:
    today = world.config.anchor_date
    estimates: Counter[str] = Counter()
    for sheet in account.plan_sheets:
        project = next(p for p in world.projects if p.project_code == sheet.project_code)
        ids = [row["id"] for row in sheet.rows]
        parents = {row["parentId"] for row in sheet.rows if "parentId" in row}
        assert parents, "plans have summary rows"
        for row in sheet.rows:
            if "parentId" in row:
                assert ids.index(row["parentId"]) < ids.index(row["id"]), "a parent comes before its children"
        values = [sheet.values(row) for row in sheet.rows]
        assert all(0 <= v["% Complete"] <= 1 for v in values), "% Complete is stored as a fraction"
        assert all(v["Status"] in ("Not Started", "In Progress", "Complete") for v in values)
        assert any(v["Milestone"] is True for v in values)
        for row, v in zip(sheet.rows, values, strict=True):
            if row["id"] not in parents and v["Milestone"] is not True:
                kind = "empty" if v["Estimate Hours"] is None else "zero" if v["Estimate Hours"] == 0 else "hours"
                estimates[kind] += 1
        done = [v for v in values if v["% Complete"] == 1 or v["Status"] == "Complete"]
        overdue = [v for v in values if date.fromisoformat(v["Finish"]) < today and v not in done]
        if project.stage == "idea":
            assert not done and all(v["% Complete"] == 0 for v in values)
        else:
            assert done, f"{sheet.name} has finished rows"
            assert all(date.fromisoformat(v["Finish"]) < today for v in done), "a row is done on its Finish date"
        if project.stage == "active" and project.baseline_start < today:
            assert overdue, f"{sheet.name} has overdue rows"
    assert estimates["zero"] and estimates["empty"] and estimates["hours"]


def test_summary_counts(account: SmartsheetAccount) -> None:
    summary = summarize_account(account)

    assert summary.plan_sheets == len(account.plan_sheets)
    assert summary.plan_rows == sum(len(sheet.rows) for sheet in account.plan_sheets)
    assert 0 < summary.plan_summary_rows < summary.plan_rows
    assert 0 < summary.plan_milestones < summary.plan_rows
    assert 0 < summary.plan_done_rows < summary.plan_rows
    assert summary.sheets > 2 + summary.plan_sheets - 1, "the account also has sheets no setting points at"


def test_timestamps_parse_in_any_offset() -> None:
    assert parse_smartsheet_timestamp("2026-11-28T23:59:00Z") == parse_smartsheet_timestamp("2026-11-29T13:59:00+14:00")
    assert parse_smartsheet_timestamp("2026-11-28T23:59:00") == datetime.fromisoformat("2026-11-28T23:59:00+00:00")
