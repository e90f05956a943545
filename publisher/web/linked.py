"""Linked data for machines: the vocabulary at /ns, the DCAT catalogue, VoID, dump."""

from __future__ import annotations

import json
import threading

from flask import Blueprint, Response, abort, current_app, render_template, request
from rdflib import Graph
from werkzeug.wsgi import FileWrapper

from publisher.describe import (
    catalog_page_ntriples,
    catalog_page_turtle,
    void_description,
)
from publisher.formats import Format
from publisher.jsonld import graph_to_jsonld
from publisher.namespaces import PUB, RDF, RDFS
from publisher.rdf import bind_prefixes
from publisher.resources import ontology_file
from publisher.store import Answer
from publisher.store.dumps import DumpFiles
from publisher.store.results import render
from publisher.web.context import site
from publisher.web.meta import meta_for
from publisher.web.negotiation import BY_SUFFIX, RDF_FORMATS
from publisher.xmlchars import xml_safe

bp = Blueprint("linked", __name__)


def _negotiated(default: str = "ttl") -> Format:
    offered = [f.mimetype for f in RDF_FORMATS]
    best = request.accept_mimetypes.best_match(offered)
    suffix = request.args.get("format") or next(
        (f.suffix for f in RDF_FORMATS if f.mimetype == best), default
    )
    return BY_SUFFIX.get(suffix, BY_SUFFIX[default])


def _graph_response(graph: Graph, default: str = "ttl") -> Response:
    fmt = _negotiated(default)
    if fmt.suffix == "jsonld":
        body = json.dumps(graph_to_jsonld(graph), indent=2, ensure_ascii=False)
    else:
        body = graph.serialize(format=fmt.rdflib)
        if fmt.suffix == "rdf":  # well-formed whatever the store holds
            body = xml_safe(body)
    response = Response(body, mimetype=fmt.mimetype)
    response.vary.add("Accept")
    return response


@bp.get("/ns")
def vocabulary() -> Response:
    """The project vocabulary at its namespace: a page for people, RDF for machines."""
    graph = bind_prefixes(Graph(bind_namespaces="none"))
    graph.parse(ontology_file(), format="turtle")
    offered = ["text/html", *(f.mimetype for f in RDF_FORMATS)]
    best = request.accept_mimetypes.best_match(offered)
    wants_html = best == "text/html" or not request.accept_mimetypes
    if wants_html and not request.args.get("format"):
        terms = []
        for subject in sorted(set(graph.subjects(RDFS.label, None)), key=str):
            if not str(subject).startswith(str(PUB)):
                continue
            kinds = sorted(_local(t) for t in graph.objects(subject, RDF.type))
            terms.append(
                {
                    "name": f"pub:{str(subject)[len(str(PUB)) :]}",
                    "iri": str(subject),
                    "anchor": str(subject)[len(str(PUB)) :],
                    "label": str(graph.value(subject, RDFS.label)),
                    "comment": str(graph.value(subject, RDFS.comment) or ""),
                    "kind": ", ".join(kinds),
                }
            )
        page = render_template(
            "pages/vocabulary.html",
            terms=terms,
            namespace=str(PUB),
            formats=RDF_FORMATS,
            meta=vocabulary_meta(),
        )
        response = Response(page, mimetype="text/html")
        response.vary.add("Accept")
        return response
    return _graph_response(graph)


def vocabulary_meta() -> dict[str, object]:
    return meta_for(
        title="Release Publisher vocabulary",
        description=(
            "Terms for statistical release calendars that schema.org and DCAT lack: "
            "release status, designation, date changes, cancellation notices."
        ),
        path="/ns",
    )


def _local(node: object) -> str:
    text = str(node)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


#: releases a catalogue page lists (Hydra links the pages): 250, about 1,750
#: triples and 175 KB of Turtle, made in a few milliseconds on its first view
#: (1,000 a page took 14 ms of CPU, half of it the kept copy's gzip)
CATALOG_PAGE = 250


@bp.get("/catalog")
def dcat_catalog() -> Response:
    """The DCAT 3 catalogue, CATALOG_PAGE datasets a page, with Hydra paging links."""
    the_site = site()
    iris = the_site.iris
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        abort(400, "page must be a whole number")
    rows, total = the_site.catalog_page(page, CATALOG_PAGE)
    last = max(1, -(-total // CATALOG_PAGE))
    if page > last:
        abort(404)
    # written as text directly (Turtle, N-Triples; the other formats by Oxigraph's
    # writers from that): an rdflib graph of a page's 1,000 releases took a second
    fmt = _negotiated()
    write = catalog_page_turtle if fmt.name == "turtle" else catalog_page_ntriples
    text = write(the_site.settings, iris, rows, page=page, last=last, total=total)
    if fmt.name in ("turtle", "ntriples"):
        body = text.encode()
    else:
        body = render(Answer("graph", text.encode()), fmt.name)
    response = Response(body, mimetype=fmt.mimetype)
    response.vary.add("Accept")
    return response


@bp.get("/dump.nq.gz")
def dump() -> Response:
    """Every quad of the store, gzipped N-Quads: a file prepared once per data
    version (publisher.store.dumps), streamed in fixed chunks."""
    the_site = site()
    files: DumpFiles | None = current_app.extensions.get("publisher.dumps")
    if files is None:
        with _DUMPS_GUARD:
            files = current_app.extensions.setdefault(
                "publisher.dumps", DumpFiles(the_site.store, the_site.settings)
            )
    version = files.data_version()
    if version is not None and _dump_etag(version) in request.if_none_match:
        response = Response(status=304)
        response.set_etag(_dump_etag(version))
        return response
    prepared = files.open()
    # The file itself is gzip (not a gzip transfer of N-Quads): clients save what
    # the name says.
    response = Response(
        FileWrapper(prepared.file, DUMP_CHUNK),
        mimetype="application/gzip",
        direct_passthrough=True,
    )
    response.content_length = prepared.size
    response.headers["Content-Disposition"] = 'attachment; filename="dump.nq.gz"'
    if prepared.data_version is not None:
        response.set_etag(_dump_etag(prepared.data_version))
        response.headers["Cache-Control"] = "no-cache"
    return response


#: bytes per write of a dump to the client
DUMP_CHUNK = 64 * 1024
_DUMPS_GUARD = threading.Lock()


def _dump_etag(version: str) -> str:
    return f"dump-{version}"


@bp.get("/.well-known/void")
def void() -> Response:
    the_site = site()
    figures = the_site.counts()
    graph = void_description(
        the_site.settings, triples=figures.triples, releases=figures.releases
    )
    return _graph_response(graph)
