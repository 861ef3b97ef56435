"""`python -m simulators start|status|stop`: a background Jira simulator managed through a state directory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from warehouse.embedded import free_port


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulators", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=90,
    )


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    state = tmp_path / "state"
    yield state
    _cli("stop", "--state-dir", str(state), cwd=tmp_path)


def test_start_status_stop(tmp_path: Path, state_dir: Path) -> None:
    port, asana_port, smartsheet_port = free_port(), free_port(), free_port()
    options = ["--state-dir", str(state_dir), "--port", str(port), "--anchor-date", "2026-11-29"]
    options += ["--asana-port", str(asana_port), "--smartsheet-port", str(smartsheet_port)]
    credentials = {
        "JIRA_EMAIL": "cli@pmo.example",
        "JIRA_API_TOKEN": "cli-token",
        "ASANA_TOKEN": "asana-cli-token",
        "SMARTSHEET_TOKEN": "sheet-cli-token",
    }

    started = _cli("start", *options, cwd=tmp_path, env=credentials)
    assert started.returncode == 0, started.stderr
    assert f"http://127.0.0.1:{port}" in started.stdout
    pid = int((state_dir / "jira.pid").read_text())
    myself = requests.get(
        f"http://127.0.0.1:{port}/rest/api/3/myself", auth=("cli@pmo.example", "cli-token"), timeout=5
    )
    assert myself.status_code == 200 and myself.json()["emailAddress"] == "cli@pmo.example"
    workspaces = requests.get(
        f"http://127.0.0.1:{asana_port}/api/1.0/workspaces",
        headers={"Authorization": "Bearer asana-cli-token"},
        params={"limit": 10},
        timeout=5,
    )
    assert workspaces.status_code == 200 and workspaces.json()["data"]
    sheets = requests.get(
        f"http://127.0.0.1:{smartsheet_port}/2.0/sheets", headers={"Authorization": "Bearer sheet-cli-token"}, timeout=5
    )
    assert sheets.status_code == 200 and sheets.json()["totalCount"] > 0
    log = (state_dir / "jira.log").read_text()
    assert "Asana simulator listening on" in log and "Smartsheet simulator listening on" in log
    assert "cli-token" not in log

    again = _cli("start", *options, cwd=tmp_path, env=credentials)
    assert again.returncode == 0 and "already running" in again.stdout
    assert int((state_dir / "jira.pid").read_text()) == pid
    assert _cli("status", "--state-dir", str(state_dir), cwd=tmp_path).returncode == 0

    stopped = _cli("stop", "--state-dir", str(state_dir), cwd=tmp_path)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert not (state_dir / "jira.pid").exists()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/rest/api/3/myself", timeout=2)
    assert _cli("status", "--state-dir", str(state_dir), cwd=tmp_path).returncode == 3
    stopped_again = _cli("stop", "--state-dir", str(state_dir), cwd=tmp_path)
    assert stopped_again.returncode == 0 and "not running" in stopped_again.stdout


def test_start_fails_clearly_when_the_port_is_taken(tmp_path: Path, state_dir: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = _cli(
            "start",
            *("--state-dir", str(state_dir), "--port", str(port), "--timeout", "30"),
            *("--asana-port", "0", "--smartsheet-port", "0"),
            cwd=tmp_path,
        )

    assert result.returncode == 1
    assert str(state_dir / "jira.log") in result.stderr
    assert not (state_dir / "jira.pid").exists()


def test_the_default_state_dir_is_relative_to_the_working_directory(tmp_path: Path) -> None:
    result = _cli("status", cwd=tmp_path)

    assert result.returncode == 3 and "not running" in result.stdout
