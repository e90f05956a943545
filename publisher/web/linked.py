"""Linked data for machines: the vocabulary at /ns, the DCAT catalogue, VoID, dump."""

from __future__ import annotations

import gzip
import io
import json

from flask import Blueprint, Response, request
from rdflib import Graph

from publisher.jsonld import graph_to_jsonld
from publisher.rdf import bind_prefixes
from publisher.resources import ontology_file
from publisher.store import catalog
from publisher.web import site
from publisher.web.negotiation import BY_SUFFIX, RDF_FORMATS

bp = Blueprint("linked", __name__)


def _graph_response(graph: Graph, default: str = "ttl") -> Response:
    offered = [f.mimetype for f in RDF_FORMATS]
    best = request.accept_mimetypes.best_match(offered)
    suffix = request.args.get("format") or next(
        (f.suffix for f in RDF_FORMATS if f.mimetype == best), default
    )
    fmt = BY_SUFFIX.get(suffix, BY_SUFFIX[default])
    if fmt.suffix == "jsonld":
        body = json.dumps(graph_to_jsonld(graph), indent=2, ensure_ascii=False)
    else:
        body = graph.serialize(format=fmt.rdflib)
    response = Response(body, mimetype=fmt.mimetype)
    response.vary.add("Accept")
    return response


@bp.get("/ns")
def vocabulary() -> Response:
    """The project vocabulary, negotiated (Turtle by default)."""
    graph = bind_prefixes(Graph(bind_namespaces="none"))
    graph.parse(ontology_file(), format="turtle")
    return _graph_response(graph)


@bp.get("/catalog")
def dcat_catalog() -> Response:
    """The DCAT catalogue graph (catalogue, records, topics, tombstones)."""
    the_site = site()
    text = the_site.store.graph_ntriples(the_site.iris.catalog_graph)
    graph = bind_prefixes(Graph(bind_namespaces="none"))
    graph.parse(data=text, format="nt")
    return _graph_response(graph)


@bp.get("/dump.nq.gz")
def dump() -> Response:
    """Every quad of the store, gzipped N-Quads."""
    raw = io.BytesIO()
    site().store.dump(raw, "nquads")
    body = gzip.compress(raw.getvalue())
    response = Response(body, mimetype="application/n-quads")
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Content-Disposition"] = 'attachment; filename="dump.nq.gz"'
    return response


@bp.get("/.well-known/void")
def void() -> Response:
    the_site = site()
    base = the_site.settings.base_url
    figures = catalog.stats(the_site.store, the_site.settings)
    text = f"""@prefix void: <http://rdfs.org/ns/void#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<{base}/.well-known/void#dataset> a void:Dataset ;
    dcterms:title "{the_site.settings.site_name}" ;
    void:triples {figures.triples} ;
    void:entities {figures.releases} ;
    void:dataDump <{base}/dump.nq.gz> ;
    void:sparqlEndpoint <{base}/sparql> ;
    void:rootResource <{base}/catalog#catalog> ;
    void:uriSpace "{base}/releases/" .
"""
    graph = Graph().parse(data=text, format="turtle")
    return _graph_response(graph)
