"""/dump.nq.gz: prepared once per data version as a file, then streamed."""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from publisher import pipeline
from publisher.config import Settings
from publisher.model import Release
from publisher.store.index import ListingIndex
from publisher.store.oxigraph import EmbeddedStore
from publisher.web import create_app
from tests.publisher_server import PublisherProcess

ROOT = Path(__file__).resolve().parent.parent


def _quads(store: EmbeddedStore) -> set[bytes]:
    raw = io.BytesIO()
    store.dump(raw, "nquads")
    return set(raw.getvalue().split(b"\n")) - {b""}


def _get(client: FlaskClient, etag: str | None = None) -> TestResponse:
    headers = {"If-None-Match": etag} if etag else {}
    response = client.get("/dump.nq.gz", headers=headers)
    response.get_data()
    response.close()  # the streamed file, closed as a WSGI server closes it
    return response


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("dump-*.nq.gz"))


@pytest.mark.parametrize("on_disk", [True, False])
def test_dump_is_built_once_per_version_and_follows_writes(
    tmp_path: Path, sample_releases: list[Release], on_disk: bool
) -> None:
    settings = Settings()
    store = (
        EmbeddedStore.open(tmp_path / "store") if on_disk else EmbeddedStore.in_memory()
    )
    pipeline.import_batch(sample_releases[:5], settings, store, jobs=1)
    app = create_app(settings, store=store, index=ListingIndex(":memory:"))
    client = app.test_client()

    first = _get(client)
    assert first.status_code == 200
    assert first.mimetype == "application/gzip"
    folder = app.extensions["publisher.dumps"].folder()
    if on_disk:
        assert folder == tmp_path / "store.dumps"
    [built] = _files(folder)
    before = built.stat()
    second = _get(client)
    assert second.data == first.data
    [again] = _files(folder)
    assert again == built
    assert (again.stat().st_ino, again.stat().st_mtime_ns) == (
        before.st_ino,
        before.st_mtime_ns,
    )
    assert set(gzip.decompress(first.data).split(b"\n")) - {b""} == _quads(store)
    assert int(first.headers["Content-Length"]) == len(first.data)

    etag = first.headers["ETag"]
    assert _get(client, etag).status_code == 304

    pipeline.import_batch(sample_releases[:6], settings, store, jobs=1)
    third = _get(client)
    assert third.headers["ETag"] != etag
    assert set(gzip.decompress(third.data).split(b"\n")) - {b""} == _quads(store)
    [fresh] = _files(folder)
    assert fresh != built  # the old version's file is gone
    assert _get(client, etag).status_code == 200
    store.close()


def _rss_peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_streaming_a_big_dump_does_not_grow_the_server(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from convert import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "bench"))
    data = tmp_path / "releases.jsonl"
    generate(data, 2000, 7)  # about 73 MB of N-Quads
    server = PublisherProcess(import_sample=False)
    try:
        subprocess.run(
            [sys.executable, "-m", "publisher", "import", str(data)],
            check=True,
            capture_output=True,
            env=server.env,
        )
        server.start()
        assert server.process is not None
        pid = server.process.pid
        status, _, _ = server.request("GET", "/healthz")
        assert status == 200
        time.sleep(0.2)
        base = _rss_peak_kb(pid)
        status, _, body = server.request("GET", "/dump.nq.gz", timeout=120)
        assert status == 200
        size = len(gzip.decompress(body))
        assert size > 60_000_000
        grew = (_rss_peak_kb(pid) - base) * 1024
        # the old code held the N-Quads twice and the gzip (~150 MB here)
        assert grew < 40_000_000, f"the server grew {grew / 1e6:.0f} MB"
        status, _, again = server.request("GET", "/dump.nq.gz", timeout=120)
        assert again == body
    finally:
        server.stop()
