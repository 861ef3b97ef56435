"""The DAG folder imports cleanly and every DAG carries what operators rely on."""

from __future__ import annotations

import pytest


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "pmo_nightly_refresh" in dagbag.dags


@pytest.mark.parametrize("dag_id", ["pmo_nightly_refresh"])
def test_dag_has_owner_tags_retries_and_a_doc(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.tags
    assert dag.doc_md and "Nightly PMO refresh" in dag.doc_md
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    for task in dag.tasks:
        assert task.owner == "pmo-data", task.task_id
        assert task.retries >= 1, task.task_id


def test_the_nightly_graph_extracts_then_builds_then_publishes(dagbag):
    dag = dagbag.dags["pmo_nightly_refresh"]
    task_ids = set(dag.task_ids)
    assert "extract_jira_demo" in task_ids
    assert "summarize_marts" in task_ids
    dbt_tasks = [task_id for task_id in task_ids if task_id.startswith("dbt_build.")]
    assert "dbt_build.fct_work_items_model_build" in dbt_tasks
    assert "dbt_build.stg_jira__issues_model_build" in dbt_tasks
    extracts = {task_id for task_id in task_ids if task_id.startswith("extract_")}
    assert extracts == {"extract_jira_demo", "extract_asana_demo", "extract_smartsheet_demo"}
    landed = dag.get_task("sources_landed")
    assert landed.upstream_task_ids == extracts
    assert landed.trigger_rule == "all_done"  # one source failing does not stop the build
    assert landed.downstream_task_ids == {"prepare_marts_build"}
    prepare = dag.get_task("prepare_marts_build")
    assert prepare.downstream_task_ids and all(t.startswith("dbt_build.") for t in prepare.downstream_task_ids)
    publish = dag.get_task("publish_marts")
    # Write, audit, publish: only a build whose every model and test passed is swapped into marts.
    assert publish.trigger_rule == "all_success"
    assert publish.upstream_task_ids == {"dbt_build.cross_model_tests"}
    # Tests across models (relationships, singular tests) run once, after every model of the build.
    cross_model_tests = dag.get_task("dbt_build.cross_model_tests")
    model_tasks = {t for t in dbt_tasks if t != "dbt_build.cross_model_tests"}
    assert cross_model_tests.upstream_task_ids and cross_model_tests.upstream_task_ids <= model_tasks
    assert cross_model_tests.select == [
        "test_name:relationships",
        "test_name:relationships_columns",
        "test_type:singular",
    ]
    assert cross_model_tests.vars["marts_schema"] == "marts_build"
    assert not any(t.endswith("_test") for t in dbt_tasks), "no test is left to a task of its own"
    assert dag.get_task("dbt_build.fct_work_items_model_build").indirect_selection == "cautious"
    assert [outlet.name for outlet in publish.outlets] == ["pmo-warehouse://marts"]
    assert dag.get_task("summarize_marts").upstream_task_ids == {"publish_marts"}
    assert dag.get_task("render_pmo_report").upstream_task_ids == {"summarize_marts"}
    assert dag.get_task("night_outcome").upstream_task_ids == {"render_pmo_report"}
    assert dag.get_task("night_outcome").trigger_rule == "all_done"


def test_the_params_cover_full_refresh_backfill_and_a_source_re_run(dagbag):
    params = dagbag.dags["pmo_nightly_refresh"].params
    assert params["full_refresh"] is False
    assert params["backfill_from"] is None
    assert params["sources"] == []
    dbt_task = dagbag.dags["pmo_nightly_refresh"].get_task("dbt_build.fct_project_daily_model_build")
    assert dbt_task.vars["marts_schema"] == "marts_build"
    assert dbt_task.full_refresh == "{{ params.full_refresh }}"


def test_what_changes_every_night_reaches_dbt_through_its_environment(dagbag):
    """A var that changes makes dbt parse the whole project again: the run date and the build id are
    environment variables, the vars the same every night (but for a backfill's date)."""
    dag = dagbag.dags["pmo_nightly_refresh"]
    dbt_tasks = [task for task in dag.tasks if hasattr(task, "dbt_cmd_global_flags")]
    for task in dbt_tasks:
        assert task.env == {
            "PMO_RUN_DATE": "{{ (data_interval_end if data_interval_end is defined and data_interval_end"
            " else dag_run.run_after).strftime('%Y-%m-%d') }}",
            "PMO_BUILD_ID": "{{ run_id }}",
        }, task.task_id
        assert set(task.vars) == {"marts_schema", "rebuild_from", "bi_reader_role"}, task.task_id


def test_the_tasks_outside_the_cosmos_group_share_its_partial_parse(dagbag):
    dag = dagbag.dags["pmo_nightly_refresh"]
    model_task = dag.get_task("dbt_build.fct_project_daily_model_build")
    assert model_task.cache_dir is not None and model_task.cache_dir.name == "pmo_nightly_refresh__dbt_build"
    assert dag.get_task("dbt_build.cross_model_tests").cache_dir == model_task.cache_dir


def parse_nightly_dag(monkeypatch, layout: str):
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import PROJECT_ROOT

    monkeypatch.setenv("PMO_DBT_TASKS", layout)
    return DagBag(dag_folder=str(PROJECT_ROOT / "dags" / "pmo_nightly_refresh.py"))


def test_a_single_build_layout_runs_the_whole_dbt_project_in_one_task(dagbag, monkeypatch):
    from cosmos.operators.local import DbtBuildLocalOperator

    from warehouse.runtime import ready_dbt_task

    monkeypatch.setenv("WAREHOUSE_THREADS", "3")
    bag = parse_nightly_dag(monkeypatch, "single_build")
    assert bag.import_errors == {}
    dag = bag.dags["pmo_nightly_refresh"]
    per_model = dagbag.dags["pmo_nightly_refresh"]
    dbt_tasks = [task_id for task_id in dag.task_ids if task_id.startswith("dbt_build.")]
    assert dbt_tasks == ["dbt_build.build"]
    build = dag.get_task("dbt_build.build")
    assert isinstance(build, DbtBuildLocalOperator)
    assert build.select is None and build.exclude == ["resource_type:unit_test"]
    assert build._pre_execute_hook is ready_dbt_task
    model_task = per_model.get_task("dbt_build.fct_project_daily_model_build")
    for attribute in ("env", "vars", "full_refresh", "dbt_cmd_global_flags", "cache_dir", "install_deps"):
        assert getattr(build, attribute) == getattr(model_task, attribute), attribute
    # One build of every model runs as many at once as a build by hand (WAREHOUSE_THREADS).
    assert build.profile_config.profile_mapping.profile_args["threads"] == 3
    assert build.upstream_task_ids == {"prepare_marts_build"}
    assert build.downstream_task_ids == {"publish_marts"}
    assert set(dag.task_ids) - set(dbt_tasks) == {t for t in per_model.task_ids if not t.startswith("dbt_build.")}


def test_an_unknown_dbt_task_layout_is_an_import_error_naming_the_choices(monkeypatch):
    bag = parse_nightly_dag(monkeypatch, "per_layer")
    assert "pmo_nightly_refresh" not in bag.dags
    [error] = bag.import_errors.values()
    assert "PMO_DBT_TASKS='per_layer'" in error
    assert "per_model" in error and "single_build" in error


def test_the_nightly_build_leaves_unit_tests_to_ci(dagbag):
    dag = dagbag.dags["pmo_nightly_refresh"]
    builds = [task for task in dag.tasks if task.task_id.endswith("_build") and hasattr(task, "exclude")]
    assert "dbt_build.fct_work_items_model_build" in {task.task_id for task in builds}
    for task in builds:
        assert "resource_type:unit_test" in task.exclude.split(), task.task_id


def test_parsing_is_fast_with_a_manifest(dagbag):
    print(f"DAG folder parsed in {dagbag.parse_seconds:.2f} s")
    assert dagbag.dags


def test_the_nightly_dbt_tasks_write_no_log_file_into_their_temporary_project(dagbag):
    from warehouse.settings import nightly_dbt_log_file_flags

    dag = dagbag.dags["pmo_nightly_refresh"]
    dbt_tasks = [task for task in dag.tasks if hasattr(task, "dbt_cmd_global_flags")]
    assert {"dbt_build.fct_project_daily_model_build", "dbt_build.cross_model_tests"} <= {
        task.task_id for task in dbt_tasks
    }
    log_file_flags = nightly_dbt_log_file_flags()  # `--log-level-file none` unless DBT_LOG_LEVEL_FILE is set
    for task in dbt_tasks:
        flags = task.dbt_cmd_global_flags
        assert flags[flags.index("--log-level-file") :][:2] == log_file_flags, task.task_id
        assert "--no-write-json" in flags, task.task_id


def test_every_dbt_task_readies_its_process_before_dbt_runs(dagbag):
    """Each dbt task's `pre_execute` keeps dbt's connections from node to node and freezes the objects
    its process holds (Airflow, the DAG, dbt's modules), so that Cosmos's collection after each dbt
    command skips them."""
    from warehouse.runtime import ready_dbt_task

    dag = dagbag.dags["pmo_nightly_refresh"]
    dbt_tasks = [task for task in dag.tasks if hasattr(task, "dbt_cmd_global_flags")]
    assert len(dbt_tasks) > 60
    assert [task.task_id for task in dbt_tasks if task._pre_execute_hook is not ready_dbt_task] == []
    others = [task for task in dag.tasks if not hasattr(task, "dbt_cmd_global_flags")]
    assert [task.task_id for task in others if task._pre_execute_hook is not None] == []
