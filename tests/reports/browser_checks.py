"""Checks of a rendered report in a real browser, shared by every test that opens one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

CHART_IDS = (
    "chart-health-heatmap",
    "chart-earned-value",
    "chart-milestone-slippage",
    "chart-investment-mix",
    "chart-capacity",
    "chart-data-quality",
)
# The ids of the chart containers in which plotly drew an SVG with at least one trace.
DRAWN_CHARTS_SCRIPT = """
return arguments[0].filter((id) => {
    const container = document.getElementById(id);
    return container !== null
        && container.querySelector('.main-svg') !== null
        && container.querySelectorAll('g.trace, .hm').length > 0
        && container.getBoundingClientRect().height > 100;
});
"""
PAGE_WIDTH = 1440


def open_report(browser: WebDriver, report: Path, charts: tuple[str, ...] = CHART_IDS, timeout: float = 30) -> None:
    """Load the report and wait until each of `charts` has drawn."""
    browser.get_log("browser")  # drop what an earlier page logged
    browser.set_window_size(PAGE_WIDTH, 1000)
    browser.get(report.as_uri())
    try:
        WebDriverWait(browser, timeout).until(
            lambda driver: driver.execute_script(DRAWN_CHARTS_SCRIPT, list(charts)) == list(charts)
        )
    except TimeoutException:
        drawn = browser.execute_script(DRAWN_CHARTS_SCRIPT, list(charts))
        missing = [chart for chart in charts if chart not in drawn]
        pytest.fail(f"charts not drawn after {timeout:.0f} s: {missing}; browser console: {browser.get_log('browser')}")


def severe_console_errors(browser: WebDriver) -> list[dict[str, Any]]:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def full_page_screenshot(browser: WebDriver, path: Path) -> Path:
    """A PNG of the whole page, not only the window."""
    page_height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(PAGE_WIDTH, page_height)
    if not browser.save_screenshot(str(path)):
        pytest.fail(f"the browser did not save a screenshot to {path}")
    return path
