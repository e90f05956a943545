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
from publisher.store.index import ListingIndex
from publisher.store.sparql import RemoteStore

from .conftest import FIXTURES
from .oxigraph_server import OxigraphServer, settings_for


@pytest.fixture
def server(tmp_path: Path) -> Iterator[OxigraphServer]:
    with OxigraphServer(tmp_path / "oxigraph") as running:
        yield running


def _other_process(server: OxigraphServer, *args: str) -> None:
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
    server: OxigraphServer, tmp_path: Path
) -> None:
    settings = settings_for(server)
    store = RemoteStore.from_settings(settings)
    worker = ListingIndex(str(tmp_path / "worker.sqlite"))

    _other_process(server, "import", str(sample_calendar()))
    worker.ensure_current(store, settings)
    assert worker.count() == 52
    assert worker.version() == catalog.data_version(store, settings)

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
    assert {s: worker.get(s).version for s in states} == {  # type: ignore[union-attr]
        s: st.version for s, st in states.items()
    }
    upcoming = worker.upcoming(
        datetime(2027, 5, 1, tzinfo=UTC), datetime(2027, 6, 1, tzinfo=UTC)
    )
    assert "index-of-production-uk-march-2027" in {r.slug for r in upcoming}
    worker.close()
    store.close()
