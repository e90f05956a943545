"""The one rule for a request's client address (publisher.web.clients)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask, request

from publisher.config import Settings
from publisher.web.clients import client_address

Address = Callable[[str, str, str | None], str]


@pytest.fixture
def address(app: Flask) -> Address:
    """``address(peer, proxies, forwarded)``: the client address of a request to
    ``app`` from ``peer`` with that X-Forwarded-For, ``proxies`` trusted."""

    def client(peer: str, proxies: str, forwarded: str | None) -> str:
        headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
        env = {"REMOTE_ADDR": peer}
        with app.test_request_context("/", headers=headers, environ_base=env):
            return client_address(request, Settings(trusted_proxies=proxies))

    return client


def test_the_peer_without_proxies(address: Address) -> None:
    assert address("127.0.0.2", "", None) == "127.0.0.2"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(address: Address) -> None:
    assert address("127.0.0.2", "", "203.0.113.9") == "127.0.0.2"
    assert address("127.0.0.2", "10.0.0.1", "203.0.113.9") == "127.0.0.2"


def test_behind_a_trusted_proxy_the_right_most_untrusted_address(
    address: Address,
) -> None:
    assert address("10.0.0.1", "10.0.0.1", "203.0.113.9") == "203.0.113.9"
    # the client wrote 1.2.3.4 itself; the proxy appended the real address
    assert address("10.0.0.1", "10.0.0.1", "1.2.3.4, 203.0.113.9") == "203.0.113.9"
    chain = "1.2.3.4, 203.0.113.9, 10.0.0.2"
    assert address("10.0.0.1", "10.0.0.1 10.0.0.2", chain) == "203.0.113.9"


def test_a_trusted_proxy_without_the_header_is_the_client(address: Address) -> None:
    assert address("10.0.0.1", "10.0.0.1", None) == "10.0.0.1"
    assert address("10.0.0.1", "10.0.0.1", "not-an-address") == "10.0.0.1"
