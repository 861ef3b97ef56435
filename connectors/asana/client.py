"""Asana REST 1.0 client: Bearer authentication, `{"data": ...}` envelopes and offset paging.

Every list request sends `limit` (Asana's older endpoints otherwise answer with the whole list,
unpaged, or time out) and `opt_fields`, and follows `next_page.offset` until it is `null`.

The lists whose records are landed as they are can be read with `encoded_pages`: only the envelope
is decoded, each record stays the JSON text Asana sent (`msgspec.Raw`), which the raw store writes
as it is.

Many lists (each parent's subtasks, each project's sections, time entries by month) are read with
`list_pages` through Asana's batch API: `POST /batch` carries up to 10 list requests ("actions")
and answers each in order, so one round trip reads a page of up to 10 lists. Asana counts every
action against the rate limit as a request of its own, and so does the request budget.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import msgspec
import requests

from connectors.asana.settings import AsanaSettings
from connectors.http import RETRYABLE_STATUSES, ApiClient, ApiError, RequestWindow, RetryPolicy

log = logging.getLogger(__name__)

MAX_BATCH_ACTIONS = 10


class AsanaResponseError(RuntimeError):
    """A 2xx answer that is not the `{"data": ...}` envelope Asana always sends."""


class _NextPage(msgspec.Struct):
    offset: str | None = None


class _EncodedPage(msgspec.Struct):
    """A list page whose records are left as the JSON text Asana sent."""

    data: list[msgspec.Raw] | None = None
    next_page: _NextPage | None = None


class _Page(msgspec.Struct):
    """A list page whose records are decoded."""

    data: list[Any] | None = None
    next_page: _NextPage | None = None


class _ActionResult(msgspec.Struct):
    status_code: int
    body: msgspec.Raw = msgspec.Raw(b"null")


class _BatchAnswer(msgspec.Struct):
    data: list[_ActionResult]


@dataclass(frozen=True)
class ListRequest:
    """One list endpoint to read whole: its path (relative to the API root), query parameters and `opt_fields`."""

    path: str
    params: dict[str, Any] = field(default_factory=dict)
    fields: tuple[str, ...] = ()


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
            budget=RequestWindow(settings.requests_per_minute),
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

    def list_pages(
        self,
        lists: Sequence[ListRequest],
        *,
        encoded: bool = True,
        missing_ok: bool = False,
        batch_size: int = MAX_BATCH_ACTIONS,
    ) -> Iterator[tuple[int, list[Any]]]:
        """Every page of each list, as (index of the list, records), the records left encoded as with
        `encoded_pages` unless `encoded` is false. Up to `batch_size` (at most 10) lists go in a batch,
        a page of each per round trip; a list that ends leaves its place to the next one.

        An action answering 5xx is asked again in the next batch, after a backoff; with `missing_ok`,
        a list whose parent is gone (404) is empty; any other error raises `ApiError` naming the list.
        """
        if len(lists) == 1 or batch_size == 1:
            read = self.encoded_pages if encoded else self.pages
            for index, request in enumerate(lists):
                try:
                    for page in read(request.path, fields=request.fields, **request.params):
                        yield index, page
                except ApiError as error:
                    if not (missing_ok and error.status == 404):
                        raise
            return
        shape = _EncodedPage if encoded else _Page
        offsets: dict[int, str | None] = dict.fromkeys(range(len(lists)))
        seen_offsets: list[set[str]] = [set() for _ in lists]
        failures: dict[int, int] = {}
        while offsets:
            chosen = list(offsets)[: min(batch_size, MAX_BATCH_ACTIONS)]
            actions = [self._action(lists[index], offsets[index]) for index in chosen]
            answer = self.api.request(
                "POST", "/batch", json={"data": {"actions": actions}}, shape=_BatchAnswer, cost=len(actions)
            )
            if len(answer.data) != len(actions):
                raise AsanaResponseError(
                    f"{self.api.name}: POST /batch answered {len(answer.data)} results for {len(actions)} actions"
                )
            backoff = 0.0
            for index, result in zip(chosen, answer.data, strict=True):
                endpoint = f"GET {urlsplit(self.api.url(lists[index].path)).path}"
                if result.status_code == 200:
                    try:
                        page = msgspec.json.decode(result.body, type=shape)
                    except (msgspec.ValidationError, msgspec.DecodeError) as error:
                        message = f"{self.api.name}: {endpoint} answered an unexpected body: {error}"
                        raise AsanaResponseError(message) from None
                    if page.data is None:
                        raise AsanaResponseError(f"{self.api.name}: {endpoint} answered without a data list")
                    yield index, page.data
                    offset = page.next_page.offset if page.next_page is not None else None
                    if not offset:
                        del offsets[index]
                    elif offset in seen_offsets[index]:
                        raise AsanaResponseError(f"{self.api.name}: {endpoint} repeated the page offset {offset!r}")
                    else:
                        seen_offsets[index].add(offset)
                        offsets[index] = offset
                elif result.status_code == 404 and missing_ok:
                    del offsets[index]
                elif result.status_code in RETRYABLE_STATUSES:
                    failures[index] = failures.get(index, 0) + 1
                    if failures[index] >= self.api.retry.max_attempts:
                        raise ApiError(
                            f"{self.api.name}: {endpoint} still failing after {failures[index]} attempts in batches "
                            f"(last: HTTP {result.status_code})",
                            status=result.status_code,
                            endpoint=endpoint,
                        )
                    backoff = max(backoff, self.api.retry.backoff(failures[index]))
                else:
                    excerpt = bytes(result.body).decode(errors="replace")[:300]
                    raise ApiError(
                        f"{self.api.name}: {endpoint} answered HTTP {result.status_code} in a batch: {excerpt}",
                        status=result.status_code,
                        endpoint=endpoint,
                    )
            if backoff:
                log.warning("%s: a batch action failed, asking again in %.2f s", self.api.name, backoff)
                self.api.stats.count(retries=1, wait_seconds=backoff)
                time.sleep(backoff)

    def _action(self, request: ListRequest, offset: str | None) -> dict[str, Any]:
        options: dict[str, Any] = {"limit": self.settings.page_size}
        if request.fields:
            options["fields"] = list(request.fields)
        if offset:
            options["offset"] = offset
        data = {name: value for name, value in request.params.items() if value is not None}
        return {"method": "get", "relative_path": request.path, "data": data, "options": options}

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

    def sections_list(self, project: str, fields: Sequence[str]) -> ListRequest:
        return ListRequest(f"/projects/{project}/sections", {}, tuple(fields))

    def custom_field_settings_list(self, project: str, fields: Sequence[str]) -> ListRequest:
        return ListRequest(f"/projects/{project}/custom_field_settings", {}, tuple(fields))

    def tasks_list(self, project: str, fields: Sequence[str], modified_since: str | None = None) -> ListRequest:
        """The project's member tasks (never subtasks), optionally only those modified since an instant."""
        return ListRequest("/tasks", {"project": project, "modified_since": modified_since}, tuple(fields))

    def subtasks_list(self, task: str, fields: Sequence[str]) -> ListRequest:
        return ListRequest(f"/tasks/{task}/subtasks", {}, tuple(fields))

    def task_time_entries_list(self, task: str, fields: Sequence[str]) -> ListRequest:
        return ListRequest(f"/tasks/{task}/time_tracking_entries", {}, tuple(fields))

    def workspace_time_entries_list(self, workspace: str, start: str, end: str, fields: Sequence[str]) -> ListRequest:
        """Every time entry of the workspace whose `entered_on` lies in [start, end]."""
        params = {"workspace": workspace, "entered_on_start_date": start, "entered_on_end_date": end}
        return ListRequest("/time_tracking_entries", params, tuple(fields))

    def status_updates_list(self, parent: str, fields: Sequence[str]) -> ListRequest:
        return ListRequest("/status_updates", {"parent": parent}, tuple(fields))
