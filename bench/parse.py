"""DAG folder parse time, measured as the scheduler's DAG processor meets it.

`measure_parse()` copies the dbt project aside and writes there the manifest the DAG renders its
dbt tasks from (`dbt parse`, with placeholder `WAREHOUSE_*` values: parsing reads no database), then
runs this module in a child process with a private `AIRFLOW_HOME` and `PMO_DBT_PROJECT_DIR` on that
copy: it migrates a fresh metadata database and times one `DagBag` over `dags/`, printing one JSON line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.child import PROJECT_ROOT, child_env, last_json_line

DAGS_DIR = PROJECT_ROOT / "dags"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
PLACEHOLDER_WAREHOUSE_ENV = {
    "WAREHOUSE_HOST": "127.0.0.1",
    "WAREHOUSE_PORT": "5432",
    "WAREHOUSE_USER": "parse",
    "WAREHOUSE_PASSWORD": "",
    "WAREHOUSE_DBNAME": "parse",
}


def copy_dbt_project(target: Path) -> Path:
    """A copy of the dbt project at `target`, without what builds leave in it (target, logs)."""
    shutil.copytree(DBT_PROJECT_DIR, target, ignore=shutil.ignore_patterns("target", "logs", ".user.yml"))
    return target


def parse_dbt_project(project: Path, *arguments: str, env: dict[str, str] | None = None) -> None:
    """`dbt parse` of the project at `project` (a copy, or the repository's with `--target-path`),
    in `env` (by default this process's), with placeholder connection settings where it gives none:
    parsing connects to nothing. Raises with dbt's output when it fails."""
    dbt = Path(sys.executable).parent / "dbt"
    parsed = subprocess.run(
        [str(dbt), "parse", "--project-dir", str(project), "--profiles-dir", str(project), "--quiet", *arguments],
        env={**PLACEHOLDER_WAREHOUSE_ENV, **(os.environ if env is None else env)},
        capture_output=True,
        text=True,
        check=False,
    )
    if parsed.returncode != 0:
        raise RuntimeError(f"dbt parse failed (exit {parsed.returncode}):\n{(parsed.stdout + parsed.stderr)[-4000:]}")


@dataclass
class ParseRun:
    dbt_parse_seconds: float
    dagbag_seconds: float
    dags: int
    tasks: int
    import_errors: int


def measure_parse() -> ParseRun:
    """Parse the DAG folder against a private copy of the dbt project (its own manifest, its own target)."""
    scratch = Path(tempfile.mkdtemp(prefix="pmo-bench-parse-"))
    try:
        dbt_project = copy_dbt_project(scratch / "dbt_project")
        started = time.perf_counter()
        parse_dbt_project(dbt_project)
        dbt_parse_seconds = time.perf_counter() - started
        airflow_home = scratch / "airflow"
        env = child_env(
            AIRFLOW_HOME=str(airflow_home),
            AIRFLOW__CORE__DAGS_FOLDER=str(DAGS_DIR),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__COSMOS__ENABLE_TELEMETRY="False",
            AIRFLOW__COSMOS__CACHE_DIR=str(airflow_home / "cosmos"),
            AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
            PMO_DBT_PROJECT_DIR=str(dbt_project),
        )
        completed = subprocess.run(
            [sys.executable, "-m", "bench.parse"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if completed.returncode != 0:
        raise RuntimeError(f"the DAG parse failed (exit {completed.returncode}):\n{completed.stderr[-4000:]}")
    report = last_json_line(completed.stdout)
    return ParseRun(dbt_parse_seconds=dbt_parse_seconds, **report)


def main() -> int:
    from airflow.utils.db import upgradedb

    upgradedb()
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=str(DAGS_DIR))
    seconds = time.perf_counter() - started
    report = {
        "dagbag_seconds": seconds,
        "dags": len(bag.dags),
        "tasks": sum(len(dag.tasks) for dag in bag.dags.values()),
        "import_errors": len(bag.import_errors),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
