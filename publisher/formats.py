"""The formats Release Publisher reads and writes: one table of media types.

Each format has one name (``?format=`` on /sparql, the CLI's ``--format``,
``Store.query_results``), its media type, its file suffix, the kinds of answer it
serves and the names its libraries give it. Content negotiation (publisher.web),
the stores' result formats (publisher.store), the pipeline's outputs and the CLI
choose from this table. Kinds:

- ``results``: SELECT and ASK results (SPARQL 1.1 Query Results formats);
- ``graph``: CONSTRUCT and DESCRIBE results, and RDF documents;
- ``dump``: every quad of a store.

Library names are strings: this module imports neither pyoxigraph nor rdflib
(only publisher.store talks to stores).
"""

from __future__ import annotations

from dataclasses import dataclass

RESULTS = "results"
GRAPH = "graph"
DUMP = "dump"


@dataclass(frozen=True)
class Format:
    name: str
    mimetype: str
    suffix: str  # file suffix, without the dot; also /releases/<slug>.<suffix>
    label: str
    kinds: frozenset[str]
    oxigraph: str  # member of pyoxigraph's RdfFormat or QueryResultsFormat
    rdflib: str  # rdflib parser/serializer name ("" for results formats)
    w3c: str  # name under http://www.w3.org/ns/formats/

    def serves(self, kind: str) -> bool:
        return kind in self.kinds


def _kinds(*names: str) -> frozenset[str]:
    return frozenset(names)


#: in the order offered: the first format of a kind is its default
FORMATS = (
    Format(
        "xml",
        "application/sparql-results+xml",
        "srx",
        "XML",
        _kinds(RESULTS),
        "XML",
        "",
        "SPARQL_Results_XML",
    ),
    Format(
        "json",
        "application/sparql-results+json",
        "srj",
        "JSON",
        _kinds(RESULTS),
        "JSON",
        "",
        "SPARQL_Results_JSON",
    ),
    Format(
        "csv",
        "text/csv",
        "csv",
        "CSV",
        _kinds(RESULTS),
        "CSV",
        "",
        "SPARQL_Results_CSV",
    ),
    Format(
        "tsv",
        "text/tab-separated-values",
        "tsv",
        "TSV",
        _kinds(RESULTS),
        "TSV",
        "",
        "SPARQL_Results_TSV",
    ),
    Format(
        "turtle",
        "text/turtle",
        "ttl",
        "Turtle",
        _kinds(GRAPH),
        "TURTLE",
        "turtle",
        "Turtle",
    ),
    Format(
        "rdfxml",
        "application/rdf+xml",
        "rdf",
        "RDF/XML",
        _kinds(GRAPH),
        "RDF_XML",
        "pretty-xml",
        "RDF_XML",
    ),
    Format(
        "ntriples",
        "application/n-triples",
        "nt",
        "N-Triples",
        _kinds(GRAPH),
        "N_TRIPLES",
        "nt",
        "N-Triples",
    ),
    Format(
        "jsonld",
        "application/ld+json",
        "jsonld",
        "JSON-LD",
        _kinds(GRAPH),
        "JSON_LD",
        "json-ld",
        "JSON-LD",
    ),
    Format(
        "nquads",
        "application/n-quads",
        "nq",
        "N-Quads",
        _kinds(GRAPH, DUMP),
        "N_QUADS",
        "nquads",
        "N-Quads",
    ),
    Format(
        "trig", "application/trig", "trig", "TriG", _kinds(DUMP), "TRIG", "trig", "TriG"
    ),
)
BY_NAME = {f.name: f for f in FORMATS}

#: other media types clients and stores use for a kind's formats, in the order
#: they are offered in negotiation (a tie goes to the first)
ALIASES = {
    RESULTS: {
        "application/json": "json",
        "application/xml": "xml",
        "text/xml": "xml",
        "text/tsv": "tsv",
    },
    GRAPH: {
        "application/x-turtle": "turtle",
        "application/xml": "rdfxml",
        "text/xml": "rdfxml",
        "text/plain": "ntriples",
        "application/json": "jsonld",
    },
    DUMP: {},
}
#: short names for ``?format=`` besides the formats' own
SHORT = {
    RESULTS: {"sparql-results+json": "json", "sparql-results+xml": "xml"},
    GRAPH: {
        "xml": "rdfxml",
        "rdf": "rdfxml",
        "rdf+xml": "rdfxml",
        "json": "jsonld",
        "json-ld": "jsonld",
        "ttl": "turtle",
        "nt": "ntriples",
        "n3": "turtle",
        "nq": "nquads",
    },
    DUMP: {},
}

#: media types that are not formats of answers
HTML = "text/html"
FORM = "application/x-www-form-urlencoded"
DIRECT_QUERY = "application/sparql-query"
DIRECT_UPDATE = "application/sparql-update"


def of_kind(kind: str) -> tuple[Format, ...]:
    """The formats serving ``kind``, in the table's order."""
    return tuple(f for f in FORMATS if kind in f.kinds)


def names(kind: str) -> tuple[str, ...]:
    """The names of the formats serving ``kind`` (choices for an option)."""
    return tuple(f.name for f in of_kind(kind))


def accepted(name: str, kind: str) -> tuple[str, ...]:
    """The media types a store may answer with for format ``name`` as ``kind``:
    its own first, then its aliases."""
    fmt = BY_NAME[name]
    return (fmt.mimetype, *(t for t, n in ALIASES[kind].items() if n == name))


def for_file(path: str, kind: str, default: str) -> str:
    """The name of the ``kind`` format a file name's suffix says, else ``default``."""
    for fmt in of_kind(kind):
        if path.endswith("." + fmt.suffix):
            return fmt.name
    return default
