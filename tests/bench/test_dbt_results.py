"""A bench build's dbt results kept for reading node by node (`--dbt-results-dir`); dbt itself is
replaced by a process that writes the results a build would."""

from __future__ import annotations

import json
import subprocess

import pytest

from bench.dbt_layers import DbtProjectCopy

RUN_RESULTS = {
    "results": [
        {"unique_id": "model.pmo_warehouse.fct_project_daily", "execution_time": 4.2, "status": "success"},
        {"unique_id": "model.pmo_warehouse.fct_work_items", "execution_time": 2.1, "status": "success"},
    ]
}
MANIFEST = {
    "nodes": {
        "model.pmo_warehouse.fct_project_daily": {
            "resource_type": "model",
            "original_file_path": "models/marts/project/fct_project_daily.sql",
        },
        "model.pmo_warehouse.fct_work_items": {
            "resource_type": "model",
            "original_file_path": "models/marts/project/fct_work_items.sql",
        },
    }
}


@pytest.fixture
def project(tmp_path, monkeypatch) -> DbtProjectCopy:
    directory = tmp_path / "dbt_project"
    target = directory / "target"
    target.mkdir(parents=True)
    (target / "manifest.json").write_text(json.dumps(MANIFEST))

    def build_as_dbt_would(command, **kwargs):
        (target / "run_results.json").write_text(json.dumps(RUN_RESULTS))
        return subprocess.CompletedProcess(command, 0, "", "peak_rss_kib=1024 cpu_seconds=1.0+0.5\n")

    monkeypatch.setattr("bench.dbt_layers.subprocess.run", build_as_dbt_would)
    return DbtProjectCopy(directory, "postgresql://bench@127.0.0.1:5432/unused", "2026-12-06")


def test_a_build_given_a_place_for_its_results_copies_them_there(project, tmp_path):
    kept = tmp_path / "results" / "enterprise-night.json"
    build = project.build(keep_results_as=kept)
    assert json.loads(kept.read_text()) == RUN_RESULTS
    assert build.node_seconds["model.pmo_warehouse.fct_project_daily"] == 4.2
    assert build.layer_seconds == {"marts": pytest.approx(6.3)}


def test_a_build_keeps_no_results_unless_asked(project, tmp_path):
    project.build()
    assert not (tmp_path / "results").exists()
