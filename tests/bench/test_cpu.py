"""The bench reads the CPU of the simulators (its own process), the extract processes (its ended
children) and the PostgreSQL server (live and ended backends) from /proc."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psycopg

from bench.cpu import CpuTimes, cpu_times, postmaster_pid, server_cpu_seconds

# About half a second of a backend's CPU on this machine.
BUSY_QUERY = "select count(*) from generate_series(1, 4000000) as n where n % 7 = 3"


def test_the_server_is_found_as_the_parent_of_a_backend(warehouse_url):
    postmaster = postmaster_pid(warehouse_url)

    with psycopg.connect(warehouse_url) as connection:
        backend = connection.execute("select pg_backend_pid()").fetchone()[0]
        parent = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1]

    assert int(parent) == postmaster
    assert b"postgres" in Path(f"/proc/{postmaster}/cmdline").read_bytes()


def test_the_server_counts_the_cpu_of_backends_running_and_ended(warehouse_url):
    postmaster = postmaster_pid(warehouse_url)
    before = server_cpu_seconds(postmaster)
    with psycopg.connect(warehouse_url) as connection:
        connection.execute(BUSY_QUERY)
        while_connected = server_cpu_seconds(postmaster)
    deadline = time.monotonic() + 10
    after = server_cpu_seconds(postmaster)
    # the ended backend's CPU moves to its parent once the postmaster has waited for it
    while after < while_connected and time.monotonic() < deadline:
        time.sleep(0.05)
        after = server_cpu_seconds(postmaster)

    assert while_connected - before >= 0.2, "a live backend's CPU is the server's"
    assert after >= while_connected, "an ended backend's CPU stays counted"


def test_the_simulators_and_the_extracts_are_this_process_and_its_ended_children(warehouse_url):
    postmaster = postmaster_pid(warehouse_url)
    started = cpu_times(postmaster)
    busy_until = time.process_time() + 0.3
    while time.process_time() < busy_until:
        pass
    subprocess.run(
        [sys.executable, "-c", "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass"],
        check=True,
    )

    used = cpu_times(postmaster) - started

    assert used.simulators >= 0.25
    assert used.extracts >= 0.35
    assert used.warehouse < 0.2, "nothing ran on the server"
    assert used.total == used.simulators + used.extracts + used.warehouse
    assert used.wall >= 0.4, "the wall time between the readings"


def test_a_phase_is_the_difference_of_two_readings():
    phase = CpuTimes(5.0, 7.5, 12.0, 110.5) - CpuTimes(1.0, 2.5, 3.0, 100.0)

    assert phase == CpuTimes(4.0, 5.0, 9.0, 10.5)
    assert phase.total == 18.0
