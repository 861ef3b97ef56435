"""The Asana streams: what each one reads, its key, its cursor, and how deletes are found.

| stream                | key               | cursor      | read                                       | deletes |
|-----------------------|-------------------|-------------|--------------------------------------------|---------|
| workspaces            | gid               | none        | re-read                                    | none    |
| users                 | gid               | none        | re-read                                    | none    |
| portfolios            | gid               | none        | re-read: the owner's and nested ones       | census  |
| portfolio_items       | portfolio gid:gid | none        | re-read, nesting flattened to rows         | census  |
| projects              | gid               | modified_at | re-read (no modified-since filter exists)  | census  |
| sections              | gid               | none        | re-read per project                        | census  |
| custom_field_settings | gid               | none        | re-read per project                        | census  |
| tasks                 | gid               | modified_at | per project, `modified_since`; subtasks    | census  |
| time_entries          | gid               | entered_on  | re-read by workspace, by month (or task)   | census  |
| status_updates        | gid               | modified_at | re-read per project                        | census  |

Users are never tombstoned: people leaving a workspace still explain old assignments and time.

The streams that grow with the workspace (sections, tasks, time entries, status updates) keep each
record the JSON text Asana sent: one decode per page reads only what the stream needs (gid, cursor,
whether a task has subtasks), and the text is landed as it is. Pages are loaded by a `PageLoader`
on a thread of its own while the next ones are fetched.

Lists that do not depend on each other (each project's sections, custom field settings and status
updates, each parent's subtasks, each month's time entries) go through Asana's batch API, a page of
up to 10 lists per round trip (`AsanaClient.list_pages`).

Tasks. `/tasks?project=` lists a project's member tasks but never subtasks, and a subtask's change
does not touch its parent's `modified_at`. So each run, per project: the tasks modified since the
project's watermark minus the overlap window (the first run reads them all); an id census of the
project's tasks, which also says which ones have subtasks; then the subtasks of every parent,
recursively, keeping those modified since the same instant or not yet in the warehouse. Ids the
census did not meet in any project (top-level or subtask) are tombstoned. Projects are read in
groups of `concurrent_requests`, the lists of a group in batches: its task lists, then its subtask
tree a level at a time. Watermarks are the largest `modified_at` the API returned, kept per
project; a group's new watermarks are committed with the last rows of that group, never before
them, so a run that stops halfway resumes from the groups it finished and re-reads (never skips)
the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import psycopg

from connectors.asana.client import MAX_BATCH_ACTIONS, AsanaClient, ListRequest
from connectors.asana.settings import (
    CUSTOM_FIELD_SETTING_FIELDS,
    PORTFOLIO_FIELDS,
    PORTFOLIO_ITEM_FIELDS,
    PROJECT_FIELDS,
    SECTION_FIELDS,
    SOURCE_SYSTEM,
    STATUS_UPDATE_FIELDS,
    TASK_CENSUS_FIELDS,
    TASK_FIELDS,
    TIME_ENTRY_FIELDS,
    USER_FIELDS,
    WORKSPACE_FIELDS,
    AsanaSettings,
)
from connectors.ordered_reads import OrderedReader
from connectors.raw_store import EncodedRecord, PageLoader, StreamWriter, ensure_control_tables, read_encoded_heads
from connectors.runs import StreamResult, result_from

log = logging.getLogger(__name__)

# How far past today the time entry census reaches: entries can be dated ahead.
FUTURE_ENTRY_DAYS = 366
# How many recent months of time entries are read as lists of their own (see `time_entry_windows`).
MONTHS_READ_APART = 24
# Pages (of at most 100 records) that may wait for the loader. When loading is the slower side, the
# loader merges whatever waits into one transaction: with 4 waiting it wrote about 400 records a
# transaction, and the transactions' round trips took about 40% of the time entries' landing.
PAGES_WAITING = 16

Page = list[Any]


def _gid(record: Any) -> str | None:
    if isinstance(record, dict) and record.get("gid") not in (None, ""):
        return str(record["gid"])
    return None


def _portfolio_item_key(record: dict[str, Any]) -> str | None:
    portfolio = (record.get("portfolio") or {}).get("gid")
    return f"{portfolio}:{record['gid']}" if portfolio and record.get("gid") else None


class _Head(msgspec.Struct):
    """What is read of a record landed as the JSON text Asana sent: its gid and its possible cursors."""

    gid: str | int | None = None
    modified_at: str | None = None
    entered_on: str | None = None
    num_subtasks: int | None = None


def _modified_keys(head: _Head) -> tuple[Any, Any]:
    return head.gid, head.modified_at


def _entered_keys(head: _Head) -> tuple[Any, Any]:
    return head.gid, head.entered_on


def _gid_keys(head: _Head) -> tuple[Any, Any]:
    return head.gid, None


@dataclass(frozen=True)
class StreamSpec:
    """A stream's raw table, primary key and cursor, and whether ids missing from a run are tombstoned.

    `head_keys` is set for the streams whose client pages leave records encoded: the id and cursor of a `_Head`.
    """

    name: str
    key: Callable[[dict[str, Any]], Any]
    cursor: Callable[[dict[str, Any]], Any] | None
    census: bool
    head_keys: Callable[[_Head], tuple[Any, Any]] | None = None

    def read(self, page: Page) -> tuple[Page, list[_Head | None]]:
        """A page as records to land (encoded ones as `EncodedRecord`s) and the head of each (None if decoded)."""
        if self.head_keys is None:
            return page, [None] * len(page)
        return read_encoded_heads(page, _Head, self.head_keys)

    def key_and_cursor(self, record: Any) -> tuple[str | None, str | None]:
        if isinstance(record, EncodedRecord):
            key, cursor = record.record_id, record.cursor
        elif isinstance(record, dict):
            key, cursor = self.key(record), self.cursor(record) if self.cursor else None
        else:
            return None, None
        return (str(key) if key not in (None, "") else None), (str(cursor) if cursor else None)


STREAMS: dict[str, StreamSpec] = {
    spec.name: spec
    for spec in (
        StreamSpec("workspaces", _gid, None, census=False),
        StreamSpec("users", _gid, None, census=False),
        StreamSpec("portfolios", _gid, None, census=True),
        StreamSpec("portfolio_items", _portfolio_item_key, None, census=True),
        StreamSpec("projects", _gid, lambda record: record.get("modified_at"), census=True),
        StreamSpec("sections", _gid, None, census=True, head_keys=_gid_keys),
        StreamSpec("custom_field_settings", _gid, None, census=True),
        StreamSpec("tasks", _gid, lambda record: record.get("modified_at"), census=True, head_keys=_modified_keys),
        StreamSpec("time_entries", _gid, lambda record: record.get("entered_on"), census=True, head_keys=_entered_keys),
        StreamSpec(
            "status_updates", _gid, lambda record: record.get("modified_at"), census=True, head_keys=_modified_keys
        ),
    )
}


def parse_asana_instant(value: str) -> datetime:
    """`2012-02-22T02:06:58.147Z` (or any ISO 8601 offset) as an aware UTC datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def asana_instant(instant: datetime) -> str:
    """An instant as Asana writes one: UTC with milliseconds and `Z`."""
    utc = instant.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def _modified_at(head: _Head | None) -> datetime | None:
    try:
        return parse_asana_instant(head.modified_at)
    except (TypeError, ValueError, AttributeError):
        return None


def time_entry_windows(start: date, today: date) -> list[tuple[date, date]]:
    """Disjoint date ranges, first and last day included, that together cover `start` through
    `FUTURE_ENTRY_DAYS` after `today`, newest first: the days ahead, each of the last
    `MONTHS_READ_APART` calendar months, then every earlier day. Read as lists of their own, a
    batch reads a page of up to 10 of them at a time instead of one page of the whole range."""
    end = today + timedelta(days=FUTURE_ENTRY_DAYS)
    windows = [(today + timedelta(days=1), end)]
    month = today.replace(day=1)
    last = today
    for _ in range(MONTHS_READ_APART):
        windows.append((month, last))
        last = month - timedelta(days=1)
        month = last.replace(day=1)
    windows.append((start, last))
    return [(max(first, start), last) for first, last in windows if max(first, start) <= last]


class _PageBatcher:
    """Gathers small pages (a project's sections, a parent's subtasks) into loads of about `size` records.

    Each load carries the stream state `state()` returns when the load is submitted; callers move
    what it reads (a group's watermarks) only after adding every record those cover, so the saved
    state never runs ahead of the rows already written. Worked out per load, not per page: the
    tasks' state copies every project's watermark. `flush` loads what is left.
    """

    def __init__(self, loader: PageLoader, size: int, state: Callable[[], dict[str, Any]]) -> None:
        self.loader = loader
        self.size = size
        self.state = state
        self.records: Page = []

    def add(self, page: Page) -> None:
        self.records.extend(page)
        if len(self.records) >= self.size:
            self.flush()

    def flush(self) -> None:
        if self.records:
            self.loader.submit(self.records, state=self.state())
            self.records = []


class AsanaExtractor:
    """Runs the Asana streams of one workspace into the warehouse."""

    def __init__(self, settings: AsanaSettings, connection: psycopg.Connection, client: AsanaClient | None = None):
        self.settings = settings
        self.connection = connection
        self.client = client or AsanaClient(settings)
        self._workspace_gid = settings.workspace_gid
        self._projects: list[dict[str, Any]] | None = None
        self._portfolio_walk: tuple[list[Page], list[Page]] | None = None
        # lists read at once go through the batch API, up to 10 a batch
        self._batch_size = min(MAX_BATCH_ACTIONS, settings.concurrent_requests)
        self._readers: OrderedReader[int, tuple[int, Page]] = OrderedReader(
            settings.concurrent_requests // self._batch_size, name=self.label
        )

    @property
    def label(self) -> str:
        return f"asana[{self.settings.instance}]"

    def writer(self, stream: str) -> StreamWriter:
        spec = STREAMS[stream]
        return StreamWriter(
            self.connection,
            source_system=SOURCE_SYSTEM,
            source_instance=self.settings.instance,
            stream=spec.name,
            record_id=spec.key,
            cursor_value=spec.cursor,
        )

    @property
    def workspace_gid(self) -> str:
        if self._workspace_gid is None:
            gids = [gid for page in self.client.workspaces(("name",)) for gid in map(_gid, page) if gid]
            if len(gids) != 1:
                raise ValueError(
                    f"{self.label}: the token sees {len(gids)} workspaces ({', '.join(gids) or 'none'}); "
                    "set workspace_gid to the one to extract"
                )
            self._workspace_gid = gids[0]
        return self._workspace_gid

    def run(self, streams: list[str] | None = None, full_refresh: bool | Collection[str] = False) -> list[StreamResult]:
        """Run the chosen streams (all by default) in dependency order; `full_refresh` is True for every
        stream or the names of the streams to read from scratch (their saved state is ignored)."""
        runners: dict[str, Callable[[bool], StreamResult]] = {
            "workspaces": self.sync_workspaces,
            "users": self.sync_users,
            "portfolios": self.sync_portfolios,
            "portfolio_items": self.sync_portfolio_items,
            "projects": self.sync_projects,
            "sections": self.sync_sections,
            "custom_field_settings": self.sync_custom_field_settings,
            "tasks": self.sync_tasks,
            "time_entries": self.sync_time_entries,
            "status_updates": self.sync_status_updates,
        }
        refreshed = set(runners) if full_refresh is True else set(full_refresh or ())
        unknown = (set(streams or []) | refreshed) - set(runners)
        if unknown:
            raise ValueError(f"unknown Asana streams {sorted(unknown)}; known: {list(runners)}")
        results = []
        try:
            for name, runner in runners.items():
                if streams and name not in streams:
                    continue
                results.append(self._timed(name, runner, name in refreshed))
        finally:
            self.close()
        return results

    def close(self) -> None:
        """Stop the reading threads (they start again if the extractor reads more)."""
        self._readers.close()

    def _timed(self, name: str, runner: Callable[[bool], StreamResult], full_refresh: bool) -> StreamResult:
        before = self.client.api.stats.as_dict()
        started = time.monotonic()
        result = runner(full_refresh)
        result.seconds = time.monotonic() - started
        after = self.client.api.stats.as_dict()
        result.http = {key: round(after[key] - before[key], 2) for key in after}
        log.info(
            "%s %s: %d records, %d rejected, %d deleted, %d pages, %d requests, %d retries, "
            "%.1f s waited, watermark %s, %.1f s",
            self.label,
            name,
            result.records,
            result.rejected,
            result.deleted,
            result.pages,
            result.http["requests"],
            result.http["retries"],
            result.http["wait_seconds"],
            result.watermark,
            result.seconds,
        )
        return result

    # -- re-read streams ---------------------------------------------------------------------------

    def _snapshot(
        self, stream: str, pages: Iterable[Page], on_page: Callable[[Page], None] | None = None
    ) -> StreamResult:
        """Re-read a stream whole; with a census, tombstone the ids the tool no longer returns."""
        spec = STREAMS[stream]
        writer = self.writer(stream)
        started = datetime.now(UTC).isoformat()
        writer.begin()
        seen: set[str] = set()
        newest: str | None = None
        progress = {"snapshot_started_at": started, "complete": False}
        try:
            known = writer.live_ids() if spec.census else set()
            with PageLoader(writer, max_pending=PAGES_WAITING) as loader:
                batcher = _PageBatcher(loader, self.settings.page_size, lambda: progress)
                for page in pages:
                    records, _ = spec.read(page)
                    batcher.add(records)
                    for record in records:
                        key, cursor = spec.key_and_cursor(record)
                        if key:
                            seen.add(key)
                        if cursor and (newest is None or cursor > newest):
                            newest = cursor
                    if on_page is not None:
                        on_page(records)
                batcher.flush()
            if spec.census:
                self._tombstone(writer, known, seen)
            writer.finish(state={"snapshot_started_at": started, "complete": True}, watermark_to=newest)
        except BaseException as error:
            writer.fail(error)
            raise
        result = result_from(StreamResult(stream), writer)
        result.watermark = newest
        return result

    def _tombstone(self, writer: StreamWriter, known: set[str], seen: set[str], state: dict | None = None) -> int:
        if known and not seen:
            raise RuntimeError(
                f"{self.label} {writer.stream}: the source returned no records while the warehouse holds "
                f"{len(known)}: refusing to tombstone them all (check the token's access)"
            )
        gone = known - seen
        return writer.mark_deleted(sorted(gone), state=state) if gone else 0

    def _per_project(self, list_of: Callable[[str], ListRequest], encoded: bool = True) -> Iterator[Page]:
        return self._read_lists([list_of(project["gid"]) for project in self.projects()], encoded=encoded)

    def _read_lists(
        self, lists: list[ListRequest], *, encoded: bool = True, missing_ok: bool = False
    ) -> Iterator[Page]:
        """The pages of each list (see `_read_lists_indexed`)."""
        return (page for _, page in self._read_lists_indexed(lists, encoded=encoded, missing_ok=missing_ok))

    def _read_lists_indexed(
        self, lists: list[ListRequest], *, encoded: bool = True, missing_ok: bool = False
    ) -> Iterator[tuple[int, Page]]:
        """The pages of each list, with the index of their list: in batches of up to 10 lists, up to
        `concurrent_requests` lists in flight (one list a request when it is 1); the pages of one
        batch in any order, batches in order."""
        size = self._batch_size

        def read(start: int) -> Iterator[tuple[int, Page]]:
            group = lists[start : start + size]
            pages = self.client.list_pages(group, encoded=encoded, missing_ok=missing_ok, batch_size=size)
            return ((start + index, page) for index, page in pages)

        starts = list(range(0, len(lists), size))
        return self._readers.read(starts, read)

    def projects(self) -> list[dict[str, Any]]:
        """The workspace's projects, archived or not (read once per run)."""
        if self._projects is None:
            pages = self.client.projects(self.workspace_gid, ("name", "archived"))
            self._projects = [record for page in pages for record in page if _gid(record)]
        return self._projects

    def sync_workspaces(self, full_refresh: bool = False) -> StreamResult:
        return self._snapshot("workspaces", self.client.workspaces(WORKSPACE_FIELDS))

    def sync_users(self, full_refresh: bool = False) -> StreamResult:
        return self._snapshot("users", self.client.users(self.workspace_gid, USER_FIELDS))

    def sync_projects(self, full_refresh: bool = False) -> StreamResult:
        listed: list[dict[str, Any]] = []

        def remember(page: Page) -> None:
            listed.extend(record for record in page if _gid(record))

        result = self._snapshot("projects", self.client.projects(self.workspace_gid, PROJECT_FIELDS), remember)
        self._projects = listed
        return result

    def portfolio_walk(self) -> tuple[list[Page], list[Page]]:
        """Pages of portfolios and of (portfolio, item) rows: the owner's portfolios, then their items,
        descending into nested portfolios (fetched one by one when the owner's list lacks them)."""
        if self._portfolio_walk is not None:
            return self._portfolio_walk
        portfolio_pages: list[Page] = []
        listed: set[str] = set()
        for page in self.client.portfolios(self.workspace_gid, self.settings.portfolio_owner, PORTFOLIO_FIELDS):
            portfolio_pages.append(page)
            listed.update(gid for gid in map(_gid, page) if gid)
        item_pages: list[Page] = []
        queue = sorted(listed)
        visited: set[str] = set()
        while queue:
            portfolio = queue.pop(0)
            if portfolio in visited:
                continue
            visited.add(portfolio)
            if portfolio not in listed:
                portfolio_pages.append([self.client.portfolio(portfolio, PORTFOLIO_FIELDS)])
                listed.add(portfolio)
            for page in self.client.portfolio_items(portfolio, PORTFOLIO_ITEM_FIELDS):
                rows: Page = []
                for item in page:
                    if not isinstance(item, dict):
                        rows.append(item)
                        continue
                    rows.append({**item, "portfolio": {"gid": portfolio, "resource_type": "portfolio"}})
                    if item.get("resource_type") == "portfolio" and _gid(item) and item["gid"] not in visited:
                        queue.append(str(item["gid"]))
                item_pages.append(rows)
        self._portfolio_walk = (portfolio_pages, item_pages)
        return self._portfolio_walk

    def sync_portfolios(self, full_refresh: bool = False) -> StreamResult:
        return self._snapshot("portfolios", self.portfolio_walk()[0])

    def sync_portfolio_items(self, full_refresh: bool = False) -> StreamResult:
        return self._snapshot("portfolio_items", self.portfolio_walk()[1])

    def sync_sections(self, full_refresh: bool = False) -> StreamResult:
        pages = self._per_project(lambda project: self.client.sections_list(project, SECTION_FIELDS))
        return self._snapshot("sections", pages)

    def sync_custom_field_settings(self, full_refresh: bool = False) -> StreamResult:
        with_estimate: set[str] = set()
        wanted = self.settings.estimate_field_name

        def note_estimates(page: Page) -> None:
            for record in page:
                if isinstance(record, dict) and (record.get("custom_field") or {}).get("name") == wanted:
                    with_estimate.add(str((record.get("project") or record.get("parent") or {}).get("gid")))

        pages = self._per_project(
            lambda project: self.client.custom_field_settings_list(project, CUSTOM_FIELD_SETTING_FIELDS), encoded=False
        )
        result = self._snapshot("custom_field_settings", pages, note_estimates)
        lacking = [project["name"] for project in self.projects() if project["gid"] not in with_estimate]
        if lacking:
            log.warning(
                "%s: %d of %d projects have no %r custom field (their leaf tasks all weigh the same): %s",
                self.label,
                len(lacking),
                len(self.projects()),
                wanted,
                ", ".join(sorted(lacking)),
            )
        return result

    def sync_status_updates(self, full_refresh: bool = False) -> StreamResult:
        pages = self._per_project(lambda project: self.client.status_updates_list(project, STATUS_UPDATE_FIELDS))
        return self._snapshot("status_updates", pages)

    def sync_time_entries(self, full_refresh: bool = False) -> StreamResult:
        if self.settings.time_entries_from == "workspace":
            windows = time_entry_windows(self.settings.time_entries_start_date, datetime.now(UTC).date())
            lists = [
                self.client.workspace_time_entries_list(
                    self.workspace_gid, first.isoformat(), last.isoformat(), TIME_ENTRY_FIELDS
                )
                for first, last in windows
            ]
            pages = (page for _, page in self.client.list_pages(lists, batch_size=self._batch_size))
        else:
            pages = self._time_entries_per_task(self._live_task_gids())
        return self._snapshot("time_entries", pages)

    def _live_task_gids(self) -> list[str]:
        exists = self.connection.execute("select to_regclass('raw.asana_tasks') is not null").fetchone()
        if not exists or not exists[0]:
            raise RuntimeError(f"{self.label}: reading time entries per task needs the tasks stream to have run")
        return sorted(self.writer("tasks").live_ids(), key=int)

    def _time_entries_per_task(self, tasks: list[str]) -> Iterator[Page]:
        """Each task's time entries; a task deleted since the tasks stream ran has none (its list answers 404)."""
        lists = [self.client.task_time_entries_list(task, TIME_ENTRY_FIELDS) for task in tasks]
        return self._read_lists(lists, missing_ok=True)

    # -- tasks -------------------------------------------------------------------------------------

    def sync_tasks(self, full_refresh: bool = False) -> StreamResult:
        writer = self.writer("tasks")
        ensure_control_tables(self.connection)
        state = {} if full_refresh else writer.read_state()
        marks: dict[str, str] = dict(state.get("project_watermarks") or {})
        overlap = timedelta(minutes=self.settings.overlap_minutes)
        writer.begin(watermark_from=min(marks.values()) if marks else None)
        try:
            known = writer.live_ids()
            seen: set[str] = set()
            projects = [project["gid"] for project in self.projects()]
            group_size = self.settings.concurrent_requests
            with PageLoader(writer, max_pending=PAGES_WAITING) as loader:
                for start in range(0, len(projects), group_size):
                    group = projects[start : start + group_size]
                    self._sync_project_tasks(loader, group, marks, overlap, known, seen)
            current = set(projects)
            marks = {gid: mark for gid, mark in marks.items() if gid in current}
            final_state = _task_state(marks)
            deleted = self._tombstone(writer, known, seen, final_state)
            writer.finish(state=final_state, watermark_to=final_state["modified_watermark"])
        except BaseException as error:
            writer.fail(error)
            raise
        result = result_from(StreamResult("tasks"), writer)
        result.deleted = deleted
        result.watermark = final_state["modified_watermark"]
        return result

    def _sync_project_tasks(
        self,
        loader: PageLoader,
        projects: list[str],
        marks: dict[str, str],
        overlap: timedelta,
        known: set[str],
        seen: set[str],
    ) -> None:
        """A group of projects' changed tasks and subtasks, their census into `seen`, and their new
        watermarks into `marks`, saved with the group's last rows. The group's lists are read together,
        in batches: the projects' task lists, then their subtask tree a level at a time."""
        spec = STREAMS["tasks"]
        batcher = _PageBatcher(loader, self.settings.page_size, lambda: _task_state(marks))
        walks = [_ProjectWalk.starting(project, marks.get(project), overlap) for project in projects]

        def changed_list(walk: _ProjectWalk) -> ListRequest:
            since = asana_instant(walk.since) if walk.since else None
            return self.client.tasks_list(walk.project, TASK_FIELDS, since)

        for index, page in self._read_lists_indexed([changed_list(walk) for walk in walks]):
            records, heads = spec.read(page)
            walks[index].census(spec, records, heads)
            batcher.add(records)
        incremental = [walk for walk in walks if walk.since is not None]
        for walk in incremental:
            walk.members = set()
        census_lists = [self.client.tasks_list(walk.project, TASK_CENSUS_FIELDS) for walk in incremental]
        for index, page in self._read_lists_indexed(census_lists):
            records, heads = spec.read(page)
            incremental[index].census(spec, records, heads)
        for walk in walks:
            seen.update(walk.members)

        # the subtask tree, a level at a time: (parent gid, the walk of its project)
        level = sorted(((parent, walk) for walk in walks for parent in walk.parents), key=lambda item: int(item[0]))
        walked: set[str] = set()
        while level:
            todo = []
            for parent, walk in level:
                if parent not in walked:
                    walked.add(parent)
                    todo.append((parent, walk))
            level = []
            subtask_lists = [self.client.subtasks_list(parent, TASK_FIELDS) for parent, _ in todo]
            for index, page in self._read_lists_indexed(subtask_lists):
                walk = todo[index][1]
                kept: Page = []
                records, heads = spec.read(page)
                for record, head in zip(records, heads, strict=True):
                    gid = spec.key_and_cursor(record)[0]
                    if gid is None:
                        kept.append(record)  # the writer rejects it, with its reason
                        continue
                    seen.add(gid)
                    if head is not None and head.num_subtasks:
                        level.append((gid, walk))
                    modified = _modified_at(head)
                    if walk.since is None or gid not in known or modified is None or modified >= walk.since:
                        kept.append(record)
                        walk.take(head)
                batcher.add(kept)
        for walk in walks:
            if walk.newest is not None:
                marks[walk.project] = asana_instant(walk.newest)
        batcher.flush()


@dataclass
class _ProjectWalk:
    """What a run learns of one project's tasks: its members, the parents among them, its newest change."""

    project: str
    newest: datetime | None
    since: datetime | None
    members: set[str] = field(default_factory=set)
    parents: set[str] = field(default_factory=set)

    @classmethod
    def starting(cls, project: str, mark: str | None, overlap: timedelta) -> _ProjectWalk:
        """From the project's watermark (None: read it whole), re-reading the overlap window before it."""
        newest = parse_asana_instant(mark) if mark else None
        return cls(project, newest, newest - overlap if newest else None)

    def take(self, head: _Head | None) -> None:
        modified = _modified_at(head)
        if modified is not None and (self.newest is None or modified > self.newest):
            self.newest = modified

    def census(self, spec: StreamSpec, records: Page, heads: list[_Head | None]) -> None:
        for record, head in zip(records, heads, strict=True):
            gid = spec.key_and_cursor(record)[0]
            if gid:
                self.members.add(gid)
                self.take(head)
                if head is not None and head.num_subtasks:
                    self.parents.add(gid)


def _task_state(marks: dict[str, str]) -> dict[str, Any]:
    return {"project_watermarks": dict(marks), "modified_watermark": max(marks.values()) if marks else None}


def extract_asana(
    settings: AsanaSettings,
    warehouse_url: str,
    streams: list[str] | None = None,
    full_refresh: bool | Collection[str] = False,
) -> list[dict[str, Any]]:
    """Run the Asana streams of one workspace into the warehouse; returns one summary dict per stream."""
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        extractor = AsanaExtractor(settings, connection)
        return [result.as_dict() for result in extractor.run(streams=streams, full_refresh=full_refresh)]
