"""The remote SPARQL store over real HTTP: a real ``oxigraph serve`` process, and
small HTTP servers on 127.0.0.1 that fail on purpose (500, 401, never answering).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib.plugins.serializers.nt import _nt_row

from publisher.config import Settings
from publisher.errors import StoreError
from publisher.importers import read_file
from publisher.namespaces import Iris
from publisher.rdf import release_to_triples
from publisher.resources import sample_calendar
from publisher.store import catalog
from publisher.store.oxigraph import EmbeddedStore
from publisher.store.sparql import RemoteStore, query_form, query_kind
from tests.oxigraph_server import OxigraphProcess, free_port, settings_for

G1 = "http://example.org/graphs/one"
G2 = "http://example.org/graphs/two"
EX = "http://example.org/"

SAMPLE_DATA = f"""INSERT DATA {{
  GRAPH <{G1}> {{
    <{EX}a> <{EX}name> "Alpha" ;
            <{EX}note> "two\\nlines with \\"quotes\\" and \\\\ backslash" ;
            <{EX}label> "Étiquette"@fr ;
            <{EX}count> "7"^^<http://www.w3.org/2001/XMLSchema#integer> ;
            <{EX}link> <{EX}b> .
  }}
  GRAPH <{G2}> {{ <{EX}b> <{EX}name> "Beta" . }}
  <{EX}c> <{EX}name> "in the default graph" .
}}"""

G1_NTRIPLES = "".join(
    sorted(
        f"{line}\n"
        for line in [
            f'<{EX}a> <{EX}name> "Alpha" .',
            f'<{EX}a> <{EX}note> "two\\nlines with \\"quotes\\" and \\\\ backslash" .',
            f'<{EX}a> <{EX}label> "Étiquette"@fr .',
            f'<{EX}a> <{EX}count> "7"^^<http://www.w3.org/2001/XMLSchema#integer> .',
            f"<{EX}a> <{EX}link> <{EX}b> .",
        ]
    )
)


# Fixtures -------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[OxigraphProcess]:
    with OxigraphProcess() as running:
        yield running


@pytest.fixture
def remote(server: OxigraphProcess) -> RemoteStore:
    """The shared server, emptied (DROP ALL) before each test."""
    if not server.running:
        server.start()
    store = RemoteStore.from_settings(settings_for(server))
    store.update("DROP ALL")
    return store


@pytest.fixture
def filled(remote: RemoteStore) -> RemoteStore:
    remote.update(SAMPLE_DATA)
    return remote


def quads_of(data: bytes, fmt: ox.RdfFormat = ox.RdfFormat.N_QUADS) -> list[str]:
    """Sorted N-Quads lines of a serialisation, parsed (so formats compare) and
    canonicalised (RDFC-1.0: blank node labels depend only on the data)."""
    dataset = ox.Dataset(ox.parse(data, fmt))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    text = ox.serialize(dataset, format=ox.RdfFormat.N_QUADS) or b""
    return sorted(text.decode("utf-8").splitlines())


# Query, update, one graph -------------------------------------------------------


def test_select_and_update_round_trip(
    remote: RemoteStore, server: OxigraphProcess
) -> None:
    assert remote.location == f"SPARQL store at {server.query_url}"
    assert remote.select("SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } }") == []
    remote.update(
        f'INSERT DATA {{ GRAPH <{G1}> {{ <{EX}a> <{EX}p> "x" , _:node . }} }}'
    )
    rows = remote.select(
        f"""# a comment with PREFIX and SELECT in it
PREFIX ex: <{EX}>
SELECT ?o ?missing WHERE {{
  GRAPH <{G1}> {{ ex:a ex:p ?o }} OPTIONAL {{ ?o ex:no ?missing }}
}} ORDER BY ?o"""
    )
    values = sorted(row["o"] for row in rows)
    assert values[1] == "x"
    assert values[0].startswith("_:") and len(values[0]) > 2
    assert all("missing" not in row for row in rows)
    assert remote.count_quads() == 2


def test_an_update_is_one_request_applied_whole_or_not_at_all(
    remote: RemoteStore,
) -> None:
    with pytest.raises(StoreError) as caught:
        remote.update(
            f'INSERT DATA {{ GRAPH <{G1}> {{ <{EX}a> <{EX}p> "1" }} }} ;\n'
            "INSERT DATA { this is not SPARQL }"
        )
    assert "HTTP 400" in str(caught.value)
    assert "/update" in str(caught.value)
    assert remote.count_quads() == 0


def test_select_refuses_other_query_forms(remote: RemoteStore) -> None:
    with pytest.raises(StoreError, match="SELECT"):
        remote.select("ASK { ?s ?p ?o }")


def test_malformed_query_reports_the_servers_message(remote: RemoteStore) -> None:
    with pytest.raises(StoreError) as caught:
        remote.select("SELECT ?x WHERE { ?x ?y }")
    message = str(caught.value)
    assert "HTTP 400" in message and "rejected the query" in message
    assert "error at" in message  # Oxigraph's own parser message
    assert "\n" not in message


@pytest.mark.parametrize("gsp", [True, False], ids=["graph-store", "construct"])
def test_graph_ntriples(
    server: OxigraphProcess, filled: RemoteStore, gsp: bool
) -> None:
    store = RemoteStore.from_settings(settings_for(server, gsp=gsp))
    assert bool(store.gsp_endpoint) is gsp
    assert store.graph_ntriples(G1) == G1_NTRIPLES
    assert store.graph_ntriples(G2) == f'<{EX}b> <{EX}name> "Beta" .\n'
    assert store.graph_ntriples(EX + "graphs/missing") == ""


def test_query_forms_are_read_past_prologue_and_comments() -> None:
    assert query_form("SELECT * {}") == "SELECT"
    assert query_form("  # SELECT\nask {}") == "ASK"
    assert query_form(
        "PREFIX ex: <http://e.org/#x>\nBASE <http://b/#>\nCONSTRUCT {}"
    ) == ("CONSTRUCT")
    assert query_form("prefix : <http://e/>describe <http://e/x>") == "DESCRIBE"
    assert query_kind("DESCRIBE <x>") == "graph"
    with pytest.raises(StoreError, match="found INSERT"):
        query_kind("PREFIX ex: <http://e/> INSERT DATA { }")


# Query results ------------------------------------------------------------------


SELECT_ALL = "SELECT ?s ?o WHERE { ?s <http://example.org/name> ?o } ORDER BY ?o"


def test_query_results_in_every_results_format(filled: RemoteStore) -> None:
    kind, payload = filled.query_results(SELECT_ALL, "json")
    assert kind == "select"
    data = json.loads(payload)
    # the default graph is the union of all graphs, as with the embedded store
    assert [b["o"]["value"] for b in data["results"]["bindings"]] == [
        "Alpha",
        "Beta",
        "in the default graph",
    ]

    kind, payload = filled.query_results(SELECT_ALL, "xml")
    root = ET.fromstring(payload)
    ns = "{http://www.w3.org/2005/sparql-results#}"
    assert len(root.findall(f"{ns}results/{ns}result")) == 3

    kind, payload = filled.query_results(SELECT_ALL, "csv")
    rows = list(csv.reader(io.StringIO(payload.decode("utf-8"))))
    assert rows[0] == ["s", "o"] and len(rows) == 4

    kind, payload = filled.query_results(SELECT_ALL, "tsv")
    lines = payload.decode("utf-8").splitlines()
    assert lines[0].split("\t") == ["?s", "?o"] and len(lines) == 4


def test_query_results_for_ask_and_construct(filled: RemoteStore) -> None:
    kind, payload = filled.query_results(f"ASK {{ <{EX}b> ?p ?o }}", "json")
    assert kind == "ask" and json.loads(payload)["boolean"] is True
    kind, payload = filled.query_results("ASK { <http://nowhere/> ?p ?o }", "xml")
    assert kind == "ask" and b"false" in payload

    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{G1}> {{ ?s ?p ?o }} }}"
    kind, payload = filled.query_results(query, "ntriples")
    assert kind == "graph"
    assert quads_of(payload, ox.RdfFormat.N_TRIPLES) == quads_of(
        G1_NTRIPLES.encode(), ox.RdfFormat.N_TRIPLES
    )
    kind, turtle = filled.query_results(query, "turtle")
    assert quads_of(turtle, ox.RdfFormat.TURTLE) == quads_of(
        payload, ox.RdfFormat.N_TRIPLES
    )
    kind, rdfxml = filled.query_results(query, "rdfxml")
    assert len(quads_of(rdfxml, ox.RdfFormat.RDF_XML)) == 5


def test_query_results_refuse_formats_that_do_not_fit(remote: RemoteStore) -> None:
    with pytest.raises(StoreError, match="SELECT results cannot be written as turtle"):
        remote.query_results("SELECT * { ?s ?p ?o }", "turtle")
    with pytest.raises(StoreError, match="graph results cannot be written as json"):
        remote.query_results("CONSTRUCT WHERE { ?s ?p ?o }", "json")
    with pytest.raises(StoreError, match="graph results cannot be written as nquads"):
        remote.query_results("DESCRIBE <http://e/>", "nquads")


# Dump and restore ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["nquads", "trig"])
def test_dump_then_load_into_a_fresh_server(
    filled: RemoteStore, tmp_path: Path, fmt: str
) -> None:
    filled.update(f"INSERT DATA {{ GRAPH <{G2}> {{ _:x <{EX}name> _:y }} }}")
    out = io.BytesIO()
    filled.dump(out, fmt)
    source = out.getvalue()
    parse_as = ox.RdfFormat.N_QUADS if fmt == "nquads" else ox.RdfFormat.TRIG
    expected = quads_of(source, parse_as)
    assert len(expected) == filled.count_quads() == 8
    path = tmp_path / f"dump.{fmt}"
    path.write_bytes(source)
    with OxigraphProcess() as fresh:
        target = RemoteStore.from_settings(settings_for(fresh))
        assert target.count_quads() == 0
        target.load_dump(str(path), fmt)
        again = io.BytesIO()
        target.dump(again, "nquads")
        assert quads_of(again.getvalue()) == expected
        assert target.graph_ntriples(G1) == G1_NTRIPLES


def test_dump_and_restore_through_plain_sparql(
    filled: RemoteStore, tmp_path: Path
) -> None:
    """A store that is not Oxigraph: SELECT for the dump, INSERT DATA to restore."""
    filled.update(f"INSERT DATA {{ GRAPH <{G2}> {{ _:x <{EX}name> _:x }} }}")
    reference = io.BytesIO()
    filled.dump(reference, "nquads")
    server_side = quads_of(reference.getvalue())

    generic = RemoteStore(filled.endpoint, update_endpoint=filled.update_endpoint)
    generic._server = "SomeOtherStore/1.0"  # as if the server were not Oxigraph
    for fmt, parse_as in (
        ("nquads", ox.RdfFormat.N_QUADS),
        ("trig", ox.RdfFormat.TRIG),
    ):
        out = io.BytesIO()
        generic.dump(out, fmt)
        dumped = quads_of(out.getvalue(), parse_as)
        assert dumped == server_side  # the same blank node stays the same

    path = tmp_path / "dump.nq"
    path.write_bytes(reference.getvalue())
    generic.update("DROP ALL")
    assert generic.count_quads() == 0
    generic.load_dump(str(path), "nquads")
    restored = io.BytesIO()
    filled.dump(restored, "nquads")
    assert quads_of(restored.getvalue()) == server_side


def test_dump_refuses_unknown_formats_and_load_missing_files(
    remote: RemoteStore,
) -> None:
    with pytest.raises(StoreError, match="nquads or trig"):
        remote.dump(io.BytesIO(), "turtle")
    with pytest.raises(StoreError, match=re.escape("cannot read /nonexistent/dump.nq")):
        remote.load_dump("/nonexistent/dump.nq", "nquads")


def test_update_endpoint_defaults_to_oxigraphs_update(filled: RemoteStore) -> None:
    store = RemoteStore(filled.endpoint)  # no update or graph store endpoint
    store.update(f'INSERT DATA {{ <{EX}d> <{EX}name> "Delta" }}')
    assert store.count_quads() == 8


# Publishing through the catalogue --------------------------------------------------


def _release_batch(
    settings: Settings, count: int, folder: Path
) -> tuple[list[catalog.ReleaseEntry], str, dict[str, str]]:
    """A few sample releases as publish takes them: entries and an N-Quads file."""
    releases = read_file(str(sample_calendar()), settings)[:count]
    iris = Iris(settings.base_url)
    entries, graphs = [], {}
    path = folder / "batch.nq"
    with path.open("w", encoding="utf-8") as fh:
        for release in releases:
            lines = sorted({_nt_row(t) for t in release_to_triples(release, settings)})
            graphs[release.slug] = "".join(lines)
            suffix = f" <{iris.release_graph(release.slug)}> .\n"
            fh.writelines(line[: -len(" .\n")] + suffix for line in lines)
            entries.append(
                catalog.ReleaseEntry(
                    slug=release.slug,
                    title=release.title or release.slug,
                    content_hash=catalog.content_hash(graphs[release.slug]),
                    topics=release.topics,
                )
            )
    return entries, str(path), graphs


def test_publish_through_the_catalogue(
    server: OxigraphProcess, remote: RemoteStore, tmp_path: Path
) -> None:
    settings = settings_for(server)
    entries, path, graphs = _release_batch(settings, 3, tmp_path)
    result = catalog.publish(remote, entries, path, settings)
    assert sorted(result.changed) == sorted(graphs)

    embedded = EmbeddedStore.in_memory()
    catalog.publish(embedded, entries, path, settings)

    states = catalog.release_states(remote, settings)
    assert {s: st.content_hash for s, st in states.items()} == {
        e.slug: e.content_hash for e in entries
    }
    assert catalog.data_version(remote, settings) == result.data_version
    stats = catalog.counts(remote, settings)
    expected = catalog.counts(embedded, settings)
    assert stats.releases == 3 == expected.releases
    assert stats.releases_by_status == expected.releases_by_status
    assert stats.graphs == 5 == expected.graphs  # 3 releases, catalogue, history
    assert stats.triples == expected.triples == remote.count_quads()
    assert stats.base_url == settings.base_url
    for slug, ntriples in graphs.items():
        remote_text = catalog.release_graph_ntriples(remote, settings, slug)
        assert remote_text == catalog.release_graph_ntriples(embedded, settings, slug)
        # as many triples as published (Oxigraph stores some datatypes in their
        # canonical form: xsd:nonNegativeInteger comes back as xsd:integer)
        assert len(remote_text.splitlines()) == len(ntriples.splitlines()) > 20

    again = catalog.publish(remote, entries, path, settings)
    assert again.changed == [] and sorted(again.unchanged) == sorted(states)
    assert again.data_version == result.data_version

    first = entries[0].slug
    gone = catalog.delete(remote, [first], "published in error", settings)
    assert catalog.data_version(remote, settings) == gone.data_version
    assert set(catalog.tombstones(remote, settings)) == {first}
    assert catalog.release_graph_ntriples(remote, settings, first) == ""
    assert set(catalog.release_states(remote, settings)) == set(graphs) - {first}


def test_data_survives_a_restart_and_a_kill(tmp_path: Path) -> None:
    with OxigraphProcess(tmp_path / "data") as own:
        store = RemoteStore.from_settings(settings_for(own, store_retries="0"))
        store.update(SAMPLE_DATA)
        own.restart()
        assert store.graph_ntriples(G1) == G1_NTRIPLES
        own.kill()
        started = time.monotonic()
        with pytest.raises(StoreError, match="cannot reach the SPARQL store"):
            store.count_quads()
        assert time.monotonic() - started < 5
        own.start()
        assert store.count_quads() == 7


# Faults ------------------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeStore:
    """An HTTP server on 127.0.0.1 that gives every request the same answer."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def answer(self, status: int, body: bytes, content_type: str) -> None:
        self.status, self.body, self.content_type = status, body, content_type

    def url(self, path: str = "/sparql") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self, method: str) -> int:
        return sum(1 for s in self.seen if s.method == method)

    port: int = 0


@pytest.fixture
def fake() -> Iterator[FakeStore]:
    state = FakeStore()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.seen.append(Seen(self.command, self.path, dict(self.headers), body))
            self.send_response(state.status)
            if state.status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="store"')
            self.send_header("Content-Type", state.content_type)
            for name, value in state.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = httpd.server_address[1]
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def _store(url: str, **settings: str) -> RemoteStore:
    values = {"store_timeout": "2", "store_retries": "2", **settings}
    return RemoteStore.from_settings(Settings(endpoint=url, **values))


def test_unreachable_store_fails_quickly_naming_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/query"
    store = _store(url, store_retries="1")
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        store.select("SELECT * WHERE { ?s ?p ?o }")
    message = str(caught.value)
    assert f"cannot reach the SPARQL store at {url}: connection refused" in message
    assert "tried 2 times" in message
    assert time.monotonic() - started < 3
    with pytest.raises(StoreError, match="cannot reach"):
        store.update("INSERT DATA { <http://a/> <http://b/> <http://c/> }")


def test_server_errors_retry_reads_but_never_writes(fake: FakeStore) -> None:
    fake.answer(500, b"Internal trouble\n  on two lines", "text/plain")
    store = _store(fake.url(), store_retries="2")
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        store.select("SELECT * WHERE { ?s ?p ?o }")
    assert time.monotonic() - started >= 0.2 + 0.4  # backed off between attempts
    message = str(caught.value)
    assert "HTTP 500" in message and "Internal trouble on two lines" in message
    assert fake.url() in message
    assert fake.count("POST") == 3  # one try and two retries

    with pytest.raises(StoreError, match="HTTP 500"):
        store.count_quads()
    assert fake.count("POST") == 6

    with pytest.raises(StoreError, match="HTTP 500") as caught:
        store.update("INSERT DATA { <http://a/> <http://b/> <http://c/> }")
    assert fake.count("POST") == 7  # exactly once
    assert "may or may not" not in str(caught.value)
    assert fake.seen[-1].headers["Content-Type"].startswith("application/sparql-update")

    gsp = _store(fake.url(), gsp_endpoint=fake.url("/store"), store_retries="1")
    with pytest.raises(StoreError, match="HTTP 500"):
        gsp.graph_ntriples(G1)
    assert fake.count("GET") == 2
    assert fake.seen[-1].path == "/store?graph=http%3A%2F%2Fexample.org%2Fgraphs%2Fone"


def test_a_redirected_write_is_not_followed(fake: FakeStore) -> None:
    """urllib would follow a 302 for a POST as a GET without the update."""
    fake.answer(302, b"", "text/plain")
    fake.headers["Location"] = fake.url("/elsewhere")
    store = _store(fake.url())
    with pytest.raises(StoreError) as caught:
        store.update("INSERT DATA { <http://a/> <http://b/> <http://c/> }")
    assert "HTTP 302" in str(caught.value)
    assert fake.url("/elsewhere") in str(caught.value)
    assert [(s.method, s.path) for s in fake.seen] == [("POST", "/sparql")]


def test_other_client_errors_are_not_retried(fake: FakeStore) -> None:
    fake.answer(400, b"Parse error: unexpected token", "text/plain")
    store = _store(fake.url())
    with pytest.raises(StoreError, match=r"rejected the query .*Parse error"):
        store.select("SELECT * WHERE { ?s ?p ?o }")
    assert fake.count("POST") == 1


def test_unreadable_answers_are_store_errors(fake: FakeStore) -> None:
    fake.answer(200, b"<html>not json</html>", "application/sparql-results+json")
    with pytest.raises(StoreError, match="cannot be read"):
        _store(fake.url()).select("SELECT * WHERE { ?s ?p ?o }")


@pytest.fixture
def silent() -> Iterator[tuple[str, list[socket.socket]]]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/sparql", accepted
    stop.set()
    thread.join(5)
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_store_that_never_answers_times_out(
    silent: tuple[str, list[socket.socket]],
) -> None:
    url, accepted = silent
    timeout, retries = 0.5, 1
    store = _store(url, store_timeout=str(timeout), store_retries=str(retries))
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        store.select("SELECT * WHERE { ?s ?p ?o }")
    assert time.monotonic() - started < timeout * (retries + 1) + 2
    assert f"the SPARQL store at {url} did not answer within 0.5 s" in str(caught.value)
    assert len(accepted) == retries + 1

    with pytest.raises(StoreError, match="may or may not have been applied"):
        store.update("INSERT DATA { <http://a/> <http://b/> <http://c/> }")
    assert len(accepted) == retries + 2  # the write was sent once


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials(fake: FakeStore, status: int) -> None:
    fake.answer(status, b"Unauthorized", "text/plain")
    store = _store(fake.url(), store_user="ann", store_password="wrong")  # noqa: S106
    with pytest.raises(StoreError) as caught:
        store.select("SELECT * WHERE { ?s ?p ?o }")
    assert f"refused the credentials (HTTP {status})" in str(caught.value)
    assert fake.count("POST") == 1
    with pytest.raises(StoreError, match="refused the credentials"):
        store.update("INSERT DATA { <http://a/> <http://b/> <http://c/> }")
    anonymous = _store(fake.url())
    with pytest.raises(StoreError, match="store_user and store_password"):
        anonymous.select("SELECT * WHERE { ?s ?p ?o }")


RESULTS = b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"uri","value":"http://a/"}}]}}'


@pytest.mark.parametrize(
    ("credentials", "header"),
    [
        (
            {"store_user": "ann", "store_password": "s3cret:x"},
            "Basic " + base64.b64encode(b"ann:s3cret:x").decode(),
        ),
        ({"store_token": "tok-123"}, "Bearer tok-123"),
    ],
    ids=["basic", "bearer"],
)
def test_credentials_go_with_every_request(
    fake: FakeStore, credentials: dict[str, str], header: str
) -> None:
    fake.answer(200, RESULTS, "application/sparql-results+json")
    store = _store(fake.url(), gsp_endpoint=fake.url("/store"), **credentials)
    assert store.select("SELECT ?s WHERE { ?s ?p ?o }") == [{"s": "http://a/"}]
    fake.answer(204, b"", "text/plain")
    store.update("INSERT DATA { <http://a/> <http://b/> <http://c/> }")
    fake.answer(
        200, b"<http://a/> <http://b/> <http://c/> .\n", "application/n-triples"
    )
    assert store.graph_ntriples(G1) == "<http://a/> <http://b/> <http://c/> .\n"
    assert len(fake.seen) == 3
    assert [s.headers.get("Authorization") for s in fake.seen] == [header] * 3


def test_query_results_retries_reads_too(fake: FakeStore) -> None:
    """The probe and the query of query_results are reads: both are retried."""
    fake.answer(503, b"busy", "text/plain")
    store = _store(fake.url(), store_retries="1")
    with pytest.raises(StoreError, match=r"HTTP 503.*tried 2 times"):
        store.query_results("SELECT * WHERE { ?s ?p ?o }", "json")
    assert len(fake.seen) == 2
