"""The peer's runs: the fastest of several runs over the same data is the one compared, in a row that
shows its ratio to ours plainly against the target."""

from __future__ import annotations

import pytest

from bench.landing import ExtractRun
from bench.peer import PeerRun
from bench.run import peer_row


def test_the_fastest_run_is_kept_with_the_highest_peak_memory():
    runs = [
        PeerRun({"issues": 300, "worklogs": 800}, 2.5, 90 << 20, "1.31.0"),
        PeerRun({"issues": 300, "worklogs": 800}, 1.9, 80 << 20, "1.31.0"),
        PeerRun({"issues": 300, "worklogs": 800}, 2.1, 95 << 20, "1.31.0"),
    ]

    best = PeerRun.best_of(runs)

    assert best.seconds == 1.9
    assert best.total_records == 1_100
    assert best.peak_rss_bytes == 95 << 20


def test_runs_that_loaded_different_counts_are_refused():
    runs = [
        PeerRun({"issues": 300, "worklogs": 800}, 2.5, 90 << 20, "1.31.0"),
        PeerRun({"issues": 300, "worklogs": 799}, 1.9, 80 << 20, "1.31.0"),
    ]

    with pytest.raises(RuntimeError, match="different record counts: \\[1099, 1100\\]"):
        PeerRun.best_of(runs)


def test_the_peer_row_shows_a_ratio_just_under_the_target_as_under_it():
    streams = {"issues": {"records": 300, "seconds": 0.1}, "worklogs": {"records": 692, "seconds": 0.1}}
    ours = ExtractRun(streams, 0.2, 0)
    dlt = PeerRun({"issues": 300, "worklogs": 692}, 0.992, 90 << 20, "1.31.0")

    row = peer_row(ours, dlt)

    assert row.ratio == "4.96x"
    assert row.target == ">= 5x"
