"""The sources config: validation with clear errors, and secrets resolved only from the environment or Airflow."""

from __future__ import annotations

import pytest

from connectors.config import ConfigError, load_sources
from connectors.jira.settings import JiraSettings
from tests.conftest import PROJECT_ROOT


def write(tmp_path, text: str):
    path = tmp_path / "sources.yml"
    path.write_text(text)
    return path


def test_the_example_config_lists_every_instance():
    sources = load_sources(PROJECT_ROOT / "config" / "sources.example.yml")
    assert [source.name for source in sources] == ["jira_acme", "jira_acme_labs", "asana_main", "smartsheet_pmo"]
    assert sources[0].options["base_url"] == "https://acme.atlassian.net"


def test_the_shipped_config_points_at_the_simulators_through_the_environment():
    (jira,) = load_sources(PROJECT_ROOT / "config" / "sources.yml")[:1]
    env = {"JIRA_BASE_URL": "http://127.0.0.1:8081", "JIRA_EMAIL": "bot@x.example", "JIRA_API_TOKEN": "tok-1"}
    settings = JiraSettings.from_mapping(jira.resolved_options(env))
    assert settings.base_url == "http://127.0.0.1:8081"
    assert settings.instance == "demo"
    assert settings.api_token.reveal() == "tok-1"


def test_secrets_come_from_the_environment_and_a_missing_one_is_named(tmp_path):
    path = write(tmp_path, "jira:\n  - instance: acme\n    base_url: https://a.net\n    api_token: ${ACME_TOKEN}\n")
    (source,) = load_sources(path)
    assert source.resolved_options({"ACME_TOKEN": "s3cret"})["api_token"] == "s3cret"
    with pytest.raises(ConfigError, match="jira_acme: api_token names the environment variable ACME_TOKEN"):
        source.resolved_options({})


def test_a_secret_written_in_the_file_is_refused(tmp_path):
    path = write(tmp_path, "asana:\n  - instance: main\n    token: plain-text-token\n")
    (source,) = load_sources(path)
    with pytest.raises(ConfigError, match="token is written in the config file") as raised:
        source.resolved_options({})
    assert "plain-text-token" not in str(raised.value)


def test_a_secret_can_come_from_an_airflow_connection(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_SMARTSHEET_PMO", "generic://:sheet-token-42@")
    path = write(tmp_path, "smartsheet:\n  - instance: pmo\n    token: airflow:smartsheet_pmo\n")
    (source,) = load_sources(path)
    assert source.resolved_options()["token"] == "sheet-token-42"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("trello:\n  - instance: a\n", "unknown tools"),
        ("jira:\n  instance: a\n", "jira must be a list"),
        ("jira:\n  - base_url: x\n", "needs an `instance` name"),
        ("jira:\n  - instance: Acme Site\n", "must be lowercase"),
        ("jira:\n  - instance: a\n  - instance: a\n", "listed twice"),
        ("jira: [", "not valid YAML"),
    ],
)
def test_malformed_configs_fail_with_a_clear_error(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_sources(write(tmp_path, text))


def test_a_missing_config_file_says_how_to_point_at_one(tmp_path):
    with pytest.raises(ConfigError, match="PMO_SOURCES_CONFIG"):
        load_sources(tmp_path / "nope.yml")
