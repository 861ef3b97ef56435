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
    assert dbt_task.vars["build_id"] == "{{ run_id }}"
    assert dbt_task.full_refresh == "{{ params.full_refresh }}"


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


def test_every_dbt_task_freezes_what_its_process_loaded_before_dbt_runs(dagbag):
    """Cosmos collects garbage after each dbt command; each dbt task's `pre_execute` first freezes the
    objects its process holds (Airflow, the DAG, dbt's modules), so that collection skips them."""
    from warehouse.runtime import freeze_loaded_objects

    dag = dagbag.dags["pmo_nightly_refresh"]
    dbt_tasks = [task for task in dag.tasks if hasattr(task, "dbt_cmd_global_flags")]
    assert len(dbt_tasks) > 60
    assert [task.task_id for task in dbt_tasks if task._pre_execute_hook is not freeze_loaded_objects] == []
    others = [task for task in dag.tasks if not hasattr(task, "dbt_cmd_global_flags")]
    assert [task.task_id for task in others if task._pre_execute_hook is not None] == []
