"""Faults of a real remote store: a batch is all or nothing even when the server
dies while receiving it, and the client says so clearly (exit 2)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from publisher import pipeline
from publisher.importers import read_file
from publisher.store import catalog
from publisher.store.sparql import RemoteStore

from .conftest import FIXTURES
from .oxigraph_server import OxigraphProcess, settings_for


class KillingProxy:
    """A TCP proxy that forwards to ``target`` and calls ``on_threshold`` once a
    single client connection has sent more than ``threshold`` bytes upstream: the
    server has started receiving a big request when it fires."""

    def __init__(
        self, target: int, threshold: int, on_threshold: Callable[[], None]
    ) -> None:
        self.target = target
        self.threshold = threshold
        self.on_threshold = on_threshold
        self.fired = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target))
        except OSError:
            client.close()
            return
        sent = 0

        def back() -> None:
            try:
                while data := upstream.recv(65536):
                    client.sendall(data)
            except OSError:
                pass
            finally:
                client.close()

        threading.Thread(target=back, daemon=True).start()
        try:
            while data := client.recv(65536):
                upstream.sendall(data)
                sent += len(data)
                if sent > self.threshold and not self.fired.is_set():
                    self.fired.set()
                    self.on_threshold()
                    break
        except OSError:
            pass
        finally:
            upstream.close()
            client.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[OxigraphProcess]:
    with OxigraphProcess(tmp_path / "oxigraph") as running:
        yield running


def _big_batch(tmp_path: Path, n: int) -> Path:
    base = json.loads((FIXTURES / "shapes" / "base.json").read_text())
    path = tmp_path / "big.jsonl"
    with path.open("w") as fh:
        for i in range(n):
            record = {**base, "id": f"fault-release-{i}", "title": f"Fault {i}"}
            fh.write(json.dumps(record) + "\n")
    return path


def test_killed_mid_request_leaves_all_or_nothing(
    server: OxigraphProcess, tmp_path: Path
) -> None:
    settings = settings_for(server)
    store = RemoteStore.from_settings(settings)
    first = read_file(str(FIXTURES / "native" / "calendar.json"), settings)
    published = pipeline.import_batch(first, settings, store, jobs=1).published
    assert published is not None
    before = catalog.release_states(store, settings)
    assert len(before) == 2

    big = _big_batch(tmp_path, 2500)
    proxy = KillingProxy(
        server.port or 0, threshold=4_000_000, on_threshold=server.kill
    )
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
        url = f"http://127.0.0.1:{proxy.port}"
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "publisher",
                "import",
                str(big),
                "--endpoint",
                f"{url}/query",
                "--update-endpoint",
                f"{url}/update",
            ],
            capture_output=True,
            text=True,
            env={
                **env,
                "PUBLISHER_STORE_TIMEOUT": "20",
                "PUBLISHER_STORE_RETRIES": "0",
            },
            check=False,
            timeout=300,
        )
    finally:
        proxy.close()
    assert proxy.fired.is_set(), "the server was never killed mid-request"
    assert result.returncode == 2, result.stdout + result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("Error:")
    assert "/update" in message
    assert "Traceback" not in result.stderr

    server.start()  # the same data directory, after a SIGKILL
    after = catalog.release_states(store, settings)
    assert set(after) in (
        set(before),
        set(before) | {f"fault-release-{i}" for i in range(2500)},
    )
    if set(after) == set(before):
        assert after == before
        assert catalog.data_version(store, settings) == published.data_version
    store.close()


def test_unreachable_store_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "publisher",
            "import",
            str(FIXTURES / "native" / "calendar.json"),
            "--endpoint",
            f"http://127.0.0.1:{port}/query",
        ],
        capture_output=True,
        text=True,
        env={**env, "PUBLISHER_STORE_RETRIES": "1", "PUBLISHER_STORE_TIMEOUT": "2"},
        check=False,
    )
    assert result.returncode == 2
    assert f"127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
