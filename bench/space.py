"""The free disk space a bench run needs, checked before it starts.

A run keeps its private PostgreSQL's data in the system's temporary directory (`TMPDIR`), with a
database for each phase (the landing, the peer, the full refresh and its nights, each memory size,
the enterprise world), and generates a streamed world's Jira site into the simulators' store
(`SIMULATOR_STORE_DIR`) unless that site is already there. At the enterprise size both run to
gigabytes; a disk that fills in the middle of the run stops it after many minutes, with PostgreSQL's
error in an extract's traceback. `shortfalls()` names, before anything starts, each filesystem that
lacks room for what the run will write to it.

The figures per record come from enterprise runs (2,420,000 Jira issues and worklogs): the bench's
data directory, with every database of a run (`python -m bench.run --enterprise`), grew to 14.0 GiB at
most; the Jira site took 3.9 GiB.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from simulators.jira_stored import store_directory
from simulators.world import SCALES, WorldConfig

GIB = 1024**3
# Bytes the warehouse's data directory grows by per Jira issue and worklog of a world (the other
# tools' records and the marts in proportion), and what it holds before any is loaded: the server's
# own files and the write-ahead log a large load fills.
WAREHOUSE_BYTES_PER_RECORD = 5_800
WAREHOUSE_BASE_BYTES = 2 * GIB
# Bytes of a streamed world's generated Jira site per issue and worklog.
JIRA_STORE_BYTES_PER_RECORD = 1_750


@dataclass(frozen=True)
class SpaceNeed:
    """`bytes` that the run will write under `directory`, for `purpose`."""

    purpose: str
    directory: Path
    bytes: int


def jira_records(scale: str) -> int:
    profile = SCALES[scale]
    return profile.jira_issues + profile.jira_worklogs


def space_needs(scales: Iterable[str], streamed_scale: str | None, store_root: Path | None = None) -> list[SpaceNeed]:
    """What a run of the worlds `scales`, and of `streamed_scale` (the enterprise world) if given, will write."""
    run_scales = [*dict.fromkeys(scales), *([streamed_scale] if streamed_scale else [])]
    warehouse = WAREHOUSE_BASE_BYTES + WAREHOUSE_BYTES_PER_RECORD * sum(jira_records(scale) for scale in run_scales)
    needs = [SpaceNeed("the bench's PostgreSQL data", Path(tempfile.gettempdir()), warehouse)]
    if streamed_scale:
        site = store_directory(WorldConfig(scale=streamed_scale), store_root)
        if not (site / "complete").exists():
            needs.append(
                SpaceNeed(
                    f"the {streamed_scale} world's Jira site",
                    site,
                    JIRA_STORE_BYTES_PER_RECORD * jira_records(streamed_scale),
                )
            )
    return needs


def existing_ancestor(path: Path) -> Path:
    """`path`, or the nearest folder above it that exists (where it will be created)."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def shortfalls(needs: Iterable[SpaceNeed]) -> list[str]:
    """A message for each filesystem whose free space is less than what `needs` will write to it
    (needs on the same filesystem add up); empty when every one has room."""
    by_device: dict[int, tuple[Path, list[SpaceNeed]]] = {}
    for need in needs:
        folder = existing_ancestor(need.directory)
        by_device.setdefault(os.stat(folder).st_dev, (folder, []))[1].append(need)
    messages = []
    for folder, device_needs in by_device.values():
        wanted = sum(need.bytes for need in device_needs)
        free = shutil.disk_usage(folder).free
        if free < wanted:
            parts = "; ".join(
                f"{need.purpose} in {need.directory}: {need.bytes / GIB:.1f} GiB" for need in device_needs
            )
            messages.append(f"{wanted / GIB:.1f} GiB needed, {free / GIB:.1f} GiB free ({parts})")
    return messages
