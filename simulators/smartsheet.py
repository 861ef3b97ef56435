"""A Smartsheet API 2.0 simulator over real HTTP, serving the Smartsheet account of a generated world.

Connectors are tested against it as they would run against api.smartsheet.com/2.0:

- Bearer auth; a missing or wrong token gets Smartsheet's 401 error body (`errorCode` 1001/1002).
- `GET /2.0/sheets` and `GET /2.0/sheets/{id}/columns`: page-number paging (`page`, `pageSize`,
  `includeAll`) answered as `{pageNumber, pageSize, totalPages, totalCount, data}`.
- `GET /2.0/sheets/{id}`: the sheet with its columns and rows; `page` and `pageSize` page the rows,
  `rowsModifiedSince` (ISO 8601, any offset) keeps rows modified at or after it, `rowIds` and
  `columnIds` narrow rows and cells. `totalRowCount` is the sheet's row count whatever the filter.
- As Smartsheet documents, a page past the last one answers with the last page.
- Unknown sheets get 404 `{"errorCode": 1006}`, revoked ones 403 `{"errorCode": 1004}`.
- 429 carries `{"errorCode": 4003, "message": "Rate limit exceeded."}` and no headers (Smartsheet
  documents none), unless a fault explicitly asks for a `Retry-After` or reset header.

It holds its own copy of the account, so a test can change it between two connector runs:
`update_cells`, `add_row`, `delete_row` (the row simply vanishes, as in Smartsheet),
`update_register`, `rename_column` and `revoke_access`.
"""

from __future__ import annotations

import copy
import math
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from simulators.base import Route, SimHttpError, SimRequest, SimResponse, SimulatorServer
from simulators.faults import FaultPlan
from simulators.smartsheet_world import (
    SmartsheetAccount,
    SmartsheetSheet,
    build_smartsheet_data,
    display_value,
    parse_smartsheet_timestamp,
    smartsheet_timestamp,
    truncate_to_second,
    typed_cell_value,
)
from simulators.world import World

API_PREFIX = "/2.0"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 10000
RATE_LIMIT_WINDOW_SECONDS = 60.0


def _ref_id() -> str:
    return uuid.uuid4().hex[:20]


def _error(status: int, code: int, message: str) -> SimHttpError:
    return SimHttpError(status, {"errorCode": code, "message": message, "refId": _ref_id()})


def _invalid_parameter(name: str, value: object) -> SimHttpError:
    return _error(400, 1018, f"The value '{value}' was not valid for the parameter '{name}'.")


def _positive_int(request: SimRequest, name: str, default: int | None) -> int | None:
    raw = request.param(name)
    if raw is None or raw == "":
        return default
    try:
        number = int(raw)
    except ValueError:
        raise _invalid_parameter(name, raw) from None
    if number < 1:
        raise _invalid_parameter(name, raw)
    return number


def _id_list(request: SimRequest, name: str) -> set[int] | None:
    raw = request.param(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return {int(part) for part in raw.split(",") if part.strip()}
    except ValueError:
        raise _invalid_parameter(name, raw) from None


def _page_window(request: SimRequest, total: int, *, paged_by_default: bool) -> tuple[int, int, int, int]:
    """(start, stop, page number, page size) of the requested page; past the last page, the last one."""
    include_all = (request.param("includeAll") or "").lower() == "true"
    page = _positive_int(request, "page", None)
    page_size = _positive_int(request, "pageSize", None)
    if include_all or (not paged_by_default and page is None and page_size is None):
        return 0, total, 1, max(total, 1)
    page_size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    last_page = max(1, math.ceil(total / page_size))
    page = min(page or 1, last_page)
    start = (page - 1) * page_size
    return start, start + page_size, page, page_size


def _paged_list(request: SimRequest, items: list[dict]) -> SimResponse:
    start, stop, page, page_size = _page_window(request, len(items), paged_by_default=True)
    return SimResponse(
        200,
        {
            "pageNumber": page,
            "pageSize": page_size,
            "totalPages": max(1, math.ceil(len(items) / page_size)) if items else 0,
            "totalCount": len(items),
            "data": items[start:stop],
        },
    )


class SmartsheetSimulator(SimulatorServer):
    """A Smartsheet account on a local port; `base_url` is what a connector is configured with.

    `requests_per_minute`, when set, answers 429 past that many requests in any 60 seconds (Smartsheet
    allows 300 per token); None turns the limit off.
    """

    name = "smartsheet"
    records_key = "rows"
    malformed_records = ("not an object", {"rowNumber": 9999, "cells": []})

    def __init__(
        self,
        world: World,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = "smartsheet-sim-token",
        faults: FaultPlan | None = None,
        account: SmartsheetAccount | None = None,
        requests_per_minute: int | None = None,
    ) -> None:
        super().__init__(host=host, port=port, faults=faults)
        self.world = world
        self.account = copy.deepcopy(account) if account is not None else build_smartsheet_data(world)
        self.revoked_sheet_ids: set[int] = set()
        self.requests_per_minute = requests_per_minute
        self._expected_authorization = f"Bearer {token}"
        self._recent_requests: deque[float] = deque()
        self._rate_lock = threading.Lock()
        # per (sheet, columns asked for): the sheet version its rows were encoded at, and those rows
        self._encoded_rows: dict[tuple[int, frozenset[int] | None], tuple[int, list[msgspec.Raw]]] = {}
        self._routes: list[Route] = [
            ("GET", re.compile(rf"{API_PREFIX}/sheets"), self._list_sheets),
            ("GET", re.compile(rf"{API_PREFIX}/sheets/(?P<sheet_id>[^/]+)"), self._get_sheet),
            ("GET", re.compile(rf"{API_PREFIX}/sheets/(?P<sheet_id>[^/]+)/columns"), self._list_columns),
        ]

    @property
    def base_url(self) -> str:
        return f"{self.url}{API_PREFIX}"

    # -- the base class's hooks ----------------------------------------------------------------
    def routes(self) -> list[Route]:
        return self._routes

    def authorize(self, request: SimRequest) -> SimResponse | None:
        header = request.headers.get("Authorization") or request.headers.get("authorization")
        if not header:
            return _error(401, 1001, "An Access Token is required.").response()
        if header != self._expected_authorization:
            return _error(401, 1002, "Your Access Token is invalid.").response()
        if self.requests_per_minute and not self._within_rate_limit():
            return self.rate_limited_response(None, None)
        return None

    def rate_limited_response(self, retry_after: float | None, reset_header: str | None) -> SimResponse:
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = f"{retry_after:g}"
        if reset_header is not None:
            headers["X-RateLimit-Reset"] = reset_header
        return SimResponse(429, {"errorCode": 4003, "message": "Rate limit exceeded.", "refId": _ref_id()}, headers)

    def server_error_response(self, status: int) -> SimResponse:
        if status == 503:
            message = "Smartsheet.com is currently offline for system maintenance. Please check back again shortly."
            return SimResponse(503, {"errorCode": 4001, "message": message, "refId": _ref_id()})
        message = (
            "An unexpected error has occurred. Please retry your request. "
            "If you encounter this error repeatedly, please contact api@smartsheet.com for assistance."
        )
        return SimResponse(status, {"errorCode": 4004, "message": message, "refId": _ref_id()})

    def not_found(self, request: SimRequest) -> SimResponse:
        return _error(404, 1006, "Not Found").response()

    def _within_rate_limit(self) -> bool:
        now = time.monotonic()
        with self._rate_lock:
            while self._recent_requests and now - self._recent_requests[0] > RATE_LIMIT_WINDOW_SECONDS:
                self._recent_requests.popleft()
            if len(self._recent_requests) >= (self.requests_per_minute or 0):
                return False
            self._recent_requests.append(now)
            return True

    # -- routes --------------------------------------------------------------------------------
    def _sheet_for_request(self, raw_id: str) -> SmartsheetSheet:
        try:
            sheet_id = int(raw_id)
        except ValueError:
            raise _error(404, 1006, "Not Found") from None
        try:
            sheet = self.account.sheet(sheet_id)
        except KeyError:
            raise _error(404, 1006, "Not Found") from None
        if sheet_id in self.revoked_sheet_ids:
            raise _error(403, 1004, "You are not authorized to perform this action.")
        return sheet

    def _list_sheets(self, request: SimRequest) -> SimResponse:
        """`GET /sheets`; with `include=sheetVersion`, each summary carries the sheet's version."""
        with_version = "sheetVersion" in request.param("include", "").split(",")
        with self.lock:
            visible = [sheet for sheet in self.account.sheets if sheet.id not in self.revoked_sheet_ids]
            items = [
                {
                    "id": sheet.id,
                    "name": sheet.name,
                    "accessLevel": "OWNER",
                    "permalink": sheet.permalink,
                    "createdAt": smartsheet_timestamp(sheet.created_at),
                    "modifiedAt": smartsheet_timestamp(sheet.modified_at),
                    **({"version": sheet.version} if with_version else {}),
                }
                for sheet in sorted(visible, key=lambda sheet: (sheet.name.lower(), sheet.id))
            ]
        return _paged_list(request, items)

    def _list_columns(self, request: SimRequest, sheet_id: str) -> SimResponse:
        with self.lock:
            sheet = self._sheet_for_request(sheet_id)
            return _paged_list(request, [dict(column) for column in sheet.columns])

    def _get_sheet(self, request: SimRequest, sheet_id: str) -> SimResponse:
        since_text = request.param("rowsModifiedSince")
        since = None
        if since_text:
            try:
                since = parse_smartsheet_timestamp(since_text)
            except ValueError:
                raise _invalid_parameter("rowsModifiedSince", since_text) from None
        wanted_rows = _id_list(request, "rowIds")
        wanted_columns = _id_list(request, "columnIds")
        with self.lock:
            sheet = self._sheet_for_request(sheet_id)
            encoded = self._rows_encoded(sheet, wanted_columns)
            chosen = range(len(sheet.rows))
            if since is not None:
                chosen = [i for i in chosen if parse_smartsheet_timestamp(sheet.rows[i]["modifiedAt"]) >= since]
            if wanted_rows is not None:
                chosen = [i for i in chosen if sheet.rows[i]["id"] in wanted_rows]
            start, stop, _, _ = _page_window(request, len(chosen), paged_by_default=False)
            columns = sheet.columns
            if wanted_columns is not None:
                columns = [column for column in columns if column["id"] in wanted_columns]
            body = {
                "id": sheet.id,
                "name": sheet.name,
                "version": sheet.version,
                "totalRowCount": len(sheet.rows),
                "accessLevel": "OWNER",
                "ganttEnabled": sheet.kind == "plan",
                "dependenciesEnabled": sheet.kind == "plan",
                "resourceManagementEnabled": False,
                "permalink": sheet.permalink,
                "createdAt": smartsheet_timestamp(sheet.created_at),
                "modifiedAt": smartsheet_timestamp(sheet.modified_at),
                "columns": [dict(column) for column in columns],
                "rows": [encoded[i] for i in chosen[start:stop]],
            }
        return SimResponse(200, body)

    def _rows_encoded(self, sheet: SmartsheetSheet, wanted_columns: set[int] | None) -> list[msgspec.Raw]:
        """Each row of the sheet as JSON, its cells narrowed to `wanted_columns`; encoded again only
        once the sheet changed (every change moves its version)."""
        key = (sheet.id, frozenset(wanted_columns) if wanted_columns is not None else None)
        cached = self._encoded_rows.get(key)
        if cached is not None and cached[0] == sheet.version:
            return cached[1]
        rows = [
            msgspec.Raw(
                msgspec.json.encode(
                    row
                    if wanted_columns is None
                    else {**row, "cells": [cell for cell in row["cells"] if cell["columnId"] in wanted_columns]}
                )
            )
            for row in sheet.rows
        ]
        self._encoded_rows[key] = (sheet.version, rows)
        return rows

    # -- changes between runs (test helpers) -----------------------------------------------------
    def _touch(self, sheet: SmartsheetSheet, at: datetime) -> str:
        stamp = truncate_to_second(at)
        if stamp > sheet.modified_at:
            sheet.modified_at = stamp
        sheet.version += 1
        return smartsheet_timestamp(stamp)

    def _write_cells(self, sheet: SmartsheetSheet, row: dict, values: Mapping[str, Any]) -> None:
        cells_by_column = {cell["columnId"]: cell for cell in row["cells"]}
        for title, value in values.items():
            column = sheet.column(title)
            typed = typed_cell_value(column, value)
            cell: dict[str, Any] = {"columnId": column["id"]}
            if typed is not None:
                cell["value"] = typed
                shown = display_value(
                    column, typed, sheet.display_formats.get(column["id"]), self.account.names_by_email
                )
                if shown is not None:
                    cell["displayValue"] = shown
            cells_by_column[column["id"]] = cell
        row["cells"] = [cells_by_column.get(column["id"], {"columnId": column["id"]}) for column in sheet.columns]

    def update_cells(self, sheet_id: int, row_id: int, values: Mapping[str, Any], *, at: datetime) -> None:
        """Write cells of a row (by column title; None clears a cell) at instant `at`; the row's
        `modifiedAt` moves to `at`, to the second."""
        with self.lock:
            sheet = self.account.sheet(sheet_id)
            row = sheet.row(int(row_id))
            self._write_cells(sheet, row, values)
            row["modifiedAt"] = self._touch(sheet, at)

    def add_row(self, sheet_id: int, values: Mapping[str, Any], *, at: datetime, parent_id: int | None = None) -> int:
        """Add a row at the bottom of the sheet (or as the last child of `parent_id`); returns its id."""
        with self.lock:
            sheet = self.account.sheet(sheet_id)
            taken = {row["id"] for one in self.account.sheets for row in one.rows}
            taken |= {column["id"] for one in self.account.sheets for column in one.columns}
            row_id = max(taken) + 7
            stamp = self._touch(sheet, at)
            row: dict[str, Any] = {"id": row_id, "rowNumber": 0}
            if parent_id is not None:
                sheet.row(int(parent_id))
                row["parentId"] = int(parent_id)
            row.update({"expanded": True, "createdAt": stamp, "modifiedAt": stamp, "cells": []})
            self._write_cells(sheet, row, values)
            position = len(sheet.rows)
            if parent_id is not None:
                family = {int(parent_id)}
                for index, existing in enumerate(sheet.rows):
                    if existing["id"] in family or existing.get("parentId") in family:
                        family.add(existing["id"])
                        position = index + 1
            sheet.rows.insert(position, row)
            self._renumber(sheet)
            return row_id

    def delete_row(self, sheet_id: int, row_id: int, *, at: datetime) -> list[int]:
        """Delete a row and its children, as Smartsheet does: they vanish without a trace. Returns
        the deleted row ids."""
        with self.lock:
            sheet = self.account.sheet(sheet_id)
            sheet.row(int(row_id))
            doomed = {int(row_id)}
            for row in sheet.rows:
                if row.get("parentId") in doomed:
                    doomed.add(row["id"])
            sheet.rows = [row for row in sheet.rows if row["id"] not in doomed]
            self._renumber(sheet)
            self._touch(sheet, at)
            return sorted(doomed)

    def update_register(self, project_code: str, values: Mapping[str, Any], *, at: datetime) -> int:
        """Edit a project's register row (e.g. a new baseline_finish); returns the row id."""
        with self.lock:
            row = self.account.register_row(project_code)
            self.update_cells(self.account.register_sheet_id, row["id"], values, at=at)
            return row["id"]

    def rename_column(self, sheet_id: int, title: str, new_title: str) -> None:
        """Rename a column; rows keep their cells and their modifiedAt, as in Smartsheet."""
        with self.lock:
            sheet = self.account.sheet(sheet_id)
            column = sheet.column(title)
            column["title"] = new_title
            column["version"] += 1
            sheet.version += 1

    def revoke_access(self, sheet_id: int) -> None:
        """Unshare a sheet from the token's user: it leaves the sheet list and answers 403."""
        with self.lock:
            self.revoked_sheet_ids.add(int(sheet_id))

    @staticmethod
    def _renumber(sheet: SmartsheetSheet) -> None:
        for number, row in enumerate(sheet.rows, start=1):
            row["rowNumber"] = number
