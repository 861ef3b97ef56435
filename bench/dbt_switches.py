"""The night's `dbt build` with one of the project's switches on dbt's runtime on, and off.

`python -m bench.dbt_switches [--switch connections] [--scale large] [--rounds 3]` (not part of
`make bench`) readies a warehouse in the state a night's build starts from, on a private server: the
world's full refresh (the tools' extracts, dbt layer by layer), the warehouse settled, 1% of the items
and time entries changed in the simulators and the night's incremental extracts run. It keeps that
as a template, then in each round builds the night twice, the switch's variable at 1 and at 0 in
turn (the order swapped every other round), each on a fresh copy of the template, settled first.
The switches (`SWITCHES`):

- `connections`: `PMO_DBT_KEEP_CONNECTIONS`, dbt's connections kept from node to node ("kept") or
  closed ("closed"; `warehouse.dbt_connections`);
- `overheads`: `PMO_DBT_TRIM_OVERHEADS`, the events no logger writes and the macro context of a
  relation's columns left out ("trimmed") or not ("untrimmed"; `warehouse.dbt_overheads`);
- `templates`: `PMO_DBT_TEMPLATE_CACHE`, dbt's Jinja templates loaded compiled from the files an
  earlier command kept ("cached"; the full refresh's commands have kept them) or compiled from their
  text ("compiled"; `warehouse.dbt_templates`).

For each build it prints the wall time, dbt's CPU, the server's CPU (`bench.cpu`), the connections
the build opened (`pg_stat_database.sessions`) and the warnings "there is no transaction in progress"
the server logged meanwhile; then every build as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import NamedTuple

import psycopg
from psycopg import sql

from bench.cpu import postmaster_pid, server_cpu_seconds
from bench.dbt_layers import DbtProjectCopy, dbt_project_copy
from bench.landing import tool_sites
from bench.night import change_one_percent
from bench.refresh import extracts_side_by_side, settle
from warehouse.dbt_connections import KEEP_CONNECTIONS_VARIABLE
from warehouse.dbt_overheads import TRIM_OVERHEADS_VARIABLE
from warehouse.dbt_templates import TEMPLATE_CACHE_VARIABLE
from warehouse.embedded import EmbeddedWarehouse, throwaway_warehouse

NIGHT_STATE = "bench_night_state"
NIGHT_COPY = "bench_night_copy"
NO_TRANSACTION_WARNING = "there is no transaction in progress"


class Switch(NamedTuple):
    variable: str
    on: str
    off: str

    def settings(self) -> dict[str, str]:
        """Each setting's name and the variable's value for it, on first."""
        return {self.on: "1", self.off: "0"}


SWITCHES = {
    "connections": Switch(KEEP_CONNECTIONS_VARIABLE, "kept", "closed"),
    "overheads": Switch(TRIM_OVERHEADS_VARIABLE, "trimmed", "untrimmed"),
    "templates": Switch(TEMPLATE_CACHE_VARIABLE, "cached", "compiled"),
}


def sessions_opened(server: EmbeddedWarehouse, database: str) -> int:
    """Sessions the server has counted for `database` so far (those ended are flushed first)."""
    with psycopg.connect(server.admin_url, autocommit=True) as connection:
        connection.execute("select pg_stat_force_next_flush()")
        row = connection.execute("select sessions from pg_stat_database where datname = %s", (database,)).fetchone()
    return int(row[0]) if row else 0


def copy_of(server: EmbeddedWarehouse, template: str, name: str) -> str:
    """A fresh copy of database `template` named `name`, settled; its URL."""
    with psycopg.connect(server.admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        connection.execute(
            sql.SQL("create database {} template {} strategy file_copy").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    url = server.admin_url.rsplit("/", 1)[0] + "/" + name
    settle(url)
    return url


def build_night(
    server: EmbeddedWarehouse, project: DbtProjectCopy, switch: Switch, setting: str, postmaster: int
) -> dict:
    """One night's build on a fresh copy of the night's state, with `switch` at `setting`."""
    copy_of(server, NIGHT_STATE, NIGHT_COPY)
    sessions_before = sessions_opened(server, NIGHT_COPY)
    log_size = server.log_file.stat().st_size
    server_cpu = server_cpu_seconds(postmaster)
    build = project.build(env={switch.variable: switch.settings()[setting]})
    server_cpu = server_cpu_seconds(postmaster) - server_cpu
    time.sleep(0.5)  # the build's sessions end as its process exits
    with server.log_file.open("rb") as server_log:
        server_log.seek(log_size)
        warnings = server_log.read().decode(errors="replace").count(NO_TRANSACTION_WARNING)
    return {
        "setting": setting,
        "seconds": build.seconds,
        "dbt_cpu_seconds": build.cpu_seconds,
        "server_cpu_seconds": server_cpu,
        "sessions": sessions_opened(server, NIGHT_COPY) - sessions_before,
        "no_transaction_warnings": warnings,
        "failures": build.failures,
        "node_seconds": sum(build.node_seconds.values()),
    }


def measure(scale: str, rounds: int, log=print, switch: str = "connections") -> list[dict]:
    """The night's state readied once, then `rounds` rounds of a build with `switch` at each setting."""
    chosen = SWITCHES[switch]
    builds = []
    with throwaway_warehouse(prefix="pmo-bench-dbt-switches-") as server, tool_sites(scale) as sites:
        run_date = sites.world.config.anchor_date.isoformat()
        # Every build runs on a database of the same name as the full refresh did: dbt parses the whole
        # project again when its connection settings change.
        url = server.fresh_database(NIGHT_COPY)
        postmaster = postmaster_pid(url)
        with dbt_project_copy(url, run_date) as project:
            log(f"{scale}: full refresh")
            extracts_side_by_side(sites, url, postmaster)
            project.build_by_layer()
            settle(url)
            change_one_percent(sites)
            log(f"{scale}: the night's extracts")
            extracts_side_by_side(sites, url, postmaster, incremental=True)
            copy_of(server, NIGHT_COPY, NIGHT_STATE)
            for round_number in range(1, rounds + 1):
                settings = list(chosen.settings())
                for setting in settings if round_number % 2 else reversed(settings):
                    result = {"round": round_number, **build_night(server, project, chosen, setting, postmaster)}
                    log(
                        f"round {round_number}, {switch} {setting}: {result['seconds']:.2f} s,"
                        f" dbt CPU {result['dbt_cpu_seconds']:.2f} s, PostgreSQL CPU"
                        f" {result['server_cpu_seconds']:.2f} s, {result['sessions']} connections,"
                        f" {result['no_transaction_warnings']} '{NO_TRANSACTION_WARNING}' warnings,"
                        f" {len(result['failures'])} failures"
                    )
                    builds.append(result)
    return builds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switch", choices=sorted(SWITCHES), default="connections")
    parser.add_argument("--scale", choices=("demo", "large"), default="large")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.scale, args.rounds, switch=args.switch)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
