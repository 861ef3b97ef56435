"""`dbt build` over what the extracts put in raw: whole, or layer by layer (staging, intermediate, marts).

Builds run on a private copy of the dbt project (its own target directory, kept between builds
so that later ones parse partially, as a deployment's do) against the bench's database.
`run_results.json` gives each node's execution time, added up by the folder under `models/` its
model lives in (a test counts towards the layer of the model it tests; source tests and seeds
apart). dbt runs several nodes at once, so a layer's node time can exceed the wall time. Each
build runs in a child process, so its peak RSS is measured as well.

A full refresh builds layer by layer, each phase a `dbt build` of its own, to give each layer's
wall time: seeds, then staging, intermediate, and marts with the register snapshot (a mart reads
it); a model reading a model of a later layer (the earned value inputs read marts) is built with
that later layer's phase; tests run with the phase that builds the last of the models they read (`buildable`), and
whatever no phase reached runs last ("rest": tests that read models of two layers, and tests
of the project's macros).

Every build leaves the unit tests out (`NIGHTLY_EXCLUDE`), as the nightly DAG does: they check the
models' SQL on fixed inputs, not the night's data, and run in CI (`tests/dbt`, `tests/dbt_ev`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.child import child_env
from bench.parse import copy_dbt_project
from warehouse import dbt_cli, settings

LAYERS = ("staging", "intermediate", "marts")
PHASES = ("seeds", *LAYERS)
RUNNABLE = ("model", "seed", "snapshot", "test")
NIGHTLY_EXCLUDE = ("--exclude-resource-type", "unit_test")


@dataclass
class DbtBuild:
    seconds: float
    peak_rss_bytes: int
    layer_seconds: dict[str, float] = field(default_factory=dict)
    nodes: int = 0
    failures: list[str] = field(default_factory=list)
    executed: set[str] = field(default_factory=set)
    node_seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: float = 0.0

    def slowest(self, count: int) -> list[tuple[str, float]]:
        """The `count` nodes that took longest, with their execution time."""
        return sorted(self.node_seconds.items(), key=lambda item: item[1], reverse=True)[:count]


class DbtProjectCopy:
    """A private copy of the dbt project, built against one database."""

    def __init__(self, directory: Path, warehouse_url: str, run_date: str) -> None:
        self.directory = directory
        self.warehouse_url = warehouse_url
        self.run_date = run_date

    def build(
        self, *arguments: str, keep_results_as: Path | None = None, env: dict[str, str] | None = None
    ) -> DbtBuild:
        """One `dbt build` with `arguments` (a selection), timed, its results read back (and copied to
        `keep_results_as`, when given); `env` adds to dbt's environment."""
        command = [
            "/usr/bin/time",
            "-f",
            "peak_rss_kib=%M cpu_seconds=%U+%S",
            *dbt_cli.command(),
            "build",
            "--project-dir",
            str(self.directory),
            "--profiles-dir",
            str(self.directory),
            "--vars",
            json.dumps({"run_date": self.run_date}),
            "--quiet",
            *settings.nightly_dbt_log_file_flags(),
            *NIGHTLY_EXCLUDE,
            *arguments,
        ]
        if not Path(command[0]).exists():
            command = command[3:]
        results_file = self.directory / "target" / "run_results.json"
        results_file.unlink(missing_ok=True)
        started = time.perf_counter()
        completed = subprocess.run(
            command,
            env=child_env(**settings.dbt_env(self.warehouse_url), **(env or {})),
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        if not results_file.exists():
            raise RuntimeError(f"dbt build wrote no results (exit {completed.returncode}):\n{completed.stdout[-3000:]}")
        if keep_results_as is not None:
            keep_results_as.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(results_file, keep_results_as)
        build = layer_times(json.loads(results_file.read_text()), self.manifest())
        build.seconds = seconds
        build.peak_rss_bytes, build.cpu_seconds = _usage_from_time(completed.stderr)
        return build

    def manifest(self) -> dict:
        return json.loads((self.directory / "target" / "manifest.json").read_text())

    def build_by_layer(self) -> dict[str, DbtBuild]:
        """The whole project, phase by phase (`PHASES`), then whatever no phase reached ("rest")."""
        tests_when_buildable = ("--indirect-selection", "buildable")
        phases = {"seeds": self.build("--select", "resource_type:seed", *tests_when_buildable)}
        manifest = self.manifest()
        nodes = manifest["nodes"]
        phase_of = phase_assignment(nodes)
        for phase in LAYERS:
            chosen = sorted(unique_id for unique_id, assigned in phase_of.items() if assigned == phase)
            if chosen:
                phases[phase] = self.build(
                    "--select", *(_selector(nodes[unique_id]) for unique_id in chosen), *tests_when_buildable
                )
        executed = set().union(*(build.executed for build in phases.values()))
        runnable = {
            key: node
            for key, node in nodes.items()
            if node.get("resource_type") in RUNNABLE and node.get("config", {}).get("materialized") != "ephemeral"
        }
        left = sorted(runnable.keys() - executed)
        if left:
            names = [_selector(runnable[key]) for key in left]
            phases["rest"] = self.build("--select", *names, "--indirect-selection", "cautious")
            unreached = sorted(set(left) - phases["rest"].executed)
            phases["rest"].failures += [f"not run: {unique_id}" for unique_id in unreached]
        return phases


def phase_assignment(nodes: dict) -> dict[str, str]:
    """The phase each model and snapshot is built in: its own layer (a snapshot: the marts'), or a later
    one when it reads a model of a later layer (the earned value inputs read marts)."""
    rank = {phase: position for position, phase in enumerate(PHASES)}
    assigned: dict[str, str] = {}

    def phase_of(unique_id: str) -> str:
        if unique_id not in assigned:
            node = nodes[unique_id]
            own = "seeds" if node["resource_type"] == "seed" else _layer(node, nodes)
            own = own if own in rank else "marts"
            parents = [parent for parent in node.get("depends_on", {}).get("nodes", []) if parent in nodes]
            assigned[unique_id] = max([own, *map(phase_of, parents)], key=rank.__getitem__)
        return assigned[unique_id]

    for unique_id, node in nodes.items():
        if node.get("resource_type") in ("model", "snapshot"):
            phase_of(unique_id)
    return {unique_id: phase for unique_id, phase in assigned.items() if nodes[unique_id]["resource_type"] != "seed"}


def _selector(node: dict) -> str:
    return f"fqn:{'.'.join(node['fqn'])}"


@contextmanager
def dbt_project_copy(warehouse_url: str, run_date: str) -> Iterator[DbtProjectCopy]:
    scratch = Path(tempfile.mkdtemp(prefix="pmo-bench-dbt-"))
    try:
        project = copy_dbt_project(scratch / "dbt_project")
        yield DbtProjectCopy(project, warehouse_url, run_date)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def measure_dbt_build(warehouse_url: str, run_date: str) -> DbtBuild:
    """One `dbt build` of every layer, on a fresh copy of the project."""
    with dbt_project_copy(warehouse_url, run_date) as project:
        return project.build()


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
        executed={result["unique_id"] for result in run_results["results"]},
        node_seconds={
            result["unique_id"]: float(result.get("execution_time") or 0.0) for result in run_results["results"]
        },
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


def _usage_from_time(stderr: str) -> tuple[int, float]:
    """The dbt process's peak RSS (bytes) and CPU seconds, from the line `/usr/bin/time` printed."""
    for line in reversed(stderr.splitlines()):
        if line.startswith("peak_rss_kib="):
            fields = dict(part.split("=", 1) for part in line.split())
            user, system = fields["cpu_seconds"].split("+")
            return int(fields["peak_rss_kib"]) * 1024, float(user) + float(system)
    return 0, 0.0
