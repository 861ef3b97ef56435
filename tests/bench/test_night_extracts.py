"""`python -m bench.night_extracts` kept from rotting: one round at the demo size."""

from __future__ import annotations

from bench.night_extracts import measure


def test_a_round_replays_the_nights_extracts_of_every_tool() -> None:
    lines: list[str] = []
    nights = measure("demo", rounds=1, log=lines.append)

    assert [night["round"] for night in nights] == [1]
    night = nights[0]
    assert set(night["tools"]) == set(night["streams"]) == {"jira", "asana", "smartsheet"}
    # each tool's seconds are rounded to the hundredth, the span is not
    assert night["seconds"] >= max(night["tools"].values()) - 0.005 > 0
    assert "issue_changelogs" in night["streams"]["jira"] and "time_entries" in night["streams"]["asana"]
    # the night's changes are read: Jira's changed issues at least
    assert night["records"]["jira"] > 0 and night["records"]["asana"] > 0
    assert set(night["requests"]["jira"]) == set(night["streams"]["jira"]) and night["requests"]["jira"]["issues"] > 0
    assert all(seconds >= 0 for seconds in night["cpu"].values()) and night["cpu"]["extracts"] > 0
    assert sum(line.startswith("round 1:") for line in lines) == 1


def test_a_latency_holds_back_every_answer_of_the_night() -> None:
    night = measure("demo", rounds=1, log=lambda line: None, latency=0.3, latency_tools=("jira", "smartsheet"))[0]

    assert night["latency"] == {"jira": 0.3, "smartsheet": 0.3}
    # every tool's extract asks at least once
    assert min(night["tools"]["jira"], night["tools"]["smartsheet"]) >= 0.3
