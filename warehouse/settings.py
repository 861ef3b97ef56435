"""Where the warehouse is and where local state lives, read from the environment.

`WAREHOUSE_URL` points at any PostgreSQL; when it is unset the embedded warehouse on
127.0.0.1:`EMBEDDED_WAREHOUSE_PORT` (default 25432) is used. dbt reads its connection from
the `WAREHOUSE_*` variables that `dbt_env()` derives from that one URL, so there is a single
setting to change. The nightly dbt builds' log file is off unless `DBT_LOG_LEVEL_FILE` names a
level (`nightly_dbt_log_file_flags`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

# Below the ranges Linux (32768-60999), macOS and Windows (49152-65535) hand out as the local ends of
# outgoing connections, so no closed connection of another program keeps it in TIME_WAIT.
DEFAULT_EMBEDDED_PORT = 25432
EMBEDDED_DATABASE = "pmo_warehouse"
EMBEDDED_USER = "postgres"
# Loopback only, and the server trusts loopback; the password exists because BI tools and Airflow ask for one.
EMBEDDED_PASSWORD = "pmo"
# The read-only login that BI tools use on the embedded warehouse (dbt grants it the marts only).
EMBEDDED_BI_USER = "bi_reader"
EMBEDDED_BI_PASSWORD = "bi-reader"


def project_root() -> Path:
    """The checkout this package runs from (falls back to the working directory when installed)."""
    candidate = Path(__file__).resolve().parents[1]
    if (candidate / "pyproject.toml").exists():
        return candidate
    return Path.cwd()


def local_dir() -> Path:
    """The git-ignored folder for data, logs and pid files (`PMO_LOCAL_DIR`, default `.local`)."""
    return Path(os.environ.get("PMO_LOCAL_DIR") or project_root() / ".local").resolve()


def embedded_port() -> int:
    return int(os.environ.get("EMBEDDED_WAREHOUSE_PORT") or DEFAULT_EMBEDDED_PORT)


def embedded_url(port: int | None = None) -> str:
    return ConnectionParts(
        "127.0.0.1", port or embedded_port(), EMBEDDED_USER, EMBEDDED_PASSWORD, EMBEDDED_DATABASE, "prefer"
    ).url()


def uses_external_warehouse() -> bool:
    return bool(os.environ.get("WAREHOUSE_URL"))


def warehouse_url() -> str:
    """The warehouse connection string: `WAREHOUSE_URL`, else the embedded warehouse."""
    return os.environ.get("WAREHOUSE_URL") or embedded_url()


def airflow_connection_uri(url: str | None = None) -> str:
    """The warehouse as an Airflow connection URI (for `AIRFLOW_CONN_PMO_WAREHOUSE`)."""
    parts = parse_url(url or warehouse_url())
    return parts.url().replace("postgresql://", "postgres://", 1)


@dataclass(frozen=True)
class ConnectionParts:
    host: str
    port: int
    user: str
    password: str
    dbname: str
    sslmode: str

    def url(self) -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        query = f"?sslmode={self.sslmode}" if self.sslmode != "prefer" else ""
        return f"postgresql://{auth}@{self.host}:{self.port}/{self.dbname}{query}"


def parse_url(url: str) -> ConnectionParts:
    """Split a `postgresql://user:password@host:port/db?sslmode=...` URL into its parts."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgresql", "postgres", "postgresql+psycopg"}:
        raise ValueError(f"WAREHOUSE_URL must start with postgresql://, got scheme {parts.scheme!r}")
    if not parts.path.strip("/"):
        raise ValueError("WAREHOUSE_URL names no database (expected postgresql://user@host:port/dbname)")
    query = dict(item.split("=", 1) for item in parts.query.split("&") if "=" in item)
    return ConnectionParts(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
        dbname=parts.path.strip("/"),
        sslmode=query.get("sslmode", "prefer"),
    )


def redact(url: str) -> str:
    """The URL with its password replaced, for logs and summaries."""
    parts = parse_url(url)
    if not parts.password:
        return url
    return url.replace(":" + quote(parts.password, safe="") + "@", ":***@").replace(":" + parts.password + "@", ":***@")


def switched_on(variable: str, environ: dict[str, str] | None = None) -> bool:
    """Whether the environment variable `variable`, on unless set, is on: anything but 0, false, no, off."""
    value = (os.environ if environ is None else environ).get(variable, "1")
    return value.strip().lower() not in {"0", "false", "no", "off"}


def nightly_dbt_log_file_flags() -> list[str]:
    """dbt's `--log-level-file` for the nightly builds (the DAG's tasks, the bench's builds).

    Each nightly dbt task runs in a temporary copy of the project, deleted when it ends, so the
    debug log file dbt writes there by default is thrown away with it, at a few percent of dbt's CPU.
    The file is off unless `DBT_LOG_LEVEL_FILE` names a level (`DBT_LOG_PATH` then says where to
    keep it); what dbt prints still reaches the task log.
    """
    return ["--log-level-file", os.environ.get("DBT_LOG_LEVEL_FILE", "none")]


def dbt_threads() -> int:
    """Models a `dbt build` runs at once: `WAREHOUSE_THREADS`, 2 unless set (about the warehouse's cores)."""
    value = os.environ.get("WAREHOUSE_THREADS", "").strip() or "2"
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"WAREHOUSE_THREADS={value!r} is not a whole number of threads, 1 or more")
    return int(value)


DBT_TASK_LAYOUTS = {
    "per_model": "a task per model, with that model's tests (Cosmos), and one task for the tests across models",
    "single_build": "one task that runs the whole project as one `dbt build`",
}


def nightly_dbt_task_layout() -> str:
    """How the nightly DAG splits its dbt work into tasks: `PMO_DBT_TASKS`, `per_model` unless set.

    `per_model` shows, retries and times each model on its own, at the cost of dbt's start-up and a
    task's own overhead for every model. `single_build` runs the night's dbt work as one process, as
    `make bench` times it; a failing model still stops only what is built from it, but a retry
    re-runs the whole build.
    """
    layout = os.environ.get("PMO_DBT_TASKS", "").strip() or "per_model"
    if layout not in DBT_TASK_LAYOUTS:
        choices = "; ".join(f"{name}: {meaning}" for name, meaning in DBT_TASK_LAYOUTS.items())
        raise ValueError(f"PMO_DBT_TASKS={layout!r} is not a dbt task layout of the nightly DAG ({choices})")
    return layout


def dbt_env(url: str | None = None) -> dict[str, str]:
    """Environment variables read by `dbt_project/profiles.yml`."""
    parts = parse_url(url or warehouse_url())
    return {
        "WAREHOUSE_HOST": parts.host,
        "WAREHOUSE_PORT": str(parts.port),
        "WAREHOUSE_USER": parts.user,
        "WAREHOUSE_PASSWORD": parts.password,
        "WAREHOUSE_DBNAME": parts.dbname,
        "WAREHOUSE_SSLMODE": parts.sslmode,
    }
