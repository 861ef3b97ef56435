"""The night's rows of the bench's table, from a refresh whose figures are given (no run needed)."""

from __future__ import annotations

from datetime import timedelta

from bench.cpu import CpuTimes
from bench.dbt_layers import DbtBuild
from bench.landing import ExtractRun
from bench.night import NightOfChanges
from bench.refresh import Refresh
from bench.run import night_rows


def extract_run(seconds: float, started_at: float) -> ExtractRun:
    result = {"stream": "issues", "records": 10, "deleted": 1, "seconds": seconds}
    return ExtractRun({"issues": result}, seconds, 1 << 20, started_at, started_at + seconds)


def test_the_night_names_its_slowest_nodes_by_name_slowest_first():
    night_build = DbtBuild(
        seconds=12.0,
        peak_rss_bytes=1 << 20,
        layer_seconds={"marts": 9.0, "staging": 3.0},
        nodes=4,
        node_seconds={
            "model.pmo_warehouse.stg_jira__issues": 3.0,
            "test.pmo_warehouse.unique_fct_work_items_work_item_key.5d1f0c2a9b": 0.4,
            "model.pmo_warehouse.fct_project_daily": 8.5,
            "seed.pmo_warehouse.people_aliases": 0.1,
        },
    )
    refresh = Refresh(
        extracts={"jira": extract_run(10.0, 0.0)},
        dbt_phases={"marts": DbtBuild(seconds=30.0, peak_rss_bytes=1 << 20)},
        changes=NightOfChanges({"jira issues": 3}, timedelta(0)),
        night_extracts={"jira": extract_run(2.0, 100.0)},
        night_dbt=night_build,
    )

    rows = {row.measure: row for row in night_rows(refresh)}

    assert rows["dbt slowest nodes"].value == (
        "fct_project_daily 8.5 s, stg_jira__issues 3.0 s, "
        "unique_fct_work_items_work_item_key 0.4 s, people_aliases 0.1 s"
    )
    assert rows["incremental night, every phase"].value == "14.0 s"
    assert rows["incremental night, every phase"].ratio == f"{14.0 / 40.0:.2f}"


def test_the_night_with_nothing_changed_is_compared_with_the_full_refresh_and_the_night():
    refresh = Refresh(
        extracts={"jira": extract_run(10.0, 0.0), "asana": extract_run(4.0, 0.0)},
        dbt_phases={"marts": DbtBuild(seconds=30.0, peak_rss_bytes=1 << 20)},
        changes=NightOfChanges({"jira issues": 3}, timedelta(hours=12)),
        night_extracts={"jira": extract_run(2.0, 100.0), "asana": extract_run(1.0, 100.5)},
        night_dbt=DbtBuild(seconds=12.0, peak_rss_bytes=1 << 20, nodes=4),
        quiet_extracts={"jira": extract_run(1.0, 200.0), "asana": extract_run(1.5, 200.25)},
        quiet_dbt=DbtBuild(seconds=9.0, peak_rss_bytes=1 << 20, nodes=4),
        quiet_settle_seconds=0.4,
    )

    rows = {row.measure: row for row in night_rows(refresh)}

    changes = rows["changes (1% of items and time entries, a few deletes and new items)"]
    assert (changes.value, changes.reference) == ("3 jira issues", "edited over 12.0 h before the night")
    extracts = rows["nothing changed since: extract + load, the 2 tools side by side"]
    assert extracts.value == "1.8 s (20 records read: jira 10, asana 10)"
    assert extracts.reference == "the night's 2.0 s"
    assert rows["nothing changed since: dbt build"].reference == "the night's 12.0 s"
    every_phase = rows["nothing changed since, every phase"]
    assert every_phase.value == "10.8 s (settled first: 0.4 s, not counted)"
    assert every_phase.reference == "full refresh 40.0 s"
    assert every_phase.ratio == f"{10.75 / 40.0:.2f}"
    assert every_phase.target == ""


def test_a_refresh_without_the_night_again_has_no_rows_for_it():
    refresh = Refresh(
        extracts={"jira": extract_run(10.0, 0.0)},
        dbt_phases={"marts": DbtBuild(seconds=30.0, peak_rss_bytes=1 << 20)},
        night_extracts={"jira": extract_run(2.0, 100.0)},
        night_dbt=DbtBuild(seconds=12.0, peak_rss_bytes=1 << 20),
    )

    assert not [row for row in night_rows(refresh) if row.measure.startswith("nothing changed")]


def test_the_extracts_cpu_is_shown_by_kind_of_process_against_the_cores_of_their_span(monkeypatch):
    monkeypatch.setattr("bench.run.os.cpu_count", lambda: 2)
    refresh = Refresh(
        extracts={"jira": extract_run(10.0, 0.0), "asana": extract_run(4.0, 0.0)},
        dbt_phases={"marts": DbtBuild(seconds=30.0, peak_rss_bytes=1 << 20)},
        night_extracts={"jira": extract_run(2.0, 100.0), "asana": extract_run(4.0, 100.0)},
        night_extracts_cpu=CpuTimes(simulators=1.5, extracts=2.25, warehouse=3.75, wall=4.5),
        night_dbt=DbtBuild(seconds=12.0, peak_rss_bytes=1 << 20),
        quiet_extracts={"jira": extract_run(1.0, 200.0)},
        quiet_dbt=DbtBuild(seconds=9.0, peak_rss_bytes=1 << 20),
    )

    rows = {row.measure: row for row in night_rows(refresh)}

    night = rows["CPU of the extracts side by side"]
    assert night.value == (
        "7.5 s in 4.5 s (1.7 of 2 cores): simulators 1.5 s, extract processes 2.2 s, PostgreSQL 3.8 s"
    )
    assert night.reference == "the simulators do the tools' servers' work"
    assert "nothing changed since: CPU of the extracts side by side" not in rows, "not read, not shown"
