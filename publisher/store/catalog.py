"""What a publish or a delete writes, for every backend (DESIGN.md, "Graphs").

Each release lives in its own named graph ``{base}/graphs/releases/{slug}``. The
catalogue graph ``{base}/graphs/catalog`` holds the organisation, the topic scheme
and a DCAT catalogue with one ``dcat:CatalogRecord`` per release: its content hash
(the release's version, for ETags), when it was first issued and last modified.
A deleted release's record becomes a ``pub:Tombstone`` (slug, title, when, why).
The catalogue also records the base URL the store was built for and the data
version, a new random value on every write.

A batch is one SPARQL Update request: embedded stores apply it in one transaction,
remote stores apply a request atomically. Releases whose content hash has not
changed are not rewritten, so importing the same data twice changes nothing.
"""

from __future__ import annotations

import ast
import hashlib
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from publisher.config import Settings
from publisher.errors import StoreConflictError, StoreRefusedError
from publisher.lines import split_lines
from publisher.model import Topic
from publisher.namespaces import Iris
from publisher.store import Store

PREFIXES = """PREFIX pub: <https://w3id.org/release-publisher/ns#>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX schema: <http://schema.org/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""


@dataclass(frozen=True)
class ReleaseEntry:
    """What the catalogue records of a release: its version is its content hash."""

    slug: str
    title: str
    content_hash: str  # sha256 of the graph's sorted N-Triples
    topics: tuple[Topic, ...] = ()


def content_hash(ntriples: str) -> str:
    return hashlib.sha256(ntriples.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ReleaseState:
    slug: str
    version: str  # content hash: the release's ETag
    issued: str | None
    modified: str
    title: str | None = None


@dataclass(frozen=True)
class Tombstone:
    slug: str
    title: str | None
    deleted_at: str
    reason: str


@dataclass
class PublishResult:
    data_version: str | None
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StoreStats:
    releases_by_status: dict[str, int]
    releases: int
    tombstones: int
    graphs: int
    triples: int
    data_version: str | None
    base_url: str | None


def _lit(text: str) -> str:
    """A SPARQL/N-Triples string literal."""
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def now() -> datetime:
    return datetime.now(UTC)


def new_data_version() -> str:
    return uuid.uuid4().hex


def recorded_base_url(store: Store) -> str | None:
    rows = store.select(
        PREFIXES
        + "SELECT ?base WHERE { GRAPH ?g { ?c a dcat:Catalog ; pub:baseUrl ?base } } "
        "LIMIT 2"
    )
    bases = {r["base"] for r in rows if "base" in r}
    if len(bases) > 1:
        raise StoreConflictError(
            f"{store.location} holds catalogues for several base URLs: "
            + ", ".join(sorted(bases))
        )
    return next(iter(bases), None)


def check_base_url(store: Store, settings: Settings) -> None:
    """Refuse to use a store built for another base URL (IRIs would not match)."""
    recorded = recorded_base_url(store)
    if recorded is not None and recorded != settings.base_url:
        raise StoreConflictError(
            f"{store.location} was built for base URL {recorded}, not "
            f"{settings.base_url}: its IRIs are minted from {recorded}. Use "
            f"--base-url {recorded} (or PUBLISHER_BASE_URL), or a new store."
        )


def data_version(store: Store, settings: Settings) -> str | None:
    iris = Iris(settings.base_url)
    rows = store.select(
        PREFIXES + f"SELECT ?v WHERE {{ GRAPH <{iris.catalog_graph}> "
        f"{{ <{iris.catalog}> pub:dataVersion ?v }} }}"
    )
    return rows[0]["v"] if rows else None


#: up to this many releases, their records are looked up one by one (a direct
#: lookup each); more, and every record is read in one query
LOOKUP_MAX = 2000


def release_states(
    store: Store, settings: Settings, slugs: Iterable[str] | None = None
) -> dict[str, ReleaseState]:
    """Live releases' versions, first-issued and last-modified times.

    With ``slugs``, only those (absent ones are left out); without, every one.
    """
    iris = Iris(settings.base_url)
    cat = iris.catalog_graph
    wanted = None if slugs is None else list(dict.fromkeys(slugs))
    if wanted is not None and len(wanted) <= LOOKUP_MAX:
        # A VALUES join over many records is slow in Oxigraph (minutes at 20,000);
        # a query per record is a direct lookup.
        found: dict[str, ReleaseState] = {}
        for slug in wanted:
            rec = f"<{iris.record(slug)}>"
            rows = store.select(
                PREFIXES
                + f"""SELECT ?hash ?issued ?modified ?title WHERE {{ GRAPH <{cat}> {{
  {rec} pub:contentHash ?hash ; dcterms:modified ?modified .
  OPTIONAL {{ {rec} dcterms:issued ?issued }}
  OPTIONAL {{ {rec} dcterms:title ?title }}
}} }}"""
            )
            if rows:
                r = rows[0]
                found[slug] = ReleaseState(
                    slug, r["hash"], r.get("issued"), r["modified"], r.get("title")
                )
        return found
    rows = store.select(
        PREFIXES
        + f"""SELECT ?rec ?hash ?issued ?modified ?title WHERE {{
  GRAPH <{cat}> {{
    ?rec pub:contentHash ?hash ; dcterms:modified ?modified .
    OPTIONAL {{ ?rec dcterms:issued ?issued }}
    OPTIONAL {{ ?rec dcterms:title ?title }}
  }}
}}"""
    )
    prefix = iris.record("")
    states = {}
    for r in rows:
        slug = r["rec"][len(prefix) :]
        states[slug] = ReleaseState(
            slug, r["hash"], r.get("issued"), r["modified"], r.get("title")
        )
    if wanted is not None:
        keep = set(wanted)
        states = {s: st for s, st in states.items() if s in keep}
    return states


def release_versions(store: Store, settings: Settings) -> dict[str, tuple[str, str]]:
    """slug -> (version, modified) of every live release: the index's sync check.

    Two triple patterns, no OPTIONAL: the cheapest full read of the catalogue.
    Tombstones carry no content hash, so they are not listed.
    """
    iris = Iris(settings.base_url)
    rows = store.select(
        PREFIXES + f"SELECT ?rec ?hash ?modified WHERE {{ GRAPH <{iris.catalog_graph}> "
        "{ ?rec pub:contentHash ?hash ; dcterms:modified ?modified } }"
    )
    prefix = iris.record("")
    return {r["rec"][len(prefix) :]: (r["hash"], r["modified"]) for r in rows}


def tombstones(store: Store, settings: Settings) -> dict[str, Tombstone]:
    iris = Iris(settings.base_url)
    rows = store.select(
        PREFIXES
        + f"""SELECT ?slug ?title ?at ?why WHERE {{
  GRAPH <{iris.catalog_graph}> {{
    ?rec a pub:Tombstone ; pub:slug ?slug ; pub:deletedAt ?at ;
         pub:deletionReason ?why .
    OPTIONAL {{ ?rec dcterms:title ?title }}
  }}
}}"""
    )
    return {
        r["slug"]: Tombstone(r["slug"], r.get("title"), r["at"], r["why"]) for r in rows
    }


RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_NS = {
    "pub": "https://w3id.org/release-publisher/ns#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcterms": "http://purl.org/dc/terms/",
    "schema": "http://schema.org/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "prov": "http://www.w3.org/ns/prov#",
}
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"


def _iri(name: str) -> str:
    """``dcat:dataset`` -> ``<http://www.w3.org/ns/dcat#dataset>``; IRIs pass."""
    if name == "a":
        return RDF_TYPE
    if name.startswith("<"):
        return name
    prefix, _, local = name.partition(":")
    return f"<{_NS[prefix]}{local}>"


_PREFIXED = re.compile(r"^([a-z]+):[A-Za-z]")


def _t(subject: str, predicate: str, obj: str) -> str:
    """One N-Triples line (full IRIs: usable in INSERT DATA and N-Quads alike).

    Terms are ``<iri>``, literals already written with :func:`_lit`/:func:`_dt`,
    ``a``, or prefixed names of :data:`_NS`.
    """
    m = _PREFIXED.match(obj)
    if obj == "a" or (m and m.group(1) in _NS):
        obj = _iri(obj)
    return f"{_iri(subject)} {_iri(predicate)} {obj} ."


def _dt(moment: datetime | str) -> str:
    text = moment.isoformat() if isinstance(moment, datetime) else moment
    return f'"{text}"^^<{XSD_DATETIME}>'


def catalog_triples(
    settings: Settings,
    iris: Iris,
    version: str,
    moment: datetime,
    releases: Sequence[ReleaseEntry],
    previous: dict[str, ReleaseState],
) -> list[str]:
    """The catalogue graph's new triples for a publish of ``releases``."""
    catalog, org, scheme = (
        f"<{iris.catalog}>",
        f"<{iris.organization}>",
        f"<{iris.topic_scheme}>",
    )
    lines = [
        _t(catalog, "a", "dcat:Catalog"),
        _t(catalog, "a", "schema:DataCatalog"),
        _t(catalog, "dcterms:title", _lit(settings.site_name)),
        _t(catalog, "schema:name", _lit(settings.site_name)),
        _t(catalog, "dcterms:publisher", org),
        _t(catalog, "schema:publisher", org),
        _t(catalog, "foaf:homepage", f"<{iris.home}>"),
        _t(catalog, "pub:baseUrl", _lit(settings.base_url)),
        _t(catalog, "pub:dataVersion", _lit(version)),
        _t(catalog, "dcterms:modified", _dt(moment)),
        _t(catalog, "dcat:themeTaxonomy", scheme),
        _t(org, "a", "schema:Organization"),
        _t(org, "a", "foaf:Agent"),
        _t(org, "schema:name", _lit(settings.organization_name)),
        _t(org, "foaf:name", _lit(settings.organization_name)),
        _t(org, "schema:url", f"<{settings.publisher_url}>"),
        _t(scheme, "a", "skos:ConceptScheme"),
        _t(scheme, "a", "schema:DefinedTermSet"),
        _t(scheme, "skos:prefLabel", _lit("Topics")),
        _t(scheme, "schema:name", _lit("Topics")),
    ]
    if settings.organization_logo:
        lines.append(_t(org, "schema:logo", f"<{settings.organization_logo}>"))
    topics: dict[str, str] = {}
    for release in releases:
        rec, rel = f"<{iris.record(release.slug)}>", f"<{iris.release(release.slug)}>"
        before = previous.get(release.slug)
        issued = _dt(before.issued) if before and before.issued else _dt(moment)
        lines += [
            _t(catalog, "dcat:dataset", rel),
            _t(catalog, "schema:dataset", rel),
            _t(catalog, "dcat:record", rec),
            _t(rec, "a", "dcat:CatalogRecord"),
            _t(rec, "foaf:primaryTopic", rel),
            _t(rec, "pub:slug", _lit(release.slug)),
            _t(rec, "dcterms:title", _lit(release.title)),
            _t(rec, "pub:contentHash", _lit(release.content_hash)),
            _t(rec, "dcterms:issued", issued),
            _t(rec, "dcterms:modified", _dt(moment)),
        ]
        for topic in release.topics:
            topics[topic.slug] = topic.label
    for slug, label in sorted(topics.items()):
        node = f"<{iris.topic(slug)}>"
        lines += [
            _t(node, "a", "skos:Concept"),
            _t(node, "a", "schema:DefinedTerm"),
            _t(node, "skos:prefLabel", _lit(label)),
            _t(node, "schema:name", _lit(label)),
            _t(node, "skos:inScheme", scheme),
            _t(node, "skos:topConceptOf", scheme),
            _t(node, "schema:inDefinedTermSet", scheme),
            _t(scheme, "skos:hasTopConcept", node),
        ]
    return lines


def _clear_header(iris: Iris) -> list[str]:
    cat = f"<{iris.catalog_graph}>"
    return [
        f"DELETE {{ GRAPH {cat} {{ <{iris.catalog}> ?p ?o }} }} WHERE {{ GRAPH {cat} "
        f"{{ <{iris.catalog}> ?p ?o "
        "FILTER(?p NOT IN (dcat:dataset, dcat:record, schema:dataset)) } }",
        f"DELETE WHERE {{ GRAPH {cat} {{ <{iris.organization}> ?p ?o }} }}",
        f"DELETE {{ GRAPH {cat} {{ <{iris.topic_scheme}> ?p ?o }} }} WHERE {{ "
        f"GRAPH {cat} {{ <{iris.topic_scheme}> ?p ?o "
        "FILTER(?p != skos:hasTopConcept) } }",
    ]


def build_publish_update(
    releases: Sequence[ReleaseEntry],
    graphs: dict[str, str],
    previous: dict[str, ReleaseState],
    settings: Settings,
    *,
    version: str,
    moment: datetime,
) -> str:
    """The one SPARQL Update that publishes ``releases`` (all changed).

    ``graphs`` maps each slug to its graph's N-Triples.
    """
    iris = Iris(settings.base_url)
    cat = f"<{iris.catalog_graph}>"
    ops = _publish_deletes(iris, releases)
    parts = [
        f"GRAPH <{iris.release_graph(r.slug)}> {{\n{graphs[r.slug]}}}" for r in releases
    ]
    lines = catalog_triples(settings, iris, version, moment, releases, previous)
    parts.append(f"GRAPH {cat} {{\n" + "\n".join(lines) + "\n}")
    ops.append("INSERT DATA {\n" + "\n".join(parts) + "\n}")
    return PREFIXES + " ;\n".join(ops)


def _publish_deletes(iris: Iris, releases: Sequence[ReleaseEntry]) -> list[str]:
    """The operations that clear what a publish of ``releases`` rewrites: the
    catalogue's header, each release's graph and record, and their topics."""
    cat = f"<{iris.catalog_graph}>"
    graphs, subjects = _rewritten(iris, releases)
    return (
        _clear_header(iris)
        + [f"DROP SILENT GRAPH <{g}>" for g in graphs]
        + [f"DELETE WHERE {{ GRAPH {cat} {{ <{s}> ?p ?o }} }}" for s in subjects]
    )


def _rewritten(
    iris: Iris, releases: Sequence[ReleaseEntry]
) -> tuple[list[str], list[str]]:
    """What a publish of ``releases`` rewrites besides the catalogue's header:
    their graphs, and the subjects of the catalogue graph (each release's record
    and its topics) whose every triple there is replaced."""
    topic_slugs = sorted({t.slug for r in releases for t in r.topics})
    return (
        [iris.release_graph(r.slug) for r in releases],
        [iris.record(r.slug) for r in releases] + [iris.topic(t) for t in topic_slugs],
    )


#: an embedded store on disk takes a batch with at least this many changed
#: releases through pyoxigraph's bulk loader, staged and swapped in whole: into an
#: empty store, 5x faster than one transaction; into a full one (a re-import), one
#: RocksDB transaction holds every write in memory and slows as it grows (5,000
#: changed releases: 212 s and 3.2 GB in one request)
BULK_MIN = 1000


def publish(
    store: Store,
    releases: Sequence[ReleaseEntry],
    nquads_path: str,
    settings: Settings,
    *,
    agent: str = "cli",
    notes: dict[str, ChangeNote] | None = None,
    renames: dict[str, str] | None = None,
    exclusive: bool = False,
) -> PublishResult:
    """Publish a batch atomically; unchanged releases are left alone.

    ``nquads_path`` holds every release's graph as N-Quads (graph
    ``{base}/graphs/releases/{slug}``), as pipeline.run_batch writes it. Each
    changed release gets a change in the history, by ``agent``, described by
    ``notes`` (default: created or updated). ``renames`` maps old slugs to the new
    slugs of this batch: the old ones become redirects, in the same request.
    ``exclusive``: nobody else reads the store meanwhile (``publisher import``),
    so a big batch into an embedded store on disk may be staged in a copy and
    swapped in whole instead of written in one transaction.
    """
    check_base_url(store, settings)
    renames = renames or {}
    previous = release_states(store, settings, [r.slug for r in releases])
    changed = [
        r
        for r in releases
        if r.slug not in previous
        or previous[r.slug].version != r.content_hash
        or r.slug in renames.values()
    ]
    changed_slugs = {r.slug for r in changed}
    unchanged = [r.slug for r in releases if r.slug not in changed_slugs]
    if not changed:
        return PublishResult(data_version(store, settings), [], unchanged)
    version, moment = new_data_version(), now()
    iris = Iris(settings.base_url)
    given = notes or {}
    history = _release_history(
        iris,
        agent,
        moment,
        version,
        {
            r.slug: given.get(r.slug)
            or ChangeNote("updated" if r.slug in previous else "created")
            for r in changed
        },
    )
    bulk = getattr(store, "bulk_replace_empty", None)
    staged = getattr(store, "bulk_replace_staged", None)
    big = len(changed) >= BULK_MIN and not renames
    if bulk is not None and big and is_empty(store):
        _append_catalog(
            nquads_path, iris, settings, version, moment, changed, {}, history
        )
        bulk(nquads_path)
    elif staged is not None and big and getattr(store, "path", None) and exclusive:
        inserts = nquads_path + ".changed"
        _changed_nquads(nquads_path, inserts, iris, changed_slugs)
        _append_catalog(
            inserts, iris, settings, version, moment, changed, previous, history
        )
        dropped, subjects = _rewritten(iris, changed)
        staged(
            [PREFIXES + " ;\n".join(_clear_header(iris))],
            inserts,
            dropped,
            [(s, iris.catalog_graph) for s in subjects],
        )
    else:
        graphs = _graphs_from_nquads(nquads_path, iris, changed_slugs)
        update = build_publish_update(
            changed, graphs, previous, settings, version=version, moment=moment
        )
        extra_ops: list[str] = []
        extra_lines: list[str] = []
        for old, new in renames.items():
            ops, lines = _redirect(iris, old, new, moment)
            extra_ops += ops
            extra_lines += lines
        ops_text = "".join(f" ;\n{op}" for op in extra_ops)
        store.update(
            update + ops_text + " ;\n" + _insert_data(iris, extra_lines, history)
        )
    return PublishResult(version, [r.slug for r in changed], unchanged)


def _append_catalog(
    path: str,
    iris: Iris,
    settings: Settings,
    version: str,
    moment: datetime,
    changed: Sequence[ReleaseEntry],
    previous: dict[str, ReleaseState],
    history: list[str],
) -> None:
    """Add the catalogue's and the history's new triples to an N-Quads file."""
    lines = catalog_triples(settings, iris, version, moment, changed, previous)
    suffix = f" <{iris.catalog_graph}> .\n"
    history_suffix = f" <{iris.history_graph}> .\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.writelines(line[:-2] + suffix for line in lines)
        fh.writelines(line[:-2] + history_suffix for line in history)


def _changed_nquads(path: str, out: str, iris: Iris, slugs: set[str]) -> None:
    """Copy the quads of ``slugs``' graphs from our own N-Quads file to ``out``."""
    wanted = {f"<{iris.release_graph(slug)}>" for slug in slugs}
    with open(path, encoding="utf-8") as fh, open(out, "w", encoding="utf-8") as dst:
        for line in fh:
            if line.rstrip("\n")[:-2].rpartition(" ")[2] in wanted:
                dst.write(line)


def _graphs_from_nquads(path: str, iris: Iris, slugs: set[str]) -> dict[str, str]:
    """slug -> N-Triples of its graph, read back from our own N-Quads file."""
    wanted = {f"<{iris.release_graph(slug)}>": slug for slug in slugs}
    out: dict[str, list[str]] = {slug: [] for slug in slugs}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            head, _, graph = line.rstrip("\n")[:-2].rpartition(" ")
            slug = wanted.get(graph)
            if slug is not None:
                out[slug].append(head + " .\n")
    return {slug: "".join(lines) for slug, lines in out.items()}


def delete(
    store: Store,
    slugs: Iterable[str],
    reason: str,
    settings: Settings,
    *,
    agent: str = "cli",
) -> PublishResult:
    """Delete releases, leaving a tombstone each (slug, title, when, why), and a
    change in the history by ``agent``."""
    check_base_url(store, settings)
    wanted = list(dict.fromkeys(slugs))
    if not reason.strip():
        raise StoreRefusedError(
            "deleting a release needs a reason (it is shown on its 410 page)"
        )
    states = release_states(store, settings, wanted)
    missing = [s for s in wanted if s not in states]
    if missing:
        raise StoreRefusedError(
            f"no release {', '.join(repr(s) for s in missing)} in {store.location}"
        )
    iris = Iris(settings.base_url)
    moment = now()
    version = new_data_version()
    ops = _clear_header(iris)
    lines = catalog_triples(settings, iris, version, moment, [], {})
    for slug in wanted:
        ops.append(f"DROP SILENT GRAPH <{iris.release_graph(slug)}>")
        more_ops, more_lines = _tombstone(
            iris, slug, states[slug].title, moment, reason
        )
        ops += more_ops
        lines += more_lines
    history = _release_history(
        iris,
        agent,
        moment,
        version,
        {slug: ChangeNote("deleted", reason.strip()) for slug in wanted},
    )
    ops.append(_insert_data(iris, lines, history))
    store.update(PREFIXES + " ;\n".join(ops))
    return PublishResult(version, deleted=wanted)


def _insert_data(iris: Iris, catalog_lines: list[str], history: list[str]) -> str:
    """One INSERT DATA of catalogue triples and history triples, in their graphs."""
    parts = []
    if catalog_lines:
        parts.append(
            f"GRAPH <{iris.catalog_graph}> {{\n" + "\n".join(catalog_lines) + "\n}"
        )
    if history:
        parts.append(f"GRAPH <{iris.history_graph}> {{\n" + "\n".join(history) + "\n}")
    return "INSERT DATA {\n" + "\n".join(parts) + "\n}"


def _retire_record(iris: Iris, slug: str) -> list[str]:
    """Operations that take a release's record and its links out of the catalogue."""
    cat = f"<{iris.catalog_graph}>"
    rec, rel = f"<{iris.record(slug)}>", f"<{iris.release(slug)}>"
    return [
        f"DELETE WHERE {{ GRAPH {cat} {{ {rec} ?p ?o }} }}",
        f"DELETE DATA {{ GRAPH {cat} {{ <{iris.catalog}> dcat:dataset {rel} . "
        f"<{iris.catalog}> schema:dataset {rel} . "
        f"<{iris.catalog}> dcat:record {rec} }} }}",
    ]


def _tombstone(
    iris: Iris, slug: str, title: str | None, moment: datetime, reason: str
) -> tuple[list[str], list[str]]:
    """Operations that retire a release's record, and its tombstone's triples."""
    rec, rel = f"<{iris.record(slug)}>", f"<{iris.release(slug)}>"
    ops = _retire_record(iris, slug)
    lines = [
        _t(rec, "a", "dcat:CatalogRecord"),
        _t(rec, "a", "pub:Tombstone"),
        _t(rec, "pub:slug", _lit(slug)),
        _t(rec, "foaf:primaryTopic", rel),
        _t(rec, "pub:deletedAt", _dt(moment)),
        _t(rec, "pub:deletionReason", _lit(reason.strip())),
        _t(rec, "dcterms:modified", _dt(moment)),
    ]
    if title:
        lines.append(_t(rec, "dcterms:title", _lit(title)))
    return ops, lines


# History ----------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeNote:
    """What a write did to one release, for its history: a kind and, for people,
    a summary (``status: confirmed -> published``)."""

    kind: str
    summary: str = ""


def history_triples(
    iris: Iris,
    *,
    kind: str,
    agent: str,
    moment: datetime,
    version: str,
    releases: Iterable[str] = (),
    text: str | None = None,
    summary: str = "",
    entry: str | None = None,
) -> list[str]:
    """One change in the history graph (PROV-O): what kind, who, when, which releases.

    ``agent`` is the name of the token that made it (DESIGN.md, "Tokens"). The
    change is ``{base}/history/{version}`` or, one per release of a write,
    ``{base}/history/{version}/{entry}``.
    """
    name = iris.history_entry(version) + (f"/{entry}" if entry else "")
    activity = f"<{name}>"
    who = f"<{iris.agent(agent)}>"
    lines = [
        _t(activity, "a", "prov:Activity"),
        _t(activity, "a", "pub:Change"),
        _t(activity, "pub:changeKind", _lit(kind)),
        _t(activity, "prov:wasAssociatedWith", who),
        _t(activity, "prov:endedAtTime", _dt(moment)),
        _t(who, "a", "prov:Agent"),
        _t(who, "foaf:name", _lit(agent)),
    ]
    for slug in sorted(set(releases)):
        lines.append(_t(activity, "pub:affects", f"<{iris.release(slug)}>"))
    if summary:
        lines.append(_t(activity, "dcterms:description", _lit(summary)))
    if text is not None:
        lines.append(_t(activity, "pub:updateText", _lit(text)))
    return lines


def _release_history(
    iris: Iris,
    agent: str,
    moment: datetime,
    version: str,
    notes: dict[str, ChangeNote],
) -> list[str]:
    lines: list[str] = []
    for slug, note in notes.items():
        lines += history_triples(
            iris,
            kind=note.kind,
            agent=agent,
            moment=moment,
            version=version,
            releases=[slug],
            summary=note.summary,
            entry=slug,
        )
    return lines


@dataclass(frozen=True)
class HistoryEntry:
    slug: str
    when: str
    agent: str
    kind: str
    summary: str


def history(
    store: Store, settings: Settings, *, slug: str | None = None, limit: int = 0
) -> list[HistoryEntry]:
    """Recorded changes to releases, newest first: one release's (``slug``), or
    the latest ``limit`` of all (the Atom feed of changes)."""
    iris = Iris(settings.base_url)
    release = f"<{iris.release(slug)}>" if slug else "?release"
    rows = store.select(
        PREFIXES
        + f"""SELECT ?when ?who ?kind ?summary {"" if slug else "?release"} WHERE {{
  GRAPH <{iris.history_graph}> {{
    ?c pub:affects {release} ; pub:changeKind ?kind ;
       prov:endedAtTime ?when ; prov:wasAssociatedWith ?agent .
    ?agent foaf:name ?who .
    OPTIONAL {{ ?c dcterms:description ?summary }}
  }}
}} ORDER BY DESC(?when)"""
        + (f" LIMIT {int(limit)}" if limit else "")
    )
    prefix = iris.page("")
    return [
        HistoryEntry(
            slug or r["release"][len(prefix) :].split("#", 1)[0],
            r["when"],
            r["who"],
            r["kind"],
            r.get("summary", ""),
        )
        for r in rows
    ]


def _redirect(
    iris: Iris, old: str, new: str, moment: datetime
) -> tuple[list[str], list[str]]:
    """Operations and triples that turn ``old``'s record into a redirect to ``new``."""
    cat = f"<{iris.catalog_graph}>"
    rec, rel = f"<{iris.record(old)}>", f"<{iris.release(old)}>"
    ops = [
        f"DROP SILENT GRAPH <{iris.release_graph(old)}>",
        *_retire_record(iris, old),
        # older redirects to ``old`` now lead straight to ``new``
        f"DELETE {{ GRAPH {cat} {{ ?r dcterms:isReplacedBy {rel} }} }} "
        f"INSERT {{ GRAPH {cat} {{ ?r dcterms:isReplacedBy <{iris.release(new)}> }} }} "
        f"WHERE {{ GRAPH {cat} {{ ?r dcterms:isReplacedBy {rel} }} }}",
    ]
    lines = [
        _t(rec, "a", "dcat:CatalogRecord"),
        _t(rec, "a", "pub:Redirect"),
        _t(rec, "pub:slug", _lit(old)),
        _t(rec, "dcterms:isReplacedBy", f"<{iris.release(new)}>"),
        _t(rec, "dcterms:modified", _dt(moment)),
    ]
    return ops, lines


def redirect_for(store: Store, settings: Settings, slug: str) -> str | None:
    """The slug a renamed release now has, or None."""
    iris = Iris(settings.base_url)
    rows = store.select(
        PREFIXES + f"SELECT ?to WHERE {{ GRAPH <{iris.catalog_graph}> {{ "
        f"<{iris.record(slug)}> a pub:Redirect ; dcterms:isReplacedBy ?to }} }} LIMIT 1"
    )
    if not rows:
        return None
    return rows[0]["to"][len(iris.page("")) :].split("#", 1)[0]


def _release_slug(iris: Iris, graph: str) -> str | None:
    prefix = iris.release_graph("")
    slug = graph[len(prefix) :] if graph.startswith(prefix) else ""
    return slug if slug and "/" not in slug else None


def _graph_title(iris: Iris, slug: str, ntriples: str) -> str:
    """The release's schema:name from its N-Triples (the slug if it has none)."""
    head = f"<{iris.release(slug)}> <http://schema.org/name> "
    for line in split_lines(ntriples):
        if line.startswith(head):
            literal = line[len(head) :].rstrip(" .")
            end = literal.rfind('"')
            try:
                value = ast.literal_eval(literal[: end + 1]) if end > 0 else ""
            except (ValueError, SyntaxError):
                value = ""
            if isinstance(value, str) and value:
                return value
    return slug


def apply_admin_update(
    store: Store,
    settings: Settings,
    update: str,
    graphs: set[str] | None,
    agent: str,
) -> PublishResult:
    """Run an administrator's SPARQL Update, then bring the catalogue up to date.

    Raw updates bypass the shapes (DESIGN.md, "Tokens"). After one, each release
    graph it may have written (``graphs``; None: any) gets its record's content
    hash recomputed; a release graph it emptied gets a tombstone; a new one gets a
    record. A new data version and a history entry follow, so the listing index
    and every cache catch up. The update is one request (atomic); the catalogue
    follow-up is a second one.
    """
    check_base_url(store, settings)
    store.update(update)
    iris = Iris(settings.base_url)
    states = release_states(store, settings)
    if graphs is None:
        rows = store.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        candidates = {s for r in rows if (s := _release_slug(iris, r["g"]))}
        candidates |= set(states)
    else:
        candidates = {s for g in graphs if (s := _release_slug(iris, g))}
    changed: list[ReleaseEntry] = []
    removed: list[str] = []
    for slug in sorted(candidates):
        text = store.graph_ntriples(iris.release_graph(slug))
        state = states.get(slug)
        if not text:
            if state is not None:
                removed.append(slug)
            continue
        digest = content_hash(text)
        if state is None or state.version != digest:
            changed.append(ReleaseEntry(slug, _graph_title(iris, slug, text), digest))
    version, moment = new_data_version(), now()
    cat = f"<{iris.catalog_graph}>"
    ops = _clear_header(iris)
    lines = catalog_triples(settings, iris, version, moment, changed, states)
    for entry in changed:
        ops.append(
            f"DELETE WHERE {{ GRAPH {cat} {{ <{iris.record(entry.slug)}> ?p ?o }} }}"
        )
    for slug in removed:
        more_ops, more_lines = _tombstone(
            iris,
            slug,
            states[slug].title,
            moment,
            f"Removed by a SPARQL Update ({agent})",
        )
        ops += more_ops
        lines += more_lines
    history = history_triples(
        iris,
        kind="sparql-update",
        agent=agent,
        moment=moment,
        version=version,
        releases=[e.slug for e in changed] + removed,
        text=update,
    )
    ops.append(_insert_data(iris, lines, history))
    store.update(PREFIXES + " ;\n".join(ops))
    return PublishResult(version, changed=[e.slug for e in changed], deleted=removed)


def stats(store: Store, settings: Settings) -> StoreStats:
    rows = store.select(
        PREFIXES
        + """SELECT ?status (COUNT(DISTINCT ?r) AS ?n) WHERE {
  GRAPH ?g { ?r a pub:Release ; pub:status ?status }
} GROUP BY ?status"""
    )
    by_status = {
        r["status"].rsplit("#", 1)[-1].lower(): int(r["n"])
        for r in rows
        if "status" in r
    }
    graphs = store.select(
        "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    )
    return StoreStats(
        releases_by_status=dict(sorted(by_status.items())),
        releases=sum(by_status.values()),
        tombstones=len(tombstones(store, settings)),
        graphs=int(graphs[0]["n"]) if graphs else 0,
        triples=store.count_quads(),
        data_version=data_version(store, settings),
        base_url=recorded_base_url(store),
    )


def release_graph_ntriples(store: Store, settings: Settings, slug: str) -> str:
    return store.graph_ntriples(Iris(settings.base_url).release_graph(slug))


def is_empty(store: Store) -> bool:
    return store.count_quads() == 0


def describe_publish(result: PublishResult) -> str:
    parts = []
    if result.changed:
        parts.append(f"{len(result.changed)} published")
    if result.unchanged:
        parts.append(f"{len(result.unchanged)} unchanged")
    if result.deleted:
        parts.append(f"{len(result.deleted)} deleted")
    return ", ".join(parts) or "nothing to do"
