"""The night's extracts replayed: the tools' incremental extracts side by side, on fresh copies of one state.

`python -m bench.night_extracts [--scale enterprise] [--rounds 3]` (not part of `make bench`) readies,
on a private server, the warehouse a night's extracts start from: the world's full refresh (the tools'
extracts side by side, no dbt: the extracts read only the raw tables and their state), the warehouse
settled, and 1% of the items and time entries changed in the simulators (`bench.night`). It keeps that
as a template. In each round it runs the night's extracts side by side, as the nightly DAG does, on a
fresh copy of the template, settled first, and prints the span from the first start to the last
finish, each tool's and each stream's seconds, each stream's requests, and the CPU they took of the
simulators, the extract processes and PostgreSQL (`bench.cpu`); then every round as one JSON line.

The simulators keep what they worked out for one night's answers: the first round answers the night's
requests as a bench night does, right after the changes, and the later ones as a second night would.
Run it on two checkouts to compare their nights' extracts on the same world.

The simulators answer at once, and each answers one request at a time: a night's extracts here are
bound by the machine's CPU. `--latency SECONDS` holds every answer of the night back that long
(the simulators' `slow` fault, which holds no lock meanwhile), as a tool's servers far away on the
network would, answering many requests at once (an Asana batch is held back twice: as a request,
then for its slowest action); `--latency-tools` names the tools it applies to (all three by
default).
"""

from __future__ import annotations

import argparse
import json

from bench.cpu import postmaster_pid
from bench.dbt_switches import copy_of
from bench.extract import TOOLS
from bench.landing import Sites, extracts_span, tool_sites
from bench.night import change_one_percent
from bench.refresh import extracts_side_by_side, settle
from simulators.world import SCALES
from warehouse.embedded import throwaway_warehouse

NIGHT_STATE = "bench_extracts_state"
NIGHT_COPY = "bench_extracts_copy"
ALWAYS = 10**12


def hold_answers_back(sites: Sites, seconds: float, tools: tuple[str, ...] = TOOLS) -> None:
    """Every answer of the simulators of `tools` `seconds` late from now on."""
    for tool in tools:
        simulator = getattr(sites, tool)
        if simulator is not None:
            simulator.faults.add("slow", path=".", times=ALWAYS, delay=seconds)


def measure(
    scale: str, rounds: int, log=print, latency: float = 0.0, latency_tools: tuple[str, ...] = TOOLS
) -> list[dict]:
    """The full refresh's state readied once, then `rounds` nights' extracts on fresh copies of it, each
    answer of the simulators of `latency_tools` `latency` seconds late."""
    nights = []
    with throwaway_warehouse(prefix="pmo-bench-night-extracts-") as server, tool_sites(scale) as sites:
        url = server.fresh_database(NIGHT_STATE)
        postmaster = postmaster_pid(url)
        log(f"{scale}: full refresh's extracts")
        extracts_side_by_side(sites, url, postmaster)
        settle(url)
        change_one_percent(sites)
        if latency > 0:
            hold_answers_back(sites, latency, latency_tools)
        for round_number in range(1, rounds + 1):
            copy_url = copy_of(server, NIGHT_STATE, NIGHT_COPY)
            runs, cpu = extracts_side_by_side(sites, copy_url, postmaster, incremental=True)
            night = {
                "round": round_number,
                "latency": {tool: latency for tool in latency_tools} if latency > 0 else {},
                "seconds": extracts_span(runs),
                "tools": {tool: round(run.seconds, 2) for tool, run in runs.items()},
                "streams": {
                    tool: {stream: round(result["seconds"], 2) for stream, result in run.results.items()}
                    for tool, run in runs.items()
                },
                "requests": {
                    tool: {stream: int(result["requests"]) for stream, result in run.results.items()}
                    for tool, run in runs.items()
                },
                "records": {
                    tool: sum(int(result["records"]) for result in run.results.values()) for tool, run in runs.items()
                },
                "cpu": {
                    "simulators": round(cpu.simulators, 2),
                    "extracts": round(cpu.extracts, 2),
                    "warehouse": round(cpu.warehouse, 2),
                },
            }
            log(
                f"round {round_number}: {night['seconds']:.2f} s from the first start to the last finish;"
                f" {', '.join(f'{tool} {seconds:.2f} s' for tool, seconds in night['tools'].items())};"
                f" CPU: simulators {cpu.simulators:.2f} s, extracts {cpu.extracts:.2f} s,"
                f" PostgreSQL {cpu.warehouse:.2f} s"
            )
            for tool, streams in night["streams"].items():
                requests = night["requests"][tool]
                log(
                    f"  {tool}: "
                    + ", ".join(
                        f"{stream} {seconds:.2f} s ({requests[stream]} requests)" for stream, seconds in streams.items()
                    )
                )
            nights.append(night)
    return nights


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="enterprise")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds every answer of the night is held back (default 0)"
    )
    parser.add_argument(
        "--latency-tools",
        default=",".join(TOOLS),
        help=f"comma-separated tools whose answers --latency holds back (default {','.join(TOOLS)})",
    )
    args = parser.parse_args(argv)
    latency_tools = tuple(tool for tool in args.latency_tools.split(",") if tool)
    unknown = set(latency_tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools {sorted(unknown)}; known: {list(TOOLS)}")
    nights = measure(args.scale, max(1, args.rounds), latency=max(0.0, args.latency), latency_tools=latency_tools)
    print(json.dumps(nights))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
