"""Fixtures for the Asana connector tests: one demo world, a fresh Asana simulator per test, and a runner."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from datetime import date

import psycopg
import pytest

from connectors.asana.client import AsanaClient
from connectors.asana.settings import AsanaSettings
from connectors.asana.streams import AsanaExtractor
from connectors.http import RetryPolicy, Secret
from connectors.runs import StreamResult
from simulators.asana import AsanaSimulator
from simulators.asana_world import AsanaWorkspace, build_asana_data
from simulators.world import World, WorldConfig, build_world

ANCHOR_DATE = date(2026, 11, 29)
TOKEN = "asana-test-token-7f3a91c2"
FAST_RETRY = RetryPolicy(backoff_base_seconds=0.01, backoff_cap_seconds=0.05, max_total_wait_seconds=20)

Runner = Callable[..., dict[str, StreamResult]]


@pytest.fixture(scope="session")
def asana_world() -> World:
    return build_world(WorldConfig(anchor_date=ANCHOR_DATE))


@pytest.fixture(scope="session")
def asana_data(asana_world: World) -> AsanaWorkspace:
    return build_asana_data(asana_world)


@pytest.fixture
def asana(asana_world: World, asana_data: AsanaWorkspace) -> Iterator[AsanaSimulator]:
    """A simulator of its own for each test, since tests change its data and its faults."""
    with AsanaSimulator(asana_world, token=TOKEN, data=asana_data) as simulator:
        yield simulator


@pytest.fixture
def settings(asana: AsanaSimulator) -> AsanaSettings:
    return AsanaSettings(base_url=asana.api_url, token=Secret(TOKEN), requests_per_minute=None)


@pytest.fixture
def run_asana(settings: AsanaSettings, warehouse_url: str) -> Runner:
    """Run the extractor once against the simulator; returns the stream results by name."""

    def run(
        streams: list[str] | None = None,
        full_refresh: bool | Collection[str] = False,
        with_settings: AsanaSettings | None = None,
    ) -> dict[str, StreamResult]:
        chosen = with_settings or settings
        with psycopg.connect(warehouse_url, autocommit=True) as connection:
            extractor = AsanaExtractor(chosen, connection, AsanaClient(chosen, retry=FAST_RETRY))
            return {result.stream: result for result in extractor.run(streams, full_refresh)}

    return run


@pytest.fixture
def raw(warehouse_url: str) -> Iterator[Callable[..., list[tuple]]]:
    """Query the warehouse: `raw("select ...", params)` returns all rows."""
    with psycopg.connect(warehouse_url, autocommit=True) as connection:

        def query(statement: str, params: tuple = ()) -> list[tuple]:
            return connection.execute(statement, params).fetchall()

        yield query
