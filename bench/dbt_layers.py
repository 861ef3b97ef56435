"""`dbt build` over what the landing put in raw, its time split by layer (staging, intermediate, marts).

The build runs on a private copy of the dbt project (its own target directory) against the bench's
database; `run_results.json` gives each node's execution time, added up by the folder under
`models/` its model lives in (a test counts towards the layer of the model it tests; source tests
and seeds apart). dbt runs several nodes at once, so a layer's node time can exceed the wall time.
The build runs in a child process, so its peak RSS is measured as well.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench.child import child_env
from bench.parse import DBT_PROJECT_DIR
from warehouse import settings

LAYERS = ("staging", "intermediate", "marts")


@dataclass
class DbtBuild:
    seconds: float
    peak_rss_bytes: int
    layer_seconds: dict[str, float] = field(default_factory=dict)
    nodes: int = 0
    failures: list[str] = field(default_factory=list)


def measure_dbt_build(warehouse_url: str, run_date: str) -> DbtBuild:
    scratch = Path(tempfile.mkdtemp(prefix="pmo-bench-dbt-"))
    try:
        project = scratch / "dbt_project"
        shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", ".user.yml"))
        dbt = Path(sys.executable).parent / "dbt"
        command = [
            "/usr/bin/time",
            "-f",
            "peak_rss_kib=%M",
            str(dbt),
            "build",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--vars",
            json.dumps({"run_date": run_date}),
            "--quiet",
        ]
        if not Path(command[0]).exists():
            command = command[3:]
        started = time.perf_counter()
        completed = subprocess.run(
            command, env=child_env(**settings.dbt_env(warehouse_url)), capture_output=True, text=True, check=False
        )
        seconds = time.perf_counter() - started
        results_file = project / "target" / "run_results.json"
        if not results_file.exists():
            raise RuntimeError(f"dbt build wrote no results (exit {completed.returncode}):\n{completed.stdout[-3000:]}")
        manifest = json.loads((project / "target" / "manifest.json").read_text())
        build = layer_times(json.loads(results_file.read_text()), manifest)
        build.seconds = seconds
        build.peak_rss_bytes = _peak_rss_from_time(completed.stderr)
        return build
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def layer_times(run_results: dict, manifest: dict) -> DbtBuild:
    nodes = manifest["nodes"]
    unit_tests = manifest.get("unit_tests", {})
    layer_seconds: dict[str, float] = defaultdict(float)
    failures = []
    for result in run_results["results"]:
        node = nodes.get(result["unique_id"]) or unit_tests.get(result["unique_id"], {})
        layer_seconds[_layer(node, nodes)] += float(result.get("execution_time") or 0.0)
        if result.get("status") in ("error", "fail"):
            failures.append(result["unique_id"])
    return DbtBuild(
        seconds=0.0,
        peak_rss_bytes=0,
        layer_seconds=dict(layer_seconds),
        nodes=len(run_results["results"]),
        failures=failures,
    )


def _layer(node: dict, nodes: dict) -> str:
    if node.get("resource_type") in ("test", "unit_test"):
        depends_on = node.get("depends_on", {}).get("nodes", [])
        tested = [dependency for dependency in depends_on if dependency in nodes]
        if not tested and any(dependency.startswith("source.") for dependency in depends_on):
            return "sources"
        node = nodes[tested[0]] if tested else node
    if node.get("resource_type") == "seed":
        return "seeds"
    parts = Path(node.get("original_file_path", "")).parts
    if len(parts) > 1 and parts[0] == "models":
        return parts[1]
    return "other"


def _peak_rss_from_time(stderr: str) -> int:
    for line in reversed(stderr.splitlines()):
        if line.startswith("peak_rss_kib="):
            return int(line.split("=", 1)[1]) * 1024
    return 0
