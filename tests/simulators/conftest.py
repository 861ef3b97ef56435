"""Shared fixtures for the simulator tests: one demo world and Jira simulators serving it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import requests

from simulators.jira import JiraSimulator
from simulators.world import World, WorldConfig, build_world

ANCHOR_DATE = date(2026, 11, 29)
# "now" for the simulators: two days after the anchor, so every generated change has settled
SIMULATOR_NOW = datetime(2026, 12, 1, tzinfo=UTC)
EMAIL = "pmo-bot@pmo.example"
API_TOKEN = "sim-token"


@pytest.fixture(scope="session")
def world() -> World:
    return build_world(WorldConfig(anchor_date=ANCHOR_DATE))


@pytest.fixture(scope="module")
def jira(world: World) -> Iterator[JiraSimulator]:
    """A simulator that tests only read from."""
    with JiraSimulator(world, clock=lambda: SIMULATOR_NOW) as simulator:
        yield simulator


@pytest.fixture
def fresh_jira(world: World) -> Iterator[JiraSimulator]:
    """A simulator of its own, for tests that change its data."""
    with JiraSimulator(world, clock=lambda: SIMULATOR_NOW) as simulator:
        yield simulator


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.auth = (EMAIL, API_TOKEN)
        yield session
