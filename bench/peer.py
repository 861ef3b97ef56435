"""The peer's environment and run: dlt in `bench/.venv-dlt`, kept apart from the project's dependencies.

The environment is made with uv on first use (`bench/dlt-requirements.txt` pins the version) and
reused after; `bench/dlt_jira.py` runs in it against the bench's Jira simulator and PostgreSQL.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.child import last_json_line

BENCH_DIR = Path(__file__).resolve().parent
DLT_VENV = BENCH_DIR / ".venv-dlt"
DLT_REQUIREMENTS = BENCH_DIR / "dlt-requirements.txt"
DLT_SCRIPT = BENCH_DIR / "dlt_jira.py"
PEER_STREAMS = ("issues", "worklogs")


@dataclass
class PeerRun:
    records: dict[str, int]
    seconds: float
    peak_rss_bytes: int
    version: str

    @property
    def total_records(self) -> int:
        return sum(self.records.values())

    @property
    def rate(self) -> float:
        return self.total_records / self.seconds if self.seconds else 0.0

    @classmethod
    def best_of(cls, runs: list[PeerRun]) -> PeerRun:
        """The fastest of `runs` of the same pipeline over the same data (the highest peak RSS kept)."""
        counts = {run.total_records for run in runs}
        if len(counts) != 1:
            raise RuntimeError(f"the dlt runs loaded different record counts: {sorted(counts)}")
        fastest = min(runs, key=lambda run: run.seconds)
        return cls(fastest.records, fastest.seconds, max(run.peak_rss_bytes for run in runs), fastest.version)


def dlt_python() -> Path:
    """The dlt environment's interpreter, creating the environment with uv when it is missing."""
    python = DLT_VENV / "bin" / "python"
    if python.exists() and _dlt_installed(python):
        return python
    uv = Path(sys.executable).parent / "uv"
    uv_command = str(uv) if uv.exists() else shutil.which("uv")
    if uv_command is None:
        raise RuntimeError("uv is needed to make the dlt environment: install the project first (make install)")
    subprocess.run([uv_command, "venv", "--quiet", "--python", sys.executable, str(DLT_VENV)], check=True)
    subprocess.run(
        [uv_command, "pip", "install", "--quiet", "--python", str(python), "-r", str(DLT_REQUIREMENTS)], check=True
    )
    return python


def _dlt_installed(python: Path) -> bool:
    return subprocess.run([str(python), "-c", "import dlt"], capture_output=True, check=False).returncode == 0


def run_dlt(jira_url: str, warehouse_url: str, *, email: str, token: str, fields: list[str]) -> PeerRun:
    python = dlt_python()
    command = [
        str(python),
        str(DLT_SCRIPT),
        "--jira-url",
        jira_url,
        "--warehouse-url",
        warehouse_url,
        "--email",
        email,
        "--token",
        token,
        "--fields",
        ",".join(fields),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False, cwd=BENCH_DIR)
    if completed.returncode != 0:
        raise RuntimeError(f"the dlt pipeline failed (exit {completed.returncode}):\n{completed.stderr[-4000:]}")
    report = last_json_line(completed.stdout)
    return PeerRun(
        records={name: int(count) for name, count in report["records"].items()},
        seconds=float(report["seconds"]),
        peak_rss_bytes=int(report["peak_rss_bytes"]),
        version=str(report["dlt"]),
    )
