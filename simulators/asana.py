"""An Asana REST API 1.0 simulator over real HTTP, serving the Asana workspace of a generated world.

Connectors are tested against it as they would run against `https://app.asana.com/api/1.0`: routes
live under `/api/1.0`, a personal access token goes in `Authorization: Bearer`, every body is wrapped
in `{"data": ...}` and errors come as `{"errors": [{"message": ...}]}`.

List endpoints page with `limit` (1-100, else 400) and an opaque `offset`; each page carries
`next_page: {offset, path, uri}`, or `null` on the last one. A request without `limit` gets the whole
list unpaged and no `next_page`, as Asana's older endpoints do. Records come in their compact form
(`gid`, `resource_type`, `name`, and a few type-specific fields) unless `opt_fields` names fields;
dotted names (`assignee.name`) reach into nested objects, and a nested object asked for without
sub-fields comes back as its `gid` and `resource_type`.

`POST /batch` runs up to 10 actions (`{"data": {"actions": [{"relative_path", "method", "data",
"options"}]}}`, a GET's query parameters in `data`, `limit`, `offset` and `fields` in `options`) and
answers `200` with one `{status_code, headers, body}` per action, in order, whatever each action
answered. As with Asana, every action counts against the rate limit as a request of its own (the
batch itself costs nothing) and a batch that would exceed it fails whole with 429; the fault layer
sees each action under its own path. Asana processes a batch's actions at the same time, so a batch
is answered as late as its slowest action (a `slow` fault on several of its actions holds it back by
the longest delay, not by their sum).

`/tasks?project=` lists the tasks that are members of the project, never their subtasks (those are
only reachable through `/tasks/{gid}/subtasks`), and `modified_since` filters on `modified_at`;
changing a subtask does not modify its parent.

The simulator keeps its own mutable copy of the data, so tests can change it between connector runs
(`update_task`, `complete_task`, `add_task`, `delete_task`, `add_time_entry`, `update_time_entry`,
`delete_time_entry`). Faults come from the shared `FaultPlan`; `deny_access` makes paths answer 403
(`restore_access` undoes it),
and `requests_per_minute` turns on Asana's own per-token rate limit (429 with `Retry-After`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import pickle
import re
import time
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any, NamedTuple
from urllib.parse import urlencode

import msgspec

from simulators.asana_world import (
    ESTIMATE_FIELD_NAME,
    AsanaWorkspace,
    asana_timestamp,
    build_asana_data,
    parse_asana_timestamp,
)
from simulators.base import RequestRecord, Route, SimHttpError, SimRequest, SimResponse, SimulatorServer
from simulators.faults import FaultPlan
from simulators.world import World

API_PREFIX = "/api/1.0"
MAX_PAGE_SIZE = 100
MAX_BATCH_ACTIONS = 10
BATCH_PATH = API_PREFIX + "/batch"
GID_PATTERN = r"(?P<gid>[^/]+)"
ERRORS_HELP = (
    "For more information on API status codes and how to handle them, "
    "read the docs on errors: https://developers.asana.com/docs/errors"
)
# Fields a record shows when `opt_fields` is not given (gid and resource_type always come).
COMPACT_FIELDS: dict[str, tuple[str, ...]] = {
    "task": ("name", "resource_subtype"),
    "time_tracking_entry": ("duration_minutes", "entered_on", "created_by"),
    "status_update": ("title", "resource_subtype"),
    "custom_field_setting": ("custom_field", "project", "is_important"),
    "enum_option": ("name", "color", "enabled"),
}
DEFAULT_COMPACT_FIELDS = ("name",)

FieldTree = dict[str, "FieldTree"]


def asana_error(status: int, message: str, headers: dict[str, str] | None = None) -> SimHttpError:
    return SimHttpError(status, {"errors": [{"message": message, "help": ERRORS_HELP}]}, headers)


def parse_opt_fields(values: Iterable[str] | None) -> FieldTree | None:
    """`opt_fields` (comma-separated, possibly repeated) as a tree of field names; None when absent."""
    names = [name.strip() for value in (values or []) for name in value.split(",") if name.strip()]
    if not names:
        return None
    tree: FieldTree = {}
    for name in names:
        node = tree
        for part in name.split("."):
            node = node.setdefault(part, {})
    return tree


def select_fields(record: dict, tree: FieldTree) -> dict:
    """A record trimmed to `tree`, with its `gid` and `resource_type` always kept."""
    selected = {key: record[key] for key in ("gid", "resource_type") if key in record}
    for name, subtree in tree.items():
        if name in record:
            selected[name] = _select_value(record[name], subtree)
    return selected


def _select_value(value: Any, subtree: FieldTree) -> Any:
    if isinstance(value, list):
        return [_select_value(item, subtree) for item in value]
    if isinstance(value, dict):
        if subtree:
            return select_fields(value, subtree)
        if "gid" in value:
            return {key: value[key] for key in ("gid", "resource_type") if key in value}
    return value


def compact_tree(record: dict) -> FieldTree:
    names = COMPACT_FIELDS.get(record.get("resource_type", ""), DEFAULT_COMPACT_FIELDS)
    return {name: {} for name in names}


def _query_text(value: Any) -> str:
    """A batch action's `data` value as it would be written in a query string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(map(_query_text, value))
    return str(value)


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(msgspec.json.encode(parts, enc_hook=str)).hexdigest()[:16]


def _encode_offset(payload: dict) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_offset(token: str) -> dict:
    try:
        payload = json.loads(base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode()))
    except (ValueError, binascii.Error):
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("after"), int):
        raise asana_error(400, "offset: Your pagination token is invalid or has expired.")
    return payload


def _utc_millis(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    instant = instant.astimezone(UTC)
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


class AsanaStore:
    """The simulator's mutable copy of a workspace, indexed the ways the routes read it.

    What the routes derive from it is cached, so that paging through a large workspace costs little
    more than copying bytes: a list's records in gid order until the next change (`changed`), each
    record trimmed to the asked fields and encoded until a change names it.
    """

    def __init__(self, data: AsanaWorkspace) -> None:
        # one pickle round trip is the quickest deep copy of the nested payloads
        copy: AsanaWorkspace = pickle.loads(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
        self.workspace = copy.workspace
        self.integration_user = copy.integration_user
        self.users = {user["gid"]: user for user in copy.users}
        self.teams = {team["gid"]: team for team in copy.teams}
        self.custom_fields = {custom_field["gid"]: custom_field for custom_field in copy.custom_fields}
        self.portfolios = {portfolio["gid"]: portfolio for portfolio in copy.portfolios}
        self.portfolio_items = copy.portfolio_items
        self.projects = {project["gid"]: project for project in copy.projects}
        self.sections = copy.sections
        self.custom_field_settings = copy.custom_field_settings
        self.tasks = {task["gid"]: task for task in copy.tasks}
        self.project_tasks: dict[str, list[str]] = {gid: list(tasks) for gid, tasks in copy.project_task_gids.items()}
        self.subtasks: dict[str, list[str]] = {}
        for task in copy.tasks:
            if task["parent"]:
                self.subtasks.setdefault(task["parent"]["gid"], []).append(task["gid"])
        self.time_entries = {entry["gid"]: entry for entry in copy.time_entries}
        self.task_time_entries: dict[str, list[str]] = {}
        for entry in copy.time_entries:
            self.task_time_entries.setdefault(entry["task"]["gid"], []).append(entry["gid"])
        self.status_updates = {update["gid"]: update for update in copy.status_updates}
        self.last_gid = max(
            int(gid)
            for gid in (
                *self.tasks,
                *self.time_entries,
                *self.status_updates,
                *self.portfolios,
                *self.projects,
                self.integration_user["gid"],
            )
        )

        self.revision = 0
        self._derived: dict[object, Any] = {}
        self._derived_revision = 0
        self._encodings: dict[str, dict[object, msgspec.Raw]] = {}

    def new_gid(self) -> str:
        self.last_gid += 1
        return str(self.last_gid)

    def changed(self, *gids: str) -> None:
        """Forget what was derived from the store: call on every change, holding the simulator's lock,
        with the gids of the records it writes, adds or removes. The other records' encodings are kept
        (all are forgotten when no gid is named)."""
        self.revision += 1
        if not gids:
            self._encodings.clear()
        for gid in gids:
            self._encodings.pop(gid, None)

    def encoded(self, gid: str, key: object, compute: Callable[[], msgspec.Raw]) -> msgspec.Raw:
        """`compute()`, the encoding of record `gid` that `key` names, remembered until a change names the record."""
        encodings = self._encodings.get(gid)
        if encodings is None:
            encodings = self._encodings[gid] = {}
        try:
            return encodings[key]
        except KeyError:
            value = encodings[key] = compute()
            return value

    def cached(self, key: object, compute: Callable[[], Any]) -> Any:
        """`compute()`, remembered until the store next changes."""
        if self._derived_revision != self.revision:
            self._derived.clear()
            self._derived_revision = self.revision
        try:
            return self._derived[key]
        except KeyError:
            value = self._derived[key] = compute()
            return value


class _DatedEntries(NamedTuple):
    """Time entries in the order of their `entered_on` (ISO dates sort as text), with those dates."""

    entries: list[dict]
    dates: list[str]

    @classmethod
    def of(cls, entries: Iterable[dict]) -> _DatedEntries:
        ordered = sorted(entries, key=lambda entry: entry["entered_on"])
        return cls(ordered, [entry["entered_on"] for entry in ordered])


class _Listing(NamedTuple):
    """A list endpoint's records in gid order, with their gids as numbers (to find where a page starts)."""

    records: list[dict]
    gids: list[int]

    @classmethod
    def of(cls, records: Iterable[dict]) -> _Listing:
        ordered = sorted(records, key=lambda record: int(record["gid"]))
        return cls(ordered, [int(record["gid"]) for record in ordered])


class AsanaSimulator(SimulatorServer):
    """An Asana workspace on a local port; connectors use `api_url` as their base URL."""

    name = "asana"
    records_key = "data"

    def __init__(
        self,
        world: World,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = "asana-sim-token",
        faults: FaultPlan | None = None,
        data: AsanaWorkspace | None = None,
        requests_per_minute: int | None = None,
    ) -> None:
        super().__init__(host=host, port=port, faults=faults)
        self.world = world
        self.data = data or build_asana_data(world)
        self.store = AsanaStore(self.data)
        self._expected_authorization = f"Bearer {token}".encode()
        self.requests_per_minute = requests_per_minute
        self._recent_requests: deque[float] = deque()
        self._denied: list[tuple[re.Pattern[str], str]] = []
        self._route_table: list[Route] | None = None

    @property
    def requests_counted(self) -> int:
        """The requests its rate limit counts as made within the last minute, a batch as its actions
        (none while the limit is off)."""
        with self.lock:
            return len(self._recent_requests)

    @property
    def api_url(self) -> str:
        """The API root, as `https://app.asana.com/api/1.0` is for Asana."""
        return self.url + API_PREFIX

    # -- answers in Asana's shapes -----------------------------------------------------------------

    def authorize(self, request: SimRequest) -> SimResponse | None:
        supplied = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(supplied, self._expected_authorization):
            return asana_error(401, "Not Authorized").response()
        if request.path != BATCH_PATH:  # a batch's actions count, not the batch
            limited = self._over_rate_limit()
            if limited is not None:
                return limited
        return self._denied_response(request)

    def _denied_response(self, request: SimRequest) -> SimResponse | None:
        for pattern, message in self._denied:
            if pattern.search(request.path):
                return asana_error(403, message).response()
        return None

    def _over_rate_limit(self, requests: int = 1) -> SimResponse | None:
        """The 429 to answer when `requests` more would exceed the per-token limit; else counts them."""
        if not self.requests_per_minute:
            return None
        now = time.monotonic()
        with self.lock:
            while self._recent_requests and now - self._recent_requests[0] >= 60:
                self._recent_requests.popleft()
            if len(self._recent_requests) + requests > self.requests_per_minute:
                wait = math.ceil(60 - (now - self._recent_requests[0])) if self._recent_requests else 60
                return self.rate_limited_response(max(wait, 1), None)
            self._recent_requests.extend([now] * requests)
        return None

    def rate_limited_response(self, retry_after: float | None, reset_header: str | None) -> SimResponse:
        response = super().rate_limited_response(retry_after, reset_header)
        response.body = {
            "errors": [{"message": "You have made too many requests recently. Please, be chill.", "help": ERRORS_HELP}]
        }
        return response

    def server_error_response(self, status: int) -> SimResponse:
        message = "Server Error" if status == 500 else "Service Unavailable"
        return SimResponse(status, {"errors": [{"message": message, "phrase": "6 sad squid snuggle softly"}]})

    def not_found(self, request: SimRequest) -> SimResponse:
        return asana_error(404, f"No matching route for request: {request.method} {request.path}").response()

    def deny_access(self, path_pattern: str, message: str = "Forbidden") -> None:
        """Answer 403 on every path matching the regex (a token without access or scope)."""
        with self.lock:
            self._denied.append((re.compile(path_pattern), message))

    def restore_access(self) -> None:
        """Undo every `deny_access`."""
        with self.lock:
            self._denied.clear()

    def routes(self) -> list[Route]:
        if self._route_table is None:
            self._route_table = self._build_routes()
        return self._route_table

    def _build_routes(self) -> list[Route]:
        table: list[tuple[str, Callable[..., SimResponse]]] = [
            ("/users/me", self._me),
            (f"/users/{GID_PATTERN}", self._user),
            ("/users", self._users),
            ("/workspaces", self._workspaces),
            (f"/workspaces/{GID_PATTERN}", self._workspace),
            (f"/workspaces/{GID_PATTERN}/teams", self._workspace_teams),
            (f"/teams/{GID_PATTERN}", self._team),
            ("/projects", self._projects),
            (f"/projects/{GID_PATTERN}", self._project),
            (f"/projects/{GID_PATTERN}/sections", self._project_sections),
            (f"/projects/{GID_PATTERN}/custom_field_settings", self._project_custom_field_settings),
            (f"/sections/{GID_PATTERN}", self._section),
            ("/portfolios", self._portfolios),
            (f"/portfolios/{GID_PATTERN}", self._portfolio),
            (f"/portfolios/{GID_PATTERN}/items", self._portfolio_items),
            ("/tasks", self._tasks),
            (f"/tasks/{GID_PATTERN}", self._task),
            (f"/tasks/{GID_PATTERN}/subtasks", self._subtasks),
            (f"/tasks/{GID_PATTERN}/time_tracking_entries", self._task_time_entries),
            ("/time_tracking_entries", self._time_entries),
            (f"/time_tracking_entries/{GID_PATTERN}", self._time_entry),
            ("/status_updates", self._status_updates),
            (f"/status_updates/{GID_PATTERN}", self._status_update),
        ]
        routes: list[Route] = [
            ("GET", re.compile(re.escape(API_PREFIX) + path), self._locked(handler)) for path, handler in table
        ]
        routes.append(("POST", re.compile(re.escape(BATCH_PATH)), self._batch))
        return routes

    def _locked(self, handler: Callable[..., SimResponse]) -> Callable[..., SimResponse]:
        def locked(request: SimRequest, **params: str) -> SimResponse:
            with self.lock:
                return handler(request, **params)

        return locked

    # -- batch -------------------------------------------------------------------------------------

    def _batch(self, request: SimRequest) -> SimResponse:
        """`POST /batch`: each action answered as if requested alone, the answers in the actions' order."""
        body = request.json()
        envelope = body.get("data") if isinstance(body, dict) else None
        actions = envelope.get("actions") if isinstance(envelope, dict) else None
        if not isinstance(actions, list) or not actions:
            raise asana_error(400, "actions: Missing input")
        if len(actions) > MAX_BATCH_ACTIONS:
            raise asana_error(400, f"actions: At most {MAX_BATCH_ACTIONS} actions are allowed in a batch request")
        limited = self._over_rate_limit(len(actions))
        if limited is not None:
            return limited
        results: list[dict] = []
        delay = 0.0
        dropped = False
        for action in actions:
            answer = self._batch_action(request, action)
            if answer.status == 429:  # a rate limit on any action fails the whole batch
                return answer
            delay = max(delay, answer.delay_seconds)  # the actions run at once
            dropped = dropped or answer.drop_after_bytes is not None
            answer_body = msgspec.Raw(answer.body) if isinstance(answer.body, bytes) else answer.body
            results.append({"status_code": answer.status, "headers": dict(answer.headers), "body": answer_body})
        # encoded here, so that the fault layer's malformed records go into the actions' pages, not this list
        response = SimResponse(200, self.encode({"data": results}), delay_seconds=delay)
        if dropped:
            response.drop_after_bytes = max(1, len(response.body) // 2)
        return response

    def _batch_action(self, batch: SimRequest, action: Any) -> SimResponse:
        """One action of a batch, through the fault layer, the access rules and the routes as a request of its own."""
        try:
            request = self._action_request(batch, action)
        except SimHttpError as error:
            return error.response()
        response = self.faults.before(request, self) or self._denied_response(request) or self._route(request)
        if response.status < 300:
            response = self.faults.after(request, response, self)
        with self.lock:
            self.requests.append(RequestRecord(request.method, request.path, request.query, response.status))
        return response

    @staticmethod
    def _action_request(batch: SimRequest, action: Any) -> SimRequest:
        if not isinstance(action, dict):
            raise asana_error(400, "action: Not an object")
        path, method = action.get("relative_path"), action.get("method")
        if not isinstance(path, str) or not path:
            raise asana_error(400, "relative_path: Missing input")
        if not isinstance(method, str) or not method:
            raise asana_error(400, "method: Missing input")
        if "?" in path:
            raise asana_error(400, "relative_path: Query parameters are not accepted here; put them in data")
        if path.rstrip("/") == "/batch":
            raise asana_error(400, "relative_path: Batch requests cannot be nested")
        data = action.get("data") or {}
        options = action.get("options") or {}
        if not isinstance(data, dict) or not isinstance(options, dict):
            raise asana_error(400, "data and options must be objects")
        if {"limit", "offset", "opt_fields"} & set(data):
            raise asana_error(400, "data: Options and pagination are not accepted here; put them in options")
        query = {name: [_query_text(value)] for name, value in data.items() if value is not None}
        for name in ("limit", "offset"):
            if options.get(name) is not None:
                query[name] = [str(options[name])]
        fields = options.get("fields")
        if fields:
            query["opt_fields"] = [",".join(fields) if isinstance(fields, list) else str(fields)]
        return SimRequest(method.upper(), API_PREFIX + path, query, batch.headers, b"")

    # -- shared reading rules ----------------------------------------------------------------------

    def _one(self, request: SimRequest, record: dict | None, kind: str, gid: str) -> SimResponse:
        """A single record: whole unless `opt_fields` trims it."""
        if record is None:
            raise asana_error(404, f"{kind}: Unknown object: {gid}")
        tree = parse_opt_fields(request.query.get("opt_fields"))
        return SimResponse(200, {"data": record if tree is None else select_fields(record, tree)})

    def _listing(self, key: object, records: Callable[[], Iterable[dict]]) -> _Listing:
        """The records of a list endpoint in gid order, computed once per store revision."""
        return self.store.cached(("listing", key), lambda: _Listing.of(records()))

    def _page(self, request: SimRequest, listing: _Listing | list[dict]) -> SimResponse:
        """A list endpoint's answer: the records (in gid order) paged by `limit`/`offset`, trimmed to `opt_fields`."""
        if not isinstance(listing, _Listing):
            listing = _Listing.of(listing)
        opt_fields = tuple(request.query.get("opt_fields") or ())
        limit_text = request.param("limit")
        if limit_text is None:
            return SimResponse(200, {"data": [self._encoded(record, opt_fields) for record in listing.records]})
        try:
            limit = int(limit_text)
        except ValueError:
            raise asana_error(400, f"limit: Not a valid integer: {limit_text}") from None
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise asana_error(400, f"limit: Value ({limit}) is not between 1 and {MAX_PAGE_SIZE}.")
        query_key = _fingerprint(
            request.path, sorted((k, v) for k, v in request.query.items() if k not in ("offset", "limit", "opt_fields"))
        )
        after = -1
        offset = request.param("offset")
        if offset:
            token = _decode_offset(offset)
            if token.get("q") != query_key:
                raise asana_error(400, "offset: Your pagination token is invalid or has expired.")
            after = token["after"]
        start = bisect_right(listing.gids, after)
        chosen = listing.records[start : start + limit]
        next_page = None
        if len(listing.records) - start > limit:
            token = _encode_offset({"after": int(chosen[-1]["gid"]), "q": query_key})
            params = [(k, value) for k, values in request.query.items() if k != "offset" for value in values]
            path = f"{request.path.removeprefix(API_PREFIX)}?{urlencode([*params, ('offset', token)])}"
            next_page = {"offset": token, "path": path, "uri": f"{self.api_url}{path}"}
        data = [self._encoded(record, opt_fields) for record in chosen]
        return SimResponse(200, {"data": data, "next_page": next_page})

    def _encoded(self, record: dict, opt_fields: tuple[str, ...]) -> msgspec.Raw:
        """A record trimmed to `opt_fields` (its compact form without them) as JSON, until a change names it."""
        return self.store.encoded(
            record["gid"],
            (record.get("resource_type"), opt_fields),
            lambda: msgspec.Raw(msgspec.json.encode(self._trim(record, parse_opt_fields(opt_fields)))),
        )

    @staticmethod
    def _trim(record: dict, tree: FieldTree | None) -> dict:
        return select_fields(record, tree if tree is not None else compact_tree(record))

    def _require(self, request: SimRequest, name: str) -> str:
        value = request.param(name)
        if not value:
            raise asana_error(400, f"{name}: Missing input")
        return value

    def _workspace_param(self, request: SimRequest) -> str:
        gid = self._require(request, "workspace")
        if gid != self.store.workspace["gid"]:
            raise asana_error(404, f"workspace: Unknown object: {gid}")
        return gid

    def _user_gid(self, value: str) -> str:
        return self.store.integration_user["gid"] if value == "me" else value

    @staticmethod
    def _instant_param(request: SimRequest, name: str) -> datetime | None:
        value = request.param(name)
        if not value:
            return None
        try:
            return parse_asana_timestamp(value)
        except ValueError:
            raise asana_error(400, f"{name}: Not a valid date-time: {value}") from None

    @staticmethod
    def _date_param(request: SimRequest, name: str) -> str | None:
        value = request.param(name)
        if not value:
            return None
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise asana_error(400, f"{name}: Not a valid date: {value}") from None

    # -- users, workspaces, teams ------------------------------------------------------------------

    def _me(self, request: SimRequest) -> SimResponse:
        return self._one(request, self.store.integration_user, "user", "me")

    def _user(self, request: SimRequest, gid: str) -> SimResponse:
        gid = self._user_gid(gid)
        user = self.store.integration_user if gid == self.store.integration_user["gid"] else self.store.users.get(gid)
        return self._one(request, user, "user", gid)

    def _users(self, request: SimRequest) -> SimResponse:
        self._workspace_param(request)
        return self._page(request, list(self.store.users.values()))

    def _workspaces(self, request: SimRequest) -> SimResponse:
        return self._page(request, [self.store.workspace])

    def _workspace(self, request: SimRequest, gid: str) -> SimResponse:
        workspace = self.store.workspace if gid == self.store.workspace["gid"] else None
        return self._one(request, workspace, "workspace", gid)

    def _workspace_teams(self, request: SimRequest, gid: str) -> SimResponse:
        if gid != self.store.workspace["gid"]:
            raise asana_error(404, f"workspace: Unknown object: {gid}")
        return self._page(request, list(self.store.teams.values()))

    def _team(self, request: SimRequest, gid: str) -> SimResponse:
        return self._one(request, self.store.teams.get(gid), "team", gid)

    # -- projects, sections, custom fields ---------------------------------------------------------

    def _projects(self, request: SimRequest) -> SimResponse:
        self._workspace_param(request)
        archived = request.param("archived")
        team = request.param("team")

        def projects() -> list[dict]:
            found = list(self.store.projects.values())
            if archived in ("true", "false"):
                found = [project for project in found if project["archived"] == (archived == "true")]
            if team:
                found = [project for project in found if project["team"]["gid"] == team]
            return found

        return self._page(request, self._listing(("projects", archived, team), projects))

    def _project_or_404(self, gid: str) -> dict:
        project = self.store.projects.get(gid)
        if project is None:
            raise asana_error(404, f"project: Unknown object: {gid}")
        return project

    def _project(self, request: SimRequest, gid: str) -> SimResponse:
        return self._one(request, self.store.projects.get(gid), "project", gid)

    def _project_sections(self, request: SimRequest, gid: str) -> SimResponse:
        self._project_or_404(gid)
        return self._page(request, self._listing(("sections", gid), lambda: self.store.sections.get(gid, [])))

    def _section(self, request: SimRequest, gid: str) -> SimResponse:
        found = next((s for sections in self.store.sections.values() for s in sections if s["gid"] == gid), None)
        return self._one(request, found, "section", gid)

    def _project_custom_field_settings(self, request: SimRequest, gid: str) -> SimResponse:
        self._project_or_404(gid)
        settings = self._listing(("custom_field_settings", gid), lambda: self.store.custom_field_settings.get(gid, []))
        return self._page(request, settings)

    # -- portfolios --------------------------------------------------------------------------------

    def _portfolios(self, request: SimRequest) -> SimResponse:
        self._workspace_param(request)
        owner = self._user_gid(self._require(request, "owner"))
        portfolios = [p for p in self.store.portfolios.values() if p["owner"]["gid"] == owner]
        return self._page(request, portfolios)

    def _portfolio(self, request: SimRequest, gid: str) -> SimResponse:
        return self._one(request, self.store.portfolios.get(gid), "portfolio", gid)

    def _portfolio_items(self, request: SimRequest, gid: str) -> SimResponse:
        if gid not in self.store.portfolios:
            raise asana_error(404, f"portfolio: Unknown object: {gid}")
        items = []
        for item_gid in self.store.portfolio_items.get(gid, []):
            item = self.store.projects.get(item_gid) or self.store.portfolios.get(item_gid)
            if item is not None:
                items.append(item)
        return self._page(request, items)

    # -- tasks -------------------------------------------------------------------------------------

    def _task_or_404(self, gid: str) -> dict:
        task = self.store.tasks.get(gid)
        if task is None:
            raise asana_error(404, f"task: Unknown object: {gid}")
        return task

    def _tasks(self, request: SimRequest) -> SimResponse:
        project_gid = request.param("project")
        section_gid = request.param("section")
        if project_gid:
            self._project_or_404(project_gid)
        elif not section_gid:
            raise asana_error(
                400, "Must specify exactly one of project, tag, section, user task list, or assignee + workspace"
            )
        modified_since = self._instant_param(request, "modified_since")
        completed_since = request.param("completed_since")
        since = self._instant_param(request, "completed_since") if completed_since != "now" else None

        def tasks() -> list[dict]:
            if project_gid:
                found = [self.store.tasks[gid] for gid in self.store.project_tasks.get(project_gid, [])]
            else:
                found = [
                    task
                    for task in self.store.tasks.values()
                    if any(m["section"]["gid"] == section_gid for m in task["memberships"])
                ]
            if modified_since is not None:
                found = [task for task in found if parse_asana_timestamp(task["modified_at"]) >= modified_since]
            if completed_since == "now":
                found = [task for task in found if not task["completed"]]
            elif since is not None:
                found = [
                    task
                    for task in found
                    if not task["completed"] or parse_asana_timestamp(task["completed_at"]) >= since
                ]
            return found

        key = ("tasks", project_gid, section_gid, modified_since, completed_since)
        return self._page(request, self._listing(key, tasks))

    def _task(self, request: SimRequest, gid: str) -> SimResponse:
        return self._one(request, self.store.tasks.get(gid), "task", gid)

    def _subtasks(self, request: SimRequest, gid: str) -> SimResponse:
        self._task_or_404(gid)
        subtasks = self._listing(
            ("subtasks", gid), lambda: [self.store.tasks[child] for child in self.store.subtasks.get(gid, [])]
        )
        return self._page(request, subtasks)

    # -- time tracking and status updates ----------------------------------------------------------

    def _task_time_entries(self, request: SimRequest, gid: str) -> SimResponse:
        self._task_or_404(gid)
        entries = self.store.time_entries
        return self._page(
            request,
            self._listing(
                ("task_time_entries", gid),
                lambda: [entries[entry] for entry in self.store.task_time_entries.get(gid, [])],
            ),
        )

    def _time_entries(self, request: SimRequest) -> SimResponse:
        filters = {name: request.param(name) for name in ("task", "attributable_to", "user", "workspace")}
        if not any(filters.values()):
            raise asana_error(400, "Must specify one of task, attributable_to, portfolio, user or workspace")
        start = self._date_param(request, "entered_on_start_date")
        end = self._date_param(request, "entered_on_end_date")
        if filters["workspace"]:
            self._workspace_param(request)
            if start is None and end is None:
                raise asana_error(
                    400, "entered_on_start_date or entered_on_end_date must be provided when filtering by workspace"
                )

        def entries() -> list[dict]:
            found = self._entries_entered_between(start, end)
            if filters["task"]:
                found = [entry for entry in found if entry["task"]["gid"] == filters["task"]]
            if filters["attributable_to"]:
                found = [entry for entry in found if entry["attributable_to"]["gid"] == filters["attributable_to"]]
            if filters["user"]:
                user = self._user_gid(filters["user"])
                found = [entry for entry in found if entry["created_by"]["gid"] == user]
            return found

        return self._page(request, self._listing(("time_entries", *filters.values(), start, end), entries))

    def _entries_entered_between(self, start: str | None, end: str | None) -> list[dict]:
        """The time entries entered on `start` through `end` (ISO dates; None leaves that end open),
        found in the entries ordered by date once per store revision."""
        by_date = self.store.cached("time_entries_by_date", lambda: _DatedEntries.of(self.store.time_entries.values()))
        first = bisect_left(by_date.dates, start) if start else 0
        last = bisect_right(by_date.dates, end) if end else len(by_date.dates)
        return by_date.entries[first:last]

    def _time_entry(self, request: SimRequest, gid: str) -> SimResponse:
        return self._one(request, self.store.time_entries.get(gid), "time_tracking_entry", gid)

    def _status_updates(self, request: SimRequest) -> SimResponse:
        parent = self._require(request, "parent")
        if parent not in self.store.projects and parent not in self.store.portfolios:
            raise asana_error(404, f"parent: Unknown object: {parent}")
        updates = self._listing(
            ("status_updates", parent),
            lambda: [update for update in self.store.status_updates.values() if update["parent"]["gid"] == parent],
        )
        return self._page(request, updates)

    def _status_update(self, request: SimRequest, gid: str) -> SimResponse:
        return self._one(request, self.store.status_updates.get(gid), "status_update", gid)

    # -- changes between runs (test helpers) -------------------------------------------------------

    def _user_ref(self, gid: str) -> dict:
        user = self.store.users.get(gid)
        if user is None:
            raise KeyError(f"no Asana user {gid}")
        return {"gid": user["gid"], "resource_type": "user", "name": user["name"]}

    def _project_of(self, task: dict) -> dict:
        """The project a task belongs to: its own membership, else its top-level ancestor's."""
        while not task["memberships"] and task["parent"]:
            task = self.store.tasks[task["parent"]["gid"]]
        return task["memberships"][0]["project"]

    def _set_custom_fields(self, task: dict, values: dict[str, Any]) -> None:
        for name, value in values.items():
            field = next((item for item in task["custom_fields"] if item["name"] == name), None)
            if field is None:
                raise KeyError(f"task {task['gid']} has no custom field {name!r}")
            if field["type"] == "number":
                field["number_value"] = value
                field["display_value"] = None if value is None else f"{value:.{field.get('precision', 0)}f}"
            else:
                option = None
                if value is not None:
                    custom_field = self.store.custom_fields[field["gid"]]
                    option = next(o for o in custom_field["enum_options"] if value in (o["name"], o["gid"]))
                field["enum_value"] = dict(option) if option else None
                field["display_value"] = option["name"] if option else None

    def update_task(self, gid: str, *, at: datetime, **changes: Any) -> dict:
        """Edit a task as a user would at instant `at` (its `modified_at` becomes `at`; its parent's does not).

        Accepted changes: `name`, `notes`, `completed`, `due_on`, `start_on` (dates or ISO text),
        `assignee` (a user gid or None), `section` (a section gid of the task's project),
        `resource_subtype`, and `custom_fields` ({field name: value}; an enum takes an option name).
        """
        at = _utc_millis(at)
        with self.lock:
            task = self._task_or_change_error(gid)
            self.store.changed(gid)
            for name, value in changes.items():
                if name in ("name", "notes", "resource_subtype"):
                    task[name] = value
                elif name == "completed":
                    if bool(value) != task["completed"]:
                        task["completed"] = bool(value)
                        task["completed_at"] = asana_timestamp(at) if value else None
                elif name in ("due_on", "start_on"):
                    task[name] = value.isoformat() if isinstance(value, date) else value
                elif name == "assignee":
                    task["assignee"] = None if value is None else self._user_ref(value)
                elif name == "section":
                    project = self._project_of(task)
                    section = next(s for s in self.store.sections[project["gid"]] if s["gid"] == value)
                    task["memberships"] = [
                        {"project": dict(project), "section": {k: section[k] for k in ("gid", "resource_type", "name")}}
                    ]
                elif name == "custom_fields":
                    self._set_custom_fields(task, value)
                else:
                    raise KeyError(f"update_task cannot change {name!r}")
            task["modified_at"] = asana_timestamp(at)
            return json.loads(json.dumps(task))

    def complete_task(self, gid: str, *, at: datetime) -> dict:
        return self.update_task(gid, at=at, completed=True)

    def _task_or_change_error(self, gid: str) -> dict:
        task = self.store.tasks.get(gid)
        if task is None:
            raise KeyError(f"no task {gid}")
        return task

    def delete_task(self, gid: str) -> list[str]:
        """Delete a task with its subtasks (recursively) and their time entries; returns the deleted gids.
        Deleted tasks answer 404 and vanish from every list; the parent's `modified_at` is left alone."""
        with self.lock:
            task = self._task_or_change_error(gid)
            doomed = [gid]
            index = 0
            while index < len(doomed):
                doomed += self.store.subtasks.pop(doomed[index], [])
                index += 1
            entries = [entry for victim in doomed for entry in self.store.task_time_entries.pop(victim, [])]
            self.store.changed(*doomed, *entries, *([task["parent"]["gid"]] if task["parent"] else []))
            for victim in doomed:
                self.store.tasks.pop(victim)
            for entry_gid in entries:
                del self.store.time_entries[entry_gid]
            for members in self.store.project_tasks.values():
                if gid in members:
                    members.remove(gid)
            if task["parent"]:
                siblings = self.store.subtasks.get(task["parent"]["gid"], [])
                if gid in siblings:
                    siblings.remove(gid)
                self.store.tasks[task["parent"]["gid"]]["num_subtasks"] = len(siblings)
            return doomed

    def add_task(
        self,
        project_gid: str | None = None,
        *,
        at: datetime,
        name: str,
        parent: str | None = None,
        resource_subtype: str = "default_task",
        assignee: str | None = None,
        due_on: date | None = None,
        start_on: date | None = None,
        section: str | None = None,
        estimated_hours: float | None = None,
    ) -> str:
        """Create a task at instant `at` in a project (a top-level task) or under `parent` (a subtask,
        which belongs to no project itself); returns its gid. The parent's `modified_at` is left alone."""
        at = _utc_millis(at)
        with self.lock:
            if parent is not None:
                parent_task = self._task_or_change_error(parent)
                project = self._project_of(parent_task)
            else:
                if project_gid is None:
                    raise ValueError("add_task needs a project or a parent")
                project = self.store.projects[project_gid]
            sections = self.store.sections[project["gid"]]
            chosen = next((s for s in sections if s["gid"] == section), sections[0])
            settings = self.store.custom_field_settings.get(project["gid"], [])
            custom_fields = []
            for setting in settings:
                custom_field = setting["custom_field"]
                entry = {
                    key: custom_field[key]
                    for key in ("gid", "resource_type", "name", "resource_subtype", "type", "enabled")
                }
                if custom_field["type"] == "number":
                    entry.update(precision=custom_field["precision"], number_value=None, display_value=None)
                else:
                    entry.update(enum_value=None, display_value=None)
                custom_fields.append(entry)
            gid = self.store.new_gid()
            self.store.changed(gid, *([parent] if parent is not None else []))
            project_ref = {"gid": project["gid"], "resource_type": "project", "name": project["name"]}
            task = {
                "gid": gid,
                "resource_type": "task",
                "resource_subtype": resource_subtype,
                "name": name,
                "notes": "",
                "completed": False,
                "completed_at": None,
                "created_at": asana_timestamp(at),
                "modified_at": asana_timestamp(at),
                "due_on": due_on.isoformat() if due_on else None,
                "due_at": None,
                "start_on": start_on.isoformat() if start_on else None,
                "assignee": self._user_ref(assignee) if assignee else None,
                "parent": None,
                "memberships": [
                    {"project": project_ref, "section": {k: chosen[k] for k in ("gid", "resource_type", "name")}}
                ],
                "projects": [dict(project_ref)],
                "custom_fields": custom_fields,
                "num_subtasks": 0,
                "workspace": {k: self.store.workspace[k] for k in ("gid", "resource_type", "name")},
                "permalink_url": f"https://app.asana.com/0/{project['gid']}/{gid}",
                "tags": [],
            }
            if estimated_hours is not None:
                self._set_custom_fields(task, {ESTIMATE_FIELD_NAME: estimated_hours})
            if parent is not None:
                task["parent"] = {k: parent_task[k] for k in ("gid", "resource_type", "name", "resource_subtype")}
                task["memberships"] = []
                task["projects"] = []
                self.store.subtasks.setdefault(parent, []).append(gid)
                parent_task["num_subtasks"] = len(self.store.subtasks[parent])
            else:
                self.store.project_tasks.setdefault(project["gid"], []).append(gid)
            self.store.tasks[gid] = task
            return gid

    def add_time_entry(
        self, task_gid: str, *, user_gid: str, duration_minutes: int, entered_on: date, at: datetime
    ) -> str:
        """Track time on a task at instant `at`, dated `entered_on` (the user's local day); returns its gid."""
        at = _utc_millis(at)
        with self.lock:
            task = self._task_or_change_error(task_gid)
            gid = self.store.new_gid()
            self.store.changed(gid)
            self.store.time_entries[gid] = {
                "gid": gid,
                "resource_type": "time_tracking_entry",
                "duration_minutes": duration_minutes,
                "entered_on": entered_on.isoformat(),
                "created_at": asana_timestamp(at),
                "created_by": self._user_ref(user_gid),
                "attributable_to": dict(self._project_of(task)),
                "task": {k: task[k] for k in ("gid", "resource_type", "name", "resource_subtype")},
                "approval_status": "DRAFT",
                "billable_status": "notApplicable",
                "description": "",
            }
            self.store.task_time_entries.setdefault(task_gid, []).append(gid)
            return gid

    def update_time_entry(
        self, gid: str, *, duration_minutes: int | None = None, entered_on: date | None = None
    ) -> None:
        with self.lock:
            entry = self.store.time_entries[gid]
            self.store.changed(gid)
            if duration_minutes is not None:
                entry["duration_minutes"] = duration_minutes
            if entered_on is not None:
                entry["entered_on"] = entered_on.isoformat()

    def delete_time_entry(self, gid: str) -> None:
        with self.lock:
            entry = self.store.time_entries.pop(gid)
            self.store.changed(gid)
            self.store.task_time_entries[entry["task"]["gid"]].remove(gid)
