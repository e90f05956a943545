"""Records kept by version (publisher.store.record_cache) and the writes that use
them: a batch reads the releases it replaces from kept records and changes only
the triples that differ; /api/releases answers from the kept records. What is
read this way must be exactly what reading the stored graph gives."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from publisher import pipeline
from publisher.config import Settings
from publisher.errors import PublisherError
from publisher.importers import read_file
from publisher.importers.native import release_to_record
from publisher.namespaces import Iris
from publisher.publishing import PublishingService
from publisher.readback import (
    graph_text,
    ntriples_to_release,
    release_from_kept,
    stored_entry,
)
from publisher.resources import sample_calendar
from publisher.store import catalog
from publisher.store.oxigraph import EmbeddedStore
from publisher.store.record_cache import RecordCache
from publisher.store.schedule import ScheduleStore

from .apps import PUBLISH_TOKEN, AppFactory
from .conftest import FIXTURES

INPUTS = [
    sample_calendar(),
    *sorted((FIXTURES / "ons-api").glob("*.json")),
    *sorted((FIXTURES / "govuk").glob("*.json")),
    *sorted((FIXTURES / "native").glob("*.json*")),
]
AUTH = {"Authorization": f"Bearer {PUBLISH_TOKEN}"}


class RecordingStore(EmbeddedStore):
    """An in-memory embedded store that keeps the text of every update."""

    def __init__(self) -> None:
        fresh = EmbeddedStore.in_memory()
        super().__init__(fresh.store, fresh.location, None)
        self.updates: list[str] = []

    def update(self, update: str) -> None:
        self.updates.append(update)
        super().update(update)


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_a_kept_record_is_what_the_stored_graph_reads_back_to(path: Path) -> None:
    settings = Settings()
    try:
        releases = read_file(str(path), settings, "auto")
    except PublisherError:  # fixtures of bad input
        return
    store = EmbeddedStore.in_memory()
    if not releases or not pipeline.import_batch(releases, settings, store).published:
        return  # fixtures that violate the shapes
    states = catalog.release_states(store, settings, [r.slug for r in releases])
    for release in releases:
        text = catalog.release_graph_ntriples(store, settings, release.slug)
        back = ntriples_to_release(text, release.slug, settings)
        # what a write keeps is what a read of the store gives
        record, ours = stored_entry(release, settings)
        assert record == release_to_record(back)
        assert ours == graph_text(back, settings)
        # a write reads the kept record back to the release the store gives
        assert release_from_kept(record, settings) == back
        # and the graph made again from it is the version the catalogue records
        ours = catalog.content_hash(graph_text(back, settings))
        assert ours == states[release.slug].content_hash


def test_the_cache_answers_only_at_the_version_asked(tmp_path: Path) -> None:
    index = str(tmp_path / "index.sqlite")
    cache = RecordCache.beside(index)
    assert cache.path == index + ".records"
    cache.put_many([("a", "v1", {"id": "a", "title": "A"}, "<a> <b> <c> .\n")])
    assert cache.get_with_graphs({"a": "v1"})["a"][1] == "<a> <b> <c> .\n"
    assert cache.get_many({"a": "v1"}) == {"a": {"id": "a", "title": "A"}}
    assert cache.get_many({"a": "v2"}) == {}
    # another worker's connection to the same file sees the same entries
    other = RecordCache.beside(index)
    assert other.get_many({"a": "v1"}) == {"a": {"id": "a", "title": "A"}}
    other.forget(["a"])
    assert cache.get_many({"a": "v1"}) == {}
    cache.close()
    other.close()
    assert RecordCache.beside(":memory:").path == ":memory:"


def _service(store: EmbeddedStore, settings: Settings) -> PublishingService:
    return PublishingService(
        settings, store, threading.Lock(), ScheduleStore(":memory:")
    )


def test_a_stale_or_wrong_record_is_not_used() -> None:
    settings = Settings()
    store = EmbeddedStore.in_memory()
    sample = read_file(str(sample_calendar()), settings, "native")
    assert pipeline.import_batch(sample, settings, store).published
    service = _service(store, settings)
    slug = sample[0].slug
    state = catalog.release_states(store, settings, [slug])[slug]
    bogus = {**release_to_record(sample[0]), "title": "Not what is stored"}
    service.record_cache.put_many([(slug, "an-old-version", bogus, None)])
    current = service.read(slug)
    assert current is not None and current.release.title == sample[0].title
    # the read kept the record at the current version, from the store
    kept = service.record_cache.get_many({slug: state.content_hash})
    assert kept[slug]["title"] == sample[0].title


def _changed(record: dict[str, Any], n: int) -> dict[str, Any]:
    out = {**record, "summary": f"{record.get('summary') or ''} (change {n})"}
    if out.get("keywords"):
        out["keywords"] = [*out["keywords"][1:], f"extra-{n}"]
    return out


def test_a_batch_changes_only_the_triples_that_differ(make_app: AppFactory) -> None:
    store = RecordingStore()
    app = make_app(store=store)
    client = app.test_client()
    listing = client.get("/api/releases?view=all").json
    records = [r for r in listing["releases"] if r["status"] != "published"][:6]
    assert len(records) >= 3
    for n in range(2):  # once read back from the store, then from kept records
        batch = [_changed(r, n) for r in records]
        store.updates.clear()
        reply = client.post("/api/batches", json={"releases": batch}, headers=AUTH)
        assert reply.status_code == 200, reply.json
        assert sorted(reply.json["published"]) == sorted(r["id"] for r in records)
        (update,) = [u for u in store.updates if "INSERT DATA" in u]
        assert "DROP SILENT GRAPH" not in update
        assert "DELETE DATA" in update
        _check_graphs_as_written(app, store, [r["id"] for r in records])


def _check_graphs_as_written(
    app: Flask, store: EmbeddedStore, slugs: list[str]
) -> None:
    """Each graph holds exactly what a fresh write of its release would."""
    settings: Settings = app.config["PUBLISHER_SETTINGS"]
    iris = Iris(settings.base_url)
    fresh = EmbeddedStore.in_memory()
    client = app.test_client()
    releases = []
    for slug in slugs:
        record = client.get(f"/api/releases/{slug}").json
        text = catalog.release_graph_ntriples(store, settings, slug)
        release = ntriples_to_release(text, slug, settings)
        assert release_to_record(release) == record
        releases.append(dataclasses.replace(release))
    assert pipeline.import_batch(releases, settings, fresh).published
    for slug in slugs:
        graph = iris.release_graph(slug)
        assert store.graph_ntriples(graph) == fresh.graph_ntriples(graph)


def test_a_failed_batch_leaves_graphs_and_kept_records_alone(
    make_app: AppFactory,
) -> None:
    app = make_app()
    client = app.test_client()
    first = client.get("/api/releases?view=upcoming").json["releases"]
    good, bad = _changed(first[0], 1), {**_changed(first[1], 1), "title": ""}
    reply = client.post("/api/batches", json={"releases": [good, bad]}, headers=AUTH)
    assert reply.status_code == 422
    assert client.get(f"/api/releases/{good['id']}").json == first[0]
    again = client.get("/api/releases?view=upcoming").json["releases"]
    assert again[:2] == first[:2]


def _all_pages(client: FlaskClient, headers: dict[str, str] | None = None) -> list[Any]:
    out: list[Any] = []
    page = 1
    while True:
        body = client.get(f"/api/releases?page={page}", headers=headers).json
        out += body["releases"]
        if body["next"] is None:
            return out
        page += 1


def test_listings_answer_the_stored_records_cold_and_kept(
    make_app: AppFactory,
) -> None:
    app = make_app()
    client = app.test_client()
    site = app.extensions["publisher"]
    cold = _all_pages(client)
    assert len(cold) == 52
    for record in cold:
        found = site.record(record["id"])
        assert found is not None and found[0] == record
    kept = app.extensions["publisher.publishing"].record_cache.get_many(
        {r.slug: r.content_hash for r in site.index.all_rows()}
    )
    assert len(kept) == 52  # every record read once is kept
    assert _all_pages(client) == cold


def test_scheduled_versions_stay_out_of_listings_and_kept_records(
    make_app: AppFactory,
) -> None:
    """Under embargo: nobody reading sees a scheduled version (a new release, or a
    new version of one published), token or not; the token holder still sees
    the scheduled entry where they saw it before."""
    app = make_app()
    client = app.test_client()
    before = _all_pages(client)
    confirmed = next(r for r in before if r["status"] == "confirmed")
    ahead = "2099-01-05T09:30:00+00:00"
    new = {
        **confirmed,
        "id": "embargoed-new-release",
        "status": "published",
        "title": "Embargoed figures",
        "release_date": ahead,
        "published_date": ahead,
        "date_changes": [],
    }
    new.pop("identifier", None)
    reply = client.post("/api/releases", json=new, headers=AUTH)
    assert reply.status_code == 202, reply.json
    for headers in (None, AUTH):
        assert _all_pages(client, headers) == before
        assert client.get("/api/releases/embargoed-new-release").status_code == 404
    seen = client.get("/api/releases/embargoed-new-release/scheduled", headers=AUTH)
    assert seen.status_code == 200
    assert seen.json["release"]["title"] == "Embargoed figures"
    assert (
        client.get("/api/releases/embargoed-new-release/scheduled").status_code == 401
    )
    cache = app.extensions["publisher.publishing"].record_cache
    assert cache.get_many({"embargoed-new-release": "x"}) == {}
