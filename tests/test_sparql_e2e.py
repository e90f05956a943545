"""The SPARQL endpoint end to end: a real ``publisher serve`` (waitress) over the
bundled sample, spoken to over real HTTP (urllib and SPARQLWrapper).

What is checked is what the endpoint promises under load and abuse: the time
limit (reader processes killed at the timeout, the server answering others
meanwhile), the cap on queries at once (503 + Retry-After), the row cap, the
request size caps, no outbound request for SERVICE or LOAD however spelled,
CORS, HTTP caching (ETag, 304, the answer cache and its invalidation by an
update), a real client library, and the query page's examples.

Servers are started with small limits through the environment (tests/
publisher_server.py): ``limited`` (2 s, 50 rows, 2 queries at once, 4096-byte
requests) and ``roomy`` (2 s, 4 queries at once, the default row cap) once per
module for the tests that send one request at a time; a server of its own for
each test that sends requests at once; one with a list of CORS origins.
"""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.message import Message
from typing import Any
from urllib.parse import urlencode

import pytest
from rdflib import Graph, Literal, URIRef
from SPARQLWrapper import (
    CSV,
    JSON,
    JSONLD,
    POST,
    RDFXML,
    TSV,
    TURTLE,
    XML,
    SPARQLWrapper,
)
from SPARQLWrapper.SPARQLExceptions import Unauthorized

from publisher.sparql import EXAMPLES
from tests.apps import ServerFactory
from tests.publisher_server import ADMIN_TOKEN, PublisherProcess

SPARQL = "/sparql"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FORM = "application/x-www-form-urlencoded"
RESULTS_JSON = "application/sparql-results+json"
NTRIPLES = "application/n-triples"
PUB = "https://w3id.org/release-publisher/ns#"
SCHEMA = "http://schema.org/"
PREFIXES = f"PREFIX pub: <{PUB}>\nPREFIX schema: <{SCHEMA}>\n"
SLUG = "labour-market-overview-uk-september-2026"
SAMPLE_RELEASES = 52

TIMEOUT = 2
MAX_ROWS = 50
MAX_BYTES = 4096
#: a query that would run for ever (a cross product of the whole store, thrice)
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"

Reply = tuple[int, Message, bytes]


# Servers and requests ----------------------------------------------------------


LIMITED = {
    "PUBLISHER_QUERY_TIMEOUT": str(TIMEOUT),
    "PUBLISHER_QUERY_MAX_ROWS": str(MAX_ROWS),
    "PUBLISHER_QUERY_CONCURRENCY": "2",
    "PUBLISHER_QUERY_MAX_BYTES": str(MAX_BYTES),
}
ROOMY = {"PUBLISHER_QUERY_TIMEOUT": str(TIMEOUT), "PUBLISHER_QUERY_CONCURRENCY": "4"}


@pytest.fixture(scope="module")
def limited(make_module_server: ServerFactory) -> PublisherProcess:
    """Small limits; only ever sent one request at a time."""
    return make_module_server(LIMITED)


@pytest.fixture(scope="module")
def roomy(make_module_server: ServerFactory) -> PublisherProcess:
    """The default row cap (the sample's 52 releases fit); one request at a time."""
    return make_module_server(ROOMY)


# The tests that send requests at once get servers of their own, so that one
# going wrong (see test_first_queries_at_once_on_a_fresh_server) cannot spoil
# the others.


@pytest.fixture
def limited_alone(make_server: ServerFactory) -> PublisherProcess:
    return make_server(LIMITED)


@pytest.fixture
def roomy_alone(make_server: ServerFactory) -> PublisherProcess:
    # 9: one client may hold 8 (its fair share, size - 1: store.readers)
    return make_server({**ROOMY, "PUBLISHER_QUERY_CONCURRENCY": "9"})


def get(
    server: PublisherProcess,
    query: str,
    headers: dict[str, str] | None = None,
    **params: str,
) -> Reply:
    path = SPARQL + "?" + urlencode({"query": query, **params})
    return server.request("GET", path, headers=headers or {})


def post_form(
    server: PublisherProcess,
    params: dict[str, str],
    headers: dict[str, str] | None = None,
) -> Reply:
    body = urlencode(params).encode("utf-8")
    return server.request(
        "POST", SPARQL, body, {"Content-Type": FORM, **(headers or {})}
    )


def post_direct(
    server: PublisherProcess,
    text: str,
    mimetype: str,
    headers: dict[str, str] | None = None,
) -> Reply:
    return server.request(
        "POST",
        SPARQL,
        text.encode("utf-8"),
        {"Content-Type": mimetype, **(headers or {})},
    )


def bindings(reply: Reply) -> list[dict[str, str]]:
    """The rows of a JSON results answer, each variable to its lexical value."""
    status, headers, body = reply
    assert status == 200, (status, body)
    assert headers.get_content_type() == RESULTS_JSON, headers
    rows = json.loads(body)["results"]["bindings"]
    return [{name: term["value"] for name, term in row.items()} for row in rows]


def count(server: PublisherProcess, query: str) -> int:
    rows = bindings(get(server, query, {"Accept": RESULTS_JSON}))
    return int(rows[0]["n"])


def assert_plain_error(reply: Reply, status: int, *words: str) -> str:
    got, headers, body = reply
    assert got == status, (got, body)
    assert headers.get_content_type() == "text/plain", headers
    text = body.decode("utf-8")
    for word in words:
        assert word in text, text
    return text


def quick_query(tag: str) -> str:
    """A fast query whose text is unique to ``tag`` (so never a cache hit),
    answering the number of releases in the sample."""
    return (
        PREFIXES + "SELECT (COUNT(?r) AS ?n) WHERE { ?r a pub:Release . "
        f"FILTER (?r != <urn:e2e:{tag}>) }}"
    )


def quick_ok(server: PublisherProcess, tag: str) -> Reply:
    reply = get(server, quick_query(tag), {"Accept": RESULTS_JSON})
    assert int(bindings(reply)[0]["n"]) == SAMPLE_RELEASES
    return reply


# 1. The time limit ---------------------------------------------------------------


def test_first_queries_at_once_on_a_fresh_server(
    roomy_alone: PublisherProcess,
) -> None:
    """Distinct queries arriving together are each answered, and the server
    goes on answering afterwards (nothing shared is spoilt by the first ones)."""
    server = roomy_alone
    queries = [
        (quick_query("burst-0"), "n", str(SAMPLE_RELEASES)),
        (PREFIXES + f'ASK {{ ?r pub:slug "{SLUG}" }}', None, None),
        (
            PREFIXES + "SELECT ?slug WHERE { ?r a pub:Release ; pub:slug ?slug "
            f'FILTER (STRSTARTS(?slug, "{SLUG}")) }}',
            "slug",
            SLUG,
        ),
        (
            PREFIXES + "SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE { "
            "?r a pub:Release OPTIONAL { ?r schema:about ?t } } GROUP BY ?x",
            None,
            None,
        ),
        (
            PREFIXES + "SELECT ?name WHERE { ?r pub:slug ?s ; schema:name ?name "
            f'VALUES ?s {{ "{SLUG}" }} }} ORDER BY DESC(?name) LIMIT 1 OFFSET 0',
            None,
            None,
        ),
        (
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
            'FILTER (REGEX(STR(?g), "releases") && ?o != "x"@en) } '
            "GROUP BY ?g HAVING (COUNT(*) > 1) LIMIT 3",
            None,
            None,
        ),
        (
            PREFIXES + "SELECT ?r WHERE { { ?r a pub:Release } UNION "
            "{ ?r a schema:Event } MINUS { ?r pub:status pub:Cancelled } } LIMIT 2",
            None,
            None,
        ),
        (
            'SELECT ?x WHERE { BIND (CONCAT(UCASE("a"), STR(1.5e0)) AS ?x) }',
            "x",
            "A1.5",
        ),
    ]
    barrier = threading.Barrier(len(queries))

    def send(query: str) -> Reply:
        barrier.wait()
        return get(server, query, {"Accept": RESULTS_JSON})

    with ThreadPoolExecutor(len(queries)) as pool:
        replies = list(pool.map(send, [q for q, _, _ in queries]))
    problems = [
        (query, status, body[:200])
        for (query, _, _), (status, _, body) in zip(queries, replies, strict=True)
        if status != 200
    ]
    assert problems == [], (problems, server.log_path.read_text()[-1500:])
    for (_, name, value), (_, _, body) in zip(queries, replies, strict=True):
        if name is not None:
            row = json.loads(body)["results"]["bindings"][0]
            assert row[name]["value"] == value
    # One at a time afterwards, a shape not seen before.
    rows = bindings(
        get(
            server,
            PREFIXES + f'SELECT ?t WHERE {{ ?r pub:slug "{SLUG}" ; schema:name ?t }}',
            {"Accept": RESULTS_JSON},
        )
    )
    assert len(rows) == 1


def test_endless_query_is_stopped_at_the_limit_while_others_are_answered(
    roomy_alone: PublisherProcess,
) -> None:
    roomy = roomy_alone
    # A first quick query (one at a time): a reader is started and ready.
    quick_ok(roomy, "warm")

    done = threading.Event()
    endless: dict[str, Any] = {}

    def run_endless() -> None:
        started = time.monotonic()
        endless["started"] = started
        endless["reply"] = get(roomy, ENDLESS, {"Accept": RESULTS_JSON})
        endless["ended"] = time.monotonic()
        endless["elapsed"] = endless["ended"] - started
        done.set()

    answered: list[tuple[float, float, int, str | None]] = []
    lock = threading.Lock()

    def run_quick(worker: int) -> None:
        for i in range(1000):
            if done.is_set():
                return
            started = time.monotonic()
            status, headers, body = get(
                roomy, quick_query(f"q-{worker}-{i}"), {"Accept": RESULTS_JSON}
            )
            ended = time.monotonic()
            if status == 200:
                assert int(
                    json.loads(body)["results"]["bindings"][0]["n"]["value"]
                ) == (SAMPLE_RELEASES)
            with lock:
                answered.append((started, ended, status, headers.get("X-Cache")))
            time.sleep(0.05)

    slow = threading.Thread(target=run_endless)
    slow.start()
    time.sleep(0.2)  # the endless query is under way
    others = [threading.Thread(target=run_quick, args=(n,)) for n in range(3)]
    for thread in others:
        thread.start()
    slow.join(30)
    for thread in others:
        thread.join(30)

    assert_plain_error(endless["reply"], 504, f"{TIMEOUT} s", "PUBLISHER_QUERY_TIMEOUT")
    # The bound: an error within the timeout plus one second.
    assert endless["elapsed"] <= TIMEOUT + 1, endless["elapsed"]

    assert answered, "no other query was sent"
    assert {status for _, _, status, _ in answered} == {200}, answered
    assert {cache for _, _, _, cache in answered} == {"miss"}  # really ran
    meanwhile = [
        a for a in answered if a[0] > endless["started"] and a[1] < endless["ended"]
    ]
    assert len(meanwhile) >= 3, answered

    # And the server goes on answering afterwards.
    quick_ok(roomy, "after-timeout")
    assert roomy.running


# 2. The cap on queries at once ----------------------------------------------------


def test_queries_over_the_concurrency_cap_get_503_with_retry_after(
    limited_alone: PublisherProcess,
) -> None:
    limited = limited_alone
    # The same query once first, by itself (406: read and checked, never run).
    assert get(limited, ENDLESS, {"Accept": "image/png"})[0] == 406
    barrier = threading.Barrier(3)

    def send(i: int) -> Reply:
        barrier.wait()
        # Distinct texts, though an endless query is never cached anyway.
        return get(limited, ENDLESS + f" # {i}", {"Accept": RESULTS_JSON})

    with ThreadPoolExecutor(3) as pool:
        replies = list(pool.map(send, range(3)))

    statuses = sorted(status for status, _, _ in replies)
    # one client may hold size - 1 = 1 of the 2 readers (a fair share)
    assert statuses == [503, 503, 504], [(s, b) for s, _, b in replies]
    for reply in replies:
        status, headers, _ = reply
        if status == 503:
            assert_plain_error(reply, 503, "queries are running")
            assert headers.get("Retry-After"), headers
            assert int(headers["Retry-After"]) >= 1
        else:
            assert_plain_error(reply, 504, "PUBLISHER_QUERY_TIMEOUT")
    quick_ok(limited, "after-cap")


# 3. The row cap -------------------------------------------------------------------


def test_select_is_cut_at_max_rows_with_a_header(limited: PublisherProcess) -> None:
    reply = get(limited, "SELECT * WHERE { ?s ?p ?o }", {"Accept": RESULTS_JSON})
    rows = bindings(reply)
    assert len(rows) == MAX_ROWS
    assert all(set(row) == {"s", "p", "o"} for row in rows)
    assert reply[1].get("X-SPARQL-MaxRows") == str(MAX_ROWS)


@pytest.mark.parametrize(("limit", "cut"), [(10, False), (50, False), (51, True)])
def test_max_rows_header_only_when_rows_were_left_out(
    limited: PublisherProcess, limit: int, cut: bool
) -> None:
    reply = get(
        limited,
        f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {limit}",
        {"Accept": RESULTS_JSON},
    )
    assert len(bindings(reply)) == min(limit, MAX_ROWS)
    assert ("X-SPARQL-MaxRows" in reply[1]) is cut, dict(reply[1])


def test_construct_is_cut_at_max_rows_triples(limited: PublisherProcess) -> None:
    status, headers, body = get(
        limited, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", {"Accept": NTRIPLES}
    )
    assert status == 200, body
    assert headers.get_content_type() == NTRIPLES
    assert headers.get("X-SPARQL-MaxRows") == str(MAX_ROWS)
    graph = Graph().parse(data=body.decode("utf-8"), format="nt")
    assert len(graph) == MAX_ROWS
    assert body.count(b"\n") == MAX_ROWS


def test_query_page_says_the_results_were_cut(limited: PublisherProcess) -> None:
    status, headers, body = get(
        limited, "SELECT * WHERE { ?s ?p ?o }", {"Accept": "text/html"}
    )
    assert status == 200, body
    assert headers.get_content_type() == "text/html"
    assert f"Cut at {MAX_ROWS} rows" in body.decode("utf-8")

    status, headers, body = get(
        limited, "SELECT * WHERE { ?s ?p ?o } LIMIT 3", {"Accept": "text/html"}
    )
    assert status == 200
    assert "Cut at" not in body.decode("utf-8")


# 4. Request size caps -------------------------------------------------------------


def test_post_body_over_the_limit_is_413(limited: PublisherProcess) -> None:
    padding = "#" + "x" * MAX_BYTES + "\n"
    reply = post_form(limited, {"query": padding + "ASK {}"})
    assert_plain_error(reply, 413, str(MAX_BYTES))
    reply = post_direct(limited, padding + "ASK {}", "application/sparql-query")
    assert_plain_error(reply, 413, str(MAX_BYTES))
    # Just under the limit is fine.
    small = "#" + "x" * (MAX_BYTES - 100) + "\nASK {}"
    assert post_direct(limited, small, "application/sparql-query")[0] == 200


def test_get_url_over_the_limit_is_414(limited: PublisherProcess) -> None:
    reply = get(limited, "#" + "x" * MAX_BYTES + "\nASK {}")
    assert_plain_error(reply, 414, str(MAX_BYTES))


# 5. No outbound requests, ever ------------------------------------------------------


class Listener:
    """A TCP socket on 127.0.0.1 that records every connection it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = int(self.sock.getsockname()[1])
        self.connections: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(0.5)
                try:
                    first = conn.recv(200)
                except OSError:
                    first = b""
                self.connections.append(first or b"(connected)")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    try:
        yield found
    finally:
        found.close()


def service_spellings(port: int) -> dict[str, str]:
    iri = f"<http://127.0.0.1:{port}/sparql>"
    body = "{ ?s ?p ?o }"
    return {
        "lowercase": f"SELECT * WHERE {{ service {iri} {body} }}",
        "mixed case": f"SELECT * WHERE {{ SeRvIcE {iri} {body} }}",
        "silent": f"SELECT * WHERE {{ SERVICE SILENT {iri} {body} }}",
        "in OPTIONAL": (
            f"SELECT * WHERE {{ ?x ?y ?z OPTIONAL {{ SERVICE {iri} {body} }} }}"
        ),
        "in UNION": (
            f"SELECT * WHERE {{ {{ ?x ?y ?z }} UNION {{ SERVICE {iri} {body} }} }}"
        ),
        "in sub-SELECT": (
            f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE {iri} {body} }} }} }}"
        ),
        "in FILTER EXISTS": (
            f"SELECT * WHERE {{ ?x ?y ?z FILTER EXISTS {{ SERVICE {iri} {body} }} }}"
        ),
        "in FILTER NOT EXISTS in an expression": (
            "SELECT * WHERE { ?x ?y ?z FILTER (?z = 1 || NOT EXISTS "
            f"{{ SERVICE {iri} {body} }}) }}"
        ),
        "in MINUS": f"SELECT * WHERE {{ ?x ?y ?z MINUS {{ SERVICE {iri} {body} }} }}",
        "in GRAPH": f"SELECT * WHERE {{ GRAPH ?g {{ SERVICE {iri} {body} }} }}",
        "prefixed name": (
            f"PREFIX x: <http://127.0.0.1:{port}/>\n"
            f"SELECT * WHERE {{ SERVICE x:q {body} }}"
        ),
        "relative IRI with BASE": (
            f"BASE <http://127.0.0.1:{port}/>\n"
            f"SELECT * WHERE {{ SERVICE <sparql> {body} }}"
        ),
        "variable bound by VALUES": (
            f"SELECT * WHERE {{ VALUES ?e {{ {iri} }} SERVICE ?e {body} }}"
        ),
        "variable bound by BIND": (
            f"SELECT * WHERE {{ BIND ({iri} AS ?e) SERVICE ?e {body} }}"
        ),
        "comments and newlines": (
            f"SELECT * WHERE {{ SERVICE # a comment\n  # another\n\n {iri}\n {body} }}"
        ),
        "no spaces": f"SELECT*{{SERVICE{iri}{{?s ?p ?o}}}}",
        "tabs": f"SELECT * WHERE {{ SERVICE\t{iri}\t{body} }}",
        "\\u escape in the IRI": (
            "SELECT * WHERE { SERVICE "
            f"<http\\u003A//127.0.0.1:{port}/sparql> {body} }}"
        ),
        "\\u escape in the keyword": f"SELECT * WHERE {{ SERV\\u0049CE {iri} {body} }}",
        "\\u escape closing a string": (
            f'SELECT * WHERE {{ ?x ?y "a\\u0022 . SERVICE {iri} {body} . '
            '?q ?r \\u0022b" }'
        ),
        "ASK": f"ASK {{ SERVICE {iri} {body} }}",
        "CONSTRUCT": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE {iri} {body} }}",
        "DESCRIBE": f"DESCRIBE ?s WHERE {{ SERVICE {iri} {body} }}",
    }


def load_spellings(port: int) -> dict[str, str]:
    source = f"<http://127.0.0.1:{port}/x>"
    return {
        "LOAD": f"LOAD {source}",
        "lowercase load": f"load {source}",
        "LOAD SILENT INTO GRAPH": (
            f"LOAD SILENT {source} INTO GRAPH <http://example.org/e2e/loaded>"
        ),
        "LOAD after an INSERT DATA": (
            "INSERT DATA { GRAPH <http://example.org/e2e/loaded> "
            f"{{ <urn:e2e:a> <urn:e2e:b> <urn:e2e:c> }} }} ;\nLOAD {source}"
        ),
        "\\u escape in the keyword": f"LO\\u0041D {source}",
        "comment between keyword and IRI": f"LOAD # here\n{source}",
        "SERVICE in an update's WHERE": (
            "INSERT { GRAPH <http://example.org/e2e/loaded> { ?s ?p ?o } } WHERE "
            f"{{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"
        ),
    }


def test_listener_sees_a_connection() -> None:
    """The listener the next test relies on does record connections."""
    found = Listener()
    try:
        with socket.create_connection(("127.0.0.1", found.port), timeout=2) as conn:
            conn.sendall(b"hello")
        deadline = time.monotonic() + 5
        while not found.connections and time.monotonic() < deadline:
            time.sleep(0.05)
        assert found.connections == [b"hello"]
    finally:
        found.close()


def test_service_and_load_never_reach_the_network(
    limited: PublisherProcess, listener: Listener
) -> None:
    refused: list[str] = []
    for name, query in service_spellings(listener.port).items():
        for how, reply in (
            ("GET", get(limited, query)),
            ("form", post_form(limited, {"query": query})),
            ("direct", post_direct(limited, query, "application/sparql-query")),
        ):
            status, _, body = reply
            text = body.decode("utf-8", "replace")
            assert 400 <= status < 500, (name, how, status, text)
            assert "SERVICE" in text, (name, how, text)
            refused.append(f"{name} ({how})")
    for name, update in load_spellings(listener.port).items():
        keyword = "SERVICE" if "SERVICE" in name else "LOAD"
        for how, reply in (
            ("form", post_form(limited, {"update": update}, AUTH)),
            ("direct", post_direct(limited, update, "application/sparql-update", AUTH)),
        ):
            status, _, body = reply
            text = body.decode("utf-8", "replace")
            assert 400 <= status < 500, (name, how, status, text)
            assert keyword in text, (name, how, text)
            refused.append(f"{name} ({how})")
    # A dataset naming the listener is not fetched either (the store's own graphs).
    here = f"http://127.0.0.1:{listener.port}/data"
    for reply in (
        get(limited, f"SELECT * FROM <{here}> WHERE {{ ?s ?p ?o }}"),  # noqa: S608
        get(
            limited,
            f"SELECT * FROM NAMED <{here}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",  # noqa: S608
        ),
        get(limited, "SELECT * WHERE { ?s ?p ?o }", **{"default-graph-uri": here}),
        get(limited, f"DESCRIBE <{here}>", {"Accept": NTRIPLES}),
    ):
        assert reply[0] == 200, reply
    time.sleep(1)
    assert listener.connections == [], listener.connections
    assert len(refused) == 3 * len(service_spellings(0)) + 2 * len(load_spellings(0))
    # Nothing of a refused update was applied (the INSERT DATA before a LOAD).
    ask = "ASK { GRAPH <http://example.org/e2e/loaded> { ?s ?p ?o } }"
    status, _, body = get(limited, ask, {"Accept": RESULTS_JSON})
    assert status == 200
    assert json.loads(body)["boolean"] is False


@pytest.mark.parametrize(
    "query",
    [
        'SELECT ?service WHERE { BIND ("LOAD SERVICE" AS ?service) }',
        "PREFIX service: <http://example.org/service/>\n"
        "SELECT ?load WHERE { BIND (service:load AS ?load) } # SERVICE <http://x/>",
        "SELECT ?x WHERE { BIND (<http://example.org/SERVICE/LOAD> AS ?x) }",
        "SELECT ?x WHERE { BIND ('''SERVICE <http://example.org/> { }''' AS ?x) }",
    ],
)
def test_the_words_in_strings_names_and_comments_are_fine(
    limited: PublisherProcess, query: str
) -> None:
    rows = bindings(get(limited, query, {"Accept": RESULTS_JSON}))
    assert len(rows) == 1
    if "?service" in query:
        assert rows == [{"service": "LOAD SERVICE"}]


# 6. CORS ---------------------------------------------------------------------------


def test_cors_on_answers_and_errors(limited: PublisherProcess) -> None:
    origin = {"Origin": "https://somewhere.example"}
    replies = {
        200: get(limited, "ASK {}", origin),
        400: get(limited, "SELECT * WHERE {", origin),
        406: get(limited, "ASK {}", {**origin, "Accept": "image/png"}),
        413: post_form(limited, {"query": "#" + "x" * MAX_BYTES + "\nASK {}"}, origin),
        405: limited.request(
            "PUT", SPARQL, b"ASK {}", {**origin, "Content-Type": "text/plain"}
        ),
    }
    for status, (got, headers, body) in replies.items():
        assert got == status, (status, got, body)
        assert headers.get("Access-Control-Allow-Origin") == "*", (status, headers)
    exposed = replies[200][1].get("Access-Control-Expose-Headers", "")
    assert "ETag" in exposed
    assert "X-SPARQL-MaxRows" in exposed


def test_cors_preflight(limited: PublisherProcess) -> None:
    status, headers, _ = limited.request(
        "OPTIONS",
        SPARQL,
        headers={
            "Origin": "https://somewhere.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert 200 <= status < 300, status
    methods = {
        m.strip().upper()
        for m in headers.get("Access-Control-Allow-Methods", "").split(",")
    }
    assert {"GET", "POST"} <= methods, headers
    allowed = headers.get("Access-Control-Allow-Headers", "").lower()
    assert "content-type" in allowed
    assert headers.get("Access-Control-Allow-Origin") == "*"


@pytest.fixture(scope="module")
def listed_origins(make_module_server: ServerFactory) -> PublisherProcess:
    env = {"PUBLISHER_CORS_ORIGINS": "https://a.example"}
    return make_module_server(env, import_sample=False)


def test_cors_with_a_list_of_origins(listed_origins: PublisherProcess) -> None:
    status, headers, _ = get(listed_origins, "ASK {}", {"Origin": "https://a.example"})
    assert status == 200
    assert headers.get("Access-Control-Allow-Origin") == "https://a.example"
    vary = {v.strip().lower() for v in ",".join(headers.get_all("Vary", [])).split(",")}
    assert "origin" in vary, headers

    status, headers, _ = get(listed_origins, "ASK {}", {"Origin": "https://b.example"})
    assert status == 200
    assert "Access-Control-Allow-Origin" not in headers, headers

    # Errors too: the listed origin may read them, the other may not.
    status, headers, _ = get(
        listed_origins, "SELECT * WHERE {", {"Origin": "https://a.example"}
    )
    assert status == 400
    assert headers.get("Access-Control-Allow-Origin") == "https://a.example"
    status, headers, _ = get(
        listed_origins, "SELECT * WHERE {", {"Origin": "https://b.example"}
    )
    assert status == 400
    assert "Access-Control-Allow-Origin" not in headers


@pytest.mark.parametrize("origin", ["https://b.example", None])
def test_cors_vary_origin_on_every_answer_when_origins_are_listed(
    listed_origins: PublisherProcess, origin: str | None
) -> None:
    """An answer without Access-Control-Allow-Origin still varies by Origin: else a
    shared cache could give it to a listed origin (Fetch, CORS protocol and HTTP
    caches)."""
    status, headers, _ = get(
        listed_origins, "ASK {}", {"Origin": origin} if origin else {}
    )
    assert status == 200
    vary = {v.strip().lower() for v in ",".join(headers.get_all("Vary", [])).split(",")}
    assert "origin" in vary, headers


# 7. HTTP caching ------------------------------------------------------------------


def test_etag_304_cache_hit_and_invalidation_by_update(
    limited: PublisherProcess,
) -> None:
    graph = "http://example.org/e2e/cache"
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    accept = {"Accept": RESULTS_JSON}

    first = get(limited, query, accept)
    assert bindings(first) == [{"n": "0"}]
    etag = first[1].get("ETag")
    assert etag, first[1]
    assert first[1].get("X-Cache") == "miss"

    second = get(limited, query, accept)
    assert second[0] == 200
    assert second[1].get("X-Cache") == "hit"
    assert second[1].get("ETag") == etag
    assert second[2] == first[2]

    status, headers, body = get(limited, query, {**accept, "If-None-Match": etag})
    assert status == 304
    assert body == b""
    assert headers.get("ETag") == etag

    update = f'INSERT DATA {{ GRAPH <{graph}> {{ <urn:e2e:s> <urn:e2e:p> "x" }} }}'
    status, headers, body = post_form(limited, {"update": update}, AUTH)
    assert status == 200, body
    assert headers.get_content_type() == "application/json"
    assert json.loads(body)["data_version"]

    after = get(limited, query, {**accept, "If-None-Match": etag})
    assert bindings(after) == [{"n": "1"}]
    assert after[1].get("ETag")
    assert after[1].get("ETag") != etag
    assert after[1].get("X-Cache") == "miss"


def test_update_without_a_token_changes_nothing(limited: PublisherProcess) -> None:
    graph = "http://example.org/e2e/no-token"
    update = f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:e2e:s> <urn:e2e:p> 1 }} }}"
    status, headers, _ = post_form(limited, {"update": update})
    assert status == 401
    assert headers.get("WWW-Authenticate", "").startswith("Bearer")
    status, _, _ = post_form(
        limited, {"update": update}, {"Authorization": "Bearer not-a-token"}
    )
    assert status == 403
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    assert count(limited, query) == 0


# 8. SPARQLWrapper as a client --------------------------------------------------------


def wrapper(server: PublisherProcess, query: str, fmt: str) -> SPARQLWrapper:
    client = SPARQLWrapper(server.url(SPARQL))
    client.setQuery(query)
    client.setReturnFormat(fmt)
    return client


SLUGS = PREFIXES + "SELECT ?slug WHERE { ?r a pub:Release ; pub:slug ?slug }"


def test_sparqlwrapper_select_json(roomy: PublisherProcess) -> None:
    result = wrapper(roomy, SLUGS, JSON).query().convert()
    assert isinstance(result, dict)
    assert result["head"]["vars"] == ["slug"]
    slugs = {row["slug"]["value"] for row in result["results"]["bindings"]}
    assert len(slugs) == SAMPLE_RELEASES
    assert SLUG in slugs


def test_sparqlwrapper_select_xml(roomy: PublisherProcess) -> None:
    document = wrapper(roomy, SLUGS, XML).query().convert()
    results = document.getElementsByTagName("result")
    assert len(results) == SAMPLE_RELEASES
    values = {node.firstChild.data for node in document.getElementsByTagName("literal")}
    assert SLUG in values


def test_sparqlwrapper_select_csv(roomy: PublisherProcess) -> None:
    raw = wrapper(roomy, SLUGS, CSV).query().convert()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    assert rows[0] == ["slug"]
    assert len(rows) == SAMPLE_RELEASES + 1
    assert {row[0] for row in rows[1:]} >= {SLUG}


def test_sparqlwrapper_ask(roomy: PublisherProcess) -> None:
    yes = PREFIXES + f'ASK {{ ?r pub:slug "{SLUG}" }}'
    no = PREFIXES + 'ASK { ?r pub:slug "no-such-release" }'
    assert wrapper(roomy, yes, JSON).query().convert()["boolean"] is True
    assert wrapper(roomy, no, JSON).query().convert()["boolean"] is False


def _release_construct(server: PublisherProcess) -> tuple[str, URIRef]:
    release = URIRef(f"{server.base}/releases/{SLUG}#release")
    query = PREFIXES + (
        f'CONSTRUCT {{ ?r ?p ?o }} WHERE {{ ?r pub:slug "{SLUG}" ; ?p ?o }}'
    )
    return query, release


def test_sparqlwrapper_construct_into_rdflib(roomy: PublisherProcess) -> None:
    query, release = _release_construct(roomy)
    # RDF/XML, parsed by SPARQLWrapper; by default it also sends format=xml
    graph = wrapper(roomy, query, XML).query().convert()
    assert isinstance(graph, Graph)
    names = list(graph.objects(release, URIRef(SCHEMA + "name")))
    assert len(names) == 1
    assert isinstance(names[0], Literal)
    assert "Labour market overview" in str(names[0])
    assert (release, URIRef(PUB + "slug"), Literal(SLUG)) in graph


def test_sparqlwrapper_construct_turtle(roomy: PublisherProcess) -> None:
    query, release = _release_construct(roomy)
    raw = wrapper(roomy, query, TURTLE).query().convert()
    graph = Graph().parse(data=raw.decode("utf-8"), format="turtle")
    assert (release, URIRef(PUB + "slug"), Literal(SLUG)) in graph


@pytest.mark.parametrize("only_conneg", [False, True])
@pytest.mark.parametrize("fmt", [XML, RDFXML, JSONLD])
def test_sparqlwrapper_construct_formats(
    roomy: PublisherProcess, fmt: str, only_conneg: bool
) -> None:
    """With Accept alone, or with SPARQLWrapper's format/output/results parameters
    (format=xml for RDF/XML; format given twice, name and media type, for RDF/XML
    and JSON-LD)."""
    query, release = _release_construct(roomy)
    client = wrapper(roomy, query, fmt)
    client.setOnlyConneg(only_conneg)
    graph = client.query().convert()
    assert isinstance(graph, Graph)
    assert (release, URIRef(PUB + "slug"), Literal(SLUG)) in graph


def test_sparqlwrapper_select_tsv(roomy: PublisherProcess) -> None:
    """SPARQLWrapper sends format=tsv and format=text/tab-separated-values."""
    raw = wrapper(roomy, SLUGS, TSV).query().convert()
    lines = raw.decode("utf-8").splitlines()
    assert lines[0] == "?slug"
    assert len(lines) == SAMPLE_RELEASES + 1
    assert f'"{SLUG}"' in lines


def test_sparqlwrapper_update_needs_the_admin_token(roomy: PublisherProcess) -> None:
    graph = "http://example.org/e2e/sparqlwrapper"
    update = f'INSERT DATA {{ GRAPH <{graph}> {{ <urn:e2e:w> <urn:e2e:p> "w" }} }}'
    check = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"

    anonymous = SPARQLWrapper(roomy.url(SPARQL))
    anonymous.setMethod(POST)
    anonymous.setQuery(update)
    assert anonymous.isSparqlUpdateRequest()
    with pytest.raises(Unauthorized):
        anonymous.query()
    assert count(roomy, check) == 0

    admin = SPARQLWrapper(roomy.url(SPARQL))
    admin.setMethod(POST)
    admin.setQuery(update)
    admin.addCustomHttpHeader("Authorization", f"Bearer {ADMIN_TOKEN}")
    response = admin.query().response
    assert response.status == 200
    assert json.loads(response.read())["by"]
    assert count(roomy, check) == 1


# 9. The query page's examples ---------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_example_runs_with_results(roomy: PublisherProcess, example: Any) -> None:
    status, headers, body = post_form(
        roomy,
        {"query": example.query},
        {"Accept": f"{RESULTS_JSON}, {NTRIPLES}"},
    )
    assert status == 200, body
    if headers.get_content_type() == NTRIPLES:
        graph = Graph().parse(data=body.decode("utf-8"), format="nt")
        assert len(graph) > 0
        return
    rows = bindings((status, headers, body))
    if example.name == "upcoming":
        # depends on the clock: checked against the answer worked out from every
        # date, so it stays true once the sample's dates have passed
        _check_upcoming(roomy, rows)
        return
    assert rows, f"example {example.name!r} has no results on the sample"


def _check_upcoming(server: PublisherProcess, rows: list[dict[str, str]]) -> None:
    """The example against the same answer worked out here, from every date."""
    everything = bindings(
        get(
            server,
            PREFIXES
            + """SELECT ?slug ?status ?date WHERE {
  ?release a pub:Release ; pub:slug ?slug ; pub:status ?status ;
           schema:publication ?event .
  ?event schema:startDate ?date .
}""",
            {"Accept": RESULTS_JSON},
        )
    )
    now = datetime.now(UTC)
    wanted = {PUB + s for s in ("Confirmed", "Provisional", "Postponed")}
    due = {
        r["slug"]: datetime.fromisoformat(r["date"])
        for r in everything
        if r["status"] in wanted and datetime.fromisoformat(r["date"]) >= now
    }
    assert len(rows) == min(20, len(due))
    dates = [datetime.fromisoformat(r["date"]) for r in rows]
    assert dates == sorted(dates)
    assert all(r["slug"] in due and r["status"] in wanted for r in rows)
    left_out = [d for s, d in due.items() if s not in {r["slug"] for r in rows}]
    if left_out:
        assert max(dates) <= min(left_out)
