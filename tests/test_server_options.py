"""The options every waitress server of ``publisher serve`` runs with, checked on
a real waitress over HTTP: X-Forwarded-For reaches the app, which believes it only
from ``trusted_proxies`` (publisher.web.clients, issue 7)."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from flask import Flask, request
from waitress.server import create_server

from publisher.config import Settings
from publisher.server import WAITRESS_OPTIONS
from publisher.web.clients import client_address

from .server_process import free_port


@pytest.fixture
def echo() -> Iterator[int]:
    """A real waitress, with publisher serve's options, whose app answers with
    the client address the site would count (proxy 127.0.0.1 trusted)."""
    settings = Settings(trusted_proxies="127.0.0.1")
    app = Flask(__name__)

    @app.get("/")
    def who() -> str:
        return client_address(request, settings)

    port = free_port()
    server: Any = create_server(
        app, host="127.0.0.1", port=port, threads=2, **WAITRESS_OPTIONS
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        server.close()
        thread.join(5)


def _ask(port: int, headers: dict[str, str]) -> str:
    with urllib.request.urlopen(
        urllib.request.Request(f"http://127.0.0.1:{port}/", headers=headers),
        timeout=10,
    ) as answer:
        body: Iterable[bytes] = answer
        return b"".join(body).decode()


def test_a_trusted_proxy_forwarded_address_reaches_the_app(echo: int) -> None:
    assert _ask(echo, {"X-Forwarded-For": "203.0.113.7"}) == "203.0.113.7"
    assert _ask(echo, {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}) == (
        "203.0.113.9"
    )
    assert _ask(echo, {}) == "127.0.0.1"
