"""Smartsheet API 2.0 client: Bearer authentication and page-number paging over sheets, columns and rows.

Smartsheet answers a page past the last one with the last page again, so a loop that pages "until
empty" never ends and reads the last page twice. Index endpoints (`/sheets`, `/columns`) are paged
until `pageNumber` reaches `totalPages`. Row pages of `GET /sheets/{id}` carry no page count: they
end at a short page, at `totalRowCount` when no row filter applies, or when a page only repeats rows
already read (the last page echoed back).

Row pages are decoded once, each row left as the JSON text the API sent (`SheetRow.text`) beside
the little of it the connector reads (`SheetRow.head`: its id, `modifiedAt` and its cells' column
ids and values, those values still JSON text). A row that does not fit that shape (not an object,
no id, a cell that is not an object) comes back decoded as it is, for the loader to reject or land.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

import msgspec
import requests

from connectors.http import ApiClient, RequestWindow, RetryPolicy
from connectors.smartsheet.settings import SmartsheetSettings

INDEX_PAGE_SIZE = 100
JSON_NULL = msgspec.Raw(b"null")


class CellHead(msgspec.Struct):
    """What the connector reads of a cell: its column and its value, still JSON text (null when absent)."""

    columnId: Any = None
    value: msgspec.Raw = JSON_NULL


class RowHead(msgspec.Struct):
    """What the connector reads of a row."""

    id: Any = None
    modifiedAt: Any = None
    cells: list[CellHead] | None = None


class SheetRow(NamedTuple):
    """A row as the API sent it (`text`), with what the connector reads of it (`head`)."""

    head: RowHead
    text: bytes


class _SheetBody(msgspec.Struct):
    """A page of `GET /sheets/{id}`, its rows undecoded."""

    id: Any = None
    name: Any = None
    version: Any = None
    totalRowCount: Any = None
    columns: list[Any] | None = None
    rows: list[msgspec.Raw] | None = None


_ROW_HEADS = msgspec.json.Decoder(list[RowHead])
_ROW_HEAD = msgspec.json.Decoder(RowHead)


def read_rows(raws: list[msgspec.Raw]) -> list[SheetRow | Any]:
    """A page's rows as `SheetRow`s; a row of another shape, or without an id, decoded as it is."""
    try:
        # one decode of the page's heads: far cheaper than one per row
        heads: list[Any] = _ROW_HEADS.decode(b"[" + b",".join(raws) + b"]")
    except msgspec.ValidationError:
        heads = [_read_row_head(raw) for raw in raws]
    return [
        SheetRow(head, bytes(raw))
        if isinstance(head, RowHead) and head.id is not None
        else (msgspec.json.decode(raw) if isinstance(head, RowHead) else head)
        for head, raw in zip(heads, raws, strict=True)
    ]


def _read_row_head(raw: msgspec.Raw) -> Any:
    try:
        return _ROW_HEAD.decode(raw)
    except msgspec.ValidationError:
        return msgspec.json.decode(raw)


def row_id(row: Any) -> Any:
    """A row's id, read from its head or from the row decoded (None when it has none)."""
    if isinstance(row, SheetRow):
        return row.head.id
    return row.get("id") if isinstance(row, dict) else None


def rows_modified_since_literal(instant: datetime) -> str:
    """An instant as the `rowsModifiedSince` value: ISO 8601 in UTC, to the second (what Smartsheet keeps)."""
    if instant.tzinfo is None:
        raise ValueError("watermarks must be timezone-aware")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SmartsheetClient:
    """Pages through the Smartsheet endpoints the connector reads."""

    def __init__(self, settings: SmartsheetSettings, retry: RetryPolicy | None = None) -> None:
        session = requests.Session()
        session.headers.update(
            {
                "Authorization": f"Bearer {settings.token.reveal()}",
                "Accept": "application/json",
                "User-Agent": "pmo-warehouse-connector",
            }
        )
        self.settings = settings
        self.api = ApiClient(
            settings.base_url,
            session=session,
            budget=RequestWindow(settings.requests_per_minute),
            retry=retry,
            name=f"smartsheet[{settings.instance}]",
        )

    def _index_pages(
        self, path: str, page_size: int = INDEX_PAGE_SIZE, **filters: Any
    ) -> Iterator[list[dict[str, Any]]]:
        page = 1
        while True:
            body = self.api.get(path, page=page, pageSize=page_size, **filters)
            if page > 1 and int(body.get("pageNumber", page)) < page:
                return
            yield body.get("data") or []
            if int(body.get("pageNumber", page)) >= int(body.get("totalPages") or 0):
                return
            page += 1

    def list_sheets(self, page_size: int = INDEX_PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
        """`GET /sheets?include=sheetVersion`, a page of sheet summaries, each with its version, at a time."""
        return self._index_pages("sheets", page_size, include="sheetVersion")

    def columns(self, sheet_id: int) -> list[dict[str, Any]]:
        """Every column of a sheet (`GET /sheets/{id}/columns`, paged)."""
        return [column for page in self._index_pages(f"sheets/{sheet_id}/columns") for column in page]

    def sheet_pages(
        self,
        sheet_id: int,
        page_size: int,
        *,
        rows_modified_since: datetime | None = None,
        row_ids: Iterable[int | str] | None = None,
        column_ids: Iterable[int] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """`GET /sheets/{id}` page by page: each yielded body holds the sheet's name, version, row count
        and columns, and the page's rows not yielded before (`read_rows`)."""
        filters: dict[str, Any] = {}
        if rows_modified_since is not None:
            filters["rowsModifiedSince"] = rows_modified_since_literal(rows_modified_since)
        if row_ids is not None:
            filters["rowIds"] = ",".join(str(row_id) for row_id in row_ids)
        if column_ids is not None:
            filters["columnIds"] = ",".join(str(column_id) for column_id in column_ids)
        rows_filtered = "rowsModifiedSince" in filters or "rowIds" in filters
        seen: set[Any] = set()
        page = 1
        while True:
            body: _SheetBody = self.api.request(
                "GET", f"sheets/{sheet_id}", params={"page": page, "pageSize": page_size, **filters}, shape=_SheetBody
            )
            rows = read_rows(body.rows or [])
            keys = [row_id(row) for row in rows]
            ids = [key for key in keys if key is not None]
            if page > 1 and ids and all(key in seen for key in ids):
                return
            fresh = [row for row, key in zip(rows, keys, strict=True) if key is None or key not in seen]
            seen.update(ids)
            yield {
                "id": body.id,
                "name": body.name,
                "version": body.version,
                "totalRowCount": body.totalRowCount,
                "columns": body.columns or [],
                "rows": fresh,
            }
            if len(ids) < page_size:
                return
            if not rows_filtered and len(seen) >= int(body.totalRowCount or 0):
                return
            page += 1
