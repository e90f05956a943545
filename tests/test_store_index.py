"""The listing index never disagrees with the store after a publish, even when
another process publishes into a shared remote store."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from publisher.resources import sample_calendar
from publisher.store import catalog
from publisher.store.index import TOPIC_RECOUNT, ListingIndex
from publisher.store.sparql import RemoteStore

from .conftest import FIXTURES
from .oxigraph_server import OxigraphProcess, settings_for


@pytest.fixture
def server(tmp_path: Path) -> Iterator[OxigraphProcess]:
    with OxigraphProcess(tmp_path / "oxigraph") as running:
        yield running


def _other_process(server: OxigraphProcess, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env.update(
        PUBLISHER_ENDPOINT=server.query_url,
        PUBLISHER_UPDATE_ENDPOINT=server.update_url,
        PUBLISHER_INDEX=str(Path(server.location).parent / "other-index.sqlite"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "publisher", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_a_worker_index_follows_another_process(
    server: OxigraphProcess, tmp_path: Path
) -> None:
    settings = settings_for(server)
    store = RemoteStore.from_settings(settings)
    worker = ListingIndex(str(tmp_path / "worker.sqlite"))

    _other_process(server, "import", str(sample_calendar()))
    worker.ensure_current(store, settings)
    assert worker.count() == 52
    assert worker.data_version() == catalog.data_version(store, settings)

    # Another process publishes and deletes; this worker catches up on its next look.
    _other_process(server, "import", str(FIXTURES / "native" / "calendar.json"))
    _other_process(
        server, "delete", "labour-market-overview-uk-september-2026", "--reason", "Gone"
    )
    assert worker.count() == 52  # stale until it looks
    worker.ensure_current(store, settings)
    assert worker.count() == 53
    assert worker.get("labour-market-overview-uk-september-2026") is None
    assert worker.tombstone("labour-market-overview-uk-september-2026") is not None
    assert worker.get("house-price-index-uk-january-2027") is not None
    states = catalog.release_states(store, settings)
    assert {s: worker.get(s).content_hash for s in states} == {  # type: ignore[union-attr]
        s: st.content_hash for s, st in states.items()
    }
    upcoming = worker.upcoming(
        datetime(2027, 5, 1, tzinfo=UTC), datetime(2027, 6, 1, tzinfo=UTC)
    )
    assert "index-of-production-uk-march-2027" in {r.slug for r in upcoming}
    worker.close()
    store.close()


def test_following_a_write_reads_only_its_releases(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a write this process made, the index re-reads just the releases it
    changed, and ends as a full rebuild would; an index that was behind syncs in
    full."""
    import dataclasses

    from publisher import pipeline
    from publisher.config import Settings
    from publisher.importers import read_file
    from publisher.store.oxigraph import EmbeddedStore

    settings = Settings()
    releases = read_file(str(sample_calendar()), settings)
    store = EmbeddedStore.in_memory()
    pipeline.import_batch(releases, settings, store, jobs=1)
    index = ListingIndex(":memory:")
    index.ensure_current(store, settings)
    full_scans: list[int] = []
    real = catalog.release_versions

    def counted(*args: object) -> object:
        full_scans.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(catalog, "release_versions", counted)
    previous = catalog.data_version(store, settings)
    changed = dataclasses.replace(releases[3], title="A title changed in place")
    result = pipeline.import_batch([changed], settings, store, jobs=1).published
    assert result is not None
    index.sync_releases(store, settings, previous, result.data_version, [changed.slug])
    assert full_scans == []
    assert index.data_version() == result.data_version
    assert index.get(changed.slug).title == "A title changed in place"  # type: ignore[union-attr]
    # a delete, which the index does not hear of; then a write it does hear of
    catalog.delete(store, [releases[7].slug], "Duplicate", settings)
    previous = catalog.data_version(store, settings)
    index_behind = index.data_version() != previous
    third = dataclasses.replace(
        releases[5], summary="Changed once more, for the index."
    )
    result = pipeline.import_batch([third], settings, store, jobs=1).published
    assert result is not None
    index.sync_releases(store, settings, previous, result.data_version, [third.slug])
    assert index_behind and full_scans == [1]  # it was behind: a full sync
    monkeypatch.undo()
    rebuilt = ListingIndex(":memory:")
    rebuilt.rebuild(store, settings)
    slugs = [r.slug for r in releases]
    assert [index.get(s) for s in slugs] == [rebuilt.get(s) for s in slugs]
    assert index.tombstone(releases[7].slug) is not None


def test_the_bulk_query_and_one_release_read_back_give_the_same_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A full scan (one query over every graph), the same query asked of a few
    graphs or of one, and a release's graph read back into a Release fill a row
    through the same field table, to the same row."""
    from publisher import pipeline
    from publisher.config import Settings
    from publisher.importers import read_file
    from publisher.readback import read_ntriples, stored_release
    from publisher.store import index_fields
    from publisher.store.index_fields import (
        fetch_all,
        fetch_one,
        fetch_some,
        row_of_release,
    )
    from publisher.store.oxigraph import EmbeddedStore

    settings = Settings()
    releases = read_file(str(sample_calendar()), settings)
    for name in ("cancelled", "confirmed", "date-changed", "provisional-range"):
        releases += read_file(str(FIXTURES / "govuk" / f"{name}.json"), settings)
    store = EmbeddedStore.in_memory()
    pipeline.import_batch(releases, settings, store, jobs=1)
    states = catalog.release_versions(store, settings)
    bulk = sorted(fetch_all(store, settings, states), key=lambda r: r[0].slug)
    one = [r for s in sorted(states) for r in fetch_one(store, settings, s, states[s])]
    assert len(bulk) == len(states) > 52
    assert bulk == one
    assert fetch_some(store, settings, states) == bulk
    monkeypatch.setattr(index_fields, "_CHUNK", 7)  # several queries of a few graphs
    assert fetch_some(store, settings, states) == bulk
    read_back = []
    for slug in sorted(states):
        text = catalog.release_graph_ntriples(store, settings, slug)
        release = stored_release(read_ntriples(text), slug, settings)
        assert release is not None
        read_back.append(row_of_release(release, states[slug]))
    assert bulk == read_back
    fields = {name: {getattr(r[0], name) for r in bulk} for name in ("designation",)}
    assert len(fields["designation"]) > 1  # the fields are filled, not all None
    assert any(r[0].census for r in bulk) and any(r[1] for r in bulk)


def test_a_topics_count_is_made_again_from_an_index_alone() -> None:
    """After each write, the count of every topic its releases are in is made
    again: from the index's entries, never a read of each of the topic's rows
    (seconds a batch at 100,000 releases)."""
    index = ListingIndex(":memory:")
    plan = index._db.execute(
        "EXPLAIN QUERY PLAN " + TOPIC_RECOUNT, ("a-topic",)
    ).fetchall()
    details = " ".join(str(row["detail"]) for row in plan)
    assert "COVERING INDEX release_topics_labels" in details, details
