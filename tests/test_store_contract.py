"""One contract for every store: embedded on disk, embedded in memory, a real
``oxigraph serve`` process over HTTP (tests/oxigraph_server.py) and a real
Virtuoso over HTTP (tests/virtuoso_server.py)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox
import pytest

from publisher import pipeline
from publisher.config import Settings
from publisher.errors import StoreConflictError, StoreError
from publisher.importers import read_file
from publisher.model import Release
from publisher.store import Store, catalog
from publisher.store.index import ListingIndex
from publisher.store.oxigraph import EmbeddedStore

from .conftest import FIXTURES
from .oxigraph_server import OxigraphProcess, settings_for
from .virtuoso_server import VirtuosoProcess, start_virtuoso
from .virtuoso_server import settings_for as virtuoso_settings_for

SETTINGS = Settings()


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphProcess]:
    server = OxigraphProcess(tmp_path_factory.mktemp("oxigraph"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoProcess]:
    server = start_virtuoso(tmp_path_factory.mktemp("virtuoso"))
    yield server
    server.stop()


@pytest.fixture(
    params=["embedded-disk", "embedded-memory", "oxigraph-serve", "virtuoso"]
)
def backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Store, Settings]]:
    if request.param == "embedded-disk":
        store: Store = EmbeddedStore.open(tmp_path / "store")
        settings = replace(SETTINGS, store=str(tmp_path / "store"))
    elif request.param == "embedded-memory":
        store = EmbeddedStore.in_memory()
        settings = SETTINGS
    elif request.param == "virtuoso":
        running: VirtuosoProcess = request.getfixturevalue("virtuoso")
        settings = virtuoso_settings_for(running, base_url=SETTINGS.base_url)
        from publisher.store.sparql import RemoteStore

        store = RemoteStore.from_settings(settings)
        running.clear()  # one server for the module; DROP ALL does nothing there
    else:
        server: OxigraphProcess = request.getfixturevalue("oxigraph")
        settings = settings_for(server, base_url=SETTINGS.base_url)
        from publisher.store.sparql import RemoteStore

        store = RemoteStore.from_settings(settings)
        store.update("DROP ALL")  # one server for the module: start each test empty
    yield store, settings
    store.close()


def _dump(store: Store) -> list[str]:
    out = io.BytesIO()
    store.dump(out, "nquads")
    return sorted(line for line in out.getvalue().decode().splitlines() if line)


def _empty(store: Store) -> None:
    """Remove every quad, portably (Virtuoso ignores DROP ALL)."""
    store.update("DROP ALL")
    if store.count_quads():
        graphs = store.select(
            "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
        )
        store.update(" ;\n".join(f"DROP SILENT GRAPH <{r['g']}>" for r in graphs))
    assert store.count_quads() == 0


def _canonical(lines: list[str]) -> list[str]:
    """Quads as pyoxigraph stores them: stores normalise some literals by value
    (Oxigraph writes xsd:nonNegativeInteger as xsd:integer, Virtuoso keeps it)."""
    normalised = EmbeddedStore.in_memory()
    normalised.store.load("\n".join(lines) + "\n", ox.RdfFormat.N_QUADS)
    return _dump(normalised)


def _publish(
    store: Store, settings: Settings, releases: list[Release]
) -> catalog.PublishResult:
    outcome = pipeline.import_batch(releases, settings, store, jobs=1)
    assert outcome.published is not None, outcome.batch.report.to_text()
    return outcome.published


def test_publish_makes_every_release_visible(
    backend: tuple[Store, Settings], sample_releases: list[Release]
) -> None:
    store, settings = backend
    result = _publish(store, settings, sample_releases)
    assert sorted(result.changed) == sorted(r.slug for r in sample_releases)
    states = catalog.release_states(store, settings)
    assert set(states) == {r.slug for r in sample_releases}
    # direct lookups of a few records agree with the full read, and so do versions
    some = [r.slug for r in sample_releases[:5]] + ["not-published"]
    assert catalog.release_states(store, settings, some) == {
        s: states[s] for s in some[:5]
    }
    assert catalog.release_versions(store, settings) == {
        s: (st.content_hash, st.modified) for s, st in states.items()
    }
    assert catalog.data_version(store, settings) == result.data_version
    assert catalog.recorded_base_url(store) == settings.base_url
    one = sample_releases[0]
    nt = catalog.release_graph_ntriples(store, settings, one.slug)
    assert f"<{settings.base_url}/releases/{one.slug}#release>" in nt
    stats = catalog.counts(store, settings)
    assert stats.releases == len(sample_releases)
    assert stats.graphs == len(sample_releases) + 2  # + the catalogue and history


def test_importing_the_same_data_twice_changes_nothing(
    backend: tuple[Store, Settings], sample_releases: list[Release]
) -> None:
    store, settings = backend
    first = _publish(store, settings, sample_releases)
    before = _dump(store)
    again = _publish(store, settings, sample_releases)
    assert again.changed == []
    assert again.data_version == first.data_version
    assert _dump(store) == before


def test_a_changed_release_gets_a_new_version_and_keeps_its_first_issue(
    backend: tuple[Store, Settings], sample_releases: list[Release]
) -> None:
    store, settings = backend
    _publish(store, settings, sample_releases)
    before = catalog.release_states(store, settings)
    target = sample_releases[3]
    changed = replace(target, summary=(target.summary or "") + " Revised.")
    result = _publish(store, settings, [changed])
    assert result.changed == [target.slug]
    after = catalog.release_states(store, settings)
    assert after[target.slug].content_hash != before[target.slug].content_hash
    assert after[target.slug].issued == before[target.slug].issued
    others = [s for s in before if s != target.slug]
    assert all(after[s] == before[s] for s in others)
    assert "Revised." in catalog.release_graph_ntriples(store, settings, target.slug)


def test_an_invalid_batch_changes_nothing(
    backend: tuple[Store, Settings], sample_releases: list[Release]
) -> None:
    store, settings = backend
    _publish(store, settings, sample_releases[:5])
    before = _dump(store)
    broken = replace(sample_releases[6], title=None)
    outcome = pipeline.import_batch(
        [sample_releases[5], broken, *sample_releases[7:9]], settings, store, jobs=1
    )
    assert outcome.published is None
    assert not outcome.batch.report.conforms
    assert _dump(store) == before


def test_delete_leaves_a_tombstone(
    backend: tuple[Store, Settings], sample_releases: list[Release]
) -> None:
    store, settings = backend
    _publish(store, settings, sample_releases[:4])
    gone = sample_releases[1]
    result = catalog.delete(store, [gone.slug], "Published by mistake.", settings)
    assert result.deleted == [gone.slug]
    assert catalog.release_graph_ntriples(store, settings, gone.slug) == ""
    assert gone.slug not in catalog.release_states(store, settings)
    stone = catalog.tombstones(store, settings)[gone.slug]
    assert stone.title == gone.title
    assert stone.reason == "Published by mistake."
    assert catalog.data_version(store, settings) == result.data_version
    # publishing it again lifts the tombstone
    _publish(store, settings, [gone])
    assert gone.slug not in catalog.tombstones(store, settings)


def test_deleting_an_unknown_release_changes_nothing(
    backend: tuple[Store, Settings], sample_releases: list[Release]
) -> None:
    store, settings = backend
    _publish(store, settings, sample_releases[:2])
    before = _dump(store)
    with pytest.raises(StoreError, match="no release 'nope'"):
        catalog.delete(store, [sample_releases[0].slug, "nope"], "x", settings)
    assert _dump(store) == before


def test_dump_and_restore_round_trip(
    backend: tuple[Store, Settings],
    sample_releases: list[Release],
    tmp_path: Path,
) -> None:
    """Restoring a dump into an empty store gives back exactly the dumped quads."""
    store, settings = backend
    _publish(store, settings, sample_releases)
    catalog.delete(store, [sample_releases[0].slug], "Duplicate", settings)
    dumped = _dump(store)
    assert len(dumped) > 6000
    out = io.BytesIO()
    store.dump(out, "trig")
    for fmt, text in (
        ("nquads", "\n".join(dumped) + "\n"),
        ("trig", out.getvalue().decode()),
    ):
        path = tmp_path / f"dump.{fmt}"
        path.write_text(text)
        _empty(store)
        store.load_dump(str(path), fmt)
        assert _dump(store) == dumped, fmt


def test_query_results_in_every_format(
    backend: tuple[Store, Settings], sample_releases: list[Release]
) -> None:
    store, settings = backend
    _publish(store, settings, sample_releases[:3])
    select = (
        "PREFIX pub: <https://w3id.org/release-publisher/ns#> "
        "SELECT ?slug WHERE { GRAPH ?g { ?r a pub:Release ; pub:slug ?slug } } "
        "ORDER BY ?slug"
    )
    kind, body = store.query_results(select, "json")
    assert kind == "select"
    slugs = [b["slug"]["value"] for b in json.loads(body)["results"]["bindings"]]
    assert slugs == sorted(r.slug for r in sample_releases[:3])
    for fmt, marker in (("csv", b"slug"), ("tsv", b"?slug"), ("xml", b"<sparql")):
        kind, body = store.query_results(select, fmt)
        assert marker in body, fmt
    kind, body = store.query_results("ASK { GRAPH ?g { ?s ?p ?o } }", "json")
    assert (kind, json.loads(body)["boolean"]) == ("ask", True)
    kind, body = store.query_results(
        "CONSTRUCT { ?s ?p ?o } WHERE { { SELECT DISTINCT ?s ?p ?o "
        "WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 5 } }",
        "ntriples",
    )
    assert kind == "graph"
    assert body.count(b" .\n") == 5
    with pytest.raises(StoreError):
        store.query_results("SELEKT nonsense", "json")


def test_a_store_built_for_another_base_url_is_refused(
    backend: tuple[Store, Settings], sample_releases: list[Release]
) -> None:
    store, settings = backend
    _publish(store, settings, sample_releases[:1])
    other = replace(settings, base_url="https://elsewhere.example")
    with pytest.raises(StoreConflictError, match="was built for base URL"):
        catalog.publish(store, [], "/dev/null", other)
    with pytest.raises(StoreConflictError):
        pipeline.import_batch(sample_releases[:1], other, store, jobs=1)


def test_the_listing_index_follows_the_store(
    backend: tuple[Store, Settings], sample_releases: list[Release]
) -> None:
    store, settings = backend
    index = ListingIndex(":memory:")
    _publish(store, settings, sample_releases[:10])
    assert index.ensure_current(store, settings) is not None
    assert index.ensure_current(store, settings) is None  # already current

    def agrees() -> None:
        states = catalog.release_states(store, settings)
        assert index.data_version() == catalog.data_version(store, settings)
        rows = {s: index.get(s) for s in states}
        assert all(
            r is not None and r.content_hash == states[s].content_hash
            for s, r in rows.items()
        )
        assert index.count() == len(states)

    agrees()
    _publish(store, settings, [replace(sample_releases[0], title="A new title")])
    catalog.delete(store, [sample_releases[1].slug], "Gone", settings)
    _publish(store, settings, sample_releases[10:20])
    index.ensure_current(store, settings)
    agrees()
    assert index.get(sample_releases[0].slug).title == "A new title"  # type: ignore[union-attr]
    assert index.tombstone(sample_releases[1].slug) is not None
    rebuilt = ListingIndex(":memory:")
    rebuilt.rebuild(store, settings)
    assert rebuilt.count() == index.count()
    assert rebuilt.count_by_status() == index.count_by_status()
    assert rebuilt.count_by_topic() == index.count_by_topic()


def test_csv_and_native_inputs_publish(
    backend: tuple[Store, Settings], settings: Settings
) -> None:
    store, store_settings = backend
    releases = read_file(str(FIXTURES / "native" / "calendar.csv"), store_settings)
    result = _publish(store, store_settings, releases)
    assert len(result.changed) == 3


def test_the_index_reads_the_same_rows_by_scan_and_by_graph(
    backend: tuple[Store, Settings],
    sample_releases: list[Release],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Big syncs scan every release graph; small ones look up each graph."""
    from publisher.store import index as index_module

    store, settings = backend
    _publish(store, settings, sample_releases)
    by_graph = ListingIndex(":memory:")
    monkeypatch.setattr(index_module, "FULL_SCAN_MIN", 10**9)
    by_graph.rebuild(store, settings)
    by_scan = ListingIndex(":memory:")
    monkeypatch.setattr(index_module, "FULL_SCAN_MIN", 1)
    by_scan.rebuild(store, settings)
    slugs = [r.slug for r in sample_releases]
    assert [by_scan.get(s) for s in slugs] == [by_graph.get(s) for s in slugs]
    assert by_scan.count_by_topic() == by_graph.count_by_topic()
    assert [r.slug for r in by_scan.search("labour market")] == [
        r.slug for r in by_graph.search("labour market")
    ]


def test_publishing_in_batches_equals_publishing_at_once(
    backend: tuple[Store, Settings], sample_releases: list[Release]
) -> None:
    """Each batch updates the catalogue without losing what earlier batches wrote."""
    import re

    store, settings = backend
    for start in range(0, len(sample_releases), 20):
        _publish(store, settings, sample_releases[start : start + 20])
    once = EmbeddedStore.in_memory()
    _publish(once, settings, sample_releases)

    def normalised(lines: list[str]) -> set[str]:
        # times and the data version (in history IRIs too) differ between the two
        # runs, nothing else
        return {
            re.sub(
                r"/history/[0-9a-f]{32}/",
                "/history/*/",
                re.sub(r'"[^"]*"(\^\^<[^>]*dateTime>)?(?= <[^>]*> \.$)', '"*"', line)
                if ("dataVersion" in line or "dateTime" in line)
                else line,
            )
            for line in lines
        }

    assert normalised(_canonical(_dump(store))) == normalised(_dump(once))
