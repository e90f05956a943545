"""The catalogue graph and the history graph as RDF (DESIGN.md, "Graphs").

The catalogue graph ``{base}/graphs/catalog`` holds the organisation, the topic
scheme and a DCAT catalogue with one ``dcat:CatalogRecord`` per release (its
content hash, when it was first issued and last modified); a deleted release's
record is a ``pub:Tombstone``, a renamed one's a ``pub:Redirect``. The history
graph holds one PROV-O activity per change.

Built here from the namespaces' terms, with rdf.py's organisation and topic
builders, and written with rdf.py's N-Triples writer (:func:`lines`); the store
(publisher.store.catalog) only sends them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from rdflib import Literal, URIRef

from publisher.config import Settings
from publisher.model import Topic
from publisher.namespaces import (
    DCAT,
    DCT,
    FOAF,
    PROV,
    PUB,
    RDF,
    SCHEMA,
    SKOS,
    XSD,
    Iris,
)
from publisher.rdf import Triple, nt_line, organization_triples, topic_triples

#: the terms of every record, looked up once: a catalogue of 10,000 releases
#: would ask the namespaces (rdflib's closed ones are slow) 100,000 times
_A, _TITLE, _ISSUED, _MODIFIED = RDF.type, DCT.title, DCT.issued, DCT.modified
_PRIMARY_TOPIC, _RECORD_TYPE = FOAF.primaryTopic, DCAT.CatalogRecord
_DATASET, _SCHEMA_DATASET, _RECORD = DCAT.dataset, SCHEMA.dataset, DCAT.record
_SLUG, _CONTENT_HASH = PUB.slug, PUB.contentHash


@dataclass(frozen=True)
class ReleaseEntry:
    """What the catalogue records of a release: its version is its content hash."""

    slug: str
    title: str
    content_hash: str  # sha256 of the graph's sorted N-Triples
    topics: tuple[Topic, ...] = ()


def lines(triples: Iterable[Triple]) -> list[str]:
    """N-Triples lines (each ending ``" .\\n"``), in the triples' order."""
    return [nt_line(t) for t in triples]


@lru_cache(maxsize=1024)
def when(moment: datetime | str) -> Literal:
    """An xsd:dateTime, written as given (a time read back keeps its form)."""
    text = moment.isoformat() if isinstance(moment, datetime) else moment
    return Literal(text, datatype=XSD.dateTime, normalize=False)


def _text(value: str) -> Literal:
    return Literal(value, normalize=False)


def catalog_header(
    settings: Settings, iris: Iris, version: str, moment: datetime
) -> list[Triple]:
    """The catalogue node, the organisation and the topic scheme: rewritten on
    every write (the data version and the modified time change)."""
    catalog, org = URIRef(iris.catalog), URIRef(iris.organization)
    scheme = URIRef(iris.topic_scheme)
    out: list[Triple] = [
        (catalog, RDF.type, DCAT.Catalog),
        (catalog, RDF.type, SCHEMA.DataCatalog),
        (catalog, DCT.title, _text(settings.site_name)),
        (catalog, SCHEMA.name, _text(settings.site_name)),
        (catalog, DCT.publisher, org),
        (catalog, SCHEMA.publisher, org),
        (catalog, FOAF.homepage, URIRef(iris.home)),
        (catalog, PUB.baseUrl, _text(settings.base_url)),
        (catalog, PUB.dataVersion, _text(version)),
        (catalog, DCT.modified, when(moment)),
        (catalog, DCAT.themeTaxonomy, scheme),
    ]
    out += organization_triples(
        org, settings.organization_name, settings.publisher_url, homepage=False
    )
    out += [
        (scheme, RDF.type, SKOS.ConceptScheme),
        (scheme, RDF.type, SCHEMA.DefinedTermSet),
        (scheme, SKOS.prefLabel, _text("Topics")),
        (scheme, SCHEMA.name, _text("Topics")),
    ]
    if settings.organization_logo:
        out.append((org, SCHEMA.logo, URIRef(settings.organization_logo)))
    return out


def record(
    iris: Iris, entry: ReleaseEntry, issued: datetime | str, moment: datetime
) -> list[Triple]:
    """A live release's record, and the catalogue's links to it."""
    catalog = URIRef(iris.catalog)
    rec, rel = URIRef(iris.record(entry.slug)), URIRef(iris.release(entry.slug))
    return [
        (catalog, _DATASET, rel),
        (catalog, _SCHEMA_DATASET, rel),
        (catalog, _RECORD, rec),
        (rec, _A, _RECORD_TYPE),
        (rec, _PRIMARY_TOPIC, rel),
        (rec, _SLUG, _text(entry.slug)),
        (rec, _TITLE, _text(entry.title)),
        (rec, _CONTENT_HASH, _text(entry.content_hash)),
        (rec, _ISSUED, when(issued)),
        (rec, _MODIFIED, when(moment)),
    ]


def topic_concepts(iris: Iris, topics: Mapping[str, str]) -> list[Triple]:
    """The topics (slug -> label) as top concepts of the topic scheme, by slug."""
    scheme = URIRef(iris.topic_scheme)
    out: list[Triple] = []
    for slug, label in sorted(topics.items()):
        node = URIRef(iris.topic(slug))
        concept = list(topic_triples(node, label, scheme))
        # rdf.py's order, with skos:topConceptOf before schema:inDefinedTermSet
        out += concept[:-1]
        out.append((node, SKOS.topConceptOf, scheme))
        out.append(concept[-1])
        out.append((scheme, SKOS.hasTopConcept, node))
    return out


def catalog_triples(
    settings: Settings,
    iris: Iris,
    version: str,
    moment: datetime,
    releases: Sequence[ReleaseEntry],
    issued: Mapping[str, str | None],
) -> list[Triple]:
    """The catalogue graph's new triples for a write of ``releases``.

    ``issued``: when each release already recorded was first issued (the others
    are issued at ``moment``).
    """
    out = catalog_header(settings, iris, version, moment)
    topics: dict[str, str] = {}
    for entry in releases:
        out += record(iris, entry, issued.get(entry.slug) or moment, moment)
        for topic in entry.topics:
            topics[topic.slug] = topic.label
    out += topic_concepts(iris, topics)
    return out


def tombstone(
    iris: Iris, slug: str, title: str | None, moment: datetime, reason: str
) -> list[Triple]:
    """A deleted release's record: slug, title, when and why."""
    rec, rel = URIRef(iris.record(slug)), URIRef(iris.release(slug))
    out: list[Triple] = [
        (rec, RDF.type, DCAT.CatalogRecord),
        (rec, RDF.type, PUB.Tombstone),
        (rec, PUB.slug, _text(slug)),
        (rec, FOAF.primaryTopic, rel),
        (rec, PUB.deletedAt, when(moment)),
        (rec, PUB.deletionReason, _text(reason.strip())),
        (rec, DCT.modified, when(moment)),
    ]
    if title:
        out.append((rec, DCT.title, _text(title)))
    return out


def redirect(iris: Iris, old: str, new: str, moment: datetime) -> list[Triple]:
    """A renamed release's old record: a redirect to the release's new IRI."""
    rec = URIRef(iris.record(old))
    return [
        (rec, RDF.type, DCAT.CatalogRecord),
        (rec, RDF.type, PUB.Redirect),
        (rec, PUB.slug, _text(old)),
        (rec, DCT.isReplacedBy, URIRef(iris.release(new))),
        (rec, DCT.modified, when(moment)),
    ]


def change(
    iris: Iris,
    *,
    kind: str,
    agent: str,
    moment: datetime,
    data_version: str,
    releases: Iterable[str] = (),
    text: str | None = None,
    summary: str = "",
    entry: str | None = None,
) -> list[Triple]:
    """One change in the history graph (PROV-O): what kind, who, when, which releases.

    ``agent`` is the name of the token that made it (DESIGN.md, "Tokens"). The
    change is ``{base}/history/{data_version}`` (the data version the write made)
    or, one per release of a write, ``{base}/history/{data_version}/{entry}``.
    """
    activity = URIRef(iris.history_entry(data_version) + (f"/{entry}" if entry else ""))
    who = URIRef(iris.agent(agent))
    out: list[Triple] = [
        (activity, RDF.type, PROV.Activity),
        (activity, RDF.type, PUB.Change),
        (activity, PUB.changeKind, _text(kind)),
        (activity, PROV.wasAssociatedWith, who),
        (activity, PROV.endedAtTime, when(moment)),
        (who, RDF.type, PROV.Agent),
        (who, FOAF.name, _text(agent)),
    ]
    for slug in sorted(set(releases)):
        out.append((activity, PUB.affects, URIRef(iris.release(slug))))
    if summary:
        out.append((activity, DCT.description, _text(summary)))
    if text is not None:
        out.append((activity, PUB.updateText, _text(text)))
    return out
