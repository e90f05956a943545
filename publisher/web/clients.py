"""Who a request comes from: the one rule every feature that needs a client's
address uses (the SPARQL endpoint's fair share of readers, and later ones).

The client is the connection's remote address. Behind a reverse proxy every
request comes from the proxy, so when the remote address is one of the setting
``trusted_proxies``, ``X-Forwarded-For`` is read from the right: each address a
trusted proxy added is skipped, and the first one that is not a trusted proxy is
the client. Addresses left of it were written by the client itself and are never
believed; from an untrusted peer the header is ignored altogether.
"""

from __future__ import annotations

import ipaddress

from flask import Request

from publisher.config import Settings


def _normal(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_address(request: Request, settings: Settings) -> str:
    """The address of the client that sent ``request`` (see the module's rule)."""
    peer = request.remote_addr or ""
    trusted = settings.trusted_proxies
    address = _normal(peer) or peer
    if address not in trusted:
        return address
    forwarded = ",".join(request.headers.getlist("X-Forwarded-For"))
    for item in reversed([part for part in forwarded.split(",") if part.strip()]):
        hop = _normal(item)
        if hop is None:
            return address  # a garbled hop: stop at the last address we trust
        if hop not in trusted:
            return hop
        address = hop
    return address
