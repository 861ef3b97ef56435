"""One tool's extract in a process of its own, so that its peak memory and its time are its own.

`python -m bench.extract --tool jira|asana|smartsheet --url URL --warehouse-url URL` runs the real
connector (HTTP paging, parsing, COPY into raw, upsert, state) with the request budget off, as a
full refresh (or, with `--incremental`, from the state a previous run saved, as a night does), and
prints one JSON line: each stream's result, the wall and CPU time (with the wall clock at the start
and the end) and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import psycopg

from connectors.asana.settings import AsanaSettings
from connectors.asana.streams import AsanaExtractor
from connectors.http import Secret
from connectors.jira.settings import JiraSettings
from connectors.jira.streams import JiraExtractor
from connectors.smartsheet.settings import SmartsheetSettings
from connectors.smartsheet.streams import SmartsheetExtractor

TOOLS = ("jira", "asana", "smartsheet")
JIRA_EMAIL = "bench@pmo.example"
JIRA_TOKEN = "bench-token"
ASANA_TOKEN = "bench-asana-token"
SMARTSHEET_TOKEN = "bench-smartsheet-token"


def bench_settings(jira_url: str, instance: str, streams_in_parallel: bool = True) -> JiraSettings:
    """Connector settings for the bench's Jira simulator, with no request budget (rate limits off)."""
    return JiraSettings(
        base_url=jira_url,
        email=JIRA_EMAIL,
        api_token=Secret(JIRA_TOKEN),
        instance=instance,
        requests_per_minute=None,
        streams_in_parallel=streams_in_parallel,
    )


def extractor_for(args: argparse.Namespace, connection: psycopg.Connection):
    """The tool's extractor, configured for the bench's simulator with no request budget."""
    if args.tool == "jira":
        return JiraExtractor(bench_settings(args.url, args.instance, not args.one_stream_at_a_time), connection)
    if args.tool == "asana":
        settings = AsanaSettings(
            base_url=args.url, token=Secret(ASANA_TOKEN), instance=args.instance, requests_per_minute=None
        )
        return AsanaExtractor(settings, connection)
    settings = SmartsheetSettings(
        base_url=args.url,
        token=Secret(SMARTSHEET_TOKEN),
        instance=args.instance,
        register_sheet_id=args.register_sheet_id,
        rate_card_sheet_id=args.rate_card_sheet_id,
        requests_per_minute=None,
    )
    return SmartsheetExtractor(settings, connection)


def peak_rss_bytes() -> int:
    """This process's peak resident memory since it started its program.

    `VmHWM` rather than `ru_maxrss`: Linux carries ru_maxrss across exec, so a child started by a
    big parent would report the parent's size.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tool", choices=TOOLS, default="jira")
    parser.add_argument("--url", "--jira-url", dest="url", required=True, help="the tool's API base URL")
    parser.add_argument("--warehouse-url", required=True)
    parser.add_argument("--instance", default="bench")
    parser.add_argument("--streams", default="", help="comma-separated streams (default: all)")
    parser.add_argument("--incremental", action="store_true", help="start from the saved state, as a night does")
    parser.add_argument(
        "--one-stream-at-a-time",
        action="store_true",
        help="Jira: no stream runs beside another, so that each stream's own seconds are its landing time",
    )
    parser.add_argument("--register-sheet-id", type=int, default=0, help="Smartsheet: the portfolio register")
    parser.add_argument("--rate-card-sheet-id", type=int, default=0, help="Smartsheet: the rate card")
    args = parser.parse_args(argv)
    streams = [name for name in args.streams.split(",") if name] or None
    started = time.monotonic()
    started_at = time.time()
    with psycopg.connect(args.warehouse_url, autocommit=True) as connection:
        extractor = extractor_for(args, connection)
        # the results' own seconds, unrounded: a demo-size stream lands in a fraction of a second
        results = [
            {**result.as_dict(), "seconds": result.seconds}
            for result in extractor.run(streams=streams, full_refresh=not args.incremental)
        ]
    seconds = time.monotonic() - started
    report = {
        "results": results,
        "seconds": seconds,
        # the wall clock, so that extracts run side by side in several processes can be spanned
        "started_at": started_at,
        "finished_at": time.time(),
        "cpu_seconds": cpu_seconds(),
        "peak_rss_bytes": peak_rss_bytes(),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
