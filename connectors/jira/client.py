"""Jira Cloud REST v3 client: authentication and the paging styles of each endpoint.

The endpoints whose records are landed as they are (search, worklog list, changelog bulk fetch)
decode only their envelope: the records stay the JSON text Jira sent (`msgspec.Raw`), which the
raw store writes as it is, so a record's JSON is never decoded into objects and encoded again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import requests

from connectors.http import ApiClient, RequestBudget, RetryPolicy
from connectors.jira.settings import JiraSettings

WORKLOG_LIST_LIMIT = 1000
CHANGELOG_BULK_LIMIT = 1000


class SearchPage(msgspec.Struct):
    """A `search/jql` page whose issues are decoded."""

    issues: list[Any] = []
    nextPageToken: str | None = None
    isLast: bool | None = None


class EncodedSearchPage(msgspec.Struct):
    """A `search/jql` page whose issues are left as the JSON text Jira sent."""

    issues: list[msgspec.Raw] = []
    nextPageToken: str | None = None
    isLast: bool | None = None


class IssueIdHead(msgspec.Struct):
    """What a census reads of an issue: its id."""

    id: str | int | None = None


_ISSUE_ID_PAGE = msgspec.json.Decoder(list[IssueIdHead])
_ISSUE_ID = msgspec.json.Decoder(IssueIdHead)


def _issue_id_head(raw: msgspec.Raw) -> IssueIdHead | None:
    try:
        return _ISSUE_ID.decode(raw)
    except msgspec.ValidationError:
        return None


class IssueChangelog(msgspec.Struct):
    issueId: str | int
    changeHistories: list[msgspec.Raw] = []


class ChangelogPage(msgspec.Struct):
    issueChangeLogs: list[IssueChangelog] = []
    nextPageToken: str | None = None


class JiraClient:
    """Pages through the Jira endpoints the connector reads."""

    def __init__(self, settings: JiraSettings, retry: RetryPolicy | None = None) -> None:
        session = requests.Session()
        session.auth = (settings.email, settings.api_token.reveal())
        session.headers.update({"Accept": "application/json", "User-Agent": "pmo-warehouse-connector"})
        self.settings = settings
        self.api = ApiClient(
            settings.base_url,
            session=session,
            budget=RequestBudget(settings.requests_per_minute, settings.burst),
            retry=retry,
            name=f"jira[{settings.instance}]",
        )

    def sibling(self) -> JiraClient:
        """A client of its own session for another thread, sharing this one's request budget and retries."""
        sibling = JiraClient(self.settings, self.api.retry)
        sibling.api.budget = self.api.budget
        return sibling

    def myself(self) -> dict[str, Any]:
        return self.api.get("/rest/api/3/myself")

    def fields(self) -> list[dict[str, Any]]:
        return self.api.get("/rest/api/3/field")

    def _offset_pages(self, path: str, page_size: int = 50, **params: Any) -> Iterator[list[dict[str, Any]]]:
        """Offset paging (`startAt`, `maxResults`, `isLast`, `values`), as the agile endpoints page."""
        start = 0
        while True:
            page = self.api.get(path, startAt=start, maxResults=page_size, **params)
            values = page.get("values", [])
            yield values
            start += len(values)
            if page.get("isLast", True) or not values:
                return

    def boards(self) -> Iterator[list[dict[str, Any]]]:
        return self._offset_pages("/rest/agile/1.0/board")

    def sprints(self, board_id: int | str) -> Iterator[list[dict[str, Any]]]:
        return self._offset_pages(f"/rest/agile/1.0/board/{board_id}/sprint", state="active,closed,future")

    def projects(self, page_size: int = 50) -> Iterator[list[dict[str, Any]]]:
        """Offset-paged `project/search`, a page at a time."""
        start = 0
        while True:
            page = self.api.get("/rest/api/3/project/search", startAt=start, maxResults=page_size)
            values = page.get("values", [])
            yield values
            start += len(values)
            if page.get("isLast", True) or not values:
                return

    def users(self, page_size: int = 100) -> Iterator[list[dict[str, Any]]]:
        """`users/search` returns a bare list: the last page is the one shorter than asked."""
        start = 0
        while True:
            values = self.api.get("/rest/api/3/users/search", startAt=start, maxResults=page_size)
            if not isinstance(values, list):
                raise TypeError(f"users/search returned {type(values).__name__}, expected a list")
            yield values
            if len(values) < page_size:
                return
            start += len(values)

    def search_issues(
        self, jql: str, fields: list[str], page_size: int, expand: str | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """`search/jql` with `nextPageToken`; the last page has `isLast` and no token."""
        return self._search(jql, fields, page_size, expand, SearchPage)

    def search_issues_encoded(
        self, jql: str, fields: list[str], page_size: int, expand: str | None = None
    ) -> Iterator[list[msgspec.Raw]]:
        """As `search_issues`, each issue left as the JSON text Jira sent."""
        return self._search(jql, fields, page_size, expand, EncodedSearchPage)

    def search_issue_ids(self, jql: str, page_size: int) -> Iterator[list[str]]:
        """The ids of the issues `jql` finds (`fields=id`, the census's large pages), a page at a time.

        A page's ids are read in one typed decode; a record that is not an object with an id is skipped."""
        for raws in self._search(jql, ["id"], page_size, None, EncodedSearchPage):
            try:
                heads = _ISSUE_ID_PAGE.decode(b"[" + b",".join(raws) + b"]")
            except msgspec.ValidationError:
                heads = [_issue_id_head(raw) for raw in raws]
            yield [str(head.id) for head in heads if head is not None and head.id is not None]

    def _search(
        self,
        jql: str,
        fields: list[str],
        page_size: int,
        expand: str | None,
        shape: type[SearchPage | EncodedSearchPage],
    ) -> Iterator[list[Any]]:
        token: str | None = None
        while True:
            body: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": page_size}
            if expand:
                body["expand"] = expand
            if token:
                body["nextPageToken"] = token
            page = self.api.post("/rest/api/3/search/jql", body, shape=shape)
            yield page.issues
            token = page.nextPageToken
            is_last = page.isLast if page.isLast is not None else token is None
            if is_last or not token:
                return

    def _worklog_feed(self, kind: str, since_ms: int) -> Iterator[dict[str, Any]]:
        since = since_ms
        while True:
            page = self.api.get(f"/rest/api/3/worklog/{kind}", since=since)
            yield page
            if page.get("lastPage", True):
                return
            until = int(page["until"])
            if until <= since:
                # the next page would be this one again: more than a page of worklogs share one instant
                raise RuntimeError(
                    f"the worklog/{kind} feed does not advance past since={since}: more worklogs than one page"
                    " holds changed at that same millisecond (the pages before it are loaded, the state points there)"
                )
            since = until

    def worklogs_updated(self, since_ms: int) -> Iterator[dict[str, Any]]:
        """Pages of `{values:[{worklogId, updatedTime}], since, until, lastPage}`."""
        return self._worklog_feed("updated", since_ms)

    def worklogs_deleted(self, since_ms: int) -> Iterator[dict[str, Any]]:
        return self._worklog_feed("deleted", since_ms)

    def worklog_list(self, ids: list[int | str]) -> list[msgspec.Raw]:
        """The worklogs of these ids, each as the JSON text Jira sent."""
        records: list[msgspec.Raw] = []
        for start in range(0, len(ids), WORKLOG_LIST_LIMIT):
            chunk = [int(worklog_id) for worklog_id in ids[start : start + WORKLOG_LIST_LIMIT]]
            records.extend(
                self.api.post("/rest/api/3/worklog/list", {"ids": chunk}, shape=list[msgspec.Raw] | None) or []
            )
        return records

    def changelogs(self, issue_ids: list[str], field_ids: list[str]) -> dict[str, list[msgspec.Raw]]:
        """Full change histories of up to 1000 issues through `changelog/bulkfetch` (no truncation),
        each history as the JSON text Jira sent.

        One issue's histories may be split across pages, so they are gathered before returning.
        """
        if len(issue_ids) > CHANGELOG_BULK_LIMIT:
            raise ValueError(f"changelog/bulkfetch takes at most {CHANGELOG_BULK_LIMIT} issues")
        histories: dict[str, list[msgspec.Raw]] = {str(issue_id): [] for issue_id in issue_ids}
        token: str | None = None
        while True:
            body: dict[str, Any] = {"issueIdsOrKeys": issue_ids, "fieldIds": field_ids, "maxResults": 1000}
            if token:
                body["nextPageToken"] = token
            page = self.api.post("/rest/api/3/changelog/bulkfetch", body, shape=ChangelogPage)
            for entry in page.issueChangeLogs:
                histories.setdefault(str(entry.issueId), []).extend(entry.changeHistories)
            token = page.nextPageToken
            if not token:
                return histories
