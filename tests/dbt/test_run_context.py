"""The night's run date and build id reach dbt through its environment (`PMO_RUN_DATE`, `PMO_BUILD_ID`):
read while dbt executes and never while it parses, so that a new night keeps dbt's partial parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dbt.conftest import run_dbt

RUN_DATE_QUERY = "select {{ run_date() }} as run_date"


def compiled_run_date(url: str, work_dir: Path, run_date: str) -> str:
    invocation = run_dbt(["compile", "--inline", RUN_DATE_QUERY, "--quiet"], url, work_dir, run_date=run_date)
    return invocation.check().output.strip()


def test_the_run_date_comes_from_the_environment_when_no_var_gives_it(
    jira_fixture_warehouse: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMO_RUN_DATE", "2031-02-03")
    assert (
        compiled_run_date(jira_fixture_warehouse, tmp_path, run_date="")
        == "select cast('2031-02-03' as date) as run_date"
    )
    assert compiled_run_date(jira_fixture_warehouse, tmp_path, run_date="2030-01-02") == (
        "select cast('2030-01-02' as date) as run_date"
    )


def test_an_invalid_run_date_in_the_environment_is_refused(
    jira_fixture_warehouse: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMO_RUN_DATE", "03/02/2031")
    invocation = run_dbt(["compile", "--inline", RUN_DATE_QUERY], jira_fixture_warehouse, tmp_path, run_date="")
    assert invocation.returncode != 0
    assert "run_date must be a date as YYYY-MM-DD, got '03/02/2031'" in invocation.output


def test_a_new_run_date_and_build_id_leave_dbt_nothing_to_parse_again(
    jira_fixture_warehouse: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMO_RUN_DATE", "2031-02-03")
    monkeypatch.setenv("PMO_BUILD_ID", "scheduled__2031-02-03T02:00:00+00:00")
    run_dbt(["parse"], jira_fixture_warehouse, tmp_path, run_date="").check()
    monkeypatch.setenv("PMO_RUN_DATE", "2031-02-04")
    monkeypatch.setenv("PMO_BUILD_ID", "scheduled__2031-02-04T02:00:00+00:00")
    next_night = run_dbt(["parse", "--log-level", "debug"], jira_fixture_warehouse, tmp_path, run_date="").check()
    assert "Partial parsing enabled: 0 files deleted, 0 files added, 0 files changed." in next_night.output
    assert "Partial parsing: updated file" not in next_night.output
