"""Fixtures for the Smartsheet connector tests: one generated account, and a simulator of its own per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from connectors.http import Secret
from connectors.smartsheet.settings import SmartsheetSettings
from simulators.smartsheet import SmartsheetSimulator
from simulators.smartsheet_world import SmartsheetAccount, build_smartsheet_data
from simulators.world import World, WorldConfig, build_world

TOKEN = "ss-tok-4c1d9e-secret"


@pytest.fixture(scope="session")
def smartsheet_world() -> World:
    return build_world(WorldConfig(anchor_date=date(2026, 11, 29)))


@pytest.fixture(scope="session")
def account(smartsheet_world: World) -> SmartsheetAccount:
    return build_smartsheet_data(smartsheet_world)


@pytest.fixture
def simulator(smartsheet_world: World, account: SmartsheetAccount) -> Iterator[SmartsheetSimulator]:
    with SmartsheetSimulator(smartsheet_world, account=account, token=TOKEN) as running:
        yield running


@pytest.fixture
def settings_for() -> Callable[..., SmartsheetSettings]:
    def build(simulator: SmartsheetSimulator, **overrides: Any) -> SmartsheetSettings:
        options: dict[str, Any] = {
            "base_url": simulator.base_url,
            "token": Secret(TOKEN),
            "register_sheet_id": simulator.account.register_sheet_id,
            "rate_card_sheet_id": simulator.account.rate_card_sheet_id,
            "requests_per_minute": None,
            **overrides,
        }
        return SmartsheetSettings(**options)

    return build
