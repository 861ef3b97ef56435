"""The peer: the same Jira API pulled into the same PostgreSQL by dlt, run with the dlt environment's Python.

Not imported by the project (its environment has no dlt): `bench.peer` runs this file with
`bench/.venv-dlt/bin/python`. Each resource pages the API the way a dlt user would write it with
dlt's `requests` helper, and yields whole pages. dlt gets its fastest documented settings for
PostgreSQL: the payload kept as one `json` column (jsonb), the `csv` loader file format (loaded with
`COPY`), uncompressed intermediate files, and `replace` (truncate and insert) so that nothing is
staged or merged. It prints one JSON line: records per resource, the run's seconds and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time

WORKLOG_LIST_LIMIT = 1000


def peak_rss_bytes() -> int:
    """Peak resident memory since this program started (`VmHWM`: Linux carries ru_maxrss across exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jira-url", required=True)
    parser.add_argument("--warehouse-url", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--fields", required=True, help="comma-separated issue fields to ask for")
    parser.add_argument("--dataset", default="dlt_jira")
    args = parser.parse_args(argv)

    working_dir = tempfile.mkdtemp(prefix="pmo-bench-dlt-")
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("NORMALIZE__DATA_WRITER__DISABLE_COMPRESSION", "true")
    os.environ.setdefault("DATA_WRITER__BUFFER_MAX_ITEMS", "20000")

    import dlt
    from dlt.common import json as dlt_json
    from dlt.sources.helpers import requests

    session = requests.Session()
    session.auth = (args.email, args.token)
    session.headers.update({"Accept": "application/json"})
    base = args.jira_url.rstrip("/")
    fields = args.fields.split(",")
    counts = {"issues": 0, "worklogs": 0}

    def get_json(response) -> object:
        response.raise_for_status()
        return dlt_json.loadb(response.content)

    payload_as_jsonb = {"payload": {"data_type": "json"}}

    @dlt.resource(name="issues", primary_key="id", write_disposition="replace", columns=payload_as_jsonb)
    def issues():
        body = {"jql": 'updated >= "1970-01-01 00:00" ORDER BY updated ASC', "fields": fields, "maxResults": 100}
        while True:
            page = get_json(session.post(f"{base}/rest/api/3/search/jql", json=body))
            records = page.get("issues", [])
            counts["issues"] += len(records)
            yield [{"id": record["id"], "payload": record} for record in records]
            token = page.get("nextPageToken")
            if page.get("isLast", token is None) or not token:
                return
            body["nextPageToken"] = token

    @dlt.resource(name="worklogs", primary_key="id", write_disposition="replace", columns=payload_as_jsonb)
    def worklogs():
        since = 0
        while True:
            feed = get_json(session.get(f"{base}/rest/api/3/worklog/updated", params={"since": since}))
            ids = [entry["worklogId"] for entry in feed.get("values", [])]
            for start in range(0, len(ids), WORKLOG_LIST_LIMIT):
                chunk = ids[start : start + WORKLOG_LIST_LIMIT]
                records = get_json(session.post(f"{base}/rest/api/3/worklog/list", json={"ids": chunk}))
                counts["worklogs"] += len(records)
                yield [{"id": record["id"], "payload": record} for record in records]
            if feed.get("lastPage", True):
                return
            since = int(feed["until"])

    pipeline = dlt.pipeline(
        pipeline_name="pmo_bench_jira",
        pipelines_dir=working_dir,
        destination=dlt.destinations.postgres(credentials=args.warehouse_url),
        dataset_name=args.dataset,
    )
    started = time.perf_counter()
    try:
        pipeline.run([issues(), worklogs()], loader_file_format="csv")
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(working_dir, ignore_errors=True)
    peak_rss = peak_rss_bytes()
    print(json.dumps({"records": counts, "seconds": seconds, "peak_rss_bytes": peak_rss, "dlt": dlt.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
