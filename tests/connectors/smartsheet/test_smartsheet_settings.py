"""Smartsheet connector settings: parsing plain values, merging the column map, and keeping the token hidden."""

from __future__ import annotations

import pytest

from connectors.http import Secret
from connectors.smartsheet.settings import DEFAULT_BASE_URL, DEFAULT_COLUMN_MAP, SmartsheetSettings

TOKEN = "ss-settings-token-77"
REQUIRED = {
    "base_url": "https://api.smartsheet.eu/2.0",
    "token": TOKEN,
    "register_sheet_id": "4113855535675899",
    "rate_card_sheet_id": 6683352711693236,
}


def test_from_mapping_reads_plain_values_and_keeps_the_defaults() -> None:
    settings = SmartsheetSettings.from_mapping(REQUIRED)

    assert settings.register_sheet_id == 4113855535675899 and settings.rate_card_sheet_id == 6683352711693236
    assert isinstance(settings.token, Secret) and settings.token.reveal() == TOKEN
    assert settings.plan_sheet_ids is None, "None: the plans the register names"
    assert (settings.instance, settings.requests_per_minute) == ("default", 300)
    assert (settings.page_size, settings.overlap_minutes) == (500, 15)
    assert settings.column_map == DEFAULT_COLUMN_MAP
    assert settings.column_map["plan"]["percent_complete"] == "% Complete"


def test_from_mapping_parses_lists_json_and_a_zero_rate() -> None:
    settings = SmartsheetSettings.from_mapping(
        {
            **REQUIRED,
            "instance": "emea",
            "plan_sheet_ids": "7564092131041177, 2844904743477846",
            "column_map": '{"plan": {"estimate_hours": "Est. (h)"}, "register": {"project_code": "Code"}}',
            "requests_per_minute": "0",
            "page_size": "250",
            "overlap_minutes": "30",
        }
    )

    assert settings.instance == "emea"
    assert settings.plan_sheet_ids == (7564092131041177, 2844904743477846)
    assert settings.requests_per_minute is None
    assert (settings.page_size, settings.overlap_minutes) == (250, 30)
    assert settings.column_map["plan"]["estimate_hours"] == "Est. (h)"
    assert settings.column_map["plan"]["status"] == "Status", "only the titles given are replaced"
    assert settings.column_map["register"]["project_code"] == "Code"
    assert settings.column_map["rate_card"] == DEFAULT_COLUMN_MAP["rate_card"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"token": TOKEN}, "missing base_url, register_sheet_id, rate_card_sheet_id"),
        ({**REQUIRED, "colour": "blue"}, r"unknown Smartsheet settings \['colour'\]"),
        ({**REQUIRED, "register_sheet_id": "register"}, "register_sheet_id must be a Smartsheet sheet id"),
        ({**REQUIRED, "column_map": {"plans": {}}}, "unknown sheet kind 'plans'"),
        ({**REQUIRED, "column_map": {"plan": {"percent": "%"}}}, r"unknown fields \['percent'\]"),
        ({**REQUIRED, "column_map": {"plan": {"status": " "}}}, "must be a column title"),
        ({**REQUIRED, "concurrent_requests": "0"}, "concurrent_requests must be between 1 and 16, not 0"),
        ({**REQUIRED, "concurrent_requests": 17}, "concurrent_requests must be between 1 and 16, not 17"),
    ],
)
def test_bad_settings_are_refused_with_a_reason(values: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SmartsheetSettings.from_mapping(values)


def test_from_env_reads_smartsheet_variables() -> None:
    settings = SmartsheetSettings.from_env(
        {
            "SMARTSHEET_TOKEN": TOKEN,
            "SMARTSHEET_REGISTER_SHEET_ID": "11",
            "SMARTSHEET_RATE_CARD_SHEET_ID": "22",
            "SMARTSHEET_PLAN_SHEET_IDS": "33,44",
            "SMARTSHEET_REQUESTS_PER_MINUTE": "120",
        }
    )

    assert settings.base_url == DEFAULT_BASE_URL
    assert (settings.register_sheet_id, settings.rate_card_sheet_id, settings.plan_sheet_ids) == (11, 22, (33, 44))
    assert settings.requests_per_minute == 120


def test_a_plain_token_is_wrapped_and_hidden_from_reprs() -> None:
    settings = SmartsheetSettings(
        base_url=DEFAULT_BASE_URL,
        token=TOKEN,  # type: ignore[arg-type]  # a plain string is wrapped in a Secret
        register_sheet_id=1,
        rate_card_sheet_id=2,
    )

    assert isinstance(settings.token, Secret)
    assert TOKEN not in repr(settings) and TOKEN not in f"{settings!r} {settings.token!r}"
    assert "register_sheet_id=1" in repr(settings)
