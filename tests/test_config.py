"""Settings: flag, then PUBLISHER_* environment, then TOML file, then default."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from publisher.config import SETTINGS, Settings, load_settings, settings_markdown
from publisher.errors import ConfigError

from .conftest import ROOT


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


def test_values_are_typed() -> None:
    settings = Settings(
        query_max_rows="5",
        store_timeout="2.5",
        store_retries="0",
        trusted_proxies="10.0.0.1, ::1",
        cors_origins="https://a.example https://b.example",
    )
    assert settings.query_max_rows == 5
    assert settings.store_timeout == 2.5
    assert settings.store_retries == 0
    assert settings.trusted_proxies == frozenset({"10.0.0.1", "::1"})
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    defaults = Settings()
    assert isinstance(defaults.query_max_rows, int)
    assert isinstance(defaults.store_timeout, float)
    assert defaults.trusted_proxies == frozenset()
    assert defaults.cors_origins == ("*",)
    assert defaults.memory_limit_bytes == 1024 * 1024 * 1024


def test_every_default_is_the_table_default_read_by_its_type() -> None:
    defaults = Settings()
    for setting in SETTINGS:
        assert getattr(defaults, setting.name) == setting.parse(setting.default)


def test_replace_keeps_typed_values() -> None:
    settings = replace(Settings(query_max_rows="5"), base_url="https://x.example/")
    assert settings.query_max_rows == 5
    assert settings.base_url == "https://x.example"
    assert replace(settings, store_timeout=3).store_timeout == 3.0


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("query_max_rows", "lots", "must be a whole number, not 'lots'"),
        ("query_max_rows", "0", "must be positive, not '0'"),
        ("query_max_rows", "2.5", "must be a whole number, not '2.5'"),
        ("query_cache", "-1", "must be 0 or more, not '-1'"),
        ("store_timeout", "soon", "must be a number, not 'soon'"),
        ("page_timeout", "0", "must be positive, not '0'"),
        ("page_timeout", "nan", "must be positive, not 'nan'"),
        ("trusted_proxies", "10.0.0.1 proxy", "lists 'proxy', which is not an IP"),
        ("cache_seconds", "5m", "must be a whole number, not '5m'"),
        ("timezone", "Mars/Olympus", "'Mars/Olympus' is not a known zone"),
        ("base_url", "example.org", "must be an absolute http(s) URL"),
    ],
)
def test_a_bad_value_names_the_setting_and_its_source(
    tmp_path: Path, name: str, value: str, reason: str
) -> None:
    env = "PUBLISHER_" + name.upper()
    flag = "--" + name.replace("_", "-")
    toml = tmp_path / "p.toml"
    toml.write_text(f"{name} = {value!r}\n".replace("'", '"'))
    for source, call in (
        (f"flag {flag}", lambda: load_settings({name: value}, environ={})),
        (env, lambda: load_settings(environ={env: value})),
        (f"config file {toml}", lambda: load_settings(config_file=toml, environ={})),
    ):
        with pytest.raises(ConfigError) as caught:
            call()
        message = str(caught.value)
        assert message.startswith(f"{name} {reason}"), message
        assert message.endswith(f"(from {source})"), message
        assert "\n" not in message
    with pytest.raises(ConfigError, match=f"^{name} "):
        Settings(**{name: value})


def test_a_typed_toml_value_is_read_like_text(tmp_path: Path) -> None:
    toml = tmp_path / "p.toml"
    toml.write_text("query_max_rows = 50\nstore_timeout = 2.5\n")
    settings = load_settings(config_file=toml, environ={})
    assert (settings.query_max_rows, settings.store_timeout) == (50, 2.5)


def test_precedence_holds_for_typed_values(tmp_path: Path) -> None:
    toml = tmp_path / "p.toml"
    toml.write_text('query_max_rows = "30"\nquery_cache = "7"\nstore_retries = "1"\n')
    env = {"PUBLISHER_QUERY_MAX_ROWS": "20", "PUBLISHER_QUERY_CACHE": "6"}
    settings = load_settings({"query_max_rows": "10"}, config_file=toml, environ=env)
    assert settings.query_max_rows == 10  # flag
    assert settings.query_cache == 6  # environment
    assert settings.store_retries == 1  # file
    assert settings.query_concurrency == 4  # default


def test_a_bad_value_in_a_lower_source_is_not_read(tmp_path: Path) -> None:
    """Only the value that wins is read: a flag hides a bad variable."""
    env = {"PUBLISHER_QUERY_MAX_ROWS": "lots"}
    assert load_settings({"query_max_rows": "9"}, environ=env).query_max_rows == 9


def test_configuration_md_is_made_from_the_table() -> None:
    """docs/configuration.md holds the table ``python -m publisher.config`` prints."""
    text = (ROOT / "docs" / "configuration.md").read_text()
    begin, end = "<!-- settings table: begin -->\n", "<!-- settings table: end -->"
    table = text[text.index(begin) + len(begin) : text.index(end)]
    assert table == settings_markdown(), "regenerate: python -m publisher.config"


def test_the_table_prints_every_setting_with_its_type_and_default() -> None:
    rows = settings_markdown().splitlines()[2:]
    assert len(rows) == len(SETTINGS)
    for row, setting in zip(rows, SETTINGS, strict=True):
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[:3] == [f"`{setting.name}`", f"`{setting.env}`", setting.type.name]
        assert cells[3] == (f"`{setting.default}`" if setting.default else "none")
