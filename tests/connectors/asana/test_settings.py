"""Asana connector settings: built from a mapping or the environment, validated, and never showing the token."""

from __future__ import annotations

from datetime import date

import pytest

from connectors.asana.settings import DEFAULT_BASE_URL, AsanaSettings
from connectors.http import Secret

TOKEN = "2/1200000000000000/1209999999999999:0123456789abcdef"


def test_from_mapping_fills_defaults_and_converts_values() -> None:
    settings = AsanaSettings.from_mapping(
        {
            "token": TOKEN,
            "workspace_gid": 1211,
            "page_size": "50",
            "requests_per_minute": "150",
            "time_entries_start_date": "2024-01-01",
        }
    )

    assert settings.base_url == DEFAULT_BASE_URL
    assert isinstance(settings.token, Secret) and settings.token.reveal() == TOKEN
    assert settings.workspace_gid == "1211"
    assert (settings.page_size, settings.requests_per_minute) == (50, 150.0)
    assert settings.time_entries_start_date == date(2024, 1, 1)
    assert settings.estimate_field_name == "Estimated hours" and settings.overlap_minutes == 15


@pytest.mark.parametrize("rate", [0, "0", "off", None])
def test_a_zero_rate_turns_pacing_off(rate: object) -> None:
    assert AsanaSettings.from_mapping({"token": TOKEN, "requests_per_minute": rate}).requests_per_minute is None


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({}, "set token"),
        ({"token": TOKEN, "page_size": 101}, "page_size"),
        ({"token": TOKEN, "page_size": 0}, "page_size"),
        ({"token": TOKEN, "colour": "blue"}, "unknown Asana settings"),
        ({"token": TOKEN, "time_entries_from": "guess"}, "time_entries_from"),
        ({"token": TOKEN, "concurrent_requests": 0}, "concurrent_requests"),
        ({"token": TOKEN, "concurrent_requests": "51"}, "concurrent_requests"),
    ],
)
def test_bad_settings_are_refused(mapping: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AsanaSettings.from_mapping(mapping)


def test_from_env_reads_asana_variables() -> None:
    settings = AsanaSettings.from_env(
        {"ASANA_TOKEN": TOKEN, "ASANA_BASE_URL": "http://localhost:8082/api/1.0", "ASANA_INSTANCE": "acme"}
    )

    assert (settings.base_url, settings.instance) == ("http://localhost:8082/api/1.0", "acme")
    with pytest.raises(ValueError, match="ASANA_TOKEN"):
        AsanaSettings.from_env({})


def test_the_token_never_shows_in_repr_or_str() -> None:
    settings = AsanaSettings(base_url=DEFAULT_BASE_URL, token=TOKEN)  # type: ignore[arg-type]

    assert isinstance(settings.token, Secret)
    for text in (repr(settings), str(settings), f"{settings}", repr(settings.token)):
        assert TOKEN not in text
    assert "AsanaSettings(" in repr(settings)
