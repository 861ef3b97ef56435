"""`make docs`: the dbt documentation site builds and names every published mart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT
from warehouse import settings

MARTS_DIR = PROJECT_ROOT / "dbt_project" / "models" / "marts"


def test_the_docs_site_builds_and_contains_every_mart(warehouse_url, tmp_path):
    target = tmp_path / "dbt-docs"
    dbt = Path(sys.executable).parent / "dbt"
    project = str(PROJECT_ROOT / "dbt_project")
    command = [str(dbt), "docs", "generate", "--static", "--project-dir", project, "--profiles-dir", project]
    result = subprocess.run(
        [*command, "--target-path", str(target)],
        env={**os.environ, **settings.dbt_env(warehouse_url)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    site = (target / "static_index.html").read_text()
    marts = sorted(path.stem for path in MARTS_DIR.rglob("*.sql"))
    assert len(marts) >= 20
    missing = [mart for mart in marts if f"model.pmo_warehouse.{mart}" not in site]
    assert missing == []
    assert "exposure.pmo_warehouse.nightly_pmo_report" in site
