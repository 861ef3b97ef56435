"""`python -m bench.run` still runs end to end and prints every row of its table (timings are not checked)."""

from __future__ import annotations

from bench.run import main


def table_rows(text: str) -> dict[tuple[str, str], list[str]]:
    """(section, measure) -> the row's cells, for each row of the markdown table in `text`."""
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 6 and cells[0] not in ("section", "") and set(cells[0]) != {"-"}:
            rows[(cells[0], cells[1])] = cells
    return rows


def test_the_bench_prints_and_writes_every_row(tmp_path, capsys):
    out = tmp_path / "results.md"
    arguments = ["--scale", "demo", "--memory-scales", "demo", "--repeat", "1", "--skip-dlt", "--skip-dbt"]
    assert main([*arguments, "--out", str(out)]) == 0
    printed = table_rows(capsys.readouterr().out)
    written_text = out.read_text()
    assert table_rows(written_text) == printed
    assert "machine:" in written_text and "PostgreSQL" in written_text

    measures = {(section, measure.split(" (")[0].split(",")[0]) for section, measure in printed}
    assert measures == {
        ("landing", "jira issues"),
        ("landing", "jira worklogs"),
        ("landing", "jira issue_changelogs"),
        ("landing", "jira"),
        ("peer", "dlt"),
        ("dbt", "build"),
        ("memory", "extract peak RSS"),
        ("parse", "DAG folder"),
    }
    for (section, _), cells in printed.items():
        assert cells[2], f"{section} row has no value"
        assert "failed" not in cells[2]
        if section == "landing":
            assert cells[2].endswith(" s)") and cells[3].startswith("raw COPY") and float(cells[4]) > 0
    skipped = {section: cells[2] for (section, _), cells in printed.items() if section in ("peer", "dbt")}
    assert skipped == {"peer": "skipped (--skip-dlt)", "dbt": "skipped (--skip-dbt)"}
