"""The nightly PMO report rendered from hand-made marts: it draws in a real browser without
network, its figures are the marts' figures, and a missing or empty table leaves a clear
message in its panel instead of a broken page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from selenium.webdriver.remote.webdriver import WebDriver

from reports.formats import MISSING
from reports.nightly import LATEST_NAME, main, render_report
from tests.reports.browser_checks import CHART_IDS, full_page_screenshot, open_report, severe_console_errors
from tests.reports.conftest import RUN_DATE
from tests.reports.report_html import read_report, table_records

HEALTH_BY_SCORE = {0: "grey", 1: "red", 2: "amber", 3: "green"}


def query(database_url: str, statement: str, *params: object) -> list[tuple]:
    with psycopg.connect(database_url) as connection:
        return connection.execute(statement, params).fetchall()


def test_every_chart_draws_in_headless_chromium_without_network(
    rendered_report: Path, browser: WebDriver, tmp_path: Path
) -> None:
    open_report(browser, rendered_report)

    assert severe_console_errors(browser) == []
    screenshot = full_page_screenshot(browser, tmp_path / "pmo-report.png")
    assert screenshot.stat().st_size > 100_000
    print(f"report screenshot: {screenshot}")


def test_the_heatmap_in_the_browser_colours_each_project_by_its_health_in_the_marts(
    rendered_report: Path, marts_url: str, browser: WebDriver
) -> None:
    open_report(browser, rendered_report)
    heatmap = browser.execute_script(
        "const trace = document.getElementById('plot-health-heatmap').data[0];return {z: trace.z, text: trace.text};"
    )
    drawn = {
        label.replace("<b>", "").replace("</b>", ""): HEALTH_BY_SCORE[score]
        for labels, scores in zip(heatmap["text"], heatmap["z"], strict=True)
        for label, score in zip(labels, scores, strict=True)
        if label
    }

    projects = query(
        marts_url,
        "select project.project_code, daily.overall_health from marts.fct_project_daily as daily"
        " join marts.dim_project as project using (project_key) where daily.date_day = %s",
        RUN_DATE,
    )
    programs = query(
        marts_url,
        "select program.program_code, daily.overall_health from marts.fct_program_daily as daily"
        " join marts.dim_program as program using (program_key) where daily.date_day = %s",
        RUN_DATE,
    )
    assert drawn == dict(projects) | dict(programs)
    # The fixture spans every band, so the comparison above cannot pass on a uniform grid.
    assert {project: drawn[project] for project in ("DIG-WEB", "DIG-APP", "OPS-ERP", "OPS-WMS")} == {
        "DIG-WEB": "green",
        "DIG-APP": "amber",
        "OPS-ERP": "red",
        "OPS-WMS": "grey",
    }


def test_the_headline_figures_are_the_portfolio_figures_of_the_run_date(rendered_report: Path, marts_url: str) -> None:
    report = read_report(rendered_report)
    [(bac, pv, ev, ac, spi, cpi, overall_health)] = query(
        marts_url,
        "select sum(bac), sum(pv), sum(ev), sum(ac), round(sum(ev) / nullif(sum(pv), 0), 4),"
        " round(sum(ev) / nullif(sum(ac), 0), 4), min(overall_health)"
        " from marts.fct_portfolio_daily where date_day = %s",
        RUN_DATE,
    )

    for metric, expected in {"bac": bac, "pv": pv, "ev": ev, "ac": ac}.items():
        assert Decimal(report.metrics[metric].value) == expected, metric
        assert f"{expected:,.0f}" in report.metrics[metric].text, metric
    for metric, expected in {"spi": spi, "cpi": cpi}.items():
        assert Decimal(report.metrics[metric].value) == expected, metric
        assert f"{expected:.2f}" in report.metrics[metric].text, metric
    assert report.metrics["overall_health"].value == overall_health
    assert bac == Decimal("1700000.00")


def test_the_tables_under_the_charts_hold_the_marts_figures(rendered_report: Path, marts_url: str) -> None:
    report = read_report(rendered_report)

    health_table = {
        row["Project"]: (row["Overall"], row["SPI"], row["CPI"])
        for row in table_records(report, "table-project-health")
    }
    project_health = query(
        marts_url,
        "select project.project_code, daily.overall_health, daily.spi, daily.cpi from marts.fct_project_daily as daily"
        " join marts.dim_project as project using (project_key) where daily.date_day = %s",
        RUN_DATE,
    )
    assert health_table == {
        code: (health, MISSING if spi is None else f"{spi:.2f}", MISSING if cpi is None else f"{cpi:.2f}")
        for code, health, spi, cpi in project_health
    }

    slips = {
        (row["Project"], row["Milestone"]): row["Slip (days)"] for row in table_records(report, "table-milestones")
    }
    milestones = query(
        marts_url,
        "select project.project_code, milestone.name, milestone.slip_days from marts.fct_milestones as milestone"
        " join marts.dim_project as project using (project_key)",
    )
    assert slips == {(code, name): MISSING if slip is None else str(slip) for code, name, slip in milestones}

    [(stale, unmapped, rejected)] = query(
        marts_url,
        "select (select count(*) from marts.dq_source_freshness where is_stale),"
        " (select count(*) from marts.dq_unmapped_projects), (select count(*) from marts.dq_rejected_records)",
    )
    assert {
        name: int(report.metrics[name].value) for name in ("stale_streams", "unmapped_projects", "rejected_records")
    } == {
        "stale_streams": stale,
        "unmapped_projects": unmapped,
        "rejected_records": rejected,
    }
    assert (stale, unmapped, rejected) == (2, 2, 3)
    assert [row["Source project"] for row in table_records(report, "table-unmapped-projects")] == ["LAB", "1209"]


def test_unmapped_source_projects_appear_under_the_unassigned_program_and_portfolio(
    marts_url: str, tmp_path: Path
) -> None:
    with psycopg.connect(marts_url, autocommit=True) as connection:
        connection.execute(
            """
            insert into marts.dim_portfolio values (md5('UNASSIGNED'), 'UNASSIGNED', 'Unassigned');
            insert into marts.dim_program values (md5('UNASSIGNED'), 'UNASSIGNED', 'Unassigned', md5('UNASSIGNED'));
            insert into marts.dim_project (project_key, project_code, project_name, program_key, portfolio_key)
            values (md5('jira:LAB'), 'jira:LAB', 'Innovation lab', md5('UNASSIGNED'), md5('UNASSIGNED'));
            insert into marts.fct_project_daily (project_key, date_day, bac, pv, ev, ac, spi, cpi,
                schedule_health, cost_health, overall_health)
            values (md5('jira:LAB'), '2026-03-31', 0, 0, 0, 1200, null, 0, 'grey', 'red', 'red');
            insert into marts.fct_program_daily (program_key, date_day, bac, pv, ev, ac, overall_health)
            values (md5('UNASSIGNED'), '2026-03-31', 0, 0, 0, 1200, 'red');
            insert into marts.fct_portfolio_daily (portfolio_key, date_day, bac, pv, ev, ac, overall_health)
            values (md5('UNASSIGNED'), '2026-03-31', 0, 0, 0, 1200, 'red');
            """
        )

    report_path = render_report(marts_url, RUN_DATE, tmp_path)
    report = read_report(report_path)

    programs = {row["Project"]: row["Program"] for row in table_records(report, "table-project-health")}
    assert programs["jira:LAB"] == "UNASSIGNED"
    [(bac, ac)] = query(
        marts_url, "select sum(bac), sum(ac) from marts.fct_portfolio_daily where date_day = %s", RUN_DATE
    )
    assert (Decimal(report.metrics["bac"].value), Decimal(report.metrics["ac"].value)) == (bac, ac)
    assert "All 2 portfolios" in report_path.read_text(encoding="utf-8")
    assert all(chart.state == "drawn" for chart in report.charts.values())


def test_the_page_references_nothing_outside_itself(rendered_report: Path) -> None:
    report = read_report(rendered_report)
    text = rendered_report.read_text(encoding="utf-8")

    assert report.external_references == []
    assert text.count("plotly.js v") >= 1  # the library is inlined
    assert set(report.charts) == set(CHART_IDS)
    assert all(chart.state == "drawn" for chart in report.charts.values())


def test_names_from_the_warehouse_are_shown_as_text_never_run_as_markup(marts_url: str, tmp_path: Path) -> None:
    hostile_name = "Web </script><script>document.title='x'</script> & <b>shop</b>"
    with psycopg.connect(marts_url, autocommit=True) as connection:
        connection.execute(
            "update marts.dim_project set project_name = %s where project_code = 'DIG-WEB'", (hostile_name,)
        )

    report_path = render_report(marts_url, RUN_DATE, tmp_path)
    report = read_report(report_path)

    assert "<script>document.title" not in report_path.read_text(encoding="utf-8")
    names = {row["Project"]: row["Name"] for row in table_records(report, "table-project-health")}
    assert names["DIG-WEB"] == " ".join(hostile_name.split())
    assert all(chart.state == "drawn" for chart in report.charts.values())


@pytest.mark.parametrize(
    ("dropped_table", "empty_chart"),
    [
        ("fct_milestones", "chart-milestone-slippage"),
        ("fct_capacity_weekly", "chart-capacity"),
        ("fct_project_daily", "chart-health-heatmap"),
    ],
)
def test_a_missing_table_leaves_a_no_data_message_in_its_panel(
    marts_url: str, tmp_path: Path, dropped_table: str, empty_chart: str
) -> None:
    with psycopg.connect(marts_url, autocommit=True) as connection:
        connection.execute(sql.SQL("drop table {}").format(sql.Identifier("marts", dropped_table)))

    report = read_report(render_report(marts_url, RUN_DATE, tmp_path))

    assert report.charts[empty_chart].state == "no-data"
    assert f"No data: marts.{dropped_table} is missing" in report.charts[empty_chart].text
    assert {chart for chart, container in report.charts.items() if container.state != "drawn"} == {empty_chart}


def test_without_the_portfolio_and_person_dimensions_figures_still_show_under_their_keys(
    marts_url: str, tmp_path: Path
) -> None:
    with psycopg.connect(marts_url, autocommit=True) as connection:
        connection.execute("drop table marts.dim_portfolio; drop table marts.dim_person")

    report = read_report(render_report(marts_url, RUN_DATE, tmp_path))

    assert Decimal(report.metrics["bac"].value) == Decimal("1700000.00")
    people = [row["Person"] for row in table_records(report, "table-capacity-people")]
    assert len(people) == 4 and all(len(person) == 32 for person in people)  # md5 person keys
    assert report.charts["chart-capacity"].state == "drawn"


def test_an_empty_warehouse_gives_a_page_of_no_data_panels(warehouse_url: str, tmp_path: Path) -> None:
    report_path = render_report(warehouse_url, RUN_DATE, tmp_path)
    report = read_report(report_path)

    assert {chart: container.state for chart, container in report.charts.items()} == dict.fromkeys(CHART_IDS, "no-data")
    assert "No headline figures: marts.fct_portfolio_daily is missing" in report_path.read_text(encoding="utf-8")


def test_empty_mart_tables_give_no_data_panels(marts_url: str, tmp_path: Path) -> None:
    with psycopg.connect(marts_url, autocommit=True) as connection:
        tables = connection.execute("select table_name from information_schema.tables where table_schema = 'marts'")
        for (table,) in tables.fetchall():
            connection.execute(sql.SQL("truncate {}").format(sql.Identifier("marts", table)))

    report = read_report(render_report(marts_url, RUN_DATE, tmp_path))

    assert {chart: container.state for chart, container in report.charts.items()} == dict.fromkeys(CHART_IDS, "no-data")


def test_each_night_is_archived_and_latest_is_the_newest_night(marts_url: str, tmp_path: Path) -> None:
    earlier, later = date(2026, 3, 30), RUN_DATE
    render_report(marts_url, later, tmp_path)
    render_report(marts_url, earlier, tmp_path)  # a re-run of an earlier night does not move latest back

    assert sorted(path.name for path in tmp_path.iterdir()) == [
        LATEST_NAME,
        "pmo-report-2026-03-30.html",
        "pmo-report-2026-03-31.html",
    ]
    latest = (tmp_path / LATEST_NAME).read_text(encoding="utf-8")
    assert latest == (tmp_path / "pmo-report-2026-03-31.html").read_text(encoding="utf-8")
    earlier_report = (tmp_path / "pmo-report-2026-03-30.html").read_text(encoding="utf-8")
    assert '<meta name="run-date" content="2026-03-30">' in earlier_report


def test_the_command_line_renders_from_the_configured_warehouse(
    marts_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WAREHOUSE_URL", marts_url)

    assert main(["--run-date", RUN_DATE.isoformat(), "--out", str(tmp_path)]) == 0

    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / "pmo-report-2026-03-31.html"), str(tmp_path / LATEST_NAME)]
    assert all(chart.state == "drawn" for chart in read_report(Path(printed[0])).charts.values())


def test_the_report_needs_nothing_but_read_access_to_the_marts(marts_url: str, tmp_path: Path) -> None:
    from warehouse import settings

    reader_role = f"report_reader_{settings.parse_url(marts_url).dbname}"
    try:
        with psycopg.connect(marts_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("create role {} login password 'reader' noinherit").format(sql.Identifier(reader_role))
            )
            connection.execute(sql.SQL("grant usage on schema marts to {}").format(sql.Identifier(reader_role)))
            connection.execute(
                sql.SQL("grant select on all tables in schema marts to {}").format(sql.Identifier(reader_role))
            )
    except psycopg.errors.InsufficientPrivilege as error:
        pytest.skip(f"the test server does not let this user create roles: {error}")
    parts = settings.parse_url(marts_url)
    reader_url = settings.ConnectionParts(parts.host, parts.port, reader_role, "reader", parts.dbname, parts.sslmode)
    try:
        report = read_report(render_report(reader_url.url(), RUN_DATE, tmp_path))
        assert all(chart.state == "drawn" for chart in report.charts.values())
    finally:
        with psycopg.connect(marts_url, autocommit=True) as connection:
            connection.execute(sql.SQL("drop owned by {}").format(sql.Identifier(reader_role)))
            connection.execute(sql.SQL("drop role {}").format(sql.Identifier(reader_role)))
