"""The listing index's rows and where each of their fields comes from.

Every row is read from the store by one bulk SELECT over the release graphs (all
of them for a first sync or a rebuild; for a few releases, only their graphs,
named in a VALUES clause), built from the field table :data:`FIELDS`'s predicates,
each field reading its variable of the answer. Each field also says which
attribute of a Release it is, so that a test checks that the query's rows are
those of the graphs read back by :mod:`publisher.readback` (as the pages and the
API read them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from publisher.config import Settings
from publisher.model import Release, Status
from publisher.namespaces import Iris
from publisher.rdf import DESIGNATION_CONCEPTS, STATUS_CONCEPTS
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


def parse_moment(value: str | None) -> datetime | None:
    """A stored xsd:dateTime as an aware datetime (UTC if it has no offset), or
    None when absent or unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc_text(value: str | None) -> str | None:
    """A time as UTC text with a Z (it sorts as text); None when unreadable."""
    moment = parse_moment(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _offset_text(value: str | None) -> str | None:
    """A time as ISO text with its offset, one form whatever the store returns
    (Oxigraph writes a UTC time with Z, Python's isoformat with +00:00)."""
    return _iso(parse_moment(value))


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


def _published(release: Release) -> datetime | date | None:
    """When a release was published, as its graph says (publisher.rdf: a
    published release without a date published has its release date)."""
    if release.status is not Status.PUBLISHED:
        return None
    return release.published_date or release.release_date


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
        lambda r: utc_text(_iso(_published(r))),
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


@dataclass(frozen=True)
class Known:
    """A release's fields as the Release it was written from gives them, with the
    content hash of what was written: a sync that finds that version in the
    store takes them instead of reading the graph back (a first import)."""

    content_hash: str
    values: dict[str, Any]
    topics: list[tuple[str, str]]
    keywords: str


def known_of_release(release: Release, content_hash: str) -> Known:
    values = {f.name: f.from_release(release) for f in FIELDS}
    topics = sorted({t.slug: t.label for t in release.topics}.items())
    keywords = " ".join(sorted(set(release.keywords)))
    return Known(content_hash, values, topics, keywords)


def known_row(slug: str, known: Known, state: tuple[str, str]) -> Fetched:
    """The row of ``known`` with its catalogue record's (version, modified)."""
    return _row(slug, known.values, state), known.topics, known.keywords


def known_rows(
    stale: Sequence[str],
    known: Mapping[str, Known],
    states: Mapping[str, tuple[str, str]],
) -> tuple[list[Fetched], list[str]]:
    """The rows of the ``stale`` releases whose version in the store (``states``)
    is the one ``known`` has, and the slugs of the rest (to be read back)."""
    rows: list[Fetched] = []
    unknown: list[str] = []
    for slug in stale:
        given = known.get(slug)
        if given is not None and given.content_hash == states[slug][0]:
            rows.append(known_row(slug, given, states[slug]))
        else:
            unknown.append(slug)
    return rows, unknown


def row_of_release(release: Release, state: tuple[str, str]) -> Fetched:
    """The row of a release read back from its graph (a test checks it is the
    query's); ``state``: its catalogue record's (version, modified)."""
    return known_row(release.slug, known_of_release(release, state[0]), state)


def _scope(iris: Iris, slugs: Sequence[str] | None) -> tuple[str, str]:
    """The VALUES clauses that keep a bulk query to the graphs of ``slugs`` (and,
    inside them, to their releases, which Oxigraph then looks up rather than
    scanning every graph); none for every release graph."""
    if slugs is None:
        return "", ""
    graphs = " ".join(f"<{iris.release_graph(s)}>" for s in slugs)
    releases = " ".join(f"<{iris.release(s)}>" for s in slugs)
    return f"  VALUES ?g {{ {graphs} }}\n", f"VALUES ?r {{ {releases} }}\n"


def _in_graphs(scope: tuple[str, str], body: str) -> str:
    return f"{scope[0]}  GRAPH ?g {{\n{body}  }}\n}}"


def _release(scope: tuple[str, str], indent: int) -> str:
    """The pattern of a release (after the VALUES of its IRIs, if any)."""
    pad = " " * indent
    values = f"{pad}{scope[1]}" if scope[1] else ""
    return f"{values}{pad}?r a pub:Release ; pub:slug ?slug"


def _bulk_query(scope: tuple[str, str]) -> str:
    paths = dict.fromkeys((f.var, f.path) for f in FIELDS)
    names = " ".join(f"?{var}" for var, _ in paths)
    optional = "".join(f"    OPTIONAL {{ ?r {p} ?{var} }}\n" for var, p in paths)
    body = f"{_release(scope, 4)} .\n{optional}"
    return (
        catalog.PREFIXES + f"SELECT ?slug {names} WHERE {{\n" + _in_graphs(scope, body)
    )


def _extra_query(scope: tuple[str, str]) -> str:
    # The release in each branch of the UNION, not once before it: Oxigraph would
    # read the whole UNION (every graph's topics and keywords) before joining.
    release = _release(scope, 6)
    body = (
        f"    {{\n{release} ; schema:about ?topic .\n"
        "      OPTIONAL { ?topic schema:name ?label }\n    }\n"
        f"    UNION {{\n{release} ; schema:keywords ?keyword .\n    }}\n"
    )
    select = "SELECT ?slug ?topic ?label ?keyword WHERE {\n"
    return catalog.PREFIXES + select + _in_graphs(scope, body)


def fetch_one(
    store: Store, settings: Settings, slug: str, state: tuple[str, str]
) -> list[Fetched]:
    """The row of one release (none if its graph is gone)."""
    return fetch_some(store, settings, {slug: state})


#: graphs named in one query of fetch_some (a query's text stays a few kB)
_CHUNK = 100


def fetch_some(
    store: Store, settings: Settings, states: Mapping[str, tuple[str, str]]
) -> list[Fetched]:
    """The rows of the releases of ``states``, by slug: the bulk queries, asked
    only of their graphs (``_CHUNK`` a query)."""
    slugs = sorted(states)
    out: list[Fetched] = []
    for start in range(0, len(slugs), _CHUNK):
        out += _fetch(store, settings, states, slugs[start : start + _CHUNK])
    return sorted(out, key=lambda r: r[0].slug)


def fetch_all(
    store: Store, settings: Settings, states: Mapping[str, tuple[str, str]]
) -> list[Fetched]:
    """The rows of every release with a live catalogue record (``states``): two
    scans of every release graph, faster than a lookup each for many."""
    return _fetch(store, settings, states, None)


def _fetch(
    store: Store,
    settings: Settings,
    states: Mapping[str, tuple[str, str]],
    slugs: Sequence[str] | None,
) -> list[Fetched]:
    """The rows of the graphs of ``slugs`` (None: of every release graph)."""
    iris = Iris(settings.base_url)
    scope = _scope(iris, slugs)
    main = store.select(_bulk_query(scope))
    topics: dict[str, dict[str, str]] = {}
    keywords: dict[str, list[str]] = {}
    for r in store.select(_extra_query(scope)):
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
