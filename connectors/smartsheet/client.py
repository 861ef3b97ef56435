"""Smartsheet API 2.0 client: Bearer authentication and page-number paging over sheets, columns and rows.

Smartsheet answers a page past the last one with the last page again, so a loop that pages "until
empty" never ends and reads the last page twice. Index endpoints (`/sheets`, `/columns`) are paged
until `pageNumber` reaches `totalPages`. Row pages of `GET /sheets/{id}` carry no page count: they
end at a short page, at `totalRowCount` when no row filter applies, or when a page only repeats rows
already read (the last page echoed back).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import requests

from connectors.http import ApiClient, RequestBudget, RetryPolicy
from connectors.smartsheet.settings import SmartsheetSettings

INDEX_PAGE_SIZE = 100


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
            budget=RequestBudget(settings.requests_per_minute, settings.burst),
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
        """`GET /sheets/{id}` page by page: each yielded body holds the sheet's columns and the page's
        rows not yielded before."""
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
            body = self.api.get(f"sheets/{sheet_id}", page=page, pageSize=page_size, **filters)
            rows = body.get("rows") or []
            ids = [row["id"] for row in rows if isinstance(row, dict) and row.get("id") is not None]
            if page > 1 and ids and all(row_id in seen for row_id in ids):
                return
            fresh = [row for row in rows if not (isinstance(row, dict) and row.get("id") in seen)]
            seen.update(ids)
            yield {**body, "rows": fresh}
            if len(ids) < page_size:
                return
            if not rows_filtered and len(seen) >= int(body.get("totalRowCount") or 0):
                return
            page += 1
