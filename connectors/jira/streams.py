"""The Jira streams: what each one reads, its key, its cursor, and how deletes are found.

| stream   | key       | cursor                          | deletes                          |
|----------|-----------|---------------------------------|----------------------------------|
| fields   | id        | none (re-read)                  | census                           |
| users    | accountId | none (re-read)                  | none (users are deactivated)     |
| projects | id        | none (re-read)                  | census                           |
| issues   | id        | fields.updated, with an overlap | census of ids (no delete feed)   |
| worklogs | id        | worklog/updated `until`         | the worklog/deleted feed         |
| issue_changelogs | issue id | issues loaded since the last run | follows the issue              |
| boards   | id        | none (re-read, agile 1.0)       | census                           |
| sprints  | id        | none (re-read per scrum board)  | census                           |

Jira's worklog feeds leave out the last minute: a worklog logged or deleted in the minute before a
run is served to the next one, which starts from the last worklog served (`until`).

Changelogs come whole from `changelog/bulkfetch` (the changelog embedded in search results is
cut at 20 entries): every issue that landed since the stream's last run has its full status
history fetched again, 1000 issues a request.

With `streams_in_parallel` (the default), a night has five readers share the site's request
budget, each on its own thread, warehouse connection and HTTP session: the issues; their
changelogs, which follow the issues as they land (the issues landed since are looked up every
`CHANGELOG_POLL_SECONDS`, a full request's worth fetched at once, the rest when the issues are
done); the issue census, listed while the issues load (it then spares the rows loaded since it
began, which came in while it listed); the worklogs; and the other streams, one after another. A
full read (a full refresh, or the site's first load) runs one stream at a time.

A first load (no issue of the site stored when the stream began) lists no census: every issue it
stores it has just read. One deleted after its page was read is tombstoned by the next run's census.

Sprints are listed per scrum board, a request or more each: `SPRINT_BOARDS_AT_ONCE` boards are read
at the same time (`OrderedReader`), within the same budget, and land in the boards' order.

Issue watermarks are kept in UTC and written into JQL in the token user's time zone (JQL
reads date literals that way, at minute precision), floored to the minute and moved back by
the overlap window, so an edit a second before the watermark is read again rather than missed.
"""

from __future__ import annotations

import logging
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import psycopg

from connectors.jira.client import CHANGELOG_BULK_LIMIT, JiraClient
from connectors.jira.settings import ISSUE_FIELDS, SOURCE_SYSTEM, JiraSettings
from connectors.ordered_reads import OrderedReader
from connectors.raw_store import CensusApart, EncodedRecord, PageLoader, StreamWriter, connect_again, read_encoded
from connectors.runs import StreamResult, result_from

log = logging.getLogger(__name__)

EPOCH_JQL = "1970-01-01 00:00"
CENSUS_JQL = f'created >= "{EPOCH_JQL}" ORDER BY created ASC'
STREAMS = ("fields", "users", "projects", "issues", "worklogs", "issue_changelogs", "boards", "sprints")
# Streams that may run at the same time as the other lanes; within a lane, one after another. The
# changelogs' lane follows the issues as they land (`JiraExtractor.sync_issue_changelogs`).
STREAM_LANES = (("issues",), ("issue_changelogs",), ("worklogs",), ("fields", "users", "projects", "boards", "sprints"))
# How often the changelogs, following the issues as they land, look up the issues landed since.
CHANGELOG_POLL_SECONDS = 0.2
SNAPSHOT_PAGES_WAITING = 32
# Scrum boards whose sprints are read at the same time: a site of a thousand boards otherwise waits
# out a thousand round trips one after another.
SPRINT_BOARDS_AT_ONCE = 8


class _IssueFieldsHead(msgspec.Struct):
    updated: str | None = None


class _IssueHead(msgspec.Struct):
    """What the issues stream reads of an issue's JSON before landing it whole: its key and cursor."""

    id: str | int | None = None
    fields: _IssueFieldsHead | None = None


class _WorklogHead(msgspec.Struct):
    id: str | int | None = None
    updated: str | None = None


def _issue_keys(head: _IssueHead) -> tuple[Any, Any]:
    return head.id, head.fields.updated if head.fields is not None else None


def _worklog_keys(head: _WorklogHead) -> tuple[Any, Any]:
    return head.id, head.updated


def parse_jira_timestamp(value: str) -> datetime:
    """`2021-01-18T23:45:00.000+0000` (or with a colon in the offset) as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def jql_literal(instant: datetime, time_zone: str) -> str:
    """An instant as a JQL date literal in the token user's zone, floored to the minute."""
    local = instant.astimezone(ZoneInfo(time_zone))
    return local.strftime("%Y-%m-%d %H:%M")


def issues_jql(watermark: datetime | None, overlap: timedelta, time_zone: str) -> str:
    since = EPOCH_JQL if watermark is None else jql_literal(watermark - overlap, time_zone)
    return f'updated >= "{since}" ORDER BY updated ASC'


class JiraExtractor:
    """Runs the Jira streams of one site into the warehouse."""

    def __init__(
        self,
        settings: JiraSettings,
        connection: psycopg.Connection,
        client: JiraClient | None = None,
        issues_landing: threading.Event | None = None,
    ):
        self.settings = settings
        self.connection = connection
        self.client = client or JiraClient(settings)
        # Set once the issues' lane running beside this extractor's changelogs has ended; None when
        # no issues are landing at the same time.
        self.issues_landing = issues_landing
        self._user_time_zone: str | None = None
        self._custom_field_ids: dict[str, str] | None = None

    def writer(
        self, stream: str, record_id: Callable[[dict[str, Any]], Any], cursor: Callable[[dict[str, Any]], Any] | None
    ) -> StreamWriter:
        return StreamWriter(
            self.connection,
            source_system=SOURCE_SYSTEM,
            source_instance=self.settings.instance,
            stream=stream,
            record_id=record_id,
            cursor_value=cursor,
        )

    @property
    def user_time_zone(self) -> str:
        if self._user_time_zone is None:
            self._user_time_zone = self.client.myself().get("timeZone") or "UTC"
            log.info("jira[%s]: token user's time zone is %s", self.settings.instance, self._user_time_zone)
        return self._user_time_zone

    def run(self, streams: list[str] | None = None, full_refresh: bool = False) -> list[StreamResult]:
        """Run the streams asked for (all by default); results in the order of `STREAMS`.

        With `streams_in_parallel`, an incremental run's lanes (`STREAM_LANES`) run at once, each on
        a thread, a connection and an HTTP session of its own, within the one request budget. A full
        read (a full refresh, or a site whose issues never landed) runs one stream at a time: it
        keeps every core busy on its own, and two large streams at once only add up their memory."""
        unknown = set(streams or []) - set(STREAMS)
        if unknown:
            raise ValueError(f"unknown Jira streams {sorted(unknown)}; known: {sorted(STREAMS)}")
        wanted = [name for name in STREAMS if not streams or name in streams]
        lanes = [[name for name in lane if name in wanted] for lane in STREAM_LANES]
        lanes = [lane for lane in lanes if lane]
        if len(lanes) < 2 or not self._reads_apart({} if full_refresh else self._issues_writer().read_state()):
            return list(self._run_lane(wanted, full_refresh).values())
        results: dict[str, StreamResult] = {}
        # the first lane is the issues' when they are wanted: the changelogs' lane follows them
        issues_landing = threading.Event() if "issues" in wanted and "issue_changelogs" in wanted else None
        with ThreadPoolExecutor(len(lanes) - 1, thread_name_prefix=f"jira-{self.settings.instance}-lane") as pool:
            others = [pool.submit(self._run_lane_apart, lane, full_refresh, issues_landing) for lane in lanes[1:]]
            try:
                results.update(self._run_lane(lanes[0], full_refresh))
            finally:
                if issues_landing is not None:
                    issues_landing.set()
                wait(others)
            for future in others:
                results.update(future.result())
        return [results[name] for name in wanted]

    def _issues_writer(self) -> StreamWriter:
        return self.writer("issues", lambda r: r.get("id"), lambda r: r["fields"]["updated"])

    def _reads_apart(self, issues_state: dict[str, Any]) -> bool:
        """Whether the lanes and the issue census run apart: on a night (the issues have a state) with
        `streams_in_parallel`; a full read (a full refresh, a first load) runs one stream at a time."""
        return self.settings.streams_in_parallel and bool(issues_state)

    def _run_lane(self, lane: list[str], full_refresh: bool) -> dict[str, StreamResult]:
        return {name: self._timed(name, getattr(self, f"sync_{name}"), full_refresh) for name in lane}

    def _run_lane_apart(
        self, lane: list[str], full_refresh: bool, issues_landing: threading.Event | None = None
    ) -> dict[str, StreamResult]:
        """A lane on a connection and a client of its own (a psycopg connection serves one thread);
        `issues_landing`, set when the issues' lane ends, is for a changelogs' lane to follow them."""
        with connect_again(self.connection) as connection:
            lane_extractor = JiraExtractor(self.settings, connection, self.client.sibling(), issues_landing)
            return lane_extractor._run_lane(lane, full_refresh)

    def _timed(self, name: str, runner: Callable[..., StreamResult], full_refresh: bool) -> StreamResult:
        before = self.client.api.stats.as_dict()
        started = time.monotonic()
        result = runner(full_refresh=full_refresh)
        result.seconds = time.monotonic() - started
        after = self.client.api.stats.as_dict()
        result.http = {key: round(after[key] - before[key], 2) for key in after}
        log.info(
            "jira[%s] %s: %d records, %d rejected, %d deleted, %d pages, %d requests, %d retries, "
            "%.1f s waited, watermark %s, %.1f s",
            self.settings.instance,
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

    def _full_snapshot(self, stream: str, pages, record_id, census: bool) -> StreamResult:
        """Re-read a small stream whole; with `census`, tombstone ids the tool no longer returns."""
        writer = self.writer(stream, record_id, None)
        writer.begin()
        result = StreamResult(stream)
        seen: set[str] = set()
        try:
            # small pages (a board's sprints) are written a few dozen to a transaction
            with PageLoader(writer, max_pending=SNAPSHOT_PAGES_WAITING) as loader:
                for page in pages:
                    loader.submit(page)
                    seen.update(
                        str(record_id(record)) for record in page if isinstance(record, dict) and record_id(record)
                    )
            if census:
                gone = writer.live_ids() - seen
                if gone:
                    writer.mark_deleted(gone)
            writer.finish(state={"snapshot_at": datetime.now(UTC).isoformat()})
        except BaseException as error:
            writer.fail(error)
            raise
        return result_from(result, writer)

    def sync_fields(self, full_refresh: bool = False) -> StreamResult:
        return self._full_snapshot("fields", [self.client.fields()], lambda r: r.get("id"), census=True)

    def sync_users(self, full_refresh: bool = False) -> StreamResult:
        return self._full_snapshot("users", self.client.users(), lambda r: r.get("accountId"), census=False)

    def sync_projects(self, full_refresh: bool = False) -> StreamResult:
        return self._full_snapshot("projects", self.client.projects(), lambda r: r.get("id"), census=True)

    def sync_boards(self, full_refresh: bool = False) -> StreamResult:
        return self._full_snapshot("boards", self.client.boards(), lambda r: r.get("id"), census=True)

    def sync_sprints(self, full_refresh: bool = False) -> StreamResult:
        """Sprints of every scrum board (kanban boards have none), in every state."""
        scrum_boards = [
            board["id"]
            for board_page in self.client.boards()
            for board in board_page
            if isinstance(board, dict) and board.get("type") == "scrum"
        ]
        return self._full_snapshot("sprints", self._sprint_pages(scrum_boards), lambda r: r.get("id"), census=True)

    def _sprint_pages(self, board_ids: Iterable[Any]) -> Iterator[list[dict[str, Any]]]:
        """The sprint pages of `board_ids`, board by board in their order, `SPRINT_BOARDS_AT_ONCE` boards read
        at a time; on a failure the boards not yet asked for are not asked."""
        readers: OrderedReader[Any, list[dict[str, Any]]] = OrderedReader(
            SPRINT_BOARDS_AT_ONCE, name=f"jira-{self.settings.instance}-sprints"
        )
        try:
            yield from readers.read(list(board_ids), self.client.sprints)
        finally:
            readers.close()

    def custom_field_ids(self) -> dict[str, str]:
        if self._custom_field_ids is None:
            wanted = set(self.settings.custom_field_names)
            self._custom_field_ids = {
                field["name"]: field["id"]
                for field in self.client.fields()
                if isinstance(field, dict) and field.get("name") in wanted
            }
            missing = wanted - set(self._custom_field_ids)
            if missing:
                log.warning("jira[%s]: custom fields missing on the site: %s", self.settings.instance, sorted(missing))
        return self._custom_field_ids

    def sync_issues(self, full_refresh: bool = False) -> StreamResult:
        writer = self._issues_writer()
        state = {} if full_refresh else writer.read_state()
        watermark = datetime.fromisoformat(state["updated_watermark"]) if state.get("updated_watermark") else None
        overlap = timedelta(minutes=self.settings.overlap_minutes)
        jql = issues_jql(watermark, overlap, self.user_time_zone)
        fields = [*ISSUE_FIELDS, *self.custom_field_ids().values()]
        writer.begin(watermark_from=watermark.isoformat() if watermark else None)
        log.info("jira[%s] issues: %s", self.settings.instance, jql)
        newest = watermark
        census_client = self.client.sibling() if self._reads_apart(state) else None
        census: CensusApart | None = None
        try:
            if census_client is not None:
                census = CensusApart(writer, lambda: self._issue_census_ids(census_client))
            with PageLoader(writer) as loader:
                for raw_page in self.client.search_issues_encoded(jql, fields, self.settings.issue_page_size):
                    page = read_encoded(raw_page, _IssueHead, _issue_keys)
                    for record in page:
                        updated = _issue_updated(record)
                        if updated is not None and (newest is None or updated > newest):
                            newest = updated
                    page_state = {**state, "updated_watermark": newest.isoformat() if newest else None}
                    loader.submit(page, state=page_state)
            if census is not None:
                _, deleted = census.tombstone()
            elif writer.first_load:
                # every stored issue was read by this batch: a census could only find one deleted
                # since its page was read, which the next run's census finds
                log.info("jira[%s] issues: a first load, no census", self.settings.instance)
                deleted = 0
            else:
                _, deleted = writer.tombstone_missing(self._issue_census_ids(self.client))
            final_state = {**state, "updated_watermark": newest.isoformat() if newest else None}
            writer.finish(state=final_state, watermark_to=final_state["updated_watermark"])
        except BaseException as error:
            writer.fail(error)
            raise
        finally:
            if census is not None:
                census.close()
            if census_client is not None:
                self.client.api.stats.count(**census_client.api.stats.as_dict())
        result = result_from(StreamResult("issues"), writer)
        result.deleted = deleted
        result.watermark = final_state["updated_watermark"]
        return result

    def _issue_census_ids(self, client: JiraClient) -> Iterable[list[str]]:
        """Jira has no delete feed for issues: the census lists every id the token can see."""
        return client.search_issue_ids(CENSUS_JQL, self.settings.census_page_size)

    def sync_issue_changelogs(self, full_refresh: bool = False) -> StreamResult:
        """The full status histories of the issues landed since the stream's last run.

        Beside an issues stream (`issues_landing` not yet set), it follows the issues as they land,
        on a warehouse connection of its own: each look-up reads the issues landed since the newest
        one it has seen, through the table's index on when each row was last written, and a full
        request's worth is fetched as soon as it is there; once the issues are done, a last look-up,
        then the rest. An issue landed again after its changelog was fetched is fetched again."""
        writer = self.writer("issue_changelogs", lambda r: r.get("issueId"), None)
        state = {} if full_refresh else writer.read_state()
        since = state.get("issues_loaded_since")
        writer.begin(watermark_from=since)
        landing = self.issues_landing
        follower: _LandedIssues | None = None
        try:
            if landing is not None and not landing.is_set():
                reader = connect_again(self.connection)
                reader.autocommit = True  # each look-up sees the pages committed since the last
                follower = _LandedIssues(reader, self.settings.instance, since, landing)
            elif self.connection.execute("select to_regclass('raw.jira_issues')").fetchone()[0] is None:
                follower = None
            else:
                # the ids are read before any changelog loads: the loading thread then owns the connection
                follower = _LandedIssues(self.connection, self.settings.instance, since, None)
                follower.look_up()
            with PageLoader(writer) as loader:
                for chunk in follower.chunks() if follower is not None else ():
                    histories = self.client.changelogs(chunk, ["status"])
                    loader.submit(
                        [{"issueId": issue_id, "histories": histories.get(issue_id, [])} for issue_id in chunk]
                    )
            newest = follower.newest if follower is not None else None
            final_state = {"issues_loaded_since": newest.isoformat() if newest else since}
            writer.finish(state=final_state, watermark_to=final_state["issues_loaded_since"])
        except BaseException as error:
            writer.fail(error)
            raise
        finally:
            if follower is not None and follower.connection is not self.connection:
                follower.connection.close()
        result = result_from(StreamResult("issue_changelogs"), writer)
        result.watermark = final_state["issues_loaded_since"]
        return result

    def sync_worklogs(self, full_refresh: bool = False) -> StreamResult:
        writer = self.writer("worklogs", lambda r: r.get("id"), lambda r: r.get("updated"))
        state = {} if full_refresh else writer.read_state()
        overlap_ms = self.settings.overlap_minutes * 60_000
        since = max(0, int(state.get("updated_since_ms", 0)) - overlap_ms) if state else 0
        deleted_since = max(0, int(state.get("deleted_since_ms", 0)) - overlap_ms) if state else 0
        writer.begin(watermark_from=str(since))
        try:
            with PageLoader(writer) as loader:
                for page in self.client.worklogs_updated(since):
                    ids = [entry["worklogId"] for entry in page.get("values", [])]
                    records = read_encoded(self.client.worklog_list(ids), _WorklogHead, _worklog_keys)
                    state = {**state, "updated_since_ms": int(page.get("until") or since)}
                    loader.submit(records, state=state)
            for page in self.client.worklogs_deleted(deleted_since):
                ids = [str(entry["worklogId"]) for entry in page.get("values", [])]
                state = {**state, "deleted_since_ms": int(page.get("until") or deleted_since)}
                writer.mark_deleted(ids, state=state)
            writer.finish(state=state, watermark_to=str(state.get("updated_since_ms")))
        except BaseException as error:
            writer.fail(error)
            raise
        result = result_from(StreamResult("worklogs"), writer)
        result.watermark = str(state.get("updated_since_ms"))
        return result


class _LandedIssues:
    """The ids of the live issues landed after a watermark (`since`), a bulk request's worth at a time.

    Without `landing`, the caller's one `look_up` finds them all. With it, the issues are still
    landing: `chunks` looks them up again every `CHANGELOG_POLL_SECONDS` from the newest landing it
    has seen, yields each full request's worth as soon as it is there, and once `landing` is set
    makes a last look-up and yields the rest. `newest` is the newest landing seen, the stream's next
    watermark."""

    def __init__(
        self, connection: psycopg.Connection, instance: str, since: str | None, landing: threading.Event | None
    ) -> None:
        self.connection = connection
        self.instance = instance
        self.since = since
        self.landing = landing
        self.newest: datetime | None = None
        self._waiting = array("q")
        self._taken = 0
        # only while following: an issue landed again before its changelog was fetched waits once
        self._waiting_ids: set[int] = set()

    def look_up(self) -> None:
        since = self.newest.isoformat() if self.newest is not None else self.since
        ids, newest = _changed_issue_ids(self.connection, self.instance, since)
        if newest is not None:
            self.newest = newest
        if self.landing is None:
            self._waiting.extend(ids)
            return
        for issue_id in ids:
            if issue_id not in self._waiting_ids:
                self._waiting_ids.add(issue_id)
                self._waiting.append(issue_id)

    def chunks(self) -> Iterator[list[str]]:
        while True:
            done = self.landing is None or self.landing.is_set()
            if self.landing is not None:
                self.look_up()
            while self._count() >= CHANGELOG_BULK_LIMIT or (done and self._count()):
                yield self._take(CHANGELOG_BULK_LIMIT)
            if done:
                return
            self.landing.wait(CHANGELOG_POLL_SECONDS)

    def _count(self) -> int:
        return len(self._waiting) - self._taken

    def _take(self, count: int) -> list[str]:
        chunk = self._waiting[self._taken : self._taken + count]
        self._taken += len(chunk)
        if self._taken == len(self._waiting):
            self._waiting, self._taken = array("q"), 0
        self._waiting_ids.difference_update(chunk)
        return [str(issue_id) for issue_id in chunk]


def _changed_issue_ids(
    connection: psycopg.Connection, instance: str, since: str | None
) -> tuple[array, datetime | None]:
    """The ids of the live issues loaded after `since` (all of them without it), in order, and the
    newest `loaded_at` among the rows loaded after it, tombstoned ones included (None when there are none).

    Jira's issue ids are numbers: they are streamed from the warehouse into an array of 8 bytes an
    id, before any changelog loads (the loading thread then owns the connection), so that memory
    does not grow with the site as a list of strings would. A night's rows are found through the
    table's index on when each row was last written, instead of a scan of every issue.
    """
    ids = array("q")
    newest: datetime | None = None
    if since is None:
        query, params = (
            "select record_id, loaded_at, is_deleted from raw.jira_issues where source_instance = %s",
            [instance],
        )
    else:
        query = (
            "select record_id, loaded_at, is_deleted from raw.jira_issues where source_instance = %s"
            " and greatest(loaded_at, deleted_at) > %s::timestamptz and loaded_at > %s::timestamptz"
        )
        params = [instance, since, since]
    with connection.cursor() as cursor:
        for record_id, loaded_at, is_deleted in cursor.stream(query + " order by record_id", params):
            if newest is None or loaded_at > newest:
                newest = loaded_at
            if not is_deleted:
                ids.append(int(record_id))
    return ids, newest


def _issue_updated(record: Any) -> datetime | None:
    try:
        updated = record.cursor if isinstance(record, EncodedRecord) else record["fields"]["updated"]
        return parse_jira_timestamp(updated).astimezone(UTC)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def extract_jira(
    settings: JiraSettings, warehouse_url: str, streams: list[str] | None = None, full_refresh: bool = False
) -> list[dict[str, Any]]:
    """Run the Jira streams of one site into the warehouse; returns one summary dict per stream."""
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        extractor = JiraExtractor(settings, connection)
        return [result.as_dict() for result in extractor.run(streams=streams, full_refresh=full_refresh)]
