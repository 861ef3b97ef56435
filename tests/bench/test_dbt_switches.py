"""`python -m bench.dbt_switches` kept from rotting: one round of each switch at the demo size."""

from __future__ import annotations

from bench.dbt_switches import SWITCHES, measure


def test_a_round_builds_the_night_with_connections_kept_and_closed() -> None:
    lines: list[str] = []
    builds = measure("demo", rounds=1, log=lines.append)

    by_setting = {build["setting"]: build for build in builds}
    assert list(by_setting) == list(SWITCHES["connections"].settings())
    assert all(build["failures"] == [] and build["seconds"] > 0 for build in builds)
    # one connection a thread and the main one kept, against one a node
    assert by_setting["kept"]["sessions"] <= 4 < 100 < by_setting["closed"]["sessions"]
    assert by_setting["kept"]["no_transaction_warnings"] <= by_setting["closed"]["no_transaction_warnings"]
    assert sum(line.startswith("round 1, connections") for line in lines) == 2


def test_a_round_builds_the_night_with_dbt_s_overheads_trimmed_and_not() -> None:
    lines: list[str] = []
    builds = measure("demo", rounds=1, log=lines.append, switch="overheads")

    assert [build["setting"] for build in builds] == ["trimmed", "untrimmed"]
    assert all(build["failures"] == [] and build["seconds"] > 0 and build["sessions"] <= 4 for build in builds)
    assert sum(line.startswith("round 1, overheads") for line in lines) == 2
