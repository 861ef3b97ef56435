"""One Jira extract in a process of its own, so that its peak memory is its own.

`python -m bench.extract --jira-url URL --warehouse-url URL` runs the real connector (HTTP paging,
parsing, COPY into raw, upsert, state) with the request budget off, as a full refresh, and prints
one JSON line: each stream's result and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import psycopg

from connectors.http import Secret
from connectors.jira.settings import JiraSettings
from connectors.jira.streams import JiraExtractor

JIRA_EMAIL = "bench@pmo.example"
JIRA_TOKEN = "bench-token"


def bench_settings(jira_url: str, instance: str) -> JiraSettings:
    """Connector settings for the bench's simulator, with no request budget (rate limits off)."""
    return JiraSettings(
        base_url=jira_url,
        email=JIRA_EMAIL,
        api_token=Secret(JIRA_TOKEN),
        instance=instance,
        requests_per_minute=None,
    )


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
    parser.add_argument("--jira-url", required=True)
    parser.add_argument("--warehouse-url", required=True)
    parser.add_argument("--instance", default="bench")
    parser.add_argument("--streams", default="", help="comma-separated Jira streams (default: all)")
    args = parser.parse_args(argv)
    streams = [name for name in args.streams.split(",") if name] or None
    started = time.monotonic()
    with psycopg.connect(args.warehouse_url, autocommit=True) as connection:
        extractor = JiraExtractor(bench_settings(args.jira_url, args.instance), connection)
        # the results' own seconds, unrounded: a demo-size stream lands in a fraction of a second
        results = [
            {**result.as_dict(), "seconds": result.seconds}
            for result in extractor.run(streams=streams, full_refresh=True)
        ]
    seconds = time.monotonic() - started
    report = {"results": results, "seconds": seconds, "cpu_seconds": cpu_seconds(), "peak_rss_bytes": peak_rss_bytes()}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
