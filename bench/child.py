"""Running a measurement in a child process: its environment, and the JSON report it prints last."""

from __future__ import annotations

import json
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment, with the checkout importable, plus `extra`."""
    return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **extra}


def last_json_line(output: str) -> dict:
    """The report a child prints last (a profiler may print its own lines around it)."""
    lines = [line for line in output.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"no report in the child's output:\n{output[-2000:]}")
    return json.loads(lines[-1])
