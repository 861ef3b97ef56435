"""The landing's rounds: each round lands every tool, COPYs the same records and runs the peer, so that
every side's best of the rounds comes from the same stretch of the machine's time."""

from __future__ import annotations

import bench.landing as landing
from bench.landing import VOLUME_STREAMS, CopyLimit, ExtractRun, measure_landing

TOOLS = ("jira", "asana")
# seconds of each stream's COPY in rounds 0, 1 and 2: the fastest round differs from stream to stream
COPY_SECONDS = {"issues": (0.3, 0.1, 0.2), "worklogs": (0.2, 0.3, 0.1), "sections": (0.1, 0.2, 0.3)}


def test_each_round_lands_copies_and_runs_the_peer_before_the_next_and_the_best_of_all_rounds_is_kept(monkeypatch):
    calls: list[tuple[str, ...]] = []
    rounds = {"count": -1}

    def create_database(server, name):
        rounds["count"] += 1
        calls.append(("database", name))
        return f"postgresql://bench/round-{rounds['count']}"

    def run_extract(sites, tool, url, *, one_stream_at_a_time, profile_svg):
        calls.append(("extract", tool, url))
        seconds = 1.0 + rounds["count"]
        return ExtractRun({stream: {"records": 10, "seconds": seconds} for stream in VOLUME_STREAMS[tool]}, seconds, 0)

    def copy_limit(url, tool, stream):
        calls.append(("copy", tool, stream, url))
        return CopyLimit(f"{tool}_{stream}", 10, COPY_SECONDS.get(stream, (0.5, 0.5, 0.5))[rounds["count"]])

    monkeypatch.setattr(landing, "create_database", create_database)
    monkeypatch.setattr(landing, "run_extract", run_extract)
    monkeypatch.setattr(landing, "copy_limit", copy_limit)

    result = measure_landing(None, None, TOOLS, 3, each_round=lambda: calls.append(("peer",)))

    expected: list[tuple[str, ...]] = []
    for round_number in range(3):
        url = f"postgresql://bench/round-{round_number}"
        expected.append(("database", "bench_landing"))
        expected += [("extract", tool, url) for tool in TOOLS]
        expected += [("copy", tool, stream, url) for tool in TOOLS for stream in VOLUME_STREAMS[tool]]
        expected.append(("peer",))
    assert calls == expected
    assert result.limits[("jira", "issues")].seconds == 0.1
    assert result.limits[("jira", "worklogs")].seconds == 0.1
    assert result.limits[("asana", "sections")].seconds == 0.1
    assert result.extracts["jira"].stream_seconds("issues") == 1.0
