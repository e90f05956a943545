"""Settings: flag, then PUBLISHER_* environment, then TOML file, then default."""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.config import SETTINGS, Settings, load_settings
from publisher.errors import ConfigError


def test_defaults() -> None:
    settings = load_settings(environ={})
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.timezone == "Europe/London"
    assert settings == Settings()


def test_precedence(tmp_path: Path) -> None:
    toml = tmp_path / "publisher.toml"
    toml.write_text('base_url = "https://from-file.example"\nsite_name = "From file"\n')
    env = {"PUBLISHER_BASE_URL": "https://from-env.example"}
    assert (
        load_settings(config_file=toml, environ={}).base_url
        == "https://from-file.example"
    )
    both = load_settings(config_file=toml, environ=env)
    assert both.base_url == "https://from-env.example"
    assert both.site_name == "From file"
    flag = load_settings(
        {"base_url": "https://flag.example/"}, config_file=toml, environ=env
    )
    assert flag.base_url == "https://flag.example"  # trailing slash dropped


def test_config_file_from_environment(tmp_path: Path) -> None:
    toml = tmp_path / "p.toml"
    toml.write_text('organization_name = "Office for Tests"\n')
    settings = load_settings(environ={"PUBLISHER_CONFIG": str(toml)})
    assert settings.organization_name == "Office for Tests"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("base_url = ", "not valid TOML"),
        ('colour = "red"\n', "unknown setting(s) colour"),
        ('timezone = "Mars/Olympus"\n', "not a known zone"),
        ('base_url = "ftp://x"\n', "absolute http(s) URL"),
    ],
)
def test_bad_config_is_a_clear_error(
    tmp_path: Path, content: str, message: str
) -> None:
    toml = tmp_path / "bad.toml"
    toml.write_text(content)
    with pytest.raises(
        ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        load_settings(config_file=toml, environ={})


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(config_file=tmp_path / "none.toml", environ={})


def test_every_setting_has_an_env_name() -> None:
    assert {s.env for s in SETTINGS} >= {"PUBLISHER_BASE_URL", "PUBLISHER_STORE"}
