"""Landing records: each tool's real connector end to end, and a raw COPY of the very same records.

The connector runs in a process of its own (`bench.extract`) against the tool's simulator served
from this process, so the two do not share an interpreter lock and the extract's peak memory is its own.
The limit is one `COPY` of the records the connector landed, serialised beforehand exactly as the
connector serialises them (compact JSON), into a table made like the raw table (same columns,
jsonb payload, primary key): what this machine's PostgreSQL takes from a single stream when the
client has no work left to do.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from bench.child import PROJECT_ROOT, child_env, last_json_line
from bench.extract import ASANA_TOKEN, JIRA_EMAIL, JIRA_TOKEN, SMARTSHEET_TOKEN, TOOLS
from simulators.asana import AsanaSimulator
from simulators.jira import JiraSimulator
from simulators.smartsheet import SmartsheetSimulator
from simulators.world import World, WorldConfig, build_world
from warehouse.embedded import EmbeddedWarehouse

# Per tool, the streams whose size grows with the site; the others (Jira's fields, users and projects,
# Asana's workspace and portfolios, Smartsheet's sheet list) are a handful of rows each.
VOLUME_STREAMS: dict[str, tuple[str, ...]] = {
    "jira": ("issues", "worklogs", "issue_changelogs"),
    "asana": ("sections", "tasks", "time_entries", "status_updates"),
    "smartsheet": ("register_rows", "rate_card_rows", "plan_rows"),
}
COPY_CHUNK_BYTES = 1 << 20
# The sampling profiler behind `--profile-dir` (a dev dependency, installed by `make install`).
PY_SPY = Path(sys.executable).parent / "py-spy"


def create_database(server: EmbeddedWarehouse, name: str) -> str:
    """A new, empty database on the bench's server (dropped first if a run left one); returns its URL."""
    return server.fresh_database(name)


@dataclass
class Sites:
    """A world and the simulators serving it from this process (those of the tools asked for)."""

    world: World
    jira: JiraSimulator | None = None
    asana: AsanaSimulator | None = None
    smartsheet: SmartsheetSimulator | None = None

    def url(self, tool: str) -> str:
        if tool == "jira":
            return self.jira.url
        if tool == "asana":
            return self.asana.api_url
        return self.smartsheet.base_url

    def extract_options(self, tool: str) -> list[str]:
        """What `bench.extract` needs besides the URL to reach the tool's data."""
        if tool != "smartsheet":
            return []
        account = self.smartsheet.account
        return [
            "--register-sheet-id",
            str(account.register_sheet_id),
            "--rate-card-sheet-id",
            str(account.rate_card_sheet_id),
        ]


@contextmanager
def tool_sites(scale: str, tools: tuple[str, ...] = TOOLS) -> Iterator[Sites]:
    """The world of a scale and a simulator of each of `tools` serving it from this process."""
    world = build_world(WorldConfig(scale=scale))
    with ExitStack() as stack:
        sites = Sites(world)
        if "jira" in tools:
            sites.jira = stack.enter_context(JiraSimulator(world, email=JIRA_EMAIL, api_token=JIRA_TOKEN))
        if "asana" in tools:
            sites.asana = stack.enter_context(AsanaSimulator(world, token=ASANA_TOKEN))
        if "smartsheet" in tools:
            sites.smartsheet = stack.enter_context(SmartsheetSimulator(world, token=SMARTSHEET_TOKEN))
        yield sites


@dataclass
class ExtractRun:
    """What one extract process reports: per-stream results, wall time and peak RSS."""

    results: dict[str, dict]
    seconds: float
    peak_rss_bytes: int
    started_at: float = 0.0
    finished_at: float = 0.0

    @classmethod
    def best_of(cls, runs: list[ExtractRun]) -> ExtractRun:
        """Each stream's fastest run (machines shared with other work are noisy), and the highest peak RSS."""
        results = {
            stream: min((run.results[stream] for run in runs), key=lambda result: result["seconds"])
            for stream in runs[0].results
        }
        return cls(results, min(run.seconds for run in runs), max(run.peak_rss_bytes for run in runs))

    def records(self, stream: str) -> int:
        return int(self.results[stream]["records"])

    def stream_seconds(self, stream: str) -> float:
        return float(self.results[stream]["seconds"])


def run_extract(
    sites: Sites,
    tool: str,
    warehouse_url: str,
    *,
    instance: str = "bench",
    incremental: bool = False,
    one_stream_at_a_time: bool = False,
    profile_svg: Path | None = None,
) -> ExtractRun:
    """Run every stream of `tool` in a child process, as a full refresh or (`incremental`) from the saved
    state; with `one_stream_at_a_time`, no stream beside another (each stream's seconds are then its
    own); with `profile_svg`, under py-spy."""
    command = [
        sys.executable,
        "-m",
        "bench.extract",
        "--tool",
        tool,
        "--url",
        sites.url(tool),
        "--warehouse-url",
        warehouse_url,
        "--instance",
        instance,
        *sites.extract_options(tool),
    ]
    if incremental:
        command.append("--incremental")
    if one_stream_at_a_time:
        command.append("--one-stream-at-a-time")
    if profile_svg is not None:
        command = [str(PY_SPY), "record", "--rate", "250", "--subprocesses", "-o", str(profile_svg), "--", *command]
    completed = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False, env=child_env())
    if completed.returncode != 0:
        raise RuntimeError(f"the {tool} extract failed (exit {completed.returncode}):\n{completed.stderr[-4000:]}")
    report = last_json_line(completed.stdout)
    return ExtractRun(
        results={result["stream"]: result for result in report["results"]},
        seconds=report["seconds"],
        peak_rss_bytes=report["peak_rss_bytes"],
        started_at=report["started_at"],
        finished_at=report["finished_at"],
    )


def run_extracts_side_by_side(
    sites: Sites, tools: tuple[str, ...], warehouse_url: str, *, incremental: bool = False
) -> dict[str, ExtractRun]:
    """Run the extracts of `tools` at once, each in its process, as the nightly DAG's extract tasks run
    under a scheduler; returns each tool's run."""
    with ThreadPoolExecutor(max_workers=len(tools)) as pool:
        started = {
            tool: pool.submit(run_extract, sites, tool, warehouse_url, incremental=incremental) for tool in tools
        }
        return {tool: run.result() for tool, run in started.items()}


def extracts_span(runs: dict[str, ExtractRun]) -> float:
    """The seconds from the first of `runs` to start to the last to finish (0 when there are none)."""
    if not runs:
        return 0.0
    return max(run.finished_at for run in runs.values()) - min(run.started_at for run in runs.values())


@dataclass
class CopyLimit:
    table: str
    records: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def copy_limit(warehouse_url: str, tool: str, stream: str, *, instance: str = "bench") -> CopyLimit:
    """One single-stream COPY of the records landed in `raw.<tool>_<stream>` into a table made like it."""
    table = f"{tool}_{stream}"
    source = sql.Identifier("raw", table)
    target = sql.Identifier("bench_limit", table)
    with psycopg.connect(warehouse_url) as connection:
        rows = connection.execute(
            sql.SQL("select record_id, cursor_value, payload::text from {} where source_instance = %s").format(source),
            (instance,),
        ).fetchall()
        connection.execute("create schema if not exists bench_limit")
        connection.execute(sql.SQL("drop table if exists {}").format(target))
        connection.execute(sql.SQL("create table {} (like {} including all)").format(target, source))
        connection.commit()
        chunks = _copy_text_chunks(rows, instance)
        del rows
        started = time.perf_counter()
        columns = "source_instance, record_id, cursor_value, batch_id, loaded_at, payload"
        with connection.cursor().copy(sql.SQL("copy {} ({}) from stdin").format(target, sql.SQL(columns))) as copy:
            for chunk in chunks:
                copy.write(chunk)
        connection.commit()
        seconds = time.perf_counter() - started
        records = connection.execute(sql.SQL("select count(*) from {}").format(target)).fetchone()[0]
        connection.execute(sql.SQL("drop table {}").format(target))
        connection.commit()
    return CopyLimit(table, records, seconds)


def _copy_text_chunks(rows: list[tuple[str, str | None, str]], instance: str) -> list[bytes]:
    """COPY text-format lines, the payload re-serialised compactly as the connector sends it."""
    batch_id = str(uuid.uuid4())
    loaded_at = datetime.now(UTC).isoformat()
    chunks: list[bytes] = []
    lines: list[str] = []
    size = 0
    for record_id, cursor_value, payload in rows:
        compact = json.dumps(json.loads(payload), ensure_ascii=False, separators=(",", ":"))
        line = "\t".join(
            (
                _copy_escape(instance),
                _copy_escape(record_id),
                "\\N" if cursor_value is None else _copy_escape(cursor_value),
                batch_id,
                loaded_at,
                _copy_escape(compact),
            )
        )
        lines.append(line)
        size += len(line)
        if size >= COPY_CHUNK_BYTES:
            chunks.append(("\n".join(lines) + "\n").encode())
            lines, size = [], 0
    if lines:
        chunks.append(("\n".join(lines) + "\n").encode())
    return chunks


def _copy_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


@dataclass
class Landing:
    """The best of each tool's landings, stream by stream, and the raw COPY of each stream's records."""

    extracts: dict[str, ExtractRun]
    limits: dict[tuple[str, str], CopyLimit]
    warehouse_url: str


def measure_landing(
    server: EmbeddedWarehouse,
    sites: Sites,
    tools: tuple[str, ...],
    repeat: int,
    *,
    profile_svg: Callable[[str], Path | None] | None = None,
    each_round: Callable[[], None] | None = None,
) -> Landing:
    """Each tool's streams landed one at a time, and the single-stream COPY of the same records, in
    `repeat` rounds, each into a new database; the best of each side is kept.

    A round lands every tool, then COPYs each stream's records from that round's database, then
    calls `each_round` (the peer's run): every side's best comes from the same stretch of the
    machine's time, so a machine whose speed drifts during the bench (a shared one) does not favour
    the side that happened to be measured last."""
    runs: dict[str, list[ExtractRun]] = {tool: [] for tool in tools}
    copies: dict[tuple[str, str], list[CopyLimit]] = {
        (tool, stream): [] for tool in tools for stream in VOLUME_STREAMS[tool]
    }
    landing_url = ""
    for attempt in range(repeat):
        landing_url = create_database(server, "bench_landing")
        for tool in tools:
            svg = profile_svg(tool) if profile_svg and attempt == 0 else None
            runs[tool].append(run_extract(sites, tool, landing_url, one_stream_at_a_time=True, profile_svg=svg))
        for (tool, stream), stream_copies in copies.items():
            stream_copies.append(copy_limit(landing_url, tool, stream))
        if each_round is not None:
            each_round()
    limits = {key: min(stream_copies, key=lambda copy: copy.seconds) for key, stream_copies in copies.items()}
    return Landing({tool: ExtractRun.best_of(tool_runs) for tool, tool_runs in runs.items()}, limits, landing_url)
