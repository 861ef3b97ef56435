"""Fixtures for the report's tests: marts filled with a small hand-made portfolio, the rendered
report, and a headless Chromium (Debian's, installed with apt-get where it is missing)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

FIXTURES_DIR = Path(__file__).parent / "fixtures"
RUN_DATE = date(2026, 3, 31)
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_PACKAGES = ("chromium", "chromium-driver")
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Every host name fails to resolve: the report must draw with no network at all.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--window-size=1440,1000",
)


def load_marts(database_url: str) -> None:
    """Create the mart tables and fill them with the fixture portfolio."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        for script in ("marts_schema.sql", "marts_data.sql"):
            connection.execute((FIXTURES_DIR / script).read_text())


@pytest.fixture
def marts_url(warehouse_url: str) -> str:
    """A database whose `marts` schema holds the fixture portfolio."""
    load_marts(warehouse_url)
    return warehouse_url


@pytest.fixture
def rendered_report(marts_url: str, tmp_path: Path) -> Path:
    from reports.nightly import render_report

    return render_report(marts_url, RUN_DATE, tmp_path / "reports")


@dataclass(frozen=True)
class ChromiumInstall:
    browser: Path
    driver: Path


def install_chromium() -> str | None:
    """Install Debian's Chromium and its driver; the reason when that cannot be done, else None."""
    if not shutil.which("apt-get"):
        return "apt-get is not available on this machine"
    if os.geteuid() != 0:
        return "installing chromium needs root (apt-get), and the tests do not run as root"
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", *CHROMIUM_PACKAGES],
    ):
        try:
            result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=900, check=False)
        except subprocess.TimeoutExpired:
            return f"`{' '.join(command)}` did not finish in 15 minutes"
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            return f"`{' '.join(command)}` failed (exit {result.returncode}): " + " | ".join(tail)
    return None


@pytest.fixture(scope="session")
def chromium() -> ChromiumInstall:
    """Debian's Chromium and chromedriver, installed where missing; the tests skip only when that fails."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        reason = install_chromium()
        if reason is not None:
            pytest.skip(f"headless Chromium is not installed and could not be installed: {reason}")
        if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
            pytest.skip(f"apt-get installed {', '.join(CHROMIUM_PACKAGES)} but {CHROMIUM} or {CHROMEDRIVER} is absent")
    return ChromiumInstall(CHROMIUM, CHROMEDRIVER)


@pytest.fixture(scope="module")
def browser(chromium: ChromiumInstall, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """A headless Chromium driven by selenium, its console captured, shared by a module's tests."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(chromium.browser)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(chromium.driver)))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
