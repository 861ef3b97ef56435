"""`python -m bench.run`: the pipeline against this machine's limit and a peer, in one run, as one table.

On a private PostgreSQL (a free port, a temporary data directory, stopped at the end) and Jira,
Asana and Smartsheet simulators served from this process, it measures:

- **landing**: records a second of each stream of each tool through the real connector, next to
  one raw `COPY` of the very same records into a table made like the raw table (the machine's limit);
- **peer**: the Jira API pulled into the same PostgreSQL by dlt, with its fastest settings, as many
  times as the landing runs (the best of each side is compared);
- **refresh**: a full refresh's wall time by phase: each tool's extract and load (the three side
  by side, as the nightly DAG's extract tasks run), then `dbt build` layer by layer (seeds,
  staging, intermediate, marts);
- **night**: after 1% of the items and time entries changed, the tools' incremental extracts side
  by side and one `dbt build`, as a night runs them, against the full refresh; then the same night
  again with nothing changed, what a night costs whatever changed; each time the extracts run side
  by side (the full refresh's too), the CPU they took by kind of process (`bench.cpu`);
- **memory**: the extract's and the dbt build's peak RSS at the demo size and at the larger ones;
- **parse**: the DAG folder's parse time, with the dbt manifest in place;
- **enterprise** (`--enterprise`): a full refresh of the enterprise world (2,050 projects, about
  500,000 work items, 2,000,000 time entries and 3,000,000 status changes) by phase, with the rows
  the marts then hold, against a 30-minute budget; before it, the Asana and Smartsheet landing
  again at that size, where their streams hold more than a few hundred records (Jira's landing is
  measured at the landing size only: its enterprise extract takes minutes a run).

The table is printed and written, with the machine and the date, to `--out` (markdown).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from bench.cpu import CpuTimes
from bench.dbt_layers import LAYERS, DbtBuild, measure_dbt_build
from bench.extract import JIRA_EMAIL, JIRA_TOKEN, TOOLS
from bench.landing import (
    PY_SPY,
    VOLUME_STREAMS,
    CopyLimit,
    ExtractRun,
    Landing,
    create_database,
    extracts_span,
    measure_landing,
    run_extract,
    tool_sites,
)
from bench.night import describe_window
from bench.parse import measure_parse
from bench.peer import PEER_STREAMS, PeerRun, run_dlt
from bench.refresh import Refresh, measure_refresh
from bench.space import shortfalls, space_needs
from connectors.jira.settings import CUSTOM_FIELD_NAMES, ISSUE_FIELDS
from simulators.world import SCALES, World
from warehouse.embedded import database_locale, running_settings, throwaway_warehouse

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = PROJECT_ROOT / "bench" / "results.md"
LANDING_TARGET = 0.6
PEER_TARGET = 5.0
MEMORY_TARGET = 1.5
NIGHT_TARGET = 0.1
ENTERPRISE_TARGET_MINUTES = 30
# Jira's enterprise extract takes minutes a run: its landing is measured at the landing size only
ENTERPRISE_LANDING_TOOLS = ("asana", "smartsheet")
ENTERPRISE_MARTS = ("dim_project", "fct_work_items", "fct_time_entries", "fct_status_changes", "fct_project_daily")
MIB = 1024 * 1024


@dataclass
class Row:
    section: str
    measure: str
    value: str
    reference: str = ""
    ratio: str = ""
    target: str = ""


def rate(records: int, seconds: float) -> float:
    return records / seconds if seconds > 0 else 0.0


def format_rate(records: int, seconds: float) -> str:
    return f"{rate(records, seconds):,.0f} rec/s ({records:,} in {seconds:.2f} s)"


def landing_rows(
    tool: str, extract: ExtractRun, limits: dict[tuple[str, str], CopyLimit], section: str = "landing"
) -> list[Row]:
    rows = []
    streams = VOLUME_STREAMS[tool]
    for stream in streams:
        records, seconds = extract.records(stream), extract.stream_seconds(stream)
        limit = limits[(tool, stream)]
        rows.append(
            Row(
                section,
                f"{tool} {stream}",
                format_rate(records, seconds),
                f"raw COPY {format_rate(limit.records, limit.seconds)}",
                f"{rate(records, seconds) / limit.rate:.2f}" if limit.rate else "n/a",
                f">= {LANDING_TARGET}",
            )
        )
    records = sum(extract.records(stream) for stream in streams)
    seconds = sum(extract.stream_seconds(stream) for stream in streams)
    limit_records = sum(limits[(tool, stream)].records for stream in streams)
    limit_seconds = sum(limits[(tool, stream)].seconds for stream in streams)
    ratio = rate(records, seconds) / rate(limit_records, limit_seconds) if limit_seconds else 0.0
    rows.append(
        Row(
            section,
            f"{tool}, the {len(streams)} streams above",
            format_rate(records, seconds),
            f"raw COPY {format_rate(limit_records, limit_seconds)}",
            f"{ratio:.2f}",
            f">= {LANDING_TARGET}",
        )
    )
    return rows


def peer_row(extract: ExtractRun, peer: PeerRun | None, skipped_because: str = "") -> Row:
    records = sum(extract.records(stream) for stream in PEER_STREAMS)
    seconds = sum(extract.stream_seconds(stream) for stream in PEER_STREAMS)
    ours = f"ours {format_rate(records, seconds)}"
    measure = "dlt, jira issues + worklogs (csv/COPY, jsonb payload)"
    if peer is None:
        return Row("peer", measure, f"skipped ({skipped_because})", ours, "n/a", f">= {PEER_TARGET:g}x")
    return Row(
        "peer",
        measure.replace("dlt", f"dlt {peer.version}", 1),
        f"dlt {format_rate(peer.total_records, peer.seconds)}",
        ours,
        f"{rate(records, seconds) / peer.rate:.2f}x" if peer.rate else "n/a",
        f">= {PEER_TARGET:g}x",
    )


def memory_rows(peaks: dict[str, tuple[int, World]], dbt_peaks: dict[str, int]) -> list[Row]:
    rows = []
    # sizes are compared with the demo's (a test's smaller world excepted)
    smallest = "demo" if "demo" in peaks else min(peaks, key=lambda scale: SCALES[scale].jira_issues)
    for scale, (peak, world) in sorted(peaks.items(), key=lambda item: SCALES[item[0]].jira_issues):
        size = f"{len(world.jira.issues):,} issues, {len(world.jira.worklogs):,} worklogs"
        row = Row("memory", f"extract peak RSS, {scale} ({size})", f"{peak / MIB:,.0f} MiB")
        if scale != smallest:
            base = peaks[smallest][0]
            row.reference = f"{smallest}: {base / MIB:,.0f} MiB"
            row.ratio = f"{peak / base:.2f}"
            row.target = f"<= {MEMORY_TARGET}"
        rows.append(row)
    ordered = sorted(dbt_peaks, key=lambda scale: (scale != "demo", SCALES[scale].jira_issues))
    for scale in ordered:
        row = Row("memory", f"dbt build peak RSS, {scale} (largest phase)", f"{dbt_peaks[scale] / MIB:,.0f} MiB")
        if scale != ordered[0]:
            row.reference = f"{ordered[0]}: {dbt_peaks[ordered[0]] / MIB:,.0f} MiB"
            row.ratio = f"{dbt_peaks[scale] / dbt_peaks[ordered[0]]:.2f}"
        rows.append(row)
    return rows


@dataclass
class Enterprise:
    """The enterprise world's full refresh, and what it put in the marts."""

    world: World
    world_seconds: float
    generated: str
    refresh: Refresh
    mart_rows: dict[str, int | None]
    landing: Landing


def measure_enterprise(
    server, scale: str, *, skip_dbt: bool, repeat: int = 1, dbt_results_dir: Path | None = None
) -> Enterprise:
    """Build (or reuse) the world of a streamed `scale`, land its Asana and Smartsheet streams `repeat`
    times, and run a full refresh of it on a database of its own."""
    log(f"enterprise: the {scale} world (its Jira site is generated on disk the first time, then reused)")
    started = time.monotonic()
    with tool_sites(scale) as sites:
        world_seconds = time.monotonic() - started
        world = sites.world
        marker = world.jira.directory / "complete"
        generated = dict(line.split(" ", 1) for line in marker.read_text().splitlines())
        log(f"enterprise: landing {', '.join(ENTERPRISE_LANDING_TOOLS)}")
        landing = measure_landing(server, sites, ENTERPRISE_LANDING_TOOLS, repeat)
        url = create_database(server, "bench_enterprise")
        refresh = measure_refresh(
            sites,
            url,
            world.config.anchor_date.isoformat(),
            with_dbt=not skip_dbt,
            results_dir=dbt_results_dir,
            results_prefix=f"{scale}-",
            log=lambda message: log(f"enterprise: {message}"),
        )
    mart_rows = {} if skip_dbt else count_mart_rows(url, ENTERPRISE_MARTS)
    return Enterprise(world, world_seconds, generated["seconds"], refresh, mart_rows, landing)


def count_mart_rows(warehouse_url: str, marts: Collection[str]) -> dict[str, int | None]:
    """The rows of each of `marts`; None for a mart the builds never made (their failures are in the
    table's dbt rows), so that the run still writes its table."""
    counts: dict[str, int | None] = {}
    with psycopg.connect(warehouse_url) as connection:
        for mart in marts:
            if connection.execute("select to_regclass(%s) is null", (f"marts.{mart}",)).fetchone()[0]:
                counts[mart] = None
            else:
                count = sql.SQL("select count(*) from {}").format(sql.Identifier("marts", mart))
                counts[mart] = connection.execute(count).fetchone()[0]
    return counts


def marts_row(mart_rows: dict[str, int | None]) -> Row:
    """The marts' rows after the enterprise night; a mart no build made is named as such."""
    sizes = (f"{mart} {count:,}" if count is not None else f"{mart} not built" for mart, count in mart_rows.items())
    return Row("enterprise", "marts, after the night", ", ".join(sizes))


def enterprise_rows(enterprise: Enterprise) -> list[Row]:
    world = enterprise.world
    site = world.jira
    rows = [
        Row(
            "enterprise",
            "world served",
            f"{len(world.projects):,} projects ({len(world.register_projects()):,} in the register), "
            f"{len(site.issues):,} Jira issues, {len(site.worklogs):,} Jira worklogs, "
            f"{site.changelog_histories:,} Jira changelog histories",
            f"ready in {enterprise.world_seconds:.0f} s (Jira site generated once in {enterprise.generated} s)",
        )
    ]
    landing = enterprise.landing
    for tool in ENTERPRISE_LANDING_TOOLS:
        rows += landing_rows(tool, landing.extracts[tool], landing.limits, section="enterprise landing")
    refresh = enterprise.refresh
    skipped = "--skip-dbt" if not refresh.dbt_phases else ""
    for row in refresh_rows(refresh, skipped):
        row.section = "enterprise"
        if row.measure.startswith("full refresh, every phase"):
            minutes = refresh.seconds / 60
            row.value = f"{minutes:.1f} min ({refresh.seconds:.0f} s)"
            row.reference = f"{row.reference}; budget {ENTERPRISE_TARGET_MINUTES} min"
            row.ratio = f"{minutes / ENTERPRISE_TARGET_MINUTES:.2f}"
            row.target = "< 1"
        rows.append(row)
    if enterprise.mart_rows:
        rows.append(marts_row(enterprise.mart_rows))
    for row in night_rows(refresh, skipped):
        row.section = "enterprise night"
        rows.append(row)
    return rows


def parse_row() -> Row:
    measure = "DAG folder (one DagBag, dbt manifest present)"
    try:
        parsed = measure_parse()
    except RuntimeError as error:
        log(str(error))
        return Row("parse", measure, f"failed: {str(error).splitlines()[0]}")
    return Row(
        "parse",
        measure,
        f"{parsed.dagbag_seconds:.2f} s ({parsed.dags} DAG, {parsed.tasks} tasks, {parsed.import_errors} errors)",
        f"dbt parse {parsed.dbt_parse_seconds:.1f} s",
    )


def records_of(run: ExtractRun) -> int:
    return sum(int(result["records"]) for result in run.results.values())


def dbt_outcome(build: DbtBuild) -> str:
    outcome = f"{len(build.failures)} failed: {', '.join(build.failures)}" if build.failures else "all passed"
    return f"{build.seconds:.1f} s wall, dbt's own CPU {build.cpu_seconds:.1f} s ({build.nodes} nodes, {outcome})"


def refresh_rows(refresh: Refresh, skipped_because: str = "") -> list[Row]:
    rows = []
    for tool, run in refresh.extracts.items():
        rows.append(
            Row(
                "refresh",
                f"extract + load {tool}, full",
                f"{run.seconds:.1f} s ({records_of(run):,} records)",
                f"peak RSS {run.peak_rss_bytes / MIB:,.0f} MiB",
            )
        )
    rows.append(extracts_side_by_side_row("refresh", refresh.extracts))
    rows += extracts_cpu_rows("refresh", "", refresh.extracts_cpu)
    if skipped_because:
        rows.append(Row("refresh", "dbt build, layer by layer", f"skipped ({skipped_because})"))
    for phase, build in refresh.dbt_phases.items():
        rows.append(
            Row("refresh", f"dbt {phase}", dbt_outcome(build), f"peak RSS {build.peak_rss_bytes / MIB:,.0f} MiB")
        )
    dbt_seconds = sum(build.seconds for build in refresh.dbt_phases.values())
    rows.append(
        Row(
            "refresh",
            "full refresh, every phase" + (" but dbt" if skipped_because else ""),
            f"{refresh.seconds:.1f} s",
            f"extract + load {refresh.extracts_seconds:.1f} s, dbt {dbt_seconds:.1f} s",
        )
    )
    return rows


def extracts_side_by_side_row(section: str, runs: dict[str, ExtractRun]) -> Row:
    """The tools' extracts run at once: their span, from the first start to the last finish."""
    own = sum(run.seconds for run in runs.values())
    return Row(
        section,
        f"extract + load, the {len(runs)} tools side by side",
        f"{extracts_span(runs):.1f} s from the first start to the last finish",
        f"{own:.1f} s one after another",
    )


def extracts_cpu_rows(section: str, prefix: str, cpu: CpuTimes | None) -> list[Row]:
    """The CPU the extracts side by side took, by kind of process, against the cores of the wall time
    it was read over, from before the processes started to after the last ended (none when not read)."""
    if cpu is None:
        return []
    cores = os.cpu_count() or 1
    busy = cpu.total / cpu.wall if cpu.wall > 0 else 0.0
    return [
        Row(
            section,
            f"{prefix}CPU of the extracts side by side",
            f"{cpu.total:.1f} s in {cpu.wall:.1f} s ({busy:.1f} of {cores} cores): simulators {cpu.simulators:.1f} s,"
            f" extract processes {cpu.extracts:.1f} s, PostgreSQL {cpu.warehouse:.1f} s",
            "the simulators do the tools' servers' work",
        )
    ]


def night_rows(refresh: Refresh, skipped_because: str = "") -> list[Row]:
    changed = ", ".join(f"{count:,} {kind}" for kind, count in refresh.changes.counts.items())
    rows = [
        Row(
            "night",
            "warehouse settled after the full refresh (vacuum, analyze, checkpoint)",
            f"{refresh.settle_seconds:.1f} s, not counted",
            "a day's autovacuum and checkpoints",
        ),
        Row(
            "night",
            "changes (1% of items and time entries, a few deletes and new items)",
            changed,
            f"edited over {describe_window(refresh.changes.window)} before the night",
        ),
    ]
    for tool, run in refresh.night_extracts.items():
        full = refresh.extracts[tool].seconds
        deleted = sum(int(result.get("deleted") or 0) for result in run.results.values())
        rows.append(
            Row(
                "night",
                f"extract + load {tool}, incremental",
                f"{run.seconds:.1f} s ({records_of(run):,} records, {deleted:,} deleted)",
                f"full {full:.1f} s",
                f"{run.seconds / full:.2f}" if full else "n/a",
            )
        )
    rows.append(extracts_side_by_side_row("night", refresh.night_extracts))
    rows += extracts_cpu_rows("night", "", refresh.night_extracts_cpu)
    if refresh.night_dbt is None:
        rows.append(Row("night", "dbt build", f"skipped ({skipped_because})"))
    else:
        full = sum(build.seconds for build in refresh.dbt_phases.values())
        rows.append(
            Row(
                "night",
                "dbt build",
                dbt_outcome(refresh.night_dbt),
                f"full {full:.1f} s",
                f"{refresh.night_dbt.seconds / full:.2f}" if full else "n/a",
            )
        )
        layers = refresh.night_dbt.layer_seconds
        ordered = [layer for layer in ("seeds", *LAYERS) if layer in layers] + sorted(set(layers) - {"seeds", *LAYERS})
        for layer in ordered:
            rows.append(Row("night", f"dbt layer {layer}", f"{layers[layer]:.1f} s of node time (threads overlap)"))
        slowest = ", ".join(f"{node.split('.')[2]} {seconds:.1f} s" for node, seconds in refresh.night_dbt.slowest(6))
        rows.append(Row("night", "dbt slowest nodes", slowest))
    rows.append(
        whole_night_row(
            "incremental night, every phase", refresh.night_seconds, refresh, skipped_because, f"<= {NIGHT_TARGET}"
        )
    )
    if refresh.quiet_extracts:
        rows += quiet_night_rows(refresh, skipped_because)
    return rows


def quiet_night_rows(refresh: Refresh, skipped_because: str = "") -> list[Row]:
    """The same night again with nothing changed in the tools: what a night costs whatever changed."""
    read = {tool: records_of(run) for tool, run in refresh.quiet_extracts.items()}
    by_tool = ", ".join(f"{tool} {records:,}" for tool, records in read.items())
    rows = [
        Row(
            "night",
            f"nothing changed since: extract + load, the {len(refresh.quiet_extracts)} tools side by side",
            f"{extracts_span(refresh.quiet_extracts):.1f} s ({sum(read.values()):,} records read: {by_tool})",
            f"the night's {refresh.night_extracts_seconds:.1f} s",
        ),
        *extracts_cpu_rows("night", "nothing changed since: ", refresh.quiet_extracts_cpu),
    ]
    if refresh.quiet_dbt is None:
        rows.append(Row("night", "nothing changed since: dbt build", f"skipped ({skipped_because})"))
    else:
        rows.append(
            Row(
                "night",
                "nothing changed since: dbt build",
                dbt_outcome(refresh.quiet_dbt),
                f"the night's {refresh.night_dbt.seconds:.1f} s",
            )
        )
    whole = whole_night_row("nothing changed since, every phase", refresh.quiet_seconds, refresh, skipped_because)
    whole.value += f" (settled first: {refresh.quiet_settle_seconds:.1f} s, not counted)"
    rows.append(whole)
    return rows


def whole_night_row(measure: str, seconds: float, refresh: Refresh, skipped_because: str, target: str = "") -> Row:
    """A night's every phase against the full refresh's."""
    ratio = seconds / refresh.seconds if refresh.seconds else 0.0
    return Row(
        "night",
        measure + (" but dbt" if skipped_because else ""),
        f"{seconds:.1f} s",
        f"full refresh {refresh.seconds:.1f} s",
        f"{ratio:.2f}",
        target,
    )


def render_table(rows: list[Row]) -> str:
    header = ("section", "measure", "value", "reference", "ratio", "target")
    cells = [header, *[(r.section, r.measure, r.value, r.reference, r.ratio, r.target) for r in rows]]
    widths = [max(len(line[index]) for line in cells) for index in range(len(header))]

    def line(values: tuple[str, ...]) -> str:
        return "| " + " | ".join(value.ljust(width) for value, width in zip(values, widths, strict=True)) + " |"

    separator = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(cells[0]), separator, *[line(values) for values in cells[1:]]])


def machine_lines(warehouse_url: str) -> list[str]:
    with psycopg.connect(warehouse_url) as connection:
        server = connection.execute("show server_version").fetchone()[0]
        running = ", ".join(f"{name} {value}" for name, value in running_settings(connection).items())
        locale = " ".join(database_locale(connection))
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return [
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {cpu_model()}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, {platform.platform()}",
        f"- Python {platform.python_version()}, PostgreSQL {server} (embedded: {running}; databases' locale {locale})",
    ]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def issue_fields(world: World) -> list[str]:
    custom = [field["id"] for field in world.jira.fields if field.get("name") in CUSTOM_FIELD_NAMES]
    return [*ISSUE_FIELDS, *custom]


def run(
    scale: str,
    memory_scales: list[str],
    out: Path | None,
    *,
    repeat: int = 1,
    skip_dlt: bool = False,
    skip_dbt: bool = False,
    profile_dir: Path | None = None,
    enterprise: str | None = None,
    dbt_results_dir: Path | None = None,
) -> str:
    started = time.monotonic()
    rows: list[Row] = []
    peaks: dict[str, tuple[int, World]] = {}
    dbt_peaks: dict[str, int] = {}
    enterprise_run: Enterprise | None = None
    with throwaway_warehouse(prefix="pmo-bench-warehouse-") as server:
        with tool_sites(scale) as sites:
            world = sites.world
            log(f"landing: {scale} world, {len(world.jira.issues):,} issues, {len(world.jira.worklogs):,} worklogs")
            peer_runs: list[PeerRun] = []

            def run_peer() -> None:
                # one run a round of the landing, each into a new database, so that both sides get their best
                log(f"peer: dlt, run {len(peer_runs) + 1} of {repeat}")
                peer_runs.append(
                    run_dlt(
                        sites.url("jira"),
                        create_database(server, "bench_peer"),
                        email=JIRA_EMAIL,
                        token=JIRA_TOKEN,
                        fields=issue_fields(world),
                    )
                )

            landing = measure_landing(
                server,
                sites,
                TOOLS,
                repeat,
                profile_svg=(lambda tool: profile_dir / f"extract-{tool}-{scale}.svg") if profile_dir else None,
                each_round=None if skip_dlt else run_peer,
            )
            extracts = landing.extracts
            peaks[scale] = (extracts["jira"].peak_rss_bytes, world)
            for tool in TOOLS:
                rows += landing_rows(tool, extracts[tool], landing.limits)
            peer = PeerRun.best_of(peer_runs) if peer_runs else None
            rows.append(peer_row(extracts["jira"], peer, "--skip-dlt"))
            machine = machine_lines(landing.warehouse_url)
            refresh = measure_refresh(
                sites,
                create_database(server, "bench_refresh"),
                world.config.anchor_date.isoformat(),
                with_dbt=not skip_dbt,
                results_dir=dbt_results_dir,
                results_prefix=f"{scale}-",
                log=log,
            )
            skipped_dbt = "--skip-dbt" if skip_dbt else ""
            rows += refresh_rows(refresh, skipped_dbt)
            rows += night_rows(refresh, skipped_dbt)
            if refresh.dbt_phases:
                dbt_peaks[scale] = max(build.peak_rss_bytes for build in refresh.dbt_phases.values())
        for memory_scale in memory_scales:
            if memory_scale in peaks:
                continue
            log(f"memory: {memory_scale} world")
            with tool_sites(memory_scale) as memory_sites:
                url = create_database(server, f"bench_memory_{memory_scale}")
                peaks[memory_scale] = (run_extract(memory_sites, "jira", url).peak_rss_bytes, memory_sites.world)
                if not skip_dbt:
                    for tool in TOOLS[1:]:
                        run_extract(memory_sites, tool, url)
                    run_date = memory_sites.world.config.anchor_date.isoformat()
                    dbt_peaks[memory_scale] = measure_dbt_build(url, run_date).peak_rss_bytes
        if enterprise:
            enterprise_run = measure_enterprise(
                server, enterprise, skip_dbt=skip_dbt, repeat=repeat, dbt_results_dir=dbt_results_dir
            )
            peaks[enterprise] = (enterprise_run.refresh.extracts["jira"].peak_rss_bytes, enterprise_run.world)
            if enterprise_run.refresh.dbt_phases:
                phases = enterprise_run.refresh.dbt_phases.values()
                dbt_peaks[enterprise] = max(build.peak_rss_bytes for build in phases)
    memory_order = dict.fromkeys([scale, *memory_scales, *([enterprise] if enterprise else [])])
    rows += memory_rows({name: peaks[name] for name in memory_order}, dbt_peaks)
    if enterprise_run is not None:
        rows += enterprise_rows(enterprise_run)
    log("parse: DAG folder")
    rows.append(parse_row())
    table = render_table(rows)
    print(table)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        command = f"python -m bench.run --scale {scale} --repeat {repeat}" + (
            f" --enterprise {enterprise}" if enterprise else ""
        )
        out.write_text(results_document(table, machine, command, repeat, time.monotonic() - started))
        log(f"written to {out}")
    return table


def results_document(table: str, machine: list[str], command: str, repeat: int, seconds: float) -> str:
    return "\n".join(
        [
            "# Benchmark results",
            "",
            f"`{command}` ({seconds:.0f} s in all). Landing, raw COPY and dlt"
            f" figures are the best of {repeat} runs each, taken in turn (a round: the landings, the COPYs of"
            " their records, dlt), the refresh and the night ran once; rates are records a second.",
            "",
            *machine,
            "",
            table,
            "",
        ]
    )


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    landing_scales = sorted(name for name, profile in SCALES.items() if not profile.streamed_jira)
    parser.add_argument("--scale", default="large", choices=landing_scales, help="world size of the landing and peer")
    parser.add_argument(
        "--memory-scales", default="demo,large", help="comma-separated world sizes whose extract peak RSS is measured"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown results file")
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs of the landing and of the raw COPY; the best counts"
    )
    parser.add_argument("--skip-dlt", action="store_true", help="leave the peer out (no dlt environment needed)")
    parser.add_argument("--skip-dbt", action="store_true", help="leave the dbt build out")
    parser.add_argument("--profile-dir", type=Path, help="record a py-spy flame graph of the landing extract here")
    parser.add_argument(
        "--enterprise",
        nargs="?",
        const="enterprise",
        choices=sorted(name for name, profile in SCALES.items() if profile.streamed_jira),
        help="add the enterprise world: its Asana and Smartsheet landing, then a full refresh and a night of it "
        "(its Jira site is generated on disk on first use)",
    )
    parser.add_argument(
        "--dbt-results-dir",
        type=Path,
        help="copy the run_results.json of each night's dbt build here (<scale>-night.json, "
        "<scale>-night-unchanged.json): each node's start, end and thread",
    )
    parser.add_argument(
        "--ignore-free-space",
        action="store_true",
        help="start even when a disk looks too full for the run's databases and generated Jira site",
    )
    args = parser.parse_args(argv)
    memory_scales = [name for name in args.memory_scales.split(",") if name]
    unknown = set(memory_scales) - set(landing_scales)
    if unknown:
        parser.error(f"unknown scales {sorted(unknown)}; known: {sorted(SCALES)}")
    if args.profile_dir and not PY_SPY.exists():
        parser.error(f"--profile-dir needs py-spy, which is not installed at {PY_SPY} (run `make install`)")
    short = shortfalls(space_needs([args.scale, *memory_scales], args.enterprise))
    if short and not args.ignore_free_space:
        for message in short:
            log(f"not enough free disk space: {message}")
        log("free some space, point TMPDIR or SIMULATOR_STORE_DIR elsewhere, or pass --ignore-free-space")
        return 2
    run(
        args.scale,
        memory_scales,
        args.out,
        repeat=max(1, args.repeat),
        skip_dlt=args.skip_dlt,
        skip_dbt=args.skip_dbt,
        profile_dir=args.profile_dir,
        enterprise=args.enterprise,
        dbt_results_dir=args.dbt_results_dir,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
