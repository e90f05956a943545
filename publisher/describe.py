"""What the site serves about itself, as RDF: a page of the DCAT catalogue (with
Hydra paging), the VoID description of the dataset, and the SPARQL 1.1 Service
Description of the endpoint (which describes the same dataset with VoID).

Pure functions of the settings, IRIs and counts: the web layer passes what the
store and the listing index answered.
"""

from __future__ import annotations

from collections.abc import Iterable
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
