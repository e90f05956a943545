"""Release -> one rdflib graph per release (DESIGN.md, "Vocabulary").

Deterministic: IRIs are minted from the base URL and the slug, there are no blank
nodes, and :func:`graph_to_ntriples` sorts its lines, so the same input always gives
byte-identical N-Triples. Structured as a list of steps, one per part of a release
(compare ckanext-dcat ``graph_from_dataset``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache

from rdflib import Graph, Literal, URIRef
from rdflib.plugins.serializers.nt import _quoteLiteral as _quote_literal
from rdflib.term import Node

from publisher.config import Settings
from publisher.lines import sorted_lines, split_lines
from publisher.model import DateChange, Release, Status, slugify
from publisher.namespaces import (
    DCAT,
    DCT,
    FOAF,
    IANA_MEDIA,
    ISO639_1,
    PREFIXES,
    PUB,
    RDF,
    SCHEMA,
    SKOS,
    VCARD,
    XSD,
    Iris,
)

Triple = tuple[Node, Node, Node]

STATUS_CONCEPTS = {
    Status.PROVISIONAL: PUB.Provisional,
    Status.CONFIRMED: PUB.Confirmed,
    Status.POSTPONED: PUB.Postponed,
    Status.CANCELLED: PUB.Cancelled,
    Status.PUBLISHED: PUB.Published,
}
DESIGNATION_CONCEPTS = {
    "accredited-official-statistics": PUB.AccreditedOfficialStatistics,
    "official-statistics": PUB.OfficialStatistics,
    "official-statistics-in-development": PUB.OfficialStatisticsInDevelopment,
}


def bind_prefixes(graph: Graph) -> Graph:
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, URIRef(str(ns)), override=True, replace=True)
    return graph


def new_graph(identifier: str | None = None) -> Graph:
    graph = Graph(
        identifier=URIRef(identifier) if identifier else None, bind_namespaces="none"
    )
    return bind_prefixes(graph)


def release_to_graph(release: Release, settings: Settings) -> Graph:
    """The named graph of one release: the release, its page and the site nodes."""
    iris = Iris(settings.base_url)
    graph = new_graph(iris.release_graph(release.slug))
    graph.addN((s, p, o, graph) for s, p, o in release_to_triples(release, settings))
    return graph


def release_to_triples(release: Release, settings: Settings) -> list[Triple]:
    """Every triple of a release's graph, in a fixed order."""
    iris = Iris(settings.base_url)
    out: list[Triple] = []
    for step in (
        _site_triples,
        _page_triples,
        _basic_triples,
        _status_triples,
        _schedule_triples,
        _topic_triples,
        _contact_triples,
        _dataset_triples,
        _document_triples,
        _series_triples,
    ):
        out.extend(step(release, settings, iris))
    return out


def eventstatus_for(release: Release) -> URIRef:
    """schema.org's event status: postponed with no new date is EventPostponed."""
    if release.status is Status.CANCELLED:
        return SCHEMA.EventCancelled
    if release.status is Status.POSTPONED:
        return (
            SCHEMA.EventRescheduled if release.release_date else SCHEMA.EventPostponed
        )
    if release.date_changes:
        return SCHEMA.EventRescheduled
    return SCHEMA.EventScheduled


def publisher_iri(release: Release, iris: Iris) -> URIRef:
    """The site's organisation, or the organisation the input names."""
    if release.publisher is None:
        return _iri(iris.organization)
    return URIRef(iris.organization_other(slugify(release.publisher.name)))


@lru_cache(maxsize=8192)
def _text(value: str) -> Literal:
    """A plain literal; repeated texts (labels, names, formats) are made once."""
    return Literal(value)


def _when(value: datetime | date) -> Literal:
    if isinstance(value, datetime):
        return Literal(value.isoformat(), datatype=XSD.dateTime)
    return Literal(value.isoformat(), datatype=XSD.date)


@lru_cache(maxsize=8192)
def _iri(value: str) -> URIRef:
    """An IRI term; repeated ones (site nodes, topics, licences) are made once."""
    return URIRef(value.strip())


#: characters no IRI may hold (RFC 3987)
NOT_IRI = re.compile(r'[\x00-\x20<>"{}|\\^`\x7f]')
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*$")


def _link(value: str) -> URIRef | Literal:
    """A link the input gave: an IRI, or, when it cannot be one (a space, a ``<``),
    the text as a literal, so the shapes report it (sh:nodeKind sh:IRI) with their
    message instead of the RDF writer failing."""
    text = value.strip()
    return Literal(text) if NOT_IRI.search(text) else _iri(text)


def _site_triples(release: Release, settings: Settings, iris: Iris) -> Iterable[Triple]:
    org = _iri(iris.organization)
    site = _iri(iris.website)
    yield from organization_triples(
        org, settings.organization_name, settings.publisher_url
    )
    if settings.organization_logo:
        yield org, SCHEMA.logo, _iri(settings.organization_logo)
    yield site, RDF.type, SCHEMA.WebSite
    yield site, SCHEMA.name, _text(settings.site_name)
    yield site, SCHEMA.url, _iri(iris.home)
    yield site, SCHEMA.publisher, org
    yield site, SCHEMA.inLanguage, _text(settings.language)


def organization_triples(
    node: URIRef, name: str, url: str | None, *, homepage: bool = True
) -> Iterable[Triple]:
    """An organisation (schema.org and FOAF); the catalogue's copy has no
    foaf:homepage (``homepage=False``)."""
    yield node, RDF.type, SCHEMA.Organization
    yield node, RDF.type, FOAF.Agent
    yield node, SCHEMA.name, _text(name)
    yield node, FOAF.name, _text(name)
    if url:
        yield node, SCHEMA.url, _link(url)
        if homepage:
            yield node, FOAF.homepage, _link(url)


def _page_triples(release: Release, settings: Settings, iris: Iris) -> Iterable[Triple]:
    slug = release.slug
    page = _iri(iris.page(slug))
    rel = _iri(iris.release(slug))
    crumbs = _iri(iris.breadcrumb(slug))
    yield page, RDF.type, SCHEMA.WebPage
    yield page, SCHEMA.url, page
    if release.title:
        yield page, SCHEMA.name, _text(release.title)
    yield page, SCHEMA.isPartOf, _iri(iris.website)
    yield page, SCHEMA.mainEntity, rel
    yield page, SCHEMA.breadcrumb, crumbs
    yield page, SCHEMA.inLanguage, _text(release.language)
    yield crumbs, RDF.type, SCHEMA.BreadcrumbList
    trail = [
        ("Home", iris.home),
        ("Releases", iris.releases_page),
        (release.title or slug, iris.page(slug)),
    ]
    for n, (name, target) in enumerate(trail, start=1):
        item = _iri(iris.breadcrumb_item(slug, n))
        yield crumbs, SCHEMA.itemListElement, item
        yield item, RDF.type, SCHEMA.ListItem
        yield item, SCHEMA.position, Literal(n)
        yield item, SCHEMA.name, _text(name)
        yield item, SCHEMA.item, URIRef(target)


def _basic_triples(
    release: Release, settings: Settings, iris: Iris
) -> Iterable[Triple]:
    rel = _iri(iris.release(release.slug))
    yield rel, RDF.type, PUB.Release
    yield rel, RDF.type, SCHEMA.Dataset
    yield rel, RDF.type, DCAT.Dataset
    yield rel, PUB.slug, _text(release.slug)
    yield rel, SCHEMA.url, _iri(iris.page(release.slug))
    yield rel, SCHEMA.mainEntityOfPage, _iri(iris.page(release.slug))
    yield rel, DCAT.landingPage, _iri(iris.page(release.slug))
    yield rel, SCHEMA.includedInDataCatalog, _iri(iris.catalog)
    if release.title:
        yield rel, SCHEMA.name, _text(release.title)
        yield rel, DCT.title, _text(release.title)
    if release.summary:
        yield rel, SCHEMA.description, _text(release.summary)
        yield rel, DCT.description, _text(release.summary)
    for keyword in release.keywords:
        yield rel, SCHEMA.keywords, _text(keyword)
        yield rel, DCAT.keyword, _text(keyword)
    yield rel, SCHEMA.inLanguage, _text(release.language)
    if len(release.language) == 2 and release.language.isalpha():
        yield rel, DCT.language, ISO639_1[release.language.lower()]
    org = publisher_iri(release, iris)
    if release.publisher is not None:
        yield from organization_triples(
            org, release.publisher.name, release.publisher.url
        )
    yield rel, SCHEMA.publisher, org
    yield rel, DCT.publisher, org
    licence = release.license or settings.default_license
    if licence:
        yield rel, SCHEMA.license, _link(licence)
        yield rel, DCT.license, _link(licence)
    yield rel, SCHEMA.isAccessibleForFree, Literal(True)
    if release.identifier:
        yield rel, SCHEMA.identifier, _text(release.identifier)
        yield rel, DCT.identifier, _text(release.identifier)
    for same in release.same_as:
        yield rel, SCHEMA.sameAs, _link(same)
    for former in release.former_slugs:
        yield rel, PUB.formerSlug, _text(former)
    if release.census:
        yield rel, PUB.census, Literal(True)
    if release.designation is not None:
        yield rel, PUB.designation, DESIGNATION_CONCEPTS[release.designation.value]


def _status_triples(
    release: Release, settings: Settings, iris: Iris
) -> Iterable[Triple]:
    rel = _iri(iris.release(release.slug))
    if release.status is None:
        return
    yield rel, PUB.status, STATUS_CONCEPTS[release.status]
    yield rel, SCHEMA.creativeWorkStatus, _text(release.status.label)
    if release.status is Status.PUBLISHED:
        when = release.published_date or release.release_date
        if when is not None:
            yield rel, SCHEMA.datePublished, _when(when)
            yield rel, DCT.issued, _when(when)
    if release.status is Status.CANCELLED and release.cancellation_notice:
        yield rel, PUB.cancellationNotice, _text(release.cancellation_notice)


def _schedule_triples(
    release: Release, settings: Settings, iris: Iris
) -> Iterable[Triple]:
    slug = release.slug
    rel = _iri(iris.release(slug))
    event = _iri(iris.publication(slug))
    yield rel, SCHEMA.publication, event
    yield event, RDF.type, SCHEMA.PublicationEvent
    if release.title:
        yield event, SCHEMA.name, _text(f"Release of {release.title}")
    yield event, SCHEMA.eventStatus, eventstatus_for(release)
    yield event, SCHEMA.publishedBy, publisher_iri(release, iris)
    if release.release_date is not None:
        yield event, SCHEMA.startDate, _when(release.release_date)
    if release.provisional_date:
        yield rel, PUB.provisionalDate, _text(release.provisional_date)
    for n, change in enumerate(release.date_changes, start=1):
        yield from _change_triples(rel, event, _iri(iris.change(slug, n)), change)
    if release.next_release:
        yield rel, PUB.nextReleaseText, _text(release.next_release)
    if release.next_release_slug:
        yield rel, PUB.nextRelease, _iri(iris.release(release.next_release_slug))


def _change_triples(
    rel: URIRef, event: URIRef, node: URIRef, change: DateChange
) -> Iterable[Triple]:
    yield rel, PUB.dateChange, node
    yield node, RDF.type, PUB.DateChange
    yield node, PUB.previousDate, _when(change.previous_date)
    yield event, SCHEMA.previousStartDate, _when(change.previous_date)
    if change.reason:
        yield node, PUB.changeReason, _text(change.reason)
    if change.changed_at:
        yield node, PUB.changedAt, _when(change.changed_at)
    if change.new_date:
        yield node, PUB.newDate, _when(change.new_date)


def _topic_triples(
    release: Release, settings: Settings, iris: Iris
) -> Iterable[Triple]:
    rel = _iri(iris.release(release.slug))
    scheme = _iri(iris.topic_scheme)
    for topic in release.topics:
        node = _iri(iris.topic(topic.slug))
        yield rel, SCHEMA.about, node
        yield rel, DCAT.theme, node
        yield from topic_triples(node, topic.label, scheme)


def topic_triples(node: URIRef, label: str, scheme: URIRef) -> Iterable[Triple]:
    """A topic: a SKOS concept and a schema.org DefinedTerm of the topic scheme."""
    yield node, RDF.type, SKOS.Concept
    yield node, RDF.type, SCHEMA.DefinedTerm
    yield node, SKOS.prefLabel, _text(label)
    yield node, SCHEMA.name, _text(label)
    yield node, SKOS.inScheme, scheme
    yield node, SCHEMA.inDefinedTermSet, scheme


def _contact_triples(
    release: Release, settings: Settings, iris: Iris
) -> Iterable[Triple]:
    rel = _iri(iris.release(release.slug))
    for n, contact in enumerate(release.contacts, start=1):
        node = _iri(iris.contact(release.slug, n))
        yield rel, SCHEMA.contactPoint, node
        yield rel, DCAT.contactPoint, node
        yield node, RDF.type, SCHEMA.ContactPoint
        yield node, RDF.type, VCARD.Kind
        yield node, SCHEMA.contactType, _text("statistical enquiries")
        if contact.name:
            yield node, SCHEMA.name, _text(contact.name)
            yield node, VCARD.fn, _text(contact.name)
        if contact.email:
            yield node, SCHEMA.email, _text(contact.email)
            mailto = "mailto:" + contact.email.replace(" ", "")
            if not NOT_IRI.search(mailto):
                yield node, VCARD.hasEmail, URIRef(mailto)
        if contact.telephone:
            yield node, SCHEMA.telephone, _text(contact.telephone)
            tel = "".join(ch for ch in contact.telephone if ch.isdigit() or ch == "+")
            if tel:
                yield node, VCARD.hasTelephone, URIRef("tel:" + tel)


def human_size(size: int) -> str:
    """A file size people read: ``245 KB``, ``1.2 MB`` (decimal units)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            if unit == "bytes":
                return f"{size} bytes"
            return f"{value:.1f} {unit}".replace(".0 ", " ")
        value /= 1000
    return f"{size} bytes"  # pragma: no cover


def _dataset_triples(
    release: Release, settings: Settings, iris: Iris
) -> Iterable[Triple]:
    slug = release.slug
    rel = _iri(iris.release(slug))
    for n, dataset in enumerate(release.datasets, start=1):
        node = _iri(iris.dataset(slug, n))
        yield rel, SCHEMA.hasPart, node
        yield rel, DCT.hasPart, node
        yield node, RDF.type, SCHEMA.Dataset
        yield node, RDF.type, DCAT.Dataset
        yield node, SCHEMA.name, _text(dataset.title)
        yield node, DCT.title, _text(dataset.title)
        if dataset.description:
            yield node, SCHEMA.description, _text(dataset.description)
            yield node, DCT.description, _text(dataset.description)
        if dataset.url:
            yield node, SCHEMA.url, _link(dataset.url)
            yield node, DCAT.landingPage, _link(dataset.url)
        for m, download in enumerate(dataset.downloads, start=1):
            dl = _iri(iris.download(slug, n, m))
            yield rel, SCHEMA.distribution, dl
            yield node, SCHEMA.distribution, dl
            yield node, DCAT.distribution, dl
            yield dl, RDF.type, SCHEMA.DataDownload
            yield dl, RDF.type, DCAT.Distribution
            name = download.title or dataset.title
            yield dl, SCHEMA.name, _text(name)
            yield dl, DCT.title, _text(name)
            yield dl, SCHEMA.contentUrl, _link(download.url)
            yield dl, DCAT.downloadURL, _link(download.url)
            if download.format:
                yield dl, SCHEMA.encodingFormat, _text(download.format)
                if _MEDIA_TYPE.match(download.format):
                    yield dl, DCAT.mediaType, IANA_MEDIA[download.format.lower()]
            if download.size is not None:
                yield dl, SCHEMA.contentSize, _text(human_size(download.size))
                yield (
                    dl,
                    DCAT.byteSize,
                    Literal(download.size, datatype=XSD.nonNegativeInteger),
                )


def _document_triples(
    release: Release, settings: Settings, iris: Iris
) -> Iterable[Triple]:
    rel = _iri(iris.release(release.slug))
    for n, doc in enumerate(release.related_documents, start=1):
        node = _iri(iris.document(release.slug, n))
        yield rel, SCHEMA.subjectOf, node
        yield node, RDF.type, SCHEMA.CreativeWork
        yield node, SCHEMA.url, _link(doc.url)
        yield node, SCHEMA.name, _text(doc.title or doc.url)


def _series_triples(
    release: Release, settings: Settings, iris: Iris
) -> Iterable[Triple]:
    rel = _iri(iris.release(release.slug))
    if release.series is not None:
        node = _iri(iris.series(release.series.slug))
        yield rel, DCAT.inSeries, node
        yield rel, SCHEMA.isPartOf, node
        yield node, RDF.type, DCAT.DatasetSeries
        yield node, RDF.type, SCHEMA.CreativeWorkSeries
        if release.series.title:
            yield node, DCT.title, _text(release.series.title)
            yield node, SCHEMA.name, _text(release.series.title)
    if release.previous_edition:
        yield rel, DCAT.prev, _iri(iris.release(release.previous_edition))


# Serialisation ---------------------------------------------------------------


@lru_cache(maxsize=16384)
def _term_nt(term: Node) -> str:
    return str(term.n3())


def nt_line(triple: Triple) -> str:
    """One N-Triples line, as rdflib writes it; IRIs (predicates above all, which
    repeat on every line) are turned into text once."""
    s, p, o = triple
    obj = _quote_literal(o) if isinstance(o, Literal) else _term_nt(o)
    return f"{_term_nt(s)} {_term_nt(p)} {obj} .\n"


def graph_to_ntriples(graph: Graph) -> str:
    """Sorted N-Triples: byte-identical for the same graph."""
    return sorted_lines(graph.serialize(format="nt", encoding="utf-8").decode("utf-8"))


def graph_to_nquads(graph: Graph, graph_name: str) -> str:
    """Sorted N-Quads with every triple in the named graph ``graph_name``."""
    suffix = f" <{graph_name}> .\n"
    return "".join(
        line[: -len(" .")] + suffix if line.endswith(" .") else line + "\n"
        for line in split_lines(graph_to_ntriples(graph))
    )
