"""End-to-end tests reuse the DAG fixtures (migrated Airflow DB, dbt manifest, DagBag)."""

from tests.dags.conftest import airflow_db, dagbag, dbt_manifest  # noqa: F401
