"""A release's stored graph -> the Release it was made from (the inverse of rdf).

The store is the source of truth (DESIGN.md, "Data flow"), so the API's JSON is
read back from the stored graph, never from input files. The promise, tested on
every fixture: ``release_to_graph(graph_to_release(g))`` gives ``g`` again, byte
for byte. (Values that the graph does not distinguish come back in one form: a
licence equal to the site default is returned as set, a published date equal to
the release date as given.)
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from publisher.config import Settings
from publisher.importers._common import Where
from publisher.importers.native import release_from_record, release_to_record
from publisher.model import (
    Contact,
    Dataset,
    DateChange,
    Designation,
    Document,
    Download,
    Organization,
    Release,
    Series,
    Topic,
)
from publisher.namespaces import DCAT, PUB, RDF, SCHEMA, XSD, Iris
from publisher.rdf import (
    DESIGNATION_CONCEPTS,
    STATUS_CONCEPTS,
    bind_prefixes,
    nt_line,
    release_to_triples,
)

_STATUSES = {str(iri): status for status, iri in STATUS_CONCEPTS.items()}
_DESIGNATIONS = {str(iri): Designation(v) for v, iri in DESIGNATION_CONCEPTS.items()}


def _str(value: Node | None) -> str | None:
    return None if value is None else str(value)


def _when(value: Node | None) -> datetime | date | None:
    """A date or time literal; a time without an offset is read as UTC; None when
    absent or unreadable (a graph written by SPARQL Update may hold anything)."""
    if not isinstance(value, Literal):
        return None
    text = str(value)
    try:
        if value.datatype == XSD.date:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _datetime(value: Node | None) -> datetime | None:
    found = _when(value)
    return found if isinstance(found, datetime) else None


def _numbered(nodes: list[Node]) -> list[Node]:
    """#dataset-2-download-10 after #dataset-2-download-9."""

    def key(node: Node) -> tuple[int, ...]:
        fragment = str(node).rsplit("#", 1)[-1]
        return tuple(int(n) for n in re.findall(r"\d+", fragment))

    return sorted(nodes, key=key)


def graph_to_release(graph: Graph | Lookup, slug: str, settings: Settings) -> Release:
    """The Release whose graph (as stored) ``graph`` is."""
    iris = Iris(settings.base_url)
    g = graph
    rel = URIRef(iris.release(slug))
    event = g.value(rel, SCHEMA.publication)
    status = _STATUSES.get(str(g.value(rel, PUB.status)))
    designation = _DESIGNATIONS.get(str(g.value(rel, PUB.designation)))
    org = g.value(rel, SCHEMA.publisher)
    publisher = None
    if org is not None and str(org) != iris.organization:
        publisher = Organization(
            str(g.value(org, SCHEMA.name)), _str(g.value(org, SCHEMA.url))
        )
    topics = tuple(
        Topic(iris.topic_slug(node) or "", _str(g.value(node, SCHEMA.name)) or "")
        for node in sorted(g.objects(rel, SCHEMA.about), key=str)
    )
    contacts = tuple(
        Contact(
            _str(g.value(node, SCHEMA.name)),
            _str(g.value(node, SCHEMA.email)),
            _str(g.value(node, SCHEMA.telephone)),
        )
        for node in _numbered(list(g.objects(rel, SCHEMA.contactPoint)))
    )
    documents = []
    for node in _numbered(list(g.objects(rel, SCHEMA.subjectOf))):
        url = str(g.value(node, SCHEMA.url))
        name = _str(g.value(node, SCHEMA.name))
        documents.append(Document(url, None if name == url else name))
    series = None
    series_node = g.value(rel, DCAT.inSeries)
    if series_node is not None:
        series = Series(
            iris.series_slug(series_node) or "",
            _str(g.value(series_node, SCHEMA.name)),
        )
    census = g.value(rel, PUB.census)
    published = _datetime(g.value(rel, SCHEMA.datePublished))
    release_date = _datetime(g.value(event, SCHEMA.startDate)) if event else None
    return Release(
        slug=slug,
        title=_str(g.value(rel, SCHEMA.name)),
        status=status,
        summary=_str(g.value(rel, SCHEMA.description)),
        release_date=release_date,
        provisional_date=_str(g.value(rel, PUB.provisionalDate)),
        date_changes=_changes(g, rel),
        cancellation_notice=_str(g.value(rel, PUB.cancellationNotice)),
        published_date=published,
        designation=designation,
        census=census is not None and str(census) in ("true", "1"),
        topics=topics,
        keywords=tuple(sorted(str(k) for k in g.objects(rel, SCHEMA.keywords))),
        language=str(g.value(rel, SCHEMA.inLanguage) or settings.language),
        contacts=contacts,
        publisher=publisher,
        license=_str(g.value(rel, SCHEMA.license)),
        datasets=_datasets(g, rel),
        related_documents=tuple(documents),
        next_release=_str(g.value(rel, PUB.nextReleaseText)),
        next_release_slug=iris.slug_of(g.value(rel, PUB.nextRelease)),
        series=series,
        previous_edition=iris.slug_of(g.value(rel, DCAT.prev)),
        same_as=tuple(sorted(str(s) for s in g.objects(rel, SCHEMA.sameAs))),
        identifier=_str(g.value(rel, SCHEMA.identifier)),
        former_slugs=tuple(sorted(str(s) for s in g.objects(rel, PUB.formerSlug))),
    )


def _changes(g: Graph | Lookup, rel: URIRef) -> tuple[DateChange, ...]:
    changes = []
    for node in _numbered(list(g.objects(rel, PUB.dateChange))):
        previous = _when(g.value(node, PUB.previousDate))
        if previous is None:
            continue
        changes.append(
            DateChange(
                previous_date=previous,
                reason=_str(g.value(node, PUB.changeReason)),
                changed_at=_datetime(g.value(node, PUB.changedAt)),
                new_date=_when(g.value(node, PUB.newDate)),
            )
        )
    return tuple(changes)


def _datasets(g: Graph | Lookup, rel: URIRef) -> tuple[Dataset, ...]:
    datasets = []
    for node in _numbered(list(g.objects(rel, SCHEMA.hasPart))):
        title = str(g.value(node, SCHEMA.name))
        downloads = []
        for dl in _numbered(list(g.objects(node, SCHEMA.distribution))):
            name = _str(g.value(dl, SCHEMA.name))
            size = g.value(dl, DCAT.byteSize)
            downloads.append(
                Download(
                    url=str(g.value(dl, SCHEMA.contentUrl)),
                    title=None if name == title else name,
                    format=_str(g.value(dl, SCHEMA.encodingFormat)),
                    size=int(str(size)) if size is not None else None,
                )
            )
        datasets.append(
            Dataset(
                title=title,
                url=_str(g.value(node, SCHEMA.url)),
                description=_str(g.value(node, SCHEMA.description)),
                downloads=tuple(downloads),
            )
        )
    return tuple(datasets)


def read_ntriples(ntriples: str) -> Graph:
    """A release graph as stored (N-Triples), with the site's prefixes bound."""
    graph = bind_prefixes(Graph(bind_namespaces="none"))
    graph.parse(data=ntriples, format="nt")
    return graph


def ntriples_to_release(ntriples: str, slug: str, settings: Settings) -> Release:
    """The Release of a stored graph's N-Triples.

    Read through a lookup table of its triples (:class:`Lookup`), not an rdflib
    Graph: the API reads every release it writes back for the calendar's rules,
    and rdflib's parser and store took most of a batch's time (issue 12). Lines
    it does not recognise send the whole graph through rdflib instead.
    """
    lookup = Lookup.from_ntriples(ntriples)
    graph = read_ntriples(ntriples) if lookup is None else lookup
    return graph_to_release(graph, slug, settings)


_IRI = r"<([^>]*)>"
_SUBJECT = rf"(?:{_IRI}|_:(\S+))"
_LITERAL = r'"((?:[^"\\]|\\.)*)"(?:@([A-Za-z0-9-]+)|\^\^<([^>]*)>)?'
_LINE = re.compile(rf"{_SUBJECT} {_IRI} (?:{_IRI}|_:(\S+)|{_LITERAL}) \.")
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_ESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f"}


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text

    def one(found: re.Match[str]) -> str:
        code = found.group(1) or found.group(2)
        if code:
            return chr(int(code, 16))
        return _ESCAPES.get(found.group(3), found.group(3))

    return _ESCAPE.sub(one, text)


class Lookup:
    """A graph's triples by (subject, predicate): what graph_to_release asks."""

    def __init__(self) -> None:
        self._objects: dict[tuple[Node, Node], list[Node]] = {}

    @classmethod
    def from_ntriples(cls, ntriples: str) -> Lookup | None:
        """The triples of N-Triples text, or None if a line is not as expected."""
        lookup = cls()
        table = lookup._objects
        nodes: dict[str, Node] = {}
        for line in ntriples.split("\n"):
            if not line or line.startswith("#"):
                continue
            found = _LINE.fullmatch(line.strip())
            if found is None:
                return None
            s_iri, s_blank, p, o_iri, o_blank, text, lang, datatype = found.groups()
            subject = _node(nodes, s_iri, s_blank)
            predicate = _node(nodes, p, None)
            if text is not None:
                value = _unescape(text)
                obj: Node = (
                    Literal(value, lang=lang)
                    if lang
                    else Literal(value, datatype=URIRef(_unescape(datatype)))
                    if datatype and datatype != _XSD_STRING
                    else Literal(value)
                )
            else:
                obj = _node(nodes, o_iri, o_blank)
            table.setdefault((subject, predicate), []).append(obj)
        return lookup

    @classmethod
    def from_triples(cls, triples: Iterable[tuple[Node, Node, Node]]) -> Lookup:
        """The triples of a graph being written (publisher.rdf's), read as the
        same graph read back from the store would be."""
        lookup = cls()
        table = lookup._objects
        for s, p, o in triples:
            objects = table.setdefault((s, p), [])
            if o not in objects:  # a graph is a set: a triple written twice is one
                objects.append(o)
        return lookup

    def value(self, subject: Node, predicate: Node) -> Node | None:
        found = self._objects.get((subject, predicate))
        return found[0] if found else None

    def objects(self, subject: Node, predicate: Node) -> list[Node]:
        return list(self._objects.get((subject, predicate), ()))


_XSD_STRING = str(XSD.string)


def _node(nodes: dict[str, Node], iri: str | None, blank: str | None) -> Node:
    key = iri if iri is not None else "_:" + (blank or "")
    node = nodes.get(key)
    if node is None:
        node = URIRef(_unescape(iri)) if iri is not None else BNode(blank)
        nodes[key] = node
    return node


def stored_release(graph: Graph, slug: str, settings: Settings) -> Release | None:
    """The release ``slug`` of a stored graph; None when the graph holds none (a
    graph written by SPARQL Update need not)."""
    rel = URIRef(Iris(settings.base_url).release(slug))
    if (rel, RDF.type, PUB.Release) not in graph:
        return None
    return graph_to_release(graph, slug, settings)


def release_from_kept(record: dict[str, Any], settings: Settings) -> Release:
    """A kept record (publisher.store.record_cache) as the Release it was made
    from: the native reader reads the native writer's record back to an equal
    release (tests/test_record_cache.py checks it against the stored graph's)."""
    release = release_from_record(record, Where("record cache", 1), settings)
    return dataclasses.replace(release, source=None)


def graph_text(release: Release, settings: Settings) -> str:
    """A release's graph as the store holds it: sorted N-Triples lines, each once
    (as publisher.pipeline writes them)."""
    return "".join(sorted({nt_line(t) for t in release_to_triples(release, settings)}))


def stored_entry(
    release: Release, settings: Settings, text: str | None = None
) -> tuple[dict[str, Any], str]:
    """The API record of a release being published, as it reads back from its
    stored graph (which may say some values in another form than sent), and
    that graph's N-Triples (:func:`graph_text`; ``text``, when the write has
    them already)."""
    triples = release_to_triples(release, settings)
    back = graph_to_release(Lookup.from_triples(triples), release.slug, settings)
    if text is None:
        text = "".join(sorted({nt_line(t) for t in triples}))
    return release_to_record(back), text
