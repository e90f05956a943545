"""What the site serves about itself, as RDF: a page of the DCAT catalogue (with
Hydra paging), the VoID description of the dataset, and the SPARQL 1.1 Service
Description of the endpoint (which describes the same dataset with VoID).

Pure functions of the settings, IRIs and counts: the web layer passes what the
store and the listing index answered. A catalogue page (1,000 releases, some 6,000
triples) is written straight to N-Triples text (:func:`catalog_page_ntriples`, a
few milliseconds; an rdflib graph of it took about a second to build and write as
Turtle): the web turns that into the negotiated format with Oxigraph's writers.
:func:`catalog_page` builds the same triples as an rdflib graph, the oracle the
tests compare it with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Protocol

from rdflib import Graph, Literal, URIRef

from publisher.config import Settings
from publisher.namespaces import (
    DCAT,
    DCT,
    ENTAILMENT_SIMPLE,
    FOAF,
    FORMATS_NS,
    HYDRA,
    PUB,
    RDF,
    SCHEMA,
    SD,
    VOID,
    XSD,
    Iris,
    prefix_map,
)
from publisher.rdf import bind_prefixes


class CatalogRow(Protocol):
    """A release as the listing index lists it: what a catalogue page shows."""

    @property
    def slug(self) -> str: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def modified(self) -> str | None: ...


def catalog_page(
    settings: Settings,
    iris: Iris,
    rows: Iterable[CatalogRow],
    *,
    page: int,
    last: int,
    total: int,
) -> Graph:
    """Page ``page`` of ``last`` of the DCAT 3 catalogue of ``total`` releases."""
    g = bind_prefixes(Graph(bind_namespaces="none"))
    g.bind("hydra", HYDRA)
    cat, org = URIRef(iris.catalog), URIRef(iris.organization)
    g.add((cat, RDF.type, DCAT.Catalog))
    g.add((cat, RDF.type, SCHEMA.DataCatalog))
    g.add((cat, DCT.title, Literal(settings.site_name)))
    g.add((cat, DCT.publisher, org))
    g.add((org, SCHEMA.name, Literal(settings.organization_name)))
    g.add((cat, FOAF.homepage, URIRef(iris.home)))
    g.add((cat, DCAT.themeTaxonomy, URIRef(iris.topic_scheme)))
    for row in rows:
        rel, rec = URIRef(iris.release(row.slug)), URIRef(iris.record(row.slug))
        g.add((cat, DCAT.dataset, rel))
        g.add((cat, DCAT.record, rec))
        g.add((rec, RDF.type, DCAT.CatalogRecord))
        g.add((rec, FOAF.primaryTopic, rel))
        g.add((rec, PUB.contentHash, Literal(row.content_hash)))
        if row.title:
            g.add((rec, DCT.title, Literal(row.title)))
        if row.modified:
            g.add((rec, DCT.modified, Literal(row.modified, datatype=XSD.dateTime)))
    _paging(g, cat, f"{settings.base_url}/catalog", page, last, total)
    return g


#: what N-Triples escapes inside a literal (STRING_LITERAL_QUOTE, ECHAR)
_NT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"}
_NT_SPECIAL = re.compile(r'[\\"\n\r]')


def _nt_text(value: str) -> str:
    """A plain literal in N-Triples."""
    return '"' + _NT_SPECIAL.sub(lambda m: _NT_ESCAPES[m.group()], value) + '"'


#: the prefixes a catalogue page's Turtle is written with
TURTLE_PREFIXES = {
    **prefix_map("dcat", "dcterms", "foaf", "schema", "pub", "xsd"),
    "hydra": str(HYDRA),
}


def _around(mint: str) -> tuple[str, str]:
    """What an IRI minter writes before and after the slug (``mint`` of NUL)."""
    before, after = mint.split("\0")
    return before, after


def _catalog_head(
    settings: Settings, iris: Iris, page: int, last: int, total: int
) -> list[tuple[str, str, str]]:
    """The triples of a catalogue page besides its rows, every term as text."""
    cat, org = f"<{iris.catalog}>", f"<{iris.organization}>"
    address = f"{settings.base_url}/catalog"
    view = f"<{address}?page={page}>"
    a = f"<{RDF.type}>"
    head = [
        (cat, a, f"<{DCAT.Catalog}>"),
        (cat, a, f"<{SCHEMA.DataCatalog}>"),
        (cat, f"<{DCT.title}>", _nt_text(settings.site_name)),
        (cat, f"<{DCT.publisher}>", org),
        (org, f"<{SCHEMA.name}>", _nt_text(settings.organization_name)),
        (cat, f"<{FOAF.homepage}>", f"<{iris.home}>"),
        (cat, f"<{DCAT.themeTaxonomy}>", f"<{iris.topic_scheme}>"),
        (cat, f"<{HYDRA.view}>", view),
        (cat, f"<{HYDRA.totalItems}>", f'"{total}"^^<{XSD.integer}>'),
        (view, a, f"<{HYDRA.PartialCollectionView}>"),
        (view, f"<{HYDRA.first}>", f"<{address}?page=1>"),
        (view, f"<{HYDRA.last}>", f"<{address}?page={last}>"),
    ]
    if page > 1:
        head.append((view, f"<{HYDRA.previous}>", f"<{address}?page={page - 1}>"))
    if page < last:
        head.append((view, f"<{HYDRA.next}>", f"<{address}?page={page + 1}>"))
    return head


def catalog_page_ntriples(
    settings: Settings,
    iris: Iris,
    rows: Iterable[CatalogRow],
    *,
    page: int,
    last: int,
    total: int,
) -> str:
    """The triples of :func:`catalog_page` as N-Triples, written directly (the
    IRIs are the site's own, from its base URL and slugs: nothing to escape)."""
    out = [
        f"{s} {p} {o} .\n"
        for s, p, o in _catalog_head(settings, iris, page, last, total)
    ]
    rel_in, rel_out = _around(iris.release("\0"))
    rec_in, rec_out = _around(iris.record("\0"))
    cat = f"<{iris.catalog}>"
    has = f"{cat} <{DCAT.dataset}> <{rel_in}"
    lists = f"{cat} <{DCAT.record}> <{rec_in}"
    kind = f"> <{RDF.type}> <{DCAT.CatalogRecord}> .\n"
    topic, content = f"> <{FOAF.primaryTopic}> <{rel_in}", f"> <{PUB.contentHash}> "
    title, modified = f"> <{DCT.title}> ", f"> <{DCT.modified}> "
    when = f"^^<{XSD.dateTime}> .\n"
    for row in rows:
        slug = row.slug
        rec = f"<{rec_in}{slug}{rec_out}"
        out.append(
            f"{has}{slug}{rel_out}> .\n{lists}{slug}{rec_out}> .\n{rec}{kind}"
            f"{rec}{topic}{slug}{rel_out}> .\n"
            f"{rec}{content}{_nt_text(row.content_hash)} .\n"
        )
        if row.title:
            out.append(f"{rec}{title}{_nt_text(row.title)} .\n")
        if row.modified:
            out.append(f"{rec}{modified}{_nt_text(row.modified)}{when}")
    return "".join(out)


_LOCAL = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


@lru_cache(maxsize=512)
def _curie(term: str) -> str:
    """A ``<iri>`` term as ``prefix:local`` when a known namespace holds it."""
    iri = term[1:-1]
    if term == f"<{RDF.type}>":
        return "a"
    for prefix, ns in TURTLE_PREFIXES.items():
        if iri.startswith(ns) and _LOCAL.fullmatch(iri[len(ns) :]):
            return f"{prefix}:{iri[len(ns) :]}"
    return term


def catalog_page_turtle(
    settings: Settings,
    iris: Iris,
    rows: Iterable[CatalogRow],
    *,
    page: int,
    last: int,
    total: int,
) -> str:
    """The triples of :func:`catalog_page` as Turtle, written directly: the
    catalogue's own statements, then one statement a record."""
    out = [f"@prefix {prefix}: <{ns}> .\n" for prefix, ns in TURTLE_PREFIXES.items()]
    for s, p, o in _catalog_head(settings, iris, page, last, total):
        short = _curie(p)
        out.append(f"{s} {short} {_curie(o) if short == 'a' else o} .\n")
    rel_in, rel_out = _around(iris.release("\0"))
    rec_in, rec_out = _around(iris.record("\0"))
    slugs, records = [], []
    for row in rows:
        slug = row.slug
        slugs.append(slug)
        said = (
            f"<{rec_in}{slug}{rec_out}> a dcat:CatalogRecord ;\n"
            f"    foaf:primaryTopic <{rel_in}{slug}{rel_out}> ;\n"
            f"    pub:contentHash {_nt_text(row.content_hash)}"
        )
        if row.title:
            said += f" ;\n    dcterms:title {_nt_text(row.title)}"
        if row.modified:
            said += f" ;\n    dcterms:modified {_nt_text(row.modified)}^^xsd:dateTime"
        records.append(said + " .\n")
    if slugs:
        cat = f"<{iris.catalog}>"
        out.append(
            f"{cat} dcat:dataset "
            + ",\n    ".join(f"<{rel_in}{s}{rel_out}>" for s in slugs)
            + " ;\n  dcat:record "
            + ",\n    ".join(f"<{rec_in}{s}{rec_out}>" for s in slugs)
            + " .\n"
        )
    out += records
    return "".join(out)


def _paging(
    g: Graph, collection: URIRef, address: str, page: int, last: int, total: int
) -> None:
    """Hydra's view of one page of ``collection``, with its neighbours."""
    view = URIRef(f"{address}?page={page}")
    g.add((collection, HYDRA.view, view))
    g.add((collection, HYDRA.totalItems, Literal(total)))
    g.add((view, RDF.type, HYDRA.PartialCollectionView))
    g.add((view, HYDRA.first, URIRef(f"{address}?page=1")))
    g.add((view, HYDRA.last, URIRef(f"{address}?page={last}")))
    if page > 1:
        g.add((view, HYDRA.previous, URIRef(f"{address}?page={page - 1}")))
    if page < last:
        g.add((view, HYDRA.next, URIRef(f"{address}?page={page + 1}")))


def _void_dataset(
    g: Graph,
    node: URIRef,
    settings: Settings,
    endpoint: str,
    *,
    triples: int,
    releases: int,
) -> None:
    """The dataset as VoID describes it: its size, its dump, its endpoint."""
    g.add((node, RDF.type, VOID.Dataset))
    g.add((node, DCT.title, Literal(settings.site_name)))
    g.add((node, VOID.sparqlEndpoint, URIRef(endpoint)))
    g.add((node, VOID.triples, Literal(triples)))
    g.add((node, VOID.entities, Literal(releases)))
    g.add((node, VOID.dataDump, URIRef(settings.base_url + "/dump.nq.gz")))


def void_description(settings: Settings, *, triples: int, releases: int) -> Graph:
    """The VoID description served at /.well-known/void."""
    base = settings.base_url
    g = Graph()
    g.bind("void", VOID)
    g.bind("dcterms", DCT)
    node = URIRef(f"{base}/.well-known/void#dataset")
    _void_dataset(
        g, node, settings, f"{base}/sparql", triples=triples, releases=releases
    )
    g.add((node, VOID.rootResource, URIRef(f"{base}/catalog#catalog")))
    g.add((node, VOID.uriSpace, Literal(f"{base}/releases/")))
    return g


def service_description(
    settings: Settings,
    iris: Iris,
    endpoint: str,
    result_formats: Iterable[str],
    *,
    triples: int,
    releases: int,
) -> Graph:
    """SPARQL 1.1 Service Description of the endpoint, with VoID counts.

    ``result_formats``: the local names, in W3C's formats namespace
    (namespaces.FORMATS_NS), of the formats the endpoint answers in.
    """
    here = URIRef(endpoint)
    node = URIRef(f"{endpoint}#service")
    dataset = URIRef(f"{endpoint}#dataset")
    g = Graph(bind_namespaces="none")
    for prefix, ns in (("sd", SD), ("void", VOID), ("formats", FORMATS_NS)):
        g.bind(prefix, ns)
    g.bind("dcterms", DCT)
    g.add((node, RDF.type, SD.Service))
    g.add((node, SD.endpoint, here))
    g.add((node, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((node, SD.supportedLanguage, SD.SPARQL11Update))
    g.add((node, SD.feature, SD.UnionDefaultGraph))
    g.add((node, SD.feature, SD.EmptyGraphs))
    g.add((node, SD.defaultEntailmentRegime, ENTAILMENT_SIMPLE))
    for name in result_formats:
        g.add((node, SD.resultFormat, FORMATS_NS[name]))
    g.add((node, DCT.description, Literal(_service_note(settings))))
    g.add((node, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    _void_dataset(g, dataset, settings, endpoint, triples=triples, releases=releases)
    _graphs(g, dataset, URIRef(f"{endpoint}#default-graph"), iris, triples)
    g.add(
        (
            dataset,
            DCT.description,
            Literal(
                "One named graph per release, "
                f"{settings.base_url}/graphs/releases/{{slug}} ({releases} "
                "now), the catalogue and the history."
            ),
        )
    )
    return g


def _service_note(settings: Settings) -> str:
    return (
        "Read-only to the public: queries stop after "
        f"{settings.query_timeout:g} s and return at most {settings.query_max_rows} "
        "rows; SERVICE and LOAD are refused. SPARQL Update needs an admin "
        "token."
    )


def _graphs(
    g: Graph, dataset: URIRef, default: URIRef, iris: Iris, triples: int
) -> None:
    """The default graph (the union) and the named graphs of the site's own."""
    g.add((dataset, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    g.add(
        (
            default,
            DCT.description,
            Literal(
                "The union of all named graphs (unless a request names its dataset)"
            ),
        )
    )
    g.add((default, VOID.triples, Literal(triples)))
    for name, title in (
        (iris.catalog_graph, "The catalogue"),
        (iris.history_graph, "The history of changes"),
    ):
        named = URIRef(f"{name}#sd")
        g.add((dataset, SD.namedGraph, named))
        g.add((named, RDF.type, SD.NamedGraph))
        g.add((named, SD.name, URIRef(name)))
        g.add((named, DCT.title, Literal(title)))
