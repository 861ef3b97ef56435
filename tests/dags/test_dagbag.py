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


def test_the_nightly_graph_extracts_then_builds_then_summarizes(dagbag):
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
    assert all(t.startswith("dbt_build.") for t in landed.downstream_task_ids)
    summarize = dag.get_task("summarize_marts")
    assert summarize.upstream_task_ids and all(t.startswith("dbt_build.") for t in summarize.upstream_task_ids)
    assert dag.get_task("render_pmo_report").upstream_task_ids == {"summarize_marts"}
    assert dag.get_task("night_outcome").upstream_task_ids == {"render_pmo_report"}


def test_parsing_is_fast_with_a_manifest(dagbag):
    print(f"DAG folder parsed in {dagbag.parse_seconds:.2f} s")
    assert dagbag.dags
