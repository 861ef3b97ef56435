"""`python -m bench.run`: the pipeline against this machine's limit and a peer, in one run, as one table.

On a private PostgreSQL (a free port, a temporary data directory, stopped at the end) and a Jira
simulator served from this process, it measures:

- **landing**: records a second of each Jira stream through the real connector, next to one raw
  `COPY` of the very same records into a table made like the raw table (the machine's limit);
- **peer**: the same API pulled into the same PostgreSQL by dlt, with its fastest settings;
- **dbt**: `dbt build` over the landed site, its wall time and peak RSS, and node time by layer;
- **memory**: the extract's peak RSS at the demo size and at a larger one;
- **parse**: the DAG folder's parse time, with the dbt manifest in place.

The table is printed and written, with the machine and the date, to `--out` (markdown).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench.dbt_layers import LAYERS, measure_dbt_build
from bench.extract import JIRA_EMAIL, JIRA_TOKEN
from bench.landing import (
    VOLUME_STREAMS,
    CopyLimit,
    ExtractRun,
    copy_limit,
    create_database,
    jira_site,
    private_warehouse,
    run_extract,
)
from bench.parse import measure_parse
from bench.peer import PEER_STREAMS, PeerRun, run_dlt
from connectors.jira.settings import CUSTOM_FIELD_NAMES, ISSUE_FIELDS
from simulators.world import SCALES, World

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = PROJECT_ROOT / "bench" / "results.md"
LANDING_TARGET = 0.6
PEER_TARGET = 5.0
MEMORY_TARGET = 1.5
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


def landing_rows(extract: ExtractRun, limits: dict[str, CopyLimit]) -> list[Row]:
    rows = []
    for stream in VOLUME_STREAMS:
        records, seconds = extract.records(stream), extract.stream_seconds(stream)
        limit = limits[stream]
        rows.append(
            Row(
                "landing",
                f"jira {stream}",
                format_rate(records, seconds),
                f"raw COPY {format_rate(limit.records, limit.seconds)}",
                f"{rate(records, seconds) / limit.rate:.2f}" if limit.rate else "n/a",
                f">= {LANDING_TARGET}",
            )
        )
    records = sum(extract.records(stream) for stream in VOLUME_STREAMS)
    seconds = sum(extract.stream_seconds(stream) for stream in VOLUME_STREAMS)
    limit_records = sum(limits[stream].records for stream in VOLUME_STREAMS)
    limit_seconds = sum(limits[stream].seconds for stream in VOLUME_STREAMS)
    ratio = rate(records, seconds) / rate(limit_records, limit_seconds) if limit_seconds else 0.0
    rows.append(
        Row(
            "landing",
            "jira, all three streams",
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
        f"{rate(records, seconds) / peer.rate:.1f}x" if peer.rate else "n/a",
        f">= {PEER_TARGET:g}x",
    )


def memory_rows(peaks: dict[str, tuple[int, World]]) -> list[Row]:
    rows = []
    smallest = min(peaks, key=lambda scale: SCALES[scale].jira_issues)
    for scale, (peak, world) in sorted(peaks.items(), key=lambda item: SCALES[item[0]].jira_issues):
        size = f"{len(world.jira.issues):,} issues, {len(world.jira.worklogs):,} worklogs"
        row = Row("memory", f"extract peak RSS, {scale} ({size})", f"{peak / MIB:,.0f} MiB")
        if scale != smallest:
            base = peaks[smallest][0]
            row.reference = f"{smallest}: {base / MIB:,.0f} MiB"
            row.ratio = f"{peak / base:.2f}"
            row.target = f"<= {MEMORY_TARGET}"
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


def dbt_rows(warehouse_url: str, world: World, skipped_because: str = "") -> list[Row]:
    measure = f"build, every layer, over the landed {world.config.scale} site"
    if skipped_because:
        return [Row("dbt", measure, f"skipped ({skipped_because})")]
    try:
        build = measure_dbt_build(warehouse_url, world.config.anchor_date.isoformat())
    except RuntimeError as error:
        log(str(error))
        return [Row("dbt", measure, f"failed: {str(error).splitlines()[0]}")]
    outcome = f"{len(build.failures)} failed" if build.failures else "all passed"
    rows = [
        Row(
            "dbt",
            measure,
            f"{build.seconds:.1f} s wall ({build.nodes} nodes, {outcome})",
            f"peak RSS {build.peak_rss_bytes / MIB:,.0f} MiB",
        )
    ]
    ordered = [layer for layer in LAYERS if layer in build.layer_seconds]
    ordered += sorted(set(build.layer_seconds) - set(LAYERS))
    for layer in ordered:
        rows.append(Row("dbt", f"layer {layer}", f"{build.layer_seconds[layer]:.1f} s of node time (threads overlap)"))
    return rows


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
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return [
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {cpu_model()}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, {platform.platform()}",
        f"- Python {platform.python_version()}, PostgreSQL {server} (embedded, default settings)",
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
) -> str:
    started = time.monotonic()
    rows: list[Row] = []
    peaks: dict[str, tuple[int, World]] = {}
    with private_warehouse() as server:
        with jira_site(scale) as (world, simulator):
            log(f"landing: {scale} world, {len(world.jira.issues):,} issues, {len(world.jira.worklogs):,} worklogs")
            runs = []
            for attempt in range(repeat):
                landing_url = create_database(server, "bench_landing")
                profile_svg = profile_dir / f"extract-{scale}.svg" if profile_dir and attempt == 0 else None
                runs.append(run_extract(simulator.url, landing_url, profile_svg=profile_svg))
            extract = ExtractRun.best_of(runs)
            peaks[scale] = (extract.peak_rss_bytes, world)
            limits = {stream: copy_limit(landing_url, stream, repeat=repeat) for stream in VOLUME_STREAMS}
            rows += landing_rows(extract, limits)
            peer = None
            if not skip_dlt:
                log("peer: dlt")
                peer = run_dlt(
                    simulator.url, landing_url, email=JIRA_EMAIL, token=JIRA_TOKEN, fields=issue_fields(world)
                )
            rows.append(peer_row(extract, peer, "--skip-dlt"))
            machine = machine_lines(landing_url)
            if not skip_dbt:
                log("dbt: build over the landed site")
            dbt = dbt_rows(landing_url, world, "--skip-dbt" if skip_dbt else "")
        for memory_scale in memory_scales:
            if memory_scale in peaks:
                continue
            log(f"memory: {memory_scale} world")
            with jira_site(memory_scale) as (world, simulator):
                url = create_database(server, f"bench_memory_{memory_scale}")
                peaks[memory_scale] = (run_extract(simulator.url, url).peak_rss_bytes, world)
    rows += dbt
    rows += memory_rows({scale: peaks[scale] for scale in dict.fromkeys([scale, *memory_scales])})
    log("parse: DAG folder")
    rows.append(parse_row())
    table = render_table(rows)
    print(table)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(results_document(table, machine, scale, repeat, time.monotonic() - started))
        log(f"written to {out}")
    return table


def results_document(table: str, machine: list[str], scale: str, repeat: int, seconds: float) -> str:
    return "\n".join(
        [
            "# Benchmark results",
            "",
            f"`python -m bench.run --scale {scale} --repeat {repeat}` ({seconds:.0f} s in all). Landing and raw COPY"
            f" figures are the best of {repeat} runs each; rates are records a second.",
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
    parser.add_argument("--scale", default="large", choices=sorted(SCALES), help="world size of the landing and peer")
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
    args = parser.parse_args(argv)
    memory_scales = [name for name in args.memory_scales.split(",") if name]
    unknown = set(memory_scales) - set(SCALES)
    if unknown:
        parser.error(f"unknown scales {sorted(unknown)}; known: {sorted(SCALES)}")
    run(
        args.scale,
        memory_scales,
        args.out,
        repeat=max(1, args.repeat),
        skip_dlt=args.skip_dlt,
        skip_dbt=args.skip_dbt,
        profile_dir=args.profile_dir,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
