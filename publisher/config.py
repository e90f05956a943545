"""Settings shared by the CLI and the web app: one table, one precedence order.

The table is the ``Settings`` class below: each field is one setting, with its type
(how a value is read and checked), its default (written as it would be in the
environment) and its help (the text of docs/configuration.md, which
``python -m publisher.config`` prints). Every value is read and checked once, when
the settings are made: a field holds a typed value (``query_max_rows`` an int,
``store_timeout`` a float, ``trusted_proxies`` a frozenset of addresses).

Precedence (DESIGN.md, "Conventions"): a command flag, then the ``PUBLISHER_*``
environment variable, then the TOML file given by ``--config`` (or
``PUBLISHER_CONFIG``), then the default.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Generic, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from publisher.errors import ConfigError, one_line
from publisher.namespaces import OGL_V3

T = TypeVar("T")


@dataclass(frozen=True)
class Kind(Generic[T]):
    """The type of a setting: its name in the docs and how a value is read.

    ``read`` takes the text of a flag, variable or file (or a value already of the
    type, as ``dataclasses.replace`` passes it) and raises ValueError with the
    reason, worded to follow the setting's name, when it cannot be used.
    """

    name: str
    read: Callable[[object], T]


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be text, not {value!r}")
    return value


def _url(value: object) -> str:
    text = _text(value)
    if not text.startswith(("http://", "https://")):
        raise ValueError(f"must be an absolute http(s) URL, not {text!r}")
    return text.rstrip("/")


def _zone(value: object) -> str:
    text = _text(value)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{text!r} is not a known zone") from None
    return text


def _int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise ValueError(f"must be a whole number, not {value!r}")


def _whole(value: object) -> int:
    number = _int(value)
    if number <= 0:
        raise ValueError(f"must be positive, not {value!r}")
    return number


def _count(value: object) -> int:
    number = _int(value)
    if number < 0:
        raise ValueError(f"must be 0 or more, not {value!r}")
    return number


def _float(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise ValueError(f"must be a number, not {value!r}")


def _seconds(value: object) -> float:
    number = _float(value)
    if not number > 0:  # NaN too
        raise ValueError(f"must be positive, not {value!r}")
    return number


def _items(value: object, sep: str) -> list[str]:
    if isinstance(value, str):
        return value.replace(sep, " ").split()
    items = list(value) if isinstance(value, Iterable) else None
    if items is not None and all(isinstance(v, str) for v in items):
        return [str(v) for v in items]
    raise ValueError(f"must be text, not {value!r}")


def _addresses(value: object) -> frozenset[str]:
    found = set()
    for item in _items(value, ","):
        try:
            found.add(str(ipaddress.ip_address(item)))
        except ValueError:
            raise ValueError(f"lists {item!r}, which is not an IP address") from None
    return frozenset(found)


def _words(value: object) -> tuple[str, ...]:
    return tuple(_items(value, " "))


TEXT = Kind("text", _text)
PATH = Kind("path", _text)
URL = Kind("http(s) URL", _url)
ZONE = Kind("time zone", _zone)
WHOLE = Kind("whole number > 0", _whole)
COUNT = Kind("whole number ≥ 0", _count)
SECONDS = Kind("seconds > 0", _seconds)
ADDRESSES = Kind("IP addresses", _addresses)
WORDS = Kind("words", _words)


def _setting(kind: Kind[T], default: str, help: str) -> T:
    """One row of the table: a dataclass field that keeps its type and help.

    The field's default is the text; ``Settings.__post_init__`` reads it.
    """
    return cast(T, field(default=default, metadata={"type": kind, "help": help}))


@dataclass(frozen=True)
class Setting:
    """One setting as the docs and ``load_settings`` see it."""

    name: str
    type: Kind[Any]
    default: str
    help: str

    @property
    def env(self) -> str:
        return "PUBLISHER_" + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parse(self, value: object, source: str = "") -> Any:
        """``value`` read by the setting's type; a ConfigError names the source."""
        try:
            return self.type.read(value)
        except ValueError as exc:
            where = f" (from {source})" if source else ""
            raise ConfigError(one_line(f"{self.name} {exc}{where}")) from None


@dataclass(frozen=True)
class Settings:
    """Every setting, typed. ``Settings(query_max_rows="5")`` reads "5" as 5."""

    base_url: str = _setting(
        URL,
        "http://127.0.0.1:8000",
        "Base URL that IRIs are minted from and the site is served at; may carry a "
        "path prefix (`https://example.org/stats`). Flag: `--base-url`.",
    )
    site_name: str = _setting(
        TEXT, "Release calendar", "Name of the site (WebSite node, og:site_name)."
    )
    organization_name: str = _setting(
        TEXT,
        "Example Statistics Office",
        "Publisher of releases whose input names none.",
    )
    organization_url: str = _setting(
        TEXT, "", "The organisation's home page; if none, the base URL."
    )
    organization_logo: str = _setting(
        TEXT, "", "Absolute URL of its logo (schema:logo)."
    )
    default_license: str = _setting(
        TEXT,
        OGL_V3,
        "Licence IRI for releases whose input names none (the default is OGL "
        "v3.0); empty for none (a warning).",
    )
    timezone: str = _setting(
        ZONE,
        "Europe/London",
        "Zone times are written in; input times without an offset are read in it.",
    )
    language: str = _setting(TEXT, "en", "Default language of releases (BCP 47).")
    locale: str = _setting(TEXT, "en_GB", "Locale of the pages (`og:locale`).")
    twitter_handle: str = _setting(
        TEXT, "", "The organisation's X/Twitter handle (`twitter:site`)."
    )
    mastodon_share: str = _setting(
        TEXT, "https://mastodon.social", "Mastodon instance the share link opens."
    )
    cache_seconds: int = _setting(
        COUNT, "300", "`max-age` of `Cache-Control` for pages and data."
    )
    store: str = _setting(
        PATH, "./data/store", "Folder of the embedded store. Flag: `--store`."
    )
    endpoint: str = _setting(
        TEXT,
        "",
        "SPARQL 1.1 Query endpoint of a remote store; when set it is used instead "
        "of the embedded store. Flag: `--endpoint`.",
    )
    update_endpoint: str = _setting(
        TEXT,
        "",
        "SPARQL 1.1 Update endpoint; if none, the query endpoint. "
        "Flag: `--update-endpoint`.",
    )
    gsp_endpoint: str = _setting(
        TEXT,
        "",
        "Graph Store HTTP Protocol endpoint, for dumps, restores and reading one "
        "graph (SPARQL is used without it). Flag: `--gsp-endpoint`.",
    )
    store_user: str = _setting(
        TEXT, "", "User for HTTP basic authentication to the remote store."
    )
    store_password: str = _setting(
        TEXT,
        "",
        "Its password (keep it in the environment or a file only you can read).",
    )
    store_token: str = _setting(
        TEXT,
        "",
        "Bearer token for the remote store, instead of basic authentication.",
    )
    store_timeout: float = _setting(
        SECONDS, "30", "Seconds to wait for each request to the remote store."
    )
    store_retries: int = _setting(
        COUNT,
        "3",
        "Retries, with backoff, of reads from the remote store; writes are never "
        "retried.",
    )
    index: str = _setting(
        PATH,
        "",
        "The listing index (SQLite), derived from the store (see "
        "[stores.md](stores.md)); if none, `<store>.index.sqlite`, or "
        "`./data/index.sqlite` with a remote store.",
    )
    schedule: str = _setting(
        PATH,
        "",
        "Where releases scheduled for publication wait, under embargo, outside the "
        "store (see [api.md](api.md)); if none, `<store>.schedule.sqlite`, or "
        "`./data/schedule.sqlite` with a remote store. Only the server that owns "
        "the store publishes them.",
    )
    write_tokens: str = _setting(
        TEXT,
        "",
        "Comma-separated **admin** tokens, named `env-1`, `env-2`, ... in the "
        "history. Admin tokens may send SPARQL Update (and write through the API).",
    )
    write_tokens_file: str = _setting(
        PATH,
        "",
        "A file of tokens, one per line: `name role sha256-hex`, role `publish` "
        "(API writes) or `admin` (API writes and SPARQL Update); `#` starts a "
        "comment. Only the SHA-256 of each token is stored: "
        '`printf %s "$TOKEN" \\| sha256sum`.',
    )
    query_timeout: float = _setting(
        SECONDS,
        "10",
        "Seconds a query at `/sparql` may run; it is then stopped (its reader "
        "process is killed) and the client gets 504. See [sparql.md](sparql.md).",
    )
    query_max_rows: int = _setting(
        WHOLE,
        "10000",
        "Most rows (SELECT) or triples (CONSTRUCT, DESCRIBE) `/sparql` returns; a "
        "cut answer carries `X-SPARQL-MaxRows`.",
    )
    query_max_bytes: int = _setting(
        WHOLE,
        "1048576",
        "Largest SPARQL request, query or update, in bytes: a bigger body gets "
        "413, a longer URL 414.",
    )
    query_concurrency: int = _setting(
        WHOLE,
        "4",
        "Queries `/sparql` runs at once (one reader process each); beyond it, 503 "
        "with `Retry-After`.",
    )
    query_cache: int = _setting(
        COUNT,
        "256",
        "Answers kept for repeated identical queries (0 turns the cache off); any "
        "write empties it.",
    )
    query_memory_mb: int = _setting(
        WHOLE,
        "1024",
        "Most resident memory, in MB, one SPARQL reader process may use; a query "
        "that grows past it is stopped, the client gets an error saying so, and "
        "the reader is replaced. See [reliability.md](reliability.md).",
    )
    trusted_proxies: frozenset[str] = _setting(
        ADDRESSES,
        "",
        "IP addresses (separated by spaces or commas) of reverse proxies whose "
        "`X-Forwarded-For` is believed when telling clients apart (the SPARQL "
        "endpoint's fair shares; later, referral counting). Without it the remote "
        "address is the client, and `X-Forwarded-For` is ignored.",
    )
    page_timeout: float = _setting(
        SECONDS,
        "5",
        "Seconds a page, API or SPARQL request waits for the store; then it is "
        "answered 503 with `Retry-After`. See [reliability.md](reliability.md).",
    )
    workers: int = _setting(
        COUNT,
        "0",
        "Worker processes of `publisher serve` (0: one per core). Over an embedded "
        "store one of them writes and the others read its checkpoints; over a "
        "remote store they are alike. See [serving.md](serving.md). Flag: `--workers`.",
    )
    cors_origins: tuple[str, ...] = _setting(
        WORDS,
        "*",
        "`Access-Control-Allow-Origin` of `/sparql`: `*`, a space-separated list "
        "of origins, or empty for no CORS.",
    )
    version_watch: float = _setting(
        SECONDS,
        "1",
        "Seconds between two looks at the store's data version, for writes this "
        "process did not make (another node, a tool writing to a remote store). "
        "The server's own writes are seen at once; others' within this bound. "
        "See [serving.md](serving.md).",
    )
    render_cache_mb: int = _setting(
        WHOLE,
        "128",
        "Megabytes of rendered pages, JSON-LD and RDF kept in memory (with their "
        "gzip copies), least recently used dropped first, for the whole server: "
        "each of `workers` processes keeps its share. See [serving.md](serving.md).",
    )

    def share(self, total: int) -> int:
        """One worker process's part of ``total`` (a memory budget the whole
        server shares): ``publisher serve`` sets ``workers`` to the processes it
        runs; 0 (an app made some other way) counts as one."""
        return max(1, total // max(1, self.workers))

    def __post_init__(self) -> None:
        for setting in SETTINGS:
            value = setting.parse(getattr(self, setting.name))
            object.__setattr__(self, setting.name, value)

    # Derived values (not settings) -------------------------------------------

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

    @property
    def memory_limit_bytes(self) -> int:
        """``query_memory_mb`` in bytes."""
        return self.query_memory_mb * 1024 * 1024


SETTINGS: tuple[Setting, ...] = tuple(
    Setting(f.name, f.metadata["type"], str(f.default), f.metadata["help"])
    for f in fields(Settings)
)
_BY_NAME = {s.name: s for s in SETTINGS}

for _row in SETTINGS:
    _row.parse(_row.default, "the default")


def _read_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        with Path(path).open("rb") as fh:
            from_file = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    unknown = sorted(set(from_file) - set(_BY_NAME))
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(_BY_NAME)}"
        )
    return from_file


def load_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve every setting: flag, then environment, then TOML file, then default.

    Each value is read once, here; a bad one is a ConfigError naming the setting
    and where the value came from.
    """
    env = os.environ if environ is None else environ
    path = config_file or env.get("PUBLISHER_CONFIG")
    from_file = _read_file(path) if path else {}
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if flags and flags.get(setting.name) is not None:
            value, source = flags[setting.name], f"flag {setting.flag}"
        elif setting.env in env:
            value, source = env[setting.env], setting.env
        elif setting.name in from_file:
            value, source = from_file[setting.name], f"config file {path}"
        else:
            continue
        values[setting.name] = setting.parse(str(value), source)
    return Settings(**values)


def settings_markdown() -> str:
    """The table of docs/configuration.md, made from ``SETTINGS``."""
    lines = [
        "| setting | environment | type | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for s in SETTINGS:
        default = f"`{s.default}`" if s.default else "none"
        lines.append(
            f"| `{s.name}` | `{s.env}` | {s.type.name} | {default} | {s.help} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(settings_markdown(), end="")
