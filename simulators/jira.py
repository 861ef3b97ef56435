"""A Jira Cloud REST API simulator over real HTTP, serving the Jira site of a generated world.

Connectors are tested against it as they would run against a Jira Cloud site: Basic auth with an
email and API token, the enhanced JQL search with opaque page tokens and Jira's time zone rules, the
worklog change feeds, and both changelog endpoints. It holds its own copy of the world's Jira data,
so a test can edit, delete or log work between two connector runs (`update_issue`, `delete_issue`,
`add_worklog`, ...).

It runs on the shared `SimulatorServer`: `faults` takes a `FaultPlan` (429s, 5xx, slow or cut
replies, malformed records) or any callable that may answer a request in the simulator's place.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import hmac
import json
import logging
import pickle
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlencode
from zoneinfo import ZoneInfo

import msgspec

from simulators.base import RequestRecord, Route, SimHttpError, SimRequest, SimResponse, SimulatorServer
from simulators.faults import FaultPlan
from simulators.jira_stored import QueryResult, StoredJiraSite, WorklogFeed
from simulators.jql import (
    UNBOUNDED_MESSAGE,
    JqlError,
    SearchContext,
    compile_query,
    compile_sql,
    order_issues,
    parse_jql,
)
from simulators.world import (
    DONE_STATUSES,
    RESOLUTIONS,
    STATUS_CATEGORIES,
    STATUSES,
    JiraDeletedWorklog,
    JiraIssue,
    JiraSite,
    JiraWorklog,
    World,
    adf_text,
    epoch_millis,
    format_jira_duration,
    jira_timestamp,
)

logger = logging.getLogger(__name__)

SEARCH_DEFAULT_PAGE = 50
SEARCH_MAX_PAGE = 100
SEARCH_MAX_ID_PAGE = 5000
EMBEDDED_CHANGELOG_LIMIT = 20
EMBEDDED_WORKLOG_LIMIT = 20
CHANGELOG_MAX_PAGE = 100
BULK_CHANGELOG_MAX_ISSUES = 1000
BULK_CHANGELOG_MAX_FIELDS = 10
BULK_CHANGELOG_MAX_PAGE = 1000
WORKLOG_FEED_PAGE = 1000
WORKLOG_LIST_MAX_IDS = 1000
WORKLOG_FEED_SETTLE = timedelta(minutes=1)
PROJECT_SEARCH_MAX_PAGE = 50
USER_SEARCH_MAX_PAGE = 1000
PAGE_TOKEN_LIFETIME = timedelta(days=7)
ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
INVALID_PAYLOAD = "Invalid request payload. Refer to the REST API documentation and try again."
REMOVED_SEARCH_MESSAGE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."
# A JQL date literal that names a day ("2026-01-31", "2026/01/31 10:00") rather than an offset from now.
ABSOLUTE_DATE_LITERAL = re.compile(r"\s*\d{4}[-/]")


__all__ = ["FaultPlan", "JiraApiError", "JiraSimulator", "JiraStore", "SimRequest", "SimResponse"]


class JiraApiError(SimHttpError):
    """An error answered in Jira's `{"errorMessages": [...], "errors": {}}` shape."""

    def __init__(self, status: int, *messages: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, _error_body(*messages), headers)


def _error_body(*messages: str) -> dict:
    return {"errorMessages": list(messages), "errors": {}}


def _json_body(request: SimRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        raise JiraApiError(400, INVALID_PAYLOAD) from None


FaultHook = Callable[[SimRequest], "SimResponse | None"]


def _utc_millis(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    instant = instant.astimezone(UTC)
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


def _int_param(value: object, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise JiraApiError(400, f"The value '{value}' is invalid for the parameter '{name}'.") from None
    if number < 0:
        raise JiraApiError(400, f"The value of '{name}' must be zero or greater.")
    return number


def _encode_token(payload: dict) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> dict:
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error):
        raise JiraApiError(400, "The provided next page token is invalid or expired.") from None
    if not isinstance(payload, dict):
        raise JiraApiError(400, "The provided next page token is invalid or expired.")
    return payload


def _deep_copy(value: Any) -> Any:
    # a pickle round trip is the quickest deep copy of nested JSON-like payloads
    return pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class _FieldSelection:
    everything: bool
    include: frozenset[str]
    exclude: frozenset[str]

    @classmethod
    def parse(cls, values: Iterable[str] | None, *, default: str) -> _FieldSelection:
        names = [part.strip() for value in (values or []) for part in value.split(",") if part.strip()]
        if not names:
            names = [default]
        everything = any(name in ("*all", "*navigable") for name in names)
        include = frozenset(n for n in names if not n.startswith(("-", "*")))
        exclude = frozenset(n[1:] for n in names if n.startswith("-"))
        if exclude and not everything and not include:
            everything = True
        return cls(everything, include, exclude)

    def includes(self, name: str) -> bool:
        return (self.everything or name in self.include) and name not in self.exclude

    @property
    def only_identifiers(self) -> bool:
        return not self.everything and self.include <= {"id", "key"}


class JiraStore:
    """The simulator's own copy of a Jira site, guarded by one lock.

    Issues and worklogs are copied on first change: until then the store serves the world's
    objects, which it never modifies, so starting a simulator costs next to nothing.

    What the API answers is derived from the store and cached until the next change (`revision`
    counts them): query results, the worklog feeds in time order, and each issue and worklog as
    encoded JSON, so that serving a large site costs little more than copying bytes.
    """

    def __init__(self, site: JiraSite, lock: threading.RLock | None = None) -> None:
        self.lock = lock or threading.RLock()
        reference = _deep_copy(
            {
                "projects": site.projects,
                "fields": site.fields,
                "users": site.users,
                "statuses": site.statuses,
                "issue_types": site.issue_types,
                "status_categories": site.status_categories,
                "priorities": site.priorities,
                "resolutions": site.resolutions,
                "boards": site.boards,
                "sprints": site.sprints,
            }
        )
        self.projects: list[dict] = sorted(reference["projects"], key=lambda project: project["key"])
        self.fields: list[dict] = reference["fields"]
        self.users: list[dict] = reference["users"]
        self.statuses: list[dict] = reference["statuses"]
        self.issue_types: list[dict] = reference["issue_types"]
        self.status_categories: list[dict] = reference["status_categories"]
        self.priorities: list[dict] = reference["priorities"]
        self.resolutions: list[dict] = reference["resolutions"]
        self.boards: list[dict] = reference["boards"]
        self.sprints: list[dict] = reference["sprints"]
        self.field_names = {item["id"]: item["name"] for item in self.fields}
        self.field_schemas = {item["id"]: item["schema"] for item in self.fields}
        self.users_by_account = {user["accountId"]: user for user in self.users}

        self.revision = 0
        self.derived: dict[object, Any] = {}
        self._derived_revision = 0
        self._owned_issue_ids: set[str] = set()
        self._owned_worklog_ids: set[str] = set()
        self.deleted_worklogs: list[JiraDeletedWorklog] = list(site.deleted_worklogs)
        # a site on disk is served from there: only indexes are held, and nothing is cached per item
        self.on_disk = isinstance(site, StoredJiraSite)
        if isinstance(site, StoredJiraSite):
            # views of their own, so that this store's changes stay out of the site (as copies do below)
            self.issues: MutableMapping[str, JiraIssue] = site.issues.fresh_view()  # type: ignore[attr-defined]
            self.issue_ids_by_key = site.issues.ids_by_key()  # type: ignore[attr-defined]
            self.worklogs: MutableMapping[str, JiraWorklog] = site.worklogs.fresh_view()  # type: ignore[attr-defined]
            self.worklog_ids_by_issue: MutableMapping[str, list[str]] = site.worklog_ids_by_issue.fresh_view()
            self.next_worklog_id = 1 + max(site.max_id("worklogs"), site.max_id("deleted_worklogs"))
            self.next_history_id = site.next_history_id()
            return
        self.issues = {issue.id: issue for issue in site.issues}
        self.issue_ids_by_key = {issue.key: issue.id for issue in site.issues}
        self.worklogs = {worklog.id: worklog for worklog in site.worklogs}
        worklog_ids_by_issue: dict[str, list[str]] = {}
        for worklog in site.worklogs:
            worklog_ids_by_issue.setdefault(worklog.issue_id, []).append(worklog.id)
        self.worklog_ids_by_issue = worklog_ids_by_issue
        self.next_worklog_id = 1 + max(
            [int(worklog_id) for worklog_id in self.worklogs]
            + [int(entry.worklog_id) for entry in self.deleted_worklogs]
            + [19999]
        )
        self.next_history_id = 1 + max(
            [int(history["id"]) for issue in site.issues for history in issue.changelog] + [99999]
        )

    def cached(self, key: object, compute: Callable[[], Any]) -> Any:
        """`compute()`, remembered until the store next changes."""
        if self._derived_revision != self.revision:
            self.derived.clear()
            self._derived_revision = self.revision
        try:
            return self.derived[key]
        except KeyError:
            value = self.derived[key] = compute()
            return value

    def forget_derived(self) -> None:
        with self.lock:
            self.revision += 1

    def cached_item(self, key: object, compute: Callable[[], Any]) -> Any:
        """`cached`, for what is derived from one issue or worklog; a site on disk recomputes it on each use."""
        return compute() if self.on_disk else self.cached(key, compute)

    @contextmanager
    def change(self) -> Iterator[None]:
        """Hold the lock while changing the store, and forget what was derived from it."""
        with self.lock:
            self.revision += 1
            try:
                yield
            finally:
                self.revision += 1

    def own_issue(self, issue_id: str) -> JiraIssue:
        """The issue, as this store's private copy (safe to change)."""
        if issue_id not in self._owned_issue_ids:
            shared = self.issues[issue_id]
            payload, changelog = _deep_copy((shared.payload, shared.changelog))
            self.issues[issue_id] = JiraIssue(
                shared.id, shared.key, shared.project_key, shared.created_at, shared.updated_at, payload, changelog
            )
            self._owned_issue_ids.add(issue_id)
        return self.issues[issue_id]

    def own_worklog(self, worklog_id: str) -> JiraWorklog:
        """The worklog, as this store's private copy (safe to change)."""
        if worklog_id not in self._owned_worklog_ids:
            shared = self.worklogs[worklog_id]
            self.worklogs[worklog_id] = JiraWorklog(
                shared.id, shared.issue_id, shared.updated_at, _deep_copy(shared.payload)
            )
            self._owned_worklog_ids.add(worklog_id)
        return self.worklogs[worklog_id]

    def find_issue(self, id_or_key: str) -> JiraIssue | None:
        issue_id = id_or_key if id_or_key in self.issues else self.issue_ids_by_key.get(id_or_key.upper())
        return self.issues.get(issue_id) if issue_id else None

    def project_aliases(self) -> dict[str, str]:
        aliases = {}
        for project in self.projects:
            aliases[project["key"].lower()] = project["key"]
            aliases[project["id"]] = project["key"]
            aliases[project["name"].lower()] = project["key"]
        return aliases


class JiraSimulator(SimulatorServer):
    """A Jira Cloud site on a local port.

    `faults` is consulted before anything else: a `FaultPlan`, or a callable that returns a
    `SimResponse` to send instead (or None). `requests` records every request answered. `clock`
    gives "now" (page token expiry, relative JQL dates, and the worklog feeds, which hide the
    last minute).
    """

    name = "jira"

    def __init__(
        self,
        world: World,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        email: str = "pmo-bot@pmo.example",
        api_token: str = "sim-token",
        user_time_zone: str = "Australia/Sydney",
        clock: Callable[[], datetime] | None = None,
        rate_limit_per_second: int = 100,
        faults: FaultPlan | FaultHook | None = None,
    ) -> None:
        super().__init__(host=host, port=port)
        self.faults = faults  # type: ignore[assignment]
        self.world = world
        self.email = email
        self.user_time_zone = user_time_zone
        self.zone = ZoneInfo(user_time_zone)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.rate_limit_per_second = rate_limit_per_second
        self.store = JiraStore(world.jira, self.lock)
        self._expected_authorization = "Basic " + base64.b64encode(f"{email}:{api_token}".encode()).decode()
        self._account_id = hashlib.sha1(email.encode()).hexdigest()[:24]
        self._second = 0
        self._requests_this_second = 0
        self._routes: list[Route] = [
            ("GET", re.compile(r"/rest/api/3/myself"), self._myself),
            ("GET", re.compile(r"/rest/api/3/serverInfo"), self._server_info),
            ("GET", re.compile(r"/rest/api/3/field"), self._reference("fields")),
            ("GET", re.compile(r"/rest/api/3/status"), self._reference("statuses")),
            ("GET", re.compile(r"/rest/api/3/statuscategory"), self._reference("status_categories")),
            ("GET", re.compile(r"/rest/api/3/issuetype"), self._reference("issue_types")),
            ("GET", re.compile(r"/rest/api/3/priority"), self._reference("priorities")),
            ("GET", re.compile(r"/rest/api/3/resolution"), self._reference("resolutions")),
            ("GET", re.compile(r"/rest/api/3/project/search"), self._project_search),
            ("GET", re.compile(r"/rest/api/3/users/search"), self._users_search),
            ("GET", re.compile(r"/rest/api/3/search/jql"), self._search),
            ("POST", re.compile(r"/rest/api/3/search/jql"), self._search),
            ("POST", re.compile(r"/rest/api/3/search/approximate-count"), self._approximate_count),
            ("GET", re.compile(r"/rest/api/[23]/search"), self._removed_search),
            ("POST", re.compile(r"/rest/api/[23]/search"), self._removed_search),
            ("GET", re.compile(r"/rest/api/3/issue/(?P<issue>[^/]+)"), self._issue),
            ("GET", re.compile(r"/rest/api/3/issue/(?P<issue>[^/]+)/changelog"), self._issue_changelog),
            ("GET", re.compile(r"/rest/api/3/issue/(?P<issue>[^/]+)/worklog"), self._issue_worklogs),
            ("POST", re.compile(r"/rest/api/3/changelog/bulkfetch"), self._bulk_changelog),
            ("GET", re.compile(r"/rest/api/3/worklog/updated"), self._worklogs_updated),
            ("GET", re.compile(r"/rest/api/3/worklog/deleted"), self._worklogs_deleted),
            ("POST", re.compile(r"/rest/api/3/worklog/list"), self._worklog_list),
            ("GET", re.compile(r"/rest/agile/1.0/board"), self._boards),
            ("GET", re.compile(r"/rest/agile/1.0/board/(?P<board>\d+)/sprint"), self._board_sprints),
        ]

    @property
    def faults(self) -> FaultPlan | FaultHook:
        return self._faults

    @faults.setter
    def faults(self, value: FaultPlan | FaultHook | None) -> None:
        self._faults = FaultPlan() if value is None else value

    def start(self) -> JiraSimulator:
        super().start()
        # cached answers embed the simulator's URL
        self.store.forget_derived()
        return self

    def __enter__(self) -> JiraSimulator:
        return self.start()

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    # -- dispatch (hooks of SimulatorServer) ---------------------------------------------------------

    def routes(self) -> list[Route]:
        return self._routes

    def handle(self, request: SimRequest) -> SimResponse:
        if isinstance(self._faults, FaultPlan):
            response = super().handle(request)
        else:
            response = self._faults(request) or self.authorize(request) or self._route(request)
            with self.lock:
                self.requests.append(RequestRecord(request.method, request.path, request.query, response.status))
        response.headers.setdefault("X-RateLimit-Limit", str(self.rate_limit_per_second))
        response.headers.setdefault("X-RateLimit-Remaining", str(self._remaining_this_second()))
        return response

    def _remaining_this_second(self) -> int:
        second = int(self.now().timestamp())
        with self.lock:
            if second != self._second:
                self._second, self._requests_this_second = second, 0
            self._requests_this_second += 1
            return max(self.rate_limit_per_second - self._requests_this_second, 0)

    def authorize(self, request: SimRequest) -> SimResponse | None:
        supplied = request.headers.get("Authorization", "")
        if hmac.compare_digest(supplied.encode(), self._expected_authorization.encode()):
            return None
        return SimResponse(
            401,
            _error_body("You are not authenticated. Authentication required to perform this operation."),
            {"WWW-Authenticate": 'Basic realm="protected-area"'},
        )

    def _route(self, request: SimRequest) -> SimResponse:
        path = request.path.rstrip("/") or "/"
        allowed_methods = []
        for method, pattern, route in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if method != request.method:
                allowed_methods.append(method)
                continue
            try:
                with self.lock:
                    return route(request, **match.groupdict())
            except SimHttpError as error:
                return error.response()
            except Exception:
                logger.exception("jira simulator failed on %s %s", request.method, path)
                return JiraApiError(500, "Internal server error.").response()
        if allowed_methods:
            return JiraApiError(405, f"Method {request.method} is not allowed for {path}.").response()
        return self.not_found(request)

    def not_found(self, request: SimRequest) -> SimResponse:
        return JiraApiError(404, f"No API resource found at {request.path}.").response()

    def rate_limited_response(self, retry_after: float | None, reset_header: str | None) -> SimResponse:
        response = super().rate_limited_response(retry_after, reset_header)
        response.body = _error_body("Rate limit exceeded.")
        response.headers.update({"X-RateLimit-Remaining": "0", "RateLimit-Reason": "jira-burst-based"})
        return response

    def server_error_response(self, status: int) -> SimResponse:
        return SimResponse(status, _error_body("The service is temporarily unavailable. Please try again later."))

    def with_malformed_records(self, body: Any) -> Any:
        if isinstance(body, dict):
            for key in ("issues", "values", "issueChangeLogs"):
                if isinstance(body.get(key), list):
                    return {**body, key: [*body[key], *self.malformed_records]}
        return super().with_malformed_records(body)

    # -- reference data ----------------------------------------------------------------------------

    def _myself(self, request: SimRequest) -> SimResponse:
        return SimResponse(
            200,
            {
                "self": f"{self.url}/rest/api/3/user?accountId={self._account_id}",
                "accountId": self._account_id,
                "accountType": "atlassian",
                "emailAddress": self.email,
                "displayName": self.email.split("@")[0].replace(".", " ").replace("-", " ").title(),
                "active": True,
                "timeZone": self.user_time_zone,
                "locale": "en_US",
            },
        )

    def _server_info(self, request: SimRequest) -> SimResponse:
        return SimResponse(
            200,
            {
                "baseUrl": self.url,
                "deploymentType": "Cloud",
                "version": "1001.0.0-SNAPSHOT",
                "serverTime": jira_timestamp(self.now(), self.zone),
                "serverTimeZone": "Etc/UTC",
            },
        )

    def _reference(self, attribute: str) -> Callable[[SimRequest], SimResponse]:
        def answer(request: SimRequest) -> SimResponse:
            return SimResponse(200, getattr(self.store, attribute))

        return answer

    def _offset_page(self, request: SimRequest, items: list, *, path: str, max_page: int, default_page: int) -> dict:
        start_at = _int_param(request.param("startAt"), "startAt", 0)
        max_results = min(_int_param(request.param("maxResults"), "maxResults", default_page), max_page)
        values = items[start_at : start_at + max_results]
        is_last = start_at + max_results >= len(items)
        other_params = {k: v[0] for k, v in request.query.items() if k not in ("startAt", "maxResults")}
        page = {
            "self": f"{self.url}{path}?{urlencode({**other_params, 'startAt': start_at, 'maxResults': max_results})}",
        }
        if not is_last:
            next_params = {**other_params, "startAt": start_at + max_results, "maxResults": max_results}
            page["nextPage"] = f"{self.url}{path}?{urlencode(next_params)}"
        page.update(
            {"maxResults": max_results, "startAt": start_at, "total": len(items), "isLast": is_last, "values": values}
        )
        return page

    def _boards(self, request: SimRequest) -> SimResponse:
        boards = [{"self": f"{self.url}/rest/agile/1.0/board/{board['id']}", **board} for board in self.store.boards]
        return SimResponse(
            200, self._offset_page(request, boards, path="/rest/agile/1.0/board", max_page=50, default_page=50)
        )

    def _board_sprints(self, request: SimRequest, board: str) -> SimResponse:
        found = self.store.cached("boards-by-id", self._boards_by_id).get(board)
        if found is None:
            raise JiraApiError(404, f"The requested board cannot be viewed because it either does not exist: {board}")
        if found["type"] != "scrum":
            raise JiraApiError(400, "The board does not support sprints")
        states = {part for value in request.query.get("state", []) for part in value.split(",") if part}
        sprints = [
            {"self": f"{self.url}/rest/agile/1.0/sprint/{sprint['id']}", "originBoardId": sprint["boardId"], **sprint}
            for sprint in self.store.cached("sprints-by-board", self._sprints_by_board).get(board, [])
            if not states or sprint["state"] in states
        ]
        path = f"/rest/agile/1.0/board/{board}/sprint"
        return SimResponse(200, self._offset_page(request, sprints, path=path, max_page=50, default_page=50))

    def _boards_by_id(self) -> dict[str, dict]:
        return {str(board["id"]): board for board in self.store.boards}

    def _sprints_by_board(self) -> dict[str, list[dict]]:
        """Each board's sprints, in the order the site lists them."""
        by_board: dict[str, list[dict]] = {}
        for sprint in self.store.sprints:
            by_board.setdefault(str(sprint["boardId"]), []).append(sprint)
        return by_board

    def _project_search(self, request: SimRequest) -> SimResponse:
        expand = {part.strip() for value in request.query.get("expand", []) for part in value.split(",")}
        projects = []
        for project in self.store.projects:
            rendered = {
                "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
                "self": f"{self.url}/rest/api/3/project/{project['id']}",
            }
            rendered.update({k: v for k, v in project.items() if k not in ("lead", "description")})
            if "description" in expand:
                rendered["description"] = project["description"]
            if "lead" in expand:
                rendered["lead"] = project["lead"]
            if "issueTypes" in expand:
                rendered["issueTypes"] = self.store.issue_types
            projects.append(rendered)
        page = self._offset_page(
            request, projects, path="/rest/api/3/project/search", max_page=PROJECT_SEARCH_MAX_PAGE, default_page=50
        )
        return SimResponse(200, page)

    def _users_search(self, request: SimRequest) -> SimResponse:
        start_at = _int_param(request.param("startAt"), "startAt", 0)
        max_results = min(_int_param(request.param("maxResults"), "maxResults", 50), USER_SEARCH_MAX_PAGE)
        users = [
            {"self": f"{self.url}/rest/api/3/user?accountId={user['accountId']}", **user}
            for user in self.store.users[start_at : start_at + max_results]
        ]
        return SimResponse(200, users)

    # -- issues ------------------------------------------------------------------------------------

    def _search_context(self) -> SearchContext:
        return SearchContext(
            zone=self.zone,
            now=self.now(),
            project_keys_by_alias=self.store.cached("project-aliases", self.store.project_aliases),
            issue_keys=self.store.cached("issue-keys", lambda: frozenset(self.store.issue_ids_by_key)),
        )

    def _run_query(self, jql: str) -> list[JiraIssue]:
        try:
            query = parse_jql(jql)
            if not query.clauses:
                raise JiraApiError(400, UNBOUNDED_MESSAGE)
            context = self._search_context()
            matches = compile_query(query, context)
        except JqlError as error:
            raise JiraApiError(400, str(error)) from None
        relative_dates = any(
            not ABSOLUTE_DATE_LITERAL.match(value)
            for clause in query.clauses
            if clause.field in ("created", "updated")
            for value in clause.values
        )

        def evaluate() -> list[JiraIssue]:
            if self.store.on_disk:
                condition, params = compile_sql(query, context)
                return self.store.issues.matching(condition, params, query.order, matches)  # type: ignore[attr-defined]
            return order_issues((issue for issue in self.store.issues.values() if matches(issue)), query.order)

        # every page of a paged query reads the same result: evaluate it once per store revision,
        # unless it moves with the clock
        return evaluate() if relative_dates else self.store.cached(("query", jql), evaluate)

    def _search(self, request: SimRequest) -> SimResponse:
        if request.method == "POST":
            body = _json_body(request)
            if not isinstance(body, dict):
                raise JiraApiError(400, INVALID_PAYLOAD)
            jql = body.get("jql") or ""
            token = body.get("nextPageToken")
            raw_max = body.get("maxResults")
            raw_fields = body.get("fields")
            fields_values = [raw_fields] if isinstance(raw_fields, str) else list(raw_fields or [])
            raw_expand = body.get("expand") or ""
            expand_values = [raw_expand] if isinstance(raw_expand, str) else list(raw_expand)
        else:
            jql = request.param("jql", "") or ""
            token = request.param("nextPageToken")
            raw_max = request.param("maxResults")
            fields_values = request.query.get("fields", [])
            expand_values = request.query.get("expand", [])
        expand = {part.strip() for value in expand_values for part in str(value).split(",") if part.strip()}
        selection = _FieldSelection.parse([str(value) for value in fields_values], default="id")

        issues = self._run_query(jql)
        query_fingerprint = _fingerprint(jql)
        offset = 0
        if token:
            decoded = _decode_token(str(token))
            issued = datetime.fromtimestamp(decoded.get("t", 0) / 1000, UTC)
            if decoded.get("q") != query_fingerprint or self.now() - issued > PAGE_TOKEN_LIFETIME:
                raise JiraApiError(400, "The provided next page token is invalid or expired.")
            offset = int(decoded.get("o", 0))
        limit = SEARCH_MAX_ID_PAGE if selection.only_identifiers else SEARCH_MAX_PAGE
        max_results = _int_param(raw_max, "maxResults", SEARCH_DEFAULT_PAGE)
        max_results = max(1, min(max_results, limit))
        if self.store.on_disk and selection.only_identifiers and not expand:
            # an id census: nothing to read from disk, no `StoredIssue` made, and each issue spelled out as
            # `_render_issue` renders it (its `self` is the issues' URL, open, followed by its encoded id)
            encode = msgspec.json.encode
            head = b'{"expand":' + encode(ISSUE_EXPAND) + b',"id":'
            issue_url = encode(f"{self.url}/rest/api/3/issue/")[:-1]
            identifiers = (
                issues.identifiers(offset, offset + max_results)
                if isinstance(issues, QueryResult)
                else [(issue.id, issue.key) for issue in issues[offset : offset + max_results]]
            )
            spelled = b'%s%s,"self":%s%s,"key":%s,"fields":{}}'
            encoded = [
                msgspec.Raw(spelled % (head, id_json, issue_url, id_json[1:], encode(key)))
                for issue_id, key in identifiers
                for id_json in (encode(issue_id),)
            ]
        elif self.store.on_disk:
            page = issues[offset : offset + max_results]
            # a page's payloads in one read instead of one an issue
            if selection.only_identifiers:
                payloads = {issue.id: {"fields": {}} for issue in page}
            else:
                payloads = self.store.issues.columns_of([issue.id for issue in page], "payload")  # type: ignore[attr-defined]
            encoded = [
                msgspec.Raw(msgspec.json.encode(self._render_issue(issue, selection, expand, payloads[issue.id])))
                for issue in page
            ]
        else:
            page = issues[offset : offset + max_results]
            encoded = [self._encoded_issue(issue, selection, expand) for issue in page]
        body: dict[str, Any] = {"issues": encoded}
        if offset + max_results < len(issues):
            body["nextPageToken"] = _encode_token(
                {"o": offset + max_results, "q": query_fingerprint, "t": epoch_millis(self.now())}
            )
            body["isLast"] = False
        else:
            body["isLast"] = True
        if "names" in expand:
            body["names"] = {fid: name for fid, name in self.store.field_names.items() if selection.includes(fid)}
        if "schema" in expand:
            body["schema"] = {
                fid: schema for fid, schema in self.store.field_schemas.items() if selection.includes(fid)
            }
        return SimResponse(200, body)

    def _approximate_count(self, request: SimRequest) -> SimResponse:
        body = _json_body(request)
        if not isinstance(body, dict):
            raise JiraApiError(400, INVALID_PAYLOAD)
        return SimResponse(200, {"count": len(self._run_query(body.get("jql") or ""))})

    def _removed_search(self, request: SimRequest) -> SimResponse:
        raise JiraApiError(410, REMOVED_SEARCH_MESSAGE)

    def _encoded_issue(self, issue: JiraIssue, selection: _FieldSelection, expand: set[str]) -> msgspec.Raw:
        """An issue as search results show it, encoded once per store revision."""
        return self.store.cached_item(
            ("issue", issue.id, selection, frozenset(expand)),
            lambda: msgspec.Raw(msgspec.json.encode(self._render_issue(issue, selection, expand))),
        )

    def _render_issue(
        self, issue: JiraIssue, selection: _FieldSelection, expand: set[str], payload: dict | None = None
    ) -> dict:
        rendered: dict[str, Any] = {
            "expand": ISSUE_EXPAND,
            "id": issue.id,
            "self": f"{self.url}/rest/api/3/issue/{issue.id}",
            "key": issue.key,
        }
        source = payload if payload is not None else issue.payload
        fields = {name: value for name, value in source["fields"].items() if selection.includes(name)}
        if selection.includes("worklog"):
            worklog_ids = self.store.worklog_ids_by_issue.get(issue.id, [])
            fields["worklog"] = {
                "startAt": 0,
                "maxResults": EMBEDDED_WORKLOG_LIMIT,
                "total": len(worklog_ids),
                "worklogs": [
                    self._render_worklog(self.store.worklogs[wid]) for wid in worklog_ids[:EMBEDDED_WORKLOG_LIMIT]
                ],
            }
        rendered["fields"] = fields
        if "changelog" in expand:
            recent = issue.changelog[-EMBEDDED_CHANGELOG_LIMIT:][::-1]
            rendered["changelog"] = {
                "startAt": 0,
                "maxResults": len(recent),
                "total": len(issue.changelog),
                "histories": recent,
            }
        return rendered

    def _require_issue(self, id_or_key: str) -> JiraIssue:
        issue = self.store.find_issue(unquote(id_or_key))
        if issue is None:
            raise JiraApiError(404, ISSUE_NOT_FOUND)
        return issue

    def _issue(self, request: SimRequest, issue: str) -> SimResponse:
        found = self._require_issue(issue)
        selection = _FieldSelection.parse(request.query.get("fields"), default="*all")
        expand = {part.strip() for value in request.query.get("expand", []) for part in value.split(",")}
        rendered = self._render_issue(found, selection, expand)
        if "names" in expand:
            rendered["names"] = {name: self.store.field_names.get(name, name) for name in rendered["fields"]}
        return SimResponse(200, rendered)

    def _issue_changelog(self, request: SimRequest, issue: str) -> SimResponse:
        found = self._require_issue(issue)
        page = self._offset_page(
            request,
            found.changelog,
            path=f"/rest/api/3/issue/{found.key}/changelog",
            max_page=CHANGELOG_MAX_PAGE,
            default_page=CHANGELOG_MAX_PAGE,
        )
        return SimResponse(200, page)

    def _bulk_changelog(self, request: SimRequest) -> SimResponse:
        body = _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("issueIdsOrKeys"), list):
            raise JiraApiError(400, "issueIdsOrKeys must be provided.")
        requested = [str(value) for value in body["issueIdsOrKeys"]]
        if not requested:
            raise JiraApiError(400, "issueIdsOrKeys must not be empty.")
        if len(requested) > BULK_CHANGELOG_MAX_ISSUES:
            raise JiraApiError(400, f"The number of issues must not exceed {BULK_CHANGELOG_MAX_ISSUES}.")
        field_ids = [str(value) for value in body.get("fieldIds") or []]
        if len(field_ids) > BULK_CHANGELOG_MAX_FIELDS:
            raise JiraApiError(400, f"The number of field IDs must not exceed {BULK_CHANGELOG_MAX_FIELDS}.")
        max_results = max(1, min(_int_param(body.get("maxResults"), "maxResults", 1000), BULK_CHANGELOG_MAX_PAGE))
        fingerprint = _fingerprint(requested, field_ids)
        offset = 0
        if body.get("nextPageToken"):
            decoded = _decode_token(str(body["nextPageToken"]))
            if decoded.get("q") != fingerprint:
                raise JiraApiError(400, "The provided next page token is invalid or expired.")
            offset = int(decoded.get("o", 0))

        # the pages of one request all read the same entries: gather them once per store revision
        # the pages of one request follow one another: keep the entries of the latest request only
        latest_request = self.store.cached("changelog-request", dict)
        request_key = (tuple(requested), tuple(field_ids))
        entries = latest_request.get(request_key)
        if entries is None:
            latest_request.clear()
            entries = latest_request[request_key] = self._changelog_entries(requested, field_ids)
        grouped: dict[int, list[msgspec.Raw]] = {}
        for _, issue_id, history in entries[offset : offset + max_results]:
            grouped.setdefault(issue_id, []).append(history)
        result: dict[str, Any] = {
            "issueChangeLogs": [
                {"issueId": str(issue_id), "changeHistories": histories} for issue_id, histories in grouped.items()
            ]
        }
        if offset + max_results < len(entries):
            result["nextPageToken"] = _encode_token({"o": offset + max_results, "q": fingerprint})
        return SimResponse(200, result)

    def _changelog_entries(self, requested: list[str], field_ids: list[str]) -> list[tuple[str, int, msgspec.Raw]]:
        """(created, issue id, encoded history) of the requested issues, keeping only the wanted fields' items."""
        issues = {}
        for value in requested:
            found = self.store.find_issue(value)
            if found is not None:
                issues[found.id] = found
        if self.store.on_disk:
            changelogs = self.store.issues.columns_of(list(issues), "changelog")  # type: ignore[attr-defined]
            entries = [
                entry
                for issue_id in issues
                for entry in self._encoded_histories(issues[issue_id], field_ids, changelogs[issue_id])
            ]
            entries.sort(key=lambda entry: (entry[0], entry[1]))
            return entries
        entries = [
            entry
            for issue in issues.values()
            for entry in self.store.cached_item(
                ("histories", issue.id, tuple(field_ids)), lambda issue=issue: self._encoded_histories(issue, field_ids)
            )
        ]
        entries.sort(key=lambda entry: (entry[0], entry[1]))
        return entries

    def _encoded_histories(
        self, issue: JiraIssue, field_ids: list[str], changelog: list[dict] | None = None
    ) -> list[tuple[str, int, msgspec.Raw]]:
        entries = []
        wanted = set(field_ids)
        for history in changelog if changelog is not None else issue.changelog:
            if wanted:
                items = [item for item in history["items"] if item.get("fieldId", item["field"]) in wanted]
                if not items:
                    continue
                history = {**history, "items": items}
            entries.append((history["created"], int(issue.id), msgspec.Raw(msgspec.json.encode(history))))
        return entries

    # -- worklogs ----------------------------------------------------------------------------------

    def _render_worklog(self, worklog: JiraWorklog) -> dict:
        return {"self": f"{self.url}/rest/api/3/issue/{worklog.issue_id}/worklog/{worklog.id}", **worklog.payload}

    def _issue_worklogs(self, request: SimRequest, issue: str) -> SimResponse:
        found = self._require_issue(issue)
        worklog_ids = self.store.worklog_ids_by_issue.get(found.id, [])
        start_at = _int_param(request.param("startAt"), "startAt", 0)
        max_results = _int_param(request.param("maxResults"), "maxResults", 5000)
        chosen = worklog_ids[start_at : start_at + max_results]
        return SimResponse(
            200,
            {
                "startAt": start_at,
                "maxResults": max_results,
                "total": len(worklog_ids),
                "worklogs": [self._render_worklog(self.store.worklogs[wid]) for wid in chosen],
            },
        )

    def _worklog_feed(
        self, request: SimRequest, path: str, changes: list[tuple[int, int]] | WorklogFeed
    ) -> SimResponse:
        """A page of a feed; `changes` are (epoch millis, worklog id) in time order."""
        since = _int_param(request.param("since"), "since", 0)
        settled_before = epoch_millis(self.now() - WORKLOG_FEED_SETTLE)
        if isinstance(changes, WorklogFeed):
            page, last_page = changes.page(since, settled_before, WORKLOG_FEED_PAGE)
        else:
            first = bisect.bisect_left(changes, (since,))
            end = bisect.bisect_right(changes, (settled_before, float("inf")))
            page = changes[first : min(end, first + WORKLOG_FEED_PAGE)]
            last_page = end - first <= WORKLOG_FEED_PAGE
        until = page[-1][0] if page else since
        body: dict[str, Any] = {
            "values": [
                {"worklogId": worklog_id, "updatedTime": millis, "properties": []} for millis, worklog_id in page
            ],
            "since": since,
            "until": until,
            "self": f"{self.url}{path}?since={since}",
        }
        if not last_page:
            body["nextPage"] = f"{self.url}{path}?since={until}"
        body["lastPage"] = last_page
        return SimResponse(200, body)

    def _worklogs_updated(self, request: SimRequest) -> SimResponse:
        changes = self.store.cached(
            "worklogs-updated",
            lambda: (
                self.store.worklogs.updated_feed()  # type: ignore[attr-defined]
                if self.store.on_disk
                else sorted(
                    (epoch_millis(worklog.updated_at), int(worklog.id)) for worklog in self.store.worklogs.values()
                )
            ),
        )
        return self._worklog_feed(request, "/rest/api/3/worklog/updated", changes)

    def _worklogs_deleted(self, request: SimRequest) -> SimResponse:
        changes = self.store.cached(
            "worklogs-deleted",
            lambda: sorted(
                (epoch_millis(entry.deleted_at), int(entry.worklog_id)) for entry in self.store.deleted_worklogs
            ),
        )
        return self._worklog_feed(request, "/rest/api/3/worklog/deleted", changes)

    def _worklog_list(self, request: SimRequest) -> SimResponse:
        body = _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("ids"), list):
            raise JiraApiError(400, "ids must be provided.")
        if len(body["ids"]) > WORKLOG_LIST_MAX_IDS:
            raise JiraApiError(400, f"The number of worklog IDs must not exceed {WORKLOG_LIST_MAX_IDS}.")
        wanted = sorted({int(value) for value in body["ids"] if str(value).isdigit()})
        if self.store.on_disk:
            # the stored payload is the worklog's JSON: `self` goes in front of its first key
            rows = self.store.worklogs.many(wanted)  # type: ignore[attr-defined]
            return SimResponse(
                200,
                [
                    msgspec.Raw(
                        b'{"self":'
                        + msgspec.json.encode(f"{self.url}/rest/api/3/issue/{issue_id}/worklog/{worklog_id}")
                        + b","
                        + payload[1:]
                    )
                    for worklog_id, issue_id, payload in rows
                ],
            )
        found = [self.store.worklogs[str(value)] for value in wanted if str(value) in self.store.worklogs]
        return SimResponse(200, [self._encoded_worklog(worklog) for worklog in found])

    def _encoded_worklog(self, worklog: JiraWorklog) -> msgspec.Raw:
        return self.store.cached_item(
            ("worklog", worklog.id), lambda: msgspec.Raw(msgspec.json.encode(self._render_worklog(worklog)))
        )

    # -- changes between runs (test helpers) -------------------------------------------------------

    def _user(self, account_id: str) -> dict:
        user = self.store.users_by_account.get(account_id)
        if user is None:
            raise KeyError(f"no Jira user {account_id}")
        return {
            k: user[k]
            for k in ("accountId", "emailAddress", "displayName", "active", "timeZone", "accountType")
            if k in user
        }

    def _issue_for_change(self, id_or_key: str) -> JiraIssue:
        issue = self.store.find_issue(id_or_key)
        if issue is None:
            raise KeyError(f"no issue {id_or_key}")
        return self.store.own_issue(issue.id)

    def _append_history(self, issue: JiraIssue, at: datetime, items: list[dict], author_account_id: str | None) -> None:
        author = self._user(author_account_id) if author_account_id else self._default_author(issue)
        issue.changelog.append(
            {"id": str(self.store.next_history_id), "author": author, "created": jira_timestamp(at), "items": items}
        )
        self.store.next_history_id += 1

    def _default_author(self, issue: JiraIssue) -> dict:
        fields = issue.payload["fields"]
        return dict(fields.get("assignee") or fields["reporter"])

    def _touch(self, issue: JiraIssue, at: datetime) -> None:
        if at > issue.updated_at:
            issue.updated_at = at
            issue.payload["fields"]["updated"] = jira_timestamp(at)

    def _refresh_time_tracking(self, issue: JiraIssue) -> None:
        fields = issue.payload["fields"]
        spent = (
            sum(
                self.store.worklogs[wid].payload["timeSpentSeconds"]
                for wid in self.store.worklog_ids_by_issue.get(issue.id, [])
            )
            or None
        )
        estimate = fields.get("timeoriginalestimate")
        done = fields["status"]["statusCategory"]["key"] == "done"
        remaining = None if estimate is None else (0 if done else max(estimate - (spent or 0), 0))
        tracking: dict[str, Any] = {}
        if estimate is not None:
            tracking["originalEstimate"] = format_jira_duration(estimate)
            tracking["remainingEstimate"] = format_jira_duration(remaining or 0)
        if spent:
            tracking["timeSpent"] = format_jira_duration(spent)
        if estimate is not None:
            tracking["originalEstimateSeconds"] = estimate
            tracking["remainingEstimateSeconds"] = remaining
        if spent:
            tracking["timeSpentSeconds"] = spent
        fields["timespent"] = spent
        fields["timeestimate"] = remaining
        fields["timetracking"] = tracking

    def update_issue(
        self,
        id_or_key: str,
        *,
        at: datetime,
        fields: Mapping[str, Any] | None = None,
        status: str | None = None,
        author_account_id: str | None = None,
    ) -> None:
        """Edit an issue as a user would at instant `at`: set raw field values and/or move it to
        another status, record the changes in its changelog, and bump `updated` to `at`."""
        at = _utc_millis(at)
        with self.store.change():
            issue = self._issue_for_change(id_or_key)
            current = issue.payload["fields"]
            items = []
            for name, value in (fields or {}).items():
                old = current.get(name)
                current[name] = value
                items.append(
                    {
                        "field": self.store.field_names.get(name, name) if name.startswith("customfield_") else name,
                        "fieldtype": "custom" if name.startswith("customfield_") else "jira",
                        "fieldId": name,
                        "from": None,
                        "fromString": None if old is None else str(old),
                        "to": None,
                        "toString": None if value is None else str(value),
                    }
                )
            if status is not None and status != current["status"]["name"]:
                items += self._move_status(issue, status, at)
            if items:
                self._append_history(issue, at, items, author_account_id)
            self._refresh_time_tracking(issue)
            issue.updated_at = at
            current["updated"] = jira_timestamp(at)

    def _move_status(self, issue: JiraIssue, status: str, at: datetime) -> list[dict]:
        if status not in STATUSES:
            raise KeyError(f"unknown status {status!r}; known: {', '.join(STATUSES)}")
        fields = issue.payload["fields"]
        old_status = fields["status"]["name"]
        old_id, old_category = STATUSES[old_status]
        new_id, new_category = STATUSES[status]
        items = []
        if status in DONE_STATUSES and old_status not in DONE_STATUSES:
            resolution = RESOLUTIONS[status]
            fields["resolution"] = dict(resolution)
            fields["resolutiondate"] = jira_timestamp(at)
            items.append(
                {
                    "field": "resolution",
                    "fieldtype": "jira",
                    "fieldId": "resolution",
                    "from": None,
                    "fromString": None,
                    "to": resolution["id"],
                    "toString": resolution["name"],
                }
            )
        elif old_status in DONE_STATUSES and status not in DONE_STATUSES:
            previous = fields.get("resolution")
            fields["resolution"] = None
            fields["resolutiondate"] = None
            items.append(
                {
                    "field": "resolution",
                    "fieldtype": "jira",
                    "fieldId": "resolution",
                    "from": previous["id"] if previous else None,
                    "fromString": previous["name"] if previous else None,
                    "to": None,
                    "toString": None,
                }
            )
        items.append(
            {
                "field": "status",
                "fieldtype": "jira",
                "fieldId": "status",
                "from": old_id,
                "fromString": old_status,
                "to": new_id,
                "toString": status,
            }
        )
        fields["status"] = {"id": new_id, "name": status, "statusCategory": dict(STATUS_CATEGORIES[new_category])}
        if old_category != new_category:
            fields["statuscategorychangedate"] = jira_timestamp(at)
        return items

    def delete_issue(self, id_or_key: str, *, at: datetime, record_worklog_deletions: bool = False) -> list[str]:
        """Delete an issue with its sub-tasks and their worklogs, as Jira does; children of a deleted
        epic lose their parent. Returns the deleted keys. Jira's deleted-worklog feed is not known to
        list the worklogs of deleted issues, so by default they vanish silently."""
        at = _utc_millis(at)
        with self.store.change():
            issue = self._issue_for_change(id_or_key)
            doomed = [issue] + [
                child
                for child in self.store.issues.values()
                if child.payload["fields"].get("parent", {}).get("id") == issue.id
                and child.payload["fields"]["issuetype"]["subtask"]
            ]
            for victim in doomed:
                for worklog_id in self.store.worklog_ids_by_issue.pop(victim.id, []):
                    del self.store.worklogs[worklog_id]
                    if record_worklog_deletions:
                        self.store.deleted_worklogs.append(JiraDeletedWorklog(worklog_id, at))
                del self.store.issues[victim.id]
                del self.store.issue_ids_by_key[victim.key]
            orphans = [
                child.id
                for child in self.store.issues.values()
                if child.payload["fields"].get("parent", {}).get("id") == issue.id
            ]
            for child_id in orphans:
                child = self.store.own_issue(child_id)
                del child.payload["fields"]["parent"]
                self._touch(child, at)
            return [victim.key for victim in doomed]

    def add_worklog(
        self,
        issue_id_or_key: str,
        *,
        author_account_id: str,
        started: datetime,
        time_spent_seconds: int,
        at: datetime,
        comment: str | None = None,
    ) -> str:
        """Log work on an issue at instant `at`; `started` is shown in the author's own offset."""
        at = _utc_millis(at)
        with self.store.change():
            issue = self._issue_for_change(issue_id_or_key)
            author = self._user(author_account_id)
            worklog_id = str(self.store.next_worklog_id)
            self.store.next_worklog_id += 1
            payload = {
                "author": author,
                "updateAuthor": dict(author),
                "created": jira_timestamp(at),
                "updated": jira_timestamp(at),
                "started": jira_timestamp(_utc_millis(started), ZoneInfo(author["timeZone"])),
                "timeSpent": format_jira_duration(time_spent_seconds),
                "timeSpentSeconds": time_spent_seconds,
                "id": worklog_id,
                "issueId": issue.id,
            }
            if comment:
                payload["comment"] = adf_text(comment)
            self.store.worklogs[worklog_id] = JiraWorklog(worklog_id, issue.id, at, payload)
            self.store.worklog_ids_by_issue.setdefault(issue.id, []).append(worklog_id)
            self._refresh_time_tracking(issue)
            self._touch(issue, at)
            return worklog_id

    def update_worklog(
        self,
        worklog_id: str,
        *,
        at: datetime,
        time_spent_seconds: int | None = None,
        started: datetime | None = None,
        author_account_id: str | None = None,
    ) -> None:
        """Edit a worklog at instant `at` (its `updated` moves to `at`)."""
        at = _utc_millis(at)
        with self.store.change():
            worklog = self.store.own_worklog(str(worklog_id))
            payload = worklog.payload
            if time_spent_seconds is not None:
                payload["timeSpentSeconds"] = time_spent_seconds
                payload["timeSpent"] = format_jira_duration(time_spent_seconds)
            if started is not None:
                payload["started"] = jira_timestamp(_utc_millis(started), ZoneInfo(payload["author"]["timeZone"]))
            if author_account_id is not None:
                payload["updateAuthor"] = self._user(author_account_id)
            payload["updated"] = jira_timestamp(at)
            worklog.updated_at = at
            issue = self.store.own_issue(worklog.issue_id)
            self._refresh_time_tracking(issue)
            self._touch(issue, at)

    def delete_worklog(self, worklog_id: str, *, at: datetime) -> None:
        """Delete a worklog at instant `at`; it then appears in the deleted-worklog feed."""
        at = _utc_millis(at)
        with self.store.change():
            worklog = self.store.worklogs.pop(str(worklog_id))
            self.store.worklog_ids_by_issue[worklog.issue_id].remove(worklog.id)
            self.store.deleted_worklogs.append(JiraDeletedWorklog(worklog.id, at))
            issue = self.store.own_issue(worklog.issue_id)
            self._refresh_time_tracking(issue)
            self._touch(issue, at)
