"""`make demo`: the whole nightly pipeline on one machine, end to end.

Starts the embedded warehouse (or uses `WAREHOUSE_URL`), starts the Jira simulator, prepares
a local Airflow (metadata DB under `.local/airflow`), runs the nightly DAG with
`airflow dags test`, and prints what landed: rows per mart table next to what the simulator
served, the connection string for BI tools, and how to stop.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from warehouse import settings
from warehouse.embedded import ensure_warehouse
from warehouse.runtime import format_counts, latest_night_summary, mart_row_counts

DAG_ID = "pmo_nightly_refresh"


def simulator_ports() -> dict[str, int]:
    return {
        "jira": int(os.environ.get("JIRA_SIMULATOR_PORT") or 8081),
        "asana": int(os.environ.get("ASANA_SIMULATOR_PORT") or 8082),
        "smartsheet": int(os.environ.get("SMARTSHEET_SIMULATOR_PORT") or 8083),
    }


def simulator_environment(ports: dict[str, int], anchor: date) -> dict[str, str]:
    """What `config/sources.yml` reads to reach the three simulators serving the world of `anchor`."""
    from simulators.smartsheet_world import build_smartsheet_data
    from simulators.world import WorldConfig, build_world

    sheets = build_smartsheet_data(build_world(WorldConfig(anchor_date=anchor)))
    return {
        "JIRA_BASE_URL": f"http://127.0.0.1:{ports['jira']}",
        "JIRA_EMAIL": os.environ.get("JIRA_EMAIL", "pmo-bot@pmo.example"),
        "JIRA_API_TOKEN": os.environ.get("JIRA_API_TOKEN", "sim-token"),
        "ASANA_BASE_URL": f"http://127.0.0.1:{ports['asana']}/api/1.0",
        "ASANA_TOKEN": os.environ.get("ASANA_TOKEN", "asana-sim-token"),
        "SMARTSHEET_BASE_URL": f"http://127.0.0.1:{ports['smartsheet']}/2.0",
        "SMARTSHEET_TOKEN": os.environ.get("SMARTSHEET_TOKEN", "smartsheet-sim-token"),
        "SMARTSHEET_REGISTER_SHEET_ID": str(sheets.register_sheet_id),
        "SMARTSHEET_RATE_CARD_SHEET_ID": str(sheets.rate_card_sheet_id),
    }


def pipeline_environment(warehouse_url: str, simulators: dict[str, str]) -> dict[str, str]:
    """The environment the DAG runs in: Airflow home, the warehouse connection, the tools, dbt's profile."""
    local = settings.local_dir()
    root = settings.project_root()
    return {
        **os.environ,
        **settings.dbt_env(warehouse_url),
        "AIRFLOW_HOME": str(local / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"),
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__COSMOS__CACHE_DIR": str(local / "cosmos"),
        "AIRFLOW_CONN_PMO_WAREHOUSE": settings.airflow_connection_uri(warehouse_url),
        "PMO_SOURCES_CONFIG": os.environ.get("PMO_SOURCES_CONFIG") or str(root / "config" / "sources.yml"),
        "DBT_PROFILES_DIR": str(root / "dbt_project"),
        "PMO_REPORT_DIR": str(local / "reports"),
        **simulators,
    }


def run(command: list[str], env: dict[str, str], log_file: Path, what: str) -> None:
    started = time.monotonic()
    print(f"… {what}", flush=True)
    with log_file.open("a") as log:
        log.write(f"\n$ {' '.join(command)}\n")
        log.flush()
        result = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = log_file.read_text(errors="replace").splitlines()[-60:]
        print("\n".join(tail), file=sys.stderr)
        raise SystemExit(f"error: {what} failed (exit {result.returncode}); full log: {log_file}")
    print(f"  done in {time.monotonic() - started:.1f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--full-refresh", action="store_true", help="re-read every stream from the start")
    args = parser.parse_args(argv)

    started = time.monotonic()
    local = settings.local_dir()
    (local / "logs").mkdir(parents=True, exist_ok=True)
    log_file = local / "logs" / f"demo-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.log"
    bin_dir = Path(sys.executable).parent

    print("… starting the warehouse", flush=True)
    url = ensure_warehouse()
    print(f"  {settings.redact(url)}")

    ports = simulator_ports()
    anchor = datetime.now(UTC).date()
    env = pipeline_environment(url, simulator_environment(ports, anchor))
    run(
        [
            sys.executable,
            "-m",
            "simulators",
            "start",
            "--port",
            str(ports["jira"]),
            "--asana-port",
            str(ports["asana"]),
            "--smartsheet-port",
            str(ports["smartsheet"]),
            "--anchor-date",
            anchor.isoformat(),
            "--state-dir",
            str(local / "simulators"),
        ],
        env,
        log_file,
        "starting the Jira, Asana and Smartsheet simulators on ports "
        + ", ".join(str(port) for port in ports.values()),
    )
    root = settings.project_root()
    dbt_dir = str(root / "dbt_project")
    run(
        [str(bin_dir / "dbt"), "parse", "--project-dir", dbt_dir, "--profiles-dir", dbt_dir, "--quiet"],
        env,
        log_file,
        "parsing the dbt project",
    )
    run([str(bin_dir / "airflow"), "db", "migrate"], env, log_file, "preparing Airflow's metadata database")
    command = [str(bin_dir / "airflow"), "dags", "test", DAG_ID]
    if args.full_refresh:
        command += ["--conf", '{"full_refresh": true}']
    run(command, env, log_file, f"running the DAG {DAG_ID} (airflow dags test)")

    counts = mart_row_counts(url, schemas=("marts",))
    print(f"\nThe nightly refresh finished in {time.monotonic() - started:.0f} s. Rows per mart table:")
    print(format_counts(counts))
    summary = latest_night_summary(url)
    if summary:
        print("\nThe run's summary (audit.night_summaries):")
        print("\n".join(f"  {line}" for line in summary.splitlines()))
    print("\nServed by the simulators:")
    print(format_counts(served_by_simulators(anchor)))
    print(f"\nThe nightly PMO report (open it in a browser): {local / 'reports' / 'latest.html'}")
    print(
        f"\nWarehouse: {settings.redact(url)}  (schema marts)\n"
        "  open a SQL shell: make psql\n"
        f"  log of this run:  {log_file}\n"
        "  stop everything:  make stop"
    )
    return 0


def served_by_simulators(anchor: date) -> dict[str, int]:
    """What the simulators' world holds, to set beside the marts."""
    from simulators.asana_world import build_asana_data
    from simulators.smartsheet_world import build_smartsheet_data
    from simulators.world import WorldConfig, build_world, served_counts

    world = build_world(WorldConfig(anchor_date=anchor))
    asana = build_asana_data(world)
    sheets = build_smartsheet_data(world)
    plan_rows = sum(len(sheet.rows) for sheet in sheets.plan_sheets)
    return {
        **served_counts(world),
        "asana projects": len(asana.projects),
        "asana tasks": len(asana.tasks),
        "asana time entries": len(asana.time_entries),
        "smartsheet plan rows": plan_rows,
    }


if __name__ == "__main__":
    sys.exit(main())
