"""The hook that readies a dbt task's process, run in a process of its own."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


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
