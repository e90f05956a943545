"""SPARQL 1.1 Protocol conformance over real HTTP.

Every test of the W3C SPARQL 1.1 Protocol test suite
(http://www.w3.org/2009/sparql/docs/tests/data-sparql11/protocol/manifest) is sent to
a running ``publisher serve`` (tests/publisher_server.py); each test is named after
the W3C test it implements and carries that test's name (``mf:name``) as its
docstring. Extra tests check what the endpoint promises beyond the suite: content
negotiation, ``?format=``, 405/406/415, bearer tokens, CORS.

How the suite's requests are adapted:

- The suite's data graphs (``http://kasei.us/2009/09/sparql/data/data1.rdf`` ...)
  are the sample's release graphs and catalogue graph: the query tests ask about
  real data, and each also checks that the protocol dataset *restricts* what is
  seen (the default graph is otherwise the union of all graphs).
- Updates carry the admin bearer token, so a 4xx from a bad update is the
  endpoint refusing the request, not a missing token.
- The dataset update tests write into their own graphs under
  ``http://example.org/protocol-test/`` (where the suite starts with ``CLEAR ALL`` or
  ``DROP ALL``) and drop them afterwards. The requests the suite sends verbatim
  with ``CLEAR ALL``/``CLEAR NAMED`` (update_post_*, bad_update_*) go to a second
  server over an empty store, which first gets marker triples: a bad update must
  leave them in place.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import quote, urlencode

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.term import Node

from tests.publisher_server import ADMIN_TOKEN, PublisherProcess

SPARQL = "/sparql"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

FORM = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
RESULTS_JSON = "application/sparql-results+json"
RESULTS_XML = "application/sparql-results+xml"
CSV = "text/csv"
TSV = "text/tab-separated-values"
TURTLE = "text/turtle"
RDF_XML = "application/rdf+xml"
#: graph media type -> rdflib parser
GRAPH_TYPES = {
    TURTLE: "turtle",
    "application/n-triples": "nt",
    RDF_XML: "xml",
    "application/ld+json": "json-ld",
    "application/n-quads": "nquads",
}
RESULT_FORMATS = {"json": RESULTS_JSON, "xml": RESULTS_XML, "csv": CSV, "tsv": TSV}
GRAPH_FORMATS = {
    "turtle": TURTLE,
    "ntriples": "application/n-triples",
    "rdfxml": RDF_XML,
    "jsonld": "application/ld+json",
    "nquads": "application/n-quads",
}

PUB = "https://w3id.org/release-publisher/ns#"
FOAF = "http://xmlns.com/foaf/0.1/"
DC = "http://purl.org/dc/terms/"
SD = "http://www.w3.org/ns/sparql-service-description#"
PREFIXES = f"PREFIX pub: <{PUB}>\nPREFIX foaf: <{FOAF}>\nPREFIX dc: <{DC}>\n"
SRX = "{http://www.w3.org/2005/sparql-results#}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

#: the suite's data0 graph: not in the store, so an empty default graph
DATA0 = "http://kasei.us/2009/09/sparql/data/data0.rdf"
DATA0_PARAM = "default-graph-uri=" + quote(DATA0, safe="")
#: where the update tests write
TEST_GRAPHS = "http://example.org/protocol-test/"

SLUG_A = "labour-market-overview-uk-september-2026"
SLUG_B = "gdp-monthly-estimate-uk-september-2026"
SLUG_C = "price-index-of-private-rents-uk-november-2026"
RELEASES = 52

Params = str | Sequence[tuple[str, str]]


# --- HTTP -------------------------------------------------------------------------


@dataclass(repr=False)
class Reply:
    status: int
    headers: Message
    body: bytes

    @property
    def media_type(self) -> str:
        if self.headers.get("Content-Type") is None:
            return ""
        return self.headers.get_content_type()

    def text(self) -> str:
        return self.body.decode("utf-8")

    def __repr__(self) -> str:
        return (
            f"HTTP {self.status} Content-Type: {self.headers.get('Content-Type')!r}"
            f" body: {self.body[:600]!r}"
        )


def encode(params: Params) -> str:
    if isinstance(params, str):
        return params
    return urlencode(list(params), quote_via=quote)


class Endpoint:
    """``{base}/sparql`` of one running server."""

    def __init__(self, server: PublisherProcess) -> None:
        self.server = server
        self.base = server.base
        self.url = server.base + SPARQL

    # IRIs of the sample
    def release(self, slug: str) -> str:
        return f"{self.base}/releases/{slug}#release"

    def graph(self, slug: str) -> str:
        return f"{self.base}/graphs/releases/{slug}"

    @property
    def catalog(self) -> str:
        return f"{self.base}/graphs/catalog"

    # requests
    def send(
        self,
        method: str,
        params: Params = (),
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        query_string = encode(params)
        path = SPARQL + ("?" + query_string if query_string else "")
        status, found, content = self.server.request(method, path, body, headers)
        return Reply(status, found, content)

    def raw(
        self, method: str, params: Params, body: bytes, headers: dict[str, str]
    ) -> Reply:
        """Exactly these headers (urllib would add a form Content-Type to a POST)."""
        query_string = encode(params)
        target = SPARQL + ("?" + query_string if query_string else "")
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.server.port, timeout=30
        )
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            return Reply(response.status, response.msg, response.read())
        finally:
            connection.close()

    def query(
        self,
        text: str,
        dataset: Params = (),
        *,
        method: str = "POST",
        accept: str | None = RESULTS_JSON,
    ) -> Reply:
        headers = {"Accept": accept} if accept else {}
        if method == "GET":
            return self.send("GET", [("query", text), *dataset], headers=headers)
        headers["Content-Type"] = QUERY_TYPE
        return self.send("POST", dataset, text.encode("utf-8"), headers)

    def results(self, text: str, dataset: Params = (), **kwargs: Any) -> Results:
        reply = self.query(text, dataset, **kwargs)
        assert reply.status == 200, reply
        return parse_results(reply)

    def ask(self, text: str, dataset: Params = (), **kwargs: Any) -> bool:
        found = self.results(PREFIXES + text, dataset, **kwargs).boolean
        assert found is not None, f"not a boolean result for {text}"
        return found

    def select(self, text: str, dataset: Params = (), **kwargs: Any) -> Results:
        found = self.results(PREFIXES + text, dataset, **kwargs)
        assert found.boolean is None, f"not a tabular result for {text}"
        return found

    def update(
        self,
        text: str,
        params: Params = (),
        *,
        form: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = dict(AUTH if headers is None else headers)
        if form:
            sent["Content-Type"] = FORM
            body = urlencode([("update", text), *params], quote_via=quote)
            return self.send("POST", (), body.encode("ascii"), sent)
        sent["Content-Type"] = UPDATE_TYPE
        return self.send("POST", params, text.encode("utf-8"), sent)

    def updated(self, text: str, params: Params = ()) -> None:
        reply = self.update(PREFIXES + text, params)
        assert 200 <= reply.status < 300, reply

    def drop(self, *graphs: str) -> None:
        """Best effort clean-up (never hides the failure being reported)."""
        self.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs))


def assert_2xx(reply: Reply) -> None:
    assert 200 <= reply.status < 300, reply


def assert_plain_error(reply: Reply, status: int) -> None:
    """``status`` with a message a person can read (text/plain, not empty)."""
    assert reply.status == status, reply
    assert reply.media_type == "text/plain", reply
    assert reply.text().strip(), reply
    assert "<html" not in reply.text().lower(), reply


# --- SPARQL results ---------------------------------------------------------------


@dataclass
class Results:
    boolean: bool | None = None
    variables: list[str] = field(default_factory=list)
    #: rdflib terms (JSON, XML, TSV) or strings (CSV); unbound variables are absent
    rows: list[dict[str, Any]] = field(default_factory=list)

    def column(self, name: str) -> list[Any]:
        return [row.get(name) for row in self.rows]

    def strings(self, name: str) -> set[str]:
        return {str(value) for value in self.column(name)}


def _literal(lexical: str, lang: str | None, datatype: str | None) -> Literal:
    if lang:
        return Literal(lexical, lang=lang)
    return Literal(lexical, datatype=URIRef(datatype) if datatype else None)


def _json_term(term: dict[str, str]) -> Node:
    kind = term["type"]
    if kind == "uri":
        return URIRef(term["value"])
    if kind == "bnode":
        return BNode(term["value"])
    assert kind in ("literal", "typed-literal"), term
    return _literal(term["value"], term.get("xml:lang"), term.get("datatype"))


def _json_results(body: bytes) -> Results:
    document = json.loads(body.decode("utf-8"))
    assert "head" in document, document
    if "boolean" in document:
        assert isinstance(document["boolean"], bool), document
        return Results(boolean=document["boolean"])
    variables = document["head"]["vars"]
    rows = [
        {name: _json_term(term) for name, term in binding.items()}
        for binding in document["results"]["bindings"]
    ]
    for row in rows:
        assert set(row) <= set(variables), (row, variables)
    return Results(variables=variables, rows=rows)


def _xml_term(element: ET.Element) -> Node:
    (child,) = list(element)
    text = child.text or ""
    if child.tag == SRX + "uri":
        return URIRef(text)
    if child.tag == SRX + "bnode":
        return BNode(text)
    assert child.tag == SRX + "literal", child.tag
    return _literal(text, child.get(XML_LANG), child.get("datatype"))


def _xml_results(body: bytes) -> Results:
    root = ET.fromstring(body)
    assert root.tag == SRX + "sparql", root.tag
    head = root.find(SRX + "head")
    assert head is not None
    boolean = root.find(SRX + "boolean")
    if boolean is not None:
        assert boolean.text in ("true", "false"), boolean.text
        return Results(boolean=boolean.text == "true")
    variables = [v.get("name", "") for v in head.findall(SRX + "variable")]
    results = root.find(SRX + "results")
    assert results is not None
    rows = [
        {b.get("name", ""): _xml_term(b) for b in result.findall(SRX + "binding")}
        for result in results.findall(SRX + "result")
    ]
    return Results(variables=variables, rows=rows)


def _csv_results(body: bytes) -> Results:
    records = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    variables, *lines = records
    rows = [
        {name: value for name, value in zip(variables, line, strict=True) if value}
        for line in lines
    ]
    return Results(variables=variables, rows=rows)


_TSV_LITERAL = re.compile(
    r'"(?P<lex>(?:[^"\\]|\\.)*)"(?:@(?P<lang>[A-Za-z0-9-]+)|\^\^<(?P<dt>[^>]*)>)?'
)
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", '"': '"', "'": "'", "\\": "\\"}


def _tsv_term(text: str) -> Node:
    if text.startswith("<") and text.endswith(">"):
        return URIRef(text[1:-1])
    if text.startswith("_:"):
        return BNode(text[2:])
    match = _TSV_LITERAL.fullmatch(text)
    if match:
        lexical = re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], match["lex"])
        return _literal(lexical, match["lang"], match["dt"])
    if text in ("true", "false"):
        return Literal(text, datatype=XSD.boolean)
    if re.fullmatch(r"[+-]?\d+", text):
        return Literal(text, datatype=XSD.integer)
    if re.fullmatch(r"[+-]?\d*\.\d+", text):
        return Literal(text, datatype=XSD.decimal)
    assert re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+", text), text
    return Literal(text, datatype=XSD.double)


def _tsv_results(body: bytes) -> Results:
    lines = body.decode("utf-8").split("\n")
    if lines[-1] == "":
        lines.pop()
    header, *records = (line.removesuffix("\r") for line in lines)
    variables = header.split("\t")
    assert all(v.startswith("?") for v in variables), header
    names = [v[1:] for v in variables]
    rows = [
        {
            name: _tsv_term(value)
            for name, value in zip(names, record.split("\t"), strict=True)
            if value
        }
        for record in records
    ]
    return Results(variables=names, rows=rows)


def parse_results(reply: Reply) -> Results:
    parsers = {
        RESULTS_JSON: _json_results,
        RESULTS_XML: _xml_results,
        CSV: _csv_results,
        TSV: _tsv_results,
    }
    assert reply.media_type in parsers, f"not a SPARQL results type: {reply}"
    return parsers[reply.media_type](reply.body)


def _ox_term(term: Any) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    assert isinstance(term, ox.Literal), term
    return _literal(term.value, term.language, term.datatype.value)


def parse_graph(reply: Reply, base: str) -> Graph:
    fmt = GRAPH_TYPES.get(reply.media_type)
    assert fmt, f"not an RDF graph type: {reply}"
    graph = Graph()
    if fmt == "nquads":  # pyoxigraph's parser: rdflib's needs a Dataset
        for quad in ox.parse(reply.body, format=ox.RdfFormat.N_QUADS):
            assert isinstance(quad.graph_name, ox.DefaultGraph), quad
            graph.add(
                (
                    _ox_term(quad.subject),
                    _ox_term(quad.predicate),
                    _ox_term(quad.object),
                )
            )
        return graph
    graph.parse(data=reply.body, format=fmt, publicID=base + SPARQL)
    return graph


# --- fixtures ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Endpoint]:
    """The sample calendar (52 releases) served; shared by the module."""
    with PublisherProcess() as server:
        yield Endpoint(server)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Endpoint]:
    """A second server over an empty store, for the suite's CLEAR ALL requests."""
    with PublisherProcess(import_sample=False) as server:
        yield Endpoint(server)


MARKER_GRAPH = TEST_GRAPHS + "markers"
MARKERS = f"""<urn:marker:default> <urn:marker:p> "in the default graph" .
GRAPH <{MARKER_GRAPH}> {{ <urn:marker:named> <urn:marker:p> "in a named graph" }}"""


@pytest.fixture
def marked(scratch: Endpoint) -> Iterator[Endpoint]:
    """The scratch server with one marker triple in the default graph and one in a
    named graph; both must still be there after the test."""
    scratch.updated(f"INSERT DATA {{ {MARKERS} }}")
    yield scratch
    assert scratch.ask(f"ASK {{ {MARKERS} }}"), "a refused update changed the store"


@contextmanager
def dropped_after(endpoint: Endpoint, *graphs: str) -> Iterator[None]:
    try:
        yield
    finally:
        endpoint.drop(*graphs)


def slugs(endpoint: Endpoint, dataset: Params = (), **kwargs: Any) -> set[str]:
    found = endpoint.select(
        "SELECT ?slug WHERE { ?r a pub:Release ; pub:slug ?slug }", dataset, **kwargs
    )
    return found.strings("slug")


# --- positive query tests ---------------------------------------------------------


def test_query_get(endpoint: Endpoint) -> None:
    """query via GET"""
    reply = endpoint.send("GET", "query=ASK%20%7B%7D&" + DATA0_PARAM)
    assert reply.status == 200, reply
    assert reply.media_type in (RESULTS_XML, RESULTS_JSON), reply
    assert parse_results(reply).boolean is True
    # an ASK that must be false: the answer is not a constant
    nothing = endpoint.query("ASK { <urn:nothing> ?p ?o }", method="GET", accept=None)
    assert parse_results(nothing).boolean is False, nothing
    # the default graph is the union of all graphs
    assert slugs(endpoint, method="GET") >= {SLUG_A, SLUG_B, SLUG_C}


def test_query_post_form(endpoint: Endpoint) -> None:
    """query via URL-encoded POST"""
    reply = endpoint.send(
        "POST", DATA0_PARAM, b"query=ASK%20%7B%7D", {"Content-Type": FORM}
    )
    assert reply.status == 200, reply
    assert reply.media_type in (RESULTS_XML, RESULTS_JSON), reply
    assert parse_results(reply).boolean is True
    # a SELECT in a form, over the union of all graphs: every release once
    text = PREFIXES + "SELECT ?slug WHERE { ?r a pub:Release ; pub:slug ?slug }"
    body = urlencode({"query": text}).encode("ascii")
    reply = endpoint.send(
        "POST", (), body, {"Content-Type": FORM, "Accept": RESULTS_JSON}
    )
    assert reply.status == 200, reply
    found = parse_results(reply)
    assert found.variables == ["slug"]
    assert len(found.rows) == RELEASES
    assert found.strings("slug") >= {SLUG_A, SLUG_B, SLUG_C}


def test_query_post_direct(endpoint: Endpoint) -> None:
    """query via POST directly"""
    reply = endpoint.send("POST", (), b"ASK {}", {"Content-Type": QUERY_TYPE})
    assert reply.status == 200, reply
    assert reply.media_type in (RESULTS_XML, RESULTS_JSON), reply
    assert parse_results(reply).boolean is True
    found = endpoint.select("SELECT (COUNT(?r) AS ?n) WHERE { ?r a pub:Release }")
    assert found.column("n") == [Literal(RELEASES)]


def test_query_dataset_default_graph(endpoint: Endpoint) -> None:
    """query with protocol-specified default graph"""
    dataset = [("default-graph-uri", endpoint.graph(SLUG_A))]
    assert endpoint.ask(f"ASK {{ <{endpoint.release(SLUG_A)}> ?p ?o }}", dataset)
    # only that graph: another release is not in the default graph
    assert not endpoint.ask(f"ASK {{ <{endpoint.release(SLUG_B)}> ?p ?o }}", dataset)
    assert slugs(endpoint, dataset) == {SLUG_A}


def _two_releases_query(endpoint: Endpoint) -> str:
    a, b = endpoint.release(SLUG_A), endpoint.release(SLUG_B)
    return f"ASK {{ <{a}> a ?type . <{b}> a ?type . }}"


def _default_graphs(endpoint: Endpoint) -> list[tuple[str, str]]:
    return [
        ("default-graph-uri", endpoint.graph(SLUG_A)),
        ("default-graph-uri", endpoint.graph(SLUG_B)),
    ]


def _check_default_graphs(endpoint: Endpoint, reply: Reply, method: str) -> None:
    assert reply.status == 200, reply
    assert reply.media_type in (RESULTS_XML, RESULTS_JSON), reply
    assert parse_results(reply).boolean is True
    # the default graph is the merge of exactly those two graphs
    both = _default_graphs(endpoint)
    assert slugs(endpoint, both, method=method) == {SLUG_A, SLUG_B}
    assert not endpoint.ask(_two_releases_query(endpoint), both[:1], method=method)


def test_query_dataset_default_graphs_get(endpoint: Endpoint) -> None:
    """GET query with protocol-specified default graph"""
    encoded = "&".join(
        [
            "query=" + quote(_two_releases_query(endpoint), safe=""),
            "default-graph-uri=" + quote(endpoint.graph(SLUG_A), safe=""),
            "default-graph-uri=" + quote(endpoint.graph(SLUG_B), safe=""),
        ]
    )
    reply = endpoint.send("GET", encoded)
    _check_default_graphs(endpoint, reply, "GET")


def test_query_dataset_default_graphs_post(endpoint: Endpoint) -> None:
    """POST query with protocol-specified default graphs"""
    body = _two_releases_query(endpoint).encode("utf-8")
    reply = endpoint.send(
        "POST", _default_graphs(endpoint), body, {"Content-Type": QUERY_TYPE}
    )
    _check_default_graphs(endpoint, reply, "POST")


def _named_graphs_query(endpoint: Endpoint) -> str:
    a, b = endpoint.release(SLUG_A), endpoint.release(SLUG_B)
    return f"ASK {{ GRAPH ?g1 {{ <{a}> a ?type }} GRAPH ?g2 {{ <{b}> a ?type }} }}"


def _check_named_graphs(endpoint: Endpoint, method: str) -> None:
    named = [
        ("named-graph-uri", endpoint.graph(SLUG_A)),
        ("named-graph-uri", endpoint.graph(SLUG_B)),
    ]
    reply = endpoint.query(_named_graphs_query(endpoint), named, method=method)
    assert reply.status == 200, reply
    assert parse_results(reply).boolean is True, reply
    graphs = endpoint.select(
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", named, method=method
    )
    assert graphs.strings("g") == {endpoint.graph(SLUG_A), endpoint.graph(SLUG_B)}
    assert not endpoint.ask(_named_graphs_query(endpoint), named[:1], method=method)


def test_query_dataset_named_graphs_post(endpoint: Endpoint) -> None:
    """POST query with protocol-specified named graphs"""
    _check_named_graphs(endpoint, "POST")


def test_query_dataset_named_graphs_get(endpoint: Endpoint) -> None:
    """GET query with protocol-specified named graphs"""
    _check_named_graphs(endpoint, "GET")


def test_named_graph_uri_alone_leaves_the_default_graph_empty(
    endpoint: Endpoint,
) -> None:
    """(extra) A protocol dataset with named graphs only has an empty default graph
    (SPARQL 1.1 Query 13.2: FROM NAMED without FROM), not the union of all graphs."""
    named = [("named-graph-uri", endpoint.graph(SLUG_A))]
    assert not endpoint.ask("ASK { ?s ?p ?o }", named)
    assert endpoint.ask("ASK { GRAPH ?g { ?s ?p ?o } }", named)


def test_query_dataset_full(endpoint: Endpoint) -> None:
    """query with protocol-specified dataset (both named and default graphs)"""
    a, b = endpoint.release(SLUG_A), endpoint.release(SLUG_B)
    dataset = [
        ("default-graph-uri", endpoint.catalog),
        ("named-graph-uri", endpoint.graph(SLUG_A)),
        ("named-graph-uri", endpoint.graph(SLUG_B)),
    ]
    query = f"""ASK {{
  ?record foaf:primaryTopic <{a}> .
  GRAPH ?g1 {{ <{a}> a ?type }}
  GRAPH ?g2 {{ <{b}> a ?type }}
}}"""
    assert endpoint.ask(query, dataset)
    found = endpoint.select(
        """SELECT ?g ?slug WHERE {
  ?record foaf:primaryTopic ?release ; pub:slug ?slug .
  GRAPH ?g { ?release a pub:Release }
}""",
        dataset,
    )
    assert {(str(r["g"]), str(r["slug"])) for r in found.rows} == {
        (endpoint.graph(SLUG_A), SLUG_A),
        (endpoint.graph(SLUG_B), SLUG_B),
    }
    # the default graph is the catalogue alone: releases are typed in their graphs
    assert not endpoint.ask("ASK { ?release a pub:Release }", dataset)
    assert endpoint.ask("ASK { ?record foaf:primaryTopic ?release }", dataset)


def test_query_multiple_dataset(endpoint: Endpoint) -> None:
    """query specifying dataset in both query string and protocol; test for use of
    protocol-specified dataset"""
    # (The manifest's request URL encodes its '&' inside a single named-graph-uri
    # value; this sends the two parameters the test means.)
    a, b = endpoint.release(SLUG_A), endpoint.release(SLUG_B)
    named = [
        ("named-graph-uri", endpoint.graph(SLUG_A)),
        ("named-graph-uri", endpoint.graph(SLUG_B)),
    ]
    query = (
        f"ASK FROM <{endpoint.catalog}> FROM NAMED <{endpoint.graph(SLUG_C)}> "
        f"{{ GRAPH ?g1 {{ <{a}> a ?type }} GRAPH ?g2 {{ <{b}> a ?type }} }}"
    )
    reply = endpoint.query(query, named, accept=None)
    assert reply.status == 200, reply
    assert reply.media_type in (RESULTS_XML, RESULTS_JSON), reply
    assert parse_results(reply).boolean is True
    # default graph: the protocol's release graph, not the query's FROM <catalog>
    found = endpoint.select(
        f"SELECT ?slug FROM <{endpoint.catalog}> FROM NAMED <{endpoint.catalog}> "  # noqa: S608
        "WHERE { ?r a pub:Release ; pub:slug ?slug }",
        [("default-graph-uri", endpoint.graph(SLUG_C))],
    )
    assert found.strings("slug") == {SLUG_C}


def test_query_content_type_select(endpoint: Endpoint) -> None:
    """query appropriate content type (expect one of: XML, JSON, CSV, TSV)"""
    reply = endpoint.send(
        "POST", DATA0_PARAM, b"SELECT (1 AS ?value) {}", {"Content-Type": QUERY_TYPE}
    )
    assert reply.status == 200, reply
    # any of the four would do for the suite; with no Accept, the endpoint
    # promises XML or JSON
    assert reply.media_type in (RESULTS_XML, RESULTS_JSON), reply
    found = parse_results(reply)
    assert found.variables == ["value"]
    assert found.rows == [{"value": Literal(1)}]


def _check_select_value(reply: Reply, media_type: str) -> None:
    assert reply.status == 200, reply
    assert reply.media_type == media_type, reply
    found = parse_results(reply)
    assert found.variables == ["value"]
    expected: Any = "1" if media_type == CSV else Literal(1)
    assert found.rows == [{"value": expected}]


@pytest.mark.parametrize("media_type", list(RESULT_FORMATS.values()))
def test_query_content_type_select_by_accept(
    endpoint: Endpoint, media_type: str
) -> None:
    """(extra) SELECT results in each format asked for by Accept."""
    reply = endpoint.query("SELECT (1 AS ?value) {}", accept=media_type)
    _check_select_value(reply, media_type)


@pytest.mark.parametrize("name", list(RESULT_FORMATS))
def test_query_content_type_select_by_format(endpoint: Endpoint, name: str) -> None:
    """(extra) SELECT results in each format asked for by ?format=."""
    reply = endpoint.send(
        "GET", [("query", "SELECT (1 AS ?value) {}"), ("format", name)]
    )
    _check_select_value(reply, RESULT_FORMATS[name])


def test_select_bindings_keep_their_terms(endpoint: Endpoint) -> None:
    """(extra) IRIs, typed and plain literals come back as such in JSON and XML."""
    query = (
        f"SELECT ?r ?slug (COUNT(*) AS ?n) WHERE {{ ?r pub:slug ?slug "
        f'FILTER(?slug = "{SLUG_A}") ?r a pub:Release }} GROUP BY ?r ?slug'
    )
    for media_type in (RESULTS_JSON, RESULTS_XML):
        found = endpoint.select(query, accept=media_type)
        assert found.variables == ["r", "slug", "n"]
        (row,) = found.rows
        assert row["r"] == URIRef(endpoint.release(SLUG_A))
        assert isinstance(row["slug"], Literal)
        assert str(row["slug"]) == SLUG_A
        assert row["n"] == Literal(1)


def test_query_content_type_ask(endpoint: Endpoint) -> None:
    """query appropriate content type (expect one of: XML, JSON)"""
    reply = endpoint.send("POST", DATA0_PARAM, b"ASK {}", {"Content-Type": QUERY_TYPE})
    assert reply.status == 200, reply
    assert reply.media_type in (RESULTS_XML, RESULTS_JSON), reply
    assert parse_results(reply).boolean is True


@pytest.mark.parametrize("media_type", [RESULTS_JSON, RESULTS_XML])
def test_query_content_type_ask_by_accept(endpoint: Endpoint, media_type: str) -> None:
    """(extra) ASK results in each boolean format asked for by Accept."""
    a = endpoint.release(SLUG_A)
    for query, expected in (
        (f"ASK {{ <{a}> ?p ?o }}", True),
        ("ASK { ?s ?p 0.5 }", False),
    ):
        reply = endpoint.query(query, accept=media_type)
        assert reply.status == 200, reply
        assert reply.media_type == media_type, reply
        assert parse_results(reply).boolean is expected


def test_query_content_type_describe(endpoint: Endpoint) -> None:
    """query appropriate content type (expect one of: RDF/XML, Turtle, N-Triples,
    RDFa)"""
    reply = endpoint.send(
        "POST",
        DATA0_PARAM,
        b"DESCRIBE <http://example.org/>",
        {"Content-Type": QUERY_TYPE},
    )
    assert reply.status == 200, reply
    # with no Accept, the endpoint promises Turtle or RDF/XML
    assert reply.media_type in (TURTLE, RDF_XML), reply
    graph = parse_graph(reply, endpoint.base)
    assert set(graph.subjects()) <= {URIRef("http://example.org/")}


@pytest.mark.parametrize("media_type", list(GRAPH_TYPES))
def test_query_content_type_describe_by_accept(
    endpoint: Endpoint, media_type: str
) -> None:
    """(extra) DESCRIBE of a release in each graph format asked for by Accept."""
    release = URIRef(endpoint.release(SLUG_A))
    reply = endpoint.query(f"DESCRIBE <{release}>", accept=media_type)
    assert reply.status == 200, reply
    assert reply.media_type == media_type, reply
    graph = parse_graph(reply, endpoint.base)
    assert (release, RDF.type, URIRef(PUB + "Release")) in graph
    assert {str(o) for o in graph.objects(release, URIRef(PUB + "slug"))} == {SLUG_A}


def _constructed(endpoint: Endpoint) -> set[tuple[Node, Node, Node]]:
    """``CONSTRUCT { <s> <p> 1 }``: relative IRIs resolved against the endpoint."""
    return {(URIRef(endpoint.base + "/s"), URIRef(endpoint.base + "/p"), Literal(1))}


def test_query_content_type_construct(endpoint: Endpoint) -> None:
    """query appropriate content type (expect one of: RDF/XML, Turtle, N-Triples,
    RDFa)"""
    reply = endpoint.send(
        "POST",
        DATA0_PARAM,
        b"CONSTRUCT { <s> <p> 1 } WHERE {}",
        {"Content-Type": QUERY_TYPE},
    )
    assert reply.status == 200, reply
    assert reply.media_type in (TURTLE, RDF_XML), reply
    assert set(parse_graph(reply, endpoint.base)) == _constructed(endpoint)


@pytest.mark.parametrize("media_type", list(GRAPH_TYPES))
def test_query_content_type_construct_by_accept(
    endpoint: Endpoint, media_type: str
) -> None:
    """(extra) CONSTRUCT results in each graph format asked for by Accept."""
    reply = endpoint.query("CONSTRUCT { <s> <p> 1 } WHERE {}", accept=media_type)
    assert reply.status == 200, reply
    assert reply.media_type == media_type, reply
    assert set(parse_graph(reply, endpoint.base)) == _constructed(endpoint)


@pytest.mark.parametrize("name", list(GRAPH_FORMATS))
def test_query_content_type_construct_by_format(endpoint: Endpoint, name: str) -> None:
    """(extra) CONSTRUCT results in each graph format asked for by ?format=."""
    text = "CONSTRUCT { <s> <p> 1 } WHERE {}"
    reply = endpoint.send("GET", [("query", text), ("format", name)])
    assert reply.status == 200, reply
    assert reply.media_type == GRAPH_FORMATS[name], reply
    assert set(parse_graph(reply, endpoint.base)) == _constructed(endpoint)


def test_accept_any_gives_the_default_formats(endpoint: Endpoint) -> None:
    """(extra) ``Accept: */*``: results as SPARQL XML/JSON, graphs as Turtle/RDF-XML."""
    reply = endpoint.query("SELECT (1 AS ?value) {}", accept="*/*")
    assert reply.status == 200, reply
    assert reply.media_type in (RESULTS_XML, RESULTS_JSON), reply
    assert parse_results(reply).rows == [{"value": Literal(1)}]
    reply = endpoint.query("CONSTRUCT { <s> <p> 1 } WHERE {}", accept="*/*")
    assert reply.status == 200, reply
    assert reply.media_type in (TURTLE, RDF_XML), reply
    assert set(parse_graph(reply, endpoint.base)) == _constructed(endpoint)


def test_accept_quality_values_are_honoured(endpoint: Endpoint) -> None:
    """(extra) The type with the highest q wins."""
    accept = f"{RESULTS_XML};q=0.4, {RESULTS_JSON};q=0.9, {CSV};q=0.1"
    reply = endpoint.query("SELECT (1 AS ?value) {}", accept=accept)
    _check_select_value(reply, RESULTS_JSON)
    accept = f"{TURTLE};q=0.2, application/n-triples"
    reply = endpoint.query("CONSTRUCT { <s> <p> 1 } WHERE {}", accept=accept)
    assert reply.media_type == "application/n-triples", reply


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ("SELECT (1 AS ?value) {}", TURTLE),
        ("ASK {}", "application/n-triples"),
        ("CONSTRUCT { <s> <p> 1 } WHERE {}", RESULTS_JSON),
        ("DESCRIBE <http://example.org/>", CSV),
    ],
)
def test_accept_nothing_the_result_can_be_is_406(
    endpoint: Endpoint, query: str, accept: str
) -> None:
    """(extra) Asking only for a type the result cannot take: 406 Not Acceptable."""
    reply = endpoint.query(query, accept=accept)
    assert reply.status == 406, reply


def test_service_description(endpoint: Endpoint) -> None:
    """(extra) GET without a query: the service description (RDF), not an error."""
    reply = endpoint.send("GET", headers={"Accept": TURTLE})
    assert reply.status == 200, reply
    graph = parse_graph(reply, endpoint.base)
    services = set(graph.subjects(RDF.type, URIRef(SD + "Service")))
    assert services, reply
    endpoints = {o for s in services for o in graph.objects(s, URIRef(SD + "endpoint"))}
    assert URIRef(endpoint.url) in endpoints, reply


# --- positive update tests (shared server, own graphs) -------------------------------


def _subjects_in(endpoint: Endpoint, graph: str) -> set[str]:
    found = endpoint.select(
        f"SELECT ?s WHERE {{ GRAPH <{graph}> {{ ?s a dc:BibliographicResource }} }}",
        accept=RESULTS_XML,
    )
    return found.strings("s")


def _documents(*graphs: str) -> str:
    """DROP the graphs, then one foaf:Document in each, named as its graph."""
    drops = "".join(f"DROP SILENT GRAPH <{g}> ;\n" for g in graphs)
    inserts = "\n".join(f"  GRAPH <{g}> {{ <{g}> a foaf:Document }}" for g in graphs)
    return f"{drops}INSERT DATA {{\n{inserts}\n}} ;\n"


def test_update_dataset_default_graph(endpoint: Endpoint) -> None:
    """update with protocol-specified default graph"""
    here = TEST_GRAPHS + "update-dataset-default-graph/"
    data1, data2, result = here + "data1", here + "data2", here + "result"
    with dropped_after(endpoint, data1, data2, result):
        reply = endpoint.update(
            PREFIXES
            + f"DROP SILENT GRAPH <{result}> ;\n"
            + _documents(data1, data2)
            + f"INSERT {{ GRAPH <{result}> {{ ?s a dc:BibliographicResource }} }}\n"
            + "WHERE { ?s a foaf:Document }",
            [("using-graph-uri", data1)],
        )
        assert_2xx(reply)
        assert endpoint.ask(
            f"ASK {{ GRAPH <{result}> {{ <{data1}> a dc:BibliographicResource }} }}",
            accept=RESULTS_XML,
        )
        # data2 was not in the WHERE clause's default graph
        assert _subjects_in(endpoint, result) == {data1}


def test_update_dataset_default_graphs(endpoint: Endpoint) -> None:
    """update with protocol-specified default graphs"""
    here = TEST_GRAPHS + "update-dataset-default-graphs/"
    data1, data2, data3 = here + "data1", here + "data2", here + "data3"
    result = here + "result"
    with dropped_after(endpoint, data1, data2, data3, result):
        reply = endpoint.update(
            PREFIXES
            + f"DROP SILENT GRAPH <{result}> ;\n"
            + _documents(data1, data2, data3)
            + f"INSERT {{ GRAPH <{result}> {{ ?s a dc:BibliographicResource }} }}\n"
            + "WHERE { ?s a foaf:Document }",
            [("using-graph-uri", data1), ("using-graph-uri", data2)],
        )
        assert_2xx(reply)
        assert endpoint.ask(
            f"""ASK {{
  GRAPH <{result}> {{
    <{data1}> a dc:BibliographicResource . <{data2}> a dc:BibliographicResource .
  }}
  FILTER NOT EXISTS {{ GRAPH <{result}> {{ <{data3}> a dc:BibliographicResource }} }}
}}""",
            accept=RESULTS_XML,
        )
        assert _subjects_in(endpoint, result) == {data1, data2}


def test_update_dataset_named_graphs(endpoint: Endpoint) -> None:
    """update with protocol-specified named graphs"""
    here = TEST_GRAPHS + "update-dataset-named-graphs/"
    data1, data2, data3 = here + "data1", here + "data2", here + "data3"
    result = here + "result"
    with dropped_after(endpoint, data1, data2, data3, result):
        reply = endpoint.update(
            PREFIXES
            + f"DROP SILENT GRAPH <{result}> ;\n"
            + _documents(data1, data2, data3)
            + f"INSERT {{ GRAPH <{result}> {{ ?s a dc:BibliographicResource }} }}\n"
            + "WHERE { GRAPH ?g { ?s a foaf:Document } }",
            [("using-named-graph-uri", data1), ("using-named-graph-uri", data2)],
        )
        assert_2xx(reply)
        assert endpoint.ask(
            f"""ASK {{
  GRAPH <{result}> {{
    <{data1}> a dc:BibliographicResource . <{data2}> a dc:BibliographicResource .
  }}
  FILTER NOT EXISTS {{ GRAPH <{result}> {{ <{data3}> a dc:BibliographicResource }} }}
}}""",
            accept=RESULTS_XML,
        )
        assert _subjects_in(endpoint, result) == {data1, data2}


def test_update_dataset_full(endpoint: Endpoint) -> None:
    """update with protocol-specified dataset (both named and default graphs)"""
    here = TEST_GRAPHS + "update-dataset-full/"
    data1, data2, data3 = here + "data1", here + "data2", here + "data3"
    result = here + "result"
    with dropped_after(endpoint, data1, data2, data3, result):
        reply = endpoint.update(
            PREFIXES
            + f"DROP SILENT GRAPH <{result}> ;\n"
            + _documents(data1, data2, data3)
            + f"INSERT {{ GRAPH <{result}> {{ ?s <http://example.org/in> ?in }} }}\n"
            + """WHERE {
  { GRAPH ?g { ?s a foaf:Document } BIND(?g AS ?in) }
  UNION
  { ?s a foaf:Document . BIND("default" AS ?in) }
}""",
            [("using-graph-uri", data1), ("using-named-graph-uri", data2)],
        )
        assert_2xx(reply)
        assert endpoint.ask(
            f"""ASK {{
  GRAPH <{result}> {{
    <{data1}> <http://example.org/in> "default" .
    <{data2}> <http://example.org/in> <{data2}> .
  }}
  FILTER NOT EXISTS {{ GRAPH <{result}> {{ <{data3}> ?p ?o }} }}
}}""",
            accept=RESULTS_XML,
        )
        found = endpoint.select(
            f"SELECT ?s ?in WHERE {{ GRAPH <{result}> {{ ?s ?p ?in }} }}"
        )
        assert {(str(r["s"]), str(r["in"])) for r in found.rows} == {
            (data1, "default"),
            (data2, data2),
        }


def test_update_post_form(scratch: Endpoint) -> None:
    """update via URL-encoded POST"""
    scratch.updated(f"INSERT DATA {{ {MARKERS} }}")
    reply = scratch.send(
        "POST", (), b"update=CLEAR+ALL", {**AUTH, "Content-Type": FORM}
    )
    assert_2xx(reply)
    # (the server rewrites its own catalogue graph after every update, so the
    # store is not empty afterwards: the test's triples are what must be gone)
    assert not scratch.ask("ASK { ?s <urn:marker:p> ?o }")
    assert not scratch.ask("ASK { GRAPH ?g { ?s <urn:marker:p> ?o } }")


def test_update_post_direct(scratch: Endpoint) -> None:
    """update via POST directly"""
    scratch.updated(f"INSERT DATA {{ {MARKERS} }}")
    reply = scratch.send(
        "POST", (), b"CLEAR ALL", {**AUTH, "Content-Type": UPDATE_TYPE}
    )
    assert_2xx(reply)
    # (the server rewrites its own catalogue graph after every update, so the
    # store is not empty afterwards: the test's triples are what must be gone)
    assert not scratch.ask("ASK { ?s <urn:marker:p> ?o }")
    assert not scratch.ask("ASK { GRAPH ?g { ?s <urn:marker:p> ?o } }")


def test_update_post_form_keeps_the_sample(endpoint: Endpoint) -> None:
    """(extra) A form update on the served sample changes its graph and nothing else."""
    graph = TEST_GRAPHS + "update-post-form"
    with dropped_after(endpoint, graph):
        reply = endpoint.update(
            f'INSERT DATA {{ GRAPH <{graph}> {{ <urn:s> <urn:p> "form" }} }}', form=True
        )
        assert_2xx(reply)
        assert endpoint.ask(f'ASK {{ GRAPH <{graph}> {{ <urn:s> <urn:p> "form" }} }}')
        reply = endpoint.update(f"CLEAR GRAPH <{graph}>", form=True)
        assert_2xx(reply)
        assert not endpoint.ask(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        assert len(slugs(endpoint)) == RELEASES


def test_update_base_uri(endpoint: Endpoint) -> None:
    """test for service-defined BASE URI ("which MAY be the service endpoint")"""
    graph = TEST_GRAPHS + "base-uri/"
    with dropped_after(endpoint, graph):
        # the graph exists before the suite's CLEAR GRAPH (not SILENT)
        endpoint.updated(
            f"INSERT DATA {{ GRAPH <{graph}> {{ <http://example.org/s> "
            "<http://example.org/p> <http://example.org/stale> } }"
        )
        reply = endpoint.update(
            f"CLEAR GRAPH <{graph}> ;\n"
            f"INSERT DATA {{ GRAPH <{graph}> {{ <http://example.org/s> "
            "<http://example.org/p> <test> } }"
        )
        assert_2xx(reply)
        reply = endpoint.query(
            f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ <http://example.org/s> "
            "<http://example.org/p> ?o } }",
            accept=RESULTS_XML,
        )
        assert reply.status == 200, reply
        assert reply.media_type == RESULTS_XML, reply
        found = parse_results(reply)
        (o,) = found.column("o")
        assert isinstance(o, URIRef)
        assert o != URIRef("test")
        # the endpoint's base: the endpoint URL itself
        assert o == URIRef(endpoint.base + "/test")


# --- updates: tokens ----------------------------------------------------------------


def test_update_without_a_token_is_401(endpoint: Endpoint) -> None:
    """(extra) An update without a bearer token: 401 with a Bearer challenge."""
    graph = TEST_GRAPHS + "no-token"
    with dropped_after(endpoint, graph):
        reply = endpoint.update(
            f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:s> <urn:p> 1 }} }}", headers={}
        )
        assert reply.status == 401, reply
        assert (reply.headers.get("WWW-Authenticate") or "").startswith("Bearer"), reply
        assert reply.headers.get("Access-Control-Allow-Origin") == "*", reply
        assert not endpoint.ask(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")


@pytest.mark.parametrize("form", [False, True])
def test_update_with_a_wrong_token_is_403(endpoint: Endpoint, form: bool) -> None:
    """(extra) An update with a token the server does not know: 403."""
    graph = TEST_GRAPHS + "wrong-token"
    with dropped_after(endpoint, graph):
        reply = endpoint.update(
            f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:s> <urn:p> 1 }} }}",
            form=form,
            headers={"Authorization": "Bearer not-" + ADMIN_TOKEN},
        )
        assert reply.status == 403, reply
        assert not endpoint.ask(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")


# --- negative query tests -----------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_bad_query_method(endpoint: Endpoint, method: str) -> None:
    """invoke query operation with a method other than GET or POST"""
    reply = endpoint.send(
        method, "query=ASK%20%7B%7D&" + DATA0_PARAM, b"", {"Content-Type": FORM}
    )
    assert reply.status == 405, reply
    allowed = {m.strip().upper() for m in (reply.headers.get("Allow") or "").split(",")}
    assert {"GET", "POST"} <= allowed, reply.headers.get("Allow")
    assert method not in allowed


def test_bad_multiple_queries(endpoint: Endpoint) -> None:
    """invoke query operation with more than one query string"""
    reply = endpoint.send("GET", "query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D")
    assert reply.status == 400, reply
    reply = endpoint.send(
        "POST",
        (),
        b"query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D",
        {"Content-Type": FORM},
    )
    assert reply.status == 400, reply


def test_bad_query_and_update_together(marked: Endpoint) -> None:
    """(extra) A form with both a query and an update: 400, and nothing is run."""
    reply = marked.send(
        "POST",
        (),
        b"query=ASK%20%7B%7D&update=CLEAR%20ALL",
        {**AUTH, "Content-Type": FORM},
    )
    assert reply.status == 400, reply


def test_bad_query_wrong_media_type(endpoint: Endpoint) -> None:
    """invoke query operation with a POST with media type that's not url-encoded or
    application/sparql-query"""
    reply = endpoint.send("POST", (), b"ASK {}", {"Content-Type": "text/plain"})
    assert reply.status == 415, reply


def test_bad_query_missing_form_type(endpoint: Endpoint) -> None:
    """invoke query operation with url-encoded body, but without
    application/x-www-form-urlencoded media type"""
    reply = endpoint.raw("POST", (), b"query=ASK%20%7B%7D", {})
    assert 400 <= reply.status < 500, reply
    assert reply.status == 415, reply


def test_bad_query_missing_direct_type(endpoint: Endpoint) -> None:
    """invoke query operation with SPARQL body, but without application/sparql-query
    media type"""
    reply = endpoint.raw("POST", (), b"ASK {}", {})
    assert 400 <= reply.status < 500, reply
    assert reply.status == 415, reply


def test_bad_query_non_utf8(endpoint: Endpoint) -> None:
    """invoke query operation with direct POST, but with a non-UTF8 encoding (UTF-16)"""
    body = "ASK {}".encode("utf-16")  # with a byte order mark, as in the suite
    assert body.startswith((b"\xff\xfe", b"\xfe\xff"))
    reply = endpoint.send(
        "POST", (), body, {"Content-Type": QUERY_TYPE + "; charset=UTF-16"}
    )
    # The suite asks for a 4XX; a charset other than UTF-8 is an unsupported
    # media type here (415), and bytes that are not UTF-8 are 400 (next test).
    assert reply.status == 415, reply
    assert b"UTF-8" in reply.body


def test_bad_query_non_utf8_bytes(endpoint: Endpoint) -> None:
    """(extra) A body labelled UTF-8 that is not UTF-8 (Latin-1): 400."""
    body = 'ASK { ?s ?p "caf\u00e9" }'.encode("latin-1")
    reply = endpoint.send("POST", (), body, {"Content-Type": QUERY_TYPE})
    assert reply.status == 400, reply


def test_bad_query_syntax(endpoint: Endpoint) -> None:
    """invoke query operation with invalid query syntax (4XX result)"""
    reply = endpoint.send("GET", "query=ASK%20%7B")
    assert_plain_error(reply, 400)


# --- negative update tests ----------------------------------------------------------


def test_bad_update_get(marked: Endpoint) -> None:
    """invoke update operation with GET"""
    reply = marked.send("GET", "update=CLEAR%20ALL", headers=AUTH)
    assert reply.status == 400, reply
    assert b"POST" in reply.body


def test_bad_multiple_updates(marked: Endpoint) -> None:
    """invoke update operation with more than one update string"""
    reply = marked.send(
        "POST",
        (),
        b"update=CLEAR%20NAMED&update=CLEAR%20DEFAULT",
        {**AUTH, "Content-Type": FORM},
    )
    assert reply.status == 400, reply


def test_bad_update_wrong_media_type(marked: Endpoint) -> None:
    """invoke update operation with a POST with media type that's not url-encoded or
    application/sparql-update"""
    reply = marked.send(
        "POST", (), b"CLEAR NAMED", {**AUTH, "Content-Type": "text/plain"}
    )
    assert reply.status == 415, reply


def test_bad_update_missing_form_type(marked: Endpoint) -> None:
    """invoke update operation with url-encoded body, but without
    application/x-www-form-urlencoded media type"""
    reply = marked.raw("POST", (), b"update=CLEAR%20NAMED", dict(AUTH))
    assert 400 <= reply.status < 500, reply
    assert reply.status == 415, reply


def test_bad_update_non_utf8(marked: Endpoint) -> None:
    """invoke update operation with direct POST, but with a non-UTF8 encoding"""
    body = "CLEAR NAMED".encode("utf-16")  # with a byte order mark, as in the suite
    reply = marked.send(
        "POST", (), body, {**AUTH, "Content-Type": UPDATE_TYPE + "; charset=UTF-16"}
    )
    assert reply.status == 415, reply  # as test_bad_query_non_utf8


def test_bad_update_syntax(marked: Endpoint) -> None:
    """invoke update operation with invalid update syntax"""
    reply = marked.send(
        "POST", (), b"update=CLEAR%20XYZ", {**AUTH, "Content-Type": FORM}
    )
    assert_plain_error(reply, 400)


_PEOPLE = "http://example/people"
#: (protocol parameter, update text with {g} for the graph the update works on)
_CONFLICTS = {
    "suite: using-named-graph-uri + WITH": (
        "using-named-graph-uri",
        """PREFIX foaf:  <http://xmlns.com/foaf/0.1/>
WITH <{g}>
DELETE {{ ?person foaf:givenName 'Bill' }}
INSERT {{ ?person foaf:givenName 'William' }}
WHERE {{
    ?person foaf:givenName 'Bill'
}}""",
    ),
    "using-graph-uri + WITH": (
        "using-graph-uri",
        """PREFIX foaf:  <http://xmlns.com/foaf/0.1/>
WITH <{g}>
DELETE {{ ?person foaf:givenName 'Bill' }}
INSERT {{ ?person foaf:givenName 'William' }}
WHERE {{ ?person foaf:givenName 'Bill' }}""",
    ),
    "using-graph-uri + USING": (
        "using-graph-uri",
        """PREFIX foaf:  <http://xmlns.com/foaf/0.1/>
DELETE {{ GRAPH <{g}> {{ ?person foaf:givenName 'Bill' }} }}
INSERT {{ GRAPH <{g}> {{ ?person foaf:givenName 'William' }} }}
USING <{g}>
WHERE {{ ?person foaf:givenName 'Bill' }}""",
    ),
    "using-named-graph-uri + USING NAMED": (
        "using-named-graph-uri",
        """PREFIX foaf:  <http://xmlns.com/foaf/0.1/>
DELETE {{ GRAPH <{g}> {{ ?person foaf:givenName 'Bill' }} }}
INSERT {{ GRAPH <{g}> {{ ?person foaf:givenName 'William' }} }}
USING NAMED <{g}>
WHERE {{ GRAPH <{g}> {{ ?person foaf:givenName 'Bill' }} }}""",
    ),
}


@pytest.mark.parametrize("form", [False, True], ids=["direct", "form"])
@pytest.mark.parametrize("conflict", list(_CONFLICTS))
def test_bad_update_dataset_conflict(
    endpoint: Endpoint, conflict: str, form: bool
) -> None:
    """invoke update with both using-graph-uri/using-named-graph-uri parameter and
    USING/WITH clause"""
    parameter, text = _CONFLICTS[conflict]
    addresses = TEST_GRAPHS + "dataset-conflict/addresses"
    bill = f"GRAPH <{addresses}> {{ <urn:person:bill> foaf:givenName 'Bill' }}"
    with dropped_after(endpoint, addresses):
        endpoint.updated(f"INSERT DATA {{ {bill} }}")
        reply = endpoint.update(
            text.format(g=addresses), [(parameter, _PEOPLE)], form=form
        )
        assert reply.status == 400, reply
        assert endpoint.ask(f"ASK {{ {bill} }}"), "the refused update ran"
        assert not endpoint.ask("ASK { GRAPH ?g { ?p foaf:givenName 'William' } }")


# --- CORS -----------------------------------------------------------------------------


def test_cors_on_query_results(endpoint: Endpoint) -> None:
    """(extra) Query results may be read by scripts from any origin."""
    for method in ("GET", "POST"):
        reply = endpoint.query("ASK {}", method=method)
        assert reply.status == 200, reply
        assert reply.headers.get("Access-Control-Allow-Origin") == "*", reply


def test_cors_on_errors(endpoint: Endpoint) -> None:
    """(extra) So are error responses (a script can show the parser's message)."""
    for reply in (
        endpoint.send("GET", "query=ASK%20%7B"),
        endpoint.send("POST", (), b"ASK {}", {"Content-Type": "text/plain"}),
        endpoint.query("SELECT (1 AS ?value) {}", accept=TURTLE),
    ):
        assert 400 <= reply.status < 500, reply
        assert reply.headers.get("Access-Control-Allow-Origin") == "*", reply


def _preflight(endpoint: Endpoint, headers: str) -> Reply:
    return endpoint.send(
        "OPTIONS",
        headers={
            "Origin": "https://elsewhere.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": headers,
        },
    )


def test_cors_preflight(endpoint: Endpoint) -> None:
    """(extra) OPTIONS preflight: 200/204 with the methods a script may use."""
    reply = _preflight(endpoint, "content-type")
    assert reply.status in (200, 204), reply
    methods = reply.headers.get("Access-Control-Allow-Methods") or ""
    allowed = {m.strip().upper() for m in methods.split(",")}
    assert {"GET", "POST"} <= allowed, methods
    origin = reply.headers.get("Access-Control-Allow-Origin")
    assert origin in ("*", "https://elsewhere.example"), reply


def test_cors_preflight_allows_a_content_type(endpoint: Endpoint) -> None:
    """(extra) application/sparql-query is not a CORS-safelisted type: the preflight
    must allow the Content-Type header, or browsers never send the POST."""
    reply = _preflight(endpoint, "content-type")
    assert reply.status in (200, 204), reply
    headers = reply.headers.get("Access-Control-Allow-Headers") or ""
    allowed = {h.strip().lower() for h in headers.split(",")}
    assert "content-type" in allowed or "*" in allowed, headers
