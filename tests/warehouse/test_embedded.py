"""The embedded warehouse starts, serves TCP on 127.0.0.1, restarts idempotently and stops."""

from __future__ import annotations

import logging
import socket
import threading

import psycopg
import pytest

from warehouse import settings
from warehouse.embedded import (
    SERVER_SETTINGS,
    EmbeddedWarehouse,
    WarehouseError,
    create_database,
    free_port,
    running_settings,
    sorts_text_by_libc,
)


def test_start_is_idempotent_and_serves_tcp(tmp_path):
    server = EmbeddedWarehouse(data_dir=tmp_path, port=free_port())
    try:
        url = server.start()
        assert url == server.start()
        with psycopg.connect(url) as connection:
            version = connection.execute("show server_version_num").fetchone()[0]
            database = connection.execute("select current_database()").fetchone()[0]
        assert int(version) >= 180000
        assert database == settings.EMBEDDED_DATABASE
        bi_url = settings.ConnectionParts(
            "127.0.0.1", server.port, settings.EMBEDDED_BI_USER, settings.EMBEDDED_BI_PASSWORD, database, "prefer"
        ).url()
        with psycopg.connect(bi_url) as connection:  # the BI login exists; dbt grants it the marts
            assert connection.execute("select current_user").fetchone()[0] == "bi_reader"
        assert server.is_running()
        assert (tmp_path / "pgdata" / "PG_VERSION").exists()
    finally:
        assert server.stop() is True
    assert not server.is_running()
    assert server.stop() is False
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.url, connect_timeout=2)


def test_data_survives_a_restart(tmp_path):
    server = EmbeddedWarehouse(data_dir=tmp_path, port=free_port())
    try:
        with psycopg.connect(server.start(), autocommit=True) as connection:
            connection.execute("create table kept (id int); insert into kept values (7)")
        server.stop()
        with psycopg.connect(server.start()) as connection:
            assert connection.execute("select id from kept").fetchone() == (7,)
    finally:
        server.stop()


def test_a_server_running_on_another_port_is_named_instead_of_waited_for(tmp_path):
    running = EmbeddedWarehouse(data_dir=tmp_path, port=free_port())
    try:
        running.start()
        assert running.running_port() == running.port
        elsewhere = EmbeddedWarehouse(data_dir=tmp_path, port=free_port())
        with pytest.raises(WarehouseError, match=rf"running on port {running.port}, not on port {elsewhere.port}"):
            elsewhere.start()
        with psycopg.connect(running.url) as connection:  # left running, as it was
            assert connection.execute("select 1").fetchone() == (1,)
    finally:
        running.stop()
    assert running.running_port() is None


def test_the_server_runs_with_the_analytics_settings(tmp_path):
    server = EmbeddedWarehouse(data_dir=tmp_path, port=free_port())
    try:
        with psycopg.connect(server.start()) as connection:
            running = running_settings(connection)
    finally:
        server.stop()
    assert running == SERVER_SETTINGS


def test_the_warehouse_database_orders_text_with_the_builtin_locale_by_code_point(tmp_path):
    server = EmbeddedWarehouse(data_dir=tmp_path, port=free_port())
    words = ["b", "a", "B", "é", "Z", "_", "aa", "A1"]
    try:
        with psycopg.connect(server.start()) as connection:
            locale = connection.execute(
                "select datlocprovider, datlocale from pg_database where datname = current_database()"
            ).fetchone()
            ordered = connection.execute("select array_agg(word order by word) from unnest(%s::text[]) word", (words,))
            ordered = ordered.fetchone()[0]
            upper = connection.execute("select upper('straße é')").fetchone()[0]
            libc = sorts_text_by_libc(connection)
    finally:
        server.stop()
    assert locale == ("b", "C.UTF-8")
    assert not libc
    assert ordered == sorted(words)  # code point order, as the libc C.UTF-8 locale gave
    assert upper == "STRAßE É"


def test_a_database_made_with_a_libc_locale_is_kept_and_named_in_a_warning(tmp_path, caplog):
    port = free_port()
    server = EmbeddedWarehouse(data_dir=tmp_path, port=port)
    try:
        server.start()
        with psycopg.connect(server.admin_url, autocommit=True) as connection:
            connection.execute(
                "create database made_before template template0 encoding 'UTF8' locale_provider libc locale 'C.UTF-8'"
            )
            create_database(connection, "made_now")
        with caplog.at_level(logging.WARNING, logger="warehouse.embedded"):
            EmbeddedWarehouse(data_dir=tmp_path, port=port, database="made_now").start()
            assert not caplog.records
            older = EmbeddedWarehouse(data_dir=tmp_path, port=port, database="made_before")
            with psycopg.connect(older.start()) as connection:
                assert sorts_text_by_libc(connection)
    finally:
        server.stop()
    [warning] = caplog.records
    assert "database made_before orders text through the libc locale" in warning.getMessage()


def test_refuses_a_port_taken_by_another_program(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        server = EmbeddedWarehouse(data_dir=tmp_path, port=squatter.getsockname()[1])
        with pytest.raises(WarehouseError, match="taken by another program"):
            server.start()


def test_waits_for_a_port_held_by_a_socket_that_does_not_listen(tmp_path, caplog):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    release = threading.Timer(1.5, holder.close)
    release.start()
    server = EmbeddedWarehouse(data_dir=tmp_path, port=port, bind_wait_seconds=30)
    try:
        with caplog.at_level(logging.WARNING, logger="warehouse.embedded"):
            url = server.start()
        with psycopg.connect(url) as connection:
            assert connection.execute("select 1").fetchone() == (1,)
    finally:
        release.cancel()
        holder.close()
        server.stop()
    assert any(f"port {port} on 127.0.0.1 is held" in record.getMessage() for record in caplog.records)


def test_gives_up_on_a_port_held_longer_than_the_wait_and_names_it(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        server = EmbeddedWarehouse(data_dir=tmp_path, port=port, bind_wait_seconds=1)
        with pytest.raises(WarehouseError, match=f"port {port} on 127.0.0.1 stayed held for 1 s"):
            server.start()
        assert not server.is_running()


def test_a_port_in_time_wait_after_a_closed_connection_counts_as_held(tmp_path):
    # A connection that took the port as its own end and closed first leaves it in TIME_WAIT.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client = socket.socket()
        client.bind(("127.0.0.1", 0))
        port = client.getsockname()[1]
        client.connect(listener.getsockname())
        accepted, _ = listener.accept()
        client.close()
        accepted.recv(1)
        accepted.close()
    server = EmbeddedWarehouse(data_dir=tmp_path, port=port, bind_wait_seconds=1)
    with pytest.raises(WarehouseError, match=f"port {port} on 127.0.0.1 stayed held"):
        server.start()


def test_warehouse_url_prefers_the_environment(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://loader:s3cr%40t@db.internal:6543/pmo")
    assert settings.warehouse_url() == "postgresql://loader:s3cr%40t@db.internal:6543/pmo"
    env = settings.dbt_env()
    assert env["WAREHOUSE_HOST"] == "db.internal"
    assert env["WAREHOUSE_PORT"] == "6543"
    assert env["WAREHOUSE_PASSWORD"] == "s3cr@t"
    assert "s3cr" not in settings.redact(settings.warehouse_url())
    monkeypatch.delenv("WAREHOUSE_URL")
    monkeypatch.setenv("EMBEDDED_WAREHOUSE_PORT", "55111")
    assert settings.warehouse_url().endswith("@127.0.0.1:55111/pmo_warehouse")


def test_rejects_a_url_without_a_database():
    with pytest.raises(ValueError, match="names no database"):
        settings.parse_url("postgresql://user@host:5432")


def test_nightly_dbt_builds_keep_a_log_file_only_when_a_level_is_set(monkeypatch):
    monkeypatch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
    assert settings.nightly_dbt_log_file_flags() == ["--log-level-file", "none"]
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    assert settings.nightly_dbt_log_file_flags() == ["--log-level-file", "debug"]


def test_the_nightly_dbt_task_layout_is_per_model_unless_set(monkeypatch):
    monkeypatch.delenv("PMO_DBT_TASKS", raising=False)
    assert settings.nightly_dbt_task_layout() == "per_model"
    monkeypatch.setenv("PMO_DBT_TASKS", " single_build ")
    assert settings.nightly_dbt_task_layout() == "single_build"
    monkeypatch.setenv("PMO_DBT_TASKS", "")
    assert settings.nightly_dbt_task_layout() == "per_model"
    monkeypatch.setenv("PMO_DBT_TASKS", "Single_Build")
    with pytest.raises(ValueError, match=r"PMO_DBT_TASKS='Single_Build' is not .*per_model: .*single_build: "):
        settings.nightly_dbt_task_layout()


def test_dbt_threads_are_two_unless_set_and_a_bad_count_is_refused(monkeypatch):
    monkeypatch.delenv("WAREHOUSE_THREADS", raising=False)
    assert settings.dbt_threads() == 2
    monkeypatch.setenv("WAREHOUSE_THREADS", "4")
    assert settings.dbt_threads() == 4
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("WAREHOUSE_THREADS", bad)
        with pytest.raises(ValueError, match=f"WAREHOUSE_THREADS='{bad}' is not a whole number"):
            settings.dbt_threads()


def test_env_names_an_empty_database_made_anew_when_asked(tmp_path, monkeypatch, capsys):
    """`python -m warehouse env --empty-database NAME` (what `make lint` renders the models against):
    the variables name NAME, dropped and created anew, so whatever was built into it is gone."""
    from warehouse.__main__ import main

    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("PMO_LOCAL_DIR", str(tmp_path))
    monkeypatch.setenv("EMBEDDED_WAREHOUSE_PORT", str(free_port()))
    server = EmbeddedWarehouse()
    try:
        url = server.start()
        with psycopg.connect(server.admin_url, autocommit=True) as connection:
            create_database(connection, "lint_target")
        lint_url = settings.ConnectionParts(
            "127.0.0.1", server.port, settings.EMBEDDED_USER, settings.EMBEDDED_PASSWORD, "lint_target", "prefer"
        ).url()
        with psycopg.connect(lint_url, autocommit=True) as connection:
            connection.execute("create table built_before (id int)")

        assert main(["env", "--empty-database", "lint_target"]) == 0

        exports = dict(line.removeprefix("export ").split("=", 1) for line in capsys.readouterr().out.splitlines())
        assert exports["WAREHOUSE_DBNAME"] == "lint_target"
        assert exports["WAREHOUSE_PORT"] == str(server.port)
        with psycopg.connect(lint_url) as connection:
            tables = connection.execute("select count(*) from pg_tables where schemaname = 'public'").fetchone()[0]
        assert tables == 0
        with psycopg.connect(url) as connection:  # the warehouse's own database is left alone
            assert connection.execute("select current_database()").fetchone()[0] == settings.EMBEDDED_DATABASE
    finally:
        server.stop()
