"""`python -m bench.run` still runs end to end and prints every row of its table (timings are not checked)."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from bench.extract import TOOLS
from bench.run import main
from simulators.world import SCALES

# a streamed world small enough for a test: the enterprise section's code on the demo's people and projects
SMOKE_SCALE = "bench-smoke"


def table_rows(text: str) -> dict[tuple[str, str], list[str]]:
    """(section, measure) -> the row's cells, for each row of the markdown table in `text`."""
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 6 and cells[0] not in ("section", "") and set(cells[0]) != {"-"}:
            rows[(cells[0], cells[1])] = cells
    return rows


def count_in(cell: str, unit: str = " records") -> int:
    """The count a cell gives in brackets before `unit`: `3.2 s (143,208 records)`, `… (205 in 0.01 s)`."""
    return int(cell.split("(")[1].split(unit)[0].replace(",", ""))


def test_the_bench_prints_and_writes_every_row(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(
        SCALES,
        SMOKE_SCALE,
        replace(SCALES["demo"], jira_issues=600, jira_worklogs=1500, review_loops=(1, 5), streamed_jira=True),
    )
    monkeypatch.setenv("SIMULATOR_STORE_DIR", str(tmp_path / "store"))
    out = tmp_path / "results.md"
    arguments = ["--scale", "demo", "--memory-scales", "demo", "--repeat", "1", "--skip-dlt", "--skip-dbt"]
    arguments += ["--enterprise", SMOKE_SCALE]
    assert main([*arguments, "--out", str(out)]) == 0
    printed = table_rows(capsys.readouterr().out)
    written_text = out.read_text()
    assert table_rows(written_text) == printed
    assert "machine:" in written_text and "PostgreSQL" in written_text
    assert "work_mem 64MB" in written_text and "max_wal_size 4GB" in written_text, "the server's settings, as read"

    measures = {(section, measure.split(" (")[0].split(",")[0]) for section, measure in printed}
    assert measures == {
        ("landing", "jira issues"),
        ("landing", "jira worklogs"),
        ("landing", "jira issue_changelogs"),
        ("landing", "jira"),
        ("landing", "asana sections"),
        ("landing", "asana tasks"),
        ("landing", "asana time_entries"),
        ("landing", "asana status_updates"),
        ("landing", "asana"),
        ("landing", "smartsheet register_rows"),
        ("landing", "smartsheet rate_card_rows"),
        ("landing", "smartsheet plan_rows"),
        ("landing", "smartsheet"),
        ("peer", "dlt"),
        ("refresh", "extract + load jira"),
        ("refresh", "extract + load asana"),
        ("refresh", "extract + load smartsheet"),
        ("refresh", "extract + load"),
        ("refresh", "CPU of the extracts side by side"),
        ("refresh", "dbt build"),
        ("refresh", "full refresh"),
        ("night", "warehouse settled after the full refresh"),
        ("night", "changes"),
        ("night", "extract + load jira"),
        ("night", "extract + load asana"),
        ("night", "extract + load smartsheet"),
        ("night", "extract + load"),
        ("night", "CPU of the extracts side by side"),
        ("night", "dbt build"),
        ("night", "incremental night"),
        ("night", "nothing changed since: extract + load"),
        ("night", "nothing changed since: CPU of the extracts side by side"),
        ("night", "nothing changed since: dbt build"),
        ("night", "nothing changed since"),
        ("memory", "extract peak RSS"),
        ("parse", "DAG folder"),
        ("enterprise", "world served"),
        ("enterprise landing", "asana sections"),
        ("enterprise landing", "asana tasks"),
        ("enterprise landing", "asana time_entries"),
        ("enterprise landing", "asana status_updates"),
        ("enterprise landing", "asana"),
        ("enterprise landing", "smartsheet register_rows"),
        ("enterprise landing", "smartsheet rate_card_rows"),
        ("enterprise landing", "smartsheet plan_rows"),
        ("enterprise landing", "smartsheet"),
        ("enterprise", "extract + load jira"),
        ("enterprise", "extract + load asana"),
        ("enterprise", "extract + load smartsheet"),
        ("enterprise", "extract + load"),
        ("enterprise", "CPU of the extracts side by side"),
        ("enterprise", "dbt build"),
        ("enterprise", "full refresh"),
        ("enterprise night", "warehouse settled after the full refresh"),
        ("enterprise night", "changes"),
        ("enterprise night", "extract + load jira"),
        ("enterprise night", "extract + load asana"),
        ("enterprise night", "extract + load smartsheet"),
        ("enterprise night", "extract + load"),
        ("enterprise night", "CPU of the extracts side by side"),
        ("enterprise night", "dbt build"),
        ("enterprise night", "incremental night"),
        ("enterprise night", "nothing changed since: extract + load"),
        ("enterprise night", "nothing changed since: CPU of the extracts side by side"),
        ("enterprise night", "nothing changed since: dbt build"),
        ("enterprise night", "nothing changed since"),
    }
    for (section, _), cells in printed.items():
        assert cells[2], f"{section} row has no value"
        assert "failed" not in cells[2]
        if section in ("landing", "enterprise landing"):
            assert cells[2].endswith(" s)") and cells[3].startswith("raw COPY") and float(cells[4]) > 0
    skipped = {(section, measure): cells[2] for (section, measure), cells in printed.items() if "skipped" in cells[2]}
    assert skipped == {
        ("peer", "dlt, jira issues + worklogs (csv/COPY, jsonb payload)"): "skipped (--skip-dlt)",
        ("refresh", "dbt build, layer by layer"): "skipped (--skip-dbt)",
        ("night", "dbt build"): "skipped (--skip-dbt)",
        ("night", "nothing changed since: dbt build"): "skipped (--skip-dbt)",
        ("enterprise", "dbt build, layer by layer"): "skipped (--skip-dbt)",
        ("enterprise night", "dbt build"): "skipped (--skip-dbt)",
        ("enterprise night", "nothing changed since: dbt build"): "skipped (--skip-dbt)",
    }
    memory = {measure: cells for (section, measure), cells in printed.items() if section == "memory"}
    assert len(memory) == 2
    smoke_memory = next(
        cells for measure, cells in memory.items() if measure.startswith(f"extract peak RSS, {SMOKE_SCALE}")
    )
    assert "600 issues" in smoke_memory[1] and smoke_memory[3].startswith("demo:") and float(smoke_memory[4]) > 0
    enterprise = {measure: cells for (section, measure), cells in printed.items() if section == "enterprise"}
    assert "600 Jira issues" in enterprise["world served"][2]
    enterprise_landing = {
        measure: cells for (section, measure), cells in printed.items() if section == "enterprise landing"
    }
    asana_refreshed = enterprise["extract + load asana, full"][2]
    landed = sum(
        count_in(enterprise_landing[f"asana {stream}"][2], " in")
        for stream in ("sections", "tasks", "time_entries", "status_updates")
    )
    assert 0 < landed <= count_in(asana_refreshed), "the enterprise world's records"
    jira_records = enterprise["extract + load jira, full"][2]
    assert count_in(jira_records) > 600 + 1400, jira_records
    for night_section in ("night", "enterprise night"):
        night = {measure: cells for (section, measure), cells in printed.items() if section == night_section}
        changes = night["changes (1% of items and time entries, a few deletes and new items)"][2]
        for kind in ("jira issues", "jira worklogs", "asana tasks", "asana time entries", "smartsheet rows"):
            assert kind in changes
        for tool in ("jira", "asana", "smartsheet"):
            incremental = night[f"extract + load {tool}, incremental"][2]
            assert count_in(incremental) > 0, incremental
        # the extracts ran side by side: their span covers the longest of them and is what the night adds up
        span = float(night["extract + load, the 3 tools side by side"][2].split(" s ")[0])
        longest = max(float(night[f"extract + load {tool}, incremental"][2].split(" s ")[0]) for tool in TOOLS)
        assert span >= longest - 0.05
        # every kind of process the extracts ran on is counted, the extract processes used some CPU (the
        # simulators' share of a smoke-sized night can print as 0.0 s), and together no more than the cores had
        cpu = night["CPU of the extracts side by side"][2]
        used = {part.rsplit(" ", 2)[0]: float(part.rsplit(" ", 2)[1]) for part in cpu.split(": ")[1].split(", ")}
        assert set(used) == {"simulators", "extract processes", "PostgreSQL"}, cpu
        assert min(used.values()) >= 0 and used["extract processes"] > 0, cpu
        window = float(cpu.split(" s in ")[1].split(" s ")[0])
        assert window >= span and float(cpu.split(" s in ")[0]) <= (os.cpu_count() or 1) * window + 0.1, cpu
        every_phase = night["incremental night, every phase but dbt"]
        assert float(every_phase[2].split(" s")[0]) == span
        # the night again with nothing changed: it reads less than the night that read the changes
        read_by_night = sum(count_in(night[f"extract + load {tool}, incremental"][2]) for tool in TOOLS)
        quiet = night["nothing changed since: extract + load, the 3 tools side by side"][2]
        assert 0 < count_in(quiet, " records read") < read_by_night, (quiet, read_by_night)
        quiet_every_phase = night["nothing changed since, every phase but dbt"]
        assert float(quiet_every_phase[2].split(" s")[0]) == float(quiet.split(" s ")[0])


def test_a_profile_without_py_spy_is_refused_before_anything_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("bench.run.PY_SPY", tmp_path / "no-py-spy")
    started = []
    monkeypatch.setattr("bench.run.run", lambda *args, **kwargs: started.append(args))

    with pytest.raises(SystemExit) as refused:
        main(["--scale", "demo", "--profile-dir", str(tmp_path / "profiles"), "--out", str(tmp_path / "results.md")])

    assert refused.value.code == 2
    assert started == []
    assert "--profile-dir needs py-spy" in capsys.readouterr().err
