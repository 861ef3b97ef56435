"""The Jira site of a streamed scale (the enterprise one), generated project by project into SQLite files.

A site of 460,000 issues and 1.9 million worklogs does not fit the way the demo's does (every issue a
dict in memory). Here each Jira project is built on its own, from a seed of its own, by the world's
Jira builder, with id ranges of its own (`JiraIdBases`), so the site does not depend on the order or
the number of processes that build it. Each project's issues, worklogs and deletions are written as
they are built to one of a few SQLite shard files (one writer process per shard), and nothing of a
project is kept once it is written.

`StoredJiraSite` is a `JiraSite` whose `issues` and `worklogs` read those files: the Jira simulator
serves it as it serves an in-memory site, keeping only indexes (ids, keys, timestamps) in memory and
reading each payload from disk when a page shows it. The simulator's change helpers (`update_issue`,
`add_worklog`, ...) work on it too: what they change is kept in memory, the files are never written after
generation.

The store is kept in a directory named after the seed, the anchor date and `STORE_VERSION`, and is
reused when it is complete (a `complete` marker written last); `SIMULATOR_STORE_DIR` sets where.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import logging
import os
import random
import sqlite3
import threading
import time
from array import array
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from simulators.jql import OrderTerm, order_issues
from simulators.world import (
    JiraDeletedWorklog,
    JiraIdBases,
    JiraSite,
    Person,
    Project,
    ScaleProfile,
    WorldConfig,
    _JiraBuilder,
    epoch_millis,
    jira_reference_data,
    jira_users,
)

logger = logging.getLogger(__name__)

STORE_VERSION = 3
SHARDS = 2
ISSUES_PER_PROJECT = 100_000
WORKLOGS_PER_PROJECT = 1_000_000
HISTORIES_PER_PROJECT = 1_000_000
SPRINTS_PER_PROJECT = 1_000
# query results whose rows the shards keep (the census, a watermark query, ...)
QUERIES_KEPT = 4
WARM_CHUNK_BYTES = 8 * 2**20
# one project in this many (of those the rule allows) keeps no estimates, as one demo project does
NO_ESTIMATE_EVERY = 40

SCHEMA = """
create table issues (
    id integer primary key, key text not null, project_key text not null,
    created_ms integer not null, updated_ms integer not null, payload blob not null, changelog blob not null
);
create table worklogs (id integer primary key, issue_id integer not null, updated_ms integer not null,
    payload blob not null);
create table deleted_worklogs (id integer primary key, deleted_ms integer not null);
create table projects (position integer primary key, payload blob not null, board blob not null,
    sprints blob not null, histories integer not null);
"""


def _millis_to_datetime(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def default_store_root() -> Path:
    configured = os.environ.get("SIMULATOR_STORE_DIR")
    if configured:
        return Path(configured)
    local = os.environ.get("PMO_LOCAL_DIR") or Path(__file__).resolve().parents[1] / ".local"
    return Path(local) / "simulator-store"


def store_directory(config: WorldConfig, root: Path | None = None) -> Path:
    return (root or default_store_root()) / f"{config.scale}-{config.seed}-{config.anchor_date}-v{STORE_VERSION}"


# --------------------------------------------------------------------------------------------------
# Generating
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectPlan:
    """What one project's part of the site holds: its position (which fixes its ids) and its sizes."""

    position: int
    project: Project
    issues: int
    worklogs: int
    deleted_worklogs: int
    long_changelog_issues: int
    without_estimates: bool

    def id_bases(self) -> JiraIdBases:
        return JiraIdBases(
            project=10000 + self.position,
            board=1 + self.position,
            sprint=1 + self.position * SPRINTS_PER_PROJECT,
            issue=10000 + self.position * ISSUES_PER_PROJECT,
            worklog=20000 + self.position * WORKLOGS_PER_PROJECT,
            history=100000 + self.position * HISTORIES_PER_PROJECT,
        )


def _apportion(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights`, largest remainders first."""
    weight_sum = sum(weights)
    raw = [total * weight / weight_sum for weight in weights]
    counts = [int(value) for value in raw]
    for index in sorted(range(len(raw)), key=lambda i: (raw[i] - counts[i], -i), reverse=True)[: total - sum(counts)]:
        counts[index] += 1
    return counts


def plan_projects(
    config: WorldConfig, profile: ScaleProfile, anchor: datetime, people: list[Person], projects: list[Project]
) -> list[ProjectPlan]:
    """Each Jira project's share of the site's issues, worklogs, deletions and long changelogs."""
    sizing = _JiraBuilder(random.Random(f"{config.seed}:jira-sizes"), profile, anchor, people, projects)
    counts = sizing.issue_counts()
    jira_projects = sizing.projects
    issues = [counts[project.source_project_key] for project in jira_projects]
    worklogs = _apportion(profile.jira_worklogs, [float(count) for count in issues])
    deleted = _apportion(profile.deleted_jira_worklogs, [float(count) for count in issues])
    long_candidates = sorted(
        (
            position
            for position, project in enumerate(jira_projects)
            if project.stage == "active" and project.in_register
        ),
        key=lambda position: (-issues[position], position),
    )
    long_positions = set(long_candidates[: profile.long_changelog_issues])
    no_estimate_candidates = [
        position
        for position, project in enumerate(jira_projects)
        if project.in_register and project.stage == "active" and 30 <= issues[position] <= 160
    ]
    no_estimates = set(no_estimate_candidates[::NO_ESTIMATE_EVERY])
    return [
        ProjectPlan(
            position=position,
            project=project,
            issues=issues[position],
            worklogs=worklogs[position],
            deleted_worklogs=min(deleted[position], worklogs[position] // 2),
            long_changelog_issues=1 if position in long_positions else 0,
            without_estimates=position in no_estimates,
        )
        for position, project in enumerate(jira_projects)
    ]


class _ProjectJiraBuilder(_JiraBuilder):
    """The world's Jira builder for one project, whose plan says whether it keeps estimates."""

    def __init__(self, plan: ProjectPlan, **kwargs) -> None:
        super().__init__(**kwargs)
        self.plan = plan

    def pick_no_estimate_project(self, counts: dict[str, int]) -> Project | None:
        return self.plan.project if self.plan.without_estimates else None


def _project_people(people_by_email: dict[str, Person], project: Project) -> list[Person]:
    emails = dict.fromkeys((project.project_manager, project.sponsor, *project.team_emails))
    return [people_by_email[email] for email in emails if email in people_by_email]


def _write_shard(
    path: Path,
    config: WorldConfig,
    profile: ScaleProfile,
    anchor: datetime,
    people: list[Person],
    plans: list[ProjectPlan],
) -> tuple[int, int, int]:
    """Build each planned project and write it to the shard at `path`; (issues, worklogs, histories) written."""
    people_by_email = {person.email: person for person in people}
    encode = msgspec.json.encode
    connection = sqlite3.connect(path)
    connection.executescript("pragma journal_mode = off; pragma synchronous = off;" + SCHEMA)
    totals = [0, 0, 0]
    for plan in plans:
        project = plan.project
        builder = _ProjectJiraBuilder(
            plan,
            rng=random.Random(f"{config.seed}:jira:{project.source_project_key}"),
            profile=replace(
                profile,
                jira_issues=plan.issues,
                jira_worklogs=plan.worklogs,
                deleted_jira_worklogs=plan.deleted_worklogs,
                long_changelog_issues=plan.long_changelog_issues,
            ),
            anchor=anchor,
            people=_project_people(people_by_email, project),
            projects=[project],
            ids=plan.id_bases(),
        )
        site = builder.build()
        connection.executemany(
            "insert into issues values (?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    int(issue.id),
                    issue.key,
                    issue.project_key,
                    epoch_millis(issue.created_at),
                    epoch_millis(issue.updated_at),
                    encode(issue.payload),
                    encode(issue.changelog),
                )
                for issue in site.issues
            ),
        )
        connection.executemany(
            "insert into worklogs values (?, ?, ?, ?)",
            (
                (int(worklog.id), int(worklog.issue_id), epoch_millis(worklog.updated_at), encode(worklog.payload))
                for worklog in site.worklogs
            ),
        )
        connection.executemany(
            "insert into deleted_worklogs values (?, ?)",
            ((int(entry.worklog_id), epoch_millis(entry.deleted_at)) for entry in site.deleted_worklogs),
        )
        histories = sum(len(issue.changelog) for issue in site.issues)
        connection.execute(
            "insert into projects values (?, ?, ?, ?, ?)",
            (plan.position, encode(site.projects[0]), encode(site.boards[0]), encode(site.sprints), histories),
        )
        connection.commit()
        totals[0] += len(site.issues)
        totals[1] += len(site.worklogs)
        totals[2] += histories
    connection.executescript(
        "create index issues_updated on issues (updated_ms, id);"
        "create index issues_key on issues (key);"
        "create index worklogs_issue on worklogs (issue_id, id);"
    )
    connection.close()
    return totals[0], totals[1], totals[2]


def generate_store(
    directory: Path,
    config: WorldConfig,
    profile: ScaleProfile,
    anchor: datetime,
    people: list[Person],
    projects: list[Project],
    *,
    workers: int = SHARDS,
) -> None:
    """Write the Jira site of `projects` into `directory`, one shard per worker process."""
    started = time.perf_counter()
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*"):
        stale.unlink()
    plans = plan_projects(config, profile, anchor, people, projects)
    logger.info(
        "generating the %s Jira site: %d projects, %d issues, %d worklogs into %s",
        config.scale,
        len(plans),
        sum(plan.issues for plan in plans),
        sum(plan.worklogs for plan in plans),
        directory,
    )
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(
                _write_shard,
                directory / f"shard-{shard}.sqlite",
                config,
                profile,
                anchor,
                people,
                [plan for plan in plans if plan.position % SHARDS == shard],
            )
            for shard in range(SHARDS)
        ]
        totals = [future.result() for future in futures]
    (directory / "complete").write_text(
        f"issues {sum(t[0] for t in totals)}\nworklogs {sum(t[1] for t in totals)}\n"
        f"histories {sum(t[2] for t in totals)}\nseconds {time.perf_counter() - started:.1f}\n"
    )
    logger.info("generated the Jira site in %.1f s", time.perf_counter() - started)


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------


class _Shards:
    """The shard files, one read-only connection per shard and thread."""

    def __init__(self, directory: Path) -> None:
        self.paths = [directory / f"shard-{shard}.sqlite" for shard in range(SHARDS)]
        self.local = threading.local()
        self.index_lock = threading.Lock()
        self._worklog_feed_index: list[tuple[array, array]] | None = None
        self._query_rows: dict[tuple[str, tuple], list[tuple]] = {}

    def warm(self) -> int:
        """Read every shard file once, in order, into the page cache. A query answered from a cold cache reads
        its rows' pages one at a time at random: the first search of an extract then took 28 to 88 s (longer
        than a client waits), where reading the files through first takes a few seconds. Returns the bytes read."""
        started = time.perf_counter()
        size = 0
        for path in self.paths:
            with path.open("rb", buffering=0) as file:
                while chunk := file.read(WARM_CHUNK_BYTES):
                    size += len(chunk)
        logger.info("read the Jira store (%d MiB) in %.1f s", size // 2**20, time.perf_counter() - started)
        return size

    def connection(self, shard: int) -> sqlite3.Connection:
        connections = getattr(self.local, "connections", None)
        if connections is None:
            connections = self.local.connections = [
                sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False) for path in self.paths
            ]
        return connections[shard]

    def each(self) -> Iterator[sqlite3.Connection]:
        for shard in range(SHARDS):
            yield self.connection(shard)

    def one(self, query: str, shard: int, *params: object) -> tuple | None:
        return self.connection(shard).execute(query, params).fetchone()

    def ordered_rows(self, query: str, params: list[object], key: Callable[[tuple], Any]) -> list[tuple]:
        """The rows `query` reads from every shard, merged in `key` order. The files never change, so the rows of
        the latest few queries are kept: a night's census reads the same 460,000 rows as the night before."""
        with self.index_lock:
            cache_key = (query, tuple(params))
            rows = self._query_rows.pop(cache_key, None)
            if rows is None:
                rows = list(
                    heapq.merge(*(connection.execute(query, params).fetchall() for connection in self.each()), key=key)
                )
            self._query_rows[cache_key] = rows
            while len(self._query_rows) > QUERIES_KEPT:
                del self._query_rows[next(iter(self._query_rows))]
            return rows

    def worklog_feed_index(self) -> list[tuple[array, array]]:
        """Per shard, the updated epoch ms and the ids of its worklogs in feed order, as two arrays of integers:
        read on first use and kept, since the files never change (32 bytes a worklog, against a few hundred as
        Python tuples)."""
        with self.index_lock:
            if self._worklog_feed_index is None:
                indexes = []
                for connection in self.each():
                    updated, ids = array("q"), array("q")
                    for updated_ms, worklog_id in connection.execute(
                        "select updated_ms, id from worklogs order by updated_ms, id"
                    ):
                        updated.append(updated_ms)
                        ids.append(worklog_id)
                    indexes.append((updated, ids))
                self._worklog_feed_index = indexes
            return self._worklog_feed_index


def _issue_shard(issue_id: int) -> int:
    return ((issue_id - 10000) // ISSUES_PER_PROJECT) % SHARDS


def _worklog_shard(worklog_id: int) -> int:
    return ((worklog_id - 20000) // WORKLOGS_PER_PROJECT) % SHARDS


class StoredIssue:
    """A Jira issue whose identifiers and timestamps are at hand and whose payload and changelog are read on use."""

    __slots__ = ("_shards", "created_ms", "id", "key", "project_key", "updated_ms")

    def __init__(
        self, shards: _Shards, issue_id: int, key: str, project_key: str, created_ms: int, updated_ms: int
    ) -> None:
        self._shards = shards
        self.id = str(issue_id)
        self.key = key
        self.project_key = project_key
        self.created_ms = created_ms
        self.updated_ms = updated_ms

    @property
    def created_at(self) -> datetime:
        return _millis_to_datetime(self.created_ms)

    @property
    def updated_at(self) -> datetime:
        return _millis_to_datetime(self.updated_ms)

    def _column(self, column: str) -> object:
        issue_id = int(self.id)
        row = self._shards.one(f"select {column} from issues where id = ?", _issue_shard(issue_id), issue_id)
        return msgspec.json.decode(row[0])

    @property
    def payload(self) -> dict:
        return self._column("payload")  # type: ignore[return-value]

    @property
    def changelog(self) -> list[dict]:
        return self._column("changelog")  # type: ignore[return-value]


class StoredWorklog:
    """A worklog whose payload is read on use."""

    __slots__ = ("_shards", "id", "issue_id", "updated_at")

    def __init__(self, shards: _Shards, worklog_id: int, issue_id: int, updated_ms: int) -> None:
        self._shards = shards
        self.id = str(worklog_id)
        self.issue_id = str(issue_id)
        self.updated_at = _millis_to_datetime(updated_ms)

    @property
    def payload(self) -> dict:
        worklog_id = int(self.id)
        row = self._shards.one("select payload from worklogs where id = ?", _worklog_shard(worklog_id), worklog_id)
        return msgspec.json.decode(row[0])


_ISSUE_COLUMNS = "id, key, project_key, created_ms, updated_ms"
# the JQL sort fields the shards can order by, and their columns
_ORDER_COLUMNS = {"created": "created_ms", "updated": "updated_ms", "id": "id"}
_ROW_POSITIONS = {"id": 0, "created": 3, "updated": 4}


def _order_value(item: Any, field: str) -> int:
    """An issue's (or a row's of the shards) value of a sort field the shards can order by."""
    if isinstance(item, tuple):
        return item[_ROW_POSITIONS[field]]
    if field == "id":
        return int(item.id)
    return epoch_millis(item.created_at if field == "created" else item.updated_at)


class QueryResult(Sequence[Any]):
    """A query's issues in order, rows of the shards (`_ISSUE_COLUMNS`) and changed issues, each row made a
    `StoredIssue` only when a page shows it: a census lists every issue of the site."""

    def __init__(self, shards: _Shards, items: list[Any]) -> None:
        self._shards = shards
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def _issue(self, item: Any) -> Any:
        return StoredIssue(self._shards, *item) if isinstance(item, tuple) else item

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._issue(item) for item in self._items[index]]
        return self._issue(self._items[index])

    def identifiers(self, start: int, stop: int) -> list[tuple[str, str]]:
        """The (id, key) of the issues from `start` to `stop`, without making a `StoredIssue` of each row."""
        return [
            (str(item[0]), item[1]) if isinstance(item, tuple) else (item.id, item.key)
            for item in self._items[start:stop]
        ]


class _OverlaidTable(MutableMapping[str, Any]):
    """Items by id read from the shards, with the changes made since the store was opened kept in memory:
    items replaced or added (`changed`) and ids removed. Only the changes are held, so a night's edits
    cost memory in proportion to themselves, not to the site."""

    table = ""

    def __init__(self, shards: _Shards) -> None:
        self._shards = shards
        self.changed: dict[str, Any] = {}
        self.removed: set[str] = set()
        self._count = sum(conn.execute(f"select count(*) from {self.table}").fetchone()[0] for conn in shards.each())

    def fresh_view(self) -> _OverlaidTable:
        """The same table without this view's changes."""
        return type(self)(self._shards)

    def _shard_of(self, number: int) -> int:
        raise NotImplementedError

    def _read(self, number: int) -> Any | None:
        raise NotImplementedError

    def _rows(self) -> Iterator[Any]:
        raise NotImplementedError

    def _on_disk(self, key: str) -> bool:
        if not key.isdigit():
            return False
        number = int(key)
        query = f"select 1 from {self.table} where id = ?"
        return self._shards.one(query, self._shard_of(number), number) is not None

    def __getitem__(self, key: str) -> Any:
        key = str(key)
        if key in self.changed:
            return self.changed[key]
        if key in self.removed or not key.isdigit():
            raise KeyError(key)
        found = self._read(int(key))
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        key = str(key)
        if key in self.changed:
            return True
        return key not in self.removed and self._on_disk(key)

    def __setitem__(self, key: str, value: Any) -> None:
        key = str(key)
        if key not in self:
            self._count += 1
        self.changed[key] = value
        self.removed.discard(key)

    def __delitem__(self, key: str) -> None:
        key = str(key)
        if key not in self:
            raise KeyError(key)
        self.changed.pop(key, None)
        if self._on_disk(key):
            self.removed.add(key)
        self._count -= 1

    def __len__(self) -> int:
        return self._count

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        """Every item: those on disk (unless changed or removed) in id order, then the changed ones."""
        skip = self.removed | self.changed.keys()
        for item in self._rows():
            if item.id not in skip:
                yield item
        yield from self.changed.values()

    def __iter__(self) -> Iterator[str]:
        for item in self.values():
            yield item.id


class StoredIssues(_OverlaidTable):
    """Issues by id, read from the shards."""

    table = "issues"

    def _shard_of(self, number: int) -> int:
        return _issue_shard(number)

    def _read(self, number: int) -> StoredIssue | None:
        query = f"select {_ISSUE_COLUMNS} from issues where id = ?"
        row = self._shards.one(query, _issue_shard(number), number)
        return StoredIssue(self._shards, *row) if row else None

    def _rows(self) -> Iterator[StoredIssue]:
        for connection in self._shards.each():
            cursor = connection.execute(f"select {_ISSUE_COLUMNS} from issues order by id")
            while rows := cursor.fetchmany(10_000):
                for row in rows:
                    yield StoredIssue(self._shards, *row)

    def matching(
        self, condition: str, params: list[object], order: tuple[OrderTerm, ...], matches: Callable[[Any], bool]
    ) -> Sequence[Any]:
        """The issues a JQL query selects, in its order: those on disk through `condition` (SQL, from
        `compile_sql`) and the shards' indexes, the changed ones through `matches`."""
        skip = {int(issue_id) for issue_id in self.removed | self.changed.keys()}
        changed = order_issues((issue for issue in self.changed.values() if matches(issue)), order)
        by_columns = all(term.field in _ORDER_COLUMNS for term in order)
        order_sql = "id"
        if by_columns:
            sort_terms = [f"{_ORDER_COLUMNS[term.field]} {'desc' if term.descending else 'asc'}" for term in order]
            order_sql = ", ".join([*sort_terms, "id"])
        query = f"select {_ISSUE_COLUMNS} from issues where {condition} order by {order_sql}"
        if not by_columns:
            rows = itertools.chain.from_iterable(
                connection.execute(query, params) for connection in self._shards.each()
            )
            issues = [StoredIssue(self._shards, *row) for row in rows if row[0] not in skip]
            return order_issues([*issues, *changed], order)

        def merge_key(item: Any) -> tuple[int, ...]:
            values = [
                -_order_value(item, term.field) if term.descending else _order_value(item, term.field) for term in order
            ]
            return (*values, int(item[0]) if isinstance(item, tuple) else int(item.id))

        rows = self._shards.ordered_rows(query, params, merge_key)
        if skip:
            rows = [row for row in rows if row[0] not in skip]
        return QueryResult(self._shards, list(heapq.merge(rows, changed, key=merge_key)) if changed else rows)

    def columns_of(self, issue_ids: list[str], column: str) -> dict[str, object]:
        """`column` (payload or changelog), decoded, of those of `issue_ids` that exist: one query per shard."""
        found: dict[str, object] = {
            issue_id: getattr(self.changed[issue_id], column) for issue_id in issue_ids if issue_id in self.changed
        }
        numbers = [
            int(issue_id)
            for issue_id in issue_ids
            if str(issue_id).isdigit() and issue_id not in found and issue_id not in self.removed
        ]
        for shard in range(SHARDS):
            wanted = [number for number in numbers if _issue_shard(number) == shard]
            for start in range(0, len(wanted), 900):
                chunk = wanted[start : start + 900]
                for issue_id, value in self._shards.connection(shard).execute(
                    f"select id, {column} from issues where id in ({','.join('?' * len(chunk))})", chunk
                ):
                    found[str(issue_id)] = msgspec.json.decode(value)
        return found

    def ids_by_key(self) -> dict[str, str]:
        return {
            key: str(issue_id)
            for connection in self._shards.each()
            for issue_id, key in connection.execute("select id, key from issues")
        }


class StoredWorklogs(_OverlaidTable):
    """Live worklogs by id, read from the shards."""

    table = "worklogs"

    def _shard_of(self, number: int) -> int:
        return _worklog_shard(number)

    def _read(self, number: int) -> StoredWorklog | None:
        query = "select id, issue_id, updated_ms from worklogs where id = ?"
        row = self._shards.one(query, _worklog_shard(number), number)
        return StoredWorklog(self._shards, *row) if row else None

    def _rows(self) -> Iterator[StoredWorklog]:
        for connection in self._shards.each():
            cursor = connection.execute("select id, issue_id, updated_ms from worklogs order by id")
            while rows := cursor.fetchmany(20_000):
                for row in rows:
                    yield StoredWorklog(self._shards, *row)

    def many(self, worklog_ids: list[int]) -> list[tuple[int, int, bytes]]:
        """(id, issue id, payload JSON) of those of `worklog_ids` that exist, in id order."""
        rows: list[tuple[int, int, bytes]] = [
            (
                worklog_id,
                int(self.changed[str(worklog_id)].issue_id),
                msgspec.json.encode(self.changed[str(worklog_id)].payload),
            )
            for worklog_id in worklog_ids
            if str(worklog_id) in self.changed
        ]
        on_disk = [
            worklog_id
            for worklog_id in worklog_ids
            if str(worklog_id) not in self.changed and str(worklog_id) not in self.removed
        ]
        for shard in range(SHARDS):
            wanted = [worklog_id for worklog_id in on_disk if _worklog_shard(worklog_id) == shard]
            for start in range(0, len(wanted), 900):
                chunk = wanted[start : start + 900]
                rows += self._shards.connection(shard).execute(
                    f"select id, issue_id, payload from worklogs where id in ({','.join('?' * len(chunk))})", chunk
                )
        return sorted(rows)

    def updated_feed(self) -> WorklogFeed:
        """(updated epoch ms, id) of every live worklog, in feed order: the files' index with this view's changes."""
        return WorklogFeed(
            self._shards.worklog_feed_index(),
            skip={int(worklog_id) for worklog_id in self.removed | self.changed.keys()},
            changed=sorted((epoch_millis(worklog.updated_at), int(worklog.id)) for worklog in self.changed.values()),
        )


class WorklogFeed:
    """The worklog/updated feed of a stored site: the (updated ms, id) index of each shard, read once, merged at
    each page with the worklogs changed since the store was opened (`skip` hides their version on disk)."""

    def __init__(
        self, shard_indexes: list[tuple[array, array]], skip: set[int], changed: list[tuple[int, int]]
    ) -> None:
        self._shard_indexes = shard_indexes
        self._skip = skip
        self._changed = changed

    def _from_shard(self, updated: array, ids: array, since: int) -> Iterator[tuple[int, int]]:
        skip = self._skip
        for position in range(bisect.bisect_left(updated, since), len(updated)):
            worklog_id = ids[position]
            if worklog_id not in skip:
                yield updated[position], worklog_id

    def page(self, since: int, settled_before: int, size: int) -> tuple[list[tuple[int, int]], bool]:
        """The first `size` entries from `since` up to `settled_before` (inclusive), and whether they are the last."""
        merged = heapq.merge(
            *(self._from_shard(updated, ids, since) for updated, ids in self._shard_indexes),
            self._changed[bisect.bisect_left(self._changed, (since,)) :],
        )
        settled = itertools.takewhile(lambda entry: entry[0] <= settled_before, merged)
        entries = list(itertools.islice(settled, size + 1))
        return entries[:size], len(entries) <= size


class StoredWorklogIdsByIssue(MutableMapping[str, list[str]]):
    """An issue's worklog ids, oldest first: read from the shards, and kept in memory once read or changed."""

    def __init__(self, shards: _Shards) -> None:
        self._shards = shards
        self._lists: dict[str, list[str]] = {}
        self._removed: set[str] = set()

    def fresh_view(self) -> StoredWorklogIdsByIssue:
        """The same lists without this view's changes."""
        return type(self)(self._shards)

    def __getitem__(self, issue_id: str) -> list[str]:
        issue_id = str(issue_id)
        if issue_id in self._lists:
            return self._lists[issue_id]
        if issue_id in self._removed or not issue_id.isdigit():
            raise KeyError(issue_id)
        number = int(issue_id)
        rows = (
            self._shards.connection(_issue_shard(number))
            .execute("select id from worklogs where issue_id = ? order by id", (number,))
            .fetchall()
        )
        if not rows:
            raise KeyError(issue_id)
        ids = self._lists[issue_id] = [str(worklog_id) for (worklog_id,) in rows]
        return ids

    def __setitem__(self, issue_id: str, worklog_ids: list[str]) -> None:
        self._lists[str(issue_id)] = worklog_ids
        self._removed.discard(str(issue_id))

    def __delitem__(self, issue_id: str) -> None:
        self[issue_id]
        del self._lists[str(issue_id)]
        self._removed.add(str(issue_id))

    def __iter__(self) -> Iterator[str]:
        seen = set()
        for connection in self._shards.each():
            for (issue_id,) in connection.execute("select distinct issue_id from worklogs"):
                key = str(issue_id)
                if key not in self._removed:
                    seen.add(key)
                    yield key
        yield from (key for key in self._lists if key not in seen)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class StoredJiraSite(JiraSite):
    """A `JiraSite` read from a generated store: indexes in memory, payloads on disk."""

    def __init__(self, directory: Path, people: list[Person]) -> None:
        shards = _Shards(directory)
        shards.warm()
        projects, boards, sprints = [], [], []
        histories = 0
        rows = sorted(
            row
            for connection in shards.each()
            for row in connection.execute("select position, payload, board, sprints, histories from projects")
        )
        for _, project, board, project_sprints, project_histories in rows:
            projects.append(msgspec.json.decode(project))
            boards.append(msgspec.json.decode(board))
            sprints += msgspec.json.decode(project_sprints)
            histories += project_histories
        deleted = sorted(
            (
                JiraDeletedWorklog(str(worklog_id), _millis_to_datetime(deleted_ms))
                for connection in shards.each()
                for worklog_id, deleted_ms in connection.execute("select id, deleted_ms from deleted_worklogs")
            ),
            key=lambda entry: (entry.deleted_at, int(entry.worklog_id)),
        )
        super().__init__(
            projects=projects,
            **jira_reference_data(),
            users=jira_users(people),
            boards=boards,
            sprints=sprints,
            issues=StoredIssues(shards),  # type: ignore[arg-type]
            worklogs=StoredWorklogs(shards),  # type: ignore[arg-type]
            deleted_worklogs=deleted,
        )
        self.directory = directory
        self.shards = shards
        self.changelog_histories = histories
        self.worklog_ids_by_issue = StoredWorklogIdsByIssue(shards)

    def issue(self, id_or_key: str) -> StoredIssue:
        issues: StoredIssues = self.issues  # type: ignore[assignment]
        if id_or_key in issues:
            return issues[id_or_key]
        for connection in self.shards.each():
            row = connection.execute(f"select {_ISSUE_COLUMNS} from issues where key = ?", (id_or_key,)).fetchone()
            if row:
                return StoredIssue(self.shards, *row)
        raise KeyError(id_or_key)

    def next_history_id(self) -> int:
        """An id above every generated history's (each project has a range of its own)."""
        return 100000 + len(self.projects) * HISTORIES_PER_PROJECT

    def max_id(self, table: str) -> int:
        return max(
            connection.execute(f"select coalesce(max(id), 0) from {table}").fetchone()[0]
            for connection in self.shards.each()
        )


def open_jira_store(
    config: WorldConfig,
    profile: ScaleProfile,
    anchor: datetime,
    people: list[Person],
    projects: list[Project],
    *,
    root: Path | None = None,
) -> StoredJiraSite:
    """The stored Jira site of `config`, generated first unless a complete one is already on disk."""
    directory = store_directory(config, root)
    if not (directory / "complete").exists():
        generate_store(directory, config, profile, anchor, people, projects)
    return StoredJiraSite(directory, people)
