"""Command line for the warehouse: `python -m warehouse start|stop|status|url|psql|env`.

`start` starts the embedded PostgreSQL (or checks `WAREHOUSE_URL` when it is set), `stop`
stops it, `psql` opens a shell on it, and `env` prints the `WAREHOUSE_*` variables that
dbt's profile reads, as shell exports. `env --empty-database NAME` names a database of the
embedded warehouse made anew, empty (`make lint` renders the models against one, so that an
incremental model renders as on its first build whatever the warehouse holds).
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys

from warehouse import settings
from warehouse.embedded import EmbeddedWarehouse, WarehouseError, ensure_warehouse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "stop", "status", "url", "psql", "env"])
    parser.add_argument(
        "--empty-database",
        metavar="NAME",
        help="with env: name database NAME of the embedded warehouse, dropped and created anew, empty",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    external = settings.uses_external_warehouse()
    embedded = EmbeddedWarehouse()
    try:
        if args.command == "start":
            url = ensure_warehouse()
            where = "external warehouse (WAREHOUSE_URL)" if external else "embedded warehouse"
            print(f"{where} ready: {settings.redact(url)}")
        elif args.command == "stop":
            if external:
                print("WAREHOUSE_URL is set: that server is not managed here, nothing stopped")
            elif embedded.stop():
                print(f"embedded warehouse on port {embedded.port} stopped")
            else:
                print("embedded warehouse was not running")
        elif args.command == "status":
            if external:
                print(f"external warehouse: {settings.redact(settings.warehouse_url())}")
                return 0
            running = embedded.is_running()
            state = "running" if running else "stopped"
            print(f"embedded warehouse {state}: {settings.redact(embedded.url)} (data {embedded.pgdata})")
            return 0 if running else 3
        elif args.command == "url":
            print(settings.warehouse_url())
        elif args.command == "env":
            url = None
            if args.empty_database and external:
                note = "--empty-database applies to the embedded warehouse; WAREHOUSE_URL's database is named"
                print(note, file=sys.stderr)
            elif args.empty_database:
                ensure_warehouse()
                url = embedded.fresh_database(args.empty_database)
            for name, value in settings.dbt_env(url).items():
                print(f"export {name}={shlex.quote(value)}")
        elif args.command == "psql":
            command = embedded.psql_command(settings.warehouse_url())
            os.execv(command[0], command)
    except WarehouseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
