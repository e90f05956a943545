"""The SPARQL endpoint through Flask's test client: results, the row cap, the cache,
the service description, updates with their tokens, history and index, and the
same endpoint over a remote store (a real ``oxigraph serve``).

The protocol itself is checked over real HTTP in test_sparql_protocol.py, the
limits (timeout, concurrency, SERVICE/LOAD, CORS) and SPARQLWrapper in
test_sparql_e2e.py.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import threading
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, Literal, Namespace, URIRef

from publisher.model import Release
from publisher.sparql import EXAMPLES, SparqlService
from publisher.store import catalog
from publisher.store.sparql import RemoteStore

from .apps import PUBLISH_TOKEN, AppFactory
from .oxigraph_server import OxigraphProcess, settings_for
from .publisher_server import ADMIN_TOKEN

SLUG = "labour-market-overview-uk-september-2026"
ADMIN = ADMIN_TOKEN
PUBLISH = PUBLISH_TOKEN
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
PROV = Namespace("http://www.w3.org/ns/prov#")
PUB = Namespace("https://w3id.org/release-publisher/ns#")
SLUGS = "PREFIX pub: <https://w3id.org/release-publisher/ns#>\n" + (
    "SELECT ?slug WHERE { ?r a pub:Release ; pub:slug ?slug } ORDER BY ?slug"
)


def _json(client: FlaskClient, query: str, **params: str) -> dict:
    reply = client.get(
        "/sparql",
        query_string={"query": query, **params},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert reply.status_code == 200, reply.data
    data: dict = reply.get_json(force=True)
    return data


def _slugs(client: FlaskClient) -> list[str]:
    rows = _json(client, SLUGS)["results"]["bindings"]
    return [r["slug"]["value"] for r in rows]


# Results ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mimetype"),
    [
        ("json", "application/sparql-results+json"),
        ("xml", "application/sparql-results+xml"),
        ("csv", "text/csv"),
        ("tsv", "text/tab-separated-values"),
    ],
)
def test_select_in_every_format_has_the_same_rows(
    client: FlaskClient, sample_releases: list[Release], fmt: str, mimetype: str
) -> None:
    expected = sorted(r.slug for r in sample_releases)
    by_param = client.get("/sparql", query_string={"query": SLUGS, "format": fmt})
    by_accept = client.get(
        "/sparql", query_string={"query": SLUGS}, headers={"Accept": mimetype}
    )
    for reply in (by_param, by_accept):
        assert reply.status_code == 200
        assert reply.mimetype == mimetype
    assert by_param.data == by_accept.data
    text = by_param.data.decode()
    if fmt == "json":
        values = [b["slug"]["value"] for b in json.loads(text)["results"]["bindings"]]
    elif fmt == "xml":
        values = [
            line.split("<literal>")[1].split("</literal>")[0]
            for line in text.replace("<result>", "\n<result>").splitlines()
            if "<literal>" in line
        ]
    elif fmt == "csv":
        values = [row[0] for row in csv.reader(io.StringIO(text))][1:]
    else:
        values = [line.strip('"') for line in text.splitlines()[1:]]
    assert values == expected


@pytest.mark.parametrize(
    ("fmt", "rdflib_format"),
    [
        ("turtle", "turtle"),
        ("ntriples", "nt"),
        ("nquads", "nquads"),
        ("rdfxml", "xml"),
        ("jsonld", "json-ld"),
    ],
)
def test_construct_in_every_format_is_the_release_graph(
    client: FlaskClient, app: Flask, fmt: str, rdflib_format: str
) -> None:
    query = (
        "PREFIX pub: <https://w3id.org/release-publisher/ns#>\n"
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{ ?r a pub:Release ; "
        f'pub:slug "{SLUG}" . '
        "?s ?p ?o } }"
    )
    reply = client.get("/sparql", query_string={"query": query, "format": fmt})
    assert reply.status_code == 200, reply.data
    got = Graph()
    if rdflib_format == "nquads":
        # valid N-Quads, every quad in the default graph (Oxigraph's parser)
        quads = list(ox.parse(reply.data, format=ox.RdfFormat.N_QUADS))
        assert all(isinstance(q.graph_name, ox.DefaultGraph) for q in quads)
        got.parse(data=reply.data, format="nt")
    else:
        got.parse(data=reply.data, format=rdflib_format)
    store = app.extensions["publisher"].store
    expected = Graph().parse(
        data=catalog.release_graph_ntriples(
            store, app.config["PUBLISHER_SETTINGS"], SLUG
        ),
        format="nt",
    )
    assert len(got) == len(expected) > 50
    assert set(got) == set(expected)


def test_defaults_without_accept(client: FlaskClient) -> None:
    select = client.get("/sparql", query_string={"query": SLUGS})
    assert select.mimetype == "application/sparql-results+xml"
    graph = client.get(
        "/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1"}
    )
    assert graph.mimetype == "text/turtle"
    assert Graph().parse(data=graph.data, format="turtle")


def test_406_when_the_format_does_not_fit(client: FlaskClient) -> None:
    reply = client.get("/sparql", query_string={"query": SLUGS, "format": "turtle"})
    assert reply.status_code == 406
    assert b"json, xml" in reply.data or b"xml, json" in reply.data
    reply = client.get(
        "/sparql", query_string={"query": SLUGS}, headers={"Accept": "image/png"}
    )
    assert reply.status_code == 406


def test_syntax_errors_are_400_with_the_clients_positions(client: FlaskClient) -> None:
    reply = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p }"})
    assert reply.status_code == 400
    assert reply.mimetype == "text/plain"
    message = reply.data.decode()
    assert message.startswith("SPARQL syntax error")
    assert "line 1, column 25" in message  # the client's text, not ours with BASE
    # a text that needs the full parse (it says "service") is placed the same way
    reply = client.get(
        "/sparql",
        query_string={"query": 'SELECT * WHERE {\n ?s ?p "service" ?o }'},
    )
    assert reply.status_code == 400
    assert "line:2" in reply.data.decode()


def test_relative_iris_resolve_against_the_endpoint(client: FlaskClient) -> None:
    data = _json(client, "SELECT ?x WHERE { BIND(<rel> AS ?x) }")
    assert data["results"]["bindings"][0]["x"]["value"] == "http://127.0.0.1:8000/rel"


def test_service_is_refused_before_anything_runs(client: FlaskClient) -> None:
    reply = client.get(
        "/sparql",
        query_string={
            "query": "SELECT * WHERE { OPTIONAL { service <http://127.0.0.1:9/> "
            "{ ?s ?p ?o } } }"
        },
    )
    assert reply.status_code == 400
    assert b"SERVICE is not allowed" in reply.data


def test_examples_all_run(client: FlaskClient) -> None:
    for example in EXAMPLES:
        fmt = "json" if "SELECT" in example.query else "ntriples"
        reply = client.get(
            "/sparql", query_string={"query": example.query, "format": fmt}
        )
        assert reply.status_code == 200, (example.name, reply.data)


# The row cap -----------------------------------------------------------------


def test_row_cap_cuts_and_says_so(
    make_app: AppFactory, sample_releases: list[Release]
) -> None:
    app = make_app(sample_releases[:5], query_max_rows="3")
    client = app.test_client()
    reply = client.get("/sparql", query_string={"query": SLUGS, "format": "json"})
    assert len(reply.get_json(force=True)["results"]["bindings"]) == 3
    assert reply.headers["X-SPARQL-MaxRows"] == "3"
    exact = SLUGS + " LIMIT 3"
    reply = client.get("/sparql", query_string={"query": exact, "format": "json"})
    assert len(reply.get_json(force=True)["results"]["bindings"]) == 3
    assert "X-SPARQL-MaxRows" not in reply.headers  # three rows, none cut
    construct = "CONSTRUCT WHERE { ?s ?p ?o }"
    reply = client.get(
        "/sparql", query_string={"query": construct, "format": "ntriples"}
    )
    assert len(Graph().parse(data=reply.data, format="nt")) == 3
    assert reply.headers["X-SPARQL-MaxRows"] == "3"
    page = client.get(
        "/sparql", query_string={"query": SLUGS}, headers={"Accept": "text/html"}
    )
    assert b"Cut at 3 rows" in page.data


# Caching ---------------------------------------------------------------------


def test_etag_304_and_the_cache(client: FlaskClient, app: Flask) -> None:
    query = SLUGS + " LIMIT 7"
    first = client.get("/sparql", query_string={"query": query, "format": "csv"})
    assert first.headers["X-Cache"] == "miss"
    tag = first.headers["ETag"]
    again = client.get(
        "/sparql",
        query_string={"query": query, "format": "csv"},
        headers={"If-None-Match": tag},
    )
    assert again.status_code == 304
    assert again.data == b""
    third = client.get("/sparql", query_string={"query": query, "format": "csv"})
    assert third.headers["X-Cache"] == "hit"
    assert third.data == first.data
    other = client.get("/sparql", query_string={"query": query, "format": "tsv"})
    assert other.headers["ETag"] != tag  # one ETag per format


def test_cache_is_bounded(make_app: AppFactory, sample_releases: list[Release]) -> None:
    app = make_app(sample_releases[:2], query_cache="2")
    service: SparqlService = app.extensions["publisher.sparql"]
    for n in range(5):
        service.query(f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {n + 1}")
    assert service.cached_entries() == 2


def test_answers_are_gzipped_once_with_their_own_etag(client: FlaskClient) -> None:
    query = {"query": SLUGS + " LIMIT 9", "format": "json"}
    plain = client.get("/sparql", query_string=query)
    zipped = client.get(
        "/sparql", query_string=query, headers={"Accept-Encoding": "gzip, br"}
    )
    assert zipped.headers["X-Cache"] == "hit"
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert "Content-Encoding" not in plain.headers
    assert gzip.decompress(zipped.data) == plain.data
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    refused = client.get(
        "/sparql", query_string=query, headers={"Accept-Encoding": "gzip;q=0"}
    )
    assert "Content-Encoding" not in refused.headers
    again = client.get(
        "/sparql",
        query_string=query,
        headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]},
    )
    assert again.status_code == 304
    other = client.get(  # the identity tag does not validate the gzip copy
        "/sparql",
        query_string=query,
        headers={"Accept-Encoding": "gzip", "If-None-Match": plain.headers["ETag"]},
    )
    assert other.status_code == 200


def test_identical_queries_arriving_together_run_once(
    make_app: AppFactory, sample_releases: list[Release]
) -> None:
    """One reader (query_concurrency 1, started by the first query): without
    the wait for the running twin, three of the four would be refused with 503."""
    app = make_app(sample_releases[:5], query_concurrency="1")
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"
    start = threading.Barrier(4)
    statuses: list[int] = []

    def ask() -> None:
        client = app.test_client()
        start.wait()
        reply = client.get("/sparql", query_string={"query": query, "format": "csv"})
        statuses.append(reply.status_code)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 4


# Service description ---------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/rdf+xml", "xml"),
        ("application/ld+json", "json-ld"),
        ("*/*", "turtle"),
    ],
)
def test_service_description(
    client: FlaskClient, app: Flask, accept: str, rdflib_format: str
) -> None:
    reply = client.get("/sparql", headers={"Accept": accept})
    assert reply.status_code == 200
    graph = Graph().parse(data=reply.data, format=rdflib_format)
    service = URIRef("http://127.0.0.1:8000/sparql#service")
    assert (service, SD.endpoint, URIRef("http://127.0.0.1:8000/sparql")) in graph
    languages = set(graph.objects(service, SD.supportedLanguage))
    assert languages == {SD.SPARQL11Query, SD.SPARQL11Update}
    assert (service, SD.feature, SD.UnionDefaultGraph) in graph
    formats = {
        str(f).rsplit("/", 1)[-1] for f in graph.objects(service, SD.resultFormat)
    }
    assert {"SPARQL_Results_JSON", "SPARQL_Results_XML", "Turtle", "JSON-LD"} <= formats
    dataset = graph.value(service, SD.defaultDataset)
    store = app.extensions["publisher"].store
    assert graph.value(dataset, VOID.triples) == Literal(store.count_quads())
    assert graph.value(dataset, VOID.entities) == Literal(52)


def test_query_page_for_people(client: FlaskClient) -> None:
    page = client.get("/sparql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    html = page.data.decode()
    assert '<textarea id="query" name="query"' in html
    for example in EXAMPLES:
        assert example.title in html
    results = client.get(
        "/sparql", query_string={"query": SLUGS}, headers={"Accept": "text/html"}
    )
    assert results.data.count(b"<tr>") == 53  # the header and 52 rows
    assert b"format=csv" in results.data


# Updates ---------------------------------------------------------------------


def _update(client: FlaskClient, text: str, token: str | None) -> object:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/sparql", data={"update": text}, headers=headers)


def test_updates_need_an_admin_token(client: FlaskClient) -> None:
    text = "INSERT DATA { GRAPH <http://example.org/t> { <http://a> <http://b> 1 } }"
    missing = client.post("/sparql", data={"update": text})
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.post(
        "/sparql", data={"update": text}, headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 403
    publish_only = client.post(
        "/sparql", data={"update": text}, headers={"Authorization": f"Bearer {PUBLISH}"}
    )
    assert publish_only.status_code == 403
    assert b"pipeline" in publish_only.data and b"admin" in publish_only.data
    basic = client.post(
        "/sparql", data={"update": text}, headers={"Authorization": f"Basic {ADMIN}"}
    )
    assert basic.status_code == 401
    assert _json(client, "ASK { <http://a> <http://b> 1 }")["boolean"] is False


def test_update_changes_a_release_the_index_and_history_follow(
    make_app: AppFactory, sample_releases: list[Release]
) -> None:
    app = make_app(sample_releases[:6])
    client = app.test_client()
    slug = sample_releases[0].slug
    page = client.get(f"/releases/{slug}")
    etag = page.headers["ETag"]
    graph = f"http://127.0.0.1:8000/graphs/releases/{slug}"
    release = f"http://127.0.0.1:8000/releases/{slug}#release"
    text = (
        "PREFIX schema: <http://schema.org/>\n"
        f"DELETE {{ GRAPH <{graph}> {{ <{release}> schema:name ?old }} }}\n"
        f"INSERT {{ GRAPH <{graph}> {{ <{release}> schema:name "
        '"Renamed by SPARQL" } }\n'
        f"WHERE {{ GRAPH <{graph}> {{ <{release}> schema:name ?old }} }}"
    )
    reply = client.post(
        "/sparql",
        data={"update": text},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert reply.status_code == 200, reply.data
    body = reply.get_json()
    assert body["changed"] == [slug] and body["by"] == "env-1"
    # the page, its ETag and the calendar follow the store
    page = client.get(f"/releases/{slug}")
    assert b"Renamed by SPARQL" in page.data
    assert page.headers["ETag"] != etag
    listing = client.get("/releases?view=all&q=Renamed")
    assert slug.encode() in listing.data
    # the history says who, when and what
    history = _json(
        client,
        "PREFIX prov: <http://www.w3.org/ns/prov#>\n"
        "PREFIX pub: <https://w3id.org/release-publisher/ns#>\n"
        "PREFIX foaf: <http://xmlns.com/foaf/0.1/>\n"
        "SELECT ?kind ?who ?when ?what ?text WHERE { "
        "GRAPH <http://127.0.0.1:8000/graphs/history> {"
        " ?c a pub:Change ; pub:changeKind ?kind ; prov:endedAtTime ?when ;"
        " pub:affects ?what ; pub:updateText ?text ;"
        " prov:wasAssociatedWith [ foaf:name ?who ] } }",
    )["results"]["bindings"]
    assert len(history) == 1
    row = {k: v["value"] for k, v in history[0].items()}
    assert row["kind"] == "sparql-update" and row["who"] == "env-1"
    assert row["what"] == release
    assert "Renamed by SPARQL" in row["text"]
    # dropping a release graph leaves a tombstone: 410 with the reason
    reply = client.post(
        "/sparql",
        data={"update": f"DROP GRAPH <{graph}>"},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert reply.get_json()["removed"] == [slug]
    gone = client.get(f"/releases/{slug}")
    assert gone.status_code == 410
    assert b"SPARQL Update" in gone.data
    assert slug not in _slugs(client)


def test_update_with_load_is_refused_and_changes_nothing(client: FlaskClient) -> None:
    before = _slugs(client)
    reply = _update(client, "load <http://127.0.0.1:9/x.ttl>", ADMIN)
    assert reply.status_code == 400  # type: ignore[attr-defined]
    assert _slugs(client) == before


# A remote store --------------------------------------------------------------


@pytest.fixture(scope="module")
def remote_app(
    make_module_app: AppFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("remote")
    with OxigraphProcess(folder / "oxigraph") as server:
        settings = settings_for(
            server,
            index=str(folder / "index.sqlite"),
            write_tokens=ADMIN,
            query_timeout="2",
        )
        store = RemoteStore.from_settings(settings)
        yield make_module_app(store=store, settings=settings)


def test_remote_store_answers_the_same(remote_app: Flask) -> None:
    client = remote_app.test_client()
    assert len(_slugs(client)) == 52
    graph = f"http://127.0.0.1:8000/graphs/releases/{SLUG}"
    named = _json(
        client,
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
        **{"default-graph-uri": graph},
    )
    count = int(named["results"]["bindings"][0]["n"]["value"])
    store = remote_app.extensions["publisher"].store
    assert count == len(store.graph_ntriples(graph).splitlines())
    reply = client.get(
        "/sparql",
        query_string={
            "query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 5",
            "format": "jsonld",
        },
    )
    assert len(Graph().parse(data=reply.data, format="json-ld")) == 5


def test_remote_store_query_is_stopped_at_the_timeout(remote_app: Flask) -> None:
    client = remote_app.test_client()
    endless = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    reply = client.get("/sparql", query_string={"query": endless, "format": "json"})
    assert reply.status_code == 504
    assert b"PUBLISHER_QUERY_TIMEOUT" in reply.data
    assert len(_slugs(client)) == 52  # and the endpoint goes on answering
