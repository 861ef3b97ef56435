"""Asana REST 1.0 client: Bearer authentication, `{"data": ...}` envelopes and offset paging.

Every list request sends `limit` (Asana's older endpoints otherwise answer with the whole list,
unpaged, or time out) and `opt_fields`, and follows `next_page.offset` until it is `null`.

The lists whose records are landed as they are can be read with `encoded_pages`: only the envelope
is decoded, each record stays the JSON text Asana sent (`msgspec.Raw`), which the raw store writes
as it is.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
import requests

from connectors.asana.settings import AsanaSettings
from connectors.http import ApiClient, RequestBudget, RetryPolicy


class AsanaResponseError(RuntimeError):
    """A 2xx answer that is not the `{"data": ...}` envelope Asana always sends."""


class _NextPage(msgspec.Struct):
    offset: str | None = None


class _EncodedPage(msgspec.Struct):
    """A list page whose records are left as the JSON text Asana sent."""

    data: list[msgspec.Raw] | None = None
    next_page: _NextPage | None = None


class AsanaClient:
    """Reads the Asana endpoints the connector needs, a page at a time."""

    def __init__(self, settings: AsanaSettings, retry: RetryPolicy | None = None) -> None:
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
            name=f"asana[{settings.instance}]",
        )

    def get(self, path: str, *, fields: Sequence[str] | None = None, **params: Any) -> Any:
        """One resource: the `data` of the envelope."""
        if fields:
            params["opt_fields"] = ",".join(fields)
        body = self.api.get(path, **params)
        if not isinstance(body, dict) or "data" not in body:
            raise AsanaResponseError(f"{self.api.name}: GET {path} answered without a data envelope")
        return body["data"]

    def pages(self, path: str, *, fields: Sequence[str] | None = None, **params: Any) -> Iterator[list[Any]]:
        """The pages of a list endpoint, following `next_page.offset` until it is null."""
        for body in self._bodies(path, fields, params, None):
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise AsanaResponseError(f"{self.api.name}: GET {path} answered without a data list")
            yield body["data"]

    def encoded_pages(
        self, path: str, *, fields: Sequence[str] | None = None, **params: Any
    ) -> Iterator[list[msgspec.Raw]]:
        """As `pages`, each record left as the JSON text Asana sent."""
        for body in self._bodies(path, fields, params, _EncodedPage):
            if body.data is None:
                raise AsanaResponseError(f"{self.api.name}: GET {path} answered without a data list")
            yield body.data

    def _bodies(
        self, path: str, fields: Sequence[str] | None, params: dict[str, Any], shape: type | None
    ) -> Iterator[Any]:
        query: dict[str, Any] = {name: value for name, value in params.items() if value is not None}
        query["limit"] = self.settings.page_size
        if fields:
            query["opt_fields"] = ",".join(fields)
        seen_offsets: set[str] = set()
        while True:
            body = self.api.request("GET", path, params=query, shape=shape)
            yield body
            if shape is None:
                next_page = body.get("next_page")
                offset = next_page.get("offset") if isinstance(next_page, dict) else None
            else:
                offset = body.next_page.offset if body.next_page is not None else None
            if not offset:
                return
            if offset in seen_offsets:
                raise AsanaResponseError(f"{self.api.name}: GET {path} repeated the page offset {offset!r}")
            seen_offsets.add(offset)
            query["offset"] = offset

    # -- endpoints -----------------------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        return self.get("/users/me", fields=("name", "email", "workspaces", "workspaces.name"))

    def workspaces(self, fields: Sequence[str]) -> Iterator[list[Any]]:
        return self.pages("/workspaces", fields=fields)

    def users(self, workspace: str, fields: Sequence[str]) -> Iterator[list[Any]]:
        return self.pages("/users", fields=fields, workspace=workspace)

    def portfolios(self, workspace: str, owner: str, fields: Sequence[str]) -> Iterator[list[Any]]:
        return self.pages("/portfolios", fields=fields, workspace=workspace, owner=owner)

    def portfolio(self, portfolio: str, fields: Sequence[str]) -> dict[str, Any]:
        return self.get(f"/portfolios/{portfolio}", fields=fields)

    def portfolio_items(self, portfolio: str, fields: Sequence[str]) -> Iterator[list[Any]]:
        return self.pages(f"/portfolios/{portfolio}/items", fields=fields)

    def projects(self, workspace: str, fields: Sequence[str]) -> Iterator[list[Any]]:
        """Every project of the workspace, archived or not."""
        return self.pages("/projects", fields=fields, workspace=workspace)

    def sections(self, project: str, fields: Sequence[str]) -> Iterator[list[msgspec.Raw]]:
        return self.encoded_pages(f"/projects/{project}/sections", fields=fields)

    def custom_field_settings(self, project: str, fields: Sequence[str]) -> Iterator[list[Any]]:
        return self.pages(f"/projects/{project}/custom_field_settings", fields=fields)

    def tasks(
        self, project: str, fields: Sequence[str], modified_since: str | None = None
    ) -> Iterator[list[msgspec.Raw]]:
        """The project's member tasks (never subtasks), optionally only those modified since an instant."""
        return self.encoded_pages("/tasks", fields=fields, project=project, modified_since=modified_since)

    def subtasks(self, task: str, fields: Sequence[str]) -> Iterator[list[msgspec.Raw]]:
        return self.encoded_pages(f"/tasks/{task}/subtasks", fields=fields)

    def task_time_entries(self, task: str, fields: Sequence[str]) -> Iterator[list[msgspec.Raw]]:
        return self.encoded_pages(f"/tasks/{task}/time_tracking_entries", fields=fields)

    def workspace_time_entries(
        self, workspace: str, start: str, end: str, fields: Sequence[str]
    ) -> Iterator[list[msgspec.Raw]]:
        """Every time entry of the workspace whose `entered_on` lies in [start, end]."""
        return self.encoded_pages(
            "/time_tracking_entries",
            fields=fields,
            workspace=workspace,
            entered_on_start_date=start,
            entered_on_end_date=end,
        )

    def status_updates(self, parent: str, fields: Sequence[str]) -> Iterator[list[msgspec.Raw]]:
        return self.encoded_pages("/status_updates", fields=fields, parent=parent)
