"""`python -m warehouse.dbt_cli ARGS`: dbt's command line as the project runs it, with dbt's
connections kept from one node to the next (`warehouse.dbt_connections`), two of its costs for
every statement taken off (`warehouse.dbt_overheads`) and its Jinja templates compiled once for
every command (`warehouse.dbt_templates`).

The bench, `make dbt-build` and `make docs` run dbt through it; the nightly DAG's dbt tasks get the
same (`ready_dbt_runtime`) from their `pre_execute` (`warehouse.runtime.ready_dbt_task`).
"""

from __future__ import annotations

import sys

from warehouse.dbt_connections import keep_connections_between_nodes
from warehouse.dbt_overheads import trim_dbt_overheads
from warehouse.dbt_templates import cache_compiled_templates


def command() -> list[str]:
    """The command line that runs dbt this way, to which a dbt command's arguments are appended."""
    return [sys.executable, "-m", "warehouse.dbt_cli"]


def ready_dbt_runtime() -> None:
    """Installs, each once per process and unless switched off, the project's three changes to dbt's
    runtime: kept connections, trimmed overheads, the template cache."""
    keep_connections_between_nodes()
    trim_dbt_overheads()
    cache_compiled_templates()


def main() -> None:
    ready_dbt_runtime()
    from dbt.cli.main import cli

    sys.exit(cli(prog_name="dbt"))


if __name__ == "__main__":
    main()
