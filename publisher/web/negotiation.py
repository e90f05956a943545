"""Accept header and suffix -> RDF format; Link headers for the alternates.

Parsing and q-values are werkzeug's (``request.accept_mimetypes.best_match``), not
ours (STYLE.md, section 3).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RdfFormat:
    suffix: str
    mimetype: str
    rdflib: str  # rdflib serializer name; "jsonld" is ours (context inline)
    label: str


RDF_FORMATS = (
    RdfFormat("ttl", "text/turtle", "turtle", "Turtle"),
    RdfFormat("jsonld", "application/ld+json", "jsonld", "JSON-LD"),
    RdfFormat("rdf", "application/rdf+xml", "pretty-xml", "RDF/XML"),
    RdfFormat("nt", "application/n-triples", "nt", "N-Triples"),
)
BY_SUFFIX = {f.suffix: f for f in RDF_FORMATS}
BY_MIMETYPE = {f.mimetype: f for f in RDF_FORMATS}
HTML = "text/html"
OFFERED = (HTML, *(f.mimetype for f in RDF_FORMATS))


def link_header(page_url: str) -> str:
    """``Link`` alternates for a page: one per RDF format (RFC 8288)."""
    return ", ".join(
        f'<{page_url}.{f.suffix}>; rel="alternate"; type="{f.mimetype}"'
        for f in RDF_FORMATS
    )
