"""The hooks that ready a dbt task's process, each run in a process of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path


def test_freezing_leaves_the_loaded_objects_out_of_a_collection_and_keeps_collecting_new_garbage() -> None:
    script = textwrap.dedent(
        """
        import gc, json, sys
        from warehouse.runtime import freeze_loaded_objects

        tracked_before = len(gc.get_objects())
        freeze_loaded_objects()
        tracked_after = len(gc.get_objects())

        class Node:
            pass

        cycle = Node()
        cycle.self = cycle
        del cycle
        print(json.dumps({
            "dbt_imported": "dbt.cli.main" in sys.modules,
            "tracked_before": tracked_before,
            "frozen": gc.get_freeze_count(),
            "tracked_after": tracked_after,
            "collected": gc.collect(),
        }))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    figures = json.loads(result.stdout.splitlines()[-1])

    assert figures["dbt_imported"]
    assert figures["frozen"] > figures["tracked_before"] > 10_000  # dbt's modules were loaded, then frozen
    assert figures["tracked_after"] < 100
    assert figures["collected"] >= 1  # a cycle made after the freeze is still collected


READY_SCRIPT = textwrap.dedent(
    """
    import json
    from warehouse.runtime import ready_dbt_task

    ready_dbt_task()

    from dbt.adapters.postgres.connections import PostgresConnectionManager
    from dbt.adapters.postgres.impl import PostgresAdapter
    from dbt_common.clients.jinja import MacroFuzzEnvironment
    from dbt_common.events.event_manager import EventManager

    templates = getattr(MacroFuzzEnvironment.compile, "compiled_templates", None)
    print(json.dumps({
        "connections_kept": getattr(PostgresConnectionManager.release, "keeps_connection", False),
        "events_skipped": getattr(EventManager.fire_event, "skips_unwritten", False),
        "columns_read_directly": getattr(PostgresAdapter.get_columns_in_relation, "reads_directly", False),
        "templates_folder": str(templates.directory) if templates else None,
    }))
    """
)


def ready_task_process(local_dir: Path, **switches: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", READY_SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PMO_LOCAL_DIR": str(local_dir), **switches},
    )
    return json.loads(result.stdout.splitlines()[-1])


def test_a_dbt_task_s_process_keeps_connections_trims_overheads_and_caches_templates(tmp_path: Path) -> None:
    readied = ready_task_process(tmp_path)

    assert readied["connections_kept"] and readied["events_skipped"] and readied["columns_read_directly"]
    assert Path(readied["templates_folder"]).parent == tmp_path / "dbt-templates"


def test_each_of_a_dbt_task_s_switches_turns_its_part_off(tmp_path: Path) -> None:
    readied = ready_task_process(
        tmp_path, PMO_DBT_KEEP_CONNECTIONS="0", PMO_DBT_TRIM_OVERHEADS="0", PMO_DBT_TEMPLATE_CACHE="0"
    )

    assert readied == {
        "connections_kept": False,
        "events_skipped": False,
        "columns_read_directly": False,
        "templates_folder": None,
    }
