"""The nightly DAG end to end under `dag.test()`: simulators → raw → dbt → marts → report, checked against the world.

Three nights share one warehouse, as a deployment does:
1. a clean night;
2. the same night again with Asana down: the others refresh, the marts are rebuilt from Asana's
   last good data and published identical to the first night's, Asana shows stale, and the run
   ends failed so alerts fire;
3. Asana and Smartsheet re-run on their own (the `sources` param, Jira skipped) after someone
   typed a stage the register does not know: a dbt test fails during the build, so nothing is
   published, BI keeps the previous marts, and the run's summary names the failing test;
4. the DAG parsed with its dbt work as one task (`PMO_DBT_TASKS=single_build`): the same failing
   test stops the publish the same way, and once the stage is typed back its night, triggered
   without a logical date as `airflow dags trigger` does, publishes the first night's marts.
"""

from __future__ import annotations

import gc
import sys
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from dbt_common import behavior_flags

from simulators.asana import AsanaSimulator
from simulators.asana_world import build_asana_data
from simulators.jira import JiraSimulator
from simulators.smartsheet import SmartsheetSimulator
from simulators.smartsheet_world import build_smartsheet_data
from simulators.world import WorldConfig, build_world, summarize
from tests.conftest import create_database, drop_database
from tests.reports.browser_checks import full_page_screenshot, open_report, severe_console_errors
from tests.reports.conftest import browser, chromium  # noqa: F401
from warehouse import settings
from warehouse.publish import build_failures, last_publication

pytestmark = pytest.mark.e2e

ANCHOR = date(2026, 11, 1)
MART_TABLES = (
    "dim_date",
    "dim_project",
    "dim_person",
    "fct_work_items",
    "fct_time_entries",
    "fct_status_changes",
    "fct_milestones",
    "fct_project_daily",
    "fct_program_daily",
    "fct_portfolio_daily",
)


@pytest.fixture(scope="module")
def world():
    return build_world(WorldConfig(anchor_date=ANCHOR))


def calling_module_name() -> str:
    """What dbt's behavior flags name as a flag's source (the first calling module outside theirs), read from the
    frames' globals instead of `inspect.stack()`, which reads the source lines of every frame on the stack."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__")
        if name and name != behavior_flags.__name__:
            return name
        frame = frame.f_back
    return "Unknown"


@pytest.fixture(scope="module")
def night(world, warehouse_server, dagbag, tmp_path_factory):
    """The three simulators, one warehouse, and a way to run the nightly DAG against them.

    `dag.test()` runs every task in this process, under pytest's deep stack and beside the world the simulators
    serve, and two costs of each dbt task grow with both: dbt's adapter calls `inspect.stack()` for each behavior
    flag, and Cosmos collects garbage after each dbt command. Here the flags' source is read from the frames'
    globals, and whatever is alive when a night starts is frozen out of the collections.
    """
    url = create_database(warehouse_server)
    report_dir = tmp_path_factory.mktemp("reports")
    with ExitStack() as stack, pytest.MonkeyPatch.context() as environment:
        environment.setattr(behavior_flags.BehaviorFlagRendered, "_default_source", staticmethod(calling_module_name))
        stack.callback(gc.unfreeze)
        jira = stack.enter_context(JiraSimulator(world))
        asana = stack.enter_context(AsanaSimulator(world))
        smartsheet = stack.enter_context(SmartsheetSimulator(world))
        sheets = build_smartsheet_data(world)
        for name, value in {
            "AIRFLOW_CONN_PMO_WAREHOUSE": settings.airflow_connection_uri(url),
            "PMO_REPORT_DIR": str(report_dir),
            "JIRA_BASE_URL": jira.url,
            "JIRA_EMAIL": jira.email,
            "JIRA_API_TOKEN": "sim-token",
            "ASANA_BASE_URL": asana.api_url,
            "ASANA_TOKEN": "asana-sim-token",
            "SMARTSHEET_BASE_URL": smartsheet.base_url,
            "SMARTSHEET_TOKEN": "smartsheet-sim-token",
            "SMARTSHEET_REGISTER_SHEET_ID": str(sheets.register_sheet_id),
            "SMARTSHEET_RATE_CARD_SHEET_ID": str(sheets.rate_card_sheet_id),
        }.items():
            environment.setenv(name, value)
        dag = dagbag.dags["pmo_nightly_refresh"]
        for task in dag.tasks:
            task.retries = 0  # fail fast: dag.test() would otherwise wait out the retry delay

        def run(conf: dict | None = None, nightly_dag=dag, without_logical_date: bool = False, **env: str):
            for name, value in env.items():
                environment.setenv(name, value)
            gc.freeze()
            if without_logical_date:  # as `airflow dags trigger` and the UI trigger a run by default
                return nightly_dag.test(run_conf=conf, logical_date=None)
            return nightly_dag.test(run_conf=conf)

        first = run()
        yield {
            "url": url,
            "run": run,
            "first": first,
            "first_marts": marts_snapshot(url),
            "report_dir": report_dir,
            "smartsheet": smartsheet,
        }
    drop_database(url)


def scalar(url: str, query: str):
    with psycopg.connect(url) as connection:
        return connection.execute(query).fetchone()[0]


def marts_snapshot(url: str) -> dict[str, tuple[int, str]]:
    """Row count and a checksum of every row of the main mart tables, leaving out when a build wrote each row."""
    snapshot = {}
    with psycopg.connect(url) as connection:
        for table in MART_TABLES:
            snapshot[table] = connection.execute(
                "select count(*), md5(coalesce(string_agg(r::text, '|' order by r::text), ''))"
                f" from (select to_jsonb(t) - 'built_at' as r from marts.{table} t) as rows"
            ).fetchone()
    return snapshot


def test_a_clean_night_builds_marts_that_match_what_the_tools_served(night, world):
    url = night["url"]
    assert str(night["first"].state) == "success"
    summary = summarize(world)
    asana = build_asana_data(world)
    sheets = build_smartsheet_data(world)
    items = dict(psycopg.connect(url).execute("select source_system, count(*) from marts.fct_work_items group by 1"))
    assert items == {
        "jira": summary.jira_issues,
        "asana": len(asana.tasks),
        "smartsheet": sum(len(sheet.rows) for sheet in sheets.plan_sheets),
    }
    jira_hours = scalar(url, "select sum(hours) from marts.fct_time_entries where source_system = 'jira'")
    assert Decimal(jira_hours) == summary.jira_worklog_hours
    jira_done = scalar(
        url, "select count(*) from marts.fct_work_items where source_system = 'jira' and status_category = 'done'"
    )
    assert jira_done == summary.issues_by_status["Done"] + summary.issues_by_status["Won't Do"]
    unmapped = scalar(url, "select array_agg(source_project_key) from marts.dq_unmapped_projects")
    assert set(summary.unregistered_jira_projects) <= set(unmapped)
    assert scalar(url, "select count(*) from marts.dim_project") == summary.register_rows + len(unmapped)
    # Every entry on a register project has a cost (its person's rate, else the project's default rate).
    unpriced = scalar(
        url,
        "select count(*) from marts.fct_time_entries as entries join marts.dim_project as projects"
        " on entries.project_key = projects.project_key where projects.is_mapped and entries.cost is null",
    )
    assert unpriced == 0
    for table, (count, _) in night["first_marts"].items():
        assert count > 0, table


def test_the_report_renders_from_the_marts_and_draws_every_chart(night, browser, tmp_path):  # noqa: F811
    report = night["report_dir"] / "latest.html"
    assert report.exists()
    open_report(browser, report)
    assert severe_console_errors(browser) == []
    screenshot = full_page_screenshot(browser, tmp_path / "pmo-report.png")
    assert screenshot.stat().st_size > 10_000


def test_a_night_with_a_source_down_refreshes_the_others_and_ends_failed(night, world):
    second = night["run"](ASANA_TOKEN="revoked-token")  # Asana now answers 401 to every request
    states = {ti.task_id: str(ti.state) for ti in second.get_task_instances()}
    assert str(second.state) == "failed"
    assert states["extract_asana_demo"] == "failed"
    assert states["extract_jira_demo"] == "success"
    assert states["extract_smartsheet_demo"] == "success"
    assert states["publish_marts"] == "success"
    assert states["summarize_marts"] == "success"
    assert states["night_outcome"] == "failed"
    # Same night, nothing changed in the tools, Asana's last good data stands: identical marts.
    assert marts_snapshot(night["url"]) == night["first_marts"]
    assert last_publication(night["url"]).build_id == second.run_id  # rebuilt, published, and identical
    stale = scalar(
        night["url"], "select array_agg(distinct source_system) from marts.dq_source_freshness where is_stale"
    )
    assert stale == ["asana"]


def test_a_re_run_whose_dbt_test_fails_publishes_nothing_and_names_the_test(night):
    published_before = last_publication(night["url"])
    project_code = scalar(night["url"], "select min(project_code) from marts.dim_project where is_mapped")
    night["smartsheet"].update_register(project_code, {"stage": "parked"}, at=datetime.now(UTC) - timedelta(minutes=5))
    rerun = night["run"]({"sources": ["asana_demo", "smartsheet_demo"]}, ASANA_TOKEN="asana-sim-token")
    states = {ti.task_id: str(ti.state) for ti in rerun.get_task_instances()}
    assert str(rerun.state) == "failed"
    assert states["extract_jira_demo"] == "skipped"
    assert (states["extract_asana_demo"], states["extract_smartsheet_demo"]) == ("success", "success")
    # The register's row checks fail in staging (a stage outside the list): nothing downstream of it is built.
    assert states["dbt_build.stg_smartsheet__register_rows_model_build"] == "failed", states
    assert states["publish_marts"] == "upstream_failed", states
    assert states["night_outcome"] == "failed", states
    # BI still reads exactly the marts of the last good night, and knows when they were published.
    assert marts_snapshot(night["url"]) == night["first_marts"]
    assert last_publication(night["url"]) == published_before
    failures = build_failures(night["url"], rerun.run_id)
    assert [failure.resource_type for failure in failures] == ["test"]
    assert "row_checks_stg_smartsheet__register_rows" in failures[0].unique_id
    assert failures[0].failures == 1
    summary = scalar(night["url"], f"select summary_text from audit.night_summaries where run_id = '{rerun.run_id}'")
    assert "jira_demo                not selected for this run" in summary
    assert f"marts: NOT published; BI still reads the marts of {published_before.run_date}" in summary
    assert "row_checks_stg_smartsheet__register_rows" in summary


@pytest.fixture
def single_build_dag(monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import PROJECT_ROOT

    monkeypatch.setenv("PMO_DBT_TASKS", "single_build")
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags" / "pmo_nightly_refresh.py"))
    assert bag.import_errors == {}
    dag = bag.dags["pmo_nightly_refresh"]
    for task in dag.tasks:
        task.retries = 0
    return dag


def test_a_single_build_night_stops_at_the_same_failing_test_and_publishes_nothing(night, single_build_dag):
    published_before = last_publication(night["url"])
    rerun = night["run"]({"sources": ["smartsheet_demo"]}, nightly_dag=single_build_dag)
    states = {ti.task_id: str(ti.state) for ti in rerun.get_task_instances()}
    assert [task_id for task_id in states if task_id.startswith("dbt_build.")] == ["dbt_build.build"]
    assert states["dbt_build.build"] == "failed", states
    assert states["publish_marts"] == "upstream_failed", states
    assert marts_snapshot(night["url"]) == night["first_marts"]
    assert last_publication(night["url"]) == published_before
    failures = build_failures(night["url"], rerun.run_id)
    assert [failure.unique_id.split(".")[2] for failure in failures] == ["row_checks_stg_smartsheet__register_rows"]
    summary = scalar(night["url"], f"select summary_text from audit.night_summaries where run_id = '{rerun.run_id}'")
    assert "row_checks_stg_smartsheet__register_rows" in summary


def test_a_single_build_night_publishes_the_marts_a_night_of_tasks_per_model_did(night, single_build_dag):
    project_code = scalar(night["url"], "select min(project_code) from marts.dim_project where is_mapped")
    stage = scalar(night["url"], f"select stage from marts.dim_project where project_code = '{project_code}'")
    night["smartsheet"].update_register(project_code, {"stage": stage}, at=datetime.now(UTC) - timedelta(minutes=4))
    single = night["run"](nightly_dag=single_build_dag, without_logical_date=True)
    states = {ti.task_id: str(ti.state) for ti in single.get_task_instances()}
    assert single.logical_date is None
    assert str(single.state) == "success", states
    assert states["dbt_build.build"] == "success"
    publication = last_publication(night["url"])
    assert (publication.build_id, publication.run_date) == (single.run_id, single.run_after.date())
    assert marts_snapshot(night["url"]) == night["first_marts"]
