"""docker/warehouse-init/: the warehouse database, the loader, and a `bi_reader` that sees the marts and nothing else.

Read as text first; then run the way the postgres image runs it (psql as the superuser, ON_ERROR_STOP) on a
private PostgreSQL 18, where the grants are exercised as dbt and a BI tool would.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.docker.deployment_files import WAREHOUSE_INIT_DIR, sql_statements
from warehouse import settings
from warehouse.embedded import EmbeddedWarehouse, free_port

INIT_SCRIPTS = sorted(WAREHOUSE_INIT_DIR.glob("*.sql"))
READER = "bi_reader"
LOADER = "pmo_loader"
DATABASE = "pmo_warehouse"


@pytest.fixture(scope="module")
def statements() -> list[str]:
    assert INIT_SCRIPTS, "docker/warehouse-init/ holds no .sql script"
    return [statement for path in INIT_SCRIPTS for statement in sql_statements(path.read_text())]


def mentions_reader(statement: str) -> bool:
    return re.search(rf"\b{READER}\b", statement) is not None


def test_the_init_scripts_create_the_database_and_both_roles(statements):
    create_database = (
        f"create database {DATABASE} with owner {LOADER}"
        " template template0 encoding 'utf8' locale_provider builtin builtin_locale 'c.utf-8'"
    )
    assert create_database in statements
    for role in (LOADER, READER):
        create = next(s for s in statements if s.startswith(f"create role {role} "))
        assert "login" in create and "nosuperuser" in create and "nocreatedb" in create and "nocreaterole" in create
        assert "password :'" in create, f"{role}'s password must come from the environment, not the script"


def test_bi_reader_is_granted_the_marts_schema_and_nothing_else(statements):
    reader_statements = [statement for statement in statements if mentions_reader(statement)]
    grants = [s for s in reader_statements if s.startswith("grant ") or s.startswith("alter default privileges")]
    allowed = {
        f"grant connect on database {DATABASE} to {READER}",
        f"grant usage on schema marts to {READER}",
        f"grant select on all tables in schema marts to {READER}",
        f"alter default privileges for role {LOADER} in schema marts grant select on tables to {READER}",
    }
    assert set(grants) == allowed, f"unexpected grants to {READER}: {sorted(set(grants) - allowed)}"
    assert not any(re.match(rf"grant \w+ to {READER}\b", s) for s in statements), f"{READER} joins no other role"
    assert f"alter role {READER} in database {DATABASE} set search_path = marts" in statements
    assert f"alter role {READER} set default_transaction_read_only = on" in statements


def test_the_public_schema_and_database_are_closed_to_everyone_else(statements):
    assert f"revoke all on database {DATABASE} from public" in statements
    assert "revoke all on schema public from public" in statements


@pytest.fixture(scope="module")
def initialised_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedWarehouse]:
    """A private server on which the init scripts ran as they do in the postgres image's first start."""
    server = EmbeddedWarehouse(
        data_dir=tmp_path_factory.mktemp("warehouse-init"), port=free_port(), database="postgres"
    )
    server.start()
    # The embedded server creates a bi_reader login for the demo; the postgres image starts with none.
    with psycopg.connect(server.admin_url, autocommit=True) as connection:
        connection.execute("drop role if exists bi_reader")
    psql = Path(server.psql_command()[0])
    environment = {
        **os.environ,
        "WAREHOUSE_LOADER_PASSWORD": "loader-test-password",
        "WAREHOUSE_BI_READER_PASSWORD": "reader-test-password",
    }
    try:
        for script in INIT_SCRIPTS:
            result = subprocess.run(
                [str(psql), "-v", "ON_ERROR_STOP=1", "--no-psqlrc", "--dbname", server.admin_url, "-f", str(script)],
                env=environment,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert result.returncode == 0, f"{script.name} failed:\n{result.stdout}\n{result.stderr}"
        yield server
    finally:
        server.stop()


def connect_as(server: EmbeddedWarehouse, role: str) -> psycopg.Connection:
    parts = settings.parse_url(server.admin_url)
    url = settings.ConnectionParts(parts.host, parts.port, role, "", DATABASE, parts.sslmode).url()
    return psycopg.connect(url, autocommit=True)


def test_the_scripts_set_both_passwords_from_the_environment(initialised_warehouse):
    with psycopg.connect(initialised_warehouse.admin_url) as connection:
        rows = connection.execute(
            "select rolname, rolpassword is not null, rolsuper from pg_authid where rolname = any(%s)",
            ([LOADER, READER],),
        ).fetchall()
    assert sorted(rows) == [(READER, True, False), (LOADER, True, False)]


def test_the_warehouse_database_orders_text_with_the_builtin_locale(initialised_warehouse):
    with psycopg.connect(initialised_warehouse.admin_url) as connection:
        locale = connection.execute(
            "select datlocprovider, datlocale, pg_get_userbyid(datdba) from pg_database where datname = %s",
            (DATABASE,),
        ).fetchone()
    assert locale == ("b", "C.UTF-8", LOADER)


def test_bi_reader_reads_the_marts_dbt_builds_and_nothing_else(initialised_warehouse):
    with connect_as(initialised_warehouse, LOADER) as loader:
        loader.execute("create table if not exists raw.jira_issues (payload jsonb)")
        loader.execute("create view staging.stg_jira__issues as select payload from raw.jira_issues")
        # A dbt table materialisation: build a temporary relation, swap it in, drop the old one.
        loader.execute("create table marts.dim_project as select 1 as project_key")
        loader.execute("create table marts.dim_project__dbt_tmp as select 2 as project_key")
        loader.execute("alter table marts.dim_project rename to dim_project__dbt_backup")
        loader.execute("alter table marts.dim_project__dbt_tmp rename to dim_project")
        loader.execute("drop table marts.dim_project__dbt_backup")

    with connect_as(initialised_warehouse, READER) as reader:
        assert reader.execute("show search_path").fetchone() == ("marts",)
        assert reader.execute("select project_key from dim_project").fetchall() == [(2,)]
        privileges = reader.execute(
            "select has_schema_privilege('marts', 'create'), has_schema_privilege('raw', 'usage'),"
            " has_schema_privilege('staging', 'usage'), has_schema_privilege('intermediate', 'usage'),"
            " has_schema_privilege('public', 'usage'), has_table_privilege('marts.dim_project', 'insert')"
        ).fetchone()
        assert privileges == (False,) * 6
        for forbidden in (
            "select * from raw.jira_issues",
            "select * from staging.stg_jira__issues",
            "create table marts.bi_scratch (id int)",
            "insert into marts.dim_project values (3)",
            "create table public.bi_scratch (id int)",
        ):
            with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)):
                reader.execute(forbidden)
