"""The listing index's rows and where each of their fields comes from.

A row is read from the store in one of two ways, and both go through the field
table :data:`FIELDS`: one release's stored graph is read into a Release (by
:mod:`publisher.readback`, as the pages and the API read it) and each field takes
its attribute of it; every release at once (a first sync, a rebuild) is one bulk
SELECT over every release graph, built from the fields' predicates, and each field
reads its variable of the answer. A test checks that both give the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from publisher.config import Settings
from publisher.model import Release
from publisher.namespaces import Iris
from publisher.rdf import DESIGNATION_CONCEPTS, STATUS_CONCEPTS
from publisher.readback import read_ntriples, stored_release
from publisher.store import Store, catalog

_STATUSES = {str(iri): status.value for status, iri in STATUS_CONCEPTS.items()}
_DESIGNATIONS = {str(iri): d for d, iri in DESIGNATION_CONCEPTS.items()}


@dataclass(frozen=True)
class Row:
    slug: str
    title: str | None
    summary: str | None
    status: str | None
    release_date: str | None  # UTC
    release_date_text: str | None
    provisional_date: str | None
    published_date: str | None
    designation: str | None
    census: bool
    modified: str | None
    content_hash: str


#: a row with its topics ((slug, label), sorted) and its keywords (one text)
Fetched = tuple[Row, list[tuple[str, str]], str]


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc_text(value: str | None) -> str | None:
    """A time as UTC text with a Z (it sorts as text); None when unreadable."""
    moment = _moment(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _offset_text(value: str | None) -> str | None:
    """A time as ISO text with its offset, one form whatever the store returns
    (Oxigraph writes a UTC time with Z, Python's isoformat with +00:00)."""
    return _iso(_moment(value))


def _text(value: str | None) -> str | None:
    return value


@dataclass(frozen=True)
class Field:
    """One field of a row: the bulk query's ``?var`` (``path`` from the release)
    read by ``from_text``; for one release, ``from_release`` of its Release."""

    name: str  # the Row attribute and the index's column
    var: str
    path: str
    from_text: Callable[[str | None], Any]
    from_release: Callable[[Release], Any]


_START = "schema:publication/schema:startDate"

FIELDS = (
    Field("title", "title", "schema:name", _text, lambda r: r.title),
    Field("summary", "summary", "schema:description", _text, lambda r: r.summary),
    Field(
        "status",
        "status",
        "pub:status",
        lambda t: _STATUSES.get(t or ""),
        lambda r: r.status.value if r.status else None,
    ),
    Field(
        "release_date",
        "start",
        _START,
        utc_text,
        lambda r: utc_text(_iso(r.release_date)),
    ),
    Field(
        "release_date_text",
        "start",
        _START,
        _offset_text,
        lambda r: _iso(r.release_date),
    ),
    Field(
        "provisional_date",
        "provisional",
        "pub:provisionalDate",
        _text,
        lambda r: r.provisional_date,
    ),
    Field(
        "published_date",
        "published",
        "schema:datePublished",
        utc_text,
        lambda r: utc_text(_iso(r.published_date)),
    ),
    Field(
        "designation",
        "designation",
        "pub:designation",
        lambda t: _DESIGNATIONS.get(t or ""),
        lambda r: r.designation.value if r.designation else None,
    ),
    Field(
        "census",
        "census",
        "pub:census",
        lambda t: t in ("true", "1"),
        lambda r: r.census,
    ),
)


def _row(slug: str, values: dict[str, Any], state: tuple[str, str]) -> Row:
    return Row(slug=slug, **values, modified=state[1], content_hash=state[0])


def row_of_release(release: Release, state: tuple[str, str]) -> Fetched:
    """The row of a release read back from its graph; ``state``: its catalogue
    record's (version, modified)."""
    values = {f.name: f.from_release(release) for f in FIELDS}
    topics = sorted({t.slug: t.label for t in release.topics}.items())
    return _row(release.slug, values, state), topics, " ".join(sorted(release.keywords))


def fetch_one(
    store: Store, settings: Settings, slug: str, state: tuple[str, str]
) -> list[Fetched]:
    """The row of one release: its graph (a direct lookup), read back."""
    text = catalog.release_graph_ntriples(store, settings, slug)
    release = stored_release(read_ntriples(text), slug, settings) if text else None
    return [row_of_release(release, state)] if release is not None else []


def _bulk_query() -> str:
    paths = dict.fromkeys((f.var, f.path) for f in FIELDS)
    names = " ".join(f"?{var}" for var, _ in paths)
    optional = "".join(f"    OPTIONAL {{ ?r {p} ?{var} }}\n" for var, p in paths)
    return (
        catalog.PREFIXES
        + f"SELECT ?slug {names} WHERE {{\n  GRAPH ?g {{\n"
        + "    ?r a pub:Release ; pub:slug ?slug .\n"
        + optional
        + "  }\n}"
    )


_EXTRA = (
    catalog.PREFIXES
    + """SELECT ?slug ?topic ?label ?keyword WHERE {
  GRAPH ?g {
    ?r a pub:Release ; pub:slug ?slug .
    { ?r schema:about ?topic . OPTIONAL { ?topic schema:name ?label } }
    UNION { ?r schema:keywords ?keyword }
  }
}"""
)


def fetch_all(
    store: Store, settings: Settings, states: Mapping[str, tuple[str, str]]
) -> list[Fetched]:
    """The rows of every release with a live catalogue record (``states``): two
    scans of every release graph, faster than a lookup each for many."""
    iris = Iris(settings.base_url)
    main = store.select(_bulk_query())
    topics: dict[str, dict[str, str]] = {}
    keywords: dict[str, list[str]] = {}
    for r in store.select(_EXTRA):
        if "topic" in r:
            topic = iris.topic_slug(r["topic"]) or ""
            topics.setdefault(r["slug"], {})[topic] = r.get("label", "")
        if "keyword" in r:
            keywords.setdefault(r["slug"], []).append(r["keyword"])
    out = []
    for r in main:
        slug = r["slug"]
        state = states.get(slug)
        if state is None:
            continue  # a graph without a live catalogue record
        values = {f.name: f.from_text(r.get(f.var)) for f in FIELDS}
        out.append(
            (
                _row(slug, values, state),
                sorted(topics.get(slug, {}).items()),
                " ".join(sorted(keywords.get(slug, []))),
            )
        )
    return out
