"""Settings shared by the CLI and the web app: one table, one precedence order.

Precedence (DESIGN.md, "Conventions"): a command flag, then the ``PUBLISHER_*``
environment variable, then the TOML file given by ``--config`` (or
``PUBLISHER_CONFIG``), then the default below.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from publisher.errors import ConfigError
from publisher.namespaces import OGL_V3


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str

    @property
    def env(self) -> str:
        return "PUBLISHER_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "base_url",
        "http://127.0.0.1:8000",
        "Base URL that IRIs are minted from and the site is served at; may carry a "
        "path prefix such as https://example.org/stats.",
    ),
    Setting(
        "site_name", "Release calendar", "Name of the site, for pages and og:site_name."
    ),
    Setting(
        "organization_name",
        "Example Statistics Office",
        "Publisher of the releases when the input does not name one.",
    ),
    Setting(
        "organization_url",
        "",
        "Home page of the publishing organisation (default: the base URL).",
    ),
    Setting("organization_logo", "", "Absolute URL of the organisation's logo."),
    Setting(
        "default_license",
        OGL_V3,
        "Licence IRI for releases whose input names none (default: OGL v3.0).",
    ),
    Setting(
        "timezone",
        "Europe/London",
        "Time zone that times are written in and shown in; input times without an "
        "offset are read in it.",
    ),
    Setting("language", "en", "Default language of releases (BCP 47 tag)."),
    Setting("locale", "en_GB", "Locale of the pages, for og:locale."),
    Setting("twitter_handle", "", "The organisation's X/Twitter handle (@name)."),
    Setting(
        "mastodon_share",
        "https://mastodon.social",
        "Mastodon instance that the share link opens (people can change it there).",
    ),
    Setting("cache_seconds", "300", "max-age of Cache-Control for pages and data."),
    Setting("store", "./data/store", "Path of the embedded store."),
    Setting(
        "endpoint",
        "",
        "SPARQL 1.1 Query endpoint of a remote store; when set, it is used instead "
        "of the embedded store.",
    ),
    Setting(
        "update_endpoint",
        "",
        "SPARQL 1.1 Update endpoint of the remote store (default: the query endpoint).",
    ),
    Setting(
        "gsp_endpoint",
        "",
        "Graph Store HTTP Protocol endpoint of the remote store, used for dumps, "
        "restores and reading one graph (optional: SPARQL is used without it).",
    ),
    Setting("store_user", "", "User name for HTTP basic authentication to the store."),
    Setting("store_password", "", "Password for HTTP basic authentication."),
    Setting("store_token", "", "Bearer token for the store (instead of basic auth)."),
    Setting("store_timeout", "30", "Seconds to wait for the remote store."),
    Setting(
        "store_retries",
        "3",
        "Retries (with backoff) of reads from the remote store; writes never retry.",
    ),
    Setting(
        "index",
        "",
        "Path of the listing index (SQLite), rebuilt from the store on demand "
        "(default: <store>.index.sqlite, or ./data/index.sqlite for a remote store).",
    ),
    Setting(
        "schedule",
        "",
        "Path of the file (SQLite) that holds releases scheduled for publication "
        "under embargo (default: <store>.schedule.sqlite, or ./data/schedule.sqlite "
        "for a remote store).",
    ),
    Setting(
        "write_tokens",
        "",
        "Comma-separated admin tokens (named env-1, env-2, ...) for API writes and "
        "SPARQL Update.",
    ),
    Setting(
        "write_tokens_file",
        "",
        "File of write tokens, one per line: name, role (publish or admin) and the "
        "token's SHA-256 in hex.",
    ),
    Setting(
        "query_timeout",
        "10",
        "Seconds a SPARQL query may run at /sparql; the query is then stopped.",
    ),
    Setting(
        "query_max_rows",
        "10000",
        "Most result rows (SELECT) or triples (CONSTRUCT, DESCRIBE) /sparql returns; "
        "results cut at this size say so.",
    ),
    Setting(
        "query_max_bytes",
        "1048576",
        "Largest SPARQL request (query or update, in bytes) /sparql accepts.",
    ),
    Setting(
        "query_concurrency",
        "4",
        "Queries /sparql runs at once; more get 503 with Retry-After.",
    ),
    Setting(
        "query_cache",
        "256",
        "Query results /sparql keeps for repeated identical queries (0: none); any "
        "write empties it.",
    ),
    Setting(
        "query_memory_mb",
        "1024",
        "Most resident memory (MB) one SPARQL reader process may use; a query that "
        "grows past it is stopped, answered with an error, and its reader replaced.",
    ),
    Setting(
        "trusted_proxies",
        "",
        "Space-separated addresses of proxies whose X-Forwarded-For is believed when "
        "telling clients apart (default: none; the remote address is the client).",
    ),
    Setting(
        "page_timeout",
        "5",
        "Seconds a page, API or SPARQL request may wait for the store before it is "
        "answered 503 with Retry-After.",
    ),
    Setting(
        "cors_origins",
        "*",
        "Access-Control-Allow-Origin for /sparql reads: * or a space-separated list "
        "of origins (empty: no CORS).",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    base_url: str = "http://127.0.0.1:8000"
    site_name: str = "Release calendar"
    organization_name: str = "Example Statistics Office"
    organization_url: str = ""
    organization_logo: str = ""
    default_license: str = OGL_V3
    timezone: str = "Europe/London"
    language: str = "en"
    locale: str = "en_GB"
    twitter_handle: str = ""
    mastodon_share: str = "https://mastodon.social"
    cache_seconds: str = "300"
    store: str = "./data/store"
    endpoint: str = ""
    update_endpoint: str = ""
    gsp_endpoint: str = ""
    store_user: str = ""
    store_password: str = ""
    store_token: str = ""
    store_timeout: str = "30"
    store_retries: str = "3"
    index: str = ""
    schedule: str = ""
    write_tokens: str = ""
    write_tokens_file: str = ""
    query_timeout: str = "10"
    query_max_rows: str = "10000"
    query_max_bytes: str = "1048576"
    query_concurrency: str = "4"
    query_cache: str = "256"
    query_memory_mb: str = "1024"
    trusted_proxies: str = ""
    page_timeout: str = "5"
    cors_origins: str = "*"

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"base_url must be an absolute http(s) URL, not {self.base_url!r}"
            )
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        self.timeout_seconds  # noqa: B018 - validates the setting
        self.retries  # noqa: B018
        self.query_timeout_seconds  # noqa: B018
        self.page_timeout_seconds  # noqa: B018
        self.proxies  # noqa: B018
        _whole(self.query_memory_mb, "query_memory_mb")
        for name in ("query_max_rows", "query_max_bytes", "query_concurrency"):
            _whole(getattr(self, name), name)
        _whole(self.query_cache, "query_cache", allow_zero=True)
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(
                f"timezone {self.timezone!r} is not a known zone"
            ) from exc

    @property
    def timeout_seconds(self) -> float:
        return _positive(self.store_timeout, "store_timeout")

    @property
    def retries(self) -> int:
        return int(_positive(self.store_retries, "store_retries", allow_zero=True))

    @property
    def query_timeout_seconds(self) -> float:
        return _positive(self.query_timeout, "query_timeout")

    @property
    def page_timeout_seconds(self) -> float:
        return _positive(self.page_timeout, "page_timeout")

    @property
    def memory_limit_bytes(self) -> int:
        return _whole(self.query_memory_mb, "query_memory_mb") * 1024 * 1024

    @property
    def proxies(self) -> frozenset[str]:
        """The trusted proxies' addresses, each checked as an IP address."""
        found = set()
        for item in self.trusted_proxies.replace(",", " ").split():
            try:
                found.add(str(ipaddress.ip_address(item)))
            except ValueError:
                raise ConfigError(
                    f"trusted_proxies: {item!r} is not an IP address"
                ) from None
        return frozenset(found)

    @property
    def max_rows(self) -> int:
        return _whole(self.query_max_rows, "query_max_rows")

    @property
    def max_request_bytes(self) -> int:
        return _whole(self.query_max_bytes, "query_max_bytes")

    @property
    def concurrency(self) -> int:
        return _whole(self.query_concurrency, "query_concurrency")

    @property
    def cache_entries(self) -> int:
        return _whole(self.query_cache, "query_cache", allow_zero=True)

    @property
    def index_path(self) -> str:
        if self.index:
            return self.index
        if self.endpoint:
            return "./data/index.sqlite"
        return self.store.rstrip("/") + ".index.sqlite"

    @property
    def schedule_path(self) -> str:
        if self.schedule:
            return self.schedule
        if self.endpoint:
            return "./data/schedule.sqlite"
        return self.store.rstrip("/") + ".schedule.sqlite"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def publisher_url(self) -> str:
        return self.organization_url or self.base_url + "/"


assert {f.name for f in fields(Settings)} == set(_BY_NAME), "SETTINGS out of step"  # noqa: S101


def _positive(value: str, name: str, *, allow_zero: bool = False) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {value!r}") from None
    if number < 0 or (number == 0 and not allow_zero):
        raise ConfigError(f"{name} must be positive, not {value!r}")
    return number


def _whole(value: str, name: str, *, allow_zero: bool = False) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if number < 0 or (number == 0 and not allow_zero):
        raise ConfigError(f"{name} must be positive, not {value!r}")
    return number


def load_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve every setting: flag, then environment, then TOML file, then default."""
    env = os.environ if environ is None else environ
    path = config_file or env.get("PUBLISHER_CONFIG")
    from_file: dict[str, Any] = {}
    if path:
        try:
            with Path(path).open("rb") as fh:
                from_file = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(
                f"cannot read config file {path}: {exc.strerror}"
            ) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
        unknown = sorted(set(from_file) - set(_BY_NAME))
        if unknown:
            raise ConfigError(
                f"config file {path}: unknown setting(s) {', '.join(unknown)}; "
                f"known: {', '.join(_BY_NAME)}"
            )
    values: dict[str, str] = {}
    for setting in SETTINGS:
        value: Any = None
        if flags and flags.get(setting.name) is not None:
            value = flags[setting.name]
        elif setting.env in env:
            value = env[setting.env]
        elif setting.name in from_file:
            value = from_file[setting.name]
        if value is not None:
            values[setting.name] = str(value)
    return Settings(**values)
