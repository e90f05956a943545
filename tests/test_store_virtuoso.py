"""What is particular to Virtuoso (Debian's virtuoso-opensource 7.2), on a real
private server (tests/virtuoso_server.py); the shared behaviour is in
tests/test_store_contract.py. Several tests pin down what Virtuoso does
differently, as docs/stores.md ("Virtuoso") describes it."""

from __future__ import annotations

import io
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from publisher import pipeline
from publisher.config import Settings
from publisher.errors import StoreError
from publisher.model import Release
from publisher.store import catalog
from publisher.store.oxigraph import EmbeddedStore
from publisher.store.sparql import RemoteStore

from .virtuoso_server import (
    DEFAULT_MAX_ROWS,
    READY_SECONDS,
    VirtuosoProcess,
    settings_for,
    start_virtuoso,
)

EX = "http://example.org/"
G1 = EX + "graphs/one"
G2 = EX + "graphs/two"
XSD = "http://www.w3.org/2001/XMLSchema#"
SETTINGS = Settings()


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoProcess]:
    server = start_virtuoso(tmp_path_factory.mktemp("virtuoso"))
    yield server
    server.stop()


@pytest.fixture
def store(virtuoso: VirtuosoProcess) -> RemoteStore:
    """The module's server, emptied; a new client that has not heard from it."""
    virtuoso.clear()
    return RemoteStore.from_settings(settings_for(virtuoso))


def _triples(graph: str, count: int, tag: str = "") -> str:
    lines = "\n".join(f'<{EX}s{i}> <{EX}p> "{tag}{i}" .' for i in range(count))
    return f"GRAPH <{graph}> {{\n{lines}\n}}"


def _nquads(store: RemoteStore, fmt: str = "nquads") -> list[str]:
    out = io.BytesIO()
    store.dump(out, fmt)
    parse_as = ox.RdfFormat.N_QUADS if fmt == "nquads" else ox.RdfFormat.TRIG
    return sorted(str(q) + " ." for q in ox.parse(out.getvalue(), parse_as))


def _post_update(server: VirtuosoProcess, update: str) -> tuple[int, str]:
    """An update as it is, without what RemoteStore adds for Virtuoso."""
    request = urllib.request.Request(  # noqa: S310 - our own 127.0.0.1 server
        server.sparql_url,
        data=update.encode("utf-8"),
        headers={"Content-Type": "application/sparql-update"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode("utf-8", "replace")


def test_a_private_server_is_ready_quickly_and_hides_its_own_graphs(
    virtuoso: VirtuosoProcess, store: RemoteStore
) -> None:
    assert virtuoso.ready_seconds is not None
    assert virtuoso.ready_seconds < READY_SECONDS
    assert store.count_quads() == 0
    assert catalog.is_empty(store)
    assert _nquads(store) == []
    assert store.select("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 1") == []
    # they are still there for dba, who sees every graph
    out = virtuoso.isql(
        "SPARQL SELECT COUNT(*) FROM <http://www.openlinksw.com/schemas/virtrdf#> "
        "WHERE { ?s ?p ?o };\n"
    )
    assert int(re.findall(r"^\s*(\d+)\s*$", out, re.MULTILINE)[0]) > 1000


def test_drop_all_does_nothing_so_the_tests_drop_each_graph(
    virtuoso: VirtuosoProcess, store: RemoteStore
) -> None:
    store.update(f"INSERT DATA {{ {_triples(G1, 2)} {_triples(G2, 1)} }}")
    store.update("DROP ALL")
    assert store.count_quads() == 3
    virtuoso.clear()
    assert store.count_quads() == 0


def test_a_big_update_is_sent_with_virtuosos_pragma(
    virtuoso: VirtuosoProcess, store: RemoteStore
) -> None:
    blocks = " ".join(_triples(f"{G1}/{n}", 1500, f"{n}-") for n in range(3))
    update = f"INSERT DATA {{ {blocks} }}"
    status, text = _post_update(virtuoso, update)  # as plain SPARQL 1.1
    assert status == 400
    assert "exceeded 10000 lines" in text
    assert store.count_quads() == 0
    store.update(update)  # the client asks what the server is, then adds the pragma
    assert store.count_quads() == 4500


def test_no_quad_is_listed_twice(store: RemoteStore) -> None:
    """Virtuoso's default graph is the union of all graphs."""
    store.update(
        f"INSERT DATA {{ GRAPH <{G1}> {{ <{EX}a> <{EX}p> <{EX}b> . "
        f'<{EX}a> <{EX}q> "x" }} GRAPH <{G2}> {{ <{EX}a> <{EX}p> <{EX}b> }} }}'
    )
    union = store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert int(union[0]["n"]) >= 2  # the default graph sees the named graphs
    assert store.count_quads() == 3
    expected = sorted(
        [
            f"<{EX}a> <{EX}p> <{EX}b> <{G1}> .",
            f'<{EX}a> <{EX}q> "x" <{G1}> .',
            f"<{EX}a> <{EX}p> <{EX}b> <{G2}> .",
        ]
    )
    assert _nquads(store) == expected
    assert _nquads(store, "trig") == expected


def test_results_cut_off_at_the_row_limit_are_refused(store: RemoteStore) -> None:
    rows = DEFAULT_MAX_ROWS + 500
    blocks = " ".join(
        _triples(G1, min(2000, rows - start), f"{start}-")
        for start in range(0, rows, 2000)
    )
    store.update(f"INSERT DATA {{ {blocks} }}")
    assert store.count_quads() == rows  # a count is one row: not cut off
    cut = f"cut the results off at {DEFAULT_MAX_ROWS} rows.*ResultSetMaxRows"
    with pytest.raises(StoreError, match=cut):
        store.select("SELECT ?s ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    with pytest.raises(StoreError, match=cut):
        store.dump(io.BytesIO(), "nquads")
    # CONSTRUCT results are cut off too, and without a word: a graph's N-Triples
    # are whole only below the limit (a release graph has about 120 triples)
    assert len(store.graph_ntriples(G1).splitlines()) < rows
    # ad hoc queries give what the store gives
    query = "SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
    _, body = store.query_results(query, "json")
    assert len(json.loads(body)["results"]["bindings"]) == DEFAULT_MAX_ROWS


def test_tsv_is_sparql_tsv_and_booleans_read_as_true(store: RemoteStore) -> None:
    store.update(
        f'INSERT DATA {{ GRAPH <{G1}> {{ <{EX}a> <{EX}free> "true"^^<{XSD}boolean> ; '
        f'<{EX}name> "Alpha" }} }}'
    )
    query = f"SELECT ?s ?o WHERE {{ GRAPH ?g {{ ?s <{EX}free> ?o }} }}"
    kind, body = store.query_results(query, "tsv")
    assert kind == "select"
    assert body.decode().splitlines() == [
        "?s\t?o",
        f"<{EX}a>\ttrue",
    ]
    assert store.select(query) == [{"s": f"{EX}a", "o": "true"}]
    _, body = store.query_results(query, "json")  # Virtuoso's own JSON
    assert json.loads(body)["results"]["bindings"][0]["o"]["value"] == "1"
    _, body = store.query_results(query, "csv")
    assert body.decode().splitlines()[0] == '"s","o"'
    _, body = store.query_results(f"ASK {{ GRAPH ?g {{ <{EX}a> ?p ?o }} }}", "tsv")
    assert body == b"true"


def test_what_virtuoso_changes_in_literals(store: RemoteStore) -> None:
    written = {
        "utc": f'"2026-06-01T09:30:00+00:00"^^<{XSD}dateTime>',
        "millis": f'"2026-06-01T09:30:00.000+00:00"^^<{XSD}dateTime>',
        "bst": f'"2026-06-01T09:30:00+01:00"^^<{XSD}dateTime>',
        "date": f'"2026-06-01"^^<{XSD}date>',
        "count": f'"007"^^<{XSD}integer>',
        "size": f'"5"^^<{XSD}nonNegativeInteger>',
        "label": '"colour"@en-GB',
        "text": '"caf\\u00E9 \\"q\\"\\n"',
    }
    body = " ".join(f"<{EX}{key}> <{EX}v> {value} ." for key, value in written.items())
    store.update(f"INSERT DATA {{ GRAPH <{G1}> {{ {body} }} }}")
    read = {
        str(t.subject.value)[len(EX) :]: str(t.object)
        for t in ox.parse(store.graph_ntriples(G1).encode(), ox.RdfFormat.N_TRIPLES)
    }
    assert read == {
        "utc": f'"2026-06-01T09:30:00Z"^^<{XSD}dateTime>',  # +00:00 becomes Z
        "millis": f'"2026-06-01T09:30:00Z"^^<{XSD}dateTime>',  # .000 dropped
        "bst": f'"2026-06-01T09:30:00+01:00"^^<{XSD}dateTime>',
        "date": f'"2026-06-01"^^<{XSD}date>',
        "count": f'"7"^^<{XSD}integer>',
        "size": f'"5"^^<{XSD}nonNegativeInteger>',  # (Oxigraph: xsd:integer)
        "label": '"colour"@en-gb',  # language tags in lower case
        "text": '"café \\"q\\"\\n"',
    }
    with pytest.raises(StoreError, match="HTTP 400"):  # xsd:duration: not at all
        store.update(
            f"INSERT DATA {{ GRAPH <{G2}> {{ <{EX}d> <{EX}v> "
            f'"P1D"^^<{XSD}duration> }} }}'
        )


def test_an_update_that_fails_while_running_keeps_what_ran_before(
    store: RemoteStore,
) -> None:
    with pytest.raises(StoreError, match=r"HTTP 500.*has not been explicitly created"):
        store.update(
            f'INSERT DATA {{ GRAPH <{G1}> {{ <{EX}a> <{EX}p> "1" }} }} ;\n'
            f"DROP GRAPH <{G2}>"  # without SILENT: Virtuoso fails here, at run time
        )
    assert store.count_quads() == 1  # not rolled back
    with pytest.raises(StoreError, match="HTTP 400"):
        store.update(  # a request that does not compile changes nothing
            f'INSERT DATA {{ GRAPH <{G2}> {{ <{EX}a> <{EX}p> "1" }} }} ;\n'
            "INSERT DATA { this is not SPARQL }"
        )
    assert store.count_quads() == 1


def test_publish_dump_and_restore(
    virtuoso: VirtuosoProcess,
    store: RemoteStore,
    sample_releases: list[Release],
    tmp_path: Path,
) -> None:
    settings = settings_for(virtuoso, base_url=SETTINGS.base_url)
    outcome = pipeline.import_batch(sample_releases, settings, store, jobs=1)
    assert outcome.published is not None
    catalog.delete(store, [sample_releases[0].slug], "Duplicate", settings)
    states = catalog.release_states(store, settings)
    stones = catalog.tombstones(store, settings)
    assert len(states) == len(sample_releases) - 1
    assert list(stones) == [sample_releases[0].slug]

    # the same data published into the embedded store, compared as Oxigraph
    # stores it (xsd:integer for xsd:nonNegativeInteger) with the times left out
    path = tmp_path / "virtuoso.nq"
    path.write_text("\n".join(_nquads(store)) + "\n", encoding="utf-8")
    mine = EmbeddedStore.in_memory()
    mine.load_dump(str(path), "nquads")
    embedded = EmbeddedStore.in_memory()
    pipeline.import_batch(sample_releases, SETTINGS, embedded, jobs=1)
    catalog.delete(embedded, [sample_releases[0].slug], "Duplicate", SETTINGS)

    def timeless(target: EmbeddedStore) -> set[str]:
        out = io.BytesIO()
        target.dump(out, "nquads")
        return {
            re.sub(
                r"/history/[0-9a-f]{32}/",
                "/history/*/",
                re.sub(r'"[^"]*"(\^\^<[^>]*dateTime>)?(?= <[^>]*> \.$)', '"*"', line)
                if ("dataVersion" in line or "dateTime" in line)
                else line,
            )
            for line in out.getvalue().decode().splitlines()
        }

    assert timeless(mine) == timeless(embedded)

    # restore into an emptied Virtuoso: generic INSERT DATA, all of it
    virtuoso.clear()
    assert catalog.is_empty(store)
    store.load_dump(str(path), "nquads")
    assert _nquads(store) == path.read_text(encoding="utf-8").splitlines()
    assert catalog.release_states(store, settings) == states
    assert catalog.tombstones(store, settings) == stones
