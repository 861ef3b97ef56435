"""A full refresh by phase, an incremental night after 1% of the items and time entries changed, then a
night with nothing changed.

The full refresh, on a database of its own: each tool's extract as a full refresh (HTTP, parsing
and the load into raw happen together, a page at a time, so extract and load are one phase per
tool), the three side by side as the nightly DAG's extract tasks run, then `dbt build` layer by
layer (`bench.dbt_layers.LAYER_PHASES`). The night: the simulators apply
`bench.night.change_one_percent`, then what a night runs: the tools' extracts from their saved
state, side by side, and one `dbt build` of the whole project. Its wall time (the extracts' span
from the first start to the last finish, then dbt) is compared with the full refresh's.

Between the two the warehouse is settled (`settle`), untimed: a night runs a day after the refresh,
when autovacuum has vacuumed and analysed the tables the refresh filled and the checkpointer has
written its pages, so that the night measures its own work, not the refresh's leftovers.

Each time the extracts run side by side, the CPU seconds of the simulators, the extract processes
and PostgreSQL are read before and after (`bench.cpu`): how much of the machine the phase used, and
what share of it the simulators took, whose work the tools' servers do in production.

Then, settled again, the same night once more with nothing changed in the tools: what a night costs
whatever changed (the extracts still ask every tool what changed and list what exists, and each
model still looks for what changed), which the changed night's time includes. The night's edits
are stamped across the working day before it (`bench.night.edit_window`), so this night reads again
only those within the connectors' overlap, as the night of the next day would.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg

from bench.cpu import CpuTimes, cpu_times, postmaster_pid
from bench.dbt_layers import DbtBuild, DbtProjectCopy, dbt_project_copy
from bench.extract import TOOLS
from bench.landing import ExtractRun, Sites, extracts_span, run_extracts_side_by_side
from bench.night import NightOfChanges, change_one_percent
from simulators.jira_stored import StoredJiraSite


@dataclass
class Refresh:
    """The phases of a full refresh and of the night after it, each with its wall time."""

    extracts: dict[str, ExtractRun] = field(default_factory=dict)
    extracts_cpu: CpuTimes | None = None
    dbt_phases: dict[str, DbtBuild] = field(default_factory=dict)
    changes: NightOfChanges = field(default_factory=lambda: NightOfChanges({}, timedelta(0)))
    night_extracts: dict[str, ExtractRun] = field(default_factory=dict)
    night_extracts_cpu: CpuTimes | None = None
    night_dbt: DbtBuild | None = None
    settle_seconds: float = 0.0
    quiet_extracts: dict[str, ExtractRun] = field(default_factory=dict)
    quiet_extracts_cpu: CpuTimes | None = None
    quiet_dbt: DbtBuild | None = None
    quiet_settle_seconds: float = 0.0

    @property
    def extracts_seconds(self) -> float:
        return extracts_span(self.extracts)

    @property
    def night_extracts_seconds(self) -> float:
        return extracts_span(self.night_extracts)

    @property
    def seconds(self) -> float:
        return self.extracts_seconds + sum(build.seconds for build in self.dbt_phases.values())

    @property
    def night_seconds(self) -> float:
        return night_wall_seconds(self.night_extracts, self.night_dbt)

    @property
    def quiet_seconds(self) -> float:
        return night_wall_seconds(self.quiet_extracts, self.quiet_dbt)


def night_wall_seconds(extracts: dict[str, ExtractRun], build: DbtBuild | None) -> float:
    """A night's wall time: its extracts' span from the first start to the last finish, then its build."""
    return extracts_span(extracts) + (build.seconds if build else 0.0)


def measure_refresh(
    sites: Sites,
    warehouse_url: str,
    run_date: str,
    *,
    with_dbt: bool = True,
    with_night: bool = True,
    results_dir: Path | None = None,
    results_prefix: str = "",
    log=lambda message: None,
) -> Refresh:
    """Run the full refresh, then (`with_night`) change 1% of the data in the simulators and run the
    night, then run it again with nothing changed; the simulators keep the changes. With
    `results_dir`, each night's dbt `run_results.json` is copied there as
    `<results_prefix>night.json` and `<results_prefix>night-unchanged.json`."""
    refresh = Refresh()
    postmaster = postmaster_pid(warehouse_url)

    def kept_results(night: str) -> Path | None:
        return results_dir / f"{results_prefix}{night}.json" if results_dir else None

    with dbt_project_copy(warehouse_url, run_date) as project:
        log(f"full refresh: {', '.join(TOOLS)} extracts, side by side")
        refresh.extracts, refresh.extracts_cpu = extracts_side_by_side(sites, warehouse_url, postmaster)
        if with_dbt:
            log("full refresh: dbt build, layer by layer")
            refresh.dbt_phases = project.build_by_layer()
        if not with_night:
            return refresh
        log("settling the warehouse before the night: vacuum, analyze, checkpoint")
        refresh.settle_seconds = settle(warehouse_url)
        # The full refresh's writes may have pushed a stored Jira site out of the page cache: the night
        # measures the connectors, not the simulator reading its files back at random.
        if isinstance(sites.world.jira, StoredJiraSite):
            sites.world.jira.shards.warm()
        refresh.changes = change_one_percent(sites)
        refresh.night_extracts, refresh.night_extracts_cpu, refresh.night_dbt = run_night(
            "night", sites, warehouse_url, postmaster, project, with_dbt, log, kept_results("night")
        )
        log("settling the warehouse again: vacuum, analyze, checkpoint")
        refresh.quiet_settle_seconds = settle(warehouse_url)
        refresh.quiet_extracts, refresh.quiet_extracts_cpu, refresh.quiet_dbt = run_night(
            "night with nothing changed",
            sites,
            warehouse_url,
            postmaster,
            project,
            with_dbt,
            log,
            kept_results("night-unchanged"),
        )
    return refresh


def run_night(
    label: str,
    sites: Sites,
    warehouse_url: str,
    postmaster: int,
    project: DbtProjectCopy,
    with_dbt: bool,
    log,
    keep_results_as: Path | None = None,
) -> tuple[dict[str, ExtractRun], CpuTimes, DbtBuild | None]:
    """What a night runs: the tools' incremental extracts side by side, then (`with_dbt`) one `dbt build`,
    its `run_results.json` copied to `keep_results_as` when given."""
    log(f"{label}: {', '.join(TOOLS)} extracts, incremental, side by side")
    extracts, cpu = extracts_side_by_side(sites, warehouse_url, postmaster, incremental=True)
    if not with_dbt:
        return extracts, cpu, None
    log(f"{label}: dbt build")
    return extracts, cpu, project.build(keep_results_as=keep_results_as)


def extracts_side_by_side(
    sites: Sites, warehouse_url: str, postmaster: int, *, incremental: bool = False
) -> tuple[dict[str, ExtractRun], CpuTimes]:
    """The tools' extracts side by side (`run_extracts_side_by_side`), and the CPU seconds they took
    of the simulators, the extract processes and the server of `postmaster`."""
    before = cpu_times(postmaster)
    runs = run_extracts_side_by_side(sites, TOOLS, warehouse_url, incremental=incremental)
    return runs, cpu_times(postmaster) - before


def settle(warehouse_url: str) -> float:
    """Vacuum and analyse every table, then write out the dirty pages, as the day after a full refresh
    does in the background; returns the seconds it took."""
    started = time.monotonic()
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        connection.execute("vacuum (analyze)")
        connection.execute("checkpoint")
    return time.monotonic() - started
