"""dbt tasks forked from a readied process, as a scheduler's LocalExecutor runs the nightly DAG's tasks.

`python -m bench.forked_tasks --warehouse-url URL` copies the dbt project aside and parses it, then
alternates two variants of the process the tasks are forked from, each in a child process of its own
(dbt's template cache and `inspect`'s map of module files last as long as a process):
- `after`: `warehouse.task_preload.preload()` as the plugin runs it in a scheduler;
- `before`: the same without its last two steps, the macros' templates compiled
  (`compile_macro_templates`) and the loaded modules' files mapped (`map_module_files`).

Each variant forks one task after another, each a `dbt build` of one model and the tests of it alone
(as the DAG's model tasks select them) through `dbtRunner`, after freezing what it inherited, as the
dbt tasks' `pre_execute` does (`warehouse.runtime.ready_dbt_task`); it reads each task's CPU from
`wait4`. The builds write into the database given, so give it a copy of a warehouse the nightly DAG
has built (`make demo`'s, for one), not one BI reads. Prints each round's figures and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.child import child_env, last_json_line
from bench.parse import copy_dbt_project, parse_dbt_project
from warehouse import settings

VARIANTS = ("before", "after")
DEFAULT_MODELS = (
    "stg_jira__issues",
    "stg_jira__worklogs",
    "stg_asana__tasks",
    "int_status_changes",
    "int_work_items_unioned",
    "int_time_entries",
    "fct_status_changes",
    "int_project_daily_events",
    "fct_capacity_weekly",
    "fct_program_daily",
)


def run_variant(variant: str, project: Path, models: list[str], run_date: str) -> dict:
    """In this process: ready it as `variant` says, then fork a one-model build for each of `models`."""
    import warehouse.task_preload as task_preload

    if variant == "before":
        task_preload.compile_macro_templates = lambda macros: []
        task_preload.map_module_files = lambda: None
    os.environ["PMO_DBT_PROJECT_DIR"] = str(project)
    preload_seconds = task_preload.preload()
    arguments = [
        "build",
        *("--project-dir", str(project), "--profiles-dir", str(project)),
        *("--vars", json.dumps({"run_date": run_date})),
        *("--quiet", "--log-level-file", "none", "--no-write-json", "--exclude-resource-type", "unit_test"),
        # A model's own tests only, as the DAG's model tasks run them: tests across models wait for the last task.
        *("--indirect-selection", "cautious"),
    ]
    tasks = []
    for model in models:
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            from dbt.cli.main import dbtRunner

            from warehouse.runtime import ready_dbt_task

            ready_dbt_task()
            result = dbtRunner().invoke([*arguments, "--select", model])
            os._exit(0 if result.success else 1)
        _, status, usage = os.wait4(pid, 0)
        tasks.append(
            {
                "model": model,
                "passed": os.waitstatus_to_exitcode(status) == 0,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "seconds": time.perf_counter() - started,
            }
        )
    return {"variant": variant, "preload_seconds": preload_seconds, "tasks": tasks}


def measure(warehouse_url: str, models: list[str], rounds: int, run_date: str, log=print) -> list[dict]:
    """`rounds` rounds, each of the two variants in turn in a process of its own."""
    results = []
    with tempfile.TemporaryDirectory(prefix="pmo-forked-tasks-") as folder:
        env = child_env(**settings.dbt_env(warehouse_url), AIRFLOW_HOME=str(Path(folder) / "airflow"))
        # Parsed with the tasks' connection settings and vars, so that their partial parse keeps it.
        project = copy_dbt_project(Path(folder) / "dbt_project")
        parse_dbt_project(project, "--vars", json.dumps({"run_date": run_date}), env=env)
        for round_number in range(1, rounds + 1):
            for variant in VARIANTS:
                completed = subprocess.run(
                    [sys.executable, "-m", "bench.forked_tasks", "--variant", variant, "--project", str(project),
                     "--models", ",".join(models), "--run-date", run_date],
                    env=env, capture_output=True, text=True, check=False,
                )  # fmt: skip
                if completed.returncode != 0:
                    raise RuntimeError(f"{variant} failed (exit {completed.returncode}):\n{completed.stderr[-3000:]}")
                result = {"round": round_number, **last_json_line(completed.stdout)}
                tasks = result["tasks"]
                log(
                    f"round {round_number}, {variant}: preload {result['preload_seconds']:.2f} s;"
                    f" {len(tasks)} tasks, CPU {sum(task['cpu_seconds'] for task in tasks):.2f} s,"
                    f" wall {sum(task['seconds'] for task in tasks):.2f} s,"
                    f" {sum(task['passed'] for task in tasks)} passed"
                )
                results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse-url", help="the database the tasks build in (a copy of a built warehouse)")
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS), help="comma-separated, one task each")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--run-date", default=time.strftime("%Y-%m-%d"))
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--project", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    models = [model for model in args.models.split(",") if model]
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.project, models, args.run_date)))
        return 0
    if not args.warehouse_url:
        parser.error("--warehouse-url is required")
    print(json.dumps(measure(args.warehouse_url, models, args.rounds, args.run_date)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
