"""CPU time spent by the processes a bench phase runs on, read from Linux's `/proc`.

When the tools' extracts run side by side, three kinds of process share the machine's cores:

- this process, which serves the tools' simulators (in production the tools' servers do that work,
  on other machines), and otherwise only waits for its children;
- the extract processes, its children, counted once they have ended and been waited for;
- the PostgreSQL server: its postmaster, every backend and worker still running, and those that
  ended (a parent's counts include the children it has waited for).

A phase's `CpuTimes` is the difference of a reading after it and one before it, with the wall
seconds between the two readings: the extract processes start (Python, imports) before the time
they report as their start, so the phase's own span may be shorter than the window its CPU was
read in.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench.extract import cpu_seconds

PROC = Path("/proc")


@dataclass(frozen=True)
class CpuTimes:
    """CPU seconds (user and system) of the simulators, the extract processes and PostgreSQL, and the
    wall seconds (of a monotonic clock) they were read at, or (a difference) over."""

    simulators: float
    extracts: float
    warehouse: float
    wall: float = 0.0

    def __sub__(self, earlier: CpuTimes) -> CpuTimes:
        return CpuTimes(
            self.simulators - earlier.simulators,
            self.extracts - earlier.extracts,
            self.warehouse - earlier.warehouse,
            self.wall - earlier.wall,
        )

    @property
    def total(self) -> float:
        return self.simulators + self.extracts + self.warehouse


def postmaster_pid(warehouse_url: str) -> int:
    """The PID of the PostgreSQL server behind `warehouse_url`, which must run on this machine: the
    parent of the backend a connection is served by."""
    with psycopg.connect(warehouse_url) as connection:
        backend = connection.execute("select pg_backend_pid()").fetchone()[0]
        fields = _stat_fields(backend)  # while the connection keeps the backend alive
    if fields is None:
        raise RuntimeError(f"the PostgreSQL backend {backend} is not a process of this machine")
    return int(fields[1])


def server_cpu_seconds(postmaster: int) -> float:
    """CPU seconds of a PostgreSQL server so far: its postmaster, the children it has waited for, and
    the children still running."""
    fields = _stat_fields(postmaster)
    if fields is None:
        raise RuntimeError(f"no process {postmaster}: the PostgreSQL server has stopped")
    ticks = sum(int(value) for value in fields[11:15])
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        child = _stat_fields(int(entry.name))
        if child is not None and int(child[1]) == postmaster:
            ticks += int(child[11]) + int(child[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_times(postmaster: int) -> CpuTimes:
    """A reading of the three kinds of process's CPU seconds so far, and of the monotonic clock."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuTimes(
        cpu_seconds(),
        children.ru_utime + children.ru_stime,
        server_cpu_seconds(postmaster),
        time.monotonic(),
    )


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of `/proc/<pid>/stat` after the command name (state, ppid, ...; utime is [11]), or
    None when there is no such process (any more)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # the command name, in parentheses, may itself hold spaces and parentheses
    return stat[stat.rindex(")") + 2 :].split()
