"""An embedded store whose files vanish under a running site (issue 10, defect 7):
reads go on from the files it holds open; what cannot work answers 503 with
Retry-After in the surface's own format, never 500. (A remote store killed,
restarted and frozen under load: tests/reliability/test_outage.py.)"""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from publisher.errors import StoreError, StoreUnavailableError
from publisher.store import health
from publisher.store.index import ListingIndex
from publisher.store.oxigraph import EmbeddedStore
from publisher.store.schedule import ScheduleStore
from publisher.store.sparql import RemoteStore

from .apps import AppFactory
from .oxigraph_server import OxigraphProcess

ADMIN = "store-down-admin-token"
SLUG = "labour-market-overview-uk-september-2026"


@pytest.fixture
def app(make_app: AppFactory, tmp_path: Path) -> Iterator[Flask]:
    """The sample in an embedded store on disk, whose files are then removed."""
    store = EmbeddedStore.open(tmp_path / "store")
    app = make_app(
        store=store,
        index=ListingIndex(str(tmp_path / "index.sqlite")),
        schedule=ScheduleStore(str(tmp_path / "schedule.sqlite")),
        write_tokens=ADMIN,
        write_tokens_file="",
    )
    app.extensions["publisher"].current()
    shutil.rmtree(tmp_path / "store")
    yield app
    app.extensions["publisher.sparql"].close()
    with pytest.raises(StoreError, match="could not write"):
        store.close()  # its files are gone: a StoreError, and the lock let go


def test_reads_go_on_and_the_rest_answers_503(app: Flask) -> None:
    client = app.test_client()
    for path in ("/", "/releases", f"/releases/{SLUG}", f"/api/releases/{SLUG}"):
        assert client.get(path).status_code == 200, path

    # a query needs a checkpoint of the store: there are no files to make it of
    query = client.get(
        "/sparql?query=ASK%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D",
        headers={"Accept": "application/sparql-results+json"},
    )
    assert query.status_code == 503
    assert query.mimetype == "text/plain"
    assert int(query.headers["Retry-After"]) >= 1

    record = client.get(f"/api/releases/{SLUG}").json
    assert record is not None
    write = client.put(
        f"/api/releases/{SLUG}",
        json={**record, "title": "Labour market overview, UK: September 2026 (2)"},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert write.status_code == 503, write.json
    assert write.mimetype == "application/json"
    assert write.json is not None and write.json["error"]["status"] == 503
    assert int(write.headers["Retry-After"]) >= 1


# The breaker and the deadline of a remote store, on their own ---------------------


def test_a_silent_store_holds_a_read_no_longer_than_the_deadline() -> None:
    """A listener that accepts and never answers: a hung store. store_timeout 30 s
    and three retries, but a web read gives up at its deadline, and the next
    request does not wait at all."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        store = RemoteStore(f"http://127.0.0.1:{port}/query", timeout=30, retries=3)
        with health.serving(0.6):
            started = time.monotonic()
            with pytest.raises(StoreUnavailableError, match="did not answer"):
                store.select("SELECT * WHERE { ?s ?p ?o }")
            assert time.monotonic() - started < 0.6 + 0.3
        state = health.state(store)
        assert state is not None and not state.up and state.down_since
        with health.serving(5):
            started = time.monotonic()
            with pytest.raises(StoreUnavailableError, match="unavailable"):
                store.select("SELECT * WHERE { ?s ?p ?o }")
            assert time.monotonic() - started < 0.05  # known down: at once


def test_a_store_that_comes_back_is_used_again_without_a_restart(
    tmp_path: Path,
) -> None:
    with OxigraphProcess(tmp_path / "data") as server:
        store = RemoteStore(server.query_url, timeout=10, retries=0)
        assert store.count_quads() == 0
        server.kill()
        with health.serving(5), pytest.raises(StoreUnavailableError):
            store.count_quads()
        state = health.state(store)
        assert state is not None and not state.up
        server.start()  # the same port
        started = time.monotonic()
        while True:
            try:
                with health.serving(5):
                    assert store.count_quads() == 0
                break
            except StoreUnavailableError:
                assert time.monotonic() - started < 1, "not back within 1 s"
                time.sleep(0.05)
        assert health.state(store) == health.State(True)
