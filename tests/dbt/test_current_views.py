"""Views already in the warehouse as the build would create them are kept, not created again
(`macros/view_unless_current.sql`); a view changed by hand, dropped, or built before with other
documentation, and every view of a full refresh, is created again."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from bench.parse import copy_dbt_project
from tests.conftest import create_database
from tests.dbt.conftest import DbtInvocation, load_jira_fixture, run_dbt

VIEWS = ("stg_jira__users", "stg_jira__projects", "stg_jira__fields")
SELECTION = ["--select", *VIEWS]


@pytest.fixture(scope="module")
def built(warehouse_server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A database of this module's own with the Jira fixture, built once."""
    url = create_database(warehouse_server)
    with psycopg.connect(url) as connection:
        load_jira_fixture(connection)
    work_dir = tmp_path_factory.mktemp("dbt-current-views")
    run_dbt(["build"], url, work_dir).check()
    return url, work_dir


def view_oids(url: str) -> dict[str, int]:
    with psycopg.connect(url) as connection:
        return {
            view: connection.execute("select to_regclass(%s)::oid", (f"staging.{view}",)).fetchone()[0]
            for view in VIEWS
        }


def messages(invocation: DbtInvocation) -> dict[str, str]:
    """Each view's result message (`VIEW CURRENT` when kept, dbt's `CREATE VIEW` when created)."""
    return {
        result["unique_id"].rsplit(".", 1)[1]: (result.get("adapter_response") or {}).get("_message", "")
        for result in invocation.run_results["results"]
        if result["unique_id"].startswith("model.")
    }


def test_a_second_run_keeps_every_view_as_it_is(built: tuple[str, Path]) -> None:
    url, work_dir = built
    before = view_oids(url)

    invocation = run_dbt(["run", *SELECTION], url, work_dir).check()

    assert messages(invocation) == dict.fromkeys(VIEWS, "VIEW CURRENT")
    assert view_oids(url) == before
    with psycopg.connect(url) as connection:
        assert connection.execute("select count(*) from staging.stg_jira__users").fetchone()[0] > 0
        assert "pmo_view_probe" not in {
            name for (name,) in connection.execute("select relname from pg_class where relname like 'pmo_view%'")
        }


def test_views_changed_by_hand_or_dropped_are_created_again(built: tuple[str, Path]) -> None:
    url, work_dir = built
    with psycopg.connect(url, autocommit=True) as connection:
        users = connection.execute("select count(*) from staging.stg_jira__users").fetchone()[0]
        definition = connection.execute("select pg_get_viewdef('staging.stg_jira__users'::regclass)").fetchone()[0]
        # the same columns, no rows: a definition other than the project's
        connection.execute(f"create or replace view staging.stg_jira__users as {definition.rstrip(';')} limit 0")
        # the project's definition, another comment: what a build with other documentation left
        connection.execute("""comment on rule "_RETURN" on staging.stg_jira__projects is 'dbt-view another build'""")
        connection.execute("drop view staging.stg_jira__fields")
    before = view_oids(url)

    invocation = run_dbt(["run", *SELECTION], url, work_dir).check()

    assert set(messages(invocation).values()) == {"CREATE VIEW"}
    after = view_oids(url)
    assert all(after[view] != before[view] for view in VIEWS)
    with psycopg.connect(url) as connection:
        assert connection.execute("select count(*) from staging.stg_jira__users").fetchone()[0] == users
        assert connection.execute("select count(*) from staging.stg_jira__fields").fetchone()[0] > 0
    assert messages(run_dbt(["run", *SELECTION], url, work_dir).check()) == dict.fromkeys(VIEWS, "VIEW CURRENT")


def test_a_full_refresh_creates_every_view_again(built: tuple[str, Path]) -> None:
    url, work_dir = built
    before = view_oids(url)

    invocation = run_dbt(["run", "--full-refresh", *SELECTION], url, work_dir).check()

    assert set(messages(invocation).values()) == {"CREATE VIEW"}
    after = view_oids(url)
    assert all(after[view] != before[view] for view in VIEWS)


def test_a_view_whose_documentation_changed_is_created_again_with_it(built: tuple[str, Path], tmp_path: Path) -> None:
    url, work_dir = built
    project = copy_dbt_project(tmp_path / "dbt_project")
    models_file = project / "models" / "staging" / "jira" / "_jira__models.yml"
    original = "description: One row per Jira user account and source instance."
    assert original in models_file.read_text()
    models_file.write_text(models_file.read_text().replace(original, f"{original[:-1]}, as documented anew."))

    edited = run_dbt(["run", *SELECTION], url, tmp_path, project_dir=project).check()
    assert messages(edited) == {
        "stg_jira__users": "CREATE VIEW",
        "stg_jira__projects": "VIEW CURRENT",
        "stg_jira__fields": "VIEW CURRENT",
    }
    with psycopg.connect(url) as connection:
        comment = connection.execute("select obj_description('staging.stg_jira__users'::regclass)").fetchone()[0]
    assert comment.endswith("as documented anew.")

    restored = run_dbt(["run", "--select", "stg_jira__users"], url, work_dir).check()
    assert messages(restored) == {"stg_jira__users": "CREATE VIEW"}
