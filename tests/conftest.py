"""Shared fixtures: a real PostgreSQL for the whole session, and a fresh database per test that asks for one."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from warehouse import settings
from warehouse.embedded import EmbeddedWarehouse


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def warehouse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server for the test session: `TEST_WAREHOUSE_URL`, else a private embedded one."""
    external = os.environ.get("TEST_WAREHOUSE_URL")
    if external:
        yield external
        return
    server = EmbeddedWarehouse(data_dir=tmp_path_factory.mktemp("warehouse"), port=free_port())
    url = server.start()
    yield url
    server.stop()


@pytest.fixture
def warehouse_url(warehouse_server: str) -> Iterator[str]:
    """A new, empty database on the session's server, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = settings.parse_url(warehouse_server)
    admin_url = settings.ConnectionParts(
        admin.host, admin.port, admin.user, admin.password, "postgres", admin.sslmode
    ).url()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield settings.ConnectionParts(admin.host, admin.port, admin.user, admin.password, name, admin.sslmode).url()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
